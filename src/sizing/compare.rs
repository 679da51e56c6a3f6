//! `burstbuf fit`'s comparison: the capacity the trace needs for a target
//! against the capacity the fitted bursty model, a Poisson stream of the
//! same mean rate and the M/M/c/K formula would ask for, with the same
//! service and consumers, and why they differ. Where the models' answers are
//! smaller, sizing by them would undersize the buffer, and the user is told
//! so plainly.
//!
//! All three streams are replayed the same way (see [`crate::sizing::replay`]:
//! each arrival an independent caller that keeps arriving while others
//! wait), so they differ only in their arrivals: a Poisson trace compared
//! with a producer that waits would show a difference of semantics, not of
//! traffic. The model streams hold as many arrivals as the trace, at its
//! mean gap.
//!
//! Each answer is the smallest capacity whose share of sends finding the
//! buffer full is at most the target, found by doubling then bisection
//! (the share falls as the capacity grows), so about 2·log₂(lines)
//! replays.

use crate::model::{ArrivalKind, Arrivals, Model};
use crate::sizing::queueing;
use crate::sizing::replay::{Replay, replay};
use crate::traffic::Service;
use crate::traffic::fit::{BurstyFit, SizingComparison};
use crate::traffic::trace::Trace;

/// The seed of the model streams: fixed, so `fit` repeats itself.
const MODEL_SEED: u64 = 1;

/// Poisson streams drawn (seeds `MODEL_SEED`, `MODEL_SEED + 1`, …): the
/// comparison takes the largest capacity any of them needs, so that a
/// Poisson trace, which needs about what a Poisson stream does give or take
/// the draw, is not called burstier than one.
const POISSON_DRAWS: u64 = 3;

/// What is compared: the trace, its service, and the system.
pub struct Comparison<'a> {
    pub trace: &'a Trace,
    /// The service times (those of the sweep's first run).
    pub service: &'a Service,
    /// The mean service time, seconds.
    pub service_s: f64,
    pub load: f64,
    pub consumers: u32,
    pub target: f64,
    /// The fitted bursty model, if any.
    pub bursty: Option<&'a BurstyFit>,
}

/// `lines` arrivals of `model` from 0 (nanoseconds, ascending).
fn stream(model: &Model, lines: u64, seed: u64) -> Vec<u64> {
    let mut arrivals = Arrivals::new(model, seed);
    let mut at = 0u64;
    (0..lines)
        .map(|_| {
            let this = at;
            let gap = u64::try_from(arrivals.next_gap().pause.as_nanos()).unwrap_or(u64::MAX);
            at = at.saturating_add(gap);
            this
        })
        .collect()
}

