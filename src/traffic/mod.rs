//! Traffic brought by the user: arrival traces (`--arrivals-from`), service
//! times (`--service-from`), and fitting the built-in model to them
//! (`burstbuf fit`). Pure and foundation-level: it reads files and does
//! arithmetic, and knows nothing of threads, terminals or clap.
//!
//! - `parse`: one timestamp per line, in four formats (an access log's
//!   duration too), gzip or not, with line-numbered errors.
//! - [`trace`]: a trace kept compactly (sorted offsets, 8 bytes a line) and shared read-only.
//! - `service`: service times from a file, drawn with the seed or replayed in order.
//! - `load`: a trace's arrivals per window, the busiest windows and their ρ.
//! - `fit`: statistics of a trace and the best-fitting bursty and exponential models.

pub(crate) mod fit;
pub(crate) mod load;
pub(crate) mod parse;
pub(crate) mod service;
pub mod trace;

pub use parse::TimeFormat;
pub use service::{EmpiricalService, Service, ServiceFile, ServiceOrder};
pub use trace::Trace;
