//! The producer thread: the bursty public API. It tries a non-blocking insert;
//! when the buffer is full it counts that and blocks, which is the latency the
//! API call would suffer.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Sender, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use crate::live::control::{Shared, State};
use crate::live::counters::{Counters, ProducerState};
use crate::model::Arrivals;

/// What the producer does, and when it stops by itself.
#[derive(Debug, Clone)]
pub struct Plan {
    pub arrivals: Arrivals,
    /// The buffer's capacity, which bounds the high-water mark.
    pub capacity: u64,
    /// Model time after which it stops; `None` for no limit.
    pub duration: Option<Duration>,
    /// Number of messages after which it stops; `None` for no limit.
    pub messages: Option<u64>,
}

/// What the producer did, returned when its thread is joined.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Messages put into the buffer: 0, 1, … `produced - 1`.
    pub produced: u64,
    /// When it stopped producing; the drain starts here.
    pub stopped_at: Instant,
}

/// Runs the producer until its plan ends, the run is stopped, or the consumer is
/// gone. Dropping `buffer` on return is what tells the consumer to drain and end.
pub fn run(
    mut plan: Plan,
    buffer: SyncSender<u64>,
    events: Sender<u64>,
    shared: &Shared,
) -> Report {
    let clock = shared.clock;
    let counters = &shared.counters;
    let end = plan.duration.map(|d| clock.after(clock.start_instant(), d));
    let limit = plan.messages.unwrap_or(u64::MAX);
    // When the next message is due. Pacing from this ideal schedule, not from
    // "now", keeps sleep overshoot from slowing the producer at high --speed.
    let mut due = clock.start_instant();
    let mut produced = 0;
    let mut high_water = HighWater::new(plan.capacity);
    while produced < limit && shared.control.state() == State::Running {
        if end.is_some_and(|end| Instant::now() >= end) {
            break;
        }
        match buffer.try_send(produced) {
            Ok(()) => {}
            Err(TrySendError::Full(seq)) => {
                let started = Instant::now();
                if counters.full_count.fetch_add(1, Relaxed) == 0 {
                    let since_start = started - clock.start_instant();
                    let ns = u64::try_from(since_start.as_nanos()).unwrap_or(u64::MAX - 1);
                    counters.first_full_ns.store(ns, Relaxed);
                }
                counters.set_producer_state(ProducerState::Blocked);
                if buffer.send(seq).is_err() {
                    break; // the consumer is gone: the run was aborted
                }
                let unblocked = Instant::now();
                counters.blocked.record(unblocked - started);
                counters.set_producer_state(ProducerState::Sending);
                high_water.full(counters);
                // A blocked producer offers nothing new: the next gap starts now.
                due = due.max(unblocked);
            }
            Err(TrySendError::Disconnected(_)) => break,
        }
        // If the illustrator has failed the run goes on without it.
        let _ = events.send(produced);
        produced += 1;
        counters.produced.store(produced, Relaxed);
        high_water.sent(produced, counters);

        let gap = plan.arrivals.next_gap();
        if !gap.pause.is_zero() {
            due = clock.after(due, gap.pause);
            let wake = end.map_or(due, |end| end.min(due));
            if gap.burst {
                counters.set_producer_state(ProducerState::Pausing);
            }
            let slept = shared.control.sleep_until(wake, State::Stopping);
            if gap.burst {
                counters.set_producer_state(ProducerState::Sending);
            }
            if !slept {
                break;
            }
        }
    }
    counters.set_producer_state(ProducerState::Stopped);
    Report {
        produced,
        stopped_at: Instant::now(),
    }
}

/// Tracks the most messages ever in the buffer without reading the consumer's
/// counter on every send: the depth is at most `produced - consumed_seen`
/// (consumed only grows), so the counter is read only when that bound could set
/// a new mark, and never again once the buffer has been full.
struct HighWater {
    capacity: u64,
    mark: u64,
    consumed_seen: u64,
}

impl HighWater {
    fn new(capacity: u64) -> HighWater {
        HighWater {
            capacity,
            mark: 0,
            consumed_seen: 0,
        }
    }

    fn sent(&mut self, produced: u64, counters: &Counters) {
        if self.mark == self.capacity || produced - self.consumed_seen <= self.mark {
            return;
        }
        self.consumed_seen = counters.consumed.load(Relaxed);
        let depth = produced
            .saturating_sub(self.consumed_seen)
            .min(self.capacity);
        if depth > self.mark {
            self.mark = depth;
            counters.high_water.store(depth, Relaxed);
        }
    }

    /// The buffer was full: the mark is the capacity.
    fn full(&mut self, counters: &Counters) {
        self.mark = self.capacity;
        counters.high_water.store(self.capacity, Relaxed);
    }
}
