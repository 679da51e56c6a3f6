//! The sweep's text report: a heading that says what was simulated, the
//! aligned table (from the one description in `table`), each stall's cost,
//! the plots with every mark named in their legends, and the
//! recommendation in words.

use std::fmt::Write as _;

use super::plot::{self, OVERLAP, Scale, Series, TARGET};
use super::table::{NARROW, text_columns};
use super::{count, human_bytes, percent};
use crate::model::{ArrivalKind, ServiceKind, WhenFull};
use crate::sizing::recommend::Recommendation;
use crate::sizing::sweep::{self, Row, SweepConfig, TableFormat};
use crate::traffic::ServiceOrder;
use crate::traffic::parse::printable;
use crate::units::{factor, seconds};

/// The widest a line of prose may be (the heading, legends, the
/// recommendation): wider lines are wrapped at a space.
const PROSE: usize = NARROW;

/// Everything the text report prints.
pub(super) fn report(config: &SweepConfig, rows: &[Row]) -> String {
    let decided = sweep::decide(config, rows);
    let runs = config.runs.max(1);
    let mut out = wrap(&heading(config, rows.len()), PROSE);
    out += &table(rows, runs, config.format == TableFormat::Wide);
    // A plot for each load and policy: their rows would share the points.
    let mut groups: Vec<(Option<f64>, Option<WhenFull>)> = Vec::new();
    for r in rows {
        if !groups.contains(&(r.load, r.when_full)) {
            groups.push((r.load, r.when_full));
        }
    }
    for (load, when_full) in groups {
        let group: Vec<Row> = rows
            .iter()
            .filter(|r| r.load == load && r.when_full == when_full)
            .cloned()
            .collect();
        let mut at = String::new();
        if let Some(load) = load {
            at += &format!(" at {}x load", factor(load));
        }
        if let Some(policy) = when_full {
            at += &format!(" with --when-full {}", policy.name());
        }
        out += &plots(&group, config, &at);
    }
    out.push('\n');
    for each in &decided {
        out += &wrap(&recommendation(each), PROSE);
    }
    out
}

/// The two plots of one load and policy: the share of sends that found the
/// buffer full (log scale, the target drawn across), and the p99 wait of a
/// blocked send, which is left out, saying so, where no send waited.
fn plots(rows: &[Row], config: &SweepConfig, at: &str) -> String {
    let runs = config.runs.max(1);
    let consumers = &config.consumers;
    let mut out = String::new();
    let share = series(rows, consumers, |r| Some(r.full_share.mean));
    let scale = Scale::Log {
        top: 1.0,
        target: Some(config.target_full),
    };
    let drawn = plot::plot(&share, scale, percent, 60, 10);
    let target = format!("{TARGET} = the target, {}", percent(config.target_full));
    let title = format!(
        "\n{} of sends that found the buffer full{at} (log scale; {}):\n",
        if runs > 1 { "Mean share" } else { "Share" },
        legend(consumers, &drawn, "", &[target])
    );
    out += &wrap(&title, PROSE);
    push_lines(&mut out, &drawn.lines);
    let p99 = series(rows, consumers, |r| r.blocked_p99_s);
    let time = |t: f64| if t == 0.0 { "0".into() } else { seconds(t) };
    let drawn = plot::plot(&p99, Scale::Linear { top: None }, time, 60, 8);
    let points: usize = p99.iter().map(|s| s.points.len()).sum();
    if drawn.skipped == points {
        out += &wrap(
            &format!("\nNo send waited{at} at any capacity tried: there is no p99 wait to plot.\n"),
            PROSE,
        );
        return out;
    }
    let title = format!(
        "\n{}p99 time blocked per blocked send{at} ({}):\n",
        if runs > 1 { "Mean " } else { "" },
        legend(
            consumers,
            &drawn,
            "capacities with no blocked send are not drawn",
            &[]
        )
    );
    out += &wrap(&title, PROSE);
    push_lines(&mut out, &drawn.lines);
    out
}

