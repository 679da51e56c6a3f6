//! `burstbuf sweep`: the live model, simulated in virtual time (see [`crate::sizing::sim`])
//! for every capacity and consumer count asked for, with the same seed for
//! each so the curves are smooth and comparable with a live run. Prints a table,
//! terminal plots, and the smallest capacity and consumer count that meet the
//! target share of sends finding the buffer full.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;

use crate::model::{ArrivalKind, Model, ServiceKind};
use crate::sizing::sim::{self, Scenario};
use crate::units::seconds;

/// How the sweep's table is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Aligned columns, plots and the recommendation.
    Text,
    Json,
    Csv,
}

/// What to sweep: the model, and every capacity and consumer count to try.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepConfig {
    pub model: Model,
    pub seed: u64,
    /// Model time each simulation runs the producer for.
    pub duration: Duration,
    /// Ascending, each at least 1.
    pub capacities: Vec<u64>,
    /// Ascending, each at least 1.
    pub consumers: Vec<u32>,
    /// The share of sends allowed to find the buffer full, in (0, 1).
    pub target_full: f64,
    pub format: TableFormat,
}

/// The most simulations one sweep may run.
pub const MAX_SWEEP_POINTS: usize = 10_000;

/// The most messages one simulation may take (about 20 s at 50 M/s).
pub const MAX_SIMULATED_MESSAGES: f64 = 1e9;

/// Refuses a sweep that would run too many simulations, one whose simulated
/// time could never pass, or one that would take far too long; the error says
/// which option to change.
pub fn check_cost(
    model: &Model,
    capacities: &[u64],
    consumers: &[u32],
    duration: Duration,
) -> Result<(), String> {
    let points = capacities.len() * consumers.len();
    if points > MAX_SWEEP_POINTS {
        return Err(format!(
            "--capacities × --consumers gives {points} simulations; at most {MAX_SWEEP_POINTS} are allowed"
        ));
    }
    let most = *consumers.last().unwrap_or(&1);
    let messages = messages_per_simulation(model, most, duration);
    if messages.is_infinite() {
        return Err(
            "neither producing nor consuming takes any time, so simulated time would \
             never pass: give --produce-every, --burst-pause or --consume-every a duration"
                .into(),
        );
    }
    if messages > MAX_SIMULATED_MESSAGES {
        return Err(format!(
            "--duration {} with these intervals means about {messages:.1e} messages per \
             simulation; at most {MAX_SIMULATED_MESSAGES:.0e} are allowed (shorten \
             --duration or lengthen --produce-every or --consume-every)",
            humantime::format_duration(duration)
        ));
    }
    Ok(())
}

/// About how many messages a simulation of `duration` goes through: the
/// producer offers one per mean gap, but never faster than `consumers` can
/// take them once the buffer is full. Infinite when neither takes any time.
fn messages_per_simulation(model: &Model, consumers: u32, duration: Duration) -> f64 {
    let gap = model.mean_gap().as_secs_f64();
    let service = model.consume_every.as_secs_f64() / f64::from(consumers.max(1));
    let slowest = gap.max(service);
    if slowest > 0.0 {
        duration.as_secs_f64() / slowest
    } else {
        f64::INFINITY
    }
}

/// One simulation's figures, in model time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub capacity: u64,
    pub consumers: u32,
    pub produced: u64,
    pub full_count: u64,
    /// The share of sends that found the buffer full.
    pub full_share: f64,
    /// The M/M/1/K prediction of `full_share`, where it applies (exponential
    /// arrivals and service, one consumer).
    pub predicted_full_share: Option<f64>,
    pub blocked_p50_s: Option<f64>,
    pub blocked_p99_s: Option<f64>,
    pub blocked_max_s: f64,
    pub blocked_total_s: f64,
    pub max_depth: u64,
    /// Mean time a message waited in the buffer.
    pub mean_staleness_s: f64,
    /// Messages sent per second of producing time.
    pub throughput: Option<f64>,
}

/// The smallest system that meets the target, and the consumer counts for which none does.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    pub target_full: f64,
    /// The fewest consumers, then the smallest capacity, that meet the target.
    pub consumers: Option<u32>,
    pub capacity: Option<u64>,
    /// Consumer counts (fewer than the recommended) for which no capacity tried meets it.
    pub unmet: Vec<Unmet>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unmet {
    pub consumers: u32,
    /// ρ = λ/(c·μ) from the configuration.
    pub utilisation: Option<f64>,
}

