//! The model being watched: the producer's pace with its bursts, and the
//! consumer's service time. Pure and seeded, so a run can be repeated, and
//! shared by the live threads and the simulation, so the two can be compared.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The longest duration any option or file gives (`--duration`, an
/// interval, a stall, a `--service-from` time): a year and a day, long
/// enough for any real use, and small enough that deadlines computed from it
/// can never overflow an `Instant`. Defined once, here, for the command line
/// and the files alike.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// How the producer spaces its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrivalKind {
    /// `--produce-every`, plus `--burst-pause` with probability `--burst-prob` (the original).
    Bursty,
    /// Exponential gaps with mean `--produce-every` (a Poisson stream; no burst pause).
    Exponential,
}

/// How long the consumer spends on a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    /// Always `--consume-every` (the original).
    Fixed,
    /// Exponential with mean `--consume-every`.
    Exponential,
}

/// The timing of producer and consumer, in model time.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Pause after every message the producer sends (the original's 20 ms), or the
    /// mean gap for exponential arrivals.
    pub produce_every: Duration,
    /// Probability that a message is followed by an extra burst pause (the original's 0.1).
    pub burst_prob: f64,
    /// The extra pause (the original's 1 s).
    pub burst_pause: Duration,
    /// Time the consumer spends on each message (the original's 300 ms), or its mean.
    pub consume_every: Duration,
    pub arrivals: ArrivalKind,
    pub service: ServiceKind,
    /// Consumer outages (`--stall`), sorted by start: during each no consumer
    /// starts a new message (one in service finishes).
    pub stalls: Vec<Stall>,
}

/// What a send that finds the buffer full does (`--when-full`): the
/// channel's own [`metered::Policy`], one type from the command line to the
/// buffer, the simulation and the reports (which name it `WhenFull`).
pub use metered::Policy as WhenFull;

/// A consumer outage in model time: from `at` for `length`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stall {
    pub at: Duration,
    pub length: Duration,
}

impl Stall {
    pub fn end(&self) -> Duration {
        self.at.saturating_add(self.length)
    }
}

/// Whether a consumer may start a message at model time `t`: `None` if so,
/// else the end of the stall (or run of overlapping stalls) `t` falls in.
/// `stalls` sorted by start.
pub fn stalled_until(stalls: &[Stall], t: Duration) -> Option<Duration> {
    let mut until = None;
    for stall in stalls {
        let from = until.unwrap_or(t);
        if stall.at > from {
            break;
        }
        if from < stall.end() {
            until = Some(stall.end());
        }
    }
    until
}

impl Model {
    /// The original Go program's timing, which is also burstbuf's default: a
    /// message every 20 ms, a 1 s burst pause with p = 0.1, 300 ms per message.
    pub fn original() -> Model {
        Model {
            produce_every: Duration::from_millis(20),
            burst_prob: 0.1,
            burst_pause: Duration::from_secs(1),
            consume_every: Duration::from_millis(300),
            arrivals: ArrivalKind::Bursty,
            service: ServiceKind::Fixed,
            stalls: Vec::new(),
        }
    }

    /// The same model with arrivals `load` times as fast: every gap divided by
    /// `load` (`--load`); the service is unchanged.
    pub fn at_load(&self, load: f64) -> Model {
        if load == 1.0 {
            return self.clone();
        }
        let scale = |d: Duration| {
            Duration::try_from_secs_f64(d.as_secs_f64() / load).unwrap_or(Duration::MAX)
        };
        Model {
            produce_every: scale(self.produce_every),
            burst_pause: scale(self.burst_pause),
            ..self.clone()
        }
    }

    /// The mean gap between offered messages. Saturates: `--load` checks
    /// that the gaps it stretches stay far below `Duration`'s range, but a
    /// model it does not drive (a trace's run) may still be stretched past it.
    pub fn mean_gap(&self) -> Duration {
        match self.arrivals {
            ArrivalKind::Bursty => self.produce_every.saturating_add(
                Duration::try_from_secs_f64(self.burst_pause.as_secs_f64() * self.burst_prob)
                    .unwrap_or(Duration::MAX),
            ),
            ArrivalKind::Exponential => self.produce_every,
        }
    }

    /// How far behind their ideal schedules the live threads may run, on
    /// average over their wakes, before the run no longer shows this model.
    /// Zero for a side with no pace to keep (flat out), which is not judged.
    pub fn lag_tolerance(&self) -> Tolerance {
        let consume = self.consume_every;
        Tolerance {
            // The producer catches up after a late wake, so only lateness on
            // the model's own time scale moves messages between bursts and
            // service slots.
            producer: if self.mean_gap().is_zero() {
                Duration::ZERO
            } else {
                self.mean_gap().max(consume).mul_f64(TOLERANCE_SHARE)
            },
            // A consumer that wakes late and then finds nothing to do has the
            // lateness counted as busy time: within a tenth of its service
            // time, μ is within about 10%.
            consumer: consume.mul_f64(TOLERANCE_SHARE),
        }
    }

