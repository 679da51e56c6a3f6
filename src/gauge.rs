//! The picture, as pure functions of a [`Snapshot`]: the seed's gauge for the
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
//! buffer, whose depth `d` is marked at column `d`.

/// Columns of the scale at full size: the seed's `0123456789` ten times.
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

/// Everything a frame shows. Equal snapshots draw equal frames, so the
/// illustrator redraws only when the snapshot changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub capacity: u64,
    /// Messages produced so far (the latest is `produced - 1`).
    pub produced: u64,
    /// Messages consumed so far (the latest is `consumed - 1`).
    pub consumed: u64,
    pub full_count: u64,
    /// Whole seconds of model time since the start.
    pub elapsed_s: u64,
    pub phase: Phase,
}

impl Snapshot {
    /// Messages in the buffer. Events from the two threads can arrive in either
    /// order, so this is clamped to the buffer's real bounds (the seed's counter
    /// could go negative).
    pub fn depth(&self) -> u64 {
        self.produced
            .saturating_sub(self.consumed)
            .min(self.capacity)
    }
}

/// The frame for a terminal of `width` × `height`: at most `height` lines, none
/// longer than `width` characters, for any size including 0 × 0.
pub fn render(s: &Snapshot, width: usize, height: usize) -> Vec<String> {
    let mut lines = if width < MIN_WIDTH {
        vec![format!(
            "terminal too narrow: burstbuf needs {MIN_WIDTH} columns"
        )]
    } else {
        let mut lines = gauge(s, scale_columns(width));
        lines.push(String::new());
        lines.push(status(s));
        lines.push(hint(s));
        lines
    };
    lines.truncate(height);
    for line in &mut lines {
        if let Some((cut, _)) = line.char_indices().nth(width) {
            line.truncate(cut);
        }
    }
    lines
}

/// The scale is the seed's 100 columns when they fit with room for labels, and
/// shrinks to fit a narrower terminal.
fn scale_columns(width: usize) -> usize {
    width.saturating_sub(LABEL_ROOM).min(SCALE_COLUMNS)
}

/// The seven lines of the seed's picture, on a scale of `columns` columns.
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

/// The seed's `0123456789` ten times at the default size; otherwise a ruler with
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
    format!(
        "{}s  produced {}  consumed {}  buffer {}/{}  full {} times",
        s.elapsed_s,
        s.produced,
        s.consumed,
        s.depth(),
        s.capacity,
        s.full_count
    )
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
    format!(
        "t={t:.1}s produced={} consumed={} depth={}/{} full={}",
        s.produced,
        s.consumed,
        s.depth(),
        s.capacity,
        s.full_count
    )
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
        }
    }

    fn at(column: usize, text: &str) -> String {
        format!("{}{text}", " ".repeat(column))
    }

    const DIGITS: &str = "0123456789";

    #[test]
    fn the_seeds_picture_at_120_columns() {
        let lines = render(&snapshot(100, 38, 13), 120, 30);
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
                "12s  produced 38  consumed 13  buffer 25/100  full 3 times".into(),
                "running - q, Esc or Ctrl-C: stop producing and drain".into(),
            ]
        );
    }

    #[test]
    fn positions_wrap_at_100_but_the_depth_does_not() {
        let lines = render(&snapshot(100, 1234, 1134), 120, 30);
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
        let fresh = render(&snapshot(100, 0, 0), 120, 30);
        assert_eq!(fresh[0], "");
        assert_eq!(fresh[1], "");
        assert_eq!(fresh[3], "");
        assert_eq!(fresh[5], "|");
        assert_eq!(fresh[6], "B:0");
        let drained = render(&snapshot(100, 500, 500), 120, 30);
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
        let lines = render(&snapshot(1000, 1251, 1001), 120, 30);
        // Latest produced 1250 → slot 250 → column 25; consumed 1000 → slot 0.
        assert_eq!(lines[0], at(25, "P:1250"));
        assert_eq!(lines[4], "C:1000");
        assert_eq!(lines[6], at(25, "B:250"));
        let scale = &lines[2];
        assert!(scale.starts_with("0---------+---------+"), "{scale}");
        assert!(scale.ends_with("+--------- 1000"), "{scale}");
        assert_eq!(scale.chars().count(), 100 + " 1000".len());

        let small = render(&snapshot(4, 7, 4), 120, 30);
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
            let lines = render(&s, width, height);
            assert!(lines.len() <= height, "{width}x{height}: {lines:?}");
            for line in &lines {
                assert!(line.chars().count() <= width, "{width}x{height}: {line:?}");
            }
        }
        assert_eq!(render(&s, 1, 1), vec!["t".to_string()]);
        assert_eq!(render(&s, 0, 3), vec![String::new()]);
    }

    #[test]
    fn a_narrow_terminal_gets_a_shrunken_scale() {
        let lines = render(&snapshot(100, 51, 1), 80, 24);
        // 70 columns: slot 50 of 100 → column 35.
        assert_eq!(lines[0], at(35, "P:50"));
        assert!(lines[2].starts_with("0------+------+"), "{}", lines[2]);
        assert!(lines[2].ends_with("+------ 100"), "{}", lines[2]);
        assert_eq!(lines[2].chars().count(), 70 + " 100".len());
        assert_eq!(lines[6], at(35, "B:50"));

        let tiny = render(&snapshot(100, 51, 1), 20, 24);
        assert_eq!(tiny[2], "0+++++++++ 100");
        assert!(tiny.iter().all(|l| l.chars().count() <= 20));
        assert_eq!(
            render(&snapshot(100, 51, 1), 19, 24),
            vec!["terminal too narrow".to_string()]
        );
    }

    #[test]
    fn the_hint_follows_the_phase() {
        let mut s = snapshot(100, 120, 80);
        s.phase = Phase::Draining;
        assert_eq!(render(&s, 120, 30)[9], "draining: 40 left - q to quit now");
        s.phase = Phase::Done;
        assert_eq!(render(&s, 120, 30)[9], "done");
    }

    #[test]
    fn logfmt_line() {
        assert_eq!(
            logfmt(&snapshot(100, 150, 10), 3.04),
            "t=3.0s produced=150 consumed=10 depth=100/100 full=3"
        );
    }
}
