//! The model being watched: the producer's pace with its bursts, and the
//! consumer's steady service time. Pure and seeded, so a run can be repeated.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The timing of producer and consumer, in model time.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Pause after every message the producer sends (the seed's 20 ms).
    pub produce_every: Duration,
    /// Probability that a message is followed by an extra burst pause (the seed's 0.1).
    pub burst_prob: f64,
    /// The extra pause (the seed's 1 s).
    pub burst_pause: Duration,
    /// Time the consumer spends on each message (the seed's 300 ms).
    pub consume_every: Duration,
}

/// The gaps between the producer's messages, drawn from a seeded generator so
/// that the same seed gives the same burst pattern.
#[derive(Debug, Clone)]
pub struct Arrivals {
    rng: StdRng,
    every: Duration,
    burst_prob: f64,
    burst_pause: Duration,
}

impl Arrivals {
    pub fn new(model: &Model, seed: u64) -> Arrivals {
        Arrivals {
            rng: StdRng::seed_from_u64(seed),
            every: model.produce_every,
            burst_prob: model.burst_prob,
            burst_pause: model.burst_pause,
        }
    }

    /// The pause after the next message: the regular pause, plus the burst pause
    /// with probability `burst_prob`.
    pub fn next_gap(&mut self) -> Gap {
        if self.rng.random_bool(self.burst_prob) {
            Gap {
                pause: self.every + self.burst_pause,
                burst: true,
            }
        } else {
            Gap {
                pause: self.every,
                burst: false,
            }
        }
    }

    /// The model times at which the first `n` messages would be offered by a
    /// producer that never blocks: 0, then the running sum of the gaps.
    pub fn offered_times(mut self, n: u64) -> impl Iterator<Item = Duration> {
        let mut at = Duration::ZERO;
        (0..n).map(move |_| {
            let this = at;
            at = at.saturating_add(self.next_gap().pause);
            this
        })
    }
}

/// The pause after a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub pause: Duration,
    /// Whether it includes a burst pause.
    pub burst: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(burst_prob: f64) -> Model {
        Model {
            produce_every: Duration::from_millis(20),
            burst_prob,
            burst_pause: Duration::from_secs(1),
            consume_every: Duration::from_millis(300),
        }
    }

    fn gaps(model: &Model, seed: u64, n: usize) -> Vec<Duration> {
        let mut arrivals = Arrivals::new(model, seed);
        (0..n).map(|_| arrivals.next_gap().pause).collect()
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
    fn offered_times_are_the_running_sum_of_the_gaps() {
        let m = model(0.3);
        let times: Vec<Duration> = Arrivals::new(&m, 5).offered_times(50).collect();
        let gaps = gaps(&m, 5, 49);
        assert_eq!(times[0], Duration::ZERO);
        for k in 1..50 {
            assert_eq!(times[k], times[k - 1] + gaps[k - 1]);
        }
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
}
