//! The command line as clap parses it: the options, their help, and a value
//! parser for each, so a bad value is reported by clap (naming the option and
//! what is allowed) before anything starts. What the options mean together is
//! decided in [`super::config`].

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};
use metered::Policy;

use super::generate::Generate;
use super::values::{self, Item};
use crate::model::MAX_DURATION;

/// The most messages the buffer may hold (`--capacity`).
pub const MAX_CAPACITY: u64 = 1_000_000;

/// The most consumers, live or simulated.
pub const MAX_CONSUMERS: u32 = crate::live::crew::MOST;

/// The most values one list option may hold.
const MAX_LIST: usize = 10_000;

/// The raw command line, as clap parses it: the live demo's options, or a subcommand.
#[derive(Debug, Parser)]
#[command(
    name = "burstbuf",
    version,
    about = "Watch a bursty producer feed a slower, steady consumer through a bounded buffer.",
    after_help = "Durations are written like 20ms, 1.5s, 2m or 0s; shares like 0.01 or 1%; \
                  lists like 1,2,4 or 1..4. Keys while running: q, Esc or Ctrl-C stops the \
                  producer and drains the buffer; pressed again, quits at once.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub live: LiveArgs,

    /// Print the man page (man) or a completion script (complete-bash,
    /// complete-zsh, complete-fish) made from these options, and exit
    #[arg(long, value_name = "KIND", value_enum, exclusive = true)]
    pub generate: Option<Generate>,
}

impl Cli {
    /// Parses a command line as [`Parser::try_parse_from`] does, but an
    /// option given to a command that does not take it (`fit FILE --load 2`)
    /// is explained in words: which commands take it, instead of clap's tip
    /// to pass it as a value after `--`.
    pub fn parse_explained<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
        let args = join_split_durations(args);
        Cli::try_parse_from(&args).map_err(|e| explain_misplaced(e, &args))
    }
}

/// `--consume-every 300 ms`, as the shell splits it, is taken as
/// `--consume-every 300ms`: a duration option's value that is a bare number,
/// followed by an argument that is only a unit, is joined with it. (Left
/// apart, the unit would be read as a subcommand and the error would not
/// say why.)
fn join_split_durations(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let cli = <Cli as clap::CommandFactory>::command();
    let takes_duration = |long: &str| {
        std::iter::once(&cli)
            .chain(cli.get_subcommands())
            .flat_map(|c| c.get_arguments())
            .any(|a| {
                a.get_long() == Some(long)
                    && a.get_value_names()
                        .is_some_and(|names| names.iter().any(|n| n == "DUR"))
            })
    };
    let is_number = |text: &str| !text.is_empty() && text.parse::<f64>().is_ok();
    let is_unit = |text: &str| {
        text.chars().all(|c| c.is_alphabetic())
            && humantime::parse_duration(&format!("1{text}")).is_ok()
    };
    let mut joined: Vec<std::ffi::OsString> = Vec::with_capacity(args.len());
    let mut rest = args.into_iter().peekable();
    while let Some(arg) = rest.next() {
        let text = arg.to_str().unwrap_or("").to_owned();
        // `--consume-every=300` or `--consume-every` then `300`.
        let (option, value) = match text.split_once('=') {
            Some((option, value)) => (option.to_owned(), Some(value.to_owned())),
            None => (text.clone(), None),
        };
        let Some(long) = option.strip_prefix("--").filter(|l| takes_duration(l)) else {
            joined.push(arg);
            continue;
        };
        let value = match value {
            Some(value) => value,
            None => {
                joined.push(arg);
                match rest.next_if(|v| v.to_str().is_some_and(is_number)) {
                    Some(value) => value.to_str().unwrap_or("").to_owned(),
                    None => continue,
                }
            }
        };
        let unit = rest.next_if(|u| is_number(&value) && u.to_str().is_some_and(is_unit));
        let value = match unit {
            Some(unit) => format!("{value}{}", unit.to_str().unwrap_or("")),
            None => value,
        };
        if text.contains('=') {
            joined.push(format!("--{long}={value}").into());
        } else {
            joined.push(value.into());
        }
    }
    joined
}

