//! Writes an nginx-style access log to stdout: the combined format with
//! `$request_time` as the last field, the line's time being the request's
//! end (nginx's `$time_local`), lines in the order they ended, as nginx
//! writes them. From a fixed seed, so the same arguments give the same log.
//!
//! `cargo run --release --example gen_nginx_log -- [LINES] [--gzip] > web.log`
//! (default 10 000 lines; `--gzip` writes it gzip-compressed).
//!
//! Traffic: Poisson at 1.5 requests/s, except in minute :05 of each hour,
//! when it is 6/s (a batch job's callers): the mean rate hides those
//! minutes. Request times: log-normal, median 120 ms, σ = 0.6.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, BufWriter, Write};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// 30/Nov/2026 00:00:00 UTC, seconds since the epoch.
const START: u64 = 1_795_996_800;

fn main() -> io::Result<()> {
    let mut lines = 10_000u64;
    let mut gzip = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--gzip" => gzip = true,
            n => {
                lines = n.parse().map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidInput, "usage: [LINES] [--gzip]")
                })?
            }
        }
    }
    let stdout = io::stdout().lock();
    if gzip {
        let mut out =
            flate2::write::GzEncoder::new(BufWriter::new(stdout), flate2::Compression::fast());
        write_log(&mut out, lines)?;
        out.finish()?.flush()
    } else {
        let mut out = BufWriter::new(stdout);
        write_log(&mut out, lines)?;
        out.flush()
    }
}

fn write_log(out: &mut impl Write, lines: u64) -> io::Result<()> {
    let mut rng = StdRng::seed_from_u64(20_261_202);
    let paths = ["/api/orders", "/api/orders", "/api/cart", "/api/health"];
    // Requests that have arrived but not yet ended, by end time (ns).
    let mut pending: BinaryHeap<Reverse<(u64, u64)>> = BinaryHeap::new();
    let mut at = 0u64; // arrival, ns after START
    let mut written = 0u64;
    let mut made = 0u64;
    while written < lines {
        if made < lines {
            let busy = (at / 1_000_000_000 / 60) % 60 == 5;
            let rate = if busy { 6.0 } else { 1.5 };
            at += (-(1.0 - rng.random::<f64>()).ln() / rate * 1e9) as u64;
            // Box–Muller: a standard normal from two uniforms.
            let (u, v): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random());
            let z = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
            let took_ms = (120.0 * (0.6 * z).exp()).round().max(1.0) as u64;
            pending.push(Reverse((at + took_ms * 1_000_000, took_ms)));
            made += 1;
        }
        // Every request that ended before this arrival is logged now.
        while let Some(&Reverse((end, took_ms))) = pending.peek() {
            if made < lines && end > at {
                break;
            }
            pending.pop();
            let secs = START + end / 1_000_000_000;
            let (day, rest) = (secs / 86_400, secs % 86_400);
            let (h, m, s) = (rest / 3600, rest / 60 % 60, rest % 60);
            // Days after 30 November 2026 roll into December (a log of days, not months).
            let (d, month) = match day - START / 86_400 {
                0 => (30, "Nov"),
                n => (n, "Dec"),
            };
            let ip = rng.random_range(1..=250);
            let path = paths[rng.random_range(0..paths.len())];
            let size = rng.random_range(200..4000);
            writeln!(
                out,
                "10.1.0.{ip} - - [{d:02}/{month}/2026:{h:02}:{m:02}:{s:02} +0000] \"GET {path} HTTP/1.1\" \
                 200 {size} \"-\" \"client/1.0\" {}.{:03}",
                took_ms / 1000,
                took_ms % 1000
            )?;
            written += 1;
        }
    }
    Ok(())
}
