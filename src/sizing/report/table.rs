//! The sweep's table, described once: each column's header in the text, its
//! fields in the CSV (the JSON's names for them), its unit, when it is shown,
//! and its figures from a row. The text and the CSV writers only walk this
//! list, so a header and the cells under it cannot drift apart.

use super::{count, human_bytes};
use crate::sizing::sweep::Row;
use crate::units::{factor, seconds};

/// One figure of a row, before its unit writes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Figure {
    Whole(u64),
    Number(f64),
    Name(&'static str),
    /// Not measured here: `-` in the text, empty in the CSV.
    Missing,
}

impl From<Option<f64>> for Figure {
    fn from(x: Option<f64>) -> Figure {
        x.map_or(Figure::Missing, Figure::Number)
    }
}

impl From<Option<u64>> for Figure {
    fn from(x: Option<u64>) -> Figure {
        x.map_or(Figure::Missing, Figure::Whole)
    }
}

/// How a column's figures are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    /// A number as it is: a capacity, a consumer count.
    Whole,
    /// A mean of counts: whole with one run, else to a tenth (the CSV: exact).
    Count,
    /// A share, as a percentage to three decimals (the text shows the first
    /// figure, the mean; the CSV the share itself).
    Percent,
    /// A share's 95% interval, `low to high` in percent (two figures).
    Interval,
    Seconds,
    /// A time's mean and the upper end of its interval; the text shows the
    /// bound (the upper end, or with one run the mean).
    UpperSeconds,
    /// A rate, to two decimals.
    PerSecond,
    /// A load: `1`, `1.5` (the CSV too).
    Factor,
    /// A policy's name.
    Name,
    /// Bytes: `1.5 MiB` in the text, exact in the CSV.
    Bytes,
}

/// When a column is shown, in the text or the CSV.
#[derive(Debug, Clone, Copy)]
pub(super) enum When {
    Always,
    /// With two runs or more (an interval).
    Runs,
    /// Where some row has the figure.
    Any(fn(&Row) -> bool),
}

impl When {
    fn holds(&self, rows: &[Row], runs: u32) -> bool {
        match self {
            When::Always => true,
            When::Runs => runs > 1,
            When::Any(has) => rows.iter().any(has),
        }
    }
}

/// One column of the table.
pub(super) struct Column {
    /// The text's header, right-aligned in `width` like every cell under it.
    pub header: &'static str,
    pub width: usize,
    /// The CSV's header fields, one per figure.
    pub fields: &'static [&'static str],
    pub unit: Unit,
    /// How long the column stays in the default text, which must fit
    /// [`NARROW`] columns: the lowest rank goes first (0: only with `--wide`).
    pub rank: u8,
    pub text: When,
    pub csv: When,
    /// The row's figures, one per field.
    pub figures: fn(&Row) -> Vec<Figure>,
}

/// The widest the default text table may be: an 80-100-column terminal
/// shows it unwrapped; `--wide` shows every column however wide.
pub(super) const NARROW: usize = 100;

impl Column {
    /// Whether the text has this column for these rows.
    pub fn in_text(&self, rows: &[Row], runs: u32) -> bool {
        self.text.holds(rows, runs)
    }

    /// The text's header: a mean count over several runs says it is one.
    pub fn text_header(&self, runs: u32) -> String {
        if runs > 1 && self.unit == Unit::Count {
            format!("mean {}", self.header)
        } else {
            self.header.to_owned()
        }
    }

    /// The width of the column in the text: its own, or its header's.
    pub fn text_width(&self, runs: u32) -> usize {
        self.width.max(self.text_header(runs).chars().count())
    }

    pub fn in_csv(&self, rows: &[Row], runs: u32) -> bool {
        self.csv.holds(rows, runs)
    }

    /// The text cell of a row, unpadded.
    pub fn text_cell(&self, row: &Row, runs: u32) -> String {
        let figures = (self.figures)(row);
        let number = |i: usize| match figures.get(i) {
            Some(Figure::Number(x)) => Some(*x),
            Some(Figure::Whole(n)) => Some(*n as f64),
            _ => None,
        };
        let dash = || "-".to_owned();
        match (
            self.unit,
            figures.first().copied().unwrap_or(Figure::Missing),
        ) {
            (_, Figure::Missing) => dash(),
            (_, Figure::Name(name)) => name.to_owned(),
            (Unit::Whole, Figure::Whole(n)) => n.to_string(),
            (Unit::Bytes, Figure::Whole(n)) => human_bytes(n),
            (Unit::Interval, _) => match (number(0), number(1)) {
                (Some(low), Some(high)) => format!("{:.3} to {:.3}", low * 100.0, high * 100.0),
                _ => dash(),
            },
            (Unit::UpperSeconds, _) => seconds(number(1).or(number(0)).unwrap_or(0.0)),
            (unit, _) => {
                let x = number(0).unwrap_or(0.0);
                match unit {
                    Unit::Count => count(x, runs),
                    Unit::Percent => format!("{:.3}", x * 100.0),
                    Unit::Seconds => seconds(x),
                    Unit::PerSecond => format!("{x:.2}"),
                    Unit::Factor => factor(x),
                    _ => x.to_string(),
                }
            }
        }
    }

