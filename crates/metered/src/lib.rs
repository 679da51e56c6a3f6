//! `std::sync::mpsc::sync_channel`, metered: the same bounded channel, with
//! std's method names and error types, whose ends count what a full buffer
//! costs — and a [`Snapshot`] that reads every figure at once.
//!
//! A service with a bursty producer (an API endpoint) and a slower consumer
//! (a database writer) joined by a bounded buffer wants to know how often the
//! buffer was full, how long producers blocked, how deep it got and how old
//! its oldest item is — to decide whether a bigger buffer, or more writers,
//! would help. This crate keeps the channel's capacity and `try_send`'s
//! `Full` exactly as std's (no proxy thread, no extra slot) and adds:
//!
//! - the full-count: every send that found the buffer full, counted in an
//!   `AtomicU64` before it blocks (`try_send` → count → blocking `send`), or
//!   before a drop [`Policy`] discards a message;
//! - how long each blocked send waited, in a lock-free histogram with
//!   quantiles ([`Histogram::quantile`]);
//! - depth, high-water, sent, received and dropped counts, the age of the
//!   message at the head of the buffer and the longest any message waited;
//! - each consumer's idle time (waiting in `recv`) and busy time (from `recv`
//!   returning a message until it next has to wait).
//!
//! ```
//! use std::thread;
//! use std::time::Duration;
//!
//! // A service: three request threads feed two writers through a buffer of 8.
//! let (tx, rx) = metered::sync_channel::<u64>(8);
//! thread::scope(|s| {
//!     for handler in 0..3 {
//!         let tx = tx.clone();
//!         s.spawn(move || {
//!             for n in 0..100 {
//!                 // try_send; on Full: count it, then block for room.
//!                 tx.send(handler * 1000 + n).unwrap();
//!             }
//!         });
//!     }
//!     // The channel closes once every sender is dropped.
//!     drop(tx);
//!     for _ in 0..2 {
//!         // Each writer thread gets its own clone of the receiver.
//!         let rx = rx.clone();
//!         s.spawn(move || {
//!             for _job in rx.iter() {
//!                 thread::sleep(Duration::from_micros(50)); // the write
//!             }
//!         });
//!     }
//! });
//! let s = rx.snapshot();
//! assert_eq!((s.sent, s.received, s.dropped, s.depth), (300, 300, 0, 0));
//! assert!(s.high_water <= 8);
//! // Every send that found the buffer full blocked once, and was timed.
//! assert_eq!(s.blocked.count(), s.full_count);
//! if let Some(p99) = s.blocked.quantile(0.99) {
//!     println!("full {} times, blocked p99 {p99:?}", s.full_count);
//! }
//! ```
//!
//! # Sharing the ends
//! Like std's: clone the [`SyncSender`] for each producer thread; the channel
//! closes when the last clone is dropped, and `recv` then drains what is left
//! and reports `RecvError`. Unlike std's, the [`Receiver`] is `Clone` too:
//! give each consumer thread its own clone (`--consumers N` is N clones).
//! Each message is received by one clone, in the order messages went in, and
//! each clone counts as one consumer for the idle and busy times. A receiver
//! is `Send` but, like std's, not `Sync`: it is one thread's at a time. Every
//! method of both ends takes `&self`, and either end (or a [`Meter`], which
//! keeps neither open) gives a [`Snapshot`].
//!
//! # Policies
//! What a `send` does when it finds the buffer full is chosen once, when the
//! channel is made ([`sync_channel_with`], [`Builder::policy`]): block until
//! there is room ([`Policy::Block`], the default and std's behaviour), drop
//! the message being sent ([`Policy::DropNewest`]), or drop the oldest
//! message in the buffer to make room for it ([`Policy::DropOldest`]). Either
//! way the full buffer is counted, and `sent == received + dropped + depth`
//! in every snapshot. `try_send` is std's whatever the policy: it never waits
//! and hands a message back when the buffer is full.
//!
//! # Cost
//! A send and a receive each read the clock once (the message's entry time,
//! for its age) and do a few relaxed atomic operations; sends take a lock
//! that serialises them, receives one that shares std's receiver. No
//! allocation. `benches/overhead.rs` measures it against a bare
//! `sync_channel` used the same way (`cargo bench -p burstbuf-metered`).
//!
//! # Features
//! - `serde`: [`Policy`] as serde data, by its name (`drop-oldest`).
//! - `prometheus`: `Snapshot::to_prometheus`, the text exposition format.
//! - `recorder`: `Recorder` writes the channel's arrivals and service times
//!   as the files `burstbuf sweep --arrivals-from FILE --service-from FILE`
//!   replays, so a service can be sized by its own traffic; it replaces no
//!   file unless asked, never one of the program's inputs, and writes under
//!   `.incomplete` names until the recording is whole.
//!
//! # Layout
//! - `sender`: [`SyncSender`]: the policies, the sending lock and the high-water mark.
//! - `receiver`: [`Receiver`] and its iterators: sharing std's receiver
//!   among clones, and each clone's idle and busy time.
//! - `meter`: the counters both ends publish, the entry-time ring, and
//!   [`Snapshot`], read in an order that keeps its figures consistent.
//! - `tally`: time spent in a state by many threads, readable in one load.
//! - `histogram`: fixed-memory log-linear histograms, atomic and plain.
//! - `prometheus`, `recorder`: the two optional features.