/// `text` with every line longer than `width` broken at its last space
/// that fits (a word longer than the line is left whole).
pub(super) fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / width);
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        let mut rest = body;
        while rest.chars().count() > width {
            let cut = rest
                .char_indices()
                .take_while(|(i, _)| rest[..*i].chars().count() <= width)
                .filter(|(_, c)| *c == ' ')
                .map(|(i, _)| i)
                .last();
            let Some(cut) = cut.filter(|&c| c > 0) else {
                break;
            };
            out.push_str(&rest[..cut]);
            out.push('\n');
            rest = &rest[cut + 1..];
        }
        out.push_str(rest);
        out.push_str(end);
    }
    out
}

/// The table with aligned columns, each right-aligned under its header, and
/// below it each stall's cost per point. Without `wide`, the columns that
/// do not fit [`NARROW`] are left out, and a line names them.
pub(super) fn table(rows: &[Row], runs: u32, wide: bool) -> String {
    let (columns, left_out) = text_columns(rows, runs, wide);
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = columns
            .iter()
            .zip(cells)
            .map(|(c, cell)| format!("{cell:>width$}", width = c.text_width(runs)))
            .collect();
        padded.join(" ") + "\n"
    };
    let mut out = line(columns.iter().map(|c| c.text_header(runs)).collect());
    for row in rows {
        out += &line(columns.iter().map(|c| c.text_cell(row, runs)).collect());
    }
    if !left_out.is_empty() {
        let names: Vec<String> = left_out.iter().map(|c| c.text_header(runs)).collect();
        out += &wrap(
            &format!(
                "(Also in --wide, --csv and --json: {}.)\n",
                names.join(", ")
            ),
            PROSE,
        );
    }

    // The stall lines end with the load, as the table's rows do.
    let loads = rows.iter().any(|r| r.load.is_some());
    let load = |r: &Row| {
        let mut end = String::new();
        if loads {
            end += &format!(" {:>6}", factor(r.load.unwrap_or(1.0)));
        }
        // With several policies each line says which it is, as the table's rows do.
        if let Some(policy) = r.when_full {
            end += &format!(" {:>11}", policy.name());
        }
        end
    };
    // Each stall's cost per point, below the table where there are stalls.
    for (k, stall) in rows
        .first()
        .map_or(&[][..], |r| &r.stalls[..])
        .iter()
        .enumerate()
    {
        out += &wrap(
            &format!(
                "\nStall {} of {} at {}: per point, its backlog peak / sends that found the \
                 buffer full / time blocked:\n",
                k + 1,
                seconds(stall.length_s),
                seconds(stall.at_s)
            ),
            PROSE,
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
                    load(r),
                );
            }
        }
    }
    out
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

