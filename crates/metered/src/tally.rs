//! Time any number of threads spent in one state (blocked in `send`, waiting
//! in `recv`, working on a message), readable at any moment in one load,
//! intervals still open included.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::time::{Duration, Instant};

/// Time spent in one state, counting intervals still in progress. Entering
/// the state adds `-start`, leaving adds `end`, so the sum is the closed
/// intervals' total minus the open ones' starts; the low bits count the open
/// intervals, and a reading at `now` adds `now` once for each. One word, so a
/// reader never sees an interval's end without its start. Microseconds from
/// an origin: about two years of range in the upper 48 bits, and at most
/// 65 535 intervals open at once.
#[derive(Debug)]
pub(crate) struct Tally {
    origin: Instant,
    word: AtomicU64,
}

const OPEN_BITS: u32 = 16;

impl Tally {
    pub(crate) fn new(origin: Instant) -> Tally {
        Tally {
            origin,
            word: AtomicU64::new(0),
        }
    }

    /// Microseconds from the origin to `at`, in the 46 bits the word keeps.
    pub(crate) fn micros(&self, at: Instant) -> u64 {
        let us = at.saturating_duration_since(self.origin).as_micros();
        u64::try_from(us).unwrap_or(u64::MAX) & ((1 << 46) - 1)
    }

    /// A thread enters the state at `at`. (Release, with the reader's
    /// Acquire: a reading that sees the entry reads its clock afterwards, so
    /// never before the entry's time.)
    pub(crate) fn enter(&self, at: Instant) {
        let delta = (self.micros(at) << OPEN_BITS)
            .wrapping_neg()
            .wrapping_add(1);
        self.word.fetch_add(delta, Release);
    }

    /// A thread leaves the state at `at` (after entering it).
    pub(crate) fn leave(&self, at: Instant) {
        let delta = (self.micros(at) << OPEN_BITS).wrapping_sub(1);
        self.word.fetch_add(delta, Release);
    }

    /// The word, to be completed by [`Part::until`] with a time read after it.
    pub(crate) fn load(&self) -> Part {
        let word = self.word.load(Acquire);
        let open = word & ((1 << OPEN_BITS) - 1);
        // The open count's carry into the high bits is already in `word`:
        // take it back out before the arithmetic shift.
        let closed = (word.wrapping_sub(open) as i64) >> OPEN_BITS;
        Part {
            closed_us: i128::from(closed),
            open,
        }
    }

    /// The time spent in the state up to `now`, open intervals included, and
    /// how many are open.
    #[cfg(test)]
    pub(crate) fn total_at(&self, now: Instant) -> (Duration, u64) {
        let part = self.load();
        (part.until(self.micros(now)), part.open)
    }
}

/// Tallies read but not yet completed: closed time less the open intervals'
/// starts, and how many are open. Parts add up, so many tallies are read
/// first and completed with one clock reading.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Part {
    closed_us: i128,
    pub(crate) open: u64,
}

impl std::ops::AddAssign for Part {
    fn add_assign(&mut self, other: Part) {
        self.closed_us += other.closed_us;
        self.open += other.open;
    }
}

impl Part {
    /// The total up to `now_us` (microseconds from the origin).
    pub(crate) fn until(self, now_us: u64) -> Duration {
        let us = self.closed_us + i128::from(self.open) * i128::from(now_us);
        Duration::from_micros(u64::try_from(us.max(0)).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_counts_open_intervals_up_to_the_reading() {
        let origin = Instant::now();
        let at = |ms: u64| origin + Duration::from_millis(ms);
        let t = Tally::new(origin);
        assert_eq!(t.total_at(at(5)), (Duration::ZERO, 0));
        t.enter(at(10));
        assert_eq!(t.total_at(at(15)), (Duration::from_millis(5), 1));
        t.enter(at(12));
        assert_eq!(t.total_at(at(20)), (Duration::from_millis(18), 2));
        t.leave(at(30));
        assert_eq!(t.total_at(at(30)), (Duration::from_millis(38), 1));
        t.leave(at(31));
        assert_eq!(t.total_at(at(100)), (Duration::from_millis(39), 0));
        // A long open interval read twice a frame apart: a frame apart.
        t.enter(at(1000));
        let (a, _) = t.total_at(at(5000));
        let (b, _) = t.total_at(at(5033));
        assert_eq!(b - a, Duration::from_millis(33));
    }

    #[test]
    fn a_tally_keeps_its_range_far_from_the_origin() {
        let origin = Instant::now();
        let t = Tally::new(origin);
        let day = Duration::from_secs(86_400);
        for i in 0..1000 {
            let start = origin + day * i / 4;
            t.enter(start);
            t.leave(start + Duration::from_secs(1));
        }
        t.enter(origin + day * 300);
        let (total, open) = t.total_at(origin + day * 301);
        assert_eq!(open, 1);
        assert_eq!(total, day + Duration::from_secs(1000));
    }

    #[test]
    fn parts_add_up_before_one_clock_reading() {
        let origin = Instant::now();
        let at = |ms: u64| origin + Duration::from_millis(ms);
        let (a, b) = (Tally::new(origin), Tally::new(origin));
        a.enter(at(10));
        a.leave(at(20));
        b.enter(at(40));
        let mut sum = a.load();
        sum += b.load();
        assert_eq!(sum.open, 1);
        assert_eq!(sum.until(a.micros(at(50))), Duration::from_millis(20));
    }
}
