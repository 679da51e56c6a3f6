//! `--record PREFIX`: the live run written down as a trace, so that the
//! sweep can replay it (`sweep --arrivals-from PREFIX.arrivals --service-from
//! PREFIX.services --service-order replay`): the closed loop.
//!
//! - `PREFIX.arrivals`: the time each message was offered (its first
//!   `try_send`), one a line, in epoch seconds with nine decimals — the
//!   format `--arrivals-from` detects as `epoch`, to the nanosecond. The time
//!   recorded is the model's: the producer's schedule (the ideal time, or
//!   for the built-in model after a block, when the block ended), not the
//!   moment the thread happened to wake. A replayed caller arrives at that
//!   time and, if it finds the buffer full, waits FIFO like the live one did,
//!   so the replay meets the same buffer.
//! - `PREFIX.services`: each message's service time in nanoseconds (`123ns`),
//!   in message order, which is the order `--service-order replay` uses.
//!   Service times are a pure function of the seed and the message number
//!   ([`crate::traffic::Service`]), so they are written at the end, from the
//!   produced count, and cost the consumers nothing.
//!
//! Cost to the producer: one store into a chunk a message. Full chunks
//! (4096 times, 32 KiB) go to the writer thread over a bounded channel with
//! `try_send`; a disk too slow to keep up costs chunks, never the producer's
//! pace, and memory stays at most [`QUEUED`] chunks (2 MiB). Lost chunks are
//! counted and the summary says the recording is incomplete (a trace with
//! holes would replay a different run).
//!
//! The writer is a detached thread ([`Recorder::start`]): a disk that stops
//! answering would block it in `write` forever, and the run must still end.
//! The summary waits for it a bounded time, cut short by an abort
//! ([`Writing::finish_unless`]), and then says the files are incomplete.
//!
//! Nothing is overwritten and nothing is left half-written under a name a
//! replay would read:
//! - Before anything starts ([`create`]), a file that exists at either name
//!   is refused unless `--overwrite`, and a name that is the run's own input
//!   (`--arrivals-from`, `--service-from`, by device and inode) always is.
//! - Each file is written as `NAME.incomplete` in the same directory and
//!   renamed to `NAME` only once the recording is complete. A recording
//!   that fails (a full disk), loses offered times or is still being
//!   written when the run must end keeps the `.incomplete` names, and the
//!   summary says so and where they are.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::traffic::Service;
use crate::traffic::parse::printable;

/// Offered times per chunk.
const CHUNK: usize = 4096;
/// Chunks that may wait for the writer.
pub const QUEUED: usize = 64;
/// How long the producer's last chunk may wait for room.
const LAST_PATIENCE: Duration = Duration::from_secs(2);

/// The producer's end: offered times, in model nanoseconds since the start.
#[derive(Debug)]
pub struct Tape {
    chunk: Vec<u64>,
    to_writer: SyncSender<Vec<u64>>,
    /// Times given up because the writer had fallen behind.
    lost: u64,
    taped: u64,
}

/// What the producer taped, when it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taped {
    pub messages: u64,
    pub lost: u64,
}

impl Tape {
    /// Message after message, the time each was offered.
    #[inline]
    pub fn offered(&mut self, model_ns: u64) {
        self.chunk.push(model_ns);
        self.taped += 1;
        if self.chunk.len() == CHUNK {
            let full = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
            self.pass(full, false);
        }
    }

    fn pass(&mut self, chunk: Vec<u64>, last: bool) {
        let len = chunk.len() as u64;
        // The producer is done with the last chunk: it may wait for room,
        // a bounded time (a writer stuck on a dead disk must not hold it).
        let deadline = Instant::now() + if last { LAST_PATIENCE } else { Duration::ZERO };
        let mut chunk = chunk;
        let sent = loop {
            match self.to_writer.try_send(chunk) {
                Ok(()) => break true,
                Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                    chunk = back;
                    thread::sleep(Duration::from_millis(1));
                }
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => break false,
            }
        };
        if !sent {
            self.lost += len;
        }
    }

    /// The last times to the writer; dropping the tape closes its channel.
    pub fn finish(mut self) -> Taped {
        let rest = std::mem::take(&mut self.chunk);
        if !rest.is_empty() {
            self.pass(rest, true);
        }
        Taped {
            messages: self.taped,
            lost: self.lost,
        }
    }
}

