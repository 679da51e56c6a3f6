//! The channel through its public API: std's semantics, the three policies
//! with exact accounting, several senders and receivers, and snapshots taken
//! while threads run. Every wait is for another thread's progress (counts
//! seen in a snapshot), never for a time; every loop ends by itself.

use std::sync::mpsc::{RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};
use std::thread;
use std::time::{Duration, Instant};

use metered::{Builder, Policy, Receiver, Snapshot, SyncSender, sync_channel, sync_channel_with};

/// The identity every snapshot keeps, and the bounds.
fn consistent(s: &Snapshot) {
    assert_eq!(s.sent, s.received + s.dropped + s.depth, "{s:?}");
    assert!(s.depth <= s.high_water, "{s:?}");
    assert!(s.high_water <= s.capacity, "{s:?}");
    assert!(s.blocked.count() <= s.full_count, "{s:?}");
    assert_eq!(s.oldest_age.is_some(), s.depth > 0, "{s:?}");
    assert!(
        s.oldest_age.unwrap_or_default() <= s.oldest_age_max,
        "{s:?}"
    );
}

/// Long enough for a debug build on a loaded two-core machine: a hang
/// fails instead of blocking the suite, and nothing else waits on time.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Every message until the channel is closed and empty, like `rx.iter()`,
/// but a receiver left waiting by a bug fails instead of hanging.
fn drain<T>(rx: &Receiver<T>) -> Vec<T> {
    let mut taken = Vec::new();
    loop {
        match rx.recv_timeout(WATCHDOG) {
            Ok(message) => taken.push(message),
            Err(RecvTimeoutError::Disconnected) => return taken,
            Err(RecvTimeoutError::Timeout) => panic!("no message for {WATCHDOG:?}"),
        }
    }
}

/// Spins (yielding) until `done` holds for a snapshot: bounded by the other
/// threads' progress, which the test has arranged (and by the watchdog).
fn wait_until<T>(tx: &SyncSender<T>, done: impl Fn(&Snapshot) -> bool) -> Snapshot {
    let start = Instant::now();
    loop {
        let s = tx.snapshot();
        if done(&s) {
            return s;
        }
        assert!(start.elapsed() < WATCHDOG, "never came: {s:?}");
        thread::yield_now();
    }
}

#[test]
fn sending_to_a_channel_whose_receivers_are_gone_gives_the_message_back() {
    for policy in [Policy::Block, Policy::DropNewest, Policy::DropOldest] {
        let (tx, rx) = sync_channel_with::<u32>(1, policy);
        let other = rx.clone();
        drop(rx);
        // One receiver is left: still open.
        assert_eq!(tx.send(1), Ok(()));
        drop(other);
        assert_eq!(tx.send(2), Err(SendError(2)), "{policy:?}");
        assert_eq!(tx.try_send(3), Err(TrySendError::Disconnected(3)));
        let s = tx.snapshot();
        // The message left in the buffer went with the last receiver.
        assert_eq!((s.sent, s.received, s.dropped, s.depth), (1, 0, 1, 0));
        assert_eq!(s.abandoned, 1, "{policy:?}");
        consistent(&s);
    }
}

#[test]
fn a_closed_channel_is_drained_then_reports_closed_and_iter_ends() {
    let (tx, rx) = sync_channel::<u32>(4);
    let other = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    // One sender is left: still open.
    assert_eq!(rx.recv_timeout(Duration::ZERO), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(1)),
        Err(RecvTimeoutError::Timeout)
    );
    other.send(2).unwrap();
    other.send(3).unwrap();
    drop(other);
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.iter().collect::<Vec<_>>(), [3]);
    assert_eq!(rx.recv(), Err(RecvError));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(1)),
        Err(RecvTimeoutError::Disconnected)
    );
    assert_eq!(rx.iter().next(), None);
    assert_eq!(rx.try_iter().next(), None);
    let s = rx.snapshot();
    assert_eq!((s.sent, s.received, s.depth), (3, 3, 0));
}

