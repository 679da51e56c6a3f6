//! The picture, as pure functions of a [`Snapshot`]: the original's gauge for the
//! live display and a logfmt line for plain output. Nothing here does I/O, so
//! every frame can be checked line by line in tests.
//!
//! ```text
//!                                      P:1234
//!                                      |
//! 0123456789012345678901234567890123456789...
//!                |
//!                C:1115
//!                                                                                                      |
//!                                                                                                      B:100
//! ```
//! The producer's latest message `n` sits at column `n mod 100` above the scale,
//! the consumer's below it; the gap from C forward to P, around the ring, is the
//! buffer, whose depth `d` is marked at column `d`. Under the gauge: the live
//! counts, the rates over the last few seconds, the cost of blocking, and a
//! sparkline of the depth.

use crate::live::buffer::depth;
use crate::live::counters::ProducerState;
use crate::stats::Rates;
use crate::units::seconds;

/// Columns of the scale at full size: the original's `0123456789` ten times.
pub const SCALE_COLUMNS: usize = 100;
/// Room kept right of the scale for labels such as `B:100` or ` 1000`.
const LABEL_ROOM: usize = 10;
/// Below this width the gauge cannot be drawn legibly.
pub const MIN_WIDTH: usize = 20;

/// Where the run is, as far as the picture is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The producer is producing.
    Running,
    /// The producer has stopped; the consumer is emptying the buffer.
    Draining,
    /// Both have finished.
    Done,
}

/// Which characters the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Glyphs {
    /// UTF-8: λ μ ρ and the sparkline's ▁▂▃▄▅▆▇█.
    Unicode,
    /// Anything else: words and `_.:-=+*#`.
    Ascii,
}

/// Depth history shown by the sparkline: one column per second of model time.
pub const HISTORY_SECONDS: usize = 60;

/// Everything a frame shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub capacity: u64,
    /// Messages produced so far (the latest is `produced - 1`).
    pub produced: u64,
    /// Messages consumed so far (the latest is `consumed - 1`).
    pub consumed: u64,
    pub full_count: u64,
    /// Messages a drop policy discarded; 0 with `block`.
    pub dropped: u64,
    /// Whole seconds of model time since the start.
    pub elapsed_s: u64,
    pub phase: Phase,
    pub producer: ProducerState,
    /// λ and μ over the last few seconds of model time.
    pub rates: Rates,
    /// Model seconds the producer waited on a full buffer: the 99th percentile and the longest.
    pub blocked_p99_s: Option<f64>,
    pub blocked_max_s: Option<f64>,
    /// The most messages ever in the buffer.
    pub high_water: u64,
    /// Model seconds the oldest message in the buffer has waited (measured
    /// from when it entered); `None` when it is empty.
    pub oldest_age_s: Option<f64>,
    /// The deepest the buffer was in each of the last seconds, oldest first.
    pub history: Vec<u64>,
    pub glyphs: Glyphs,
    /// The most model time a thread was behind its ideal schedule.
    pub schedule_lag_s: f64,
    /// Whether the run kept the model's pace; if not, the figures are flagged.
    pub faithful: bool,
    /// During a `--stall`: the model second the consumers resume.
    pub stalled_until_s: Option<f64>,
}

/// A line of the frame; an alert line is shown in colour where colour is on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Line {
    pub text: String,
    pub alert: bool,
}

impl Line {
    fn plain(text: impl Into<String>) -> Line {
        Line {
            text: text.into(),
            alert: false,
        }
    }
}

impl Snapshot {
    /// Messages in the buffer.
    pub fn depth(&self) -> u64 {
        depth(
            self.produced.saturating_sub(self.dropped),
            self.consumed,
            self.capacity,
        )
    }

    /// How far behind the writer is: the time it needs to clear the buffer at
    /// its current service rate.
    pub fn catch_up_s(&self) -> Option<f64> {
        self.rates
            .service
            .filter(|mu| *mu > 0.0)
            .map(|mu| self.depth() as f64 / mu)
    }

    fn bottleneck(&self) -> bool {
        self.rates.utilisation().is_some_and(|rho| rho >= 1.0)
    }
}

