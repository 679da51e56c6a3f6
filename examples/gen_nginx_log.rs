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

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The date of a day since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
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
            let (year, month, d) = civil_from_days(day as i64);
            let month = MONTHS[month as usize - 1];
            let ip = rng.random_range(1..=250);
            let path = paths[rng.random_range(0..paths.len())];
            let size = rng.random_range(200..4000);
            writeln!(
                out,
                "10.1.0.{ip} - - [{d:02}/{month}/{year}:{h:02}:{m:02}:{s:02} +0000] \"GET {path} HTTP/1.1\" \
                 200 {size} \"-\" \"client/1.0\" {}.{:03}",
                took_ms / 1000,
                took_ms % 1000
            )?;
            written += 1;
        }
    }
    Ok(())
}
