//! The producer thread: the bursty public API. It tries a non-blocking insert;
//! when the buffer is full it counts that and blocks, which is the latency the
//! API call would suffer. The buffer's meter does the counting and timing
//! ([`crate::live::buffer`]); when messages are offered is the private `Schedule`'s business
//! (the arrival schedule, in one place).

use std::sync::mpsc::{Sender, TrySendError};
use std::time::{Duration, Instant};

use crate::live::buffer::MeteredSender;
use crate::live::clock::Clock;
use crate::live::control::{Shared, State};
use crate::live::counters::ProducerState;
use crate::model::{Arrivals, Gap};

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
}

/// The arrival schedule: when each message is due, in wall time, on the
/// model's ideal timeline. Pacing from it, not from "now", keeps sleep
/// overshoot from slowing the producer at high --speed.
struct Schedule {
    arrivals: Arrivals,
    clock: Clock,
    /// When the next message is due.
    due: Instant,
}

impl Schedule {
    fn new(arrivals: Arrivals, clock: Clock) -> Schedule {
        Schedule {
            arrivals,
            clock,
            due: clock.start_instant(),
        }
    }

    /// The gap after the message just sent; moves the due time on by it.
    fn next(&mut self) -> Gap {
        let gap = self.arrivals.next_gap();
        if !gap.pause.is_zero() {
            self.due = self.clock.after(self.due, gap.pause);
        }
        gap
    }

    /// A blocked producer offers nothing new: the next gap starts when it unblocked.
    fn unblocked_at(&mut self, at: Instant) {
        self.due = self.due.max(at);
    }
}

/// Runs the producer until its plan ends, the run is stopped, or the consumer is
/// gone. Dropping `buffer` on return is what tells the consumer to drain and end.
pub fn run(
    plan: Plan,
    mut buffer: MeteredSender<u64>,
    events: Sender<u64>,
    shared: &Shared,
) -> Report {
    let clock = shared.clock;
    let counters = &shared.counters;
    let end = plan.duration.map(|d| clock.after(clock.start_instant(), d));
    let limit = plan.messages.unwrap_or(u64::MAX);
    let mut schedule = Schedule::new(plan.arrivals, clock);
    let lag = &counters.producer_lag;
    // Started late (threads take a while to spawn): the first wake.
    lag.observe(schedule.due, Instant::now());
    let mut produced = 0;
    while produced < limit && shared.control.state() == State::Running {
        if let Some(end) = end {
            let now = Instant::now();
            if now >= end {
                // Messages still due before the end were never sent: that
                // lateness is time lost too.
                lag.observe(schedule.due.min(end), now);
                break;
            }
        }
        // The original's three steps: try, count a full buffer, block.
        match buffer.try_send(produced) {
            Ok(()) => {}
            Err(TrySendError::Full(seq)) => {
                let full = buffer.count_full();
                counters.set_producer_state(ProducerState::Blocked);
                if buffer.send_blocking(full, seq).is_err() {
                    break; // the consumer is gone: the run was aborted
                }
                counters.set_producer_state(ProducerState::Sending);
                schedule.unblocked_at(Instant::now());
            }
            Err(TrySendError::Disconnected(_)) => break,
        }
        // If the illustrator has failed the run goes on without it.
        let _ = events.send(produced);
        produced += 1;

        let gap = schedule.next();
        if !gap.pause.is_zero() {
            let wake = end.map_or(schedule.due, |end| end.min(schedule.due));
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
            lag.observe(wake, Instant::now());
        }
    }
    counters.set_producer_state(ProducerState::Stopped);
    Report {
        produced,
        stopped_at: Instant::now(),
    }
}
