//! What the demo's threads publish besides the buffer's own meter
//! ([`crate::live::buffer::Meter`]): the producer's state for the gauge, and how
//! far any thread fell behind its ideal schedule.
//!
//! Each is an atomic updated with `Relaxed` ordering: a number on its own, read
//! for display, and read for the summary after `join()`, which orders
//! everything before it.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

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
    /// The most wall nanoseconds any thread was behind its ideal schedule
    /// when it woke to act: oversleep, or time the machine did not give it.
    schedule_lag_ns: AtomicU64,
}

impl Default for Counters {
    fn default() -> Counters {
        Counters {
            producer_state: AtomicU8::new(ProducerState::Sending as u8),
            schedule_lag_ns: AtomicU64::new(0),
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

    /// The most wall time any thread has been behind its schedule.
    pub fn schedule_lag(&self) -> Duration {
        Duration::from_nanos(self.schedule_lag_ns.load(Relaxed))
    }
}

/// One thread's worst lateness, published only when it grows (rarely), so
/// watching costs a clock read per scheduled wake and nothing else.
#[derive(Debug, Default)]
pub struct Lateness {
    worst_ns: u64,
}

impl Lateness {
    /// The thread meant to act at `due` and acts at `now`.
    pub fn observe(&mut self, due: Instant, now: Instant, counters: &Counters) {
        let late = now.saturating_duration_since(due).as_nanos();
        let late = u64::try_from(late).unwrap_or(u64::MAX);
        if late > self.worst_ns {
            self.worst_ns = late;
            counters.schedule_lag_ns.fetch_max(late, Relaxed);
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
    fn the_worst_lateness_of_any_thread_is_kept() {
        let c = Counters::default();
        let due = Instant::now();
        let (mut a, mut b) = (Lateness::default(), Lateness::default());
        a.observe(due, due + Duration::from_millis(3), &c);
        b.observe(due, due + Duration::from_millis(7), &c);
        a.observe(due, due + Duration::from_millis(5), &c);
        // Early is not late.
        b.observe(due + Duration::from_secs(1), due, &c);
        assert_eq!(c.schedule_lag(), Duration::from_millis(7));
    }
}
