//! The `recorder` feature: a channel's traffic written down as the two files
//! `burstbuf sweep` replays, so a real service can be sized by its own load:
//!
//! ```text
//! burstbuf sweep --arrivals-from PREFIX.arrivals --service-from PREFIX.services
//! ```
//!
//! - `PREFIX.arrivals`: when each message was offered (the `send` or
//!   successful `try_send` call began), one a line, in epoch seconds with
//!   nine decimals (`1796045114.626436011`), the format `--arrivals-from`
//!   detects as `epoch`. Messages a drop policy discarded were offered too
//!   and are written; a message `try_send` handed back is not (it is written
//!   when it is offered again). A blocked caller is written at the time it
//!   arrived, not when it got in: the replay makes it wait the same way.
//! - `PREFIX.services`: each message's service time in nanoseconds (`123ns`),
//!   the format `--service-from` reads: from `recv` returning it until that
//!   receiver next asks for a message (or is dropped). In the order the
//!   messages were done.
//!
//! Cost to the ends: one store into a chunk a message (and, for receivers,
//! one more clock reading). Full chunks (4096 times, 32 KiB) go to a writer
//! thread; at most [`QUEUED`] chunks wait for it (2 MiB), and a chunk that
//! finds the queue full is lost and counted, so a slow disk costs records,
//! never a sender's time. The writer is a detached thread: a disk that stops
//! answering blocks it, not the service; [`Recorder::finish`] waits for it a
//! bounded time.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::meter::lock;

/// Times per chunk.
const CHUNK: usize = 4096;
/// Full chunks that may wait for the writer.
pub const QUEUED: usize = 64;
/// The longest service time `--service-from` accepts: a year (366 days).
const MAX_SERVICE_NS: u64 = 366 * 86_400 * 1_000_000_000;

/// Writes one channel's arrivals and service times (see the [module](self)).
/// Create it, attach it with [`Builder::record`](crate::Builder::record),
/// and call [`finish`](Recorder::finish) once the channel's ends are dropped
/// or the [`limit`](Recorder::limit) is reached.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use std::time::Duration;
/// let prefix = std::env::temp_dir().join(format!("metered-doc-{}", std::process::id()));
/// let recorder = metered::Recorder::create(&prefix)?;
/// let (tx, rx) = metered::Builder::new(16).record(&recorder).build::<u32>();
/// let worker = std::thread::spawn(move || rx.iter().count());
/// for n in 0..100 {
///     tx.send(n).unwrap();
/// }
/// drop(tx);
/// assert_eq!(worker.join().unwrap(), 100);
/// let recorded = recorder.finish(Duration::from_secs(10));
/// assert!(recorded.complete, "{recorded:?}");
/// assert_eq!((recorded.arrivals_written, recorded.services_written), (100, 100));
/// # std::fs::remove_file(&recorded.arrivals)?;
/// # std::fs::remove_file(&recorded.services)?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Recorder {
    arrivals: PathBuf,
    services: PathBuf,
    limit: u64,
    /// The way to the writer, until a channel takes it.
    link: Mutex<Option<Link>>,
    done: Receiver<Recorded>,
}

/// What was written, from [`Recorder::finish`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recorded {
    pub arrivals: PathBuf,
    pub services: PathBuf,
    /// Lines written to each file (besides its comment line).
    pub arrivals_written: u64,
    pub services_written: u64,
    /// Times given up because the writer had fallen behind.
    pub arrivals_lost: u64,
    pub services_lost: u64,
    /// Nothing lost and no error: the files are the whole traffic (up to the limit).
    pub complete: bool,
    /// Why the files could not be written, or not in time.
    pub error: Option<String>,
}

/// The writer's queue, and how many full chunks wait in it.
#[derive(Debug)]
pub(crate) struct Link {
    to_writer: Sender<Chunk>,
    queued: Arc<AtomicUsize>,
    limit: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Arrivals,
    Services,
}

#[derive(Debug)]
struct Chunk {
    stream: Stream,
    times: Vec<u64>,
    /// The stream's last chunk: how many times it taped and lost.
    last: Option<(u64, u64)>,
}

impl Recorder {
    /// Creates (or truncates) `PREFIX.arrivals` and `PREFIX.services` and
    /// starts the writer thread. An error names the file.
    pub fn create(prefix: impl AsRef<Path>) -> io::Result<Recorder> {
        let prefix = prefix.as_ref().as_os_str();
        let path = |ext: &str| {
            let mut path = prefix.to_owned();
            path.push(ext);
            PathBuf::from(path)
        };
        let (arrivals, services) = (path(".arrivals"), path(".services"));
        let open = |path: &Path| {
            File::create(path)
                .map(BufWriter::new)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
        };
        let files = Files {
            arrivals: open(&arrivals)?,
            services: open(&services)?,
            names: [arrivals.clone(), services.clone()],
        };
        let (to_writer, from_tapes) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let writer_queued = Arc::clone(&queued);
        thread::Builder::new()
            .name("metered-recorder".into())
            .spawn(move || {
                let _ = done_tx.send(files.write(&from_tapes, &writer_queued));
            })?;
        Ok(Recorder {
            arrivals,
            services,
            limit: u64::MAX,
            link: Mutex::new(Some(Link {
                to_writer,
                queued,
                limit: u64::MAX,
            })),
            done,
        })
    }

