//! The sweep's table as CSV: the header is the JSON's field names (the full
//! share's as `full_share_mean`, `full_share_ci_low`, `full_share_ci_high`),
//! each column's cells written by the column that names them (`table`).

use super::table::COLUMNS;
use crate::sizing::sweep::Row;

/// The header and one line per row.
pub(super) fn table(rows: &[Row], runs: u32) -> String {
    let columns: Vec<_> = COLUMNS.iter().filter(|c| c.in_csv(rows, runs)).collect();
    let header: Vec<&str> = columns
        .iter()
        .flat_map(|c| c.fields.iter().copied())
        .collect();
    let mut out = header.join(",") + "\n";
    for row in rows {
        let cells: Vec<String> = columns.iter().flat_map(|c| c.csv_cells(row)).collect();
        out += &cells.join(",");
        out.push('\n');
    }
    out
}
