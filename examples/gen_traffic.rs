//! Writes the example data in `data/`: an hour of a bursty endpoint's access
//! log (Common Log Format) and a database writer's service times, from fixed
//! seeds, so `cargo run --example gen_traffic` rewrites the same files.
//!
//! Arrivals: a gap of 100 ms × U(0.5, 1.5) after each request, plus, with
//! probability 0.2, a pause of 2 s × Exp(1): the built-in bursty model with
//! jitter, so `burstbuf fit` has something to fit. Service times: log-normal,
//! median 250 ms, σ = 0.5 (mean about 283 ms).

use std::fmt::Write as _;
use std::fs;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn main() -> std::io::Result<()> {
    let mut rng = StdRng::seed_from_u64(20_261_130);
    // 30/Nov/2026:12:00:00 +0100, as seconds of the day in local time.
    let (start, span) = (12.0 * 3600.0, 3600.0);
    let paths = [
        "/api/orders",
        "/api/orders",
        "/api/orders",
        "/api/cart",
        "/api/health",
    ];
    let mut log = String::new();
    let mut t = 0.0f64;
    while t < span {
        let secs = (start + t) as u64;
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        let ip = rng.random_range(1..=40);
        let path = paths[rng.random_range(0..paths.len())];
        let status = if rng.random_bool(0.01) { 503 } else { 200 };
        let size = rng.random_range(200..4000);
        let _ = writeln!(
            log,
            "10.0.0.{ip} - - [30/Nov/2026:{h:02}:{m:02}:{s:02} +0100] \"POST {path} HTTP/1.1\" {status} {size}"
        );
        t += 0.1 * rng.random_range(0.5..1.5);
        if rng.random_bool(0.2) {
            t += 2.0 * -(1.0 - rng.random::<f64>()).ln();
        }
    }
    fs::write("data/access.log", log)?;

    let mut rng = StdRng::seed_from_u64(42);
    let mut times = String::from("# database writer latencies, one per line\n");
    for _ in 0..2000 {
        // Box–Muller: a standard normal from two uniforms.
        let (u, v): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random());
        let z = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
        let ms = 250.0 * (0.5 * z).exp();
        let _ = writeln!(times, "{ms:.1}ms");
    }
    fs::write("data/services.txt", times)
}
