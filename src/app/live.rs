//! The live demo, as a short sequence: open the session, run the threads,
//! close it, review the run and deliver its summary.

use std::io;
use std::process::ExitCode;

use super::session::{Ended, PATIENCE, PATIENCE_DRAINED, Session};
use super::{EXIT_ABORTED, EXIT_HANGUP, Error};
use crate::cli::config::Config;
use crate::live::control::State;
use crate::live::crew::Changes;
use crate::live::reading::Reading;
use crate::model::WhenFull;
use crate::sizing::review::{self, Limits, LiveRun};
use crate::ui::summary::{ConsumerChanges, Labelled, Summary};
use crate::ui::writer::{self, Finished, Target};

/// Runs the demo with a validated configuration and reports on stdout.
pub(super) fn run(config: &Config) -> Result<ExitCode, Error> {
    let (mut session, start) = Session::open(config)?;
    let joined = session.run(config, start);
    let ended = session.close(joined)?;
    let summary = summarise(config, &session, &ended);
    deliver(config, &session, &ended, &summary)
}

/// The run as the review sees it, with the consumers it ended with.
fn live_run<'a>(config: &'a Config, changes: &Changes) -> LiveRun<'a> {
    LiveRun {
        model: &config.model,
        seed: config.seed,
        capacity: config.capacity,
        consumers: changes.end(config.consumers),
        consumers_changed: !changes.is_empty(),
        when_full: config.when_full,
        messages: config.messages,
        trace: config.trace.as_deref(),
        load: config.load,
        service_from: config.service_from.as_ref(),
    }
}

/// The summary, from the threads' own reports and one reading of the
/// counters, taken after `join()` so every update is visible, and the
/// review of that reading.
fn summarise(config: &Config, session: &Session, ended: &Ended) -> Summary {
    let shared = &session.shared;
    let aborted = session.aborted();
    // The run is over: from now on any stop request aborts, and the review
    // gives way to it.
    shared.control.stop();
    let clock = shared.clock;
    let r = Reading::take(shared);
    let produce_s = clock.model_secs(ended.producer.stopped_at);
    let interrupted = || shared.control.state() == State::Aborted;
    let limits = Limits {
        aborted,
        interrupted: &interrupted,
    };
    let changes = shared.crew.changes();
    let review = review::review(&live_run(config, &changes), &r, produce_s, limits);
    // A stop request during the review: the run was whole, its review cut
    // short. The summary says so, and the exit code agrees (see `deliver`).
    let review_interrupted = !aborted && interrupted();
    let rates = review.rates;
    Summary {
        capacity: config.capacity,
        produced: r.produced,
        consumed: r.consumed,
        unconsumed: r.produced - r.consumed - r.dropped,
        dropped: r.dropped,
        when_full: config.when_full,
        full_count: r.full_count,
        in_order: ended.consumer.in_order(config.when_full != WhenFull::Block),
        aborted: aborted || review_interrupted,
        review_interrupted,
        seed: config.seed,
        speed: config.speed,
        elapsed_s: clock.model_secs(ended.consumer.finished_at),
        produce_s,
        drain_s: clock.model_secs_between(ended.producer.stopped_at, ended.consumer.finished_at),
        full_share: if r.produced == 0 {
            0.0
        } else {
            r.full_count as f64 / r.produced as f64
        },
        first_full_s: r.first_full_s,
        blocked: r.blocked,
        arrival_rate: rates.arrival,
        service_rate: rates.service,
        utilisation: rates.utilisation(),
        high_water: r.high_water,
        max_catch_up_s: rates
            .service
            .filter(|mu| *mu > 0.0)
            .map(|mu| r.high_water as f64 / mu),
        oldest_item_age_max_s: r.oldest_age_max_s,
        peak_backlog: review.peak_backlog.as_ref().ok().copied(),
        peak_backlog_skipped: review.peak_backlog.err(),
        faithful: r.faithful,
        schedule_lag_s: r.schedule_lag_s,
        schedule_lag_max_s: r.schedule_lag_max_s,
        stalls: shared.stalls.figures(&clock),
        verdict: Labelled {
            verdict: review.verdict,
            faithful: r.faithful,
        },
        predicted: review.predicted,
        consumer_changes: ConsumerChanges::of_run(config.consumers, changes),
        recorded: ended.recorded.clone(),
    }
}

/// Writes the summary where it can be read, and gives the exit code: 129
/// after a hang-up, 130 when the summary says the run was aborted.
fn deliver(
    config: &Config,
    session: &Session,
    ended: &Ended,
    summary: &Summary,
) -> Result<ExitCode, Error> {
    let mut text = Vec::new();
    summary.write(&mut text, config.json)?;
    let hung_up = session.stops.hung_up();
    let code = if hung_up {
        ExitCode::from(EXIT_HANGUP)
    } else if summary.aborted {
        ExitCode::from(EXIT_ABORTED)
    } else {
        ExitCode::SUCCESS
    };
    if hung_up {
        // Stdout may be the terminal that went away, or a pipe still read
        // (or not); stderr is tried only if stdout did not take it, and on a
        // terminal that went away both fail at once, writing nothing.
        if !matches!(
            writer::write_within(Target::Stdout, text.clone(), PATIENCE),
            Ok(true)
        ) {
            let _ = writer::write_within(Target::Stderr, text, PATIENCE);
        }
        return Ok(code);
    }
    // Asked to quit: the reader of stdout is waited for less.
    let patience = if summary.aborted {
        PATIENCE
    } else {
        PATIENCE_DRAINED
    };
    let stuck = ended.finished == Finished::Stuck && session.target == Target::Stdout;
    let written = if stuck {
        Ok(false)
    } else {
        writer::write_within(Target::Stdout, text.clone(), patience)
    };
    let to_stderr =
        |line: String| writer::write_within(Target::Stderr, line.into_bytes(), PATIENCE);
    match written {
        Ok(true) => {}
        Ok(false) => {
            // Nobody reads stdout: the summary goes where it can.
            let note = "burstbuf: stdout is not being read; the summary follows here\n";
            let _ = to_stderr(note.to_owned() + &String::from_utf8_lossy(&text));
        }
        // Piped into `head` and closed: nobody is left to tell.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe && !config.json => {
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => {
            let _ = to_stderr(format!(
                "burstbuf: could not write the summary to stdout: {e}\n"
            ));
            return Ok(ExitCode::FAILURE);
        }
    }
    let dropped = session.writer.dropped();
    if dropped > 0 {
        let _ = to_stderr(format!(
            "burstbuf: {dropped} log lines were dropped: their reader did not keep up\n"
        ));
    }
    Ok(code)
}
