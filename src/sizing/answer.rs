//! `burstbuf fit`'s answer: given a trace and a service time, one
//! recommendation (capacity, consumers, margin) at each load, computed by the
//! sweep's own code path — the trace replayed and block-resampled
//! ([`crate::sizing::sweep::rows`]), the recommendation drawn from those rows
//! (`crate::sizing::recommend`) — so that `fit` and the `burstbuf sweep`
//! command it prints give the same answer, and the answer is never the
//! fitted models'.
//!
//! One thing `fit` adds: the consumer counts tried at each load start at the
//! fewest for which the trace's busiest window (see
//! [`crate::traffic::load`]) runs at ρ < 1. A mean over the whole trace can
//! hide minutes in which the consumers cannot keep up, and a big enough
//! buffer would still meet the full-share target by holding those minutes'
//! backlog as latency.

use std::fmt::Write as _;

use serde::Serialize;

use crate::sizing::compare::{self, Comparison};
use crate::sizing::recommend::{self, Recommendation};
use crate::sizing::report::percent;
use crate::sizing::sweep::{self, Refused, Share, SweepConfig};
use crate::traffic::fit::{FitContext, TraceFit, fit_trace_with, shell_word};
use crate::traffic::load::LoadOverTime;
use crate::traffic::{ServiceOrder, Trace};
use crate::units::factor;

/// Consumer counts tried at a load, from the fewest that keep the busiest
/// window stable: that many and this many more.
pub const MORE_CONSUMERS: u32 = 3;

/// What `fit` sweeps at each load: the sweep's configuration, and how it was chosen.
#[derive(Debug, Clone)]
pub struct Plan {
    /// One sweep per load: `traffic.loads` is that load alone.
    pub sweeps: Vec<SweepConfig>,
    /// The service options as the user gave them (`--consume-every 300ms`).
    pub service_flags: String,
    /// The mean service time, seconds.
    pub service_s: f64,
    /// The trace's arrivals per window, for that service.
    pub load_over_time: LoadOverTime,
    /// Whether the consumer counts were given (`--consumers`) rather than chosen.
    pub consumers_given: bool,
}

impl Plan {
    /// The sweeps for `template` (the trace, the service, the targets, the
    /// runs; its loads are the loads to answer for), one per load, with
    /// `consumers` if given, else counts from the fewest that keep the
    /// busiest window stable (at most `most`). Refused as the sweep would refuse it.
    pub fn new(
        template: &SweepConfig,
        consumers: Option<Vec<u32>>,
        service_flags: String,
        most: u32,
    ) -> Result<Plan, Refused> {
        let trace = template
            .traffic
            .trace
            .as_ref()
            .expect("fit's sweep replays a trace");
        let service_s = template.traffic.mean_service(&template.model).as_secs_f64();
        let load_over_time = LoadOverTime::of(&trace.offsets, trace.start_ns, service_s);
        let sweeps = template
            .traffic
            .loads
            .iter()
            .map(|&load| {
                let tried = consumers.clone().unwrap_or_else(|| {
                    let first = load_over_time
                        .consumers_for_busiest(load, service_s, most)
                        .unwrap_or(most);
                    (first..=first.saturating_add(MORE_CONSUMERS).min(most)).collect()
                });
                let mut config = template.clone();
                config.traffic.loads = vec![load];
                config.consumers = tried;
                sweep::check(&config).map(|()| config)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Plan {
            sweeps,
            service_flags,
            service_s,
            load_over_time,
            consumers_given: consumers.is_some(),
        })
    }
}

/// The answer at one load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadAnswer {
    pub load: f64,
    /// `None` when no capacity tried meets the target with any consumer count tried.
    pub capacity: Option<u64>,
    pub consumers: Option<u32>,
    pub full_share: Option<Share>,
    /// The consumer counts tried.
    pub consumers_tried: Vec<u32>,
    /// ρ over the whole trace and in its busiest window, with the recommended
    /// consumers (or the most tried, with none recommended).
    pub mean_utilisation: f64,
    pub busiest_utilisation: f64,
    /// Why the answer may not hold (the sweep's own warning), or that the
    /// mean hides busy windows.
    pub warnings: Vec<String>,
    /// The `burstbuf sweep` command that gives the same answer.
    pub sweep: String,
    /// The sweep's recommendation, for the text.
    #[serde(skip)]
    pub recommendation: Recommendation,
}

