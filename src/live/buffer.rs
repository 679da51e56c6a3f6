//! The metered buffer: a `std::sync::mpsc::sync_channel` whose two ends count
//! what a full buffer costs, for the demo and for any program that wants the
//! same figures about its own queue.
//!
//! The sender does what the original program does: `try_send`; on `Full` it
//! adds one to an `AtomicU64` full-count, then blocks in `send`, and the time
//! it was blocked goes into a lock-free histogram. The receiving end counts the
//! messages taken and the time its consumers spent waiting for one (idle) or
//! working on one (busy). [`Meter::snapshot`] reads every counter at once into
//! one plain [`Gauges`] whose figures never contradict each other.
//!
//! Recording is a few relaxed atomic adds and stores: no lock and no
//! allocation on either path. Each end reads the clock once a message: the
//! sender stamps the time a message entered (see `Stamps`), the receiver
//! reads it back to know how long the message waited, so the age of the
//! oldest message is measured, not estimated from the depth.
//!
//! ```
//! use std::thread;
//! use std::time::Duration;
//! use burstbuf::live::buffer::metered;
//!
//! // A fast producer, a slow consumer and a buffer of 4.
//! let (mut tx, mut rx) = metered::<u32>(4);
//! let meter = tx.meter();
//! thread::scope(|s| {
//!     s.spawn(move || {
//!         for n in 0..20 {
//!             tx.send(n).unwrap(); // try_send; on Full: count, then block
//!         }
//!         // Dropping the sender closes the buffer.
//!     });
//!     let meter = &meter;
//!     s.spawn(move || {
//!         // Start once the producer has found the buffer full (it will:
//!         // nobody takes anything before), so the example shows a block.
//!         while meter.snapshot().full_count == 0 {
//!             thread::yield_now();
//!         }
//!         while let Ok(_n) = rx.recv() {
//!             thread::sleep(Duration::from_millis(1));
//!         }
//!     });
//! });
//! let g = meter.snapshot();
//! assert_eq!((g.produced, g.consumed), (20, 20));
//! assert!(g.full_count >= 1);
//! // Every full try_send was followed by one blocking send, timed.
//! assert_eq!(g.blocked.count(), g.full_count);
//! let (p50, p99) = (g.blocked.quantile(0.5).unwrap(), g.blocked.quantile(0.99).unwrap());
//! assert!(p50 <= p99 && p99 <= g.blocked.max());
//! println!("full {} times, blocked p50 {p50:?} p99 {p99:?}", g.full_count);
//! ```

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::mpsc::{
    self, Receiver, RecvError, RecvTimeoutError, SendError, SyncSender, TryRecvError, TrySendError,
};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use crate::histogram::{AtomicHistogram, Histogram};

/// A buffer of `capacity` messages (at least 1) whose clock starts now.
pub fn metered<T>(capacity: usize) -> (MeteredSender<T>, MeteredReceiver<T>) {
    metered_since(capacity, Instant::now())
}

/// The same, with times (the first full, the tallies) measured from `origin`.
pub fn metered_since<T>(
    capacity: usize,
    origin: Instant,
) -> (MeteredSender<T>, MeteredReceiver<T>) {
    let capacity = capacity.max(1);
    let (tx, rx) = mpsc::sync_channel(capacity);
    let meter = Arc::new(Meter::new(capacity as u64, origin));
    let sender = MeteredSender {
        inner: tx,
        meter: Arc::clone(&meter),
        high_water: HighWater::default(),
    };
    let receiver = MeteredReceiver {
        inner: Arc::new(Mutex::new(rx)),
        tallies: meter.register(),
        meter,
        busy: false,
    };
    (sender, receiver)
}

/// Time one thread spent in one state, counting an interval still in
/// progress, readable at any moment in one load. Entering the state adds
/// `-start`, leaving adds `end`, so the sum is the closed intervals' total
/// minus the open one's start; the low bits say whether one is open, and
/// `total(now)` then adds `now`. One word, so a reader never sees an
/// interval's end without its start. Microseconds from an origin: ±4 years of
/// range in the upper 48 bits.
#[derive(Debug)]
pub struct Tally {
    origin: Instant,
    word: AtomicU64,
}

const OPEN_BITS: u32 = 16;

impl Tally {
    pub fn new(origin: Instant) -> Tally {
        Tally {
            origin,
            word: AtomicU64::new(0),
        }
    }

    fn micros(&self, at: Instant) -> u64 {
        let us = at.saturating_duration_since(self.origin).as_micros();
        u64::try_from(us).unwrap_or(u64::MAX) & ((1 << 46) - 1)
    }

