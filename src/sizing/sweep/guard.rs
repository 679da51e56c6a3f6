//! The sweep's cost guard: what a sweep will simulate, counted before it
//! starts from everything it will do, and the refusal of one too big, whose
//! simulated time could never pass, or that would take far too long. The
//! same count foresees a long sweep for the progress bar.

use std::time::Duration;

use super::config::SweepConfig;
use crate::model::WhenFull;
use crate::sizing::sim;
use crate::traffic::parse::printable;

/// The most trace lines one sweep may replay in all, over every point and
/// run, bootstrap blocks drawn included (about 100 s at 20 M/s).
pub const MAX_REPLAYED_MESSAGES: f64 = 2e9;

/// The most points (capacities × consumer counts × loads) one sweep may have.
pub const MAX_SWEEP_POINTS: usize = 10_000;

/// The most simulations (points × policies × runs) one sweep may run: each
/// keeps a few figures until the report, so this bounds the memory too.
pub const MAX_SIMULATIONS: usize = 100_000;

/// The most messages a whole sweep may simulate: a few minutes on two cores
/// at the benchmarked rates (15–80 M messages/s per core).
pub const MAX_SWEEP_MESSAGES: f64 = 1e10;

/// The fewest sends a run of the model's own traffic must expect: fewer
/// cannot show a full share, let alone its interval.
pub const MIN_SENDS_PER_RUN: f64 = 100.0;

/// A low guess of simulated messages per second per thread (the exponential
/// model is the slowest benchmarked, at about 15 M/s), to foresee a long sweep.
const GUESSED_RATE: f64 = 10e6;

/// Why the guard refuses a sweep. Each says what it counted and which
/// options to change; the command line shows it as one line, exit code 2.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refused {
    #[error(
        "--capacities × --consumers × --load gives {points} points; at most {max} are allowed",
        max = MAX_SWEEP_POINTS
    )]
    Points { points: usize },
    #[error(
        "--capacities × --consumers × --load × --runs gives {simulations} simulations; at \
         most {max} are allowed (lower --runs or try fewer points)",
        max = MAX_SIMULATIONS
    )]
    Simulations { simulations: usize },
    /// With a trace: its lines and bootstrap blocks, over every point and run.
    #[error(
        "{lines} trace lines{blocks}, over {shape}{costly}, is {steps:.1e} replayed messages \
         and blocks; at most {max:.0e} are allowed (lower --runs, lengthen --block, try fewer \
         --capacities, --consumers or --load values, or a shorter --duration than the \
         trace's {span})",
        max = MAX_REPLAYED_MESSAGES
    )]
    Replayed {
        lines: u64,
        /// The bootstrap blocks drawn, in words (empty with one run).
        blocks: String,
        shape: String,
        costly: String,
        steps: f64,
        span: String,
    },
    /// Nothing takes any time: the simulation would offer without end.
    #[error(
        "neither producing nor consuming takes any time, so simulated time would never \
         pass{dropping}: give --produce-every, --burst-pause or {service} a duration"
    )]
    Timeless {
        dropping: &'static str,
        service: String,
    },
    /// A stall the simulated traffic never reaches.
    #[error(
        "invalid value for '--stall <DUR@AT>': a stall at {at} starts at or after the end of \
         the sweep's traffic ({duration}), so it would cost nothing: start it earlier or give \
         a longer --duration"
    )]
    StallTooLate { at: String, duration: String },
    /// `--duration 0s`: for the live demo "no limit", for a sweep nothing at all.
    #[error(
        "invalid value '0s' for '--duration <DUR>': a sweep of 0s simulates nothing (0s means \
         no limit only for the live demo); give it a horizon such as 1h"
    )]
    NoTime,
    /// Too short a horizon for any figure: fewer sends than [`MIN_SENDS_PER_RUN`].
    #[error(
        "--duration {duration} gives about {sends:.0} sends per run{at}, too few to measure a \
         share; at least {min} are needed: give a longer --duration",
        min = MIN_SENDS_PER_RUN
    )]
    FewSends {
        duration: String,
        sends: f64,
        /// Where the fewest are sent, in words.
        at: String,
    },
    #[error(
        "--duration {duration} with these intervals means about {per_simulation:.1e} messages \
         per simulation and {steps:.1e} for the whole sweep ({shape}){costly}; at most \
         {max:.0e} are allowed (shorten --duration, lower --runs, try fewer points, or \
         lengthen --produce-every or --consume-every)",
        max = MAX_SWEEP_MESSAGES
    )]
    Messages {
        duration: String,
        per_simulation: f64,
        steps: f64,
        shape: String,
        costly: String,
    },
}

