//! `burstbuf fit`: what a trace looks like (rates, peaks, gaps), and the
//! parameters of the built-in models that fit it best, with how well each fits.
//!
//! The bursty model's gaps are `produce-every`, plus `burst-pause` with
//! probability `burst-prob`: two kinds of gap. The fit splits the gaps in two
//! by 2-means on their logarithms (a short kind and a long kind, however many
//! decades apart), then sets `produce-every` to the mean short gap,
//! `burst-prob` to the share of long gaps and `burst-pause` to the mean long
//! gap minus `produce-every`. This keeps the trace's mean gap exactly (so the
//! fitted model offers the same rate). The exponential model's mean is the
//! mean gap (its maximum-likelihood estimate). How well each fits is the
//! Kolmogorov–Smirnov distance between the gaps and the model's gap
//! distribution: the largest difference of the two cumulative distributions,
//! from 0 (identical) to 1. The bursty model's gaps take two values only, so
//! spread within each kind of gap counts against it.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use super::load::{LoadOverTime, WindowCount};
use super::parse::printable;
use super::service::EmpiricalService;
use super::trace::Trace;
use crate::model::MAX_DURATION;
use crate::units::seconds;

/// The peak-rate windows, in seconds.
pub const WINDOWS: [u64; 3] = [1, 10, 60];

/// The index-of-dispersion windows, in seconds.
pub const DISPERSION_WINDOWS: [u64; 4] = [1, 10, 60, 600];

/// A model whose Kolmogorov–Smirnov distance from the gaps is above this does
/// not describe the trace: it misplaces more than a tenth of the gaps, and a
/// buffer sized by it is sized for other traffic. (A significance test would
/// reject every model of a long real trace; this says whether it is close.)
pub const KS_THRESHOLD: f64 = 0.1;

/// Gaps within this share of each other count as equal when a model is
/// compared with them: the bursty model's gaps take two exact values, and
/// 1 ns of jitter on 20 ms gaps must not make it look like no fit at all.
pub const KS_TOLERANCE: f64 = 0.01;

/// Fewer whole windows than this and the index of dispersion is not given:
/// a variance of a handful of counts says little.
pub const MIN_WINDOWS: u64 = 10;

/// A trace's statistics and fitted models.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceFit {
    pub file: String,
    pub format: &'static str,
    pub lines: u64,
    pub span_s: f64,
    pub out_of_order: u64,
    /// Arrivals per second: one over the mean gap, (lines − 1) / span (see
    /// `Trace::mean_gap_s`); `None` for a span of zero.
    pub mean_rate: Option<f64>,
    /// The most arrivals in any window of 1 s, 10 s and 60 s, per second.
    pub peak_rates: Vec<PeakRate>,
    /// `None` with fewer than two lines.
    pub gaps: Option<Summary>,
    pub bursty: Option<BurstyFit>,
    pub exponential: Option<ExponentialFit>,
    /// How bursty it is, in numbers a Poisson stream would not show.
    pub burstiness: Burstiness,
    /// Arrivals per window (a minute, or longer for a long service) and the busiest windows.
    pub load_over_time: LoadOverTime,
    /// Above this KS distance a model does not describe the trace ([`KS_THRESHOLD`]).
    pub ks_threshold: f64,
    /// Set when the trace's times have a resolution of a second or coarser.
    pub resolution: Option<String>,
    /// Set when a run of the fitted model would see too few messages to size by.
    pub model_warning: Option<String>,
    /// The capacity the trace needs against that a Poisson stream of the
    /// same mean rate would need; filled in by the caller (it takes the
    /// sweep's simulation), with `--consume-every`.
    pub sizing: Option<SizingComparison>,
    /// `burstbuf sweep` with the trace itself, and with the fitted bursty model.
    pub sweep_trace: String,
    pub sweep_model: Option<String>,
    /// Whether a service time was given (then the commands carry it, and
    /// `fit` itself ends with the answer).
    #[serde(skip)]
    pub service_given: bool,
}

/// What `fit` was told besides the trace, for its statistics and its
/// suggested commands.
#[derive(Debug, Clone, Default)]
pub struct FitContext {
    /// The mean service time, seconds, when one was given.
    pub service_s: Option<f64>,
    /// The service options as given (`--consume-every 300ms`), for the commands.
    pub service_flags: Option<String>,
    /// The loads as an option value (`1,2`); `1,2` when empty.
    pub loads: String,
}

