//! How option values are read: durations, shares and lists, each the same
//! way for every option that takes one, with errors that say what was
//! probably meant (`300` → "did you mean 300ms?", `1` as a share → "did you
//! mean 1%?", `10-100` → "did you mean 10..100?").

use std::time::Duration;

/// How every list option's forms are named in its errors.
pub const LIST_FORMS: &str = "a list such as 1,2,4 or a range such as 1..4 (1..10:3 counts in 3s)";

/// The units a bare number may have been meant in.
const UNITS: [(&str, f64); 3] = [("ms", 1e-3), ("s", 1.0), ("m", 60.0)];

/// A duration as humantime reads it (`20ms`, `1.5s`, `2m`, `1h 30m`, `0`).
/// A number without a unit is refused with the unit that makes it nearest
/// to `usual` (the option's default or its usual size): for a service time
/// of about 300ms, `300` means 300ms and `0.3` means 0.3s.
pub fn duration(text: &str, usual: Duration) -> Result<Duration, String> {
    let bare = text.trim();
    if let Ok(number) = bare.parse::<f64>()
        && bare.chars().all(|c| c.is_ascii_digit() || c == '.')
        && bare != "0"
    {
        return Err(if number == 0.0 {
            "a duration needs a unit: did you mean 0s?".into()
        } else {
            format!(
                "a duration needs a unit: did you mean {bare}{}? (one word, no space: 20ms, \
                 1.5s, 2m)",
                likely_unit(number, usual)
            )
        });
    }
    if bare.starts_with('-') {
        return Err("a duration cannot be negative".into());
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("{e}; expected a duration such as 20ms, 1.5s or 2m"))
}

/// The unit that puts `number` nearest to `usual`, on a log scale.
fn likely_unit(number: f64, usual: Duration) -> &'static str {
    let usual = usual.as_secs_f64().max(1e-9);
    let distance = |unit: f64| (number * unit / usual).ln().abs();
    UNITS
        .iter()
        .min_by(|a, b| distance(a.1).total_cmp(&distance(b.1)))
        .map_or("s", |(name, _)| name)
}

/// A share, written as a fraction (`0.01`) or a percentage (`1%`). What
/// range it may take is the caller's to check, with [`share_error`].
pub fn share(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let (number, scale) = match text.strip_suffix('%') {
        Some(percent) => (percent.trim_end(), 0.01),
        None => (text, 1.0),
    };
    let value = number
        .parse::<f64>()
        .map_err(|_| format!("expected a share such as 0.01 or 1%, not '{text}'"))?;
    if !value.is_finite() {
        return Err("expected a finite share, such as 0.01 or 1%".into());
    }
    Ok(value * scale)
}

/// The error for a share out of its range: `allowed` says which; a number
/// from 1 to 100 written without `%` was probably meant as a percentage.
pub fn share_error(text: &str, value: f64, allowed: &str) -> String {
    let mut message = format!("{allowed} (a fraction such as 0.01, or a percentage such as 1%)");
    if !text.trim().ends_with('%') && (1.0..=100.0).contains(&value) {
        message.push_str(&format!(
            "; did you mean {}% ({})?",
            text.trim(),
            value / 100.0
        ));
    }
    message
}

/// One item of a list: a value, or a range `A..B` with an optional step `:S`.
#[derive(Debug, PartialEq)]
pub enum Item<'a> {
    One(&'a str),
    Range {
        from: &'a str,
        to: &'a str,
        step: Option<&'a str>,
    },
}

/// Splits a list at its commas into values and ranges. A dash between two
/// numbers (`10-100`) is taken for a range written the wrong way.
pub fn items(text: &str) -> Result<Vec<Item<'_>>, String> {
    if text.trim().is_empty() {
        return Err(format!("expected {LIST_FORMS}"));
    }
    text.split(',')
        .map(|item| {
            let item = item.trim();
            if let Some((from, rest)) = item.split_once("..") {
                let (to, step) = match rest.split_once(':') {
                    Some((to, step)) => (to, Some(step.trim())),
                    None => (rest, None),
                };
                return Ok(Item::Range {
                    from: from.trim(),
                    to: to.trim(),
                    step,
                });
            }
            if let Some((from, to)) = item.split_once('-')
                && !from.is_empty()
                && from.parse::<f64>().is_ok()
                && to.parse::<f64>().is_ok()
            {
                return Err(format!(
                    "'{item}': did you mean the range {from}..{to}? Lists are written as \
                     {LIST_FORMS}"
                ));
            }
            Ok(Item::One(item))
        })
        .collect()
}

/// Checks a list is strictly ascending and at most `most` long.
pub fn ascending<T: PartialOrd>(values: &[T], most: usize, what: &str) -> Result<(), String> {
    if values.windows(2).any(|w| w[0] >= w[1]) {
        return Err(format!(
            "the list must go up, with no repeats ({LIST_FORMS})"
        ));
    }
    if values.len() > most {
        return Err(format!("at most {most} {what} are allowed"));
    }
    Ok(())
}

