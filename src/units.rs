//! How times and factors are written for people: one short form everywhere
//! (gauge, summary, sweep).

/// A time for people: seconds, milliseconds below a second, microseconds
/// below a tenth of a millisecond and nanoseconds below a microsecond, so a
/// nanosecond reads `1ns`, not `0.00ms`.
pub fn seconds(t: f64) -> String {
    if t == 0.0 {
        "0s".into()
    } else if t < 1e-6 {
        format!("{:.0}ns", t * 1e9)
    } else if t < 1e-4 {
        format!("{:.1}us", t * 1e6)
    } else if t < 0.01 {
        format!("{:.2}ms", t * 1e3)
    } else if t < 1.0 {
        format!("{:.0}ms", t * 1e3)
    } else {
        format!("{t:.1}s")
    }
}

/// A factor such as `--load` for people and for CSV: as given (`1.5`,
/// `1000`) within a few decades of 1, in exponent form (`1e-300`) beyond,
/// rather than three hundred zeros.
pub fn factor(x: f64) -> String {
    if x == 0.0 || (1e-4..1e7).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_read_well_at_every_scale() {
        assert_eq!(seconds(0.0), "0s");
        assert_eq!(seconds(0.0004), "0.40ms");
        assert_eq!(seconds(0.3), "300ms");
        assert_eq!(seconds(30.04), "30.0s");
        assert_eq!(seconds(1e-9), "1ns");
        assert_eq!(seconds(250e-9), "250ns");
        assert_eq!(seconds(1.5e-6), "1.5us");
        assert_eq!(seconds(42e-6), "42.0us");
        assert_eq!(seconds(0.0001), "0.10ms");
    }

    #[test]
    fn factors_never_run_to_hundreds_of_digits() {
        assert_eq!(factor(1.0), "1");
        assert_eq!(factor(1.5), "1.5");
        assert_eq!(factor(1e6), "1000000");
        assert_eq!(factor(0.001), "0.001");
        assert_eq!(factor(1e-300), "1e-300");
        assert_eq!(factor(2.5e-9), "2.5e-9");
        assert!(factor(f64::MIN_POSITIVE).len() < 30);
    }
}
