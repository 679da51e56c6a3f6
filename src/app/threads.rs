//! The live run's threads: the producer, the consumers, the illustrator and
//! the metrics server, spawned in one scope and joined; each learns that the
//! one before it is done when its channel ends drop. The wait for
//! `--record`'s writer, bounded, follows the producer's.

use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::thread::{self, Scope, ScopedJoinHandle};
use std::time::{Duration, Instant};

use crate::cli::args::Worker;
use crate::cli::config::{Config, Display};
use crate::live::control::{Control, Shared, State};
use crate::live::producer::Source;
use crate::live::record::{Recorded, Tape, Taped, Writing};
use crate::live::{consumer, events, producer};
use crate::model::Arrivals;
use crate::traffic::Service;
use crate::ui::illustrator::{self, Feeds, Look, Mode};
use crate::ui::metrics;
use crate::ui::signals::Stops;
use crate::ui::writer::Writer;

/// How long the end of a run waits for `--record`'s files to be written
/// (the service times are written at the end: a few million lines a second).
const RECORD_PATIENCE: Duration = Duration::from_secs(10);
/// How long the wait for `--record`'s files goes on once the run is aborted:
/// enough for files nearly done, and with the [`PATIENCE`]s that may follow,
/// still well within the second an abort must end in.
const RECORD_PATIENCE_ABORTED: Duration = Duration::from_millis(100);

/// What the threads are started with, each given to the thread that owns it.
pub(super) struct Start {
    pub buffer: (metered::SyncSender<u64>, metered::Receiver<u64>),
    pub server: Option<metrics::Server>,
    pub record: Option<(Tape, Writing)>,
}

/// What the three threads returned; `None` where a thread panicked.
pub(super) struct Joined {
    /// What `--record` wrote, if asked for.
    pub recorded: Option<Recorded>,
    pub producer: Option<producer::Report>,
    pub consumer: Option<consumer::Report>,
    pub illustrator: Option<io::Result<()>>,
}

/// Spawns every thread of the run and joins them; the run ends when the
/// producer has stopped and the consumers have drained the buffer (or the
/// run is aborted), and the illustrator has seen both event channels close.
pub(super) fn run(
    config: &Config,
    shared: &Shared,
    start: Start,
    stops: &Stops,
    writer: &Writer,
) -> io::Result<Joined> {
    let Start {
        buffer: (buffer_tx, intake),
        server,
        record,
    } = start;
    let (tape, writing) = record.unzip();
    // The two unbounded event channels the illustrator listens to
    // (unbounded, so watching never blocks the producer).
    let (produced_tx, produced_rx) = events::channel();
    let (consumed_tx, consumed_rx) = events::channel();
    let plan = producer::Plan {
        arrivals: match &config.trace {
            Some(trace) => Source::Trace {
                offsets: Arc::clone(&trace.offsets),
                load: config.load,
            },
            None => Source::Model(Box::new(Arrivals::new(&config.model, config.seed))),
        },
        duration: config.duration,
        messages: config.messages,
    };
    let service = Service::of_run(config.service_from.as_ref(), &config.model, config.seed);
    let feeds = Feeds {
        produced: produced_rx,
        consumed: consumed_rx,
    };

    // Set once the run is over; the metrics server polls it.
    let run_over = AtomicBool::new(false);
    let hiring = Hiring {
        service: &service,
        shared,
        reports: Mutex::new(Vec::new()),
    };
    let hiring = &hiring;
    let mut joined = thread::scope(|s| {
        // Each closure takes its channel ends by value: when a thread returns,
        // its senders drop, and that is how the next one down the line learns
        // it is done (producer → consumer → illustrator).
        let control = &shared.control;
        let producer = spawn(s, "producer", control, move || {
            test_panic(config, Worker::Producer, shared);
            producer::run(plan, buffer_tx, produced_tx, tape, shared)
        })?;
        let consumers = (0..config.consumers)
            .map(|i| {
                let (intake, events) = (intake.clone(), consumed_tx.clone());
                let service = service.clone();
                spawn(s, &format!("consumer-{i}"), control, move || {
                    test_panic(config, Worker::Consumer, shared);
                    let due = shared.clock.start_instant();
                    consumer::run(service, intake, events, shared, due, &|intake, events| {
                        hiring.start(s, intake, events)
                    })
                })
            })
            .collect::<io::Result<Vec<_>>>()?;
        // Only the consumers hold the receiver and their event senders now.
        drop((intake, consumed_tx));
        let illustrator = spawn(s, "illustrator", control, move || {
            test_panic(config, Worker::Illustrator, shared);
            illustrate(feeds, config, shared, stops, writer)
        })?;
        if let Some(server) = server {
            let run_over = &run_over;
            spawn(s, "metrics", control, move || {
                metrics::serve(server, shared, run_over)
            })?;
        }

        let illustrator = illustrator.join().ok();
        if !matches!(illustrator, Some(Ok(()))) {
            // Without the illustrator nobody can stop the run or see it: end it.
            control.abort();
        }
        let producer = producer.join().ok();
        // The producer is done (its tape finished, or dropped in a panic):
        // the writer has its last chunk; it is waited for a bounded time.
        let recorded = writing.map(|writing| {
            let taped = producer.as_ref().and_then(|p| p.taped).unwrap_or(Taped {
                messages: 0,
                lost: 0,
            });
            finish_recording(writing, taped, control)
        });
        let joined = Joined {
            recorded,
            producer,
            consumer: consumers
                .into_iter()
                .map(|c| c.join().ok())
                .collect::<Option<Vec<_>>>()
                .map(|reports| consumer::Report::merge(&reports)),
            illustrator,
        };
        run_over.store(true, Relaxed);
        Ok::<_, io::Error>(joined)
    })?;
    // The scope has joined every thread: the consumers `+` started too.
    let hired = hiring.reports.lock().unwrap_or_else(|e| e.into_inner());
    let hired = hired.iter().cloned().collect::<Option<Vec<_>>>();
    joined.consumer = joined.consumer.zip(hired).map(|(first, hired)| {
        consumer::Report::merge(&[std::slice::from_ref(&first), &hired].concat())
    });
    Ok(joined)
}