/// Runs every simulation of the sweep: consumer counts outer, capacities inner.
pub fn rows(config: &SweepConfig) -> Vec<Row> {
    let mut rows = Vec::with_capacity(config.capacities.len() * config.consumers.len());
    for &consumers in &config.consumers {
        for &capacity in &config.capacities {
            rows.push(row(config, capacity, consumers));
        }
    }
    rows
}

fn row(config: &SweepConfig, capacity: u64, consumers: u32) -> Row {
    let outcome = sim::simulate(&Scenario {
        model: &config.model,
        seed: config.seed,
        capacity,
        consumers,
        horizon: Some(config.duration),
        messages: None,
    });
    let secs = |d: std::time::Duration| d.as_secs_f64();
    Row {
        capacity,
        consumers,
        produced: outcome.produced,
        full_count: outcome.full_count,
        full_share: outcome.full_share(),
        predicted_full_share: predicted(&config.model, capacity, consumers),
        blocked_p50_s: outcome.blocked.quantile(0.5).map(secs),
        blocked_p99_s: outcome.blocked.quantile(0.99).map(secs),
        blocked_max_s: secs(outcome.blocked.max()),
        blocked_total_s: secs(outcome.blocked.total()),
        max_depth: outcome.max_depth,
        mean_staleness_s: outcome.mean_wait_s,
        throughput: outcome.throughput(),
    }
}

/// The M/M/1/K share, for exponential arrivals and service with one consumer.
fn predicted(model: &Model, capacity: u64, consumers: u32) -> Option<f64> {
    let exponential =
        model.arrivals == ArrivalKind::Exponential && model.service == ServiceKind::Exponential;
    if !exponential || consumers != 1 {
        return None;
    }
    let rho = model.utilisation(1)?;
    Some(sim::m_m_1_k_blocking(rho, capacity))
}

/// The fewest consumers, then the smallest capacity, whose share of sends
/// finding the buffer full is at most the target.
pub fn recommend(rows: &[Row], config: &SweepConfig) -> Recommendation {
    let mut unmet = Vec::new();
    for &consumers in &config.consumers {
        let best = rows
            .iter()
            .filter(|r| r.consumers == consumers && r.full_share <= config.target_full)
            .map(|r| r.capacity)
            .min();
        if let Some(capacity) = best {
            return Recommendation {
                target_full: config.target_full,
                consumers: Some(consumers),
                capacity: Some(capacity),
                unmet,
            };
        }
        unmet.push(Unmet {
            consumers,
            utilisation: config.model.utilisation(consumers),
        });
    }
    Recommendation {
        target_full: config.target_full,
        consumers: None,
        capacity: None,
        unmet,
    }
}

impl Recommendation {
    pub fn text(&self) -> String {
        let mut out = String::new();
        let target = format!(
            "at most {}% of sends finding the buffer full",
            self.target_full * 100.0
        );
        for unmet in &self.unmet {
            let rho = unmet
                .utilisation
                .map_or("unknown".into(), |rho| format!("{rho:.2}"));
            let _ = writeln!(
                out,
                "No capacity tried meets {target} with {} consumer(s): rho = {rho}.",
                unmet.consumers
            );
        }
        match (self.capacity, self.consumers) {
            (Some(capacity), Some(consumers)) => {
                let _ = writeln!(
                    out,
                    "Recommendation: capacity {capacity} with {consumers} consumer(s) meets {target}."
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "Recommendation: none of the systems tried meets {target}."
                );
            }
        }
        out
    }
}

