//! Log-linear histograms of durations, in the manner of HdrHistogram: 32
//! sub-buckets per power of two of nanoseconds, so any value is known within
//! 1/32 (about 3%), in a fixed 15 KiB whatever is recorded. The channel
//! records into an `AtomicHistogram` (a few relaxed atomic adds: no lock, no
//! allocation); a snapshot copies it into a plain [`Histogram`].

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Bits of each value kept exactly: 32 sub-buckets per power of two.
const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
/// Enough buckets for every `u64` of nanoseconds.
const BUCKETS: usize = ((64 - SUB_BITS + 1) as usize) * SUB as usize;

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

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A total of nanoseconds as a `Duration` (which holds 2^64 seconds: any
/// sum of `u64` nanoseconds a channel can record).
fn from_total_ns(ns: u128) -> Duration {
    let secs = u64::try_from(ns / 1_000_000_000).unwrap_or(u64::MAX);
    Duration::new(secs, (ns % 1_000_000_000) as u32)
}

/// The shared twin of [`Histogram`]: recording is three relaxed atomic adds and a max.
#[derive(Debug)]
pub(crate) struct AtomicHistogram {
    buckets: Box<[AtomicU64]>,
    /// The sum, modulo 2^64 ns (584 years), and how many times an add
    /// wrapped it: together an exact `u128` total that nothing overflows.
    /// (Each `fetch_add` sees the value just before it, so it knows whether
    /// it wrapped, whatever other threads do.)
    sum_ns: AtomicU64,
    sum_wraps: AtomicU64,
    max_ns: AtomicU64,
}

impl AtomicHistogram {
    pub(crate) fn new() -> AtomicHistogram {
        AtomicHistogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            sum_ns: AtomicU64::new(0),
            sum_wraps: AtomicU64::new(0),
            max_ns: AtomicU64::new(0),
        }
    }

    pub(crate) fn record(&self, value: Duration) {
        let ns = nanos(value);
        self.buckets[bucket_of(ns)].fetch_add(1, Relaxed);
        if self.sum_ns.fetch_add(ns, Relaxed).checked_add(ns).is_none() {
            self.sum_wraps.fetch_add(1, Relaxed);
        }
        self.max_ns.fetch_max(ns, Relaxed);
    }

    /// A plain copy. The buckets are read first, so the count (their sum)
    /// never includes a value the sum and maximum miss; those may include
    /// one the buckets do not yet.
    pub(crate) fn snapshot(&self) -> Histogram {
        let buckets: Box<[u64]> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let sum_ns = (u128::from(self.sum_wraps.load(Relaxed)) << 64)
            | u128::from(self.sum_ns.load(Relaxed));
        let max_ns = self.max_ns.load(Relaxed);
        Histogram {
            count: buckets.iter().sum(),
            buckets,
            sum_ns,
            max_ns,
        }
    }
}

/// Recorded durations: how many, their total, the largest, and quantiles
/// within 1/32 (about 3%). Fixed memory (15 KiB) whatever is recorded.
#[derive(Clone, PartialEq, Eq)]
pub struct Histogram {
    buckets: Box<[u64]>,
    count: u64,
    /// In `u128`: a sum of waits may pass 2^64 ns.
    sum_ns: u128,
    max_ns: u64,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            buckets: vec![0; BUCKETS].into_boxed_slice(),
            count: 0,
            sum_ns: 0,
            max_ns: 0,
        }
    }
}

/// The figures, not the 1 920 buckets.
impl fmt::Debug for Histogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.count)
            .field("total", &self.total())
            .field("p50", &self.quantile(0.5))
            .field("p99", &self.quantile(0.99))
            .field("max", &self.max())
            .finish()
    }
}

impl Histogram {
    /// Adds one value (durations past `u64::MAX` nanoseconds, 584 years, count as that).
    pub fn record(&mut self, value: Duration) {
        let ns = nanos(value);
        self.buckets[bucket_of(ns)] += 1;
        self.count += 1;
        self.sum_ns += u128::from(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Their sum, exact (it does not saturate at 2^64 ns).
    pub fn total(&self) -> Duration {
        from_total_ns(self.sum_ns)
    }

    /// The largest, exactly; zero if none.
    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.max_ns)
    }

    /// The value below which a fraction `q` (clamped to 0..=1) of the
    /// recorded values lie, within 1/32: the middle of the bucket where that
    /// rank falls, never past the largest value. `None` if nothing was recorded.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &count) in self.buckets.iter().enumerate() {
            seen += count;
            if seen >= rank {
                let (low, high) = (bucket_low(i), bucket_high(i));
                let middle = Duration::from_nanos(low + (high - low) / 2);
                return Some(middle.min(self.max()));
            }
        }
        Some(self.max())
    }

    /// How many values are at most `bound`, counting whole buckets (so a
    /// value up to 1/32 above `bound` may be counted): for cumulative
    /// buckets such as Prometheus'.
    pub fn count_at_most(&self, bound: Duration) -> u64 {
        let last = bucket_of(nanos(bound));
        self.buckets[..=last].iter().sum()
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
        let h = AtomicHistogram::new();
        assert_eq!(h.snapshot().quantile(0.5), None);
        // 1 ms, 2 ms, … 100 ms.
        for ms in 1..=100 {
            h.record(Duration::from_millis(ms));
        }
        let h = h.snapshot();
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
        let mut h = Histogram::default();
        h.record(Duration::from_micros(300));
        assert_eq!(h.quantile(0.01), h.quantile(0.99));
        assert!(h.quantile(0.5).unwrap() <= Duration::from_micros(300));
    }

    #[test]
    fn the_plain_histogram_agrees_with_the_atomic_one() {
        let (atomic, mut plain) = (AtomicHistogram::new(), Histogram::default());
        for ms in [1, 5, 5, 7, 300, 301, 2000] {
            atomic.record(Duration::from_millis(ms));
            plain.record(Duration::from_millis(ms));
        }
        assert_eq!(atomic.snapshot(), plain);
    }

    #[test]
    fn totals_pass_two_to_the_64_nanoseconds_without_saturating() {
        // Three waits of 2^63 ns (292 years each): 2^64 + 2^63 ns in all.
        let (atomic, mut plain) = (AtomicHistogram::new(), Histogram::default());
        let wait = Duration::from_nanos(1 << 63);
        for _ in 0..3 {
            atomic.record(wait);
            plain.record(wait);
        }
        let total = 3 * (1u128 << 63);
        let expected = Duration::new(
            (total / 1_000_000_000) as u64,
            (total % 1_000_000_000) as u32,
        );
        assert_eq!(plain.total(), expected);
        assert_eq!(atomic.snapshot(), plain);
    }
}
