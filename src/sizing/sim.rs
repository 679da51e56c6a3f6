//! The live model as a discrete-event simulation in virtual time: no threads,
//! no sleeping. One producer offers messages with the original's gaps; while the
//! buffer is full it blocks until a consumer takes a message, and its next gap
//! starts only then; each of `c` consumers takes one message at a time, FIFO.
//!
//! One cohesive thing, kept in one file past 600 lines: the simulation's one
//! event loop and the hand-computed cases that check it.
//!
//! Only counts and times are kept — how many wait, and when each consumer is
//! next free — so memory does not grow with the simulated time, and a message
//! costs a few dozen nanoseconds.

use std::time::Duration;

use crate::model::{Arrivals, Model, ServiceTimes, Stall, WhenFull};
use metered::Histogram;

/// The buffer and the consumers, in model nanoseconds.
#[derive(Debug, Clone)]
pub struct Queue {
    capacity: u64,
    /// When each consumer is next free.
    free_at: Vec<u64>,
    /// Messages in the buffer (not counting those being consumed).
    waiting: u64,
    /// Messages taken by a consumer so far; also the next one's sequence number.
    started: u64,
    /// The time of the last change of `waiting`, and ∫ waiting dt up to it.
    changed_at: u64,
    depth_area: u128,
    pub max_depth: u64,
    pub full_count: u64,
    /// How long each blocked offer waited.
    pub blocked: Histogram,
    /// What a full buffer does to an offer, and the messages dropped so.
    when_full: WhenFull,
    pub dropped: u64,
    /// Consumer outages, sorted by start, in nanoseconds, with what each cost.
    stalls: Vec<StallSpan>,
    pub stall_effects: Vec<StallEffect>,
}

/// A stall in nanoseconds: no take starts in `[at, end)`.
#[derive(Debug, Clone, Copy)]
struct StallSpan {
    at: u64,
    end: u64,
}

/// What one stall cost: the deepest the buffer got while it lasted, and the
/// offers made while it lasted that found the buffer full, with how long they
/// were blocked in all (a block may outlast the stall: it is the stall's doing).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StallEffect {
    pub backlog_peak: u64,
    pub full_count: u64,
    /// A sum of waits: in `u128`, as every nanosecond total, so that no
    /// number of long waits overflows it (`u64` holds 584 years).
    pub blocked_ns: u128,
}

impl Queue {
    /// A buffer of `capacity` (`u64::MAX` for unbounded) and `consumers` idle consumers.
    pub fn new(capacity: u64, consumers: u32) -> Queue {
        Queue {
            capacity,
            free_at: vec![0; consumers.max(1) as usize],
            waiting: 0,
            started: 0,
            changed_at: 0,
            depth_area: 0,
            max_depth: 0,
            full_count: 0,
            blocked: Histogram::default(),
            when_full: WhenFull::Block,
            dropped: 0,
            stalls: Vec::new(),
            stall_effects: Vec::new(),
        }
    }

    /// The same queue with another policy for a full buffer.
    pub fn with_policy(mut self, when_full: WhenFull) -> Queue {
        self.when_full = when_full;
        self
    }

    /// The same queue with consumer outages (sorted by start).
    pub fn with_stalls(mut self, stalls: &[Stall]) -> Queue {
        let ns = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.stalls = stalls
            .iter()
            .map(|s| StallSpan {
                at: ns(s.at),
                end: ns(s.end()),
            })
            .collect();
        self.stall_effects = vec![StallEffect::default(); stalls.len()];
        self
    }

    /// When a consumer free at `t` may start: after any stall `t` falls in.
    #[inline]
    fn may_start(&self, t: u64) -> u64 {
        if self.stalls.is_empty() {
            return t;
        }
        let mut t = t;
        for s in &self.stalls {
            if s.at > t {
                break;
            }
            if t < s.end {
                t = s.end;
            }
        }
        t
    }

    /// The buffer holds `depth` at `at`: the peak of every stall lasting then.
    #[inline]
    fn note_depth(&mut self, at: u64, depth: u64) {
        for (s, effect) in self.stalls.iter().zip(self.stall_effects.iter_mut()) {
            if s.at <= at && at <= s.end {
                effect.backlog_peak = effect.backlog_peak.max(depth);
            }
        }
    }