/// The recommendation in words: what meets the target and how surely, what
/// does not and why, the stalls beside their rule of thumb.
pub fn recommendation(r: &Recommendation) -> String {
    let mut out = String::new();
    let target = format!(
        "at most {} of sends finding the buffer full",
        percent(r.target_full)
    );
    let how = confidence(r.runs);
    let mut at = match r.load {
        Some(load) => format!(" at {}x load", factor(load)),
        None => String::new(),
    };
    if let Some(policy) = r.when_full {
        at += &format!(" with --when-full {}", policy.name());
    }
    let mut target = target;
    for other in &r.other_targets {
        target += &format!(" and {other}");
    }
    for unmet in &r.unmet {
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
    match (r.capacity, r.consumers) {
        (Some(capacity), Some(consumers)) => {
            let share = r.full_share.map_or(String::new(), |s| match s.ci_high {
                Some(high) => {
                    format!(" (mean {}, upper bound {})", percent(s.mean), percent(high))
                }
                None => format!(" ({})", percent(s.mean)),
            });
            let _ = writeln!(
                out,
                "Recommendation{at}: capacity {capacity} with {consumers} consumer(s) meets {target} {how}{share}."
            );
            if let Some(decided) = &r.decided_by {
                let _ = writeln!(out, "Decided by {decided}.");
            }
            if let (Some(bytes), Some(peak)) = (r.capacity_bytes, r.peak_bytes) {
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
    let overloaded = r
        .unmet
        .iter()
        .any(|u| u.utilisation.is_some_and(|rho| rho >= 1.0));
    if let Some(needed) = r.consumers_needed
        && (r.consumers.is_none() || overloaded)
    {
        let _ = writeln!(
            out,
            "Consumers needed to keep up (rho < 1){at}: at least {needed}; fewer fill any \
             buffer given time."
        );
    }
    if let (Some(check), Some(capacity)) = (&r.horizon, r.capacity) {
        let longer =
            humantime::format_duration(std::time::Duration::from_secs_f64(check.duration_s));
        let share = match check.full_share.ci_high {
            Some(high) => format!(
                "mean {}, upper bound {}",
                percent(check.full_share.mean),
                percent(high)
            ),
            None => percent(check.full_share.mean),
        };
        if check.settled {
            let _ = writeln!(
                out,
                "Checked at {longer} (4x the horizon): capacity {capacity} still meets it ({share})."
            );
        } else {
            let instead = match check.capacity {
                Some(k) => format!("there the smallest capacity tried that meets it is {k}"),
                None => "no capacity tried meets it there".into(),
            };
            let _ = writeln!(
                out,
                "Not settled: at {longer} (4x the horizon) capacity {capacity} no longer meets \
                 it ({share}); {instead}. The answer grows with the horizon: try a longer \
                 --duration before relying on it."
            );
        }
    }
    if let Some(why) = &r.unchecked {
        let _ = writeln!(out, "Not checked at a longer horizon: {why}");
    }
    if let Some(warning) = &r.warning {
        let _ = writeln!(out, "Warning: {warning}");
    }
    for stall in &r.stalls {
        let rule = stall
            .rule_of_thumb
            .map_or("unknown".into(), |n| n.to_string());
        let simulated = match (r.capacity, stall.backlog_peak) {
            (Some(capacity), Some(peak)) => format!(
                "simulated: capacity {capacity}, where its backlog peaked at {} and {} \
                 send(s) found the buffer full while it lasted (blocked {} in all)",
                count(peak, r.runs),
                count(stall.full_count.unwrap_or(0.0), r.runs),
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
    if r.runs <= 1 {
        out += "One run gives no confidence interval: use --runs 2 or more for a margin.\n";
    }
    for s in &r.smallest {
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
    if r.smallest.len() > 1 {
        let each: Vec<String> = r
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

/// The legend of a plot: each series' mark, `more` marks (the target's
/// line), the overlap mark if drawn, and what is not drawn.
fn legend(consumers: &[u32], drawn: &plot::Plot, skipped_means: &str, more: &[String]) -> String {
    let marks = plot::marks(consumers);
    let mut parts: Vec<String> = consumers
        .iter()
        .zip(&marks)
        .filter_map(|(&c, mark)| Some(format!("{} = {c} consumer(s)", (*mark)?)))
        .collect();
    parts.extend(more.iter().cloned());
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

/// The first lines of the text report: what was simulated, and what the figures are.
fn heading(config: &SweepConfig, points: usize) -> String {
    let m = &config.model;
    let traffic = &config.traffic;
    let arrivals = match m.arrivals {
        _ if traffic.trace.is_some() => {
            let t = traffic.trace.as_ref().expect("checked");
            format!(
                "replayed from {} ({} lines over {}, {} out of order)",
                printable(&t.name),
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
                printable(&file.name),
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
             95% CI of the full share:\n{}.\n\n",
            config.seed,
            super::INTERVAL_METHOD
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
