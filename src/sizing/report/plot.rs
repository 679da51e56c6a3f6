//! Scatter plots in text for the sweep's report: a value against capacity on a
//! log axis, one mark per series. A plot only draws what its legend can name:
//! each series its own mark, [`OVERLAP`] where two series fall in one cell, and
//! nothing for a point that has no value (it is counted in [`Plot::skipped`]).

/// Marks for series by position, when the series' own numbers do not fit in one digit.
const MARKS: &[u8] = b"123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Drawn where points of two or more series fall in the same cell.
pub const OVERLAP: char = '*';

/// The mark of each consumer count's series: the count itself when every count
/// is a single digit, else a mark by position; `None` past the last mark (that
/// series is not drawn, and the legend says so).
pub fn marks(consumers: &[u32]) -> Vec<Option<char>> {
    if consumers.iter().all(|&c| c <= 9) {
        consumers.iter().map(|&c| char::from_digit(c, 10)).collect()
    } else {
        (0..consumers.len())
            .map(|i| MARKS.get(i).map(|&m| char::from(m)))
            .collect()
    }
}

/// One series: its mark, and its points as (capacity, value); `None` for a
/// point with nothing to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub mark: char,
    pub points: Vec<(u64, Option<f64>)>,
}

/// A drawn plot and what its legend must say about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    pub lines: Vec<String>,
    /// Some cell holds points of more than one series (drawn as [`OVERLAP`]).
    pub overlap: bool,
    /// Points not drawn because they have no value.
    pub skipped: usize,
}

/// Plots every series against capacity on a log axis: `height` rows and
/// `width` columns of plot, labels around it. The y axis runs from 0 to `top`,
/// or to the largest value when `top` is `None`.
pub fn plot(
    series: &[Series],
    top: Option<f64>,
    label: impl Fn(f64) -> String,
    width: usize,
    height: usize,
) -> Plot {
    let capacities = || series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let (Some(min), Some(max)) = (capacities().min(), capacities().max()) else {
        return Plot {
            lines: Vec::new(),
            overlap: false,
            skipped: 0,
        };
    };
    let (width, height) = (width.max(2), height.max(2));
    let values = || {
        series
            .iter()
            .flat_map(|s| s.points.iter().filter_map(|p| p.1))
    };
    let top = top.unwrap_or_else(|| values().fold(0.0, f64::max));
    let top = if top > 0.0 { top } else { 1.0 };
    let span = (max as f64).log10() - (min as f64).log10();
    let column = |capacity: u64| {
        if span == 0.0 {
            0
        } else {
            (((capacity as f64).log10() - (min as f64).log10()) / span * (width - 1) as f64).round()
                as usize
        }
    };
    let mut grid = vec![vec![' '; width]; height];
    let (mut overlap, mut skipped) = (false, 0);
    for s in series {
        for &(capacity, value) in &s.points {
            let Some(value) = value else {
                skipped += 1;
                continue;
            };
            let level = (value / top * (height - 1) as f64).round().max(0.0) as usize;
            let cell = &mut grid[height - 1 - level.min(height - 1)][column(capacity)];
            if *cell == ' ' || *cell == s.mark {
                *cell = s.mark;
            } else {
                *cell = OVERLAP;
                overlap = true;
            }
        }
    }
    let labels = [label(top), label(0.0)];
    let margin = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut lines = Vec::with_capacity(height + 2);
    for (i, row) in grid.iter().enumerate() {
        let tick = match i {
            0 => labels[0].as_str(),
            _ if i == height - 1 => labels[1].as_str(),
            _ => "",
        };
        let row: String = row.iter().collect();
        lines.push(format!("{tick:>margin$} |{}", row.trim_end()));
    }
    lines.push(format!("{:>margin$} +{}", "", "-".repeat(width)));
    let (left, right) = (min.to_string(), max.to_string());
    let gap = (width + 1).saturating_sub(left.len() + right.len()).max(1);
    lines.push(format!(
        "{:>margin$}  {left}{}{right}  (capacity, log scale)",
        "",
        " ".repeat(gap - 1)
    ));
    Plot {
        lines,
        overlap,
        skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(mark: char, values: &[Option<f64>]) -> Series {
        Series {
            mark,
            points: [1, 10, 100]
                .into_iter()
                .zip(values.iter().copied())
                .collect(),
        }
    }

    #[test]
    fn each_point_gets_its_series_mark_on_a_log_axis() {
        let one = series('1', &[Some(1.0), Some(0.5), Some(0.0)]);
        let two = series('2', &[Some(0.5), Some(0.0), Some(0.0)]);
        let p = plot(&[one, two], None, |x| format!("{x}"), 21, 3);
        assert_eq!(
            p.lines,
            vec![
                "1 |1".to_string(),
                "  |2         1".into(),
                // Both series are at 0 for capacity 100: one cell, the overlap mark.
                "0 |          2         *".into(),
                "  +---------------------".into(),
                "   1                 100  (capacity, log scale)".into(),
            ]
        );
        assert!(p.overlap);
        assert_eq!(p.skipped, 0);
        assert!(plot(&[], None, |x| format!("{x}"), 10, 3).lines.is_empty());
    }

    #[test]
    fn a_fixed_top_and_points_without_a_value() {
        let half = plot(
            &[series('1', &[None, Some(0.5)])],
            Some(1.0),
            |x| format!("{x}"),
            3,
            3,
        );
        // 0.5 sits half-way up; the point without a value is not drawn as 0.
        assert_eq!(half.lines[1], "  |  1");
        assert_eq!(half.lines[2], "0 |");
        assert_eq!(half.skipped, 1);
        assert!(!half.overlap);
    }

    #[test]
    fn one_series_never_overlaps_itself() {
        // Capacities 1000 and 1001 fall in one column.
        let s = Series {
            mark: '3',
            points: vec![(1, Some(0.0)), (1000, Some(0.0)), (1001, Some(0.0))],
        };
        let p = plot(&[s], Some(1.0), |x| format!("{x}"), 10, 2);
        assert!(!p.overlap);
        assert_eq!(p.lines[1], "0 |3        3");
    }

    #[test]
    fn marks_are_the_counts_when_they_fit() {
        assert_eq!(marks(&[1, 3]), [Some('1'), Some('3')]);
        assert_eq!(marks(&[1, 12]), [Some('1'), Some('2')]);
        let many: Vec<u32> = (1..=40).collect();
        let m = marks(&many);
        assert_eq!(m[9], Some('A'));
        assert_eq!(m[34], Some('Z'));
        assert_eq!(m[35], None);
    }
}