#[test]
fn iterators_take_what_is_there_or_everything() {
    let (tx, rx) = sync_channel::<u32>(8);
    for n in 0..5 {
        tx.send(n).unwrap();
    }
    assert_eq!(rx.try_iter().take(2).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [2, 3, 4]);
    tx.send(5).unwrap();
    drop(tx);
    assert_eq!((&rx).into_iter().collect::<Vec<_>>(), [5]);
    assert_eq!(rx.into_iter().count(), 0);
}

#[test]
fn block_counts_the_full_buffer_then_blocks_until_there_is_room() {
    let (tx, rx) = sync_channel::<u32>(2);
    tx.send(0).unwrap();
    tx.send(1).unwrap();
    let s = tx.snapshot();
    assert_eq!((s.sent, s.depth, s.high_water, s.full_count), (2, 2, 2, 0));
    assert_eq!(s.first_full, None);
    // try_send never waits: the full buffer is counted, the message handed back.
    assert_eq!(tx.try_send(9), Err(TrySendError::Full(9)));
    assert_eq!(tx.snapshot().full_count, 1);
    thread::scope(|s| {
        s.spawn(|| tx.send(2).unwrap());
        let blocked = wait_until(&tx, |s| s.blocked_now == 1);
        assert_eq!((blocked.full_count, blocked.blocked.count()), (2, 0));
        assert_eq!((blocked.sent, blocked.depth), (2, 2));
        consistent(&blocked);
        assert_eq!(rx.recv(), Ok(0));
    });
    let s = tx.snapshot();
    assert_eq!((s.full_count, s.blocked.count(), s.blocked_now), (2, 1, 0));
    assert_eq!((s.sent, s.received, s.depth, s.dropped), (3, 1, 2, 0));
    assert!(s.first_full.is_some_and(|t| t <= s.elapsed));
    // The same block, to the microsecond the time tally keeps.
    assert!(
        s.blocked.max() <= s.blocked_time + Duration::from_micros(1),
        "{s:?}"
    );
    drop(tx);
    assert_eq!(rx.iter().collect::<Vec<_>>(), [1, 2]);
    consistent(&rx.snapshot());
}

/// A caller that arrived before it could send (a request queued in its
/// handler): its block counts from its arrival, and so does the first full.
/// Orders only: the block lasted at least from `since` until the receive
/// that ended it began.
#[test]
fn send_since_times_a_block_from_the_callers_arrival() {
    let (tx, rx) = sync_channel::<u32>(1);
    let created = tx.meter().created();
    let since = Instant::now();
    // Not full: in at once, never blocked, whatever `since` says.
    assert_eq!(tx.send_since(0, since), Ok(None));
    let (blocked, receive_began) = thread::scope(|s| {
        let sender = s.spawn(|| tx.send_since(1, since).unwrap());
        wait_until(&tx, |s| s.blocked_now == 1);
        let receive_began = Instant::now();
        assert_eq!(rx.recv(), Ok(0));
        (sender.join().unwrap(), receive_began)
    });
    let blocked = blocked.expect("it found the buffer full and blocked");
    assert!(blocked >= receive_began - since, "{blocked:?}");
    let s = tx.snapshot();
    assert_eq!((s.full_count, s.blocked.count(), s.sent), (1, 1, 2));
    assert!(s.blocked.max() >= receive_began - since, "{s:?}");
    // Dated from `since`, to the microsecond it is kept in.
    let first = s.first_full.unwrap();
    assert!(first <= since - created, "{first:?}");
    assert!(
        first + Duration::from_micros(1) >= since - created,
        "{first:?}"
    );
    // A `since` to come counts as now; a drop policy never blocks.
    assert_eq!(rx.recv(), Ok(1));
    let later = Instant::now() + WATCHDOG;
    assert_eq!(tx.send_since(2, later), Ok(None));
    drop(tx);
    assert_eq!(rx.iter().collect::<Vec<_>>(), [2]);
    let (tx, _rx) = sync_channel_with::<u32>(1, Policy::DropNewest);
    assert_eq!(tx.send_since(0, since), Ok(None));
    assert_eq!(tx.send_since(1, since), Ok(None));
    assert_eq!(tx.snapshot().dropped, 1);
}