/// See [`Cli::parse_explained`]; other errors are returned as they are.
fn explain_misplaced(error: clap::Error, args: &[std::ffi::OsString]) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let mut cli = <Cli as clap::CommandFactory>::command();
    // A stray word after the options: clap reads it as a subcommand that
    // "cannot be used with" the option before it.
    if error.kind() == ErrorKind::ArgumentConflict
        && let Some(ContextValue::String(word)) = error.get(ContextKind::InvalidSubcommand)
    {
        let names: Vec<&str> = cli
            .get_subcommands()
            .map(|s| s.get_name())
            .filter(|n| *n != "help")
            .collect();
        let message = format!(
            "unexpected word '{word}': the subcommands ({}) come first, and a value with a \
             space in it needs quotes",
            names.join(", ")
        );
        return cli.error(ErrorKind::UnknownArgument, message);
    }
    // `--service` takes a kind; a file goes to `--service-from` (as `fit`'s
    // old `--service FILE` still does).
    if error.kind() == ErrorKind::InvalidValue
        && let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg)
        && arg.starts_with("--service <")
    {
        let mut error = error;
        error.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![
                "service times from a file go to --service-from FILE".into(),
            ]),
        );
        return error;
    }
    if error.kind() != ErrorKind::UnknownArgument {
        return error;
    }
    let Some(ContextValue::String(given)) = error.get(ContextKind::InvalidArg) else {
        return error;
    };
    let Some(long) = given.strip_prefix("--") else {
        return error;
    };
    let long = long.split('=').next().unwrap_or(long);
    // The command used: the first argument naming a subcommand, else the live demo.
    let used = args
        .iter()
        .skip(1)
        .filter_map(|a| a.to_str())
        .find_map(|a| cli.find_subcommand(a).map(|sub| sub.get_name().to_owned()));
    let takes = |command: &clap::Command| {
        command
            .get_arguments()
            .any(|a| !a.is_hide_set() && a.get_long() == Some(long))
    };
    let name = |sub: Option<&str>| match sub {
        Some(sub) => format!("burstbuf {sub}"),
        None => "the live demo (burstbuf)".to_string(),
    };
    let mut others: Vec<String> = cli
        .get_subcommands()
        .filter(|sub| Some(sub.get_name()) != used.as_deref() && takes(sub))
        .map(|sub| name(Some(sub.get_name())))
        .collect();
    if used.is_some() && takes(&cli) {
        others.insert(0, name(None));
    }
    let here = name(used.as_deref());
    let message = if others.is_empty() {
        // Nobody takes it: clap's message names a similar option, if any,
        // but its tip to pass the option as a value after `--` only misleads.
        let text = error.to_string();
        if !text.contains("as a value") {
            return error;
        }
        format!("unexpected argument '--{long}': {here} has no such option")
    } else {
        format!(
            "unexpected argument '--{long}': it is not an option of {here}, but of {}; \
             options go with the command that takes them",
            others.join(" and ")
        )
    };
    cli.error(ErrorKind::UnknownArgument, message)
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate the same model in virtual time over many capacities and consumer
    /// counts, and recommend the smallest that meet a target
    Sweep(Box<SweepArgs>),
    /// Describe a trace (rates, peaks, gaps) and fit the built-in models to it,
    /// or describe service times (--service-from)
    Fit(FitArgs),
}

/// `burstbuf fit`'s options.
#[derive(Debug, Args)]
pub struct FitArgs {
    /// The trace: one arrival per line (- for stdin; gzip read as it is), as
    /// for --arrivals-from
    #[arg(value_name = "FILE", required_unless_present = "service_from")]
    pub file: Option<String>,