/// The table with aligned columns.
pub fn table(rows: &[Row]) -> String {
    let predicted = rows.iter().any(|r| r.predicted_full_share.is_some());
    let mut out = format!(
        "{:>9} {:>9} {:>10} {:>10} {:>10}{} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10}\n",
        "capacity",
        "consumers",
        "sent",
        "full",
        "full %",
        if predicted { "  M/M/1/K %" } else { "" },
        "p50 wait",
        "p99 wait",
        "max wait",
        "blocked",
        "max depth",
        "staleness",
        "sent/s"
    );
    let time = |t: Option<f64>| t.map_or("-".into(), seconds);
    for r in rows {
        let prediction = match (predicted, r.predicted_full_share) {
            (false, _) => String::new(),
            (true, Some(p)) => format!(" {:>10.3}", p * 100.0),
            (true, None) => format!(" {:>10}", "-"),
        };
        let _ = writeln!(
            out,
            "{:>9} {:>9} {:>10} {:>10} {:>10.3}{prediction} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10}",
            r.capacity,
            r.consumers,
            r.produced,
            r.full_count,
            r.full_share * 100.0,
            time(r.blocked_p50_s),
            time(r.blocked_p99_s),
            time((r.full_count > 0).then_some(r.blocked_max_s)),
            seconds(r.blocked_total_s),
            r.max_depth,
            seconds(r.mean_staleness_s),
            r.throughput.map_or("-".into(), |t| format!("{t:.2}")),
        );
    }
    out
}

/// The table as CSV, with the JSON field names as the header.
pub fn csv(rows: &[Row]) -> String {
    let mut out = String::from(
        "capacity,consumers,produced,full_count,full_share,predicted_full_share,blocked_p50_s,\
         blocked_p99_s,blocked_max_s,blocked_total_s,max_depth,mean_staleness_s,throughput\n",
    );
    let opt = |x: Option<f64>| x.map_or(String::new(), |x| x.to_string());
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.capacity,
            r.consumers,
            r.produced,
            r.full_count,
            r.full_share,
            opt(r.predicted_full_share),
            opt(r.blocked_p50_s),
            opt(r.blocked_p99_s),
            r.blocked_max_s,
            r.blocked_total_s,
            r.max_depth,
            r.mean_staleness_s,
            opt(r.throughput)
        );
    }
    out
}

/// Marks for the curves, one per consumer count, in the order given.
const MARKS: &[u8] = b"123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The mark of a consumer count's curve: the count itself when every count is
/// a single digit, else a mark by position.
fn mark(consumers: &[u32], count: u32) -> u8 {
    if consumers.iter().all(|&c| c <= 9) {
        b'0' + count as u8
    } else {
        let index = consumers.iter().position(|&c| c == count).unwrap_or(0);
        MARKS.get(index).copied().unwrap_or(b'*')
    }
}

/// A scatter plot of `value` against capacity on a log axis, one mark per
/// consumer count; `height` rows of plot, `width` columns, labels around it.
pub fn plot(
    rows: &[Row],
    consumers: &[u32],
    value: impl Fn(&Row) -> f64,
    top: Option<f64>,
    label: impl Fn(f64) -> String,
    width: usize,
    height: usize,
) -> Vec<String> {
    let (Some(min), Some(max)) = (
        rows.iter().map(|r| r.capacity).min(),
        rows.iter().map(|r| r.capacity).max(),
    ) else {
        return Vec::new();
    };
    let (width, height) = (width.max(2), height.max(2));
    // The top of the y axis: given, or the largest value.
    let top = top.unwrap_or_else(|| rows.iter().map(&value).fold(0.0, f64::max));
    let top = if top > 0.0 { top } else { 1.0 };
    let span = (max as f64).log10() - (min as f64).log10();
    let column = |capacity: u64| {
        if span == 0.0 {
            0
        } else {
            (((capacity as f64).log10() - (min as f64).log10()) / span * (width - 1) as f64).round()
                as usize
        }
    };
    let mut grid = vec![vec![b' '; width]; height];
    for r in rows {
        let index = consumers
            .iter()
            .position(|&c| c == r.consumers)
            .unwrap_or(0);
        let mark = MARKS.get(index).copied().unwrap_or(b'*');
        let level = (value(r) / top * (height - 1) as f64).round() as usize;
        grid[height - 1 - level.min(height - 1)][column(r.capacity)] = mark;
    }
    let labels = [label(top), label(0.0)];
    let margin = labels.iter().map(String::len).max().unwrap_or(0);
    let mut lines = Vec::with_capacity(height + 2);
    for (i, row) in grid.iter().enumerate() {
        let tick = match i {
            0 => labels[0].as_str(),
            _ if i == height - 1 => labels[1].as_str(),
            _ => "",
        };
        let row = String::from_utf8_lossy(row);
        lines.push(format!("{tick:>margin$} |{}", row.trim_end()));
    }
    lines.push(format!("{:>margin$} +{}", "", "-".repeat(width)));
    let (left, right) = (min.to_string(), max.to_string());
    let gap = (width + 1).saturating_sub(left.len() + right.len()).max(1);
    lines.push(format!(
        "{:>margin$}  {left}{}{right}  (capacity, log scale)",
        "",
        " ".repeat(gap - 1)
    ));
    lines
}

