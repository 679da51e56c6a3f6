//! Writes frames to a terminal without flicker: each row is compared with what
//! is already on screen and only the changed spans are rewritten (two spans
//! closer than a cursor move would cost are rewritten as one), all queued
//! into one buffer that the caller flushes once per frame. There is no
//! full-screen clear except after a resize. Alert lines are red where colour is on.

use std::io::{self, Write};

use crossterm::cursor::{MoveRight, MoveTo};
use crossterm::queue;

use crate::ui::gauge::Line;
use crossterm::style::{Color, Print, ResetColor, SetForegroundColor};
use crossterm::terminal::{Clear, ClearType};

/// What is on the terminal now, row by row.
#[derive(Debug, Default)]
pub struct Screen {
    /// Each row's characters, and whether it is drawn as an alert.
    shown: Vec<(Vec<char>, bool)>,
    colour: bool,
}

impl Screen {
    pub fn new(colour: bool) -> Screen {
        Screen {
            shown: Vec::new(),
            colour,
        }
    }

    /// Clears the terminal and forgets what was on it, so the next frame is drawn whole.
    pub fn reset(&mut self, out: &mut impl Write) -> io::Result<()> {
        self.shown.clear();
        queue!(out, Clear(ClearType::All))
    }

    /// Queues what it takes to turn the screen into `lines`. Rows beyond what a
    /// `u16` can address are skipped: no terminal has them.
    pub fn draw(&mut self, lines: &[Line], out: &mut impl Write) -> io::Result<()> {
        let next: Vec<(Vec<char>, bool)> = lines
            .iter()
            .map(|l| (l.text.chars().collect(), l.alert && self.colour))
            .collect();
        let blank = (Vec::new(), false);
        for row in 0..next.len().max(self.shown.len()) {
            let (old, was_alert) = self.shown.get(row).unwrap_or(&blank);
            let (new, alert) = next.get(row).unwrap_or(&blank);
            let spans = if was_alert == alert {
                changed_spans(old, new)
            } else {
                whole_line(old, new) // the colour changed
            };
            let Ok(row) = u16::try_from(row) else {
                continue;
            };
            // Where the cursor is after the row's previous span.
            let mut cursor = None;
            for (column, text) in spans {
                let Ok(to) = u16::try_from(column) else {
                    break;
                };
                match cursor {
                    Some(at) => queue!(out, MoveRight(to - at))?,
                    None => queue!(out, MoveTo(to, row))?,
                }
                let Ok(end) = u16::try_from(column + text.chars().count()) else {
                    break;
                };
                cursor = Some(end);
                if *alert {
                    queue!(out, SetForegroundColor(Color::Red), Print(text), ResetColor)?;
                } else {
                    queue!(out, Print(text))?;
                }
            }
        }
        self.shown = next;
        Ok(())
    }
}

/// The runs of columns where `old` and `new` differ, each with the text that
/// makes the row read `new` there (spaces where `new` is shorter, so nothing
/// needs clearing), left to right. Two runs are joined when rewriting what
/// lies between them costs no more bytes than moving the cursor over it.
fn changed_spans(old: &[char], new: &[char]) -> Vec<(usize, String)> {
    let len = old.len().max(new.len());
    let at = |row: &[char], i: usize| row.get(i).copied().unwrap_or(' ');
    let mut runs: Vec<(usize, usize)> = Vec::new(); // first and last column
    for i in (0..len).filter(|&i| at(old, i) != at(new, i)) {
        match runs.last_mut() {
            Some((_, last)) if rewrite_cost(new, *last + 1..i) <= move_cost(i - *last - 1) => {
                *last = i;
            }
            _ => runs.push((i, i)),
        }
    }
    runs.into_iter()
        .map(|(first, last)| (first, (first..=last).map(|i| at(new, i)).collect()))
        .collect()
}

/// The bytes of rewriting the columns `range` of `row` as they are.
fn rewrite_cost(row: &[char], range: std::ops::Range<usize>) -> usize {
    range.map(|i| row.get(i).map_or(1, |c| c.len_utf8())).sum()
}

/// The bytes of moving the cursor right by `n`: `ESC [ n C`.
fn move_cost(n: usize) -> usize {
    3 + n.to_string().len()
}

