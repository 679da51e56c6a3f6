//! Scatter plots in text for the sweep's report: a value against capacity on a
//! log axis, one mark per series; the value's axis linear, or logarithmic
//! with a row for zero and a target drawn across as a line of [`TARGET`].
//! A plot only draws what its legend can name: each series its own mark,
//! [`OVERLAP`] where two series fall in one cell, the target line, and
//! nothing for a point that has no value (it is counted in [`Plot::skipped`]).

/// Marks for series by position, when the series' own numbers do not fit in one digit.
const MARKS: &[u8] = b"123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Drawn where points of two or more series fall in the same cell.
pub const OVERLAP: char = '*';

/// The target's line, across the cells no point takes.
pub const TARGET: char = '.';

/// How the value's axis runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// From 0 to `top`, or to the largest value when `None`.
    Linear { top: Option<f64> },
    /// Decades from below the smallest value above 0 (and the target) up to
    /// `top`, with the bottom row for 0; the target drawn across as a line.
    Log { top: f64, target: Option<f64> },
}

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
/// `width` columns of plot, labels around it, the value's axis as `scale`.
pub fn plot(
    series: &[Series],
    scale: Scale,
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
    let (width, height) = (width.max(2), height.max(3));
    let values = || {
        series
            .iter()
            .flat_map(|s| s.points.iter().filter_map(|p| p.1))
    };
    let rows = Rows::new(scale, values(), height);
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
            let cell = &mut grid[height - 1 - rows.level(value)][column(capacity)];
            if *cell == ' ' || *cell == s.mark {
                *cell = s.mark;
            } else {
                *cell = OVERLAP;
                overlap = true;
            }
        }
    }
    if let Scale::Log {
        target: Some(target),
        ..
    } = scale
    {
        for cell in &mut grid[height - 1 - rows.level(target)] {
            if *cell == ' ' {
                *cell = TARGET;
            }
        }
    }
    let ticks = rows.ticks(scale, &label);
    let margin = ticks
        .iter()
        .map(|(_, l)| l.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines = Vec::with_capacity(height + 2);
    for (i, row) in grid.iter().enumerate() {
        let level = height - 1 - i;
        let tick = ticks
            .iter()
            .find(|(l, _)| *l == level)
            .map_or("", |(_, t)| t.as_str());
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

/// Where a value falls: its row counted from the bottom (0).
struct Rows {
    height: usize,
    /// Linear: the top. Log: the decades at the bottom (above the zero row)
    /// and the top, as powers of ten.
    low: f64,
    high: f64,
    log: bool,
}

impl Rows {
    fn new(scale: Scale, values: impl Iterator<Item = f64> + Clone, height: usize) -> Rows {
        match scale {
            Scale::Linear { top } => {
                let top = top.unwrap_or_else(|| values.fold(0.0, f64::max));
                Rows {
                    height,
                    low: 0.0,
                    high: if top > 0.0 { top } else { 1.0 },
                    log: false,
                }
            }
            Scale::Log { top, target } => {
                // A decade below the target, so that what meets it shows
                // below its line.
                let smallest = values
                    .chain(target.map(|t| t / 10.0))
                    .filter(|v| *v > 0.0)
                    .fold(top, f64::min);
                let high = top.log10().ceil();
                // At least one decade; at most as many as there are rows.
                let low = smallest.log10().floor().min(high - 1.0);
                let low = low.max(high - (height - 1) as f64);
                Rows {
                    height,
                    low,
                    high,
                    log: true,
                }
            }
        }
    }

    fn level(&self, value: f64) -> usize {
        let top = self.height - 1;
        let level = if !self.log {
            (value / self.high * top as f64).round()
        } else if value <= 0.0 {
            0.0
        } else {
            // Rows 1 to top span the decades; a value below the lowest shares row 1.
            let at = (value.log10() - self.low) / (self.high - self.low);
            1.0 + (at * (top - 1) as f64).round().max(0.0)
        };
        (level.max(0.0) as usize).min(top)
    }

    /// The labelled rows: linear, the top and 0; log, every decade that
    /// has a row to itself, the target, and 0.
    fn ticks(&self, scale: Scale, label: &impl Fn(f64) -> String) -> Vec<(usize, String)> {
        let mut ticks = vec![(0, label(0.0))];
        let mut add = |value: f64| {
            let level = self.level(value);
            if !ticks.iter().any(|(l, _)| *l == level) {
                ticks.push((level, label(value)));
            }
        };
        match scale {
            Scale::Linear { .. } => add(self.high),
            Scale::Log { target, .. } => {
                if let Some(target) = target {
                    add(target);
                }
                let mut decade = self.high;
                while decade >= self.low {
                    add(10f64.powf(decade));
                    decade -= 1.0;
                }
            }
        }
        ticks
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
        let p = plot(
            &[one, two],
            Scale::Linear { top: None },
            |x| format!("{x}"),
            21,
            3,
        );
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
        assert!(
            plot(&[], Scale::Linear { top: None }, |x| format!("{x}"), 10, 3)
                .lines
                .is_empty()
        );
    }

    #[test]
    fn a_fixed_top_and_points_without_a_value() {
        let half = plot(
            &[series('1', &[None, Some(0.5)])],
            Scale::Linear { top: Some(1.0) },
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
        let p = plot(
            &[s],
            Scale::Linear { top: Some(1.0) },
            |x| format!("{x}"),
            10,
            3,
        );
        assert!(!p.overlap);
        assert_eq!(p.lines[2], "0 |3        3");
    }

    #[test]
    fn a_log_scale_shows_small_shares_and_the_target_as_a_line() {
        let s = Series {
            mark: '1',
            points: vec![
                (1, Some(0.1)),
                (10, Some(0.01)),
                (100, Some(0.0001)),
                (1000, Some(0.0)),
            ],
        };
        let p = plot(
            &[s],
            Scale::Log {
                top: 1.0,
                target: Some(0.01),
            },
            |x| format!("{x}"),
            7,
            6,
        );
        assert_eq!(
            p.lines,
            vec![
                "     1 |".to_string(),
                "   0.1 |1".into(),
                // The target's row: the point on it, dots where no point is.
                "  0.01 |..1....".into(),
                " 0.001 |".into(),
                "0.0001 |    1".into(),
                "     0 |      1".into(),
                "       +-------".into(),
                "        1  1000  (capacity, log scale)".into(),
            ]
        );
        // Fewer rows than decades: the lowest decades are cut, small values
        // share the lowest row above 0; 0 keeps its row.
        let tiny = Series {
            mark: '2',
            points: vec![(1, Some(1e-9)), (10, Some(0.0))],
        };
        let p = plot(
            &[tiny],
            Scale::Log {
                top: 1.0,
                target: None,
            },
            |x| format!("{x:e}"),
            2,
            4,
        );
        assert_eq!(p.lines[2], "1e-3 |2");
        assert_eq!(p.lines[3], " 0e0 | 2");
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
