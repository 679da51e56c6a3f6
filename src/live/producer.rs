//! The producer thread: the bursty public API. It tries a non-blocking insert;
//! when the buffer is full it counts that and blocks, which is the latency the
//! API call would suffer. The metered channel does the trying, counting and
//! timing (and, with a drop `--when-full`, the dropping): `send` is
//! `try_send`, on `Full` the full-count, then the blocking `send`. When
//! messages are offered is the private `Schedule`'s business (the arrival
//! schedule, in one place).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use metered::SyncSender;

use crate::live::clock::Clock;
use crate::live::control::{Shared, State};
use crate::live::counters::ProducerState;
use crate::live::events::Events;
use crate::live::record::{Tape, Taped};
use crate::model::{Arrivals, Gap};
use crate::traffic::trace::scaled;

/// What the producer does, and when it stops by itself. (What a send that
/// finds the buffer full does is the channel's policy.)
#[derive(Debug)]
pub struct Plan {
    pub arrivals: Source,
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
    /// What `--record` taped, if it was asked for.
    pub taped: Option<Taped>,
}

/// Where the messages' times come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The built-in model's gaps: a block delays the rest of the schedule.
    Model(Box<Arrivals>),
    /// A trace (`--arrivals-from`): each line an independent caller, due at
    /// its own time divided by `load`. After a block the overdue messages go
    /// at once; nothing is shifted.
    Trace { offsets: Arc<[u64]>, load: f64 },
}

/// The arrival schedule: when each message is due, in wall time, on the
/// model's ideal timeline. Pacing from it, not from "now", keeps sleep
/// overshoot from slowing the producer at high --speed.
struct Schedule {
    source: Source,
    clock: Clock,
    /// When the next message is due.
    due: Instant,
    /// Messages sent so far: a trace's line number.
    sent: usize,
}

impl Schedule {
    fn new(source: Source, clock: Clock) -> Schedule {
        Schedule {
            source,
            clock,
            due: clock.start_instant(),
            sent: 0,
        }
    }

    /// The gap after the message just sent; moves the due time on by it.
    /// `None` after a trace's last line.
    fn next(&mut self) -> Option<Gap> {
        self.sent += 1;
        match &mut self.source {
            Source::Model(arrivals) => {
                let gap = arrivals.next_gap();
                if !gap.pause.is_zero() {
                    self.due = self.clock.after(self.due, gap.pause);
                }
                Some(gap)
            }
            Source::Trace { offsets, load } => {
                let (this, next) = (offsets.get(self.sent - 1)?, offsets.get(self.sent)?);
                let (this, next) = (scaled(*this, *load), scaled(*next, *load));
                // From the start, not from the last due time: no rounding builds up.
                let at = Duration::from_nanos(next);
                self.due = self.clock.after(self.clock.start_instant(), at);
                Some(Gap {
                    pause: Duration::from_nanos(next - this),
                    burst: false,
                })
            }
        }
    }

    /// Whether callers are independent (a trace): then a blocked caller has
    /// waited since it was due, and a block shifts nothing.
    fn independent(&self) -> bool {
        matches!(self.source, Source::Trace { .. })
    }

    /// A blocked producer offers nothing new: the next gap starts when it
    /// unblocked. A trace's callers keep their times.
    fn unblocked_at(&mut self, at: Instant) {
        if !self.independent() {
            self.due = self.due.max(at);
        }
    }
}

/// Runs the producer until its plan ends, the run is stopped, or the consumer is
/// gone. Dropping `buffer` on return is what tells the consumer to drain and end.
pub fn run(
    plan: Plan,
    buffer: SyncSender<u64>,
    events: Events,
    mut tape: Option<Tape>,
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
    // When the last block ended: a replayed caller due before it could not be
    // sent sooner, and that wait is the buffer's, not the producer's lateness.
    let mut unblocked = clock.start_instant();
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
        // When this message is offered, on the model's timeline: what
        // `--record` writes (a replayed caller arrives then).
        let offered = schedule.due;
        // A trace's caller has waited since it was due, even if an earlier
        // blocked caller kept the producer from trying sooner: its block
        // counts from then.
        let now = Instant::now();
        let since = if schedule.independent() {
            schedule.due.min(now)
        } else {
            now
        };
        // Stored before the send, so a consumer that receives this message
        // reads this time or a later offer's (the channel orders them).
        let offered_ns = offered.saturating_duration_since(clock.start_instant());
        counters.last_offer_ns.store(
            u64::try_from(offered_ns.as_nanos()).unwrap_or(u64::MAX),
            Relaxed,
        );
        // The original's three steps, in the channel: try, count a full
        // buffer, block (a drop policy never blocks: the message, or the
        // oldest, goes). The gauge learns of a block from the channel.
        match buffer.send_since(produced, since) {
            Ok(None) => {}
            Err(_) => break, // the consumers are gone: the run was aborted
            Ok(Some(_blocked)) => {
                unblocked = Instant::now();
                // The slot freed when a consumer took a message on its ideal
                // schedule; a late wake of either thread is the machine's,
                // not the model's, and must not shift the rest of the run.
                let took = Duration::from_nanos(counters.last_take_ns.load(Relaxed));
                let freed = clock.start_instant().checked_add(took).unwrap_or(unblocked);
                schedule.unblocked_at(freed.max(offered).min(unblocked));
            }
        }
        events.send(produced);
        produced += 1;
        if let Some(tape) = &mut tape {
            tape.offered((clock.model_secs(offered) * 1e9).round() as u64);
        }

        let Some(gap) = schedule.next() else {
            break; // the trace's last line
        };
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
            lag.observe(wake.max(unblocked), Instant::now());
        }
    }
    counters.set_producer_state(ProducerState::Stopped);
    let stopped_at = Instant::now();
    // Closed before the tape is finished (which may wait for the recorder):
    // the consumers drain and the illustrator ends without waiting for it.
    drop((buffer, events));
    Report {
        produced,
        stopped_at,
        taped: tape.map(Tape::finish),
    }
}