    /// Service times, one per line, as for the live demo's and the sweep's
    /// --service-from (or a log whose lines end in their duration): with a
    /// trace, fit ends with the answer for them; alone, fit describes them
    /// (`--service FILE` still works)
    #[arg(long, value_name = "FILE", alias = "service", group = "service_time")]
    pub service_from: Option<String>,

    /// The trace's format (detected from the first line if omitted)
    #[arg(long, value_name = "FORMAT", value_enum, requires = "file")]
    pub time_format: Option<TimeFormatArg>,

    /// The unit of a log line's duration field (its last): s (nginx
    /// $request_time, 0.153) or us (Apache %D) [default: a fraction is s, a
    /// whole number us]
    #[arg(long, value_name = "UNIT", value_enum, requires = "file")]
    pub log_duration: Option<LogDurationArg>,

    /// Whether a log line's time is the request's start (Apache %t) or its end
    /// (nginx $time_local; arrival = time - duration) [default: end for
    /// durations in s, start for us]
    #[arg(long, value_name = "WHEN", value_enum, requires = "file")]
    pub log_time: Option<LogTimeArg>,

    /// A fixed service time per message: fit then ends with the answer (capacity
    /// and consumers at each --load, from the trace replayed and resampled)
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, requires = "file",
          group = "service_time", value_parser = duration_near(Duration::from_millis(300)))]
    pub consume_every: Option<Duration>,

    /// How --service-from's times are used
    #[arg(long, value_name = "ORDER", value_enum, default_value_t = ServiceOrderArg::Sample,
          requires = "service_from")]
    pub service_order: ServiceOrderArg,

    /// Consumer counts to try: a list (1,2,4) [default: from the fewest that keep
    /// the busiest window below rho 1, and three more]
    #[arg(long, value_name = "LIST", allow_hyphen_values = true, requires = "service_time",
          requires = "file", value_parser = parse_consumer_list)]
    pub consumers: Option<List<u32>>,

    /// The loads to answer for (every gap divided by X): a list
    #[arg(long, value_name = "X", allow_hyphen_values = true, default_value = "1,2",
          requires = "service_time", requires = "file",
          value_parser = parse_loads)]
    pub load: List<f64>,

    /// The share of sends allowed to find the buffer full
    #[arg(long, value_name = "P", allow_negative_numbers = true, default_value_t = 0.01,
          requires = "service_time", requires = "file",
          value_parser = parse_target)]
    pub target_full: f64,

    /// Runs per point, as for sweep: the trace, then block resamples of it
    #[arg(long, value_name = "R", allow_negative_numbers = true, default_value_t = 10,
          requires = "service_time", requires = "file",
          value_parser = parse_runs)]
    pub runs: u32,

    /// The block length of the resamples, as for sweep
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, default_value = "1m",
          requires = "service_time", requires = "file",
          value_parser = parse_duration)]
    pub block: Duration,

    /// The seed of the resamples and of sampled service times
    #[arg(long, value_name = "N", allow_negative_numbers = true, default_value_t = 1,
          requires = "service_time", requires = "file",
          value_parser = parse_seed)]
    pub seed: u64,

    /// Print everything as one JSON object
    #[arg(long)]
    pub json: bool,
}

