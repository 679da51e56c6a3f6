//! The produce and consume events the illustrator hears on its two unbounded
//! `std::sync::mpsc` channels.
//!
//! An event only says "something moved": every figure shown comes from one
//! reading of the counters. So a sender skips its event while the last one it
//! sent is still waiting to be taken. Each channel then holds at most one
//! event per sending thread, whatever share of the CPU the illustrator gets:
//! before, a flat-out run whose illustrator was kept off the CPU queued tens
//! of megabytes of events it would only have coalesced.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};

use crate::live::counters::Padded;

/// An unbounded event channel whose senders skip an event while one waits.
pub fn channel() -> (Events, Feed) {
    let (tx, rx) = mpsc::channel();
    let waiting = Arc::new(Padded(AtomicBool::new(false)));
    let events = Events {
        tx,
        waiting: Arc::clone(&waiting),
    };
    (events, Feed { rx, waiting })
}

/// The sending end, one clone per thread.
#[derive(Debug, Clone)]
pub struct Events {
    tx: Sender<u64>,
    /// Set by a sender when it sends, cleared by the illustrator when it
    /// looks: an event is (probably) waiting. A stale read costs at most one
    /// event too many or one skipped, and the illustrator reads the counters
    /// on every turn anyway. Padded: the producer reads it on every message.
    waiting: Arc<Padded<AtomicBool>>,
}

impl Events {
    /// Tells the illustrator that message `seq` moved, unless it has yet to
    /// take the last such news. If the illustrator has failed, the run goes on.
    pub fn send(&self, seq: u64) {
        if !self.waiting.load(Relaxed) {
            self.waiting.store(true, Relaxed);
            let _ = self.tx.send(seq);
        }
    }
}

/// The receiving end, the illustrator's.
#[derive(Debug)]
pub struct Feed {
    rx: Receiver<u64>,
    waiting: Arc<Padded<AtomicBool>>,
}

impl Feed {
    /// The next waiting event; clears the flag first, so senders send again.
    pub fn try_recv(&self) -> Result<u64, TryRecvError> {
        self.waiting.store(false, Relaxed);
        self.rx.try_recv()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sender_skips_events_while_one_waits() {
        let (events, feed) = channel();
        for seq in 0..1000 {
            events.send(seq);
        }
        assert_eq!(feed.try_recv(), Ok(0), "the first is sent");
        assert_eq!(
            feed.try_recv(),
            Err(TryRecvError::Empty),
            "the rest skipped"
        );
        events.send(1000);
        assert_eq!(feed.try_recv(), Ok(1000), "looking lets the next through");
    }

    #[test]
    fn the_feed_closes_when_every_sender_is_gone() {
        let (events, feed) = channel();
        let other = events.clone();
        events.send(1);
        drop((events, other));
        assert_eq!(feed.try_recv(), Ok(1));
        assert_eq!(feed.try_recv(), Err(TryRecvError::Disconnected));
    }

    #[test]
    fn threads_flat_out_leave_at_most_one_event_each() {
        let (events, feed) = channel();
        std::thread::scope(|s| {
            for _ in 0..4 {
                let events = events.clone();
                s.spawn(move || (0..100_000).for_each(|seq| events.send(seq)));
            }
        });
        drop(events);
        // Nobody looked while they ran: one event got through, all else was skipped.
        let mut waiting = 0;
        while feed.rx.try_recv().is_ok() {
            waiting += 1;
        }
        assert!((1..=4).contains(&waiting), "{waiting} events queued");
    }
}