#[test]
fn a_policy_is_known_by_its_name() {
    for policy in Policy::ALL {
        assert_eq!(policy.name().parse(), Ok(policy));
        assert_eq!(policy.to_string(), policy.name());
    }
    assert_eq!(
        Policy::ALL.map(Policy::name),
        ["block", "drop-newest", "drop-oldest"]
    );
    assert_eq!(Policy::default(), Policy::Block);
    assert!("Block".parse::<Policy>().is_err());
    assert!("".parse::<Policy>().is_err());
}

#[test]
fn drop_newest_discards_what_finds_the_buffer_full() {
    let (tx, rx) = sync_channel_with::<u32>(3, Policy::DropNewest);
    for n in 0..10 {
        tx.send(n).unwrap();
        let s = tx.snapshot();
        consistent(&s);
        assert_eq!(
            (s.sent, s.depth),
            (u64::from(n) + 1, u64::from(n + 1).min(3))
        );
    }
    let s = tx.snapshot();
    assert_eq!((s.dropped, s.full_count, s.blocked.count()), (7, 7, 0));
    // Discarded by the policy, not left behind.
    assert_eq!(s.abandoned, 0);
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [0, 1, 2]);
    let s = tx.snapshot();
    assert_eq!((s.sent, s.received, s.dropped, s.depth), (10, 3, 7, 0));
}

#[test]
fn drop_oldest_makes_room_for_the_newest() {
    let (tx, rx) = sync_channel_with::<u32>(3, Policy::DropOldest);
    for n in 0..10 {
        tx.send(n).unwrap();
        consistent(&tx.snapshot());
    }
    let s = tx.snapshot();
    assert_eq!((s.sent, s.dropped, s.depth, s.full_count), (10, 7, 3, 7));
    assert_eq!(s.blocked.count(), 0);
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [7, 8, 9]);
    let s = rx.snapshot();
    assert_eq!((s.sent, s.received, s.dropped, s.depth), (10, 3, 7, 0));
}