/// Everything `burstbuf sweep` prints, in the chosen format.
pub fn report(config: &SweepConfig, rows: &[Row]) -> String {
    let recommendation = recommend(rows, config);
    match config.format {
        TableFormat::Csv => csv(rows),
        TableFormat::Json => {
            let object = serde_json::json!({
                "seed": config.seed,
                "duration_s": config.duration.as_secs_f64(),
                "target_full": config.target_full,
                "rows": rows,
                "recommendation": recommendation,
            });
            object.to_string() + "\n"
        }
        TableFormat::Text => {
            let m = &config.model;
            let arrivals = match m.arrivals {
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
                ServiceKind::Fixed => seconds(m.consume_every.as_secs_f64()),
                ServiceKind::Exponential => format!(
                    "exponential, mean {}",
                    seconds(m.consume_every.as_secs_f64())
                ),
            };
            let mut out = format!(
                "burstbuf sweep: {} simulations of {} each, seed {}; arrivals {arrivals}; service {service}\n\n",
                rows.len(),
                humantime::format_duration(config.duration),
                config.seed
            );
            out += &table(rows);
            let legend: Vec<String> = config
                .consumers
                .iter()
                .map(|&c| format!("{} = {c} consumer(s)", mark(&config.consumers, c) as char))
                .collect();
            let percent = |x: f64| format!("{:.0}%", x * 100.0);
            let _ = write!(
                out,
                "\nShare of sends that found the buffer full ({}):\n",
                legend.join(", ")
            );
            let share = |r: &Row| r.full_share;
            for line in plot(rows, &config.consumers, share, Some(1.0), percent, 60, 10) {
                out += &line;
                out.push('\n');
            }
            out += "\np99 time blocked per blocked send:\n";
            let p99 = |r: &Row| r.blocked_p99_s.unwrap_or(0.0);
            let time = |t: f64| if t == 0.0 { "0".into() } else { seconds(t) };
            for line in plot(rows, &config.consumers, p99, None, time, 60, 8) {
                out += &line;
                out.push('\n');
            }
            out.push('\n');
            out += &recommendation.text();
            out
        }
    }
}

