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

/// For test files whose harness is libtest-mimic (`harness = false`): a model
/// check that found no run keeping the model's pace is reported as ignored,
/// not passed, and a binary whose every model check was ignored fails.
pub mod mimic {
    use std::process::ExitCode;
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    use libtest_mimic::{Arguments, Completion, Failed, Trial};

    /// How many runs a model check tries before it gives up for this machine.
    pub const ATTEMPTS: u32 = 5;

    /// Model checks that checked the model's figures, and those ignored.
    /// Relaxed: each is read once, after every trial has finished.
    static CHECKED: AtomicUsize = AtomicUsize::new(0);
    static IGNORED: AtomicUsize = AtomicUsize::new(0);

    /// Runs `attempt` (its argument: the attempt's number, from 0) until one
    /// run keeps the model's pace (it then checks the model's figures and
    /// returns true), at most [`ATTEMPTS`] times.
    pub fn model_check(mut attempt: impl FnMut(u32) -> bool) -> Result<Completion, Failed> {
        for n in 0..ATTEMPTS {
            if attempt(n) {
                CHECKED.fetch_add(1, Relaxed);
                return Ok(Completion::Completed);
            }
        }
        IGNORED.fetch_add(1, Relaxed);
        Ok(Completion::ignored_with(format!(
            "no run of {ATTEMPTS} kept the model's pace on this machine"
        )))
    }

    /// The `--speed` for attempt `n` of a model check that starts at `speed`:
    /// halved at each of the first two retries (never below 1), since a
    /// machine that could not keep one pace may keep a slower one, and the
    /// model-time figures checked do not change with it; no slower than a
    /// quarter, so that the retries of a loaded machine stay short.
    pub fn slower(speed: u32, n: u32) -> String {
        format!("--speed={}", (speed >> n.min(2)).max(1))
    }

    /// A test that always checks what it checks.
    pub fn test(name: &str, f: fn()) -> Trial {
        Trial::test(name, move || {
            f();
            Ok(())
        })
    }

    /// A model check, through [`model_check`].
    pub fn model(name: &str, f: fn() -> Result<Completion, Failed>) -> Trial {
        Trial::ignorable_test(name, f)
    }

    /// Runs the trials; fails if every model check that ran was ignored, or
    /// if `source` (the test file, by `include_str!`) still has a `#[test]`
    /// function: without the standard harness it would never run.
    pub fn run(source: &str, trials: Vec<Trial>) -> ExitCode {
        let mut lines = source.lines().map(str::trim);
        if lines.any(|line| line == "#[test]") {
            let stray = lines
                .find(|line| line.starts_with("fn "))
                .unwrap_or_default();
            eprintln!(
                "error: this file's harness is libtest-mimic, so a #[test] function \
                 never runs; list it in main() instead: {stray}"
            );
            return ExitCode::FAILURE;
        }
        let conclusion = libtest_mimic::run(&Arguments::from_args(), trials);
        let (checked, ignored) = (CHECKED.load(Relaxed), IGNORED.load(Relaxed));
        if ignored > 0 && checked == 0 {
            eprintln!(
                "error: every model check that ran was ignored ({ignored}): none was checked"
            );
            return ExitCode::FAILURE;
        }
        conclusion.exit_code()
    }
}
