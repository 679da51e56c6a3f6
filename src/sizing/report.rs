//! What `burstbuf sweep` prints: the table (text, CSV or JSON), the plots and
//! the recommendation, as pure functions of the rows.

use std::fmt::Write as _;

use crate::model::{ArrivalKind, ServiceKind};
use crate::sizing::plot::{self, OVERLAP, Series};
use crate::sizing::sweep::{
    Recommendation, Row, SweepConfig, TableFormat, recommend, recommend_per_load,
    several_recommendations,
};
use crate::traffic::ServiceOrder;
use crate::units::{factor, seconds};

/// How the interval is computed, for the report and the JSON.
pub const INTERVAL_METHOD: &str = "Student t over the runs' full shares, widened to at least \
     the Wilson interval of all their sends pooled, clamped to [0, 1]";

/// A share as a percentage with the digits it needs (at most four significant):
/// 0.07 is `7%`, not `7.000000000000001%`.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p == 0.0 || !p.is_finite() {
        return format!("{p}%");
    }
    let digits = 3 - p.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits);
    let rounded = (p * scale).round() / scale;
    format!("{rounded}%")
}

/// How the target was met: "with 95% confidence over 10 runs", or for one run
/// that there is no interval.
fn confidence(runs: u32) -> String {
    if runs > 1 {
        format!("with 95% confidence over {runs} runs")
    } else {
        "in one run".into()
    }
}

impl Recommendation {
    pub fn text(&self) -> String {
        let mut out = String::new();
        let target = format!(
            "at most {} of sends finding the buffer full",
            percent(self.target_full)
        );
        let how = confidence(self.runs);
        let mut at = match self.load {
            Some(load) => format!(" at {}x load", factor(load)),
            None => String::new(),
        };
        if let Some(policy) = self.when_full {
            at += &format!(" with --when-full {}", policy.name());
        }
        let mut target = target;
        for other in &self.other_targets {
            target += &format!(" and {other}");
        }
        for unmet in &self.unmet {
            let rho = unmet
                .utilisation
                .map_or("unknown".into(), |rho| format!("{rho:.2}"));
            let why = if unmet.utilisation.is_some_and(|rho| rho >= 1.0) {
                " (at rho >= 1 the backlog grows as long as the traffic lasts: no buffer is enough)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "No capacity tried meets {target} with {} consumer(s){at}: rho = {rho}{why}.",
                unmet.consumers
            );
        }
        match (self.capacity, self.consumers) {
            (Some(capacity), Some(consumers)) => {
                let share = self.full_share.map_or(String::new(), |s| match s.ci_high {
                    Some(high) => {
                        format!(" (mean {}, upper bound {})", percent(s.mean), percent(high))
                    }
                    None => format!(" ({})", percent(s.mean)),
                });
                let _ = writeln!(
                    out,
                    "Recommendation{at}: capacity {capacity} with {consumers} consumer(s) meets {target} {how}{share}."
                );
                if let Some(decided) = &self.decided_by {
                    let _ = writeln!(out, "Decided by {decided}.");
                }
                if let (Some(bytes), Some(peak)) = (self.capacity_bytes, self.peak_bytes) {
                    let _ = writeln!(
                        out,
                        "In bytes: capacity {} ({bytes} B); the most it held was {} ({peak} B).",
                        human_bytes(bytes),
                        human_bytes(peak)
                    );
                }
            }
            _ => {
                let _ = writeln!(
                    out,
                    "Recommendation{at}: none of the systems tried meets {target} {how}."
                );
            }
        }
        if let Some(warning) = &self.warning {
            let _ = writeln!(out, "Warning: {warning}");
        }
        for stall in &self.stalls {
            let rule = stall
                .rule_of_thumb
                .map_or("unknown".into(), |n| n.to_string());
            let simulated = match (self.capacity, stall.backlog_peak) {
                (Some(capacity), Some(peak)) => format!(
                    "simulated: capacity {capacity}, where its backlog peaked at {} and {} \
                     send(s) found the buffer full while it lasted (blocked {} in all)",
                    count(peak, self.runs),
                    count(stall.full_count.unwrap_or(0.0), self.runs),
                    seconds(stall.blocked_s.unwrap_or(0.0))
                ),
                _ => "simulated: no capacity tried meets the target".into(),
            };
            let _ = writeln!(
                out,
                "Stall of {} at {}{at}: rule of thumb (offered rate x length) {rule}; {simulated}.",
                seconds(stall.length_s),
                seconds(stall.at_s),
            );
        }
        if self.runs <= 1 {
            out += "One run gives no confidence interval: use --runs 2 or more for a margin.\n";
        }
        for s in &self.smallest {
            if let Some(close) = &s.close {
                let _ = writeln!(
                    out,
                    "Capacity {} with {} consumer(s) meets it on average ({}), but not {how} \
                     (upper bound {}).",
                    close.capacity,
                    s.consumers,
                    percent(close.full_share.mean),
                    percent(close.full_share.bound())
                );
            }
        }
        if self.smallest.len() > 1 {
            let each: Vec<String> = self
                .smallest
                .iter()
                .map(|s| {
                    let capacity = s.capacity.map_or("none".into(), |c| c.to_string());
                    format!("{} consumer(s): {capacity}", s.consumers)
                })
                .collect();
            let _ = writeln!(
                out,
                "Smallest capacity that meets it{at}, per consumer count: {}.",
                each.join("; ")
            );
        }
        out
    }
}

