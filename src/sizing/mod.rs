//! Sizing: the live model as a discrete-event simulation in virtual time, and
//! `burstbuf sweep` over capacities and consumer counts, several runs each.
//! Pure: nothing here prints or reads a clock into its results (the binary's
//! edge draws the progress bar and writes the report); nothing is shared
//! with the live engine but the model, and the one final reading `review` takes.
//!
//! - [`sim`]: the simulation.
//! - [`replay`]: a trace replayed, each line an independent caller.
//! - [`queueing`]: the M/M/c/K formula beside the simulation, and where it applies.
//! - `answer`: `fit` with a service time: the sweep's answer at each load.
//! - `compare`: `fit`'s comparison: a trace's capacity against its models' and a Poisson stream's.
//! - [`sweep`]: the sweep's configuration, its cost guard, its runner and its rows.
//! - `interval`: the 95% interval of a share over runs.
//! - [`coverage`]: how often that interval holds the long-run value, measured.
//! - `recommend`: the smallest system that meets the targets, drawn from the rows.
//! - [`report`]: what the sweep prints, one file per format (text, CSV, JSON).
//! - [`review`]: a live run reviewed once it is over, from its one final
//!   reading: rates, peak backlog, verdict, prediction; bounded and interruptible.

pub(crate) mod answer;
pub(crate) mod compare;
pub mod coverage;
pub(crate) mod interval;
pub mod queueing;
pub(crate) mod recommend;
pub mod replay;
pub mod report;
pub mod review;
pub mod sim;
pub mod sweep;
