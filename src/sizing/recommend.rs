//! The sweep's recommendation, drawn from its rows: for each consumer count
//! the smallest capacity whose full share meets the target — its upper bound
//! with two runs or more, the one share with one run — and the fewest
//! consumers that have one. Stability comes before capacity: a consumer
//! count whose long-run ρ is 1 or more is never recommended, whatever the
//! horizon (a buffer that held an hour of its backlog fills in a longer
//! one), and the recommendation says how many consumers keep up. With
//! several loads or policies, one per each.
//!
//! [`recommend`] is a plain function of the rows: it runs nothing. The
//! check of the answer at a longer horizon, which does, is
//! `crate::sizing::sweep::decide`, which fills [`Recommendation::horizon`].

use serde::Serialize;

use crate::model::WhenFull;
use crate::sizing::sweep::{Row, Share, SweepConfig};
use crate::stats;

/// A stall beside the rule of thumb: a buffer of at least the offered rate
/// times the stall's length, against what the simulation found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StallAdvice {
    pub at_s: f64,
    pub length_s: f64,
    /// ⌈λ × length⌉, λ the offered rate (mean over the model or trace).
    pub rule_of_thumb: Option<u64>,
    /// At the recommended point: the stall's backlog peak and its blocking.
    pub backlog_peak: Option<f64>,
    pub full_count: Option<f64>,
    pub blocked_s: Option<f64>,
}

/// The smallest system that meets the target, and the consumer counts for which none does.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The load it is for, when loads are swept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<f64>,
    /// The policy it is for, when policies are swept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when_full: Option<WhenFull>,
    /// With several targets: the one that decided the capacity (the one the
    /// next smaller capacity tried missed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// With `--message-size`: the recommended capacity in bytes, and the most
    /// bytes the buffer held there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_bytes: Option<u64>,
    /// The targets besides the full share, in words (for the text).
    #[serde(skip)]
    pub other_targets: Vec<String>,
    pub target_full: f64,
    /// Runs per point; with one, the share itself must meet the target, else its upper bound.
    pub runs: u32,
    /// The fewest consumers, then the smallest capacity, that meet the target.
    pub consumers: Option<u32>,
    pub capacity: Option<u64>,
    /// The recommended point's full share.
    pub full_share: Option<Share>,
    /// The fewest consumers whose long-run ρ is below 1 (whether tried or
    /// not): fewer can never keep up, whatever the buffer.
    pub consumers_needed: Option<u32>,
    /// ρ of the recommended consumer count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utilisation: Option<f64>,
    /// The recommended system at a longer horizon (see `sweep::decide`);
    /// `None` before that check, or where it was not made.
    pub horizon: Option<HorizonCheck>,
    /// Why the answer was not checked at a longer horizon, where that matters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unchecked: Option<String>,
    /// Why the recommendation may not hold: the horizon is too short for the
    /// target (too few sends to show a share that small).
    pub warning: Option<String>,
    /// Consumer counts (fewer than the recommended) for which no capacity tried meets it.
    pub unmet: Vec<Unmet>,
    /// For each consumer count, the smallest capacity that meets the target.
    pub smallest: Vec<Smallest>,
    /// Each `--stall`: the rule of thumb beside the simulation; left out without stalls.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stalls: Vec<StallAdvice>,
}

/// The recommended system simulated for longer: a buffer that met the
/// target only because the horizon was too short to fill it misses here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HorizonCheck {
    /// The longer horizon: [`LONGER`] times the sweep's.
    pub duration_s: f64,
    /// The recommended point's full share there.
    pub full_share: Share,
    /// Whether the recommended point meets every target there too.
    pub settled: bool,
    /// The smallest capacity tried (from the recommended one up) that meets
    /// every target there; `None` if none does.
    pub capacity: Option<u64>,
}

/// How many times longer the check of the answer simulates.
pub const LONGER: u32 = 4;

/// ρ from which the answer is near saturation: its full share moves with
/// the horizon, so an answer there that cannot be checked longer says so.
pub const NEAR_SATURATION: f64 = 0.9;

