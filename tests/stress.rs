//! Flat out: the tests that load the machine, kept in their own binary so that
//! they never run beside a test that reads a clock or a model-time rate. Every
//! message must be consumed once and in order, with tiny and default buffers,
//! several consumers, on all cores and pinned to one. No assertion here reads
//! a time; a watchdog kills a run that hangs and fails the test.
//!
//! The harness is libtest-mimic rather than libtest, so that a test that cannot
//! run on this machine (no `taskset`) is reported as ignored instead of passing.

use std::process::Command as StdCommand;

use assert_cmd::Command;
use assert_cmd::cargo::cargo_bin;
use libtest_mimic::{Arguments, Trial};
use serde_json::Value;

mod common;
use common::{WATCHDOG, burstbuf};

/// Both workers flat out: no pause between messages, no service time.
const FLAT_OUT: &[&str] = &[
    "--produce-every=0s",
    "--consume-every=0s",
    "--burst-prob=0",
    "--duration=0s",
    "--json",
];

/// Flat out for `messages` messages through a buffer of `capacity`.
fn flat_out(capacity: u32, messages: u64) -> Vec<String> {
    FLAT_OUT
        .iter()
        .map(|s| s.to_string())
        .chain([
            format!("--capacity={capacity}"),
            format!("--messages={messages}"),
        ])
        .collect()
}

/// Runs to the end and checks that nothing was lost, repeated or reordered.
fn check(mut cmd: Command, messages: u64, what: &str) {
    let output = cmd.timeout(WATCHDOG).output().unwrap();
    assert!(output.status.success(), "{what}: {output:?}");
    let s: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(s["produced"], messages, "{what}: {s}");
    assert_eq!(s["consumed"], messages, "{what}: {s}");
    assert_eq!(s["unconsumed"], 0, "{what}: {s}");
    assert_eq!(s["in_order"], true, "{what}: {s}");
    assert_eq!(s["aborted"], false, "{what}: {s}");
    assert!(s["full_count"].as_u64().unwrap() <= messages, "{what}: {s}");
}

fn a_million_messages_are_consumed_once_and_in_order() {
    let mut cmd = burstbuf(&[]);
    cmd.args(flat_out(100, 1_000_000));
    check(cmd, 1_000_000, "a million");
}

fn buffers_of_1_2_and_100_lose_nothing() {
    for capacity in [1, 2, 100] {
        let mut cmd = burstbuf(&[]);
        cmd.args(flat_out(capacity, 200_000));
        check(cmd, 200_000, &format!("capacity {capacity}"));
    }
}

fn pinned_to_one_core_nothing_is_lost() {
    for capacity in [1, 2, 100] {
        let mut cmd = Command::new("taskset");
        cmd.args(["-c", "0"]).arg(cargo_bin!("burstbuf"));
        cmd.args(flat_out(capacity, 200_000));
        check(cmd, 200_000, &format!("pinned, capacity {capacity}"));
    }
}

fn several_consumers_lose_nothing() {
    for consumers in [2, 4] {
        for capacity in [2, 8] {
            let mut cmd = burstbuf(&[]);
            cmd.args(flat_out(capacity, 200_000))
                .arg(format!("--consumers={consumers}"));
            check(
                cmd,
                200_000,
                &format!("{consumers} consumers, capacity {capacity}"),
            );
        }
    }
}

