//! The consumer thread: the steady database writer. It takes one message at a
//! time and spends a fixed service time on it, until the buffer is closed and
//! empty (so by default every message is consumed) or the run is aborted.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::time::{Duration, Instant};

use crate::control::{Shared, State};

/// What the consumer did, returned when its thread is joined.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub consumed: u64,
    /// Messages that did not follow the one before (lost, repeated or reordered);
    /// always 0 unless the pipeline is broken.
    pub out_of_order: u64,
    /// When it took its last message or gave up; the drain ends here.
    pub finished_at: Instant,
}

pub fn run(
    service: Duration,
    buffer: Receiver<u64>,
    events: Sender<u64>,
    shared: &Shared,
) -> Report {
    let clock = shared.clock;
    let counters = &shared.counters;
    // When the consumer is free for the next message, on the ideal schedule
    // (see the producer); it restarts from "now" after waiting on an empty buffer.
    let mut free_at = clock.start_instant();
    let mut consumed = 0;
    let mut expected = 0;
    let mut out_of_order = 0;
    while shared.control.state() != State::Aborted {
        let seq = match buffer.try_recv() {
            Ok(seq) => seq,
            Err(TryRecvError::Empty) => {
                let waiting = Instant::now();
                let received = buffer.recv();
                let now = Instant::now();
                let idle = u64::try_from((now - waiting).as_nanos()).unwrap_or(u64::MAX);
                counters.consumer_idle_ns.fetch_add(idle, Relaxed);
                match received {
                    Ok(seq) => {
                        free_at = free_at.max(now);
                        seq
                    }
                    Err(_) => break, // closed and drained
                }
            }
            Err(TryRecvError::Disconnected) => break,
        };
        if seq != expected {
            out_of_order += 1;
        }
        expected = seq + 1;
        consumed += 1;
        counters.consumed.store(consumed, Relaxed);
        let _ = events.send(seq);

        if !service.is_zero() {
            free_at = clock.after(free_at, service);
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
