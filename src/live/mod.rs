//! The live engine: the producer and consumer threads around the bounded
//! buffer, the counters they publish, the run's control state and its clock.
//! Nothing here draws or parses; the presentation reads what it publishes.

pub mod clock;
pub mod consumer;
pub mod control;
pub mod counters;
pub mod producer;