    /// An offer at `at` found the buffer full and waited `waited`.
    fn note_block(&mut self, at: u64, waited: u64) {
        let until = at.saturating_add(waited);
        for (s, effect) in self.stalls.iter().zip(self.stall_effects.iter_mut()) {
            if s.at <= at && at < s.end {
                effect.full_count += 1;
                effect.blocked_ns += u128::from(waited);
            } else if at < s.at && s.at < until {
                // Blocked already when the stall began: the stall starts from
                // a full buffer and a blocked producer, and holds it blocked
                // from its start on.
                effect.full_count += 1;
                effect.blocked_ns += u128::from(until - s.at);
                effect.backlog_peak = effect.backlog_peak.max(self.waiting);
            }
        }
    }

    /// The consumer free soonest, and when.
    fn earliest(&self) -> (usize, u64) {
        let mut best = (0, self.free_at[0]);
        for (i, &t) in self.free_at.iter().enumerate().skip(1) {
            if t < best.1 {
                best = (i, t);
            }
        }
        best
    }

    fn set_waiting(&mut self, at: u64, waiting: u64) {
        let span = at.saturating_sub(self.changed_at);
        self.depth_area += u128::from(self.waiting) * u128::from(span);
        self.changed_at = self.changed_at.max(at);
        self.waiting = waiting;
    }

    /// Consumer `i` takes the next message at `at`.
    fn take(&mut self, i: usize, at: u64, service: &impl Fn(u64) -> u64) {
        self.free_at[i] = at.saturating_add(service(self.started));
        self.started += 1;
    }

    /// Lets consumers take waiting messages up to and including `until`.
    fn advance(&mut self, until: u64, service: &impl Fn(u64) -> u64) {
        while self.waiting > 0 {
            let (i, free) = self.earliest();
            let free = self.may_start(free);
            if free > until {
                break;
            }
            self.set_waiting(free, self.waiting - 1);
            self.take(i, free, service);
        }
    }

    /// The producer offers a message at `at`; returns when it got into the
    /// buffer (later than `at` if the buffer was full and the producer blocked).
    pub fn offer(&mut self, at: u64, service: &impl Fn(u64) -> u64) -> u64 {
        self.advance(at, service);
        if self.waiting < self.capacity {
            let (i, free) = self.earliest();
            if self.waiting == 0 && free <= at && self.may_start(at) == at {
                self.take(i, at, service); // an idle consumer takes it at once
            } else {
                if self.waiting == 0 && free <= at {
                    // Idle but stalled: no consumer may take it before it came.
                    for f in &mut self.free_at {
                        *f = (*f).max(at);
                    }
                }
                self.set_waiting(at, self.waiting + 1);
                self.max_depth = self.max_depth.max(self.waiting);
                if !self.stalls.is_empty() {
                    self.note_depth(at, self.waiting);
                }
            }
            at
        } else if self.when_full != WhenFull::Block {
            // Full, and the producer does not wait: the offered message, or
            // the oldest waiting one, is dropped; the depth stays the same.
            self.full_count += 1;
            self.dropped += 1;
            if !self.stalls.is_empty() {
                self.note_block(at, 0);
            }
            at
        } else {
            // Full: the producer waits for the next take, which frees the slot it fills.
            self.full_count += 1;
            let (i, free) = self.earliest();
            let free = self.may_start(free);
            self.take(i, free, service);
            self.blocked.record(Duration::from_nanos(free - at));
            if !self.stalls.is_empty() {
                self.note_block(at, free - at);
                self.note_depth(at, self.waiting);
            }
            free
        }
    }

    /// Lets the consumers drain the buffer; returns when the last one finishes.
    pub fn finish(&mut self, service: &impl Fn(u64) -> u64) -> u64 {
        self.advance(u64::MAX, service);
        self.free_at.iter().copied().max().unwrap_or(0)
    }

    /// Messages taken by consumers so far.
    pub fn started(&self) -> u64 {
        self.started
    }

    /// ∫ depth dt, in message-seconds: by Little's law, the total time messages waited.
    pub fn wait_total_s(&self) -> f64 {
        self.depth_area as f64 / 1e9
    }
}

