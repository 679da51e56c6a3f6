//! A consumer thread: the steady database writer. It takes one message at a
//! time and spends its service time on it, until the buffer is closed and empty
//! (so by default every message is consumed) or the run is aborted. With
//! `--consumers N` there are N of these, each with its own clone of the
//! metered receiver, which counts their busy and idle time. Between
//! messages each asks the crew ([`crate::live::crew`]) whether `+` or `-`
//! was pressed: it starts a sibling with clones of its own ends, or stops.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{RecvError, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use metered::Receiver;

use crate::live::control::{Shared, State};
use crate::live::crew::Duty;
use crate::live::events::Events;
use crate::traffic::Service;

/// What one consumer did, returned when its thread is joined.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub consumed: u64,
    /// Messages that did not come after the one this consumer took before
    /// (repeated or reordered); always 0 unless the pipeline is broken.
    pub out_of_order: u64,
    /// The sum of the message numbers taken: with nothing dropped, those
    /// taken are 0, 1, … `consumed - 1` (see [`Report::in_order`]).
    pub seq_sum: u128,
    /// When it took its last message or gave up; the drain ends here.
    pub finished_at: Instant,
}

impl Report {
    /// The consumers' reports as one: counts added, the last to finish.
    pub fn merge(reports: &[Report]) -> Report {
        Report {
            consumed: reports.iter().map(|r| r.consumed).sum(),
            out_of_order: reports.iter().map(|r| r.out_of_order).sum(),
            seq_sum: reports.iter().map(|r| r.seq_sum).sum(),
            finished_at: reports
                .iter()
                .map(|r| r.finished_at)
                .max()
                .unwrap_or_else(Instant::now),
        }
    }

    /// Whether every message was taken once and in order: each consumer's
    /// after its last, and where nothing was dropped, the messages taken are
    /// 0, 1, … `consumed - 1` (numbers that rise, as many as that, with that
    /// sum, can be no others; across consumers, a repeat and a loss would
    /// have to cancel out).
    pub fn in_order(&self, dropping: bool) -> bool {
        let n = u128::from(self.consumed);
        self.out_of_order == 0 && (dropping || self.seq_sum == n * n.saturating_sub(1) / 2)
    }
}

/// A message taken, and when this consumer's wait for it ended, if it waited.
struct Taken {
    message: u64,
    waited_until: Option<Instant>,
}

/// The next message: one there now, or one waited for (an empty buffer, or
/// another consumer's turn) but not past `deadline` (then `Ok(None)`: a
/// stall begins). `Err` once the buffer is closed and drained.
fn take(buffer: &Receiver<u64>, deadline: Option<Instant>) -> Result<Option<Taken>, RecvError> {
    if deadline.is_some_and(|d| Instant::now() >= d) {
        return Ok(None);
    }
    match buffer.try_recv() {
        Ok(message) => {
            return Ok(Some(Taken {
                message,
                waited_until: None,
            }));
        }
        Err(TryRecvError::Disconnected) => return Err(RecvError),
        Err(TryRecvError::Empty) => {}
    }
    // The wait is idle time in the receiver's own count.
    let message = match deadline {
        None => buffer.recv()?,
        Some(d) => match buffer.recv_timeout(d.saturating_duration_since(Instant::now())) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => return Ok(None),
            Err(RecvTimeoutError::Disconnected) => return Err(RecvError),
        },
    };
    Ok(Some(Taken {
        message,
        waited_until: Some(Instant::now()),
    }))
}

/// Starts one more consumer on clones of a consumer's ends (its own thread,
/// running [`run`]); on failure it gives the count back
/// ([`crate::live::crew::Crew::hire_failed`]).
pub type Hire<'a> = &'a (dyn Fn(Receiver<u64>, Events) + Sync);

