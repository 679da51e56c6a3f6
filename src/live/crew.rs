//! The consumer count while the run goes on. `+` and `-` on the gauge ask
//! for one consumer more or fewer ([`Crew::more`], [`Crew::fewer`]); the
//! consumers carry it out between messages ([`Crew::duty`]): one starts a
//! sibling, or one stops, having finished the message it held. So no message
//! is taken by a consumer that then leaves it, and every change is logged
//! when it takes effect, at most [`LOGGED`] of them (the rest only counted).
//!
//! The count in effect is read with the meter, under the same lock that
//! changes it, so a reading's μ divides by the count that earned its busy time.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::time::Duration;

use serde::Serialize;

use crate::live::clock::Clock;
use metered::{Meter, Snapshot};

/// The most consumers a run may have, from `--consumers` or the keys.
pub const MOST: u32 = 1000;

/// Changes logged with their times; later ones are counted, and the last kept.
pub const LOGGED: usize = 32;

/// What a consumer does next, between messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duty {
    /// Take the next message.
    Work,
    /// Start one more consumer (then ask again).
    Hire,
    /// Stop: one consumer fewer is wanted.
    Retire,
}

/// One change of the count in effect: `from` → `to` consumers at `at_s`
/// model seconds from the start.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Change {
    pub at_s: f64,
    pub from: u32,
    pub to: u32,
}

/// The changes of a run, bounded however many keys were pressed.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Changes {
    /// The first [`LOGGED`] changes, in order.
    pub first: Vec<Change>,
    /// Changes after those, counted only.
    pub more: u64,
    /// The latest change, if it is one of those only counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<Change>,
}

impl Changes {
    fn push(&mut self, change: Change) {
        if self.first.len() < LOGGED {
            self.first.push(change);
        } else {
            self.more += 1;
            self.last = Some(change);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_empty()
    }

    /// The count at the end (`started` if it never changed).
    pub fn end(&self, started: u32) -> u32 {
        self.last
            .or(self.first.last().copied())
            .map_or(started, |c| c.to)
    }
}

/// The count in effect and what a reading needs to divide busy time by it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Staff {
    /// Consumers in effect (at least 1).
    pub count: u32,
    /// The pool's busy time (wall) when the count last changed, and the
    /// busy time per consumer up to then: a consumer's share is that plus
    /// what was earned since, shared by the count in effect.
    pub busy_at_change: Duration,
    pub per_consumer_at_change: Duration,
}

impl Staff {
    /// A count that never changed.
    pub fn fixed(count: u32) -> Staff {
        Staff {
            count: count.max(1),
            ..Staff::default()
        }
    }

    /// Busy time per consumer, for a pool busy for `busy` in all: continuous
    /// across changes, so rates over a window spanning one stay right.
    pub fn per_consumer(&self, busy: Duration) -> Duration {
        let since = busy.saturating_sub(self.busy_at_change);
        self.per_consumer_at_change + since / self.count.max(1)
    }
}

#[derive(Debug)]
struct Log {
    staff: Staff,
    changes: Changes,
}

/// The wanted count (keys) and the count in effect (consumers).
#[derive(Debug)]
pub struct Crew {
    /// What the keys asked for, within 1..=[`MOST`].
    wanted: AtomicU32,
    /// The count in effect, also in `log`: read without the lock on every
    /// message to see whether there is anything to do.
    running: AtomicU32,
    /// Whether `+` or `-` was ever pressed: then the gauge shows the count.
    pressed: AtomicBool,
    log: Mutex<Log>,
}