    /// Records at most `messages` arrivals and as many service times; once
    /// both are written, [`finish`](Recorder::finish) returns without the
    /// channel being dropped. Set it before attaching the recorder.
    pub fn limit(mut self, messages: u64) -> Recorder {
        self.limit = messages;
        if let Some(link) = lock(&self.link).as_mut() {
            link.limit = messages;
        }
        self
    }

    pub fn arrivals_path(&self) -> &Path {
        &self.arrivals
    }

    pub fn services_path(&self) -> &Path {
        &self.services
    }

    /// The link for the one channel this records.
    pub(crate) fn take_link(&self) -> Link {
        lock(&self.link)
            .take()
            .expect("a Recorder records one channel: this one is already attached")
    }

    /// Waits at most `patience` for the writer to finish (it does once the
    /// channel's ends are dropped, or the limit is reached) and says what
    /// was written. After `patience` the files are called incomplete.
    pub fn finish(self, patience: Duration) -> Recorded {
        // Never attached: nothing more will come.
        drop(lock(&self.link).take());
        match self.done.recv_timeout(patience) {
            Ok(recorded) => recorded,
            Err(why) => Recorded {
                arrivals: self.arrivals,
                services: self.services,
                arrivals_written: 0,
                services_written: 0,
                arrivals_lost: 0,
                services_lost: 0,
                complete: false,
                error: Some(match why {
                    RecvTimeoutError::Timeout => format!(
                        "the files were still being written after {patience:?} \
                         (is a channel end still alive?)"
                    ),
                    RecvTimeoutError::Disconnected => "the writer thread failed".to_owned(),
                }),
            },
        }
    }
}

impl Link {
    /// The channel's two tapes; `origin_epoch_ns` is the channel's origin in
    /// epoch nanoseconds, added to the arrivals' offsets.
    pub(crate) fn tapes(self, origin_epoch_ns: u64) -> (Tape, Tape) {
        let tape = |stream, offset| Tape {
            stream,
            chunk: Vec::with_capacity(CHUNK),
            to_writer: self.to_writer.clone(),
            queued: Arc::clone(&self.queued),
            offset,
            limit: self.limit,
            taped: 0,
            lost: 0,
            done: false,
        };
        (
            tape(Stream::Arrivals, origin_epoch_ns),
            tape(Stream::Services, 0),
        )
    }
}

/// Now, in nanoseconds since the Unix epoch.
pub(crate) fn epoch_ns() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
}

/// One end's stream of times, kept by whoever holds that end's lock.
#[derive(Debug)]
pub(crate) struct Tape {
    stream: Stream,
    chunk: Vec<u64>,
    to_writer: Sender<Chunk>,
    queued: Arc<AtomicUsize>,
    /// Added to each time.
    offset: u64,
    limit: u64,
    taped: u64,
    lost: u64,
    done: bool,
}

impl Tape {
    /// One more time, until the limit.
    #[inline]
    pub(crate) fn push(&mut self, value: u64) {
        if self.done {
            return;
        }
        self.chunk.push(value.saturating_add(self.offset));
        self.taped += 1;
        if self.taped == self.limit {
            self.finish();
        } else if self.chunk.len() == CHUNK {
            self.pass();
        }
    }

    /// A full chunk to the writer, if it is keeping up; else it is lost.
    fn pass(&mut self) {
        let times = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
        let len = times.len() as u64;
        if self.queued.fetch_add(1, Relaxed) >= QUEUED {
            self.queued.fetch_sub(1, Relaxed);
            self.lost += len;
            return;
        }
        let chunk = Chunk {
            stream: self.stream,
            times,
            last: None,
        };
        if self.to_writer.send(chunk).is_err() {
            self.queued.fetch_sub(1, Relaxed);
            self.lost += len;
        }
    }

    /// The last chunk, always taken (one a stream, so memory stays bounded).
    fn finish(&mut self) {
        self.done = true;
        let chunk = Chunk {
            stream: self.stream,
            times: std::mem::take(&mut self.chunk),
            last: Some((self.taped, self.lost)),
        };
        let _ = self.to_writer.send(chunk);
    }
}

impl Drop for Tape {
    fn drop(&mut self) {
        if !self.done {
            self.finish();
        }
    }
}

/// The writer thread's files.
struct Files {
    arrivals: BufWriter<File>,
    services: BufWriter<File>,
    names: [PathBuf; 2],
}

