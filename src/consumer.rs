//! A consumer thread: the steady database writer. It takes one message at a
//! time and spends its service time on it, until the buffer is closed and empty
//! (so by default every message is consumed) or the run is aborted. With
//! `--consumers N` there are N of these sharing the one receiver behind a mutex.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Instant;

use crate::control::{Shared, State};
use crate::model::ServiceTimes;

/// What one consumer did, returned when its thread is joined.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub consumed: u64,
    /// Messages that were not the next in sequence when taken (lost, repeated or
    /// reordered); always 0 unless the pipeline is broken.
    pub out_of_order: u64,
    /// When it took its last message or gave up; the drain ends here.
    pub finished_at: Instant,
}

impl Report {
    /// The consumers' reports as one: counts added, the last to finish.
    pub fn merge(reports: &[Report]) -> Report {
        Report {
            consumed: reports.iter().map(|r| r.consumed).sum(),
            out_of_order: reports.iter().map(|r| r.out_of_order).sum(),
            finished_at: reports
                .iter()
                .map(|r| r.finished_at)
                .max()
                .unwrap_or_else(Instant::now),
        }
    }
}

/// The receiving end, shared by all consumers.
pub type Intake = Arc<Mutex<Receiver<u64>>>;

/// A message taken from the buffer.
struct Taken {
    seq: u64,
    /// Whether the consumer had to wait for it (an empty buffer, or another
    /// consumer holding the receiver), so its schedule restarts from now.
    waited: bool,
}

pub fn run(service: ServiceTimes, buffer: Intake, events: Sender<u64>, shared: &Shared) -> Report {
    let clock = shared.clock;
    let counters = &shared.counters;
    // When this consumer is free for its next message, on the ideal schedule:
    // pacing from it rather than from "now" keeps sleep overshoot from slowing
    // the consumer at high --speed (see the producer).
    let mut free_at = clock.start_instant();
    let mut consumed = 0;
    let mut out_of_order = 0;
    while shared.control.state() != State::Aborted {
        let asked = Instant::now();
        let taken = take(&buffer, counters, &mut out_of_order);
        let now = Instant::now();
        let idle = u64::try_from((now - asked).as_nanos()).unwrap_or(u64::MAX);
        counters.consumer_idle_ns.fetch_add(idle, Relaxed);
        let Some(taken) = taken else {
            break; // closed and drained
        };
        if taken.waited {
            free_at = free_at.max(now);
        }
        consumed += 1;
        let _ = events.send(taken.seq);

        let spend = service.of(taken.seq);
        if !spend.is_zero() {
            free_at = clock.after(free_at, spend);
            if !shared.control.sleep_until(free_at, State::Aborted) {
                break;
            }
        }
    }
    Report {
        consumed,
        out_of_order,
        finished_at: Instant::now(),
    }
}

/// Takes the next message, holding the receiver so that the order in which
/// messages leave the buffer is also the order in which they are counted.
fn take(
    buffer: &Mutex<Receiver<u64>>,
    counters: &crate::counters::Counters,
    out_of_order: &mut u64,
) -> Option<Taken> {
    let (receiver, contended) = lock(buffer);
    let (seq, blocked) = match receiver.try_recv() {
        Ok(seq) => (seq, false),
        Err(TryRecvError::Empty) => (receiver.recv().ok()?, true),
        Err(TryRecvError::Disconnected) => return None,
    };
    // The global count, in the order taken: message k must be the k-th taken.
    let expected = counters.consumed.fetch_add(1, Relaxed);
    if seq != expected {
        *out_of_order += 1;
    }
    Some(Taken {
        seq,
        waited: contended || blocked,
    })
}

/// Locks the receiver; also says whether another consumer held it.
fn lock(buffer: &Mutex<Receiver<u64>>) -> (MutexGuard<'_, Receiver<u64>>, bool) {
    match buffer.try_lock() {
        Ok(guard) => (guard, false),
        // A consumer that panicked holding it cannot have left it inconsistent.
        Err(TryLockError::Poisoned(poisoned)) => (poisoned.into_inner(), false),
        Err(TryLockError::WouldBlock) => (buffer.lock().unwrap_or_else(|e| e.into_inner()), true),
    }
}
