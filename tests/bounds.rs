//! The edges of a run, end to end (issue 15): every run ends, whatever its
//! intervals; a stop request at the end of a run is answered; no numeric flag
//! panics (a value out of range is one line and exit 2, naming the range);
//! `fit` and the sweep cost in proportion to the lines, and the sweep's cost
//! guard refuses, with its estimate, what it cannot do.
//!
//! No assertion depends on how fast the machine is: a run must end (the
//! watchdog only bounds a hang), say what it skipped, or be refused.

use std::io::{BufRead, BufReader, Read};
use std::process::{Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

mod common;
use common::{TempFile, burstbuf, json_run, signal, spawn, wait};
use serde_json::Value;

/// Neither side takes any time, at full speed.
const FLAT_OUT: &[&str] = &["--produce-every=0s", "--consume-every=0s", "--burst-prob=0"];

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

/// A refusal: exit 2 and one line on stderr that contains every `part`.
fn refused(output: &Output, parts: &[&str]) -> String {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for part in parts {
        assert!(stderr.contains(part), "{part:?} in: {stderr}");
    }
    stderr
}

#[test]
fn a_model_whose_time_never_passes_ends_and_says_why_it_was_not_simulated() {
    // The prediction simulated this for ever (INT, INT, TERM did nothing).
    let s = json_run(&[FLAT_OUT, &["--duration=1s"]].concat());
    assert_eq!(s["produced"], s["consumed"], "{s}");
    assert!(s["predicted"]["simulated_produced"].is_null(), "{s}");
    let why = s["predicted"]["skipped"].as_str().unwrap();
    assert!(why.contains("without end"), "{why}");
    // The peak backlog is bounded by the run's own messages: replayed or skipped, never unsaid.
    assert!(
        s["peak_backlog"].is_u64() || s["peak_backlog_skipped"].is_string(),
        "{s}"
    );
}

#[test]
fn a_billion_messages_to_simulate_are_foreseen_not_simulated() {
    // A message a nanosecond for a second: 10^9 to simulate (21 s before).
    let s = json_run(&[
        "--produce-every=1ns",
        "--consume-every=0s",
        "--burst-prob=0",
        "--duration=1s",
    ]);
    assert!(s["predicted"]["simulated_produced"].is_null(), "{s}");
    let why = s["predicted"]["skipped"].as_str().unwrap();
    assert!(
        why.contains("1.0e9 messages to simulate") && why.contains("burstbuf sweep"),
        "{why}"
    );
}

/// Starts a flat-out run with `--json` (the log lines on stderr) and waits
/// until it has produced, so it is under way before the test signals it.
/// The rest of stderr is drained on a thread, so the run never waits on it.
fn under_way_json(args: &[&str]) -> std::process::Child {
    let mut child = spawn(&[args, &["--json", "--plain"]].concat(), Stdio::piped());
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "ended early");
        let produced = line
            .split_whitespace()
            .find_map(|f| f.strip_prefix("produced="))
            .and_then(|n| n.parse::<u64>().ok());
        if produced.is_some_and(|n| n >= 2) {
            break;
        }
    }
    thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    child
}

#[test]
fn an_abort_with_a_thousand_consumers_flat_out_exits_130_and_says_what_it_skipped() {
    let mut child = under_way_json(&[FLAT_OUT, &["--duration=0s", "--consumers=1000"]].concat());
    // Two different signals back to back, so they cannot merge into one:
    // the first stops the producer, the second aborts (the drain, or the
    // end-of-run analysis if the drain was quicker still).
    signal(&child, "INT");
    signal(&child, "TERM");
    let sent = Instant::now();
    let status = wait(&mut child);
    let exited = sent.elapsed();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert_eq!(status.code(), Some(130), "{stdout}");
    let s: Value = serde_json::from_str(&stdout).unwrap();
    eprintln!(
        "exit {exited:?} after the second signal, {} produced",
        s["produced"]
    );
    let figure = |key: &str| s[key].as_u64().unwrap();
    assert_eq!(
        figure("produced"),
        figure("consumed") + figure("dropped") + figure("unconsumed"),
        "{s}"
    );
    // What the end of the run skipped, and why: the abort (or the request
    // that came during the analysis), never a figure left unexplained.
    let skipped = |why: &str| {
        why.contains("the run was aborted") || why.contains("interrupted by a stop request")
    };
    let prediction = s["predicted"]["skipped"].as_str().unwrap_or_default();
    assert!(skipped(prediction), "{s}");
    match s["peak_backlog_skipped"].as_str() {
        Some(why) => {
            assert!(s["peak_backlog"].is_null(), "{s}");
            assert!(skipped(why), "{why}");
        }
        // Replayed only within an aborted run's budget: 2·10^6 messages of
        // the simplest kind, and with 1000 consumers one costs 63 (it was
        // 8.6 M messages, 5–7 s, before the exit).
        None => {
            assert!(s["peak_backlog"].is_u64(), "{s}");
            assert!(figure("produced") <= 2_000_000 / 63, "{s}");
        }
    }
}

