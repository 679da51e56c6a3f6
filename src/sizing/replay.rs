//! A trace replayed against the buffer: each line is an independent caller,
//! as API requests are. Unlike the built-in model's producer (see
//! [`super::sim`]), a caller that finds the buffer full delays nobody behind
//! it: it waits, FIFO behind earlier blocked callers, until a slot frees, and
//! later callers still arrive at their own times.
//!
//! One cohesive thing, kept in one file past 600 lines: the replay's one
//! recurrence (with stalls and the drop policies) and the hand-computed
//! cases that check it.
//!
//! With consumers taking messages FIFO, one at a time, message i starts
//! service at `s[i] = max(t[i], earliest consumer free time)` (for fixed
//! service D and c consumers, `max(t[i], s[i-c] + D)`); it found the buffer
//! of capacity K full iff `i ≥ K` and `s[i-K] > t[i]` (the K messages before
//! it had not all left the buffer), and was blocked for `s[i-K] - t[i]`. A
//! consumer finishing at the very instant of an arrival has freed its slot.
//!
//! Stalls (`--stall`): no consumer starts a message while one lasts (one in
//! service finishes), so a start that would fall in a stall moves to its end;
//! starts stay in FIFO order and the recurrence above still holds with
//! `s[i] = stalled_until(max(t[i], earliest consumer free time))`.
//!
//! Drop policies (`--when-full drop-newest|drop-oldest`): nobody blocks, so a
//! caller finds the buffer full exactly when K messages wait in it. With
//! drop-newest the caller's message is dropped; with drop-oldest the oldest
//! waiting message is dropped and the caller's enters. Either way the depth
//! stays K and the consumers take at the same times, so both drop the same
//! number; they differ in which messages wait, and how long. Every message is
//! consumed or dropped: the replay drains, so `produced = consumed + dropped`.
//!
//! Memory: the last `min(K, n)` start times (a ring) — or with a drop policy
//! the arrival times of the at most `min(K, n)` waiting messages — and one
//! free time per consumer; the trace itself is borrowed.

use std::collections::VecDeque;
use std::time::Duration;

use crate::model::{Stall, WhenFull};
use crate::sizing::sim::{Outcome, POLL, StallEffect};
use crate::traffic::Service;
use crate::traffic::trace::scaled;
use metered::Histogram;

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

/// Replays the arrivals to the end of the drain, blocking when full, without stalls.
pub fn replay(replay: &Replay, service: &Service) -> Outcome {
    replay_what_if(replay, service, WhenFull::Block, &[])
}

/// Replays the arrivals to the end of the drain with a policy for a full
/// buffer and consumer outages (sorted by start, in replay time: after `load`).
pub fn replay_what_if(
    replay: &Replay,
    service: &Service,
    when_full: WhenFull,
    stalls: &[Stall],
) -> Outcome {
    match replay_what_if_within(replay, service, when_full, stalls, &|| false) {
        Some(outcome) => outcome,
        None => unreachable!("a replay that cannot be interrupted was"),
    }
}

/// [`replay_what_if`], asking `interrupted` before the first line and every
/// [`POLL`] lines whether to give up (`None`). Its work is one step a line,
/// whatever the trace's span or the load: the caller bounds it by the lines
/// it hands over.
pub fn replay_what_if_within(
    replay: &Replay,
    service: &Service,
    when_full: WhenFull,
    stalls: &[Stall],
    interrupted: &dyn Fn() -> bool,
) -> Option<Outcome> {
    let mut stalls = Stalls::new(stalls);
    match when_full {
        WhenFull::Block => replay_blocking(replay, service, &mut stalls, interrupted),
        WhenFull::DropNewest | WhenFull::DropOldest => {
            replay_dropping(replay, service, when_full, &mut stalls, interrupted).map(|(o, _)| o)
        }
    }
}

/// Whether to ask, at line `i`, if the replay should give up: before the
/// first line and every [`POLL`] lines.
#[inline]
fn poll(i: usize) -> bool {
    (i as u64).is_multiple_of(POLL)
}

/// Consumer outages in nanoseconds, and what each cost (as [`super::sim`] records them).
struct Stalls {
    spans: Vec<(u64, u64)>,
    effects: Vec<StallEffect>,
}

