//! The review of a live run once it is over, from one [`Reading`] taken
//! after the threads are joined: its rates (λ, μ, ρ), the peak backlog an
//! unbounded buffer would have held (the run's messages replayed or
//! simulated), the verdict, and what the sweep's simulation and queueing
//! theory say the same run should have counted.
//!
//! Bounded and interruptible: the end of a run must not wait on it. Each
//! figure may simulate or replay a budget of messages ([`END_BUDGET`], less
//! once the run was aborted); one foreseen to need more is not started, one
//! that needs more is cut, and a stop request during it makes it give up
//! within [`sim::POLL`] messages. A figure skipped says why ([`Skipped`]).

use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::live::reading::Reading;
use crate::model::{Model, Stall, WhenFull};
use crate::sizing::queueing;
use crate::sizing::replay::{self, Replay};
use crate::sizing::sim::{self, Cut, Outcome, Scenario};
use crate::stats::{self, Rates, Verdict};
use crate::traffic::{Service, ServiceFile, Trace};

/// How much the end of a run may replay or simulate for each of its figures
/// (the peak backlog, the prediction), in messages of the simplest kind (see
/// [`sim::message_cost`]): a second or so, so the end of a long run does not
/// wait longer. Beyond it the figure is skipped, and the summary says why.
pub const END_BUDGET: u64 = 20_000_000;

/// The same once the run was aborted: the exit is due within a second of
/// the signal, and most of that is the threads' and the terminal's.
pub const END_BUDGET_ABORTED: u64 = 2_000_000;

/// The live run as the review sees it: what was offered to which buffer.
#[derive(Debug, Clone, Copy)]
pub struct LiveRun<'a> {
    /// The model at the run's load (its stalls included).
    pub model: &'a Model,
    pub seed: u64,
    pub capacity: u64,
    /// The consumers at the end of the run (`--consumers`, then `+`/`-`).
    pub consumers: u32,
    /// Whether `+` or `-` changed the count while the run went on: then no
    /// figure that simulates one count throughout is this run's.
    pub consumers_changed: bool,
    pub when_full: WhenFull,
    /// `--messages`, or a trace's cut.
    pub messages: Option<u64>,
    /// `--arrivals-from`, replayed at `load` instead of the model's arrivals.
    pub trace: Option<&'a Trace>,
    pub load: f64,
    /// `--service-from`, instead of the model's service times.
    pub service_from: Option<&'a ServiceFile>,
}

impl LiveRun<'_> {
    /// The run's service times (the consumers drew the same).
    pub fn service(&self) -> Service {
        Service::of_run(self.service_from, self.model, self.seed)
    }
}

/// What the review found.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// λ (offered while the producer was not blocked; a trace's: its mean
    /// gap's inverse at the load) and μ (the consumers' pooled rate).
    pub rates: Rates,
    /// The most messages that would have waited in an unbounded buffer.
    pub peak_backlog: Result<u64, Skipped>,
    pub verdict: Verdict,
    pub predicted: Predicted,
}

/// What the sweep and queueing theory say the same run should have counted,
/// beside what it did: theory, simulation and observation side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Predicted {
    /// Fulls in the sweep's simulation of the same model, seed, capacity,
    /// consumers and producing time (a trace: its replay); `null` if skipped.
    pub simulated_full_count: Option<u64>,
    /// Messages offered in that simulation.
    pub simulated_produced: Option<u64>,
    /// The M/M/c/K share of sends that find the buffer full, where it
    /// applies (see [`queueing::theory`]); `null` otherwise.
    pub theory_full_share: Option<f64>,
    /// Which formula gave it: `M/M/1/K`, or `M/M/c/K` with c the consumers.
    pub theory: Option<String>,
    /// Why the simulation was skipped, if it was.
    pub skipped: Option<Skipped>,
}

/// Why a figure of the review is missing; written as its message (JSON too).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Skipped {
    #[error(
        "nothing paces the producer in model time (its gaps take none, and it waits for no \
         consumer that takes any), so the simulation would offer messages without end"
    )]
    Unpaced,
    #[error("the run was aborted")]
    Aborted,
    #[error(
        "the consumer count changed during the run (+/-), and the simulation keeps one count \
         throughout"
    )]
    ConsumersChanged,
    #[error(
        "the run was aborted, and {} messages to {what} would hold up the exit",
        count(*.messages)
    )]
    AbortedTooLong { messages: f64, what: &'static str },
    #[error(
        "about {} messages to {what}, more than the {budget} the end of a run takes (use \
         `burstbuf sweep`)",
        count(*.messages)
    )]
    TooLong {
        messages: f64,
        what: &'static str,
        budget: u64,
    },
    #[error(
        "more than the {budget} messages the end of a run takes to simulate (use `burstbuf \
         sweep`)"
    )]
    Cut { budget: u64 },
    #[error("interrupted by a stop request (q, INT or TERM)")]
    Interrupted,
}

