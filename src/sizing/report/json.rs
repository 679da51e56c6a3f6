//! The sweep as one JSON object: the configuration that matters to the
//! figures, every row (serialised as they are, the names the CSV's header
//! uses) and the recommendation, one per load and policy where several.

use super::INTERVAL_METHOD;
use crate::sizing::recommend::several_recommendations;
use crate::sizing::sweep::{self, Row, SweepConfig};
use crate::traffic::ServiceOrder;

/// The object, on one line.
pub(super) fn report(config: &SweepConfig, rows: &[Row]) -> String {
    let decided = sweep::decide(config, rows);
    let recommendation = &decided[0];
    let runs = config.runs.max(1);
    let traffic = &config.traffic;
    let mut object = serde_json::json!({
        "seed": config.seed,
        "runs": runs,
        "interval": (runs > 1).then_some(INTERVAL_METHOD),
        "duration_s": config.duration.as_secs_f64(),
        "target_full": config.target_full,
        "rows": rows,
        "recommendation": recommendation,
    });
    // Only with traffic from files or loads: a plain sweep's JSON stays as it was.
    if let Some(t) = &traffic.trace {
        object["arrivals_from"] = serde_json::json!({
            "file": t.name,
            "format": t.format.name(),
            "lines": t.lines_within(config.duration),
            "out_of_order": t.out_of_order,
            "span_s": t.span().as_secs_f64(),
        });
    }
    if let Some((file, order)) = &traffic.service {
        object["service_from"] = serde_json::json!({
            "file": file.name,
            "times": file.times.len(),
            "mean_s": file.mean().as_secs_f64(),
            "order": match order {
                ServiceOrder::Sample => "sample",
                ServiceOrder::Replay => "replay",
            },
        });
    }
    if traffic.swept() {
        object["loads"] = serde_json::json!(traffic.loads);
    }
    if config.what_if.swept() {
        object["when_full"] = serde_json::json!(config.what_if.when_full);
    }
    if let Some(p99) = config.what_if.target_p99 {
        object["target_p99_s"] = serde_json::json!(p99.as_secs_f64());
    }
    if let Some(drop) = config.what_if.target_drop {
        object["target_drop"] = serde_json::json!(drop);
    }
    if let Some(size) = config.what_if.message_size {
        object["message_size"] = serde_json::json!(size);
    }
    if several_recommendations(config) {
        object["recommendations"] = serde_json::json!(decided);
    }
    object.to_string() + "\n"
}
