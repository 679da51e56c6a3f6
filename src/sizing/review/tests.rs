use std::time::Duration;

use super::*;
use crate::live::clock::Clock;
use crate::live::control::Shared;
use crate::model::Tolerance;

/// A reading of a run that has sent nothing yet; tests set what they need.
fn reading(consumers: u32) -> Reading {
    let (tx, _rx) = metered::sync_channel::<u64>(1);
    let shared = Shared::new(
        Clock::start(1.0),
        tx.meter(),
        consumers,
        Tolerance::default(),
    );
    Reading::take(&shared)
}

fn run(model: &Model) -> LiveRun<'_> {
    LiveRun {
        model,
        seed: 1,
        capacity: 100,
        consumers: 1,
        consumers_changed: false,
        when_full: WhenFull::Block,
        messages: None,
        trace: None,
        load: 1.0,
        service_from: None,
    }
}

/// A model whose intervals are all zero unless set.
fn flat_out() -> Model {
    Model {
        produce_every: Duration::ZERO,
        burst_prob: 0.0,
        consume_every: Duration::ZERO,
        ..Model::original()
    }
}

const CALM: Limits = Limits {
    aborted: false,
    interrupted: &|| false,
};

/// The prediction of `run` that produced for a second.
fn predicted(run: &LiveRun) -> Predicted {
    review(run, &reading(run.consumers), 1.0, CALM).predicted
}

#[test]
fn the_prediction_is_bounded_by_what_it_would_simulate() {
    // Nothing takes any time: a horizon never passes, so it is not tried.
    let model = flat_out();
    let p = predicted(&run(&model));
    assert_eq!(p.simulated_produced, None);
    assert_eq!(p.skipped, Some(Skipped::Unpaced));
    assert!(p.skipped.unwrap().to_string().contains("without end"));
    // Nor with no gap and a drop policy: it never waits for the consumers.
    let paced = Model {
        consume_every: Duration::from_millis(300),
        ..flat_out()
    };
    let dropping = LiveRun {
        when_full: WhenFull::DropNewest,
        ..run(&paced)
    };
    assert_eq!(predicted(&dropping).skipped, Some(Skipped::Unpaced));
    // A message a nanosecond for a second: 10^9, refused before it starts.
    let fast = Model {
        produce_every: Duration::from_nanos(1),
        ..flat_out()
    };
    let why = predicted(&run(&fast)).skipped.unwrap().to_string();
    assert!(why.contains("1.0e9 messages to simulate"), "{why}");
    // Nothing takes any time, but a message limit within the budget: simulated.
    let limited = LiveRun {
        messages: Some(100_000),
        ..run(&model)
    };
    assert_eq!(predicted(&limited).simulated_produced, Some(100_000));
    // 1000 consumers cost more a message: fewer fit in the same budget.
    let original = Model::original();
    let many = LiveRun {
        consumers: 1000,
        ..run(&original)
    };
    assert!(End::new(&many, CALM).messages < END_BUDGET / 50);
    // Aborted: a tenth of the budget, for the figures that still run.
    let aborted = Limits {
        aborted: true,
        ..CALM
    };
    assert_eq!(
        End::new(&run(&original), aborted).messages,
        END_BUDGET_ABORTED
    );
    assert_eq!(
        review(&run(&original), &reading(1), 1.0, aborted)
            .predicted
            .skipped,
        Some(Skipped::Aborted)
    );
}

#[test]
fn a_stop_request_during_the_review_interrupts_it() {
    // 10^6 messages at once: more than one poll's worth, well within the budget.
    let model = flat_out();
    let limited = LiveRun {
        messages: Some(1_000_000),
        ..run(&model)
    };
    let mut r = reading(1);
    r.produced = 1_000_000;
    // The second q, INT or TERM, before the first poll.
    let stopped = Limits {
        aborted: false,
        interrupted: &|| true,
    };
    let review = review(&limited, &r, 1.0, stopped);
    assert_eq!(review.predicted.simulated_full_count, None);
    assert_eq!(review.predicted.skipped, Some(Skipped::Interrupted));
    assert_eq!(review.peak_backlog, Err(Skipped::Interrupted));
    let end = End::new(&limited, stopped);
    let replayed = end.replay(10, |interrupted| {
        assert!(interrupted(), "the replay is asked too");
        None
    });
    assert_eq!(replayed.unwrap_err(), Skipped::Interrupted);
}

#[test]
fn a_trace_is_reviewed_by_its_replay_and_its_mean_gap() {
    // Three callers at 0, 1 and 3 s against a buffer of one and 2 s of service.
    let trace = Trace::from_offsets("t", vec![0, 1_000_000_000, 3_000_000_000]);
    let model = Model {
        consume_every: Duration::from_secs(2),
        ..Model::original()
    };
    let replayed = LiveRun {
        capacity: 1,
        trace: Some(&trace),
        load: 2.0,
        ..run(&model)
    };
    let mut r = reading(1);
    (r.produced, r.consumed) = (3, 3);
    let review = review(&replayed, &r, 1.5, CALM);
    // Two gaps of 1.5 s on average, at twice the load: 4/3 a second.
    let lambda = review.rates.arrival.unwrap();
    assert!((lambda - 4.0 / 3.0).abs() < 1e-12, "{lambda}");
    // At load 2 they come at 0, 0.5 and 1.5 s: two wait behind the first.
    assert_eq!(review.peak_backlog, Ok(2));
    assert_eq!(review.predicted.simulated_produced, Some(3));
    assert_eq!(review.predicted.theory, None, "a trace has no formula");
}

#[test]
fn a_run_whose_consumers_changed_says_its_simulations_cannot_follow() {
    let model = Model::original();
    let changed = LiveRun {
        consumers: 2,
        consumers_changed: true,
        ..run(&model)
    };
    let r = review(&changed, &reading(2), 1.0, CALM);
    assert_eq!(r.predicted.skipped, Some(Skipped::ConsumersChanged));
    assert_eq!(r.predicted.simulated_full_count, None);
    assert_eq!(r.peak_backlog, Err(Skipped::ConsumersChanged));
    let why = Skipped::ConsumersChanged.to_string();
    assert!(why.contains("changed during the run"), "{why}");
    // The same run with a count that stayed is simulated.
    let fixed = LiveRun {
        consumers_changed: false,
        ..changed
    };
    let r = review(&fixed, &reading(2), 1.0, CALM);
    assert!(r.predicted.simulated_full_count.is_some(), "{r:?}");
    assert!(r.peak_backlog.is_ok(), "{r:?}");
}
