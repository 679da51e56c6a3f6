//! Writes frames to a terminal without flicker: each row is compared with what
//! is already on screen and only the changed span is rewritten, all queued into
//! one buffer that the caller flushes once per frame. There is no full-screen
//! clear except after a resize. Alert lines are red where colour is on.

use std::io::{self, Write};

use crossterm::cursor::MoveTo;
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
            let span = if was_alert == alert {
                changed_span(old, new)
            } else {
                whole_line(old, new) // the colour changed
            };
            let Some((column, text)) = span else { continue };
            let (Ok(column), Ok(row)) = (u16::try_from(column), u16::try_from(row)) else {
                continue;
            };
            queue!(out, MoveTo(column, row))?;
            if *alert {
                queue!(out, SetForegroundColor(Color::Red), Print(text), ResetColor)?;
            } else {
                queue!(out, Print(text))?;
            }
        }
        self.shown = next;
        Ok(())
    }
}

/// The first column where `old` and `new` differ and the text that makes the
/// row read `new` from there on: spaces where `new` is shorter, so nothing needs clearing.
fn changed_span(old: &[char], new: &[char]) -> Option<(usize, String)> {
    let len = old.len().max(new.len());
    let at = |row: &[char], i: usize| row.get(i).copied().unwrap_or(' ');
    let first = (0..len).find(|&i| at(old, i) != at(new, i))?;
    let last = (0..len).rev().find(|&i| at(old, i) != at(new, i))?;
    Some((first, (first..=last).map(|i| at(new, i)).collect()))
}

/// All of `new`, padded with spaces to cover what `old` had.
fn whole_line(old: &[char], new: &[char]) -> Option<(usize, String)> {
    let len = old.len().max(new.len());
    Some((
        0,
        (0..len)
            .map(|i| new.get(i).copied().unwrap_or(' '))
            .collect(),
    ))
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

    #[test]
    fn only_the_changed_span_is_rewritten() {
        assert_eq!(changed_span(&chars("abc"), &chars("abc")), None);
        assert_eq!(
            changed_span(&chars("   P:9"), &chars("    P:10")),
            Some((3, " P:10".into()))
        );
        assert_eq!(
            changed_span(&chars("B:100"), &chars("B:99")),
            Some((2, "99 ".into()))
        );
        assert_eq!(changed_span(&chars("xyz"), &[]), Some((0, "   ".into())));
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
}
