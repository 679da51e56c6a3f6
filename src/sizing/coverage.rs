//! How often the sweep's 95% interval of the full share holds the long-run
//! value: many independent sweeps of one model against one long simulation
//! of it, or against the exact M/M/c/K share where the model is one.
//! `examples/coverage.rs` prints it at the default `--runs`; a unit test
//! checks an M/M/c/K case. Pure and deterministic: the seeds are fixed.

use std::time::Duration;

use crate::model::{Model, WhenFull};
use crate::sizing::queueing;
use crate::sizing::sim::{self, Scenario};
use crate::sizing::sweep::{self, SweepConfig, TableFormat, Traffic, WhatIf};

/// One capacity's coverage over `sweeps` independent sweeps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coverage {
    pub capacity: u64,
    /// The long-run full share (see [`Reference`]).
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

/// What the sweeps' intervals are held against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reference {
    /// The full share of one simulation `long` times as long as a run, from `seed`.
    LongRun { long: u32, seed: u64 },
    /// The M/M/c/K steady-state share ([`queueing::theory`]): exact, and
    /// free, for a model with exponential arrivals and service.
    Exact,
}

/// What to measure: `sweeps` sweeps of `runs` runs of `duration` each, the
/// sweep `k` from seed `first_seed + k·runs` (no seed used twice), against
/// the [`Reference`].
#[derive(Debug, Clone)]
pub struct Plan {
    pub model: Model,
    pub consumers: u32,
    pub capacities: Vec<u64>,
    pub duration: Duration,
    pub runs: u32,
    pub sweeps: u32,
    pub reference: Reference,
    pub first_seed: u64,
    pub threads: usize,
}

/// Each capacity's coverage (see [`Plan`]).
///
/// # Panics
/// With [`Reference::Exact`] for a model no formula covers.
pub fn measure(plan: &Plan) -> Vec<Coverage> {
    let long_run: Vec<f64> = plan
        .capacities
        .iter()
        .map(|&capacity| match plan.reference {
            Reference::LongRun { long, seed } => sim::simulate(&Scenario {
                model: &plan.model,
                seed,
                capacity,
                consumers: plan.consumers,
                horizon: Some(plan.duration * long),
                messages: None,
                when_full: WhenFull::Block,
            })
            .full_share(),
            Reference::Exact => {
                queueing::theory(&plan.model, plan.consumers, capacity)
                    .expect("an exact reference needs an M/M/c/K model")
                    .full_share
            }
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
    use crate::model::{ArrivalKind, ServiceKind};

    /// The case — three consumers, a long-run full share of about
    /// 0.05%, where a symmetric t interval missed the long-run value above
    /// its upper bound in 10% of sweeps — on M/M/3/K, whose long-run share
    /// is known exactly (capacity 30 at 2.5 Erlangs: 0.0494%), so no long
    /// reference run is needed and none of its own noise enters the count.
    ///
    /// Why this still decides: the runs are what the interval sees, and near
    /// zero what matters is how few full episodes a run holds, not how long
    /// it is. At 10 min (5000 sends) a run expects 2.5 full sends, in one
    /// episode or none, so most runs see none and the per-run shares are as
    /// skewed as the default sweep's at capacity 100 over an hour — the case
    /// that broke the t interval — while 30 sweeps cost 30 × 10 × 5000 =
    /// 1.5·10⁶ simulated messages, a twentieth of the long-run version's 3·10⁷
    /// (over 60 s in a debug build). It does catch an interval that fails
    /// near zero: the same check of 2-minute runs (0.5 full sends expected,
    /// so a sweep that saw none bounds the share at 3.8·10⁻⁴ by its pooled
    /// sends) finds 25 of 60 above. At 10 min, 300 sweeps found 5 above
    /// (1.7%) and 295 covered. The seeds are fixed, so the count is the same
    /// on every machine; `examples/coverage.rs` measures 1000 sweeps of the
    /// original model against 2000 h runs.
    #[test]
    fn the_interval_covers_a_share_near_zero() {
        let model = Model {
            produce_every: Duration::from_millis(120),
            consume_every: Duration::from_millis(300),
            arrivals: ArrivalKind::Exponential,
            service: ServiceKind::Exponential,
            ..Model::original()
        };
        let plan = Plan {
            model,
            consumers: 3,
            capacities: vec![30],
            duration: Duration::from_secs(600),
            runs: 10,
            sweeps: 30,
            reference: Reference::Exact,
            first_seed: 5_000_000,
            threads: 2,
        };
        let c = measure(&plan)[0];
        assert!((0.000_49..0.000_50).contains(&c.long_run), "{c:?}");
        assert_eq!(c.covered + c.above + c.below, 30);
        // 95% nominal, one-sided misses 2.5%: at most 2 of 30 above (6.7%),
        // 27 of 30 covered (90%), the old test's shares of its 60.
        assert!(c.above <= 2 && c.covered >= 27, "{c:?}");
    }
}
