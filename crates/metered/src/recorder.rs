//! The `recorder` feature: a channel's traffic written down as the two files
//! `burstbuf sweep` replays, so a real service can be sized by its own load:
//!
//! ```text
//! burstbuf sweep --arrivals-from PREFIX.arrivals --service-from PREFIX.services
//! ```
//!
//! - `PREFIX.arrivals`: when each message was offered (the `send` or
//!   successful `try_send` call began, or the `since` of
//!   [`send_since`](crate::SyncSender::send_since)), one a line, in epoch
//!   seconds with nine decimals (`1796045114.626436011`), the format
//!   `--arrivals-from` detects as `epoch`. Messages a drop policy discarded
//!   were offered too and are written; a message `try_send` handed back is
//!   not (it is written when it is offered again). A blocked caller is
//!   written at the time it arrived, not when it got in: the replay makes it
//!   wait the same way.
//! - `PREFIX.services`: each message's service time in nanoseconds (`123ns`),
//!   the format `--service-from` reads: from `recv` returning it until that
//!   receiver next asks for a message (or is dropped). In the order the
//!   messages were done.
//!
//! A program that knows these times better than the channel can (a
//! simulation's own clock, say) records them itself on the recorder's
//! [`tapes`](Recorder::tapes) instead of attaching it to a channel.
//!
//! Nothing is overwritten and nothing is left half-written under a name a
//! replay would read:
//! - [`Recorder::create`] refuses a file that exists at either name, unless
//!   [`RecordOptions::overwrite`], and always refuses a name that is one of
//!   the program's own inputs ([`RecordOptions::input`], by device and inode,
//!   so another name for it is caught too).
//! - Each file is written as `NAME.incomplete` and renamed to `NAME` by
//!   [`Recorder::finish`] only once the recording is complete. One that
//!   fails (a full disk), loses times or is still being written when the
//!   wait ends keeps the `.incomplete` name, and [`Recorded`] says so.
//!
//! Cost to the ends: one store into a chunk a message (and, for receivers,
//! one more clock reading). Full chunks (4096 times, 32 KiB) go to a writer
//! thread; at most [`QUEUED`] chunks wait for it (2 MiB), and a chunk that
//! finds the queue full is lost and counted, so a slow disk costs records,
//! never a sender's time. The writer is a detached thread: a disk that stops
//! answering blocks it, not the service; [`Recorder::finish`] waits for it a
//! bounded time.

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::meter::lock;

/// Times per chunk.
const CHUNK: usize = 4096;
/// Full chunks that may wait for the writer.
pub const QUEUED: usize = 64;
/// The longest service time `--service-from` accepts: a year (366 days).
const MAX_SERVICE_NS: u64 = 366 * 86_400 * 1_000_000_000;
/// The suffix a file carries while it is written, and keeps if it never becomes whole.
pub const INCOMPLETE: &str = ".incomplete";
/// How often a wait for the writer asks whether to go on.
const POLL: Duration = Duration::from_millis(20);

/// Writes one channel's arrivals and service times (see the [module](self)).
/// Create it, attach it with [`Builder::record`](crate::Builder::record) (or
/// take its [`tapes`](Recorder::tapes)), and call
/// [`finish`](Recorder::finish) once the channel's ends are dropped or the
/// [`limit`](Recorder::limit) is reached.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
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
/// // Complete: under the names a replay reads.
/// assert_eq!(recorded.arrivals, prefix.with_extension("arrivals"));
/// # std::fs::remove_file(&recorded.arrivals)?;
/// # std::fs::remove_file(&recorded.services)?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Recorder {
    arrivals: Destination,
    services: Destination,
    overwrite: bool,
    limit: u64,
    /// The way to the writer, until a channel (or a caller) takes it.
    link: Mutex<Option<Link>>,
    done: Receiver<Recorded>,
}

/// How [`Recorder::create`] may create the files: `RecordOptions::new()
/// .overwrite(true).input(&trace).create(prefix)`.
#[derive(Debug, Clone)]
#[must_use = "create() makes the recorder"]
pub struct RecordOptions {
    overwrite: bool,
    inputs: Vec<PathBuf>,
    by: String,
}

impl Default for RecordOptions {
    fn default() -> RecordOptions {
        RecordOptions::new()
    }
}

impl RecordOptions {
    /// Refuse existing files, protect no input, sign the files `metered`.
    pub fn new() -> RecordOptions {
        RecordOptions {
            overwrite: false,
            inputs: Vec::new(),
            by: "metered".to_owned(),
        }
    }

    /// Whether files that exist at the names may be replaced (once the
    /// recording is complete; until then they are left as they are).
    pub fn overwrite(mut self, overwrite: bool) -> RecordOptions {
        self.overwrite = overwrite;
        self
    }

