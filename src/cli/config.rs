//! The command line resolved: options checked against each other and against
//! the environment, and turned into the typed configuration the rest of the
//! program sees ([`Config`] for the live demo, [`SweepConfig`] for the sweep).
//! Nothing below this module knows about clap.

use std::sync::Arc;
use std::time::Duration;

use clap::CommandFactory;

use super::Error;
use super::args::{
    ArrivalArg, Cli, Command, FitArgs, LiveArgs, LogDurationArg, LogTimeArg, MAX_LOAD, MAX_STALLS,
    ModelArgs, ServiceArg, ServiceOrderArg, SweepArgs, TimeFormatArg, TrafficArgs, Worker,
};
use super::generate::Generate;
use crate::model::{ArrivalKind, Model, ServiceKind, Stall, WhenFull};
use crate::sizing::answer::{Plan, exact_duration};
use crate::sizing::sweep::{self, SweepConfig, TableFormat, Traffic, WhatIf};
use crate::traffic::fit::shell_word;
use crate::traffic::parse::{DurationUnit, LogOptions, LogTime, printable};
use crate::traffic::{EmpiricalService, ServiceOrder, TimeFormat, Trace};
use crate::ui::gauge::Glyphs;
use crate::ui::metrics;
use crate::units::factor;

/// What the command line asks for, resolved.
#[derive(Debug)]
pub enum Run {
    Live(Config),
    Sweep(SweepConfig),
    Fit(FitConfig),
    /// `--generate`: a man page or a completion script, and nothing else.
    Generate(Generate),
}

/// `burstbuf fit`: the file read, and how to print.
#[derive(Debug)]
pub struct FitConfig {
    pub input: FitInput,
    pub json: bool,
    /// With a service time: the sweeps that answer at each load.
    pub answer: Option<Plan>,
}

#[derive(Debug)]
pub enum FitInput {
    Trace(Trace),
    Service(EmpiricalService),
}

/// Checks the options against each other, reads the files they name, and
/// resolves them; an error is one line, like clap's own (see [`Error`]).
pub fn resolve(cli: Cli, env: &Env) -> Result<Run, Error> {
    if let Some(kind) = cli.generate {
        return Ok(Run::Generate(kind));
    }
    let cli = check(cli)?;
    Ok(match cli.command {
        Some(Command::Sweep(args)) => Run::Sweep(sweep_config(*args, env)?),
        Some(Command::Fit(args)) => Run::Fit(fit_config(args, env)?),
        None => {
            let traffic = read_traffic(&cli.live.traffic)?;
            check_load(
                &traffic.loads,
                Some(&cli.live.model),
                traffic.trace.as_deref(),
            )?;
            let duration = cli.live.duration;
            let mut config = Config::new(cli.live, env);
            resolve_live_traffic(&mut config, traffic, duration)?;
            Run::Live(config)
        }
    })
}

/// A value refused in clap's words (`invalid value '…' for '--option'`).
fn invalid(message: String) -> Error {
    Error::Usage(Cli::command().error(clap::error::ErrorKind::ValueValidation, message))
}

/// The files of `--arrivals-from` and `--service-from`, read and checked.
fn time_format(arg: Option<TimeFormatArg>) -> Option<TimeFormat> {
    arg.map(|f| match f {
        TimeFormatArg::Epoch => TimeFormat::Epoch,
        TimeFormatArg::EpochMs => TimeFormat::EpochMs,
        TimeFormatArg::Rfc3339 => TimeFormat::Rfc3339,
        TimeFormatArg::Clf => TimeFormat::Clf,
        TimeFormatArg::Alb => TimeFormat::Alb,
    })
}

/// `--service-order`.
fn service_order(arg: ServiceOrderArg) -> ServiceOrder {
    match arg {
        ServiceOrderArg::Sample => ServiceOrder::Sample,
        ServiceOrderArg::Replay => ServiceOrder::Replay,
    }
}

/// `--log-duration` and `--log-time`.
fn log_options(unit: Option<LogDurationArg>, time: Option<LogTimeArg>) -> LogOptions {
    LogOptions {
        unit: unit.map(|u| match u {
            LogDurationArg::S => DurationUnit::Seconds,
            LogDurationArg::Us => DurationUnit::Micros,
        }),
        time: time.map(|t| match t {
            LogTimeArg::Start => LogTime::Start,
            LogTimeArg::End => LogTime::End,
        }),
    }
}

/// A trace read with `--log-duration` or `--log-time`, checked: an ALB log
/// fixes both (seconds; its arrival is the request's creation), so they
/// would be ignored, and an option ignored is refused.
fn check_log_options(
    trace: Trace,
    unit: Option<LogDurationArg>,
    time: Option<LogTimeArg>,
) -> Result<Trace, Error> {
    if trace.format == TimeFormat::Alb && (unit.is_some() || time.is_some()) {
        return Err(invalid(
            "--log-duration and --log-time do not apply to an ALB log: its \
             target_processing_time is in seconds and its request_creation_time \
             is the request's start"
                .into(),
        ));
    }
    Ok(trace)
}

/// The same options again, for a command `fit` prints.
fn log_flags(unit: Option<LogDurationArg>, time: Option<LogTimeArg>) -> String {
    let mut flags = String::new();
    if let Some(unit) = unit {
        flags += match unit {
            LogDurationArg::S => " --log-duration s",
            LogDurationArg::Us => " --log-duration us",
        };
    }
    if let Some(time) = time {
        flags += match time {
            LogTimeArg::Start => " --log-time start",
            LogTimeArg::End => " --log-time end",
        };
    }
    flags
}

fn fit_config(args: FitArgs, env: &Env) -> Result<FitConfig, Error> {
    let input = match (&args.file, &args.service_from) {
        (None, Some(path)) => FitInput::Service(EmpiricalService::read(path)?),
        (Some(path), _) => FitInput::Trace(check_log_options(
            Trace::read_log(
                path,
                time_format(args.time_format),
                log_options(args.log_duration, args.log_time),
            )?,
            args.log_duration,
            args.log_time,
        )?),
        (None, None) => unreachable!("clap requires FILE or --service-from"),
    };
    let answer = match &input {
        FitInput::Trace(trace) if args.consume_every.is_some() || args.service_from.is_some() => {
            Some(fit_plan(&args, trace, env)?)
        }
        _ => None,
    };
    Ok(FitConfig {
        input,
        json: args.json,
        answer,
    })
}