impl Serialize for Skipped {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What the review may do, and the stop request it gives way to.
#[derive(Clone, Copy)]
pub struct Limits<'a> {
    /// The run was aborted (before the review began): a smaller budget, and no prediction.
    pub aborted: bool,
    /// Asked before the first and every [`sim::POLL`] messages: whether a
    /// stop request came since the run ended.
    pub interrupted: &'a dyn Fn() -> bool,
}

/// Reviews a run from its one final reading; `produce_s` is how long its
/// producer ran, in model seconds.
pub fn review(run: &LiveRun, r: &Reading, produce_s: f64, limits: Limits) -> Review {
    // μ is the pool's rate: messages over the time one consumer would have
    // needed, the consumers' busy time (not waiting for a message or the
    // lock) shared among them.
    // The model's producer offers nothing while blocked; a trace's callers
    // keep arriving, at the trace's rate.
    let arrival = match run.trace {
        // The lines sent: their mean gap (as the sweep and `fit` count it), at the load.
        Some(trace) => trace
            .mean_gap_s(r.produced)
            .and_then(|gap| stats::rate(1, gap / run.load)),
        None => stats::rate(r.produced, produce_s - r.blocked_s),
    };
    let rates = Rates {
        arrival,
        service: stats::rate(r.consumed, r.busy_s / f64::from(r.consumers)),
    };
    let end = End::new(run, limits);
    let service = run.service();
    // The messages this run offered, replayed at the times a never-blocked
    // producer would have offered them, against the same consumers and
    // service times, with an unbounded buffer.
    let peak = match run.trace {
        _ if run.consumers_changed => Err(Skipped::ConsumersChanged),
        Some(trace) => end.replay(r.produced, |interrupted| {
            replay_sent(
                run,
                trace,
                r.produced,
                u64::MAX,
                WhenFull::Block,
                &service,
                interrupted,
            )
        }),
        None => end.simulate(
            r.produced as f64,
            &Scenario {
                model: run.model,
                seed: run.seed,
                capacity: u64::MAX,
                consumers: run.consumers,
                horizon: None,
                messages: Some(r.produced),
                when_full: WhenFull::Block,
            },
            &service,
        ),
    };
    let peak_backlog = peak.map(|outcome| outcome.max_depth);
    Review {
        rates,
        verdict: Verdict::new(
            &rates,
            run.capacity,
            peak_backlog.as_ref().ok().copied(),
            run.consumers,
            configured(run, r.produced),
        ),
        peak_backlog,
        predicted: predict(run, r, produce_s, &end, &service),
    }
}

/// The rates the run was configured with, which the sweep decides from too:
/// the model's mean gap (a trace's, over the lines sent, at the load) and the
/// configured mean service time. `None` where either takes no time.
fn configured(run: &LiveRun, produced: u64) -> Option<stats::Configured> {
    let (basis, gap_s) = match run.trace {
        Some(trace) => (stats::Basis::Trace, trace.mean_gap_s(produced)? / run.load),
        None => (stats::Basis::Model, run.model.mean_gap().as_secs_f64()),
    };
    let service_s = Service::mean_of_run(run.service_from, run.model).as_secs_f64();
    (gap_s > 0.0 && service_s > 0.0).then(|| stats::Configured {
        basis,
        arrival: 1.0 / gap_s,
        service_each: 1.0 / service_s,
    })
}

/// The review's budget and its stop request.
struct End<'a> {
    /// The most messages one figure may replay or simulate.
    messages: u64,
    aborted: bool,
    interrupted: &'a dyn Fn() -> bool,
}

