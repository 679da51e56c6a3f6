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
//! counts, the rates over the last few seconds, the cost of blocking, a
//! sparkline of the depth, and what the keys do (or, after `?`, every key).
//!
//! # Narrower terminals
//! From 110 columns down the scale shrinks (a ruler, `+` every tenth, ending in
//! the capacity), and a marker's label that would run past the right edge is
//! moved left to end at it. Each text line drops whole fields, never part of
//! one, in this order (least important first):
//!
//! - status: `produced`, `consumed`, the elapsed seconds, `dropped`, the word
//!   `producer` (its state stays), `full N times`, the stall's `until`, the
//!   producer's state, `STALLED`, the lag of the `NOT FAITHFUL` flag,
//!   `buffer d/capacity`, and last the flag itself;
//! - rates: `(last 5s)`, `consumer is the bottleneck` (first shortened to
//!   `bottleneck`), λ, μ, ρ;
//! - costs: `high-water`, `catch-up`, `max`, `oldest`, `blocked p99`;
//! - the sparkline keeps its latest seconds and says how many;
//! - the hint and the keys are said in fewer words, down to `q: stop`.
//!
//! The depth is never shown cut: `B:<d>`, `buffer d/capacity` and `draining: d
//! left` are shown whole or not at all, and `B:<d>` always is from
//! [`MIN_WIDTH`] columns up. Below that, a whole-word message that fits
//! (`terminal too narrow: burstbuf needs 20 columns`, down to `too narrow`), or nothing.
//!
//! # Pace
//! The gauge and the status line show the latest reading; the figures lines
//! (rates, costs, sparkline) a reading at most a quarter of a second older,
//! all three the same one ([`pace`]).

mod fit;
mod keys;
mod lines;
mod logfmt;
pub mod pace;
mod picture;

pub use lines::sparkline;
pub use logfmt::logfmt;
pub use pace::{FIGURES_EVERY, Pace};
pub use picture::SCALE_COLUMNS;

use crate::live::counters::ProducerState;
use fit::first_that_fits;

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
    pub glyphs: Glyphs,
    /// The most model time a thread was behind its ideal schedule.
    pub schedule_lag_s: f64,
    /// Whether the run kept the model's pace; if not, the figures are flagged.
    pub faithful: bool,
    /// During a `--stall`: the model second the consumers resume.
    pub stalled_until_s: Option<f64>,
    /// Once `+` or `-` was pressed: the consumers in effect, and those asked
    /// for (more or fewer until a consumer between messages acts on it).
    pub consumers: Option<(u32, u32)>,
    /// Whether the keys are listed (`?`) in place of the hint.
    pub keys: bool,
    /// The figures lines: of the same reading, or on the live gauge of one
    /// up to [`FIGURES_EVERY`] older ([`Pace`]).
    pub figures: Figures,
}

/// The figures under the status line: the ones that move by themselves.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Figures {
    /// λ over the last few seconds of model time.
    pub arrival: Option<f64>,
    /// μ over the same seconds.
    pub service: Option<f64>,
    /// ρ = λ/μ, of the values before they were rounded for showing.
    pub utilisation: Option<f64>,
    /// Model seconds the producer waited on a full buffer: the 99th percentile and the longest.
    pub blocked_p99_s: Option<f64>,
    pub blocked_max_s: Option<f64>,
    /// The most messages ever in the buffer.
    pub high_water: u64,
    /// How far behind the writer is: the depth over μ, the time it needs to
    /// clear the buffer at its current service rate.
    pub catch_up_s: Option<f64>,
    /// Model seconds the oldest message in the buffer has waited (measured
    /// from when it entered); `None` when it is empty.
    pub oldest_age_s: Option<f64>,
    /// The deepest the buffer was in each of the last seconds, oldest first.
    pub history: Vec<u64>,
}