/// `fit` with a service time: the sweep that answers, one per load, as
/// `burstbuf sweep --arrivals-from` with the same options would run it.
fn fit_plan(args: &FitArgs, trace: &Trace, env: &Env) -> Result<Plan, Error> {
    if args.block.is_zero() {
        return Err(invalid(
            "invalid value '0s' for '--block <DUR>': a block must last longer than 0s".into(),
        ));
    }
    let mut model = Model::original();
    let (service, flags) = match (&args.service_from, args.consume_every) {
        (Some(path), _) => {
            let file = match &trace.durations {
                // The log's own durations, already read with the trace.
                Some(times) if path == &trace.name && path != "-" => EmpiricalService {
                    name: path.clone(),
                    times: Arc::clone(times),
                },
                _ if path == "-" && trace.name == "-" => {
                    return Err(invalid(
                        "the trace and --service-from cannot both read stdin ('-')".into(),
                    ));
                }
                _ => EmpiricalService::read(path)?,
            };
            let order = service_order(args.service_order);
            (
                Some((file, order)),
                format!("--service-from {}", shell_word(path)),
            )
        }
        (None, Some(every)) => {
            model.consume_every = every;
            (None, format!("--consume-every {}", exact_duration(every)))
        }
        (None, None) => unreachable!("fit_plan needs a service time"),
    };
    let template = SweepConfig {
        model,
        seed: args.seed,
        duration: trace.span(),
        capacities: super::args::default_capacities(),
        consumers: vec![1],
        target_full: args.target_full,
        format: TableFormat::Json,
        runs: args.runs,
        what_if: WhatIf::default(),
        traffic: Traffic {
            trace: Some(Arc::new(trace.clone())),
            service,
            loads: args.load.clone(),
            block: args.block,
        },
        threads: env.cores.max(1),
        progress: false,
    };
    check_load(&args.load, None, Some(trace))?;
    Plan::new(
        &template,
        args.consumers.clone(),
        flags + &log_flags(args.log_duration, args.log_time),
        super::args::MAX_CONSUMERS,
    )
    .map_err(|e| invalid(e.to_string()))
}

fn read_traffic(args: &TrafficArgs) -> Result<Traffic, Error> {
    let format = time_format(args.time_format);
    if args.arrivals_from.as_deref() == Some("-") && args.service_from.as_deref() == Some("-") {
        return Err(invalid(
            "--arrivals-from and --service-from cannot both read stdin ('-')".into(),
        ));
    }
    let trace = match &args.arrivals_from {
        Some(path) => Some(Arc::new(check_log_options(
            Trace::read_log(path, format, log_options(args.log_duration, args.log_time))?,
            args.log_duration,
            args.log_time,
        )?)),
        None => None,
    };
    let service = match &args.service_from {
        Some(path) => {
            let file = EmpiricalService::read(path)?;
            let order = service_order(args.service_order);
            Some((file, order))
        }
        None => None,
    };
    Ok(Traffic {
        trace,
        service,
        loads: args.load.clone(),
        block: sweep::BLOCK,
    })
}

/// With a trace, `--duration` defaults to its span, may cut it, and may not
/// be longer; it is measured in the trace's own time (before `--load`).
fn trace_duration(trace: &Trace, given: Option<Duration>) -> Result<Duration, Error> {
    let span = trace.span();
    match given {
        None => Ok(span),
        Some(d) if d > span => Err(invalid(format!(
            "invalid value '{}' for '--duration <DUR>': longer than the trace {} \
             ({}); leave --duration out to replay all of it",
            humantime::format_duration(d),
            printable(&trace.name),
            humantime::format_duration(span)
        ))),
        Some(d) => Ok(d),
    }
}

/// The live demo's traffic: one load, and a trace replayed up to the cut.
fn resolve_live_traffic(
    config: &mut Config,
    traffic: Traffic,
    duration: Option<Duration>,
) -> Result<(), Error> {
    let [load] = traffic.loads[..] else {
        return Err(invalid(
            "invalid value for '--load <X>': the live demo takes one load (a list is for \
             burstbuf sweep)"
                .into(),
        ));
    };
    config.load = load;
    config.model = config.model.at_load(load);
    if let Some(trace) = &traffic.trace {
        // 0s, as without a trace, means "until stopped": here the trace's end.
        let cut = trace_duration(trace, duration.filter(|d| !d.is_zero()))?;
        let lines = trace.lines_within(cut);
        config.messages = Some(config.messages.map_or(lines, |m| m.min(lines)));
        // The trace's end stops the producer; a deadline would count load-scaled time.
        config.duration = None;
    }
    config.trace = traffic.trace;
    config.service_from = traffic.service;
    Ok(())
}

/// Checks that span several options.
fn check(cli: Cli) -> Result<Cli, Error> {
    if let Some(addr) = cli.live.metrics
        && let Err(why) = metrics::check_address(&addr, cli.live.metrics_public)
    {
        return Err(invalid(format!(
            "invalid value '{addr}' for '--metrics <ADDR>': {why}"
        )));
    }
    match &cli.command {
        Some(Command::Sweep(args)) => check_stalls(&args.model, true)?,
        None => check_stalls(&cli.live.model, false)?,
        _ => {}
    }
    // A sweep's cost is checked once its files are read (a trace's cost is
    // its lines and blocks, a service file's mean paces the model).
    Ok(cli)
}

fn model(args: &ModelArgs) -> Model {
    Model {
        produce_every: args.produce_every,
        burst_prob: args.burst_prob,
        burst_pause: args.burst_pause,
        consume_every: args.consume_every,
        arrivals: match args.arrivals {
            ArrivalArg::Bursty => ArrivalKind::Bursty,
            ArrivalArg::Exponential => ArrivalKind::Exponential,
        },
        service: match args.service {
            ServiceArg::Fixed => ServiceKind::Fixed,
            ServiceArg::Exponential => ServiceKind::Exponential,
        },
        stalls: stalls(args),
    }
}

/// `--when-full` in the model's terms: each policy once, in the order given.
fn policies(args: &ModelArgs) -> Vec<WhenFull> {
    let mut policies = Vec::new();
    for &p in &args.when_full {
        if !policies.contains(&p) {
            policies.push(p);
        }
    }
    if policies.is_empty() {
        policies.push(WhenFull::Block);
    }
    policies
}

/// `--stall`s in the model's terms, sorted by start.
fn stalls(args: &ModelArgs) -> Vec<Stall> {
    let mut stalls: Vec<Stall> = args
        .stall
        .iter()
        .map(|s| Stall {
            at: s.at,
            length: s.length,
        })
        .collect();
    stalls.sort_by_key(|s| (s.at, s.length));
    stalls
}