/// The files written, for the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recorded {
    /// Where each file is now: `PREFIX.arrivals` if complete, else `PREFIX.arrivals.incomplete`.
    pub arrivals: String,
    pub services: String,
    /// Lines written to each file.
    pub messages: u64,
    /// Offered times the writer could not take in time (then `complete` is false).
    pub lost: u64,
    /// Both files are whole and under their own names.
    pub complete: bool,
    /// Why a file could not be written or renamed, if it could not.
    pub error: Option<String>,
}

/// How often [`Writing::finish_unless`] asks whether to wait on.
const FINISH_POLL: Duration = Duration::from_millis(20);

/// The suffix a file carries while it is written, and keeps if it never becomes whole.
pub const INCOMPLETE: &str = ".incomplete";

/// One of the two files: its name, and the name it is written under until complete.
#[derive(Debug, Clone)]
struct Destination {
    path: String,
    partial: String,
}

impl Destination {
    fn new(path: String) -> Destination {
        let partial = format!("{path}{INCOMPLETE}");
        Destination { path, partial }
    }

    /// Both names: the one it is written under, and the one it is kept under.
    fn names(&self) -> [&String; 2] {
        [&self.partial, &self.path]
    }

    /// Opens the partial name for writing: a new file, unless `overwrite`.
    fn open(&self, overwrite: bool) -> Result<BufWriter<File>, CreateError> {
        let mut options = OpenOptions::new();
        options.write(true);
        if overwrite {
            options.create(true).truncate(true);
        } else {
            // Not there a moment ago; if it appeared since, it is not ours to replace.
            options.create_new(true);
        }
        options
            .open(&self.partial)
            .map(BufWriter::new)
            .map_err(|source| CreateError::Open {
                path: self.partial.clone(),
                source,
            })
    }

    /// The file is whole: from its partial name to its own. Without
    /// `overwrite`, a file that appeared there during the run is not
    /// replaced: a hard link fails where a rename would replace.
    fn publish(&self, overwrite: bool) -> io::Result<()> {
        if overwrite {
            return fs::rename(&self.partial, &self.path);
        }
        match fs::hard_link(&self.partial, &self.path) {
            Ok(()) => fs::remove_file(&self.partial),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(io::Error::new(
                e.kind(),
                "a file of that name appeared during the run; add --overwrite to replace it",
            )),
            // A file system without hard links: the check before the run has to do.
            Err(_) if fs::symlink_metadata(&self.path).is_err() => {
                fs::rename(&self.partial, &self.path)
            }
            Err(e) => Err(e),
        }
    }
}

/// Whether `path` is the file `input` names (`-`: standard input), by
/// device and inode, so that another name for it (a link, `./x`) is caught.
fn same_file(path: &str, input: &str) -> bool {
    let Ok(output) = fs::metadata(path) else {
        return false; // not there, so not the input
    };
    let input = if input == "-" {
        io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map(File::from)
            .and_then(|stdin| stdin.metadata())
    } else {
        fs::metadata(input)
    };
    input.is_ok_and(|input| input.dev() == output.dev() && input.ino() == output.ino())
}

/// The writer's end: the two files, opened before the run starts.
#[derive(Debug)]
pub struct Recorder {
    arrivals_to: Destination,
    services_to: Destination,
    overwrite: bool,
    arrivals: BufWriter<File>,
    services: BufWriter<File>,
    from_tape: Receiver<Vec<u64>>,
    /// Epoch nanoseconds of model time 0.
    epoch_ns: u128,
}

/// Why `--record`'s files cannot be made: one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error(
        "--record: {} is this run's own input ({}); choose another PREFIX",
        printable(.path),
        printable(.input)
    )]
    OwnInput { path: String, input: String },
    #[error(
        "--record: {} exists; add --overwrite to replace it, or choose another PREFIX",
        printable(.path)
    )]
    Exists { path: String },
    #[error("--record: {}: {source}", printable(.path))]
    Open { path: String, source: io::Error },
}

