//! Flat out with tiny and default buffers, for a few seconds each, on all cores
//! and pinned to one: every message consumed once and in order, no deadlock.
//! A watchdog kills a run that hangs and fails the test instead of hanging CI.

use std::process::Command as StdCommand;

use assert_cmd::Command;
use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

mod common;
use common::{WATCHDOG, burstbuf};

/// Each run produces flat out for this long (model time = wall time at speed 1).
const RUN: &str = "--duration=4s";

fn flat_out(capacity: u32) -> Vec<String> {
    [
        "--produce-every=0s",
        "--consume-every=0s",
        "--burst-prob=0",
        RUN,
        "--json",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--capacity={capacity}")])
    .collect()
}

fn check(mut cmd: Command, what: &str) {
    let output = cmd.timeout(WATCHDOG).output().unwrap();
    assert!(output.status.success(), "{what}: {output:?}");
    let s: Value = serde_json::from_slice(&output.stdout).unwrap();
    let produced = s["produced"].as_u64().unwrap();
    assert!(produced > 1000, "{what}: hardly ran: {s}");
    assert_eq!(s["consumed"].as_u64().unwrap(), produced, "{what}: {s}");
    assert_eq!(s["unconsumed"], 0, "{what}: {s}");
    assert_eq!(s["in_order"], true, "{what}: {s}");
    assert!(s["full_count"].as_u64().unwrap() <= produced, "{what}: {s}");
}

#[test]
fn flat_out_loses_nothing_with_buffers_of_1_2_and_100() {
    for capacity in [1, 2, 100] {
        let mut cmd = burstbuf(&[]);
        cmd.args(flat_out(capacity));
        check(cmd, &format!("capacity {capacity}"));
    }
}

#[test]
fn flat_out_loses_nothing_pinned_to_one_core() {
    let taskset = StdCommand::new("taskset").arg("-V").output();
    if !taskset.is_ok_and(|o| o.status.success()) {
        eprintln!("taskset is not installed: the pinned runs are skipped");
        return;
    }
    for capacity in [1, 2, 100] {
        let mut cmd = Command::new("taskset");
        cmd.args(["-c", "0"]).arg(cargo_bin!("burstbuf"));
        cmd.args(flat_out(capacity));
        check(cmd, &format!("pinned, capacity {capacity}"));
    }
}

#[test]
fn flat_out_with_several_consumers_loses_nothing() {
    for consumers in ["2", "4"] {
        let mut cmd = burstbuf(&[]);
        cmd.args(flat_out(2))
            .arg(format!("--consumers={consumers}"));
        check(cmd, &format!("{consumers} consumers"));
    }
}