/// `--stall` is checked against the options it cannot go with.
fn check_stalls(model: &ModelArgs, sweeping: bool) -> Result<(), Error> {
    if model.stall.len() > MAX_STALLS {
        return Err(invalid(format!(
            "invalid value for '--stall <DUR@AT>': at most {MAX_STALLS} stalls allowed"
        )));
    }
    if !sweeping && policies(model).len() > 1 {
        return Err(invalid(
            "invalid value for '--when-full <POLICY>': the live demo takes one policy (a list \
             is for burstbuf sweep)"
                .into(),
        ));
    }
    if model.when_full.len() > 3 {
        return Err(invalid(
            "invalid value for '--when-full <POLICY>': each policy at most once".into(),
        ));
    }
    Ok(())
}

/// The largest random seed: 2^53 - 1, so that the seed in the JSON summary
/// survives tools that read numbers as doubles (jq, JavaScript). A `--seed`
/// above it is still taken as given.
pub const MAX_RANDOM_SEED: u64 = (1 << 53) - 1;

/// The seed given, or a random one of at most 53 bits.
fn seed(args: &ModelArgs) -> u64 {
    args.seed
        .unwrap_or_else(|| rand::random::<u64>() & MAX_RANDOM_SEED)
}

/// How long a sweep simulates the built-in model when `--duration` is not given.
pub const SWEEP_DURATION: Duration = Duration::from_secs(3600);

/// How long the live demo runs the built-in model when `--duration` is not given.
pub const LIVE_DURATION: Duration = Duration::from_secs(30);

fn sweep_config(args: SweepArgs, env: &Env) -> Result<SweepConfig, Error> {
    let mut traffic = read_traffic(&args.traffic)?;
    if args.block.is_zero() {
        return Err(invalid(
            "invalid value '0s' for '--block <DUR>': a block must last longer than 0s".into(),
        ));
    }
    traffic.block = args.block;
    check_load(&traffic.loads, Some(&args.model), traffic.trace.as_deref())?;
    let duration = match &traffic.trace {
        Some(trace) => trace_duration(trace, args.duration)?,
        None => args.duration.unwrap_or(SWEEP_DURATION),
    };
    let config = SweepConfig {
        model: model(&args.model),
        seed: seed(&args.model),
        traffic,
        duration,
        capacities: args.capacities,
        consumers: args.consumers,
        target_full: args.target_full,
        format: match (args.json, args.csv) {
            (true, _) => TableFormat::Json,
            (_, true) => TableFormat::Csv,
            _ if args.wide => TableFormat::Wide,
            _ => TableFormat::Text,
        },
        runs: args.runs,
        what_if: WhatIf {
            when_full: policies(&args.model),
            target_p99: args.target_p99,
            target_drop: args.target_drop,
            message_size: args.message_size,
        },
        threads: env.cores.max(1),
        // The bar is drawn over itself with a carriage return: only on a terminal.
        progress: env.stderr_is_terminal,
    };
    sweep::check(&config).map_err(|e| invalid(e.to_string()))?;
    Ok(config)
}

/// The longest gap `--load` may stretch to: a gap of the model's, or a
/// trace's span (as a trace is a chain of gaps). Beyond it the nanoseconds
/// of model time the simulations, the replay and the live clock count would
/// no longer fit; up to it they do, with as much again to spare. A trace's
/// span reaches it at load 1 (its years are 1824 to 2116).
pub const MAX_STRETCH: Duration = Duration::from_nanos(i64::MAX as u64);

/// `--load` (a sweep's slowest) against what it stretches: the model's
/// longest gap, or with a trace its span, may not pass [`MAX_STRETCH`].
fn check_load(
    loads: &[f64],
    model: Option<&ModelArgs>,
    trace: Option<&Trace>,
) -> Result<(), Error> {
    let Some(&slowest) = loads.first() else {
        return Ok(());
    };
    let (stretched, what) = match trace {
        Some(trace) => (
            trace.span(),
            format!(
                "the span of {} ({})",
                printable(&trace.name),
                humantime::format_duration(trace.span())
            ),
        ),
        None => {
            let model = model.expect("without a trace, the model's gaps are stretched");
            match model.arrivals {
                ArrivalArg::Bursty => (
                    model.produce_every.saturating_add(model.burst_pause),
                    format!(
                        "a gap of --produce-every {} plus --burst-pause {}",
                        humantime::format_duration(model.produce_every),
                        humantime::format_duration(model.burst_pause)
                    ),
                ),
                ArrivalArg::Exponential => (
                    model.produce_every,
                    format!(
                        "a mean gap of --produce-every {}",
                        humantime::format_duration(model.produce_every)
                    ),
                ),
            }
        }
    };
    let least = stretched.as_secs_f64() / MAX_STRETCH.as_secs_f64();
    if slowest >= least {
        return Ok(());
    }
    Err(invalid(format!(
        "invalid value '{}' for '--load <X>': with {what}, from {least:.2e} to {} is allowed \
         (a slower load stretches it past {}, the most model time the simulation counts)",
        factor(slowest),
        factor(MAX_LOAD),
        years(MAX_STRETCH)
    )))
}

/// A long time in whole years, as people say it.
fn years(d: Duration) -> String {
    format!("{:.0} years", d.as_secs_f64() / (365.25 * 86_400.0))
}

/// How the run is shown while it goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// The live gauge on the terminal (alternate screen, raw mode).
    Live,
    /// Log lines, no escape codes: a pipe, a file, CI, `TERM=dumb` or `--plain`.
    Plain,
}

/// What the program needs to know of its environment, read once.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub stdout_is_terminal: bool,
    /// For the sweep's progress bar.
    pub stderr_is_terminal: bool,
    /// Cores this process may use, for the sweep's threads (0 when unknown: one).
    pub cores: usize,
    /// `TERM`.
    pub term: Option<String>,
    /// `NO_COLOR` is set and not empty (<https://no-color.org>).
    pub no_color: bool,
    /// The locale (`LC_ALL`, else `LC_CTYPE`, else `LANG`) is UTF-8.
    pub utf8: bool,
}

