//! The live gauge in a real pseudo-terminal: keys, signals, a closed terminal,
//! a panic, tiny and changing sizes, and colour. Each test bounds its waits, so
//! a hang fails instead of blocking CI; the bounds are wide, since only "does
//! it end" matters, not how fast on a busy machine.

use std::io::{Read, Write};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};

const PATIENCE: Duration = Duration::from_secs(60);

struct Session {
    master: Box<dyn MasterPty + Send>,
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    /// Everything the program wrote to the terminal so far.
    output: Arc<Mutex<Vec<u8>>>,
    /// Tells the reader thread to let go of its copy of the terminal after its next read.
    stop_reading: Arc<AtomicBool>,
    /// While set, the reader thread reads nothing after its next read: the
    /// terminal's queue fills, as when its reader (tmux, ssh) is stopped.
    stall: Arc<AtomicBool>,
    /// Closed by the reader thread when it has read everything (end of file)
    /// or let go: after that, `output` is complete.
    read_all: mpsc::Receiver<()>,
}

fn size(rows: u16, cols: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

/// Starts burstbuf on a terminal of `rows` × `cols`, with `TERM=xterm-256color`,
/// a UTF-8 locale and no `NO_COLOR` unless `env` says otherwise.
fn start(args: &[&str], rows: u16, cols: u16, env: &[(&str, &str)]) -> Session {
    let pair = native_pty_system().openpty(size(rows, cols)).unwrap();
    let mut cmd = CommandBuilder::new(cargo_bin!("burstbuf"));
    cmd.args(args);
    cmd.cwd(env!("CARGO_MANIFEST_DIR"));
    cmd.env("TERM", "xterm-256color");
    cmd.env("LANG", "C.UTF-8");
    cmd.env_remove("NO_COLOR");
    cmd.env_remove("LC_ALL");
    for (key, value) in env {
        cmd.env(key, value);
    }
    let child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let output = Arc::new(Mutex::new(Vec::new()));
    let stop_reading = Arc::new(AtomicBool::new(false));
    let stall = Arc::new(AtomicBool::new(false));
    let (sink, stop) = (Arc::clone(&output), Arc::clone(&stop_reading));
    let stalled = Arc::clone(&stall);
    let (done, read_all) = mpsc::channel::<()>();
    thread::spawn(move || {
        // Dropped when this thread ends, which closes the channel.
        let _done = done;
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = reader.read(&mut buf) {
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
            if stop.load(Ordering::Relaxed) {
                break; // drops this copy of the master
            }
            while stalled.load(Ordering::Relaxed) {
                thread::sleep(Duration::from_millis(5));
            }
        }
    });
    let writer = pair.master.take_writer().unwrap();
    Session {
        master: pair.master,
        child,
        writer,
        output,
        stop_reading,
        stall,
        read_all,
    }
}

impl Session {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Waits until the output contains `needle`.
    fn wait_for(&self, needle: &str) {
        let start = Instant::now();
        while !self.text().contains(needle) {
            assert!(
                start.elapsed() < PATIENCE,
                "no {needle:?} in the output: {:?}",
                self.text()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn press(&mut self, keys: &[u8]) {
        self.writer.write_all(keys).unwrap();
        self.writer.flush().unwrap();
    }

    fn signal(&self, name: &str) {
        let pid = self.child.process_id().unwrap().to_string();
        let status = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status();
        assert!(status.unwrap().success());
    }

    /// Waits for the program to end; returns its status and how long that took.
    fn wait_exit(&mut self) -> (ExitStatus, Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let took = start.elapsed();
                // The program is gone: the reader reaches the end of the
                // terminal's output once it has read the last bytes.
                let read = self.read_all.recv_timeout(PATIENCE);
                assert_eq!(read, Err(mpsc::RecvTimeoutError::Disconnected));
                return (status, took);
            }
            if start.elapsed() > PATIENCE {
                let _ = self.child.kill();
                panic!("burstbuf did not exit: {:?}", self.text());
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The terminal's line settings now, as `stty -a` prints them.
    fn stty(&self) -> String {
        let tty = self.master.tty_name().expect("a named tty");
        let out = Command::new("stty")
            .arg("-F")
            .arg(tty)
            .arg("-a")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The alternate screen was entered and left, the cursor shown again, and
    /// raw mode is off (line editing and echo are back). Left and shown
    /// last: after the last time the screen was entered and the cursor hidden.
    fn assert_restored(&self) {
        let text = self.text();
        let entered = text
            .rfind("\x1b[?1049h")
            .expect("entered the alternate screen");
        let left = text
            .rfind("\x1b[?1049l")
            .expect("left the alternate screen");
        let hidden = text.rfind("\x1b[?25l").expect("hid the cursor");
        let shown = text.rfind("\x1b[?25h").expect("showed the cursor");
        assert!(entered < left && hidden < shown, "{text:?}");
        let stty = format!(" {} ", self.stty().replace('\n', " "));
        assert!(
            stty.contains(" icanon ") && stty.contains(" echo "),
            "raw mode still on: {stty}"
        );
    }
}

#[test]
fn q_stops_drains_and_restores_the_terminal() {
    let mut s = start(&["--speed=50", "--seed=7"], 30, 120, &[]);
    s.wait_for("0123456789012345678901234567890123456789");
    s.wait_for("P:");
    s.press(b"q");
    let (status, _) = s.wait_exit();
    assert!(status.success(), "{status:?}: {:?}", s.text());
    let text = s.text();
    assert!(text.contains("Buffer reached capacity "), "{text:?}");
    assert!(text.contains("left unconsumed 0"), "{text:?}");
    s.assert_restored();
}

#[test]
fn question_mark_lists_the_keys_and_again_hides_them() {
    // Runs until q, so it is still running whatever the machine's pace.
    let mut s = start(&["--duration=0s", "--seed=7"], 30, 120, &[]);
    s.wait_for("?: keys");
    s.press(b"?");
    s.wait_for("q, Esc or Ctrl-C: stop producing and drain; again: quit at once");
    s.wait_for("?: show or hide these keys");
    s.wait_for("+ or -: one consumer more or fewer (1 to 1000), as the run goes on");
    // Hidden again: the list's last row (the 17th) is blanked over its
    // width, and nothing else ever writes that row at 120 columns.
    s.press(b"?");
    s.wait_for(&format!("\x1b[17;1H{}", " ".repeat(26)));
    s.press(b"q");
    let (status, _) = s.wait_exit();
    assert!(status.success(), "{status:?}: {:?}", s.text());
    s.assert_restored();
}

#[test]
fn plus_adds_a_consumer_and_the_summary_says_when() {
    // Five slots fill within a few model seconds; then the producer blocks
    // and the buffer stays full, so the consumer is between messages again
    // soon after the key, whatever the machine's pace, and the drain after
    // q still has messages for both.
    let mut s = start(&["--duration=0s", "--seed=7", "--capacity=5"], 30, 120, &[]);
    s.wait_for("BLOCKED");
    s.press(b"+");
    // The field is new on the status line, so it is written whole.
    s.wait_for("  consumers ");
    s.press(b"q");
    let (status, _) = s.wait_exit();
    assert!(status.success(), "{status:?}: {:?}", s.text());
    let text = s.text();
    assert!(
        text.contains("consumers changed (+/-): 1 to 2 at "),
        "{text:?}"
    );
    assert!(text.contains("are for the 2 at the end"), "{text:?}");
    // Every message consumed once: nothing left, in order.
    assert!(text.contains("left unconsumed 0"), "{text:?}");
    assert!(
        text.contains("the consumer count changed during the run"),
        "the prediction says why it cannot follow: {text:?}"
    );
    s.assert_restored();
}

#[test]
fn ctrl_c_twice_quits_at_once_and_reports_what_was_left() {
    // A consumer that takes 10 s per message: only quitting at once ends this soon.
    let mut s = start(&["--consume-every=10s", "--seed=7"], 30, 120, &[]);
    s.wait_for("P:1");
    s.press(b"\x03");
    s.wait_for("draining:");
    let pressed = Instant::now();
    s.press(b"\x03");
    let (status, _) = s.wait_exit();
    let took = pressed.elapsed();
    assert_eq!(status.exit_code(), 130, "{:?}", s.text());
    // Typically a few milliseconds; the bound only catches a hang.
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let text = s.text();
    let left = text
        .split("left unconsumed ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no count left: {text:?}"));
    assert!(left > 0, "{text:?}");
    s.assert_restored();
}

#[test]
fn sigterm_stops_drains_and_restores() {
    let mut s = start(&["--speed=50", "--seed=7", "--duration=0s"], 30, 120, &[]);
    s.wait_for("P:");
    s.signal("TERM");
    let (status, _) = s.wait_exit();
    assert!(status.success(), "{status:?}: {:?}", s.text());
    assert!(s.text().contains("left unconsumed 0"), "{:?}", s.text());
    s.assert_restored();
}

#[test]
fn a_panic_in_a_worker_restores_the_terminal_and_fails() {
    for worker in ["producer", "consumer", "illustrator"] {
        let mut s = start(
            &["--speed=10", "--seed=7", &format!("--test-panic={worker}")],
            30,
            120,
            &[],
        );
        let (status, _) = s.wait_exit();
        assert_eq!(status.exit_code(), 101, "{worker}: {:?}", s.text());
        let text = s.text();
        assert!(text.contains("panics on purpose"), "{worker}: {text:?}");
        s.assert_restored();
    }
}

#[test]
fn tiny_and_changing_sizes_never_panic() {
    for (rows, cols) in [(0, 0), (1, 1), (5, 20)] {
        let mut s = start(
            &["--speed=20", "--seed=7", "--duration=0s"],
            rows,
            cols,
            &[],
        );
        thread::sleep(Duration::from_millis(300));
        for (r, c) in [(30, 120), (3, 10), (0, 0), (24, 80)] {
            s.master.resize(size(r, c)).unwrap();
            thread::sleep(Duration::from_millis(100));
        }
        s.press(b"q");
        thread::sleep(Duration::from_millis(200));
        s.press(b"q");
        let (status, _) = s.wait_exit();
        let code = status.exit_code();
        assert!(
            code == 0 || code == 130,
            "{rows}x{cols}: {status:?}: {:?}",
            s.text()
        );
        assert!(
            !s.text().contains("panicked"),
            "{rows}x{cols}: {:?}",
            s.text()
        );
        s.assert_restored();
    }
}

/// Any SGR colour sequence crossterm writes for the alert lines.
const RED: &str = "\x1b[38;5;9m";

#[test]
fn colour_only_where_wanted() {
    // A small buffer fills at once: BLOCKED and "consumer is the bottleneck" are alerts.
    let args = ["--speed=5", "--seed=7", "--capacity=3", "--duration=0s"];
    let run = |env: &[(&str, &str)]| {
        let mut s = start(&args, 30, 120, env);
        s.wait_for("bottleneck");
        s.press(b"q");
        thread::sleep(Duration::from_millis(100));
        s.press(b"q");
        s.wait_exit();
        s.text()
    };
    assert!(
        run(&[]).contains(RED),
        "alerts are red on a colour terminal"
    );
    assert!(
        !run(&[("NO_COLOR", "1")]).contains(RED),
        "NO_COLOR means no colour"
    );

    // TERM=dumb: plain log lines, no escape codes at all.
    let mut s = start(&["--speed=100", "--seed=7"], 30, 120, &[("TERM", "dumb")]);
    let (status, _) = s.wait_exit();
    assert!(status.success());
    let text = s.text();
    assert!(text.contains("Buffer reached capacity "), "{text:?}");
    assert!(!text.contains('\x1b'), "{text:?}");
}

#[test]
fn a_closed_terminal_exits_with_129_at_once() {
    let Session {
        master,
        mut child,
        writer,
        output,
        stop_reading,
        ..
    } = start(&["--seed=7", "--duration=0s"], 30, 120, &[]);
    let start = Instant::now();
    while !String::from_utf8_lossy(&output.lock().unwrap()).contains("P:") {
        assert!(start.elapsed() < PATIENCE, "the gauge never appeared");
        thread::sleep(Duration::from_millis(20));
    }
    // Closing our end of the terminal hangs it up: SIGHUP, then I/O errors.
    // The reader thread lets go of its copy after the next frame it reads.
    stop_reading.store(true, Ordering::Relaxed);
    drop(writer);
    drop(master);
    let closed = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        // Typically well under 100 ms; the bound is for a busy machine.
        assert!(
            closed.elapsed() < Duration::from_secs(10),
            "still running after the terminal closed"
        );
        thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.exit_code(), 129, "{status:?}");
    eprintln!("exit 129 {:?} after the terminal closed", closed.elapsed());
}

/// Bytes the process has written so far (`wchar` of /proc/PID/io).
fn written(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/io"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("wchar: "))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn an_abort_while_the_terminal_takes_nothing_still_gives_it_back() {
    // The terminal's reader stops, as a stopped tmux does: the queue fills
    // and the gauge's writes wait. Then INT and TERM: the run ends, and the
    // bytes that leave the alternate screen and show the cursor must be the
    // last the terminal gets from it when its reader comes back.
    let mut s = start(&["--speed=50", "--seed=7", "--duration=0s"], 30, 120, &[]);
    s.wait_for("P:");
    let pid = s.child.process_id().unwrap();
    s.stall.store(true, Ordering::Relaxed);
    // Stalled: the frames change all the time at this speed, so a second
    // in which the program could write nothing means the queue is full.
    let (mut last, mut flat_since) = (written(pid), Instant::now());
    let stalling = Instant::now();
    while flat_since.elapsed() < Duration::from_secs(1) {
        assert!(
            stalling.elapsed() < PATIENCE,
            "the terminal never filled up"
        );
        thread::sleep(Duration::from_millis(50));
        let now = written(pid);
        if now != last {
            (last, flat_since) = (now, Instant::now());
        }
    }
    s.signal("INT");
    s.signal("TERM");
    let signalled = Instant::now();
    while s.child.try_wait().unwrap().is_none() {
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "still running after INT and TERM, its terminal stalled"
        );
        thread::sleep(Duration::from_millis(10));
    }
    let took = signalled.elapsed();
    // The reader comes back and reads everything the program left.
    s.stall.store(false, Ordering::Relaxed);
    let (status, _) = s.wait_exit();
    assert_eq!(status.exit_code(), 130, "{:?}", s.text());
    s.assert_restored();
    // The summary comes after, on the screen the shell will use.
    let text = s.text();
    let left = text.rfind("\x1b[?1049l").unwrap();
    assert!(text[left..].contains("aborted"), "{:?}", &text[left..]);
    eprintln!("exit {took:?} after INT and TERM with the terminal stalled");
}

/// The process's state letter from /proc/PID/stat: `T` when stopped.
fn proc_state(pid: u32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next())
        .unwrap_or('?')
}

#[test]
fn ctrl_z_suspends_with_the_terminal_restored_and_fg_redraws() {
    let mut s = start(&["--speed=20", "--seed=7", "--duration=0s"], 30, 120, &[]);
    s.wait_for("P:");
    let pid = s.child.process_id().unwrap();
    s.press(b"\x1a");
    let pressed = Instant::now();
    while proc_state(pid) != 'T' {
        assert!(pressed.elapsed() < PATIENCE, "Ctrl-Z did not stop it");
        thread::sleep(Duration::from_millis(10));
    }
    // Stopped means the program wrote its last bytes, not that the reader
    // thread has read them yet: wait for them (the program cannot write more).
    s.wait_for("\x1b[?1049l");
    let stty = format!(" {} ", s.stty().replace('\n', " "));
    assert!(
        stty.contains(" icanon ") && stty.contains(" echo "),
        "raw mode still on while suspended: {stty}"
    );
    let before = s.text().len();
    s.signal("CONT"); // what `fg` sends
    let resumed = Instant::now();
    loop {
        let text = s.text();
        let after = &text[before..];
        if after.contains("\x1b[?1049h") && after.contains("P:") {
            break;
        }
        assert!(
            resumed.elapsed() < PATIENCE,
            "no redraw after fg: {after:?}"
        );
        thread::sleep(Duration::from_millis(20));
    }
    s.press(b"q");
    thread::sleep(Duration::from_millis(100));
    s.press(b"q");
    let (status, _) = s.wait_exit();
    assert!(matches!(status.exit_code(), 0 | 130), "{status:?}");
    s.assert_restored();
}