    /// A file the recording must never replace, whatever
    /// [`overwrite`](RecordOptions::overwrite) says: one the program reads
    /// (a trace it replays), by any name (`/dev/stdin` for standard input).
    pub fn input(mut self, path: impl Into<PathBuf>) -> RecordOptions {
        self.inputs.push(path.into());
        self
    }

    /// Who writes the files, on their first (comment) line.
    pub fn by(mut self, by: impl Into<String>) -> RecordOptions {
        self.by = by.into();
        self
    }

    /// Checks `PREFIX.arrivals` and `PREFIX.services` (and their
    /// `.incomplete` names) against the inputs and what exists, opens them
    /// under their `.incomplete` names and starts the writer thread.
    pub fn create(self, prefix: impl AsRef<Path>) -> Result<Recorder, CreateError> {
        let prefix = prefix.as_ref().as_os_str();
        let name = |ext: &str| {
            let mut path = prefix.to_owned();
            path.push(ext);
            Destination::new(path)
        };
        let (arrivals, services) = (name(".arrivals"), name(".services"));
        let names = || arrivals.names().into_iter().chain(services.names());
        // The program's own input first: refused whatever `overwrite` says.
        for path in names() {
            if let Some(input) = self.inputs.iter().find(|input| same_file(path, input)) {
                return Err(CreateError::Input {
                    path: path.to_owned(),
                    input: input.clone(),
                });
            }
        }
        if !self.overwrite
            && let Some(path) = names().find(|path| fs::symlink_metadata(path).is_ok())
        {
            return Err(CreateError::Exists {
                path: path.to_owned(),
            });
        }
        let arrivals_file = arrivals.open(self.overwrite)?;
        let services_file = services.open(self.overwrite).inspect_err(|_| {
            // Ours, just made, and empty: nothing to leave behind.
            let _ = fs::remove_file(&arrivals.partial);
        })?;
        let files = Files {
            arrivals: arrivals_file,
            services: services_file,
            names: [arrivals.partial.clone(), services.partial.clone()],
            by: self.by,
        };
        let (to_writer, from_tapes) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let writer_queued = Arc::clone(&queued);
        thread::Builder::new()
            .name("metered-recorder".into())
            .spawn(move || {
                let _ = done_tx.send(files.write(&from_tapes, &writer_queued));
            })
            .map_err(|error| CreateError::Io {
                path: arrivals.partial.clone(),
                error,
            })?;
        Ok(Recorder {
            arrivals,
            services,
            overwrite: self.overwrite,
            limit: u64::MAX,
            link: Mutex::new(Some(Link {
                to_writer,
                queued,
                limit: u64::MAX,
            })),
            done,
        })
    }
}

/// Why [`Recorder::create`] made no recorder. Nothing was written.
#[derive(Debug)]
#[non_exhaustive]
pub enum CreateError {
    /// `path` is the program's input `input` (by another name, perhaps).
    Input { path: PathBuf, input: PathBuf },
    /// `path` exists, and overwriting was not asked for.
    Exists { path: PathBuf },
    /// `path` could not be opened for writing.
    Io { path: PathBuf, error: io::Error },
}

impl fmt::Display for CreateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CreateError::Input { path, input } => write!(
                f,
                "{} is the program's own input ({})",
                path.display(),
                input.display()
            ),
            CreateError::Exists { path } => write!(f, "{} exists", path.display()),
            CreateError::Io { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for CreateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CreateError::Io { error, .. } => Some(error),
            CreateError::Input { .. } | CreateError::Exists { .. } => None,
        }
    }
}

/// What was written, from [`Recorder::finish`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recorded {
    /// Where each file is now: `PREFIX.arrivals` if the recording is
    /// complete, else `PREFIX.arrivals.incomplete`.
    pub arrivals: PathBuf,
    pub services: PathBuf,
    /// Lines written to each file (besides its comment line).
    pub arrivals_written: u64,
    pub services_written: u64,
    /// Times given up because the writer had fallen behind.
    pub arrivals_lost: u64,
    pub services_lost: u64,
    /// Nothing lost and no error: the files are the whole traffic (up to the
    /// limit), under their own names.
    pub complete: bool,
    /// Why the files could not be written or renamed, or not in time.
    pub error: Option<String>,
}

/// One of the two files: its name, and the name it is written under until complete.
#[derive(Debug, Clone)]
struct Destination {
    path: PathBuf,
    partial: PathBuf,
}

impl Destination {
    fn new(path: OsString) -> Destination {
        let mut partial = path.clone();
        partial.push(INCOMPLETE);
        Destination {
            path: path.into(),
            partial: partial.into(),
        }
    }

