//! The binary end to end, in plain mode (stdout is a pipe here), at high --speed.
//! No assertion depends on how fast the machine is: timings only bound how long
//! a test may hang, with wide margins.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Stdio};
use std::thread;
use std::time::{Duration, Instant};

mod common;
use common::{WATCHDOG, burstbuf, json_run, signal, spawn, wait};

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

const FLAT_OUT: &[&str] = &[
    "--produce-every=0s",
    "--consume-every=0s",
    "--burst-prob=0",
    "--duration=0s",
];

/// "produced 199, consumed 199, left unconsumed 0, ..." → the number after `label`.
fn figure(line: &str, label: &str) -> u64 {
    let rest = &line[line
        .find(label)
        .unwrap_or_else(|| panic!("{label} in {line}"))
        + label.len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("{label} in {line}"))
}

/// The original's counter line and the figures line after it.
fn end_lines(stdout: &str) -> (&str, &str) {
    let mut lines = stdout
        .lines()
        .skip_while(|l| !l.starts_with("Buffer reached capacity "));
    match (lines.next(), lines.next()) {
        (Some(counter), Some(figures)) => (counter, figures),
        _ => panic!("no counter line followed by figures in: {stdout}"),
    }
}

#[test]
fn a_default_run_drains_and_ends_with_the_originals_counter_line() {
    let output = burstbuf(&[])
        .args(["--speed", "100", "--seed", "7"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = stdout_of(&output);
    assert!(
        !stdout.contains('\x1b'),
        "escape codes in plain output: {stdout:?}"
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let (counter, figures) = end_lines(&stdout);
    let full = counter
        .strip_prefix("Buffer reached capacity ")
        .and_then(|rest| rest.strip_suffix(" times"))
        .unwrap_or_else(|| panic!("not the counter line: {counter}"));
    let full: u64 = full.parse().unwrap();
    // Seed 7 offers about 200 messages in 30 s against 100 consumed: the buffer
    // fills, unless the machine could not keep the model's pace (and says so).
    let faithful = !stdout.lines().any(|l| l.starts_with("NOT FAITHFUL: "));
    assert!(full > 0 || !faithful, "{stdout}");
    assert_eq!(
        figure(figures, "produced"),
        figure(figures, "consumed"),
        "{figures}"
    );
    assert_eq!(figure(figures, "left unconsumed"), 0, "{figures}");
    assert!(figures.ends_with("seed 7"), "{figures}");

    // The log lines before it: at most one per model second (how many depends
    // on how often the machine let the illustrator look), the last at the end.
    let logs: Vec<&&str> = lines.iter().filter(|l| l.starts_with("t=")).collect();
    assert!(logs.len() >= 2, "{} log lines: {stdout}", logs.len());
    let seconds: Vec<f64> = logs
        .iter()
        .map(|l| {
            let t = l.split(' ').next().unwrap().trim_start_matches("t=");
            t.trim_end_matches('s').parse().unwrap()
        })
        .collect();
    assert!(
        seconds.windows(2).all(|w| w[1].floor() > w[0].floor()),
        "two log lines in one model second: {seconds:?}"
    );
    for log in &logs {
        let keys: Vec<&str> = log
            .split(' ')
            .map(|kv| kv.split('=').next().unwrap())
            .collect();
        assert_eq!(
            keys,
            [
                "t",
                "produced",
                "consumed",
                "depth",
                "full",
                "lambda",
                "mu",
                "rho",
                "blocked_p99",
                "high_water",
                "oldest_age",
                "producer",
                "faithful",
                "schedule_lag"
            ],
            "{log}"
        );
    }
    assert!(logs.last().unwrap().contains("depth=0/100"), "{stdout}");
}

#[test]
fn json_has_the_documented_fields_and_they_agree() {
    let summary = json_run(&[
        "--speed=1000",
        "--seed=3",
        "--capacity=10",
        "--duration=20s",
    ]);
    for field in [
        "capacity",
        "produced",
        "consumed",
        "full_count",
        "unconsumed",
        "seed",
        "elapsed_s",
        "produce_s",
        "drain_s",
        "in_order",
        "aborted",
        "speed",
        "full_share",
        "first_full_s",
        "blocked",
        "arrival_rate",
        "service_rate",
        "utilisation",
        "high_water",
        "max_catch_up_s",
        "peak_backlog",
        "faithful",
        "schedule_lag_s",
        "schedule_lag_max_s",
        "verdict",
        "oldest_item_age_max_s",
        "predicted",
    ] {
        assert!(summary.get(field).is_some(), "no {field} in {summary}");
    }
    assert_eq!(summary["capacity"], 10);
    assert_eq!(summary["seed"], 3);
    let produced = summary["produced"].as_u64().unwrap();
    assert_eq!(summary["consumed"].as_u64().unwrap(), produced);
    let full = summary["full_count"].as_u64().unwrap();
    assert!(full <= produced);
    // Messages queued behind 300 ms of service: a measured wait. The buffer
    // was full (all 10 queued behind one in service) whenever a try_send
    // found it so; how often that happens in 20 s of model time depends on
    // the machine (a busy one may start the producer after the end), the
    // wait it then measured does not.
    let oldest = summary["oldest_item_age_max_s"].as_f64().unwrap();
    if full > 0 {
        assert!(oldest > 0.0, "{summary}");
    }
    let elapsed_s = summary["elapsed_s"].as_f64().unwrap();
    assert!(oldest <= elapsed_s, "{summary}");
    // A finished run is simulated for comparison; no --record, no "recorded".
    assert!(
        summary["predicted"]["simulated_full_count"].is_u64(),
        "{summary}"
    );
    assert!(summary.get("recorded").is_none(), "{summary}");
    // The producer stops once 20 s of model time have passed, never before;
    // how long after depends on the machine (see `faithful`).
    let produce_s = summary["produce_s"].as_f64().unwrap();
    assert!(produce_s >= 20.0, "{summary}");
    let elapsed = summary["elapsed_s"].as_f64().unwrap();
    let drain = summary["drain_s"].as_f64().unwrap();
    assert!((elapsed - produce_s - drain).abs() < 0.01, "{summary}");
}

#[test]
fn messages_limits_the_producer() {
    let mut args = FLAT_OUT.to_vec();
    args.push("--messages=5");
    let summary = json_run(&args);
    assert_eq!(summary["produced"], 5);
    assert_eq!(summary["consumed"], 5);
}

#[test]
fn the_seed_decides_the_burst_pattern() {
    // The peak backlog is replayed from the burst pattern of the seed for exactly the
    // messages produced, so with --messages it depends on the seed alone.
    let peak = |seed: &str| {
        json_run(&[
            "--speed=100",
            "--messages=300",
            "--produce-every=1ms",
            "--burst-prob=0.2",
            "--burst-pause=20ms",
            "--consume-every=5ms",
            "--capacity=1000",
            "--seed",
            seed,
        ])["peak_backlog"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(peak("11"), peak("11"));
    assert_ne!(peak("11"), peak("12"));
}

#[test]
fn bad_input_gets_one_line_and_exit_code_2() {
    let cases: &[&[&str]] = &[
        &["--capacity", "0"],
        &["--capacity", "-1"],
        &["--capacity", "lots"],
        &["--capacity", "1000001"],
        &["--speed", "0"],
        &["--speed", "NaN"],
        &["--speed", "inf"],
        &["--speed", "1e308"],
        &["--burst-prob", "2"],
        &["--produce-every", "fast"],
        &["--consume-every", "-3s"],
        &["--duration", "10"],
        &["--messages", "0"],
        &["--unknown-flag"],
        &["extra"],
    ];
    for args in cases {
        let output = burstbuf(&[]).args(*args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(output.stdout.is_empty(), "{args:?} wrote to stdout");
        let stderr = stderr_of(&output);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            !stderr.contains('\x1b'),
            "{args:?}: escape codes: {stderr:?}"
        );
        let option = args[0];
        assert!(
            stderr.contains(option),
            "{args:?} does not name {option}: {stderr}"
        );
    }
}

/// Errors that name what was probably meant, each one line with exit code 2.
#[test]
fn errors_say_what_was_probably_meant() {
    let cases: &[(&[&str], &str)] = &[
        (&["--consume-every", "300"], "did you mean 300ms?"),
        (&["--consume-every", "0.3"], "did you mean 0.3s?"),
        (&["--duration", "30"], "did you mean 30s?"),
        (&["--burst-prob", "10"], "did you mean 10% (0.1)?"),
        (&["sweep", "--target-full", "1"], "did you mean 1% (0.01)?"),
        (
            &["sweep", "--capacities", "10-100"],
            "did you mean the range 10..100?",
        ),
        (&["sweep", "--consumers", "4..1"], "1..4"),
        (&["sweep", "--consumers", "0"], "1..4"),
        (&["sweep", "--load", "1,x"], "1..4"),
        (
            &["fit", "x", "--capacities", "10"],
            "not an option of burstbuf fit, but of burstbuf sweep",
        ),
        // fit takes --load for its answer, which needs a service time.
        (&["fit", "x", "--load", "2"], "--consume-every <DUR>"),
        (
            &["sweep", "--service", "data/services.txt"],
            "go to --service-from FILE",
        ),
        (
            &["--capacities", "1..10"],
            "not an option of the live demo (burstbuf), but of burstbuf sweep",
        ),
    ];
    for (args, meant) in cases {
        let output = burstbuf(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        let stderr = stderr_of(&output);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(meant), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("as a value"),
            "{args:?}: clap's `--` tip: {stderr}"
        );
    }
}

/// Every share takes `1%` as well as `0.01`; every list takes a range.
#[test]
fn shares_as_percentages_and_lists_as_ranges() {
    let output = burstbuf(&[
        "sweep",
        "--consumers=1..3",
        "--capacities=1..10",
        "--target-full=5%",
        "--burst-prob=10%",
        // As the shell splits `300 ms`: taken as 300ms.
        "--consume-every",
        "250",
        "ms",
        "--duration=1m",
        "--runs=1",
        "--seed=1",
        "--csv",
    ])
    .output()
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    let csv = stdout_of(&output);
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = header.iter().position(|c| *c == "consumers").unwrap();
    let mut consumers: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(column).unwrap())
        .collect();
    consumers.dedup();
    assert_eq!(consumers, ["1", "2", "3"], "{csv}");
    assert_eq!(
        csv.lines().count(),
        1 + 3 * 4,
        "1, 2, 5 and 10 for each: {csv}"
    );
}

#[test]
fn help_and_version() {
    let help = burstbuf(&[]).arg("--help").output().unwrap();
    assert!(help.status.success());
    let text = stdout_of(&help);
    for option in [
        "--capacity",
        "--produce-every",
        "--burst-prob",
        "--burst-pause",
        "--consume-every",
        "--duration",
        "--messages",
        "--seed",
        "--speed",
        "--plain",
        "--json",
    ] {
        assert!(text.contains(option), "--help lacks {option}");
    }
    let version = burstbuf(&[]).arg("--version").output().unwrap();
    assert!(version.status.success());
    assert!(stdout_of(&version).starts_with("burstbuf "));
}

/// Starts a plain run with piped output and waits for a log line that counts
/// two messages produced, so it is under way (with a message left in the
/// buffer while the consumer works on the first) before a test signals it or
/// closes its pipe. A loaded machine may take a while to get there; how long
/// does not matter.
fn under_way(args: &[&str]) -> (Child, BufReader<ChildStdout>) {
    let mut child = spawn(args, Stdio::piped());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while line.is_empty() || figure(&line.replace('=', " "), "produced") < 2 {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "ended early");
        assert!(line.starts_with("t="), "{line}");
    }
    (child, stdout)
}

fn rest_of(reader: &mut impl Read) -> String {
    let mut text = String::new();
    reader.read_to_string(&mut text).unwrap();
    text
}

#[test]
fn sigterm_stops_the_producer_and_drains() {
    let (mut child, mut stdout) =
        under_way(&["--speed=100", "--duration=0s", "--consume-every=10ms"]);
    signal(&child, "TERM");
    let status = wait(&mut child);
    let rest = rest_of(&mut stdout);
    assert!(status.success(), "{status:?}: {rest}");
    let (_, figures) = end_lines(&rest);
    assert_eq!(figure(figures, "left unconsumed"), 0, "{rest}");
    assert_eq!(
        figure(figures, "produced"),
        figure(figures, "consumed"),
        "{rest}"
    );
}

#[test]
fn a_second_signal_aborts_and_reports_what_was_left() {
    // A consumer that never finishes its first message: only an abort can end this.
    let (mut child, mut stdout) =
        under_way(&["--speed=100", "--duration=0s", "--consume-every=1h"]);
    // Signals that arrive together count once, so keep sending until it exits.
    let start = Instant::now();
    let status = loop {
        signal(&child, "INT");
        thread::sleep(Duration::from_millis(300));
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < WATCHDOG, "two signals did not end it");
    };
    let rest = rest_of(&mut stdout);
    assert_eq!(status.code(), Some(130), "{rest}");
    let (_, figures) = end_lines(&rest);
    assert!(figures.contains("aborted"), "{rest}");
    assert!(figure(figures, "left unconsumed") > 0, "{rest}");
    assert_eq!(
        figure(figures, "produced") - figure(figures, "consumed"),
        figure(figures, "left unconsumed")
    );
    // No prediction for a run cut short, and it says so.
    assert!(
        rest.contains("simulation skipped: the run was aborted"),
        "{rest}"
    );
}

#[test]
fn a_closed_pipe_is_a_clean_exit() {
    let (mut child, stdout) = under_way(&["--speed=100", "--duration=0s"]);
    drop(stdout); // like `| head -1`
    let status = wait(&mut child);
    let stderr = rest_of(child.stderr.as_mut().unwrap());
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn sighup_quits_at_once_with_129() {
    let (mut child, mut stdout) =
        under_way(&["--speed=100", "--duration=0s", "--consume-every=1h"]);
    signal(&child, "HUP");
    let status = wait(&mut child);
    let rest = rest_of(&mut stdout);
    assert_eq!(status.code(), Some(129), "{rest}");
    let (_, figures) = end_lines(&rest);
    assert!(figures.contains("aborted"), "{rest}");
}
