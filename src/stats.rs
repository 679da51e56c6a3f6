//! The numbers that decide, as pure functions: arrival and service rates, the
//! utilisation ρ = λ/μ, a sliding window of them, and the verdict built from
//! them and the peak backlog (which the caller replays with the simulation).

use std::collections::VecDeque;
use std::fmt;

use serde::Serialize;

/// Events per second of time spent on them; `None` when no such time passed.
pub fn rate(count: u64, active_s: f64) -> Option<f64> {
    (active_s > 1e-9).then(|| count as f64 / active_s)
}

/// λ and μ, per second of model time.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Rates {
    /// λ: messages the producer offers per second while not blocked.
    pub arrival: Option<f64>,
    /// μ: messages the consumer completes per second while busy (not waiting on an empty buffer).
    pub service: Option<f64>,
}

impl Rates {
    /// ρ = λ/μ; infinite if messages arrived but the consumer completed none
    /// while busy; unknown if neither happened.
    pub fn utilisation(&self) -> Option<f64> {
        let (arrival, service) = (self.arrival?, self.service?);
        if service > 0.0 {
            Some(arrival / service)
        } else {
            (arrival > 0.0).then_some(f64::INFINITY)
        }
    }
}

/// Totals at one moment, in model seconds: what the window takes differences of.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sample {
    pub t: f64,
    pub produced: u64,
    pub consumed: u64,
    /// Time the producer has spent blocked on a full buffer, a block in
    /// progress included (so a long block does not jump into the window when it ends).
    pub blocked_s: f64,
    /// Time a consumer has spent working on messages (the pool's busy time
    /// over the number of consumers), work in progress included; waiting for
    /// a message or for the lock is not work.
    pub busy_s: f64,
}

/// The rates between two samples.
pub fn rates_between(from: &Sample, to: &Sample) -> Rates {
    let span = to.t - from.t;
    Rates {
        arrival: rate(
            to.produced.saturating_sub(from.produced),
            span - (to.blocked_s - from.blocked_s),
        ),
        service: rate(
            to.consumed.saturating_sub(from.consumed),
            to.busy_s - from.busy_s,
        ),
    }
}

/// Rates over the last `span` seconds of model time.
#[derive(Debug, Clone)]
pub struct Window {
    span: f64,
    /// Oldest first; the first may be older than `span`, so the window is never short.
    samples: VecDeque<Sample>,
}

/// Samples kept per window at most: one per hundredth of the span.
const SAMPLES_PER_WINDOW: f64 = 100.0;

impl Window {
    pub fn new(span: f64) -> Window {
        Window {
            span,
            samples: VecDeque::new(),
        }
    }

    pub fn push(&mut self, sample: Sample) {
        if let Some(last) = self.samples.back()
            && sample.t < last.t + self.span / SAMPLES_PER_WINDOW
        {
            return; // too soon after the last: memory stays bounded at any speed
        }
        self.samples.push_back(sample);
        while self.samples.len() > 2 && self.samples[1].t <= sample.t - self.span {
            self.samples.pop_front();
        }
    }

    /// The rates over the whole window (the live run reads [`Window::rates_to`]
    /// its frame's own sample instead).
    #[cfg(test)]
    pub fn rates(&self) -> Rates {
        match (self.samples.front(), self.samples.back()) {
            (Some(first), Some(last)) => rates_between(first, last),
            _ => Rates::default(),
        }
    }

    /// The rates from the window's start up to `now`, a sample that may be
    /// too recent to keep: so a frame's rates end at the frame's own reading.
    pub fn rates_to(&self, now: &Sample) -> Rates {
        match self.samples.front() {
            Some(first) if first.t <= now.t => rates_between(first, now),
            _ => Rates::default(),
        }
    }
}

/// The fewest consumers that keep up (ρ < 1) with a load one consumer alone
/// would carry at ρ₁: ρ falls as 1/c, so ⌊ρ₁⌋ + 1, or one more where
/// rounding put ρ₁/c at 1. At ρ₁ = 2 that is 3: two consumers at ρ = 1 never
/// shrink a backlog. The sweep's recommendation and the live verdict both ask
/// this question, so both ask this function.
pub fn consumers_needed(rho_one: f64) -> Option<u32> {
    if !rho_one.is_finite() || rho_one < 0.0 {
        return None;
    }
    let c = (rho_one.floor() as u32).saturating_add(1);
    Some(if rho_one / f64::from(c) >= 1.0 {
        c.saturating_add(1)
    } else {
        c
    })
}