/// The frame for a terminal of `width` × `height`: at most `height` lines, none
/// longer than `width` characters, for any size including 0 × 0.
pub fn render(s: &Snapshot, width: usize, height: usize) -> Vec<Line> {
    let mut lines = if width < MIN_WIDTH {
        vec![Line::plain(format!(
            "terminal too narrow: burstbuf needs {MIN_WIDTH} columns"
        ))]
    } else {
        let mut lines: Vec<Line> = gauge(s, scale_columns(width))
            .into_iter()
            .map(Line::plain)
            .collect();
        lines.push(Line::default());
        lines.push(Line {
            text: status(s),
            alert: s.producer == ProducerState::Blocked
                || !s.faithful
                || s.stalled_until_s.is_some(),
        });
        lines.push(Line {
            text: rates(s),
            alert: s.bottleneck(),
        });
        lines.push(Line::plain(costs(s)));
        lines.push(Line::plain(format!(
            "depth {} last {HISTORY_SECONDS}s",
            sparkline(&s.history, s.capacity, s.glyphs)
        )));
        lines.push(Line::plain(hint(s)));
        lines
    };
    lines.truncate(height);
    for line in &mut lines {
        if let Some((cut, _)) = line.text.char_indices().nth(width) {
            line.text.truncate(cut);
        }
    }
    lines
}

/// The scale is the original's 100 columns when they fit with room for labels, and
/// shrinks to fit a narrower terminal.
fn scale_columns(width: usize) -> usize {
    width.saturating_sub(LABEL_ROOM).min(SCALE_COLUMNS)
}

/// The seven lines of the original's picture, on a scale of `columns` columns.
fn gauge(s: &Snapshot, columns: usize) -> Vec<String> {
    let ring = |count: u64| {
        // The latest message, if any, at its slot around the ring.
        count
            .checked_sub(1)
            .map(|latest| (column(latest % s.capacity, s.capacity, columns), latest))
    };
    let (p_tick, p_label) = markers(ring(s.produced), "P");
    let (c_tick, c_label) = markers(ring(s.consumed), "C");
    let depth = s.depth();
    let (b_tick, b_label) = markers(Some((column(depth, s.capacity, columns), depth)), "B");
    vec![
        p_label,
        p_tick,
        scale(s.capacity, columns),
        c_tick,
        c_label,
        b_tick,
        b_label,
    ]
}

/// The column of `slot` (0..=capacity) on a scale of `columns` columns.
fn column(slot: u64, capacity: u64, columns: usize) -> usize {
    (slot * columns as u64 / capacity) as usize
}

/// A `|` tick and a `name:value` label at a column; blank lines if there is nothing to mark.
fn markers(at: Option<(usize, u64)>, name: &str) -> (String, String) {
    match at {
        Some((column, value)) => {
            let pad = " ".repeat(column);
            (format!("{pad}|"), format!("{pad}{name}:{value}"))
        }
        None => (String::new(), String::new()),
    }
}

/// The original's `0123456789` ten times at the default size; otherwise a ruler with
/// a `+` every tenth, its ends labelled 0 and the capacity.
fn scale(capacity: u64, columns: usize) -> String {
    if capacity == 100 && columns == SCALE_COLUMNS {
        return "0123456789".repeat(10);
    }
    let ruler: String = (0..columns)
        .map(|i| match i {
            0 => '0',
            // the first column of each tenth of the scale
            _ if i * 10 / columns != (i - 1) * 10 / columns => '+',
            _ => '-',
        })
        .collect();
    format!("{ruler} {capacity}")
}

fn status(s: &Snapshot) -> String {
    // First, so that a narrow terminal still shows it.
    let flag = if s.faithful {
        String::new()
    } else {
        format!("NOT FAITHFUL (lag {})  ", seconds(s.schedule_lag_s))
    };
    format!(
        "{flag}{}s  produced {}  consumed {}  buffer {}/{}  full {} times  producer {}",
        s.elapsed_s,
        s.produced,
        s.consumed,
        s.depth(),
        s.capacity,
        s.full_count,
        producer_word(s.producer),
    ) + &(if s.dropped > 0 {
        format!("  dropped {}", s.dropped)
    } else {
        String::new()
    }) + &s.stalled_until_s.map_or(String::new(), |until| {
        format!("  consumers STALLED until {}", seconds(until))
    })
}