    /// A thread enters the state at `at`. (Release, with the reader's
    /// Acquire: a reading that sees the entry reads its clock afterwards, so
    /// never before the entry's time.)
    pub fn enter(&self, at: Instant) {
        let delta = (self.micros(at) << OPEN_BITS)
            .wrapping_neg()
            .wrapping_add(1);
        self.word.fetch_add(delta, Release);
    }

    /// A thread leaves the state at `at` (after entering it).
    pub fn leave(&self, at: Instant) {
        let delta = (self.micros(at) << OPEN_BITS).wrapping_sub(1);
        self.word.fetch_add(delta, Release);
    }

    /// The time spent in the state up to `now` (not before the last entry),
    /// open intervals included, and how many are open.
    pub fn total_at(&self, now: Instant) -> (Duration, u64) {
        let part = self.load();
        (part.until(self.micros(now)), part.open)
    }

    /// The word, to be completed by [`Part::until`] with a time read after it.
    fn load(&self) -> Part {
        let word = self.word.load(Acquire);
        let open = word & ((1 << OPEN_BITS) - 1);
        // The open count's carry into the high bits is already in `word`:
        // take it back out before the arithmetic shift.
        let closed = (word.wrapping_sub(open) as i64) >> OPEN_BITS;
        Part {
            closed_us: i128::from(closed),
            open,
        }
    }
}

/// Tallies read but not yet completed: closed time less the open intervals'
/// starts, and how many are open. Parts add up, so many tallies are read
/// first and completed with one clock reading.
#[derive(Debug, Clone, Copy, Default)]
struct Part {
    closed_us: i128,
    open: u64,
}

impl std::ops::AddAssign for Part {
    fn add_assign(&mut self, other: Part) {
        self.closed_us += other.closed_us;
        self.open += other.open;
    }
}

impl Part {
    fn until(self, now_us: u64) -> Duration {
        let us = self.closed_us + i128::from(self.open) * i128::from(now_us);
        Duration::from_micros(u64::try_from(us.max(0)).unwrap_or(u64::MAX))
    }
}

/// The counters a metered buffer's ends publish; share it with `Arc` and read
/// it with [`Meter::snapshot`] from any thread at any time.
#[derive(Debug)]
pub struct Meter {
    capacity: u64,
    origin: Instant,
    /// Times a `try_send` found the buffer full: the original's counter.
    full_count: AtomicU64,
    /// Messages put into the buffer; written by the sender on every message.
    produced: Padded<AtomicU64>,
    /// Messages taken out; written by the receiver that took one.
    consumed: Padded<AtomicU64>,
    /// Wall time of each blocking `send` after a full `try_send`.
    blocked: AtomicHistogram,
    /// The same time as a tally, so a block in progress counts up to a reading.
    blocking: Tally,
    /// Each receiver's idle and busy time; summed by a reading. A lock, taken
    /// only when a receiver is cloned and when the meter is read.
    receivers: Mutex<Vec<Arc<Consumer>>>,
    /// The most blocked, idle and busy time any reading has shown, in
    /// microseconds. A thread reads its clock a moment before it publishes
    /// the end of an interval, so a reading in that moment counts the
    /// interval a little past its end; the next must not show less.
    shown_us: [AtomicU64; 3],
    /// The most messages ever in the buffer, as far as the sender could tell.
    high_water: AtomicU64,
    /// Microseconds from the origin to the first full `try_send`; `u64::MAX` if none yet.
    first_full_us: AtomicU64,
    /// `--when-full drop-newest`: messages offered to a full buffer and
    /// discarded (they never entered it); written by the sender.
    dropped_newest: AtomicU64,
    /// `--when-full drop-oldest`: messages taken out of a full buffer by the
    /// sender and discarded. Each is counted in `consumed` too (it left the
    /// buffer, in order, under the receivers' lock), and here after it.
    evicted: AtomicU64,
    /// When each message still in the buffer entered it.
    stamps: Stamps,
    /// The longest any message waited in the buffer, in nanoseconds: the
    /// oldest message's age at its worst (it is worst just before it leaves).
    oldest_max_ns: Padded<AtomicU64>,
}