/// Checks `PREFIX.arrivals` and `PREFIX.services` against what exists and
/// against the run's `inputs`, and opens them (under their partial names)
/// for writing.
pub fn create(
    prefix: &str,
    overwrite: bool,
    inputs: &[&str],
) -> Result<(Tape, Recorder), CreateError> {
    let arrivals_to = Destination::new(format!("{prefix}.arrivals"));
    let services_to = Destination::new(format!("{prefix}.services"));
    let names = || arrivals_to.names().into_iter().chain(services_to.names());
    // The run's own input first: refused whatever --overwrite says.
    for path in names() {
        if let Some(input) = inputs.iter().find(|input| same_file(path, input)) {
            return Err(CreateError::OwnInput {
                path: path.clone(),
                input: (*input).to_owned(),
            });
        }
    }
    if !overwrite && let Some(path) = names().find(|path| fs::symlink_metadata(path).is_ok()) {
        return Err(CreateError::Exists { path: path.clone() });
    }
    let arrivals = arrivals_to.open(overwrite)?;
    let services = services_to.open(overwrite).inspect_err(|_| {
        // Ours, just made, and empty: nothing to leave behind.
        let _ = fs::remove_file(&arrivals_to.partial);
    })?;
    let (to_writer, from_tape) = mpsc::sync_channel(QUEUED);
    let epoch_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_nanos();
    Ok((
        Tape {
            chunk: Vec::with_capacity(CHUNK),
            to_writer,
            lost: 0,
            taped: 0,
        },
        Recorder {
            arrivals_to,
            services_to,
            overwrite,
            arrivals,
            services,
            from_tape,
            epoch_ns,
        },
    ))
}

/// A recorder at work on its own thread.
#[derive(Debug)]
pub struct Writing {
    arrivals_to: Destination,
    services_to: Destination,
    overwrite: bool,
    taped: Sender<Taped>,
    done: Receiver<Recorded>,
}

impl Writing {
    /// Tells the writer what was taped (it then writes the service times),
    /// waits at most `patience` for it to finish, and gives each file its
    /// own name if the recording is complete. (The run uses
    /// [`Writing::finish_unless`], which an abort also ends.)
    #[cfg(test)]
    pub fn finish(self, taped: Taped, patience: Duration) -> Recorded {
        let deadline = Instant::now() + patience;
        self.finish_unless(taped, || {
            (Instant::now() >= deadline)
                .then(|| format!("the files were still being written after {patience:?}"))
        })
    }

    /// `Writing::finish`, waiting until `give_up` (asked every
    /// [`FINISH_POLL`]) says why it may wait no longer: then the files keep
    /// their partial names and that is the recording's error. So the caller
    /// can cut the wait short (a second stop request) as well as bound it.
    pub fn finish_unless(
        self,
        taped: Taped,
        mut give_up: impl FnMut() -> Option<String>,
    ) -> Recorded {
        let _ = self.taped.send(taped);
        let done = loop {
            match self.done.recv_timeout(FINISH_POLL) {
                Ok(recorded) => break Ok(recorded),
                Err(RecvTimeoutError::Disconnected) => {
                    break Err("the writer thread failed".to_owned());
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(why) = give_up() {
                        break Err(why);
                    }
                }
            }
        };
        let mut recorded = match done {
            Ok(recorded) => recorded,
            // The writer may go on writing until the process exits: the
            // files keep their partial names, renamed by nobody.
            Err(why) => Recorded {
                arrivals: self.arrivals_to.partial.clone(),
                services: self.services_to.partial.clone(),
                messages: taped.messages,
                lost: taped.lost,
                complete: false,
                error: Some(why),
            },
        };
        if recorded.complete {
            for (to, now) in [
                (&self.arrivals_to, &mut recorded.arrivals),
                (&self.services_to, &mut recorded.services),
            ] {
                match to.publish(self.overwrite) {
                    Ok(()) => now.clone_from(&to.path),
                    Err(e) => {
                        recorded.complete = false;
                        recorded.error.get_or_insert(format!(
                            "{}: cannot rename it to {}: {e}",
                            printable(&to.partial),
                            printable(&to.path)
                        ));
                    }
                }
            }
        }
        recorded
    }
}

