//! One point's figures: each simulation's, and their combination over the
//! runs into the point's [`Row`] (means, the full share's 95% interval, the
//! what-if figures), in run order so the row does not depend on the threads.

use serde::{Serialize, Serializer};

use super::config::SweepConfig;
use crate::model::WhenFull;
use crate::sizing::sim::StallEffect;
use crate::sizing::{interval, queueing};

/// One point of the sweep.
#[derive(Debug, Clone, Copy)]
pub(super) struct Point {
    pub load: f64,
    pub when_full: WhenFull,
    pub capacity: u64,
    pub consumers: u32,
}

/// One simulation's figures, in model time.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Figures {
    pub dropped: u64,
    /// The p99 of the time blocked over all sends (not blocked: 0).
    pub p99_all_s: f64,
    /// What each `--stall` cost, in the model's order.
    pub stalls: Vec<StallEffect>,
    pub produced: u64,
    pub full_count: u64,
    pub full_share: f64,
    pub blocked_p50_s: Option<f64>,
    pub blocked_p99_s: Option<f64>,
    pub blocked_max_s: Option<f64>,
    pub blocked_total_s: f64,
    pub max_depth: u64,
    pub mean_in_buffer_s: f64,
    pub throughput: Option<f64>,
}

/// A figure over the runs: the mean, and the upper end of its 95% interval
/// with two runs or more.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Upper {
    pub mean: f64,
    pub ci_high: Option<f64>,
}

impl Upper {
    /// What must meet a target: the upper bound, or with one run the one figure.
    pub fn bound(&self) -> f64 {
        self.ci_high.unwrap_or(self.mean)
    }
}

/// A share over the runs: the mean, and the 95% interval with two runs or more.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Share {
    pub mean: f64,
    /// `None` (JSON `null`) with one run.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

impl Share {
    /// What must meet the target: the upper bound, or with one run the one share.
    pub fn bound(&self) -> f64 {
        self.ci_high.unwrap_or(self.mean)
    }
}

/// One point's figures, in model time: the mean over its runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// `--load`, when loads are swept (else left out of the JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<f64>,
    /// `--when-full`, when policies other than block are swept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when_full: Option<WhenFull>,
    /// Messages dropped (mean over runs), and their share of those offered,
    /// under a drop policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop_share: Option<Share>,
    /// With `--target-p99`: the p99 of the time blocked over all sends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_p99_all_s: Option<Upper>,
    /// With `--message-size`: the capacity in bytes, and the most bytes the
    /// buffer held (its deepest, mean over the runs, times the size).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_bytes: Option<u64>,
    pub capacity: u64,
    pub consumers: u32,
    #[serde(serialize_with = "number")]
    pub produced: f64,
    #[serde(serialize_with = "number")]
    pub full_count: f64,
    /// The share of sends that found the buffer full.
    pub full_share: Share,
    /// The M/M/c/K prediction of `full_share`, where it applies (the model's
    /// own arrivals and service, both exponential, and no stall).
    pub predicted_full_share: Option<f64>,
    /// Time blocked per blocked send: the mean over the runs that had one;
    /// `None` if no run had a blocked send.
    pub blocked_p50_s: Option<f64>,
    pub blocked_p99_s: Option<f64>,
    pub blocked_max_s: Option<f64>,
    pub blocked_total_s: f64,
    #[serde(serialize_with = "number")]
    pub max_depth: f64,
    /// Mean time a message waited in the buffer.
    pub mean_in_buffer_s: f64,
    /// Messages sent per second of producing time.
    pub throughput: Option<f64>,
    /// What each `--stall` cost here (mean over the runs); left out without stalls.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stalls: Vec<StallRow>,
}

/// One stall's cost at one point: the deepest the buffer got while it lasted,
/// and the sends made while it lasted that found the buffer full, with the
/// time they were blocked in all (a mean over the runs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StallRow {
    pub at_s: f64,
    pub length_s: f64,
    #[serde(serialize_with = "number")]
    pub backlog_peak: f64,
    #[serde(serialize_with = "number")]
    pub full_count: f64,
    pub blocked_s: f64,
}

/// A mean of counts: written as a whole number when it is one (always, with one run).
fn number<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    if x.fract() == 0.0 && (0.0..9.0e15).contains(x) {
        s.serialize_u64(*x as u64)
    } else {
        s.serialize_f64(*x)
    }
}