/// `fit`'s output with an answer: the description and fits, the comparison
/// at the first load, and the recommendation at each load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitAnswer {
    #[serde(flatten)]
    pub fit: TraceFit,
    /// The runs behind each answer: the trace replayed, then block resamples.
    pub runs: u32,
    pub recommendation: Vec<LoadAnswer>,
}

/// `fit` with a service time: describes the trace, compares the streams at
/// the first load, and answers at each load by the sweep's code path.
pub fn answer(plan: &Plan) -> FitAnswer {
    let first = &plan.sweeps[0];
    let trace = first.traffic.trace.as_ref().expect("fit replays a trace");
    let loads: Vec<String> = plan
        .sweeps
        .iter()
        .map(|s| factor(s.traffic.loads[0]))
        .collect();
    let mut fit = fit_trace_with(
        trace,
        &FitContext {
            service_s: Some(plan.service_s),
            service_flags: Some(plan.service_flags.clone()),
            loads: loads.join(","),
        },
    );
    let recommendation: Vec<LoadAnswer> = plan
        .sweeps
        .iter()
        .map(|config| at_load(config, plan, trace))
        .collect();
    // The comparison at the first load, with the consumers recommended there.
    let consumers = recommendation[0]
        .consumers
        .unwrap_or_else(|| *first.consumers.last().expect("a consumer count"));
    fit.sizing = Some(compare::compare(&Comparison {
        trace,
        service: &first.traffic.service(&first.model, first.seed),
        service_s: plan.service_s,
        load: first.traffic.loads[0],
        consumers,
        target: first.target_full,
        bursty: fit.bursty.as_ref(),
    }));
    FitAnswer {
        fit,
        runs: first.runs,
        recommendation,
    }
}

fn at_load(config: &SweepConfig, plan: &Plan, trace: &Trace) -> LoadAnswer {
    let load = config.traffic.loads[0];
    let rows = sweep::rows(config);
    let recommendation = recommend::recommend(&rows, config);
    let consumers = recommendation
        .consumers
        .unwrap_or_else(|| *config.consumers.last().expect("a consumer count"));
    let window = &plan.load_over_time;
    let mean_utilisation = config
        .traffic
        .utilisation(&config.model, load, consumers, config.duration)
        .unwrap_or(f64::INFINITY);
    let busiest_utilisation = window.busiest_utilisation(load, plan.service_s, consumers);
    let mut warnings: Vec<String> = recommendation.warning.iter().cloned().collect();
    let fewest = config.consumers[0];
    let mean_fewest = config
        .traffic
        .utilisation(&config.model, load, 1, config.duration)
        .unwrap_or(f64::INFINITY);
    let by_mean = (mean_fewest.floor() + 1.0).max(1.0);
    if !plan.consumers_given && f64::from(fewest) > by_mean {
        warnings.push(format!(
            "the mean rate hides busy windows: by the mean {by_mean:.0} consumer(s) would \
             keep up (rho {:.2}), but the busiest {} runs at rho {:.2} with them; \
             {fewest} are the fewest tried",
            mean_fewest / by_mean,
            window.window_name(),
            window.busiest_utilisation(load, plan.service_s, by_mean as u32),
        ));
    } else if busiest_utilisation >= 1.0 {
        warnings.push(format!(
            "the busiest {} runs at rho {busiest_utilisation:.2} with {consumers} \
             consumer(s): the buffer holds its backlog as latency",
            window.window_name()
        ));
    }
    LoadAnswer {
        load,
        capacity: recommendation.capacity,
        consumers: recommendation.consumers,
        full_share: recommendation.full_share,
        consumers_tried: config.consumers.clone(),
        mean_utilisation,
        busiest_utilisation,
        warnings,
        sweep: sweep_command(config, plan, trace),
        recommendation,
    }
}

