//! The command line ([`Cli`]) and the validated configuration ([`Config`]) that the
//! rest of the program sees.
//!
//! Every value is checked by a clap value parser, so a bad one is reported by clap
//! (naming the option and what is allowed) before anything touches the terminal.

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::gauge::Glyphs;
use crate::model::{ArrivalKind, Model, ServiceKind};

/// The longest duration any option accepts: long enough for any real use, and
/// small enough that deadlines computed from it can never overflow an `Instant`.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// The most messages the buffer may hold (`--capacity`).
pub const MAX_CAPACITY: u64 = 1_000_000;

/// The raw command line, as clap parses it: the live demo's options, or a subcommand.
#[derive(Debug, Parser)]
#[command(
    name = "burstbuf",
    version,
    about = "Watch a bursty producer feed a slower, steady consumer through a bounded buffer.",
    after_help = "Durations are written like 20ms, 1.5s, 2m or 0s. Keys while running: q, Esc or \
                  Ctrl-C stops the producer and drains the buffer; pressed again, quits at once.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub live: LiveArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate the same model in virtual time over many capacities and consumer
    /// counts, and recommend the smallest that meet a target
    Sweep(SweepArgs),
}

/// The model: the same options for the live demo and the sweep.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// Pause between two messages from the producer (the mean, for exponential arrivals)
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, default_value = "20ms", value_parser = parse_duration)]
    pub produce_every: Duration,

    /// Probability, after each message, of an extra burst pause (0 to 1)
    #[arg(long, value_name = "P", allow_negative_numbers = true, default_value_t = 0.1, value_parser = parse_probability)]
    pub burst_prob: f64,

    /// Length of the extra burst pause
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, default_value = "1s", value_parser = parse_duration)]
    pub burst_pause: Duration,

    /// Time the consumer spends on each message (the mean, for exponential service)
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, default_value = "300ms", value_parser = parse_duration)]
    pub consume_every: Duration,

    /// How the producer spaces messages
    #[arg(long, value_name = "KIND", value_enum, default_value_t = ArrivalKind::Bursty)]
    pub arrivals: ArrivalKind,

    /// How long the consumer spends on a message
    #[arg(long, value_name = "KIND", value_enum, default_value_t = ServiceKind::Fixed)]
    pub service: ServiceKind,

    /// Seed for the burst pattern, to repeat a run (random if omitted; always reported)
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_seed)]
    pub seed: Option<u64>,
}

impl ModelArgs {
    pub fn model(&self) -> Model {
        Model {
            produce_every: self.produce_every,
            burst_prob: self.burst_prob,
            burst_pause: self.burst_pause,
            consume_every: self.consume_every,
            arrivals: self.arrivals,
            service: self.service,
        }
    }

    /// The seed given, or a random one.
    pub fn seed(&self) -> u64 {
        self.seed.unwrap_or_else(rand::random)
    }
}

/// The live demo's options.
#[derive(Debug, Args)]
pub struct LiveArgs {
    #[command(flatten)]
    pub model: ModelArgs,

    /// Messages the buffer holds
    #[arg(long, value_name = "N", default_value_t = 100, allow_negative_numbers = true,
          value_parser = parse_capacity)]
    pub capacity: u64,

    /// Consumer threads sharing the buffer
    #[arg(long, value_name = "N", default_value_t = 1, allow_negative_numbers = true,
          value_parser = parse_consumers)]
    pub consumers: u32,

    /// How long the producer runs, in model time (0s: until q, Ctrl-C or SIGTERM)
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, default_value = "30s", value_parser = parse_duration)]
    pub duration: Duration,

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

    /// Model time each simulation runs the producer for
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, default_value = "1h", value_parser = parse_duration)]
    pub duration: Duration,

    /// Capacities to try: a list (10,50,100,500) or a range in 1-2-5 steps (1..10000)
    #[arg(long, value_name = "LIST", allow_hyphen_values = true, default_value = "1..10000",
          value_parser = parse_capacities)]
    pub capacities: List<u64>,

    /// Consumer counts to try: a list (1,2,4)
    #[arg(long, value_name = "LIST", allow_hyphen_values = true, default_value = "1",
          value_parser = parse_consumer_list)]
    pub consumers: List<u32>,

    /// The share of sends allowed to find the buffer full (between 0 and 1)
    #[arg(long, value_name = "P", allow_negative_numbers = true, default_value_t = 0.01,
          value_parser = parse_target)]
    pub target_full: f64,

    /// Print the table as one JSON object
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,

    /// Print the table as CSV
    #[arg(long)]
    pub csv: bool,
}