    /// ρ = λ/(c·μ) for `consumers` consumers, from the configuration alone;
    /// `None` where a rate is infinite (a zero interval).
    pub fn utilisation(&self, consumers: u32) -> Option<f64> {
        let gap = self.mean_gap().as_secs_f64();
        let service = self.consume_every.as_secs_f64();
        (gap > 0.0).then(|| service / (gap * f64::from(consumers.max(1))))
    }
}

/// See [`Model::lag_tolerance`].
const TOLERANCE_SHARE: f64 = 0.1;

/// Model time each side may run behind its schedule, on average, in a
/// faithful run; zero where a side is not judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tolerance {
    pub producer: Duration,
    pub consumer: Duration,
}

/// The gaps between the producer's messages, drawn from a seeded generator so
/// that the same seed gives the same burst pattern.
#[derive(Debug, Clone)]
pub struct Arrivals {
    rng: StdRng,
    kind: ArrivalKind,
    every: Duration,
    burst_prob: f64,
    burst_pause: Duration,
}

/// The pause after a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub pause: Duration,
    /// Whether it includes a burst pause.
    pub burst: bool,
}

impl Arrivals {
    pub fn new(model: &Model, seed: u64) -> Arrivals {
        Arrivals {
            rng: StdRng::seed_from_u64(seed),
            kind: model.arrivals,
            every: model.produce_every,
            burst_prob: model.burst_prob,
            burst_pause: model.burst_pause,
        }
    }

    /// The pause after the next message.
    pub fn next_gap(&mut self) -> Gap {
        match self.kind {
            // With no bursts the generator is not consulted: the gaps are all equal
            // anyway, and flat-out runs save the draw.
            ArrivalKind::Bursty
                if self.burst_prob > 0.0 && self.rng.random_bool(self.burst_prob) =>
            {
                Gap {
                    pause: self.every.saturating_add(self.burst_pause),
                    burst: true,
                }
            }
            ArrivalKind::Bursty => Gap {
                pause: self.every,
                burst: false,
            },
            ArrivalKind::Exponential => Gap {
                pause: exponential(self.every, self.rng.random()),
                burst: false,
            },
        }
    }
}

/// Service times by message number. Each is a pure function of the seed and the
/// message's sequence number, so any number of consumer threads (or the
/// simulation) agree on them without sharing a generator.
#[derive(Debug, Clone, Copy)]
pub struct ServiceTimes {
    kind: ServiceKind,
    mean: Duration,
    seed: u64,
}

impl ServiceTimes {
    pub fn new(model: &Model, seed: u64) -> ServiceTimes {
        ServiceTimes {
            kind: model.service,
            mean: model.consume_every,
            // A different stream from the arrivals' for the same seed.
            seed: splitmix64(seed ^ 0x5e41_1ce5_eed5_0f7e),
        }
    }

    pub fn of(&self, seq: u64) -> Duration {
        match self.kind {
            ServiceKind::Fixed => self.mean,
            ServiceKind::Exponential => {
                // 53 random bits → a uniform number in [0, 1).
                let bits = splitmix64(self.seed.wrapping_add(seq)) >> 11;
                exponential(self.mean, bits as f64 / (1u64 << 53) as f64)
            }
        }
    }
}

/// An exponential sample with the given mean, from a uniform `u` in [0, 1).
fn exponential(mean: Duration, u: f64) -> Duration {
    // 1 - u is in (0, 1], so the logarithm is finite.
    let factor = -(1.0 - u).ln();
    Duration::try_from_secs_f64(mean.as_secs_f64() * factor).unwrap_or(Duration::MAX)
}