/// Runs the sweep and prints the report on stdout.
pub fn run(config: &SweepConfig) -> io::Result<()> {
    let rows = rows(config);
    let mut stdout = io::stdout().lock();
    stdout.write_all(report(config, &rows).as_bytes())?;
    stdout.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn config(capacities: &[u64], consumers: &[u32], format: TableFormat) -> SweepConfig {
        SweepConfig {
            model: Model::original(),
            seed: 3,
            duration: Duration::from_secs(600),
            capacities: capacities.to_vec(),
            consumers: consumers.to_vec(),
            target_full: 0.01,
            format,
        }
    }

    #[test]
    fn one_row_per_capacity_and_consumer_count_in_order() {
        let c = config(&[1, 10, 100], &[1, 3], TableFormat::Text);
        let rows = rows(&c);
        let shape: Vec<(u64, u32)> = rows.iter().map(|r| (r.capacity, r.consumers)).collect();
        assert_eq!(
            shape,
            [(1, 1), (10, 1), (100, 1), (1, 3), (10, 3), (100, 3)]
        );
        // With ρ = 2.5 one consumer blocks at any size; a bigger buffer blocks less.
        assert!(rows[0].full_share > rows[2].full_share && rows[2].full_share > 0.3);
        // Three consumers (ρ ≈ 0.83) block far less at the same capacity.
        assert!(rows[5].full_share < rows[2].full_share / 10.0);
        assert!(rows.iter().all(|r| r.predicted_full_share.is_none()));
    }

    #[test]
    fn the_recommendation_is_the_fewest_consumers_then_the_smallest_capacity() {
        let c = config(&[1, 10, 100, 1000], &[1, 3, 4], TableFormat::Text);
        let row = |capacity, consumers, full_share| Row {
            capacity,
            consumers,
            produced: 1000,
            full_count: (full_share * 1000.0) as u64,
            full_share,
            predicted_full_share: None,
            blocked_p50_s: None,
            blocked_p99_s: None,
            blocked_max_s: 0.0,
            blocked_total_s: 0.0,
            max_depth: 0,
            mean_staleness_s: 0.0,
            throughput: None,
        };
        let rows = vec![
            row(1, 1, 0.9),
            row(10, 1, 0.8),
            row(100, 1, 0.5),
            row(1000, 1, 0.2),
            row(1, 3, 0.5),
            row(10, 3, 0.05),
            row(100, 3, 0.005),
            row(1000, 3, 0.0),
            row(1, 4, 0.001),
        ];
        let r = recommend(&rows, &c);
        assert_eq!((r.consumers, r.capacity), (Some(3), Some(100)));
        assert_eq!(r.unmet.len(), 1);
        assert_eq!(r.unmet[0].consumers, 1);
        let rho = r.unmet[0].utilisation.unwrap();
        assert!((rho - 2.5).abs() < 1e-9);
        let text = r.text();
        assert!(text.contains("with 1 consumer(s): rho = 2.50"), "{text}");
        assert!(text.contains("capacity 100 with 3 consumer(s)"), "{text}");

        let none = recommend(
            &rows[..4],
            &config(&[1, 10, 100, 1000], &[1], TableFormat::Text),
        );
        assert_eq!(none.capacity, None);
        assert!(none.text().contains("none of the systems tried"));
    }

    #[test]
    fn plot_marks_each_point_on_a_log_axis() {
        let c = config(&[1, 10, 100], &[1, 2], TableFormat::Text);
        let mut rows = rows(&c);
        for (r, share) in rows.iter_mut().zip([1.0, 0.5, 0.0, 0.5, 0.0, 0.0]) {
            r.full_share = share;
        }
        let lines = plot(
            &rows,
            &c.consumers,
            |r| r.full_share,
            None,
            |x| format!("{x}"),
            21,
            3,
        );
        assert_eq!(
            lines,
            vec![
                "1 |1".to_string(),
                "  |2         1".into(),
                "0 |          2         2".into(),
                "  +---------------------".into(),
                "   1                 100  (capacity, log scale)".into(),
            ]
        );
        assert!(plot(&[], &[1], |r| r.full_share, None, |x| format!("{x}"), 10, 3).is_empty());
        // A fixed top: 0.5 sits half-way up.
        let half = plot(
            &rows[1..2],
            &[1],
            |r| r.full_share,
            Some(1.0),
            |x| format!("{x}"),
            3,
            3,
        );
        assert_eq!(half[1], "  |1");
    }

    #[test]
    fn marks_are_the_counts_when_they_fit() {
        assert_eq!(mark(&[1, 3], 3), b'3');
        assert_eq!(mark(&[1, 12], 12), b'2');
        assert_eq!(mark(&[1, 12], 1), b'1');
    }

    #[test]
    fn formats() {
        let c = config(&[5, 50], &[1], TableFormat::Csv);
        let rows = rows(&c);
        let csv = report(&c, &rows);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("capacity,consumers,produced,full_count,full_share"));
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
        assert!(value["recommendation"]["unmet"].is_array());

        let text = report(
            &SweepConfig {
                format: TableFormat::Text,
                ..c
            },
            &rows,
        );
        assert!(
            text.contains("Share of sends that found the buffer full"),
            "{text}"
        );
        assert!(
            text.contains("Recommendation") || text.contains("No capacity"),
            "{text}"
        );
        assert!(
            !text.contains("M/M/1/K"),
            "no prediction for bursty arrivals"
        );
    }

    #[test]
    fn the_prediction_appears_for_exponential_one_consumer_systems() {
        let mut c = config(&[1, 10], &[1, 2], TableFormat::Text);
        c.model.arrivals = ArrivalKind::Exponential;
        c.model.service = ServiceKind::Exponential;
        let rows = rows(&c);
        assert!(rows[0].predicted_full_share.is_some() && rows[2].predicted_full_share.is_none());
        assert!(table(&rows).contains("M/M/1/K %"));
    }
}