mod histogram;
mod meter;
#[cfg(feature = "prometheus")]
pub mod prometheus;
mod receiver;
#[cfg(feature = "recorder")]
pub mod recorder;
mod sender;
mod tally;

use std::fmt;
use std::str::FromStr;
use std::sync::mpsc;
use std::sync::{Arc, Weak};

pub use histogram::Histogram;
pub use meter::{Meter, Snapshot};
pub use receiver::{IntoIter, Iter, Receiver, TryIter};
#[cfg(feature = "recorder")]
pub use recorder::{CreateError, RecordOptions, Recorded, Recorder, Tape};
pub use sender::SyncSender;
pub use std::sync::mpsc::{RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};

use meter::Counters;
use receiver::RecvSide;

/// What a `send` does when it finds the buffer full (after counting that).
/// Named `block`, `drop-newest` and `drop-oldest` by [`Policy::name`], its
/// `Display` and its `FromStr` (and in serde, with the `serde` feature), so a
/// command line or a configuration file can name it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "kebab-case")
)]
pub enum Policy {
    /// Blocks until there is room, as std's `send`; the time is recorded.
    #[default]
    Block,
    /// Discards the message being sent.
    DropNewest,
    /// Discards the oldest message in the buffer and puts this one in. On a
    /// rendezvous channel (capacity 0) nothing is older: the message is
    /// discarded, as `DropNewest`.
    DropOldest,
}

impl Policy {
    /// Every policy, in the order of their names' documentation.
    pub const ALL: [Policy; 3] = [Policy::Block, Policy::DropNewest, Policy::DropOldest];

    /// `block`, `drop-newest` or `drop-oldest`.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Block => "block",
            Policy::DropNewest => "drop-newest",
            Policy::DropOldest => "drop-oldest",
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Policy {
    type Err = ParsePolicyError;

    /// A policy by its [`name`](Policy::name).
    fn from_str(name: &str) -> Result<Policy, ParsePolicyError> {
        Policy::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or(ParsePolicyError)
    }
}

/// A name that is not a [`Policy`]'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsePolicyError;

impl fmt::Display for ParsePolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a policy: expected block, drop-newest or drop-oldest")
    }
}

impl std::error::Error for ParsePolicyError {}

/// A metered `sync_channel(capacity)`: std's bounded channel, blocking when
/// full, with its ends' figures kept (see the [crate] documentation).
pub fn sync_channel<T>(capacity: usize) -> (SyncSender<T>, Receiver<T>) {
    Builder::new(capacity).build()
}

/// The same, with what a send does when the buffer is full.
pub fn sync_channel_with<T>(capacity: usize, policy: Policy) -> (SyncSender<T>, Receiver<T>) {
    Builder::new(capacity).policy(policy).build()
}

/// A channel with options: `Builder::new(100).policy(Policy::DropOldest).build()`.
#[derive(Debug)]
#[must_use = "build() makes the channel"]
pub struct Builder {
    capacity: usize,
    policy: Policy,
    #[cfg(feature = "recorder")]
    recorder: Option<recorder::Link>,
}

impl Builder {
    /// A channel of `capacity` messages (0 for a rendezvous channel, as std's).
    pub fn new(capacity: usize) -> Builder {
        Builder {
            capacity,
            policy: Policy::Block,
            #[cfg(feature = "recorder")]
            recorder: None,
        }
    }

    /// What a send does when the buffer is full; [`Policy::Block`] if not set.
    pub fn policy(mut self, policy: Policy) -> Builder {
        self.policy = policy;
        self
    }

    /// Writes the channel's traffic with `recorder`, which records one
    /// channel (a second one panics).
    #[cfg(feature = "recorder")]
    pub fn record(mut self, recorder: &Recorder) -> Builder {
        self.recorder = Some(recorder.take_link());
        self
    }

    pub fn build<T>(self) -> (SyncSender<T>, Receiver<T>) {
        let (tx, rx) = mpsc::sync_channel(self.capacity);
        let counters = Arc::new(Counters::new(self.capacity as u64));
        #[cfg(feature = "recorder")]
        let (arrivals, services) = match self.recorder {
            Some(link) => {
                // The channel's origin in wall time, a moment after it was read.
                let origin = recorder::epoch_ns().saturating_sub(meter::nanos_since(
                    counters.origin,
                    std::time::Instant::now(),
                ));
                let (arrivals, services) = link.tapes(origin);
                (Some(arrivals), Some(services))
            }
            None => (None, None),
        };
        let receivers = Arc::new(RecvSide::new(
            rx,
            Arc::clone(&counters),
            #[cfg(feature = "recorder")]
            services,
        ));
        let evict_from = match self.policy {
            Policy::DropOldest => Arc::downgrade(&receivers),
            Policy::Block | Policy::DropNewest => Weak::new(),
        };
        let sender = SyncSender::new(
            tx,
            counters,
            self.policy,
            evict_from,
            #[cfg(feature = "recorder")]
            arrivals,
        );
        (sender, Receiver::new(receivers))
    }
}
