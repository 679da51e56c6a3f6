//! A trace replayed against the buffer: each line is an independent caller,
//! as API requests are. Unlike the built-in model's producer (see
//! [`super::sim`]), a caller that finds the buffer full delays nobody behind
//! it: it waits, FIFO behind earlier blocked callers, until a slot frees, and
//! later callers still arrive at their own times.
//!
//! With consumers taking messages FIFO, one at a time, message i starts
//! service at `s[i] = max(t[i], earliest consumer free time)` (for fixed
//! service D and c consumers, `max(t[i], s[i-c] + D)`); it found the buffer
//! of capacity K full iff `i ≥ K` and `s[i-K] > t[i]` (the K messages before
//! it had not all left the buffer), and was blocked for `s[i-K] - t[i]`. A
//! consumer finishing at the very instant of an arrival has freed its slot.
//!
//! Memory: the last `min(K, n)` start times (a ring), and one free time per
//! consumer; the trace itself is borrowed.

use std::time::Duration;

use crate::histogram::Histogram;
use crate::sizing::sim::Outcome;
use crate::traffic::Service;
use crate::traffic::trace::scaled;

/// One replay: which arrivals, at what load, against what system.
#[derive(Debug, Clone)]
pub struct Replay<'a> {
    /// Nanoseconds after the first arrival, ascending (a [`crate::traffic::Trace`]'s offsets, cut).
    pub offsets: &'a [u64],
    /// Every gap divided by this (`--load`); 1 replays the trace as recorded.
    pub load: f64,
    /// When producing ends, in trace time (before `load`): the cut, or the span.
    pub produce: Duration,
    pub capacity: u64,
    pub consumers: u32,
}

/// Replays the arrivals to the end of the drain.
pub fn replay(replay: &Replay, service: &Service) -> Outcome {
    let n = replay.offsets.len();
    let consumers = replay.consumers.max(1) as usize;
    let mut free_at = vec![0u64; consumers];
    // s[i-K..i], oldest at `head`; at most n entries, so a huge capacity costs nothing.
    let ring_len = usize::try_from(replay.capacity)
        .unwrap_or(usize::MAX)
        .min(n)
        .max(1);
    let bounded = (replay.capacity as usize) <= n;
    let mut ring = vec![0u64; ring_len];
    let mut head = 0usize;
    // The oldest message (by number) that may still be in the buffer at the current arrival.
    let mut oldest = 0usize;
    let (mut full_count, mut max_depth, mut wait_total) = (0u64, 0u64, 0u128);
    let mut blocked = Histogram::default();
    let capacity = replay.capacity;
    for (i, &offset) in replay.offsets.iter().enumerate() {
        let t = scaled(offset, replay.load);
        // The consumer free soonest takes the message.
        let (mut best, mut free) = (0, free_at[0]);
        for (j, &f) in free_at.iter().enumerate().skip(1) {
            if f < free {
                (best, free) = (j, f);
            }
        }
        let start = t.max(free);
        free_at[best] = start.saturating_add(service.ns(i as u64));
        // s[i-K] sits at `head` once the ring has wrapped (i ≥ K).
        let mut entered = t;
        if bounded && i >= ring_len {
            let s_k = ring[head];
            if s_k > t {
                full_count += 1;
                blocked.record_ns(s_k - t);
                entered = s_k;
            }
            oldest = oldest.max(i - ring_len);
        }
        // Depth after this arrival: earlier messages not yet started, plus this
        // one if it waits, at most K. Start times only grow, so `oldest` only moves on.
        while oldest < i && ring_slot(&ring, head, ring_len, i, oldest) <= t {
            oldest += 1;
        }
        let depth = ((i - oldest) as u64 + u64::from(start > t)).min(capacity);
        max_depth = max_depth.max(depth);
        wait_total += u128::from(start - entered.min(start));
        ring[head] = start;
        head += 1;
        if head == ring_len {
            head = 0;
        }
    }
    let end = free_at.iter().copied().max().unwrap_or(0);
    let produced = n as u64;
    let produce = scaled(
        u64::try_from(replay.produce.as_nanos()).unwrap_or(u64::MAX),
        replay.load,
    );
    Outcome {
        produced,
        full_count,
        dropped: 0,
        blocked,
        max_depth,
        mean_wait_s: if produced == 0 {
            0.0
        } else {
            wait_total as f64 / 1e9 / produced as f64
        },
        produce_s: produce as f64 / 1e9,
        end_s: end as f64 / 1e9,
        stalls: Vec::new(),
    }
}

