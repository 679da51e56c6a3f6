//! Traffic from files end to end: `--arrivals-from` and `--service-from` in
//! `sweep` and the live demo, their errors, `--load`, and `burstbuf fit`.
//!
//! The harness is libtest-mimic (see `common::mimic`): a live run is compared
//! with its replay only where it kept the model's pace, so those checks retry
//! a bounded number of times and, if no run did, report themselves as
//! ignored, never as passed; the binary fails if every one was.

use std::process::ExitCode;

use libtest_mimic::{Completion, Failed};

mod common;
use common::mimic::{self, model, model_check, slower, test};
use common::{TempFile, burstbuf, faithful, json_run};

/// `bursts` bursts of `size` callers at one instant, `every` seconds apart,
/// as fractional epoch seconds (so the ties are kept, not spread).
fn bursts(bursts: u32, size: u32, every: f64) -> String {
    let mut text = String::from("# bursts\n");
    for b in 0..bursts {
        for _ in 0..size {
            text += &format!("{:.3}\n", 1_700_000_000.0 + f64::from(b) * every);
        }
    }
    text
}

fn a_bad_trace_line_stops_the_run_with_one_line_and_exit_2() {
    let file = TempFile::new("bad.log", "1700000000\n1700000001\n\nlater\n");
    for args in [
        vec!["sweep", "--arrivals-from", file.path()],
        vec!["--arrivals-from", file.path(), "--plain"],
        vec!["fit", file.path()],
    ] {
        let output = burstbuf(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(output.stdout.is_empty(), "nothing starts: {output:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(
            stderr,
            format!(
                "error: {}:4: expected epoch seconds such as 1456589246 or 1456589246.25\n",
                file.path()
            )
        );
    }
    let services = TempFile::new("bad.svc", "10ms\n\nslow\n");
    let output = burstbuf(&["sweep", "--service-from", services.path()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with(&format!(
        "error: {}:3: expected a service time",
        services.path()
    )));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

fn a_trace_from_stdin_is_replayed_in_sweep() {
    let output = burstbuf(&[
        "sweep",
        "--runs=1",
        "--arrivals-from=-",
        "--consume-every=1s",
        "--capacities=1,10",
        "--json",
    ])
    .write_stdin(bursts(3, 8, 30.0))
    .output()
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    let v: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // Each burst of 8: one taken at once, then capacity 1 holds one and 6 find it full.
    assert_eq!(v["rows"][0]["produced"], 24);
    assert_eq!(v["rows"][0]["full_count"], 18);
    assert_eq!(v["rows"][1]["full_count"], 0);
    assert_eq!(v["duration_s"], 60.0);
    assert_eq!(v["runs"], 1);
}

fn a_trace_at_load_2_is_the_trace_with_every_time_halved() {
    // Irregular times, written so that halving them is exact.
    let times: Vec<f64> = (0..400u32)
        .map(|k| f64::from(k * 7 % 13 + k * 3) * 0.25)
        .collect();
    let write = |scale: f64| -> String {
        times
            .iter()
            .map(|t| format!("{:.4}\n", 1_000_000.0 + t * scale))
            .collect()
    };
    let (normal, halved) = (
        TempFile::new("normal.txt", &write(1.0)),
        TempFile::new("halved.txt", &write(0.5)),
    );
    let sweep = |file: &TempFile, load: &str| {
        let v = json_run(&[
            "sweep",
            "--runs=1",
            "--arrivals-from",
            file.path(),
            "--consume-every=700ms",
            "--capacities=1,3,10",
            "--consumers=1,2",
            "--seed=4",
            "--load",
            load,
        ]);
        v["rows"].clone()
    };
    let at_two = sweep(&normal, "2");
    let by_hand = sweep(&halved, "1");
    let rows = at_two.as_array().unwrap();
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().any(|r| r["full_count"].as_u64().unwrap() > 0));
    for (a, b) in rows.iter().zip(by_hand.as_array().unwrap()) {
        for field in [
            "produced",
            "full_count",
            "max_depth",
            "blocked_total_s",
            "blocked_max_s",
            "mean_in_buffer_s",
        ] {
            assert_eq!(a[field], b[field], "{field}: {a} vs {b}");
        }
    }
}

fn the_live_replay_agrees_with_the_sweep() -> Result<Completion, Failed> {
    // Eight bursts of 20 callers, 5 s apart; 100 ms of service; capacity 5.
    // Per burst the replay finds the buffer full 14 times (one taken at once,
    // five held). Live, the consumer may not have taken the first message
    // before the burst fills the buffer: 14 or 15 per burst.
    let file = TempFile::new("agree.txt", &bursts(8, 20, 5.0));
    let sweep = json_run(&[
        "sweep",
        "--runs=1",
        "--arrivals-from",
        file.path(),
        "--consume-every=100ms",
        "--capacities=5",
    ]);
    let replayed = sweep["rows"][0]["full_count"].as_u64().unwrap();
    assert_eq!(replayed, 8 * 14);
    model_check(|attempt| {
        let live = json_run(&[
            "--arrivals-from",
            file.path(),
            "--consume-every=100ms",
            "--capacity=5",
            &slower(10, attempt),
            "--plain",
        ]);
        assert_eq!(live["produced"], 160, "{live}");
        assert_eq!(live["consumed"], 160, "{live}");
        // Up to two either way per burst: the consumer may not have taken the
        // first message before the burst fills the buffer, or (on a loaded
        // machine) may take more while the producer is off the CPU.
        // Where the run kept the model's pace; else it must say it did not.
        let full = live["full_count"].as_u64().unwrap();
        if faithful(&live) {
            assert!(
                full.abs_diff(replayed) <= 16,
                "live {full} vs replay {replayed}: {live}"
            );
        }
        faithful(&live)
    })
}

fn a_live_trace_takes_a_stall_and_a_drop_policy() -> Result<Completion, Failed> {
    // Four bursts of 20 callers, 5 s apart, capacity 5, a 3 s stall at 4 s:
    // the drop policy loses messages instead of blocking, every message is
    // consumed or dropped, the stall is reported, and the summary's
    // prediction replays the trace with the same policy and stall.
    let file = TempFile::new("stalled.txt", &bursts(4, 20, 5.0));
    // Each policy is a model check of its own: the first run of it that
    // kept the model's pace checks the drops.
    let mut completion = Completion::Completed;
    for policy in ["drop-newest", "drop-oldest"] {
        let checked = model_check(|attempt| {
            let live = json_run(&[
                "--arrivals-from",
                file.path(),
                "--consume-every=100ms",
                "--capacity=5",
                &slower(10, attempt),
                "--stall=3s@4s",
                &format!("--when-full={policy}"),
                "--plain",
            ]);
            let count = |key: &str| live[key].as_u64().unwrap();
            assert_eq!(count("produced"), 80, "{live}");
            // The burst at 5 s meets the stall: 20 callers, room for 5.
            if faithful(&live) {
                assert!(count("dropped") >= 15, "{live}");
            }
            assert_eq!(
                count("consumed") + count("dropped"),
                count("produced"),
                "{live}"
            );
            assert_eq!(live["stalls"].as_array().unwrap().len(), 1, "{live}");
            assert!(live["predicted"]["skipped"].is_null(), "{live}");
            assert!(
                live["predicted"]["simulated_full_count"].as_u64().unwrap() > 0,
                "{live}"
            );
            faithful(&live)
        })?;
        if let Completion::Ignored { reason } = checked {
            completion = Completion::ignored_with(format!(
                "--when-full={policy}: {}",
                reason.unwrap_or_default()
            ));
        }
    }
    Ok(completion)
}

fn live_callers_wait_from_their_own_arrival_as_in_the_replay() -> Result<Completion, Failed> {
    // A caller every 45 ms against 100 ms of service, capacity 5: once the
    // buffer fills, every later caller waits, and caller i waits about
    // i × 55 ms from its own arrival (it queues behind the earlier blocked
    // ones): about 1000 s in all. A producer that shifted its schedule after
    // each block would count about 55 ms each, 10 s in all. A consumer that
    // falls behind on a loaded machine makes every later wait longer, so the
    // check is within a factor of two, which still tells the two apart.
    let text: String = (0..200u32)
        .map(|i| format!("{:.3}\n", 1_700_000_000.0 + f64::from(i) * 0.045))
        .collect();
    let file = TempFile::new("steady.txt", &text);
    let sweep = json_run(&[
        "sweep",
        "--runs=1",
        "--arrivals-from",
        file.path(),
        "--consume-every=100ms",
        "--capacities=5",
    ]);
    let row = &sweep["rows"][0];
    let replayed = row["blocked_total_s"].as_f64().unwrap();
    assert!(replayed > 500.0, "{row}");
    model_check(|attempt| {
        let live = json_run(&[
            "--arrivals-from",
            file.path(),
            "--consume-every=100ms",
            "--capacity=5",
            &slower(10, attempt),
            "--plain",
        ]);
        assert_eq!(live["produced"], 200, "{live}");
        let waited = live["blocked"]["total_s"].as_f64().unwrap();
        if faithful(&live) {
            assert!(
                waited > replayed / 2.0 && waited < replayed * 2.0,
                "live {waited} s vs replay {replayed} s: {live}"
            );
        }
        faithful(&live)
    })
}

fn fit_describes_the_example_log_and_its_command_lines_run() {
    let output = burstbuf(&["fit", "data/access.log", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let fit: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(fit["format"], "clf");
    assert_eq!(fit["lines"], 7339);
    assert_eq!(fit["peak_rates"].as_array().unwrap().len(), 3);
    let bursty = &fit["bursty"];
    assert!(bursty["burst_prob"].as_f64().unwrap() > 0.0, "{fit}");
    assert!(fit["exponential"]["ks"].as_f64().unwrap() > 0.0);
    // Both suggested command lines are accepted as printed (cut short here).
    for key in ["sweep_trace", "sweep_model"] {
        let line = fit[key].as_str().unwrap();
        let args: Vec<&str> = line
            .split_whitespace()
            .skip(1)
            .chain(["--capacities=10", "--consume-every=100ms", "--json"])
            .collect();
        let output = burstbuf(&args).output().unwrap();
        assert!(output.status.success(), "{line}: {output:?}");
    }
    let text = burstbuf(&["fit", "--service", "data/services.txt"])
        .output()
        .unwrap();
    assert!(text.status.success());
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("2000 service times"), "{text}");
    assert!(
        text.contains("burstbuf sweep --service-from data/services.txt"),
        "{text}"
    );
    // `--service-from`, as the live demo and the sweep spell it; `--service`
    // above is its old name, kept.
    let same = burstbuf(&["fit", "--service-from", "data/services.txt"])
        .output()
        .unwrap();
    assert!(same.status.success());
    assert_eq!(String::from_utf8(same.stdout).unwrap(), text);
}

fn runs_of_a_trace_are_the_trace_and_resamples_of_its_blocks() {
    let output = burstbuf(&[
        "sweep",
        "--arrivals-from=data/access.log",
        "--consume-every=400ms",
        "--capacities=5,50",
        "--runs=5",
        "--block=30s",
        "--seed=3",
    ])
    .output()
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("Run 1 replays the trace; runs 2 to 5 replay block-bootstrap resamples of it (blocks of 30s"),
        "{text}"
    );
    assert!(text.contains("95% CI of full %"), "{text}");
    let refused = burstbuf(&["sweep", "--block=1m"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2), "--block needs a trace");
}

fn a_recorded_run_replays_to_the_same_counts() -> Result<Completion, Failed> {
    // watch → record → sweep: the default model with seed 7, written down by
    // --record and replayed by the sweep against the same buffer. Every
    // attempt checks the recording; the full counts are compared where the
    // live run kept the model's pace. Even then a wake late by less than the
    // faithfulness tolerance (which bounds the mean lateness, not each wake)
    // can move one try_send across a take and flip a full, so a faithful
    // attempt that differs is retried, a bounded number of times; the test
    // fails unless one agrees, or none could be compared (then it is ignored).
    let mut disagreed = Vec::new();
    let completion = model_check(|attempt| {
        let (live, sweep) = record_and_replay(attempt);
        let row = &sweep["rows"][0];
        let (full, replayed) = (
            live["full_count"].as_u64().unwrap(),
            row["full_count"].as_u64().unwrap(),
        );
        if !faithful(&live) {
            return false;
        }
        if full.abs_diff(replayed) <= 1 {
            return true;
        }
        disagreed.push(format!("live {full} vs replay {replayed}: {live}"));
        false
    })?;
    if matches!(completion, Completion::Ignored { .. }) && !disagreed.is_empty() {
        return Err(format!(
            "no faithful run replayed to its counts:\n{}",
            disagreed.join("\n")
        )
        .into());
    }
    Ok(completion)
}

/// One live run recorded and its replay (the two JSON summaries), with the
/// checks that hold whatever the machine's pace.
fn record_and_replay(attempt: u32) -> (serde_json::Value, serde_json::Value) {
    let prefix = Prefix::new(&format!("record-{attempt}"));
    let files = [prefix.file(".arrivals"), prefix.file(".services")];
    let prefix = prefix.prefix.as_str();
    let speed = mimic::slower(20, attempt);
    let live = json_run(&["--seed=7", &speed, "--plain", "--record", prefix]);
    let produced = live["produced"].as_u64().unwrap();
    let recorded = &live["recorded"];
    assert_eq!(recorded["messages"], produced, "{live}");
    assert_eq!(recorded["arrivals"], files[0], "{live}");
    assert_eq!(recorded["complete"], true, "{live}");
    let sweep = json_run(&[
        "sweep",
        "--arrivals-from",
        &files[0],
        "--service-from",
        &files[1],
        "--service-order=replay",
        "--capacities=100",
        "--consumers=1",
        "--runs=1",
    ]);
    let row = &sweep["rows"][0];
    // One line a message, whatever the machine's pace.
    assert_eq!(sweep["arrivals_from"]["lines"], produced, "{sweep}");
    assert_eq!(row["produced"], produced, "{sweep}");
    (live, sweep)
}

fn a_record_prefix_that_cannot_be_written_stops_the_run_with_exit_2() {
    let output = burstbuf(&["--record", "/nonexistent-burstbuf-dir/run", "--plain"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--record: /nonexistent-burstbuf-dir/run.arrivals"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

/// A `--record` prefix in a temporary directory of its own; its files,
/// whole or partial, go with the directory when dropped.
struct Prefix {
    prefix: String,
    _dir: tempfile::TempDir,
}

impl Prefix {
    fn new(name: &str) -> Prefix {
        let dir = common::temp_dir();
        let path = dir.path().join(name);
        Prefix {
            prefix: path.to_str().unwrap().to_owned(),
            _dir: dir,
        }
    }

    fn file(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }
}

/// A usage error: exit 2, one line on stderr (returned), nothing on stdout.
fn refused(output: std::process::Output) -> String {
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(output.stdout.is_empty(), "nothing starts: {output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

fn a_recording_replaces_no_file_unless_overwrite() {
    let prefix = Prefix::new("keep");
    std::fs::write(prefix.file(".arrivals"), "1700000000\n").unwrap();
    let args = [
        "--messages=3",
        "--speed=100",
        "--plain",
        "--record",
        &prefix.prefix,
    ];
    let stderr = refused(burstbuf(&args).output().unwrap());
    assert_eq!(
        stderr,
        format!(
            "error: --record: {} exists; add --overwrite to replace it, or choose another PREFIX\n",
            prefix.file(".arrivals")
        )
    );
    assert_eq!(
        std::fs::read_to_string(prefix.file(".arrivals")).unwrap(),
        "1700000000\n"
    );
    assert!(!std::path::Path::new(&prefix.file(".services")).exists());
    // --overwrite: replaced by a whole recording.
    let live = json_run(&[&args[..], &["--overwrite"]].concat());
    assert_eq!(live["recorded"]["complete"], true, "{live}");
    let replaced = std::fs::read_to_string(prefix.file(".arrivals")).unwrap();
    assert!(replaced.starts_with("# burstbuf --record"), "{replaced}");
    // --overwrite means nothing without --record.
    assert_eq!(
        burstbuf(&["--overwrite"]).output().unwrap().status.code(),
        Some(2)
    );
}

fn a_recording_never_writes_over_its_own_input() {
    let prefix = Prefix::new("own");
    std::fs::write(prefix.file(".arrivals"), bursts(3, 2, 1.0)).unwrap();
    std::fs::write(prefix.file(".services"), "10ms\n").unwrap();
    let before = std::fs::read(prefix.file(".arrivals")).unwrap();
    for (input, name) in [
        (["--arrivals-from", &prefix.file(".arrivals")], ".arrivals"),
        (["--service-from", &prefix.file(".services")], ".services"),
    ] {
        for overwrite in [&[][..], &["--overwrite"]] {
            let mut args = vec!["--plain", "--messages=2", "--record", &prefix.prefix];
            args.extend(input);
            args.extend(overwrite);
            let stderr = refused(burstbuf(&args).output().unwrap());
            assert!(
                stderr.contains(&format!(
                    "--record: {} is this run's own input",
                    prefix.file(name)
                )),
                "{args:?}: {stderr}"
            );
        }
    }
    // Read from stdin, the same file is still recognised.
    let stdin = std::fs::File::open(prefix.file(".arrivals")).unwrap();
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin!("burstbuf"))
        .args([
            "--plain",
            "--arrivals-from=-",
            "--overwrite",
            "--record",
            &prefix.prefix,
        ])
        .stdin(stdin)
        .output()
        .unwrap();
    let stderr = refused(output);
    assert!(stderr.contains("is this run's own input (-)"), "{stderr}");
    assert_eq!(std::fs::read(prefix.file(".arrivals")).unwrap(), before);
}

fn a_recording_that_fails_is_left_under_names_that_say_so() {
    // A file size limit of one block: the recording fails as on a full disk
    // (EFBIG instead of ENOSPC), with no root and no special file system.
    // SIGXFSZ is ignored, as a shell user would see it: the write fails.
    let prefix = Prefix::new("full");
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f 1 && exec '{}' --seed=7 --speed=100 --plain --json --record '{}'",
            assert_cmd::cargo::cargo_bin!("burstbuf").display(),
            prefix.prefix
        ))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let live: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let recorded = &live["recorded"];
    assert_eq!(recorded["complete"], false, "{live}");
    let error = recorded["error"].as_str().unwrap();
    assert!(
        error.starts_with(&prefix.file(".arrivals.incomplete: ")),
        "{error}"
    );
    assert_eq!(recorded["arrivals"], prefix.file(".arrivals.incomplete"));
    assert_eq!(recorded["services"], prefix.file(".services.incomplete"));
    // Nothing under the names a replay reads.
    for name in [".arrivals", ".services"] {
        assert!(!std::path::Path::new(&prefix.file(name)).exists(), "{name}");
    }
    assert!(std::path::Path::new(&prefix.file(".arrivals.incomplete")).exists());
    // The text summary says the same.
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.is_empty() || !stderr.contains("panicked"),
        "{stderr}"
    );
}

fn a_trace_cut_off_in_its_last_line_is_not_read_as_a_time() {
    // As a full disk leaves a recording: the last number cut short.
    let cut = TempFile::new(
        "cut.arrivals",
        "1796045114.626436011\n1796045114.726436011\n17960",
    );
    for args in [
        vec!["fit", cut.path()],
        vec!["sweep", "--arrivals-from", cut.path()],
    ] {
        let stderr = refused(burstbuf(&args).output().unwrap());
        assert!(
            stderr.starts_with(&format!(
                "error: {}:3: earlier than a line before it",
                cut.path()
            )),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains("no line end"), "{stderr}");
    }
    let garbled = TempFile::new("garbled.arrivals", "1796045114.6\n1796045114.7x");
    let stderr = refused(burstbuf(&["fit", garbled.path()]).output().unwrap());
    assert!(
        stderr.starts_with(&format!(
            "error: {}:2: expected epoch seconds",
            garbled.path()
        )),
        "{stderr}"
    );
    // A time out of range names its line too.
    let late = TempFile::new("late.arrivals", "1\n9000000000\n");
    let stderr = refused(burstbuf(&["fit", late.path()]).output().unwrap());
    assert_eq!(
        stderr,
        format!(
            "error: {}:2: expected a time between the years 1824 and 2116\n",
            late.path()
        )
    );
}

fn control_characters_in_paths_stay_on_one_line() {
    let output = burstbuf(&[
        "--record",
        "/nonexistent-burstbuf-dir/a\nb\x1b[2J",
        "--plain",
    ])
    .output()
    .unwrap();
    let stderr = refused(output);
    assert!(
        stderr.contains("--record: /nonexistent-burstbuf-dir/a\\nb\\u{1b}[2J.arrivals"),
        "{stderr}"
    );
    let stderr = refused(burstbuf(&["fit", "no\nsuch\rfile"]).output().unwrap());
    assert!(stderr.starts_with("error: no\\nsuch\\rfile: "), "{stderr}");
    // A file that is read, named in a one-line error about an option.
    let odd = TempFile::new("odd\nname.log", "1700000000\n1700000001\n");
    let output = burstbuf(&["sweep", "--arrivals-from", odd.path(), "--duration=1h"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("odd\\nname.log"), "{stderr}");
}

fn fit_warns_when_a_poisson_sized_buffer_would_be_too_small() {
    let output = burstbuf(&["fit", "data/access.log", "--consume-every=300ms", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let fit: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let sizing = &fit["sizing"];
    let (needs, poisson) = (
        sizing["trace_capacity"].as_u64().unwrap(),
        sizing["poisson_capacity"].as_u64().unwrap(),
    );
    // The example log is bursty: its bursts, not its mean, set the size.
    assert!(needs > poisson, "{sizing}");
    assert!(
        sizing["warning"]
            .as_str()
            .unwrap()
            .contains("too small for this trace"),
        "{sizing}"
    );
    let idc = fit["burstiness"]["dispersion"][1]["index"]
        .as_f64()
        .unwrap();
    assert!(idc > 2.0, "{fit}");
    // The comparison needs a service time: without one, none is made.
    let plain = burstbuf(&["fit", "data/access.log", "--json"])
        .output()
        .unwrap();
    let plain: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!(plain["sizing"].is_null(), "{plain}");
    let refused = burstbuf(&["fit", "data/access.log", "--consumers=2"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
}

fn the_live_verdict_on_a_trace_counts_the_consumers_the_sweep_does() {
    // 160 callers over 35 s (a mean gap of 35/159 s) against 700 ms of
    // service: ρ₁ = 3.18, so 4 consumers, from the trace's rate on both sides.
    let file = TempFile::new("needed.txt", &bursts(8, 20, 5.0));
    let sweep = json_run(&[
        "sweep",
        "--runs=1",
        "--arrivals-from",
        file.path(),
        "--consume-every=700ms",
        "--capacities=5",
        "--consumers=1,4",
    ]);
    assert_eq!(sweep["recommendation"]["consumers_needed"], 4, "{sweep}");
    let live = json_run(&[
        "--arrivals-from",
        file.path(),
        "--consume-every=700ms",
        "--capacity=5",
        "--speed=100",
        "--plain",
    ]);
    let verdict = &live["verdict"];
    assert_eq!(verdict["basis"], "trace", "{live}");
    assert_eq!(verdict["writers_needed"], 4, "{live}");
    let rho = verdict["utilisation"].as_f64().unwrap();
    assert!((rho - 0.7 * 159.0 / 35.0).abs() < 1e-9, "{live}");
}

fn main() -> ExitCode {
    mimic::run(
        include_str!("traffic.rs"),
        vec![
            test(
                "a_bad_trace_line_stops_the_run_with_one_line_and_exit_2",
                a_bad_trace_line_stops_the_run_with_one_line_and_exit_2,
            ),
            test(
                "a_trace_from_stdin_is_replayed_in_sweep",
                a_trace_from_stdin_is_replayed_in_sweep,
            ),
            test(
                "a_trace_at_load_2_is_the_trace_with_every_time_halved",
                a_trace_at_load_2_is_the_trace_with_every_time_halved,
            ),
            model(
                "the_live_replay_agrees_with_the_sweep",
                the_live_replay_agrees_with_the_sweep,
            ),
            model(
                "a_live_trace_takes_a_stall_and_a_drop_policy",
                a_live_trace_takes_a_stall_and_a_drop_policy,
            ),
            model(
                "live_callers_wait_from_their_own_arrival_as_in_the_replay",
                live_callers_wait_from_their_own_arrival_as_in_the_replay,
            ),
            test(
                "fit_describes_the_example_log_and_its_command_lines_run",
                fit_describes_the_example_log_and_its_command_lines_run,
            ),
            test(
                "runs_of_a_trace_are_the_trace_and_resamples_of_its_blocks",
                runs_of_a_trace_are_the_trace_and_resamples_of_its_blocks,
            ),
            model(
                "a_recorded_run_replays_to_the_same_counts",
                a_recorded_run_replays_to_the_same_counts,
            ),
            test(
                "a_record_prefix_that_cannot_be_written_stops_the_run_with_exit_2",
                a_record_prefix_that_cannot_be_written_stops_the_run_with_exit_2,
            ),
            test(
                "a_recording_replaces_no_file_unless_overwrite",
                a_recording_replaces_no_file_unless_overwrite,
            ),
            test(
                "a_recording_never_writes_over_its_own_input",
                a_recording_never_writes_over_its_own_input,
            ),
            test(
                "a_recording_that_fails_is_left_under_names_that_say_so",
                a_recording_that_fails_is_left_under_names_that_say_so,
            ),
            test(
                "a_trace_cut_off_in_its_last_line_is_not_read_as_a_time",
                a_trace_cut_off_in_its_last_line_is_not_read_as_a_time,
            ),
            test(
                "control_characters_in_paths_stay_on_one_line",
                control_characters_in_paths_stay_on_one_line,
            ),
            test(
                "fit_warns_when_a_poisson_sized_buffer_would_be_too_small",
                fit_warns_when_a_poisson_sized_buffer_would_be_too_small,
            ),
            test(
                "the_live_verdict_on_a_trace_counts_the_consumers_the_sweep_does",
                the_live_verdict_on_a_trace_counts_the_consumers_the_sweep_does,
            ),
        ],
    )
}
