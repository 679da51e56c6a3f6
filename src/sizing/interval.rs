//! The 95% confidence interval of a share measured over several runs.
//!
//! Method: a Student t interval over the per-run shares (mean ± t₀.₉₇₅,R−1 ·
//! s/√R), widened where needed to cover the Wilson score interval of all the
//! runs' sends pooled, and clamped to [0, 1]. The t interval is the honest one
//! for a simulation: successive sends within a run are strongly correlated (a
//! burst fills the buffer for many sends in a row), so the runs, not the sends,
//! are the independent samples. But when every run agrees — no send ever
//! found the buffer full, say — the runs' spread is 0 and the t interval
//! would claim certainty; the pooled Wilson interval is the least margin that
//! that many sends can carry.

/// z for a two-sided 95% interval.
const Z_95: f64 = 1.959_963_984_540_054;

/// t₀.₉₇₅ for 1 to 30 degrees of freedom (the usual table).
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// The 97.5% quantile of Student's t with `df` degrees of freedom (`df` ≥ 1):
/// the table up to 30, then the Cornish–Fisher expansion around z, which is
/// within 1e-4 of the exact value from 30 on.
pub fn t_975(df: u64) -> f64 {
    match df {
        0 => f64::INFINITY,
        1..=30 => T_975[df as usize - 1],
        _ => {
            let (z, v) = (Z_95, df as f64);
            let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
            z + (z3 + z) / (4.0 * v)
                + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
                + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v * v * v)
        }
    }
}

/// The Wilson score 95% interval of `hits` in `n` trials; `None` for no trials.
pub fn wilson(hits: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (n, p) = (n as f64, hits as f64 / n as f64);
    let z2 = Z_95 * Z_95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z_95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // At the ends the bound is exact; computed, it could miss by a rounding.
    let low = if hits == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if p == 1.0 {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Some((low, high))
}

/// A share measured over runs: its mean and, with two runs or more, its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    /// `None` with one run: one run has no spread to measure.
    pub interval: Option<(f64, f64)>,
}

/// The mean of the per-run `shares` and their 95% interval (see the module
/// doc), given the pooled counts they came from (`hits` of `n` in all runs).
pub fn share(shares: &[f64], hits: u64, n: u64) -> Estimate {
    let runs = shares.len();
    let mean = match shares.first() {
        None => 0.0,
        // Exactly the share when all agree, free of rounding.
        Some(&first) if shares.iter().all(|&s| s == first) => first,
        Some(_) => shares.iter().sum::<f64>() / runs as f64,
    };
    if runs < 2 {
        return Estimate {
            mean,
            interval: None,
        };
    }
    let variance = shares.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (runs - 1) as f64;
    let half = t_975(runs as u64 - 1) * (variance / runs as f64).sqrt();
    let (mut low, mut high) = (mean - half, mean + half);
    if let Some((w_low, w_high)) = wilson(hits, n) {
        low = low.min(w_low);
        high = high.max(w_high);
    }
    Estimate {
        mean,
        interval: Some((low.clamp(0.0, 1.0), high.clamp(0.0, 1.0))),
    }
}

/// The upper end of the 95% Student t interval of the mean of `values`;
/// `None` with fewer than two.
pub fn mean_upper(values: &[f64]) -> Option<f64> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Some(mean + t_975(n as u64 - 1) * (variance / n as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upper_bound_of_a_mean() {
        assert_eq!(mean_upper(&[1.0]), None);
        assert_eq!(mean_upper(&[2.0, 2.0, 2.0]), Some(2.0));
        // mean 2, s = 1, n = 3: 2 + 4.303 / sqrt(3).
        let upper = mean_upper(&[1.0, 2.0, 3.0]).unwrap();
        assert!(
            (upper - (2.0 + 4.303 / 3f64.sqrt())).abs() < 1e-9,
            "{upper}"
        );
    }

    #[test]
    fn t_quantiles_from_the_table_and_the_expansion() {
        assert_eq!(t_975(1), 12.706);
        assert_eq!(t_975(9), 2.262);
        // The expansion meets the table at 30 and tends to z.
        assert!((t_975(31) - 2.040).abs() < 1e-3, "{}", t_975(31));
        assert!((t_975(60) - 2.000).abs() < 1e-3, "{}", t_975(60));
        assert!((t_975(120) - 1.980).abs() < 1e-3, "{}", t_975(120));
        assert!((t_975(1_000_000) - Z_95).abs() < 1e-5);
        assert!(t_975(31) < t_975(30));
    }

    #[test]
    fn wilson_intervals() {
        assert_eq!(wilson(0, 0), None);
        // 0 of 100: from 0 to about 3.7% (the "rule of three" says 3%).
        let (low, high) = wilson(0, 100).unwrap();
        assert_eq!(low, 0.0);
        assert!((high - 0.0370).abs() < 1e-3, "{high}");
        // 50 of 100: 0.404 to 0.596.
        let (low, high) = wilson(50, 100).unwrap();
        assert!((low - 0.4038).abs() < 1e-3 && (high - 0.5962).abs() < 1e-3);
    }

    #[test]
    fn a_t_interval_over_the_runs() {
        // Mean 0.02, s = 0.01 (shares 0.01, 0.02, 0.03), t(2) = 4.303:
        // half-width 4.303 · 0.01/√3 = 0.02484.
        let e = share(&[0.01, 0.02, 0.03], 6_000, 300_000);
        assert!((e.mean - 0.02).abs() < 1e-12);
        let (low, high) = e.interval.unwrap();
        assert_eq!(low, 0.0, "clamped at 0");
        assert!((high - 0.04484).abs() < 1e-4, "{high}");
    }

    #[test]
    fn runs_that_agree_still_carry_the_binomial_margin() {
        // Ten runs, no send ever found the buffer full: not "certainly 0".
        let e = share(&[0.0; 10], 0, 10_000);
        assert_eq!(e.mean, 0.0);
        let (low, high) = e.interval.unwrap();
        assert_eq!(low, 0.0);
        assert!(high > 3.0e-4 && high < 4.0e-4, "{high}");
        // Every send full in every run: the interval reaches 1 and stays within it.
        let (_, high) = share(&[1.0; 4], 400, 400).interval.unwrap();
        assert_eq!(high, 1.0);
    }

    #[test]
    fn one_run_has_no_interval() {
        let e = share(&[0.25], 25, 100);
        assert_eq!(e.mean, 0.25);
        assert_eq!(e.interval, None);
    }
}
