//! The 95% confidence interval of a share measured over several runs.
//!
//! Method: the union of three intervals, clamped to [0, 1]:
//!
//! 1. a Student t interval over the per-run shares (mean ± t₀.₉₇₅,R−1 · s/√R);
//! 2. a Wilson score interval of the mean share at the runs' *effective*
//!    number of sends, ñ = p̄(1 − p̄) / (s²/R) (at most the sends pooled), with
//!    t₀.₉₇₅,k−1 in place of z, k the runs that saw a full send at all (at
//!    least 2) — Kish's design effect and Korn & Graubard's degrees of
//!    freedom for a share measured in clusters;
//! 3. the Wilson score interval of all the runs' sends pooled.
//!
//! Why: successive sends within a run are strongly correlated (a burst fills
//! the buffer for many sends in a row), so the runs, not the sends, are the
//! independent samples, and the t interval is the honest one for a share of
//! a few percent. Near zero it is not: there most runs see a few full
//! episodes or none, the per-run shares are skewed to the right, and a
//! symmetric interval misses the long-run value *above* its upper bound far
//! more often than 2.5% (1000 default sweeps: 10% at a share of 0.05%). The
//! score interval at ñ is skewed the same way as the shares (its upper end
//! grows with s²/p̄ where t's grows with s), which is what keeps its coverage
//! near zero. When every run agrees — no send ever found the buffer full —
//! s is 0 and neither can be computed: the pooled Wilson interval is the
//! least margin that that many sends can carry. `examples/coverage.rs`
//! measures the coverage against long runs (see the README).

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
    (n > 0).then(|| score(hits as f64 / n as f64, n as f64, Z_95))
}

/// The score interval of a share `p` observed over `n` (not necessarily
/// whole) trials, with the quantile `z`.
fn score(p: f64, n: f64, z: f64) -> (f64, f64) {
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // At the ends the bound is exact; computed, it could miss by a rounding.
    let low = if p == 0.0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if p == 1.0 {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (low, high)
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
    let t = t_975(runs as u64 - 1);
    let variance_of_mean = variance / runs as f64;
    let half = t * variance_of_mean.sqrt();
    let (mut low, mut high) = (mean - half, mean + half);
    if variance_of_mean > 0.0 && mean > 0.0 && mean < 1.0 {
        // The sends the runs' spread is worth, never more than were made.
        let effective = (mean * (1.0 - mean) / variance_of_mean).min(n.max(1) as f64);
        // The spread is measured only by the runs that saw the rarer outcome
        // (near zero: the runs with a full send at all), so its degrees of
        // freedom are theirs, less one.
        let informative = shares
            .iter()
            .filter(|&&s| if mean <= 0.5 { s > 0.0 } else { s < 1.0 })
            .count();
        let df = informative.saturating_sub(1).clamp(1, runs - 1);
        let (s_low, s_high) = score(mean, effective, t_975(df as u64));
        low = low.min(s_low);
        high = high.max(s_high);
    }
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
    fn a_t_interval_and_a_score_interval_over_the_runs() {
        // Mean 0.02, s = 0.01 (shares 0.01, 0.02, 0.03), t(2) = 4.303: the t
        // interval is 0.02 ± 4.303 · 0.01/√3 = 0.02 ± 0.02484.
        let e = share(&[0.01, 0.02, 0.03], 6_000, 300_000);
        assert!((e.mean - 0.02).abs() < 1e-12);
        let (low, high) = e.interval.unwrap();
        assert_eq!(low, 0.0, "clamped at 0: the t interval's low end");
        // ñ = 0.02 · 0.98 / (0.0001/3) = 588 sends; the score interval of
        // 0.02 at 588 with z = t(2) reaches 0.06317 (worked by hand), past
        // the t interval's 0.04484: the margin is skewed as the shares are.
        assert!((high - 0.063168).abs() < 1e-5, "{high}");
    }

    #[test]
    fn a_share_seen_by_few_runs_gets_their_degrees_of_freedom() {
        // Two runs of ten saw full sends: the spread is theirs, df = 1.
        let mut shares = [0.0f64; 10];
        shares[0] = 0.001;
        shares[1] = 0.002;
        let mean: f64 = 0.0003;
        let variance = shares.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / 9.0;
        let effective = mean * (1.0 - mean) / (variance / 10.0);
        let high = share(&shares, 30, 100_000).interval.unwrap().1;
        assert!(
            (high - score(mean, effective, 12.706).1).abs() < 1e-12,
            "{high}"
        );
        // With all ten runs' df (t(9) = 2.262) it would be far lower.
        assert!(high > 2.0 * score(mean, effective, 2.262).1, "{high}");
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
