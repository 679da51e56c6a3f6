//! The counters both ends of a channel publish, and [`Snapshot`]: all of them
//! read at once, in an order that keeps every figure consistent with the others.

use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::histogram::{AtomicHistogram, Histogram};
use crate::tally::{Part, Tally};

/// A read-only handle on a channel's counters, for a metrics thread: it
/// neither keeps the channel open nor closes it. From
/// [`SyncSender::meter`](crate::SyncSender::meter) or
/// [`Receiver::meter`](crate::Receiver::meter).
#[derive(Debug, Clone)]
pub struct Meter {
    pub(crate) counters: Arc<Counters>,
}

impl Meter {
    /// Every figure, read at once (see [`Snapshot`]).
    pub fn snapshot(&self) -> Snapshot {
        self.counters.snapshot()
    }

    /// When the channel was created: the origin of [`Snapshot::elapsed`] and
    /// [`Snapshot::first_full`].
    pub fn created(&self) -> Instant {
        self.counters.origin
    }
}

/// All of a channel's figures at one moment, from one reading: they never
/// contradict each other. In every snapshot
///
/// - `sent == received + dropped + depth`,
/// - `depth <= high_water <= capacity`,
/// - `blocked.count() <= full_count`,
/// - `oldest_age.is_some() == (depth > 0)` and `oldest_age <= oldest_age_max`,
///
/// and a later snapshot never shows less of any count, time or maximum.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Snapshot {
    /// When it was read, from the channel's creation.
    pub elapsed: Duration,
    /// What the channel was created with.
    pub capacity: u64,
    /// Messages accepted by `send` or `try_send`, whether they went into the
    /// buffer or were dropped by the [`Policy`](crate::Policy).
    pub sent: u64,
    /// Messages a receiver took.
    pub received: u64,
    /// Messages that will never be received: discarded by a drop policy, or
    /// still in the buffer when the last receiver was dropped.
    pub dropped: u64,
    /// Of the `dropped`, those still in the buffer when the last receiver
    /// was dropped (the rest a drop policy discarded): what a shutdown left
    /// unprocessed.
    pub abandoned: u64,
    /// Messages in the buffer.
    pub depth: u64,
    /// Times a send found the buffer full: every `try_send` that returned
    /// `Full`, and every `send` that found it full, whatever the policy then
    /// did (this is the original program's full-count).
    pub full_count: u64,
    /// The most messages the buffer has held.
    pub high_water: u64,
    /// How long each `send` that found the buffer full was blocked, for the
    /// sends that are done (the [`Block`](crate::Policy::Block) policy).
    pub blocked: Histogram,
    /// Time sends spent blocked, including blocks in progress.
    pub blocked_time: Duration,
    /// Sends blocked now.
    pub blocked_now: u64,
    /// Receivers' summed time waiting for a message, including waits in
    /// progress. Each receiver (each clone) is one consumer.
    pub idle_time: Duration,
    /// Receivers waiting for a message now.
    pub waiting_now: u64,
    /// Receivers' summed time working on a message: from `recv` returning it
    /// until the receiver next has to wait (or finds the channel closed, or
    /// is dropped), including work in progress.
    pub busy_time: Duration,
    /// When a send first found the buffer full, from the channel's creation.
    pub first_full: Option<Duration>,
    /// How long the message at the head of the buffer (the next to be
    /// received) has been in it; `None` when the buffer is empty. Measured
    /// from when it went in: a message that waited for room counts from
    /// when it got in, not from when it was offered.
    pub oldest_age: Option<Duration>,
    /// The longest any message has been in the buffer, up to the moment it
    /// was received, the head's age now included.
    pub oldest_age_max: Duration,
}

