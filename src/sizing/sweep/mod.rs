//! `burstbuf sweep`: the live model, simulated in virtual time (see [`crate::sizing::sim`])
//! for every capacity and consumer count asked for, `runs` times each with the
//! seeds `seed`, `seed + 1`, … (the same seeds at every point, so the curves are
//! smooth and run 0 is comparable with a live run of `seed`). Each point's full
//! share is given with its 95% interval over the runs (see
//! `crate::sizing::interval`).
//!
//! - `config`: what to sweep ([`SweepConfig`]): the model, the points, the
//!   traffic from files and the what-ifs.
//! - `guard`: what a sweep will cost, counted before it starts, and the
//!   refusal of one too big.
//! - `runner`: the simulations split across threads, with their progress.
//! - `rows`: one point's runs combined into its [`Row`].
//! - `decide`: the recommendation drawn from the rows, checked at a longer
//!   horizon ([`decide()`]).
//!
//! The recommendation drawn from the rows is `crate::sizing::recommend`; how
//! they are printed, `crate::sizing::report`. Nothing here prints.

mod config;
mod decide;
mod guard;
mod rows;
mod runner;

pub use config::{BLOCK, SweepConfig, TableFormat, Traffic, WhatIf};
pub use decide::decide;
pub use guard::{
    MAX_REPLAYED_MESSAGES, MAX_SIMULATIONS, MAX_SWEEP_MESSAGES, MAX_SWEEP_POINTS, Refused, Work,
    check, estimated_time, work,
};
pub use rows::{Row, Share, StallRow, Upper};
pub use runner::{Progress, rows, rows_watched};

#[cfg(test)]
pub(crate) use config::test_config;
