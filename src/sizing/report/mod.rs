//! What `burstbuf sweep` prints, as pure functions of its configuration and
//! rows: one file per format, as hyperfine's `export/`. The text and the CSV
//! are built from one description of the table (`table`), the JSON from the
//! rows' own serialisation, whose names the CSV's header uses.
//!
//! - `table`: every column once: its header, CSV fields, unit and figures.
//! - `text`: the heading, the aligned table (at most 100 columns, or every
//!   column with `--wide`), the plots (`plot`: log scale for the full share,
//!   the target drawn) per load and policy, and the recommendation in words,
//!   prose wrapped at 100 columns.
//! - `csv`: the table as CSV.
//! - `json`: everything as one JSON object.

mod csv;
mod json;
mod plot;
mod table;
mod text;

use crate::sizing::sweep::{Row, SweepConfig, TableFormat};

pub use text::recommendation;

/// How the interval is computed, for the report and the JSON.
pub const INTERVAL_METHOD: &str = "Student t over the runs' full shares, joined with the \
     Wilson score interval at the runs' effective number of sends (t of the runs that saw a full \
     send) and with the Wilson interval of all their sends pooled, clamped to [0, 1]";

/// Everything `burstbuf sweep` prints, in the chosen format.
pub fn report(config: &SweepConfig, rows: &[Row]) -> String {
    match config.format {
        TableFormat::Text | TableFormat::Wide => text::report(config, rows),
        TableFormat::Csv => csv::table(rows, config.runs.max(1)),
        TableFormat::Json => json::report(config, rows),
    }
}

/// A share as a percentage with the digits it needs (at most four significant):
/// 0.07 is `7%`, not `7.000000000000001%`.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p == 0.0 || !p.is_finite() {
        return format!("{p}%");
    }
    let digits = 3 - p.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits);
    let rounded = (p * scale).round() / scale;
    format!("{rounded}%")
}

/// Bytes in binary units: 1.5 MiB.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A mean count: whole with one run, else to a tenth.
pub(super) fn count(x: f64, runs: u32) -> String {
    if runs > 1 {
        format!("{x:.1}")
    } else {
        format!("{x:.0}")
    }
}

#[cfg(test)]
mod tests;
