//! Entering and restoring the terminal. Restoring is idempotent and happens on
//! every path: the [`Guard`] is dropped on a normal end or an error, and the
//! panic hook restores before the panic message is printed, whichever thread panics.
//!
//! A terminal whose reader has stopped (a stopped tmux, a stalled ssh) takes
//! no more bytes once its queue is full, and a write to it would wait for
//! ever. So the gauge is written through the terminal's own non-blocking
//! descriptor ([`output`]), which the writer thread can be told to give up
//! on, and the bytes that give the terminal back are written last through it
//! with a bounded wait: if the queue is full, what the terminal has not read
//! yet (frames for the alternate screen being left) is dropped to make room.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crossterm::cursor::{Hide, Show};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{execute, queue};
use rustix::fs::{Mode, OFlags};
use rustix::termios::{QueueSelector, tcflush};

use crate::live::control::Shared;

/// Whether the terminal is in our hands (raw mode, alternate screen). Global
/// because the panic hook, which may run on any thread, must see it.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Restores the terminal when dropped.
#[derive(Debug)]
pub struct Guard(());

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// The terminal's own descriptor, non-blocking, once [`output`] has opened it.
static OUTPUT: OnceLock<File> = OnceLock::new();

/// How long restoring waits for the terminal to take its last bytes.
const LAST_PATIENCE: Duration = Duration::from_millis(100);
/// How often a write the terminal does not take is tried again.
pub const RETRY: Duration = Duration::from_millis(5);

/// Where the live gauge is written: stdout's terminal opened again, as a
/// descriptor of its own set non-blocking (so neither the shell's nor
/// crossterm's is changed). Where that cannot be had (no `/proc`), a
/// duplicate of stdout, which blocks like stdout.
pub fn output() -> io::Result<File> {
    if let Some(out) = OUTPUT.get() {
        return out.try_clone();
    }
    let own = rustix::fs::open(
        "/proc/self/fd/1",
        OFlags::WRONLY | OFlags::NOCTTY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    );
    match own {
        Ok(fd) => {
            let out = File::from(fd);
            let writer = out.try_clone()?;
            let _ = OUTPUT.set(out);
            Ok(writer)
        }
        Err(_) => Ok(File::from(io::stdout().as_fd().try_clone_to_owned()?)),
    }
}

/// Writes `bytes` to `out`, a terminal that may not take them at once (a
/// non-blocking descriptor), trying again every [`RETRY`] for at most
/// `patience`. With `make_room`, if the terminal takes nothing, the output it
/// has not read yet is dropped first (`tcflush`), once, and `bytes` written
/// whole after it.
pub fn write_within(
    out: &File,
    bytes: &[u8],
    patience: Duration,
    make_room: bool,
) -> io::Result<()> {
    let deadline = Instant::now() + patience;
    let mut rest = bytes;
    let mut flushed = !make_room;
    while !rest.is_empty() {
        match (&*out).write(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => rest = &rest[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if !flushed {
                    flushed = true;
                    tcflush(out, QueueSelector::OFlush)?;
                    // What was written of `bytes` went with the rest.
                    rest = bytes;
                    continue;
                }
                if Instant::now() >= deadline {
                    return Err(e);
                }
                thread::sleep(RETRY);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Shows the cursor and leaves the alternate screen.
fn leaving() -> Vec<u8> {
    let mut bytes = Vec::new();
    let _ = queue!(bytes, Show, LeaveAlternateScreen);
    bytes
}

/// Enters the alternate screen and hides the cursor.
fn entering() -> Vec<u8> {
    let mut bytes = Vec::new();
    let _ = queue!(bytes, EnterAlternateScreen, Hide);
    bytes
}

/// Raw mode (keys without Enter, no echo), the alternate screen, a hidden cursor.
pub fn enter() -> io::Result<Guard> {
    // Set first, so a failure half-way through still restores what was done.
    ACTIVE.store(true, Ordering::SeqCst);
    let guard = Guard(());
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, Hide)?;
    Ok(guard)
}

/// Set when the terminal is gone or cannot be written: restoring then only
/// leaves raw mode, quietly, and writes nothing that could block or fail.
static FORSAKEN: AtomicBool = AtomicBool::new(false);

/// The terminal hung up, or a write to it is stuck for good.
pub fn forsake() {
    FORSAKEN.store(true, Ordering::SeqCst);
}

/// Leaves raw mode, then shows the cursor and leaves the alternate screen. Does
/// nothing if the terminal is not ours. Never panics: errors go to stderr.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    if FORSAKEN.load(Ordering::SeqCst) {
        let _ = disable_raw_mode();
        return;
    }
    if let Err(e) = disable_raw_mode() {
        let _ = writeln!(io::stderr(), "burstbuf: could not leave raw mode: {e}");
    }
    // Last, after any frame: the writer has finished or given up by now.
    let left = match OUTPUT.get() {
        Some(out) => write_within(out, &leaving(), LAST_PATIENCE, true),
        None => execute!(io::stdout(), Show, LeaveAlternateScreen),
    };
    if let Err(e) = left {
        let _ = writeln!(io::stderr(), "burstbuf: could not restore the screen: {e}");
    }
}

/// On a panic in any thread: restore the terminal so the message is readable,
/// abort the run so the other threads end, then report as before.
pub fn install_panic_hook(shared: Arc<Shared>) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        shared.control.abort();
        previous(info);
    }));
}

/// Ctrl-Z: give the terminal back as it was (written to `out`, the writer's
/// own descriptor) before the process stops.
pub fn suspend(out: &mut File) {
    if ACTIVE.load(Ordering::SeqCst) {
        let _ = disable_raw_mode();
        let _ = write_within(out, &leaving(), LAST_PATIENCE, true);
    }
}

/// `fg`: take the terminal again; the caller has the next frame drawn whole.
pub fn resume(out: &mut File) {
    if ACTIVE.load(Ordering::SeqCst) {
        let _ = enable_raw_mode();
        // Nothing is dropped here: what waits is the shell's, on the main screen.
        let _ = write_within(out, &entering(), LAST_PATIENCE, false);
    }
}
