//! `main`'s body: parse and validate, set up the terminal (or plain output),
//! spawn the producer, consumer and illustrator, join them and report.

use std::env;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::{Arc, mpsc};
use std::thread::{self, Scope, ScopedJoinHandle};

use clap::Parser;
use clap::error::ErrorKind;

use crate::clock::Clock;
use crate::config::{Cli, Config, Display};
use crate::control::{Control, Shared, State};
use crate::illustrator::{self, Feeds, Output};
use crate::model::Arrivals;
use crate::signals::Signals;
use crate::summary::Summary;
use crate::{consumer, producer, terminal};

/// Exit code for a usage error, as clap and most Unix tools use.
const EXIT_USAGE: u8 = 2;
/// Exit code when the user quit before the buffer was drained (128 + SIGINT).
const EXIT_ABORTED: u8 = 130;
/// Exit code when a thread panicked, as Rust uses for a panic in `main`.
const EXIT_PANIC: u8 = 101;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let term = env::var("TERM").ok();
    let config = Config::new(cli, io::stdout().is_terminal(), term.as_deref());
    match run(&config) {
        Ok(code) => code,
        // Output piped into `head` and closed: nobody is left to tell.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "burstbuf: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Help and version go to stdout as usual; any other error is reported on one
/// line (clap's first, which names the option and what is allowed), exit code 2.
fn usage_error(e: &clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        _ => {
            let message = e.to_string();
            let first = message.lines().next().unwrap_or("error: invalid arguments");
            let _ = writeln!(io::stderr(), "{first} (see --help)");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// What the three threads returned; `None` where a thread panicked.
struct Joined {
    producer: Option<producer::Report>,
    consumer: Option<consumer::Report>,
    illustrator: Option<io::Result<()>>,
}

/// Runs the demo with a validated configuration and reports on stdout.
pub fn run(config: &Config) -> io::Result<ExitCode> {
    let signals = Signals::register()?;
    let guard = match config.display {
        Display::Live => Some(terminal::enter()?),
        Display::Plain => None,
    };
    let shared = Arc::new(Shared::new(Clock::start(config.speed)));
    terminal::install_panic_hook(Arc::clone(&shared));

    let joined = run_threads(config, &shared, &signals);
    drop(guard);
    let joined = joined?;

    let (Some(produced), Some(consumed), Some(illustrated)) =
        (joined.producer, joined.consumer, joined.illustrator)
    else {
        // The panic message is already on stderr, after the terminal was restored.
        let _ = writeln!(
            io::stderr(),
            "burstbuf: a thread panicked; the run was aborted"
        );
        return Ok(ExitCode::from(EXIT_PANIC));
    };
    illustrated?;

    let aborted = shared.control.state() == State::Aborted;
    let clock = shared.clock;
    let wall_to_model = |d: std::time::Duration| d.as_secs_f64() * config.speed;
    let summary = Summary {
        capacity: config.capacity as u64,
        produced: produced.produced,
        consumed: consumed.consumed,
        unconsumed: produced.produced - consumed.consumed,
        // Read after the producer is joined, so every increment is visible.
        full_count: shared.full_count.load(std::sync::atomic::Ordering::Relaxed),
        in_order: consumed.out_of_order == 0,
        aborted,
        seed: config.seed,
        speed: config.speed,
        elapsed_s: clock.model_secs(consumed.finished_at),
        produce_s: clock.model_secs(produced.stopped_at),
        drain_s: clock.model_secs_between(produced.stopped_at, consumed.finished_at),
        blocked_total_s: wall_to_model(produced.blocked_total),
        blocked_max_s: wall_to_model(produced.blocked_max),
    };
    summary.write(&mut io::stdout().lock(), config.json)?;
    Ok(if aborted {
        ExitCode::from(EXIT_ABORTED)
    } else {
        ExitCode::SUCCESS
    })
}

fn run_threads(config: &Config, shared: &Shared, signals: &Signals) -> io::Result<Joined> {
    // The buffer under study, and the two unbounded event channels the
    // illustrator listens to (unbounded, so watching never blocks the producer).
    let (buffer_tx, buffer_rx) = mpsc::sync_channel::<u64>(config.capacity);
    let (produced_tx, produced_rx) = mpsc::channel::<u64>();
    let (consumed_tx, consumed_rx) = mpsc::channel::<u64>();
    let plan = producer::Plan {
        arrivals: Arrivals::new(&config.model, config.seed),
        duration: config.duration,
        messages: config.messages,
    };
    let service = config.model.consume_every;
    let feeds = Feeds {
        produced: produced_rx,
        consumed: consumed_rx,
    };

    thread::scope(|s| {
        // Each closure takes its channel ends by value: when a thread returns,
        // its senders drop, and that is how the next one down the line learns
        // it is done (producer → consumer → illustrator).
        let control = &shared.control;
        let producer = spawn(s, "producer", control, move || {
            producer::run(plan, buffer_tx, produced_tx, shared)
        })?;
        let consumer = spawn(s, "consumer", control, move || {
            consumer::run(service, buffer_rx, consumed_tx, shared)
        })?;
        let illustrator = spawn(s, "illustrator", control, move || {
            illustrate(feeds, config, shared, signals)
        })?;

        let illustrator = illustrator.join().ok();
        if !matches!(illustrator, Some(Ok(()))) {
            // Without the illustrator nobody can stop the run or see it: end it.
            control.abort();
        }
        Ok(Joined {
            producer: producer.join().ok(),
            consumer: consumer.join().ok(),
            illustrator,
        })
    })
}

fn illustrate(feeds: Feeds, config: &Config, shared: &Shared, signals: &Signals) -> io::Result<()> {
    let capacity = config.capacity as u64;
    match (config.display, config.json) {
        (Display::Live, _) => {
            let mut out = io::BufWriter::with_capacity(1 << 14, io::stdout());
            illustrator::run(feeds, Output::Live(&mut out), capacity, shared, signals)
        }
        // With --json, stdout carries only the summary object.
        (Display::Plain, true) => illustrator::run(
            feeds,
            Output::Plain(&mut io::stderr()),
            capacity,
            shared,
            signals,
        ),
        (Display::Plain, false) => illustrator::run(
            feeds,
            Output::Plain(&mut io::stdout()),
            capacity,
            shared,
            signals,
        ),
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