/// What the channel's ends and meters share.
#[derive(Debug)]
pub(crate) struct Counters {
    pub(crate) capacity: u64,
    pub(crate) origin: Instant,
    /// Times a send found the buffer full: the original's counter.
    pub(crate) full_count: AtomicU64,
    /// Microseconds from the origin to the first full; `u64::MAX` if none yet.
    pub(crate) first_full_us: AtomicU64,
    /// Messages that went into the buffer. Written only by the sender that
    /// holds the sending lock, on every message.
    pub(crate) entered: Padded<AtomicU64>,
    /// Messages that have left the buffer, written only under the
    /// receiving end (by a receiver, or a sender evicting): one line, read
    /// together by the receiver of each message.
    pub(crate) left: Padded<Left>,
    /// Messages a drop-newest send discarded (they never went in).
    pub(crate) dropped_newest: AtomicU64,
    /// Set once the last receiver is gone: whatever was still in the buffer
    /// was discarded with it, and nothing more goes in.
    pub(crate) closed: AtomicBool,
    /// Wall time of each blocking send after a full buffer.
    pub(crate) blocked: AtomicHistogram,
    /// The same time as a tally, so a block in progress counts up to a reading.
    pub(crate) blocking: Tally,
    /// Each receiver's idle and busy time; summed by a reading.
    pub(crate) consumers: Mutex<Consumers>,
    /// The most blocked, idle and busy time any reading has shown, in
    /// microseconds. A thread reads its clock a moment before it publishes
    /// the end of an interval, so a reading in that moment counts the
    /// interval a little past its end; the next must not show less.
    shown_us: [AtomicU64; 3],
    /// The most messages ever in the buffer, as far as the sender could tell.
    pub(crate) high_water: AtomicU64,
    /// When each message in the buffer went in.
    pub(crate) stamps: Stamps,
    /// The longest any message waited in the buffer, in nanoseconds: the
    /// oldest message's age at its worst (it is worst just before it leaves).
    pub(crate) oldest_max_ns: Padded<AtomicU64>,
}

/// What has left the buffer. `received + discarded` is the number of
/// messages that have left, so the next to leave: the head's sequence number.
#[derive(Debug, Default)]
pub(crate) struct Left {
    /// Messages a receiver took.
    pub(crate) received: AtomicU64,
    /// Messages that left without being received: drop-oldest evictions.
    pub(crate) discarded: AtomicU64,
}

impl Left {
    /// How many have left: the next to leave. Read by the holder of the
    /// receiving end, it is exact.
    pub(crate) fn count(&self) -> u64 {
        self.received.load(Relaxed) + self.discarded.load(Relaxed)
    }
}

/// A value on a cache line of its own (128 bytes covers adjacent-line
/// prefetching), so that the sender's writes to one counter and a receiver's
/// to another do not keep stealing the line from each other.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// A stamp slot's value while its message is waiting for room in a blocking
/// send: it goes in at a moment only known when the send returns. An age read
/// from it is 0: shown too small for a moment, never too large.
pub(crate) const ENTERING: u64 = u64::MAX;

/// When each message went into the buffer, in nanoseconds from the origin,
/// in a fixed ring of `capacity + 2` slots indexed by the message's sequence
/// number (its place in the order messages went in). Bounded memory (8 bytes
/// a slot), no lock, and exact, without peeking into the `sync_channel`:
///
/// - Sends are serialised by the sending lock, so the order in which they
///   put messages in is the order of the `entered` count. The sender holding
///   it stores message `n`'s stamp *before* offering it, so a receiver that
///   takes `n` finds its stamp. The slot last held message `n - capacity - 2`;
///   offering `n` means `n - 1` went in, so `n - capacity - 1` had left, so
///   `n - capacity - 2` had left and its receiver, which reads the stamp
///   while it still holds the receiving end, is done with it.
/// - A message that finds the buffer full is stamped [`ENTERING`] before its
///   blocking send and stamped again when that returns (it went in then).
/// - The oldest message in the buffer is number `received + discarded`; a
///   reading takes its stamp when the depth is above 0, after its Acquire
///   load of the `entered` count (which the sender stored with Release after
///   stamping), so never an earlier lap's stamp. Its slot cannot be reused
///   until the message after it has left, so a reading sees that message's
///   stamp even if it leaves meanwhile (the age then belongs to the
///   reading's counts). Only a reading held up while two or more messages
///   leave can find a younger message's stamp there: an age shown too small
///   for one reading, never too large, so the worst age is never inflated.
#[derive(Debug)]
pub(crate) struct Stamps {
    slots: Box<[AtomicU64]>,
}

