//! What the demo's threads publish besides the buffer's own meter
//! ([`metered::Meter`]): the producer's state for the gauge, and how far the
//! threads fell behind their ideal schedules.
//!
//! Each is an atomic updated with `Relaxed` ordering: a number on its own, read
//! for display, and read for the summary after `join()`, which orders
//! everything before it.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// A value on a cache line of its own (128 bytes covers adjacent-line
/// prefetching), so that one thread's writes to it do not keep stealing the
/// line another thread's counters sit on.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// What the producer is doing, for the gauge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ProducerState {
    /// Sending at its regular pace.
    Sending = 0,
    /// In a burst pause.
    Pausing = 1,
    /// Blocked on a full buffer: the API call is waiting.
    Blocked = 2,
    /// Done producing.
    Stopped = 3,
}

/// The counters shared by the demo's threads.
#[derive(Debug)]
pub struct Counters {
    producer_state: AtomicU8,
    /// How late the producer woke against its ideal schedule.
    pub producer_lag: Lag,
    /// How late the consumers woke against theirs, pooled.
    pub consumer_lag: Lag,
    /// When, on its ideal schedule, a consumer took its latest message: wall
    /// nanoseconds since the start. A blocked producer's next gap starts
    /// there, where the model frees the slot, not when the machine got round
    /// to waking it. Written on every take, read after a block: a line of its own.
    pub(crate) last_take_ns: Padded<AtomicU64>,
    /// When, on its ideal schedule, the producer offered its latest message:
    /// wall nanoseconds since the start, stored before the send. A consumer
    /// that waited for an empty buffer starts on the message there, where the
    /// model hands it over, not when the machine got round to waking it (a
    /// late wake would otherwise shift every later message, unflagged).
    pub(crate) last_offer_ns: Padded<AtomicU64>,
}

impl Default for Counters {
    fn default() -> Counters {
        Counters {
            producer_state: AtomicU8::new(ProducerState::Sending as u8),
            producer_lag: Lag::default(),
            consumer_lag: Lag::default(),
            last_take_ns: Padded(AtomicU64::new(0)),
            last_offer_ns: Padded(AtomicU64::new(0)),
        }
    }
}

impl Counters {
    pub fn set_producer_state(&self, state: ProducerState) {
        self.producer_state.store(state as u8, Relaxed);
    }

    pub fn producer_state(&self) -> ProducerState {
        match self.producer_state.load(Relaxed) {
            0 => ProducerState::Sending,
            1 => ProducerState::Pausing,
            2 => ProducerState::Blocked,
            _ => ProducerState::Stopped,
        }
    }
}

/// How late a kind of thread woke to act against its ideal schedule: each
/// wake's lateness (oversleep, or time the machine did not give the thread)
/// summed and counted, and the worst. A wake is at most once per message, and
/// only where the model has the thread wait, so flat-out runs pay nothing.
#[derive(Debug, Default)]
pub struct Lag {
    sum_ns: AtomicU64,
    wakes: AtomicU64,
    worst_ns: AtomicU64,
}

/// Lateness figures, in wall time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LagFigures {
    /// The mean lateness per wake: how far behind the thread kept running.
    pub mean: Duration,
    pub worst: Duration,
}

impl Lag {
    /// The thread meant to act at `due` and acts at `now`.
    pub fn observe(&self, due: Instant, now: Instant) {
        let late = now.saturating_duration_since(due).as_nanos();
        let late = u64::try_from(late).unwrap_or(u64::MAX);
        self.sum_ns.fetch_add(late, Relaxed);
        self.wakes.fetch_add(1, Relaxed);
        if late > self.worst_ns.load(Relaxed) {
            self.worst_ns.fetch_max(late, Relaxed);
        }
    }

    pub fn figures(&self) -> LagFigures {
        let wakes = self.wakes.load(Relaxed);
        let sum = self.sum_ns.load(Relaxed);
        LagFigures {
            mean: Duration::from_nanos(sum.checked_div(wakes).unwrap_or(0)),
            worst: Duration::from_nanos(self.worst_ns.load(Relaxed)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn producer_state_round_trips() {
        let c = Counters::default();
        for s in [
            ProducerState::Pausing,
            ProducerState::Blocked,
            ProducerState::Stopped,
            ProducerState::Sending,
        ] {
            c.set_producer_state(s);
            assert_eq!(c.producer_state(), s);
        }
    }

    #[test]
    fn lateness_is_averaged_over_wakes_and_the_worst_kept() {
        let lag = Lag::default();
        assert_eq!(lag.figures(), LagFigures::default());
        let due = Instant::now();
        lag.observe(due, due + Duration::from_millis(3));
        lag.observe(due, due + Duration::from_millis(9));
        // Early is not late.
        lag.observe(due + Duration::from_secs(1), due);
        assert_eq!(
            lag.figures(),
            LagFigures {
                mean: Duration::from_millis(4),
                worst: Duration::from_millis(9)
            }
        );
    }
}