fn producer_word(state: ProducerState) -> &'static str {
    match state {
        ProducerState::Sending => "sending",
        ProducerState::Pausing => "pausing (burst)",
        ProducerState::Blocked => "BLOCKED",
        ProducerState::Stopped => "stopped",
    }
}

fn rates(s: &Snapshot) -> String {
    let [lambda, mu, rho] = match s.glyphs {
        Glyphs::Unicode => ["λ", "μ", "ρ"],
        Glyphs::Ascii => ["lambda", "mu", "rho"],
    };
    let per_s = |r: Option<f64>| r.map_or("-".into(), |r| format!("{r:.1}/s"));
    let rho_value = s
        .rates
        .utilisation()
        .map_or("-".into(), |rho| format!("{rho:.2}"));
    let flag = if s.bottleneck() {
        "  consumer is the bottleneck"
    } else {
        ""
    };
    format!(
        "{lambda} {}  {mu} {}  {rho} {rho_value}{flag}   (last 5s)",
        per_s(s.rates.arrival),
        per_s(s.rates.service)
    )
}

fn costs(s: &Snapshot) -> String {
    let time = |t: Option<f64>| t.map_or("-".into(), seconds);
    format!(
        "blocked p99 {}  max {}  catch-up {}  high-water {}/{}  oldest {}",
        time(s.blocked_p99_s),
        time(s.blocked_max_s),
        time(s.catch_up_s()),
        s.high_water,
        s.capacity,
        time(s.oldest_age_s),
    )
}

/// One character per value, from empty to `max`.
pub fn sparkline(values: &[u64], max: u64, glyphs: Glyphs) -> String {
    let ramp: &[char] = match glyphs {
        Glyphs::Unicode => &['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'],
        Glyphs::Ascii => &['_', '.', ':', '-', '=', '+', '*', '#'],
    };
    let top = (ramp.len() - 1) as u64;
    values
        .iter()
        .map(|v| ramp[(v.min(&max) * top).checked_div(max).unwrap_or(0) as usize])
        .collect()
}

fn hint(s: &Snapshot) -> String {
    match s.phase {
        Phase::Running => "running - q, Esc or Ctrl-C: stop producing and drain".into(),
        Phase::Draining => format!("draining: {} left - q to quit now", s.depth()),
        Phase::Done => "done".into(),
    }
}

