//! The writer thread: the only one that writes the picture or the log lines.
//! A terminal or pipe can block a write forever (a reader that stopped
//! reading, a stopped terminal), so the illustrator only hands over what it
//! wants shown and goes back to draining events; nothing waits behind a write.
//!
//! - Frames: only the latest is kept. The writer owns the [`Screen`], so it
//!   diffs against what it really wrote, and a skipped frame costs nothing.
//! - Log lines: up to [`MAX_LINES`] wait; past that the oldest is dropped and
//!   counted, and the count is reported at the end.
//!
//! The thread is detached: at the end `app` waits for it only while it makes
//! progress ([`Writer::finish`]), and the process may exit with it still
//! blocked in `write`. It writes to its own duplicate of the descriptor, so it
//! never holds the lock of `io::stdout()` that others need. On the live
//! terminal that descriptor is non-blocking ([`crate::ui::terminal::output`]):
//! a write the terminal does not take is tried again every few milliseconds,
//! so the writer can be told to give up ([`Writer::abandon`]) and the
//! terminal be restored after it.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use crate::ui::gauge::Line;
use crate::ui::screen::Screen;
use crate::ui::terminal::RETRY;

/// Log lines that may wait for a slow reader before the oldest is dropped.
pub const MAX_LINES: usize = 64;

/// Which standard stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Stdout,
    Stderr,
}

impl Target {
    /// A duplicate of the stream's descriptor: writing to it takes no lock
    /// shared with `io::stdout()` / `io::stderr()`.
    pub fn open(self) -> io::Result<File> {
        let fd = match self {
            Target::Stdout => io::stdout().as_fd().try_clone_to_owned()?,
            Target::Stderr => io::stderr().as_fd().try_clone_to_owned()?,
        };
        Ok(File::from(fd))
    }
}

#[derive(Debug, Default)]
struct Pending {
    /// The latest frame not yet written.
    frame: Option<Vec<Line>>,
    /// Clear the screen and draw the next frame whole (a resize, a `fg`).
    reset: bool,
    lines: VecDeque<String>,
    /// Log lines dropped because the reader did not keep up.
    dropped: u64,
    /// No more will come: the thread ends once everything is written.
    closed: bool,
    /// The first write error; nothing more is written after it.
    error: Option<io::Error>,
    failed: bool,
    /// Writes completed: `finish` waits only while this moves.
    progress: u64,
    /// Nothing is pending or being written.
    idle: bool,
    /// Suspended (Ctrl-Z): nothing is written until resumed.
    paused: bool,
    /// Told to give up: what is not written yet never will be.
    abandoned: bool,
    /// The thread has ended: it will write nothing more.
    stopped: bool,
}

impl Pending {
    fn has_work(&self) -> bool {
        self.frame.is_some() || !self.lines.is_empty()
    }
}

#[derive(Debug)]
struct Inner {
    pending: Mutex<Pending>,
    wake: Condvar,
    /// Where the writing goes; held while writing. Suspension borrows it,
    /// never for longer than [`Writer::borrow`]'s patience.
    out: Mutex<File>,
    colour: bool,
    /// Whether a write error ends the run; if not, the output is given up quietly.
    fatal: bool,
}

/// How [`Writer::finish`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// Everything was written (or the output failed and was given up).
    Done,
    /// A write made no progress for the whole patience: the reader is gone.
    Stuck,
}

/// The illustrator's side of the writer thread.
#[derive(Debug, Clone)]
pub struct Writer {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere cannot leave these plain values half-made.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Writer {
    /// Starts the thread, writing to `out`; `colour` is for frames' alert
    /// lines; `fatal`: whether [`Writer::take_error`] reports write errors.
    pub fn start(out: File, colour: bool, fatal: bool) -> io::Result<Writer> {
        let inner = Arc::new(Inner {
            pending: Mutex::new(Pending {
                idle: true,
                ..Pending::default()
            }),
            wake: Condvar::new(),
            out: Mutex::new(out),
            colour,
            fatal,
        });
        let thread_inner = Arc::clone(&inner);
        thread::Builder::new()
            .name("writer".into())
            .spawn(move || write_loop(&thread_inner))?;
        Ok(Writer { inner })
    }