impl Env {
    pub fn from_process() -> Env {
        use std::io::IsTerminal;
        let var = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
        let locale = var("LC_ALL")
            .or_else(|| var("LC_CTYPE"))
            .or_else(|| var("LANG"));
        Env {
            stdout_is_terminal: std::io::stdout().is_terminal(),
            stderr_is_terminal: std::io::stderr().is_terminal(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            term: var("TERM"),
            no_color: var("NO_COLOR").is_some(),
            utf8: locale.is_some_and(|l| {
                let l = l.to_ascii_lowercase();
                l.contains("utf-8") || l.contains("utf8")
            }),
        }
    }
}

/// The validated configuration: the only form of the options the program uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Messages the buffer holds, 1 to [`MAX_CAPACITY`](super::args::MAX_CAPACITY).
    pub capacity: u64,
    pub model: Model,
    /// How long the producer runs, in model time; `None` until stopped by hand.
    pub duration: Option<std::time::Duration>,
    /// The most messages the producer sends; `None` for no limit.
    pub messages: Option<u64>,
    pub seed: u64,
    pub speed: f64,
    pub display: Display,
    /// Alert lines in colour: only live, never with `NO_COLOR` or `TERM=dumb`.
    pub colour: bool,
    pub glyphs: Glyphs,
    pub json: bool,
    /// Where to serve the live counters, if anywhere.
    pub metrics: Option<std::net::SocketAddr>,
    /// `--metrics-public`: answer requests naming any `Host`, not only loopback.
    pub metrics_public: bool,
    /// Consumer threads sharing the buffer.
    pub consumers: u32,
    /// The thread that panics on purpose, in tests of the terminal's restoration.
    pub test_panic: Option<Worker>,
    /// `--record PREFIX`: where to write the run's arrivals and service times.
    pub record: Option<String>,
    /// `--overwrite`: `--record` may replace files that exist.
    pub overwrite: bool,
    /// `--arrivals-from`: replayed instead of the model's arrivals, up to
    /// `messages` (the `--duration` cut).
    pub trace: Option<Arc<Trace>>,
    /// `--service-from`, and how its times are used.
    pub service_from: Option<(EmpiricalService, ServiceOrder)>,
    /// `--load`: arrivals this many times as fast.
    pub load: f64,
    /// `--when-full`: what a send that finds the buffer full does.
    pub when_full: WhenFull,
}

