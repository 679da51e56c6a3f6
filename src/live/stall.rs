//! Consumer outages live (`--stall DUR@AT`): when each stall begins and ends
//! in model time, and what it cost, marked by the consumers themselves (no
//! extra thread). A consumer does not start a message during a stall: it
//! stops waiting for one at a stall's start and sleeps to its end, and one in
//! service finishes first. The first consumer to reach a stall's start takes
//! the buffer's counters then; the first to wake at its end takes them again;
//! the difference is the stall's cost, as in the simulation
//! ([`crate::sizing::sim::StallEffect`]): the backlog at the end (the buffer
//! only fills while no consumer starts), the sends that found it full while it
//! lasted, and the time they were blocked while it lasted.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use metered::Meter;

use crate::live::clock::Clock;
use crate::model::{Stall, stalled_until};

/// The stalls of a run and their marks.
#[derive(Debug, Default)]
pub struct StallLog {
    stalls: Vec<Stall>,
    marks: Mutex<Vec<Marks>>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Marks {
    /// Full count and blocked time (wall) at the start.
    start: Option<(u64, Duration)>,
    /// Depth, full count and blocked time (wall) at the end.
    end: Option<(u64, u64, Duration)>,
}

/// What one stall cost, live, in model time; `None` figures for a stall the
/// run did not reach (or did not see end).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct StallFigures {
    pub at_s: f64,
    pub length_s: f64,
    pub backlog_peak: Option<u64>,
    pub full_count: Option<u64>,
    pub blocked_s: Option<f64>,
}

impl StallLog {
    /// `stalls` sorted by start.
    pub fn new(stalls: Vec<Stall>) -> StallLog {
        let marks = Mutex::new(vec![Marks::default(); stalls.len()]);
        StallLog { stalls, marks }
    }

    pub fn is_empty(&self) -> bool {
        self.stalls.is_empty()
    }

    /// If consumers are stalled at model time `t_s`, until when (model seconds).
    pub fn stalled_until_s(&self, t_s: f64) -> Option<f64> {
        let t = Duration::try_from_secs_f64(t_s.max(0.0)).ok()?;
        stalled_until(&self.stalls, t).map(|d| d.as_secs_f64())
    }

    /// The wall instant of the next stall start after `now`, if any: a
    /// consumer waiting for a message gives up then.
    pub fn next_start(&self, clock: &Clock, now: Instant) -> Option<Instant> {
        let t = Duration::try_from_secs_f64(clock.model_secs(now)).ok()?;
        self.stalls
            .iter()
            .find(|s| s.at > t)
            .map(|s| clock.after(clock.start_instant(), s.at))
    }

    /// If consumers are stalled at `now`: the wall instant the stall (or run
    /// of overlapping stalls) ends. Marks the start of each stall lasting now.
    pub fn stalled(&self, clock: &Clock, meter: &Meter, now: Instant) -> Option<Instant> {
        let t = Duration::try_from_secs_f64(clock.model_secs(now)).ok()?;
        let until = stalled_until(&self.stalls, t)?;
        self.mark(t, until, meter, true);
        Some(clock.after(clock.start_instant(), until))
    }

    /// The stall begun before `now` has ended: marks the end of each stall
    /// that ends by then and has a start mark.
    pub fn ended(&self, clock: &Clock, meter: &Meter, now: Instant) {
        let t = Duration::try_from_secs_f64(clock.model_secs(now)).unwrap_or(Duration::MAX);
        self.mark(t, t, meter, false);
    }

    fn mark(&self, t: Duration, until: Duration, meter: &Meter, start: bool) {
        let mut marks = self.marks.lock().unwrap_or_else(|e| e.into_inner());
        let mut gauges = None;
        for (stall, marks) in self.stalls.iter().zip(marks.iter_mut()) {
            let due = if start {
                // Every stall of the run that `t` falls in.
                stall.at <= until && stall.end() > t && marks.start.is_none()
            } else {
                stall.end() <= t && marks.start.is_some() && marks.end.is_none()
            };
            if !due {
                continue;
            }
            let g = gauges.get_or_insert_with(|| meter.snapshot());
            if start {
                marks.start = Some((g.full_count, g.blocked_time));
            } else {
                marks.end = Some((g.depth, g.full_count, g.blocked_time));
            }
        }
    }

    /// Each stall's figures, in order.
    pub fn figures(&self, clock: &Clock) -> Vec<StallFigures> {
        let marks = self.marks.lock().unwrap_or_else(|e| e.into_inner());
        self.stalls
            .iter()
            .zip(marks.iter())
            .map(|(stall, m)| {
                let both = m.start.zip(m.end);
                StallFigures {
                    at_s: stall.at.as_secs_f64(),
                    length_s: stall.length.as_secs_f64(),
                    backlog_peak: both.map(|(_, (depth, _, _))| depth),
                    full_count: both.map(|((full, _), (_, end_full, _))| end_full - full),
                    blocked_s: both.map(|((_, blocked), (_, _, end_blocked))| {
                        clock.to_model_secs(end_blocked.saturating_sub(blocked))
                    }),
                }
            })
            .collect()
    }
}