/// One simulation: the model, where the producer stops, and the system's shape.
#[derive(Debug, Clone)]
pub struct Scenario<'a> {
    pub model: &'a Model,
    pub seed: u64,
    /// `u64::MAX` for an unbounded buffer.
    pub capacity: u64,
    pub consumers: u32,
    /// The producer offers nothing at or after this model time; `None` for no limit.
    pub horizon: Option<Duration>,
    /// The most messages the producer offers; `None` for no limit.
    pub messages: Option<u64>,
    /// What a full buffer does to an offer.
    pub when_full: WhenFull,
}

/// What a simulation found, in model time.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub produced: u64,
    pub full_count: u64,
    /// Messages dropped by a drop policy (`--when-full`); 0 with `block`.
    pub dropped: u64,
    pub blocked: Histogram,
    pub max_depth: u64,
    /// Mean time a message waited in the buffer.
    pub mean_wait_s: f64,
    /// When the producer stopped offering (the horizon, or the last offer).
    pub produce_s: f64,
    /// When the last message was consumed.
    pub end_s: f64,
    /// What each of the model's stalls cost, in their order.
    pub stalls: Vec<StallEffect>,
}

impl Outcome {
    /// The share of offers that found the buffer full.
    pub fn full_share(&self) -> f64 {
        if self.produced == 0 {
            0.0
        } else {
            self.full_count as f64 / self.produced as f64
        }
    }

    /// Messages through the system per second of producing time.
    pub fn throughput(&self) -> Option<f64> {
        (self.produce_s > 0.0).then(|| self.produced as f64 / self.produce_s)
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Why a simulation or replay stopped before its end (see [`Budget`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// It would have offered more messages than its budget allows.
    Budget,
    /// It was asked to give up (the run it belongs to was aborted).
    Interrupted,
}

/// A bound on one simulation's work, for a caller that must finish on time
/// (the end of a live run): at most `messages` offers, and before the first
/// and every [`POLL`] offers `interrupted` is asked whether to give up. Model time need not
/// advance (a model whose intervals are zero offers everything at once), so
/// it is the count of offers, not the horizon, that bounds the work.
#[derive(Clone, Copy)]
pub struct Budget<'a> {
    pub messages: u64,
    pub interrupted: &'a dyn Fn() -> bool,
}

impl Budget<'_> {
    /// No bound: for a caller whose cost guard has counted the work (the sweep).
    pub fn unlimited() -> Budget<'static> {
        Budget {
            messages: u64::MAX,
            interrupted: &|| false,
        }
    }
}

/// How often (in offers or trace lines) a simulation asks whether to give
/// up: well under a millisecond of work even when each offer scans a
/// thousand consumers, and the check (one atomic load) costs nothing beside it.
pub const POLL: u64 = 1 << 12;

/// About how many messages a simulation of `horizon` offers, at most: one
/// per mean gap (`gap`); a blocking producer, once `capacity` messages wait,
/// no faster than `consumers` take them at `service` each (a drop policy
/// never waits, so there only the gap counts). Infinite when nothing paces
/// the producer: then model time would never pass.
pub fn expected_offers(
    gap: Duration,
    service: Duration,
    consumers: u32,
    capacity: u64,
    when_full: WhenFull,
    horizon: Duration,
) -> f64 {
    let horizon = horizon.as_secs_f64();
    if horizon == 0.0 {
        return 0.0;
    }
    let by_gap = horizon / gap.as_secs_f64();
    match when_full {
        WhenFull::Block => {
            let service = service.as_secs_f64() / f64::from(consumers.max(1));
            let by_consumers = horizon / service + capacity as f64 + f64::from(consumers);
            // x / 0 is infinite: a side that takes no time does not pace.
            by_gap.min(by_consumers)
        }
        WhenFull::DropNewest | WhenFull::DropOldest => by_gap,
    }
}

/// What one simulated or replayed message costs, in units of the simplest's
/// (one consumer, no stall): finding the consumer free soonest scans them all
/// (a few at once), and each stall is checked at each offer and take. For
/// cost guards: the work is messages × this, not messages alone.
pub fn message_cost(consumers: u32, stalls: usize) -> f64 {
    1.0 + f64::from(consumers / 16) + 2.0 * stalls as f64
}

