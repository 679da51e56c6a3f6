//! `burstbuf fit` with a service time, end to end: its answer, that the
//! sweep it prints gives the same answer, the load over time and the
//! verdicts on the fitted models.

mod common;

use common::{TempFile, burstbuf};
use serde_json::Value;

fn json(args: &[&str]) -> Value {
    let output = burstbuf(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

fn text(args: &[&str]) -> String {
    let output = burstbuf(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// A shell-free split of a printed command (fit prints plain words here).
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().skip(1).collect()
}

#[test]
fn fit_and_the_sweep_it_prints_give_the_same_answer() {
    let fit = json(&[
        "fit",
        "data/access.log",
        "--consume-every=300ms",
        "--load=1,2",
        "--runs=4",
        "--json",
    ]);
    let answers = fit["recommendation"].as_array().unwrap();
    assert_eq!(answers.len(), 2, "{fit}");
    for (answer, load) in answers.iter().zip([1.0, 2.0]) {
        assert_eq!(answer["load"], load);
        let capacity = answer["capacity"].as_u64().expect("an answer");
        let consumers = answer["consumers"].as_u64().unwrap();
        assert!(capacity >= 1 && consumers >= 1, "{answer}");
        let share = &answer["full_share"];
        let high = share["ci_high"].as_f64().unwrap();
        assert!(
            share["mean"].as_f64().unwrap() <= high && high <= 0.01,
            "{answer}"
        );
        // The sweep it prints, run as printed, recommends the same system.
        let command = answer["sweep"].as_str().unwrap();
        assert!(command.contains("--consume-every 300ms"), "{command}");
        let mut args = words(command);
        args.push("--json");
        let sweep = json(&args);
        let recommendation = &sweep["recommendation"];
        assert_eq!(recommendation["capacity"], answer["capacity"], "{command}");
        assert_eq!(
            recommendation["consumers"], answer["consumers"],
            "{command}"
        );
        assert_eq!(recommendation["full_share"], *share, "{command}");
    }
    // Writers are sized so the busiest minute keeps up at each load.
    for answer in answers {
        assert!(
            answer["busiest_utilisation"].as_f64().unwrap() < 1.0,
            "{answer}"
        );
    }
}

#[test]
fn fit_with_a_service_ends_with_the_answer_and_forgets_nothing() {
    let out = text(&[
        "fit",
        "data/access.log",
        "--consume-every=300ms",
        "--runs=2",
    ]);
    assert!(
        !out.contains("add --service-from or --consume-every"),
        "{out}"
    );
    let answer = out.rfind("Answer").expect("an answer");
    let tail = &out[answer..];
    assert!(tail.contains("at 1x load: capacity"), "{out}");
    assert!(tail.contains("at 2x load: capacity"), "{out}");
    // Neither model describes this log: the bursty model's command is not offered.
    assert!(out.contains("does not describe this trace"), "{out}");
    assert!(!out.contains("or with the fitted bursty model"), "{out}");
    // The comparison, with the reason the streams differ.
    assert!(out.contains("Poisson of the same mean rate:"), "{out}");
    assert!(out.contains("why: the trace comes in bursts"), "{out}");
    // Whole-second times are named, with what they hide.
    assert!(out.contains("whole seconds"), "{out}");
    // Without a service time: no answer, and the hint.
    let plain = text(&["fit", "data/access.log"]);
    assert!(!plain.contains("Answer"), "{plain}");
    assert!(
        plain.contains("add --service-from or --consume-every"),
        "{plain}"
    );
}

#[test]
fn service_times_from_a_file_answer_too_and_are_carried_into_the_command() {
    let fit = json(&[
        "fit",
        "data/access.log",
        "--service-from=data/services.txt",
        "--load=1",
        "--runs=2",
        "--json",
    ]);
    let answer = &fit["recommendation"][0];
    let command = answer["sweep"].as_str().unwrap();
    assert!(
        command.contains("--service-from data/services.txt"),
        "{command}"
    );
    let mut args = words(command);
    args.push("--json");
    let sweep = json(&args);
    assert_eq!(sweep["recommendation"]["capacity"], answer["capacity"]);
    assert_eq!(sweep["recommendation"]["consumers"], answer["consumers"]);
}

#[test]
fn busy_minutes_hidden_by_the_mean_set_the_consumers_and_are_named() {
    // 30 hours; 120 requests in minute :05 of each, nothing else. At 2x load
    // each busy minute runs at rho 1.2 for one 300 ms writer; the mean, 0.02.
    let mut log = String::new();
    for hour in 0..30 {
        for k in 0..120 {
            let t = 1_700_000_000 + hour * 3600 + 300 + k / 2;
            log += &format!("{t}.{}\n", if k % 2 == 0 { "0" } else { "5" });
        }
    }
    let file = TempFile::new("busy-minutes.log", &log);
    let fit = json(&[
        "fit",
        file.path(),
        "--consume-every=300ms",
        "--load=1,2",
        "--runs=2",
        "--json",
    ]);
    let at2 = &fit["recommendation"][1];
    assert_eq!(at2["load"], 2.0);
    assert_eq!(at2["consumers"], 2, "{at2}");
    let warnings = at2["warnings"].to_string();
    assert!(warnings.contains("hides busy windows"), "{warnings}");
    // The busy minute starts 20 s into a clock minute: the chart's windows
    // split it 80 + 40, the sliding peak counts it whole.
    let load = &fit["load_over_time"];
    assert_eq!(load["window_s"], 60);
    assert_eq!(load["busiest"][0]["count"], 80, "{load}");
    assert_eq!(load["peak"], 120, "{load}");
}

#[test]
fn fit_options_for_the_answer_need_a_service_time() {
    for args in [
        ["fit", "data/access.log", "--load=2"],
        ["fit", "data/access.log", "--runs=3"],
        ["fit", "data/access.log", "--consumers=1,2"],
    ] {
        let output = burstbuf(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
    }
    let both = burstbuf(&[
        "fit",
        "data/access.log",
        "--consume-every=1s",
        "--service-from=data/services.txt",
    ])
    .output()
    .unwrap();
    assert_eq!(both.status.code(), Some(2), "{both:?}");
}

/// `fit` of a log with its own durations as the service, checked to give
/// the answer of the sweep it prints (which reads the same file again).
fn answer_from_the_log(log: &str) -> Value {
    let answer = json(&[
        "fit",
        log,
        &format!("--service-from={log}"),
        "--load=1",
        "--runs=2",
        "--json",
    ]);
    let command = answer["recommendation"][0]["sweep"].as_str().unwrap();
    let mut args = words(command);
    args.push("--json");
    let sweep = json(&args);
    assert_eq!(
        sweep["recommendation"]["capacity"], answer["recommendation"][0]["capacity"],
        "{command}"
    );
    answer
}

/// An nginx-style log: the combined format, `$request_time` last, the
/// time being the request's end.
fn nginx_log() -> String {
    let mut log = String::new();
    for k in 0..600u32 {
        // Ends at whole seconds; took 0.250 s; a burst of 5 every 10 s.
        let second = k / 5 * 10 + 1;
        log += &format!(
            "10.0.0.1 - - [30/Nov/2026:12:{:02}:{:02} +0000] \"GET /a HTTP/1.1\" 200 512 \"-\" \"c\" 0.250\n",
            second / 60,
            second % 60
        );
    }
    log
}

#[test]
fn an_nginx_log_gives_its_arrivals_and_its_service_times_gzip_or_not() {
    let log = TempFile::new("nginx.log", &nginx_log());
    let fit = json(&["fit", log.path(), "--json"]);
    assert_eq!(fit["lines"], 600);
    assert_eq!(fit["format"], "clf");
    // Each arrival is its end less 0.25 s: the first at 12:00:00.75.
    assert!(
        fit["resolution"]
            .as_str()
            .unwrap()
            .contains("whole seconds")
    );
    // Forced to be the start, the span is the same but nothing is moved.
    let start = json(&["fit", log.path(), "--log-time=start", "--json"]);
    assert_eq!(start["span_s"], fit["span_s"]);
    // The log's durations as the service: 250 ms each, ρ over the mean 0.125.
    let answer = answer_from_the_log(log.path());
    let sizing = &answer["sizing"];
    assert_eq!(sizing["service_s"], 0.25, "{sizing}");
    // The same log gzip-compressed, as a file and on stdin.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, nginx_log().as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    let dir = common::temp_dir();
    let path = dir.path().join("nginx.log.gz");
    std::fs::write(&path, &bytes).unwrap();
    let zipped = json(&["fit", path.to_str().unwrap(), "--json"]);
    assert_eq!(zipped["lines"], 600);
    assert_eq!(zipped["span_s"], fit["span_s"]);
    let piped = burstbuf(&["fit", "-", "--json"])
        .write_stdin(bytes)
        .output()
        .unwrap();
    assert!(piped.status.success(), "{piped:?}");
    let piped: Value = serde_json::from_slice(&piped.stdout).unwrap();
    assert_eq!(piped["lines"], 600);
}

#[test]
fn a_bad_log_line_names_the_file_and_line() {
    let mut log = nginx_log();
    log.insert_str(log.find('\n').unwrap() + 1, "garbage\n");
    let file = TempFile::new("bad-nginx.log", &log);
    let output = burstbuf(&["fit", file.path()]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("bad-nginx.log:2:"), "{stderr}");
}

/// An AWS ALB access log: 300 requests created 0.1 s apart, in bursts of 10
/// every 10 s; the target took 0.2 s, and for every tenth none answered (-1).
fn alb_log() -> String {
    let mut log = String::new();
    for k in 0..300u32 {
        let created = k / 10 * 10 * 1000 + k % 10 * 100; // ms after 12:00:00
        let stamp = |ms: u32| {
            format!(
                "2026-11-30T12:{:02}:{:02}.{:03}000Z",
                ms / 60_000,
                ms / 1000 % 60,
                ms % 1000
            )
        };
        let target = if k % 10 == 9 { "-1" } else { "0.200" };
        log += &format!(
            "https {} app/lb/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.001 {target} 0.000 \
             200 200 34 366 \"GET https://example.com:443/a?b=\\\"c d\\\" HTTP/1.1\" \"curl/8.4.0\" \
             ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 \
             arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/t/73e2d6bc24d8a067 \
             \"Root=1-58337262-36d228ad5d99923122bbe354\" \"example.com\" \"-\" 0 {} \"forward\" \
             \"-\" \"-\" \"10.0.0.1:80\" \"200\" \"-\" \"-\" TID_1\n",
            stamp(created + 201),
            stamp(created)
        );
    }
    log
}

#[test]
fn an_alb_log_gives_its_arrivals_and_its_target_times() {
    let log = TempFile::new("alb.log", &alb_log());
    let fit = json(&["fit", log.path(), "--json"]);
    // Every request is an arrival, those without a target too; the first
    // at its creation, the last 290.9 s later.
    assert_eq!(fit["lines"], 300);
    assert_eq!(fit["format"], "alb");
    assert_eq!(fit["span_s"], 290.9, "{fit}");
    let forced = json(&["fit", log.path(), "--time-format=alb", "--json"]);
    assert_eq!(forced["span_s"], fit["span_s"]);
    // The target times as the service: the -1s are no service time, so
    // 0.2 s; the sweep fit prints reads them the same way.
    let answer = answer_from_the_log(log.path());
    assert_eq!(answer["sizing"]["service_s"], 0.2, "{}", answer["sizing"]);
    // Options that an ALB log fixes are refused, not ignored.
    for option in ["--log-time=end", "--log-duration=us"] {
        let output = burstbuf(&["fit", log.path(), option]).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{option}: {output:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains("do not apply to an ALB log"), "{stderr}");
    }
    let output = burstbuf(&[
        "sweep",
        &format!("--arrivals-from={}", log.path()),
        "--log-time=start",
        "--consume-every=200ms",
    ])
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("do not apply to an ALB log"), "{stderr}");
    // A line that is no ALB line: its number, exit 2.
    let mut bad = alb_log();
    bad.insert_str(
        bad.find('\n').unwrap() + 1,
        "https 2026-11-30T12:00:00Z cut\n",
    );
    let file = TempFile::new("bad-alb.log", &bad);
    let output = burstbuf(&["fit", file.path()]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("bad-alb.log:2: expected an AWS ALB access log line"),
        "{stderr}"
    );
}