/// Bytes in binary units: 1.5 MiB.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A mean count: whole with one run, else to a tenth.
fn count(x: f64, runs: u32) -> String {
    if runs > 1 {
        format!("{x:.1}")
    } else {
        format!("{x:.0}")
    }
}

/// The table with aligned columns; with two runs or more, a column for the
/// full share's 95% interval.
pub fn table(rows: &[Row], runs: u32) -> String {
    let predicted = rows.iter().any(|r| r.predicted_full_share.is_some());
    let interval = runs > 1;
    // The load column only when loads are swept.
    let loads = rows.iter().any(|r| r.load.is_some());
    let load = |r: Option<&Row>| match (loads, r) {
        (false, _) => String::new(),
        (true, None) => format!(" {:>6}", "load"),
        (true, Some(r)) => format!(" {:>6}", factor(r.load.unwrap_or(1.0))),
    };
    // The what-if columns, each only where it has figures.
    let policies = rows.iter().any(|r| r.when_full.is_some());
    let drops = rows.iter().any(|r| r.dropped.is_some());
    let p99_all = rows.iter().any(|r| r.blocked_p99_all_s.is_some());
    let bytes = rows.iter().any(|r| r.capacity_bytes.is_some());
    let what_if = |r: Option<&Row>| {
        let mut cells = String::new();
        if policies {
            cells += &format!(
                " {:>11}",
                r.map_or("when-full", |r| r.when_full.map_or("-", |p| p.name()))
            );
        }
        if drops {
            match r {
                None => cells += &format!(" {:>10} {:>10}", "dropped", "dropped %"),
                Some(r) => {
                    cells += &format!(
                        " {:>10} {:>10}",
                        r.dropped.map_or("-".into(), |d| count(d, runs)),
                        r.drop_share
                            .map_or("-".into(), |d| format!("{:.3}", d.mean * 100.0))
                    )
                }
            }
        }
        if p99_all {
            cells += &format!(
                " {:>12}",
                match r {
                    None => "p99 all (ub)".into(),
                    Some(r) => r
                        .blocked_p99_all_s
                        .map_or("-".into(), |p| seconds(p.bound())),
                }
            );
        }
        if bytes {
            match r {
                None => cells += &format!(" {:>10} {:>10}", "bytes", "peak bytes"),
                Some(r) => {
                    cells += &format!(
                        " {:>10} {:>10}",
                        r.capacity_bytes.map_or("-".into(), human_bytes),
                        r.peak_bytes.map_or("-".into(), human_bytes)
                    )
                }
            }
        }
        cells
    };
    let mut out = format!(
        "{:>9} {:>9} {:>10} {:>10} {:>10}{}{} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10}{}{}\n",
        "capacity",
        "consumers",
        "sent",
        "full",
        "full %",
        if interval { "  95% CI of full %" } else { "" },
        if predicted { "  M/M/c/K %" } else { "" },
        "p50 wait",
        "p99 wait",
        "max wait",
        "blocked",
        "max depth",
        "in buffer",
        "sent/s",
        load(None),
        what_if(None)
    );
    let time = |t: Option<f64>| t.map_or("-".into(), seconds);
    for r in rows {
        let ci = match (interval, r.full_share.ci_low, r.full_share.ci_high) {
            (true, Some(low), Some(high)) => {
                format!(
                    " {:>18}",
                    format!("{:.3} to {:.3}", low * 100.0, high * 100.0)
                )
            }
            (true, _, _) => format!(" {:>18}", "-"),
            (false, _, _) => String::new(),
        };
        let prediction = match (predicted, r.predicted_full_share) {
            (false, _) => String::new(),
            (true, Some(p)) => format!(" {:>10.3}", p * 100.0),
            (true, None) => format!(" {:>10}", "-"),
        };
        let _ = writeln!(
            out,
            "{:>9} {:>9} {:>10} {:>10} {:>10.3}{ci}{prediction} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10}{}{}",
            r.capacity,
            r.consumers,
            count(r.produced, runs),
            count(r.full_count, runs),
            r.full_share.mean * 100.0,
            time(r.blocked_p50_s),
            time(r.blocked_p99_s),
            time(r.blocked_max_s),
            seconds(r.blocked_total_s),
            count(r.max_depth, runs),
            seconds(r.mean_in_buffer_s),
            r.throughput.map_or("-".into(), |t| format!("{t:.2}")),
            load(Some(r)),
            what_if(Some(r)),
        );
    }
    // Each stall's cost per point, below the table where there are stalls.
    for (k, stall) in rows
        .first()
        .map_or(&[][..], |r| &r.stalls[..])
        .iter()
        .enumerate()
    {
        let _ = write!(
            out,
            "\nStall {} of {} at {}: per point, its backlog peak / sends that found the buffer full / time blocked:\n",
            k + 1,
            seconds(stall.length_s),
            seconds(stall.at_s)
        );
        for r in rows {
            if let Some(s) = r.stalls.get(k) {
                let _ = writeln!(
                    out,
                    "{:>9} {:>9} {:>10} {:>10} {:>10}{}",
                    r.capacity,
                    r.consumers,
                    count(s.backlog_peak, runs),
                    count(s.full_count, runs),
                    seconds(s.blocked_s),
                    load(Some(r)),
                );
            }
        }
    }
    out
}

