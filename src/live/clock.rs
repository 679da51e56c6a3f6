//! Model time versus wall time. With `--speed X` every sleep is divided by X and
//! every time shown is multiplied back, so the picture reads in model time.

use std::time::{Duration, Instant};

/// How far ahead a deadline may be put when the arithmetic would overflow:
/// far enough to mean "never" for a run someone is watching.
const FAR_FUTURE: Duration = Duration::from_secs(100 * 366 * 24 * 3600);

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
    speed: f64,
}

impl Clock {
    /// A clock whose model time starts now and runs `speed` times faster than wall time.
    #[cfg(test)]
    pub fn start(speed: f64) -> Clock {
        Clock::starting_at(Instant::now(), speed)
    }

    pub fn starting_at(start: Instant, speed: f64) -> Clock {
        debug_assert!(speed > 0.0 && speed.is_finite());
        Clock { start, speed }
    }

    pub fn start_instant(&self) -> Instant {
        self.start
    }

    /// The wall time a span of model time takes; saturates at a century.
    pub fn to_wall(self, model: Duration) -> Duration {
        Duration::try_from_secs_f64(model.as_secs_f64() / self.speed)
            .unwrap_or(FAR_FUTURE)
            .min(FAR_FUTURE)
    }

    /// The wall-clock instant `model` (model time) after `base`; saturates instead
    /// of overflowing for absurd speeds and durations.
    pub fn after(&self, base: Instant, model: Duration) -> Instant {
        let wall = self.to_wall(model);
        base.checked_add(wall)
            .or_else(|| base.checked_add(Duration::from_secs(3600)))
            .unwrap_or(base)
    }

    /// Model seconds from `from` to `to` (zero if `to` is earlier).
    pub fn model_secs_between(&self, from: Instant, to: Instant) -> f64 {
        to.saturating_duration_since(from).as_secs_f64() * self.speed
    }

    /// Model seconds in a span of wall time.
    pub fn to_model_secs(self, wall: Duration) -> f64 {
        wall.as_secs_f64() * self.speed
    }

    /// Model seconds since the start.
    pub fn model_secs(&self, at: Instant) -> f64 {
        self.model_secs_between(self.start, at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_time_runs_speed_times_faster() {
        let start = Instant::now();
        let clock = Clock::starting_at(start, 100.0);
        assert_eq!(
            clock.after(start, Duration::from_secs(1)),
            start + Duration::from_millis(10)
        );
        let secs = clock.model_secs(start + Duration::from_millis(30));
        assert!((secs - 3.0).abs() < 1e-9, "{secs}");
        assert_eq!(clock.model_secs(start - Duration::from_millis(1)), 0.0);
    }

    #[test]
    fn absurd_speeds_saturate_instead_of_panicking() {
        let start = Instant::now();
        let slow = Clock::starting_at(start, 1e-300);
        assert!(slow.after(start, Duration::from_secs(1)) > start + Duration::from_secs(3600));
        let fast = Clock::starting_at(start, 1e300);
        assert_eq!(fast.after(start, Duration::from_secs(1)), start);
        assert!(fast.model_secs(start + Duration::from_secs(1)).is_finite());
    }
}
