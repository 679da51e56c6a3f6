//! burstbuf shows, live in a terminal, what happens when a bursty producer feeds a
//! slower, steady consumer through a bounded buffer, reports how often the
//! buffer was full and what that cost, and says how to size it (`burstbuf sweep`
//! answers the same question by simulation).
//!
//! Three std threads share one `sync_channel`: the producer `try_send`s and, when
//! the buffer is full, counts that and blocks in `send`; the consumer `recv`s at a
//! steady pace; the illustrator hears about both on two unbounded channels and
//! draws the gauge. Stopping is done by dropping senders: the consumer ends when
//! the buffer is closed and drained, the illustrator when both event channels are.
//!
//! # Layout
//! - [`app`]: `main`'s body: parse, set up the terminal, spawn and join the threads, report.
//! - [`config`]: the command line, validated into a typed [`config::Config`].
//! - [`model`]: the producer's burst pattern and the service times, from a seed (pure).
//! - [`clock`]: model time versus wall time (`--speed`).
//! - [`control`]: the run's stop/abort state, and sleeps that it can interrupt.
//! - [`producer`], [`consumer`], [`illustrator`]: one module per thread kind
//!   (`--consumers N` runs N consumer threads).
//! - [`counters`]: live counters the threads publish (atomics, and a lock-free histogram).
//! - [`histogram`]: fixed-memory log-linear histograms, atomic and plain.
//! - [`stats`]: rates, ρ, the sliding window and the verdict (pure).
//! - [`gauge`]: the picture and the log line, as pure functions of a [`gauge::Snapshot`].
//! - [`screen`]: writes frames to a terminal, only what changed, one flush per frame.
//! - [`terminal`]: entering and restoring the terminal, and the panic hook.
//! - [`signals`]: SIGINT, SIGTERM and SIGHUP as flags the illustrator polls.
//! - [`summary`]: the end-of-run report, as text or JSON.
//! - [`metrics`]: `--metrics`: the live counters over HTTP (expvar JSON, Prometheus).
//! - [`sim`]: the same model as a discrete-event simulation in virtual time (pure); also
//!   the peak-backlog replay behind the verdict.
//! - [`sweep`]: `burstbuf sweep`: simulations over capacities and consumer counts.

pub mod app;
pub mod clock;
pub mod config;
pub mod consumer;
pub mod control;
pub mod counters;
pub mod gauge;
pub mod histogram;
pub mod illustrator;
pub mod metrics;
pub mod model;
pub mod producer;
pub mod screen;
pub mod signals;
pub mod sim;
pub mod stats;
pub mod summary;
pub mod sweep;
pub mod terminal;