/// When each message entered the buffer, in nanoseconds from the meter's
/// origin, in a fixed ring of `capacity + 2` slots indexed by the message's
/// sequence number (its place in the order of sends). Bounded memory (8 bytes
/// a slot), no lock, and exact, without peeking into the `sync_channel`:
///
/// - The sender stores message `n`'s stamp *before* offering it, so a
///   receiver that takes `n` finds its stamp. The slot last held message
///   `n - capacity - 2`; offering `n` means `n - 1` went in, so
///   `n - capacity - 1` had left, so `n - capacity - 2` had left and its
///   receiver, which reads the stamp while it still holds the receiving end,
///   is done with it.
/// - A message that found the buffer full is stamped again when its blocking
///   send returns (it entered then, not when it was offered). Only a
///   receiver that takes it in those few nanoseconds sees the earlier stamp.
/// - The oldest message in the buffer is number `consumed`; a reading takes
///   its stamp when the depth is above 0, after its Acquire load of the
///   produced count (which the sender stored with Release after stamping),
///   so never an earlier lap's stamp. Its slot cannot be reused until
///   `consumed + 1` has left, so a reading sees that message's stamp even if
///   it leaves meanwhile (the age then belongs to the reading's counts).
///   Only a reading held up while two or more messages leave can find a
///   younger message's stamp there: an age shown too small for one frame,
///   never too large, so the worst age is never inflated.
#[derive(Debug)]
struct Stamps {
    slots: Box<[AtomicU64]>,
}