impl Config {
    /// Resolves the command line against the environment: whether stdout is a
    /// terminal, colour and the character set are decided here, once.
    pub fn new(cli: LiveArgs, env: &Env) -> Config {
        let dumb = env.term.as_deref() == Some("dumb");
        let display = if cli.plain || !env.stdout_is_terminal || dumb {
            Display::Plain
        } else {
            Display::Live
        };
        let glyphs = if env.utf8 && !dumb {
            Glyphs::Unicode
        } else {
            Glyphs::Ascii
        };
        Config {
            capacity: cli.capacity,
            model: model(&cli.model),
            duration: Some(cli.duration.unwrap_or(LIVE_DURATION)).filter(|d| !d.is_zero()),
            messages: cli.messages,
            seed: seed(&cli.model),
            speed: cli.speed,
            display,
            colour: display == Display::Live && !env.no_color,
            glyphs,
            json: cli.json,
            metrics: cli.metrics,
            metrics_public: cli.metrics_public,
            consumers: cli.consumers,
            test_panic: cli.test_panic,
            record: cli.record,
            overwrite: cli.overwrite,
            trace: None,
            service_from: None,
            load: 1.0,
            when_full: policies(&cli.model)[0],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::time::Duration;

    fn parse(args: &[&str]) -> Result<Cli, Error> {
        Ok(Cli::try_parse_from(
            std::iter::once("burstbuf").chain(args.iter().copied()),
        )?)
    }

    fn env(tty: bool, term: Option<&str>) -> Env {
        Env {
            stdout_is_terminal: tty,
            stderr_is_terminal: tty,
            cores: 2,
            term: term.map(String::from),
            no_color: false,
            utf8: true,
        }
    }

    fn error(args: &[&str]) -> String {
        parse(args).unwrap_err().to_string()
    }

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_are_the_originals() {
        let config = Config::new(parse(&[]).unwrap().live, &env(true, Some("xterm")));
        assert_eq!(config.model, Model::original());
        assert_eq!(config.capacity, 100);
        assert_eq!(config.model.produce_every, Duration::from_millis(20));
        assert_eq!(config.model.burst_prob, 0.1);
        assert_eq!(config.model.burst_pause, Duration::from_secs(1));
        assert_eq!(config.model.consume_every, Duration::from_millis(300));
        assert_eq!(config.duration, Some(Duration::from_secs(30)));
        assert_eq!(config.messages, None);
        assert_eq!(config.speed, 1.0);
        assert_eq!(config.display, Display::Live);
        assert!(!config.json);
    }

    #[test]
    fn every_option_is_read() {
        let cli = parse(&[
            "--capacity=7",
            "--produce-every=1ms",
            "--burst-prob=0.5",
            "--burst-pause=2s",
            "--consume-every=1.5s",
            "--duration=0s",
            "--messages=9",
            "--seed=42",
            "--speed=2.5",
            "--json",
            "--consumers=3",
            "--arrivals=exponential",
            "--service=exponential",
            "--metrics=127.0.0.1:0",
        ])
        .unwrap();
        assert!(cli.command.is_none());
        let config = Config::new(cli.live, &env(true, None));
        assert_eq!(config.consumers, 3);
        assert_eq!(config.model.arrivals, ArrivalKind::Exponential);
        assert_eq!(config.model.service, ServiceKind::Exponential);
        assert_eq!(config.metrics, Some("127.0.0.1:0".parse().unwrap()));
        assert_eq!(config.capacity, 7);
        assert_eq!(config.model.produce_every, Duration::from_millis(1));
        assert_eq!(config.model.burst_prob, 0.5);
        assert_eq!(config.model.burst_pause, Duration::from_secs(2));
        assert_eq!(config.model.consume_every, Duration::from_millis(1500));
        assert_eq!(config.duration, None, "0s means no time limit");
        assert_eq!(config.messages, Some(9));
        assert_eq!(config.seed, 42);
        assert_eq!(config.speed, 2.5);
        assert!(config.json);
    }

    fn sweep(args: &[&str]) -> Result<SweepConfig, Error> {
        let cli = parse(&[&["sweep"], args].concat())?;
        match resolve(cli, &Env::default())? {
            Run::Sweep(config) => Ok(config),
            Run::Live(_) | Run::Fit(_) | Run::Generate(_) => panic!("not a sweep"),
        }
    }

    #[test]
    fn sweep_defaults() {
        let config = sweep(&["--seed=5"]).unwrap();
        assert_eq!(config.duration, Duration::from_secs(3600));
        assert_eq!(
            config.capacities,
            [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]
        );
        assert_eq!(config.consumers, [1]);
        assert_eq!(config.target_full, 0.01);
        assert_eq!(config.format, TableFormat::Text);
        assert_eq!(config.seed, 5);
        assert_eq!(config.model.consume_every, Duration::from_millis(300));
    }

    #[test]
    fn sweep_runs_threads_and_progress() {
        assert_eq!(sweep(&[]).unwrap().runs, 10);
        assert_eq!(sweep(&["--runs=1"]).unwrap().runs, 1);
        assert_eq!(sweep(&["--runs", "1000"]).unwrap().runs, 1000);
        let resolved = |args: &[&str], env: &Env| match resolve(
            parse(&[&["sweep"], args].concat()).unwrap(),
            env,
        )
        .unwrap()
        {
            Run::Sweep(config) => config,
            Run::Live(_) | Run::Fit(_) | Run::Generate(_) => panic!("no subcommand"),
        };
        // The bar only on a terminal, and the threads from the cores, both decided here.
        let terminal = Env {
            stderr_is_terminal: true,
            cores: 2,
            ..Env::default()
        };
        let config = resolved(&[], &terminal);
        assert!(config.progress);
        assert_eq!(config.threads, 2);
        let piped = resolved(&[], &Env::default());
        assert!(!piped.progress);
        assert_eq!(piped.threads, 1, "unknown cores: one thread");
    }

    #[test]
    fn sweep_lists_ranges_and_formats() {
        let config = sweep(&[
            "--capacities=10,50,100,500",
            "--consumers=1,2,4",
            "--target-full=0.05",
            "--duration=10m",
            "--csv",
        ])
        .unwrap();
        assert_eq!(config.capacities, [10, 50, 100, 500]);
        assert_eq!(config.consumers, [1, 2, 4]);
        assert_eq!(config.target_full, 0.05);
        assert_eq!(config.duration, Duration::from_secs(600));
        assert_eq!(config.format, TableFormat::Csv);
        assert_eq!(
            sweep(&["--capacities=3..700"]).unwrap().capacities,
            [3, 5, 10, 20, 50, 100, 200, 500, 700]
        );
        assert_eq!(sweep(&["--capacities=7"]).unwrap().capacities, [7]);
        assert_eq!(sweep(&["--json"]).unwrap().format, TableFormat::Json);
        assert_eq!(sweep(&["--wide"]).unwrap().format, TableFormat::Wide);
        assert!(sweep(&["--wide", "--csv"]).is_err());
    }

    #[test]
    fn every_list_takes_ranges_and_every_share_percentages() {
        let config = sweep(&[
            "--consumers=1..4",
            "--capacities=100..1000:300",
            "--load=1..2:0.5",
            "--target-full=1%",
            "--target-drop=5%",
            "--when-full=drop-newest",
            "--burst-prob=10%",
        ])
        .unwrap();
        assert_eq!(config.consumers, [1, 2, 3, 4]);
        assert_eq!(config.capacities, [100, 400, 700, 1000]);
        assert_eq!(config.traffic.loads, [1.0, 1.5, 2.0]);
        assert_eq!(config.target_full, 0.01);
        assert_eq!(config.what_if.target_drop, Some(0.05));
        assert_eq!(config.model.burst_prob, 0.1);
        // Values and ranges mixed, and a range in 1-2-5 steps as before.
        let config = sweep(&["--consumers=1,4..6", "--capacities=1..100,150"]).unwrap();
        assert_eq!(config.consumers, [1, 4, 5, 6]);
        assert_eq!(config.capacities, [1, 2, 5, 10, 20, 50, 100, 150]);
        assert_eq!(
            sweep(&["--load=1..3"]).unwrap().traffic.loads,
            [1.0, 2.0, 3.0]
        );
        let fit = parse(&["fit", "x", "--consume-every=300ms", "--target-full=1%"]).unwrap();
        let Some(Command::Fit(fit)) = fit.command else {
            panic!("not fit");
        };
        assert_eq!(fit.target_full, 0.01);
    }

    #[test]
    fn a_duration_split_by_the_shell_is_joined() {
        let parsed = |args: &[&str]| {
            let cli = Cli::parse_explained(std::iter::once("burstbuf").chain(args.iter().copied()));
            cli.map(|cli| cli.live.model.consume_every)
        };
        let ms_250 = Duration::from_millis(250);
        assert_eq!(parsed(&["--consume-every", "250", "ms"]).unwrap(), ms_250);
        assert_eq!(parsed(&["--consume-every=250", "ms"]).unwrap(), ms_250);
        assert_eq!(parsed(&["--consume-every", "0.25", "s"]).unwrap(), ms_250);
        assert_eq!(parsed(&["--consume-every", "250ms"]).unwrap(), ms_250);
        // Not a unit after it: left as it is, and the stray word is named.
        let message = parsed(&["--consume-every", "250", "x"]).unwrap_err();
        assert!(
            message.to_string().contains("unexpected word 'x'"),
            "{message}"
        );
        let message = parsed(&["--consume-every", "250"]).unwrap_err();
        assert!(
            message.to_string().contains("did you mean 250ms?"),
            "{message}"
        );
        // Only after a duration option.
        assert!(parsed(&["--capacity", "250", "ms"]).is_err());
        let sweep = Cli::parse_explained(["burstbuf", "sweep", "--duration", "2", "m"]).unwrap();
        let Some(Command::Sweep(sweep)) = sweep.command else {
            panic!("not a sweep");
        };
        assert_eq!(sweep.duration, Some(Duration::from_secs(120)));
    }

    #[test]
    fn list_errors_show_the_forms() {
        for bad in [
            "--consumers=4..1",
            "--consumers=0",
            "--capacities=1..5,3",
            "--load=0..2",
        ] {
            let message = sweep(&[bad]).unwrap_err().to_string();
            assert!(
                message.contains("1,2,4") && message.contains("1..4"),
                "{bad}: {message}"
            );
        }
        let message = sweep(&["--capacities=1..1000000000:1"])
            .unwrap_err()
            .to_string();
        assert!(message.contains("at most 10000"), "{message}");
    }

    #[test]
    fn bad_sweeps_name_the_option() {
        let cases: &[(&[&str], &str, &str)] = &[
            (&["--capacities="], "--capacities", "list"),
            (&["--capacities=100,50"], "--capacities", "go up"),
            (&["--capacities=5,5"], "--capacities", "go up"),
            (&["--capacities=0,10"], "--capacities", "from 1"),
            (&["--capacities=10..1"], "--capacities", "go up"),
            (&["--capacities=0..10"], "--capacities", "from 1"),
            (&["--consumers=0"], "--consumers", "from 1"),
            (&["--consumers=2,1"], "--consumers", "go up"),
            (&["--target-full=0"], "--target-full", "between 0 and 1"),
            (&["--target-full=1"], "--target-full", "between 0 and 1"),
            (&["--target-full=1.5"], "--target-full", "between 0 and 1"),
            (&["--json", "--csv"], "--json", "cannot be used with"),
            (&["--runs=0"], "--runs", "from 1 to 1000"),
            (&["--runs=1001"], "--runs", "from 1 to 1000"),
            (&["--runs=2.5"], "--runs", "whole number"),
        ];
        for (args, option, allowed) in cases {
            let message = sweep(args).unwrap_err().to_string();
            assert!(
                message.contains(option) && message.contains(allowed),
                "{args:?} gave: {message}"
            );
        }
        // Time that never moves: nothing takes any time.
        let frozen = sweep(&["--produce-every=0s", "--burst-prob=0", "--consume-every=0s"])
            .unwrap_err()
            .to_string();
        assert!(
            frozen.contains("--consume-every") && frozen.contains("never pass"),
            "{frozen}"
        );
        let huge = sweep(&[
            "--produce-every=1ns",
            "--burst-prob=0",
            "--consume-every=1ns",
            "--duration=1h",
        ])
        .unwrap_err()
        .to_string();
        assert!(huge.contains("3.6e12"), "{huge}");
        // The guard counts every run: allowed as one run, refused as ten.
        assert!(sweep(&["--duration=366days", "--runs=1"]).is_ok());
        let long = sweep(&["--duration=366days", "--runs=10"])
            .unwrap_err()
            .to_string();
        assert!(
            long.contains("whole sweep") && long.contains("13 points × 10 runs"),
            "{long}"
        );
        assert!(
            sweep(&["--produce-every=0s", "--burst-prob=0"]).is_ok(),
            "paced by the consumer"
        );
        // Too many simulations: about 27 capacities × 400 consumer counts.
        let many: Vec<String> = (1..=400).map(|n| n.to_string()).collect();
        let consumers = format!("--consumers={}", many.join(","));
        let message = sweep(&["--capacities=1..1000000000", &consumers])
            .unwrap_err()
            .to_string();
        assert!(message.contains("at most 10000"), "{message}");
        // Live options go without a subcommand, not with one.
        assert!(parse(&["--capacity=5", "sweep"]).is_err());
    }

    /// A file named `name` in a temporary directory of its own (`tempfile`),
    /// removed with it when dropped.
    struct TempFile {
        path: String,
        _dir: tempfile::TempDir,
    }

    impl TempFile {
        fn new(name: &str, text: &str) -> TempFile {
            let dir = tempfile::Builder::new()
                .prefix("burstbuf-config-")
                .tempdir()
                .unwrap();
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            TempFile {
                path: path.to_str().unwrap().to_owned(),
                _dir: dir,
            }
        }

        fn path(&self) -> &str {
            &self.path
        }
    }

    #[test]
    fn stalls_and_drop_policies_go_with_a_trace() {
        let file = TempFile::new("whatif.txt", "0\n1\n2\n");
        let from = format!("--arrivals-from={}", file.path());
        let config = sweep(&[
            &from,
            "--stall=1s@1s",
            "--when-full=block,drop-newest,drop-oldest",
        ])
        .unwrap();
        assert_eq!(config.model.stalls.len(), 1);
        assert_eq!(config.what_if.when_full.len(), 3);
        // The cost guard counts every policy: 100 capacities × 1000 runs
        // (100 000 simulations, the most allowed) pass alone, not under two policies.
        let capacities = format!(
            "--capacities={}",
            (1..=100)
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(sweep(&[&from, &capacities, "--runs=1000"]).is_ok());
        let message = sweep(&[
            &from,
            &capacities,
            "--runs=1000",
            "--when-full=block,drop-newest",
        ])
        .unwrap_err()
        .to_string();
        assert!(message.contains("simulations"), "{message}");
        // Live: one policy and the stalls, with the trace.
        let cli = parse(&[&from, "--stall=1s@1s", "--when-full=drop-oldest"]).unwrap();
        match resolve(cli, &Env::default()).unwrap() {
            Run::Live(config) => {
                assert_eq!(config.when_full, WhenFull::DropOldest);
                assert_eq!(config.model.stalls.len(), 1);
                assert!(config.trace.is_some());
            }
            Run::Sweep(_) | Run::Fit(_) | Run::Generate(_) => panic!("not live"),
        }
    }

    #[test]
    fn a_trace_sets_the_duration_and_may_be_cut_but_not_stretched() {
        // 0 s to 100 s in steps of 10 s: a span of 100 s.
        let text: String = (0..=10).map(|k| format!("{}\n", 1000 + 10 * k)).collect();
        let file = TempFile::new("span.txt", &text);
        let from = format!("--arrivals-from={}", file.path());
        let config = sweep(&[&from]).unwrap();
        assert_eq!(config.duration, Duration::from_secs(100));
        let trace = config.traffic.trace.as_ref().unwrap();
        assert_eq!(trace.lines(), 11);
        assert_eq!(
            sweep(&[&from, "--duration=50s"]).unwrap().duration,
            Duration::from_secs(50)
        );
        let longer = sweep(&[&from, "--duration=2m"]).unwrap_err().to_string();
        assert!(
            longer.contains("--duration") && longer.contains("longer than the trace"),
            "{longer}"
        );
        // A ten-year trace of a few lines is fine: the guard counts lines.
        let decade = TempFile::new("decade.txt", "0\n315576000\n");
        let config = sweep(&[&format!("--arrivals-from={}", decade.path())]).unwrap();
        assert_eq!(config.duration, Duration::from_secs(315_576_000));
        // Live: the cut becomes a message limit; no deadline.
        let live = |args: &[&str]| match parse(args).and_then(|cli| resolve(cli, &Env::default())) {
            Ok(Run::Live(config)) => Ok(config),
            Ok(Run::Sweep(_) | Run::Fit(_) | Run::Generate(_)) => panic!("not live"),
            Err(e) => Err(e.to_string()),
        };
        let config = live(&[&from]).unwrap();
        assert_eq!((config.duration, config.messages), (None, Some(11)));
        let config = live(&[&from, "--duration=35s", "--messages=3"]).unwrap();
        assert_eq!(config.messages, Some(3));
        let config = live(&[&from, "--duration=35s"]).unwrap();
        assert_eq!(config.messages, Some(4), "0, 10, 20 and 30 s");
        assert!(
            live(&[&from, "--duration=101s"])
                .unwrap_err()
                .contains("longer than the trace")
        );
        assert!(live(&["--load=1,2"]).unwrap_err().contains("one load"));
        let config = live(&["--load=2"]).unwrap();
        assert_eq!(config.model.produce_every, Duration::from_millis(10));
        assert_eq!(config.load, 2.0);
    }

    #[test]
    fn bad_trace_and_service_files_give_one_line_with_the_line_number() {
        let trace = TempFile::new("bad.log", "# header\n1456589246\n\n1456589247.5\nsoon\n");
        let message = sweep(&[&format!("--arrivals-from={}", trace.path())])
            .unwrap_err()
            .to_string();
        let first = message.lines().next().unwrap();
        assert!(
            first.starts_with("error: ")
                && first
                    .ends_with(":5: expected epoch seconds such as 1456589246 or 1456589246.25"),
            "{message}"
        );
        let service = TempFile::new("bad.svc", "12ms\n13 ms\nquick\n");
        let message = sweep(&[&format!("--service-from={}", service.path())])
            .unwrap_err()
            .to_string();
        assert!(message.contains(":3: expected a service time"), "{message}");
        let missing = sweep(&["--arrivals-from=/nonexistent/trace.log"]).unwrap_err();
        // A file's error, not an option's: no pointer to --help follows it.
        assert!(matches!(missing, Error::File(_)), "{missing:?}");
        assert!(
            missing.to_string().contains("/nonexistent/trace.log: "),
            "{missing}"
        );
        let forced = TempFile::new("forced.log", "1456589246\n");
        let message = sweep(&[
            &format!("--arrivals-from={}", forced.path()),
            "--time-format=rfc3339",
        ])
        .unwrap_err()
        .to_string();
        assert!(
            message.contains(":1: expected an RFC 3339 time"),
            "{message}"
        );
    }

    #[test]
    fn traffic_options_conflict_with_the_model_they_replace() {
        for (args, message) in [
            (
                &["--arrivals-from=x", "--produce-every=1s"][..],
                "cannot be used with",
            ),
            (
                &["--arrivals-from=x", "--arrivals=exponential"],
                "cannot be used with",
            ),
            (
                &["--service-from=x", "--consume-every=1s"],
                "cannot be used with",
            ),
            (&["--time-format=clf"], "--arrivals-from"),
            (&["--service-order=replay"], "--service-from"),
            (&["--load=0"], "above 0"),
            (&["--load=2,1"], "go up"),
            (&["--load=fast"], "above 0"),
        ] {
            let error = sweep(args).unwrap_err().to_string();
            assert!(error.contains(message), "{args:?}: {error}");
        }
        let config = sweep(&["--load=1,1.5,2"]).unwrap();
        assert_eq!(config.traffic.loads, [1.0, 1.5, 2.0]);
        // The built-in model's cost guard counts every load, the fastest too.
        let fast = [
            "--produce-every=1us",
            "--burst-prob=0",
            "--consume-every=0s",
            "--duration=10m",
            "--capacities=10",
            "--runs=1",
        ];
        assert!(sweep(&fast).is_ok(), "6e8 messages");
        let error = sweep(&[&fast[..], &["--load=1,1000"]].concat())
            .unwrap_err()
            .to_string();
        assert!(error.contains("6.0e11"), "{error}");
        let many: Vec<String> = (1..=100).map(|n| n.to_string()).collect();
        let error = sweep(&[
            &format!("--load={}", many.join(",")),
            "--capacities=1..1000000000",
            "--consumers=1,2,3,4",
        ])
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("--load") && error.contains("at most 10000"),
            "{error}"
        );
    }

    #[test]
    fn metrics_only_on_loopback_unless_public() {
        let checked = |args: &[&str]| parse(args).and_then(|cli| resolve(cli, &Env::default()));
        assert!(checked(&["--metrics", "127.0.0.1:9898"]).is_ok());
        let refused = checked(&["--metrics", "0.0.0.0:9898"])
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("--metrics") && refused.contains("--metrics-public"),
            "{refused}"
        );
        assert!(checked(&["--metrics", "0.0.0.0:9898", "--metrics-public"]).is_ok());
    }

    #[test]
    fn display_is_plain_off_a_terminal_on_dumb_terminals_and_on_request() {
        let live = |args: &[&str], tty, term| {
            Config::new(parse(args).unwrap().live, &env(tty, term)).display
        };
        assert_eq!(live(&[], true, Some("xterm-256color")), Display::Live);
        assert_eq!(live(&[], false, Some("xterm")), Display::Plain);
        assert_eq!(live(&[], true, Some("dumb")), Display::Plain);
        assert_eq!(live(&["--plain"], true, Some("xterm")), Display::Plain);
    }

    #[test]
    fn colour_and_glyphs_follow_the_environment() {
        let config = |env: &Env| Config::new(parse(&[]).unwrap().live, env);
        let live = env(true, Some("xterm"));
        assert!(config(&live).colour);
        assert_eq!(config(&live).glyphs, Glyphs::Unicode);
        let no_color = Env {
            no_color: true,
            ..live.clone()
        };
        assert!(!config(&no_color).colour);
        let latin1 = Env {
            utf8: false,
            ..live.clone()
        };
        assert_eq!(config(&latin1).glyphs, Glyphs::Ascii);
        assert!(
            !config(&env(false, Some("xterm"))).colour,
            "no colour in plain output"
        );
        let dumb = config(&env(true, Some("dumb")));
        assert!(!dumb.colour);
        assert_eq!(dumb.glyphs, Glyphs::Ascii);
    }

    #[test]
    fn a_random_seed_is_chosen_when_none_is_given() {
        let a = Config::new(parse(&[]).unwrap().live, &Env::default()).seed;
        let b = Config::new(parse(&[]).unwrap().live, &Env::default()).seed;
        assert_ne!(a, b, "two runs without --seed got the same seed");
    }

    #[test]
    fn random_seeds_survive_doubles() {
        for _ in 0..1000 {
            let seed = Config::new(parse(&[]).unwrap().live, &Env::default()).seed;
            assert!(seed <= MAX_RANDOM_SEED);
            assert_eq!(seed as f64 as u64, seed);
        }
    }

    #[test]
    fn bad_values_name_the_option_and_what_is_allowed() {
        let cases: &[(&[&str], &str, &str)] = &[
            (&["--capacity", "0"], "--capacity", "from 1 to 1000000"),
            (
                &["--capacity", "1000001"],
                "--capacity",
                "from 1 to 1000000",
            ),
            (&["--capacity", "-5"], "--capacity", "from 1 to 1000000"),
            (&["--capacity", "ten"], "--capacity", "from 1 to 1000000"),
            (&["--capacity", "1.5"], "--capacity", "whole number"),
            (&["--speed", "0"], "--speed", "greater than 0"),
            (&["--speed", "-1"], "--speed", "greater than 0"),
            (&["--speed", "NaN"], "--speed", "finite"),
            (&["--speed", "inf"], "--speed", "finite"),
            (&["--speed", "1e308"], "--speed", "at most 1000000"),
            (&["--speed", "1000001"], "--speed", "at most 1000000"),
            (&["--burst-prob", "1.5"], "--burst-prob", "from 0 to 1"),
            (&["--burst-prob", "-0.1"], "--burst-prob", "from 0 to 1"),
            (&["--burst-prob", "nan"], "--burst-prob", "finite"),
            (&["--produce-every", "20"], "--produce-every", "20ms"),
            (&["--consume-every", "-1s"], "--consume-every", "duration"),
            (&["--duration", "soon"], "--duration", "duration"),
            (&["--burst-pause", "400days"], "--burst-pause", "at most"),
            (&["--messages", "0"], "--messages", "at least 1"),
            (&["--seed", "-1"], "--seed", "at least 0"),
            (&["--seed", "18446744073709551616"], "--seed", "at least 0"),
            (&["--consume-every", "-1s"], "--consume-every", "duration"),
            (&["--bogus"], "--bogus", "unexpected argument"),
            (
                &["--metrics", "localhost"],
                "--metrics",
                "invalid socket address",
            ),
            (&["--metrics-public"], "--metrics", "required"),
        ];
        for (args, option, allowed) in cases {
            let message = error(args);
            assert!(
                message.contains(option) && message.contains(allowed),
                "{args:?} gave: {message}"
            );
        }
    }

    /// Random values for every numeric and duration option, fed to the
    /// whole resolution: it never panics, and it gives a value or one
    /// error. Files, addresses to bind and paths to write are left out (the
    /// parsers of files have their own property tests).
    mod random_flags {
        use super::*;
        use proptest::prelude::*;
        use proptest::test_runner::{Config as Cases, RngSeed};

        /// Numbers and durations of every size, and text that is neither.
        fn value() -> impl Strategy<Value = String> {
            let unit = prop::sample::select(vec![
                "", "ns", "us", "ms", "s", "m", "min", "h", "d", "days", "w", "y", "years",
            ]);
            let edge = prop::sample::select(vec![
                "0",
                "-0",
                "0s",
                "1ns",
                "1",
                "-1",
                "1e-300",
                "1e-25",
                "1e-10",
                "1e6",
                "1e308",
                "inf",
                "NaN",
                "366days",
                "367days",
                "18446744073709551615",
                "18446744073709551616",
                "1..1000000000",
                "1,1000000",
                "",
                "1s@366days",
                "366days@366days",
                "0s@0s",
            ])
            .prop_map(str::to_owned);
            let small = prop_oneof![
                1 => any::<f64>().prop_map(|x| x.to_string()),
                1 => any::<f64>().prop_map(|x| format!("{x:e}")),
                1 => any::<i64>().prop_map(|n| n.to_string()),
                1 => any::<u64>().prop_map(|n| n.to_string()),
                1 => (any::<u64>(), unit.clone()).prop_map(|(n, u)| format!("{n}{u}")),
                2 => (0u64..2000, unit).prop_map(|(n, u)| format!("{n}{u}")),
                2 => (1u32..10, -330i32..330).prop_map(|(m, e)| format!("{m}e{e}")),
                4 => edge,
                1 => "[ -~]{0,12}",
                1 => any::<String>(),
            ]
            .boxed();
            prop_oneof![
                4 => small.clone(),
                1 => (small.clone(), small.clone()).prop_map(|(a, b)| format!("{a}@{b}")),
                1 => prop::collection::vec(small.clone(), 1..4).prop_map(|v| v.join(",")),
                1 => (small.clone(), small).prop_map(|(a, b)| format!("{a}..{b}")),
            ]
        }

        /// The model's options, which the live demo and the sweep both take.
        const MODEL: &[&str] = &[
            "--produce-every",
            "--burst-prob",
            "--burst-pause",
            "--consume-every",
            "--seed",
            "--stall",
            "--when-full",
            "--duration",
            "--load",
            "--arrivals",
            "--service",
        ];

        const LIVE: &[&str] = &["--capacity", "--consumers", "--messages", "--speed"];

        const SWEEP: &[&str] = &[
            "--capacities",
            "--consumers",
            "--target-full",
            "--target-p99",
            "--target-drop",
            "--message-size",
            "--runs",
        ];

        /// Up to six of the model's options and `own`, with random values.
        fn args(own: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
            let flags: Vec<&str> = MODEL.iter().chain(own).copied().collect();
            prop::collection::vec((prop::sample::select(flags), value()), 0..6).prop_map(|pairs| {
                pairs
                    .into_iter()
                    .map(|(flag, value)| format!("{flag}={value}"))
                    .collect()
            })
        }

        /// An error the user sees: one line once `app` joins clap's, never
        /// help or a version.
        fn one_error(e: &Error, args: &[String]) {
            use clap::error::ErrorKind;
            if let Error::Usage(e) = e {
                assert!(
                    !matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion),
                    "{args:?}"
                );
            }
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            assert!(
                first.starts_with("error: ") && first.len() > 7,
                "{args:?}: {text}"
            );
        }

        fn cases() -> Cases {
            Cases {
                cases: 2000,
                // The same inputs every run: a failure repeats, on CI too.
                rng_seed: RngSeed::Fixed(0x15),
                failure_persistence: None,
                ..Cases::default()
            }
        }

        proptest! {
            #![proptest_config(cases())]

            #[test]
            fn live_options_resolve_to_a_value_or_one_error(args in args(LIVE)) {
                let cli = Cli::try_parse_from(
                    std::iter::once("burstbuf".to_owned()).chain(args.clone()),
                );
                match cli.map_err(Error::from).and_then(|cli| resolve(cli, &Env::default())) {
                    Ok(Run::Live(config)) => {
                        // What the run computes from it before it starts.
                        let _ = config.model.lag_tolerance();
                        let _ = config.model.utilisation(config.consumers);
                        let gap = config.model.mean_gap();
                        prop_assert!(gap <= MAX_STRETCH * 2, "{args:?}: {gap:?}");
                    }
                    Ok(Run::Sweep(_) | Run::Fit(_) | Run::Generate(_)) => prop_assert!(false, "{args:?}"),
                    Err(e) => one_error(&e, &args),
                }
            }

            #[test]
            fn sweep_options_resolve_to_a_value_or_one_error(args in args(SWEEP)) {
                let cli = Cli::try_parse_from(
                    ["burstbuf".to_owned(), "sweep".to_owned()].into_iter().chain(args.clone()),
                );
                match cli.map_err(Error::from).and_then(|cli| resolve(cli, &Env::default())) {
                    Ok(Run::Sweep(config)) => {
                        // Accepted: within every limit of the cost guard.
                        let work = sweep::work(&config);
                        prop_assert!(work.steps <= sweep::MAX_SWEEP_MESSAGES, "{args:?}: {work:?}");
                        prop_assert!(work.simulations <= sweep::MAX_SIMULATIONS, "{args:?}");
                        let _ = sweep::estimated_time(&config);
                        for &load in &config.traffic.loads {
                            prop_assert!(config.model.at_load(load).mean_gap() <= MAX_STRETCH * 2);
                        }
                    }
                    Ok(Run::Live(_) | Run::Fit(_) | Run::Generate(_)) => prop_assert!(false, "{args:?}"),
                    Err(e) => one_error(&e, &args),
                }
            }
        }
    }
}
