//! The text lines under the gauge, each fitted to the width by dropping whole
//! fields in the order given here (least important first; see the module doc
//! of [`super`] for the same order in words): the status line, the rates, the
//! costs of blocking, the depth's sparkline and the hint.

use super::fit::{Fields, columns, first_that_fits, fit};
use super::{Figures, Glyphs, HISTORY_SECONDS, Phase, Snapshot};
use crate::live::counters::ProducerState;
use crate::units::seconds;

/// The status line: the live counts, the depth and what the producer does.
pub fn status(s: &Snapshot, width: usize) -> String {
    const FLAG: usize = 0;
    const ELAPSED: usize = 1;
    const PRODUCED: usize = 2;
    const CONSUMED: usize = 3;
    const BUFFER: usize = 4;
    const FULL: usize = 5;
    const PRODUCER: usize = 6;
    const DROPPED: usize = 7;
    const STALLED: usize = 8;
    const CONSUMERS: usize = 9;
    // The markers show the latest produced and consumed message, so those
    // counts go first; the depth and the flag of an unfaithful run go last.
    const ORDER: [usize; 14] = [
        PRODUCED, CONSUMED, ELAPSED, DROPPED, CONSUMERS, CONSUMERS, PRODUCER, FULL, STALLED,
        PRODUCER, STALLED, FLAG, BUFFER, FLAG,
    ];
    let flag = if s.faithful {
        vec![]
    } else {
        vec![
            format!("NOT FAITHFUL (lag {})", seconds(s.schedule_lag_s)),
            "NOT FAITHFUL".into(),
        ]
    };
    let word = producer_word(s.producer);
    let fields: Fields = vec![
        flag,
        vec![format!("{}s", s.elapsed_s)],
        vec![format!("produced {}", s.produced)],
        vec![format!("consumed {}", s.consumed)],
        vec![format!("buffer {}/{}", s.depth(), s.capacity)],
        vec![format!("full {} times", s.full_count)],
        vec![format!("producer {word}"), short_word(word).into()],
        if s.dropped > 0 {
            vec![format!("dropped {}", s.dropped)]
        } else {
            vec![]
        },
        s.stalled_until_s.map_or(vec![], |until| {
            vec![
                format!("consumers STALLED until {}", seconds(until)),
                "STALLED".into(),
            ]
        }),
        s.consumers.map_or(vec![], |(now, wanted)| {
            if now == wanted {
                vec![format!("consumers {now}")]
            } else {
                vec![
                    format!("consumers {now} (to {wanted})"),
                    format!("consumers {now}"),
                ]
            }
        }),
    ];
    fit(&fields, &ORDER, width)
}

pub fn producer_word(state: ProducerState) -> &'static str {
    match state {
        ProducerState::Sending => "sending",
        ProducerState::Pausing => "pausing (burst)",
        ProducerState::Blocked => "BLOCKED",
        ProducerState::Stopped => "stopped",
    }
}

/// The producer's state in one word.
fn short_word(word: &str) -> &str {
    word.split(' ').next().unwrap_or(word)
}

/// λ, μ and ρ over the last few seconds.
pub fn rates(f: &Figures, glyphs: Glyphs, width: usize) -> String {
    const LAMBDA: usize = 0;
    const MU: usize = 1;
    const RHO: usize = 2;
    const BOTTLENECK: usize = 3;
    const WINDOW: usize = 4;
    // ρ is the verdict, λ and μ what it is made of; the words say what the
    // alert colour and ρ ≥ 1 say already.
    const ORDER: [usize; 6] = [WINDOW, BOTTLENECK, BOTTLENECK, LAMBDA, MU, RHO];
    let [lambda, mu, rho] = match glyphs {
        Glyphs::Unicode => ["λ", "μ", "ρ"],
        Glyphs::Ascii => ["lambda", "mu", "rho"],
    };
    let per_s = |r: Option<f64>| r.map_or("-".into(), |r| format!("{r:.1}/s"));
    let fields: Fields = vec![
        vec![format!("{lambda} {}", per_s(f.arrival))],
        vec![format!("{mu} {}", per_s(f.service))],
        vec![format!(
            "{rho} {}",
            f.utilisation.map_or("-".into(), |rho| format!("{rho:.2}"))
        )],
        if f.bottleneck() {
            vec!["consumer is the bottleneck".into(), "bottleneck".into()]
        } else {
            vec![]
        },
        vec!["(last 5s)".into()],
    ];
    fit(&fields, &ORDER, width)
}

