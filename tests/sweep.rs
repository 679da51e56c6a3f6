//! `burstbuf sweep` end to end, its agreement with the live program, and the
//! live program's `--consumers` and exponential modes.

mod common;
use common::{burstbuf, faithful, json_run};

#[test]
fn the_default_sweep_prints_a_table_plots_and_a_recommendation() {
    let output = burstbuf(&["sweep", "--seed=42"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains(" capacity consumers"), "{text}");
    // 13 capacities from 1 to 10000, one row each.
    let rows = text
        .lines()
        .filter(|l| {
            let mut fields = l.split_whitespace();
            let capacity = fields.next().and_then(|f| f.parse::<u64>().ok());
            capacity.is_some() && fields.next() == Some("1")
        })
        .count();
    assert_eq!(rows, 13, "{text}");
    assert!(text.contains("(capacity, log scale)"), "{text}");
    // ρ = 2.5 with one consumer: no capacity meets 1%.
    assert!(text.contains("with 1 consumer(s): rho = 2.50"), "{text}");
}

#[test]
fn json_and_csv_give_the_table() {
    let v = json_run(&[
        "sweep",
        "--seed=1",
        "--capacities=10,100",
        "--consumers=1,3",
        "--duration=30m",
    ]);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    // Ten runs by default: counts are means over the runs, so not whole numbers.
    assert_eq!(v["runs"], 10, "{v}");
    for row in rows {
        let produced = row["produced"].as_f64().unwrap();
        assert!(row["full_count"].as_f64().unwrap() <= produced, "{row}");
        assert!(row["max_depth"].as_f64().unwrap() <= row["capacity"].as_f64().unwrap());
        let share = &row["full_share"];
        let (low, mean, high) = (
            share["ci_low"].as_f64().unwrap(),
            share["mean"].as_f64().unwrap(),
            share["ci_high"].as_f64().unwrap(),
        );
        assert!(
            (0.0..=mean).contains(&low) && (mean..=1.0).contains(&high),
            "{row}"
        );
    }
    // Three consumers (ρ ≈ 0.83) with 100 slots meet 1% (its upper bound does);
    // one consumer never does.
    assert_eq!(v["recommendation"]["consumers"], 3, "{v}");
    assert_eq!(v["recommendation"]["unmet"][0]["consumers"], 1, "{v}");

    let csv = burstbuf(&["sweep", "--seed=1", "--capacities=10,100", "--csv"])
        .output()
        .unwrap();
    let csv = String::from_utf8(csv.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with(
        "capacity,consumers,produced,full_count,full_share_mean,full_share_ci_low,full_share_ci_high,"
    ));
    assert!(lines[2].starts_with("100,1,"));
}

#[test]
fn exponential_sweeps_print_the_m_m_1_k_prediction_beside_the_simulation() {
    let v = json_run(&[
        "sweep",
        "--seed=5",
        "--arrivals=exponential",
        "--service=exponential",
        "--produce-every=10ms",
        "--consume-every=9ms",
        "--capacities=1,5,20",
        // Ten runs of 12 minutes: the 2 h of model time this test always simulated.
        "--duration=12m",
    ]);
    assert_eq!(v["runs"], 10);
    for row in v["rows"].as_array().unwrap() {
        let share = &row["full_share"];
        let simulated = share["mean"].as_f64().unwrap();
        let predicted = row["predicted_full_share"].as_f64().unwrap();
        assert!((simulated - predicted).abs() < 0.01, "{row}");
        // And the exact answer lies within the 95% interval of these seeds.
        let (low, high) = (
            share["ci_low"].as_f64().unwrap(),
            share["ci_high"].as_f64().unwrap(),
        );
        assert!((low..=high).contains(&predicted), "{row}");
    }
}

#[test]
fn the_live_run_agrees_with_the_simulation_of_the_same_seed() {
    let live = json_run(&["--speed=100", "--seed=7"]);
    // One run, so the simulation is of seed 7 alone (more runs average seeds 7, 8, …).
    let simulated = json_run(&[
        "sweep",
        "--seed=7",
        "--capacities=100",
        "--duration=30s",
        "--runs=1",
    ]);
    let live_share = live["full_share"].as_f64().unwrap();
    let sim_row = &simulated["rows"][0];
    let sim_share = sim_row["full_share"]["mean"].as_f64().unwrap();
    assert!(sim_share > 0.0, "{simulated}");
    // Same seed, same pattern: the same figures within a few sends, unless the
    // machine could not keep the model's pace, and then the run must say so.
    let (live_sent, sim_sent) = (
        live["produced"].as_u64().unwrap(),
        sim_row["produced"].as_u64().unwrap(),
    );
    let agrees = (live_share - sim_share).abs() < 0.05 && live_sent.abs_diff(sim_sent) <= 10;
    assert!(
        agrees || !faithful(&live),
        "live {live_share} of {live_sent} vs simulated {sim_share} of {sim_sent}, and not flagged: {live}"
    );
}

#[test]
fn several_live_consumers_share_the_buffer_and_lose_nothing() {
    let s = json_run(&["--speed=100", "--seed=7", "--consumers=3"]);
    assert_eq!(s["produced"], s["consumed"], "{s}");
    assert_eq!(s["in_order"], true, "{s}");
    // Three writers at 300 ms keep up with λ ≈ 8.3/s on average (ρ ≈ 0.83).
    let rho = s["utilisation"].as_f64().unwrap();
    assert!(rho < 1.2 || !faithful(&s), "{s}");
    // Flat out with several consumers: tests/stress.rs.
}

#[test]
fn the_live_program_runs_exponential_models() {
    let s = json_run(&[
        "--speed=100",
        "--seed=3",
        "--arrivals=exponential",
        "--service=exponential",
        "--produce-every=50ms",
        "--consume-every=40ms",
        "--capacity=5",
        "--duration=20s",
    ]);
    assert_eq!(s["produced"], s["consumed"], "{s}");
    let rho = s["utilisation"].as_f64().unwrap();
    assert!((0.5..1.2).contains(&rho) || !faithful(&s), "ρ ≈ 0.8: {s}");
}

#[test]
fn bad_sweeps_exit_2_with_one_line() {
    let many = (1..=2000)
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let too_many = format!("--consumers={many}");
    let cases: Vec<Vec<&str>> = vec![
        vec!["sweep", "--capacities="],
        vec!["sweep", "--capacities=100,10"],
        vec!["sweep", "--capacities=0,10"],
        vec!["sweep", "--capacities=10..1"],
        vec!["sweep", "--consumers=0"],
        vec!["sweep", "--consumers="],
        vec!["sweep", "--target-full=0"],
        vec!["sweep", "--target-full=1"],
        vec!["sweep", "--capacities=1,2,3,4,5,6", too_many.as_str()],
        vec!["sweep", "--json", "--csv"],
        vec![
            "sweep",
            "--produce-every=0s",
            "--burst-prob=0",
            "--consume-every=0s",
        ],
        vec![
            "sweep",
            "--produce-every=1ns",
            "--burst-prob=0",
            "--consume-every=1ns",
        ],
        vec!["--capacity=3", "sweep"],
        vec!["sweep", "--runs=0"],
        vec!["sweep", "--runs=1001"],
        vec!["sweep", "--runs=ten"],
        // Allowed as one run of each point (1.4e9 messages), not as ten: the
        // guard counts the whole sweep.
        vec!["sweep", "--duration=366days", "--runs=10"],
        // 13 points × 1000 runs × 10 consumer counts: too many simulations.
        vec!["sweep", "--consumers=1,2,3,4,5,6,7,8,9,10", "--runs=1000"],
    ];
    for args in cases {
        let output = burstbuf(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

/// The text, CSV and JSON reports of a fixed seed, exactly: any change to what
/// the sweep prints shows up in review as a snapshot diff (`cargo insta review`).
fn snapshot(args: &[&str]) -> String {
    let output = burstbuf(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    assert!(
        output.stderr.is_empty(),
        "no progress bar off a terminal: {output:?}"
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_default_report_as_text() {
    // The defaults (13 capacities, one consumer, 10 runs) with a short duration.
    insta::assert_snapshot!(snapshot(&["sweep", "--seed=42", "--duration=2m"]));
}

#[test]
fn the_default_report_as_csv() {
    insta::assert_snapshot!(snapshot(&["sweep", "--seed=42", "--duration=2m", "--csv"]));
}

#[test]
fn the_default_report_as_json() {
    let json = snapshot(&["sweep", "--seed=42", "--duration=2m", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    insta::assert_snapshot!(serde_json::to_string_pretty(&value).unwrap());
}

#[test]
fn two_consumer_counts_with_their_own_marks() {
    // The README's example, shorter: the 3-consumer series is drawn with 3s.
    insta::assert_snapshot!(snapshot(&[
        "sweep",
        "--seed=42",
        "--consumers=1,3",
        "--capacities=1..1000",
        "--duration=2m",
    ]));
}

#[test]
fn one_run_reports_no_interval() {
    insta::assert_snapshot!(snapshot(&[
        "sweep",
        "--seed=42",
        "--consumers=1,2",
        "--capacities=1..1000",
        "--duration=2m",
        "--runs=1",
    ]));
}

#[test]
fn several_targets_policies_and_a_stall_on_a_fixed_seed() {
    // ρ ≈ 0.83 with a 20 s consumer stall at 30 s: each policy's smallest
    // capacity meeting every target (on the upper bound over 3 runs), the
    // target that decided it, the bytes, and the stall's rule of thumb
    // beside what the simulation found.
    insta::assert_snapshot!(snapshot(&[
        "sweep",
        "--seed=42",
        "--duration=10m",
        "--runs=3",
        "--consume-every=100ms",
        "--capacities=10,30,100,200,300,1000",
        "--when-full=block,drop-newest,drop-oldest",
        "--target-full=0.02",
        "--target-p99=100ms",
        "--target-drop=0.01",
        "--message-size=256",
        "--stall=20s@30s",
    ]));
}

#[test]
fn policies_and_a_stall_on_a_trace_side_by_side() {
    // The same trace (one run: the exact replay) under each policy, with a
    // 30 s consumer stall 20 min in: the stall's rows and rule of thumb as
    // for the built-in model.
    insta::assert_snapshot!(snapshot(&[
        "sweep",
        "--seed=42",
        "--arrivals-from=data/access.log",
        "--service-from=data/services.txt",
        "--service-order=replay",
        "--runs=1",
        "--capacities=10,50,100,500",
        "--when-full=block,drop-newest,drop-oldest",
        "--stall=30s@20m",
    ]));
}

#[test]
fn bad_what_if_options_exit_2_with_one_line() {
    let cases: Vec<Vec<&str>> = vec![
        vec!["sweep", "--stall=5s"],
        vec!["sweep", "--stall=0s@1s"],
        vec!["sweep", "--stall=5s@soon"],
        vec!["--stall=x@1s", "--duration=1s"],
        vec!["sweep", "--when-full=sometimes"],
        vec!["sweep", "--target-p99=fast"],
        vec!["sweep", "--target-drop=1"],
        vec!["sweep", "--message-size=0"],
        // The live demo runs one policy.
        vec!["--when-full=block,drop-newest", "--duration=1s"],
        // The cost guard counts every policy: 5 runs × 2 policies are
        // refused as 10 runs are (see bad_sweeps_exit_2_with_one_line).
        vec![
            "sweep",
            "--duration=366days",
            "--runs=5",
            "--when-full=block,drop-newest",
        ],
    ];
    for args in cases {
        let output = burstbuf(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

fn text_of(args: &[&str]) -> String {
    let output = burstbuf(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The text with its wrapped prose joined again.
fn prose(text: &str) -> String {
    text.lines().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_default_report_fits_100_columns_and_wide_shows_every_column() {
    let args = ["sweep", "--seed=42", "--duration=2m", "--message-size=100"];
    let text = text_of(&args);
    for line in text.lines() {
        assert!(
            line.chars().count() <= 100,
            "{} columns: {line}",
            line.chars().count()
        );
    }
    // What is left out is named, and a mean over runs says it is one.
    assert!(
        prose(&text).contains("(Also in --wide, --csv and --json: mean produced, mean full,"),
        "{text}"
    );
    let wide = text_of(&[&args[..], &["--wide"]].concat());
    assert!(!wide.contains("(Also in --wide"), "{wide}");
    let header = wide.lines().find(|l| l.starts_with(" capacity")).unwrap();
    for column in [
        "mean produced",
        "mean full",
        "p50 wait",
        "blocked",
        "in buffer",
        "produced/s",
        "peak bytes",
    ] {
        assert!(header.contains(column), "{column} in {header}");
    }
    assert!(header.chars().count() > 100, "{header}");
}

#[test]
fn every_load_and_policy_gets_its_plots_and_no_plot_is_empty() {
    let text = prose(&text_of(&[
        "sweep",
        "--seed=1",
        "--duration=10m",
        "--runs=2",
        "--capacities=10,100",
        "--load=1,2",
        "--when-full=block,drop-newest",
    ]));
    for at in [
        "at 1x load with --when-full block",
        "at 2x load with --when-full block",
        "at 1x load with --when-full drop-newest",
        "at 2x load with --when-full drop-newest",
    ] {
        assert!(
            text.contains(&format!(
                "of sends that found the buffer full {at} (log scale;"
            )),
            "{at}: {text}"
        );
    }
    // A drop policy never waits: no p99 plot for it, and a line that says why.
    assert!(
        text.contains("p99 time blocked per blocked send at 1x load with --when-full block"),
        "{text}"
    );
    assert!(
        !text.contains("p99 time blocked per blocked send at 1x load with --when-full drop-newest"),
        "{text}"
    );
    assert!(
        text.contains(
            "No send waited at 1x load with --when-full drop-newest at any capacity tried"
        ),
        "{text}"
    );
}

/// The README's `burstbuf sweep` examples, run: every line it quotes in the
/// `text` block after a command is a line of that command's output.
#[test]
fn the_readmes_sweep_examples_print_what_it_quotes() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut command: Option<String> = None;
    let mut checked = 0;
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("burstbuf sweep ") {
            let mut text = line.to_string();
            while text.ends_with('\\') {
                text.pop();
                text += lines.next().unwrap().trim();
            }
            command = Some(text);
        } else if line == "```text" {
            let Some(text) = command.take() else { continue };
            let args: Vec<&str> = text.split_whitespace().skip(1).collect();
            let output = text_of(&args);
            for quoted in lines.by_ref().take_while(|l| *l != "```") {
                if quoted != "..." {
                    assert!(
                        output.lines().any(|l| l == quoted),
                        "{text}: no line {quoted:?} in:\n{output}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 2, "the own-log and what-if examples");
}

#[test]
fn the_live_verdict_and_the_sweep_count_the_same_consumers() {
    // Same model, same answer: the live verdict counts consumers from the
    // configured rates, as the sweep does, whatever the run measured (and
    // whether or not it kept the model's pace). ρ₁ = 2.5 (the default), and
    // exactly 2.0 (240 ms of service against a 120 ms mean gap), where two
    // consumers run at ρ = 1 and never shrink a backlog: 3 either way.
    for (consume_every, needed) in [("300ms", 3), ("240ms", 3), ("100ms", 1)] {
        let every = format!("--consume-every={consume_every}");
        let sweep = json_run(&[
            "sweep",
            "--seed=3",
            "--duration=1m",
            "--runs=2",
            "--capacities=10,100",
            "--consumers=1,2,3",
            &every,
        ]);
        let recommendation = &sweep["recommendation"];
        assert_eq!(
            recommendation["consumers_needed"], needed,
            "{consume_every}: {recommendation}"
        );
        let live = json_run(&["--speed=100", "--seed=3", "--duration=10s", &every]);
        let verdict = &live["verdict"];
        assert_eq!(verdict["basis"], "model", "{live}");
        // The run's own ρ stands beside the model's.
        assert_eq!(
            verdict["measured_utilisation"], live["utilisation"],
            "{live}"
        );
        if needed > 1 {
            assert_eq!(verdict["kind"], "consumer_bottleneck", "{live}");
            assert_eq!(verdict["writers_needed"], needed, "{consume_every}: {live}");
        } else {
            assert_eq!(verdict["kind"], "consumer_keeps_up", "{live}");
        }
    }
}
