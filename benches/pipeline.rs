//! The producer's hot path flat out: burstbuf's instrumented pipeline against a
//! bare `sync_channel` try_send→send pipeline, in the same run:
//! `cargo bench --bench pipeline`.
//!
//! The instrumented side is the real binary (`--produce-every 0s
//! --consume-every 0s --burst-prob 0 --messages N --json`), and its time is the
//! `elapsed_s` it reports: from the start of the threads to the last message
//! consumed, so process start-up and the end-of-run report are not counted.
//! The bare side is timed the same way in-process. Each side runs several
//! times, interleaved; the best of each are compared (other load only slows a
//! run down), and the medians as a check.

use std::process::Command;
use std::sync::mpsc::{TrySendError, sync_channel};
use std::thread;
use std::time::Instant;

const MESSAGES: u64 = 2_000_000;
const CAPACITY: usize = 100;
const TRIES: usize = 21;

fn bare() -> f64 {
    let (tx, rx) = sync_channel::<u64>(CAPACITY);
    let start = Instant::now();
    thread::scope(|s| {
        s.spawn(move || {
            for n in 0..MESSAGES {
                if let Err(TrySendError::Full(n)) = tx.try_send(n) {
                    tx.send(n).unwrap();
                }
            }
        });
        s.spawn(move || {
            let mut expected = 0;
            while let Ok(n) = rx.recv() {
                assert_eq!(n, expected);
                expected += 1;
            }
        });
    });
    start.elapsed().as_secs_f64()
}

fn instrumented() -> f64 {
    let output = Command::new(env!("CARGO_BIN_EXE_burstbuf"))
        .args([
            "--produce-every=0s",
            "--consume-every=0s",
            "--burst-prob=0",
            "--duration=0s",
            "--capacity=100",
            &format!("--messages={MESSAGES}"),
            "--json",
        ])
        .output()
        .expect("run burstbuf");
    assert!(output.status.success(), "{output:?}");
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["consumed"], MESSAGES);
    summary["elapsed_s"].as_f64().unwrap()
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let (mut bares, mut instrumenteds) = (Vec::new(), Vec::new());
    for _ in 0..TRIES {
        bares.push(bare());
        instrumenteds.push(instrumented());
    }
    let best_bare = bares.iter().copied().fold(f64::MAX, f64::min);
    let best_instrumented = instrumenteds.iter().copied().fold(f64::MAX, f64::min);
    let rate = |secs: f64| MESSAGES as f64 / secs / 1e6;
    println!(
        "bare sync_channel({CAPACITY}) pipeline:   {:.1} ms for {MESSAGES} messages ({:.2} M/s)",
        best_bare * 1e3,
        rate(best_bare)
    );
    println!(
        "burstbuf instrumented pipeline: {:.1} ms for {MESSAGES} messages ({:.2} M/s)",
        best_instrumented * 1e3,
        rate(best_instrumented)
    );
    println!(
        "instrumented / bare: {:.2} best to best, {:.2} median to median (target: at most 1.25)",
        best_instrumented / best_bare,
        median(instrumenteds) / median(bares)
    );
}