    /// The CSV cells of a row, one per field.
    pub fn csv_cells(&self, row: &Row) -> Vec<String> {
        (self.figures)(row)
            .into_iter()
            .map(|figure| match (self.unit, figure) {
                (_, Figure::Missing) => String::new(),
                (_, Figure::Name(name)) => name.to_owned(),
                (_, Figure::Whole(n)) => n.to_string(),
                (Unit::Factor, Figure::Number(x)) => factor(x),
                (_, Figure::Number(x)) => x.to_string(),
            })
            .collect()
    }
}

/// Every column, in order: the figures of every row, then the what-if
/// columns, each only where it has figures.
pub(super) const COLUMNS: &[Column] = &[
    Column {
        header: "capacity",
        width: 9,
        rank: 9,
        fields: &["capacity"],
        unit: Unit::Whole,
        text: When::Always,
        csv: When::Always,
        figures: |r| vec![Figure::Whole(r.capacity)],
    },
    Column {
        header: "consumers",
        width: 9,
        rank: 9,
        fields: &["consumers"],
        unit: Unit::Whole,
        text: When::Always,
        csv: When::Always,
        figures: |r| vec![Figure::Whole(u64::from(r.consumers))],
    },
    Column {
        header: "produced",
        width: 10,
        rank: 0,
        fields: &["produced"],
        unit: Unit::Count,
        text: When::Always,
        csv: When::Always,
        figures: |r| vec![Figure::Number(r.produced)],
    },
    Column {
        header: "full",
        width: 10,
        rank: 0,
        fields: &["full_count"],
        unit: Unit::Count,
        text: When::Always,
        csv: When::Always,
        figures: |r| vec![Figure::Number(r.full_count)],
    },
    Column {
        header: "full %",
        width: 10,
        rank: 9,
        fields: &["full_share_mean"],
        unit: Unit::Percent,
        text: When::Always,
        csv: When::Always,
        figures: |r| vec![Figure::Number(r.full_share.mean)],
    },
    Column {
        header: "95% CI of full %",
        width: 18,
        rank: 8,
        fields: &["full_share_ci_low", "full_share_ci_high"],
        unit: Unit::Interval,
        text: When::Runs,
        csv: When::Always,
        figures: |r| vec![r.full_share.ci_low.into(), r.full_share.ci_high.into()],
    },
    Column {
        header: "M/M/c/K %",
        width: 10,
        rank: 5,
        fields: &["predicted_full_share"],
        unit: Unit::Percent,
        text: When::Any(|r| r.predicted_full_share.is_some()),
        csv: When::Always,
        figures: |r| vec![r.predicted_full_share.into()],
    },
    Column {
        header: "p50 wait",
        width: 9,
        rank: 0,
        fields: &["blocked_p50_s"],
        unit: Unit::Seconds,
        text: When::Always,
        csv: When::Always,
        figures: |r| vec![r.blocked_p50_s.into()],
    },
    Column {
        header: "p99 wait",
        width: 9,
        rank: 7,
        fields: &["blocked_p99_s"],
        unit: Unit::Seconds,
        text: When::Always,
        csv: When::Always,
        figures: |r| vec![r.blocked_p99_s.into()],
    },
    Column {
        header: "max wait",
        width: 9,
        rank: 4,
        fields: &["blocked_max_s"],
        unit: Unit::Seconds,
        text: When::Always,
        csv: When::Always,
        figures: |r| vec![r.blocked_max_s.into()],
    },
    Column {
        header: "blocked",
        width: 9,
        rank: 0,
        fields: &["blocked_total_s"],
        unit: Unit::Seconds,
        text: When::Always,
        csv: When::Always,
        figures: |r| vec![Figure::Number(r.blocked_total_s)],
    },
    Column {
        header: "max depth",
        width: 9,
        rank: 6,
        fields: &["max_depth"],
        unit: Unit::Count,
        text: When::Always,
        csv: When::Always,
        figures: |r| vec![Figure::Number(r.max_depth)],
    },
    Column {
        header: "in buffer",
        width: 10,
        rank: 0,
        fields: &["mean_in_buffer_s"],
        unit: Unit::Seconds,
        text: When::Always,
        csv: When::Always,
        figures: |r| vec![Figure::Number(r.mean_in_buffer_s)],
    },
    Column {
        header: "produced/s",
        width: 10,
        rank: 0,
        fields: &["throughput"],
        unit: Unit::PerSecond,
        text: When::Always,
        csv: When::Always,
        figures: |r| vec![r.throughput.into()],
    },
    Column {
        header: "load",
        width: 6,
        rank: 9,
        fields: &["load"],
        unit: Unit::Factor,
        text: When::Any(|r| r.load.is_some()),
        csv: When::Any(|r| r.load.is_some()),
        figures: |r| vec![Figure::Number(r.load.unwrap_or(1.0))],
    },
    Column {
        header: "when-full",
        width: 11,
        rank: 9,
        fields: &["when_full"],
        unit: Unit::Name,
        text: When::Any(|r| r.when_full.is_some()),
        csv: When::Any(|r| r.when_full.is_some()),
        figures: |r| {
            vec![
                r.when_full
                    .map_or(Figure::Missing, |p| Figure::Name(p.name())),
            ]
        },
    },
    Column {
        header: "dropped",
        width: 10,
        rank: 0,
        fields: &["dropped"],
        unit: Unit::Count,
        text: When::Any(|r| r.dropped.is_some()),
        csv: When::Any(|r| r.dropped.is_some()),
        figures: |r| vec![r.dropped.into()],
    },
    Column {
        header: "dropped %",
        width: 10,
        rank: 8,
        fields: &["drop_share_mean", "drop_share_ci_low", "drop_share_ci_high"],
        unit: Unit::Percent,
        text: When::Any(|r| r.dropped.is_some()),
        csv: When::Any(|r| r.dropped.is_some()),
        figures: |r| {
            let share = r.drop_share;
            vec![
                share.map(|d| d.mean).into(),
                share.and_then(|d| d.ci_low).into(),
                share.and_then(|d| d.ci_high).into(),
            ]
        },
    },
    Column {
        header: "p99 all (ub)",
        width: 12,
        rank: 8,
        fields: &["blocked_p99_all_s_mean", "blocked_p99_all_s_ci_high"],
        unit: Unit::UpperSeconds,
        text: When::Any(|r| r.blocked_p99_all_s.is_some()),
        csv: When::Any(|r| r.blocked_p99_all_s.is_some()),
        figures: |r| {
            let p99 = r.blocked_p99_all_s;
            vec![
                p99.map(|p| p.mean).into(),
                p99.and_then(|p| p.ci_high).into(),
            ]
        },
    },
    Column {
        header: "bytes",
        width: 10,
        rank: 6,
        fields: &["capacity_bytes"],
        unit: Unit::Bytes,
        text: When::Any(|r| r.capacity_bytes.is_some()),
        csv: When::Any(|r| r.capacity_bytes.is_some()),
        figures: |r| vec![r.capacity_bytes.into()],
    },
    Column {
        header: "peak bytes",
        width: 10,
        rank: 0,
        fields: &["peak_bytes"],
        unit: Unit::Bytes,
        text: When::Any(|r| r.capacity_bytes.is_some()),
        csv: When::Any(|r| r.capacity_bytes.is_some()),
        figures: |r| vec![r.peak_bytes.into()],
    },
];