/// The burstiness fingerprint. A Poisson stream has an index of dispersion
/// of 1 at every window, peak-to-mean rates near 1 over long windows, and
/// uncorrelated gaps; bursty traffic has an index far above 1 that grows
/// with the window (bursts of bursts), and that is what a buffer sized for
/// Poisson traffic misses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Burstiness {
    /// Variance over mean of the arrivals counted in consecutive windows.
    pub dispersion: Vec<Dispersion>,
    /// The peak rate over each window (as in `peak_rates`) over the mean
    /// rate; only windows no longer than the span (a longer one holds the
    /// whole trace and says nothing).
    pub peak_to_mean: Vec<PeakToMean>,
    /// Lag-1 autocorrelation of the gaps: near 0 for independent gaps,
    /// positive when short gaps follow short ones (bursts). `None` under 3 gaps
    /// or when every gap is equal.
    pub gap_lag1_autocorrelation: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dispersion {
    pub window_s: u64,
    /// Whole windows in the span.
    pub windows: u64,
    /// `None` with fewer than [`MIN_WINDOWS`] windows, or none arriving.
    pub index: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeakToMean {
    pub window_s: u64,
    pub ratio: f64,
}

/// The buffer this trace needs, by simulation, against what a Poisson
/// stream of the same mean rate would need, with the same service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizingComparison {
    /// The `--load` it is at.
    pub load: f64,
    /// The mean service time per message, seconds.
    pub service_s: f64,
    pub consumers: u32,
    /// The share of sends allowed to find the buffer full.
    pub target_full: f64,
    /// λ·service/consumers at the load.
    pub utilisation: f64,
    /// Smallest capacity meeting the target with the trace replayed; `None`
    /// if none up to `searched` does (or ρ ≥ 1).
    pub trace_capacity: Option<u64>,
    /// The same with as many arrivals of the fitted bursty model, replayed alike.
    pub bursty_capacity: Option<u64>,
    /// The same with as many Poisson arrivals of the trace's mean rate,
    /// replayed alike: the most any of three draws needs (`None` if one
    /// needs more than `searched`).
    pub poisson_capacity: Option<u64>,
    /// The same by the M/M/c/K formula (exponential service too).
    pub mmck_capacity: Option<u64>,
    /// The largest capacity tried.
    pub searched: u64,
    /// Set when a Poisson or M/M/c/K answer would undersize the buffer.
    pub warning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeakRate {
    pub window_s: u64,
    pub per_s: f64,
}

/// The distribution of gaps or service times, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub count: u64,
    pub mean_s: f64,
    pub p50_s: f64,
    pub p90_s: f64,
    pub p99_s: f64,
    pub max_s: f64,
    /// Standard deviation over the mean; 1 for exponential, 0 for constant.
    pub cv: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BurstyFit {
    pub produce_every_s: f64,
    pub burst_prob: f64,
    pub burst_pause_s: f64,
    /// Kolmogorov–Smirnov distance of the gaps from the model's (gaps within
    /// [`KS_TOLERANCE`] of each other counted as equal).
    pub ks: f64,
    /// `ks` at most [`KS_THRESHOLD`].
    pub describes: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExponentialFit {
    pub mean_gap_s: f64,
    pub ks: f64,
    pub describes: bool,
}

/// Service times' statistics (`burstbuf fit --service-from`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceFit {
    pub file: String,
    pub times: Summary,
    /// `burstbuf sweep` with the file, and with the exponential model of the same mean.
    pub sweep_file: String,
    pub sweep_model: String,
}

/// Quantile `q` of sorted values (nearest rank).
fn quantile(sorted: &[u64], q: f64) -> u64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The summary of values in nanoseconds; sorts them.
fn summarise(values: &mut [u64]) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    let s = |ns: u64| ns as f64 / 1e9;
    Some(Summary {
        count: values.len() as u64,
        mean_s: mean / 1e9,
        p50_s: s(quantile(values, 0.5)),
        p90_s: s(quantile(values, 0.9)),
        p99_s: s(quantile(values, 0.99)),
        max_s: s(values[values.len() - 1]),
        cv: if mean > 0.0 { var.sqrt() / mean } else { 0.0 },
    })
}

/// The most offsets in any window `[t, t + w)`, by two pointers.
fn peak_count(offsets: &[u64], window_ns: u64) -> u64 {
    let (mut best, mut start) = (0usize, 0usize);
    for (end, &t) in offsets.iter().enumerate() {
        while offsets[start] + window_ns <= t {
            start += 1;
        }
        best = best.max(end + 1 - start);
    }
    best as u64
}

/// Index of dispersion of the counts in consecutive windows of `window_ns`
/// from the first arrival (whole windows only), and how many windows.
///
/// One pass over the offsets (sorted), keeping only the windows that hold
/// arrivals: memory and time in proportion to the lines, not the span (two
/// lines a century apart are three billion one-second windows, nearly all
/// empty, which count in the variance without being stored).
fn dispersion(offsets: &[u64], window_ns: u64) -> (u64, Option<f64>) {
    let span = offsets.last().copied().unwrap_or(0);
    let windows = span / window_ns;
    if windows < MIN_WINDOWS {
        return (windows, None);
    }
    // The counts of the windows that hold arrivals, in order.
    let mut counts: Vec<u64> = Vec::new();
    let mut current = None;
    for &t in offsets {
        let i = t / window_ns;
        if i >= windows {
            break; // sorted: the rest are past the last whole window
        }
        if current == Some(i) {
            *counts.last_mut().expect("a window is open") += 1;
        } else {
            counts.push(1);
            current = Some(i);
        }
    }
    let n = windows as f64;
    let mean = counts.iter().sum::<u64>() as f64 / n;
    if mean <= 0.0 {
        return (windows, None);
    }
    let empty = windows - counts.len() as u64;
    let squares = counts
        .iter()
        .map(|&c| (c as f64 - mean).powi(2))
        .sum::<f64>()
        + empty as f64 * mean * mean;
    (windows, Some(squares / (n - 1.0) / mean))
}

