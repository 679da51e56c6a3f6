//! One reading of a live run: every counter read at once
//! ([`metered::Meter::snapshot`]) and converted to model time once.
//! Each frame, plain line, metrics request and the final summary is drawn from
//! one [`Reading`], so no two figures shown together contradict each other.

use std::time::Duration;

use metered::{Histogram, Snapshot};
use serde::Serialize;

use crate::live::clock::Clock;
use crate::live::control::Shared;
use crate::live::counters::{LagFigures, ProducerState};
use crate::live::crew::Staff;
use crate::model::Tolerance;
use crate::stats::Sample;

/// The counters at one moment, in model time.
#[derive(Debug, Clone)]
pub struct Reading {
    /// Model seconds from the start to the reading.
    pub t_s: f64,
    pub capacity: u64,
    pub produced: u64,
    pub consumed: u64,
    /// Messages in the buffer (or left there when the consumers went):
    /// `produced - consumed - dropped`, at most the capacity.
    pub depth: u64,
    pub full_count: u64,
    /// Messages a drop policy discarded (`--when-full`); 0 with `block`.
    /// Not those left in the buffer: `depth` counts them.
    pub dropped: u64,
    /// The most messages ever in the buffer; at least `depth`.
    pub high_water: u64,
    /// What the producer is doing: blocked if the buffer says a send is.
    pub producer: ProducerState,
    /// Finished blocking sends: how many, and their model-time figures.
    pub blocked: Blocked,
    /// Model seconds the producer spent blocked, a block in progress included.
    pub blocked_s: f64,
    /// Model seconds the consumers spent working on messages, summed, work in
    /// progress included; waiting for the lock or a message is not work.
    pub busy_s: f64,
    /// Busy time per consumer: each stretch of the pool's shared by the
    /// count in effect then (`busy_s / consumers` if it never changed).
    pub busy_per_consumer_s: f64,
    /// The consumer count in effect at the reading.
    pub consumers: u32,
    pub first_full_s: Option<f64>,
    /// Model seconds the oldest message in the buffer has been in it,
    /// measured from the time it entered; `None` when the buffer is empty.
    pub oldest_age_s: Option<f64>,
    /// The longest any message has been in the buffer so far, model seconds.
    pub oldest_age_max_s: f64,
    /// How far behind its ideal schedule the producer, or the consumers,
    /// ran: the mean lateness per wake, of whichever was further behind
    /// (of those the model gives a pace to keep).
    pub schedule_lag_s: f64,
    /// The worst lateness of any one wake.
    pub schedule_lag_max_s: f64,
    /// Whether the run kept the model's pace: each side's mean lateness
    /// within its tolerance.
    pub faithful: bool,
    /// The finished blocks, in wall time: for [`Reading::blocked_at_most`].
    histogram: Histogram,
    clock: Clock,
}

/// What finished blocking sends cost, in model seconds: for the gauge, the
/// metrics and the summary alike.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Blocked {
    /// Blocking sends: equal to the full-count once the producer has stopped.
    pub count: u64,
    pub total_s: f64,
    /// `None` if it never blocked; 0 in JSON then, as it always was.
    #[serde(serialize_with = "zero_if_none")]
    pub max_s: Option<f64>,
    /// Percentiles, within the histogram's precision (about 3%); `null` if it never blocked.
    pub p50_s: Option<f64>,
    pub p90_s: Option<f64>,
    pub p99_s: Option<f64>,
}

fn zero_if_none<S: serde::Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(value.unwrap_or(0.0))
}

/// What is read besides the meter.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub clock: Clock,
    /// The consumer count in effect, read with the meter.
    pub staff: Staff,
    pub producer: ProducerState,
    pub producer_lag: LagFigures,
    pub consumer_lag: LagFigures,
    /// Model time each side may run behind before the run is called unfaithful.
    pub tolerance: Tolerance,
}

impl Reading {
    /// Reads the run now, counting what is in progress up to the reading.
    pub fn take(shared: &Shared) -> Reading {
        // The producer's state and the lag are read before the meter (which
        // says itself whether the producer is blocked).
        let (staff, snapshot) = shared.crew.read(&shared.meter);
        let context = Context {
            clock: shared.clock,
            staff,
            producer: shared.counters.producer_state(),
            producer_lag: shared.counters.producer_lag.figures(),
            consumer_lag: shared.counters.consumer_lag.figures(),
            tolerance: shared.tolerance,
        };
        Reading::new(&snapshot, &context)
    }

