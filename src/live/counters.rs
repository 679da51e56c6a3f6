//! Live counters the threads publish and anyone may read at any time: the
//! illustrator for the gauge, the metrics server for `/metrics`, `main` for the
//! summary once the threads are joined.
//!
//! Every counter is an atomic updated with `Relaxed` ordering: each is a number
//! on its own, read for display, and the final values are read after `join()`,
//! which orders everything before it. Nothing here locks or allocates after
//! construction, so the producer's hot path stays free of both.

use std::ops::Deref;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::histogram::AtomicHistogram;

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

/// A value on a cache line of its own (128 bytes covers adjacent-line
/// prefetching), so that the producer's writes to one counter and the
/// consumer's to another do not keep stealing the line from each other.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct Padded<T>(pub T);

impl<T> Deref for Padded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// The counters shared by all threads.
#[derive(Debug)]
pub struct Counters {
    /// Times the producer found the buffer full: the original's counter.
    pub full_count: AtomicU64,
    /// Messages put into the buffer so far; written by the producer on every message.
    pub produced: Padded<AtomicU64>,
    /// Messages taken out so far; written by a consumer on every message. The
    /// producer reads it, now and then, to track the high-water mark.
    pub consumed: Padded<AtomicU64>,
    /// Wall time of each blocking `send` after a full `try_send`.
    pub blocked: AtomicHistogram,
    /// Wall nanoseconds the consumers spent waiting for a message, summed.
    pub consumer_idle_ns: Padded<AtomicU64>,
    /// The most messages ever in the buffer.
    pub high_water: AtomicU64,
    /// Wall nanoseconds from the start to the first full `try_send`; `u64::MAX` if none yet.
    pub first_full_ns: AtomicU64,
    producer_state: AtomicU8,
}

impl Default for Counters {
    fn default() -> Counters {
        Counters {
            full_count: AtomicU64::new(0),
            produced: Padded::default(),
            consumed: Padded::default(),
            blocked: AtomicHistogram::new(),
            consumer_idle_ns: Padded::default(),
            high_water: AtomicU64::new(0),
            first_full_ns: AtomicU64::new(u64::MAX),
            producer_state: AtomicU8::new(ProducerState::Sending as u8),
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

    /// When the buffer first filled, as wall time since the start.
    pub fn first_full(&self) -> Option<Duration> {
        match self.first_full_ns.load(Relaxed) {
            u64::MAX => None,
            ns => Some(Duration::from_nanos(ns)),
        }
    }
}

/// Messages in the buffer, from counts read at slightly different moments
/// (events from two threads, or two relaxed counters), so clamped to the
/// buffer's real bounds: the original's counter could go negative.
pub fn depth(produced: u64, consumed: u64, capacity: u64) -> u64 {
    produced.saturating_sub(consumed).min(capacity)
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
        assert_eq!(c.first_full(), None);
    }
}
