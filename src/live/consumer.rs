//! A consumer thread: the steady database writer. It takes one message at a
//! time and spends its service time on it, until the buffer is closed and empty
//! (so by default every message is consumed) or the run is aborted. With
//! `--consumers N` there are N of these sharing the one receiver behind a mutex.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Instant;

use crate::live::control::{Shared, State};
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

/// What asking the buffer for a message gave.
struct Taken {
    /// `None` once the buffer is closed and drained.
    seq: Option<u64>,
    /// If the consumer had to wait for it (an empty buffer, or another consumer
    /// holding the receiver), since when: that time was idle, and its schedule
    /// restarts from now. Only then is the clock read, to keep the common path cheap.
    waited_since: Option<Instant>,
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
        let taken = take(&buffer, counters, &mut out_of_order);
        if let Some(since) = taken.waited_since {
            let now = Instant::now();
            let idle = u64::try_from((now - since).as_nanos()).unwrap_or(u64::MAX);
            counters.consumer_idle_ns.fetch_add(idle, Relaxed);
            free_at = free_at.max(now);
        }
        let Some(seq) = taken.seq else {
            break; // closed and drained
        };
        consumed += 1;
        let _ = events.send(seq);

        let spend = service.of(seq);
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

/// Takes the next message (`None` once the buffer is closed and drained),
/// holding the receiver so that the order in which messages leave the buffer is
/// also the order in which they are counted.
fn take(
    buffer: &Mutex<Receiver<u64>>,
    counters: &crate::live::counters::Counters,
    out_of_order: &mut u64,
) -> Taken {
    let (receiver, waited_since) = lock(buffer);
    let (seq, waited_since) = match receiver.try_recv() {
        Ok(seq) => (Some(seq), waited_since),
        Err(TryRecvError::Empty) => {
            let since = waited_since.unwrap_or_else(Instant::now);
            (receiver.recv().ok(), Some(since))
        }
        Err(TryRecvError::Disconnected) => (None, waited_since),
    };
    if let Some(seq) = seq {
        // The global count, in the order taken: message k must be the k-th
        // taken. Only the holder of the receiver writes it, so a load and a
        // store do (no locked read-modify-write on the hot path).
        let expected = counters.consumed.load(Relaxed);
        counters.consumed.store(expected + 1, Relaxed);
        if seq != expected {
            *out_of_order += 1;
        }
    }
    Taken { seq, waited_since }
}

/// Locks the receiver; if another consumer held it, also says since when this one waited.
fn lock(buffer: &Mutex<Receiver<u64>>) -> (MutexGuard<'_, Receiver<u64>>, Option<Instant>) {
    match buffer.try_lock() {
        Ok(guard) => (guard, None),
        // A consumer that panicked holding it cannot have left it inconsistent.
        Err(TryLockError::Poisoned(poisoned)) => (poisoned.into_inner(), None),
        Err(TryLockError::WouldBlock) => {
            let since = Instant::now();
            (
                buffer.lock().unwrap_or_else(|e| e.into_inner()),
                Some(since),
            )
        }
    }
}