/// The sweep's dimensions, counted once for the guard, the work and the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Shape {
    /// Capacities × consumer counts × loads.
    pub points: usize,
    pub policies: usize,
    pub runs: usize,
}

impl Shape {
    pub fn of(config: &SweepConfig) -> Shape {
        Shape {
            points: config.capacities.len() * config.consumers.len() * config.traffic.loads.len(),
            policies: config.what_if.when_full.len().max(1),
            runs: config.runs.max(1) as usize,
        }
    }

    /// Every simulation: points × policies × runs.
    pub fn simulations(&self) -> usize {
        self.points
            .saturating_mul(self.policies)
            .saturating_mul(self.runs)
    }

    /// Refuses more points or simulations than allowed.
    fn check(&self) -> Result<(), Refused> {
        if self.points > MAX_SWEEP_POINTS {
            return Err(Refused::Points {
                points: self.points,
            });
        }
        let simulations = self.simulations();
        if simulations > MAX_SIMULATIONS {
            return Err(Refused::Simulations { simulations });
        }
        Ok(())
    }

    /// "13 points × 10 runs", with the policies if there are several.
    fn words(&self) -> String {
        let Shape {
            points,
            policies,
            runs,
        } = self;
        if *policies > 1 {
            format!("{points} points × {runs} runs × {policies} policies")
        } else {
            format!("{points} points × {runs} runs")
        }
    }
}

/// What a sweep will do, counted before it starts from everything it will
/// simulate: every load, policy, consumer count, capacity and run; the
/// service times' mean (a `--service-from` file's); with a trace, its lines
/// and every bootstrap block drawn. The guard ([`check`]) refuses a sweep
/// too big, and the progress bar foresees a long one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Work {
    /// Points × policies × runs.
    pub simulations: usize,
    /// Messages simulated, or trace lines replayed and bootstrap blocks
    /// drawn, in all, each weighted by its cost (see [`sim::message_cost`]);
    /// infinite when the model's time would never pass.
    pub steps: f64,
    /// The most messages (or lines) one simulation goes through, unweighted.
    pub per_simulation: f64,
    /// The fewest, and at which consumer count and policy.
    pub fewest: (f64, u32, WhenFull),
    /// Blocks drawn for each bootstrap resample (0 without one).
    pub blocks: f64,
    /// The most one message costs here, in units of the simplest's.
    pub message_cost: f64,
}

