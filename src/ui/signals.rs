//! SIGINT, SIGTERM and SIGHUP as flags the illustrator polls, so a signal
//! stops the run the way a key does and the terminal is always restored.
//! (In raw mode Ctrl-C arrives as a key, not as SIGINT.)

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::flag;

#[derive(Debug)]
pub struct Signals {
    /// SIGINT or SIGTERM arrived since last asked: stop, or abort if already stopping.
    stop: Arc<AtomicBool>,
    /// SIGHUP arrived: the terminal is gone and nobody is watching, so abort.
    hangup: Arc<AtomicBool>,
}

impl Signals {
    /// Replaces the default actions (terminate the process) with flags.
    pub fn register() -> io::Result<Signals> {
        let signals = Signals::unregistered();
        flag::register(SIGINT, Arc::clone(&signals.stop))?;
        flag::register(SIGTERM, Arc::clone(&signals.stop))?;
        flag::register(SIGHUP, Arc::clone(&signals.hangup))?;
        Ok(signals)
    }

    /// Flags that no signal sets; for tests.
    pub fn unregistered() -> Signals {
        Signals {
            stop: Arc::new(AtomicBool::new(false)),
            hangup: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Takes a pending stop request. Two signals between two calls count as one.
    pub fn take_stop(&self) -> bool {
        self.stop.swap(false, Ordering::Relaxed)
    }

    pub fn hung_up(&self) -> bool {
        self.hangup.load(Ordering::Relaxed)
    }
}
