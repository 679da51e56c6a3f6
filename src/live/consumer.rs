//! A consumer thread: the steady database writer. It takes one message at a
//! time and spends its service time on it, until the buffer is closed and empty
//! (so by default every message is consumed) or the run is aborted. With
//! `--consumers N` there are N of these, each with its own clone of the
//! metered receiver, which counts their busy and idle time.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use crate::live::buffer::MeteredReceiver;
use crate::live::control::{Shared, State};
use crate::live::events::Events;
use crate::model::WhenFull;
use crate::traffic::Service;

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

pub fn run(
    service: Service,
    mut buffer: MeteredReceiver<u64>,
    events: Events,
    shared: &Shared,
) -> Report {
    let clock = shared.clock;
    // When this consumer is free for its next message, on the ideal schedule:
    // pacing from it rather than from "now" keeps sleep overshoot from slowing
    // the consumer at high --speed (see the producer).
    // A thread that starts late (a thousand take a while to spawn) starts
    // its schedule when it starts: served from the clock's start, its first
    // messages would take no time at all. The delay is lateness all the same.
    let lag = &shared.counters.consumer_lag;
    let started = Instant::now();
    lag.observe(clock.start_instant(), started);
    let mut free_at = clock.start_instant().max(started);
    let mut consumed = 0;
    let mut out_of_order = 0;
    let stalls = &shared.stalls;
    let dropping = shared.when_full != WhenFull::Block;
    let mut last: Option<u64> = None;
    let meter = buffer.meter();
    while shared.control.state() != State::Aborted {
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
        let taken = match buffer.take_before(deadline) {
            Ok(Some(taken)) => taken,
            Ok(None) => continue, // a stall begins
            Err(_) => break,      // closed and drained
        };
        // It waited (an empty buffer, or another consumer's turn): that time
        // was idle, and its schedule restarts from the message.
        if let Some(at) = taken.waited_until {
            free_at = free_at.max(at);
        }
        // Where the model took it: a producer blocked on this slot goes on from there.
        let since_start = free_at.saturating_duration_since(clock.start_instant());
        let ns = u64::try_from(since_start.as_nanos()).unwrap_or(u64::MAX);
        shared.counters.last_take_ns.store(ns, Relaxed);
        // Message k must be the k-th taken; where a drop policy may discard
        // messages, each taken must still come after the one before.
        let in_order = if dropping {
            last.is_none_or(|last| taken.message > last)
        } else {
            taken.message == taken.position
        };
        if !in_order {
            out_of_order += 1;
        }
        last = Some(taken.message);
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
        finished_at: Instant::now(),
    }
}
