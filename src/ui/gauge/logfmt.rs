//! The plain output's line: one logfmt line of a [`Snapshot`], for a pipe,
//! a file or `TERM=dumb`. Its keys are read by other programs: they stay.

use super::Snapshot;
use super::lines::producer_word;
use crate::live::counters::ProducerState;

/// One logfmt line for plain output, at `t` seconds of model time.
pub fn logfmt(s: &Snapshot, t: f64) -> String {
    let f = &s.figures;
    let number = |x: Option<f64>, digits: usize| x.map_or("-".into(), |x| format!("{x:.digits$}"));
    format!(
        "t={t:.1}s produced={} consumed={} depth={}/{} full={} lambda={} mu={} rho={} \
         blocked_p99={} high_water={} oldest_age={} producer={} faithful={} schedule_lag={:.3}s",
        s.produced,
        s.consumed,
        s.depth(),
        s.capacity,
        s.full_count,
        number(f.arrival, 2),
        number(f.service, 2),
        number(f.utilisation, 2),
        f.blocked_p99_s.map_or("-".into(), |t| format!("{t:.3}s")),
        f.high_water,
        f.oldest_age_s.map_or("-".into(), |t| format!("{t:.3}s")),
        match s.producer {
            ProducerState::Pausing => "pausing",
            ProducerState::Blocked => "blocked",
            other => producer_word(other),
        },
        s.faithful,
        s.schedule_lag_s,
    ) + &(if s.dropped > 0 {
        format!(" dropped={}", s.dropped)
    } else {
        String::new()
    }) + &s
        .stalled_until_s
        .map_or(String::new(), |until| format!(" stalled_until={until:.1}s"))
}