/// SplitMix64: a fast, well-mixed hash of a counter (Steele, Lea and Flood).
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(burst_prob: f64) -> Model {
        Model {
            burst_prob,
            ..Model::original()
        }
    }

    #[test]
    fn each_side_may_lag_a_tenth_of_its_pace_and_flat_out_is_not_judged() {
        let t = Model::original().lag_tolerance();
        // Mean gap 120 ms, service 300 ms.
        assert_eq!(t.producer, Duration::from_millis(30));
        assert_eq!(t.consumer, Duration::from_millis(30));
        let flat_out = Model {
            produce_every: Duration::ZERO,
            burst_prob: 0.0,
            consume_every: Duration::ZERO,
            ..Model::original()
        };
        assert_eq!(flat_out.lag_tolerance(), Tolerance::default());
    }

    fn gaps(model: &Model, seed: u64, n: usize) -> Vec<Duration> {
        let mut arrivals = Arrivals::new(model, seed);
        (0..n).map(|_| arrivals.next_gap().pause).collect()
    }

    #[test]
    fn a_model_stretched_past_durations_range_saturates_instead_of_panicking() {
        let stretched = Model {
            produce_every: Duration::MAX,
            burst_prob: 1.0,
            burst_pause: Duration::MAX,
            ..Model::original()
        };
        assert_eq!(stretched.mean_gap(), Duration::MAX);
        assert_eq!(gaps(&stretched, 1, 3), [Duration::MAX; 3]);
        assert!(stretched.lag_tolerance().producer > Duration::ZERO);
        let slow = Model::original().at_load(1e-300);
        assert_eq!(slow.mean_gap(), Duration::MAX);
    }

    #[test]
    fn the_same_seed_repeats_the_pattern_and_another_does_not() {
        let m = model(0.1);
        assert_eq!(gaps(&m, 7, 1000), gaps(&m, 7, 1000));
        assert_ne!(gaps(&m, 7, 1000), gaps(&m, 8, 1000));
    }

    #[test]
    fn gaps_are_the_pause_or_the_pause_plus_a_burst_at_about_the_given_rate() {
        let m = model(0.1);
        let all = gaps(&m, 1, 100_000);
        let bursts = all
            .iter()
            .filter(|g| **g == Duration::from_millis(1020))
            .count();
        assert_eq!(
            all.len() - bursts,
            all.iter()
                .filter(|g| **g == Duration::from_millis(20))
                .count()
        );
        // 10% of 100 000, with a margin of over ten standard deviations (95).
        assert!((9_000..=11_000).contains(&bursts), "{bursts} bursts");
    }

    #[test]
    fn probabilities_zero_and_one_are_exact() {
        assert!(
            gaps(&model(0.0), 3, 1000)
                .iter()
                .all(|g| *g == Duration::from_millis(20))
        );
        assert!(
            gaps(&model(1.0), 3, 1000)
                .iter()
                .all(|g| *g == Duration::from_millis(1020))
        );
    }

    fn mean(samples: impl Iterator<Item = Duration>, n: u32) -> f64 {
        samples.map(|d| d.as_secs_f64()).sum::<f64>() / f64::from(n)
    }

    #[test]
    fn exponential_gaps_and_service_times_have_the_configured_means() {
        let m = Model {
            arrivals: ArrivalKind::Exponential,
            service: ServiceKind::Exponential,
            ..model(0.5)
        };
        let n = 200_000;
        let gap = mean(gaps(&m, 9, n as usize).into_iter(), n);
        // Standard error of the mean: 20 ms / sqrt(200 000) ≈ 0.045 ms; allow 0.5 ms.
        assert!((gap - 0.020).abs() < 0.0005, "{gap}");
        let service = ServiceTimes::new(&m, 9);
        let mean_service = mean((0..u64::from(n)).map(|k| service.of(k)), n);
        assert!((mean_service - 0.300).abs() < 0.005, "{mean_service}");
        assert_eq!(
            service.of(17),
            ServiceTimes::new(&m, 9).of(17),
            "a pure function"
        );
        assert_ne!(service.of(17), service.of(18));
    }

    #[test]
    fn fixed_service_is_the_interval() {
        let service = ServiceTimes::new(&model(0.1), 1);
        assert!((0..100).all(|k| service.of(k) == Duration::from_millis(300)));
    }

    #[test]
    fn load_divides_every_gap() {
        let m = model(0.3);
        let fast = m.at_load(2.0);
        let (slow, quick) = (gaps(&m, 4, 1000), gaps(&fast, 4, 1000));
        assert!(slow.iter().zip(&quick).all(|(s, q)| *s == *q * 2));
        assert_eq!(fast.consume_every, m.consume_every);
        assert_eq!(m.at_load(1.0), m);
    }

    #[test]
    fn utilisation_from_the_configuration() {
        // Mean gap 20 ms + 0.1 × 1 s = 120 ms against 300 ms of service.
        let rho = model(0.1).utilisation(1).unwrap();
        assert!((rho - 2.5).abs() < 1e-9, "{rho}");
        let rho3 = model(0.1).utilisation(3).unwrap();
        assert!((rho3 - 2.5 / 3.0).abs() < 1e-9, "{rho3}");
    }
}