#[test]
fn a_stop_request_during_the_end_of_a_run_interrupts_the_analysis() {
    // 250 000 messages with 1000 consumers: quick to run live, and a long
    // analysis (each simulated message scans the consumers) well within its
    // budget. The request is sent a while after the last log line is out,
    // when the analysis has begun. If it lands before (the consumers were
    // still leaving: the run counts as aborted), the next try waits longer;
    // if after (the analysis was done), shorter.
    let args = [
        FLAT_OUT,
        &["--messages=250000", "--consumers=1000", "--plain"],
    ]
    .concat();
    let mut delay = Duration::from_millis(200);
    for attempt in 1..=5 {
        let mut child = spawn(&args, Stdio::piped());
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            assert!(stdout.read_line(&mut line).unwrap() > 0, "ended early");
            // A last log line: everything produced has been consumed.
            if line.starts_with("t=") && line.contains("produced=250000 consumed=250000 ") {
                break;
            }
        }
        thread::sleep(delay);
        signal(&child, "INT");
        let sent = Instant::now();
        let status = wait(&mut child);
        let exited = sent.elapsed();
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        if status.success() {
            eprintln!("attempt {attempt}: the analysis ended within {delay:?}");
            delay /= 3;
            continue;
        }
        assert_eq!(status.code(), Some(130), "{rest}");
        if rest.contains("simulation skipped: the run was aborted") {
            eprintln!("attempt {attempt}: the request came before the analysis, in {delay:?}");
            delay *= 3;
            continue;
        }
        // Drained, not aborted: every message was consumed, and what the
        // request cut short says so.
        assert!(rest.contains("left unconsumed 0"), "{rest}");
        if rest.contains("interrupted by a stop request") {
            // The exit code says aborted, and so does the summary: what was
            // cut short is the review, not the run.
            assert!(
                rest.contains("then a stop request cut the review short"),
                "{rest}"
            );
            eprintln!("attempt {attempt}: exit {exited:?} after the request");
            return;
        }
        eprintln!("attempt {attempt}: the request came after the analysis: {rest}");
        delay /= 3;
    }
    panic!("no stop request in five landed during the analysis and interrupted it");
}

#[test]
fn loads_that_would_stretch_model_time_past_its_range_are_refused_with_the_range() {
    // It panicked: overflow when adding durations.
    let live = burstbuf(&["--load=1e-25", "--duration=1s"])
        .output()
        .unwrap();
    refused(&live, &["--load", "1e-25", "from 1.11e-10 to 1000000"]);
    let sweep = burstbuf(&["sweep", "--load=1e-25"]).output().unwrap();
    refused(&sweep, &["--load", "from 1.11e-10"]);
    // With a trace, its span is what a load stretches.
    let second = TempFile::new("second.txt", "1700000000\n1700000001\n");
    for command in [&[][..], &["sweep"]] {
        let output = burstbuf(command)
            .args(["--arrivals-from", second.path(), "--load=1e-300"])
            .output()
            .unwrap();
        refused(&output, &["--load", "1e-300", "span", "from 1.08e-10"]);
    }
    // What was sound stays accepted: the largest load, and any load of a
    // trace with no span (one line), which is printed without 300 zeros.
    let s = json_run(&["--load=1000000", "--duration=1s", "--speed=100"]);
    assert_eq!(s["produced"], s["consumed"], "{s}");
    let one = TempFile::new("one.txt", "1700000000\n");
    let output = burstbuf(&["--arrivals-from", one.path(), "--load=1e-300", "--plain"])
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("at 1e-300x load"), "{stderr}");
}

