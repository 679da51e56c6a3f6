//! The live engine: the producer and consumer threads around the metered
//! buffer, the counters they publish, one reading of them all, the run's
//! control state and its clock. Nothing here draws or parses; the presentation
//! reads what it publishes, through [`reading::Reading`].

pub mod buffer;
pub mod clock;
pub mod consumer;
pub mod control;
pub mod counters;
pub mod events;
pub mod producer;
pub mod reading;
pub mod record;
pub mod stall;