/// Counts what `config` will simulate (see [`Work`]).
pub fn work(config: &SweepConfig) -> Work {
    let traffic = &config.traffic;
    let shape = Shape::of(config);
    let simulations = shape.simulations();
    let runs = config.runs.max(1);
    let stalls = config.model.stalls.len();
    let message_cost = config
        .consumers
        .iter()
        .map(|&c| sim::message_cost(c, stalls))
        .fold(1.0, f64::max);
    let weighted = |per_point: f64| {
        config
            .consumers
            .iter()
            .map(|&c| per_point * sim::message_cost(c, stalls))
            .sum::<f64>()
            * (config.capacities.len() * traffic.loads.len() * shape.policies) as f64
    };
    match &traffic.trace {
        Some(trace) => {
            let lines = trace.lines_within(config.duration) as f64;
            // Run 1 replays the trace; each other run draws a resample of
            // (span / block + 1) blocks, for every point, and replays about
            // as many lines. The drawing does not depend on the consumers.
            let blocks = if runs > 1 {
                trace.bootstrap_blocks(config.duration, traffic.block) as f64
            } else {
                0.0
            };
            let resamples = f64::from(runs - 1);
            let replayed = weighted(lines * f64::from(runs));
            Work {
                simulations,
                steps: replayed + blocks * resamples * (shape.points * shape.policies) as f64,
                per_simulation: lines,
                fewest: (lines, 1, WhenFull::Block),
                blocks,
                message_cost,
            }
        }
        None => {
            let mean_service = traffic.mean_service(&config.model);
            let (mut steps, mut per_simulation) = (0.0, 0.0f64);
            let mut fewest = (f64::INFINITY, 1, WhenFull::Block);
            for &load in &traffic.loads {
                let gap = config.model.at_load(load).mean_gap();
                for &policy in &config.what_if.when_full {
                    for &consumers in &config.consumers {
                        for &capacity in &config.capacities {
                            let offers = sim::expected_offers(
                                gap,
                                mean_service,
                                consumers,
                                capacity,
                                policy,
                                config.duration,
                            );
                            per_simulation = per_simulation.max(offers);
                            if offers < fewest.0 {
                                fewest = (offers, consumers, policy);
                            }
                            steps += offers * sim::message_cost(consumers, stalls);
                        }
                    }
                }
            }
            Work {
                simulations,
                steps: steps * f64::from(runs),
                per_simulation,
                fewest,
                blocks: 0.0,
                message_cost,
            }
        }
    }
}

/// Refuses a sweep that would run too many simulations, one whose simulated
/// time could never pass, or one that would take far too long (counting
/// everything [`work`] counts); the error gives the estimate and says which
/// option to change.
pub fn check(config: &SweepConfig) -> Result<(), Refused> {
    let shape = Shape::of(config);
    shape.check()?;
    let work = work(config);
    let costly = if work.message_cost > 1.0 {
        format!(
            ", each costing up to {:.0} times the simplest's (the consumers scanned, the \
             stalls checked)",
            work.message_cost
        )
    } else {
        String::new()
    };
    if config.duration.is_zero() {
        return Err(Refused::NoTime);
    }
    if let Some(late) = config.model.stalls.iter().find(|s| s.at >= config.duration) {
        return Err(Refused::StallTooLate {
            at: humantime::format_duration(late.at).to_string(),
            duration: humantime::format_duration(config.duration).to_string(),
        });
    }
    if let Some(trace) = &config.traffic.trace {
        if work.steps > MAX_REPLAYED_MESSAGES {
            let blocks = if work.blocks > 0.0 {
                format!(
                    " and {:.1e} bootstrap blocks of --block {} for each of the other runs",
                    work.blocks,
                    humantime::format_duration(config.traffic.block)
                )
            } else {
                String::new()
            };
            return Err(Refused::Replayed {
                lines: trace.lines_within(config.duration),
                blocks,
                shape: shape.words(),
                costly,
                steps: work.steps,
                span: humantime::format_duration(trace.span()).to_string(),
            });
        }
        return Ok(());
    }
    if work.steps.is_infinite() {
        let service = match &config.traffic.service {
            Some((file, _)) => format!(
                "--service-from {} (its mean is {})",
                printable(&file.name),
                humantime::format_duration(file.mean())
            ),
            None => "--consume-every".to_owned(),
        };
        let dropping = config
            .what_if
            .when_full
            .iter()
            .any(|&p| p != WhenFull::Block);
        return Err(Refused::Timeless {
            dropping: if dropping {
                " (a drop policy never waits for the consumers, so only the producer's \
                 intervals pass time)"
            } else {
                ""
            },
            service,
        });
    }
    let (sends, consumers, policy) = work.fewest;
    if sends < MIN_SENDS_PER_RUN {
        let several = config.consumers.len() > 1 || config.what_if.when_full.len() > 1;
        return Err(Refused::FewSends {
            duration: humantime::format_duration(config.duration).to_string(),
            sends,
            at: if several {
                format!(
                    " (with {consumers} consumer(s), --when-full {})",
                    policy.name()
                )
            } else {
                String::new()
            },
        });
    }
    if work.steps > MAX_SWEEP_MESSAGES {
        return Err(Refused::Messages {
            duration: humantime::format_duration(config.duration).to_string(),
            per_simulation: work.per_simulation,
            steps: work.steps,
            shape: shape.words(),
            costly,
        });
    }
    Ok(())
}

