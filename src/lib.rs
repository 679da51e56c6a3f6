//! burstbuf shows, live in a terminal, what happens when a bursty producer feeds a
//! slower, steady consumer through a bounded buffer, reports how often the
//! buffer was full and what that cost, and says how to size it (`burstbuf sweep`
//! answers the same question by simulation).
//!
//! Three std threads share one `sync_channel` (metered: the `burstbuf-metered`
//! crate of this workspace, `crates/metered`, which any program can use): the
//! producer `try_send`s and, when the buffer is full, counts that and blocks in
//! `send`; the consumer `recv`s at a steady pace; the illustrator hears about
//! both on two unbounded channels and draws the gauge. Stopping is done by
//! dropping senders: the consumer ends when the buffer is closed and drained,
//! the illustrator when both event channels are.
//!
//! # Layout
//! Three subsystems, each a folder, over a few pure foundations; a module only
//! uses modules listed below its own group.
//!
//! - `app`: `main`'s body and the binary's edge: resolve the command line, run
//!   the command, turn every error into one line and an exit code.
//!   - `app::live`: the live demo as a short sequence: open, run, close, review, deliver.
//!   - `app::session`: what a live run holds open (terminal, writer, signals,
//!     metrics port, `--record`'s files), and its closing on every path.
//!   - `app::threads`: the producer, consumers, illustrator and metrics threads,
//!     spawned in one scope and joined.
//!   - `app::offline`: `burstbuf sweep` (with its progress bar) and `burstbuf fit`.
//! - `cli`: the command line: `cli::args` (what clap parses), `cli::values`
//!   (durations, shares and lists, read one way everywhere), `cli::config`
//!   (what it means, checked and resolved into typed configuration) and
//!   `cli::generate` (`--generate`: the man page and completions from the same).
//! - `ui`: the presentation of a live run.
//!   - `ui::illustrator`: the drawing thread: events in, frames or log lines out; keys.
//!   - `ui::gauge`: the picture and the log line, as pure functions of a `ui::gauge::Snapshot`;
//!     a folder: the original's seven lines (`picture`), the text lines under
//!     them (`lines`, fitted to the width by `fit`), the key list (`keys`), the
//!     figures' pace (`pace`) and the plain output's logfmt line (`logfmt`).
//!   - `ui::screen`: writes frames to a terminal, only what changed, one flush per frame.
//!   - `ui::terminal`: entering and restoring the terminal, and the panic hook;
//!     the gauge's own non-blocking descriptor, so a stalled terminal is given back too.
//!   - `ui::writer`: the writer thread: the only one that writes frames and log
//!     lines; keeps the latest, drops what a slow reader cannot take.
//!   - `ui::signals`: signal threads: SIGINT/SIGTERM counted, SIGHUP, Ctrl-Z and `fg`.
//!   - `ui::summary`: the end-of-run report, as text or JSON.
//!   - `ui::metrics`: `--metrics`: the live counters over HTTP (expvar JSON,
//!     Prometheus); `ui/metrics/server.rs` is the bounded HTTP server.
//! - `sizing`: answering "how big?" by simulation, pure; nothing in it prints.
//!   Of the live engine it takes only the one final `live::reading::Reading`
//!   a run is reviewed from.
//!   - `sizing::sim`: the live model as a discrete-event simulation in virtual time.
//!   - `sizing::replay`: a trace replayed against the buffer, each line an
//!     independent caller (`--arrivals-from`).
//!   - `sizing::queueing`: the M/M/c/K formula, and where it applies: for the
//!     sweep, the live summary and `fit`.
//!   - `sizing::answer`: `fit` with a service time: one recommendation per
//!     load by the sweep's own runner and recommendation, and the `sweep`
//!     command that gives the same.
//!   - `sizing::compare`: `fit`'s comparison: the capacity a trace needs
//!     against the fitted bursty model's, a Poisson stream's and the M/M/c/K
//!     formula's, every stream replayed alike.
//!   - `sizing::sweep`: `burstbuf sweep`, a folder: its configuration
//!     (`config`), the cost guard (`guard`), the runner across threads
//!     (`runner`), one row per point (`rows`), and the recommendations
//!     checked at a longer horizon (`decide`).
//!   - `sizing::interval`: the 95% confidence interval of a share over runs.
//!   - `sizing::coverage`: how often that interval holds the long-run value,
//!     measured (`examples/coverage.rs`).
//!   - `sizing::recommend`: the smallest system that meets the targets, from the rows.
//!   - `sizing::report`: what the sweep prints, one file per format (`text`,
//!     `csv`, `json`) from one description of the table (`table`); `plot`
//!     draws the text plots, every mark named in the legend.
//!   - `sizing::review`: a live run reviewed once it is over, from its one final
//!     reading: rates, peak backlog, verdict and prediction, bounded and interruptible.
//! - `live`: the engine, around the metered channel (`metered::sync_channel`,
//!   from `crates/metered`: its ends count fulls, blocked time in a histogram,
//!   high-water, busy and idle time and the oldest message's age, read at once).
//!   - `live::producer`, `live::consumer`: one module per thread kind
//!     (`--consumers N` runs N consumer threads).
//!   - `live::crew`: the consumer count as `+` and `-` change it live, carried
//!     out by the consumers between messages, and the bounded log of its changes.
//!   - `live::counters`: what else the threads publish: the producer's state,
//!     and how late each kind of thread woke against its schedule.
//!   - `live::events`: the two event channels to the illustrator, each holding at
//!     most one waiting event per sending thread.
//!   - `live::reading`: one reading of all of it, in model time, with the
//!     faithful-or-flagged verdict; every figure shown comes from one.
//!   - `live::record`: `--record`: the offered times and service times
//!     written as a trace, by a writer thread the producer never waits for.
//!   - `live::control`: the run's stop/abort state, and sleeps that it can interrupt.
//!   - `live::stall`: `--stall` live: when consumers may not start a message,
//!     and what each stall cost (marked by the consumers, no extra thread).
//!   - `live::clock`: model time versus wall time (`--speed`).
//! - Foundations, pure and shared:
//!   - `model`: the producer's burst pattern and the service times, from a seed.
//!   - `stats`: rates, ρ, the sliding window and the verdict.
//!   - `units`: how times are written for people.
//!   - `traffic`: traffic from files: arrival traces (`traffic::parse`,
//!     `traffic::trace`), service times (`traffic::service`), load over
//!     time (`traffic::load`), and `burstbuf fit` (`traffic::fit`). Uses `model` only.

// Private but for `internals`, what the binary, tests and benchmarks reach:
// the metered buffer other programs use is its own crate, `crates/metered`.
mod app;
mod cli;
mod live;
mod model;
mod sizing;
mod stats;
mod traffic;
mod ui;
mod units;

/// What the binary, the tests and the benchmarks reach inside the crate;
/// not an API, and free to change.
#[doc(hidden)]
pub mod internals {
    pub use crate::app::main;
    pub use crate::live::counters::ProducerState;
    pub use crate::model::{ArrivalKind, Arrivals, Model, ServiceKind, Stall, WhenFull};
    pub use crate::sizing::{coverage, queueing, replay, report, sim, sweep};
    pub use crate::traffic::{Service, TimeFormat, Trace};
    pub use crate::ui::{gauge, screen};
}
