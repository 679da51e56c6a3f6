//! `burstbuf fit --consume-every`: the capacity a trace needs for a target
//! against the capacity a Poisson stream of the same mean rate would need,
//! both by the sweep's own simulation with the same fixed service, and the
//! M/M/c/K formula's answer: where the latter two are smaller, sizing by
//! them would undersize the buffer, and the user is told so plainly.
//!
//! Each answer is the smallest capacity whose share of sends finding the
//! buffer full is at most the target, found by doubling then bisection
//! (the share falls as the capacity grows), so about 2·log₂(lines)
//! replays or simulations.

use std::time::Duration;

use crate::model::{ArrivalKind, Model, ServiceKind, WhenFull};
use crate::sizing::queueing;
use crate::sizing::replay::{Replay, replay};
use crate::sizing::sim::{self, Scenario};
use crate::traffic::Service;
use crate::traffic::fit::SizingComparison;
use crate::traffic::trace::Trace;

/// The seed of the Poisson simulation: fixed, so `fit` repeats itself.
const POISSON_SEED: u64 = 1;

/// The comparison for `trace` with `service` per message and `consumers`.
pub fn compare(trace: &Trace, service: Duration, consumers: u32, target: f64) -> SizingComparison {
    let lines = trace.lines();
    let span = trace.span();
    let consumers = consumers.max(1);
    let searched = lines.max(1);
    let service_s = service.as_secs_f64();
    let mean_gap_s = trace.mean_gap_s(lines).unwrap_or(0.0);
    let utilisation = if mean_gap_s > 0.0 {
        service_s / mean_gap_s / f64::from(consumers)
    } else {
        f64::INFINITY
    };
    let model = Model {
        produce_every: Duration::from_secs_f64(mean_gap_s),
        burst_prob: 0.0,
        burst_pause: Duration::ZERO,
        consume_every: service,
        arrivals: ArrivalKind::Exponential,
        service: ServiceKind::Fixed,
        stalls: Vec::new(),
    };
    let fixed = Service::model(&model, POISSON_SEED);
    // NaN (no gaps) counts as overloaded too.
    let overloaded = utilisation.is_nan() || utilisation >= 1.0;
    let (trace_capacity, poisson_capacity, mmck_capacity) = if overloaded {
        (None, None, None)
    } else {
        let trace_capacity = smallest(searched, |capacity| {
            let outcome = replay(
                &Replay {
                    offsets: &trace.offsets,
                    load: 1.0,
                    produce: span,
                    capacity,
                    consumers,
                },
                &fixed,
            );
            outcome.full_share() <= target
        });
        let poisson_capacity = smallest(searched, |capacity| {
            let outcome = sim::simulate_with(
                &Scenario {
                    model: &model,
                    seed: POISSON_SEED,
                    capacity,
                    consumers,
                    horizon: Some(span),
                    // The stream offers about `lines` over the span; a mean gap
                    // below a nanosecond rounds to none, and then only this
                    // bound keeps model time from standing still.
                    messages: Some(lines.saturating_mul(4).max(1024)),
                    when_full: WhenFull::Block,
                },
                &|seq| fixed.ns(seq),
            );
            outcome.full_share() <= target
        });
        let offered = utilisation * f64::from(consumers);
        let mmck_capacity = smallest(searched, |capacity| {
            queueing::m_m_c_k_blocking(offered, consumers, capacity) <= target
        });
        (trace_capacity, poisson_capacity, mmck_capacity)
    };
    let warning = if overloaded {
        Some(format!(
            "rho = {utilisation:.2}: {consumers} consumer(s) at {service_s} s each cannot keep \
             up with this trace's mean rate; no buffer size is an answer, add consumers"
        ))
    } else {
        let needs = trace_capacity.unwrap_or(u64::MAX);
        let short: Vec<String> = [
            ("a Poisson stream", poisson_capacity),
            ("M/M/c/K", mmck_capacity),
        ]
        .iter()
        .filter_map(|&(what, c)| c.filter(|&c| c < needs).map(|c| format!("{what} ({c})")))
        .collect();
        (!short.is_empty()).then(|| {
            format!(
                "sized by {} the buffer would be too small for this trace, which needs {}: \
                 its bursts, not its mean rate, set the size",
                short.join(" or "),
                trace_capacity.map_or(format!("more than {searched}"), |c| c.to_string())
            )
        })
    };
    SizingComparison {
        service_s,
        consumers,
        target_full: target,
        utilisation,
        trace_capacity,
        poisson_capacity,
        mmck_capacity,
        searched,
        warning,
    }
}

/// The smallest capacity in `1..=max` for which `meets` holds, assuming once
/// it holds it holds for every larger one; `None` if not even at `max`.
fn smallest(max: u64, meets: impl Fn(u64) -> bool) -> Option<u64> {
    let max = max.max(1);
    // Doubling to a capacity that meets it, then bisection below it.
    let mut high = 1u64;
    while !meets(high) {
        if high >= max {
            return None;
        }
        high = high.saturating_mul(2).min(max);
    }
    let mut low = high / 2; // fails (or 0)
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if meets(mid) {
            high = mid;
        } else {
            low = mid;
        }
    }
    Some(high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smallest_capacity_meeting_a_monotone_test() {
        for answer in [1, 2, 3, 7, 64, 65, 999, 1000] {
            assert_eq!(smallest(1000, |c| c >= answer), Some(answer));
        }
        assert_eq!(smallest(1000, |c| c >= 1001), None);
        assert_eq!(smallest(1, |_| true), Some(1));
    }

    #[test]
    fn a_bursty_trace_needs_more_than_poisson_and_says_so() {
        // Bursts of 50 callers at one instant every 10 s, 100 ms of service:
        // ρ = 0.5. Poisson of the same mean rate needs a few slots; the
        // bursts need about 49 (one is taken at once).
        const S: u64 = 1_000_000_000;
        let offsets: Vec<u64> = (0..100u64)
            .flat_map(|b| std::iter::repeat_n(b * 10 * S, 50))
            .collect();
        let trace = Trace::from_offsets("bursts", offsets);
        let c = compare(&trace, Duration::from_millis(100), 1, 0.01);
        let needs = c.trace_capacity.unwrap();
        assert!((45..=49).contains(&needs), "{c:?}");
        let poisson = c.poisson_capacity.unwrap();
        assert!(poisson < needs / 2, "{c:?}");
        assert!(c.mmck_capacity.unwrap() < needs / 2, "{c:?}");
        let warning = c.warning.unwrap();
        assert!(warning.contains("too small for this trace"), "{warning}");
    }

    #[test]
    fn an_overloaded_trace_has_no_capacity_and_a_warning() {
        const MS: u64 = 1_000_000;
        let trace = Trace::from_offsets("steady", (0..1000).map(|i| i * 10 * MS).collect());
        let c = compare(&trace, Duration::from_millis(20), 1, 0.01);
        assert!(c.utilisation > 1.9, "{c:?}");
        assert_eq!(
            (c.trace_capacity, c.poisson_capacity, c.mmck_capacity),
            (None, None, None)
        );
        assert!(c.warning.unwrap().contains("add consumers"));
    }
}
