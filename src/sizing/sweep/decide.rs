//! The sweep's answer, settled: the recommendation drawn from the rows
//! (`crate::sizing::recommend`, which runs nothing), then the recommended
//! system simulated again [`LONGER`] times as long. The rows stay at the
//! sweep's horizon; the check is reported beside them. A buffer that met the
//! target only because the horizon was too short to fill it — near
//! saturation, or after a rare long burst — misses at the longer horizon,
//! and the answer says it is not settled, with the capacity that holds there.

use super::config::SweepConfig;
use super::guard::{MAX_SIMULATIONS, MAX_SWEEP_MESSAGES, work};
use super::rows::Row;
use super::runner::rows;
use crate::model::WhenFull;
use crate::sizing::recommend::{
    HorizonCheck, LONGER, NEAR_SATURATION, Recommendation, missed, recommend, recommend_per_load,
    several_recommendations,
};

/// Every recommendation of the sweep (one, or one per load and policy in
/// the order swept), each checked at a longer horizon where that can be done
/// within the sweep's budget.
pub fn decide(config: &SweepConfig, rows: &[Row]) -> Vec<Recommendation> {
    let mut decided = if several_recommendations(config) {
        recommend_per_load(rows, config)
    } else {
        vec![recommend(rows, config)]
    };
    // What the sweep itself simulated: the checks share the budget left.
    let mut spent = work(config).steps;
    for r in &mut decided {
        // Each is for its load and policy, or the first when not swept.
        let load = r
            .load
            .or(config.traffic.loads.first().copied())
            .unwrap_or(1.0);
        let policy =
            (r.when_full.or(config.what_if.when_full.first().copied())).unwrap_or(WhenFull::Block);
        check_longer(config, load, policy, r, &mut spent);
    }
    decided
}

/// Simulates the recommended consumer count at [`LONGER`] times the horizon,
/// for the recommended capacity and every larger one tried (or the
/// recommended one alone if that is all the budget allows), and records what
/// holds there.
fn check_longer(
    config: &SweepConfig,
    load: f64,
    policy: WhenFull,
    r: &mut Recommendation,
    spent: &mut f64,
) {
    let (Some(consumers), Some(capacity)) = (r.consumers, r.capacity) else {
        return;
    };
    let near = r.utilisation.is_some_and(|rho| rho >= NEAR_SATURATION);
    let longer = config.duration.saturating_mul(LONGER);
    if config.traffic.trace.is_some() {
        // A trace cannot be replayed for longer than it lasts.
        if near {
            r.unchecked = Some(format!(
                "rho = {:.2} is near saturation, where the answer moves with the horizon, \
                 and a trace cannot be replayed for longer than its {}: the answer holds \
                 for this trace, not necessarily for a longer one.",
                r.utilisation.unwrap_or(f64::NAN),
                humantime::format_duration(config.duration)
            ));
        }
        return;
    }
    let larger: Vec<u64> = config
        .capacities
        .iter()
        .copied()
        .filter(|&c| c >= capacity)
        .collect();
    let at = |capacities: Vec<u64>| SweepConfig {
        duration: longer,
        capacities,
        consumers: vec![consumers],
        progress: false,
        traffic: super::config::Traffic {
            loads: vec![load],
            ..config.traffic.clone()
        },
        what_if: super::config::WhatIf {
            when_full: vec![policy],
            ..config.what_if.clone()
        },
        ..config.clone()
    };
    let fits = |c: &SweepConfig| {
        let w = work(c);
        *spent + w.steps <= MAX_SWEEP_MESSAGES && w.simulations <= MAX_SIMULATIONS
    };
    let check = [at(larger), at(vec![capacity])]
        .into_iter()
        .find(|c| fits(c));
    let Some(check) = check else {
        r.unchecked = Some(format!(
            "the check at {} would pass the sweep's budget of {MAX_SWEEP_MESSAGES:.0e} \
             simulated messages{}.",
            humantime::format_duration(longer),
            if near {
                format!(
                    "; rho = {:.2} is near saturation, where the answer moves with the horizon",
                    r.utilisation.unwrap_or(f64::NAN)
                )
            } else {
                String::new()
            }
        ));
        return;
    };
    *spent += work(&check).steps;
    let checked = rows(&check);
    let Some(at_recommended) = checked.iter().find(|row| row.capacity == capacity) else {
        return;
    };
    let settled = missed(at_recommended, &check).is_none();
    r.horizon = Some(HorizonCheck {
        duration_s: longer.as_secs_f64(),
        full_share: at_recommended.full_share,
        settled,
        capacity: checked
            .iter()
            .filter(|row| missed(row, &check).is_none())
            .map(|row| row.capacity)
            .min(),
    });
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::sizing::sweep::test_config as config;

    #[test]
    fn an_answer_near_saturation_is_checked_for_longer_and_flagged_if_it_moves() {
        // 2 consumers at 280 ms: ρ = 0.97. In 2 minutes the backlog rarely
        // reaches 500; over 8 it does more often.
        let mut c = config(&[50, 100, 200, 500, 1000, 2000], &[2], 10);
        c.duration = Duration::from_secs(120);
        c.model.consume_every = Duration::from_millis(233);
        let rows = rows(&c);
        let decided = decide(&c, &rows);
        let r = &decided[0];
        assert!(r.utilisation.unwrap() >= NEAR_SATURATION, "{r:?}");
        let check = r.horizon.as_ref().expect("checked");
        assert_eq!(check.duration_s, 480.0);
        // What the check says agrees with the rows it ran.
        let longer = SweepConfig {
            duration: Duration::from_secs(480),
            capacities: c
                .capacities
                .iter()
                .copied()
                .filter(|&k| k >= r.capacity.unwrap())
                .collect(),
            ..c.clone()
        };
        let again = super::rows(&longer);
        assert_eq!(check.full_share, again[0].full_share);
        assert_eq!(check.settled, missed(&again[0], &longer).is_none());
        // The recommendation itself is what the rows give.
        let plain = crate::sizing::recommend::recommend(&rows, &c);
        assert_eq!((r.consumers, r.capacity), (plain.consumers, plain.capacity));
    }

    #[test]
    fn nothing_to_check_without_a_recommendation() {
        let c = config(&[10, 100], &[1], 3);
        let decided = decide(&c, &rows(&c));
        assert_eq!(decided.len(), 1);
        assert_eq!((decided[0].capacity, &decided[0].horizon), (None, &None));
    }
}
