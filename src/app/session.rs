//! What a live run holds open, from before its threads start until the
//! summary is out: the metrics port and `--record`'s files (claimed first,
//! so a port in use or a file that may not be replaced is a usage error
//! before anything is drawn), the writer, the metered buffer and the shared
//! state, the signal threads and the terminal. Closing gives the terminal
//! back on every path, and only then says what went wrong.

use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use super::Error;
use super::threads::{self, Joined, Start};
use crate::cli::config::{Config, Display};
use crate::live::clock::Clock;
use crate::live::control::{Shared, State};
use crate::live::record::{self, Recorded};
use crate::live::stall::StallLog;
use crate::live::{consumer, producer};
use crate::traffic::Service;
use crate::traffic::parse::printable;
use crate::ui::signals::{self, Stops, Suspend};
use crate::ui::writer::{Finished, Target, Writer};
use crate::ui::{metrics, terminal};
use crate::units::{factor, seconds};

/// How long the end of an aborted run waits on a write to stdout (or stderr)
/// that makes no progress before taking its reader to be gone. Three such
/// waits at most follow an abort, which must end within a second.
pub(super) const PATIENCE: Duration = Duration::from_millis(250);

/// The same after a drained run: nobody asked to quit at once, so a reader
/// that merely stalls for a moment still gets the summary on stdout.
pub(super) const PATIENCE_DRAINED: Duration = Duration::from_secs(1);

/// How long Ctrl-Z and `fg` wait for a frame being written.
const SUSPEND_PATIENCE: Duration = Duration::from_millis(50);

/// A live run's resources, open.
pub(super) struct Session {
    pub shared: Arc<Shared>,
    pub stops: Arc<Stops>,
    /// The only thread that writes frames and log lines.
    pub writer: Writer,
    /// Where the log lines go (stderr with `--json`, so stdout has only the summary).
    pub target: Target,
    /// The live gauge, rather than plain log lines.
    pub live: bool,
    /// The terminal, in raw mode on the alternate screen while held.
    guard: Option<terminal::Guard>,
}

/// A run whose threads are joined and whose terminal is given back.
pub(super) struct Ended {
    pub producer: producer::Report,
    pub consumer: consumer::Report,
    /// What `--record` wrote, if asked for.
    pub recorded: Option<Recorded>,
    /// How the writer finished its last frame or line.
    pub finished: Finished,
}

/// Ctrl-Z and `fg` for the live gauge: the writer gives the terminal back and
/// takes it again. Plain output needs nothing.
struct Suspension {
    writer: Writer,
    live: bool,
}

impl Suspend for Suspension {
    fn before_stop(&self) {
        if self.live {
            self.writer.pause(SUSPEND_PATIENCE);
        }
    }

    fn after_continue(&self) {
        if self.live {
            self.writer.resume(SUSPEND_PATIENCE);
        }
    }
}

impl Session {
    /// Claims what the run needs, says what it serves and replays, and
    /// takes the terminal.
    pub fn open(config: &Config) -> Result<(Session, Start), Error> {
        // Bound before the terminal is touched, so a port in use is a usage error.
        let server = match config.metrics {
            Some(addr) => Some(
                metrics::Server::bind(addr, config.metrics_public)
                    .map_err(|source| Error::Metrics { addr, source })?,
            ),
            None => None,
        };
        // The files of --record, created before anything starts: a path that
        // cannot be written, a file that would be replaced (without
        // --overwrite) or the run's own input is a usage error.
        let inputs: Vec<&str> = (config.trace.iter().map(|t| t.name.as_str()))
            .chain(config.service_from.iter().map(|(s, _)| s.name.as_str()))
            .collect();
        let record = match &config.record {
            Some(prefix) => {
                let (tape, recorder) = record::create(prefix, config.overwrite, &inputs)?;
                let service =
                    Service::of_run(config.service_from.as_ref(), &config.model, config.seed);
                Some((tape, recorder.start(service)?))
            }
            None => None,
        };
        announce(config, server.as_ref());
        let live = config.display == Display::Live;
        // With --json, stdout carries only the summary object: the log lines go
        // to stderr, and if stderr fails they are given up, not the run.
        let target = if config.json && !live {
            Target::Stderr
        } else {
            Target::Stdout
        };
        // The live gauge goes through the terminal's own non-blocking
        // descriptor: a terminal that stops reading cannot hold the writer in a
        // write that the end of the run could not take back.
        let out = if live {
            terminal::output()?
        } else {
            target.open()?
        };
        let writer = Writer::start(out, config.colour, target == Target::Stdout)?;
        // The buffer under study, full-buffer policy and all. The one place
        // the capacity is a `usize`: at most MAX_CAPACITY, it fits.
        let slots = usize::try_from(config.capacity).expect("--capacity fits in usize");
        let (buffer_tx, buffer_rx) = metered::Builder::new(slots)
            .policy(config.when_full)
            .build();
        // Model time starts with the channel, so its times are the run's.
        let clock = Clock::starting_at(buffer_tx.meter().created(), config.speed);
        let shared = Arc::new(
            Shared::new(
                clock,
                buffer_tx.meter(),
                config.consumers,
                config.model.lag_tolerance(),
            )
            .with_stalls(StallLog::new(config.model.stalls.clone()))
            .with_policy(config.when_full),
        );
        let stops = Arc::new(Stops::new());
        let suspension = Arc::new(Suspension {
            writer: writer.clone(),
            live,
        });
        signals::start(Arc::clone(&stops), Arc::clone(&shared), suspension)?;
        let guard = match config.display {
            Display::Live => Some(terminal::enter()?),
            Display::Plain => None,
        };
        terminal::install_panic_hook(Arc::clone(&shared));
        let session = Session {
            shared,
            stops,
            writer,
            target,
            live,
            guard,
        };
        let start = Start {
            buffer: (buffer_tx, buffer_rx),
            server,
            record,
        };
        Ok((session, start))
    }