/// The table as CSV, with the JSON field names as the header (the full share's
/// as `full_share_mean`, `full_share_ci_low`, `full_share_ci_high`).
pub fn csv(rows: &[Row]) -> String {
    // A last column `load` when loads are swept.
    let loads = rows.iter().any(|r| r.load.is_some());
    let mut out = String::from(
        "capacity,consumers,produced,full_count,full_share_mean,full_share_ci_low,\
         full_share_ci_high,predicted_full_share,blocked_p50_s,blocked_p99_s,blocked_max_s,\
         blocked_total_s,max_depth,mean_in_buffer_s,throughput",
    );
    // Then the what-if columns, each where it has figures (as in the text).
    let policies = rows.iter().any(|r| r.when_full.is_some());
    let drops = rows.iter().any(|r| r.dropped.is_some());
    let p99_all = rows.iter().any(|r| r.blocked_p99_all_s.is_some());
    let bytes = rows.iter().any(|r| r.capacity_bytes.is_some());
    if loads {
        out += ",load";
    }
    if policies {
        out += ",when_full";
    }
    if drops {
        out += ",dropped,drop_share_mean,drop_share_ci_low,drop_share_ci_high";
    }
    if p99_all {
        out += ",blocked_p99_all_s_mean,blocked_p99_all_s_ci_high";
    }
    if bytes {
        out += ",capacity_bytes,peak_bytes";
    }
    out.push('\n');
    let opt = |x: Option<f64>| x.map_or(String::new(), |x| x.to_string());
    let whole = |x: Option<u64>| x.map_or(String::new(), |x| x.to_string());
    for r in rows {
        let mut what_if = String::new();
        if policies {
            what_if += &format!(",{}", r.when_full.map_or("", |p| p.name()));
        }
        if drops {
            what_if += &format!(
                ",{},{},{},{}",
                opt(r.dropped),
                opt(r.drop_share.map(|d| d.mean)),
                opt(r.drop_share.and_then(|d| d.ci_low)),
                opt(r.drop_share.and_then(|d| d.ci_high))
            );
        }
        if p99_all {
            what_if += &format!(
                ",{},{}",
                opt(r.blocked_p99_all_s.map(|p| p.mean)),
                opt(r.blocked_p99_all_s.and_then(|p| p.ci_high))
            );
        }
        if bytes {
            what_if += &format!(",{},{}", whole(r.capacity_bytes), whole(r.peak_bytes));
        }
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}{}{what_if}",
            r.capacity,
            r.consumers,
            r.produced,
            r.full_count,
            r.full_share.mean,
            opt(r.full_share.ci_low),
            opt(r.full_share.ci_high),
            opt(r.predicted_full_share),
            opt(r.blocked_p50_s),
            opt(r.blocked_p99_s),
            opt(r.blocked_max_s),
            r.blocked_total_s,
            r.max_depth,
            r.mean_in_buffer_s,
            opt(r.throughput),
            if loads {
                format!(",{}", factor(r.load.unwrap_or(1.0)))
            } else {
                String::new()
            }
        );
    }
    out
}