    /// The pure part: the meter's figures and the rest, converted to model time.
    pub fn new(g: &Snapshot, c: &Context) -> Reading {
        let clock = c.clock;
        let model = |d: Duration| clock.to_model_secs(d);
        let h = &g.blocked;
        // Each side judged against its own tolerance; a side with none (no
        // pace to keep) is not judged.
        let sides = [
            (c.producer_lag, c.tolerance.producer),
            (c.consumer_lag, c.tolerance.consumer),
        ];
        let judged = sides.iter().filter(|(_, tolerance)| !tolerance.is_zero());
        let lag = judged
            .clone()
            .map(|(lag, _)| lag.mean)
            .max()
            .unwrap_or_default();
        let worst = judged
            .clone()
            .map(|(lag, _)| lag.worst)
            .max()
            .unwrap_or_default();
        let faithful = judged
            .clone()
            .all(|(lag, tolerance)| lag.mean <= clock.to_wall(*tolerance));
        Reading {
            t_s: model(g.elapsed),
            capacity: g.capacity,
            produced: g.sent,
            consumed: g.received,
            // Once the consumers are gone the channel counts what they left
            // as dropped; the run counts it as left in the buffer.
            depth: (g.depth + g.abandoned).min(g.capacity),
            full_count: g.full_count,
            dropped: g.dropped - g.abandoned,
            high_water: g.high_water,
            producer: if g.blocked_now > 0 {
                ProducerState::Blocked
            } else {
                c.producer
            },
            blocked: Blocked {
                count: h.count(),
                total_s: model(h.total()),
                max_s: (h.count() > 0).then(|| model(h.max())),
                p50_s: h.quantile(0.5).map(model),
                p90_s: h.quantile(0.9).map(model),
                p99_s: h.quantile(0.99).map(model),
            },
            blocked_s: model(g.blocked_time),
            busy_s: model(g.busy_time),
            busy_per_consumer_s: model(c.staff.per_consumer(g.busy_time)),
            consumers: c.staff.count.max(1),
            first_full_s: g.first_full.map(model),
            oldest_age_s: g.oldest_age.map(model),
            oldest_age_max_s: model(g.oldest_age_max),
            schedule_lag_s: model(lag),
            schedule_lag_max_s: model(worst),
            faithful,
            histogram: g.blocked.clone(),
            clock,
        }
    }

    /// Finished blocking sends that lasted at most `model_s`, within the
    /// histogram's precision: for Prometheus' cumulative buckets.
    pub fn blocked_at_most(&self, model_s: f64) -> u64 {
        let wall = self
            .clock
            .to_wall(Duration::from_secs_f64(model_s.max(0.0)));
        self.histogram.count_at_most(wall).min(self.blocked.count)
    }