#[test]
fn the_sweeps_guard_counts_a_service_files_mean() {
    // A file of zeros with no gap: simulated time would never pass (it ran for ever).
    let zero = TempFile::new("zero.svc", "0\n");
    let output = burstbuf(&["sweep", "--produce-every=0s", "--burst-prob=0"])
        .args(["--service-from", zero.path()])
        .output()
        .unwrap();
    refused(&output, &["never pass", "--service-from", "its mean is 0s"]);
    // A nanosecond each for a year: 3.2e16 messages a simulation.
    let nano = TempFile::new("nano.svc", "1ns\n");
    let output = burstbuf(&["sweep", "--produce-every=0s", "--burst-prob=0"])
        .args(["--service-from", nano.path(), "--duration=1y"])
        .output()
        .unwrap();
    refused(&output, &["3.2e16 messages per simulation", "--duration"]);
    // A drop policy never waits for the consumers: no gap, no time passing.
    let output = burstbuf(&["sweep", "--produce-every=0s", "--burst-prob=0"])
        .arg("--when-full=drop-newest")
        .output()
        .unwrap();
    refused(&output, &["never pass", "drop policy"]);
}

#[test]
fn the_sweeps_guard_counts_bootstrap_blocks_times_runs() {
    // Two lines 10 s apart in blocks of a nanosecond: 10^10 blocks to draw
    // for the second run (13.9 s before).
    let ten = TempFile::new("ten.txt", "1700000000\n1700000010\n");
    let output = burstbuf(&["sweep", "--arrivals-from", ten.path()])
        .args(["--block=1ns", "--runs=2"])
        .output()
        .unwrap();
    refused(&output, &["1.0e10 bootstrap blocks", "--block", "--runs"]);
    // A 290-year trace of two lines in blocks of a second (68 s before), and
    // any long one at --runs 1000.
    let ages = TempFile::new("ages.txt", "1826-01-01T00:00:00Z\n2116-01-01T00:00:00Z\n");
    let output = burstbuf(&["sweep", "--arrivals-from", ages.path(), "--block=1s"])
        .output()
        .unwrap();
    refused(&output, &["bootstrap blocks", "--block"]);
    let fifty = TempFile::new("fifty.txt", "0\n1577836800\n");
    let output = burstbuf(&["sweep", "--arrivals-from", fifty.path(), "--runs=1000"])
        .output()
        .unwrap();
    refused(&output, &["bootstrap blocks", "--runs"]);
    // One run replays the trace and draws no block: two lines are cheap.
    let output = burstbuf(&["sweep", "--arrivals-from", ages.path(), "--runs=1"])
        .args(["--capacities=1,10", "--consume-every=1ms", "--csv"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).lines().count(), 3);
}

#[test]
fn fit_costs_the_lines_not_the_span() {
    // 126 years in two lines: the dispersion asked for 31.8 GB and aborted.
    let century = TempFile::new(
        "century.log",
        "1900-01-01T00:00:00Z\n2026-01-01T00:00:00Z\n",
    );
    let output = burstbuf(&["fit", century.path(), "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let fit: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(fit["lines"], 2);
    assert_eq!(
        fit["burstiness"]["dispersion"][0]["windows"],
        3_976_214_400u64
    );
    // Four lines a nanosecond apart on average: the Poisson stream's gap
    // rounds to nothing, and with no service time it never ended.
    let tight = TempFile::new(
        "tight.log",
        "2026-01-01T00:00:00.000000000Z\n2026-01-01T00:00:00.000000000Z\n\
         2026-01-01T00:00:00.000000000Z\n2026-01-01T00:00:00.000000001Z\n",
    );
    let output = burstbuf(&["fit", tight.path(), "--consume-every=0s"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(text(&output.stdout).contains("Poisson of the same mean rate:"));
}

#[test]
fn a_nanosecond_is_written_as_one() {
    let nano = TempFile::new("one-nano.svc", "1ns\n1ns\n");
    let output = burstbuf(&["fit", "--service", nano.path()])
        .output()
        .unwrap();
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("mean 1ns, median 1ns"), "{stdout}");
    assert!(!stdout.contains("0.00ms"), "{stdout}");
}