impl Files {
    /// Writes chunks as they come, until both streams have ended (or every
    /// tape is gone), then flushes and says what was written.
    fn write(mut self, from_tapes: &Receiver<Chunk>, queued: &AtomicUsize) -> Recorded {
        let mut errors: [Option<io::Error>; 2] = [None, None];
        let mut written = [0u64; 2];
        let mut lost = [0u64; 2];
        let mut ended = [false; 2];
        let headers = [
            "# metered: the time each message was offered, epoch seconds",
            "# metered: each message's service time",
        ];
        for (i, header) in headers.iter().enumerate() {
            if let Err(e) = writeln!(self.file(i), "{header}") {
                errors[i] = Some(e);
            }
        }
        let mut text = Vec::new();
        for chunk in from_tapes.iter() {
            let i = chunk.stream as usize;
            if chunk.last.is_none() {
                queued.fetch_sub(1, Relaxed);
            }
            // Formatted by hand into one buffer a chunk: `write!` a line at
            // a time costs several times as much, and this thread competes
            // with the service for the CPU.
            text.clear();
            for &value in &chunk.times {
                match chunk.stream {
                    Stream::Arrivals => epoch_line(&mut text, value),
                    Stream::Services => service_line(&mut text, value),
                }
            }
            if errors[i].is_none() {
                match self.file(i).write_all(&text) {
                    Ok(()) => written[i] += chunk.times.len() as u64,
                    Err(e) => errors[i] = Some(e),
                }
            }
            if let Some((_, stream_lost)) = chunk.last {
                lost[i] = stream_lost;
                ended[i] = true;
                if ended == [true, true] {
                    break;
                }
            }
        }
        for (i, error) in errors.iter_mut().enumerate() {
            if error.is_none()
                && let Err(e) = self.file(i).flush()
            {
                *error = Some(e);
            }
        }
        let error = (0..2).find_map(|i| {
            let e = errors[i].as_ref()?;
            Some(format!("{}: {e}", self.names[i].display()))
        });
        let [arrivals, services] = self.names;
        Recorded {
            arrivals,
            services,
            arrivals_written: written[0],
            services_written: written[1],
            arrivals_lost: lost[0],
            services_lost: lost[1],
            complete: lost == [0, 0] && error.is_none(),
            error,
        }
    }

    fn file(&mut self, i: usize) -> &mut BufWriter<File> {
        if i == 0 {
            &mut self.arrivals
        } else {
            &mut self.services
        }
    }
}

/// `n` in decimal.
fn digits(out: &mut Vec<u8>, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// `ns` (epoch nanoseconds) as seconds with nine decimals and a line end.
fn epoch_line(out: &mut Vec<u8>, ns: u64) {
    digits(out, ns / 1_000_000_000);
    out.push(b'.');
    let mut fraction = [b'0'; 9];
    let mut n = ns % 1_000_000_000;
    for d in fraction.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&fraction);
    out.push(b'\n');
}

/// A service time as `--service-from` reads it: `123ns`, at most a year.
fn service_line(out: &mut Vec<u8>, ns: u64) {
    digits(out, ns.min(MAX_SERVICE_NS));
    out.extend_from_slice(b"ns\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(f: fn(&mut Vec<u8>, u64), value: u64) -> String {
        let mut out = Vec::new();
        f(&mut out, value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn lines_are_epoch_seconds_with_nine_decimals_and_nanoseconds() {
        for (ns, text) in [
            (0, "0.000000000\n"),
            (1_796_045_114_626_436_011, "1796045114.626436011\n"),
            (1_000_000_000, "1.000000000\n"),
            (999, "0.000000999\n"),
        ] {
            assert_eq!(line(epoch_line, ns), text);
        }
        assert_eq!(line(service_line, 0), "0ns\n");
        assert_eq!(line(service_line, 1_234_567), "1234567ns\n");
        assert_eq!(
            line(service_line, u64::MAX),
            format!("{MAX_SERVICE_NS}ns\n")
        );
    }

    /// Tapes whose writer never reads: what a stuck disk looks like to them.
    fn stalled_tapes(limit: u64) -> ((Tape, Tape), Receiver<Chunk>) {
        let (to_writer, from_tapes) = mpsc::channel();
        let link = Link {
            to_writer,
            queued: Arc::new(AtomicUsize::new(0)),
            limit,
        };
        (link.tapes(0), from_tapes)
    }

    #[test]
    fn a_writer_that_falls_behind_costs_chunks_not_the_sender() {
        let ((mut tape, _services), from_tapes) = stalled_tapes(u64::MAX);
        for ns in 0..(CHUNK * (QUEUED + 3) + 5) as u64 {
            tape.push(ns);
        }
        assert_eq!(tape.lost, (3 * CHUNK) as u64);
        assert_eq!(from_tapes.try_iter().count(), QUEUED);
        drop(tape);
        // The last chunk is always taken: it holds the totals.
        let last = from_tapes.try_recv().unwrap();
        assert_eq!(last.times.len(), 5);
        assert_eq!(
            last.last,
            Some(((CHUNK * (QUEUED + 3) + 5) as u64, (3 * CHUNK) as u64))
        );
    }

    #[test]
    fn a_tape_stops_at_its_limit() {
        let ((mut tape, _services), from_tapes) = stalled_tapes(10);
        for ns in 0..100 {
            tape.push(ns);
        }
        let last = from_tapes.try_recv().unwrap();
        assert_eq!(last.times, (0..10).collect::<Vec<_>>());
        assert_eq!(last.last, Some((10, 0)));
        drop(tape);
        assert!(from_tapes.try_recv().is_err(), "one last chunk");
    }
}