    /// The totals the rate window takes differences of. Busy time is per
    /// consumer, so that μ is the pool's rate: N consumers each busy for the
    /// whole span complete N times what one would. It is shared by the count
    /// in effect as it was earned, so a window across a `+` or `-` neither
    /// jumps nor goes back.
    pub fn sample(&self) -> Sample {
        Sample {
            t: self.t_s,
            produced: self.produced,
            consumed: self.consumed,
            blocked_s: self.blocked_s,
            busy_s: self.busy_per_consumer_s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::time::Instant;

    #[test]
    fn a_reading_divides_by_the_consumer_count_in_effect() {
        use crate::live::crew::Duty;
        let (tx, _rx) = metered::sync_channel::<u64>(4);
        let shared = Shared::new(Clock::start(1.0), tx.meter(), 1, Tolerance::default());
        assert_eq!(Reading::take(&shared).consumers, 1);
        shared.crew.more();
        let asked = Reading::take(&shared);
        assert_eq!(asked.consumers, 1, "asked for, not yet in effect");
        assert_eq!(shared.crew.duty(&shared.meter, &shared.clock), Duty::Hire);
        let r = Reading::take(&shared);
        assert_eq!(r.consumers, 2);
        // The window's busy time is the per-consumer share, not busy / count now.
        assert_eq!(r.sample().busy_s, r.busy_per_consumer_s);
        assert!(r.busy_per_consumer_s <= r.busy_s + 1e-12, "{r:?}");
    }

    /// Random interleavings of a producer, consumers and a reader, run in an
    /// order a seeded generator picks (one thread, but for a blocking send,
    /// which another thread makes while the reader reads): every reading,
    /// taken between any two steps, obeys the bounds the screen relies on.
    #[test]
    fn no_reading_contradicts_itself_whatever_the_interleaving() {
        for seed in 0..200 {
            let mut rng = StdRng::seed_from_u64(seed);
            let capacity = rng.random_range(1..8);
            let (tx, rx) = metered::sync_channel::<u64>(capacity);
            let meter = tx.meter();
            let consumers: Vec<_> = (0..rng.random_range(1..4)).map(|_| rx.clone()).collect();
            drop(rx);
            let context = Context {
                clock: Clock::starting_at(meter.created(), 10.0),
                staff: Staff::fixed(consumers.len() as u32),
                producer: ProducerState::Sending,
                producer_lag: LagFigures::default(),
                consumer_lag: LagFigures::default(),
                tolerance: Tolerance::default(),
            };
            let (mut next, mut taken, mut last) = (0u64, 0u64, None::<Reading>);
            for _ in 0..300 {
                match rng.random_range(0..3) {
                    // Room: the send goes in at once, on this thread.
                    0 if next - taken < capacity as u64 => {
                        tx.send(next).unwrap();
                        next += 1;
                    }
                    // Full: the send counts it and blocks (on another
                    // thread), room is made, the block ends.
                    0 => {
                        std::thread::scope(|s| {
                            s.spawn(|| tx.send(next).unwrap());
                            let blocked = wait_for_a_block(&meter);
                            let mid = Reading::new(&blocked, &context);
                            check(&mid);
                            assert_eq!(mid.producer, ProducerState::Blocked);
                            assert_eq!(consumers[0].recv(), Ok(taken));
                        });
                        taken += 1;
                        next += 1;
                    }
                    1 if taken < next => {
                        let i = rng.random_range(0..consumers.len());
                        assert_eq!(consumers[i].recv(), Ok(taken));
                        taken += 1;
                    }
                    _ => {}
                }
                let reading = Reading::new(&meter.snapshot(), &context);
                check(&reading);
                assert_eq!((reading.produced, reading.consumed), (next, taken));
                if let Some(last) = &last {
                    // Counts only grow from one reading to the next.
                    assert!(reading.produced >= last.produced);
                    assert!(reading.consumed >= last.consumed);
                    assert!(reading.full_count >= last.full_count);
                    assert!(reading.high_water >= last.high_water);
                    assert!(reading.blocked_s >= last.blocked_s);
                }
                last = Some(reading);
            }
            // The consumers go: what they left is in the buffer still, not dropped.
            drop(consumers);
            let end = Reading::new(&meter.snapshot(), &context);
            assert_eq!((end.depth, end.dropped), (next - taken, 0), "{end:?}");
        }
    }

    /// The first snapshot that shows a send blocked: the other thread's
    /// progress ends the wait (a watchdog catches a bug instead of hanging).
    fn wait_for_a_block(meter: &metered::Meter) -> Snapshot {
        let start = Instant::now();
        loop {
            let s = meter.snapshot();
            if s.blocked_now > 0 {
                return s;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "never blocked");
            std::thread::yield_now();
        }
    }

    fn check(r: &Reading) {
        assert!(r.consumed + r.depth <= r.produced, "{r:?}");
        assert!(r.depth <= r.capacity, "{r:?}");
        // A send counts the full buffer before it blocks, and the message
        // once it is in.
        let blocking = u64::from(r.producer == ProducerState::Blocked);
        assert!(r.full_count <= r.produced + blocking, "{r:?}");
        assert!(r.blocked.count <= r.full_count, "{r:?}");
        assert!(
            r.depth <= r.high_water && r.high_water <= r.capacity,
            "{r:?}"
        );
        assert!(r.blocked.max_s.is_some() == (r.blocked.count > 0), "{r:?}");
        // An age exactly when something is waiting, never above the worst.
        assert_eq!(r.oldest_age_s.is_some(), r.depth > 0, "{r:?}");
        assert!(r.oldest_age_s.unwrap_or(0.0) <= r.oldest_age_max_s, "{r:?}");
    }

    #[test]
    fn the_run_is_faithful_while_the_lag_is_within_the_tolerance() {
        let (tx, _rx) = metered::sync_channel::<u64>(4);
        let g = tx.snapshot();
        let mut c = Context {
            clock: Clock::starting_at(Instant::now(), 100.0),
            staff: Staff::fixed(1),
            producer: ProducerState::Sending,
            // 1 ms of wall time at 100×: 0.1 s of model time.
            producer_lag: LagFigures {
                mean: Duration::from_millis(1),
                worst: Duration::from_millis(30),
            },
            consumer_lag: LagFigures::default(),
            tolerance: Tolerance {
                producer: Duration::from_millis(100),
                consumer: Duration::from_millis(100),
            },
        };
        let r = Reading::new(&g, &c);
        assert!(r.faithful);
        assert!((r.schedule_lag_s - 0.1).abs() < 1e-9);
        assert!((r.schedule_lag_max_s - 3.0).abs() < 1e-9);
        // Whichever kind of thread is further behind decides.
        c.consumer_lag.mean = Duration::from_micros(1001);
        assert!(!Reading::new(&g, &c).faithful);
        // A side with no pace to keep (flat out) is not judged.
        c.tolerance.consumer = Duration::ZERO;
        let r = Reading::new(&g, &c);
        assert!(r.faithful);
        assert!((r.schedule_lag_s - 0.1).abs() < 1e-9);
    }
}
