//! The sending end: `try_send`; when the buffer is full, count it, then do
//! what the [`Policy`] says — block in `send`, drop the message, or drop the
//! oldest one to make room.
//!
//! Sends are serialised by a lock held for the `try_send` and, when the
//! buffer is full, for the blocking `send` too: so the order of the `entered`
//! count is the order messages went in, which is what lets a reading find the
//! oldest message's stamp (see `Stamps`) and the drop-oldest policy know that
//! an eviction made room for it. A send that finds the lock held by a send
//! blocked on a full buffer has found the buffer full itself: it counts that
//! and waits its turn.

use std::fmt;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Relaxed, Release};
use std::sync::mpsc::{self, SendError, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError, Weak};
use std::time::{Duration, Instant};

use crate::Policy;
use crate::meter::{Counters, ENTERING, Meter, Snapshot, lock, nanos_since};
use crate::receiver::RecvSide;
#[cfg(feature = "recorder")]
use crate::recorder::Tape;

/// The sending end, like [`std::sync::mpsc::SyncSender`]: clone it for each
/// producer; the channel closes when the last clone is dropped.
pub struct SyncSender<T> {
    side: Arc<SendSide<T>>,
}

impl<T> Clone for SyncSender<T> {
    fn clone(&self) -> Self {
        SyncSender {
            side: Arc::clone(&self.side),
        }
    }
}

impl<T> fmt::Debug for SyncSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncSender").finish_non_exhaustive()
    }
}

/// What the clones of a sender share.
#[derive(Debug)]
pub(crate) struct SendSide<T> {
    counters: Arc<Counters>,
    policy: Policy,
    /// The sending lock, and what it guards.
    state: Mutex<SendState<T>>,
    /// Whether the holder of the sending lock is blocked on a full buffer.
    holder_blocked: AtomicBool,
    /// The receiving end, for drop-oldest evictions; weak, so that dropping
    /// the last receiver still closes the channel.
    receivers: Weak<RecvSide<T>>,
}

#[derive(Debug)]
struct SendState<T> {
    inner: mpsc::SyncSender<T>,
    high_water: HighWater,
    /// Each message's offered time, for the recorder.
    #[cfg(feature = "recorder")]
    arrivals: Option<Tape>,
}

impl<T> SyncSender<T> {
    pub(crate) fn new(
        inner: mpsc::SyncSender<T>,
        counters: Arc<Counters>,
        policy: Policy,
        receivers: Weak<RecvSide<T>>,
        #[cfg(feature = "recorder")] arrivals: Option<Tape>,
    ) -> SyncSender<T> {
        SyncSender {
            side: Arc::new(SendSide {
                counters,
                policy,
                state: Mutex::new(SendState {
                    inner,
                    high_water: HighWater::default(),
                    #[cfg(feature = "recorder")]
                    arrivals,
                }),
                holder_blocked: AtomicBool::new(false),
                receivers,
            }),
        }
    }

    /// Sends a message: `try_send`; if the buffer is full, counts that (the
    /// full-count) and then, by the channel's [`Policy`]: blocks until there
    /// is room (`Block`, std's `send`), discards this message (`DropNewest`),
    /// or discards the oldest buffered one and puts this one in
    /// (`DropOldest`). Either way it returns `Ok` and the message is counted
    /// as sent (and as dropped, if it was). An error only if every receiver
    /// is gone, giving the message back, as std's.
    pub fn send(&self, message: T) -> Result<(), SendError<T>> {
        self.side.send(message, None).map(|_| ())
    }

    /// [`send`](SyncSender::send) for a caller that has been waiting since
    /// `since` (a request that arrived then, sent only now): a block on a
    /// full buffer is timed from `since`, the first full is dated from it,
    /// and the recorder writes it as the message's arrival; a `since` later
    /// than now counts as now. Returns how long the call was blocked,
    /// counted from `since`, if it was blocked (never under a drop policy).
    /// The message's age in the buffer still counts from when it went in.
    pub fn send_since(&self, message: T, since: Instant) -> Result<Option<Duration>, SendError<T>> {
        self.side.send(message, Some(since))
    }

    /// std's `try_send`: never waits for room. A full buffer is counted
    /// (the full-count) and the message handed back, whatever the policy.
    pub fn try_send(&self, message: T) -> Result<(), TrySendError<T>> {
        match self.side.try_offer(message, None) {
            Tried::In => Ok(()),
            Tried::Full(_, message, ..) | Tried::HolderBlocked(message, ..) => {
                Err(TrySendError::Full(message))
            }
            Tried::Disconnected(message) => Err(TrySendError::Disconnected(message)),
        }
    }

    /// A read-only handle on the counters, for another thread.
    pub fn meter(&self) -> Meter {
        Meter {
            counters: Arc::clone(&self.side.counters),
        }
    }

    /// Every figure, read at once (see [`Snapshot`]).
    pub fn snapshot(&self) -> Snapshot {
        self.side.counters.snapshot()
    }
}