impl Recorder {
    /// Starts the writer on a detached thread: the arrivals as they come,
    /// then, once told what was taped, the service times of `service`.
    pub fn start(mut self, service: Service) -> io::Result<Writing> {
        let (taped_tx, taped_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel();
        let (arrivals_to, services_to) = (self.arrivals_to.clone(), self.services_to.clone());
        let overwrite = self.overwrite;
        thread::Builder::new()
            .name("recorder".into())
            .spawn(move || {
                let written = self.write_arrivals();
                // No tape count: the producer never finished (a panic).
                let taped = taped_rx.recv().unwrap_or(Taped {
                    messages: 0,
                    lost: 0,
                });
                let _ = done_tx.send(self.finish(written, taped, &service));
            })?;
        Ok(Writing {
            arrivals_to,
            services_to,
            overwrite,
            taped: taped_tx,
            done: done_rx,
        })
    }

    /// Writes the offered times as they come, until the tape is finished.
    /// On the writer thread ([`Recorder::start`]).
    fn write_arrivals(&mut self) -> io::Result<()> {
        writeln!(
            self.arrivals,
            "# burstbuf --record: the time each message was offered, epoch seconds"
        )?;
        let mut result = Ok(());
        // Drained to the end even after an error, so the producer's last
        // blocking send never waits for a writer that gave up.
        for chunk in self.from_tape.iter() {
            if result.is_err() {
                continue;
            }
            // Formatted by hand into one buffer a chunk: `write!` a line at
            // a time costs several times as much, and flat out this thread
            // competes with the producer and consumer for the CPU.
            let mut text = Vec::with_capacity(chunk.len() * 21);
            for &ns in &chunk {
                let at = self.epoch_ns + u128::from(ns);
                epoch_line(&mut text, at);
            }
            if let Err(e) = self.arrivals.write_all(&text) {
                result = Err(e);
            }
        }
        result.and_then(|()| self.arrivals.flush())
    }

    /// Writes the service times of messages `0..taped.messages` and says what was written.
    fn finish(mut self, arrivals: io::Result<()>, taped: Taped, service: &Service) -> Recorded {
        let services = (|| {
            writeln!(
                self.services,
                "# burstbuf --record: each message's service time, in message order"
            )?;
            for seq in 0..taped.messages {
                writeln!(self.services, "{}ns", service.ns(seq))?;
            }
            self.services.flush()
        })();
        let error = match (arrivals, services) {
            (Err(e), _) => Some(format!("{}: {e}", printable(&self.arrivals_to.partial))),
            (_, Err(e)) => Some(format!("{}: {e}", printable(&self.services_to.partial))),
            _ => None,
        };
        // Where they are; `Writing::finish_unless` renames them if complete.
        Recorded {
            complete: taped.lost == 0 && error.is_none(),
            arrivals: self.arrivals_to.partial,
            services: self.services_to.partial,
            messages: taped.messages,
            lost: taped.lost,
            error,
        }
    }
}

/// `at` (epoch nanoseconds) as seconds with nine decimals and a line end.
fn epoch_line(out: &mut Vec<u8>, at: u128) {
    let (secs, nanos) = (at / 1_000_000_000, (at % 1_000_000_000) as u32);
    let mut digits = [0u8; 40];
    let mut i = digits.len();
    let mut n = secs;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
    out.push(b'.');
    let mut fraction = [b'0'; 9];
    let mut n = nanos;
    for d in fraction.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&fraction);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    #[test]
    fn epoch_lines_are_seconds_with_nine_decimals() {
        for (at, line) in [
            (0u128, "0.000000000\n"),
            (1_796_045_114_626_436_011, "1796045114.626436011\n"),
            (1_000_000_000, "1.000000000\n"),
            (999, "0.000000999\n"),
        ] {
            let mut out = Vec::new();
            super::epoch_line(&mut out, at);
            assert_eq!(String::from_utf8(out).unwrap(), line);
        }
    }

    use super::*;
    use crate::model::Model;
    use crate::traffic::{EmpiricalService, Trace};
    use std::path::Path;

    /// A prefix in a temporary directory of its own (`tempfile`); its files,
    /// whole or partial, go with the directory when dropped.
    struct Prefix {
        prefix: String,
        _dir: tempfile::TempDir,
    }

    impl Prefix {
        fn new(name: &str) -> Prefix {
            let dir = tempfile::Builder::new()
                .prefix("burstbuf-record-")
                .tempdir()
                .unwrap();
            let path = dir.path().join(name);
            Prefix {
                prefix: path.to_str().unwrap().to_owned(),
                _dir: dir,
            }
        }

        fn file(&self, suffix: &str) -> String {
            format!("{}{suffix}", self.prefix)
        }
    }

    fn exists(path: &str) -> bool {
        fs::symlink_metadata(path).is_ok()
    }

