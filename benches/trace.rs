//! Trace parsing and replay, on one core: `cargo bench --bench trace`.
//!
//! A plain timing loop (no harness), like the other benches: each case runs a
//! few times and the best is reported, since other load only slows a run down.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use burstbuf::internals::replay::{Replay, replay, replay_what_if};
use burstbuf::internals::sweep::{self, SweepConfig, TableFormat, Traffic, WhatIf};
use burstbuf::internals::{Arrivals, Model, Service, Stall, TimeFormat, Trace, WhenFull, report};

const TRIES: usize = 3;
const LINES: u64 = 1_000_000;

/// The best of a few runs of `f`, in seconds.
fn best(mut f: impl FnMut()) -> f64 {
    (0..TRIES)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// The original's bursty arrival times, `n` of them, in nanoseconds.
fn offsets(n: u64) -> Vec<u64> {
    let mut arrivals = Arrivals::new(&Model::original(), 1);
    let mut at = 0u64;
    (0..n)
        .map(|_| {
            let this = at;
            at += arrivals.next_gap().pause.as_nanos() as u64;
            this
        })
        .collect()
}

fn parse(name: &str, text: &[u8], format: Option<TimeFormat>) {
    let mut lines = 0;
    let secs = best(|| {
        let trace = Trace::from_reader(black_box(text), "bench", format).unwrap();
        lines = trace.lines();
        black_box(trace);
    });
    println!(
        "{name:<55} {:>7.0} MB/s ({lines} lines, {:.1} MB)",
        text.len() as f64 / 1e6 / secs,
        text.len() as f64 / 1e6
    );
}

fn main() {
    let times = offsets(LINES);
    // Combined Log Format, about 110 bytes a line.
    let mut clf = Vec::new();
    for (k, t) in times.iter().enumerate() {
        let s = t / 1_000_000_000;
        let (h, m, sec) = (s / 3600 % 24, s / 60 % 60, s % 60);
        let day = 1 + s / 86_400 % 28;
        clf.extend_from_slice(
            format!(
                "10.0.{}.{} - - [{day:02}/Oct/2026:{h:02}:{m:02}:{sec:02} +0100] \"GET /api/orders/{k} HTTP/1.1\" 200 {}\n",
                k % 256,
                k % 199,
                k % 5000
            )
            .as_bytes(),
        );
    }
    parse("parse CLF (detected)", &clf, None);
    let mut epoch = Vec::new();
    for t in &times {
        let ns = 1_700_000_000_000_000_000 + t;
        epoch.extend_from_slice(
            format!("{}.{:06}\n", ns / 1_000_000_000, ns % 1_000_000_000 / 1000).as_bytes(),
        );
    }
    parse(
        "parse epoch seconds with fractions (detected)",
        &epoch,
        None,
    );
    let mut rfc = Vec::new();
    for t in &times {
        let s = t / 1_000_000_000;
        rfc.extend_from_slice(
            format!(
                "2026-10-{:02}T{:02}:{:02}:{:02}.{:03}Z\n",
                1 + s / 86_400 % 28,
                s / 3600 % 24,
                s / 60 % 60,
                s % 60,
                t % 1_000_000_000 / 1_000_000
            )
            .as_bytes(),
        );
    }
    parse("parse RFC 3339 (detected)", &rfc, None);

    let trace = Arc::new(Trace::from_offsets("bench", times));
    let fixed = Service::model(&Model::original(), 1);
    for (capacity, consumers) in [(100, 1), (100, 4), (10_000, 1)] {
        let mut full = 0;
        let secs = best(|| {
            let outcome = replay(
                black_box(&Replay {
                    offsets: &trace.offsets,
                    load: 1.0,
                    produce: trace.span(),
                    capacity,
                    consumers,
                }),
                &fixed,
            );
            full = outcome.full_count;
        });
        println!(
            "{:<55} {:>7.1} M messages/s (full {full})",
            format!("replay 10^6 lines, capacity {capacity}, {consumers} consumer(s)"),
            LINES as f64 / secs / 1e6
        );
    }

    // The what-if paths: a stall blocking, and the drop policies (no blocking).
    let stall = [Stall {
        at: trace.span() / 2,
        length: Duration::from_secs(30),
    }];
    for (name, when_full, stalls) in [
        ("block, a 30 s stall", WhenFull::Block, &stall[..]),
        ("drop-newest", WhenFull::DropNewest, &[][..]),
        ("drop-oldest", WhenFull::DropOldest, &[][..]),
        (
            "drop-oldest, a 30 s stall",
            WhenFull::DropOldest,
            &stall[..],
        ),
    ] {
        let mut full = 0;
        let secs = best(|| {
            let outcome = replay_what_if(
                black_box(&Replay {
                    offsets: &trace.offsets,
                    load: 1.0,
                    produce: trace.span(),
                    capacity: 100,
                    consumers: 1,
                }),
                &fixed,
                when_full,
                stalls,
            );
            full = outcome.full_count;
        });
        println!(
            "{:<55} {:>7.1} M messages/s (full {full})",
            format!("replay 10^6 lines, capacity 100, {name}"),
            LINES as f64 / secs / 1e6
        );
    }

    let config = SweepConfig {
        model: Model::original(),
        seed: 42,
        duration: trace.span(),
        capacities: vec![1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
        consumers: vec![1],
        target_full: 0.01,
        format: TableFormat::Text,
        runs: 1,
        threads: 1,
        progress: false,
        what_if: WhatIf::default(),
        traffic: Traffic {
            trace: Some(Arc::clone(&trace)),
            ..Traffic::default()
        },
    };
    let secs = best(|| {
        black_box(report::report(&config, &sweep::rows(&config)));
    });
    println!(
        "{:<55} {:>7.0} ms",
        "sweep: 10^6-line trace x 13 capacities, with its report",
        secs * 1e3
    );
}
