//! The command line ([`Cli`]) and the validated configuration ([`Config`]) that the
//! rest of the program sees.
//!
//! Every value is checked by a clap value parser, so a bad one is reported by clap
//! (naming the option and what is allowed) before anything touches the terminal.

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::time::Duration;

use clap::Parser;

use crate::gauge::Glyphs;
use crate::model::Model;

/// The longest duration any option accepts: long enough for any real use, and
/// small enough that deadlines computed from it can never overflow an `Instant`.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// The most messages the buffer may hold (`--capacity`).
pub const MAX_CAPACITY: u64 = 1_000_000;

/// The raw command line, as clap parses it.
#[derive(Debug, Parser)]
#[command(
    name = "burstbuf",
    version,
    about = "Watch a bursty producer feed a slower, steady consumer through a bounded buffer.",
    after_help = "Durations are written like 20ms, 1.5s, 2m or 0s. Keys while running: q, Esc or \
                  Ctrl-C stops the producer and drains the buffer; pressed again, quits at once."
)]
pub struct Cli {
    /// Messages the buffer holds
    #[arg(long, value_name = "N", default_value_t = 100, allow_negative_numbers = true,
          value_parser = parse_capacity)]
    pub capacity: u64,

    /// Pause between two messages from the producer
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, default_value = "20ms", value_parser = parse_duration)]
    pub produce_every: Duration,

    /// Probability, after each message, of an extra burst pause (0 to 1)
    #[arg(long, value_name = "P", allow_negative_numbers = true, default_value_t = 0.1, value_parser = parse_probability)]
    pub burst_prob: f64,

    /// Length of the extra burst pause
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, default_value = "1s", value_parser = parse_duration)]
    pub burst_pause: Duration,

    /// Time the consumer spends on each message
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, default_value = "300ms", value_parser = parse_duration)]
    pub consume_every: Duration,

    /// How long the producer runs, in model time (0s: until q, Ctrl-C or SIGTERM)
    #[arg(long, value_name = "DUR", allow_hyphen_values = true, default_value = "30s", value_parser = parse_duration)]
    pub duration: Duration,

    /// Stop the producer after N messages (whichever comes first with --duration)
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_messages)]
    pub messages: Option<u64>,

    /// Seed for the burst pattern, to repeat a run (random if omitted; always reported)
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_seed)]
    pub seed: Option<u64>,

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
}

impl Cli {
    /// Checks that span several options, reported like clap's own errors.
    pub fn check(self) -> Result<Cli, clap::Error> {
        if let Some(addr) = self.metrics
            && let Err(why) = crate::metrics::check_address(&addr, self.metrics_public)
        {
            use clap::CommandFactory;
            return Err(Cli::command().error(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value '{addr}' for '--metrics <ADDR>': {why}"),
            ));
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
}

impl Config {
    /// Resolves the command line against the environment: whether stdout is a
    /// terminal, colour and the character set are decided here, once.
    pub fn new(cli: Cli, env: &Env) -> Config {
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
            model: Model {
                produce_every: cli.produce_every,
                burst_prob: cli.burst_prob,
                burst_pause: cli.burst_pause,
                consume_every: cli.consume_every,
            },
            duration: (!cli.duration.is_zero()).then_some(cli.duration),
            messages: cli.messages,
            seed: cli.seed.unwrap_or_else(rand::random),
            speed: cli.speed,
            display,
            colour: display == Display::Live && !env.no_color,
            glyphs,
            json: cli.json,
            metrics: cli.metrics,
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
        let config = Config::new(parse(&[]).unwrap(), &env(true, Some("xterm")));
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
        ])
        .unwrap();
        let config = Config::new(cli, &env(true, None));
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
        let live =
            |args: &[&str], tty, term| Config::new(parse(args).unwrap(), &env(tty, term)).display;
        assert_eq!(live(&[], true, Some("xterm-256color")), Display::Live);
        assert_eq!(live(&[], false, Some("xterm")), Display::Plain);
        assert_eq!(live(&[], true, Some("dumb")), Display::Plain);
        assert_eq!(live(&["--plain"], true, Some("xterm")), Display::Plain);
    }

    #[test]
    fn colour_and_glyphs_follow_the_environment() {
        let config = |env: &Env| Config::new(parse(&[]).unwrap(), env);
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
        let a = Config::new(parse(&[]).unwrap(), &Env::default()).seed;
        let b = Config::new(parse(&[]).unwrap(), &Env::default()).seed;
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
