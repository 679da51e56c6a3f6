//! `--metrics ADDR`: the live counters over HTTP, as the original's expvar idea
//! asks: `GET /debug/vars` (expvar-style JSON) and `GET /metrics` (Prometheus
//! text format). It runs on its own std thread, only reads the counters, and
//! stops with the run. Formatting is pure ([`View`]) so it is tested without a
//! socket; the connections are handled in [`server`], which sets the limits.

mod server;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;

use serde_json::json;

use crate::live::control::Shared;
use crate::live::reading::Reading;

pub use server::{Request, Server};

/// Upper bounds of the blocked-time histogram's buckets, in model seconds.
const BUCKETS_S: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Answers requests until `done` is set (see [`server`] for the limits).
/// Each answer is one reading of the counters.
pub fn serve(server: Server, shared: &Shared, done: &AtomicBool) {
    let answer = |request: &Request| {
        route(
            request.method,
            request.path,
            &View::of(&Reading::take(shared)),
        )
    };
    server.serve(&answer, done);
}

/// Status, content type and body for a request.
fn route(method: &str, url: &str, view: &View) -> (u16, &'static str, String) {
    let path = url.split('?').next().unwrap_or("");
    let known = matches!(path, "/metrics" | "/debug/vars");
    if !known {
        return (404, "text/plain; charset=utf-8", "not found\n".into());
    }
    if !matches!(method, "GET" | "HEAD") {
        return (
            405,
            "text/plain; charset=utf-8",
            "method not allowed\n".into(),
        );
    }
    match path {
        "/metrics" => (
            200,
            "text/plain; version=0.0.4; charset=utf-8",
            view.prometheus(),
        ),
        _ => (200, "application/json", view.expvar()),
    }
}

/// The counters at one moment, in model time: one [`Reading`], formatted.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub full: u64,
    pub dropped: u64,
    pub produced: u64,
    pub consumed: u64,
    pub depth: u64,
    pub capacity: u64,
    pub high_water: u64,
    pub blocked_count: u64,
    pub blocked_sum_s: f64,
    /// Cumulative counts of blocked sends at most each of [`BUCKETS_S`].
    pub blocked_buckets: Vec<u64>,
    pub blocked_p99_s: Option<f64>,
    pub faithful: bool,
    pub schedule_lag_s: f64,
    /// Model seconds the oldest message in the buffer has waited; 0 when empty.
    pub oldest_age_s: f64,
}

impl View {
    pub fn of(r: &Reading) -> View {
        View {
            full: r.full_count,
            dropped: r.dropped,
            produced: r.produced,
            consumed: r.consumed,
            depth: r.depth,
            capacity: r.capacity,
            high_water: r.high_water,
            blocked_count: r.blocked.count,
            blocked_sum_s: r.blocked.total_s,
            blocked_buckets: BUCKETS_S.iter().map(|&le| r.blocked_at_most(le)).collect(),
            blocked_p99_s: r.blocked.p99_s,
            faithful: r.faithful,
            schedule_lag_s: r.schedule_lag_s,
            oldest_age_s: r.oldest_age_s.unwrap_or(0.0),
        }
    }

    /// Prometheus text exposition format, version 0.0.4.
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        metric(
            "burstbuf_buffer_full_total",
            "counter",
            "Times the producer found the buffer full.",
            self.full.to_string(),
        );
        metric(
            "burstbuf_dropped_total",
            "counter",
            "Messages a drop policy (--when-full) discarded.",
            self.dropped.to_string(),
        );
        metric(
            "burstbuf_produced_total",
            "counter",
            "Messages offered to the buffer (dropped ones included).",
            self.produced.to_string(),
        );
        metric(
            "burstbuf_consumed_total",
            "counter",
            "Messages taken out of the buffer.",
            self.consumed.to_string(),
        );
        metric(
            "burstbuf_buffer_depth",
            "gauge",
            "Messages in the buffer now.",
            self.depth.to_string(),
        );
        metric(
            "burstbuf_buffer_capacity",
            "gauge",
            "Messages the buffer holds.",
            self.capacity.to_string(),
        );
        metric(
            "burstbuf_oldest_item_age_seconds",
            "gauge",
            "Model time the oldest message in the buffer has waited; 0 when empty.",
            self.oldest_age_s.to_string(),
        );
        metric(
            "burstbuf_schedule_lag_seconds",
            "gauge",
            "The most model time a thread fell behind its schedule.",
            self.schedule_lag_s.to_string(),
        );
        metric(
            "burstbuf_faithful",
            "gauge",
            "1 while the run keeps the model's pace, 0 once it could not.",
            u8::from(self.faithful).to_string(),
        );
        let name = "burstbuf_producer_blocked_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Model time the producer spent blocked on a full buffer, per send.\n\
             # TYPE {name} histogram"
        );
        for (le, count) in BUCKETS_S.iter().zip(&self.blocked_buckets) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {count}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", self.blocked_count);
        let _ = writeln!(out, "{name}_sum {}", self.blocked_sum_s);
        let _ = writeln!(out, "{name}_count {}", self.blocked_count);
        out
    }

    /// expvar-style JSON: one object of named variables.
    pub fn expvar(&self) -> String {
        json!({
            "cmdline": std::env::args().collect::<Vec<_>>(),
            "buffer_full_total": self.full,
            "dropped_total": self.dropped,
            "produced_total": self.produced,
            "consumed_total": self.consumed,
            "buffer_depth": self.depth,
            "buffer_capacity": self.capacity,
            "buffer_high_water": self.high_water,
            "faithful": self.faithful,
            "schedule_lag_s": self.schedule_lag_s,
            "oldest_item_age_s": self.oldest_age_s,
            "producer_blocked_seconds": {
                "count": self.blocked_count,
                "sum": self.blocked_sum_s,
                "p99": self.blocked_p99_s,
            },
        })
        .to_string()
            + "\n"
    }
}