/// The most messages one simulation may take (about 20 s at 50 M/s).
pub const MAX_SIMULATED_MESSAGES: f64 = 1e9;

/// About how many messages a simulation of `duration` goes through: the
/// producer offers one per mean gap, but never faster than `consumers` can
/// take them once the buffer is full. Infinite when neither takes any time.
fn messages_per_simulation(model: &Model, consumers: u32, duration: Duration) -> f64 {
    let gap = model.mean_gap().as_secs_f64();
    let service = model.consume_every.as_secs_f64() / f64::from(consumers.max(1));
    let slowest = gap.max(service);
    if slowest > 0.0 {
        duration.as_secs_f64() / slowest
    } else {
        f64::INFINITY
    }
}

/// The most simulations one sweep may run.
pub const MAX_SWEEP_POINTS: usize = 10_000;
/// The most consumers, live or simulated.
pub const MAX_CONSUMERS: u32 = 1000;

impl Cli {
    /// Checks that span several options, reported like clap's own errors.
    pub fn check(self) -> Result<Cli, clap::Error> {
        use clap::CommandFactory;
        let invalid = |message: String| {
            Cli::command().error(clap::error::ErrorKind::ValueValidation, message)
        };
        if let Some(addr) = self.live.metrics
            && let Err(why) = crate::metrics::check_address(&addr, self.live.metrics_public)
        {
            return Err(invalid(format!(
                "invalid value '{addr}' for '--metrics <ADDR>': {why}"
            )));
        }
        if let Some(Command::Sweep(sweep)) = &self.command {
            let points = sweep.capacities.len() * sweep.consumers.len();
            if points > MAX_SWEEP_POINTS {
                return Err(invalid(format!(
                    "--capacities × --consumers gives {points} simulations; at most {MAX_SWEEP_POINTS} are allowed"
                )));
            }
            let most = *sweep.consumers.last().unwrap_or(&1);
            let messages = messages_per_simulation(&sweep.model.model(), most, sweep.duration);
            if messages.is_infinite() {
                return Err(invalid(
                    "neither producing nor consuming takes any time, so simulated time would \
                     never pass: give --produce-every, --burst-pause or --consume-every a duration"
                        .into(),
                ));
            }
            if messages > MAX_SIMULATED_MESSAGES {
                return Err(invalid(format!(
                    "--duration {} with these intervals means about {messages:.1e} messages per \
                     simulation; at most {MAX_SIMULATED_MESSAGES:.0e} are allowed (shorten \
                     --duration or lengthen --produce-every or --consume-every)",
                    humantime::format_duration(sweep.duration)
                )));
            }
        }
        Ok(self)
    }
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
    pub capacity: usize,
    pub model: Model,
    /// How long the producer runs, in model time; `None` until stopped by hand.
    pub duration: Option<Duration>,
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
    pub metrics: Option<SocketAddr>,
    /// Consumer threads sharing the buffer.
    pub consumers: u32,
    /// The thread that panics on purpose, in tests of the terminal's restoration.
    pub test_panic: Option<Worker>,
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
            capacity: cli.capacity as usize,
            model: cli.model.model(),
            duration: (!cli.duration.is_zero()).then_some(cli.duration),
            messages: cli.messages,
            seed: cli.model.seed(),
            speed: cli.speed,
            display,
            colour: display == Display::Live && !env.no_color,
            glyphs,
            json: cli.json,
            metrics: cli.metrics,
            consumers: cli.consumers,
            test_panic: cli.test_panic,
        }
    }
}

/// How the sweep's table is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Aligned columns, plots and the recommendation.
    Text,
    Json,
    Csv,
}

/// The validated configuration of `burstbuf sweep`.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepConfig {
    pub model: Model,
    pub seed: u64,
    /// Model time each simulation runs the producer for.
    pub duration: Duration,
    /// Ascending, each at least 1.
    pub capacities: Vec<u64>,
    /// Ascending, each at least 1.
    pub consumers: Vec<u32>,
    /// The share of sends allowed to find the buffer full, in (0, 1).
    pub target_full: f64,
    pub format: TableFormat,
}