/// What the first step of a send found.
enum Tried<'a, T> {
    /// The message went in.
    In,
    /// The buffer was full (counted, at the instant given: the block's
    /// start): the sending lock is still held. Then the instant the message
    /// was offered.
    Full(MutexGuard<'a, SendState<T>>, T, Instant, Instant),
    /// Another send holds the lock, blocked on a full buffer: this one found
    /// it full too (counted, at the instant given).
    HolderBlocked(T, Instant, Instant),
    /// Every receiver is gone.
    Disconnected(T),
}

impl<T> SendSide<T> {
    /// A send (see [`SyncSender::send`]), for a caller waiting since `since`
    /// if given: how long it blocked, if it did.
    fn send(&self, message: T, since: Option<Instant>) -> Result<Option<Duration>, SendError<T>> {
        match self.try_offer(message, since) {
            Tried::In => Ok(None),
            Tried::Disconnected(message) => Err(SendError(message)),
            Tried::Full(mut state, message, at, offered) => match self.policy {
                Policy::Block => {
                    self.counters.blocking.enter(at);
                    self.block(&mut state, message, at, offered).map(Some)
                }
                Policy::DropOldest if self.counters.capacity > 0 => {
                    // Held past the lock: if it is the last hold on the
                    // receivers, the buffer's messages drop with it.
                    let Some(receivers) = self.receivers.upgrade() else {
                        return Err(SendError(message));
                    };
                    let mut evicted = Evicted {
                        first: None,
                        more: Vec::new(),
                    };
                    let sent =
                        self.replace_oldest(&mut state, message, offered, &receivers, &mut evicted);
                    drop(state);
                    drop((evicted.first, evicted.more, receivers));
                    sent.map(|()| None)
                }
                // A rendezvous channel holds nothing older: the new one goes.
                Policy::DropNewest | Policy::DropOldest => {
                    self.dropped_newest(&mut state, offered);
                    drop(state);
                    drop(message);
                    Ok(None)
                }
            },
            // Another send is blocked on a full buffer: so is this one.
            Tried::HolderBlocked(message, at, offered) => {
                self.counters.blocking.enter(at);
                let mut state = lock(&self.state);
                // Room may have come while it waited for its turn.
                self.stamp(Instant::now());
                match state.inner.try_send(message) {
                    Ok(()) => {
                        let unblocked = self.unblocked(&mut state, at);
                        self.entered(&mut state, offered);
                        Ok(Some(unblocked.saturating_duration_since(at)))
                    }
                    Err(TrySendError::Full(message)) => {
                        self.block(&mut state, message, at, offered).map(Some)
                    }
                    Err(TrySendError::Disconnected(message)) => {
                        self.unblocked(&mut state, at);
                        Err(SendError(message))
                    }
                }
            }
        }
    }