/// An address refused: only loopback unless the user says otherwise, since
/// the endpoint has no authentication.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0} is not a loopback address; add --metrics-public to serve on it")]
pub struct NotLoopback(pub SocketAddr);

/// Whether `addr` may be served on.
pub fn check_address(addr: &SocketAddr, public: bool) -> Result<(), NotLoopback> {
    if addr.ip().is_loopback() || public {
        Ok(())
    } else {
        Err(NotLoopback(*addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> View {
        View {
            full: 23,
            dropped: 4,
            produced: 199,
            consumed: 120,
            depth: 79,
            capacity: 100,
            high_water: 100,
            blocked_count: 23,
            blocked_sum_s: 6.5,
            blocked_buckets: vec![0, 0, 0, 0, 0, 0, 1, 23, 23, 23, 23, 23],
            blocked_p99_s: Some(0.3),
            faithful: true,
            schedule_lag_s: 0.002,
            oldest_age_s: 7.5,
        }
    }

    #[test]
    fn prometheus_text() {
        let text = view().prometheus();
        for line in [
            "# TYPE burstbuf_buffer_full_total counter",
            "burstbuf_buffer_full_total 23",
            "# TYPE burstbuf_dropped_total counter",
            "burstbuf_dropped_total 4",
            "burstbuf_produced_total 199",
            "burstbuf_consumed_total 120",
            "# TYPE burstbuf_buffer_depth gauge",
            "burstbuf_buffer_depth 79",
            "burstbuf_buffer_capacity 100",
            "# TYPE burstbuf_producer_blocked_seconds histogram",
            "burstbuf_producer_blocked_seconds_bucket{le=\"0.25\"} 1",
            "burstbuf_producer_blocked_seconds_bucket{le=\"0.5\"} 23",
            "burstbuf_producer_blocked_seconds_bucket{le=\"+Inf\"} 23",
            "burstbuf_producer_blocked_seconds_sum 6.5",
            "burstbuf_producer_blocked_seconds_count 23",
            "burstbuf_faithful 1",
            "burstbuf_schedule_lag_seconds 0.002",
            "# TYPE burstbuf_oldest_item_age_seconds gauge",
            "burstbuf_oldest_item_age_seconds 7.5",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
        }
    }

    #[test]
    fn expvar_json() {
        let value: serde_json::Value = serde_json::from_str(&view().expvar()).unwrap();
        assert_eq!(value["buffer_full_total"], 23);
        assert_eq!(value["dropped_total"], 4);
        assert_eq!(value["buffer_depth"], 79);
        assert_eq!(value["producer_blocked_seconds"]["p99"], 0.3);
        assert_eq!(value["faithful"], true);
        assert_eq!(value["oldest_item_age_s"], 7.5);
        assert!(value["cmdline"].is_array());
    }

    #[test]
    fn routes() {
        let v = view();
        assert_eq!(route("GET", "/metrics", &v).0, 200);
        assert_eq!(route("GET", "/debug/vars?x=1", &v).0, 200);
        assert_eq!(route("HEAD", "/metrics", &v).0, 200);
        assert_eq!(route("GET", "/", &v).0, 404);
        assert_eq!(route("GET", "/metrics/x", &v).0, 404);
        assert_eq!(route("POST", "/metrics", &v).0, 405);
        assert_eq!(route("DELETE", "/debug/vars", &v).0, 405);
    }

    #[test]
    fn only_loopback_unless_public() {
        let local: SocketAddr = "127.0.0.1:9898".parse().unwrap();
        let local6: SocketAddr = "[::1]:9898".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:9898".parse().unwrap();
        assert!(check_address(&local, false).is_ok());
        assert!(check_address(&local6, false).is_ok());
        assert!(
            check_address(&any, false)
                .unwrap_err()
                .to_string()
                .contains("--metrics-public")
        );
        assert!(check_address(&any, true).is_ok());
    }
}
