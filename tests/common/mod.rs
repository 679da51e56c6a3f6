//! Helpers shared by the integration tests. Each test file uses some of them.
#![allow(dead_code)]

use std::process::{Child, Command as StdCommand, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use assert_cmd::cargo::{cargo_bin, cargo_bin_cmd};
use serde_json::Value;

/// Long enough for a debug build on a loaded two-core machine; a hang fails, not blocks.
pub const WATCHDOG: Duration = Duration::from_secs(120);

/// The binary with these arguments, killed if it outlives the watchdog.
pub fn burstbuf(args: &[&str]) -> Command {
    let mut cmd = cargo_bin_cmd!("burstbuf");
    cmd.timeout(WATCHDOG).env_remove("NO_COLOR").args(args);
    cmd
}

/// Runs with `--json` added and returns the object it printed, asserting a clean exit.
pub fn json_run(args: &[&str]) -> Value {
    let output = burstbuf(args).arg("--json").output().unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "stdout is one JSON object: {stdout}"
    );
    serde_json::from_str(&stdout).unwrap()
}

/// Starts the binary in the background, for tests that signal it or talk to it;
/// stderr is piped, stdout as given.
pub fn spawn(args: &[&str], stdout: Stdio) -> Child {
    StdCommand::new(cargo_bin!("burstbuf"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends a signal by name (`TERM`, `INT`, …) with `kill`.
pub fn signal(child: &Child, name: &str) {
    let status = StdCommand::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} failed");
}

/// Waits for the child, killing it and failing if it outlives the watchdog.
pub fn wait(child: &mut Child) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > WATCHDOG {
            let _ = child.kill();
            panic!("burstbuf did not exit within {WATCHDOG:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a `--json` summary says the run kept the model's pace. Rates and
/// counts that a model predicts are checked only where it did: a loaded
/// machine may fall behind, and then the run must say so instead.
pub fn faithful(s: &Value) -> bool {
    let faithful = s["faithful"]
        .as_bool()
        .unwrap_or_else(|| panic!("no faithful flag in {s}"));
    assert_eq!(s["verdict"]["faithful"], s["faithful"], "{s}");
    faithful
}

/// A file named `name` (an extension, a control character: what the test
/// needs its name to say) in a temporary directory of its own, made by
/// `tempfile` and removed with the file when dropped.
pub struct TempFile {
    path: String,
    _dir: tempfile::TempDir,
}

impl TempFile {
    pub fn new(name: &str, text: &str) -> TempFile {
        let dir = temp_dir();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        TempFile {
            path: path.to_str().unwrap().to_owned(),
            _dir: dir,
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }
}

/// A temporary directory of the test's own, removed with all in it when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("burstbuf-test-")
        .tempdir()
        .unwrap()
}
