//! Writes frames to a terminal without flicker: each row is compared with what
//! is already on screen and only the changed span is rewritten, all queued into
//! one buffer that the caller flushes once per frame. There is no full-screen
//! clear except after a resize.

use std::io::{self, Write};

use crossterm::cursor::MoveTo;
use crossterm::queue;
use crossterm::style::Print;
use crossterm::terminal::{Clear, ClearType};

/// What is on the terminal now, row by row.
#[derive(Debug, Default)]
pub struct Screen {
    shown: Vec<Vec<char>>,
}

impl Screen {
    pub fn new() -> Screen {
        Screen::default()
    }

    /// Clears the terminal and forgets what was on it, so the next frame is drawn whole.
    pub fn reset(&mut self, out: &mut impl Write) -> io::Result<()> {
        self.shown.clear();
        queue!(out, Clear(ClearType::All))
    }

    /// Queues what it takes to turn the screen into `lines`. Rows beyond what a
    /// `u16` can address are skipped: no terminal has them.
    pub fn draw(&mut self, lines: &[String], out: &mut impl Write) -> io::Result<()> {
        let next: Vec<Vec<char>> = lines.iter().map(|l| l.chars().collect()).collect();
        let rows = next.len().max(self.shown.len());
        for row in 0..rows {
            let old = self.shown.get(row).map_or(&[][..], Vec::as_slice);
            let new = next.get(row).map_or(&[][..], Vec::as_slice);
            if let Some((column, text)) = changed_span(old, new)
                && let (Ok(column), Ok(row)) = (u16::try_from(column), u16::try_from(row))
            {
                queue!(out, MoveTo(column, row), Print(text))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    fn frame(screen: &mut Screen, lines: &[&str]) -> String {
        let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
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
        let mut screen = Screen::new();
        let first = frame(&mut screen, &["P:1", "", "0123"]);
        assert_eq!(first, "\x1b[1;1HP:1\x1b[3;1H0123");
        assert_eq!(frame(&mut screen, &["P:1", "", "0123"]), "");
        assert_eq!(frame(&mut screen, &[" P:2", "", "0123"]), "\x1b[1;1H P:2");
        // A row that disappears is blanked, not cleared with a full-screen clear.
        assert_eq!(frame(&mut screen, &[" P:2"]), "\x1b[3;1H    ");
    }

    #[test]
    fn reset_clears_once_and_redraws_everything() {
        let mut screen = Screen::new();
        frame(&mut screen, &["abc"]);
        let mut out = Vec::new();
        screen.reset(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\x1b[2J");
        assert_eq!(frame(&mut screen, &["abc"]), "\x1b[1;1Habc");
    }
}
