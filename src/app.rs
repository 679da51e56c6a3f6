//! `main`'s body: parse and validate, set up the terminal (or plain output),
//! spawn the producer, consumer and illustrator, join them and report.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::thread::{self, Scope, ScopedJoinHandle};
use std::time::{Duration, Instant};

use clap::Parser;
use clap::error::ErrorKind;

use crate::cli::args::{Cli, Worker};
use crate::cli::config::{self, Config, Display, Env, FitConfig, FitInput, Run};
use crate::live::buffer::{self, MeteredReceiver, MeteredSender};
use crate::live::clock::Clock;
use crate::live::control::{Control, Shared, State};
use crate::live::producer::{Policy, Source};
use crate::live::reading::Reading;
use crate::live::record::{self, Recorded, Tape, Taped, Writing};
use crate::live::stall::StallLog;
use crate::live::{consumer, events, producer};
use crate::model::{Arrivals, WhenFull};
use crate::sizing::replay::{self, Replay};
use crate::sizing::report;
use crate::sizing::sim::{self, Cut, Outcome, Scenario};
use crate::sizing::sweep::{self, SweepConfig};
use crate::sizing::{compare, queueing};
use crate::stats::{self, Rates, Verdict};
use crate::traffic::{self, Service, Trace};
use crate::ui::illustrator::{self, Feeds, Look, Mode};
use crate::ui::signals::{self, Stops, Suspend};
use crate::ui::summary::{Blocked, Labelled, Predicted, Summary};
use crate::ui::writer::{self, Finished, Target, Writer};
use crate::ui::{metrics, terminal};

/// Exit code for a usage error, as clap and most Unix tools use.
const EXIT_USAGE: u8 = 2;
/// Exit code when the user quit before the buffer was drained (128 + SIGINT).
const EXIT_ABORTED: u8 = 130;
/// Exit code when the terminal hung up (128 + SIGHUP).
const EXIT_HANGUP: u8 = 129;
/// Exit code when a thread panicked, as Rust uses for a panic in `main`.
const EXIT_PANIC: u8 = 101;

/// How long the end of an aborted run waits on a write to stdout (or stderr)
/// that makes no progress before taking its reader to be gone. Three such
/// waits at most follow an abort, which must end within a second.
const PATIENCE: Duration = Duration::from_millis(250);

/// The same after a drained run: nobody asked to quit at once, so a reader
/// that merely stalls for a moment still gets the summary on stdout.
const PATIENCE_DRAINED: Duration = Duration::from_secs(1);

/// How long the end of a run waits for `--record`'s files to be written
/// (the service times are written at the end: a few million lines a second).
const RECORD_PATIENCE: Duration = Duration::from_secs(10);
/// How long the wait for `--record`'s files goes on once the run is aborted:
/// enough for files nearly done, and with the [`PATIENCE`]s that may follow,
/// still well within the second an abort must end in.
const RECORD_PATIENCE_ABORTED: Duration = Duration::from_millis(100);
/// How long Ctrl-Z and `fg` wait for a frame being written.
const SUSPEND_PATIENCE: Duration = Duration::from_millis(50);