/// Lag-1 autocorrelation of a series.
fn lag1_autocorrelation(values: &[u64]) -> Option<f64> {
    if values.len() < 3 {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    // Two passes over the values, no copy: a trace of 10^7 lines holds 80 MB
    // of gaps already.
    let dev = |v: u64| v as f64 - mean;
    let denominator: f64 = values.iter().map(|&v| dev(v) * dev(v)).sum();
    if denominator <= 0.0 {
        return None;
    }
    let numerator: f64 = values.windows(2).map(|w| dev(w[0]) * dev(w[1])).sum();
    Some(numerator / denominator)
}

/// The fingerprint of a trace's offsets and gaps (in file order).
pub fn burstiness(
    offsets: &[u64],
    gaps: &[u64],
    peak_rates: &[PeakRate],
    mean_rate: Option<f64>,
) -> Burstiness {
    Burstiness {
        dispersion: DISPERSION_WINDOWS
            .iter()
            .map(|&w| {
                let (windows, index) = dispersion(offsets, w * 1_000_000_000);
                Dispersion {
                    window_s: w,
                    windows,
                    index,
                }
            })
            .collect(),
        peak_to_mean: match mean_rate {
            Some(mean) if mean > 0.0 => peak_rates
                .iter()
                .filter(|p| p.window_s * 1_000_000_000 <= offsets.last().copied().unwrap_or(0))
                .map(|p| PeakToMean {
                    window_s: p.window_s,
                    ratio: p.per_s / mean,
                })
                .collect(),
            _ => Vec::new(),
        },
        gap_lag1_autocorrelation: lag1_autocorrelation(gaps),
    }
}

/// The Kolmogorov–Smirnov distance between sorted samples and a distribution
/// given by its CDF `cdf(x) = P(X ≤ x)` and left limit `below(x) = P(X < x)`,
/// where a sample within [`KS_TOLERANCE`] of `x` may count as at `x`: the
/// largest amount by which one CDF runs ahead of the other shifted by that
/// tolerance. With no tolerance it is the plain distance; with it, a model
/// whose gaps take exact values (the bursty model's two) is not judged by
/// the jitter and rounding of a recorded trace. The samples are sorted
/// nanoseconds; the CDFs take seconds.
fn ks(sorted_ns: &[u64], cdf: impl Fn(f64) -> f64, below: impl Fn(f64) -> f64) -> f64 {
    let n = sorted_ns.len() as f64;
    let slack = |x: f64| x.abs() * KS_TOLERANCE;
    let mut d = 0.0f64;
    // The empirical CDF steps up at the samples, the model's rises in x: the
    // samples run ahead of the model most just at a sample, behind it most
    // just before one. One pass over the runs of equal samples.
    let mut i = 0;
    while i < sorted_ns.len() {
        let value = sorted_ns[i];
        let mut j = i + 1;
        while j < sorted_ns.len() && sorted_ns[j] == value {
            j += 1;
        }
        let x = value as f64 / 1e9;
        let (at_or_below, strictly_below) = (j as f64 / n, i as f64 / n);
        d = d
            .max(at_or_below - cdf(x + slack(x)))
            .max(below(x - slack(x)) - strictly_below);
        i = j;
    }
    d
}

/// 2-means on the logarithms of the gaps: the threshold between the short
/// and the long kind, or `None` if all gaps are alike.
fn split(sorted_ns: &[u64]) -> Option<u64> {
    // 1 µs added so that zero gaps (ties) have a logarithm.
    let logs: Vec<f64> = sorted_ns.iter().map(|&g| (g as f64 + 1e3).ln()).collect();
    let (mut low, mut high) = (logs[0], logs[logs.len() - 1]);
    if high - low < 1e-9 {
        return None;
    }
    let mut cut = 0;
    for _ in 0..100 {
        let threshold = (low + high) / 2.0;
        let new_cut = logs.partition_point(|&l| l <= threshold);
        if new_cut == cut {
            break;
        }
        cut = new_cut;
        low = logs[..cut].iter().sum::<f64>() / cut as f64;
        high = logs[cut..].iter().sum::<f64>() / (logs.len() - cut) as f64;
    }
    (cut > 0 && cut < logs.len()).then(|| sorted_ns[cut - 1])
}

/// The bursty model fitted to sorted gaps (nanoseconds).
fn fit_bursty(sorted_ns: &[u64]) -> BurstyFit {
    let mean = |v: &[u64]| v.iter().map(|&g| g as f64).sum::<f64>() / v.len() as f64 / 1e9;
    let (every, prob, pause) = match split(sorted_ns) {
        Some(threshold) => {
            let cut = sorted_ns.partition_point(|&g| g <= threshold);
            let (short, long) = sorted_ns.split_at(cut);
            let every = mean(short);
            let prob = long.len() as f64 / sorted_ns.len() as f64;
            (every, prob, (mean(long) - every).max(0.0))
        }
        None => (mean(sorted_ns), 0.0, 0.0),
    };
    let long = every + pause;
    let cdf = |x: f64| {
        if x >= long {
            1.0
        } else if x >= every {
            1.0 - prob
        } else {
            0.0
        }
    };
    let below = |x: f64| {
        if x > long {
            1.0
        } else if x > every {
            1.0 - prob
        } else {
            0.0
        }
    };
    BurstyFit {
        produce_every_s: every,
        burst_prob: prob,
        burst_pause_s: pause,
        ks: ks(sorted_ns, cdf, below),
        describes: false,
    }
    .judged()
}

/// The exponential model of the mean gap (`mean`, see [`Trace::mean_gap_s`]).
fn fit_exponential(sorted_ns: &[u64], mean: f64) -> ExponentialFit {
    let cdf = |x: f64| {
        if mean > 0.0 {
            1.0 - (-x.max(0.0) / mean).exp()
        } else {
            1.0
        }
    };
    let ks = ks(sorted_ns, cdf, cdf);
    ExponentialFit {
        mean_gap_s: mean,
        ks,
        describes: ks <= KS_THRESHOLD,
    }
}

impl BurstyFit {
    fn judged(self) -> BurstyFit {
        BurstyFit {
            describes: self.ks <= KS_THRESHOLD,
            ..self
        }
    }
}

/// A duration the way the options read it, to three significant digits (a
/// fit is no more precise than that): whole seconds, milliseconds or microseconds.
pub fn option_duration(secs: f64) -> String {
    let mut us = (secs * 1e6).round().max(0.0) as u64;
    let mut scale = 1;
    while us >= 1000 * scale {
        scale *= 10;
    }
    us = (us + scale / 2) / scale * scale;
    if us > 0 && us.is_multiple_of(1_000_000) {
        format!("{}s", us / 1_000_000)
    } else if us.is_multiple_of(1000) {
        format!("{}ms", us / 1000)
    } else {
        format!("{us}us")
    }
}

/// A path as one shell word. One with control characters (which a terminal
/// would act on if printed as they are) is written in ANSI-C quotes,
/// `$'a\x1b[2Jb'`, which bash, zsh and ksh read back as the same path.
pub fn shell_word(path: &str) -> String {
    let plain = !path.is_empty()
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./-+:=@%".contains(&b));
    if plain {
        path.into()
    } else if path.chars().any(char::is_control) {
        let mut word = String::from("$'");
        for c in path.chars() {
            match c {
                '\'' | '\\' => {
                    word.push('\\');
                    word.push(c);
                }
                '\n' => word.push_str("\\n"),
                '\t' => word.push_str("\\t"),
                c if c.is_control() => {
                    let mut bytes = [0; 4];
                    for b in c.encode_utf8(&mut bytes).bytes() {
                        word.push_str(&format!("\\x{b:02x}"));
                    }
                }
                c => word.push(c),
            }
        }
        word + "'"
    } else {
        format!("'{}'", path.replace('\'', r"'\''"))
    }
}

/// Fits a trace, with nothing known but the trace.
pub fn fit_trace(trace: &Trace) -> TraceFit {
    fit_trace_with(trace, &FitContext::default())
}

/// A run of a model that sees fewer messages than this sizes for a handful
/// of arrivals, not for the traffic: its suggested command says so.
pub const FEW_MESSAGES: f64 = 1000.0;

/// Fits a trace; `context` says what else was given (a service time, the loads).
pub fn fit_trace_with(trace: &Trace, context: &FitContext) -> TraceFit {
    let offsets = &trace.offsets;
    let span_s = trace.span().as_secs_f64();
    let mut gaps: Vec<u64> = offsets.windows(2).map(|w| w[1] - w[0]).collect();
    let mean_gap_s = trace.mean_gap_s(trace.lines());
    let mean_rate = mean_gap_s.filter(|&gap| gap > 0.0).map(|gap| 1.0 / gap);
    let peak_rates: Vec<PeakRate> = WINDOWS
        .iter()
        .map(|&w| PeakRate {
            window_s: w,
            per_s: peak_count(offsets, w * 1_000_000_000) as f64 / w as f64,
        })
        .collect();
    // Before the gaps are sorted: the autocorrelation needs their order.
    let burstiness = burstiness(offsets, &gaps, &peak_rates, mean_rate);
    let gap_summary = summarise(&mut gaps);
    let (bursty, exponential) = if gaps.is_empty() {
        (None, None)
    } else {
        (
            Some(fit_bursty(&gaps)),
            Some(fit_exponential(&gaps, mean_gap_s.unwrap_or(0.0))),
        )
    };
    let file = shell_word(&trace.name);
    let loads = if context.loads.is_empty() {
        "1,2"
    } else {
        &context.loads
    };
    let service = context
        .service_flags
        .as_ref()
        .map_or(String::new(), |flags| format!(" {flags}"));
    let sweep_trace = format!(
        "burstbuf sweep --arrivals-from {file} --time-format {}{service} --load {loads}",
        trace.format.name()
    );
    let mut model_warning = None;
    let sweep_model = bursty.as_ref().map(|b| {
        let mut line = format!(
            "burstbuf sweep --produce-every {} --burst-prob {:.4} --burst-pause {}{service}",
            option_duration(b.produce_every_s),
            b.burst_prob,
            option_duration(b.burst_pause_s)
        );
        // The same time as the trace, or as much of it as the option allows:
        // without it a model of a long trace runs for the default hour.
        let duration = trace.span().clamp(Duration::from_millis(1), MAX_DURATION);
        let _ = write!(
            line,
            " --duration {}",
            option_duration(duration.as_secs_f64())
        );
        let mean_gap = b.produce_every_s + b.burst_prob * b.burst_pause_s;
        let messages = if mean_gap > 0.0 {
            duration.as_secs_f64() / mean_gap
        } else {
            f64::INFINITY
        };
        if messages < FEW_MESSAGES {
            model_warning = Some(format!(
                "a run of the fitted model sees about {messages:.0} messages over its \
                 duration: too few to size a buffer by"
            ));
        }
        if trace.span() > MAX_DURATION {
            model_warning.get_or_insert_with(|| {
                format!(
                    "the trace spans {}, longer than the most a sweep simulates ({}): the \
                     model's run covers only part of it",
                    seconds(span_s),
                    seconds(MAX_DURATION.as_secs_f64())
                )
            });
        }
        line + &format!(" --load {loads}")
    });
    TraceFit {
        file: trace.name.clone(),
        format: trace.format.name(),
        lines: trace.lines(),
        span_s,
        out_of_order: trace.out_of_order,
        mean_rate,
        peak_rates,
        gaps: gap_summary,
        bursty,
        exponential,
        burstiness,
        load_over_time: LoadOverTime::of(offsets, trace.start_ns, context.service_s.unwrap_or(0.0)),
        ks_threshold: KS_THRESHOLD,
        resolution: trace.whole_seconds.then(|| {
            "the times are whole seconds: what happens within a second cannot be seen \
             (its arrivals are spread evenly over it, and the index of dispersion below \
             1 s is unknown)"
                .to_string()
        }),
        model_warning,
        sizing: None,
        sweep_trace,
        sweep_model,
        service_given: context.service_flags.is_some(),
    }
}

/// Fits service times.
pub fn fit_service(service: &EmpiricalService) -> ServiceFit {
    let mut times = service.times.to_vec();
    let summary = summarise(&mut times).expect("a service file is never empty");
    let file = shell_word(&service.name);
    ServiceFit {
        file: service.name.clone(),
        sweep_file: format!("burstbuf sweep --service-from {file}"),
        sweep_model: format!(
            "burstbuf sweep --consume-every {} --service {}",
            option_duration(summary.mean_s),
            // Exponential service has CV 1; fixed has 0: the nearer.
            if summary.cv >= 0.5 {
                "exponential"
            } else {
                "fixed"
            }
        ),
        times: summary,
    }
}

fn summary_text(out: &mut String, what: &str, s: &Summary) {
    let _ = writeln!(
        out,
        "{what}: mean {}, median {}, p90 {}, p99 {}, max {}, coefficient of variation {:.2}",
        seconds(s.mean_s),
        seconds(s.p50_s),
        seconds(s.p90_s),
        seconds(s.p99_s),
        seconds(s.max_s),
        s.cv
    );
}

impl TraceFit {
    pub fn text(&self) -> String {
        let mut out = format!(
            "{}: {} lines ({}) over {}, {} out of order\n",
            printable(&self.file),
            self.lines,
            self.format,
            seconds(self.span_s),
            self.out_of_order
        );
        if let Some(rate) = self.mean_rate {
            let peaks: Vec<String> = self
                .peak_rates
                .iter()
                .map(|p| format!("{:.2}/s over {} s", p.per_s, p.window_s))
                .collect();
            let _ = writeln!(out, "rate: mean {rate:.2}/s; peak {}", peaks.join(", "));
        }
        if let Some(gaps) = &self.gaps {
            summary_text(&mut out, "gaps", gaps);
        }
        burstiness_text(&mut out, &self.burstiness);
        if let Some(note) = &self.resolution {
            let _ = writeln!(out, "  NOTE: {note}");
        }
        load_text(&mut out, &self.load_over_time);
        let threshold = self.ks_threshold;
        let _ = writeln!(
            out,
            "\nFitted models (Kolmogorov-Smirnov distance of the gaps: 0 is a perfect fit, 1 none; \
             above {threshold:.2} a model does not describe the trace):"
        );
        let verdict = |describes: bool| {
            if describes {
                ""
            } else {
                "   does not describe this trace"
            }
        };
        match (&self.bursty, &self.exponential) {
            (Some(b), Some(e)) => {
                let _ = writeln!(
                    out,
                    "  bursty:      --produce-every {} --burst-prob {:.4} --burst-pause {}   KS {:.3}{}",
                    option_duration(b.produce_every_s),
                    b.burst_prob,
                    option_duration(b.burst_pause_s),
                    b.ks,
                    verdict(b.describes)
                );
                let _ = writeln!(
                    out,
                    "  exponential: --arrivals exponential --produce-every {}   KS {:.3}{}",
                    option_duration(e.mean_gap_s),
                    e.ks,
                    verdict(e.describes)
                );
                out += "  (bursty: 2-means on the log gaps splits short from long gaps; \
                        exponential: the mean gap; gaps within 1% count as equal)\n";
                if !b.describes && !e.describes {
                    out += "  Neither model describes this trace: size the buffer by the trace itself.\n";
                }
            }
            _ => out += "  none: a fit needs at least two lines\n",
        }
        if let Some(sizing) = &self.sizing {
            sizing_text(&mut out, sizing, self);
        }
        // With a service time the answer follows, with its own sweep commands.
        if !self.service_given {
            out += "\nSize the buffer with the trace itself (add --service-from or --consume-every):\n  ";
            out += &self.sweep_trace;
            out.push('\n');
        }
        match (&self.sweep_model, &self.bursty) {
            (Some(model), Some(b)) if b.describes => {
                out += "or with the fitted bursty model:\n  ";
                out += model;
                out.push('\n');
                if let Some(warning) = &self.model_warning {
                    let _ = writeln!(out, "  WARNING: {warning}");
                }
            }
            (Some(_), Some(b)) => {
                let _ = writeln!(
                    out,
                    "(the fitted bursty model, KS {:.3}, does not describe the trace: its \
                     command is no answer)",
                    b.ks
                );
            }
            _ => {}
        }
        out
    }
}

/// The busiest windows as a small chart, and how they stand to the mean.
fn load_text(out: &mut String, load: &LoadOverTime) {
    let unit = load.window_name();
    let _ = writeln!(
        out,
        "\nLoad over time, per {unit}: {} of {} windows hold arrivals, {:.1} a window on average, \
         at most {} in any {} s; the busiest on the clock:",
        load.busy_windows, load.windows, load.mean_count, load.peak, load.window_s
    );
    let label = |w: &WindowCount| match &w.start {
        Some(at) => format!("  {at}"),
        None => format!("  +{:>10}", seconds(w.start_s)),
    };
    for line in load.chart(40, label) {
        let _ = writeln!(out, "{line}");
    }
}

fn burstiness_text(out: &mut String, b: &Burstiness) {
    let idc: Vec<String> = b
        .dispersion
        .iter()
        .map(|d| match d.index {
            Some(i) => format!("{i:.2} at {} s", d.window_s),
            None => format!("- at {} s", d.window_s),
        })
        .collect();
    let _ = writeln!(
        out,
        "\nBurstiness (a Poisson stream: 1 at every window, peaks near 1, gaps uncorrelated):"
    );
    let _ = writeln!(
        out,
        "  index of dispersion of counts: {} (- : under {MIN_WINDOWS} whole windows)",
        idc.join(", ")
    );
    if !b.peak_to_mean.is_empty() {
        let peaks: Vec<String> = b
            .peak_to_mean
            .iter()
            .map(|p| format!("{:.2} at {} s", p.ratio, p.window_s))
            .collect();
        let _ = writeln!(out, "  peak-to-mean rate: {}", peaks.join(", "));
    }
    let _ = writeln!(
        out,
        "  lag-1 autocorrelation of the gaps: {}",
        b.gap_lag1_autocorrelation
            .map_or("-".into(), |r| format!("{r:.3}"))
    );
}

fn sizing_text(out: &mut String, s: &SizingComparison, fit: &TraceFit) {
    let capacity =
        |c: Option<u64>| c.map_or(format!("none up to {}", s.searched), |c| c.to_string());
    let _ = writeln!(
        out,
        "\nWhat each stream would need for at most {}% of sends finding the buffer full, at {}x load, \
         {} consumer(s) at {} each (mean rho {:.2}), each arrival a caller replayed alike:",
        s.target_full * 100.0,
        crate::units::factor(s.load),
        s.consumers,
        seconds(s.service_s),
        s.utilisation
    );
    let _ = writeln!(
        out,
        "  this trace (replayed):            {}",
        capacity(s.trace_capacity)
    );
    if let Some(b) = &fit.bursty {
        let _ = writeln!(
            out,
            "  the fitted bursty model:          {}{}",
            capacity(s.bursty_capacity),
            if b.describes {
                ""
            } else {
                "   (a model that does not describe the trace)"
            }
        );
    }
    let _ = writeln!(
        out,
        "  Poisson of the same mean rate:    {}",
        capacity(s.poisson_capacity)
    );
    let _ = writeln!(
        out,
        "  M/M/c/K formula:                  {}   (Poisson arrivals, exponential service, sends lost when full)",
        capacity(s.mmck_capacity)
    );
    for why in differences(s, fit) {
        let _ = writeln!(out, "  why: {why}");
    }
    if let Some(warning) = &s.warning {
        let _ = writeln!(out, "  WARNING: {warning}");
    }
}

/// Why the streams' answers differ, in words, from the trace's fingerprint.
fn differences(s: &SizingComparison, fit: &TraceFit) -> Vec<String> {
    let mut why = Vec::new();
    let (Some(needs), Some(poisson)) = (s.trace_capacity, s.poisson_capacity) else {
        return why;
    };
    let idc = fit
        .burstiness
        .dispersion
        .iter()
        .filter_map(|d| d.index.map(|i| format!("{i:.1} at {} s", d.window_s)))
        .collect::<Vec<_>>()
        .join(", ");
    let peak = fit
        .burstiness
        .peak_to_mean
        .first()
        .map(|p| format!("{:.1}x the mean over {} s", p.ratio, p.window_s));
    let fingerprint = [
        (!idc.is_empty()).then(|| format!("index of dispersion {idc}")),
        peak.map(|p| format!("peaks {p}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("; ");
    if needs > poisson {
        why.push(format!(
            "the trace comes in bursts a Poisson stream of its mean rate does not have \
             ({fingerprint}): arrivals bunch, and a burst fills the buffer faster than the mean says"
        ));
    } else if needs < poisson {
        why.push(format!(
            "the trace is more regular than a Poisson stream ({fingerprint}): its arrivals \
             bunch less than random ones would"
        ));
    } else {
        why.push("the trace and a Poisson stream of its rate need the same".into());
    }
    if let (Some(b), Some(bursty)) = (&fit.bursty, s.bursty_capacity)
        && bursty != needs
    {
        why.push(format!(
            "the bursty model keeps the mean gap and the share of long gaps but not their order \
             or spread (KS {:.3}), so its bursts are not the trace's",
            b.ks
        ));
    }
    if let Some(mmck) = s.mmck_capacity
        && mmck != poisson
    {
        why.push(
            "M/M/c/K assumes exponential service and loses the sends that find it full; \
             the replay holds them until a slot frees"
                .into(),
        );
    }
    why
}

impl ServiceFit {
    pub fn text(&self) -> String {
        let mut out = format!(
            "{}: {} service times\n",
            printable(&self.file),
            self.times.count
        );
        summary_text(&mut out, "service", &self.times);
        let _ = write!(
            out,
            "\nSize the buffer with these times:\n  {}\nor with a model of the same mean:\n  {}\n",
            self.sweep_file, self.sweep_model
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ArrivalKind, Arrivals, Model};

    fn model_trace(model: &Model, seed: u64, n: u64) -> Trace {
        // 0, then the running sum of the model's gaps.
        let mut arrivals = Arrivals::new(model, seed);
        let mut at = 0u64;
        let offsets = (0..n)
            .map(|_| {
                let this = at;
                at += arrivals.next_gap().pause.as_nanos() as u64;
                this
            })
            .collect();
        Trace::from_offsets("generated", offsets)
    }

    #[test]
    fn fit_recovers_the_bursty_models_parameters() {
        // Tolerance: produce-every and burst-pause within 1%, burst-prob within
        // 0.01 (its standard error at 20 000 gaps is 0.0021 for p = 0.1).
        for (every, prob, pause, seed) in
            [(20, 0.1, 1000, 7), (5, 0.3, 200, 8), (100, 0.02, 5000, 9)]
        {
            let model = Model {
                produce_every: Duration::from_millis(every),
                burst_prob: prob,
                burst_pause: Duration::from_millis(pause),
                ..Model::original()
            };
            // Through the text format too: written as epoch seconds with fractions.
            let generated = model_trace(&model, seed, 20_001);
            let text: String = generated
                .offsets
                .iter()
                .map(|&t| {
                    format!(
                        "{}.{:09}\n",
                        1_700_000_000 + t / 1_000_000_000,
                        t % 1_000_000_000
                    )
                })
                .collect();
            let trace = Trace::from_reader(text.as_bytes(), "gen", None).unwrap();
            let fit = fit_trace(&trace);
            let b = fit.bursty.unwrap();
            let what = format!("{every} ms, {prob}, {pause} ms: {b:?}");
            assert!(
                (b.produce_every_s * 1e3 / every as f64 - 1.0).abs() < 0.01,
                "{what}"
            );
            assert!(
                (b.burst_pause_s * 1e3 / pause as f64 - 1.0).abs() < 0.01,
                "{what}"
            );
            assert!((b.burst_prob - prob).abs() < 0.01, "{what}");
            // Exactly two kinds of gap: the model's distribution is matched.
            assert!(b.ks < 0.02, "{what}");
            assert!(fit.exponential.unwrap().ks > b.ks, "{what}");
            // The fitted model keeps the mean gap.
            let gaps = fit.gaps.unwrap();
            let mean = b.produce_every_s + b.burst_prob * b.burst_pause_s;
            assert!((mean / gaps.mean_s - 1.0).abs() < 1e-9, "{what}");
        }
    }

    #[test]
    fn jitter_on_the_gaps_does_not_hide_a_fitting_model() {
        // The original's bursty pattern, every arrival moved by ±1 ns: the
        // model's two gaps are still the trace's (KS was 0.90 with the
        // model's atoms judged exactly).
        let exact = model_trace(&Model::original(), 7, 20_001);
        let jittered: Vec<u64> = exact
            .offsets
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                if i % 2 == 0 {
                    t + 1
                } else {
                    t.saturating_sub(1)
                }
            })
            .collect();
        let fit = fit_trace(&Trace::from_offsets("jittered", jittered));
        let b = fit.bursty.unwrap();
        assert!(b.ks < 0.02 && b.describes, "{b:?}");
        let e = fit.exponential.unwrap();
        assert!(e.ks > KS_THRESHOLD && !e.describes, "{e:?}");
        // And the suggested model command carries a duration covering the trace.
        let model = fit.sweep_model.unwrap();
        assert!(model.contains(" --duration "), "{model}");
        assert!(fit.model_warning.is_none(), "{:?}", fit.model_warning);
    }

    #[test]
    fn a_model_run_that_would_see_a_handful_of_messages_is_flagged() {
        // 30 lines over about ten years: the model's run is cut to 366 days.
        const DAY: u64 = 86_400_000_000_000;
        let offsets: Vec<u64> = (0..30u64).map(|k| k * 123 * DAY + (k % 3) * 1000).collect();
        let fit = fit_trace(&Trace::from_offsets("decade", offsets));
        let model = fit.sweep_model.unwrap();
        assert!(model.contains("--duration 31600000s"), "{model}");
        let warning = fit.model_warning.unwrap();
        assert!(warning.contains("too few"), "{warning}");
    }

    #[test]
    fn exponential_arrivals_fit_the_exponential_model_better() {
        let model = Model {
            arrivals: ArrivalKind::Exponential,
            produce_every: Duration::from_millis(50),
            ..Model::original()
        };
        let fit = fit_trace(&model_trace(&model, 3, 20_001));
        let e = fit.exponential.unwrap();
        assert!((e.mean_gap_s / 0.05 - 1.0).abs() < 0.03, "{e:?}");
        // The KS distance of 20 000 true exponential samples: about 0.01.
        assert!(e.ks < 0.02, "{e:?}");
        assert!(fit.bursty.unwrap().ks > e.ks);
        let gaps = fit.gaps.unwrap();
        assert!((gaps.cv - 1.0).abs() < 0.05, "{gaps:?}");
        assert!(
            (gaps.p50_s / (0.05 * 2f64.ln()) - 1.0).abs() < 0.05,
            "{gaps:?}"
        );
    }

    #[test]
    fn a_poisson_trace_has_an_index_of_dispersion_of_1() {
        // 500 000 exponential gaps of 20 ms: 10 000 s. The index's standard
        // error with n windows is about sqrt(2 / (n - 1)); allowed: 4 of them
        // (0.06 at 1 s, 0.18 at 10 s, 0.44 at 60 s, 1.5 at 600 s).
        let model = Model {
            arrivals: ArrivalKind::Exponential,
            produce_every: Duration::from_millis(20),
            ..Model::original()
        };
        let fit = fit_trace(&model_trace(&model, 11, 500_000));
        let b = &fit.burstiness;
        assert_eq!(b.dispersion.len(), 4);
        for d in &b.dispersion {
            let index = d.index.unwrap();
            let tolerance = 4.0 * (2.0 / (d.windows as f64 - 1.0)).sqrt();
            assert!(
                (index - 1.0).abs() < tolerance,
                "{d:?}: tolerance {tolerance}"
            );
        }
        // Independent gaps: within 4 standard errors (1/sqrt(n)) of 0.
        let r = b.gap_lag1_autocorrelation.unwrap();
        assert!(r.abs() < 4.0 / (500_000f64).sqrt(), "{r}");
        // Peaks over a minute barely above the mean.
        let minute = b.peak_to_mean.iter().find(|p| p.window_s == 60).unwrap();
        assert!(minute.ratio > 1.0 && minute.ratio < 1.2, "{minute:?}");
    }

    #[test]
    fn a_bursty_trace_has_an_index_of_dispersion_far_above_1() {
        // 30 s of a caller every 10 ms, then 30 s of one a second, 40 times.
        const MS: u64 = 1_000_000;
        let mut offsets = Vec::new();
        let mut t = 0;
        for _ in 0..40 {
            for _ in 0..3000 {
                offsets.push(t);
                t += 10 * MS;
            }
            for _ in 0..30 {
                offsets.push(t);
                t += 1000 * MS;
            }
        }
        let fit = fit_trace(&Trace::from_offsets("bursty", offsets));
        let b = &fit.burstiness;
        // Counts per second: 100 or 1, half the time each: variance about
        // 2450, mean about 50: an index near 48, and more over 10 s.
        let index = |w: u64| b.dispersion.iter().find(|d| d.window_s == w).unwrap().index;
        assert!(index(1).unwrap() > 40.0, "{b:?}");
        assert!(index(10).unwrap() > index(1).unwrap(), "{b:?}");
        // 2400 s: too few whole 600 s windows to say.
        assert_eq!(index(600), None);
        // Short gaps follow short gaps.
        assert!(b.gap_lag1_autocorrelation.unwrap() > 0.5, "{b:?}");
        let second = b.peak_to_mean.iter().find(|p| p.window_s == 1).unwrap();
        assert!(second.ratio > 1.9, "{second:?}");
        let text = fit.text();
        assert!(text.contains("index of dispersion of counts: "), "{text}");
        assert!(text.contains("- at 600 s"), "{text}");
    }

    /// The index of dispersion as it was first written: every window's count stored.
    fn dispersion_dense(offsets: &[u64], window_ns: u64) -> (u64, Option<f64>) {
        let windows = offsets.last().copied().unwrap_or(0) / window_ns;
        if windows < MIN_WINDOWS {
            return (windows, None);
        }
        let mut counts = vec![0u64; windows as usize];
        for &t in offsets {
            if let Some(c) = counts.get_mut((t / window_ns) as usize) {
                *c += 1;
            }
        }
        let n = counts.len() as f64;
        let mean = counts.iter().sum::<u64>() as f64 / n;
        if mean <= 0.0 {
            return (windows, None);
        }
        let var = counts
            .iter()
            .map(|&c| (c as f64 - mean).powi(2))
            .sum::<f64>()
            / (n - 1.0);
        (windows, Some(var / mean))
    }

    #[test]
    fn the_index_of_dispersion_keeps_only_windows_that_hold_arrivals() {
        use rand::{Rng, SeedableRng, rngs::StdRng};
        const S: u64 = 1_000_000_000;
        let mut rng = StdRng::seed_from_u64(5);
        for round in 0..200 {
            let n = rng.random_range(2..300);
            let mut t = 0u64;
            let mut offsets: Vec<u64> = (0..n)
                .map(|_| {
                    t += rng.random_range(0..4 * S);
                    t
                })
                .collect();
            offsets.sort_unstable();
            for w in [S, 10 * S] {
                let (windows, sparse) = dispersion(&offsets, w);
                let (dense_windows, dense) = dispersion_dense(&offsets, w);
                assert_eq!(windows, dense_windows, "round {round}");
                match (sparse, dense) {
                    (Some(a), Some(b)) => {
                        assert!(
                            (a - b).abs() <= 1e-9 * b.max(1.0),
                            "round {round}: {a} vs {b}"
                        )
                    }
                    (a, b) => assert_eq!(a, b, "round {round}"),
                }
            }
        }
        // Two lines 126 years apart: four billion one-second windows, two of
        // them counted (storing them all was 32 GB).
        let century = Trace::from_offsets("century", vec![0, 3_976_214_400 * S]);
        let fit = fit_trace(&century);
        let second = &fit.burstiness.dispersion[0];
        assert_eq!(second.windows, 3_976_214_400);
        assert!(
            second.index.is_some_and(|i| (i - 1.0).abs() < 1e-6),
            "{second:?}"
        );
    }

    #[test]
    fn rates_peaks_and_gaps_of_a_small_trace() {
        const S: u64 = 1_000_000_000;
        // 5 in the first second, then one every 10 s up to 100 s.
        let mut offsets: Vec<u64> = (0..5).map(|k| k * S / 5).collect();
        offsets.extend((1..=10).map(|k| k * 10 * S));
        let fit = fit_trace(&Trace::from_offsets("small", offsets));
        assert_eq!(fit.lines, 15);
        assert_eq!(fit.span_s, 100.0);
        // 14 gaps over 100 s, as the sweep counts them.
        let rate = fit.mean_rate.unwrap();
        assert!((rate - 0.14).abs() < 1e-12, "{rate}");
        let peaks: Vec<f64> = fit.peak_rates.iter().map(|p| p.per_s).collect();
        // 1 s: 5; 10 s: [0, 10) holds 5; 60 s: [0, 60) holds 5 + 5.
        assert_eq!(peaks, [5.0, 0.5, 10.0 / 60.0]);
        let gaps = fit.gaps.unwrap();
        assert_eq!(gaps.count, 14);
        assert_eq!(gaps.max_s, 10.0);
        assert_eq!(gaps.p50_s, 10.0);
        assert!(fit.sweep_trace.contains("--arrivals-from small"));
        let model = fit.sweep_model.unwrap();
        assert!(model.contains("--duration 100s"), "{model}");
        let text = fit_trace(&Trace::from_offsets("one", vec![5])).text();
        assert!(
            text.contains("1 lines") && text.contains("at least two"),
            "{text}"
        );
    }

    #[test]
    fn service_statistics_and_command_lines() {
        let file = EmpiricalService::from_reader(
            "10ms\n20ms\n30ms\n40ms\n1s\n".as_bytes(),
            "my services.txt",
        )
        .unwrap();
        let fit = fit_service(&file);
        assert_eq!(fit.times.count, 5);
        assert!((fit.times.mean_s - 0.22).abs() < 1e-12);
        assert_eq!(fit.times.p50_s, 0.03);
        assert_eq!(fit.times.p99_s, 1.0);
        assert_eq!(
            fit.sweep_file,
            "burstbuf sweep --service-from 'my services.txt'"
        );
        assert_eq!(
            fit.sweep_model,
            "burstbuf sweep --consume-every 220ms --service exponential"
        );
        assert!(fit.text().contains("coefficient of variation"));
    }

    #[test]
    fn options_are_written_as_the_parser_reads_them() {
        assert_eq!(option_duration(0.02), "20ms");
        assert_eq!(option_duration(1.0204567), "1020ms");
        assert_eq!(option_duration(0.198597), "199ms");
        assert_eq!(option_duration(3599.5), "3600s");
        assert_eq!(option_duration(0.0001234), "123us");
        assert_eq!(option_duration(0.0), "0ms");
        assert_eq!(shell_word("data/access.log"), "data/access.log");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("a\u{1b}[2J'b\n"), r"$'a\x1b[2J\'b\n'");
    }

    #[test]
    fn a_name_with_control_characters_is_printed_escaped() {
        let name = "evil\u{1b}[2J.log";
        let trace = Trace::from_offsets(name, vec![0, 1_000_000_000, 3_000_000_000]);
        let text = fit_trace(&trace).text();
        assert!(text.starts_with("evil\\u{1b}[2J.log: 3 lines"), "{text}");
        assert!(
            text.contains("--arrivals-from $'evil\\x1b[2J.log'"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "{text:?}");
        let service = EmpiricalService {
            name: name.to_owned(),
            times: vec![1_000_000].into(),
        };
        let text = fit_service(&service).text();
        assert!(
            text.starts_with("evil\\u{1b}[2J.log: 1 service times"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "{text:?}");
    }
}