/// The `burstbuf sweep` command that computes the same answer at one load.
fn sweep_command(config: &SweepConfig, plan: &Plan, trace: &Trace) -> String {
    let consumers: Vec<String> = config.consumers.iter().map(u32::to_string).collect();
    let mut line = format!(
        "burstbuf sweep --arrivals-from {} --time-format {} {} --load {} --consumers {} \
         --target-full {} --runs {} --seed {}",
        shell_word(&trace.name),
        trace.format.name(),
        plan.service_flags,
        factor(config.traffic.loads[0]),
        consumers.join(","),
        config.target_full,
        config.runs,
        config.seed
    );
    if config.traffic.block != sweep::BLOCK {
        let _ = write!(line, " --block {}", exact_duration(config.traffic.block));
    }
    if matches!(&config.traffic.service, Some((_, ServiceOrder::Replay))) {
        line += " --service-order replay";
    }
    line
}

impl FitAnswer {
    pub fn text(&self) -> String {
        let mut out = self.fit.text();
        let _ = writeln!(
            out,
            "\nAnswer, from the trace replayed{} (as `burstbuf sweep` computes it; consumer \
             counts from the fewest that keep the busiest window below rho 1; capacities in \
             1-2-5 steps, the upper bound over the runs meeting the target, so at least the \
             trace's own need above):",
            if self.runs > 1 {
                format!(" and {} block resamples of it", self.runs - 1)
            } else {
                String::new()
            }
        );
        for a in &self.recommendation {
            let at = format!("at {}x load", factor(a.load));
            match (a.capacity, a.consumers, &a.full_share) {
                (Some(capacity), Some(consumers), Some(share)) => {
                    let margin = match share.ci_high {
                        Some(high) => format!(
                            "mean {}, 95% upper bound {}",
                            percent(share.mean),
                            percent(high)
                        ),
                        None => format!("{} in one run, no interval", percent(share.mean)),
                    };
                    let _ = writeln!(
                        out,
                        "  {at}: capacity {capacity} with {consumers} consumer(s) ({margin} of \
                         sends find it full; target {}); rho {:.2} on the mean, {:.2} in the \
                         busiest window",
                        percent(a.recommendation.target_full),
                        a.mean_utilisation,
                        a.busiest_utilisation
                    );
                }
                _ => {
                    let _ = writeln!(
                        out,
                        "  {at}: no capacity tried meets the target with {} consumer(s); try \
                         more (--consumers)",
                        a.consumers_tried
                            .iter()
                            .map(u32::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
            }
            for warning in &a.warnings {
                let _ = writeln!(out, "    WARNING: {warning}");
            }
            let _ = writeln!(out, "    the same: {}", a.sweep);
        }
        out
    }
}

/// A duration as one option value that reads back exactly: in the largest
/// unit (s, ms, us, ns) that holds it whole.
pub fn exact_duration(d: std::time::Duration) -> String {
    let ns = d.as_nanos();
    match ns {
        0 => "0s".into(),
        ns if ns % 1_000_000_000 == 0 => format!("{}s", ns / 1_000_000_000),
        ns if ns % 1_000_000 == 0 => format!("{}ms", ns / 1_000_000),
        ns if ns % 1_000 == 0 => format!("{}us", ns / 1_000),
        ns => format!("{ns}ns"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn durations_are_written_to_read_back_exactly() {
        for (d, text) in [
            (Duration::from_millis(300), "300ms"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::from_secs(60), "60s"),
            (Duration::from_nanos(1_000_001), "1000001ns"),
            (Duration::ZERO, "0s"),
        ] {
            assert_eq!(exact_duration(d), text);
            assert_eq!(humantime::parse_duration(text).unwrap(), d);
        }
    }
}
