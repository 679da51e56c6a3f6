//! The `prometheus` feature: a snapshot in the Prometheus text exposition
//! format (version 0.0.4), each metric with its HELP and TYPE lines and a
//! name that starts with a prefix the caller gives, so that one service can
//! expose several channels.

use std::fmt::{self, Write};
use std::time::Duration;

use crate::Snapshot;

/// Upper bounds (seconds) of the blocked-time histogram's buckets.
pub const BUCKETS_S: [f64; 15] = [
    0.00001, 0.0001, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A prefix that is not a metric name (`[a-zA-Z_][a-zA-Z0-9_]*`; colons are
/// left to recording rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPrefix(pub String);

impl fmt::Display for InvalidPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a Prometheus metric name prefix: expected letters, digits \
             and underscores, not starting with a digit",
            self.0
        )
    }
}

impl std::error::Error for InvalidPrefix {}

fn valid(prefix: &str) -> bool {
    let mut bytes = prefix.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl Snapshot {
    /// The snapshot as Prometheus text: `PREFIX_sent_total`,
    /// `PREFIX_received_total`, `PREFIX_dropped_total`, `PREFIX_full_total`,
    /// `PREFIX_depth`, `PREFIX_capacity`, `PREFIX_high_water`,
    /// `PREFIX_oldest_age_seconds` (0 when empty), `PREFIX_oldest_age_max_seconds`,
    /// `PREFIX_blocked_now`, `PREFIX_waiting_now`, `PREFIX_blocked_seconds_total` (blocks in
    /// progress included), `PREFIX_idle_seconds_total`,
    /// `PREFIX_busy_seconds_total`, and the histogram `PREFIX_blocked_seconds`
    /// of finished blocks, whose buckets ([`BUCKETS_S`]) are counted to the
    /// histogram's precision (a value up to 1/32 above a bound may be counted
    /// in it).
    ///
    /// ```
    /// let (tx, _rx) = metered::sync_channel::<u32>(4);
    /// tx.send(1).unwrap();
    /// let text = tx.snapshot().to_prometheus("ingest_queue").unwrap();
    /// assert!(text.contains("# TYPE ingest_queue_depth gauge\ningest_queue_depth 1\n"));
    /// assert!(tx.snapshot().to_prometheus("2fast").is_err());
    /// ```
    pub fn to_prometheus(&self, prefix: &str) -> Result<String, InvalidPrefix> {
        if !valid(prefix) {
            return Err(InvalidPrefix(prefix.to_owned()));
        }
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: &dyn fmt::Display| {
            let _ = writeln!(
                out,
                "# HELP {prefix}_{name} {help}\n# TYPE {prefix}_{name} {kind}\n{prefix}_{name} {value}"
            );
        };
        let secs = |d: Duration| d.as_secs_f64();
        metric(
            "sent_total",
            "counter",
            "Messages sent (accepted by send or try_send), dropped ones included.",
            &self.sent,
        );
        metric(
            "received_total",
            "counter",
            "Messages received.",
            &self.received,
        );
        metric(
            "dropped_total",
            "counter",
            "Messages that will never be received (a drop policy, or left when the receivers went).",
            &self.dropped,
        );
        metric(
            "full_total",
            "counter",
            "Times a send found the buffer full.",
            &self.full_count,
        );
        metric("depth", "gauge", "Messages in the buffer.", &self.depth);
        metric(
            "capacity",
            "gauge",
            "Messages the buffer holds.",
            &self.capacity,
        );
        metric(
            "high_water",
            "gauge",
            "The most messages the buffer has held.",
            &self.high_water,
        );
        metric(
            "oldest_age_seconds",
            "gauge",
            "How long the oldest message in the buffer has been in it; 0 when empty.",
            &secs(self.oldest_age.unwrap_or_default()),
        );
        metric(
            "oldest_age_max_seconds",
            "gauge",
            "The longest any message has been in the buffer.",
            &secs(self.oldest_age_max),
        );
        metric(
            "blocked_now",
            "gauge",
            "Sends blocked on a full buffer now.",
            &self.blocked_now,
        );
        metric(
            "waiting_now",
            "gauge",
            "Receivers waiting for a message now.",
            &self.waiting_now,
        );
        metric(
            "blocked_seconds_total",
            "counter",
            "Time sends spent blocked on a full buffer, blocks in progress included.",
            &secs(self.blocked_time),
        );
        metric(
            "idle_seconds_total",
            "counter",
            "Receivers' time waiting for a message, summed.",
            &secs(self.idle_time),
        );
        metric(
            "busy_seconds_total",
            "counter",
            "Receivers' time working on a message, summed.",
            &secs(self.busy_time),
        );
        let name = format!("{prefix}_blocked_seconds");
        let _ = writeln!(
            out,
            "# HELP {name} How long each finished send that found the buffer full was blocked.\n\
             # TYPE {name} histogram"
        );
        for le in BUCKETS_S {
            let count = self.blocked.count_at_most(Duration::from_secs_f64(le));
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {count}");
        }
        let count = self.blocked.count();
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", secs(self.blocked.total()));
        let _ = writeln!(out, "{name}_count {count}");
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Policy, sync_channel_with};

    #[test]
    fn every_metric_has_help_and_type_lines_and_the_snapshots_values() {
        let (tx, rx) = sync_channel_with::<u32>(2, Policy::DropNewest);
        for n in 0..5 {
            tx.send(n).unwrap();
        }
        assert_eq!(rx.recv(), Ok(0));
        let s = tx.snapshot();
        let text = s.to_prometheus("q").unwrap();
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        for sample in &samples {
            let name = sample.split([' ', '{']).next().unwrap();
            let family = name
                .strip_suffix("_bucket")
                .or_else(|| name.strip_suffix("_sum"))
                .or_else(|| {
                    name.strip_suffix("_count")
                        .filter(|f| f.ends_with("seconds"))
                })
                .unwrap_or(name);
            assert!(text.contains(&format!("# HELP {family} ")), "{family}");
            assert!(text.contains(&format!("# TYPE {family} ")), "{family}");
        }
        for (line, value) in [
            ("q_sent_total", 5),
            ("q_received_total", 1),
            ("q_dropped_total", 3),
            ("q_full_total", 3),
            ("q_depth", 1),
            ("q_capacity", 2),
            ("q_high_water", 2),
            ("q_blocked_now", 0),
            ("q_blocked_seconds_count", 0),
        ] {
            assert!(
                samples.contains(&format!("{line} {value}").as_str()),
                "{line} {value}:\n{text}"
            );
        }
        assert_eq!(samples.len(), 14 + BUCKETS_S.len() + 3);
    }

    #[test]
    fn buckets_are_cumulative_and_end_at_the_count() {
        let (tx, rx) = crate::sync_channel::<u32>(1);
        tx.send(0).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| (1..4).for_each(|n| tx.send(n).unwrap()));
            for expected in 0..4 {
                // Three sends find the buffer full, each until a message is
                // taken: wait for each, by counts alone, before taking one.
                // (By the full count, not `blocked_now`: that may still show
                // the previous send, not yet returned, and taking early
                // would let the next send find room.)
                while expected < 3 && tx.snapshot().full_count <= u64::from(expected) {
                    std::thread::yield_now();
                }
                assert_eq!(rx.recv(), Ok(expected));
            }
        });
        let text = tx.snapshot().to_prometheus("q").unwrap();
        let buckets: Vec<u64> = text
            .lines()
            .filter(|l| l.starts_with("q_blocked_seconds_bucket"))
            .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(buckets.len(), BUCKETS_S.len() + 1);
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
        assert_eq!(buckets.last(), Some(&3));
        assert!(text.contains("\nq_blocked_seconds_count 3\n"), "{text}");
        assert!(text.contains("\nq_full_total 3\n"), "{text}");
    }

    #[test]
    fn prefixes_must_be_metric_names() {
        let s = crate::sync_channel::<u8>(1).0.snapshot();
        for bad in ["", "9lives", "has space", "dash-ed", "colon:"] {
            assert_eq!(s.to_prometheus(bad), Err(InvalidPrefix(bad.to_owned())));
        }
        for good in ["q", "_q", "my_app_queue2"] {
            assert!(s.to_prometheus(good).is_ok(), "{good}");
        }
    }
}
