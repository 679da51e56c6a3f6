//! The report's formats, from simulated rows.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::model::{ArrivalKind, ServiceKind};
use crate::sizing::recommend::{recommend, recommend_per_load};
use crate::sizing::sweep::{BLOCK, Traffic, rows, rows as rows_of};
use crate::traffic::Trace;

/// The sweep's test configuration, printed as `format`.
fn config(capacities: &[u64], consumers: &[u32], runs: u32, format: TableFormat) -> SweepConfig {
    SweepConfig {
        format,
        threads: 2,
        ..crate::sizing::sweep::test_config(capacities, consumers, runs)
    }
}

/// The text with its wrapped lines joined: prose is wrapped at 100
/// columns, so a phrase may run over two lines.
fn prose(text: &str) -> String {
    text.lines().collect::<Vec<_>>().join(" ")
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
        prose(&text).contains("Mean share of sends that found the buffer full"),
        "{text}"
    );
    assert!(text.contains("95% CI of full %"), "{text}");
    assert!(
        prose(&text).contains("with 95% confidence over 3 runs"),
        "{text}"
    );
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
    assert!(text::table(&rows, 1, false).contains("M/M/c/K %"));
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
        prose(&text).contains("1 = 1 consumer(s), 3 = 3 consumer(s)"),
        "{text}"
    );
    // Three consumers rarely block at 1000: some points have no p99.
    assert!(
        prose(&text).contains("capacities with no blocked send are not drawn"),
        "{text}"
    );
    let plotted: String = text
        .lines()
        .filter_map(|l| l.split_once(" |").map(|(_, plot)| plot.to_string()))
        .collect();
    assert!(!plotted.contains('2'), "no series is marked 2: {text}");
    for mark in plotted.chars().filter(|c| !c.is_whitespace()) {
        assert!("13*.".contains(mark), "{mark} is in no legend: {text}");
        if mark == '*' {
            assert!(text.contains("* = more than one series"), "{text}");
        }
        if mark == '.' {
            assert!(prose(&text).contains(". = the target, 1%"), "{text}");
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
    let text = recommendation(&recommend(&rows(&c), &c));
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
    let text = recommendation(&recommend(&rows(&target), &target));
    assert!(text.contains("at most 7% of sends"), "{text}");
}

#[test]
fn a_trace_at_several_loads_gives_rows_and_a_recommendation_per_load() {
    // A burst of 20 arrivals every 10 s for 10 minutes, 100 ms of service:
    // one consumer keeps up at load 1 with a buffer of 20.
    let offsets: Vec<u64> = (0..60u64)
        .flat_map(|burst| (0..20u64).map(move |k| burst * 10_000_000_000 + k * 1_000_000))
        .collect();
    let trace = Arc::new(Trace::from_offsets("bursts", offsets));
    let mut c = config(&[5, 20, 100], &[1, 2], 1, TableFormat::Text);
    c.duration = trace.span();
    c.model.consume_every = Duration::from_millis(100);
    c.traffic = Traffic {
        trace: Some(Arc::clone(&trace)),
        service: None,
        loads: vec![1.0, 4.0],
        block: BLOCK,
    };
    let rows = rows(&c);
    assert_eq!(rows.len(), 12);
    assert!(
        rows[..6]
            .iter()
            .all(|r| r.load == Some(1.0) && r.produced == 1200.0)
    );
    assert!(rows[6..].iter().all(|r| r.load == Some(4.0)));
    let per_load = recommend_per_load(&rows, &c);
    assert_eq!(per_load.len(), 2);
    assert_eq!(
        (
            per_load[0].load,
            per_load[0].consumers,
            per_load[0].capacity
        ),
        (Some(1.0), Some(1), Some(20))
    );
    assert_eq!(per_load[1].load, Some(4.0));
    assert!(
        recommendation(&per_load[1]).contains("at 4x load"),
        "{}",
        recommendation(&per_load[1])
    );
    let csv = csv::table(&rows, 1);
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    assert_eq!(header.last(), Some(&"load"));
    assert!(csv.lines().nth(7).unwrap().ends_with(",4"), "{csv}");
    c.format = TableFormat::Json;
    let json: serde_json::Value = serde_json::from_str(&report(&c, &rows)).unwrap();
    assert_eq!(json["rows"][11]["load"], 4.0);
    assert_eq!(json["recommendations"].as_array().unwrap().len(), 2);
    assert_eq!(json["arrivals_from"]["lines"], 1200);
    c.format = TableFormat::Text;
    let text = report(&c, &rows);
    assert!(
        prose(&text).contains("replayed from bursts (1200 lines"),
        "{text}"
    );
    assert!(
        prose(&text).contains("Recommendation at 1x load: capacity 20 with 1 consumer(s)"),
        "{text}"
    );
    // Without --load the rows carry no load, and the JSON no field for it.
    c.traffic.loads = vec![1.0];
    let rows = rows_of(&c);
    assert!(rows.iter().all(|r| r.load.is_none()));
    c.format = TableFormat::Json;
    let json: serde_json::Value = serde_json::from_str(&report(&c, &rows)).unwrap();
    assert!(json["rows"][0].get("load").is_none() && json.get("loads").is_none());
}

#[test]
fn an_overloaded_system_says_no_buffer_is_enough() {
    // 1000 arrivals 10 ms apart against 20 ms of service: rho = 2 with one consumer.
    let trace = Arc::new(Trace::from_offsets(
        "steady",
        (0..1000u64).map(|k| k * 10_000_000).collect(),
    ));
    let mut c = config(&[10, 1000], &[1, 2, 3], 1, TableFormat::Text);
    c.duration = trace.span();
    c.model.consume_every = Duration::from_millis(20);
    c.traffic.trace = Some(trace);
    let text = recommendation(&recommend(&rows(&c), &c));
    assert!(text.contains("no buffer is enough"), "{text}");
}

#[test]
fn a_trace_name_is_printed_with_its_control_characters_escaped() {
    let trace = Arc::new(Trace::from_offsets(
        "evil\u{1b}[2J.log",
        vec![0, 1_000_000_000],
    ));
    let mut c = config(&[10], &[1], 1, TableFormat::Text);
    c.duration = trace.span();
    c.traffic.trace = Some(trace);
    let text = report(&c, &rows(&c));
    assert!(text.contains("replayed from evil\\u{1b}[2J.log"), "{text}");
    assert!(!text.contains('\u{1b}'), "{text:?}");
}