impl SweepConfig {
    pub fn new(args: SweepArgs) -> SweepConfig {
        SweepConfig {
            model: args.model.model(),
            seed: args.model.seed(),
            duration: args.duration,
            capacities: args.capacities,
            consumers: args.consumers,
            target_full: args.target_full,
            format: match (args.json, args.csv) {
                (true, _) => TableFormat::Json,
                (_, true) => TableFormat::Csv,
                _ => TableFormat::Text,
            },
        }
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text)
        .map_err(|e| format!("{e}; expected a duration such as 20ms, 1.5s or 2m"))?;
    if duration > MAX_DURATION {
        return Err(format!(
            "at most {} allowed",
            humantime::format_duration(MAX_DURATION)
        ));
    }
    Ok(duration)
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

/// A list `10,50,100` or a range `1..10000` in 1-2-5 steps; ascending, no zero.
fn parse_capacities(text: &str) -> Result<Vec<u64>, String> {
    let values = if let Some((from, to)) = text.split_once("..") {
        let from = parse_whole(from, 1..=MAX_SWEEP_CAPACITY)?;
        let to = parse_whole(to, 1..=MAX_SWEEP_CAPACITY)?;
        if from >= to {
            return Err(format!(
                "the range must go up, as in 1..{}",
                from.max(2) * 100
            ));
        }
        one_two_five(from, to)
    } else {
        parse_list(text, 1..=MAX_SWEEP_CAPACITY)?
    };
    Ok(values)
}

fn parse_consumer_list(text: &str) -> Result<Vec<u32>, String> {
    let values = parse_list(text, 1..=u64::from(MAX_CONSUMERS))?;
    Ok(values.into_iter().map(|n| n as u32).collect())
}

/// Comma-separated whole numbers in `range`, strictly ascending.
fn parse_list(text: &str, range: RangeInclusive<u64>) -> Result<Vec<u64>, String> {
    if text.trim().is_empty() {
        return Err("expected a list such as 1,2,4".into());
    }
    let values = text
        .split(',')
        .map(|item| parse_whole(item, range.clone()))
        .collect::<Result<Vec<u64>, String>>()?;
    if values.windows(2).any(|w| w[0] >= w[1]) {
        return Err("the list must go up, with no repeats".into());
    }
    if values.len() > MAX_SWEEP_POINTS {
        return Err(format!("at most {MAX_SWEEP_POINTS} values are allowed"));
    }
    Ok(values)
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

fn parse_target(text: &str) -> Result<f64, String> {
    let p = parse_number(text)?;
    if p <= 0.0 || p >= 1.0 {
        return Err("a share strictly between 0 and 1 is allowed, such as 0.01".into());
    }
    Ok(p)
}

fn parse_number(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| "expected a number such as 0.5".to_string())?;
    if !value.is_finite() {
        return Err("expected a finite number".into());
    }
    Ok(value)
}

fn parse_probability(text: &str) -> Result<f64, String> {
    let p = parse_number(text)?;
    if !(0.0..=1.0).contains(&p) {
        return Err("a probability from 0 to 1 is allowed".into());
    }
    Ok(p)
}

fn parse_speed(text: &str) -> Result<f64, String> {
    let speed = parse_number(text)?;
    if speed <= 0.0 {
        return Err("a speed greater than 0 is allowed".into());
    }
    Ok(speed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("burstbuf").chain(args.iter().copied()))
    }

    fn env(tty: bool, term: Option<&str>) -> Env {
        Env {
            stdout_is_terminal: tty,
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
    fn defaults_are_the_seeds() {
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

    fn sweep(args: &[&str]) -> Result<SweepConfig, clap::Error> {
        let cli = parse(&[&["sweep"], args].concat()).and_then(Cli::check)?;
        match cli.command {
            Some(Command::Sweep(args)) => Ok(SweepConfig::new(args)),
            None => panic!("no subcommand"),
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

    #[test]
    fn metrics_only_on_loopback_unless_public() {
        let checked = |args: &[&str]| parse(args).and_then(Cli::check);
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
}