/// One series per consumer count, with its mark; counts past the last mark are left out.
fn series(rows: &[Row], consumers: &[u32], value: impl Fn(&Row) -> Option<f64>) -> Vec<Series> {
    consumers
        .iter()
        .zip(plot::marks(consumers))
        .filter_map(|(&c, mark)| {
            Some(Series {
                mark: mark?,
                points: rows
                    .iter()
                    .filter(|r| r.consumers == c)
                    .map(|r| (r.capacity, value(r)))
                    .collect(),
            })
        })
        .collect()
}

/// The legend of a plot: each series' mark, the overlap mark if drawn, and
/// what is not drawn.
fn legend(consumers: &[u32], drawn: &plot::Plot, skipped_means: &str) -> String {
    let marks = plot::marks(consumers);
    let mut parts: Vec<String> = consumers
        .iter()
        .zip(&marks)
        .filter_map(|(&c, mark)| Some(format!("{} = {c} consumer(s)", (*mark)?)))
        .collect();
    if drawn.overlap {
        parts.push(format!("{OVERLAP} = more than one series"));
    }
    let unmarked = marks.iter().filter(|m| m.is_none()).count();
    if unmarked > 0 {
        parts.push(format!(
            "the last {unmarked} consumer counts are not drawn (see the table)"
        ));
    }
    if drawn.skipped > 0 {
        parts.push(skipped_means.into());
    }
    parts.join(", ")
}

fn push_lines(out: &mut String, lines: &[String]) {
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
}