/// The model: the same options for the live demo and the sweep.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// Pause between two messages from the producer (the mean, for exponential arrivals)
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, default_value = "20ms", value_parser = duration_near(Duration::from_millis(20)))]
    pub produce_every: Duration,

    /// Probability, after each message, of an extra burst pause (0 to 1, or 0% to 100%)
    #[arg(long, value_name = "P", allow_negative_numbers = true, default_value_t = 0.1, value_parser = parse_probability)]
    pub burst_prob: f64,

    /// Length of the extra burst pause
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, default_value = "1s", value_parser = duration_near(Duration::from_secs(1)))]
    pub burst_pause: Duration,

    /// Time the consumer spends on each message (the mean, for exponential service)
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, default_value = "300ms", value_parser = duration_near(Duration::from_millis(300)))]
    pub consume_every: Duration,

    /// How the producer spaces messages
    #[arg(long, value_name = "KIND", value_enum, default_value_t = ArrivalArg::Bursty)]
    pub arrivals: ArrivalArg,

    /// How long the consumer spends on a message
    #[arg(long, value_name = "KIND", value_enum, default_value_t = ServiceArg::Fixed)]
    pub service: ServiceArg,

    /// Seed for the burst pattern, to repeat a run (random if omitted; always reported)
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_seed)]
    pub seed: Option<u64>,

    /// A consumer outage: from model time AT for DUR no consumer starts a new
    /// message (one in service finishes), e.g. 30s@2m; repeatable
    #[arg(long, value_name = "DUR@AT", value_parser = parse_stall)]
    pub stall: Vec<StallArg>,

    /// What a send that finds the buffer full does: block (the original), drop-newest
    /// (discard it) or drop-oldest (discard the oldest buffered); sweep takes a list
    #[arg(
        long,
        value_name = "POLICY",
        value_parser = policy_parser(),
        value_delimiter = ',',
        default_value = "block"
    )]
    pub when_full: Vec<Policy>,
}

/// `--when-full`: the channel's own [`Policy`], by its names (clap lists
/// them in `--help` and in the error for any other).
fn policy_parser() -> impl clap::builder::TypedValueParser<Value = Policy> {
    clap::builder::PossibleValuesParser::new(Policy::ALL.map(Policy::name))
        .map(|name| name.parse::<Policy>().expect("one of the names listed"))
}

/// `--stall DUR@AT`, in model time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StallArg {
    pub length: Duration,
    pub at: Duration,
}

/// The most `--stall` options one run takes.
pub const MAX_STALLS: usize = 100;

fn parse_stall(text: &str) -> Result<StallArg, String> {
    let (length, at) = text
        .split_once('@')
        .ok_or_else(|| "expected DUR@AT, such as 30s@2m (30 s from 2 min on)".to_string())?;
    let length = duration_near(Duration::from_secs(30))(length.trim())
        .map_err(|e| format!("the length: {e}"))?;
    let at =
        duration_near(Duration::from_secs(60))(at.trim()).map_err(|e| format!("the start: {e}"))?;
    if length.is_zero() {
        return Err("a stall must last longer than 0s".to_string());
    }
    Ok(StallArg { length, at })
}

/// The live demo's options.
#[derive(Debug, Args)]
pub struct LiveArgs {
    #[command(flatten)]
    pub model: ModelArgs,

    #[command(flatten)]
    pub traffic: TrafficArgs,

    /// Messages the buffer holds
    #[arg(long, value_name = "N", default_value_t = 100, allow_negative_numbers = true,
          value_parser = parse_capacity)]
    pub capacity: u64,

    /// Consumer threads sharing the buffer
    #[arg(long, value_name = "N", default_value_t = 1, allow_negative_numbers = true,
          value_parser = parse_consumers)]
    pub consumers: u32,

    /// How long the producer runs, in model time (0s: until q, Ctrl-C or SIGTERM)
    /// [default: 30s; with --arrivals-from, the trace's span]
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, value_parser = duration_near(Duration::from_secs(30)))]
    pub duration: Option<Duration>,

    /// Stop the producer after N messages (whichever comes first with --duration)
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_messages)]
    pub messages: Option<u64>,

    /// Run X times faster than real time; times shown stay in model time
    #[arg(long, value_name = "X", allow_negative_numbers = true, default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,

    /// Print one log line per second of model time instead of the gauge, even on a terminal
    #[arg(long)]
    pub plain: bool,

    /// Print the end summary as one JSON object (progress lines then go to stderr)
    #[arg(long)]
    pub json: bool,

    /// Serve live counters over HTTP at ADDR (e.g. 127.0.0.1:9898): /metrics and /debug/vars
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,

    /// Allow --metrics on an address other than loopback (the endpoint has no authentication)
    #[arg(long, requires = "metrics")]
    pub metrics_public: bool,

    /// Write the run down for `sweep` to replay: PREFIX.arrivals (the time each
    /// message was offered, epoch seconds) and PREFIX.services (each service time)
    #[arg(long, value_name = "PREFIX")]
    pub record: Option<String>,

    /// Let --record replace files that exist (never this run's own input files)
    #[arg(long, requires = "record")]
    pub overwrite: bool,

    /// For tests: make this thread panic shortly after the start
    #[arg(long, hide = true, value_enum, value_name = "THREAD")]
    pub test_panic: Option<Worker>,
}