/// Where a verdict's ρ comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The built-in model's configured rates: exact, whatever the run drew.
    Model,
    /// The replayed trace's mean rate against the configured service.
    Trace,
    /// What the run measured (only where nothing configured gives a rate).
    Measured,
}

impl Basis {
    /// How the verdict names its ρ.
    fn phrase(self) -> &'static str {
        match self {
            Basis::Model => "the model's",
            Basis::Trace => "the trace's",
            Basis::Measured => "measured",
        }
    }
}

/// The rates a run was configured with (the model's, or a trace's mean
/// arrival rate), which decide its verdict: the same the sweep decides from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Configured {
    pub basis: Basis,
    /// λ, per second.
    pub arrival: f64,
    /// μ of one consumer, per second.
    pub service_each: f64,
}

/// What the run's numbers say to do.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Verdict {
    /// ρ ≥ 1: the consumers cannot keep up; no buffer prevents blocking.
    ConsumerBottleneck {
        /// ρ at the run's consumers, from the [`Basis`].
        utilisation: f64,
        basis: Basis,
        /// ρ as the run measured it, beside the one that decided.
        measured_utilisation: Option<f64>,
        arrival_rate: f64,
        service_rate: f64,
        /// How long a buffer of this capacity takes to fill from empty: capacity / (λ − μ).
        fill_time_s: Option<f64>,
        /// Consumers in all that would keep up: [`consumers_needed`] of ρ·c.
        writers_needed: u64,
        /// Or the same consumers writing batches of at least ρ rows.
        batch_rows: f64,
    },
    /// ρ < 1: a big enough buffer absorbs the bursts.
    ConsumerKeepsUp {
        /// ρ at the run's consumers, from the [`Basis`].
        utilisation: f64,
        basis: Basis,
        /// ρ as the run measured it, beside the one that decided.
        measured_utilisation: Option<f64>,
        /// The smallest capacity that would have absorbed every burst of this
        /// run; `None` where the end of the run did not replay it.
        capacity_needed: Option<u64>,
        capacity: u64,
    },
    /// Too little happened to judge (nothing produced or consumed).
    NotEnoughData,
}

impl Verdict {
    /// From the run's measured rates (μ for all `consumers` together), its
    /// configured rates where it has them, capacity and peak backlog.
    ///
    /// The configured rates decide: they are what the sweep decides from,
    /// and exact, where a run's measured ρ is one draw of the model (the
    /// default model's ρ is 2.5, so 3 consumers, while runs measure 2 to 4).
    pub fn new(
        rates: &Rates,
        capacity: u64,
        peak_backlog: Option<u64>,
        consumers: u32,
        configured: Option<Configured>,
    ) -> Verdict {
        let consumers = consumers.max(1);
        let measured = rates.utilisation();
        let decided = configured
            .filter(|c| c.arrival.is_finite() && c.service_each > 0.0)
            .map(|c| {
                let service = c.service_each * f64::from(consumers);
                (c.basis, c.arrival, service, c.arrival / service)
            })
            .or_else(|| Some((Basis::Measured, rates.arrival?, rates.service?, measured?)));
        let Some((basis, arrival, service, utilisation)) = decided else {
            return Verdict::NotEnoughData;
        };
        if utilisation >= 1.0 {
            let surplus = arrival - service;
            Verdict::ConsumerBottleneck {
                utilisation,
                basis,
                measured_utilisation: measured,
                arrival_rate: arrival,
                service_rate: service,
                fill_time_s: (surplus > 0.0).then(|| capacity as f64 / surplus),
                writers_needed: consumers_needed(utilisation * f64::from(consumers))
                    .map_or(0, u64::from),
                batch_rows: utilisation,
            }
        } else {
            Verdict::ConsumerKeepsUp {
                utilisation,
                basis,
                measured_utilisation: measured,
                capacity_needed: peak_backlog.map(|peak| peak.max(1)),
                capacity,
            }
        }
    }

    /// "rho = 2.50, the model's; this run measured 3.96", or the measured ρ alone.
    fn rho(utilisation: f64, basis: Basis, measured: Option<f64>) -> String {
        match (basis, measured) {
            (Basis::Measured, _) => format!("rho = {utilisation:.2}, measured"),
            (_, Some(m)) => format!(
                "rho = {utilisation:.2}, {}; this run measured {m:.2}",
                basis.phrase()
            ),
            (_, None) => format!("rho = {utilisation:.2}, {}", basis.phrase()),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, false)
    }
}

