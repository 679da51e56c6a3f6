//! Sizing: the live model as a discrete-event simulation in virtual time, and
//! `burstbuf sweep` over capacities and consumer counts, several runs each.
//! Pure but for `sweep::run`, which prints the report and the progress bar:
//! no clock in the results, nothing shared with the live engine but the model.
//!
//! - [`sim`]: the simulation.
//! - [`replay`]: a trace replayed, each line an independent caller.
//! - [`queueing`]: the M/M/c/K formula beside the simulation, and where it applies.
//! - `compare`: `fit --consume-every`: a trace's capacity against a Poisson stream's.
//! - [`sweep`]: the sweep's configuration, its cost guard, the runs split across threads.
//! - `interval`: the 95% interval of a share over runs.
//! - [`report`]: the table (text, CSV, JSON) and the recommendation.
//! - `plot`: the text plots.

pub(crate) mod compare;
pub(crate) mod interval;
pub(crate) mod plot;
pub mod queueing;
pub mod replay;
pub mod report;
pub mod sim;
pub mod sweep;
