//! The receiving end, which several consumer threads share by cloning it.
//!
//! std's `Receiver` is one consumer's; the clones share it behind a lock, so
//! messages leave in order, each once, and each receiver's position in that
//! order is known (it is what finds a message's stamp). The lock is held only
//! to take a message that is there: a receiver that must wait takes the
//! `Receiver` out and waits in it without the lock, and the others wait on a
//! condition variable until it is put back — so `recv_timeout` keeps its
//! timeout even while another receiver is blocked in `recv`.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::Ordering::{Relaxed, Release};
use std::sync::mpsc::{self, RecvError, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use crate::meter::{Consumer, Counters, ENTERING, Meter, Snapshot, lock, nanos_since};
#[cfg(feature = "recorder")]
use crate::recorder::Tape;
use crate::sender::Eviction;

/// The receiving end, like [`std::sync::mpsc::Receiver`], but `Clone`: give
/// each consumer thread its own clone. Messages leave in the order they went
/// in and each is received once, by one clone. Each clone is one consumer
/// for the idle and busy times: it is idle while it waits for a message and
/// busy from receiving one until it next has to wait. Like std's receiver it
/// is `Send` but not `Sync`: a clone belongs to one thread at a time, so its
/// busy time is that thread's. The channel stays open to senders until the
/// last clone is dropped.
///
/// ```compile_fail
/// fn shared<T: Sync>(_: &T) {}
/// let (_tx, rx) = metered::sync_channel::<u8>(1);
/// shared(&rx); // clone it instead
/// ```
pub struct Receiver<T> {
    side: Arc<RecvSide<T>>,
    /// This receiver's idle and busy time.
    consumer: Arc<Consumer>,
    /// Whether it is working on a message it took (its busy tally is open).
    busy: Cell<bool>,
    /// When it took the message it is working on, for the recorder.
    #[cfg(feature = "recorder")]
    item_since: Cell<Option<Instant>>,
}

/// What the clones of a receiver share.
pub(crate) struct RecvSide<T> {
    counters: Arc<Counters>,
    state: Mutex<RecvState<T>>,
    /// Signalled when a receiver that waited in the channel puts it back.
    returned: Condvar,
    /// Whether service times are recorded.
    #[cfg(feature = "recorder")]
    recording: bool,
}

struct RecvState<T> {
    /// std's receiver; `None` while a receiver waits in it for a message.
    inner: Option<mpsc::Receiver<T>>,
    /// Receivers waiting for it to be put back.
    waiters: usize,
    /// Each message's service time, for the recorder.
    #[cfg(feature = "recorder")]
    services: Option<Tape>,
}

impl<T> RecvSide<T> {
    pub(crate) fn new(
        inner: mpsc::Receiver<T>,
        counters: Arc<Counters>,
        #[cfg(feature = "recorder")] services: Option<Tape>,
    ) -> RecvSide<T> {
        #[cfg(feature = "recorder")]
        let recording = services.is_some();
        RecvSide {
            counters,
            state: Mutex::new(RecvState {
                inner: Some(inner),
                waiters: 0,
                #[cfg(feature = "recorder")]
                services,
            }),
            returned: Condvar::new(),
            #[cfg(feature = "recorder")]
            recording,
        }
    }

    /// For drop-oldest: takes the oldest message out, for the sender to
    /// discard.
    pub(crate) fn evict_oldest(&self) -> Eviction<T> {
        let state = match self.state.try_lock() {
            Ok(state) => state,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return Eviction::Busy,
        };
        let Some(inner) = &state.inner else {
            return Eviction::Busy;
        };
        let Ok(message) = inner.try_recv() else {
            return Eviction::Room;
        };
        // It left in its place, under the receiving end like a receive.
        let c = &*self.counters;
        let discarded = &c.left.discarded;
        discarded.store(discarded.load(Relaxed) + 1, Relaxed);
        Eviction::Evicted(message)
    }
}

impl<T> Drop for RecvSide<T> {
    fn drop(&mut self) {
        // The last receiver is gone: std discards what is left in the
        // buffer, and sends fail from now on.
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        drop(state.inner.take());
        self.counters.closed.store(true, Release);
    }
}

impl<T> Receiver<T> {
    pub(crate) fn new(side: Arc<RecvSide<T>>) -> Receiver<T> {
        Receiver {
            consumer: side.counters.register(),
            side,
            busy: Cell::new(false),
            #[cfg(feature = "recorder")]
            item_since: Cell::new(None),
        }
    }

    /// Waits for the next message; an error once the channel is empty and
    /// every sender is gone, as std's.
    pub fn recv(&self) -> Result<T, RecvError> {
        self.receive(None).map_err(|_| RecvError)
    }

    /// Takes the next message if there is one now. `Empty` also while
    /// another clone is waiting in the channel for one: the next message is
    /// that clone's.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let side = &*self.side;
        let mut state = lock(&side.state);
        self.item_done(&mut state);
        let Some(inner) = &state.inner else {
            self.release(state);
            self.stop_working();
            return Err(TryRecvError::Empty);
        };
        match inner.try_recv() {
            Ok(message) => {
                let now = self.took();
                self.release(state);
                self.start_working(now);
                Ok(message)
            }
            Err(e) => {
                self.release(state);
                self.stop_working();
                Err(e)
            }
        }
    }

    /// Waits at most `timeout` for the next message, as std's.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.receive(Instant::now().checked_add(timeout))
    }

    /// The messages as they come, until the channel is empty and closed.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// The messages there now, without waiting.
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
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

    /// The next message, waiting until `deadline` if there is one.
    fn receive(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        let side = &*self.side;
        let mut state = lock(&side.state);
        self.item_done(&mut state);
        let mut waiting = false;
        loop {
            let Some(inner) = &state.inner else {
                // Another receiver is waiting in the channel: wait for it to
                // put the channel back (it has a message, gave up, or found
                // the channel closed).
                if !waiting {
                    waiting = true;
                    self.start_waiting();
                }
                state.waiters += 1;
                state = match deadline {
                    None => side.returned.wait(state).unwrap_or_else(|e| e.into_inner()),
                    Some(deadline) => {
                        let left = deadline.saturating_duration_since(Instant::now());
                        let (state, _) = side
                            .returned
                            .wait_timeout(state, left)
                            .unwrap_or_else(|e| e.into_inner());
                        state
                    }
                };
                state.waiters -= 1;
                if state.inner.is_none() && deadline.is_some_and(|d| Instant::now() >= d) {
                    drop(state);
                    self.consumer.idle.leave(Instant::now());
                    return Err(RecvTimeoutError::Timeout);
                }
                continue;
            };
            match inner.try_recv() {
                Ok(message) => {
                    let now = self.took();
                    self.release(state);
                    if waiting {
                        self.consumer.idle.leave(now);
                    }
                    self.start_working(now);
                    return Ok(message);
                }
                Err(TryRecvError::Disconnected) => {
                    self.release(state);
                    self.stopped(waiting);
                    return Err(RecvTimeoutError::Disconnected);
                }
                Err(TryRecvError::Empty) if deadline.is_some_and(|d| Instant::now() >= d) => {
                    self.release(state);
                    self.stopped(waiting);
                    return Err(RecvTimeoutError::Timeout);
                }
                Err(TryRecvError::Empty) => {}
            }
            // Empty: wait in the channel itself, without the lock.
            if !waiting {
                self.start_waiting();
            }
            let inner = state.inner.take().expect("checked above");
            drop(state);
            let got = match deadline {
                None => inner
                    .recv()
                    .map_err(|RecvError| RecvTimeoutError::Disconnected),
                Some(d) => inner.recv_timeout(d.saturating_duration_since(Instant::now())),
            };
            state = lock(&side.state);
            // Counted before the channel is put back: no other receiver can
            // have taken a message meanwhile, so this one's place is known.
            let got = got.map(|message| (message, self.took()));
            state.inner = Some(inner);
            self.release(state);
            return match got {
                Ok((message, now)) => {
                    self.consumer.idle.leave(now);
                    self.start_working(now);
                    Ok(message)
                }
                Err(e) => {
                    self.stopped(true);
                    Err(e)
                }
            };
        }
    }

    /// Counts the message just taken (this receiver holds the receiving end,
    /// so it is the next in order) and returns the time it was taken.
    fn took(&self) -> Instant {
        let c = &*self.side.counters;
        let received = c.left.received.load(Relaxed);
        // Its stamp, read while no other receiver can take the next message
        // (so the slot is not reused yet): how long it waited.
        let entered = c.stamps.slot(c.left.count()).load(Relaxed);
        let now = Instant::now();
        if entered != ENTERING {
            let waited = nanos_since(c.origin, now).saturating_sub(entered);
            if waited > c.oldest_max_ns.load(Relaxed) {
                c.oldest_max_ns.fetch_max(waited, Relaxed);
            }
        }
        // Only the holder of the receiving end writes it: a load and a store do.
        c.left.received.store(received + 1, Relaxed);
        now
    }

    /// Unlocks, and if the channel is there for the taking and others wait
    /// for it, wakes one: a wake-up meant for a receiver that has since left
    /// must not be lost.
    fn release(&self, state: MutexGuard<'_, RecvState<T>>) {
        let wake = state.inner.is_some() && state.waiters > 0;
        drop(state);
        if wake {
            self.side.returned.notify_one();
        }
    }

    /// It starts waiting for a message: done with the one it had.
    fn start_waiting(&self) {
        let now = Instant::now();
        if self.busy.replace(false) {
            self.consumer.busy.leave(now);
        }
        self.consumer.idle.enter(now);
    }

    /// It got no message (closed, or timed out), after waiting or not.
    fn stopped(&self, waited: bool) {
        if waited {
            self.consumer.idle.leave(Instant::now());
        } else {
            self.stop_working();
        }
    }

    /// It asked for a message and found none without waiting: done with the one it had.
    fn stop_working(&self) {
        if self.busy.replace(false) {
            self.consumer.busy.leave(Instant::now());
        }
    }

    /// It took a message at `now` and works on it.
    fn start_working(&self, now: Instant) {
        if !self.busy.replace(true) {
            self.consumer.busy.enter(now);
        }
        #[cfg(feature = "recorder")]
        if self.side.recording {
            self.item_since.set(Some(now));
        }
    }

    /// It asks for the next message: the one it had is done, and its
    /// service time goes to the recorder.
    #[cfg_attr(not(feature = "recorder"), allow(unused_variables))]
    fn item_done(&self, state: &mut RecvState<T>) {
        #[cfg(feature = "recorder")]
        if let Some(since) = self.item_since.take()
            && let Some(tape) = &mut state.services
        {
            let ns = Instant::now().saturating_duration_since(since).as_nanos();
            tape.push(u64::try_from(ns).unwrap_or(u64::MAX));
        }
    }
}

impl<T> Clone for Receiver<T> {
    /// Another consumer of the same messages, with its own idle and busy time.
    fn clone(&self) -> Self {
        Receiver::new(Arc::clone(&self.side))
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        #[cfg(feature = "recorder")]
        if self.item_since.get().is_some() {
            self.item_done(&mut lock(&self.side.state));
        }
        self.stop_working();
        self.side.counters.retire(&self.consumer);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

/// Messages as they come: [`Receiver::iter`].
#[derive(Debug)]
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

/// Messages there now: [`Receiver::try_iter`].
#[derive(Debug)]
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// Messages as they come, owning the receiver.
#[derive(Debug)]
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}