impl Verdict {
    /// The verdict in words for a run whose full buffer drops messages
    /// (`--when-full drop-*`): what a buffer cannot prevent is then a drop,
    /// not a block.
    pub fn text_when_dropping(&self) -> String {
        struct Dropping<'a>(&'a Verdict);
        impl fmt::Display for Dropping<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write(f, true)
            }
        }
        Dropping(self).to_string()
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, dropping: bool) -> fmt::Result {
        let (losing, loss) = if dropping {
            ("drops", "drop")
        } else {
            ("blocking", "block")
        };
        match *self {
            Verdict::ConsumerBottleneck {
                utilisation,
                basis,
                measured_utilisation,
                arrival_rate,
                service_rate,
                fill_time_s,
                writers_needed,
                batch_rows,
            } => {
                writeln!(
                    f,
                    "Verdict: the consumer is the bottleneck: it completes {service_rate:.2}/s \
                     while the producer offers {arrival_rate:.2}/s ({}).",
                    Verdict::rho(utilisation, basis, measured_utilisation)
                )?;
                if let Some(fill) = fill_time_s {
                    writeln!(
                        f,
                        "No buffer size prevents {losing}: a buffer only delays the first {loss}, \
                         by capacity / (lambda - mu) = {:.1}s per 100 slots ({fill:.1}s for this one).",
                        100.0 / (arrival_rate - service_rate)
                    )?;
                } else {
                    writeln!(f, "No buffer size prevents {losing}.")?;
                }
                if writers_needed > 0 {
                    write!(
                        f,
                        "Consumers needed: {writers_needed} in all, or batches of at least \
                         {batch_rows:.1} rows per write."
                    )
                } else {
                    write!(f, "The consumer completed nothing: it is stuck.")
                }
            }
            Verdict::ConsumerKeepsUp {
                utilisation,
                basis,
                measured_utilisation,
                capacity_needed,
                capacity,
            } => {
                let rho = Verdict::rho(utilisation, basis, measured_utilisation);
                let Some(capacity_needed) = capacity_needed else {
                    return write!(
                        f,
                        "Verdict: the consumer keeps up ({rho}); the run was \
                         not replayed for the capacity its bursts needed: size it with \
                         `burstbuf sweep`."
                    );
                };
                writeln!(
                    f,
                    "Verdict: the consumer keeps up ({rho}); a buffer of \
                     {capacity_needed} would have absorbed every burst of this run \
                     (peak backlog, replayed with an unbounded buffer)."
                )?;
                if capacity >= capacity_needed {
                    write!(f, "The capacity of {capacity} is enough.")
                } else {
                    write!(
                        f,
                        "The capacity of {capacity} is too small: use --capacity {capacity_needed} or more."
                    )
                }
            }
            Verdict::NotEnoughData => write!(f, "Verdict: too little happened to judge."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_over_a_known_timeline() {
        // 10 s in which the producer was blocked 6 s and sent 40; the consumer
        // waited 2 s and completed 24.
        let from = Sample::default();
        let to = Sample {
            t: 10.0,
            produced: 40,
            consumed: 24,
            blocked_s: 6.0,
            busy_s: 8.0,
        };
        let r = rates_between(&from, &to);
        assert_eq!(r.arrival, Some(10.0));
        assert_eq!(r.service, Some(3.0));
        assert!((r.utilisation().unwrap() - 10.0 / 3.0).abs() < 1e-12);
        assert_eq!(rates_between(&to, &to), Rates::default());
        let stuck = Rates {
            arrival: Some(1.0),
            service: Some(0.0),
        };
        assert_eq!(stuck.utilisation(), Some(f64::INFINITY));
        let still = Rates {
            arrival: Some(0.0),
            service: Some(0.0),
        };
        assert_eq!(still.utilisation(), None);
    }

    #[test]
    fn the_window_forgets_what_is_older_than_its_span() {
        let mut w = Window::new(5.0);
        assert_eq!(w.rates(), Rates::default());
        // 100/s for 10 s, then 10/s for 10 s; consumer steady at 3/s, never idle.
        let mut produced = 0;
        for tenth in 0..=200 {
            let t = tenth as f64 / 10.0;
            if tenth > 0 {
                produced += if t <= 10.0 { 10 } else { 1 };
            }
            w.push(Sample {
                t,
                produced,
                consumed: (t * 3.0) as u64,
                busy_s: t,
                ..Sample::default()
            });
        }
        let r = w.rates();
        let arrival = r.arrival.unwrap();
        assert!((arrival - 10.0).abs() < 0.5, "{arrival}");
        let service = r.service.unwrap();
        assert!((service - 3.0).abs() < 0.5, "{service}");
        assert!(w.samples.len() <= SAMPLES_PER_WINDOW as usize + 2);
    }

    /// A synthetic clock: 8 messages a second until t = 20 s, then blocked on
    /// a full buffer for good; the consumer works throughout at 3 a second.
    /// Readings count the block in progress, as the live readings do.
    fn blocked_from_20(t: f64) -> Sample {
        Sample {
            t,
            produced: (t.min(20.0) * 8.0) as u64,
            consumed: (t * 3.0) as u64,
            blocked_s: (t - 20.0).max(0.0),
            busy_s: t,
        }
    }

    #[test]
    fn frames_during_a_long_block_see_steady_rates() {
        let mut w = Window::new(5.0);
        let mut last: Option<Rates> = None;
        // A frame every 33 ms.
        for frame in 0..=(24.5 / 0.033) as u32 {
            let t = f64::from(frame) * 0.033;
            let now = blocked_from_20(t);
            w.push(now);
            let r = w.rates_to(&now);
            if t >= 6.0 {
                // Until the window holds nothing but the block, λ is the
                // producer's pace while it could send, whatever part of the
                // window the block fills; one message in the unblocked
                // stretch is the most the counts' granularity can move it.
                let arrival = r.arrival.unwrap();
                let unblocked = 5.0 - (t - 20.0).max(0.0);
                let grain = 1.5 / unblocked;
                assert!((arrival - 8.0).abs() <= grain + 0.1, "t={t}: {arrival}");
                let service = r.service.unwrap();
                assert!((service - 3.0).abs() <= 0.5, "t={t}: {service}");
                if let Some(last) = last {
                    let step = (arrival - last.arrival.unwrap()).abs();
                    assert!(step <= 2.0 * grain + 0.1, "t={t}: {step}");
                }
                last = Some(r);
            }
        }
    }

    #[test]
    fn verdict_when_the_consumer_is_the_bottleneck() {
        let rates = Rates {
            arrival: Some(8.0),
            service: Some(3.0),
        };
        let v = Verdict::new(&rates, 100, Some(9999), 1, None);
        let Verdict::ConsumerBottleneck {
            writers_needed,
            fill_time_s,
            batch_rows,
            ..
        } = v
        else {
            panic!("{v:?}")
        };
        assert_eq!(writers_needed, 3);
        assert_eq!(fill_time_s, Some(20.0));
        assert!((batch_rows - 8.0 / 3.0).abs() < 1e-12);
        let text = v.to_string();
        assert!(text.contains("consumer is the bottleneck"), "{text}");
        assert!(text.contains("Consumers needed: 3 in all"), "{text}");
        assert!(text.contains("No buffer size prevents blocking"), "{text}");
        let dropping = v.text_when_dropping();
        assert!(
            dropping.contains("No buffer size prevents drops: a buffer only delays the first drop"),
            "{dropping}"
        );
        assert!(!dropping.contains("block"), "{dropping}");
        assert!(text.contains("20.0s"), "{text}");

        // Exactly 1 counts as a bottleneck: the backlog never shrinks, so
        // one more consumer is needed (ρ < 1, as the sweep counts them).
        let even = Rates {
            arrival: Some(3.0),
            service: Some(3.0),
        };
        assert!(matches!(
            Verdict::new(&even, 100, Some(0), 1, None),
            Verdict::ConsumerBottleneck {
                writers_needed: 2,
                fill_time_s: None,
                basis: Basis::Measured,
                ..
            }
        ));
    }

    #[test]
    fn verdict_when_the_consumer_keeps_up() {
        let rates = Rates {
            arrival: Some(2.0),
            service: Some(4.0),
        };
        let enough = Verdict::new(&rates, 100, Some(37), 1, None);
        assert_eq!(
            enough,
            Verdict::ConsumerKeepsUp {
                utilisation: 0.5,
                basis: Basis::Measured,
                measured_utilisation: Some(0.5),
                capacity_needed: Some(37),
                capacity: 100
            }
        );
        assert!(enough.to_string().contains("is enough"), "{enough}");
        let small = Verdict::new(&rates, 10, Some(37), 1, None);
        assert!(small.to_string().contains("--capacity 37"), "{small}");
        // A run not replayed at its end says so instead of a capacity.
        let unknown = Verdict::new(&rates, 10, None, 1, None);
        assert!(unknown.to_string().contains("burstbuf sweep"), "{unknown}");
        assert!(!unknown.to_string().contains("--capacity"), "{unknown}");
        assert_eq!(
            Verdict::new(&Rates::default(), 10, Some(0), 1, None),
            Verdict::NotEnoughData
        );
    }

    #[test]
    fn writers_needed_counts_every_consumer() {
        // Two consumers at ρ = 1.4 between them: ρ₁ = 2.8, three writers in
        // all; at ρ = 1.5, three would run at ρ = 1: four.
        for (arrival, needed) in [(5.6, 3), (6.0, 4)] {
            let two = Verdict::new(
                &Rates {
                    arrival: Some(arrival),
                    service: Some(4.0),
                },
                10,
                Some(0),
                2,
                None,
            );
            assert!(
                matches!(
                    two,
                    Verdict::ConsumerBottleneck { writers_needed, .. } if writers_needed == needed
                ),
                "{two:?}"
            );
        }
    }

    #[test]
    fn consumers_needed_keep_rho_below_1() {
        assert_eq!(consumers_needed(0.0), Some(1));
        assert_eq!(consumers_needed(0.99), Some(1));
        assert_eq!(consumers_needed(1.0), Some(2));
        assert_eq!(consumers_needed(2.0), Some(3));
        assert_eq!(consumers_needed(2.5), Some(3));
        assert_eq!(consumers_needed(2.999), Some(3));
        assert_eq!(consumers_needed(f64::INFINITY), None);
        assert_eq!(consumers_needed(f64::NAN), None);
        // Every answer keeps up, and one fewer does not.
        for tenth in 0..100 {
            let rho1 = f64::from(tenth) / 10.0;
            let c = consumers_needed(rho1).unwrap();
            assert!(rho1 / f64::from(c) < 1.0, "{rho1}: {c}");
            assert!(c == 1 || rho1 / f64::from(c - 1) >= 1.0, "{rho1}: {c}");
        }
    }

    #[test]
    fn the_configured_rates_decide_and_the_measured_rho_stands_beside() {
        // The default model: 1/120 ms offered, 1/300 ms served, ρ = 2.5;
        // a run that happened to measure ρ = 1.96 (2 writers by its own count).
        let model = Configured {
            basis: Basis::Model,
            arrival: 1.0 / 0.12,
            service_each: 1.0 / 0.3,
        };
        let measured = Rates {
            arrival: Some(6.53),
            service: Some(3.33),
        };
        let v = Verdict::new(&measured, 100, Some(900), 1, Some(model));
        let Verdict::ConsumerBottleneck {
            utilisation,
            basis,
            measured_utilisation,
            writers_needed,
            ..
        } = v
        else {
            panic!("{v:?}")
        };
        assert!((utilisation - 2.5).abs() < 1e-9, "{v:?}");
        assert_eq!((basis, writers_needed), (Basis::Model, 3));
        assert!((measured_utilisation.unwrap() - 6.53 / 3.33).abs() < 1e-9);
        let text = v.to_string();
        assert!(
            text.contains("rho = 2.50, the model's; this run measured 1.96"),
            "{text}"
        );
        assert!(text.contains("Consumers needed: 3 in all"), "{text}");
        // With three consumers the model keeps up, whatever the run measured.
        let three = Verdict::new(&measured, 100, Some(40), 3, Some(model));
        assert!(
            matches!(
                three,
                Verdict::ConsumerKeepsUp {
                    basis: Basis::Model,
                    capacity_needed: Some(40),
                    ..
                }
            ),
            "{three:?}"
        );
        // A run that measured nothing still has the model's verdict.
        let nothing = Verdict::new(&Rates::default(), 100, None, 1, Some(model));
        assert!(matches!(
            nothing,
            Verdict::ConsumerBottleneck {
                writers_needed: 3,
                measured_utilisation: None,
                ..
            }
        ));
    }

    #[test]
    fn verdict_json_is_tagged() {
        let v = Verdict::new(
            &Rates {
                arrival: Some(2.0),
                service: Some(4.0),
            },
            100,
            Some(5),
            1,
            None,
        );
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["kind"], "consumer_keeps_up");
        assert_eq!(json["capacity_needed"], 5);
    }
}