pub fn main() -> ExitCode {
    let resolved = Cli::try_parse().and_then(|cli| config::resolve(cli, &Env::from_process()));
    let result = match resolved {
        Ok(Run::Sweep(config)) => run_sweep(&config).map(|()| ExitCode::SUCCESS),
        Ok(Run::Fit(config)) => fit(&config).map(|()| ExitCode::SUCCESS),
        Ok(Run::Live(config)) => run(&config),
        Err(e) => return usage_error(&e),
    };
    match result {
        Ok(code) => code,
        // Output piped into `head` and closed: nobody is left to tell.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "burstbuf: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The progress bar: `\r[#####     ]  40%`, to be drawn over itself.
fn progress_bar(done: usize, total: usize, width: usize) -> String {
    let share = if total == 0 {
        1.0
    } else {
        done.min(total) as f64 / total as f64
    };
    let filled = (share * width as f64).floor() as usize;
    format!(
        "\r[{}{}] {:>3}%",
        "#".repeat(filled),
        " ".repeat(width - filled),
        (share * 100.0).floor()
    )
}

/// Draws the progress bar on stderr until the sweep is done: from the start
/// if it should take more than a second, else once a second has passed.
fn draw_progress(progress: &sweep::Progress, expected: Duration) {
    const WIDTH: usize = 40;
    let start = Instant::now();
    let show_after = if expected > Duration::from_secs(1) {
        Duration::ZERO
    } else {
        Duration::from_secs(1)
    };
    let mut stderr = io::stderr();
    let mut drawn = false;
    loop {
        let (done, total) = progress.done();
        if done >= total {
            break;
        }
        if start.elapsed() >= show_after {
            // A failed write only loses the bar.
            let _ = stderr.write_all(progress_bar(done, total, WIDTH).as_bytes());
            let _ = stderr.flush();
            drawn = true;
        }
        thread::park_timeout(Duration::from_millis(100));
    }
    if drawn {
        let blank = " ".repeat(WIDTH + 7);
        let _ = write!(stderr, "\r{blank}\r");
        let _ = stderr.flush();
    }
}

/// `burstbuf sweep`: runs it, with the progress on stderr if asked, and
/// prints the report on stdout.
fn run_sweep(config: &SweepConfig) -> io::Result<()> {
    let rows = if config.progress {
        let expected = sweep::estimated_time(config);
        sweep::rows_watched(config, |progress| draw_progress(progress, expected))
    } else {
        sweep::rows(config)
    };
    let mut stdout = io::stdout().lock();
    stdout.write_all(report::report(config, &rows).as_bytes())?;
    stdout.flush()
}

/// `burstbuf fit`: the statistics and fitted models, on stdout.
fn fit(config: &FitConfig) -> io::Result<()> {
    let fit_trace = |trace| {
        let mut fit = traffic::fit::fit_trace(trace);
        fit.sizing = config
            .compare
            .map(|(every, consumers, target)| compare::compare(trace, every, consumers, target));
        fit
    };
    let text = match (&config.input, config.json) {
        (FitInput::Trace(trace), false) => fit_trace(trace).text(),
        (FitInput::Trace(trace), true) => json_line(&fit_trace(trace)),
        (FitInput::Service(file), false) => traffic::fit::fit_service(file).text(),
        (FitInput::Service(file), true) => json_line(&traffic::fit::fit_service(file)),
    };
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

fn json_line(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("plain data serialises") + "\n"
}

/// Help and version go to stdout as usual; any other error is reported on one
/// line, exit code 2.
fn usage_error(e: &clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        kind => {
            let line = one_line(&e.to_string(), kind == ErrorKind::MissingRequiredArgument);
            // A bad file (a trace line, a service time) is not a matter for --help.
            let hint = if kind == ErrorKind::Io {
                ""
            } else {
                " (see --help)"
            };
            let _ = writeln!(io::stderr(), "{line}{hint}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Clap's message on one line, with its hints: the possible values, "a
/// similar argument exists", which arguments are missing, and (`with_usage`)
/// the usage line, which shows what asked for them (`--metrics-public
/// --metrics <ADDR>`). The pointer to `--help` is left to the caller.
fn one_line(message: &str, with_usage: bool) -> String {
    let mut line = String::new();
    let mut usage = None;
    for part in message.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(rest) = part.strip_prefix("Usage:") {
            // The rest is usage (more forms of it) and the pointer to --help.
            usage = Some(rest.trim().to_owned());
            break;
        }
        if part.starts_with("For more information") {
            continue;
        }
        if !line.is_empty() {
            line.push_str(if line.ends_with(':') || part.starts_with('[') {
                " "
            } else {
                "; "
            });
        }
        line.push_str(part);
    }
    match usage {
        Some(usage) if with_usage => format!("{line} (usage: {usage})"),
        _ if line.is_empty() => "error: invalid arguments".to_owned(),
        _ => line,
    }
}

/// What the three threads returned; `None` where a thread panicked.
struct Joined {
    /// What `--record` wrote, if asked for.
    recorded: Option<Recorded>,
    producer: Option<producer::Report>,
    consumer: Option<consumer::Report>,
    illustrator: Option<io::Result<()>>,
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

/// Runs the demo with a validated configuration and reports on stdout.
pub fn run(config: &Config) -> io::Result<ExitCode> {
    // Bound before the terminal is touched, so a port in use is a usage error.
    let bound = config
        .metrics
        .map(|addr| (addr, metrics::Server::bind(addr, config.metrics_public)));
    let server = match bound {
        None => None,
        Some((_, Ok(server))) => Some(server),
        Some((addr, Err(e))) => {
            let _ = writeln!(io::stderr(), "error: --metrics {addr}: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    // The files of --record, created before anything starts: a path that
    // cannot be written, a file that would be replaced (without
    // --overwrite) or the run's own input is a usage error.
    let inputs: Vec<&str> = (config.trace.iter().map(|t| t.name.as_str()))
        .chain(config.service_from.iter().map(|(s, _)| s.name.as_str()))
        .collect();
    let create = |prefix| record::create(prefix, config.overwrite, &inputs);
    let record = match config.record.as_deref().map(create).transpose() {
        Ok(record) => record,
        Err(why) => {
            let _ = writeln!(io::stderr(), "error: {why}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let record = match record {
        Some((tape, recorder)) => Some((tape, recorder.start(service(config))?)),
        None => None,
    };
    if let Some(addr) = server.as_ref().and_then(metrics::Server::local_addr) {
        let _ = writeln!(
            io::stderr(),
            "burstbuf: serving http://{addr}/metrics and http://{addr}/debug/vars"
        );
    }
    if let Some(trace) = &config.trace {
        // What is replayed, said once before the picture takes the screen.
        let _ = writeln!(
            io::stderr(),
            "burstbuf: replaying {} ({}): {} of {} lines over {}, {} out of order (sorted){}",
            crate::traffic::parse::printable(&trace.name),
            trace.format.name(),
            config.messages.unwrap_or(trace.lines()),
            trace.lines(),
            crate::units::seconds(trace.span().as_secs_f64()),
            trace.out_of_order,
            if config.load == 1.0 {
                String::new()
            } else {
                format!(", at {}x load", crate::units::factor(config.load))
            }
        );
    }
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
    let clock = Clock::start(config.speed);
    // The buffer under study. The one place the capacity is a `usize`: at
    // most MAX_CAPACITY, it fits.
    let slots = usize::try_from(config.capacity).expect("--capacity fits in usize");
    let (buffer_tx, buffer_rx) = buffer::metered_since(slots, clock.start_instant());
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

    let mut joined = run_threads(
        config,
        &shared,
        (buffer_tx, buffer_rx),
        &stops,
        &writer,
        server,
        record,
    );
    let mut gone = None;
    if live
        && let Ok(j) = &mut joined
        && matches!(j.illustrator, Some(Err(_)))
    {
        // The terminal answered with an I/O error: it went away.
        stops.hang_up(&shared.control);
        gone = j.illustrator.replace(Ok(())).and_then(Result::err);
    }
    // Waits for the last frame or line only while the reader takes them.
    let patience = if shared.control.state() == State::Aborted {
        PATIENCE
    } else {
        PATIENCE_DRAINED
    };
    let finished = writer.finish(patience);
    // A terminal that takes nothing (its reader stopped: a stopped tmux):
    // the writer gives up what it has not written, so that the bytes that
    // restore the terminal come after all it wrote. Only a writer stuck in a
    // blocking write cannot, and then nothing more is written there.
    let stuck = live && finished == Finished::Stuck && !writer.abandon(PATIENCE);
    if stops.hung_up() || stuck {
        terminal::forsake();
    }
    drop(guard);
    if let Some(e) = gone {
        let _ = writeln!(io::stderr(), "burstbuf: the terminal went away: {e}");
    }
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
    // The run is over: from now on any stop request aborts, and the
    // end-of-run analysis gives way to it.
    shared.control.stop();
    let mut summary = summarise(config, &shared, &produced, &consumed, aborted);
    summary.recorded = joined.recorded;
    let mut text = Vec::new();
    summary.write(&mut text, config.json)?;
    // Asked to quit during the analysis: as good as an abort, for the exit code and the wait.
    let quit = shared.control.state() == State::Aborted;
    let patience = if quit { PATIENCE } else { patience };
    let code = if stops.hung_up() {
        ExitCode::from(EXIT_HANGUP)
    } else if quit {
        ExitCode::from(EXIT_ABORTED)
    } else {
        ExitCode::SUCCESS
    };
    if stops.hung_up() {
        // Stdout may be the terminal that went away, or a pipe still read
        // (or not); stderr is tried only if stdout did not take it, and on a
        // terminal that went away both fail at once, writing nothing.
        if !matches!(
            writer::write_within(Target::Stdout, text.clone(), PATIENCE),
            Ok(true)
        ) {
            let _ = writer::write_within(Target::Stderr, text, PATIENCE);
        }
        return Ok(code);
    }
    let stuck = finished == Finished::Stuck && target == Target::Stdout;
    let written = if stuck {
        Ok(false)
    } else {
        writer::write_within(Target::Stdout, text.clone(), patience)
    };
    let to_stderr =
        |line: String| writer::write_within(Target::Stderr, line.into_bytes(), PATIENCE);
    match written {
        Ok(true) => {}
        Ok(false) => {
            // Nobody reads stdout: the summary goes where it can.
            let note = "burstbuf: stdout is not being read; the summary follows here\n";
            let _ = to_stderr(note.to_owned() + &String::from_utf8_lossy(&text));
        }
        // Piped into `head` and closed: nobody is left to tell.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe && !config.json => {
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => {
            let _ = to_stderr(format!(
                "burstbuf: could not write the summary to stdout: {e}\n"
            ));
            return Ok(ExitCode::FAILURE);
        }
    }
    let dropped = writer.dropped();
    if dropped > 0 {
        let _ = to_stderr(format!(
            "burstbuf: {dropped} log lines were dropped: their reader did not keep up\n"
        ));
    }
    Ok(code)
}

/// The report, from the threads' own reports and one reading of the
/// counters, taken after `join()` so every update is visible.
fn summarise(
    config: &Config,
    shared: &Shared,
    producer: &producer::Report,
    consumer: &consumer::Report,
    aborted: bool,
) -> Summary {
    let clock = shared.clock;
    let r = Reading::take(shared);
    let blocked = Blocked {
        count: r.blocked.count,
        total_s: r.blocked.total_s,
        max_s: r.blocked.max_s.unwrap_or(0.0),
        p50_s: r.blocked.p50_s,
        p90_s: r.blocked.p90_s,
        p99_s: r.blocked.p99_s,
    };
    let produce_s = clock.model_secs(producer.stopped_at);
    let elapsed_s = clock.model_secs(consumer.finished_at);
    // μ is the pool's rate: messages over the time one consumer would have
    // needed, the consumers' busy time (not waiting for a message or the
    // lock) shared among them.
    // The model's producer offers nothing while blocked; a trace's callers
    // keep arriving, at the trace's rate.
    let arrival = match &config.trace {
        // The lines sent: their mean gap (as the sweep and `fit` count it), at the load.
        Some(trace) => trace
            .mean_gap_s(r.produced)
            .and_then(|gap| stats::rate(1, gap / config.load)),
        None => stats::rate(r.produced, produce_s - r.blocked_s),
    };
    let rates = Rates {
        arrival,
        service: stats::rate(r.consumed, r.busy_s / f64::from(r.consumers)),
    };
    let capacity = config.capacity;
    // The messages this run offered, replayed at the times a never-blocked
    // producer would have offered them, against the same consumers and
    // service times, with an unbounded buffer. Within the end's budget: the
    // end of a run must not wait on it.
    let service = service(config);
    let end = End::new(config, shared, aborted);
    let peak = match &config.trace {
        Some(trace) => end.replay(r.produced, |interrupted| {
            replay_sent(
                config,
                trace,
                r.produced,
                u64::MAX,
                WhenFull::Block,
                &service,
                interrupted,
            )
        }),
        None => end.simulate(
            r.produced as f64,
            &Scenario {
                model: &config.model,
                seed: config.seed,
                capacity: u64::MAX,
                consumers: config.consumers,
                horizon: None,
                messages: Some(r.produced),
                when_full: WhenFull::Block,
            },
            &service,
        ),
    };
    let (peak_backlog, peak_backlog_skipped) = match peak {
        Ok(outcome) => (Some(outcome.max_depth), None),
        Err(why) => (None, Some(why)),
    };
    Summary {
        capacity,
        produced: r.produced,
        consumed: r.consumed,
        unconsumed: r.produced - r.consumed - r.dropped,
        dropped: r.dropped,
        when_full: config.when_full,
        full_count: r.full_count,
        in_order: consumer.out_of_order == 0,
        aborted,
        seed: config.seed,
        speed: config.speed,
        elapsed_s,
        produce_s,
        drain_s: clock.model_secs_between(producer.stopped_at, consumer.finished_at),
        full_share: if r.produced == 0 {
            0.0
        } else {
            r.full_count as f64 / r.produced as f64
        },
        first_full_s: r.first_full_s,
        blocked,
        arrival_rate: rates.arrival,
        service_rate: rates.service,
        utilisation: rates.utilisation(),
        high_water: r.high_water,
        max_catch_up_s: rates
            .service
            .filter(|mu| *mu > 0.0)
            .map(|mu| r.high_water as f64 / mu),
        oldest_item_age_max_s: r.oldest_age_max_s,
        peak_backlog,
        peak_backlog_skipped,
        faithful: r.faithful,
        schedule_lag_s: r.schedule_lag_s,
        schedule_lag_max_s: r.schedule_lag_max_s,
        stalls: shared.stalls.figures(&clock),
        verdict: Labelled {
            verdict: Verdict::new(&rates, capacity, peak_backlog, config.consumers),
            faithful: r.faithful,
        },
        predicted: predict(config, &r, produce_s, &end, &service),
        recorded: None,
    }
}

/// How much the end of a run may replay or simulate for each of its figures
/// (the peak backlog, the prediction), in messages of the simplest kind (see
/// [`sim::message_cost`]): a second or so, so the end of a long run does not wait
/// longer. Beyond it the figure is skipped, and the summary says why.
const END_BUDGET: u64 = 20_000_000;

/// The same once the run was aborted: the exit is due within a second of
/// the signal, and most of that is the threads' and the terminal's.
const END_BUDGET_ABORTED: u64 = 2_000_000;

/// The end-of-run analysis: what it may do, and the abort it gives way to.
/// From the moment it starts, any stop request (a second q, INT or TERM)
/// aborts (see [`run`]); the simulation and replay ask every
/// [`sim::POLL`] messages, so the exit follows within milliseconds.
struct End<'a> {
    /// The most messages one figure may replay or simulate.
    messages: u64,
    aborted: bool,
    control: &'a Control,
}

impl<'a> End<'a> {
    fn new(config: &Config, shared: &'a Shared, aborted: bool) -> End<'a> {
        let budget = if aborted {
            END_BUDGET_ABORTED
        } else {
            END_BUDGET
        };
        End {
            messages: (budget as f64
                / sim::message_cost(config.consumers, config.model.stalls.len()))
                as u64,
            aborted,
            control: &shared.control,
        }
    }

    fn interrupted(&self) -> bool {
        self.control.state() == State::Aborted
    }

    /// Why `messages` are not replayed or simulated (`what`), if they are not.
    fn refuse(&self, messages: f64, what: &str) -> Result<(), String> {
        if messages.is_infinite() {
            return Err(
                "nothing paces the producer in model time (its gaps take none, \
                        and it waits for no consumer that takes any), so the simulation \
                        would offer messages without end"
                    .to_owned(),
            );
        }
        if messages <= self.messages as f64 {
            Ok(())
        } else if self.aborted {
            Err(format!(
                "the run was aborted, and {} messages to {what} would hold up the exit",
                count(messages)
            ))
        } else {
            Err(format!(
                "about {} messages to {what}, more than the {} the end of a run takes \
                 (use `burstbuf sweep`)",
                count(messages),
                self.messages
            ))
        }
    }

    /// Replays `lines` of a trace (one step a line, whatever its span):
    /// refused if there are more than the budget allows, `Err` too if interrupted.
    fn replay(
        &self,
        lines: u64,
        run: impl FnOnce(&dyn Fn() -> bool) -> Option<Outcome>,
    ) -> Result<Outcome, String> {
        self.refuse(lines as f64, "replay")?;
        run(&|| self.interrupted()).ok_or_else(|| INTERRUPTED.to_owned())
    }

    /// Simulates a scenario expected to offer about `expected` messages:
    /// refused up front if that is beyond the budget, and cut if it goes beyond it.
    fn simulate(
        &self,
        expected: f64,
        scenario: &Scenario,
        service: &Service,
    ) -> Result<Outcome, String> {
        self.refuse(expected, "simulate")?;
        let budget = sim::Budget {
            messages: self.messages,
            interrupted: &|| self.interrupted(),
        };
        sim::simulate_within(scenario, &|seq| service.ns(seq), budget).map_err(|cut| match cut {
            Cut::Budget => format!(
                "more than the {} messages the end of a run takes to simulate \
                 (use `burstbuf sweep`)",
                self.messages
            ),
            Cut::Interrupted => INTERRUPTED.to_owned(),
        })
    }
}

/// Why an end-of-run figure is missing when a stop request came during it.
const INTERRUPTED: &str = "interrupted by a stop request (q, INT or TERM)";

/// A count for people: exact below a million, else like 1.0e9.
fn count(n: f64) -> String {
    if n < 1e6 {
        format!("{n:.0}")
    } else {
        format!("{n:.1e}")
    }
}

/// What the sweep's simulation (and, where the model is exponential both
/// ways, queueing theory) says the same run should have counted: the same
/// model, seed, capacity and consumers, producing for as long as this run
/// did; a trace is replayed against the same buffer.
fn predict(
    config: &Config,
    r: &Reading,
    produce_s: f64,
    end: &End,
    service: &Service,
) -> Predicted {
    let model = &config.model;
    // A trace or a service file has no formula.
    let theory = (config.trace.is_none() && config.service_from.is_none())
        .then(|| queueing::theory(model, config.consumers, config.capacity))
        .flatten();
    let outcome = if end.aborted {
        Err("the run was aborted".to_owned())
    } else {
        match &config.trace {
            Some(trace) => end.replay(r.produced, |interrupted| {
                replay_sent(
                    config,
                    trace,
                    r.produced,
                    config.capacity,
                    config.when_full,
                    service,
                    interrupted,
                )
            }),
            None => {
                // Saturates rather than panics: a horizon past `Duration`'s range is no horizon.
                let horizon =
                    Duration::try_from_secs_f64(produce_s.max(0.0)).unwrap_or(Duration::MAX);
                let mean_service = Service::mean_of_run(config.service_from.as_ref(), model);
                let expected = sim::expected_offers(
                    model.mean_gap(),
                    mean_service,
                    config.consumers,
                    config.capacity,
                    config.when_full,
                    horizon,
                )
                .min(config.messages.map_or(f64::INFINITY, |m| m as f64));
                end.simulate(
                    expected,
                    &Scenario {
                        model,
                        seed: config.seed,
                        capacity: config.capacity,
                        consumers: config.consumers,
                        horizon: Some(horizon),
                        messages: config.messages,
                        when_full: config.when_full,
                    },
                    service,
                )
            }
        }
    };
    let (outcome, skipped) = match outcome {
        Ok(outcome) => (Some(outcome), None),
        Err(why) => (None, Some(why)),
    };
    Predicted {
        simulated_full_count: outcome.as_ref().map(|o| o.full_count),
        simulated_produced: outcome.as_ref().map(|o| o.produced),
        theory_full_share: theory.as_ref().map(|t| t.full_share),
        theory: theory.map(|t| t.formula),
        skipped,
    }
}

/// The trace's lines this run sent, replayed against `capacity` slots with
/// the run's consumers, load and stalls; `None` if interrupted.
fn replay_sent(
    config: &Config,
    trace: &Trace,
    sent: u64,
    capacity: u64,
    when_full: WhenFull,
    service: &Service,
    interrupted: &dyn Fn() -> bool,
) -> Option<Outcome> {
    let offsets = &trace.offsets[..sent as usize];
    replay::replay_what_if_within(
        &Replay {
            offsets,
            load: config.load,
            produce: Duration::from_nanos(offsets.last().copied().unwrap_or(0)),
            capacity,
            consumers: config.consumers,
        },
        service,
        when_full,
        &config.model.stalls,
        interrupted,
    )
}

/// The service times of the run: the model's, or `--service-from`'s.
fn service(config: &Config) -> Service {
    Service::of_run(config.service_from.as_ref(), &config.model, config.seed)
}

fn run_threads(
    config: &Config,
    shared: &Shared,
    (buffer_tx, intake): (MeteredSender<u64>, MeteredReceiver<u64>),
    stops: &Stops,
    writer: &Writer,
    server: Option<metrics::Server>,
    record: Option<(Tape, Writing)>,
) -> io::Result<Joined> {
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
        when_full: match config.when_full {
            WhenFull::Block => Policy::Block,
            WhenFull::DropNewest => Policy::DropNewest,
            WhenFull::DropOldest => Policy::DropOldest(intake.evictor()),
        },
    };
    let service = service(config);
    let feeds = Feeds {
        produced: produced_rx,
        consumed: consumed_rx,
    };

    // Set once the run is over; the metrics server polls it.
    let run_over = AtomicBool::new(false);
    thread::scope(|s| {
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
                    consumer::run(service, intake, events, shared)
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
        Ok(joined)
    })
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
    use crate::model::{Model, Tolerance};

    /// The live configuration of a command line.
    fn live(args: &[&str]) -> Config {
        let cli =
            Cli::try_parse_from(std::iter::once("burstbuf").chain(args.iter().copied())).unwrap();
        match config::resolve(cli, &Env::default()).unwrap() {
            Run::Live(config) => config,
            Run::Sweep(_) | Run::Fit(_) => panic!("not live"),
        }
    }

    fn shared(config: &Config) -> Shared {
        let (tx, _rx) = buffer::metered::<u64>(1);
        Shared::new(
            Clock::start(1.0),
            tx.meter(),
            config.consumers,
            Tolerance::default(),
        )
    }

    /// The prediction of a run of `args` that produced for a second.
    fn predicted(args: &[&str]) -> Predicted {
        let config = live(args);
        let s = shared(&config);
        let end = End::new(&config, &s, false);
        predict(&config, &Reading::take(&s), 1.0, &end, &service(&config))
    }

    #[test]
    fn the_prediction_is_bounded_by_what_it_would_simulate() {
        let flat_out = ["--produce-every=0s", "--consume-every=0s", "--burst-prob=0"];
        // Nothing takes any time: a horizon never passes, so it is not tried.
        let p = predicted(&[&flat_out[..], &["--duration=1s"]].concat());
        assert_eq!(p.simulated_produced, None);
        assert!(p.skipped.unwrap().contains("without end"));
        // Nor with no gap and a drop policy: it never waits for the consumers.
        let p = predicted(&[
            "--produce-every=0s",
            "--burst-prob=0",
            "--when-full=drop-newest",
        ]);
        assert!(p.skipped.unwrap().contains("without end"));
        // A message a nanosecond for a second: 10^9, refused before it starts.
        let p = predicted(&[
            "--produce-every=1ns",
            "--consume-every=0s",
            "--burst-prob=0",
        ]);
        let why = p.skipped.unwrap();
        assert!(why.contains("1.0e9 messages to simulate"), "{why}");
        // Nothing takes any time, but a message limit within the budget: simulated.
        let p = predicted(&[&flat_out[..], &["--messages=100000"]].concat());
        assert_eq!(p.simulated_produced, Some(100_000));
        // 1000 consumers cost more a message: fewer fit in the same budget.
        let many = live(&["--consumers=1000"]);
        let s = shared(&many);
        assert!(End::new(&many, &s, false).messages < END_BUDGET / 50);
        // Aborted: a tenth of the budget, for the figures that still run.
        let one = live(&[]);
        assert_eq!(End::new(&one, &s, true).messages, END_BUDGET_ABORTED);
    }

    #[test]
    fn a_stop_request_during_the_end_of_a_run_interrupts_it() {
        // 10^6 messages at once: more than one poll's worth, well within the budget.
        let config = live(&[
            "--produce-every=0s",
            "--consume-every=0s",
            "--burst-prob=0",
            "--messages=1000000",
        ]);
        let s = shared(&config);
        let end = End::new(&config, &s, false);
        s.control.abort(); // the second q, INT or TERM, before the first poll
        let p = predict(&config, &Reading::take(&s), 1.0, &end, &service(&config));
        assert_eq!(p.simulated_full_count, None);
        assert_eq!(p.skipped.as_deref(), Some(INTERRUPTED));
        let peak = end.simulate(
            1e6,
            &Scenario {
                model: &config.model,
                seed: 1,
                capacity: u64::MAX,
                consumers: 1,
                horizon: None,
                messages: Some(1_000_000),
                when_full: WhenFull::Block,
            },
            &service(&config),
        );
        assert_eq!(peak.unwrap_err(), INTERRUPTED);
        let replayed = end.replay(10, |interrupted| {
            assert!(interrupted(), "the replay is asked too");
            None
        });
        assert_eq!(replayed.unwrap_err(), INTERRUPTED);
    }

    #[test]
    fn the_wait_for_a_recording_gives_way_to_an_abort() {
        let prefix = std::env::temp_dir().join(format!("burstbuf-app-wait-{}", std::process::id()));
        let prefix = prefix.to_str().unwrap().to_owned();
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
        for file in [".arrivals", ".services"] {
            let _ = std::fs::remove_file(format!("{prefix}{file}{}", record::INCOMPLETE));
            let _ = std::fs::remove_file(format!("{prefix}{file}"));
        }
    }

    #[test]
    fn the_progress_bar() {
        assert_eq!(progress_bar(0, 10, 10), "\r[          ]   0%");
        assert_eq!(progress_bar(4, 10, 10), "\r[####      ]  40%");
        assert_eq!(progress_bar(10, 10, 10), "\r[##########] 100%");
        assert_eq!(progress_bar(0, 0, 4), "\r[####] 100%");
    }

    #[test]
    fn clap_messages_keep_their_hints_on_one_line() {
        let values = "error: invalid value 'foo' for '--arrivals <KIND>'\n  \
                      [possible values: bursty, exponential]\n\n\
                      For more information, try '--help'.\n";
        assert_eq!(
            one_line(values, false),
            "error: invalid value 'foo' for '--arrivals <KIND>' [possible values: bursty, exponential]"
        );
        let missing = "error: the following required arguments were not provided:\n  \
                       --metrics <ADDR>\n\nUsage: burstbuf --metrics-public --metrics <ADDR>\n\n\
                       For more information, try '--help'.\n";
        assert_eq!(
            one_line(missing, true),
            "error: the following required arguments were not provided: --metrics <ADDR> \
             (usage: burstbuf --metrics-public --metrics <ADDR>)"
        );
        let tip = "error: unexpected argument '--capacty' found\n\n  \
                   tip: a similar argument exists: '--capacity'\n\n\
                   Usage: burstbuf [OPTIONS]\n       burstbuf <COMMAND>\n";
        assert_eq!(
            one_line(tip, false),
            "error: unexpected argument '--capacty' found; tip: a similar argument exists: '--capacity'"
        );
    }
}