/// Everything `burstbuf sweep` prints, in the chosen format.
pub fn report(config: &SweepConfig, rows: &[Row]) -> String {
    let recommendation = recommend(rows, config);
    let runs = config.runs.max(1);
    let traffic = &config.traffic;
    match config.format {
        TableFormat::Csv => csv(rows),
        TableFormat::Json => {
            let mut object = serde_json::json!({
                "seed": config.seed,
                "runs": runs,
                "interval": (runs > 1).then_some(INTERVAL_METHOD),
                "duration_s": config.duration.as_secs_f64(),
                "target_full": config.target_full,
                "rows": rows,
                "recommendation": recommendation,
            });
            // Only with traffic from files or loads: a plain sweep's JSON stays as it was.
            if let Some(t) = &traffic.trace {
                object["arrivals_from"] = serde_json::json!({
                    "file": t.name,
                    "format": t.format.name(),
                    "lines": t.lines_within(config.duration),
                    "out_of_order": t.out_of_order,
                    "span_s": t.span().as_secs_f64(),
                });
            }
            if let Some((file, order)) = &traffic.service {
                object["service_from"] = serde_json::json!({
                    "file": file.name,
                    "times": file.times.len(),
                    "mean_s": file.mean().as_secs_f64(),
                    "order": match order {
                        ServiceOrder::Sample => "sample",
                        ServiceOrder::Replay => "replay",
                    },
                });
            }
            if traffic.swept() {
                object["loads"] = serde_json::json!(traffic.loads);
            }
            if config.what_if.swept() {
                object["when_full"] = serde_json::json!(config.what_if.when_full);
            }
            if let Some(p99) = config.what_if.target_p99 {
                object["target_p99_s"] = serde_json::json!(p99.as_secs_f64());
            }
            if let Some(drop) = config.what_if.target_drop {
                object["target_drop"] = serde_json::json!(drop);
            }
            if let Some(size) = config.what_if.message_size {
                object["message_size"] = serde_json::json!(size);
            }
            if several_recommendations(config) {
                object["recommendations"] = serde_json::json!(recommend_per_load(rows, config));
            }
            object.to_string() + "\n"
        }
        TableFormat::Text => {
            let mut out = heading(config, rows.len());
            out += &table(rows, runs);
            // With several loads the plots show the first; the table has them all.
            let first: Vec<Row>;
            let all = rows;
            let rows = if traffic.swept() {
                let load = traffic.loads[0];
                first = rows
                    .iter()
                    .filter(|r| r.load == Some(load))
                    .cloned()
                    .collect();
                &first[..]
            } else {
                rows
            };
            let consumers = &config.consumers;
            let share = series(rows, consumers, |r| Some(r.full_share.mean));
            let drawn = plot::plot(&share, Some(1.0), percent, 60, 10);
            let _ = write!(
                out,
                "\n{} of sends that found the buffer full ({}){}:\n",
                if runs > 1 { "Mean share" } else { "Share" },
                legend(consumers, &drawn, ""),
                if traffic.swept() {
                    format!(" at {}x load", factor(traffic.loads[0]))
                } else {
                    String::new()
                }
            );
            push_lines(&mut out, &drawn.lines);
            let p99 = series(rows, consumers, |r| r.blocked_p99_s);
            let time = |t: f64| if t == 0.0 { "0".into() } else { seconds(t) };
            let drawn = plot::plot(&p99, None, time, 60, 8);
            let _ = write!(
                out,
                "\np99 time blocked per blocked send ({}):\n",
                legend(
                    consumers,
                    &drawn,
                    "capacities with no blocked send are not drawn"
                )
            );
            push_lines(&mut out, &drawn.lines);
            out.push('\n');
            if several_recommendations(config) {
                for recommendation in recommend_per_load(all, config) {
                    out += &recommendation.text();
                }
            } else {
                out += &recommendation.text();
            }
            out
        }
    }
}