    fn pending(&self) -> MutexGuard<'_, Pending> {
        lock(&self.inner.pending)
    }

    /// Replaces any frame not yet written.
    pub fn frame(&self, lines: Vec<Line>) {
        let mut p = self.pending();
        if p.failed || p.abandoned {
            return;
        }
        p.frame = Some(lines);
        p.idle = false;
        self.inner.wake.notify_all();
    }

    /// The next frame clears the screen and is drawn whole.
    pub fn reset(&self) {
        self.pending().reset = true;
    }

    /// Queues a log line (without its newline), dropping the oldest waiting
    /// one if [`MAX_LINES`] already wait.
    pub fn line(&self, line: String) {
        let mut p = self.pending();
        if p.failed || p.abandoned {
            return;
        }
        if p.lines.len() >= MAX_LINES {
            p.lines.pop_front();
            p.dropped += 1;
        }
        p.lines.push_back(line);
        p.idle = false;
        self.inner.wake.notify_all();
    }

    /// The first write error, once.
    pub fn take_error(&self) -> Option<io::Error> {
        self.pending().error.take().filter(|_| self.inner.fatal)
    }

    /// Log lines dropped so far.
    pub fn dropped(&self) -> u64 {
        self.pending().dropped
    }

    /// Runs `f` on the output if it can be had within `patience` (the writer
    /// may be stuck in a write holding it): for suspending and resuming.
    pub fn borrow(&self, patience: Duration, f: impl FnOnce(&mut File)) -> bool {
        let deadline = Instant::now() + patience;
        loop {
            if let Ok(mut out) = self.inner.out.try_lock() {
                f(&mut out);
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Ctrl-Z: stops writing frames, then gives the terminal back (waiting
    /// at most `patience` for a write in progress).
    pub fn pause(&self, patience: Duration) {
        self.pending().paused = true;
        self.borrow(patience, crate::ui::terminal::suspend);
    }

    /// `fg`: takes the terminal again and draws the next frame whole.
    pub fn resume(&self, patience: Duration) {
        self.borrow(patience, crate::ui::terminal::resume);
        let mut p = self.pending();
        p.paused = false;
        p.reset = true;
        self.inner.wake.notify_all();
    }

    /// Gives up on what is not written yet, even in the middle of a frame
    /// the terminal is not taking, and waits at most `patience` for the
    /// thread to end. True if it has: nothing more will be written, so
    /// whatever is written next comes after all of it. (False only if it is
    /// stuck in a blocking write.)
    pub fn abandon(&self, patience: Duration) -> bool {
        let mut p = self.pending();
        p.abandoned = true;
        p.frame = None;
        p.lines.clear();
        self.inner.wake.notify_all();
        let (p, _) = self
            .inner
            .wake
            .wait_timeout_while(p, patience, |p| !p.stopped)
            .unwrap_or_else(|e| e.into_inner());
        p.stopped
    }

    /// No more will come. Waits until everything is written, for as long as
    /// writes keep completing, but no longer than `patience` without one.
    pub fn finish(&self, patience: Duration) -> Finished {
        let mut p = self.pending();
        p.closed = true;
        self.inner.wake.notify_all();
        loop {
            if p.idle || p.failed {
                return Finished::Done;
            }
            let seen = p.progress;
            let (next, _) = self
                .inner
                .wake
                .wait_timeout_while(p, patience, |p| !(p.idle || p.failed) && p.progress == seen)
                .unwrap_or_else(|e| e.into_inner());
            p = next;
            if !(p.idle || p.failed) && p.progress == seen {
                return Finished::Stuck;
            }
        }
    }
}

/// What one turn of the thread writes.
enum Work {
    Frame(Vec<Line>, bool),
    Lines(Vec<String>),
}

fn write_loop(inner: &Inner) {
    write_all_work(inner);
    let mut p = lock(&inner.pending);
    p.stopped = true;
    p.idle = true;
    inner.wake.notify_all();
}

/// Writes `bytes` whole to `out`: on a non-blocking descriptor the terminal
/// may not take them at once, and then they are tried again every
/// [`RETRY`] until it does, or until the writer is abandoned (then
/// `Ok(false)`). A part taken counts as progress for [`Writer::finish`].
fn write_out(inner: &Inner, out: &mut File, bytes: &[u8]) -> io::Result<bool> {
    let mut rest = bytes;
    while !rest.is_empty() {
        match out.write(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                rest = &rest[n..];
                if !rest.is_empty() {
                    lock(&inner.pending).progress += 1;
                    inner.wake.notify_all();
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let p = lock(&inner.pending);
                if p.abandoned {
                    return Ok(false);
                }
                // Woken early by `abandon`.
                let _ = inner.wake.wait_timeout(p, RETRY);
            }
            Err(e) => return Err(e),
        }
    }
    out.flush().map(|()| true)
}

/// The thread's work until it is closed and done, fails or is abandoned.
fn write_all_work(inner: &Inner) {
    let mut screen = Screen::new(inner.colour);
    let mut bytes = Vec::with_capacity(1 << 14);
    loop {
        let work = {
            let mut p = lock(&inner.pending);
            loop {
                if p.abandoned {
                    return;
                }
                if p.has_work() && !p.paused {
                    break;
                }
                p.idle = true;
                inner.wake.notify_all();
                if p.closed {
                    return;
                }
                p = inner.wake.wait(p).unwrap_or_else(|e| e.into_inner());
            }
            match p.frame.take() {
                Some(frame) => Work::Frame(frame, std::mem::take(&mut p.reset)),
                None => Work::Lines(p.lines.drain(..).collect()),
            }
        };
        bytes.clear();
        let made = match work {
            Work::Frame(lines, reset) => (if reset {
                screen.reset(&mut bytes)
            } else {
                Ok(())
            })
            .and_then(|()| screen.draw(&lines, &mut bytes)),
            Work::Lines(lines) => {
                for line in lines {
                    bytes.extend_from_slice(line.as_bytes());
                    bytes.push(b'\n');
                }
                Ok(())
            }
        };
        let written = made.and_then(|()| write_out(inner, &mut lock(&inner.out), &bytes));
        let mut p = lock(&inner.pending);
        p.progress += 1;
        match written {
            Ok(true) => {}
            Ok(false) => return, // abandoned
            Err(e) => {
                // Give up on this output: keep nothing, so memory stays bounded.
                p.error = Some(e);
                p.failed = true;
                p.frame = None;
                p.lines.clear();
                return;
            }
        }
        inner.wake.notify_all();
    }
}

/// Writes `bytes` to `target` from a helper thread and waits at most
/// `patience` for it: `Ok(false)` if it did not finish by then (the thread is
/// left behind, blocked; the process may exit under it).
///
/// It needs no new descriptor (it may run when they are all taken): it
/// writes through `io::stdout()` or `io::stderr()`, whose locks the writer
/// thread never takes.
pub fn write_within(target: Target, bytes: Vec<u8>, patience: Duration) -> io::Result<bool> {
    fn write(mut out: impl Write, bytes: &[u8]) -> io::Result<()> {
        out.write_all(bytes).and_then(|()| out.flush())
    }
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name("final-write".into())
        .spawn(move || {
            let _ = tx.send(match target {
                Target::Stdout => write(io::stdout().lock(), &bytes),
                Target::Stderr => write(io::stderr().lock(), &bytes),
            });
        })?;
    match rx.recv_timeout(patience) {
        Ok(result) => result.map(|()| true),
        Err(_) => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::net::UnixStream;

    fn pair() -> (Writer, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        let file = File::from(std::os::fd::OwnedFd::from(a));
        (Writer::start(file, false, true).unwrap(), b)
    }

    #[test]
    fn lines_are_written_in_order_and_finish_waits_for_them() {
        let (writer, mut reader) = pair();
        for i in 0..10 {
            writer.line(format!("line {i}"));
        }
        assert_eq!(writer.finish(Duration::from_secs(60)), Finished::Done);
        drop(writer);
        let mut text = String::new();
        reader
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        // The thread has ended, so its end of the socket is closed.
        reader.read_to_string(&mut text).unwrap();
        let expected: String = (0..10).map(|i| format!("line {i}\n")).collect();
        assert_eq!(text, expected);
    }

    /// A writer whose socket is already full: its first write blocks until
    /// the reader reads, whenever the thread gets to run.
    fn full_pair() -> (Writer, UnixStream) {
        full_pair_blocking(true)
    }

    /// The same; `blocking: false` as the live terminal's own descriptor is.
    fn full_pair_blocking(blocking: bool) -> (Writer, UnixStream) {
        let (mut a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        // Big writes, then one-byte ones: the kernel refuses even a byte.
        for size in [4096, 1] {
            let chunk = vec![b'-'; size];
            loop {
                match a.write(&chunk) {
                    Ok(_) => continue,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("filling the socket: {e}"),
                }
            }
        }
        a.set_nonblocking(!blocking).unwrap();
        let file = File::from(std::os::fd::OwnedFd::from(a));
        (Writer::start(file, false, true).unwrap(), b)
    }

    #[test]
    fn a_reader_that_never_reads_costs_dropped_lines_not_memory() {
        // The socket is full before the writer starts, so no write of it can
        // complete, however late the thread is scheduled. (Relying on 20 MB
        // overflowing the socket raced: if the thread first ran after the
        // loop, it wrote the 64 kept lines into the empty socket and was done.)
        let (writer, _reader) = full_pair();
        let line = "x".repeat(1000);
        for _ in 0..20_000 {
            writer.line(line.clone());
        }
        let p = writer.pending();
        assert!(p.lines.len() <= MAX_LINES);
        assert!(p.dropped > 0);
        drop(p);
        assert_eq!(writer.finish(Duration::from_millis(200)), Finished::Stuck);
        // Stuck for the right reason: not one write completed.
        assert_eq!(writer.pending().progress, 0);
    }

    #[test]
    fn a_writer_on_a_terminal_that_takes_nothing_can_be_abandoned() {
        // Non-blocking and full, as the live terminal's descriptor is when
        // its reader has stopped: the writer tries again and again.
        let (writer, mut reader) = full_pair_blocking(false);
        let frame = vec![Line {
            text: "frame".into(),
            alert: false,
        }];
        writer.frame(frame.clone());
        assert_eq!(writer.finish(Duration::from_millis(200)), Finished::Stuck);
        // Patience for any machine: it lets go within a retry or two.
        assert!(writer.abandon(Duration::from_secs(60)));
        // It has ended: whatever the reader takes now, nothing more comes.
        reader.set_nonblocking(true).unwrap();
        let mut taken = Vec::new();
        let _ = reader.read_to_end(&mut taken);
        assert!(taken.iter().all(|&b| b == b'-'), "only the filling came");
        writer.frame(frame);
        assert_eq!(writer.finish(Duration::from_secs(60)), Finished::Done);
        let mut more = [0u8; 16];
        assert!(matches!(reader.read(&mut more), Err(e) if e.kind() == io::ErrorKind::WouldBlock));
    }

    #[test]
    fn a_closed_reader_is_an_error_once_and_then_nothing_is_kept() {
        let (writer, reader) = pair();
        drop(reader);
        writer.line("a".into());
        assert_eq!(writer.finish(Duration::from_secs(60)), Finished::Done);
        assert!(writer.take_error().is_some());
        assert!(writer.take_error().is_none());
        writer.line("b".into());
        assert!(writer.pending().lines.is_empty());
    }

    #[test]
    fn only_the_latest_frame_is_drawn() {
        let (writer, mut reader) = pair();
        let frame = |t: &str| {
            vec![Line {
                text: t.into(),
                alert: false,
            }]
        };
        writer.frame(frame("one"));
        writer.frame(frame("two"));
        assert_eq!(writer.finish(Duration::from_secs(60)), Finished::Done);
        drop(writer);
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        assert!(text.contains("two"), "{text:?}");
    }
}