/// The fewest full sends, over all runs of a point, that a share as small as
/// the target would show: with fewer (and they come in bursts, so fewer
/// bursts still) the horizon is too short for the target, and a share that
/// small cannot be told from none.
const FULL_SENDS_AT_TARGET: f64 = 10.0;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unmet {
    pub consumers: u32,
    /// ρ = λ/(c·μ) from the configuration.
    pub utilisation: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Smallest {
    pub consumers: u32,
    /// `None` when no capacity tried meets the target.
    pub capacity: Option<u64>,
    /// A smaller capacity whose mean meets the target but whose upper bound
    /// does not: close, but not shown to be enough.
    pub close: Option<Close>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Close {
    pub capacity: u64,
    pub full_share: Share,
}

/// For each consumer count, the smallest capacity whose full share meets the
/// target — its upper bound with two runs or more, the one share with one run;
/// the recommendation is the fewest consumers that have one.
pub fn recommend(rows: &[Row], config: &SweepConfig) -> Recommendation {
    recommend_at(
        rows,
        config,
        config.traffic.loads.first().copied().unwrap_or(1.0),
        config
            .what_if
            .when_full
            .first()
            .copied()
            .unwrap_or(WhenFull::Block),
    )
}

/// One recommendation per load and policy, in the order swept.
pub fn recommend_per_load(rows: &[Row], config: &SweepConfig) -> Vec<Recommendation> {
    config
        .traffic
        .loads
        .iter()
        .flat_map(|&load| {
            config
                .what_if
                .when_full
                .iter()
                .map(move |&policy| recommend_at(rows, config, load, policy))
        })
        .collect()
}

/// Whether there is more than one recommendation to print.
pub fn several_recommendations(config: &SweepConfig) -> bool {
    config.traffic.swept() || config.what_if.swept()
}

/// The targets a row misses, by name; `None` if it meets them all (each on
/// its upper bound where runs are replicated).
pub fn missed(row: &Row, config: &SweepConfig) -> Option<String> {
    let mut missed = Vec::new();
    if row.full_share.bound() > config.target_full {
        missed.push("--target-full");
    }
    if let (Some(target), Some(p99)) = (config.what_if.target_p99, row.blocked_p99_all_s)
        && p99.bound() > target.as_secs_f64()
    {
        missed.push("--target-p99");
    }
    if let (Some(target), Some(drop)) = (config.what_if.target_drop, row.drop_share)
        && drop.bound() > target
    {
        missed.push("--target-drop");
    }
    (!missed.is_empty()).then(|| missed.join(" and "))
}

/// [`recommend`] among the rows of one load and policy.
fn recommend_at(rows: &[Row], config: &SweepConfig, load: f64, policy: WhenFull) -> Recommendation {
    let target = config.target_full;
    let swept = config.traffic.swept();
    let policies = config.what_if.swept();
    let at_load = move |r: &&Row| {
        (!swept || r.load == Some(load)) && (!policies || r.when_full == Some(policy))
    };
    let utilisation = |consumers| {
        config
            .traffic
            .utilisation(&config.model, load, consumers, config.duration)
    };
    // At ρ ≥ 1 the backlog grows for as long as the traffic lasts: a buffer
    // that held this horizon's backlog fills in a longer one, so no buffer is
    // an answer, whatever the rows say.
    let overloaded = |consumers| utilisation(consumers).is_some_and(|rho| rho >= 1.0);
    // The fewest consumers with ρ < 1, as the live verdict counts them.
    let consumers_needed = utilisation(1).and_then(stats::consumers_needed);
    let smallest: Vec<Smallest> = config
        .consumers
        .iter()
        .map(|&consumers| {
            let of = |c| {
                rows.iter()
                    .filter(at_load)
                    .filter(move |r: &&Row| r.consumers == c && !overloaded(c))
            };
            let capacity = of(consumers)
                .filter(|r| missed(r, config).is_none())
                .map(|r| r.capacity)
                .min();
            let close = of(consumers)
                .filter(|r| r.full_share.mean <= target && r.full_share.bound() > target)
                .filter(|r| capacity.is_none_or(|c| r.capacity < c))
                .min_by_key(|r| r.capacity)
                .map(|r| Close {
                    capacity: r.capacity,
                    full_share: r.full_share,
                });
            Smallest {
                consumers,
                capacity,
                close,
            }
        })
        .collect();
    let chosen = smallest.iter().find(|s| s.capacity.is_some());
    let chosen_row = chosen.and_then(|s| {
        rows.iter()
            .filter(at_load)
            .find(|r| r.consumers == s.consumers && Some(r.capacity) == s.capacity)
    });
    // Too few sends for the target: a share that small would show as a
    // handful of full sends, or none, in all the runs together.
    let warning = chosen_row.and_then(|row| {
        let sends = row.produced * f64::from(config.runs.max(1));
        (sends * target < FULL_SENDS_AT_TARGET).then(|| {
            format!(
                "{} is too short for a target of {}: at that share all {} runs together \
                 would show {:.1} full send(s) of {:.0}, too few to measure it; try a longer \
                 --duration or more --runs.",
                humantime::format_duration(config.duration),
                crate::sizing::report::percent(target),
                config.runs.max(1),
                sends * target,
                sends
            )
        })
    });
    let unmet = smallest
        .iter()
        .take_while(|s| s.capacity.is_none())
        .map(|s| Unmet {
            consumers: s.consumers,
            utilisation: utilisation(s.consumers),
        })
        .collect();
    // The rule of thumb: the offered rate over the stall times its length.
    let rate = config
        .traffic
        .utilisation(&config.model, load, 1, config.duration)
        .map(|rho| rho / config.traffic.mean_service(&config.model).as_secs_f64());
    let stalls = config
        .model
        .stalls
        .iter()
        .enumerate()
        .map(|(k, stall)| {
            let simulated = chosen_row.and_then(|r| r.stalls.get(k));
            StallAdvice {
                at_s: stall.at.as_secs_f64(),
                length_s: stall.length.as_secs_f64(),
                rule_of_thumb: rate
                    .filter(|r| r.is_finite())
                    .map(|r| ceil_exact(r * stall.length.as_secs_f64())),
                backlog_peak: simulated.map(|s| s.backlog_peak),
                full_count: simulated.map(|s| s.full_count),
                blocked_s: simulated.map(|s| s.blocked_s),
            }
        })
        .collect();
    let several = config.what_if.target_p99.is_some() || config.what_if.target_drop.is_some();
    // The target that decided it: the one the next smaller capacity tried missed.
    let decided_by = chosen_row.filter(|_| several).map(|row| {
        rows.iter()
            .filter(at_load)
            .filter(|r| r.consumers == row.consumers && r.capacity < row.capacity)
            .max_by_key(|r| r.capacity)
            .and_then(|r| missed(r, config))
            .unwrap_or_else(|| "the smallest capacity tried".to_string())
    });
    let mut other_targets = Vec::new();
    if let Some(p99) = config.what_if.target_p99 {
        other_targets.push(format!(
            "a p99 time blocked over all sends of at most {}",
            crate::units::seconds(p99.as_secs_f64())
        ));
    }
    if let Some(drop) = config.what_if.target_drop
        && policy != WhenFull::Block
    {
        other_targets.push(format!("at most {}% of messages dropped", drop * 100.0));
    }
    Recommendation {
        other_targets,
        when_full: policies.then_some(policy),
        decided_by,
        capacity_bytes: chosen_row.and_then(|r| r.capacity_bytes),
        peak_bytes: chosen_row.and_then(|r| r.peak_bytes),
        stalls,
        load: swept.then_some(load),
        target_full: target,
        runs: config.runs.max(1),
        consumers: chosen.map(|s| s.consumers),
        capacity: chosen.and_then(|s| s.capacity),
        full_share: chosen_row.map(|r| r.full_share),
        consumers_needed,
        utilisation: chosen.and_then(|s| utilisation(s.consumers)),
        horizon: None,
        unchecked: None,
        warning,
        unmet,
        smallest,
    }
}

/// ⌈x⌉ of a product that is a whole number in exact arithmetic but not in
/// floating point: 8.333…/s × 30 s is 250, not 251.
fn ceil_exact(x: f64) -> u64 {
    let whole = x.round();
    if (x - whole).abs() <= 1e-9 * x.abs().max(1.0) {
        whole as u64
    } else {
        x.ceil() as u64
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::model::Model;
    use crate::sizing::sweep::{rows, test_config as config};
    use crate::traffic::Trace;

    #[test]
    fn an_overloaded_system_is_not_recommended_even_if_a_buffer_held_the_trace() {
        // 1000 arrivals 10 ms apart against 20 ms of service: rho = 2. A
        // buffer of 1000 holds the whole backlog of this short trace.
        let trace = Arc::new(Trace::from_offsets(
            "steady",
            (0..1000u64).map(|k| k * 10_000_000).collect(),
        ));
        let mut c = config(&[10, 1000], &[1, 2, 3], 1);
        c.duration = trace.span();
        c.model.consume_every = Duration::from_millis(20);
        c.traffic.trace = Some(trace);
        let rows = rows(&c);
        assert_eq!(rows[1].full_count, 0.0, "the big buffer never filled");
        let r = recommend(&rows, &c);
        // Two consumers: rho just above 1 (1000 lines over 9.99 s).
        assert_eq!((r.consumers, r.capacity), (Some(3), Some(10)), "{r:?}");
        assert!(
            r.unmet
                .iter()
                .all(|u| u.utilisation.is_some_and(|rho| rho >= 1.0))
        );
    }

    #[test]
    fn the_recommendation_is_the_fewest_consumers_then_the_smallest_capacity() {
        let c = config(&[1, 10, 100, 1000], &[1, 3, 4], 1);
        let rows = vec![
            Row::example(1, 1, 0.9, None),
            Row::example(10, 1, 0.8, None),
            Row::example(100, 1, 0.5, None),
            Row::example(1000, 1, 0.2, None),
            Row::example(1, 3, 0.5, None),
            Row::example(10, 3, 0.05, None),
            Row::example(100, 3, 0.005, None),
            Row::example(1000, 3, 0.0, None),
            Row::example(1, 4, 0.001, None),
        ];
        let r = recommend(&rows, &c);
        assert_eq!((r.consumers, r.capacity), (Some(3), Some(100)));
        assert_eq!(r.unmet.len(), 1);
        assert_eq!(r.unmet[0].consumers, 1);
        let rho = r.unmet[0].utilisation.unwrap();
        assert!((rho - 2.5).abs() < 1e-9);
        let smallest: Vec<_> = r
            .smallest
            .iter()
            .map(|s| (s.consumers, s.capacity))
            .collect();
        assert_eq!(smallest, [(1, None), (3, Some(100)), (4, Some(1))]);

        assert_eq!(r.warning, None, "rho < 1 with 3 consumers");

        let none = recommend(&rows[..4], &config(&[1, 10, 100, 1000], &[1], 1));
        assert_eq!(none.capacity, None);
    }

    #[test]
    fn with_runs_the_upper_bound_must_meet_the_target() {
        let c = config(&[10, 50, 100], &[3], 10);
        let rows = vec![
            Row::example(10, 3, 0.05, Some(0.07)),
            // The mean meets 1%, the upper bound does not: close, not enough.
            Row::example(50, 3, 0.008, Some(0.012)),
            Row::example(100, 3, 0.002, Some(0.004)),
        ];
        let r = recommend(&rows, &c);
        assert_eq!((r.consumers, r.capacity), (Some(3), Some(100)));
        let close = r.smallest[0].close.as_ref().unwrap();
        assert_eq!(
            (close.capacity, close.full_share.ci_high),
            (50, Some(0.012))
        );
        assert_eq!(r.runs, 10);
    }

    #[test]
    fn a_consumer_count_that_cannot_keep_up_is_never_recommended_whatever_the_horizon() {
        // ρ = 2.5 with one consumer, 1.25 with two: two minutes are too short
        // for two consumers' backlog (growing 1.7/s) to fill 10 000 slots.
        let c = SweepConfig {
            duration: Duration::from_secs(120),
            ..config(&[100, 1000, 10_000], &[1, 2, 3], 3)
        };
        let rows = rows(&c);
        let two = |capacity| {
            rows.iter()
                .find(|r| r.consumers == 2 && r.capacity == capacity)
                .unwrap()
        };
        assert_eq!(two(10_000).full_count, 0.0, "the rows alone would say 2");
        let r = recommend(&rows, &c);
        assert_eq!(r.consumers, Some(3), "{r:?}");
        assert!(r.capacity.is_some(), "{r:?}");
        assert_eq!(r.consumers_needed, Some(3));
        let unmet: Vec<u32> = r.unmet.iter().map(|u| u.consumers).collect();
        assert_eq!(unmet, [1, 2]);
        assert!(r.unmet.iter().all(|u| u.utilisation.unwrap() >= 1.0));
        let rho = r.utilisation.unwrap();
        assert!((rho - 2.5 / 3.0).abs() < 1e-9, "{rho}");
        // Tried with one consumer only: nothing recommended, 3 needed.
        let c = SweepConfig {
            duration: Duration::from_secs(120),
            ..config(&[100, 1000, 10_000], &[1], 3)
        };
        let r = recommend(&super::super::sweep::rows(&c), &c);
        assert_eq!((r.capacity, r.consumers_needed), (None, Some(3)));
    }

    #[test]
    fn the_consumers_needed_step_past_rho_exactly_1() {
        // A gap of exactly 100 ms (no bursts) against 200 ms of service: ρ₁ = 2,
        // so two consumers are at ρ = 1 and three are needed.
        let mut c = config(&[10], &[1], 1);
        c.model = Model {
            produce_every: Duration::from_millis(100),
            burst_prob: 0.0,
            consume_every: Duration::from_millis(200),
            ..Model::original()
        };
        let r = recommend(&[Row::example(10, 1, 0.0, None)], &c);
        assert_eq!(r.consumers_needed, Some(3));
        assert_eq!(r.consumers, None, "rho = 2 with one consumer");
    }

    #[test]
    fn the_rule_of_thumb_is_exact() {
        // 30 ms per send, 30 s of stall: 1000 sends, however the rate rounds.
        let mut c = config(&[10], &[3], 1);
        c.model = Model {
            produce_every: Duration::from_millis(30),
            burst_prob: 0.0,
            consume_every: Duration::from_millis(100),
            stalls: vec![crate::model::Stall {
                at: Duration::from_secs(1),
                length: Duration::from_secs(30),
            }],
            ..Model::original()
        };
        let r = recommend(&[Row::example(10, 3, 0.0, None)], &c);
        assert_eq!(r.stalls[0].rule_of_thumb, Some(1000));
        // The 8.333…/s (120 ms) × 30 s: 250.
        c.model.produce_every = Duration::from_millis(120);
        let r = recommend(&[Row::example(10, 3, 0.0, None)], &c);
        assert_eq!(r.stalls[0].rule_of_thumb, Some(250));
        assert_eq!(ceil_exact(250.4), 251);
    }

    #[test]
    fn too_few_sends_for_the_target_are_flagged() {
        let mut c = config(&[10], &[3], 1);
        c.target_full = 0.0001;
        // 1000 sends at 0.01%: 0.1 full sends expected; at 1%, 10.
        let r = recommend(&[Row::example(10, 3, 0.0, None)], &c);
        let warning = r.warning.unwrap();
        assert!(
            warning.contains("too short") && warning.contains("0.01%"),
            "{warning}"
        );
        c.target_full = 0.01;
        assert_eq!(
            recommend(&[Row::example(10, 3, 0.0, None)], &c).warning,
            None
        );
    }
}
