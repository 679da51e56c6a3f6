//! How often the sweep's 95% interval of the full share holds the long-run
//! value: many independent sweeps of one model against one long simulation
//! of it. `examples/coverage.rs` prints it at the default `--runs`; a unit
//! test checks a smaller case. Pure and deterministic: the seeds are fixed.

use std::time::Duration;

use crate::model::{Model, WhenFull};
use crate::sizing::sim::{self, Scenario};
use crate::sizing::sweep::{self, SweepConfig, TableFormat, Traffic, WhatIf};

/// One capacity's coverage over `sweeps` independent sweeps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coverage {
    pub capacity: u64,
    /// The full share of one simulation `long` times as long as a run.
    pub long_run: f64,
    /// Sweeps whose interval held the long-run value, whose upper bound was
    /// below it, and whose lower bound was above it.
    pub covered: u32,
    pub above: u32,
    pub below: u32,
    pub sweeps: u32,
}

impl Coverage {
    pub fn share_covered(&self) -> f64 {
        f64::from(self.covered) / f64::from(self.sweeps.max(1))
    }

    /// The share of sweeps whose upper bound missed the long-run value: the
    /// miss that sizes a buffer too small.
    pub fn share_above(&self) -> f64 {
        f64::from(self.above) / f64::from(self.sweeps.max(1))
    }

    pub fn share_below(&self) -> f64 {
        f64::from(self.below) / f64::from(self.sweeps.max(1))
    }
}

/// What to measure: `sweeps` sweeps of `runs` runs of `duration` each, the
/// sweep `k` from seed `first_seed + k·runs` (no seed used twice), against
/// one simulation of `duration × long` from `long_seed`.
#[derive(Debug, Clone)]
pub struct Plan {
    pub model: Model,
    pub consumers: u32,
    pub capacities: Vec<u64>,
    pub duration: Duration,
    pub runs: u32,
    pub sweeps: u32,
    pub long: u32,
    pub first_seed: u64,
    pub long_seed: u64,
    pub threads: usize,
}

/// Each capacity's coverage (see [`Plan`]).
pub fn measure(plan: &Plan) -> Vec<Coverage> {
    let long_run: Vec<f64> = plan
        .capacities
        .iter()
        .map(|&capacity| {
            sim::simulate(&Scenario {
                model: &plan.model,
                seed: plan.long_seed,
                capacity,
                consumers: plan.consumers,
                horizon: Some(plan.duration * plan.long),
                messages: None,
                when_full: WhenFull::Block,
            })
            .full_share()
        })
        .collect();
    let mut coverage: Vec<Coverage> = plan
        .capacities
        .iter()
        .zip(&long_run)
        .map(|(&capacity, &long_run)| Coverage {
            capacity,
            long_run,
            covered: 0,
            above: 0,
            below: 0,
            sweeps: plan.sweeps,
        })
        .collect();
    for k in 0..plan.sweeps {
        let config = SweepConfig {
            model: plan.model.clone(),
            seed: plan
                .first_seed
                .wrapping_add(u64::from(k) * u64::from(plan.runs)),
            duration: plan.duration,
            capacities: plan.capacities.clone(),
            consumers: vec![plan.consumers],
            target_full: 0.01,
            format: TableFormat::Json,
            runs: plan.runs,
            threads: plan.threads,
            progress: false,
            traffic: Traffic::default(),
            what_if: WhatIf::default(),
        };
        for (row, c) in sweep::rows(&config).iter().zip(&mut coverage) {
            let (low, high) = (
                row.full_share.ci_low.unwrap_or(row.full_share.mean),
                row.full_share.ci_high.unwrap_or(row.full_share.mean),
            );
            if c.long_run > high {
                c.above += 1;
            } else if c.long_run < low {
                c.below += 1;
            } else {
                c.covered += 1;
            }
        }
    }
    coverage
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The case: three consumers, capacity 100, a long-run full share
    /// of about 0.05%, where a symmetric t interval missed the long-run value
    /// above its upper bound in 10% of sweeps. Bounded: 60 sweeps of 10 runs
    /// of an hour and a 400 h long run, about 3·10⁷ simulated messages. The
    /// seeds are fixed, so the count is the same on every machine.
    #[test]
    fn the_interval_covers_a_share_near_zero() {
        let plan = Plan {
            model: Model::original(),
            consumers: 3,
            capacities: vec![100],
            duration: Duration::from_secs(3600),
            runs: 10,
            sweeps: 60,
            long: 400,
            first_seed: 5_000_000,
            long_seed: 11,
            threads: 2,
        };
        let c = measure(&plan)[0];
        assert!((0.0002..0.001).contains(&c.long_run), "{c:?}");
        assert_eq!(c.covered + c.above + c.below, 60);
        // 95% nominal; at most 4 of 60 above (6.7%), 54 of 60 covered (90%).
        assert!(c.above <= 4 && c.covered >= 54, "{c:?}");
    }
}