    /// The first step of every send: `try_send` under the sending lock, a
    /// full buffer counted (the full-count), dated `since` if the caller has
    /// waited since then (see [`SyncSender::send_since`]).
    fn try_offer(&self, message: T, since: Option<Instant>) -> Tried<'_, T> {
        let now = Instant::now();
        let offered = since.map_or(now, |since| since.min(now));
        let (mut state, at) = match self.acquire(now) {
            Ok(acquired) => acquired,
            Err(at) => {
                let at = since.map_or(at, |_| offered);
                self.counters.count_full(at);
                return Tried::HolderBlocked(message, at, offered);
            }
        };
        // It goes in now, whenever it was offered.
        self.stamp(at);
        let at = since.map_or(at, |_| offered);
        match state.inner.try_send(message) {
            Ok(()) => {
                self.entered(&mut state, offered);
                Tried::In
            }
            Err(TrySendError::Full(message)) => {
                self.counters.count_full(at);
                state.high_water.mark = self.counters.capacity;
                Tried::Full(state, message, at, offered)
            }
            Err(TrySendError::Disconnected(message)) => Tried::Disconnected(message),
        }
    }

    /// The sending lock, and the time it was had (`now`, unless it had to
    /// wait); `Err` with the time if it is held by a send blocked on a full
    /// buffer. Another holder only does a `try_send` or an eviction, so it
    /// is waited for by yielding, not by sleeping on the lock: it may yet
    /// block, and this send must then know it found the buffer full.
    fn acquire(&self, now: Instant) -> Result<(MutexGuard<'_, SendState<T>>, Instant), Instant> {
        let mut waited = false;
        loop {
            let state = match self.state.try_lock() {
                Ok(state) => state,
                Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => {
                    if self.holder_blocked.load(Relaxed) {
                        return Err(if waited { Instant::now() } else { now });
                    }
                    waited = true;
                    std::thread::yield_now();
                    continue;
                }
            };
            return Ok((state, if waited { Instant::now() } else { now }));
        }
    }

    /// The next message to go in does so at `at` (see `Stamps`).
    fn stamp(&self, at: Instant) {
        let c = &*self.counters;
        let seq = c.entered.load(Relaxed);
        c.stamps.slot(seq).store(nanos_since(c.origin, at), Relaxed);
    }

    /// A message went in.
    fn entered(&self, state: &mut SendState<T>, offered: Instant) {
        let c = &*self.counters;
        let entered = c.entered.load(Relaxed) + 1;
        // Release: a reading that sees the message counted sees its stamp.
        c.entered.store(entered, Release);
        state.high_water.sent(entered, c);
        self.offered(state, offered);
    }

    /// A message was offered at `offered` and accepted: an arrival, for the recorder.
    #[cfg_attr(not(feature = "recorder"), allow(unused_variables))]
    fn offered(&self, state: &mut SendState<T>, offered: Instant) {
        #[cfg(feature = "recorder")]
        if let Some(tape) = &mut state.arrivals {
            tape.push(nanos_since(self.counters.origin, offered));
        }
    }

    /// The blocking `send` after a full buffer (counted, and its block
    /// entered, at `since`). The lock stays held: no other message may go in
    /// before this one.
    fn block(
        &self,
        state: &mut SendState<T>,
        message: T,
        since: Instant,
        offered: Instant,
    ) -> Result<Duration, SendError<T>> {
        let c = &*self.counters;
        c.stamps
            .slot(c.entered.load(Relaxed))
            .store(ENTERING, Relaxed);
        self.holder_blocked.store(true, Relaxed);
        let sent = state.inner.send(message);
        self.holder_blocked.store(false, Relaxed);
        let unblocked = self.unblocked(state, since);
        sent?;
        // It went in now, not when it was offered.
        self.stamp(unblocked);
        self.entered(state, offered);
        Ok(unblocked.saturating_duration_since(since))
    }

    /// A block that started at `since` ends now: timed.
    fn unblocked(&self, state: &mut SendState<T>, since: Instant) -> Instant {
        let c = &*self.counters;
        let unblocked = Instant::now();
        c.blocked.record(unblocked.saturating_duration_since(since));
        c.blocking.leave(unblocked);
        state.high_water.mark = c.capacity;
        unblocked
    }

    /// Counts a drop-newest: the message (which the caller drops, after
    /// the lock) was offered but never went in.
    fn dropped_newest(&self, state: &mut SendState<T>, offered: Instant) {
        let c = &*self.counters;
        c.dropped_newest
            .store(c.dropped_newest.load(Relaxed) + 1, Relaxed);
        self.offered(state, offered);
    }

    /// Discards the oldest buffered message and puts this one in. Only the
    /// holder of the sending lock adds messages, so once one has left
    /// (evicted here, or taken by a receiver meanwhile) there is room. The
    /// receiving end is only tried: a receiver holding it is taking a message
    /// (room soon) or waiting on an empty buffer (room now), and waiting for
    /// it could deadlock. What it evicts goes into `evicted`, for the caller
    /// to drop after the lock.
    fn replace_oldest(
        &self,
        state: &mut SendState<T>,
        message: T,
        offered: Instant,
        receivers: &RecvSide<T>,
        evicted: &mut Evicted<T>,
    ) -> Result<(), SendError<T>> {
        let mut message = message;
        loop {
            match receivers.evict_oldest() {
                Eviction::Evicted(oldest) => evicted.push(oldest),
                Eviction::Room => {}
                Eviction::Busy => std::thread::yield_now(),
            }
            // It goes in now, after the eviction.
            self.stamp(Instant::now());
            match state.inner.try_send(message) {
                Ok(()) => {
                    self.entered(state, offered);
                    return Ok(());
                }
                Err(TrySendError::Full(back)) => message = back,
                Err(TrySendError::Disconnected(back)) => return Err(SendError(back)),
            }
        }
    }
}

/// What a drop-oldest eviction found.
pub(crate) enum Eviction<T> {
    /// The oldest message, taken out.
    Evicted(T),
    /// Nothing to evict: the buffer has room.
    Room,
    /// A receiver holds the receiving end.
    Busy,
}

/// Messages evicted while the sending lock was held, dropped once it is
/// released: a message's `Drop` is the caller's code, and may send on this
/// channel. One eviction a send unless other senders take the room first.
struct Evicted<T> {
    first: Option<T>,
    more: Vec<T>,
}

impl<T> Evicted<T> {
    fn push(&mut self, message: T) {
        match self.first {
            None => self.first = Some(message),
            Some(_) => self.more.push(message),
        }
    }
}

/// Tracks the most messages ever in the buffer without reading the
/// receivers' counter on every send: the depth is at most
/// `entered - left_seen` (what has left only grows), so the counter is read
/// only when that bound could set a new mark, and never again once the
/// buffer has been full.
#[derive(Debug, Default)]
struct HighWater {
    mark: u64,
    left_seen: u64,
}

impl HighWater {
    fn sent(&mut self, entered: u64, c: &Counters) {
        if self.mark >= c.capacity || entered - self.left_seen <= self.mark {
            return;
        }
        self.left_seen = c.left.count();
        let depth = entered.saturating_sub(self.left_seen).min(c.capacity);
        if depth > self.mark {
            self.mark = depth;
            c.high_water.fetch_max(depth, Relaxed);
        }
    }
}
