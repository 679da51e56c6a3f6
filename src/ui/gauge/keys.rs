//! The keys, listed in place of the hint while `?` has them shown: every key
//! the live gauge answers, each line as much of its text as fits (whole
//! words, or nothing). The illustrator ([`crate::ui::illustrator`]) is what
//! answers them; this is what it says about them.

use super::fit::first_that_fits;
use super::{Phase, Snapshot};

/// The lines of the list, for a terminal `width` columns wide.
pub fn keys(s: &Snapshot, width: usize) -> Vec<String> {
    let stop: &[&str] = match s.phase {
        Phase::Running => &[
            "q, Esc or Ctrl-C: stop producing and drain; again: quit at once",
            "q, Esc or Ctrl-C: stop and drain; again: quit",
            "q, Esc, Ctrl-C: stop",
            "q: stop",
        ],
        Phase::Draining | Phase::Done => &[
            "q, Esc or Ctrl-C: quit now, leaving the rest unconsumed",
            "q, Esc or Ctrl-C: quit now",
            "q, Esc, Ctrl-C: quit",
            "q: quit",
        ],
    };
    let list: [&[&str]; 5] = [
        &[
            "keys (? again or any other key hides them)",
            "keys (any key hides them)",
            "keys (any key hides)",
            "keys",
        ],
        stop,
        &[
            "+ or -: one consumer more or fewer (1 to 1000), as the run goes on",
            "+ or -: one consumer more or fewer",
            "+/-: consumers",
        ],
        &[
            "Ctrl-Z: suspend, and give the terminal back; fg resumes",
            "Ctrl-Z: suspend; fg resumes",
            "Ctrl-Z: suspend",
        ],
        &["?: show or hide these keys", "?: hide keys", "?: hide"],
    ];
    list.iter()
        .map(|texts| {
            let texts: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
            first_that_fits(&texts, width)
        })
        .collect()
}