#[test]
fn a_rendezvous_channel_has_nothing_older_to_drop() {
    for policy in [Policy::DropNewest, Policy::DropOldest] {
        let (tx, rx) = Builder::new(0).policy(policy).build::<u32>();
        // Nobody is receiving: every send finds it full.
        for n in 0..3 {
            tx.send(n).unwrap();
        }
        let s = rx.snapshot();
        assert_eq!((s.sent, s.dropped, s.full_count, s.depth), (3, 3, 3, 0));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
}

#[test]
fn drop_policies_account_for_every_message_under_concurrency() {
    const EACH: u32 = 5_000;
    for policy in [Policy::DropNewest, Policy::DropOldest] {
        let (tx, rx) = sync_channel_with::<(u32, u32)>(4, policy);
        let meter = tx.meter();
        let seen: Vec<Vec<(u32, u32)>> = thread::scope(|s| {
            for sender in 0..2 {
                let tx = tx.clone();
                s.spawn(move || (0..EACH).for_each(|n| tx.send((sender, n)).unwrap()));
            }
            drop(tx);
            let receivers: Vec<_> = (0..2)
                .map(|_| {
                    let rx = rx.clone();
                    s.spawn(move || drain(&rx))
                })
                .collect();
            drop(rx);
            // Drop policies never block: the senders finish by themselves.
            let start = Instant::now();
            while meter.snapshot().sent < u64::from(2 * EACH) {
                consistent(&meter.snapshot());
                assert!(start.elapsed() < WATCHDOG);
                thread::yield_now();
            }
            receivers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        // Each receiver sees each sender's messages in the order sent.
        for taken in &seen {
            for sender in 0..2 {
                let mine: Vec<u32> = taken
                    .iter()
                    .filter(|m| m.0 == sender)
                    .map(|m| m.1)
                    .collect();
                assert!(mine.windows(2).all(|w| w[0] < w[1]), "{policy:?}");
            }
        }
        let received: u64 = seen.iter().map(|t| t.len() as u64).sum();
        let mut all: Vec<_> = seen.into_iter().flatten().collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len() as u64, received, "each message received once");
        let s = meter.snapshot();
        assert_eq!(
            (s.sent, s.received, s.depth),
            (u64::from(2 * EACH), received, 0)
        );
        assert_eq!(s.sent, s.received + s.dropped, "{policy:?} {s:?}");
        assert_eq!(s.blocked.count(), 0);
    }
}

#[test]
fn dropped_and_received_add_up_to_sent_once_everything_is_done() {
    for policy in [Policy::Block, Policy::DropNewest, Policy::DropOldest] {
        let (tx, rx) = sync_channel_with::<u64>(2, policy);
        let meter = rx.meter();
        let received = thread::scope(|s| {
            let consumer = s.spawn(move || drain(&rx).len() as u64);
            for n in 0..3_000 {
                tx.send(n).unwrap();
            }
            drop(tx);
            consumer.join().unwrap()
        });
        let s = meter.snapshot();
        assert_eq!(s.sent, 3_000, "{policy:?}");
        assert_eq!((s.received, s.depth), (received, 0), "{policy:?}");
        assert_eq!(s.sent, s.received + s.dropped, "{policy:?}");
        if policy == Policy::Block {
            assert_eq!((s.dropped, s.blocked.count()), (0, s.full_count));
        } else {
            assert_eq!(s.blocked.count(), 0);
        }
    }
}

/// Readings taken while real threads run, at whatever moments the scheduler
/// gives: each obeys the bounds, and nothing a reading shows goes back.
#[test]
fn readings_during_a_run_never_contradict_themselves() {
    const EACH: u64 = 10_000;
    let (tx, rx) = sync_channel::<u64>(4);
    let meter = tx.meter();
    thread::scope(|s| {
        for _ in 0..2 {
            let rx = rx.clone();
            s.spawn(move || drain(&rx));
        }
        drop(rx);
        for _ in 0..2 {
            let tx = tx.clone();
            s.spawn(move || (0..EACH).for_each(|n| tx.send(n).unwrap()));
        }
        drop(tx);
        let mut last = meter.snapshot();
        let start = Instant::now();
        loop {
            let s = meter.snapshot();
            assert!(start.elapsed() < WATCHDOG, "{s:?}");
            consistent(&s);
            assert!(s.sent >= last.sent && s.received >= last.received, "{s:?}");
            assert!(s.dropped >= last.dropped && s.full_count >= last.full_count);
            assert!(s.high_water >= last.high_water && s.elapsed >= last.elapsed);
            assert!(s.blocked.count() >= last.blocked.count());
            assert!(s.blocked_time >= last.blocked_time, "{s:?}");
            assert!(s.busy_time >= last.busy_time && s.idle_time >= last.idle_time);
            assert!(s.oldest_age_max >= last.oldest_age_max, "{s:?}");
            if s.received == 2 * EACH {
                assert_eq!((s.sent, s.dropped), (2 * EACH, 0));
                break;
            }
            last = s;
        }
    });
}

#[test]
fn receivers_share_the_messages_in_order_each_once() {
    let (tx, rx) = sync_channel::<u64>(8);
    let taken: Vec<Vec<u64>> = thread::scope(|s| {
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let rx = rx.clone();
                s.spawn(move || drain(&rx))
            })
            .collect();
        drop(rx);
        for n in 0..10_000 {
            tx.send(n).unwrap();
        }
        drop(tx);
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    for mine in &taken {
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "in order");
    }
    let mut all: Vec<_> = taken.into_iter().flatten().collect();
    all.sort_unstable();
    assert_eq!(all, (0..10_000).collect::<Vec<_>>(), "each once");
}

#[test]
fn a_send_that_finds_another_blocked_counts_the_full_buffer_and_waits_its_turn() {
    let (tx, rx) = sync_channel::<u32>(1);
    tx.send(0).unwrap();
    thread::scope(|s| {
        let first = tx.clone();
        s.spawn(move || first.send(1).unwrap());
        wait_until(&tx, |s| s.blocked_now == 1);
        // Whichever way it asks, the buffer is full.
        assert_eq!(tx.try_send(9), Err(TrySendError::Full(9)));
        let second = tx.clone();
        s.spawn(move || second.send(2).unwrap());
        let s = wait_until(&tx, |s| s.blocked_now == 2);
        assert_eq!((s.full_count, s.blocked.count()), (3, 0));
        consistent(&s);
        // The blocked sends go in in turn, the first blocked first.
        assert_eq!(rx.recv(), Ok(0));
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(rx.recv(), Ok(2));
    });
    let s = rx.snapshot();
    assert_eq!((s.full_count, s.blocked.count(), s.blocked_now), (3, 2, 0));
    assert_eq!((s.sent, s.received), (3, 3));
}

#[test]
fn recv_timeout_keeps_its_timeout_while_another_receiver_waits_in_recv() {
    let (tx, rx) = sync_channel::<u32>(1);
    let other = rx.clone();
    thread::scope(|s| {
        let waiting = s.spawn(move || other.recv_timeout(WATCHDOG));
        wait_until(&tx, |s| s.waiting_now == 1);
        assert_eq!(
            rx.recv_timeout(Duration::from_millis(5)),
            Err(RecvTimeoutError::Timeout)
        );
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        tx.send(7).unwrap();
        assert_eq!(waiting.join().unwrap(), Ok(7));
    });
    assert_eq!(tx.snapshot().waiting_now, 0);
}

#[test]
fn receivers_waiting_their_turn_are_all_served() {
    // One waits in the channel, the others for it; each message wakes one.
    let (tx, rx) = sync_channel::<u32>(1);
    thread::scope(|s| {
        let waiting: Vec<_> = (0..4)
            .map(|_| {
                let rx = rx.clone();
                s.spawn(move || rx.recv_timeout(WATCHDOG))
            })
            .collect();
        wait_until(&tx, |s| s.waiting_now == 4);
        for n in 0..4 {
            tx.send(n).unwrap();
        }
        let mut got: Vec<u32> = waiting
            .into_iter()
            .map(|w| w.join().unwrap().unwrap())
            .collect();
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2, 3]);
    });
}