    /// Both names: the one it is written under, and the one it is kept under.
    fn names(&self) -> [&Path; 2] {
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
            .map_err(|error| CreateError::Io {
                path: self.partial.clone(),
                error,
            })
    }

    /// The file is whole: from its partial name to its own. Without
    /// `overwrite`, a file that appeared there meanwhile is not replaced: a
    /// hard link fails where a rename would replace.
    fn publish(&self, overwrite: bool) -> io::Result<()> {
        if overwrite {
            return fs::rename(&self.partial, &self.path);
        }
        match fs::hard_link(&self.partial, &self.path) {
            Ok(()) => fs::remove_file(&self.partial),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(io::Error::new(
                e.kind(),
                "a file of that name appeared while it was recorded, and overwriting \
                 was not asked for",
            )),
            // A file system without hard links: the check at the start has to do.
            Err(_) if fs::symlink_metadata(&self.path).is_err() => {
                fs::rename(&self.partial, &self.path)
            }
            Err(e) => Err(e),
        }
    }
}

/// Whether `path` is the file `input` names: by device and inode where there
/// are such, so that another name for it (a link, `./x`) is caught.
fn same_file(path: &Path, input: &Path) -> bool {
    let (Ok(output), Ok(input)) = (fs::metadata(path), fs::metadata(input)) else {
        return false; // not there, so not the input
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        input.dev() == output.dev() && input.ino() == output.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (output, input);
        fs::canonicalize(path).ok() == fs::canonicalize(input).ok()
    }
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
    /// Creates `PREFIX.arrivals` and `PREFIX.services` (written as
    /// `.incomplete` until [`finish`](Recorder::finish)) and starts the
    /// writer thread; refuses files that exist. See [`RecordOptions`].
    pub fn create(prefix: impl AsRef<Path>) -> Result<Recorder, CreateError> {
        RecordOptions::new().create(prefix)
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

    /// Where the arrivals go once complete (`PREFIX.arrivals`).
    pub fn arrivals_path(&self) -> &Path {
        &self.arrivals.path
    }

    /// Where the service times go once complete (`PREFIX.services`).
    pub fn services_path(&self) -> &Path {
        &self.services.path
    }

    /// The link for the one channel this records.
    pub(crate) fn take_link(&self) -> Link {
        lock(&self.link)
            .take()
            .expect("a Recorder records one channel: this one is already attached")
    }

    /// The arrivals and service-time tapes, for a program that records the
    /// times itself instead of attaching the recorder to a channel (it then
    /// records nothing else). Arrivals are pushed as nanoseconds after
    /// `origin`, service times in nanoseconds. The recording ends when both
    /// tapes are dropped. Panics if the recorder is already attached.
    pub fn tapes(&self, origin: SystemTime) -> (Tape, Tape) {
        let origin = origin
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        self.take_link().tapes(origin)
    }

    /// Waits at most `patience` for the writer to finish (it does once the
    /// channel's ends, or the tapes, are dropped, or the limit is reached),
    /// gives the files their own names if the recording is complete, and
    /// says what was written. After `patience` the files are called
    /// incomplete and keep their `.incomplete` names.
    pub fn finish(self, patience: Duration) -> Recorded {
        let deadline = Instant::now() + patience;
        self.finish_unless(|| {
            (Instant::now() >= deadline).then(|| {
                format!(
                    "the files were still being written after {patience:?} \
                     (is a channel end still alive?)"
                )
            })
        })
    }

    /// [`finish`](Recorder::finish), waiting until `give_up` (asked every
    /// few milliseconds) says why it may wait no longer: then the files keep
    /// their `.incomplete` names and that is the recording's error. So the
    /// caller can cut the wait short (a second stop request) as well as
    /// bound it.
    pub fn finish_unless(self, mut give_up: impl FnMut() -> Option<String>) -> Recorded {
        // Never attached: nothing more will come.
        drop(lock(&self.link).take());
        let done = loop {
            match self.done.recv_timeout(POLL) {
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
                arrivals: self.arrivals.partial.clone(),
                services: self.services.partial.clone(),
                arrivals_written: 0,
                services_written: 0,
                arrivals_lost: 0,
                services_lost: 0,
                complete: false,
                error: Some(why),
            },
        };
        if recorded.complete {
            for (to, now) in [
                (&self.arrivals, &mut recorded.arrivals),
                (&self.services, &mut recorded.services),
            ] {
                match to.publish(self.overwrite) {
                    Ok(()) => now.clone_from(&to.path),
                    Err(e) => {
                        recorded.complete = false;
                        recorded.error.get_or_insert(format!(
                            "{}: cannot rename it to {}: {e}",
                            to.partial.display(),
                            to.path.display()
                        ));
                    }
                }
            }
        }
        recorded
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

/// One stream of times (the arrivals or the service times), kept by whoever
/// holds that end's lock, or by the program that records them itself
/// ([`Recorder::tapes`]). Dropping it ends the stream.
#[derive(Debug)]
pub struct Tape {
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
    /// One more time, until the limit. Never waits: a full chunk the writer
    /// has no room for is lost (counted).
    #[inline]
    pub fn push(&mut self, value: u64) {
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

    /// Every time of `times`, waiting for the writer whenever it has no room
    /// for a full chunk: for times on nobody's hot path (a file of service
    /// times written at the end). If `give_up` (asked while it waits) says
    /// so, the rest are given up and counted as lost (as many as the
    /// iterator's `size_hint` says are left, and at least one, so that the
    /// recording is incomplete). Returns whether none was lost.
    pub fn extend_waiting(
        &mut self,
        times: impl IntoIterator<Item = u64>,
        mut give_up: impl FnMut() -> bool,
    ) -> bool {
        let mut times = times.into_iter();
        while let Some(value) = times.next() {
            if self.done {
                break;
            }
            if self.chunk.len() + 1 == CHUNK {
                while self.queued.load(Relaxed) >= QUEUED {
                    if give_up() {
                        let rest = 1 + times.size_hint().0 as u64;
                        self.taped += rest;
                        self.lost += rest;
                        return false;
                    }
                    thread::sleep(Duration::from_millis(1));
                }
            }
            self.push(value);
        }
        self.lost == 0
    }

    /// Times given to this tape so far (up to the limit).
    pub fn taped(&self) -> u64 {
        self.taped
    }

    /// Of those, the times lost because the writer had fallen behind.
    pub fn lost(&self) -> u64 {
        self.lost
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
    /// Who writes them, for their comment lines.
    by: String,
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
            format!(
                "# {}: the time each message was offered, epoch seconds",
                self.by
            ),
            format!("# {}: each message's service time", self.by),
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

    fn services_lost(total: usize) -> u64 {
        (total - CHUNK * QUEUED - (CHUNK - 1)) as u64
    }

    #[test]
    fn a_tape_that_may_wait_gives_up_when_told_and_counts_the_rest_lost() {
        let ((_arrivals, mut services), from_tapes) = stalled_tapes(u64::MAX);
        let total = CHUNK * (QUEUED + 2);
        let mut asked = 0;
        let whole = services.extend_waiting(0..total as u64, || {
            asked += 1;
            true
        });
        // It filled the queue, found no room for one more chunk, asked once.
        assert!(!whole);
        assert_eq!(asked, 1);
        assert_eq!(from_tapes.try_iter().count(), QUEUED);
        assert_eq!(services.taped(), total as u64);
        // Lost: all but the queued chunks and the one it was filling (the
        // last chunk, which is always taken).
        assert_eq!(services.lost(), services_lost(total));
        drop(services);
        let last = from_tapes.try_recv().unwrap();
        assert_eq!(last.times.len(), CHUNK - 1);
        assert_eq!(last.last, Some((total as u64, services_lost(total))));
    }

    #[test]
    fn a_write_that_fails_is_named_and_the_recording_incomplete() {
        let Ok(full) = File::options().write(true).open("/dev/full") else {
            return; // no /dev/full here: burstbuf's end-to-end test covers a failing write
        };
        let dir = std::env::temp_dir();
        let services = dir.join(format!("metered-full-{}.services", std::process::id()));
        let files = Files {
            arrivals: BufWriter::new(full),
            services: BufWriter::new(File::create(&services).unwrap()),
            names: [PathBuf::from("run.arrivals.incomplete"), services.clone()],
            by: "test".to_owned(),
        };
        let (to_writer, from_tapes) = mpsc::channel();
        let link = Link {
            to_writer,
            queued: Arc::new(AtomicUsize::new(0)),
            limit: u64::MAX,
        };
        let (mut arrivals, mut service_times) = link.tapes(0);
        for ns in 0..10_000 {
            arrivals.push(ns);
            service_times.push(ns);
        }
        drop((arrivals, service_times));
        let recorded = files.write(&from_tapes, &AtomicUsize::new(0));
        let _ = fs::remove_file(&services);
        assert!(!recorded.complete, "{recorded:?}");
        let error = recorded.error.unwrap();
        assert!(error.starts_with("run.arrivals.incomplete: "), "{error}");
        assert_eq!(recorded.services_written, 10_000);
    }
}