    /// Runs the threads to their end (see [`threads::run`]).
    pub fn run(&self, config: &Config, start: Start) -> io::Result<Joined> {
        threads::run(config, &self.shared, start, &self.stops, &self.writer)
    }

    /// Finishes the writer (waiting only while its reader takes what it
    /// writes), gives the terminal back, and only then reports what went
    /// wrong: a terminal that went away, a thread that panicked.
    pub fn close(&mut self, mut joined: io::Result<Joined>) -> Result<Ended, Error> {
        let mut gone = None;
        if self.live
            && let Ok(j) = &mut joined
            && matches!(j.illustrator, Some(Err(_)))
        {
            // The terminal answered with an I/O error: it went away.
            self.stops.hang_up(&self.shared.control);
            gone = j.illustrator.replace(Ok(())).and_then(Result::err);
        }
        // Waits for the last frame or line only while the reader takes them.
        let finished = self.writer.finish(self.patience());
        // A terminal that takes nothing (its reader stopped: a stopped tmux):
        // the writer gives up what it has not written, so that the bytes that
        // restore the terminal come after all it wrote. Only a writer stuck in a
        // blocking write cannot, and then nothing more is written there.
        let stuck = self.live && finished == Finished::Stuck && !self.writer.abandon(PATIENCE);
        if self.stops.hung_up() || stuck {
            terminal::forsake();
        }
        drop(self.guard.take());
        if let Some(e) = gone {
            let _ = writeln!(io::stderr(), "burstbuf: the terminal went away: {e}");
        }
        let joined = joined?;
        let (Some(producer), Some(consumer), Some(illustrated)) =
            (joined.producer, joined.consumer, joined.illustrator)
        else {
            // The panic message is already on stderr, after the terminal was restored.
            return Err(Error::Panicked);
        };
        illustrated?;
        Ok(Ended {
            producer,
            consumer,
            recorded: joined.recorded,
            finished,
        })
    }

    /// Whether the run is aborted (a second stop request, a hang-up, a
    /// thread gone): from the moment it is over, any stop request aborts it.
    pub fn aborted(&self) -> bool {
        self.shared.control.state() == State::Aborted
    }

    /// How long a write that makes no progress is waited for: less once aborted.
    pub fn patience(&self) -> Duration {
        if self.aborted() {
            PATIENCE
        } else {
            PATIENCE_DRAINED
        }
    }
}

/// What is served and what is replayed, said once on stderr before the
/// picture takes the screen.
fn announce(config: &Config, server: Option<&metrics::Server>) {
    if let Some(addr) = server.and_then(metrics::Server::local_addr) {
        let _ = writeln!(
            io::stderr(),
            "burstbuf: serving http://{addr}/metrics and http://{addr}/debug/vars"
        );
    }
    if let Some(trace) = &config.trace {
        let _ = writeln!(
            io::stderr(),
            "burstbuf: replaying {} ({}): {} of {} lines over {}, {} out of order (sorted){}",
            printable(&trace.name),
            trace.format.name(),
            config.messages.unwrap_or(trace.lines()),
            trace.lines(),
            seconds(trace.span().as_secs_f64()),
            trace.out_of_order,
            if config.load == 1.0 {
                String::new()
            } else {
                format!(", at {}x load", factor(config.load))
            }
        );
    }
}