#[test]
fn idle_and_busy_time_are_each_receivers_own() {
    let (tx, rx) = sync_channel::<u32>(1);
    let (done, worked) = std::sync::mpsc::channel();
    let nap = Duration::from_millis(20);
    thread::scope(|s| {
        let worker = rx.clone();
        s.spawn(move || {
            while worker.recv_timeout(WATCHDOG).is_ok() {
                // Working on it: busy.
                thread::sleep(nap);
                done.send(()).unwrap();
            }
        });
        wait_until(&tx, |s| s.waiting_now == 1);
        // Waiting for a message: idle.
        thread::sleep(nap);
        tx.send(1).unwrap();
        worked.recv_timeout(WATCHDOG).unwrap();
        // Waiting for the next one: busy no more.
        let s = wait_until(&tx, |s| s.waiting_now == 1);
        assert_eq!(s.received, 1);
        assert!(s.idle_time >= nap, "{s:?}");
        assert!(s.busy_time >= nap, "{s:?}");
        // One worker (`rx` itself never received): never more than the time there was.
        assert!(s.idle_time + s.busy_time <= s.elapsed, "{s:?}");
        drop(tx);
    });
    // The worker's clone is gone; its time still counts.
    let s = rx.snapshot();
    assert!(s.busy_time >= nap && s.idle_time >= nap, "{s:?}");
}