/// Runs a scenario to the end of its drain. The producer is paced exactly as the
/// live one: it stops at the horizon or the message limit, and a blocked offer
/// delays its next gap.
pub fn simulate(scenario: &Scenario) -> Outcome {
    let times = ServiceTimes::new(scenario.model, scenario.seed);
    simulate_with(scenario, &|seq| nanos(times.of(seq)))
}

/// [`simulate`] with service times (nanoseconds by message number) from
/// elsewhere than the model, such as a file (`--service-from`).
pub fn simulate_with(scenario: &Scenario, service: &impl Fn(u64) -> u64) -> Outcome {
    match simulate_within(scenario, service, Budget::unlimited()) {
        Ok(outcome) => outcome,
        Err(cut) => unreachable!("an unlimited budget was cut: {cut:?}"),
    }
}

/// [`simulate_with`] within a budget: `Err` as soon as it would offer more
/// than `budget.messages` or is interrupted.
pub fn simulate_within(
    scenario: &Scenario,
    service: &impl Fn(u64) -> u64,
    budget: Budget,
) -> Result<Outcome, Cut> {
    let mut arrivals = Arrivals::new(scenario.model, scenario.seed);
    let mut queue = Queue::new(scenario.capacity, scenario.consumers)
        .with_policy(scenario.when_full)
        .with_stalls(&scenario.model.stalls);
    let horizon = scenario.horizon.map_or(u64::MAX, nanos);
    let limit = scenario.messages.unwrap_or(u64::MAX);
    let (mut t, mut produced, mut last_offer) = (0u64, 0u64, 0u64);
    while produced < limit && t < horizon {
        if produced >= budget.messages {
            return Err(Cut::Budget);
        }
        if produced.is_multiple_of(POLL) && (budget.interrupted)() {
            return Err(Cut::Interrupted);
        }
        last_offer = t;
        let entered = queue.offer(t, service);
        produced += 1;
        t = entered.saturating_add(nanos(arrivals.next_gap().pause));
    }
    let end = queue.finish(service);
    let produce = if scenario.horizon.is_some() && produced < limit {
        horizon
    } else {
        last_offer
    };
    Ok(Outcome {
        produced,
        full_count: queue.full_count,
        dropped: queue.dropped,
        max_depth: queue.max_depth,
        mean_wait_s: if produced == 0 {
            0.0
        } else {
            queue.wait_total_s() / produced as f64
        },
        blocked: queue.blocked,
        produce_s: produce as f64 / 1e9,
        end_s: end as f64 / 1e9,
        stalls: queue.stall_effects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ArrivalKind, ServiceKind};
    use crate::sizing::queueing;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_full_buffer_blocks_the_producer_until_the_next_take() {
        let service = |_| 300;
        let mut q = Queue::new(2, 1);
        assert_eq!(q.offer(0, &service), 0); // taken at once, free at 300
        assert_eq!(q.offer(0, &service), 0); // waits (1)
        assert_eq!(q.offer(0, &service), 0); // waits (2): full
        assert_eq!(q.offer(10, &service), 300, "blocked until the take at 300");
        assert_eq!(q.full_count, 1);
        assert_eq!(q.blocked.max(), Duration::from_nanos(290));
        assert_eq!(q.max_depth, 2);
        assert_eq!(q.finish(&service), 1200);
        assert_eq!(q.started(), 4);
    }

    /// A message every 100 ms, 50 ms to serve it, one consumer: nothing waits
    /// until a 1 s stall at 2 s. Offers at 2.0, 2.1, … 2.9 s wait; with room for
    /// 5 the offer at 2.5 s blocks until the stall ends at 3 s.
    fn stalled(capacity: u64) -> Outcome {
        let model = Model {
            produce_every: ms(100),
            burst_prob: 0.0,
            consume_every: ms(50),
            stalls: vec![Stall {
                at: Duration::from_secs(2),
                length: Duration::from_secs(1),
            }],
            ..Model::original()
        };
        simulate(&Scenario {
            model: &model,
            seed: 1,
            capacity,
            consumers: 1,
            horizon: Some(Duration::from_secs(10)),
            messages: None,
            when_full: WhenFull::Block,
        })
    }

    #[test]
    fn a_stall_builds_the_hand_computed_backlog() {
        // Room for the whole stall: the rule of thumb, 10/s × 1 s = 10, holds.
        let roomy = stalled(100);
        assert_eq!(
            roomy.stalls,
            vec![StallEffect {
                backlog_peak: 10,
                full_count: 0,
                blocked_ns: 0
            }]
        );
        assert_eq!(roomy.full_count, 0);
        assert_eq!(roomy.max_depth, 10);
        assert_eq!(roomy.produced, 100);
        // Room for 5: the sixth offer (2.5 s) blocks for 0.5 s; the producer's
        // schedule then restarts at 3 s, so it offers 95 in 10 s.
        let tight = stalled(5);
        assert_eq!(
            tight.stalls,
            vec![StallEffect {
                backlog_peak: 5,
                full_count: 1,
                blocked_ns: 500_000_000
            }]
        );
        assert_eq!(tight.full_count, 1);
        assert_eq!(tight.blocked.max(), ms(500));
        assert_eq!(tight.produced, 95);
    }

    #[test]
    fn a_stall_that_starts_on_a_full_buffer_counts_it() {
        // A send every 30 ms against 100 ms of service: the buffer of 20 is
        // full and the producer blocked well before the stall at 5 s; no
        // take starts for its 3 s, so the producer stays blocked to its end.
        let model = Model {
            produce_every: ms(30),
            burst_prob: 0.0,
            consume_every: ms(100),
            stalls: vec![Stall {
                at: Duration::from_secs(5),
                length: Duration::from_secs(3),
            }],
            ..Model::original()
        };
        let outcome = simulate(&Scenario {
            model: &model,
            seed: 1,
            capacity: 20,
            consumers: 1,
            horizon: Some(Duration::from_secs(30)),
            messages: None,
            when_full: WhenFull::Block,
        });
        assert_eq!(
            outcome.stalls,
            vec![StallEffect {
                backlog_peak: 20,
                full_count: 1,
                blocked_ns: 3_000_000_000
            }]
        );
    }

    #[test]
    fn no_take_starts_during_a_stall() {
        let service = |_| 100;
        let mut q = Queue::new(10, 1).with_stalls(&[Stall {
            at: Duration::from_nanos(50),
            length: Duration::from_nanos(1000),
        }]);
        assert_eq!(q.offer(0, &service), 0); // in service until 100: it finishes
        assert_eq!(q.offer(60, &service), 60); // waits for the stall's end
        assert_eq!(q.offer(1049, &service), 1049);
        assert_eq!(q.started(), 1);
        assert_eq!(q.max_depth, 2);
        // Taken at 1050 and 1150.
        assert_eq!(q.finish(&service), 1250);
        assert_eq!(q.stall_effects[0].backlog_peak, 2);
    }

    #[test]
    fn a_drop_policy_never_blocks_and_loses_only_what_it_counts() {
        let service = |_| 300;
        for policy in [WhenFull::DropNewest, WhenFull::DropOldest] {
            let mut q = Queue::new(2, 1).with_policy(policy);
            for at in [0, 0, 0, 10, 20, 310] {
                assert_eq!(q.offer(at, &service), at, "{policy:?} never blocks");
            }
            // 0 taken at once; 2 wait; 10 and 20 find it full; at 300 one is
            // taken, so 310 finds room.
            assert_eq!((q.full_count, q.dropped), (2, 2), "{policy:?}");
            assert_eq!(q.blocked.count(), 0);
            q.finish(&service);
            assert_eq!(q.started() + q.dropped, 6, "{policy:?}");
        }
    }

    #[test]
    fn two_consumers_share_the_work() {
        let service = |_| 100;
        let mut q = Queue::new(10, 2);
        for _ in 0..4 {
            q.offer(0, &service);
        }
        // Two taken at once, two wait and start at 100.
        assert_eq!(q.max_depth, 2);
        assert_eq!(q.finish(&service), 200);
        // Waited: 2 messages × 100 ns.
        assert!((q.wait_total_s() - 200e-9).abs() < 1e-15);
    }

    #[test]
    fn the_seeds_defaults_fill_the_buffer_and_lose_nothing() {
        let model = Model::original();
        let run = |capacity| {
            simulate(&Scenario {
                model: &model,
                seed: 7,
                capacity,
                consumers: 1,
                horizon: Some(Duration::from_secs(3600)),
                messages: None,
                when_full: WhenFull::Block,
            })
        };
        let small = run(100);
        // ρ = 2.5: the consumer sets the pace, 1/300 ms for an hour.
        let throughput = small.throughput().unwrap();
        assert!((throughput - 1.0 / 0.3).abs() < 0.05, "{throughput}");
        assert!(small.full_share() > 0.5, "{}", small.full_share());
        assert_eq!(small.max_depth, 100);
        assert_eq!(small.blocked.count(), small.full_count);
        // The same seed gives the same run; a bigger buffer only delays blocking.
        assert_eq!(run(100).full_count, small.full_count);
        let big = run(1000);
        assert!(big.full_count < small.full_count);
        assert!(big.full_count > 0);
    }

    #[test]
    fn limits_by_messages_and_by_time() {
        let model = Model::original();
        let by_messages = simulate(&Scenario {
            model: &model,
            seed: 1,
            capacity: 10,
            consumers: 1,
            horizon: None,
            messages: Some(500),
            when_full: WhenFull::Block,
        });
        assert_eq!(by_messages.produced, 500);
        // Memory does not depend on the horizon: only counts are kept.
        let long = simulate(&Scenario {
            model: &model,
            seed: 1,
            capacity: 10,
            consumers: 4,
            horizon: Some(Duration::from_secs(24 * 3600)),
            messages: None,
            when_full: WhenFull::Block,
        });
        assert!(long.produced > 500_000, "{}", long.produced);
        assert_eq!(long.produce_s, 24.0 * 3600.0);
        assert!(long.end_s > 23.9 * 3600.0, "{}", long.end_s);
    }

    #[test]
    fn a_budget_bounds_a_model_whose_time_never_passes() {
        let frozen = Model {
            produce_every: Duration::ZERO,
            burst_prob: 0.0,
            consume_every: Duration::ZERO,
            ..Model::original()
        };
        let scenario = |messages| Scenario {
            model: &frozen,
            seed: 1,
            capacity: 10,
            consumers: 1,
            horizon: Some(Duration::from_secs(1)),
            messages,
            when_full: WhenFull::Block,
        };
        let service = |_| 0;
        let budget = |messages| Budget {
            messages,
            interrupted: &|| false,
        };
        // The horizon never comes: only the budget ends it.
        let cut = simulate_within(&scenario(None), &service, budget(1000));
        assert_eq!(cut.unwrap_err(), Cut::Budget);
        // Within the budget, a message limit ends it.
        let done = simulate_within(&scenario(Some(1000)), &service, budget(1000)).unwrap();
        assert_eq!((done.produced, done.full_count), (1000, 0));
        // Asked to give up, it does at its next poll.
        let polls = std::cell::Cell::new(0);
        let interrupted = || {
            polls.set(polls.get() + 1);
            true
        };
        let asked = Budget {
            messages: u64::MAX,
            interrupted: &interrupted,
        };
        assert_eq!(
            simulate_within(&scenario(None), &service, asked).unwrap_err(),
            Cut::Interrupted
        );
        assert_eq!(polls.get(), 1);
    }

    #[test]
    fn expected_offers_bound_what_a_simulation_offers() {
        let (ms, hour) = (Duration::from_millis(1), Duration::from_secs(3600));
        let zero = Duration::ZERO;
        // Paced by the gap, or once full by the consumers.
        assert_eq!(
            expected_offers(ms, zero, 1, 10, WhenFull::Block, hour),
            3.6e6
        );
        let paced = expected_offers(zero, ms * 300, 2, 10, WhenFull::Block, hour);
        assert_eq!(paced, 24_000.0 + 10.0 + 2.0);
        // A drop policy never waits: only the gap paces it.
        let dropping = expected_offers(zero, ms * 300, 2, 10, WhenFull::DropNewest, hour);
        assert!(dropping.is_infinite());
        assert!(expected_offers(zero, zero, 1, 10, WhenFull::Block, hour).is_infinite());
        assert_eq!(
            expected_offers(zero, zero, 1, 10, WhenFull::Block, zero),
            0.0
        );
        // The estimate holds for the simulation: the original's model, an hour.
        let model = Model::original();
        for (capacity, when_full) in [(10, WhenFull::Block), (1000, WhenFull::DropOldest)] {
            let outcome = simulate(&Scenario {
                model: &model,
                seed: 3,
                capacity,
                consumers: 1,
                horizon: Some(hour),
                messages: None,
                when_full,
            });
            let expected = expected_offers(
                model.mean_gap(),
                model.consume_every,
                1,
                capacity,
                when_full,
                hour,
            );
            assert!(
                (outcome.produced as f64) < expected * 1.05,
                "{when_full:?}: {} offered, {expected} expected",
                outcome.produced
            );
        }
        // What a message costs: the consumers scanned, the stalls checked.
        assert_eq!(message_cost(1, 0), 1.0);
        assert_eq!(message_cost(1000, 0), 63.0);
        assert_eq!(message_cost(1, 3), 7.0);
    }

    #[test]
    fn exponential_both_ways_with_two_consumers_matches_m_m_c_k() {
        for rho in [0.8, 1.3] {
            let model = Model {
                produce_every: ms(10),
                burst_prob: 0.0,
                burst_pause: Duration::ZERO,
                // Two consumers, each at 2ρ × the gap: ρ per consumer.
                consume_every: Duration::from_secs_f64(0.020 * rho),
                arrivals: ArrivalKind::Exponential,
                service: ServiceKind::Exponential,
                stalls: Vec::new(),
            };
            for capacity in [2, 8] {
                let n = 300_000;
                let outcome = simulate(&Scenario {
                    model: &model,
                    seed: 7 + capacity,
                    capacity,
                    consumers: 2,
                    horizon: None,
                    messages: Some(n),
                    when_full: WhenFull::Block,
                });
                let (simulated, predicted) = (
                    outcome.full_share(),
                    queueing::m_m_c_k_blocking(2.0 * rho, 2, capacity),
                );
                let se = (predicted * (1.0 - predicted) / n as f64).sqrt();
                let tolerance = (8.0 * se).max(0.003);
                assert!(
                    (simulated - predicted).abs() < tolerance,
                    "rho {rho}, capacity {capacity}: simulated {simulated}, predicted {predicted}"
                );
            }
        }
    }

    /// The loss probability of M/D/1/N (Poisson arrivals at ρ per service
    /// time, one fixed service time, room for `n` in the system: the buffer
    /// and the one in service), computed independently of the simulation:
    /// the chain of the number left behind at departures, a_k = e^−ρ ρ^k / k!
    /// arrivals per service, solved by Gaussian elimination; then the
    /// time-average share of a full system, 1 − 1/(π₀ + ρ), which is what an
    /// arrival sees (PASTA).
    fn m_d_1_n_loss(rho: f64, n: usize) -> f64 {
        let a = |k: usize| {
            let mut p = (-rho).exp();
            for i in 1..=k {
                p *= rho / i as f64;
            }
            p
        };
        let tail = |k: usize| 1.0 - (0..k).map(a).sum::<f64>();
        let states = n; // left behind: 0 ..= n − 1
        // P[i][j]: from i left behind to j at the next departure.
        let mut p = vec![vec![0.0; states]; states];
        for (i, row) in p.iter_mut().enumerate() {
            let base = i.max(1) - 1; // the next service starts with base waiting
            for (j, cell) in row.iter_mut().enumerate() {
                if j + 1 < states {
                    if j >= base {
                        *cell = a(j - base);
                    }
                } else {
                    *cell = tail(states - 1 - base);
                }
            }
        }
        // π (P − I) = 0 with Σπ = 1: the transposed system, its last row the sum.
        let mut m: Vec<Vec<f64>> = (0..states)
            .map(|j| {
                let mut row: Vec<f64> = (0..states)
                    .map(|i| p[i][j] - if i == j { 1.0 } else { 0.0 })
                    .collect();
                row.push(0.0);
                row
            })
            .collect();
        m[states - 1] = vec![1.0; states + 1];
        for col in 0..states {
            let pivot = (col..states)
                .max_by(|&x, &y| m[x][col].abs().total_cmp(&m[y][col].abs()))
                .unwrap();
            m.swap(col, pivot);
            let pivot_row = m[col].clone();
            for (r, row) in m.iter_mut().enumerate() {
                if r != col {
                    let f = row[col] / pivot_row[col];
                    for (x, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                        *x -= f * p;
                    }
                }
            }
        }
        let pi0 = m[0][states] / m[0][0];
        1.0 - 1.0 / (pi0 + rho)
    }

    #[test]
    fn the_m_d_1_n_formula_meets_known_values() {
        // N = 1 (no buffer): Erlang's loss for one server, ρ/(1 + ρ), holds
        // for any service distribution.
        for rho in [0.5, 1.0, 2.0] {
            assert!((m_d_1_n_loss(rho, 1) - rho / (1.0 + rho)).abs() < 1e-12);
        }
        // Light load: losses vanish as the room grows.
        assert!(m_d_1_n_loss(0.5, 10) < 1e-4);
        // Heavy load: the server is busy almost always, losses → 1 − 1/ρ.
        assert!((m_d_1_n_loss(2.0, 40) - 0.5).abs() < 1e-6);
    }

    /// One server fed by Poisson arrivals every 10 ms on average, its
    /// service time ρ × 10 ms (`service`: fixed or exponential).
    fn poisson_one_server(rho: f64, service: ServiceKind) -> Model {
        Model {
            produce_every: ms(10),
            burst_prob: 0.0,
            burst_pause: Duration::ZERO,
            consume_every: Duration::from_secs_f64(0.010 * rho),
            arrivals: ArrivalKind::Exponential,
            service,
            stalls: Vec::new(),
        }
    }

    /// `n` offers of `model` to one consumer and a buffer of `capacity`.
    fn offered(model: &Model, seed: u64, capacity: u64, n: u64, when_full: WhenFull) -> Outcome {
        simulate(&Scenario {
            model,
            seed,
            capacity,
            consumers: 1,
            horizon: None,
            messages: Some(n),
            when_full,
        })
    }

    /// Successive offers are correlated, so allow several times the
    /// independent-sample standard error, and never less than 0.003.
    fn assert_agrees(simulated: f64, predicted: f64, n: u64, what: &str) {
        let se = (predicted * (1.0 - predicted) / n as f64).sqrt();
        let tolerance = (8.0 * se).max(0.003);
        assert!(
            (simulated - predicted).abs() < tolerance,
            "{what}: simulated {simulated}, predicted {predicted}"
        );
    }

    #[test]
    fn poisson_arrivals_and_fixed_service_under_drop_newest_match_m_d_1_n() {
        for rho in [0.7, 1.0, 1.5] {
            let model = poisson_one_server(rho, ServiceKind::Fixed);
            for capacity in [1, 4, 10] {
                let n = 300_000;
                let outcome = offered(&model, 5 + capacity, capacity, n, WhenFull::DropNewest);
                assert_eq!(outcome.dropped, outcome.full_count);
                // The system holds the buffer and the one in service.
                assert_agrees(
                    outcome.dropped as f64 / outcome.produced as f64,
                    m_d_1_n_loss(rho, capacity as usize + 1),
                    n,
                    &format!("rho {rho}, capacity {capacity}"),
                );
            }
        }
    }

    #[test]
    fn exponential_both_ways_with_one_consumer_matches_m_m_1_k() {
        for rho in [0.5, 0.9, 1.5] {
            let model = poisson_one_server(rho, ServiceKind::Exponential);
            for capacity in [1, 4, 10] {
                let n = 400_000;
                let outcome = offered(&model, 42 + capacity, capacity, n, WhenFull::Block);
                assert_agrees(
                    outcome.full_share(),
                    queueing::m_m_c_k_blocking(rho, 1, capacity),
                    n,
                    &format!("rho {rho}, capacity {capacity}"),
                );
            }
        }
    }
}