/// A thread of the live demo, for `--test-panic`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Worker {
    Producer,
    Consumer,
    Illustrator,
}

/// A comma-separated list given as one value. (Spelled `Vec`, clap's derive
/// would take it as an option repeated.)
pub type List<T> = Vec<T>;

/// `burstbuf sweep`'s options.
#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub model: ModelArgs,

    #[command(flatten)]
    pub traffic: TrafficArgs,

    /// Model time each simulation runs the producer for [default: 1h; with
    /// --arrivals-from, the trace's span]
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, value_parser = duration_near(Duration::from_secs(3600)))]
    pub duration: Option<Duration>,

    /// Capacities to try: a list (10,50,100,500), a range in 1-2-5 steps
    /// (1..10000) or a range with a step (100..1000:100)
    #[arg(long, value_name = "LIST", allow_hyphen_values = true, default_value = DEFAULT_CAPACITIES,
          value_parser = parse_capacities)]
    pub capacities: List<u64>,

    /// Consumer counts to try: a list (1,2,4) or a range (1..4)
    #[arg(long, value_name = "LIST", allow_hyphen_values = true, default_value = "1",
          value_parser = parse_consumer_list)]
    pub consumers: List<u32>,

    /// The share of sends allowed to find the buffer full (0.01 or 1%)
    #[arg(long, value_name = "P", allow_negative_numbers = true, default_value_t = 0.01,
          value_parser = parse_target)]
    pub target_full: f64,

    /// Also: the p99 of the time a send was blocked, over all sends (those that did
    /// not block count as 0), at most DUR
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, value_parser = parse_duration)]
    pub target_p99: Option<Duration>,

    /// Also, for drop policies: the share of messages dropped, at most P (0.01 or 1%)
    #[arg(long, value_name = "P", allow_negative_numbers = true, value_parser = parse_target)]
    pub target_drop: Option<f64>,

    /// Bytes per message: capacities are also shown in bytes, with the peak memory held
    #[arg(long, value_name = "BYTES", allow_negative_numbers = true,
          value_parser = parse_message_size)]
    pub message_size: Option<u64>,

    /// Print the table as one JSON object
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,

    /// Print the table as CSV
    #[arg(long)]
    pub csv: bool,

    /// Print every column of the text table, however wide (the default
    /// leaves out what does not fit 100 columns, and says which)
    #[arg(long, conflicts_with_all = ["json", "csv"])]
    pub wide: bool,

    // Runs per point (issue 9): kept together.
    /// Simulations of each point, with seeds SEED, SEED+1, …: the full share is
    /// given as their mean with a 95% confidence interval, and the recommendation
    /// needs its upper bound to meet --target-full (1: one run, no interval)
    #[arg(long, value_name = "R", allow_negative_numbers = true, default_value_t = 10,
          value_parser = parse_runs)]
    pub runs: u32,

    /// With --arrivals-from and --runs 2 or more: run 1 replays the trace, the
    /// others block-bootstrap resamples of it in blocks this long, drawn with the seed
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, default_value = "1m",
          value_parser = duration_near(Duration::from_secs(60)), requires = "arrivals_from")]
    pub block: Duration,
}

/// `--capacities`' default: 1 to 10 000 in 1-2-5 steps.
pub const DEFAULT_CAPACITIES: &str = "1..10000";