/// About how long the sweep will take, from a low guess of the simulation's speed.
pub fn estimated_time(config: &SweepConfig) -> Duration {
    let work = work(config);
    // No more threads than simulations, and at least one.
    let threads = config.threads.min(work.simulations).max(1);
    Duration::try_from_secs_f64(work.steps / (GUESSED_RATE * threads as f64))
        .unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sizing::sweep::test_config as config;

    #[test]
    fn the_cost_counts_every_point_and_every_run() {
        let hour = Duration::from_secs(3600);
        let sized = |capacities: &[u64], consumers: &[u32], duration, runs| SweepConfig {
            duration,
            ..config(capacities, consumers, runs)
        };
        // One consumer at 300 ms: 12 000 messages an hour per simulation,
        // and at most the capacity and the consumer more (taken at once).
        assert_eq!(work(&sized(&[1], &[1], hour, 1)).per_simulation, 12_002.0);
        assert_eq!(
            work(&sized(&[1, 2, 3], &[1], hour, 10)).steps,
            (12_002.0 + 12_003.0 + 12_004.0) * 10.0
        );
        // Allowed as one run, refused as a thousand: the guard sees the runs.
        let days = Duration::from_secs(300 * 24 * 3600);
        let capacities: Vec<u64> = (1..=100).collect();
        assert!(check(&sized(&capacities, &[1], days, 1)).is_ok());
        let refused = check(&sized(&capacities, &[1], days, 100)).unwrap_err();
        assert!(
            refused.to_string().contains("whole sweep") && refused.to_string().contains("--runs"),
            "{refused}"
        );
        let many = check(&sized(&capacities, &[1, 2, 3, 4, 5], hour, 1000)).unwrap_err();
        assert!(many.to_string().contains("500000 simulations"), "{many}");
    }

    #[test]
    fn a_sweep_of_no_time_or_too_few_sends_is_refused() {
        let zero = SweepConfig {
            duration: Duration::ZERO,
            ..config(&[10], &[1], 10)
        };
        assert_eq!(check(&zero), Err(Refused::NoTime));
        // One consumer of the original model paces a blocking producer at
        // one send per 300 ms once 10 wait: 10 s is about 33 + 11 sends.
        let short = |secs| SweepConfig {
            duration: Duration::from_secs(secs),
            ..config(&[10], &[1, 2], 10)
        };
        let refused = check(&short(10)).unwrap_err();
        assert!(
            matches!(refused, Refused::FewSends { sends, .. } if (sends - 44.33).abs() < 0.01),
            "{refused:?}"
        );
        let words = refused.to_string();
        assert!(
            words.contains("--duration") && words.contains("with 1 consumer(s)"),
            "{words}"
        );
        assert!(check(&short(30)).is_ok());
        // A stall at or after the horizon would cost nothing.
        let mut late = short(30);
        late.model.stalls = vec![crate::model::Stall {
            at: Duration::from_secs(30),
            length: Duration::from_secs(1),
        }];
        assert!(matches!(check(&late), Err(Refused::StallTooLate { .. })));
        late.model.stalls[0].at = Duration::from_secs(29);
        assert!(check(&late).is_ok());
    }

    #[test]
    fn a_long_sweep_is_foreseen() {
        let mut c = config(&[1, 10, 100], &[1], 10);
        assert!(estimated_time(&c) < Duration::from_millis(100));
        c.duration = Duration::from_secs(30 * 24 * 3600);
        assert!(estimated_time(&c) > Duration::from_secs(1));
    }
}
