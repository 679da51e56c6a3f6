//! The producer thread: the bursty public API. It tries a non-blocking insert;
//! when the buffer is full it counts that and blocks, which is the latency the
//! API call would suffer.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{Sender, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use crate::control::{Shared, State};
use crate::model::Arrivals;

/// What the producer does, and when it stops by itself.
#[derive(Debug, Clone)]
pub struct Plan {
    pub arrivals: Arrivals,
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
    /// Wall time spent blocked in `send` because the buffer was full.
    pub blocked_total: Duration,
    pub blocked_max: Duration,
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
    let end = plan.duration.map(|d| clock.after(clock.start_instant(), d));
    let limit = plan.messages.unwrap_or(u64::MAX);
    // When the next message is due. Pacing from this ideal schedule, not from
    // "now", keeps sleep overshoot from slowing the producer at high --speed.
    let mut due = clock.start_instant();
    let mut produced = 0;
    let mut blocked_total = Duration::ZERO;
    let mut blocked_max = Duration::ZERO;
    while produced < limit && shared.control.state() == State::Running {
        if end.is_some_and(|end| Instant::now() >= end) {
            break;
        }
        match buffer.try_send(produced) {
            Ok(()) => {}
            Err(TrySendError::Full(seq)) => {
                shared.full_count.fetch_add(1, Ordering::Relaxed);
                let started = Instant::now();
                if buffer.send(seq).is_err() {
                    break; // the consumer is gone: the run was aborted
                }
                let unblocked = Instant::now();
                let blocked = unblocked - started;
                blocked_total += blocked;
                blocked_max = blocked_max.max(blocked);
                // A blocked producer offers nothing new: the next gap starts now.
                due = due.max(unblocked);
            }
            Err(TrySendError::Disconnected(_)) => break,
        }
        // If the illustrator has failed the run goes on without it.
        let _ = events.send(produced);
        produced += 1;

        let gap = plan.arrivals.next_gap();
        if !gap.is_zero() {
            due = clock.after(due, gap);
            let wake = end.map_or(due, |end| end.min(due));
            if !shared.control.sleep_until(wake, State::Stopping) {
                break;
            }
        }
    }
    Report {
        produced,
        stopped_at: Instant::now(),
        blocked_total,
        blocked_max,
    }
}
