//! Entering and restoring the terminal. Restoring is idempotent and happens on
//! every path: the [`Guard`] is dropped on a normal end or an error, and the
//! panic hook restores before the panic message is printed, whichever thread panics.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

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
    if let Err(e) = execute!(io::stdout(), Show, LeaveAlternateScreen) {
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
pub fn suspend(out: &mut impl Write) {
    if ACTIVE.load(Ordering::SeqCst) {
        let _ = disable_raw_mode();
        let _ = execute!(out, Show, LeaveAlternateScreen);
    }
}

/// `fg`: take the terminal again; the caller has the next frame drawn whole.
pub fn resume(out: &mut impl Write) {
    if ACTIVE.load(Ordering::SeqCst) {
        let _ = enable_raw_mode();
        let _ = execute!(out, EnterAlternateScreen, Hide);
    }
}
