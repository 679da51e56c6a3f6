//! The end-of-run report: the seed's counter line, then one line of figures,
//! or the same as one JSON object.

use std::io::{self, Write};

use serde::Serialize;

/// What a run did. Built from the producer's and consumer's own reports after
/// they are joined, not from what the illustrator saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub capacity: u64,
    pub produced: u64,
    pub consumed: u64,
    /// Messages left in the buffer when the run was aborted; 0 after a drain.
    pub unconsumed: u64,
    /// Times the producer found the buffer full.
    pub full_count: u64,
    /// Whether the consumer saw every message once and in order.
    pub in_order: bool,
    /// Whether the run was cut short (a second q, Ctrl-C or signal, or SIGHUP).
    pub aborted: bool,
    pub seed: u64,
    pub speed: f64,
    /// Model seconds from the start to the end of the drain.
    pub elapsed_s: f64,
    /// Model seconds the producer ran.
    pub produce_s: f64,
    /// Model seconds from the producer's stop to the consumer's.
    pub drain_s: f64,
    /// Model seconds the producer spent blocked on a full buffer, in all and at most once.
    pub blocked_total_s: f64,
    pub blocked_max_s: f64,
}

impl Summary {
    /// The two lines printed at the end; the first is the seed's, verbatim.
    pub fn text(&self) -> String {
        let drain = if self.aborted {
            format!("aborted after {:.1}s of draining", self.drain_s)
        } else {
            format!("drained in {:.1}s", self.drain_s)
        };
        format!(
            "Buffer reached capacity {} times\n\
             produced {}, consumed {}, left unconsumed {}, ran {:.1}s, {drain}, seed {}\n",
            self.full_count,
            self.produced,
            self.consumed,
            self.unconsumed,
            self.produce_s,
            self.seed
        )
    }

    pub fn write(&self, out: &mut impl Write, json: bool) -> io::Result<()> {
        if json {
            serde_json::to_writer(&mut *out, self)?;
            writeln!(out)?;
        } else {
            out.write_all(self.text().as_bytes())?;
        }
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> Summary {
        Summary {
            capacity: 100,
            produced: 1500,
            consumed: 1500,
            unconsumed: 0,
            full_count: 512,
            in_order: true,
            aborted: false,
            seed: 42,
            speed: 1.0,
            elapsed_s: 59.93,
            produce_s: 30.0,
            drain_s: 29.93,
            blocked_total_s: 20.5,
            blocked_max_s: 0.3,
        }
    }

    #[test]
    fn text_starts_with_the_seeds_line() {
        assert_eq!(
            summary().text(),
            "Buffer reached capacity 512 times\n\
             produced 1500, consumed 1500, left unconsumed 0, ran 30.0s, drained in 29.9s, seed 42\n"
        );
    }

    #[test]
    fn an_aborted_run_says_how_many_were_left() {
        let s = Summary {
            consumed: 1450,
            unconsumed: 50,
            aborted: true,
            drain_s: 2.0,
            ..summary()
        };
        assert!(s.text().contains("left unconsumed 50"), "{}", s.text());
        assert!(s.text().contains("aborted after 2.0s"), "{}", s.text());
    }

    #[test]
    fn json_is_one_object_on_one_line() {
        let mut out = Vec::new();
        summary().write(&mut out, true).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 1);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["full_count"], 512);
        assert_eq!(value["unconsumed"], 0);
        assert_eq!(value["seed"], 42);
        assert_eq!(value["elapsed_s"], 59.93);
    }
}