/// What blocking costs, and how far behind the writer is.
pub fn costs(s: &Snapshot, width: usize) -> String {
    const P99: usize = 0;
    const MAX: usize = 1;
    const CATCH_UP: usize = 2;
    const HIGH_WATER: usize = 3;
    const OLDEST: usize = 4;
    // The p99 is the latency the API call suffers; max reads only after it,
    // so it goes before it.
    const ORDER: [usize; 5] = [HIGH_WATER, CATCH_UP, MAX, OLDEST, P99];
    let f = &s.figures;
    let time = |t: Option<f64>| t.map_or("-".into(), seconds);
    let fields: Fields = vec![
        vec![format!("blocked p99 {}", time(f.blocked_p99_s))],
        vec![format!("max {}", time(f.blocked_max_s))],
        vec![format!("catch-up {}", time(f.catch_up_s))],
        vec![format!("high-water {}/{}", f.high_water, s.capacity)],
        vec![format!("oldest {}", time(f.oldest_age_s))],
    ];
    fit(&fields, &ORDER, width)
}

/// The depth over the last [`HISTORY_SECONDS`], or as many of the latest
/// seconds as fit, with the span it covers.
pub fn depth_line(s: &Snapshot, width: usize) -> String {
    let history = &s.figures.history;
    let whole = format!(
        "depth {} last {HISTORY_SECONDS}s",
        sparkline(history, s.capacity, s.glyphs)
    );
    if columns(&whole) <= width {
        return whole;
    }
    // As many of the latest seconds as fit with the label that says how many.
    (1..history.len())
        .rev()
        .map(|shown| {
            let latest = &history[history.len() - shown..];
            format!(
                "depth {} last {shown}s",
                sparkline(latest, s.capacity, s.glyphs)
            )
        })
        .find(|line| columns(line) <= width)
        .unwrap_or_default()
}

/// One character per value, from empty to `max`.
pub fn sparkline(values: &[u64], max: u64, glyphs: Glyphs) -> String {
    let ramp: &[char] = match glyphs {
        Glyphs::Unicode => &['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'],
        Glyphs::Ascii => &['_', '.', ':', '-', '=', '+', '*', '#'],
    };
    let top = (ramp.len() - 1) as u128;
    values
        .iter()
        .map(|v| {
            // In u128: a depth times the ramp may not fit in a u64.
            let level = (u128::from(*v.min(&max)) * top)
                .checked_div(u128::from(max))
                .unwrap_or(0);
            ramp[level as usize]
        })
        .collect()
}

/// What the keys do now, as much of it as fits.
pub fn hint(s: &Snapshot, width: usize) -> String {
    let texts: Vec<String> = match s.phase {
        Phase::Running => vec![
            "running - q, Esc or Ctrl-C: stop producing and drain  ?: keys".into(),
            "running - q: stop and drain  ?: keys".into(),
            "q: stop and drain  ?: keys".into(),
            "q: stop  ?: keys".into(),
            "q: stop".into(),
        ],
        Phase::Draining => {
            let left = s.depth();
            vec![
                format!("draining: {left} left - q to quit now  ?: keys"),
                format!("draining: {left} left - q to quit now"),
                format!("draining: {left} left - q: quit"),
                format!("draining: {left} left"),
                format!("{left} left"),
            ]
        }
        Phase::Done => vec!["done".into()],
    };
    first_that_fits(&texts, width)
}
