//! Live counters the threads publish and anyone may read at any time: the
//! illustrator for the gauge, the metrics server for `/metrics`, `main` for the
//! summary once the threads are joined.
//!
//! Every counter is an atomic updated with `Relaxed` ordering: each is a number
//! on its own, read for display, and the final values are read after `join()`,
//! which orders everything before it. Nothing here locks or allocates after
//! construction, so the producer's hot path stays free of both.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

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

/// The counters shared by all threads.
#[derive(Debug)]
pub struct Counters {
    /// Times the producer found the buffer full: the seed's counter.
    pub full_count: AtomicU64,
    /// Messages put into the buffer so far.
    pub produced: AtomicU64,
    /// Messages taken out so far. The producer reads it to track the high-water mark.
    pub consumed: AtomicU64,
    /// Wall time of each blocking `send` after a full `try_send`.
    pub blocked: Histogram,
    /// Wall nanoseconds the consumer spent waiting on an empty buffer.
    pub consumer_idle_ns: AtomicU64,
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
            produced: AtomicU64::new(0),
            consumed: AtomicU64::new(0),
            blocked: Histogram::new(),
            consumer_idle_ns: AtomicU64::new(0),
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

/// Bits of each value kept exactly: 32 sub-buckets per power of two, so any
/// value is known within 1/32 (about 3%).
const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
/// Enough buckets for every `u64`.
const BUCKETS: usize = ((64 - SUB_BITS + 1) as usize) * SUB as usize;

/// A fixed-memory, lock-free log-linear histogram of nanoseconds, in the manner
/// of HdrHistogram: recording is three relaxed atomic adds and a max.
#[derive(Debug)]
pub struct Histogram {
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    sum_ns: AtomicU64,
    max_ns: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram::new()
    }
}

fn bucket_of(ns: u64) -> usize {
    if ns < SUB {
        return ns as usize;
    }
    let exponent = 63 - ns.leading_zeros(); // ≥ SUB_BITS here
    let shift = exponent - SUB_BITS;
    ((shift as u64 + 1) * SUB + ((ns >> shift) - SUB)) as usize
}

/// The smallest value in bucket `i`.
fn bucket_low(i: usize) -> u64 {
    let (block, sub) = ((i as u64) / SUB, (i as u64) % SUB);
    if block == 0 {
        sub
    } else {
        (SUB + sub) << (block - 1)
    }
}

/// The largest value in bucket `i`.
fn bucket_high(i: usize) -> u64 {
    if i + 1 >= BUCKETS {
        u64::MAX
    } else {
        bucket_low(i + 1) - 1
    }
}

impl Histogram {
    pub fn new() -> Histogram {
        Histogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
            max_ns: AtomicU64::new(0),
        }
    }

    pub fn record(&self, value: Duration) {
        let ns = u64::try_from(value.as_nanos()).unwrap_or(u64::MAX);
        self.buckets[bucket_of(ns)].fetch_add(1, Relaxed);
        self.count.fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(ns, Relaxed);
        self.max_ns.fetch_max(ns, Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Relaxed)
    }

    pub fn total(&self) -> Duration {
        Duration::from_nanos(self.sum_ns.load(Relaxed))
    }

    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.max_ns.load(Relaxed))
    }

    /// The value below which a fraction `q` (0 to 1) of the recorded values lie,
    /// within the bucket precision; `None` if nothing was recorded.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let count: u64 = self.buckets.iter().map(|b| b.load(Relaxed)).sum();
        if count == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, bucket) in self.buckets.iter().enumerate() {
            seen += bucket.load(Relaxed);
            if seen >= rank {
                // The middle of the bucket, but never past the largest value seen.
                let (low, high) = (bucket_low(i), bucket_high(i));
                let middle = low + (high - low) / 2;
                return Some(Duration::from_nanos(middle.min(self.max_ns.load(Relaxed))));
            }
        }
        Some(self.max())
    }

    /// How many recorded values are at most `bound`, counting whole buckets
    /// (so within the bucket precision): for Prometheus' cumulative buckets.
    pub fn count_at_most(&self, bound: Duration) -> u64 {
        let ns = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
        let last = bucket_of(ns);
        self.buckets[..=last].iter().map(|b| b.load(Relaxed)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order_without_gaps() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(31), 31);
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
        for i in 0..BUCKETS - 1 {
            assert_eq!(bucket_high(i) + 1, bucket_low(i + 1), "bucket {i}");
            assert_eq!(bucket_of(bucket_low(i)), i);
            assert_eq!(bucket_of(bucket_high(i)), i);
        }
    }

    #[test]
    fn buckets_are_within_one_thirty_second() {
        for i in SUB as usize..BUCKETS - 1 {
            let (low, high) = (bucket_low(i) as f64, bucket_high(i) as f64);
            assert!((high - low) / low < 1.0 / 32.0 + 1e-12, "bucket {i}");
        }
    }

    #[test]
    fn quantiles_of_a_known_distribution() {
        let h = Histogram::new();
        assert_eq!(h.quantile(0.5), None);
        // 1 ms, 2 ms, … 100 ms.
        for ms in 1..=100 {
            h.record(Duration::from_millis(ms));
        }
        let close = |q: f64, ms: f64| {
            let got = h.quantile(q).unwrap().as_secs_f64() * 1000.0;
            assert!((got - ms).abs() <= ms / 32.0, "q{q}: {got} ms, not {ms} ms");
        };
        close(0.5, 50.0);
        close(0.9, 90.0);
        close(0.99, 99.0);
        close(1.0, 100.0);
        assert_eq!(h.count(), 100);
        assert_eq!(h.max(), Duration::from_millis(100));
        assert_eq!(h.total(), Duration::from_millis(5050));
        assert_eq!(h.count_at_most(Duration::from_millis(10)), 10);
    }

    #[test]
    fn a_single_value_is_its_own_quantiles() {
        let h = Histogram::new();
        h.record(Duration::from_micros(300));
        assert_eq!(h.quantile(0.01), h.quantile(0.99));
        assert!(h.quantile(0.5).unwrap() <= Duration::from_micros(300));
    }

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