impl Stalls {
    fn new(stalls: &[Stall]) -> Stalls {
        let ns = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Stalls {
            spans: stalls.iter().map(|s| (ns(s.at), ns(s.end()))).collect(),
            effects: vec![StallEffect::default(); stalls.len()],
        }
    }

    fn any(&self) -> bool {
        !self.spans.is_empty()
    }

    /// When a consumer free at `t` may start: after any stall `t` falls in.
    #[inline]
    fn may_start(&self, mut t: u64) -> u64 {
        for &(at, end) in &self.spans {
            if at > t {
                break;
            }
            if t < end {
                t = end;
            }
        }
        t
    }

    /// The buffer holds `depth` at `at`: the peak of every stall lasting then.
    fn note_depth(&mut self, at: u64, depth: u64) {
        for (&(from, end), effect) in self.spans.iter().zip(self.effects.iter_mut()) {
            if from <= at && at <= end {
                effect.backlog_peak = effect.backlog_peak.max(depth);
            }
        }
    }

    /// A caller at `at` found the buffer full and waited `waited` (0 if dropping).
    fn note_full(&mut self, at: u64, waited: u64) {
        for (&(from, end), effect) in self.spans.iter().zip(self.effects.iter_mut()) {
            if from <= at && at < end {
                effect.full_count += 1;
                effect.blocked_ns += u128::from(waited);
            }
        }
    }
}

