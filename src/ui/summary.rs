//! The end-of-run report: the original's counter line, one line of figures, what
//! blocking cost and the rates, then the verdict; or all of it as one JSON object.

use std::io::{self, Write};

use serde::Serialize;

use crate::live::crew::{Change, Changes};
use crate::live::reading::Blocked;
use crate::live::record::Recorded;
use crate::live::stall::StallFigures;
use crate::model::WhenFull;
use crate::sizing::review::{Predicted, Skipped};
use crate::stats::Verdict;
use crate::traffic::parse::printable;
use crate::units::seconds;

/// What a run did. Built from the producer's and consumer's own reports after
/// they are joined, not from what the illustrator saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub capacity: u64,
    pub produced: u64,
    pub consumed: u64,
    /// Messages left in the buffer when the run was aborted; 0 after a drain.
    pub unconsumed: u64,
    /// Messages a drop policy (`--when-full`) discarded; always
    /// `produced = consumed + dropped + unconsumed`.
    pub dropped: u64,
    /// `--when-full`: `block`, `drop-newest` or `drop-oldest`.
    pub when_full: WhenFull,
    /// Times the producer found the buffer full.
    pub full_count: u64,
    /// Whether the consumer saw every message once and in order.
    pub in_order: bool,
    /// Whether the run was cut short (a second q, Ctrl-C or signal, or
    /// SIGHUP), or its review was: then the exit code is 130 (129 after SIGHUP).
    pub aborted: bool,
    /// Whether only the review was cut short, by a stop request after a
    /// whole run (every figure of the run itself stands); left out if not.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub review_interrupted: bool,
    pub seed: u64,
    pub speed: f64,
    /// Model seconds from the start to the end of the drain.
    pub elapsed_s: f64,
    /// Model seconds the producer ran.
    pub produce_s: f64,
    /// Model seconds from the producer's stop to the consumer's.
    pub drain_s: f64,
    /// Share of sends that found the buffer full: `full_count / produced`.
    pub full_share: f64,
    /// Model seconds from the start until the buffer first filled; `null` if it never did.
    pub first_full_s: Option<f64>,
    pub blocked: Blocked,
    /// λ: messages offered per second while the producer was not blocked.
    pub arrival_rate: Option<f64>,
    /// μ: messages completed per second while the consumer was busy.
    pub service_rate: Option<f64>,
    /// ρ = λ/μ.
    pub utilisation: Option<f64>,
    /// The most messages ever in the buffer.
    pub high_water: u64,
    /// How far behind the writer fell at worst: `high_water / μ` seconds.
    pub max_catch_up_s: Option<f64>,
    /// The longest a message waited in the buffer (the oldest message's age
    /// at its worst), model seconds, measured from each message's entry.
    pub oldest_item_age_max_s: f64,
    /// The most messages that would have waited in an unbounded buffer
    /// (replayed); `None` when the end of the run did not replay it.
    pub peak_backlog: Option<u64>,
    /// Why the peak backlog was not replayed (too many messages for the end
    /// of a run, an abort, a stop request during it); absent when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_backlog_skipped: Option<Skipped>,
    /// Whether the run kept the model's pace: neither the producer nor the
    /// consumers ran further behind their ideal schedules, on average, than
    /// the model's tolerance. If not, the figures are the machine's, not the model's.
    pub faithful: bool,
    /// Model seconds the producer or the consumers (whichever more) ran
    /// behind their ideal schedules, on average per wake.
    pub schedule_lag_s: f64,
    /// The worst lateness of any one wake, in model seconds.
    pub schedule_lag_max_s: f64,
    /// Each `--stall`: its backlog peak and the blocking while it lasted
    /// (`null` figures for one the run did not reach); left out without stalls.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stalls: Vec<StallFigures>,
    pub verdict: Labelled,
    pub predicted: Predicted,
    /// When `+` or `-` changed the consumer count; absent if they never did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_changes: Option<ConsumerChanges>,
    /// What `--record` wrote; absent without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded: Option<Recorded>,
}