impl<'a> End<'a> {
    fn new(run: &LiveRun, limits: Limits<'a>) -> End<'a> {
        let budget = if limits.aborted {
            END_BUDGET_ABORTED
        } else {
            END_BUDGET
        };
        End {
            messages: (budget as f64 / sim::message_cost(run.consumers, run.model.stalls.len()))
                as u64,
            aborted: limits.aborted,
            interrupted: limits.interrupted,
        }
    }

    /// Why `messages` are not replayed or simulated (`what`), if they are not.
    fn refuse(&self, messages: f64, what: &'static str) -> Result<(), Skipped> {
        if messages.is_infinite() {
            Err(Skipped::Unpaced)
        } else if messages <= self.messages as f64 {
            Ok(())
        } else if self.aborted {
            Err(Skipped::AbortedTooLong { messages, what })
        } else {
            Err(Skipped::TooLong {
                messages,
                what,
                budget: self.messages,
            })
        }
    }

    /// Replays `lines` of a trace (one step a line, whatever its span):
    /// refused if there are more than the budget allows, `Err` too if interrupted.
    fn replay(
        &self,
        lines: u64,
        run: impl FnOnce(&dyn Fn() -> bool) -> Option<Outcome>,
    ) -> Result<Outcome, Skipped> {
        self.refuse(lines as f64, "replay")?;
        run(self.interrupted).ok_or(Skipped::Interrupted)
    }

    /// Simulates a scenario expected to offer about `expected` messages:
    /// refused up front if that is beyond the budget, and cut if it goes beyond it.
    fn simulate(
        &self,
        expected: f64,
        scenario: &Scenario,
        service: &Service,
    ) -> Result<Outcome, Skipped> {
        self.refuse(expected, "simulate")?;
        let budget = sim::Budget {
            messages: self.messages,
            interrupted: self.interrupted,
        };
        sim::simulate_within(scenario, &|seq| service.ns(seq), budget).map_err(|cut| match cut {
            Cut::Budget => Skipped::Cut {
                budget: self.messages,
            },
            Cut::Interrupted => Skipped::Interrupted,
        })
    }
}

/// A count for people: exact below a million, else like 1.0e9.
fn count(n: f64) -> String {
    if n < 1e6 {
        format!("{n:.0}")
    } else {
        format!("{n:.1e}")
    }
}

/// What the sweep's simulation (and, where it applies, queueing theory)
/// says the same run should have counted: the same model, seed, capacity
/// and consumers, producing for as long as this run did; a trace is
/// replayed against the same buffer.
fn predict(run: &LiveRun, r: &Reading, produce_s: f64, end: &End, service: &Service) -> Predicted {
    let model = run.model;
    // A trace or a service file has no formula; nor a count that changed,
    // which has no steady state.
    let theory = (run.trace.is_none() && run.service_from.is_none() && !run.consumers_changed)
        .then(|| queueing::theory(model, run.consumers, run.capacity))
        .flatten();
    let outcome = if end.aborted {
        Err(Skipped::Aborted)
    } else if run.consumers_changed {
        Err(Skipped::ConsumersChanged)
    } else {
        match run.trace {
            Some(trace) => end.replay(r.produced, |interrupted| {
                replay_sent(
                    run,
                    trace,
                    r.produced,
                    run.capacity,
                    run.when_full,
                    service,
                    interrupted,
                )
            }),
            None => {
                // Saturates rather than panics: a horizon past `Duration`'s range is no horizon.
                let horizon =
                    Duration::try_from_secs_f64(produce_s.max(0.0)).unwrap_or(Duration::MAX);
                let expected = sim::expected_offers(
                    model.mean_gap(),
                    Service::mean_of_run(run.service_from, model),
                    run.consumers,
                    run.capacity,
                    run.when_full,
                    horizon,
                )
                .min(run.messages.map_or(f64::INFINITY, |m| m as f64));
                end.simulate(
                    expected,
                    &Scenario {
                        model,
                        seed: run.seed,
                        capacity: run.capacity,
                        consumers: run.consumers,
                        horizon: Some(horizon),
                        messages: run.messages,
                        when_full: run.when_full,
                    },
                    service,
                )
            }
        }
    };
    let (outcome, skipped) = match outcome {
        Ok(outcome) => (Some(outcome), None),
        Err(why) => (None, Some(why)),
    };
    Predicted {
        simulated_full_count: outcome.as_ref().map(|o| o.full_count),
        simulated_produced: outcome.as_ref().map(|o| o.produced),
        theory_full_share: theory.as_ref().map(|t| t.full_share),
        theory: theory.map(|t| t.formula),
        skipped,
    }
}

/// The trace's lines this run sent, replayed against `capacity` slots with
/// the run's consumers, load and stalls; `None` if interrupted.
fn replay_sent(
    run: &LiveRun,
    trace: &Trace,
    sent: u64,
    capacity: u64,
    when_full: WhenFull,
    service: &Service,
    interrupted: &dyn Fn() -> bool,
) -> Option<Outcome> {
    let offsets = &trace.offsets[..sent as usize];
    let stalls: &[Stall] = &run.model.stalls;
    replay::replay_what_if_within(
        &Replay {
            offsets,
            load: run.load,
            produce: Duration::from_nanos(offsets.last().copied().unwrap_or(0)),
            capacity,
            consumers: run.consumers,
        },
        service,
        when_full,
        stalls,
        interrupted,
    )
}

#[cfg(test)]
mod tests;
