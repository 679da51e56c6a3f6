//! Signals act on their own, on dedicated threads, whatever the drawing thread
//! is doing (it may be stuck behind a reader that stopped reading):
//!
//! - SIGINT and SIGTERM are *counted*, one byte per delivery through a
//!   self-pipe, so two sent back to back are two: the first stops the producer
//!   and drains, the next aborts (a flag would merge them into one).
//! - SIGHUP (the terminal went away) aborts; the exit code is 129.
//! - SIGTSTP (Ctrl-Z; in raw mode the key is turned into it) restores the
//!   terminal and stops the process; SIGCONT (`fg`) takes the terminal back and
//!   asks for a full redraw.
//!
//! Keys (q, Esc, Ctrl-C) go through the same [`Stops`] count as signals.

use std::io::{self, Read};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread;

use signal_hook::consts::{SIGCONT, SIGHUP, SIGINT, SIGTERM, SIGTSTP};
use signal_hook::low_level;

use crate::live::control::{Control, Shared, State};

/// Stop requests (keys and signals) and the hang-up, shared by the signal
/// threads, the illustrator and `app`.
#[derive(Debug, Default)]
pub struct Stops {
    /// Stop requests so far: the first stops and drains, any later one aborts.
    requests: AtomicU32,
    /// SIGHUP arrived or the terminal answered with an I/O error: abort, exit 129.
    hangup: AtomicBool,
}

impl Stops {
    pub fn new() -> Stops {
        Stops::default()
    }

    /// q, Esc, Ctrl-C, SIGINT or SIGTERM. The first stops the producer (the
    /// consumer drains) unless the run is already past that; the next aborts.
    pub fn request(&self, control: &Control) {
        let n = self.requests.fetch_add(1, Ordering::AcqRel) + 1;
        if n == 1 && control.state() == State::Running {
            control.stop();
        } else {
            control.abort();
        }
    }

    /// The terminal is gone: nobody is watching, so quit at once.
    pub fn hang_up(&self, control: &Control) {
        self.hangup.store(true, Ordering::Release);
        control.abort();
    }

    pub fn hung_up(&self) -> bool {
        self.hangup.load(Ordering::Acquire)
    }

    /// Stop requests counted so far.
    #[cfg(test)]
    fn requests(&self) -> u32 {
        self.requests.load(Ordering::Acquire)
    }
}

/// What the signal thread does around a suspension (Ctrl-Z): give the terminal
/// back before stopping, take it again after `fg`. Plain output needs nothing.
pub trait Suspend: Send + Sync {
    fn before_stop(&self);
    fn after_continue(&self);
}

/// Registers the handlers and starts the two signal threads. The threads are
/// detached: they never end on their own, and the process may exit under them.
pub fn start(stops: Arc<Stops>, shared: Arc<Shared>, suspend: Arc<dyn Suspend>) -> io::Result<()> {
    // One byte per SIGINT or SIGTERM delivered.
    let (mut read, write) = UnixStream::pair()?;
    low_level::pipe::register(SIGINT, write.try_clone()?)?;
    low_level::pipe::register(SIGTERM, write)?;
    let mut others = signal_hook::iterator::Signals::new([SIGHUP, SIGTSTP, SIGCONT])?;
    {
        let (stops, shared) = (Arc::clone(&stops), Arc::clone(&shared));
        thread::Builder::new()
            .name("signals-stop".into())
            .spawn(move || {
                let mut bytes = [0u8; 64];
                // Each byte is one signal; a read error would only repeat.
                while let Ok(n @ 1..) = read.read(&mut bytes) {
                    for _ in 0..n {
                        stops.request(&shared.control);
                    }
                }
            })?;
    }
    thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in others.forever() {
                match signal {
                    SIGHUP => stops.hang_up(&shared.control),
                    SIGTSTP => {
                        suspend.before_stop();
                        // Stops the process here, as SIGTSTP's default action
                        // would; returns after SIGCONT.
                        let _ = low_level::emulate_default_handler(SIGTSTP);
                        suspend.after_continue();
                    }
                    // A SIGCONT without our own stop (someone else sent SIGSTOP).
                    SIGCONT => suspend.after_continue(),
                    _ => {}
                }
            }
        })?;
    Ok(())
}

/// Ctrl-Z in raw mode arrives as a key: handled as the signal it would have been.
pub fn suspend_self() {
    let _ = low_level::raise(SIGTSTP);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_request_stops_and_the_second_aborts() {
        let (stops, control) = (Stops::new(), Control::new());
        stops.request(&control);
        assert_eq!(control.state(), State::Stopping);
        stops.request(&control);
        assert_eq!(control.state(), State::Aborted);
        assert_eq!(stops.requests(), 2);
    }

    #[test]
    fn a_request_after_the_producer_stopped_aborts_at_once() {
        let (stops, control) = (Stops::new(), Control::new());
        control.stop(); // the producer's own end, seen by the illustrator
        stops.request(&control);
        assert_eq!(control.state(), State::Aborted);
    }

    #[test]
    fn a_hang_up_aborts() {
        let (stops, control) = (Stops::new(), Control::new());
        stops.hang_up(&control);
        assert!(stops.hung_up());
        assert_eq!(control.state(), State::Aborted);
    }
}
