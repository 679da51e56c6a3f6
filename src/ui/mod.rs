//! The presentation: everything a person or another program sees of a live
//! run — the illustrator thread and its gauge or log lines, the terminal it
//! owns, the thread that writes, the signals it answers, the end-of-run summary and the metrics endpoint.

pub mod gauge;
pub(crate) mod illustrator;
pub(crate) mod metrics;
pub mod screen;
pub(crate) mod signals;
pub(crate) mod summary;
pub(crate) mod terminal;
pub(crate) mod writer;
