//! `main`'s body, and the binary's edge: the command line resolved, the
//! command run, and every error turned into one line and an exit code here.
//!
//! - `live`: the live demo, as a short sequence: open the session, run the
//!   threads, close, deliver the summary.
//! - `session`: what a live run holds open (the terminal, the writer, the
//!   signals, the metrics port, `--record`'s files), and its closing.
//! - `threads`: the producer, consumers, illustrator and metrics threads,
//!   spawned in one scope and joined.
//! - `offline`: `burstbuf sweep` (with its progress bar) and `burstbuf fit`.

mod live;
mod offline;
mod session;
mod threads;

use std::io::{self, Write};
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::error::ErrorKind;

use crate::cli;
use crate::cli::args::Cli;
use crate::cli::config::{self, Env, Run};
use crate::cli::generate;
use crate::live::record;

/// Exit code for a usage error, as clap and most Unix tools use.
const EXIT_USAGE: u8 = 2;
/// Exit code when the user quit before the run was over (128 + SIGINT).
const EXIT_ABORTED: u8 = 130;
/// Exit code when the terminal hung up (128 + SIGHUP).
const EXIT_HANGUP: u8 = 129;
/// Exit code when a thread panicked, as Rust uses for a panic in `main`.
const EXIT_PANIC: u8 = 101;

/// Everything that can stop the binary, each layer's own error inside, as
/// the edge reports it.
#[derive(Debug, thiserror::Error)]
enum Error {
    /// The command line, or a file it names: one line, exit code 2.
    #[error(transparent)]
    Cli(#[from] cli::Error),
    /// `--metrics`'s address could not be bound (in use, not ours): exit code 2.
    #[error("error: --metrics {addr}: {source}")]
    Metrics { addr: SocketAddr, source: io::Error },
    /// `--record`'s files could not be created: exit code 2.
    #[error("error: {0}")]
    Record(#[from] record::CreateError),
    /// A thread of the live run panicked (its message is already on stderr).
    #[error("burstbuf: a thread panicked; the run was aborted")]
    Panicked,
    /// Output that could not be written, a thread that could not be spawned.
    #[error("burstbuf: {0}")]
    Io(#[from] io::Error),
}

pub fn main() -> ExitCode {
    let result = Cli::parse_explained(std::env::args_os())
        .map_err(cli::Error::from)
        .and_then(|cli| config::resolve(cli, &Env::from_process()))
        .map_err(Error::from)
        .and_then(|run| match run {
            Run::Sweep(config) => Ok(offline::sweep(&config).map(|()| ExitCode::SUCCESS)?),
            Run::Fit(config) => Ok(offline::fit(&config).map(|()| ExitCode::SUCCESS)?),
            Run::Live(config) => live::run(&config),
            Run::Generate(kind) => {
                Ok(generate::write(kind, &mut io::stdout().lock()).map(|()| ExitCode::SUCCESS)?)
            }
        });
    result.unwrap_or_else(|e| exit(&e))
}

/// The one place an error becomes a line and an exit code.
fn exit(e: &Error) -> ExitCode {
    match e {
        Error::Cli(cli::Error::Usage(e)) => usage_error(e),
        // A bad file (a trace line, a service time) is not a matter for --help.
        Error::Cli(e @ cli::Error::File(_)) => {
            let _ = writeln!(io::stderr(), "{}", one_line(&e.to_string(), false));
            ExitCode::from(EXIT_USAGE)
        }
        Error::Metrics { .. } | Error::Record(_) => {
            let _ = writeln!(io::stderr(), "{e}");
            ExitCode::from(EXIT_USAGE)
        }
        Error::Panicked => {
            let _ = writeln!(io::stderr(), "{e}");
            ExitCode::from(EXIT_PANIC)
        }
        // Output piped into `head` and closed: nobody is left to tell.
        Error::Io(io) if io.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Error::Io(_) => {
            let _ = writeln!(io::stderr(), "{e}");
            ExitCode::FAILURE
        }
    }
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
            let _ = writeln!(io::stderr(), "{line} (see --help)");
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

#[cfg(test)]
mod tests {
    use super::*;

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
