//! The live engine: the producer and consumer threads around the metered
//! channel (`metered`, the workspace's own crate), the counters they publish, one reading of them all, the run's
//! control state and its clock. Nothing here draws or parses; the presentation
//! reads what it publishes, through `reading::Reading`.

pub(crate) mod clock;
pub(crate) mod consumer;
pub(crate) mod control;
pub(crate) mod counters;
pub(crate) mod crew;
pub(crate) mod events;
pub(crate) mod producer;
pub(crate) mod reading;
pub(crate) mod record;
pub(crate) mod stall;
