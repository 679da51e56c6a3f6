//! The command line: [`args`] is what clap parses, [`config`] what it means
//! once checked and resolved against the environment, [`generate`] the man
//! page and completion scripts made from the same definitions, [`values`]
//! how durations, shares and lists are read (one way for every option).

pub mod args;
pub mod config;
pub mod generate;
pub mod values;

use crate::traffic::parse::TraceError;

/// Why a command line cannot run. Each is one line, and exit code 2 at the
/// binary's edge (`app`), before anything starts.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An option, or options together: clap's own message, or one in its
    /// words (naming the option and what is allowed); `--help` can help.
    #[error(transparent)]
    Usage(#[from] clap::Error),
    /// A file the command line names (a trace, service times): its name,
    /// the line and what was wrong there; the options were fine.
    #[error("error: {0}")]
    File(#[from] TraceError),
}
