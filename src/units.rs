//! How times are written for people: one short form everywhere (gauge, summary, sweep).

/// A time for people: milliseconds below a second, else seconds.
pub fn seconds(t: f64) -> String {
    if t == 0.0 {
        "0s".into()
    } else if t < 0.01 {
        format!("{:.2}ms", t * 1e3)
    } else if t < 1.0 {
        format!("{:.0}ms", t * 1e3)
    } else {
        format!("{t:.1}s")
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
    }
}