/// The comparison at one load.
pub fn compare(c: &Comparison) -> SizingComparison {
    let trace = c.trace;
    let lines = trace.lines();
    let consumers = c.consumers.max(1);
    let searched = lines.max(1);
    let mean_gap_s = trace.mean_gap_s(lines).unwrap_or(0.0);
    let utilisation = if mean_gap_s > 0.0 {
        c.service_s * c.load / mean_gap_s / f64::from(consumers)
    } else {
        f64::INFINITY
    };
    // NaN (no gaps) counts as overloaded too.
    let overloaded = utilisation.is_nan() || utilisation >= 1.0;
    let needs = |offsets: &[u64]| {
        let produce = std::time::Duration::from_nanos(offsets.last().copied().unwrap_or(0));
        smallest(searched, |capacity| {
            replay(
                &Replay {
                    offsets,
                    load: c.load,
                    produce,
                    capacity,
                    consumers,
                },
                c.service,
            )
            .full_share()
                <= c.target
        })
    };
    let gap = std::time::Duration::from_secs_f64(mean_gap_s.max(0.0));
    let poisson_model = Model {
        produce_every: gap,
        burst_prob: 0.0,
        burst_pause: std::time::Duration::ZERO,
        arrivals: ArrivalKind::Exponential,
        ..Model::original()
    };
    let bursty_model = c.bursty.map(|b| Model {
        produce_every: std::time::Duration::from_secs_f64(b.produce_every_s),
        burst_prob: b.burst_prob,
        burst_pause: std::time::Duration::from_secs_f64(b.burst_pause_s),
        arrivals: ArrivalKind::Bursty,
        ..Model::original()
    });
    let (trace_capacity, bursty_capacity, poisson_capacity, mmck_capacity) = if overloaded {
        (None, None, None, None)
    } else {
        let offered = utilisation * f64::from(consumers);
        (
            needs(&trace.offsets),
            bursty_model.and_then(|m| needs(&stream(&m, lines, MODEL_SEED))),
            (0..POISSON_DRAWS)
                .map(|draw| needs(&stream(&poisson_model, lines, MODEL_SEED + draw)))
                .try_fold(0, |most, c| c.map(|c| most.max(c))),
            smallest(searched, |capacity| {
                queueing::m_m_c_k_blocking(offered, consumers, capacity) <= c.target
            }),
        )
    };
    let warning = if overloaded {
        Some(format!(
            "rho = {utilisation:.2}: {consumers} consumer(s) at {} s each cannot keep \
             up with this trace's mean rate; no buffer size is an answer, add consumers",
            c.service_s
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
        load: c.load,
        service_s: c.service_s,
        consumers,
        target_full: c.target,
        utilisation,
        trace_capacity,
        bursty_capacity,
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
    use std::time::Duration;

    use super::*;
    use crate::traffic::fit::fit_trace;

    /// At load 1 with a fixed service, against the trace's own bursty fit.
    fn compare_fixed(
        trace: &Trace,
        service: Duration,
        consumers: u32,
        target: f64,
    ) -> SizingComparison {
        let model = Model {
            consume_every: service,
            ..Model::original()
        };
        let fit = fit_trace(trace);
        compare(&Comparison {
            trace,
            service: &Service::model(&model, 1),
            service_s: service.as_secs_f64(),
            load: 1.0,
            consumers,
            target,
            bursty: fit.bursty.as_ref(),
        })
    }

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
        let c = compare_fixed(&trace, Duration::from_millis(100), 1, 0.01);
        let needs = c.trace_capacity.unwrap();
        assert!((45..=49).contains(&needs), "{c:?}");
        let poisson = c.poisson_capacity.unwrap();
        assert!(poisson < needs / 2, "{c:?}");
        assert!(c.mmck_capacity.unwrap() < needs / 2, "{c:?}");
        let warning = c.warning.unwrap();
        assert!(warning.contains("too small for this trace"), "{warning}");
    }

    #[test]
    fn a_poisson_trace_is_not_warned_about_being_burstier_than_poisson() {
        // A genuine Poisson trace: both sides replayed as callers, so they
        // differ only by the draw, and the trace does not need more.
        let model = Model {
            arrivals: ArrivalKind::Exponential,
            produce_every: Duration::from_millis(100),
            ..Model::original()
        };
        let trace = Trace::from_offsets("poisson", stream(&model, 20_000, 42));
        let c = compare_fixed(&trace, Duration::from_millis(70), 1, 0.01);
        let (needs, poisson) = (c.trace_capacity.unwrap(), c.poisson_capacity.unwrap());
        assert!(needs.abs_diff(poisson) * 4 <= poisson, "{c:?}");
        assert!(
            c.warning
                .as_deref()
                .is_none_or(|w| !w.contains("a Poisson stream")),
            "{c:?}"
        );
    }

    #[test]
    fn an_overloaded_trace_has_no_capacity_and_a_warning() {
        const MS: u64 = 1_000_000;
        let trace = Trace::from_offsets("steady", (0..1000).map(|i| i * 10 * MS).collect());
        let c = compare_fixed(&trace, Duration::from_millis(20), 1, 0.01);
        assert!(c.utilisation > 1.9, "{c:?}");
        assert_eq!(
            (c.trace_capacity, c.poisson_capacity, c.mmck_capacity),
            (None, None, None)
        );
        assert!(c.warning.unwrap().contains("add consumers"));
    }
}