/// The issue-10 recurrence, with starts moved out of stalls.
fn replay_blocking(
    replay: &Replay,
    service: &Service,
    stalls: &mut Stalls,
    interrupted: &dyn Fn() -> bool,
) -> Option<Outcome> {
    let stalled = stalls.any();
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
        if poll(i) && interrupted() {
            return None;
        }
        let t = scaled(offset, replay.load);
        // The consumer free soonest takes the message.
        let (mut best, mut free) = (0, free_at[0]);
        for (j, &f) in free_at.iter().enumerate().skip(1) {
            if f < free {
                (best, free) = (j, f);
            }
        }
        let start = if stalled {
            stalls.may_start(t.max(free))
        } else {
            t.max(free)
        };
        free_at[best] = start.saturating_add(service.ns(i as u64));
        // s[i-K] sits at `head` once the ring has wrapped (i ≥ K).
        let mut entered = t;
        if bounded && i >= ring_len {
            let s_k = ring[head];
            if s_k > t {
                full_count += 1;
                blocked.record(Duration::from_nanos(s_k - t));
                entered = s_k;
                if stalled {
                    stalls.note_full(t, s_k - t);
                }
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
        if stalled {
            stalls.note_depth(t, depth);
        }
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
    Some(Outcome {
        produced,
        full_count,
        dropped: 0,
        blocked,
        max_depth,
        mean_wait_s: mean_s(wait_total, produced),
        produce_s: produce as f64 / 1e9,
        end_s: end as f64 / 1e9,
        stalls: std::mem::take(&mut stalls.effects),
    })
}

/// A drop policy: nobody blocks. Consumers take waiting messages FIFO as
/// they free up (never during a stall, never before the message came); a
/// caller that finds K waiting drops its own message or the oldest waiting.
/// Returns the outcome and how many messages were consumed; `None` if interrupted.
fn replay_dropping(
    replay: &Replay,
    service: &Service,
    when_full: WhenFull,
    stalls: &mut Stalls,
    interrupted: &dyn Fn() -> bool,
) -> Option<(Outcome, u64)> {
    let n = replay.offsets.len();
    let capacity = replay.capacity;
    let mut free_at = vec![0u64; replay.consumers.max(1) as usize];
    // Arrival times of the waiting messages, oldest first.
    let room = usize::try_from(capacity).unwrap_or(usize::MAX).min(n);
    let mut waiting: VecDeque<u64> = VecDeque::with_capacity(room);
    let (mut started, mut full_count, mut dropped, mut max_depth) = (0u64, 0u64, 0u64, 0u64);
    let mut wait_total = 0u128;
    // Consumers take waiting messages whose start falls at or before `until`.
    let advance = |waiting: &mut VecDeque<u64>,
                   free_at: &mut [u64],
                   started: &mut u64,
                   wait_total: &mut u128,
                   stalls: &Stalls,
                   until: u64| {
        while let Some(&came) = waiting.front() {
            let (mut best, mut free) = (0, free_at[0]);
            for (j, &f) in free_at.iter().enumerate().skip(1) {
                if f < free {
                    (best, free) = (j, f);
                }
            }
            let start = stalls.may_start(free.max(came));
            if start > until {
                break;
            }
            waiting.pop_front();
            *wait_total += u128::from(start - came);
            free_at[best] = start.saturating_add(service.ns(*started));
            *started += 1;
        }
    };
    for (i, &offset) in replay.offsets.iter().enumerate() {
        if poll(i) && interrupted() {
            return None;
        }
        let t = scaled(offset, replay.load);
        advance(
            &mut waiting,
            &mut free_at,
            &mut started,
            &mut wait_total,
            stalls,
            t,
        );
        if (waiting.len() as u64) < capacity {
            waiting.push_back(t);
            // An idle consumer, not stalled, takes it at once.
            advance(
                &mut waiting,
                &mut free_at,
                &mut started,
                &mut wait_total,
                stalls,
                t,
            );
        } else {
            full_count += 1;
            dropped += 1;
            stalls.note_full(t, 0);
            if when_full == WhenFull::DropOldest && capacity > 0 {
                // The oldest waiting message leaves unconsumed; its wait counts as the sim's does.
                if let Some(came) = waiting.pop_front() {
                    wait_total += u128::from(t - came);
                }
                waiting.push_back(t);
            }
        }
        let depth = waiting.len() as u64;
        max_depth = max_depth.max(depth);
        stalls.note_depth(t, depth);
    }
    advance(
        &mut waiting,
        &mut free_at,
        &mut started,
        &mut wait_total,
        stalls,
        u64::MAX,
    );
    let end = free_at.iter().copied().max().unwrap_or(0);
    let produced = n as u64;
    let produce = scaled(
        u64::try_from(replay.produce.as_nanos()).unwrap_or(u64::MAX),
        replay.load,
    );
    let outcome = Outcome {
        produced,
        full_count,
        dropped,
        blocked: Histogram::default(),
        max_depth,
        mean_wait_s: mean_s(wait_total, produced),
        produce_s: produce as f64 / 1e9,
        end_s: end as f64 / 1e9,
        stalls: std::mem::take(&mut stalls.effects),
    };
    Some((outcome, started))
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

/// The mean of `n` waits that add up to `total_ns`, in seconds; 0 for none.
fn mean_s(total_ns: u128, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        total_ns as f64 / 1e9 / n as f64
    }
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

    /// `n` arrivals in clusters, with ties, so the buffer fills and drains.
    fn clustered(rng: &mut StdRng, n: usize) -> Vec<u64> {
        let mut t = 0u64;
        (0..n)
            .map(|_| {
                t += match rng.random_range(0..4) {
                    0 => 0,
                    1 => rng.random_range(0..10),
                    _ => rng.random_range(0..200),
                };
                t
            })
            .collect()
    }

    #[test]
    fn the_simulation_is_the_recurrence_on_random_traces() {
        let mut rng = StdRng::seed_from_u64(11);
        let mut rounds_with_full = 0;
        for round in 0..300 {
            let n = rng.random_range(1..400);
            let offsets = clustered(&mut rng, n);
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
    fn a_replay_gives_way_when_asked_and_only_then() {
        let offsets = vec![0u64; 3 * POLL as usize];
        let replay = Replay {
            offsets: &offsets,
            load: 1.0,
            produce: Duration::ZERO,
            capacity: 10,
            consumers: 1,
        };
        let polls = std::cell::Cell::new(0);
        let interrupted = || {
            polls.set(polls.get() + 1);
            polls.get() == 2
        };
        for policy in [WhenFull::Block, WhenFull::DropNewest] {
            polls.set(0);
            let cut = replay_what_if_within(&replay, &fixed(0), policy, &[], &interrupted);
            assert!(cut.is_none(), "{policy:?}");
            assert_eq!(polls.get(), 2, "{policy:?}: asked once a poll");
            let whole = replay_what_if_within(&replay, &fixed(0), policy, &[], &|| false);
            assert_eq!(whole.unwrap().produced, 3 * POLL, "{policy:?}");
        }
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

    fn what_if(
        offsets: &[u64],
        capacity: u64,
        consumers: u32,
        service: &Service,
        when_full: WhenFull,
        stalls: &[Stall],
    ) -> Outcome {
        replay_what_if(
            &Replay {
                offsets,
                load: 1.0,
                produce: Duration::from_nanos(*offsets.last().unwrap_or(&0)),
                capacity,
                consumers,
            },
            service,
            when_full,
            stalls,
        )
    }

    fn stall(at: u64, length: u64) -> Stall {
        Stall {
            at: Duration::from_nanos(at),
            length: Duration::from_nanos(length),
        }
    }

    /// The recurrence with every start moved out of the stalls it falls in.
    fn recurrence_stalled(
        t: &[u64],
        k: usize,
        c: usize,
        d: u64,
        stalls: &[Stall],
    ) -> (u64, u64, u64) {
        let spans = Stalls::new(stalls);
        let mut s = vec![0u64; t.len()];
        let (mut full, mut blocked_total, mut max_depth) = (0, 0, 0u64);
        for i in 0..t.len() {
            let free = if i >= c { s[i - c] + d } else { 0 };
            s[i] = spans.may_start(t[i].max(free));
            if i >= k && s[i - k] > t[i] {
                full += 1;
                blocked_total += s[i - k] - t[i];
            }
            let waiting = (0..=i).filter(|&j| s[j] > t[i]).count() as u64;
            max_depth = max_depth.max(waiting.min(k as u64));
        }
        (full, blocked_total, max_depth)
    }

    #[test]
    fn a_stall_in_a_trace_builds_the_hand_computed_backlog() {
        // One arrival every 10 ns, 10 ns service, room for 2, no start in [20, 55).
        let offsets: Vec<u64> = (0..10).map(|i| i * 10).collect();
        let stalls = [stall(20, 35)];
        let o = what_if(&offsets, 2, 1, &fixed(10), WhenFull::Block, &stalls);
        // 2 waits for the stall's end (55); 3 starts at 65; from 4 on each caller
        // waits 15 ns for the message two ahead to start: 4..9 found it full.
        assert_eq!((o.produced, o.full_count, o.dropped), (10, 6, 0));
        assert_eq!(o.blocked.total(), Duration::from_nanos(6 * 15));
        assert_eq!(o.end_s, 135e-9);
        // During the stall: 20 (depth 1), 30, 40, 50 (depth 2); 40 and 50 blocked.
        assert_eq!(
            o.stalls,
            vec![StallEffect {
                backlog_peak: 2,
                full_count: 2,
                blocked_ns: 30,
            }]
        );
        // Drop policies: 40 and 50 find 2 waiting and lose a message; after the
        // stall each arrival finds one of the two taken, nobody else is dropped.
        for policy in [WhenFull::DropNewest, WhenFull::DropOldest] {
            let (o, consumed) = replay_dropping(
                &Replay {
                    offsets: &offsets,
                    load: 1.0,
                    produce: Duration::from_nanos(90),
                    capacity: 2,
                    consumers: 1,
                },
                &fixed(10),
                policy,
                &mut Stalls::new(&stalls),
                &|| false,
            )
            .unwrap();
            assert_eq!((o.full_count, o.dropped, consumed), (2, 2, 8), "{policy:?}");
            assert_eq!(o.blocked.count(), 0, "{policy:?}");
            assert_eq!(o.end_s, 115e-9, "{policy:?}");
            assert_eq!(o.max_depth, 2, "{policy:?}");
            assert_eq!(
                o.stalls,
                vec![StallEffect {
                    backlog_peak: 2,
                    full_count: 2,
                    blocked_ns: 0,
                }],
                "{policy:?}"
            );
        }
    }

    #[test]
    fn drop_policies_count_each_caller_that_finds_the_buffer_full() {
        // Room for 1, one consumer, 100 ns each: 0 is taken at once, 0 waits,
        // 10 and 20 find it full; 150 waits for the consumer free at 200.
        let offsets = [0, 0, 10, 20, 150];
        for policy in [WhenFull::DropNewest, WhenFull::DropOldest] {
            let (o, consumed) = replay_dropping(
                &Replay {
                    offsets: &offsets,
                    load: 1.0,
                    produce: Duration::from_nanos(150),
                    capacity: 1,
                    consumers: 1,
                },
                &fixed(100),
                policy,
                &mut Stalls::new(&[]),
                &|| false,
            )
            .unwrap();
            assert_eq!((o.full_count, o.dropped, consumed), (2, 2, 3), "{policy:?}");
            assert_eq!((o.max_depth, o.end_s), (1, 300e-9), "{policy:?}");
            // drop-newest: the second 0 waits 100, 150 waits 50. drop-oldest:
            // it waits 10 (dropped by 10's caller), 10's 10, 20's 80, 150's 50.
            // The same 150 ns in all: the depth over time is the same (Little).
            assert!((o.mean_wait_s - 150e-9 / 5.0).abs() < 1e-18, "{policy:?}");
        }
        // Blocking, 10 and 20 wait instead, and so keep 150 waiting too
        // (starts 0, 100, 200, 300, 400: each caller behind the one before).
        let o = what_if(&offsets, 1, 1, &fixed(100), WhenFull::Block, &[]);
        assert_eq!((o.full_count, o.dropped), (3, 0));
        assert_eq!(o.end_s, 500e-9);
    }

    #[test]
    fn accounting_is_exact_and_drops_never_block_on_random_traces() {
        let mut rng = StdRng::seed_from_u64(12);
        let (mut rounds_with_drops, mut stalled_blocks) = (0, 0);
        for round in 0..300 {
            let n = rng.random_range(1..300);
            let offsets = clustered(&mut rng, n);
            let t = offsets.last().copied().unwrap_or(0);
            let k = rng.random_range(1..20) as usize;
            let c = rng.random_range(1..4) as usize;
            let d = rng.random_range(0..300);
            let mut stalls: Vec<Stall> = (0..rng.random_range(0..3))
                .map(|_| stall(rng.random_range(0..t.max(1)), rng.random_range(1..3000)))
                .collect();
            stalls.sort_by_key(|s| (s.at, s.length));
            let what = format!("round {round}: n {n}, K {k}, c {c}, D {d}, {stalls:?}");
            let replay = Replay {
                offsets: &offsets,
                load: 1.0,
                produce: Duration::from_nanos(t),
                capacity: k as u64,
                consumers: c as u32,
            };
            // Blocking: the recurrence, with starts moved out of the stalls.
            let block = what_if(
                &offsets,
                k as u64,
                c as u32,
                &fixed(d),
                WhenFull::Block,
                &stalls,
            );
            let (full, total, depth) = recurrence_stalled(&offsets, k, c, d, &stalls);
            assert_eq!((block.full_count, block.dropped), (full, 0), "{what}");
            assert_eq!(block.blocked.total(), Duration::from_nanos(total), "{what}");
            assert_eq!(block.max_depth, depth, "{what}");
            let stall_full: u64 = block.stalls.iter().map(|s| s.full_count).sum();
            stalled_blocks += u32::from(stall_full > 0);
            assert!(
                block.stalls.iter().all(|s| s.backlog_peak <= k as u64),
                "{what}"
            );
            // Dropping: nobody blocks, every message is consumed or dropped,
            // and both drop policies drop as many (the depth path is the same).
            let mut drops = Vec::new();
            for policy in [WhenFull::DropNewest, WhenFull::DropOldest] {
                let (o, consumed) = replay_dropping(
                    &replay,
                    &fixed(d),
                    policy,
                    &mut Stalls::new(&stalls),
                    &|| false,
                )
                .unwrap();
                assert_eq!(o.produced, n as u64, "{what} {policy:?}");
                assert_eq!(consumed + o.dropped, o.produced, "{what} {policy:?}");
                assert_eq!(o.full_count, o.dropped, "{what} {policy:?}");
                assert_eq!(o.blocked.count(), 0, "{what} {policy:?}");
                assert!(o.max_depth <= k as u64, "{what} {policy:?}");
                assert!(
                    o.stalls.iter().all(|s| s.blocked_ns == 0),
                    "{what} {policy:?}"
                );
                drops.push((o.dropped, o.max_depth, o.end_s));
            }
            assert_eq!(drops[0], drops[1], "{what}");
            rounds_with_drops += u32::from(drops[0].0 > 0);
        }
        assert!(
            rounds_with_drops > 50,
            "the traces test dropping: {rounds_with_drops}"
        );
        assert!(
            stalled_blocks > 10,
            "the stalls cause blocking: {stalled_blocks}"
        );
    }
}