/// Consumes until the buffer is closed and drained, the run is aborted, or
/// `-` asks this consumer to stop (between messages: the one it holds is
/// finished first).
/// `due` is when it was meant to start: the clock's start, or for one
/// started by `+` the moment its starter acted on the key.
pub fn run(
    service: Service,
    buffer: Receiver<u64>,
    events: Events,
    shared: &Shared,
    due: Instant,
    hire: Hire,
) -> Report {
    let clock = shared.clock;
    // When this consumer is free for its next message, on the ideal schedule:
    // pacing from it rather than from "now" keeps sleep overshoot from slowing
    // the consumer at high --speed (see the producer).
    // A thread that starts late (a thousand take a while to spawn) starts
    // its schedule when it starts: served from the clock's start, its first
    // messages would take no time at all. The delay is lateness all the same.
    // One started by `+` is due when it was asked for, not at the clock's start.
    let lag = &shared.counters.consumer_lag;
    let started = Instant::now();
    lag.observe(due, started);
    let mut free_at = due.max(started);
    let mut consumed = 0;
    let mut out_of_order = 0;
    let mut seq_sum = 0;
    let stalls = &shared.stalls;
    let mut last: Option<u64> = None;
    let meter = buffer.meter();
    while shared.control.state() != State::Aborted {
        match shared.crew.duty(&meter, &clock) {
            Duty::Work => {}
            Duty::Hire => {
                hire(buffer.clone(), events.clone());
                continue;
            }
            // Between messages: none is held, none is left half done.
            Duty::Retire => break,
        }
        // No message is started during a stall: wait it out first.
        if !stalls.is_empty()
            && let Some(until) = stalls.stalled(&clock, &meter, Instant::now())
        {
            if !shared.control.sleep_until(until, State::Aborted) {
                break;
            }
            stalls.ended(&clock, &meter, Instant::now());
            free_at = free_at.max(until);
            continue;
        }
        // Nor does a consumer waiting for one wait across a stall's start.
        let deadline = if stalls.is_empty() {
            None
        } else {
            stalls.next_start(&clock, Instant::now())
        };
        let taken = match take(&buffer, deadline) {
            Ok(Some(taken)) => taken,
            Ok(None) => continue, // a stall begins
            Err(_) => break,      // closed and drained
        };
        // It waited (an empty buffer, or another consumer's turn): that time
        // was idle, and its schedule restarts from the message, when the
        // model offered it. The wake that followed is the machine's: from
        // the wake, each late one would shift the rest of the run, unflagged
        // (the replay of a recording, which has no wakes, then saw fewer
        // fulls). The producer's latest offer is this message's or a later
        // one's, so never before the model's hand-over; and never past the wake.
        if let Some(at) = taken.waited_until {
            let offer = Duration::from_nanos(shared.counters.last_offer_ns.load(Relaxed));
            let offered = clock.start_instant().checked_add(offer).unwrap_or(at);
            free_at = free_at.max(offered.min(at));
        }
        // Where the model took it: a producer blocked on this slot goes on from there.
        let since_start = free_at.saturating_duration_since(clock.start_instant());
        let ns = u64::try_from(since_start.as_nanos()).unwrap_or(u64::MAX);
        shared.counters.last_take_ns.store(ns, Relaxed);
        // Each taken comes after the one before, whatever was dropped.
        if last.is_some_and(|last| taken.message <= last) {
            out_of_order += 1;
        }
        last = Some(taken.message);
        seq_sum += u128::from(taken.message);
        consumed += 1;
        events.send(taken.message);

        let spend = service.of(taken.message);
        if !spend.is_zero() {
            free_at = clock.after(free_at, spend);
            // A stall that begins while this message is in service is marked
            // when it begins, so its figures start there.
            if !stalls.is_empty()
                && let Some(start) = stalls.next_start(&clock, Instant::now())
                && start < free_at
            {
                if !shared.control.sleep_until(start, State::Aborted) {
                    break;
                }
                stalls.stalled(&clock, &meter, Instant::now());
            }
            if !shared.control.sleep_until(free_at, State::Aborted) {
                break;
            }
            lag.observe(free_at, Instant::now());
        }
    }
    Report {
        consumed,
        out_of_order,
        seq_sum,
        finished_at: Instant::now(),
    }
}