/// The consumer count's schedule: how many there were at the start and the
/// end, and each change as it took effect (the first [`crate::live::crew::LOGGED`]; the
/// rest counted, the last kept), so memory is bounded however many presses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsumerChanges {
    pub started: u32,
    pub ended: u32,
    pub changes: Vec<Change>,
    /// Changes after those listed.
    pub more_changes: u64,
    /// The latest of those, when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_change: Option<Change>,
}

impl ConsumerChanges {
    /// `None` if the count never changed.
    pub fn of_run(started: u32, changes: Changes) -> Option<ConsumerChanges> {
        (!changes.is_empty()).then(|| ConsumerChanges {
            started,
            ended: changes.end(started),
            changes: changes.first,
            more_changes: changes.more,
            last_change: changes.last,
        })
    }

    /// One line: each change, then those only counted.
    fn line(&self) -> String {
        let change = |c: &Change| format!("{} to {} at {:.1}s", c.from, c.to, c.at_s);
        let mut line = format!(
            "consumers changed (+/-): {}",
            self.changes
                .iter()
                .map(change)
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(last) = &self.last_change {
            line += &format!(
                ", and {} more changes, the last {}",
                self.more_changes,
                change(last)
            );
        }
        // μ is per consumer times the count at the end, as the verdict counts them.
        line + &format!(
            "; mu and the verdict are for the {} at the end\n",
            self.ended
        )
    }
}

/// The verdict, and whether the run it rests on was faithful.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Labelled {
    #[serde(flatten)]
    pub verdict: Verdict,
    pub faithful: bool,
}

impl Summary {
    /// The report printed at the end; the first line is the original's, verbatim.
    pub fn text(&self) -> String {
        let drain = if self.review_interrupted {
            format!(
                "drained in {:.1}s, then a stop request cut the review short",
                self.drain_s
            )
        } else if self.aborted {
            format!("aborted after {:.1}s of draining", self.drain_s)
        } else {
            format!("drained in {:.1}s", self.drain_s)
        };
        let b = &self.blocked;
        let blocked = match (b.p50_s, b.p90_s, b.p99_s, b.max_s, self.first_full_s) {
            (Some(p50), Some(p90), Some(p99), Some(max), Some(first)) => format!(
                "blocked {} times ({:.1}% of sends), first after {first:.1}s: \
                 p50 {}, p90 {}, p99 {}, max {}, total {}",
                b.count,
                self.full_share * 100.0,
                seconds(p50),
                seconds(p90),
                seconds(p99),
                seconds(max),
                seconds(b.total_s)
            ),
            // A drop policy never blocks: saying so would read as good news.
            _ if self.when_full != WhenFull::Block => format!(
                "no send waited: with --when-full {} a full buffer drops instead",
                self.when_full.name()
            ),
            _ => "never blocked".into(),
        };
        let number = |x: Option<f64>| x.map_or("-".into(), |x| format!("{x:.2}"));
        let mut verdict = match self.when_full {
            WhenFull::Block => self.verdict.verdict.to_string(),
            _ => self.verdict.verdict.text_when_dropping(),
        };
        if !self.faithful {
            verdict = format!(
                "NOT FAITHFUL: the threads ran {} behind the model's schedule on average \
                 (at worst {}; machine time lost at --speed {}), so these figures are not \
                 the model's; use `burstbuf sweep` or a lower --speed.\n{}",
                seconds(self.schedule_lag_s),
                seconds(self.schedule_lag_max_s),
                self.speed,
                verdict.replacen("Verdict:", "Verdict (of an unfaithful run):", 1)
            );
        }
        let crew = self
            .consumer_changes
            .as_ref()
            .map_or(String::new(), ConsumerChanges::line);
        let mut stalls = String::new();
        for s in &self.stalls {
            let what = match (s.backlog_peak, s.full_count, s.blocked_s) {
                (Some(peak), Some(full), Some(blocked)) => format!(
                    "backlog peaked at {peak}, {full} send(s) found the buffer full, \
                     blocked {} in all",
                    seconds(blocked)
                ),
                _ => "not reached (or not ended) in this run".into(),
            };
            stalls += &format!(
                "consumers stalled {} from {}: {what}\n",
                seconds(s.length_s),
                seconds(s.at_s)
            );
        }
        format!(
            "Buffer reached capacity {} times\n\
             produced {}, consumed {}, {}left unconsumed {}, ran {:.1}s, {drain}, seed {}\n\
             {blocked}\n\
             {stalls}\
             {crew}\
             lambda {}/s, mu {}/s, rho {}; high-water {}/{}, worst catch-up {}, \
             oldest message waited {}\n\
             {}\n{}{}{}",
            self.full_count,
            self.produced,
            self.consumed,
            if self.dropped > 0 {
                format!("dropped {}, ", self.dropped)
            } else {
                String::new()
            },
            self.unconsumed,
            self.produce_s,
            self.seed,
            number(self.arrival_rate),
            number(self.service_rate),
            number(self.utilisation),
            self.high_water,
            self.capacity,
            self.max_catch_up_s.map_or("-".into(), seconds),
            seconds(self.oldest_item_age_max_s),
            verdict,
            self.peak_backlog_skipped
                .as_ref()
                .map_or(String::new(), |why| format!(
                    "Peak backlog not replayed: {why}.\n"
                )),
            self.predicted_line(),
            self.recorded.as_ref().map_or(String::new(), record_line),
        )
    }