impl Stamps {
    fn new(capacity: u64) -> Stamps {
        let len = usize::try_from(capacity).unwrap_or(usize::MAX - 2) + 2;
        Stamps {
            slots: (0..len).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn slot(&self, seq: u64) -> &AtomicU64 {
        &self.slots[(seq % self.slots.len() as u64) as usize]
    }
}

/// Nanoseconds from `origin` to `at`.
fn nanos_since(origin: Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(origin).as_nanos()).unwrap_or(u64::MAX)
}

/// One receiver's time, on a cache line of its own.
#[derive(Debug)]
#[repr(align(128))]
struct Consumer {
    /// Waiting for a message (or for another receiver's turn).
    idle: Tally,
    /// From taking a message to asking for the next.
    busy: Tally,
}

impl Consumer {
    fn new(origin: Instant) -> Consumer {
        Consumer {
            idle: Tally::new(origin),
            busy: Tally::new(origin),
        }
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

/// All of a meter's figures at one moment. Wall times; the counts obey
/// `consumed + depth <= produced`, `full_count <= produced`,
/// `blocked.count() <= full_count` and `depth <= high_water <= capacity`.
#[derive(Debug, Clone)]
pub struct Gauges {
    /// When it was read, from the meter's origin.
    pub at: Duration,
    pub capacity: u64,
    pub produced: u64,
    pub consumed: u64,
    /// Messages in the buffer.
    pub depth: u64,
    pub full_count: u64,
    pub high_water: u64,
    /// Messages dropped by a drop policy (`--when-full`): `produced` counts
    /// them (they were offered), `consumed` does not, and
    /// `produced = consumed + dropped + depth` once nothing is in flight.
    pub dropped: u64,
    /// Finished blocking sends.
    pub blocked: Histogram,
    /// Time blocked in `send`, including a block in progress.
    pub blocked_time: Duration,
    /// Whether a `send` is blocked now.
    pub blocking_now: bool,
    /// Receivers' summed time waiting for a message, including waits in progress.
    pub idle_time: Duration,
    /// Receivers' summed time working on a message, including work in progress.
    pub busy_time: Duration,
    /// When the buffer was first full, from the origin.
    pub first_full: Option<Duration>,
    /// How long the oldest message in the buffer has been in it; `None`
    /// when it is empty.
    pub oldest_age: Option<Duration>,
    /// The longest any message has been in the buffer so far, the oldest
    /// message's age now included.
    pub oldest_age_max: Duration,
}

impl Meter {
    fn new(capacity: u64, origin: Instant) -> Meter {
        Meter {
            capacity,
            origin,
            full_count: AtomicU64::new(0),
            produced: Padded::default(),
            consumed: Padded::default(),
            blocked: AtomicHistogram::new(),
            blocking: Tally::new(origin),
            receivers: Mutex::new(Vec::new()),
            shown_us: Default::default(),
            high_water: AtomicU64::new(0),
            first_full_us: AtomicU64::new(u64::MAX),
            stamps: Stamps::new(capacity),
            oldest_max_ns: Padded::default(),
            dropped_newest: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
        }
    }

    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// A new receiver's tallies, counted from now on by every reading.
    fn register(&self) -> Arc<Consumer> {
        let consumer = Arc::new(Consumer::new(self.origin));
        lock(&self.receivers).push(Arc::clone(&consumer));
        consumer
    }

    pub fn origin(&self) -> Instant {
        self.origin
    }

    /// Every counter, read once; intervals in progress (a block, a wait, a
    /// message being worked on) count up to the moment of the reading, taken
    /// after the counters so that no interval starts after it.
    /// Counters that only grow are read so that each bound holds: what is
    /// counted after something (consumed after produced, produced after full,
    /// full after the block) is read first.
    pub fn snapshot(&self) -> Gauges {
        // An eviction is counted as having left before it is counted as
        // evicted: read in the other order, evicted <= left.
        let evicted = self.evicted.load(Relaxed);
        let consumed = self.consumed.load(Relaxed);
        let blocked = self.blocked.snapshot();
        let blocking = self.blocking.load();
        let full_count = self.full_count.load(Relaxed);
        let (mut idle, mut busy) = (Part::default(), Part::default());
        for consumer in lock(&self.receivers).iter() {
            idle += consumer.idle.load();
            busy += consumer.busy.load();
        }
        // Acquire, with the sender's Release: a message counted as sent has
        // its stamp stored.
        let produced_counted = self.produced.load(Acquire);
        let dropped_newest = self.dropped_newest.load(Relaxed);
        let high_water = self.high_water.load(Relaxed);
        let first_full = match self.first_full_us.load(Relaxed) {
            u64::MAX => None,
            us => Some(Duration::from_micros(us)),
        };
        // A receiver may count a message before the sender has counted it as
        // sent: a message taken was certainly put in.
        let produced = produced_counted.max(consumed);
        let depth = depth(produced, consumed, self.capacity);
        let entered = (depth > 0).then(|| self.stamps.slot(consumed).load(Relaxed));
        let now = Instant::now();
        let oldest_age = entered
            .map(|ns| Duration::from_nanos(nanos_since(self.origin, now).saturating_sub(ns)));
        let age_ns = oldest_age.map_or(0, |age| u64::try_from(age.as_nanos()).unwrap_or(u64::MAX));
        let oldest_max_ns = self.oldest_max_ns.fetch_max(age_ns, Relaxed).max(age_ns);
        let now_us = self.blocking.micros(now);
        let [shown_blocked, shown_idle, shown_busy] = &self.shown_us;
        let blocked_time = monotone(blocking.until(now_us), shown_blocked);
        let idle_time = monotone(idle.until(now_us), shown_idle);
        let busy_time = monotone(busy.until(now_us), shown_busy);
        Gauges {
            at: now.saturating_duration_since(self.origin),
            capacity: self.capacity,
            produced: produced + dropped_newest,
            consumed: consumed - evicted,
            dropped: dropped_newest + evicted,
            depth,
            full_count,
            // The sender reads the depth only now and then; this reading may
            // have seen deeper.
            high_water: high_water.max(depth),
            blocked,
            blocked_time,
            blocking_now: blocking.open > 0,
            idle_time,
            busy_time,
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

/// Messages in a buffer of `capacity`, from counts that may have been read at
/// different moments, so clamped to the buffer's real bounds.
pub fn depth(produced: u64, consumed: u64, capacity: u64) -> u64 {
    produced.saturating_sub(consumed).min(capacity)
}

/// The sending end. Not `Clone`: the high-water mark is kept by the one sender.
#[derive(Debug)]
pub struct MeteredSender<T> {
    inner: SyncSender<T>,
    meter: Arc<Meter>,
    high_water: HighWater,
}

/// A `try_send` found the buffer full and it was counted; the block starts here.
#[derive(Debug)]
#[must_use = "pass it to `send_blocking` to wait for room"]
pub struct Full {
    since: Instant,
}

impl<T> MeteredSender<T> {
    /// The counters, to read from anywhere.
    pub fn meter(&self) -> Arc<Meter> {
        Arc::clone(&self.meter)
    }

    /// Sends as the original does: `try_send`; when the buffer is full, count
    /// it and block until there is room. Returns how long it blocked, if it did.
    pub fn send(&mut self, message: T) -> Result<Option<Duration>, SendError<T>> {
        match self.try_send(message) {
            Ok(()) => Ok(None),
            Err(TrySendError::Full(message)) => {
                let full = self.count_full();
                self.send_blocking(full, message).map(Some)
            }
            Err(TrySendError::Disconnected(message)) => Err(SendError(message)),
        }
    }

    /// `sync_channel`'s `try_send`, counting the message if it went in.
    pub fn try_send(&mut self, message: T) -> Result<(), TrySendError<T>> {
        self.stamp(Instant::now());
        self.inner.try_send(message)?;
        self.sent();
        Ok(())
    }

    /// The next message enters the buffer at `at` (see [`Stamps`]).
    fn stamp(&self, at: Instant) {
        let meter = &*self.meter;
        let seq = meter.produced.load(Relaxed);
        meter
            .stamps
            .slot(seq)
            .store(nanos_since(meter.origin, at), Relaxed);
    }

    /// Counts a full buffer (the `AtomicU64` full-count) and starts the clock on the block.
    pub fn count_full(&mut self) -> Full {
        self.count_full_since(Instant::now())
    }

    /// The full-count, for a send that will not block (a drop policy).
    fn count_full_only(&mut self) {
        let meter = &*self.meter;
        if meter.full_count.fetch_add(1, Relaxed) == 0 {
            let us = Instant::now()
                .saturating_duration_since(meter.origin)
                .as_micros();
            let us = u64::try_from(us).unwrap_or(u64::MAX - 1);
            meter.first_full_us.store(us, Relaxed);
        }
    }

    /// `--when-full drop-newest` after a full `try_send`: counts the full
    /// buffer and the message, which is discarded.
    pub fn drop_newest(&mut self, message: T) {
        self.count_full_only();
        self.meter.dropped_newest.fetch_add(1, Relaxed);
        self.high_water.mark = self.meter.capacity;
        self.meter.high_water.store(self.meter.capacity, Relaxed);
        drop(message);
    }

    /// `--when-full drop-oldest` after a full `try_send`: counts the full
    /// buffer, discards the oldest buffered message and puts this one in.
    /// Only this sender adds messages, so once one has left (evicted here,
    /// or taken by a consumer meanwhile) there is room. The lock is only
    /// tried: a consumer holding it is taking a message (room soon) or
    /// waiting on an empty buffer (room now), and waiting for it there would
    /// deadlock.
    pub fn drop_oldest(&mut self, message: T, evictor: &Evictor<T>) -> Result<(), SendError<T>> {
        self.count_full_only();
        self.high_water.mark = self.meter.capacity;
        self.meter.high_water.store(self.meter.capacity, Relaxed);
        let mut message = message;
        loop {
            if evictor.try_evict().is_none() {
                std::thread::yield_now();
            }
            match self.inner.try_send(message) {
                Ok(()) => {
                    self.sent();
                    return Ok(());
                }
                Err(TrySendError::Full(back)) => message = back,
                Err(TrySendError::Disconnected(back)) => return Err(SendError(back)),
            }
        }
    }

    /// [`count_full`](Self::count_full) for a block that started earlier: a
    /// replayed caller (`--arrivals-from`) has waited since it was due.
    pub fn count_full_since(&mut self, since: Instant) -> Full {
        let meter = &*self.meter;
        if meter.full_count.fetch_add(1, Relaxed) == 0 {
            let us = since.saturating_duration_since(meter.origin).as_micros();
            let us = u64::try_from(us).unwrap_or(u64::MAX - 1);
            meter.first_full_us.store(us, Relaxed);
        }
        meter.blocking.enter(since);
        Full { since }
    }

    /// The blocking `send` after [`count_full`](Self::count_full); records how long it waited.
    pub fn send_blocking(&mut self, full: Full, message: T) -> Result<Duration, SendError<T>> {
        let result = self.inner.send(message);
        let unblocked = Instant::now();
        // It entered now, not when it was offered.
        self.stamp(unblocked);
        let meter = &*self.meter;
        let waited = unblocked - full.since;
        meter.blocked.record(waited);
        meter.blocking.leave(unblocked);
        result?;
        // It was full: the mark is the capacity.
        self.high_water.mark = meter.capacity;
        meter.high_water.store(meter.capacity, Relaxed);
        self.sent();
        Ok(waited)
    }

    fn sent(&mut self) {
        let meter = &*self.meter;
        let produced = meter.produced.load(Relaxed) + 1;
        // Release: a reading that sees the message counted sees its stamp.
        meter.produced.store(produced, Release);
        self.high_water.sent(produced, meter);
    }
}

/// Tracks the most messages ever in the buffer without reading the receivers'
/// counter on every send: the depth is at most `produced - consumed_seen`
/// (consumed only grows), so the counter is read only when that bound could set
/// a new mark, and never again once the buffer has been full.
#[derive(Debug, Default)]
struct HighWater {
    mark: u64,
    consumed_seen: u64,
}

impl HighWater {
    fn sent(&mut self, produced: u64, meter: &Meter) {
        if self.mark == meter.capacity || produced - self.consumed_seen <= self.mark {
            return;
        }
        self.consumed_seen = meter.consumed.load(Relaxed);
        let depth = produced
            .saturating_sub(self.consumed_seen)
            .min(meter.capacity);
        if depth > self.mark {
            self.mark = depth;
            meter.high_water.store(depth, Relaxed);
        }
    }
}

/// The receiving end. Clone it for each consumer thread: the clones share the
/// one `Receiver` behind a mutex, so messages leave in order and each is taken
/// once. Each clone keeps its own idle and busy time (a few hundred bytes,
/// kept for the meter's life), so clone once per thread, not per message.
#[derive(Debug)]
pub struct MeteredReceiver<T> {
    inner: Arc<Mutex<Receiver<T>>>,
    meter: Arc<Meter>,
    /// This receiver's own idle and busy time.
    tallies: Arc<Consumer>,
    /// Whether this consumer is working on a message it took (its busy tally is open).
    busy: bool,
}

impl<T> Clone for MeteredReceiver<T> {
    fn clone(&self) -> Self {
        MeteredReceiver {
            inner: Arc::clone(&self.inner),
            tallies: self.meter.register(),
            meter: Arc::clone(&self.meter),
            busy: false,
        }
    }
}

/// A message taken from the buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct Received<T> {
    pub message: T,
    /// Its place in the order messages left the buffer: 0 for the first.
    pub position: u64,
    /// If this consumer had to wait for it, when the wait ended.
    pub waited_until: Option<Instant>,
}

/// The sender's hold on the receiving side, for `--when-full drop-oldest`:
/// it takes the oldest message under the same lock as the consumers, so
/// messages leave in order and each leaves once.
#[derive(Debug)]
pub struct Evictor<T> {
    inner: Arc<Mutex<Receiver<T>>>,
    meter: Arc<Meter>,
}

impl<T> Evictor<T> {
    /// Takes the oldest message out and discards it, if the receivers' lock
    /// is free: `None` if it was not, else whether there was a message.
    pub fn try_evict(&self) -> Option<bool> {
        let receiver = match self.inner.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        let Ok(message) = receiver.try_recv() else {
            return Some(false);
        };
        // Counted as the consumers count: it left the buffer, in its place.
        let meter = &*self.meter;
        let position = meter.consumed.load(Relaxed);
        meter.consumed.store(position + 1, Relaxed);
        meter.evicted.fetch_add(1, Relaxed);
        drop(receiver);
        drop(message);
        Some(true)
    }
}

impl<T> MeteredReceiver<T> {
    pub fn meter(&self) -> Arc<Meter> {
        Arc::clone(&self.meter)
    }

    /// A hold on the receiving side for the sender (drop-oldest).
    pub fn evictor(&self) -> Evictor<T> {
        Evictor {
            inner: Arc::clone(&self.inner),
            meter: Arc::clone(&self.meter),
        }
    }

    /// The next message; an error once the buffer is closed and empty.
    pub fn recv(&mut self) -> Result<T, RecvError> {
        self.take().map(|r| r.message)
    }

    /// The next message with its position and whether this consumer waited for it.
    /// Time from here back to the previous message is busy; waiting for the
    /// lock or for a message is idle.
    pub fn take(&mut self) -> Result<Received<T>, RecvError> {
        self.take_before(None)
            .map(|r| r.expect("without a deadline a take waits for a message"))
    }

    /// [`Self::take`], giving up at `deadline` (`Ok(None)`): a consumer that
    /// must not start a message after it (a `--stall` begins) does not wait
    /// across it. The wait up to the deadline is idle.
    pub fn take_before(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Option<Received<T>>, RecvError> {
        let meter = &*self.meter;
        let mut waited_since = None;
        let receiver = match self.inner.try_lock() {
            Ok(guard) => guard,
            // A receiver that panicked holding it cannot have left it inconsistent.
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {
                waited_since = Some(start_waiting(&self.tallies, &mut self.busy));
                lock(&self.inner)
            }
        };
        let late = |now: Instant| deadline.is_some_and(|d| now >= d);
        let message = if late(Instant::now()) {
            None
        } else {
            match receiver.try_recv() {
                Ok(message) => Some(Ok(message)),
                Err(TryRecvError::Disconnected) => Some(Err(RecvError)),
                Err(TryRecvError::Empty) => {
                    if waited_since.is_none() {
                        waited_since = Some(start_waiting(&self.tallies, &mut self.busy));
                    }
                    match deadline {
                        None => Some(receiver.recv()),
                        Some(d) => {
                            match receiver.recv_timeout(d.saturating_duration_since(Instant::now()))
                            {
                                Ok(message) => Some(Ok(message)),
                                Err(RecvTimeoutError::Disconnected) => Some(Err(RecvError)),
                                Err(RecvTimeoutError::Timeout) => None,
                            }
                        }
                    }
                }
            }
        };
        let Some(message) = message else {
            drop(receiver);
            if waited_since.is_some() {
                self.tallies.idle.leave(Instant::now());
            }
            return Ok(None);
        };
        // Counted while holding the receiver, so the count follows the order
        // messages leave; only the holder writes it, so a load and a store do.
        let position = meter.consumed.load(Relaxed);
        if message.is_ok() {
            // Its stamp, read while no other receiver can take the next
            // message (so the slot is not reused yet): how long it waited.
            let entered = meter.stamps.slot(position).load(Relaxed);
            let waited = nanos_since(meter.origin, Instant::now()).saturating_sub(entered);
            if waited > meter.oldest_max_ns.load(Relaxed) {
                meter.oldest_max_ns.fetch_max(waited, Relaxed);
            }
            meter.consumed.store(position + 1, Relaxed);
        }
        drop(receiver);
        let waited_until = waited_since.map(|_| {
            let now = Instant::now();
            self.tallies.idle.leave(now);
            now
        });
        let message = message?;
        if !self.busy {
            self.busy = true;
            self.tallies
                .busy
                .enter(waited_until.unwrap_or_else(Instant::now));
        }
        Ok(Some(Received {
            message,
            position,
            waited_until,
        }))
    }
}

impl<T> Drop for MeteredReceiver<T> {
    fn drop(&mut self) {
        if self.busy {
            self.tallies.busy.leave(Instant::now());
        }
    }
}

/// This consumer stops being busy and starts waiting, now.
fn start_waiting(tallies: &Consumer, busy: &mut bool) -> Instant {
    let now = Instant::now();
    if std::mem::take(busy) {
        tallies.busy.leave(now);
    }
    tallies.idle.enter(now);
    now
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn a_tally_counts_open_intervals_up_to_the_reading() {
        let origin = Instant::now();
        let at = |ms: u64| origin + Duration::from_millis(ms);
        let t = Tally::new(origin);
        assert_eq!(t.total_at(at(5)), (Duration::ZERO, 0));
        t.enter(at(10));
        assert_eq!(t.total_at(at(15)), (Duration::from_millis(5), 1));
        t.enter(at(12));
        assert_eq!(t.total_at(at(20)), (Duration::from_millis(18), 2));
        t.leave(at(30));
        assert_eq!(t.total_at(at(30)), (Duration::from_millis(38), 1));
        t.leave(at(31));
        assert_eq!(t.total_at(at(100)), (Duration::from_millis(39), 0));
        // A long open interval read twice a frame apart: a frame apart.
        t.enter(at(1000));
        let (a, _) = t.total_at(at(5000));
        let (b, _) = t.total_at(at(5033));
        assert_eq!(b - a, Duration::from_millis(33));
    }

    #[test]
    fn a_tally_keeps_its_range_far_from_the_origin() {
        let origin = Instant::now();
        let t = Tally::new(origin);
        let day = Duration::from_secs(86_400);
        for i in 0..1000 {
            let start = origin + day * i / 4;
            t.enter(start);
            t.leave(start + Duration::from_secs(1));
        }
        t.enter(origin + day * 300);
        let (total, open) = t.total_at(origin + day * 301);
        assert_eq!(open, 1);
        assert_eq!(total, day + Duration::from_secs(1000));
    }

    #[test]
    fn a_full_buffer_is_counted_and_timed() {
        let (mut tx, mut rx) = metered::<u32>(2);
        let meter = tx.meter();
        tx.send(0).unwrap();
        tx.send(1).unwrap();
        assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
        let g = meter.snapshot();
        assert_eq!(
            (g.produced, g.depth, g.high_water, g.full_count),
            (2, 2, 2, 0)
        );
        thread::scope(|s| {
            s.spawn(|| {
                let full = tx.count_full();
                assert_eq!(tx.send_blocking(full, 2).map(|_| ()), Ok(()));
            });
            // Wait, by counts alone, until the sender is blocked.
            while !meter.snapshot().blocking_now {
                thread::yield_now();
            }
            let g = meter.snapshot();
            assert_eq!((g.full_count, g.blocked.count(), g.produced), (1, 0, 2));
            assert_eq!(rx.take().unwrap().position, 0);
        });
        let g = meter.snapshot();
        assert_eq!(
            (g.full_count, g.blocked.count(), g.produced, g.consumed),
            (1, 1, 3, 1)
        );
        assert!(!g.blocking_now);
        assert!(g.first_full.is_some());
        drop(tx);
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(rx.recv(), Ok(2));
        assert_eq!(rx.recv(), Err(RecvError));
        assert_eq!(meter.snapshot().consumed, 3);
    }

    /// The age shown is the oldest message's: its entry time (the reading's
    /// time less the age) stays put while it waits and moves on to the next
    /// message's when it leaves. Orders only, no clock assumptions.
    #[test]
    fn the_oldest_age_is_the_oldest_messages_own() {
        let (mut tx, mut rx) = metered::<u32>(3);
        let meter = tx.meter();
        let entered = |g: &Gauges| g.oldest_age.map(|age| g.at - age);
        let empty = meter.snapshot();
        assert_eq!(
            (empty.oldest_age, empty.oldest_age_max),
            (None, Duration::ZERO)
        );
        tx.send(0).unwrap();
        let first = meter.snapshot();
        let m0 = entered(&first).unwrap();
        assert!(m0 <= first.at);
        tx.send(1).unwrap();
        let second = meter.snapshot();
        // Still message 0's age, grown by the time between the readings.
        assert_eq!(entered(&second), Some(m0));
        assert!(second.oldest_age_max >= second.oldest_age.unwrap());
        assert_eq!(rx.recv(), Ok(0));
        let third = meter.snapshot();
        // Message 1 entered after the first reading.
        let m1 = entered(&third).unwrap();
        assert!(m1 >= first.at, "{m1:?} {first:?}");
        // Message 0 waited at least until the second reading: the worst.
        assert!(third.oldest_age_max >= second.oldest_age.unwrap());
        assert_eq!(rx.recv(), Ok(1));
        let last = meter.snapshot();
        assert_eq!(last.oldest_age, None);
        assert!(last.oldest_age_max >= third.oldest_age_max);
        // Many laps round the ring: each message's stamp is its own.
        for n in 2..50 {
            tx.send(n).unwrap();
            let g = meter.snapshot();
            let e = entered(&g).unwrap();
            assert_eq!(rx.recv(), Ok(n));
            assert!(e >= last.at);
        }
    }

    /// Readings taken while real threads run, at whatever moments the
    /// scheduler gives: each obeys the bounds, and counts never go back.
    #[test]
    fn readings_during_a_run_never_contradict_themselves() {
        const N: u64 = 20_000;
        let (mut tx, rx) = metered::<u64>(4);
        let meter = tx.meter();
        thread::scope(|s| {
            for _ in 0..2 {
                let mut rx = rx.clone();
                s.spawn(move || while rx.recv().is_ok() {});
            }
            drop(rx);
            s.spawn(move || {
                for n in 0..N {
                    tx.send(n).unwrap();
                }
            });
            let mut last = meter.snapshot();
            loop {
                let g = meter.snapshot();
                assert!(g.consumed + g.depth <= g.produced, "{g:?}");
                assert!(g.full_count <= g.produced, "{g:?}");
                assert!(g.blocked.count() <= g.full_count, "{g:?}");
                assert!(
                    g.depth <= g.high_water && g.high_water <= g.capacity,
                    "{g:?}"
                );
                assert!(g.produced >= last.produced && g.consumed >= last.consumed);
                assert_eq!(g.oldest_age.is_some(), g.depth > 0, "{g:?}");
                assert!(
                    g.oldest_age.unwrap_or_default() <= g.oldest_age_max,
                    "{g:?}"
                );
                assert!(g.oldest_age_max >= last.oldest_age_max, "{g:?}");
                assert!(g.full_count >= last.full_count && g.busy_time >= last.busy_time);
                if g.consumed == N {
                    break;
                }
                last = g;
            }
        });
    }

    #[test]
    fn receivers_share_the_messages_in_order() {
        let (mut tx, rx) = metered::<u64>(8);
        let meter = tx.meter();
        let taken: Vec<Vec<(u64, u64)>> = thread::scope(|s| {
            let workers: Vec<_> = (0..3)
                .map(|_| {
                    let mut rx = rx.clone();
                    s.spawn(move || {
                        let mut seen = Vec::new();
                        while let Ok(r) = rx.take() {
                            seen.push((r.position, r.message));
                        }
                        seen
                    })
                })
                .collect();
            drop(rx);
            for n in 0..10_000 {
                tx.send(n).unwrap();
            }
            drop(tx);
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let mut all: Vec<_> = taken.into_iter().flatten().collect();
        assert!(all.iter().all(|(position, message)| position == message));
        all.sort();
        assert_eq!(all.len(), 10_000);
        assert!(all.iter().enumerate().all(|(i, &(p, _))| p == i as u64));
        let g = meter.snapshot();
        assert_eq!((g.produced, g.consumed, g.depth), (10_000, 10_000, 0));
        assert!(g.full_count <= g.produced && g.blocked.count() == g.full_count);
    }
}
