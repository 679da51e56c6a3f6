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

/// One flat-out run: nanoseconds a message of wall time and of the two
/// threads' CPU time (where the system says), and the full-count.
struct Run {
    wall: f64,
    cpu: Option<f64>,
    full: u64,
}

/// Flat out through a bare `sync_channel`.
fn bare_flat_out() -> Run {
    let (tx, rx) = mpsc::sync_channel::<u64>(CAPACITY);
    let full = AtomicU64::new(0);
    let start = Instant::now();
    let cpu = thread::scope(|s| {
        let producer = s.spawn(|| {
            on_cpu(|| {
                for n in 0..MESSAGES {
                    if let Err(TrySendError::Full(n)) = tx.try_send(n) {
                        full.fetch_add(1, Relaxed);
                        tx.send(n).unwrap();
                    }
                }
                drop(tx);
            })
        });
        let consumer = s.spawn(move || on_cpu(|| consume(rx.iter())));
        both(producer.join().unwrap(), consumer.join().unwrap())
    });
    Run {
        wall: per_message(start, MESSAGES),
        cpu,
        full: full.load(Relaxed),
    }
}

/// The same through the metered channel.
fn metered_flat_out() -> Run {
    let (tx, rx) = metered::sync_channel::<u64>(CAPACITY);
    let meter = tx.meter();
    let start = Instant::now();
    let cpu = thread::scope(|s| {
        let producer = s.spawn(move || {
            on_cpu(|| {
                for n in 0..MESSAGES {
                    tx.send(n).unwrap();
                }
            })
        });
        let consumer = s.spawn(move || on_cpu(|| consume(rx.iter())));
        both(producer.join().unwrap(), consumer.join().unwrap())
    });
    Run {
        wall: per_message(start, MESSAGES),
        cpu,
        full: meter.snapshot().full_count,
    }
}

/// Nanoseconds this thread has run on a CPU, from Linux's
/// `/proc/thread-self/sched`; `None` where there is no such file. Unlike
/// wall time it does not grow while other programs have the CPU.
fn cpu_ns() -> Option<f64> {
    let sched = std::fs::read_to_string("/proc/thread-self/sched").ok()?;
    let line = sched
        .lines()
        .find(|l| l.starts_with("se.sum_exec_runtime"))?;
    let ms: f64 = line.split(':').nth(1)?.trim().parse().ok()?;
    Some(ms * 1e6)
}

/// The CPU time `work` took on this thread.
fn on_cpu(work: impl FnOnce()) -> Option<f64> {
    let before = cpu_ns();
    work();
    Some(cpu_ns()? - before?)
}

/// Both threads' CPU time, a message.
fn both(producer: Option<f64>, consumer: Option<f64>) -> Option<f64> {
    Some((producer? + consumer?) / MESSAGES as f64)
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
        Run {
            wall: per_message(start, ROUNDS * CAPACITY as u64),
            cpu: None,
            full: 0,
        }
    }};
}

fn bare_one_thread() -> Run {
    one_thread!(mpsc::sync_channel::<u64>(CAPACITY))
}

fn metered_one_thread() -> Run {
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
fn compare(what: &str, bare: fn() -> Run, metered: fn() -> Run) {
    let (mut bares, mut metereds) = (Vec::new(), Vec::new());
    for _ in 0..TRIES {
        bares.push(bare());
        metereds.push(metered());
    }
    println!("{what}, {TRIES} runs of each, interleaved:");
    let wall = |runs: &[Run]| runs.iter().map(|r| r.wall).collect::<Vec<_>>();
    versus("wall time", &wall(&bares), &wall(&metereds));
    let cpu = |runs: &[Run]| runs.iter().map(|r| r.cpu).collect::<Option<Vec<_>>>();
    if let (Some(bare), Some(metered)) = (cpu(&bares), cpu(&metereds)) {
        versus("CPU time, both threads", &bare, &metered);
    }
    let full = |runs: &[Run]| runs.iter().map(|r| r.full).sum::<u64>();
    if full(&bares) + full(&metereds) > 0 {
        let share = |full: u64| full as f64 / (TRIES as u64 * MESSAGES) as f64 * 100.0;
        println!(
            "  sends that found the buffer full: bare {:.1}%, metered {:.1}%",
            share(full(&bares)),
            share(full(&metereds))
        );
    }
}

/// One figure of both sides: medians and bests, their ratio and difference.
fn versus(figure: &str, bare: &[f64], metered: &[f64]) {
    let (best_bare, best_metered) = (best(bare), best(metered));
    let (bare, metered) = (median(bare.to_vec()), median(metered.to_vec()));
    println!(
        "  {figure}: bare {bare:.1} ns/message median ({best_bare:.1} best), \
         metered {metered:.1} ({best_metered:.1})"
    );
    println!(
        "    metered / bare: {:.2}x median to median ({:.2}x best to best); \
         {:+.1} ns/message median to median ({:+.1} best to best)",
        metered / bare,
        best_metered / best_bare,
        metered - bare,
        best_metered - best_bare,
    );
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