/// One point's row from its runs, in run order.
pub(super) fn combine(config: &SweepConfig, point: Point, runs: &[Figures]) -> Row {
    let Point {
        load,
        when_full,
        capacity,
        consumers,
    } = point;
    let mean = |f: fn(&Figures) -> f64| average(runs.iter().map(f));
    // The mean over the runs that have the figure.
    let mean_of_some = |f: fn(&Figures) -> Option<f64>| {
        let some: Vec<f64> = runs.iter().filter_map(f).collect();
        (!some.is_empty()).then(|| average(some.into_iter()))
    };
    let shares: Vec<f64> = runs.iter().map(|r| r.full_share).collect();
    let full: u64 = runs.iter().map(|r| r.full_count).sum();
    let produced: u64 = runs.iter().map(|r| r.produced).sum();
    let estimate = interval::share(&shares, full, produced);
    let from_files = config.traffic.trace.is_some() || config.traffic.service.is_some();
    let what_if = &config.what_if;
    let dropping = when_full != WhenFull::Block;
    let drop_share = dropping.then(|| {
        let shares: Vec<f64> = runs
            .iter()
            .map(|r| {
                if r.produced == 0 {
                    0.0
                } else {
                    r.dropped as f64 / r.produced as f64
                }
            })
            .collect();
        let dropped: u64 = runs.iter().map(|r| r.dropped).sum();
        let e = interval::share(&shares, dropped, produced);
        Share {
            mean: e.mean,
            ci_low: e.interval.map(|i| i.0),
            ci_high: e.interval.map(|i| i.1),
        }
    });
    let p99s: Vec<f64> = runs.iter().map(|r| r.p99_all_s).collect();
    let blocked_p99_all_s = what_if.target_p99.is_some().then(|| Upper {
        mean: average(p99s.iter().copied()),
        ci_high: interval::mean_upper(&p99s),
    });
    let max_depth = mean(|r| r.max_depth as f64);
    Row {
        load: config.traffic.swept().then_some(load),
        when_full: (what_if.swept()).then_some(when_full),
        dropped: dropping.then(|| mean(|r| r.dropped as f64)),
        drop_share,
        blocked_p99_all_s,
        capacity_bytes: what_if.message_size.map(|b| b.saturating_mul(capacity)),
        peak_bytes: what_if
            .message_size
            .map(|b| (b as f64 * max_depth).round() as u64),
        capacity,
        consumers,
        produced: mean(|r| r.produced as f64),
        full_count: mean(|r| r.full_count as f64),
        full_share: Share {
            mean: estimate.mean,
            ci_low: estimate.interval.map(|i| i.0),
            ci_high: estimate.interval.map(|i| i.1),
        },
        predicted_full_share: if from_files {
            None
        } else {
            queueing::theory(&config.model.at_load(load), consumers, capacity).map(|t| t.full_share)
        },
        blocked_p50_s: mean_of_some(|r| r.blocked_p50_s),
        blocked_p99_s: mean_of_some(|r| r.blocked_p99_s),
        blocked_max_s: mean_of_some(|r| r.blocked_max_s),
        blocked_total_s: mean(|r| r.blocked_total_s),
        max_depth,
        mean_in_buffer_s: mean(|r| r.mean_in_buffer_s),
        throughput: mean_of_some(|r| r.throughput),
        stalls: config
            .model
            .stalls
            .iter()
            .enumerate()
            .map(|(k, stall)| {
                let of = |f: fn(&StallEffect) -> f64| {
                    average(runs.iter().map(move |r| r.stalls.get(k).map_or(0.0, f)))
                };
                StallRow {
                    at_s: stall.at.as_secs_f64(),
                    length_s: stall.length.as_secs_f64(),
                    backlog_peak: of(|e| e.backlog_peak as f64),
                    full_count: of(|e| e.full_count as f64),
                    blocked_s: of(|e| e.blocked_ns as f64 / 1e9),
                }
            })
            .collect(),
    }
}

/// The mean; exactly the value when all are equal (ten runs blocked 280 ms
/// each print 0.28, not 0.2800000000000001).
fn average(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let mut all = values.clone();
    let first = all.next().unwrap_or(0.0);
    if all.all(|v| v == first) {
        return first;
    }
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    sum / n as f64
}

#[cfg(test)]
impl Row {
    /// A row of `capacity` and `consumers` with a full share of `mean` (and
    /// with `high`, an interval from 0 to it), the rest empty: for the tests
    /// of what is drawn from rows.
    pub(crate) fn example(capacity: u64, consumers: u32, mean: f64, high: Option<f64>) -> Row {
        Row {
            load: None,
            when_full: None,
            dropped: None,
            drop_share: None,
            blocked_p99_all_s: None,
            capacity_bytes: None,
            peak_bytes: None,
            capacity,
            consumers,
            produced: 1000.0,
            full_count: mean * 1000.0,
            full_share: Share {
                mean,
                ci_low: high.map(|_| 0.0),
                ci_high: high,
            },
            predicted_full_share: None,
            blocked_p50_s: None,
            blocked_p99_s: None,
            blocked_max_s: None,
            blocked_total_s: 0.0,
            max_depth: 0.0,
            mean_in_buffer_s: 0.0,
            throughput: None,
            stalls: Vec::new(),
        }
    }
}