/// One logfmt line for plain output, at `t` seconds of model time.
pub fn logfmt(s: &Snapshot, t: f64) -> String {
    let number = |x: Option<f64>, digits: usize| x.map_or("-".into(), |x| format!("{x:.digits$}"));
    format!(
        "t={t:.1}s produced={} consumed={} depth={}/{} full={} lambda={} mu={} rho={} \
         blocked_p99={} high_water={} oldest_age={} producer={} faithful={} schedule_lag={:.3}s",
        s.produced,
        s.consumed,
        s.depth(),
        s.capacity,
        s.full_count,
        number(s.rates.arrival, 2),
        number(s.rates.service, 2),
        number(s.rates.utilisation(), 2),
        s.blocked_p99_s.map_or("-".into(), |t| format!("{t:.3}s")),
        s.high_water,
        s.oldest_age_s.map_or("-".into(), |t| format!("{t:.3}s")),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(capacity: u64, produced: u64, consumed: u64) -> Snapshot {
        Snapshot {
            capacity,
            produced,
            consumed,
            full_count: 3,
            elapsed_s: 12,
            phase: Phase::Running,
            producer: ProducerState::Sending,
            rates: Rates {
                arrival: Some(8.25),
                service: Some(3.3),
            },
            blocked_p99_s: Some(0.3),
            blocked_max_s: Some(0.31),
            high_water: 100,
            oldest_age_s: Some(7.5),
            history: vec![0, 50, 100],
            glyphs: Glyphs::Unicode,
            schedule_lag_s: 0.0004,
            faithful: true,
            stalled_until_s: None,
            dropped: 0,
        }
    }

    fn texts(lines: Vec<Line>) -> Vec<String> {
        lines.into_iter().map(|l| l.text).collect()
    }

    fn draw(s: &Snapshot, width: usize, height: usize) -> Vec<String> {
        texts(render(s, width, height))
    }

    fn at(column: usize, text: &str) -> String {
        format!("{}{text}", " ".repeat(column))
    }

    const DIGITS: &str = "0123456789";

    #[test]
    fn the_seeds_picture_at_120_columns() {
        let lines = draw(&snapshot(100, 38, 13), 120, 30);
        assert_eq!(
            lines,
            vec![
                at(37, "P:37"),
                at(37, "|"),
                DIGITS.repeat(10),
                at(12, "|"),
                at(12, "C:12"),
                at(25, "|"),
                at(25, "B:25"),
                String::new(),
                "12s  produced 38  consumed 13  buffer 25/100  full 3 times  producer sending"
                    .into(),
                "λ 8.2/s  μ 3.3/s  ρ 2.50  consumer is the bottleneck   (last 5s)".into(),
                "blocked p99 300ms  max 310ms  catch-up 7.6s  high-water 100/100  oldest 7.5s"
                    .into(),
                "depth ▁▄█ last 60s".into(),
                "running - q, Esc or Ctrl-C: stop producing and drain".into(),
            ]
        );
    }

    #[test]
    fn positions_wrap_at_100_but_the_depth_does_not() {
        let lines = draw(&snapshot(100, 1234, 1134), 120, 30);
        assert_eq!(lines[0], at(33, "P:1233"));
        assert_eq!(lines[1], at(33, "|"));
        assert_eq!(lines[3], at(33, "|"));
        assert_eq!(lines[4], at(33, "C:1133"));
        assert_eq!(
            lines[5],
            at(100, "|"),
            "a full buffer sits just past the scale"
        );
        assert_eq!(lines[6], at(100, "B:100"));
    }

    #[test]
    fn an_empty_buffer_and_a_fresh_run() {
        let fresh = draw(&snapshot(100, 0, 0), 120, 30);
        assert_eq!(fresh[0], "");
        assert_eq!(fresh[1], "");
        assert_eq!(fresh[3], "");
        assert_eq!(fresh[5], "|");
        assert_eq!(fresh[6], "B:0");
        let drained = draw(&snapshot(100, 500, 500), 120, 30);
        assert_eq!(drained[0], at(99, "P:499"));
        assert_eq!(drained[4], at(99, "C:499"));
        assert_eq!(drained[6], "B:0");
    }

    #[test]
    fn depth_stays_within_the_buffer_whatever_order_events_arrive_in() {
        assert_eq!(snapshot(100, 5, 9).depth(), 0);
        assert_eq!(snapshot(100, 500, 0).depth(), 100);
        assert_eq!(snapshot(100, 50, 20).depth(), 30);
    }

    #[test]
    fn other_capacities_are_scaled_onto_the_100_columns() {
        let lines = draw(&snapshot(1000, 1251, 1001), 120, 30);
        // Latest produced 1250 → slot 250 → column 25; consumed 1000 → slot 0.
        assert_eq!(lines[0], at(25, "P:1250"));
        assert_eq!(lines[4], "C:1000");
        assert_eq!(lines[6], at(25, "B:250"));
        let scale = &lines[2];
        assert!(scale.starts_with("0---------+---------+"), "{scale}");
        assert!(scale.ends_with("+--------- 1000"), "{scale}");
        assert_eq!(scale.chars().count(), 100 + " 1000".len());

        let small = draw(&snapshot(4, 7, 4), 120, 30);
        assert_eq!(small[0], at(50, "P:6"), "slot 2 of 4 is column 50");
        assert_eq!(small[6], at(75, "B:3"));
        assert!(small[2].ends_with(" 4"));
    }

    #[test]
    fn every_size_fits_without_panicking() {
        let s = snapshot(100, 98765, 98700);
        for (width, height) in [
            (0, 0),
            (1, 1),
            (0, 30),
            (120, 0),
            (20, 5),
            (80, 24),
            (120, 30),
        ] {
            let lines = draw(&s, width, height);
            assert!(lines.len() <= height, "{width}x{height}: {lines:?}");
            for line in &lines {
                assert!(line.chars().count() <= width, "{width}x{height}: {line:?}");
            }
        }
        assert_eq!(draw(&s, 1, 1), vec!["t".to_string()]);
        assert_eq!(draw(&s, 0, 3), vec![String::new()]);
    }

    #[test]
    fn a_narrow_terminal_gets_a_shrunken_scale() {
        let lines = draw(&snapshot(100, 51, 1), 80, 24);
        // 70 columns: slot 50 of 100 → column 35.
        assert_eq!(lines[0], at(35, "P:50"));
        assert!(lines[2].starts_with("0------+------+"), "{}", lines[2]);
        assert!(lines[2].ends_with("+------ 100"), "{}", lines[2]);
        assert_eq!(lines[2].chars().count(), 70 + " 100".len());
        assert_eq!(lines[6], at(35, "B:50"));

        let tiny = draw(&snapshot(100, 51, 1), 20, 24);
        assert_eq!(tiny[2], "0+++++++++ 100");
        assert!(tiny.iter().all(|l| l.chars().count() <= 20));
        assert_eq!(
            draw(&snapshot(100, 51, 1), 19, 24),
            vec!["terminal too narrow".to_string()]
        );
    }

    #[test]
    fn the_hint_follows_the_phase() {
        let mut s = snapshot(100, 120, 80);
        s.phase = Phase::Draining;
        assert_eq!(draw(&s, 120, 30)[12], "draining: 40 left - q to quit now");
        s.phase = Phase::Done;
        assert_eq!(draw(&s, 120, 30)[12], "done");
    }

    #[test]
    fn logfmt_line() {
        assert_eq!(
            logfmt(&snapshot(100, 150, 10), 3.04),
            "t=3.0s produced=150 consumed=10 depth=100/100 full=3 lambda=8.25 mu=3.30 rho=2.50 \
             blocked_p99=0.300s high_water=100 oldest_age=7.500s producer=sending faithful=true schedule_lag=0.000s"
        );
        let mut idle = snapshot(100, 0, 0);
        idle.rates = Rates::default();
        idle.blocked_p99_s = None;
        idle.producer = ProducerState::Blocked;
        assert!(logfmt(&idle, 0.0).contains("lambda=- mu=- rho=- blocked_p99=- "));
        assert!(logfmt(&idle, 0.0).contains(" producer=blocked "));
    }

    #[test]
    fn alerts_and_ascii() {
        let mut s = snapshot(100, 300, 100);
        s.producer = ProducerState::Blocked;
        s.glyphs = Glyphs::Ascii;
        let lines = render(&s, 120, 30);
        assert!(lines[8].alert && lines[8].text.ends_with("producer BLOCKED"));
        assert!(lines[9].alert);
        assert!(
            lines[9]
                .text
                .starts_with("lambda 8.2/s  mu 3.3/s  rho 2.50")
        );
        assert_eq!(lines[11].text, "depth _-# last 60s");
        assert!(lines.iter().all(|l| l.text.is_ascii()));
        s.rates.service = Some(20.0);
        let lines = render(&s, 120, 30);
        assert!(!lines[9].alert, "rho < 1 is no alert");
        assert!(!lines[9].text.contains("bottleneck"));
    }

    #[test]
    fn an_unfaithful_run_is_flagged_on_the_status_line_and_in_plain_lines() {
        let mut s = snapshot(100, 38, 13);
        s.faithful = false;
        s.schedule_lag_s = 1.31;
        let lines = render(&s, 120, 30);
        assert!(lines[8].alert);
        assert_eq!(
            lines[8].text,
            "NOT FAITHFUL (lag 1.3s)  12s  produced 38  consumed 13  buffer 25/100  full 3 times  \
             producer sending"
        );
        assert!(
            logfmt(&s, 3.0).ends_with(" faithful=false schedule_lag=1.310s"),
            "{}",
            logfmt(&s, 3.0)
        );
    }

    #[test]
    fn sparkline_glyph_sets() {
        let depths = [0, 12, 25, 37, 50, 62, 75, 87, 100, 150];
        assert_eq!(sparkline(&depths, 100, Glyphs::Unicode), "▁▁▂▃▄▅▆▇██");
        assert_eq!(sparkline(&depths, 100, Glyphs::Ascii), "__.:-=+*##");
        assert_eq!(sparkline(&[], 100, Glyphs::Ascii), "");
        assert_eq!(sparkline(&[0, 1], 1, Glyphs::Ascii), "_#");
    }
}
