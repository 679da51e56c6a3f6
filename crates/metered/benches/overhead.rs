//! What the meter costs: the metered channel against a bare
//! `std::sync::mpsc::sync_channel` used the same way, in the same run:
//! `cargo bench -p burstbuf-metered --bench overhead`.
//!
//! - **Flat out**, the figure the crate is held to: one producer sends
//!   2×10⁶ messages through a buffer of 100 as fast as it can to one
//!   consumer. The bare producer does what the metered `send` does:
//!   `try_send`; on `Full`, add one to an `AtomicU64`, then the blocking
//!   `send`. Time from starting the threads to joining them.
//! - **One thread**, the wrapper's own work with nothing to wait for: fill
//!   the buffer with `try_send`, empty it with `try_recv`, repeatedly. No
//!   other thread, so no cache line moves between cores: what is left is
//!   the instructions and the clock readings each message costs.
//!
//! Each side runs several times, interleaved with the other; the medians
//! are compared (other load on the machine slows either side's runs), and
//! the best runs as a check. Flat out, how often each producer found the
//! buffer full is printed too: there the pace is set by how the two threads
//! meet (blocking, waking, cache lines moving between cores) more than by
//! the instructions a message costs, which the one-thread figure shows alone.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{self, TrySendError};
use std::thread;
use std::time::Instant;

const MESSAGES: u64 = 2_000_000;
const CAPACITY: usize = 100;
const TRIES: usize = 15;
/// One-thread rounds: fill and empty the buffer this many times.
const ROUNDS: u64 = 20_000;

/// Nanoseconds a message, flat out through a bare `sync_channel`, and the full-count.
fn bare_flat_out() -> (f64, u64) {
    let (tx, rx) = mpsc::sync_channel::<u64>(CAPACITY);
    let full = AtomicU64::new(0);
    let start = Instant::now();
    thread::scope(|s| {
        s.spawn(|| {
            for n in 0..MESSAGES {
                if let Err(TrySendError::Full(n)) = tx.try_send(n) {
                    full.fetch_add(1, Relaxed);
                    tx.send(n).unwrap();
                }
            }
            drop(tx);
        });
        s.spawn(move || consume(rx.iter()));
    });
    (per_message(start, MESSAGES), full.load(Relaxed))
}

/// The same through the metered channel.
fn metered_flat_out() -> (f64, u64) {
    let (tx, rx) = metered::sync_channel::<u64>(CAPACITY);
    let meter = tx.meter();
    let start = Instant::now();
    thread::scope(|s| {
        s.spawn(move || {
            for n in 0..MESSAGES {
                tx.send(n).unwrap();
            }
        });
        s.spawn(move || consume(rx.iter()));
    });
    (per_message(start, MESSAGES), meter.snapshot().full_count)
}

/// Takes every message, checking each is the next.
fn consume(messages: impl Iterator<Item = u64>) {
    let mut expected = 0;
    for n in messages {
        assert_eq!(n, expected);
        expected += 1;
    }
    assert_eq!(expected, MESSAGES);
}

/// Nanoseconds a message: fill the buffer, empty it, again and again, on
/// one thread (both channels have these methods, by the same names).
macro_rules! one_thread {
    ($channel:expr) => {{
        let (tx, rx) = $channel;
        let start = Instant::now();
        for round in 0..ROUNDS {
            for n in 0..CAPACITY as u64 {
                tx.try_send(black_box(round + n)).unwrap();
            }
            for _ in 0..CAPACITY {
                black_box(rx.try_recv().unwrap());
            }
        }
        (per_message(start, ROUNDS * CAPACITY as u64), 0)
    }};
}

fn bare_one_thread() -> (f64, u64) {
    one_thread!(mpsc::sync_channel::<u64>(CAPACITY))
}

fn metered_one_thread() -> (f64, u64) {
    one_thread!(metered::sync_channel::<u64>(CAPACITY))
}

fn per_message(start: Instant, messages: u64) -> f64 {
    start.elapsed().as_secs_f64() * 1e9 / messages as f64
}

fn median(mut runs: Vec<f64>) -> f64 {
    runs.sort_by(f64::total_cmp);
    runs[runs.len() / 2]
}

fn best(runs: &[f64]) -> f64 {
    runs.iter().copied().fold(f64::MAX, f64::min)
}

/// Runs both sides interleaved and prints the comparison.
fn compare(what: &str, bare: fn() -> (f64, u64), metered: fn() -> (f64, u64)) {
    let (mut bares, mut metereds) = (Vec::new(), Vec::new());
    let (mut bare_full, mut metered_full) = (0, 0);
    for _ in 0..TRIES {
        let (ns, full) = bare();
        bares.push(ns);
        bare_full += full;
        let (ns, full) = metered();
        metereds.push(ns);
        metered_full += full;
    }
    let (best_bare, best_metered) = (best(&bares), best(&metereds));
    let (bare, metered) = (median(bares), median(metereds));
    println!("{what}, {TRIES} runs of each, interleaved:");
    println!("  bare sync_channel({CAPACITY}): {bare:7.1} ns/message median, {best_bare:7.1} best");
    println!("  metered:              {metered:7.1} ns/message median, {best_metered:7.1} best");
    println!(
        "  metered / bare: {:.2}x median to median ({:.2}x best to best); \
         {:+.1} ns/message median to median ({:+.1} best to best)",
        metered / bare,
        best_metered / best_bare,
        metered - bare,
        best_metered - best_bare,
    );
    if bare_full + metered_full > 0 {
        let share = |full: u64| full as f64 / (TRIES as u64 * MESSAGES) as f64 * 100.0;
        println!(
            "  sends that found the buffer full: bare {:.1}%, metered {:.1}%",
            share(bare_full),
            share(metered_full)
        );
    }
}

fn main() {
    compare(
        &format!("flat out, one producer and one consumer, {MESSAGES} messages"),
        bare_flat_out,
        metered_flat_out,
    );
    compare(
        "one thread, try_send then try_recv, nothing to wait for",
        bare_one_thread,
        metered_one_thread,
    );
}