/// Starting consumers while the run goes on (`+`): each is started by a
/// consumer, between its messages, with clones of that one's ends, so the
/// buffer and the consumed events stay open exactly while some consumer
/// holds them (nothing else does, or the run could not end).
struct Hiring<'a> {
    service: &'a Service,
    shared: &'a Shared,
    /// What each consumer started so returned when it ended (`None`: it
    /// panicked). Not join handles: those cannot outlive the scope's
    /// closure, and the scope joins these threads itself at its end.
    reports: Mutex<Vec<Option<consumer::Report>>>,
}

impl Hiring<'_> {
    fn start<'scope, 'env>(
        &'scope self,
        s: &'scope Scope<'scope, 'env>,
        intake: metered::Receiver<u64>,
        events: events::Events,
    ) {
        let service = self.service.clone();
        let due = Instant::now();
        let started = thread::Builder::new()
            .name("consumer+".into())
            .spawn_scoped(s, move || {
                // Caught, so that the scope does not panic again at its end:
                // the hook has restored the terminal and aborted the run, and
                // the missing report says a consumer panicked, as a join would.
                let report = panic::catch_unwind(AssertUnwindSafe(|| {
                    consumer::run(
                        service,
                        intake,
                        events,
                        self.shared,
                        due,
                        &|intake, events| self.start(s, intake, events),
                    )
                }));
                let mut reports = self.reports.lock().unwrap_or_else(|e| e.into_inner());
                reports.push(report.ok());
            });
        if started.is_err() {
            let shared = self.shared;
            shared.crew.hire_failed(&shared.meter, &shared.clock);
        }
    }
}

/// Waits for `--record`'s writer at most [`RECORD_PATIENCE`], and once the
/// run is aborted (before or during the wait) at most
/// [`RECORD_PATIENCE_ABORTED`] more: a second stop request ends the process
/// within a second, however long the files would take. The files of a wait
/// cut short keep their `.incomplete` names, and the summary says why.
fn finish_recording(writing: Writing, taped: Taped, control: &Control) -> Recorded {
    let start = Instant::now();
    let mut aborted_at = None;
    writing.finish_unless(taped, || {
        if control.state() == State::Aborted {
            let at = *aborted_at.get_or_insert_with(Instant::now);
            if at.elapsed() >= RECORD_PATIENCE_ABORTED {
                return Some("the run was aborted while the files were being written".to_owned());
            }
        }
        (start.elapsed() >= RECORD_PATIENCE)
            .then(|| format!("the files were still being written after {RECORD_PATIENCE:?}"))
    })
}

fn illustrate(
    feeds: Feeds,
    config: &Config,
    shared: &Shared,
    stops: &Stops,
    writer: &Writer,
) -> io::Result<()> {
    let look = Look {
        capacity: config.capacity,
        glyphs: config.glyphs,
    };
    let mode = match config.display {
        Display::Live => Mode::Live,
        Display::Plain => Mode::Plain,
    };
    illustrator::run(feeds, mode, writer, look, shared, stops)
}

/// `--test-panic`: the chosen thread panics a moment after the start (for a
/// worker, once the gauge is up), so tests can check that the terminal is
/// restored and the run ends.
fn test_panic(config: &Config, worker: Worker, shared: &Shared) {
    if config.test_panic == Some(worker) {
        let soon = Instant::now() + Duration::from_millis(300);
        shared.control.sleep_until(soon, State::Aborted);
        panic!("--test-panic: the {worker:?} thread panics on purpose");
    }
}

/// Spawns a named thread; if that fails, aborts the run so the threads already
/// started end and the scope can close.
fn spawn<'scope, 'env, T: Send + 'scope>(
    s: &'scope Scope<'scope, 'env>,
    name: &str,
    control: &Control,
    f: impl FnOnce() -> T + Send + 'scope,
) -> io::Result<ScopedJoinHandle<'scope, T>> {
    thread::Builder::new()
        .name(name.into())
        .spawn_scoped(s, f)
        .inspect_err(|_| control.abort())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::record;
    use crate::model::Model;

    #[test]
    fn the_wait_for_a_recording_gives_way_to_an_abort() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("wait").to_str().unwrap().to_owned();
        let (mut tape, recorder) = record::create(&prefix, true, &[]).unwrap();
        let writing = recorder
            .start(Service::model(&Model::original(), 1))
            .unwrap();
        tape.offered(0);
        // The tape stays open, so the writer waits for more times: without
        // an abort the wait would last its whole patience (10 s).
        let taped = Taped {
            messages: 1,
            lost: 0,
        };
        let control = Control::new();
        let start = Instant::now();
        let recorded = thread::scope(|s| {
            s.spawn(|| {
                thread::sleep(Duration::from_millis(100));
                control.abort();
            });
            finish_recording(writing, taped, &control)
        });
        assert!(start.elapsed() < RECORD_PATIENCE, "{:?}", start.elapsed());
        assert!(!recorded.complete);
        // Left under the names that say so.
        assert_eq!(
            recorded.arrivals,
            format!("{prefix}.arrivals{}", record::INCOMPLETE)
        );
        let error = recorded.error.unwrap();
        assert!(
            error.contains("aborted while the files were being written"),
            "{error}"
        );
        drop(tape);
    }
}