/// All of `new`, padded with spaces to cover what `old` had.
fn whole_line(old: &[char], new: &[char]) -> Vec<(usize, String)> {
    let len = old.len().max(new.len());
    vec![(
        0,
        (0..len)
            .map(|i| new.get(i).copied().unwrap_or(' '))
            .collect(),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    fn frame(screen: &mut Screen, lines: &[&str]) -> String {
        let lines: Vec<Line> = lines
            .iter()
            .map(|l| Line {
                text: l.to_string(),
                alert: l.contains('!'),
            })
            .collect();
        let mut out = Vec::new();
        screen.draw(&lines, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn spans(old: &str, new: &str) -> Vec<(usize, String)> {
        changed_spans(&chars(old), &chars(new))
    }

    #[test]
    fn only_the_changed_span_is_rewritten() {
        assert_eq!(spans("abc", "abc"), vec![]);
        assert_eq!(spans("   P:9", "    P:10"), vec![(3, " P:10".into())]);
        assert_eq!(spans("B:100", "B:99"), vec![(2, "99 ".into())]);
        assert_eq!(spans("xyz", ""), vec![(0, "   ".into())]);
    }

    #[test]
    fn changes_far_apart_are_two_spans_and_near_ones_one() {
        let (old, new) = (
            "catch-up 29.8s  high-water 100/100  oldest 14.4s",
            "catch-up 29.9s  high-water 100/100  oldest 14.5s",
        );
        assert_eq!(spans(old, new), vec![(12, "9".into()), (46, "5".into())]);
        // A gap of 4 costs what `ESC [ 4 C` does: rewritten.
        assert_eq!(spans("a    b", "x    y"), vec![(0, "x    y".into())]);
        assert_eq!(
            spans("a     b", "x     y"),
            vec![(0, "x".into()), (6, "y".into())]
        );
        // The gap's bytes count, not its characters.
        assert_eq!(
            spans("a▁▁b", "x▁▁y"),
            vec![(0, "x".into()), (3, "y".into())]
        );
    }

    #[test]
    fn a_frame_moves_to_each_changed_row_and_an_unchanged_frame_writes_nothing() {
        let mut screen = Screen::new(true);
        let first = frame(&mut screen, &["P:1", "", "0123"]);
        assert_eq!(first, "\x1b[1;1HP:1\x1b[3;1H0123");
        assert_eq!(frame(&mut screen, &["P:1", "", "0123"]), "");
        assert_eq!(frame(&mut screen, &[" P:2", "", "0123"]), "\x1b[1;1H P:2");
        // A row that disappears is blanked, not cleared with a full-screen clear.
        assert_eq!(frame(&mut screen, &[" P:2"]), "\x1b[3;1H    ");
        // Two changes far apart: the cursor moves over what is unchanged.
        frame(&mut screen, &["produced 182  consumed 82  buffer 100/100"]);
        assert_eq!(
            frame(&mut screen, &["produced 183  consumed 82  buffer 99/100"]),
            "\x1b[1;12H3\x1b[22C99/100 "
        );
    }

    #[test]
    fn alert_lines_are_red_only_with_colour() {
        let mut screen = Screen::new(true);
        assert_eq!(frame(&mut screen, &["ok"]), "\x1b[1;1Hok");
        // Turning red redraws the whole line in colour.
        assert_eq!(
            frame(&mut screen, &["ok!"]),
            "\x1b[1;1H\x1b[38;5;9mok!\x1b[0m"
        );
        assert_eq!(frame(&mut screen, &["ok"]), "\x1b[1;1Hok ");
        let mut plain = Screen::new(false);
        assert_eq!(frame(&mut plain, &["ok!"]), "\x1b[1;1Hok!");
    }

    #[test]
    fn reset_clears_once_and_redraws_everything() {
        let mut screen = Screen::new(true);
        frame(&mut screen, &["abc"]);
        let mut out = Vec::new();
        screen.reset(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\x1b[2J");
        assert_eq!(frame(&mut screen, &["abc"]), "\x1b[1;1Habc");
    }

    /// A terminal that knows the sequences a frame uses: where the cursor
    /// goes and what it prints (colours are skipped).
    fn apply(grid: &mut Vec<Vec<char>>, bytes: &str) {
        let (mut row, mut column) = (0, 0);
        let mut rest = bytes;
        while let Some(c) = rest.chars().next() {
            if c != '\x1b' {
                if grid.len() <= row {
                    grid.resize(row + 1, Vec::new());
                }
                let line = &mut grid[row];
                if line.len() <= column {
                    line.resize(column + 1, ' ');
                }
                line[column] = c;
                column += 1;
                rest = &rest[c.len_utf8()..];
                continue;
            }
            let end = rest.find(|c: char| c.is_ascii_alphabetic()).unwrap();
            let numbers: Vec<usize> = rest[2..end]
                .split(';')
                .map(|n| n.parse().unwrap())
                .collect();
            match &rest[end..=end] {
                "H" => (row, column) = (numbers[0] - 1, numbers[1] - 1),
                "C" => column += numbers[0],
                "m" => {}
                other => panic!("unexpected sequence {other} in {bytes:?}"),
            }
            rest = &rest[end + 1..];
        }
    }

    proptest::proptest! {
        #[test]
        fn whatever_was_shown_the_screen_ends_up_reading_the_new_frame(
            old in proptest::collection::vec("[ab ▁λ|]{0,30}", 0..4),
            new in proptest::collection::vec("[ab ▁λ|]{0,30}", 0..4),
        ) {
            let mut screen = Screen::new(false);
            let mut grid = Vec::new();
            let old: Vec<&str> = old.iter().map(String::as_str).collect();
            let new: Vec<&str> = new.iter().map(String::as_str).collect();
            apply(&mut grid, &frame(&mut screen, &old));
            apply(&mut grid, &frame(&mut screen, &new));
            for row in 0..grid.len().max(new.len()) {
                let shown: String = grid.get(row).map_or(String::new(), |l| l.iter().collect());
                let want = new.get(row).copied().unwrap_or("");
                proptest::prop_assert_eq!(shown.trim_end(), want.trim_end(), "row {}", row);
            }
        }
    }
}