/// The capacities a sweep tries by default (and `fit` always).
pub fn default_capacities() -> Vec<u64> {
    parse_capacities(DEFAULT_CAPACITIES).expect("the default capacities parse")
}

/// The most runs per point of a sweep (`--runs`).
pub const MAX_RUNS: u32 = 1000;

fn parse_runs(text: &str) -> Result<u32, String> {
    parse_whole(text, 1..=u64::from(MAX_RUNS)).map(|n| n as u32)
}

/// Traffic from files, and the load: the same options for the live demo and
/// the sweep (which takes a list of loads).
#[derive(Debug, Args)]
pub struct TrafficArgs {
    /// Replay arrival times from FILE, one message per line (- for stdin):
    /// epoch seconds, RFC 3339 or Common Log Format
    #[arg(long, value_name = "FILE",
          conflicts_with_all = ["produce_every", "burst_prob", "burst_pause", "arrivals"])]
    pub arrivals_from: Option<String>,

    /// The format of --arrivals-from (detected from the first line if omitted)
    #[arg(long, value_name = "FORMAT", value_enum, requires = "arrivals_from")]
    pub time_format: Option<TimeFormatArg>,

    /// The unit of a log line's duration field (its last): s (nginx
    /// $request_time, 0.153) or us (Apache %D) [default: a fraction is s, a
    /// whole number us]
    #[arg(long, value_name = "UNIT", value_enum, requires = "arrivals_from")]
    pub log_duration: Option<LogDurationArg>,

    /// Whether a log line's time is the request's start (Apache %t) or its end
    /// (nginx $time_local; arrival = time - duration) [default: end for
    /// durations in s, start for us]
    #[arg(long, value_name = "WHEN", value_enum, requires = "arrivals_from")]
    pub log_time: Option<LogTimeArg>,

    /// Take service times from FILE, one per line (12ms, 1.5s, or seconds)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["consume_every", "service"])]
    pub service_from: Option<String>,

    /// How --service-from's times are used
    #[arg(long, value_name = "ORDER", value_enum, default_value_t = ServiceOrderArg::Sample,
          requires = "service_from")]
    pub service_order: ServiceOrderArg,

    /// Arrivals X times as fast (every gap divided by X); sweep takes a list
    /// (1,1.5,2) or a range (1..4, 1..2:0.25)
    #[arg(long, value_name = "X", allow_hyphen_values = true, default_value = "1",
          value_parser = parse_loads)]
    pub load: List<f64>,
}

/// `--time-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimeFormatArg {
    /// Seconds since the Unix epoch, fractions allowed
    Epoch,
    /// Milliseconds since the Unix epoch, fractions allowed
    EpochMs,
    /// RFC 3339, such as 2026-11-30T12:00:00.125Z, as the first field
    Rfc3339,
    /// Common or Combined Log Format ([10/Oct/2000:13:55:36 -0700])
    Clf,
    /// AWS ALB access logs: arrival at request_creation_time, service
    /// target_processing_time (-1: no service time)
    Alb,
}

/// `--log-duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogDurationArg {
    /// Seconds, fractions allowed (nginx $request_time)
    S,
    /// Whole microseconds (Apache %D)
    Us,
}

/// `--log-time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogTimeArg {
    /// The line's time is when the request arrived
    Start,
    /// The line's time is when it ended: arrival = time - duration
    End,
}

/// `--service-order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServiceOrderArg {
    /// Each message draws one of the file's times at random, with the seed
    Sample,
    /// Message k takes line k, wrapping around
    Replay,
}

/// The most a load may be: beyond it gaps of a nanosecond vanish.
pub const MAX_LOAD: f64 = 1e6;

/// The most loads a sweep takes.
const MAX_LOADS: usize = 100;