/// The first lines of the text report: what was simulated, and what the figures are.
fn heading(config: &SweepConfig, points: usize) -> String {
    let m = &config.model;
    let traffic = &config.traffic;
    let arrivals = match m.arrivals {
        _ if traffic.trace.is_some() => {
            let t = traffic.trace.as_ref().expect("checked");
            format!(
                "replayed from {} ({} lines over {}, {} out of order)",
                t.name,
                t.lines_within(config.duration),
                seconds(config.duration.min(t.span()).as_secs_f64()),
                t.out_of_order
            )
        }
        ArrivalKind::Bursty => format!(
            "every {} plus {} with p = {}",
            seconds(m.produce_every.as_secs_f64()),
            seconds(m.burst_pause.as_secs_f64()),
            m.burst_prob
        ),
        ArrivalKind::Exponential => format!(
            "exponential, mean {}",
            seconds(m.produce_every.as_secs_f64())
        ),
    };
    let service = match m.service {
        _ if traffic.service.is_some() => {
            let (file, order) = traffic.service.as_ref().expect("checked");
            format!(
                "from {} ({} times, mean {}, {})",
                file.name,
                file.times.len(),
                seconds(file.mean().as_secs_f64()),
                match order {
                    ServiceOrder::Sample => "sampled with the seed",
                    ServiceOrder::Replay => "in file order",
                }
            )
        }
        ServiceKind::Fixed => seconds(m.consume_every.as_secs_f64()),
        ServiceKind::Exponential => format!(
            "exponential, mean {}",
            seconds(m.consume_every.as_secs_f64())
        ),
    };
    let service = if traffic.swept() {
        let list: Vec<String> = traffic
            .loads
            .iter()
            .map(|&l| format!("{}x", factor(l)))
            .collect();
        format!("{service}; load {}", list.join(", "))
    } else {
        service
    };
    let service = if m.stalls.is_empty() {
        service
    } else {
        let list: Vec<String> = m
            .stalls
            .iter()
            .map(|s| {
                format!(
                    "{} from {}",
                    seconds(s.length.as_secs_f64()),
                    seconds(s.at.as_secs_f64())
                )
            })
            .collect();
        format!("{service}; consumers stalled {}", list.join(", "))
    };
    let duration = humantime::format_duration(config.duration);
    let runs = config.runs.max(1);
    // With a trace, what the runs are.
    let service = match &traffic.trace {
        Some(_) if runs > 1 => format!(
            "{service}\nRun 1 replays the trace; runs 2 to {runs} replay block-bootstrap \
             resamples of it (blocks of {}, drawn with the seeds).",
            humantime::format_duration(traffic.block)
        ),
        _ => service,
    };
    if runs > 1 {
        let last = config.seed.wrapping_add(u64::from(runs) - 1);
        format!(
            "burstbuf sweep: {points} points × {runs} runs of {duration} each, seeds {} to {last}; \
             arrivals {arrivals}; service {service}\n\
             Figures are means over the {runs} runs (waits: over the runs with a blocked send). \
             95% CI of the full share:\nStudent t over the runs' full shares, widened to at \
             least the Wilson interval of all their sends pooled, clamped to [0, 1].\n\n",
            config.seed
        )
    } else {
        format!(
            "burstbuf sweep: {points} simulations of {duration} each, seed {}; arrivals \
             {arrivals}; service {service}\n\
             One run per point (--runs 1): no confidence interval.\n\n",
            config.seed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sizing::sweep::rows;
    use crate::sizing::sweep::rows as rows_of;
    use std::time::Duration;

    /// The sweep's test configuration, printed as `format`.
    fn config(
        capacities: &[u64],
        consumers: &[u32],
        runs: u32,
        format: TableFormat,
    ) -> SweepConfig {
        SweepConfig {
            format,
            threads: 2,
            ..crate::sizing::sweep::tests::config(capacities, consumers, runs)
        }
    }

    #[test]
    fn percentages_have_the_digits_they_need() {
        assert_eq!(percent(0.07), "7%");
        assert_eq!(percent(0.01), "1%");
        assert_eq!(percent(0.0125), "1.25%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.002_431_234), "0.2431%");
        assert_eq!(percent(0.000_01), "0.001%");
    }

    #[test]
    fn formats() {
        let c = config(&[5, 50], &[1], 3, TableFormat::Csv);
        let rows = rows(&c);
        let csv = report(&c, &rows);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with(
            "capacity,consumers,produced,full_count,full_share_mean,full_share_ci_low,full_share_ci_high,"
        ));
        assert!(lines[1].starts_with("5,1,"));
        assert_eq!(lines[1].split(',').count(), lines[0].split(',').count());

        let json = report(
            &SweepConfig {
                format: TableFormat::Json,
                ..c.clone()
            },
            &rows,
        );
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["rows"].as_array().unwrap().len(), 2);
        assert_eq!(value["rows"][1]["capacity"], 50);
        assert_eq!(value["seed"], 3);
        assert_eq!(value["runs"], 3);
        let share = &value["rows"][1]["full_share"];
        let (mean, low, high) = (
            share["mean"].as_f64().unwrap(),
            share["ci_low"].as_f64().unwrap(),
            share["ci_high"].as_f64().unwrap(),
        );
        assert!(low <= mean && mean <= high, "{share}");
        assert!(value["recommendation"]["unmet"].is_array());

        let text = report(
            &SweepConfig {
                format: TableFormat::Text,
                ..c
            },
            &rows,
        );
        assert!(
            text.contains("Mean share of sends that found the buffer full"),
            "{text}"
        );
        assert!(text.contains("95% CI of full %"), "{text}");
        assert!(text.contains("with 95% confidence over 3 runs"), "{text}");
        assert!(
            !text.contains("M/M/c/K"),
            "no prediction for bursty arrivals"
        );
    }

    #[test]
    fn one_run_says_it_has_no_interval() {
        let c = config(&[5, 50], &[1], 1, TableFormat::Json);
        let rows = rows(&c);
        let value: serde_json::Value = serde_json::from_str(&report(&c, &rows)).unwrap();
        assert_eq!(value["runs"], 1);
        assert!(value["rows"][0]["full_share"]["ci_high"].is_null());
        // A mean over one run is the count itself.
        assert!(value["rows"][0]["produced"].is_u64(), "{value}");
        let text = report(
            &SweepConfig {
                format: TableFormat::Text,
                ..c
            },
            &rows,
        );
        assert!(text.contains("no confidence interval"), "{text}");
        assert!(!text.contains("95% CI"), "{text}");
    }

    #[test]
    fn the_prediction_appears_for_exponential_systems_of_any_consumer_count() {
        let mut c = config(&[1, 10], &[1, 2], 1, TableFormat::Text);
        c.model.arrivals = ArrivalKind::Exponential;
        c.model.service = ServiceKind::Exponential;
        let rows = rows(&c);
        assert!(rows.iter().all(|r| r.predicted_full_share.is_some()));
        // Two consumers halve ρ: the formula for two, not one's.
        assert!(rows[2].predicted_full_share < rows[0].predicted_full_share);
        assert!(table(&rows, 1).contains("M/M/c/K %"));
        // A stall is outside the formula.
        c.model.stalls.push(crate::model::Stall {
            at: Duration::from_secs(1),
            length: Duration::from_secs(1),
        });
        assert!(rows_of(&c).iter().all(|r| r.predicted_full_share.is_none()));
    }

    #[test]
    fn every_mark_drawn_is_in_its_legend() {
        let c = config(&[1, 10, 100, 1000], &[1, 3], 2, TableFormat::Text);
        let rows = rows(&c);
        let text = report(&c, &rows);
        assert!(
            text.contains("1 = 1 consumer(s), 3 = 3 consumer(s)"),
            "{text}"
        );
        // Three consumers rarely block at 1000: some points have no p99.
        assert!(
            text.contains("capacities with no blocked send are not drawn"),
            "{text}"
        );
        let plotted: String = text
            .lines()
            .filter_map(|l| l.split_once(" |").map(|(_, plot)| plot.to_string()))
            .collect();
        assert!(!plotted.contains('2'), "no series is marked 2: {text}");
        for mark in plotted.chars().filter(|c| !c.is_whitespace()) {
            assert!("13*".contains(mark), "{mark} is in no legend: {text}");
            if mark == '*' {
                assert!(text.contains("* = more than one series"), "{text}");
            }
        }
    }

    #[test]
    fn series_past_the_last_mark_are_named_as_not_drawn() {
        let consumers: Vec<u32> = (1..=40).collect();
        let c = SweepConfig {
            duration: Duration::from_secs(10),
            ..config(&[1, 2], &consumers, 1, TableFormat::Text)
        };
        let text = report(&c, &rows(&c));
        assert!(text.contains("A = 10 consumer(s)"), "{text}");
        assert!(text.contains("Z = 35 consumer(s)"), "{text}");
        assert!(!text.contains("= 36 consumer(s)"), "{text}");
        assert!(
            text.contains("the last 5 consumer counts are not drawn (see the table)"),
            "{text}"
        );
    }

    #[test]
    fn the_recommendation_says_how_sure_it_is() {
        let c = config(&[10, 100, 1000], &[3], 10, TableFormat::Text);
        let text = recommend(&rows(&c), &c).text();
        assert!(
            text.contains(
                "meets at most 1% of sends finding the buffer full with 95% confidence over 10 runs"
            ),
            "{text}"
        );
        let target = SweepConfig {
            target_full: 0.07,
            ..c.clone()
        };
        let text = recommend(&rows(&target), &target).text();
        assert!(text.contains("at most 7% of sends"), "{text}");
    }
}