    /// A recording of the original model's service times, started under `prefix`.
    fn started(prefix: &Prefix, overwrite: bool) -> (Tape, Writing) {
        let (tape, recorder) = create(&prefix.prefix, overwrite, &[]).unwrap();
        let service = Service::model(&Model::original(), 7);
        (tape, recorder.start(service).unwrap())
    }

    /// Why a recording that must have failed did.
    fn failure(recorded: &Recorded) -> &str {
        assert!(!recorded.complete, "{recorded:?}");
        recorded.error.as_deref().expect("an error")
    }

    /// Tapes `messages` offered times and finishes, with patience for any machine.
    fn record(tape: Tape, writing: Writing, messages: u64) -> Recorded {
        let mut tape = tape;
        for ns in 0..messages {
            tape.offered(ns * 1000);
        }
        writing.finish(tape.finish(), Duration::from_secs(60))
    }

    #[test]
    fn a_recording_reads_back_as_the_same_trace_and_services() {
        let prefix = Prefix::new("record-unit");
        let (mut tape, recorder) = create(&prefix.prefix, false, &[]).unwrap();
        let service = Service::model(&Model::original(), 7);
        let writing = recorder.start(service.clone()).unwrap();
        // More than a chunk, with ties (a burst) and gaps.
        let offered: Vec<u64> = (0..10_000u64).map(|i| i / 3 * 1_234_567).collect();
        for &ns in &offered {
            tape.offered(ns);
        }
        // Written under the partial name meanwhile.
        assert!(exists(&prefix.file(".arrivals.incomplete")));
        assert!(!exists(&prefix.file(".arrivals")));
        let taped = tape.finish();
        assert_eq!(
            taped,
            Taped {
                messages: 10_000,
                lost: 0
            }
        );
        // Patience enough for any machine: only a hang would use it up.
        let recorded = writing.finish(taped, Duration::from_secs(60));
        assert!(
            recorded.complete && recorded.error.is_none(),
            "{recorded:?}"
        );
        // Complete: under its own names, and nothing else left.
        assert_eq!(recorded.arrivals, prefix.file(".arrivals"));
        assert_eq!(recorded.services, prefix.file(".services"));
        assert!(!exists(&prefix.file(".arrivals.incomplete")));
        assert!(!exists(&prefix.file(".services.incomplete")));

        let trace = Trace::read(&recorded.arrivals, None).unwrap();
        assert_eq!(&trace.offsets[..], &offered[..]);
        let services = EmpiricalService::read(&recorded.services).unwrap();
        let expected: Vec<u64> = (0..10_000).map(|seq| service.ns(seq)).collect();
        assert_eq!(&services.times[..], &expected[..]);
    }

    #[test]
    fn a_writer_that_does_not_finish_is_given_up_and_the_files_called_incomplete() {
        let prefix = Prefix::new("record-stuck");
        let (mut tape, writing) = started(&prefix, false);
        tape.offered(0);
        // The tape is still open, so the writer is still waiting for times.
        let taped = Taped {
            messages: 1,
            lost: 0,
        };
        let recorded = writing.finish(taped, Duration::from_millis(20));
        assert!(
            failure(&recorded).contains("still being written"),
            "{recorded:?}"
        );
        // Left under the names that say so; nothing under the real ones.
        assert_eq!(recorded.arrivals, prefix.file(".arrivals.incomplete"));
        assert_eq!(recorded.services, prefix.file(".services.incomplete"));
        assert!(!exists(&prefix.file(".arrivals")));
        drop(tape);
    }

    #[test]
    fn a_writer_that_falls_behind_costs_chunks_not_the_producer() {
        let prefix = Prefix::new("record-lost");
        let (mut tape, recorder) = create(&prefix.prefix, false, &[]).unwrap();
        // Nobody writes: the queue fills and the rest is counted as lost.
        for ns in 0..(CHUNK * (QUEUED + 3)) as u64 {
            tape.offered(ns);
        }
        assert_eq!(tape.lost, (3 * CHUNK) as u64);
        drop(recorder);
        let taped = tape.finish();
        assert_eq!(taped.messages, (CHUNK * (QUEUED + 3)) as u64);
    }

    #[test]
    fn lost_times_keep_the_partial_names() {
        let prefix = Prefix::new("record-holes");
        let (tape, writing) = started(&prefix, false);
        let mut tape = tape;
        tape.offered(0);
        tape.lost = 5; // as if the writer had fallen behind
        let recorded = writing.finish(tape.finish(), Duration::from_secs(60));
        assert!(
            !recorded.complete && recorded.error.is_none(),
            "{recorded:?}"
        );
        assert_eq!(recorded.arrivals, prefix.file(".arrivals.incomplete"));
        assert!(!exists(&prefix.file(".arrivals")) && !exists(&prefix.file(".services")));
    }