impl Figures {
    /// The catch-up time for `depth` messages at `service` per second.
    pub fn catch_up_s(depth: u64, service: Option<f64>) -> Option<f64> {
        service.filter(|mu| *mu > 0.0).map(|mu| depth as f64 / mu)
    }

    fn bottleneck(&self) -> bool {
        self.utilisation.is_some_and(|rho| rho >= 1.0)
    }
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
        // Counts a reading may have taken at different moments: clamped to
        // the buffer's real bounds.
        (self.produced.saturating_sub(self.dropped))
            .saturating_sub(self.consumed)
            .min(self.capacity)
    }
}

/// The frame for a terminal of `width` × `height`: at most `height` lines, none
/// wider than `width` columns, no word cut, for any size including 0 × 0.
pub fn render(s: &Snapshot, width: usize, height: usize) -> Vec<Line> {
    let mut frame = if width < MIN_WIDTH {
        let message = first_that_fits(
            &[
                format!("terminal too narrow: burstbuf needs {MIN_WIDTH} columns"),
                format!("too narrow: needs {MIN_WIDTH} columns"),
                format!("needs {MIN_WIDTH} columns"),
                "too narrow".into(),
            ],
            width,
        );
        if message.is_empty() {
            vec![]
        } else {
            vec![Line::plain(message)]
        }
    } else {
        let mut frame: Vec<Line> = picture::gauge(s, width)
            .into_iter()
            .map(Line::plain)
            .collect();
        frame.push(Line::default());
        let mut figures = vec![
            Line {
                text: lines::status(s, width),
                alert: s.producer == ProducerState::Blocked
                    || !s.faithful
                    || s.stalled_until_s.is_some(),
            },
            Line {
                text: lines::rates(&s.figures, s.glyphs, width),
                alert: s.figures.bottleneck(),
            },
            Line::plain(lines::costs(s, width)),
            Line::plain(lines::depth_line(s, width)),
        ];
        let tail: Vec<Line> = if s.keys {
            // Asked for, the keys are kept over the figures on a short terminal.
            let keys: Vec<Line> = keys::keys(s, width).into_iter().map(Line::plain).collect();
            let room = height.saturating_sub(frame.len() + keys.len());
            figures.truncate(room);
            keys
        } else {
            vec![Line::plain(lines::hint(s, width))]
        };
        frame.extend(figures);
        frame.extend(tail);
        frame
    };
    frame.truncate(height);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn snapshot(capacity: u64, produced: u64, consumed: u64) -> Snapshot {
        let mut s = Snapshot {
            capacity,
            produced,
            consumed,
            full_count: 3,
            elapsed_s: 12,
            phase: Phase::Running,
            producer: ProducerState::Sending,
            glyphs: Glyphs::Unicode,
            schedule_lag_s: 0.0004,
            faithful: true,
            stalled_until_s: None,
            consumers: None,
            dropped: 0,
            keys: false,
            figures: Figures {
                arrival: Some(8.25),
                service: Some(3.3),
                utilisation: Some(2.5),
                blocked_p99_s: Some(0.3),
                blocked_max_s: Some(0.31),
                high_water: 100,
                catch_up_s: None,
                oldest_age_s: Some(7.5),
                history: vec![0, 50, 100],
            },
        };
        s.figures.catch_up_s = Figures::catch_up_s(s.depth(), s.figures.service);
        s
    }

    /// The README's frame: 25 seconds into a default run with `--seed 7`.
    fn seed_7_at_25s() -> Snapshot {
        let mut s = snapshot(100, 182, 82);
        s.full_count = 10;
        s.elapsed_s = 25;
        s.producer = ProducerState::Blocked;
        s.figures = Figures {
            arrival: Some(11.5),
            service: Some(3.3),
            utilisation: Some(3.44),
            blocked_p99_s: Some(0.28),
            blocked_max_s: Some(0.28),
            high_water: 100,
            catch_up_s: Some(29.9),
            oldest_age_s: Some(14.4),
            history: vec![
                0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60, 64, 68, 72, 76, 80,
                84, 88, 92, 100, 100,
            ],
        };
        s
    }

    /// Every field there is: an unfaithful, stalled run with a drop policy.
    fn every_field() -> Snapshot {
        let mut s = seed_7_at_25s();
        s.faithful = false;
        s.schedule_lag_s = 1.31;
        s.dropped = 17;
        s.stalled_until_s = Some(40.0);
        s
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

    /// A frame as a snapshot shows it: a ruler as wide as the terminal, then the lines.
    fn shown(s: &Snapshot, width: usize) -> String {
        let mut text = format!("{}\n", "-".repeat(width));
        for line in render(s, width, 30) {
            text += &line.text;
            text += if line.alert { "   <- alert\n" } else { "\n" };
        }
        text
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
                "λ 8.2/s  μ 3.3/s  ρ 2.50  consumer is the bottleneck  (last 5s)".into(),
                "blocked p99 300ms  max 310ms  catch-up 7.6s  high-water 100/100  oldest 7.5s"
                    .into(),
                "depth ▁▄█ last 60s".into(),
                "running - q, Esc or Ctrl-C: stop producing and drain  ?: keys".into(),
            ]
        );
    }

    #[test]
    fn the_frame_at_120_80_60_40_and_20_columns() {
        for width in [120, 80, 60, 40, 20] {
            insta::assert_snapshot!(format!("seed_7_at_{width}"), shown(&seed_7_at_25s(), width));
        }
    }

    #[test]
    fn every_field_giving_way_in_order() {
        let s = every_field();
        let all: String = [160, 120, 100, 80, 60, 40, 30, 20]
            .iter()
            .map(|&width| shown(&s, width))
            .collect();
        insta::assert_snapshot!(all);
    }

    #[test]
    fn the_keys_at_120_40_and_20_columns_and_while_draining() {
        let mut s = seed_7_at_25s();
        s.keys = true;
        let mut all: String = [120, 40, 20]
            .iter()
            .map(|&width| shown(&s, width))
            .collect();
        s.phase = Phase::Draining;
        all += &shown(&s, 80);
        insta::assert_snapshot!(all);
    }

    #[test]
    fn the_consumer_count_shows_once_the_keys_changed_it() {
        let status = |s: &Snapshot, width| {
            draw(s, width, 30)
                .into_iter()
                .find(|l| l.contains("buffer 100/100"))
                .unwrap()
        };
        let mut s = seed_7_at_25s();
        assert!(
            !status(&s, 120).contains("consumers"),
            "the original's picture"
        );
        s.consumers = Some((1, 2));
        assert!(
            status(&s, 120).contains("consumers 1 (to 2)"),
            "{}",
            status(&s, 120)
        );
        s.consumers = Some((2, 2));
        assert!(
            status(&s, 120).contains("  consumers 2"),
            "{}",
            status(&s, 120)
        );
        // It gives way before the producer's state.
        let narrow = status(&s, 50);
        assert!(narrow.contains("producer BLOCKED"), "{narrow}");
        assert!(!narrow.contains("consumers"), "{narrow}");
    }

    #[test]
    fn on_a_short_terminal_the_keys_are_kept_over_the_figures() {
        let mut s = seed_7_at_25s();
        s.keys = true;
        let lines = draw(&s, 120, 13);
        assert_eq!(lines.len(), 13);
        assert_eq!(lines[8], "keys (? again or any other key hides them)");
        assert_eq!(lines[12], "?: show or hide these keys");
        assert!(
            lines[10].contains(&format!("(1 to {})", crate::live::crew::MOST)),
            "{}",
            lines[10]
        );
        let taller = draw(&s, 120, 14);
        assert!(taller[8].starts_with("25s  "), "room for the status line");
        assert_eq!(taller[9], lines[8]);
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
        assert_eq!(
            draw(&s, 1, 1),
            Vec::<String>::new(),
            "no word fits: nothing"
        );
        assert_eq!(draw(&s, 0, 3), Vec::<String>::new());
        assert_eq!(draw(&s, 10, 3), vec!["too narrow".to_string()]);
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
            vec!["needs 20 columns".to_string()]
        );
        assert_eq!(
            draw(&snapshot(100, 51, 1), 46, 0),
            Vec::<String>::new(),
            "no rows"
        );
    }

    #[test]
    fn the_issues_narrow_terminals_show_whole_fields() {
        let full = snapshot(100, 300, 200);
        // At 40 columns the depth was cut to `buffer 1` beside `B:100`.
        let lines = draw(&full, 40, 30);
        assert_eq!(lines[6], at(30, "B:100"));
        assert_eq!(lines[8], "buffer 100/100  full 3 times  sending");
        // At 60 the producer's state was cut to `p`.
        assert_eq!(
            draw(&full, 60, 30)[8],
            "12s  buffer 100/100  full 3 times  producer sending"
        );
        // At 15, `terminal too na`.
        assert_eq!(draw(&full, 15, 30), vec!["too narrow".to_string()]);
    }

    #[test]
    fn the_hint_follows_the_phase() {
        let mut s = snapshot(100, 120, 80);
        s.phase = Phase::Draining;
        assert_eq!(
            draw(&s, 120, 30)[12],
            "draining: 40 left - q to quit now  ?: keys"
        );
        assert_eq!(draw(&s, 20, 30)[12], "draining: 40 left");
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
        idle.figures.arrival = None;
        idle.figures.service = None;
        idle.figures.utilisation = None;
        idle.figures.blocked_p99_s = None;
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
        s.figures.utilisation = Some(0.41);
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
        for width in MIN_WIDTH..200 {
            assert!(
                render(&s, width, 30)[8].text.starts_with("NOT FAITHFUL"),
                "the flag goes last, at {width}"
            );
        }
    }

    #[test]
    fn sparkline_glyph_sets() {
        let depths = [0, 12, 25, 37, 50, 62, 75, 87, 100, 150];
        assert_eq!(sparkline(&depths, 100, Glyphs::Unicode), "▁▁▂▃▄▅▆▇██");
        assert_eq!(sparkline(&depths, 100, Glyphs::Ascii), "__.:-=+*##");
        assert_eq!(sparkline(&[], 100, Glyphs::Ascii), "");
        assert_eq!(sparkline(&[0, 1], 1, Glyphs::Ascii), "_#");
        assert_eq!(sparkline(&[u64::MAX], u64::MAX, Glyphs::Ascii), "#");
    }

    #[test]
    fn a_narrow_sparkline_keeps_the_latest_seconds() {
        let s = seed_7_at_25s();
        assert_eq!(draw(&s, 20, 30)[11], "depth ▆▆▇▇██ last 6s");
        assert_eq!(
            draw(&s, 40, 30)[11],
            "depth ▁▁▁▂▂▂▂▃▃▃▄▄▄▄▅▅▅▆▆▆▆▇▇██ last 25s"
        );
    }

    /// The numbers that follow `prefix` in `line`, each as written whole.
    fn numbers_after<'a>(line: &'a str, prefix: &str) -> Vec<&'a str> {
        line.match_indices(prefix)
            .map(|(i, _)| {
                let rest = &line[i + prefix.len()..];
                let end = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                &rest[..end]
            })
            .collect()
    }

    /// What must hold of any frame at any size: it fits, and every depth it
    /// shows is the snapshot's, whole (`B:<d>` from `MIN_WIDTH` up); each
    /// text line's words are words of the same line at full width, so no
    /// word was cut.
    fn check(s: &Snapshot, width: usize, height: usize) -> Result<(), TestCaseError> {
        let lines = draw(s, width, height);
        let wide = draw(s, 1000, 30);
        let depth = s.depth().to_string();
        prop_assert!(lines.len() <= height);
        for (row, line) in lines.iter().enumerate() {
            prop_assert!(fit::columns(line) <= width, "{width}: {line:?}");
            for (prefix, after) in [("B:", ""), ("buffer ", "/"), ("draining: ", " left")] {
                for (i, number) in numbers_after(line, prefix).into_iter().enumerate() {
                    prop_assert_eq!(number, &depth, "{}: {:?}", width, line);
                    let end =
                        line.match_indices(prefix).nth(i).unwrap().0 + prefix.len() + number.len();
                    prop_assert!(line[end..].starts_with(after), "{width}: {line:?}");
                }
            }
            // The status, rates and costs lines: whole words of the wide frame's.
            if width >= MIN_WIDTH && !s.keys && (8..=10).contains(&row) {
                let words: Vec<&str> = wide[row].split(' ').collect();
                for word in line.split(' ') {
                    prop_assert!(words.contains(&word), "{width}: {word:?} of {line:?}");
                }
            }
        }
        if width >= MIN_WIDTH && height >= 7 && s.capacity > 0 {
            let label = format!("B:{depth}");
            if fit::columns(&label) <= width {
                prop_assert_eq!(lines[6].trim_start(), label.as_str());
            }
        }
        Ok(())
    }

    #[test]
    fn at_every_width_from_1_to_200_the_frame_fits_and_shows_the_depth_whole() {
        let mut full = snapshot(100, 98_765, 98_600);
        full.producer = ProducerState::Pausing;
        let mut draining = every_field();
        draining.phase = Phase::Draining;
        let mut keys = seed_7_at_25s();
        keys.keys = true;
        let mut crew = every_field();
        crew.consumers = Some((2, 3));
        for s in [seed_7_at_25s(), every_field(), full, draining, keys, crew] {
            for width in 1..=200 {
                check(&s, width, 30).unwrap();
            }
        }
    }

    fn any_snapshot() -> impl Strategy<Value = Snapshot> {
        let counts = (1..=u64::MAX, any::<u64>(), any::<u64>(), any::<u64>());
        let figures = (
            proptest::option::of(0.0..1e9f64),
            proptest::option::of(0.0..1e9f64),
            proptest::option::of(0.0..1e6f64),
            any::<u64>(),
            proptest::collection::vec(any::<u64>(), 0..=HISTORY_SECONDS),
        );
        let flags = (any::<bool>(), any::<bool>(), any::<bool>(), 0..3u8, 0..4u8);
        (counts, figures, flags).prop_map(
            |((capacity, a, b, full), (lambda, mu, wait, high, history), flags)| {
                let (faithful, stalled, keys, phase, producer) = flags;
                let (produced, consumed) = (a.max(b), a.min(b));
                let mut s = snapshot(capacity, produced, consumed);
                s.full_count = full;
                s.dropped = if stalled { full.min(produced) } else { 0 };
                s.elapsed_s = full / 3;
                s.faithful = faithful;
                s.schedule_lag_s = wait.unwrap_or(0.0);
                s.stalled_until_s = stalled.then_some(1e7);
                s.keys = keys;
                s.phase = [Phase::Running, Phase::Draining, Phase::Done][usize::from(phase)];
                s.producer = [
                    ProducerState::Sending,
                    ProducerState::Pausing,
                    ProducerState::Blocked,
                    ProducerState::Stopped,
                ][usize::from(producer)];
                s.figures = Figures {
                    arrival: lambda,
                    service: mu,
                    utilisation: lambda.zip(mu).map(|(l, m)| l / m),
                    blocked_p99_s: wait,
                    blocked_max_s: wait.map(|w| w * 2.0),
                    high_water: high,
                    catch_up_s: Figures::catch_up_s(s.depth(), mu),
                    oldest_age_s: wait,
                    history,
                };
                s
            },
        )
    }

    proptest! {
        #[test]
        fn any_frame_at_any_size_fits_and_shows_the_depth_whole(
            s in any_snapshot(),
            width in 0..=200usize,
            height in 0..=40usize,
        ) {
            check(&s, width, height)?;
        }
    }
}