/// The age shown is the head message's: its entry time (the reading's time
/// less the age) stays put while it waits and moves on to the next message's
/// when it leaves. Orders only, no clock assumptions.
#[test]
fn the_oldest_age_is_the_head_messages_own() {
    let (tx, rx) = sync_channel::<u32>(3);
    let entered = |s: &Snapshot| s.oldest_age.map(|age| s.elapsed - age);
    let empty = tx.snapshot();
    assert_eq!(
        (empty.oldest_age, empty.oldest_age_max),
        (None, Duration::ZERO)
    );
    tx.send(0).unwrap();
    let first = tx.snapshot();
    let m0 = entered(&first).unwrap();
    assert!(m0 <= first.elapsed);
    tx.send(1).unwrap();
    let second = tx.snapshot();
    // Still message 0's age, grown by the time between the readings.
    assert_eq!(entered(&second), Some(m0));
    assert_eq!(rx.recv(), Ok(0));
    let third = tx.snapshot();
    // Message 1 went in after the first reading.
    assert!(entered(&third).unwrap() >= first.elapsed, "{third:?}");
    // Message 0 waited at least until the second reading: the worst.
    assert!(third.oldest_age_max >= second.oldest_age.unwrap());
    assert_eq!(rx.recv(), Ok(1));
    let last = tx.snapshot();
    assert_eq!(last.oldest_age, None);
    assert!(last.oldest_age_max >= third.oldest_age_max);
    // Many laps round the ring: each message's stamp is its own.
    for n in 2..50 {
        tx.send(n).unwrap();
        let s = tx.snapshot();
        assert!(entered(&s).unwrap() >= last.elapsed);
        assert_eq!(rx.recv(), Ok(n));
    }
}

#[test]
fn the_high_water_mark_is_the_deepest_the_buffer_got() {
    let (tx, rx) = sync_channel::<u32>(10);
    for n in 0..3 {
        tx.send(n).unwrap();
    }
    assert_eq!(rx.try_iter().count(), 3);
    tx.send(3).unwrap();
    let s = rx.snapshot();
    assert_eq!((s.high_water, s.depth), (3, 1));
    for n in 4..20 {
        let _ = tx.try_send(n);
    }
    assert_eq!(rx.snapshot().high_water, 10);
}

#[test]
fn the_ends_are_send_and_the_sender_sync() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<SyncSender<Vec<u8>>>();
    sync::<SyncSender<Vec<u8>>>();
    send::<Receiver<Vec<u8>>>();
    send::<metered::Meter>();
    sync::<metered::Meter>();
}

/// A message whose `Drop` sends on the channel it came from.
struct Echo(Option<SyncSender<Echo>>);

impl Drop for Echo {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.try_send(Echo(None));
        }
    }
}

#[test]
fn a_discarded_messages_drop_may_send_on_the_same_channel() {
    // Dropped while the channel held its sending lock, it would wait for it forever.
    for policy in [Policy::DropNewest, Policy::DropOldest] {
        let (done, finished) = std::sync::mpsc::channel();
        thread::spawn(move || {
            let (tx, rx) = sync_channel_with::<Echo>(1, policy);
            let (first, second) = match policy {
                Policy::DropNewest => (Echo(None), Echo(Some(tx.clone()))),
                _ => (Echo(Some(tx.clone())), Echo(None)),
            };
            tx.send(first).unwrap();
            tx.send(second).unwrap();
            let s = rx.snapshot();
            // The echo found the buffer full too, and was handed back.
            done.send((s.dropped, s.full_count, s.depth)).unwrap();
        });
        assert_eq!(finished.recv_timeout(WATCHDOG), Ok((1, 2, 1)), "{policy:?}");
    }
}