    #[test]
    fn a_full_disk_leaves_the_files_under_names_that_say_so() {
        let Ok(full) = File::options().write(true).open("/dev/full") else {
            return; // no /dev/full here: the end-to-end test covers a write that fails
        };
        let prefix = Prefix::new("record-full");
        let (tape, mut recorder) = create(&prefix.prefix, false, &[]).unwrap();
        // Every write to the arrivals fails as on a full disk.
        recorder.arrivals = BufWriter::new(full);
        let writing = recorder
            .start(Service::model(&Model::original(), 7))
            .unwrap();
        let recorded = record(tape, writing, 10_000);
        let error = failure(&recorded);
        assert!(
            error.starts_with(&prefix.file(".arrivals.incomplete: ")),
            "{error}"
        );
        assert_eq!(recorded.arrivals, prefix.file(".arrivals.incomplete"));
        assert_eq!(recorded.services, prefix.file(".services.incomplete"));
        assert!(!exists(&prefix.file(".arrivals")) && !exists(&prefix.file(".services")));
    }

    #[test]
    fn existing_files_are_kept_unless_overwrite_and_the_input_always() {
        let prefix = Prefix::new("record-exists");
        let theirs = prefix.file(".services");
        fs::write(&theirs, "12ms\n").unwrap();
        let refused = create(&prefix.prefix, false, &[]).unwrap_err().to_string();
        assert_eq!(
            refused,
            format!(
                "--record: {theirs} exists; add --overwrite to replace it, or choose another PREFIX"
            )
        );
        // Nothing was made on the way.
        assert!(!exists(&prefix.file(".arrivals.incomplete")));
        assert_eq!(fs::read_to_string(&theirs).unwrap(), "12ms\n");
        // A partial file left by a run that was killed: the same.
        fs::remove_file(&theirs).unwrap();
        fs::write(prefix.file(".arrivals.incomplete"), "1\n").unwrap();
        assert!(
            create(&prefix.prefix, false, &[])
                .unwrap_err()
                .to_string()
                .contains(".arrivals.incomplete exists")
        );
        // --overwrite replaces them, once the recording is whole.
        fs::write(&theirs, "12ms\n").unwrap();
        let (tape, writing) = started(&prefix, true);
        assert_eq!(
            fs::read_to_string(&theirs).unwrap(),
            "12ms\n",
            "untouched until the end"
        );
        let recorded = record(tape, writing, 3);
        assert!(recorded.complete, "{recorded:?}");
        assert_eq!(EmpiricalService::read(&theirs).unwrap().times.len(), 3);

        // The run's own input, by any name, is refused even with --overwrite.
        let input = prefix.file(".arrivals");
        let input_path = Path::new(&input);
        let other_name = format!(
            "{}/./{}",
            input_path.parent().unwrap().display(),
            input_path.file_name().unwrap().to_str().unwrap()
        );
        for overwrite in [false, true] {
            let refused = create(&prefix.prefix, overwrite, &[&other_name])
                .unwrap_err()
                .to_string();
            assert_eq!(
                refused,
                format!(
                    "--record: {input} is this run's own input ({other_name}); choose another PREFIX"
                )
            );
        }
        let before = fs::read(&input).unwrap();
        assert!(create(&prefix.prefix, true, &["/nonexistent", &other_name]).is_err());
        assert_eq!(fs::read(&input).unwrap(), before, "the input is untouched");
    }

    #[test]
    fn a_file_that_appears_during_the_run_is_not_replaced() {
        let prefix = Prefix::new("record-race");
        let (tape, writing) = started(&prefix, false);
        // Someone else writes the same name meanwhile.
        fs::write(prefix.file(".arrivals"), "theirs\n").unwrap();
        let recorded = record(tape, writing, 3);
        assert!(
            failure(&recorded).contains("appeared during the run"),
            "{recorded:?}"
        );
        assert_eq!(
            fs::read_to_string(prefix.file(".arrivals")).unwrap(),
            "theirs\n"
        );
        assert_eq!(recorded.arrivals, prefix.file(".arrivals.incomplete"));
    }
}