/// Loads: numbers greater than 0, ascending: a list `1,1.5,2`, a range
/// `1..4` (in steps of 1) or `1..2:0.25`, or these mixed.
fn parse_loads(text: &str) -> Result<Vec<f64>, String> {
    let load = |item: &str| {
        parse_number(item)
            .ok()
            .filter(|x| *x > 0.0 && *x <= MAX_LOAD)
            .ok_or_else(|| {
                format!(
                    "expected a number above 0 and at most {MAX_LOAD}, in {}",
                    values::LIST_FORMS
                )
            })
    };
    let mut list = Vec::new();
    for item in values::items(text)? {
        match item {
            Item::One(value) => list.push(load(value)?),
            Item::Range { from, to, step } => {
                let step = match step {
                    Some(step) => parse_number(step).map_err(|e| format!("the step: {e}"))?,
                    None => 1.0,
                };
                list.extend(values::stepped(load(from)?, load(to)?, step, MAX_LOADS)?);
            }
        }
    }
    values::ascending(&list, MAX_LOADS, "loads")?;
    Ok(list)
}

/// `--arrivals`: how the producer spaces its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArrivalArg {
    /// `--produce-every`, plus `--burst-pause` with probability `--burst-prob` (the original).
    Bursty,
    /// Exponential gaps with mean `--produce-every` (a Poisson stream; no burst pause).
    Exponential,
}

/// `--service`: how long the consumer spends on a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServiceArg {
    /// Always `--consume-every` (the original).
    Fixed,
    /// Exponential with mean `--consume-every`.
    Exponential,
}

/// A duration for an option with no usual size: a bare number is taken
/// as nearest a second when the error suggests its unit.
fn parse_duration(text: &str) -> Result<Duration, String> {
    duration_near(Duration::from_secs(1))(text)
}

/// A duration for an option whose values are usually about `usual` (its
/// default): a bare number's suggested unit is the one nearest to it.
fn duration_near(
    usual: Duration,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    move |text| {
        let duration = values::duration(text, usual)?;
        if duration > MAX_DURATION {
            return Err(format!(
                "at most {} allowed",
                humantime::format_duration(MAX_DURATION)
            ));
        }
        Ok(duration)
    }
}

/// A whole number within `range`; the error says which numbers are allowed.
fn parse_whole(text: &str, range: RangeInclusive<u64>) -> Result<u64, String> {
    let allowed = || match (*range.start(), *range.end()) {
        (min, u64::MAX) => format!("a whole number of at least {min} is allowed"),
        (min, max) => format!("a whole number from {min} to {max} is allowed"),
    };
    let value: i128 = text.trim().parse().map_err(|_| allowed())?;
    u64::try_from(value)
        .ok()
        .filter(|v| range.contains(v))
        .ok_or_else(allowed)
}

fn parse_message_size(text: &str) -> Result<u64, String> {
    parse_whole(text, 1..=(1 << 40))
}

fn parse_capacity(text: &str) -> Result<u64, String> {
    parse_whole(text, 1..=MAX_CAPACITY)
}

fn parse_messages(text: &str) -> Result<u64, String> {
    parse_whole(text, 1..=u64::MAX)
}

fn parse_seed(text: &str) -> Result<u64, String> {
    parse_whole(text, 0..=u64::MAX)
}

fn parse_consumers(text: &str) -> Result<u32, String> {
    parse_whole(text, 1..=u64::from(MAX_CONSUMERS)).map(|n| n as u32)
}

/// The most a sweep's capacity may be: the simulation keeps no memory per slot.
pub const MAX_SWEEP_CAPACITY: u64 = 1_000_000_000;

/// A list `10,50,100`, a range `1..10000` in 1-2-5 steps, a range with a
/// step `100..1000:100`, or these mixed; ascending, no zero.
fn parse_capacities(text: &str) -> Result<Vec<u64>, String> {
    whole_list(text, 1..=MAX_SWEEP_CAPACITY, one_two_five)
}

/// A list `1,2,4` or a range `1..4` (every count), or with a step `2..8:2`.
fn parse_consumer_list(text: &str) -> Result<Vec<u32>, String> {
    let every = |from, to| (from..=to).collect();
    let values = whole_list(text, 1..=u64::from(MAX_CONSUMERS), every)?;
    Ok(values.into_iter().map(|n| n as u32).collect())
}