    /// Observed beside simulated beside theory, one line.
    fn predicted_line(&self) -> String {
        let p = &self.predicted;
        if *p == Predicted::default() {
            return String::new(); // nothing to set beside it
        }
        let mut parts = vec![format!(
            "observed {} ({:.1}% of sends)",
            self.full_count,
            self.full_share * 100.0
        )];
        match (p.simulated_full_count, p.simulated_produced, &p.skipped) {
            (Some(full), Some(produced), _) => parts.push(format!(
                "simulated {full} ({:.1}% of {produced} sends; same model and seed)",
                if produced == 0 {
                    0.0
                } else {
                    full as f64 * 100.0 / produced as f64
                }
            )),
            (_, _, Some(why)) => parts.push(format!("simulation skipped: {why}")),
            _ => {}
        }
        if let (Some(share), Some(kind)) = (p.theory_full_share, &p.theory) {
            // A steady-state share: a short run that starts empty sees less.
            parts.push(format!(
                "{kind} theory {:.1}% of sends (steady state)",
                share * 100.0
            ));
        }
        let flag = if self.faithful {
            ""
        } else {
            " (the run was not faithful: the observed count is the machine's)"
        };
        format!("Buffer full: {}{flag}\n", parts.join(", "))
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

/// What `--record` wrote, and whether it can be replayed as the run.
fn record_line(r: &Recorded) -> String {
    let mut line = format!(
        "recorded {} messages to {} and {}",
        r.messages,
        printable(&r.arrivals),
        printable(&r.services)
    );
    if !r.complete {
        // Left under the `.incomplete` names, which say so to whoever lists them.
        line += ", not a whole recording";
    }
    if r.lost > 0 {
        line += &format!(
            "; INCOMPLETE: {} offered times were lost (the disk did not keep up), \
             so a replay is not this run",
            r.lost
        );
    }
    if let Some(error) = &r.error {
        line += &format!("; FAILED: {error}");
    }
    line + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_says_when_the_consumer_count_changed() {
        let mut s = summary();
        assert!(!s.text().contains("consumers changed"));
        let json: serde_json::Value = serde_json::to_value(&s).unwrap();
        assert!(
            json.get("consumer_changes").is_none(),
            "absent if unchanged"
        );
        let change = |at_s, from, to| Change { at_s, from, to };
        let mut changes = Changes::default();
        assert_eq!(ConsumerChanges::of_run(1, changes.clone()), None);
        changes.first = vec![change(12.25, 1, 2), change(20.0, 2, 1)];
        s.consumer_changes = ConsumerChanges::of_run(1, changes.clone());
        let text = s.text();
        assert!(
            text.contains(
                "consumers changed (+/-): 1 to 2 at 12.2s, 2 to 1 at 20.0s; mu and the verdict \
                 are for the 1 at the end"
            ),
            "{text}"
        );
        let json: serde_json::Value = serde_json::to_value(&s).unwrap();
        let c = &json["consumer_changes"];
        assert_eq!(
            (c["started"].as_u64(), c["ended"].as_u64()),
            (Some(1), Some(1))
        );
        assert_eq!(c["changes"][0]["to"], 2);
        assert_eq!(c["changes"][1]["at_s"], 20.0);
        // Past the logged ones: counted, and the last named.
        changes.more = 40;
        changes.last = Some(change(30.0, 3, 4));
        s.consumer_changes = ConsumerChanges::of_run(1, changes);
        let text = s.text();
        assert!(
            text.contains("and 40 more changes, the last 3 to 4 at 30.0s; mu and the verdict are for the 4 at the end"),
            "{text}"
        );
    }

    fn summary() -> Summary {
        Summary {
            capacity: 100,
            produced: 1500,
            consumed: 1500,
            unconsumed: 0,
            full_count: 512,
            in_order: true,
            aborted: false,
            review_interrupted: false,
            seed: 42,
            speed: 1.0,
            elapsed_s: 59.93,
            produce_s: 30.0,
            drain_s: 29.93,
            full_share: 512.0 / 1500.0,
            first_full_s: Some(20.14),
            blocked: Blocked {
                count: 512,
                total_s: 20.5,
                max_s: Some(0.3),
                p50_s: Some(0.28),
                p90_s: Some(0.3),
                p99_s: Some(0.3),
            },
            arrival_rate: Some(8.33),
            service_rate: Some(3.33),
            utilisation: Some(2.5),
            high_water: 100,
            max_catch_up_s: Some(30.03),
            oldest_item_age_max_s: 29.5,
            peak_backlog: Some(1200),
            peak_backlog_skipped: None,
            faithful: true,
            schedule_lag_s: 0.001,
            schedule_lag_max_s: 0.004,
            stalls: Vec::new(),
            dropped: 0,
            when_full: WhenFull::Block,
            verdict: Labelled {
                verdict: Verdict::NotEnoughData,
                faithful: true,
            },
            predicted: Predicted::default(),
            consumer_changes: None,
            recorded: None,
        }
    }

    #[test]
    fn the_prediction_stands_beside_the_observation() {
        let mut s = summary();
        s.predicted = Predicted {
            simulated_full_count: Some(500),
            simulated_produced: Some(1490),
            theory_full_share: Some(0.6),
            theory: Some("M/M/1/K".into()),
            skipped: None,
        };
        let text = s.text();
        assert!(
            text.contains(
                "Buffer full: observed 512 (34.1% of sends), simulated 500 (33.6% of 1490 \
                 sends; same model and seed), M/M/1/K theory 60.0% of sends (steady state)\n"
            ),
            "{text}"
        );
        let json: serde_json::Value = serde_json::to_value(&s).unwrap();
        assert_eq!(json["predicted"]["simulated_full_count"], 500);
        assert_eq!(json["predicted"]["theory_full_share"], 0.6);
        s.predicted = Predicted {
            skipped: Some(Skipped::Aborted),
            ..Predicted::default()
        };
        s.faithful = false;
        let text = s.text();
        assert!(
            text.contains(
                "Buffer full: observed 512 (34.1% of sends), simulation skipped: the run was \
                 aborted (the run was not faithful: the observed count is the machine's)\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn text_starts_with_the_seeds_line() {
        assert_eq!(
            summary().text(),
            "Buffer reached capacity 512 times\n\
             produced 1500, consumed 1500, left unconsumed 0, ran 30.0s, drained in 29.9s, seed 42\n\
             blocked 512 times (34.1% of sends), first after 20.1s: \
             p50 280ms, p90 300ms, p99 300ms, max 300ms, total 20.5s\n\
             lambda 8.33/s, mu 3.33/s, rho 2.50; high-water 100/100, worst catch-up 30.0s, \
             oldest message waited 29.5s\n\
             Verdict: too little happened to judge.\n"
        );
        let calm = Summary {
            full_count: 0,
            first_full_s: None,
            blocked: Blocked::default(),
            ..summary()
        };
        assert!(calm.text().contains("\nnever blocked\n"), "{}", calm.text());
        // A drop policy never says "blocked": neither the line nor the verdict.
        let dropping = Summary {
            when_full: WhenFull::DropNewest,
            dropped: 40,
            verdict: Labelled {
                verdict: Verdict::new(
                    &crate::stats::Rates {
                        arrival: Some(8.0),
                        service: Some(3.0),
                    },
                    100,
                    None,
                    1,
                    None,
                ),
                faithful: true,
            },
            ..calm
        };
        let text = dropping.text();
        assert!(
            text.contains(
                "\nno send waited: with --when-full drop-newest a full buffer drops instead\n"
            ),
            "{text}"
        );
        assert!(text.contains("No buffer size prevents drops"), "{text}");
        assert!(!text.contains("block"), "{text}");
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
    fn a_review_cut_short_says_so_and_counts_as_aborted() {
        let s = Summary {
            aborted: true,
            review_interrupted: true,
            drain_s: 2.0,
            peak_backlog: None,
            peak_backlog_skipped: Some(Skipped::Interrupted),
            ..summary()
        };
        let text = s.text();
        assert!(
            text.contains("left unconsumed 0, ran 30.0s, drained in 2.0s, then a stop request cut the review short"),
            "{text}"
        );
        assert!(
            text.contains("Peak backlog not replayed: interrupted by a stop request"),
            "{text}"
        );
        let json: serde_json::Value = serde_json::to_value(&s).unwrap();
        assert_eq!(
            (&json["aborted"], &json["review_interrupted"]),
            (&true.into(), &true.into())
        );
        assert_eq!(
            json["peak_backlog_skipped"],
            "interrupted by a stop request (q, INT or TERM)"
        );
        // A run not cut short has no such field.
        let whole = serde_json::to_value(summary()).unwrap();
        assert!(whole.get("review_interrupted").is_none(), "{whole}");
    }

    #[test]
    fn an_unfaithful_run_says_what_was_lost_and_labels_its_verdict() {
        let s = Summary {
            faithful: false,
            schedule_lag_s: 2.5,
            schedule_lag_max_s: 21.0,
            speed: 10000.0,
            verdict: Labelled {
                verdict: Verdict::NotEnoughData,
                faithful: false,
            },
            ..summary()
        };
        let text = s.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[4],
            "NOT FAITHFUL: the threads ran 2.5s behind the model's schedule on average \
             (at worst 21.0s; machine time lost at --speed 10000), so these figures are not \
             the model's; use `burstbuf sweep` or a lower --speed."
        );
        assert_eq!(
            lines[5],
            "Verdict (of an unfaithful run): too little happened to judge."
        );
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["faithful"], false);
        assert_eq!(json["schedule_lag_s"], 2.5);
        assert_eq!(json["verdict"]["faithful"], false);
        assert_eq!(json["verdict"]["kind"], "not_enough_data");
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
        assert_eq!(value["blocked"]["p99_s"], 0.3);
        assert_eq!(value["utilisation"], 2.5);
        assert_eq!(value["verdict"]["kind"], "not_enough_data");
        assert_eq!(value["faithful"], true);
        assert_eq!(value["schedule_lag_s"], 0.001);
    }

    #[test]
    fn the_record_line_says_where_the_files_are_and_whether_they_are_whole() {
        let whole = Recorded {
            arrivals: "run.arrivals".into(),
            services: "run.services".into(),
            messages: 7,
            lost: 0,
            complete: true,
            error: None,
        };
        assert_eq!(
            record_line(&whole),
            "recorded 7 messages to run.arrivals and run.services\n"
        );
        let failed = Recorded {
            arrivals: "a\nb.arrivals.incomplete".into(),
            services: "a\nb.services.incomplete".into(),
            complete: false,
            error: Some("a\\nb.arrivals.incomplete: No space left on device".into()),
            ..whole
        };
        assert_eq!(
            record_line(&failed),
            "recorded 7 messages to a\\nb.arrivals.incomplete and a\\nb.services.incomplete, \
             not a whole recording; FAILED: a\\nb.arrivals.incomplete: No space left on device\n"
        );
    }
}