/// The text's columns for these rows: with `wide` every one that has
/// figures, else those of rank 1 and up, the lowest rank (the rightmost of
/// equal rank) left out first until the table fits [`NARROW`]. The second
/// list is what was left out, for the line that says so.
pub(super) fn text_columns(
    rows: &[Row],
    runs: u32,
    wide: bool,
) -> (Vec<&'static Column>, Vec<&'static Column>) {
    let mut shown: Vec<&Column> = COLUMNS.iter().filter(|c| c.in_text(rows, runs)).collect();
    if wide {
        return (shown, Vec::new());
    }
    let mut left_out = Vec::new();
    let width = |columns: &[&Column]| {
        columns
            .iter()
            .map(|c| c.text_width(runs) + 1)
            .sum::<usize>()
    };
    while let Some((i, _)) = shown
        .iter()
        .enumerate()
        .filter(|(_, c)| c.rank == 0 || width(&shown) > NARROW)
        .min_by_key(|(i, c)| (c.rank, std::cmp::Reverse(*i)))
    {
        if shown[i].rank >= 9 {
            break; // what identifies a row is never left out
        }
        left_out.push(shown.remove(i));
    }
    left_out.sort_by_key(|c| COLUMNS.iter().position(|d| d.header == c.header));
    (shown, left_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_has_a_figure_per_field_and_a_header_that_fits() {
        let row = Row::example(10, 2, 0.5, Some(0.6));
        for column in COLUMNS {
            assert_eq!(
                (column.figures)(&row).len(),
                column.fields.len(),
                "{}",
                column.header
            );
            assert!(column.header.len() <= column.width, "{}", column.header);
        }
    }
}
