//! Simulated messages per second, on one core: `cargo bench --bench sim`.
//!
//! A plain timing loop (no harness): each case runs a few times and the best
//! rate is reported, since other load can only slow a run down.

use std::hint::black_box;
use std::time::{Duration, Instant};

use burstbuf::internals::sim::{Scenario, simulate};
use burstbuf::internals::sweep::{SweepConfig, TableFormat, WhatIf};
use burstbuf::internals::{ArrivalKind, Model, ServiceKind, WhenFull, report, sweep};

const MESSAGES: u64 = 20_000_000;
const TRIES: usize = 3;

fn best_rate(name: &str, model: &Model, capacity: u64, consumers: u32) {
    let mut best = 0.0f64;
    for _ in 0..TRIES {
        let start = Instant::now();
        let outcome = simulate(black_box(&Scenario {
            model,
            seed: 42,
            capacity,
            consumers,
            horizon: None,
            messages: Some(MESSAGES),
            when_full: WhenFull::Block,
        }));
        let secs = start.elapsed().as_secs_f64();
        black_box(outcome.full_count);
        best = best.max(outcome.produced as f64 / secs);
    }
    println!("{name:<55} {:>6.1} M simulated messages/s", best / 1e6);
}

fn main() {
    let bursty = Model::original();
    best_rate(
        "bursty (the original's), capacity 100, 1 consumer",
        &bursty,
        100,
        1,
    );
    best_rate(
        "bursty (the original's), capacity 100, 4 consumers",
        &bursty,
        100,
        4,
    );
    let exponential = Model {
        produce_every: Duration::from_millis(10),
        consume_every: Duration::from_millis(9),
        arrivals: ArrivalKind::Exponential,
        service: ServiceKind::Exponential,
        ..Model::original()
    };
    best_rate(
        "exponential both (rho 0.9), capacity 10, 1 consumer",
        &exponential,
        10,
        1,
    );

    let config = SweepConfig {
        model: Model::original(),
        seed: 42,
        duration: Duration::from_secs(3600),
        capacities: vec![1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
        consumers: vec![1],
        target_full: 0.01,
        format: TableFormat::Text,
        runs: 1,
        threads: 1,
        progress: false,
        what_if: WhatIf::default(),
        traffic: Default::default(),
    };
    let sweep = |name: &str, config: &SweepConfig| {
        let mut best = f64::INFINITY;
        for _ in 0..TRIES {
            let start = Instant::now();
            black_box(report::report(config, &sweep::rows(config)));
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!("{name:<55} {:>6.1} ms", best * 1e3);
    };
    sweep(
        "a sweep of 13 capacities x 1 h, one run, one thread",
        &config,
    );
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let default = SweepConfig {
        runs: 10,
        threads,
        ..config
    };
    sweep(
        &format!("the default sweep (13 x 1 h x 10 runs), {threads} thread(s)"),
        &default,
    );
}