fn a_flat_out_recording_accounts_for_every_message() {
    // Flat out the writer may fall behind: every offered time is then
    // either in the file or counted as lost, and the summary says which.
    let prefix = std::env::temp_dir().join(format!("burstbuf-stress-{}", std::process::id()));
    let prefix = prefix.to_str().unwrap().to_owned();
    let messages = 500_000u64;
    let mut cmd = burstbuf(&[]);
    cmd.args(flat_out(100, messages))
        .arg("--record")
        .arg(&prefix);
    let output = cmd.timeout(WATCHDOG).output().unwrap();
    let s: Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    let recorded = &s["recorded"];
    // Where the summary says they are: under their own names if complete,
    // else under `.incomplete` ones.
    let (arrivals, services) = (
        recorded["arrivals"].as_str().unwrap_or_default().to_owned(),
        recorded["services"].as_str().unwrap_or_default().to_owned(),
    );
    let lines = |path: &str| {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        Ok::<_, String>(text.lines().filter(|l| !l.starts_with('#')).count() as u64)
    };
    let (arrival_lines, service_lines) = (lines(&arrivals), lines(&services));
    for suffix in [".arrivals", ".services"] {
        let _ = std::fs::remove_file(format!("{prefix}{suffix}"));
        let _ = std::fs::remove_file(format!("{prefix}{suffix}.incomplete"));
    }
    assert!(output.status.success(), "{output:?}");
    assert_eq!(s["produced"], messages, "{s}");
    let expected = if recorded["complete"] == true {
        ""
    } else {
        ".incomplete"
    };
    assert_eq!(arrivals, format!("{prefix}.arrivals{expected}"), "{s}");
    assert_eq!(services, format!("{prefix}.services{expected}"), "{s}");
    let (arrival_lines, service_lines) = (arrival_lines.unwrap(), service_lines.unwrap());
    assert_eq!(recorded["messages"], messages, "{s}");
    if !recorded["error"].is_null() {
        // A machine too loaded to write the files within the run's patience:
        // then they must be called incomplete, and their lines prove nothing.
        assert_eq!(recorded["complete"], false, "{s}");
        return;
    }
    let lost = recorded["lost"].as_u64().unwrap();
    assert_eq!(arrival_lines + lost, messages, "{s}");
    assert_eq!(service_lines, messages, "{s}");
    assert_eq!(recorded["complete"], lost == 0, "{s}");
}

/// With a drop policy flat out, every message offered is consumed, dropped
/// or (after an abort only) left: `produced = consumed + dropped + unconsumed`,
/// and those consumed come in increasing order.
fn drop_policies_account_for_every_message() {
    for policy in ["drop-newest", "drop-oldest"] {
        for (capacity, consumers) in [(1, 1), (4, 2), (100, 4)] {
            let what = format!("{policy}, capacity {capacity}, {consumers} consumer(s)");
            let mut cmd = burstbuf(&[]);
            cmd.args(flat_out(capacity, 200_000))
                .arg(format!("--consumers={consumers}"))
                .arg(format!("--when-full={policy}"));
            let output = cmd.timeout(WATCHDOG).output().unwrap();
            assert!(output.status.success(), "{what}: {output:?}");
            let s: Value = serde_json::from_slice(&output.stdout).unwrap();
            let n = |k: &str| {
                s[k].as_u64()
                    .unwrap_or_else(|| panic!("{what}: no {k}: {s}"))
            };
            assert_eq!(n("produced"), 200_000, "{what}: {s}");
            assert_eq!(
                n("consumed") + n("dropped") + n("unconsumed"),
                200_000,
                "{what}: {s}"
            );
            assert_eq!(n("unconsumed"), 0, "{what}: drained, so nothing left: {s}");
            // Every drop found the buffer full; the producer never blocked.
            assert!(n("dropped") <= n("full_count"), "{what}: {s}");
            if policy == "drop-newest" {
                // Each full try_send discards the message it offered.
                assert_eq!(n("dropped"), n("full_count"), "{what}: {s}");
            }
            assert_eq!(s["blocked"]["count"], 0, "{what}: {s}");
            assert_eq!(s["in_order"], true, "{what}: {s}");
            assert_eq!(s["aborted"], false, "{what}: {s}");
        }
    }
}

fn has_taskset() -> bool {
    StdCommand::new("taskset")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn main() {
    let args = Arguments::from_args();
    let test = |name: &str, f: fn()| {
        Trial::test(name, move || {
            f();
            Ok(())
        })
    };
    let tests = vec![
        test(
            "a_million_messages_are_consumed_once_and_in_order",
            a_million_messages_are_consumed_once_and_in_order,
        ),
        test(
            "buffers_of_1_2_and_100_lose_nothing",
            buffers_of_1_2_and_100_lose_nothing,
        ),
        // Skipped, and said so, where util-linux's taskset is missing.
        test(
            "pinned_to_one_core_nothing_is_lost",
            pinned_to_one_core_nothing_is_lost,
        )
        .with_ignored_flag(!has_taskset()),
        test(
            "several_consumers_lose_nothing",
            several_consumers_lose_nothing,
        ),
        test(
            "a_flat_out_recording_accounts_for_every_message",
            a_flat_out_recording_accounts_for_every_message,
        ),
        test(
            "drop_policies_account_for_every_message",
            drop_policies_account_for_every_message,
        ),
    ];
    libtest_mimic::run(&args, tests).exit();
}