impl Stamps {
    fn new(capacity: u64) -> Stamps {
        let len = usize::try_from(capacity).unwrap_or(usize::MAX - 2) + 2;
        Stamps {
            slots: (0..len).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    pub(crate) fn slot(&self, seq: u64) -> &AtomicU64 {
        &self.slots[(seq % self.slots.len() as u64) as usize]
    }
}

/// Nanoseconds from `origin` to `at`.
pub(crate) fn nanos_since(origin: Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(origin).as_nanos()).unwrap_or(u64::MAX)
}

/// One receiver's time, on a cache line of its own.
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct Consumer {
    /// Waiting for a message (or for another receiver's turn).
    pub(crate) idle: Tally,
    /// From taking a message until it next has to wait.
    pub(crate) busy: Tally,
}

/// The receivers a reading sums: the live ones, and what the dropped ones
/// left (so that cloning a receiver per task does not grow the list).
#[derive(Debug, Default)]
pub(crate) struct Consumers {
    live: Vec<Arc<Consumer>>,
    retired_idle: Part,
    retired_busy: Part,
}

impl Counters {
    pub(crate) fn new(capacity: u64) -> Counters {
        let origin = Instant::now();
        Counters {
            capacity,
            origin,
            full_count: AtomicU64::new(0),
            first_full_us: AtomicU64::new(u64::MAX),
            entered: Padded::default(),
            left: Padded::default(),
            dropped_newest: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            blocked: AtomicHistogram::new(),
            blocking: Tally::new(origin),
            consumers: Mutex::default(),
            shown_us: Default::default(),
            high_water: AtomicU64::new(0),
            stamps: Stamps::new(capacity),
            oldest_max_ns: Padded::default(),
        }
    }

    /// A new receiver's tallies, counted from now on by every reading.
    pub(crate) fn register(&self) -> Arc<Consumer> {
        let consumer = Arc::new(Consumer {
            idle: Tally::new(self.origin),
            busy: Tally::new(self.origin),
        });
        lock(&self.consumers).live.push(Arc::clone(&consumer));
        consumer
    }

    /// A dropped receiver's time, kept as a sum. Under the list's lock, so a
    /// reading counts it once: in the list or in the sum.
    pub(crate) fn retire(&self, consumer: &Arc<Consumer>) {
        let mut consumers = lock(&self.consumers);
        consumers.live.retain(|c| !Arc::ptr_eq(c, consumer));
        consumers.retired_idle += consumer.idle.load();
        consumers.retired_busy += consumer.busy.load();
    }

    /// A send found the buffer full at `at`: the full-count, and the mark.
    pub(crate) fn count_full(&self, at: Instant) {
        if self.full_count.fetch_add(1, Relaxed) == 0 {
            let us = at.saturating_duration_since(self.origin).as_micros();
            let us = u64::try_from(us).unwrap_or(u64::MAX - 1);
            self.first_full_us.store(us, Relaxed);
        }
        // Stored once: a line the receivers read is not written on every full.
        if self.high_water.load(Relaxed) != self.capacity {
            self.high_water.store(self.capacity, Relaxed);
        }
    }

