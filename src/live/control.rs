//! What the threads share: the run's state — running, stopping (the producer
//! stops, the consumer drains) or aborted (everyone stops now) — with sleeps that
//! end early when it moves on, so q is answered at once even in a long burst
//! pause; the live counters; and the clock.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use metered::Meter;

use crate::live::clock::Clock;
use crate::live::counters::Counters;
use crate::live::crew::Crew;
use crate::live::stall::StallLog;
use crate::model::{Tolerance, WhenFull};

/// Everything the threads share, borrowed by each for the whole run.
#[derive(Debug)]
pub struct Shared {
    pub control: Control,
    pub counters: Counters,
    /// The buffer's own counters.
    pub meter: Meter,
    pub clock: Clock,
    /// Consumer threads, changed live by `+` and `-`: their busy times are
    /// summed, so rates divide by the count in effect.
    pub crew: Crew,
    /// Model time a thread may fall behind its schedule before the run is
    /// called unfaithful (see [`crate::model::Model::lag_tolerance`]).
    pub tolerance: Tolerance,
    /// Consumer outages (`--stall`) and what they cost; empty by default.
    pub stalls: StallLog,
    /// What a send that finds the buffer full does (the channel does it;
    /// the consumers check the order of what they take by it); `Block` by default.
    pub when_full: WhenFull,
}

impl Shared {
    pub fn new(clock: Clock, meter: Meter, consumers: u32, tolerance: Tolerance) -> Shared {
        Shared {
            control: Control::new(),
            counters: Counters::default(),
            meter,
            clock,
            crew: Crew::new(consumers),
            tolerance,
            stalls: StallLog::default(),
            when_full: WhenFull::Block,
        }
    }

    /// The same, with another policy for a full buffer.
    pub fn with_policy(mut self, when_full: WhenFull) -> Shared {
        self.when_full = when_full;
        self
    }

    /// The same, with consumer outages.
    pub fn with_stalls(mut self, stalls: StallLog) -> Shared {
        self.stalls = stalls;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum State {
    Running = 0,
    /// The producer is asked to stop; the consumer drains what is buffered.
    Stopping = 1,
    /// Everyone stops now; what is left in the buffer stays unconsumed.
    Aborted = 2,
}

#[derive(Debug, Default)]
pub struct Control {
    /// The current [`State`]; an atomic so the producer's hot path reads it without a lock.
    state: AtomicU8,
    /// Held only to sleep on `wake` and to change `state` without a lost wake-up.
    lock: Mutex<()>,
    wake: Condvar,
}

impl Control {
    pub fn new() -> Control {
        Control::default()
    }

    pub fn state(&self) -> State {
        match self.state.load(Ordering::Acquire) {
            0 => State::Running,
            1 => State::Stopping,
            _ => State::Aborted,
        }
    }

    /// Asks the producer to stop; the consumer goes on until the buffer is empty.
    pub fn stop(&self) {
        self.advance(State::Stopping);
    }

    /// Stops everything now.
    pub fn abort(&self) {
        self.advance(State::Aborted);
    }

    /// The state only moves forward, so a late `stop` never undoes an `abort`.
    fn advance(&self, to: State) {
        // A poisoned lock only means another thread panicked while sleeping;
        // the unit it guards cannot be left inconsistent.
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.state.fetch_max(to as u8, Ordering::AcqRel);
        self.wake.notify_all();
    }

    /// Sleeps until `deadline`, or until the state reaches `wake_at`.
    /// Returns `true` if the whole sleep happened.
    pub fn sleep_until(&self, deadline: Instant, wake_at: State) -> bool {
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if self.state() >= wake_at {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            guard = match self.wake.wait_timeout(guard, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_state_only_moves_forward() {
        let control = Control::new();
        assert_eq!(control.state(), State::Running);
        control.stop();
        assert_eq!(control.state(), State::Stopping);
        control.abort();
        control.stop();
        assert_eq!(control.state(), State::Aborted);
    }

    #[test]
    fn a_sleep_runs_out_when_nothing_happens() {
        let control = Control::new();
        let deadline = Instant::now() + Duration::from_millis(5);
        assert!(control.sleep_until(deadline, State::Stopping));
        assert!(Instant::now() >= deadline);
    }

    #[test]
    fn a_long_sleep_ends_as_soon_as_the_state_reaches_its_level() {
        let control = Control::new();
        let start = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| {
                control.stop();
            });
            // The consumer's sleep ignores a stop request...
            assert!(!control.sleep_until(start + Duration::from_secs(600), State::Stopping));
        });
        assert!(control.sleep_until(Instant::now() + Duration::from_millis(1), State::Aborted));
        std::thread::scope(|s| {
            s.spawn(|| control.abort());
            // ...but not an abort.
            assert!(!control.sleep_until(start + Duration::from_secs(600), State::Aborted));
        });
        // Wide margin: the point is "not ten minutes", not a precise latency.
        assert!(start.elapsed() < Duration::from_secs(60));
    }
}