/// Whole numbers in `range`, strictly ascending, as a list of values and
/// ranges (`values::items`); a range without a step is filled by `fill`.
fn whole_list(
    text: &str,
    range: RangeInclusive<u64>,
    fill: impl Fn(u64, u64) -> Vec<u64>,
) -> Result<Vec<u64>, String> {
    let whole = |item: &str| {
        parse_whole(item, range.clone()).map_err(|e| format!("{e}, in {}", values::LIST_FORMS))
    };
    let mut list = Vec::new();
    for item in values::items(text)? {
        match item {
            Item::One(value) => list.push(whole(value)?),
            Item::Range { from, to, step } => {
                let (from, to) = (whole(from)?, whole(to)?);
                if from >= to {
                    return Err(format!(
                        "the range must go up, as in {from}..{} ({})",
                        from.max(1) * 100,
                        values::LIST_FORMS
                    ));
                }
                match step {
                    None => list.extend(fill(from, to)),
                    Some(step) => {
                        let step = parse_whole(step, 1..=u64::MAX)
                            .map_err(|e| format!("the step: {e}"))?;
                        if (to - from) / step >= MAX_LIST as u64 {
                            return Err(format!("at most {MAX_LIST} values are allowed"));
                        }
                        list.extend((from..=to).step_by(step as usize));
                    }
                }
            }
        }
        if list.len() > MAX_LIST {
            return Err(format!("at most {MAX_LIST} values are allowed"));
        }
    }
    values::ascending(&list, MAX_LIST, "values")?;
    Ok(list)
}

/// `from`, the 1-2-5 values strictly between, and `to`: a log scale with about three steps a decade.
fn one_two_five(from: u64, to: u64) -> Vec<u64> {
    let mut values = vec![from];
    let mut decade = 1u64;
    while decade <= to {
        for step in [1, 2, 5] {
            let v = decade.saturating_mul(step);
            if v > from && v < to {
                values.push(v);
            }
        }
        decade = decade.saturating_mul(10);
    }
    values.push(to);
    values
}

/// A share such as `--target-full`: `0.01` or `1%`, strictly between 0 and 1.
fn parse_target(text: &str) -> Result<f64, String> {
    let p = values::share(text)?;
    if p <= 0.0 || p >= 1.0 {
        return Err(values::share_error(
            text,
            p,
            "a share strictly between 0 and 1 is allowed",
        ));
    }
    Ok(p)
}

fn parse_number(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| "expected a number such as 0.5".to_string())?;
    if !value.is_finite() {
        return Err("expected a finite number".into());
    }
    Ok(value)
}

/// `--burst-prob`: `0.1` or `10%`, from 0 to 1.
fn parse_probability(text: &str) -> Result<f64, String> {
    let p = values::share(text)?;
    if !(0.0..=1.0).contains(&p) {
        return Err(values::share_error(
            text,
            p,
            "a probability from 0 to 1 is allowed",
        ));
    }
    Ok(p)
}

/// The fastest `--speed`: the clock counts nanoseconds, so at 10^6 one tick
/// is a millisecond of model time, already 5% of the original's 20 ms pace;
/// any faster and the model's steps fall between the clock's ticks (and no
/// machine keeps that pace anyway: such a run would only be flagged).
pub const MAX_SPEED: f64 = 1e6;

fn parse_speed(text: &str) -> Result<f64, String> {
    let speed = parse_number(text)?;
    if speed <= 0.0 {
        return Err("a speed greater than 0 is allowed".into());
    }
    if speed > MAX_SPEED {
        return Err(format!(
            "at most {MAX_SPEED:.0} allowed: faster, model time falls between the \
             clock's nanosecond ticks; for faster answers use `burstbuf sweep`"
        ));
    }
    Ok(speed)
}