/// `from, from + step, …` up to `to` (included when a step lands on it), at
/// most `most` values; floating-point steps are counted, not accumulated.
pub fn stepped(from: f64, to: f64, step: f64, most: usize) -> Result<Vec<f64>, String> {
    if step.is_nan() || step <= 0.0 {
        return Err(format!("a step must be greater than 0 ({LIST_FORMS})"));
    }
    if from >= to {
        return Err(format!("the range must go up, as in 1..4 ({LIST_FORMS})"));
    }
    // A step that lands on `to` within rounding still counts it.
    let steps = ((to - from) / step * (1.0 + 1e-12)).floor();
    if steps + 1.0 > most as f64 {
        return Err(format!("at most {most} values are allowed in a list"));
    }
    Ok((0..=steps as usize)
        .map(|k| from + k as f64 * step)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS_300: Duration = Duration::from_millis(300);

    #[test]
    fn a_bare_number_gets_the_unit_nearest_the_usual_size() {
        let error = |text, usual| duration(text, usual).unwrap_err();
        assert!(error("300", MS_300).contains("did you mean 300ms?"));
        assert!(error("0.3", MS_300).contains("did you mean 0.3s?"));
        assert!(error("30", Duration::from_secs(30)).contains("did you mean 30s?"));
        assert!(error("20", Duration::from_millis(20)).contains("did you mean 20ms?"));
        assert!(error("2", Duration::from_secs(3600)).contains("did you mean 2m?"));
        assert!(error("0.0", MS_300).contains("did you mean 0s?"));
        assert!(error("-5", MS_300).contains("negative"));
        assert!(error("5x", MS_300).contains("such as 20ms"));
    }

    #[test]
    fn durations_with_units_are_read_as_humantime_does() {
        assert_eq!(duration("300ms", MS_300), Ok(MS_300));
        assert_eq!(duration("300 ms", MS_300), Ok(MS_300));
        assert_eq!(duration("0.3s", MS_300), Ok(MS_300));
        assert_eq!(duration("0", MS_300), Ok(Duration::ZERO));
        assert_eq!(duration("1m 30s", MS_300), Ok(Duration::from_secs(90)));
    }

    #[test]
    fn shares_as_fractions_or_percentages() {
        assert_eq!(share("0.01"), Ok(0.01));
        assert_eq!(share("1%"), Ok(0.01));
        assert_eq!(share(" 50 % "), Ok(0.5));
        assert!(share("1x").unwrap_err().contains("such as 0.01 or 1%"));
        assert!(share("inf").is_err());
        let message = share_error("1", 1.0, "between 0 and 1");
        assert!(message.contains("did you mean 1% (0.01)?"), "{message}");
        assert!(!share_error("1%", 1.0, "x").contains("did you mean"));
        assert!(!share_error("150", 150.0, "x").contains("did you mean"));
    }

    #[test]
    fn lists_of_values_and_ranges() {
        assert_eq!(
            items("1, 2..4,10..20:5").unwrap(),
            [
                Item::One("1"),
                Item::Range {
                    from: "2",
                    to: "4",
                    step: None
                },
                Item::Range {
                    from: "10",
                    to: "20",
                    step: Some("5")
                },
            ]
        );
        assert!(items("").unwrap_err().contains("1..4"));
        assert!(
            items("10-100")
                .unwrap_err()
                .contains("did you mean the range 10..100?")
        );
        assert!(ascending(&[1, 1], 10, "x").unwrap_err().contains("1..4"));
        assert!(
            ascending(&[1, 2, 3], 2, "loads")
                .unwrap_err()
                .contains("at most 2 loads")
        );
    }

    #[test]
    fn steps_are_counted() {
        assert_eq!(stepped(1.0, 4.0, 1.0, 100), Ok(vec![1.0, 2.0, 3.0, 4.0]));
        assert_eq!(stepped(1.0, 10.0, 3.0, 100), Ok(vec![1.0, 4.0, 7.0, 10.0]));
        assert_eq!(stepped(1.0, 9.0, 3.0, 100), Ok(vec![1.0, 4.0, 7.0]));
        let tenths = stepped(0.1, 0.3, 0.1, 100).unwrap();
        assert_eq!(tenths.len(), 3, "{tenths:?}");
        assert!(stepped(1.0, 1e9, 1.0, 10_000).is_err());
        assert!(stepped(4.0, 1.0, 1.0, 100).is_err());
        assert!(stepped(1.0, 4.0, 0.0, 100).is_err());
        assert!(stepped(1.0, 4.0, f64::NAN, 100).is_err());
    }
}