/// The start time of message `k` (one of the last `len` before message `i`),
/// with message `i`'s slot at `head`.
#[inline]
fn ring_slot(ring: &[u64], head: usize, len: usize, i: usize, k: usize) -> u64 {
    // Message i-1 is just before head; message k is i-k places back.
    let back = i - k;
    let index = if back <= head {
        head - back
    } else {
        head + len - back
    };
    ring[index]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::traffic::{EmpiricalService, ServiceOrder};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn fixed(ns: u64) -> Service {
        let model = Model {
            consume_every: Duration::from_nanos(ns),
            ..Model::original()
        };
        Service::model(&model, 0)
    }

    fn run(offsets: &[u64], capacity: u64, consumers: u32, service: &Service) -> Outcome {
        replay(
            &Replay {
                offsets,
                load: 1.0,
                produce: Duration::from_nanos(*offsets.last().unwrap_or(&0)),
                capacity,
                consumers,
            },
            service,
        )
    }

    /// The recurrence, written out with every start time kept.
    fn recurrence(t: &[u64], k: usize, c: usize, d: u64) -> (u64, u64, u64, u64) {
        let mut s = vec![0u64; t.len()];
        let (mut full, mut blocked_total, mut blocked_max, mut max_depth) = (0, 0, 0, 0u64);
        for i in 0..t.len() {
            s[i] = if i >= c { t[i].max(s[i - c] + d) } else { t[i] };
            if i >= k && s[i - k] > t[i] {
                full += 1;
                blocked_total += s[i - k] - t[i];
                blocked_max = blocked_max.max(s[i - k] - t[i]);
            }
            // Depth after arrival i: messages j ≤ i not started by t[i], at most K.
            let waiting = (0..=i).filter(|&j| s[j] > t[i]).count() as u64;
            max_depth = max_depth.max(waiting.min(k as u64));
        }
        (full, blocked_total, blocked_max, max_depth)
    }

    #[test]
    fn the_simulation_is_the_recurrence_on_random_traces() {
        let mut rng = StdRng::seed_from_u64(11);
        let mut rounds_with_full = 0;
        for round in 0..300 {
            let n = rng.random_range(1..400);
            // Clustered arrivals with ties, so the buffer fills and drains.
            let mut t = 0u64;
            let offsets: Vec<u64> = (0..n)
                .map(|_| {
                    t += match rng.random_range(0..4) {
                        0 => 0,
                        1 => rng.random_range(0..10),
                        _ => rng.random_range(0..200),
                    };
                    t
                })
                .collect();
            let k = rng.random_range(1..20) as usize;
            let c = rng.random_range(1..4) as usize;
            let d = rng.random_range(0..300);
            let outcome = run(&offsets, k as u64, c as u32, &fixed(d));
            let (full, total, max, depth) = recurrence(&offsets, k, c, d);
            let what = format!("round {round}: n {n}, K {k}, c {c}, D {d}");
            assert_eq!(outcome.produced, n as u64, "{what}");
            assert_eq!(outcome.full_count, full, "{what}");
            assert_eq!(outcome.blocked.count(), full, "{what}");
            assert_eq!(
                outcome.blocked.total(),
                Duration::from_nanos(total),
                "{what}"
            );
            assert_eq!(outcome.blocked.max(), Duration::from_nanos(max), "{what}");
            assert_eq!(outcome.max_depth, depth, "{what}");
            rounds_with_full += u32::from(full > 0);
        }
        assert!(
            rounds_with_full > 50,
            "the traces test blocking: {rounds_with_full}"
        );
    }

    #[test]
    fn a_blocked_caller_does_not_delay_the_next_one() {
        // Capacity 1, one consumer, 100 ns each: 0 is taken, 1 waits, 2 and 3
        // find it full. 3 arrives at 20 whatever 2's wait: callers are independent.
        let o = run(&[0, 0, 10, 20], 1, 1, &fixed(100));
        assert_eq!(o.full_count, 2);
        // 2 waits for 1 to start (100): 90; 3 waits for 2 to start (200): 180.
        assert_eq!(o.blocked.total(), Duration::from_nanos(270));
        assert_eq!(o.max_depth, 1);
        assert_eq!(o.end_s, 400e-9);
        // Finishing at the instant of an arrival frees the slot first.
        let o = run(&[0, 0, 100], 1, 1, &fixed(100));
        assert_eq!(o.full_count, 0);
        // A capacity above the trace's length never fills.
        let o = run(&[0; 50], 1_000_000_000, 1, &fixed(100));
        assert_eq!((o.full_count, o.max_depth), (0, 49));
    }

    #[test]
    fn load_divides_every_gap() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut t = 0u64;
        let offsets: Vec<u64> = (0..5000)
            .map(|_| {
                t += 2 * rng.random_range(0..1000u64);
                t
            })
            .collect();
        let halved: Vec<u64> = offsets.iter().map(|t| t / 2).collect();
        let service = fixed(700);
        let at_two = replay(
            &Replay {
                offsets: &offsets,
                load: 2.0,
                produce: Duration::from_nanos(t),
                capacity: 10,
                consumers: 1,
            },
            &service,
        );
        let by_hand = run(&halved, 10, 1, &service);
        assert!(at_two.full_count > 0);
        assert_eq!(at_two.full_count, by_hand.full_count);
        assert_eq!(at_two.blocked.total(), by_hand.blocked.total());
        assert_eq!(at_two.max_depth, by_hand.max_depth);
        assert_eq!(at_two.produce_s, by_hand.produce_s);
        assert_eq!(at_two.end_s, by_hand.end_s);
    }

    #[test]
    fn service_times_from_a_file_are_used_by_number() {
        let file = EmpiricalService::from_reader("100ns\n0ns\n".as_bytes(), "s").unwrap();
        let service = Service::File(file.times(ServiceOrder::Replay, 0));
        // Messages 0 (100 ns) and 1 (0 ns) on one consumer: 1 starts at 100.
        let o = run(&[0, 0, 0], 10, 1, &service);
        assert_eq!(o.end_s, 200e-9);
        assert!((o.mean_wait_s - (100e-9 + 100e-9) / 3.0).abs() < 1e-15);
    }
}
