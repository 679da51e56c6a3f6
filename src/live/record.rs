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
//! The summary waits for it a bounded time ([`Writing::finish`]) and then
//! says the files are incomplete.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::traffic::Service;

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
    pub arrivals: String,
    pub services: String,
    /// Lines written to each file.
    pub messages: u64,
    /// Offered times the writer could not take in time (then `complete` is false).
    pub lost: u64,
    pub complete: bool,
    /// Why a file could not be written, if it could not.
    pub error: Option<String>,
}

/// The writer's end: the two files, opened before the run starts.
#[derive(Debug)]
pub struct Recorder {
    arrivals_path: String,
    services_path: String,
    arrivals: BufWriter<File>,
    services: BufWriter<File>,
    from_tape: Receiver<Vec<u64>>,
    /// Epoch nanoseconds of model time 0.
    epoch_ns: u128,
}

/// Opens `PREFIX.arrivals` and `PREFIX.services` for writing; an error names the file.
pub fn create(prefix: &str) -> Result<(Tape, Recorder), String> {
    let open = |path: &str| {
        File::create(path)
            .map(BufWriter::new)
            .map_err(|e| format!("--record: {path}: {e}"))
    };
    let arrivals_path = format!("{prefix}.arrivals");
    let services_path = format!("{prefix}.services");
    let arrivals = open(&arrivals_path)?;
    let services = open(&services_path)?;
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
            arrivals_path,
            services_path,
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
    arrivals: String,
    services: String,
    taped: Sender<Taped>,
    done: Receiver<Recorded>,
}

impl Writing {
    /// Tells the writer what was taped (it then writes the service times)
    /// and waits at most `patience` for it to finish.
    pub fn finish(self, taped: Taped, patience: Duration) -> Recorded {
        let _ = self.taped.send(taped);
        match self.done.recv_timeout(patience) {
            Ok(recorded) => recorded,
            Err(why) => Recorded {
                arrivals: self.arrivals,
                services: self.services,
                messages: taped.messages,
                lost: taped.lost,
                complete: false,
                error: Some(match why {
                    RecvTimeoutError::Timeout => {
                        format!("the files were still being written after {patience:?}")
                    }
                    RecvTimeoutError::Disconnected => "the writer thread failed".to_owned(),
                }),
            },
        }
    }
}

impl Recorder {
    /// Starts the writer on a detached thread: the arrivals as they come,
    /// then, once told what was taped, the service times of `service`.
    pub fn start(mut self, service: Service) -> io::Result<Writing> {
        let (taped_tx, taped_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel();
        let (arrivals, services) = (self.arrivals_path.clone(), self.services_path.clone());
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
            arrivals,
            services,
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
            (Err(e), _) => Some(format!("{}: {e}", self.arrivals_path)),
            (_, Err(e)) => Some(format!("{}: {e}", self.services_path)),
            _ => None,
        };
        Recorded {
            complete: taped.lost == 0 && error.is_none(),
            arrivals: self.arrivals_path,
            services: self.services_path,
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

    #[test]
    fn a_recording_reads_back_as_the_same_trace_and_services() {
        let dir = std::env::temp_dir();
        let prefix = dir.join(format!("burstbuf-record-unit-{}", std::process::id()));
        let prefix = prefix.to_str().unwrap();
        let (mut tape, recorder) = create(prefix).unwrap();
        let service = Service::model(&Model::original(), 7);
        let writing = recorder.start(service.clone()).unwrap();
        // More than a chunk, with ties (a burst) and gaps.
        let offered: Vec<u64> = (0..10_000u64).map(|i| i / 3 * 1_234_567).collect();
        for &ns in &offered {
            tape.offered(ns);
        }
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

        let trace = Trace::read(&recorded.arrivals, None).unwrap();
        assert_eq!(&trace.offsets[..], &offered[..]);
        let services = EmpiricalService::read(&recorded.services).unwrap();
        let expected: Vec<u64> = (0..10_000).map(|seq| service.ns(seq)).collect();
        assert_eq!(&services.times[..], &expected[..]);
        let _ = std::fs::remove_file(&recorded.arrivals);
        let _ = std::fs::remove_file(&recorded.services);
    }

    #[test]
    fn a_writer_that_does_not_finish_is_given_up_and_the_files_called_incomplete() {
        let prefix =
            std::env::temp_dir().join(format!("burstbuf-record-stuck-{}", std::process::id()));
        let prefix = prefix.to_str().unwrap();
        let (mut tape, recorder) = create(prefix).unwrap();
        let writing = recorder
            .start(Service::model(&Model::original(), 7))
            .unwrap();
        tape.offered(0);
        // The tape is still open, so the writer is still waiting for times.
        let taped = Taped {
            messages: 1,
            lost: 0,
        };
        let recorded = writing.finish(taped, Duration::from_millis(20));
        assert!(!recorded.complete, "{recorded:?}");
        assert!(
            recorded
                .error
                .as_deref()
                .unwrap()
                .contains("still being written"),
            "{recorded:?}"
        );
        drop(tape);
        let _ = std::fs::remove_file(format!("{prefix}.arrivals"));
        let _ = std::fs::remove_file(format!("{prefix}.services"));
    }

    #[test]
    fn a_writer_that_falls_behind_costs_chunks_not_the_producer() {
        let prefix =
            std::env::temp_dir().join(format!("burstbuf-record-lost-{}", std::process::id()));
        let (mut tape, recorder) = create(prefix.to_str().unwrap()).unwrap();
        // Nobody writes: the queue fills and the rest is counted as lost.
        for ns in 0..(CHUNK * (QUEUED + 3)) as u64 {
            tape.offered(ns);
        }
        assert_eq!(tape.lost, (3 * CHUNK) as u64);
        drop(recorder);
        let taped = tape.finish();
        assert_eq!(taped.messages, (CHUNK * (QUEUED + 3)) as u64);
        let _ = std::fs::remove_file(format!("{}.arrivals", prefix.to_str().unwrap()));
        let _ = std::fs::remove_file(format!("{}.services", prefix.to_str().unwrap()));
    }
}
