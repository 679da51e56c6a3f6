//! The presentation: everything a person or another program sees of a live
//! run — the illustrator thread and its gauge or log lines, the terminal it
//! owns, the thread that writes, the signals it answers, the end-of-run summary and the metrics endpoint.

pub mod gauge;
pub mod illustrator;
pub mod metrics;
pub mod screen;
pub mod signals;
pub mod summary;
pub mod terminal;
pub mod writer;