impl Crew {
    pub fn new(count: u32) -> Crew {
        let count = count.clamp(1, MOST);
        Crew {
            wanted: AtomicU32::new(count),
            running: AtomicU32::new(count),
            pressed: AtomicBool::new(false),
            log: Mutex::new(Log {
                staff: Staff::fixed(count),
                changes: Changes::default(),
            }),
        }
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        // A poisoned lock only means a consumer panicked while changing the
        // count; the log is whole after each statement.
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `+`: one more consumer, up to [`MOST`]; the count wanted after it.
    pub fn more(&self) -> u32 {
        self.ask(|n| (n < MOST).then_some(n + 1))
    }

    /// `-`: one fewer, never below 1; the count wanted after it.
    pub fn fewer(&self) -> u32 {
        self.ask(|n| (n > 1).then(|| n - 1))
    }

    fn ask(&self, f: impl Fn(u32) -> Option<u32>) -> u32 {
        self.pressed.store(true, Relaxed);
        match self.wanted.fetch_update(Relaxed, Relaxed, &f) {
            Ok(before) => f(before).unwrap_or(before),
            Err(unchanged) => unchanged,
        }
    }

    /// Whether `+` or `-` was ever pressed.
    pub fn pressed(&self) -> bool {
        self.pressed.load(Relaxed)
    }

    /// The count the keys asked for.
    pub fn wanted(&self) -> u32 {
        self.wanted.load(Relaxed)
    }

    /// What a consumer between messages does next. A change is made (and
    /// logged) here, where it takes effect: `Hire` counts the consumer about
    /// to start, `Retire` the one stopping.
    pub fn duty(&self, meter: &Meter, clock: &Clock) -> Duty {
        // The common case, without the lock: nothing asked.
        if self.wanted.load(Relaxed) == self.running.load(Relaxed) {
            return Duty::Work;
        }
        let mut log = self.log();
        let running = log.staff.count;
        let wanted = self.wanted.load(Relaxed);
        let (to, duty) = match wanted.cmp(&running) {
            std::cmp::Ordering::Equal => return Duty::Work,
            std::cmp::Ordering::Greater => (running + 1, Duty::Hire),
            std::cmp::Ordering::Less => (running - 1, Duty::Retire),
        };
        self.change(&mut log, to, &meter.snapshot(), clock);
        duty
    }

    /// A hire could not start its thread: the count goes back, and the
    /// keys' wish with it (else every message would try again).
    pub fn hire_failed(&self, meter: &Meter, clock: &Clock) {
        let mut log = self.log();
        let to = log.staff.count.saturating_sub(1).max(1);
        self.wanted.store(to, Relaxed);
        self.change(&mut log, to, &meter.snapshot(), clock);
    }

    fn change(&self, log: &mut Log, to: u32, meter: &Snapshot, clock: &Clock) {
        let from = log.staff.count;
        log.staff = Staff {
            count: to,
            busy_at_change: meter.busy_time,
            per_consumer_at_change: log.staff.per_consumer(meter.busy_time),
        };
        self.running.store(to, Relaxed);
        log.changes.push(Change {
            at_s: clock.to_model_secs(meter.elapsed),
            from,
            to,
        });
    }

    /// The count in effect with the meter's snapshot taken under the same
    /// lock: no change falls between them.
    pub fn read(&self, meter: &Meter) -> (Staff, Snapshot) {
        let log = self.log();
        (log.staff, meter.snapshot())
    }

    /// The changes so far.
    pub fn changes(&self) -> Changes {
        self.log().changes.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn setup() -> (metered::SyncSender<u64>, metered::Receiver<u64>, Clock) {
        let (tx, rx) = metered::sync_channel(4);
        let clock = Clock::starting_at(Instant::now(), 1.0);
        (tx, rx, clock)
    }

    #[test]
    fn the_keys_stay_within_one_and_the_most() {
        let crew = Crew::new(1);
        assert_eq!(crew.fewer(), 1, "never below one");
        assert_eq!(crew.more(), 2);
        assert_eq!(crew.fewer(), 1);
        for _ in 0..MOST + 5 {
            crew.more();
        }
        assert_eq!(crew.wanted(), MOST);
        assert_eq!(Crew::new(0).wanted(), 1);
    }

    #[test]
    fn consumers_carry_out_the_keys_between_messages() {
        let (tx, _rx, clock) = setup();
        let meter = tx.meter();
        let crew = Crew::new(1);
        assert_eq!(crew.duty(&meter, &clock), Duty::Work);
        crew.more();
        crew.more();
        assert_eq!(crew.duty(&meter, &clock), Duty::Hire);
        assert_eq!(crew.duty(&meter, &clock), Duty::Hire);
        assert_eq!(crew.duty(&meter, &clock), Duty::Work);
        // A `+` then a `-` before anyone looked: nothing to do.
        crew.more();
        crew.fewer();
        assert_eq!(crew.duty(&meter, &clock), Duty::Work);
        crew.fewer();
        assert_eq!(crew.duty(&meter, &clock), Duty::Retire);
        assert_eq!(crew.duty(&meter, &clock), Duty::Work);
        let changes = crew.changes();
        let counts: Vec<_> = changes.first.iter().map(|c| (c.from, c.to)).collect();
        assert_eq!(counts, [(1, 2), (2, 3), (3, 2)]);
        assert_eq!(changes.end(1), 2);
        assert!(changes.first.windows(2).all(|w| w[0].at_s <= w[1].at_s));
    }

    #[test]
    fn a_failed_hire_takes_the_count_back() {
        let (tx, _rx, clock) = setup();
        let meter = tx.meter();
        let crew = Crew::new(1);
        crew.more();
        assert_eq!(crew.duty(&meter, &clock), Duty::Hire);
        crew.hire_failed(&meter, &clock);
        assert_eq!(crew.wanted(), 1);
        assert_eq!(crew.duty(&meter, &clock), Duty::Work);
        assert_eq!(crew.changes().end(1), 1);
    }

    #[test]
    fn the_log_stays_bounded_however_many_presses() {
        let (tx, _rx, clock) = setup();
        let meter = tx.meter();
        let crew = Crew::new(1);
        for _ in 0..10_000 {
            crew.more();
            crew.duty(&meter, &clock);
            crew.fewer();
            crew.duty(&meter, &clock);
        }
        let changes = crew.changes();
        assert_eq!(changes.first.len(), LOGGED);
        assert_eq!(changes.more, 20_000 - LOGGED as u64);
        assert_eq!(changes.last.map(|c| (c.from, c.to)), Some((2, 1)));
        assert_eq!(changes.end(1), 1);
    }

    #[test]
    fn busy_time_per_consumer_is_continuous_across_changes() {
        let s = |n| Duration::from_secs(n);
        // One consumer busy 10 s, then two: 6 s more between them is 3 s each.
        let one = Staff::fixed(1);
        assert_eq!(one.per_consumer(s(10)), s(10));
        let two = Staff {
            count: 2,
            busy_at_change: s(10),
            per_consumer_at_change: one.per_consumer(s(10)),
        };
        assert_eq!(two.per_consumer(s(10)), s(10), "no jump at the change");
        assert_eq!(two.per_consumer(s(16)), s(13));
    }
}