    /// Every counter, read once. The counts that make the depth are read
    /// first and next to each other, then the head's stamp and the time
    /// tallies, then the clock: one reading, a fraction of a microsecond
    /// after the counts, for every time shown (a copy of the histogram takes
    /// microseconds, during which many messages may pass, so it comes
    /// after). Intervals in progress (a block, a wait, a message being
    /// worked on) count up to that reading, taken after their tallies so
    /// that none starts after it. Counters that only grow are read so that
    /// each bound holds: what is counted after something (a block after its
    /// full) is read first.
    pub(crate) fn snapshot(&self) -> Snapshot {
        // First: once the receivers are gone nothing more is received, so
        // the counts read after it are final (Acquire, with the Release
        // after the last receive). Read later, a receive in between would
        // be taken for a message left behind.
        let closed = self.closed.load(Acquire);
        let received = self.left.received.load(Relaxed);
        let discarded = self.left.discarded.load(Relaxed);
        let left = received + discarded;
        // Acquire, with the sender's Release: a message counted as in has
        // its stamp stored.
        let entered = self.entered.load(Acquire);
        // A receiver may count a message before the sender has counted it as
        // in: a message taken certainly went in.
        let entered = entered.max(left);
        // Clamped to the buffer's real bound (a message may go in between
        // the two loads); once the receivers are gone, what was in the
        // buffer went with them.
        let depth = if closed {
            0
        } else {
            (entered - left).min(self.capacity)
        };
        let head = (depth > 0).then(|| self.stamps.slot(left).load(Relaxed));
        let blocking = self.blocking.load();
        let (idle, busy) = {
            let consumers = lock(&self.consumers);
            let (mut idle, mut busy) = (consumers.retired_idle, consumers.retired_busy);
            for consumer in &consumers.live {
                idle += consumer.idle.load();
                busy += consumer.busy.load();
            }
            (idle, busy)
        };
        let now = Instant::now();
        let oldest_age = head.map(|ns| match ns {
            ENTERING => Duration::ZERO,
            ns => Duration::from_nanos(nanos_since(self.origin, now).saturating_sub(ns)),
        });
        let age_ns = oldest_age.map_or(0, |age| u64::try_from(age.as_nanos()).unwrap_or(u64::MAX));
        let oldest_max_ns = self.oldest_max_ns.fetch_max(age_ns, Relaxed).max(age_ns);
        // The sender reads the depth only now and then; this reading may
        // have seen deeper, and later ones must not show less.
        let high_water = self.high_water.fetch_max(depth, Relaxed).max(depth);
        let abandoned = if closed { entered - left } else { 0 };
        let dropped_newest = self.dropped_newest.load(Relaxed);
        let blocked = self.blocked.snapshot();
        let full_count = self.full_count.load(Relaxed);
        let first_full = match self.first_full_us.load(Relaxed) {
            u64::MAX => None,
            us => Some(Duration::from_micros(us)),
        };
        let now_us = self.blocking.micros(now);
        let [shown_blocked, shown_idle, shown_busy] = &self.shown_us;
        let dropped = dropped_newest + discarded + abandoned;
        Snapshot {
            elapsed: now.saturating_duration_since(self.origin),
            capacity: self.capacity,
            // Derived, so that the identity holds in every reading.
            sent: received + dropped + depth,
            received,
            dropped,
            abandoned,
            depth,
            full_count,
            high_water,
            blocked,
            blocked_time: monotone(blocking.until(now_us), shown_blocked),
            blocked_now: blocking.open,
            idle_time: monotone(idle.until(now_us), shown_idle),
            waiting_now: idle.open,
            busy_time: monotone(busy.until(now_us), shown_busy),
            first_full,
            oldest_age,
            oldest_age_max: Duration::from_nanos(oldest_max_ns),
        }
    }
}

/// `time`, or the most shown before if that was more.
fn monotone(time: Duration, shown_us: &AtomicU64) -> Duration {
    let us = u64::try_from(time.as_micros()).unwrap_or(u64::MAX);
    let before = shown_us.fetch_max(us, Relaxed);
    Duration::from_micros(us.max(before))
}

/// A lock whose holder cannot have left its data half-changed by a panic
/// (every change under these locks is a single store or push).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
