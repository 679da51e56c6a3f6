//! Service times from a file (`--service-from`): one a line, `12ms`, `1.5s`
//! or a bare number of seconds, used as an empirical distribution. The time of
//! message `seq` is a pure function of the seed and `seq`, like the built-in
//! models', so consumer threads and the simulation agree without sharing state.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use super::parse::{CUT_OFF, TimeFormat, TraceError, for_each_line};
use crate::model::{MAX_DURATION, Model, ServiceKind, ServiceTimes, splitmix64};

/// How the file's times are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceOrder {
    /// Each message draws one of the lines at random, with the seed.
    Sample,
    /// Message k takes line k, wrapping around at the end.
    Replay,
}

/// Service times read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmpiricalService {
    pub name: String,
    /// Nanoseconds, in file order; never empty.
    pub times: Arc<[u64]>,
}

/// A service time: a number and an optional unit (ns, us, µs, ms, s, m, min, h).
fn parse_time(field: &[u8]) -> Option<u64> {
    let split = field
        .iter()
        .position(|b| !(b.is_ascii_digit() || *b == b'.'))
        .unwrap_or(field.len());
    let (number, unit) = field.split_at(split);
    let unit_ns: u64 = match unit.trim_ascii() {
        b"" | b"s" => 1_000_000_000,
        b"ns" => 1,
        b"us" | b"\xc2\xb5s" => 1_000, // µs
        b"ms" => 1_000_000,
        b"m" | b"min" => 60_000_000_000,
        b"h" => 3_600_000_000_000,
        _ => return None,
    };
    let (whole, frac) = match number.iter().position(|&b| b == b'.') {
        Some(dot) => (&number[..dot], Some(&number[dot + 1..])),
        None => (number, None),
    };
    if whole.is_empty()
        || whole.len() > 12
        || frac.is_some_and(|f| f.is_empty() || f.contains(&b'.'))
    {
        return None;
    }
    let whole: u64 = std::str::from_utf8(whole).ok()?.parse().ok()?;
    let mut ns = whole.checked_mul(unit_ns)?;
    if let Some(frac) = frac {
        let (mut value, mut scale) = (0u64, 1u64);
        for &b in frac.iter().take(12) {
            value = value * 10 + u64::from(b - b'0');
            scale *= 10;
        }
        ns =
            ns.checked_add((u128::from(value) * u128::from(unit_ns) / u128::from(scale)) as u64)?;
    }
    // Bounded like every duration option.
    (u128::from(ns) <= MAX_DURATION.as_nanos()).then_some(ns)
}

impl EmpiricalService {
    /// Reads a file (`-` for stdin; gzip decompressed on the fly): one
    /// service time a line, or an access log whose lines carry a duration
    /// (see [`super::parse::LogOptions`]; its unit detected per line).
    pub fn read(path: &str) -> Result<EmpiricalService, TraceError> {
        EmpiricalService::from_reader(super::parse::open(path)?, path)
    }

    pub fn from_reader<R: Read>(reader: R, name: &str) -> Result<EmpiricalService, TraceError> {
        let mut times = Vec::new();
        for_each_line(reader, name, |line, number, ended| {
            // An ALB line whose target did not answer (-1) is no service time.
            if TimeFormat::Alb
                .parse(line)
                .is_some_and(|s| s.duration.is_none())
            {
                return Ok(());
            }
            let logged = || {
                let stamp = TimeFormat::Clf
                    .parse(line)
                    .or_else(|| TimeFormat::Alb.parse(line))?;
                let d = stamp.duration?;
                Some(d.ns(d.unit(None))).filter(|&ns| u128::from(ns) <= MAX_DURATION.as_nanos())
            };
            match parse_time(line.trim_ascii()).or_else(logged) {
                Some(ns) if (times.len() as u64) < super::parse::MAX_LINES => {
                    times.push(ns);
                    Ok(())
                }
                Some(_) => Err(TraceError {
                    file: name.into(),
                    line: Some(number),
                    message: format!("at most {} lines are allowed", super::parse::MAX_LINES),
                }),
                None => Err(TraceError {
                    file: name.into(),
                    line: Some(number),
                    message: format!(
                        "expected a service time such as 12ms, 1.5s or 0.25 (seconds), \
                         at most a year, or a log line ending in its duration{}",
                        if ended {
                            String::new()
                        } else {
                            format!("; {CUT_OFF}")
                        }
                    ),
                }),
            }
        })?;
        if times.is_empty() {
            return Err(TraceError::file(name, "expected at least one service time"));
        }
        Ok(EmpiricalService {
            name: name.into(),
            times: times.into(),
        })
    }

    /// The mean service time.
    pub fn mean(&self) -> Duration {
        let total: u128 = self.times.iter().map(|&t| u128::from(t)).sum();
        Duration::from_nanos((total / self.times.len() as u128) as u64)
    }

    /// The service times, in nanoseconds, as a function of the message number.
    pub fn times(&self, order: ServiceOrder, seed: u64) -> ServiceDraw {
        ServiceDraw {
            times: Arc::clone(&self.times),
            order,
            // A different stream from the arrivals' and the built-in service's.
            seed: splitmix64(seed ^ 0xf11e_5e41_1ce5_0000),
        }
    }
}

/// Message number → service time, from a file's times.
#[derive(Debug, Clone)]
pub struct ServiceDraw {
    times: Arc<[u64]>,
    order: ServiceOrder,
    seed: u64,
}

impl ServiceDraw {
    /// Nanoseconds for message `seq`.
    pub fn ns(&self, seq: u64) -> u64 {
        let n = self.times.len() as u64;
        let index = match self.order {
            ServiceOrder::Replay => seq % n,
            // Multiply-shift maps 64 random bits onto 0..n without a division.
            ServiceOrder::Sample => {
                ((u128::from(splitmix64(self.seed.wrapping_add(seq))) * u128::from(n)) >> 64) as u64
            }
        };
        self.times[index as usize]
    }

    pub fn of(&self, seq: u64) -> Duration {
        Duration::from_nanos(self.ns(seq))
    }
}

/// Where service times come from: the built-in model or a file. Message
/// number → time, a pure function, so it can be cloned to every consumer.
#[derive(Debug, Clone)]
pub enum Service {
    Model {
        times: ServiceTimes,
        /// Set for fixed service, so the simulation skips the call.
        fixed_ns: Option<u64>,
    },
    File(ServiceDraw),
}

/// `--service-from`: a file's service times, and how they are used.
pub type ServiceFile = (EmpiricalService, ServiceOrder);

impl Service {
    /// A run's service times, by message number: a `--service-from` file's
    /// if there is one, else the model's. The one place either is chosen:
    /// the live consumers, `--record`, the sweep, and the end of a live run
    /// all take theirs from here, so each draws what the others draw.
    pub fn of_run(file: Option<&ServiceFile>, model: &Model, seed: u64) -> Service {
        match file {
            Some((file, order)) => Service::File(file.times(*order, seed)),
            None => Service::model(model, seed),
        }
    }

    /// The mean of [`Service::of_run`]'s times: the file's, or `--consume-every`.
    pub fn mean_of_run(file: Option<&ServiceFile>, model: &Model) -> Duration {
        match file {
            Some((file, _)) => file.mean(),
            None => model.consume_every,
        }
    }

    pub fn model(model: &Model, seed: u64) -> Service {
        Service::Model {
            times: ServiceTimes::new(model, seed),
            fixed_ns: (model.service == ServiceKind::Fixed)
                .then(|| u64::try_from(model.consume_every.as_nanos()).unwrap_or(u64::MAX)),
        }
    }

    /// Nanoseconds for message `seq`.
    #[inline]
    pub fn ns(&self, seq: u64) -> u64 {
        match self {
            Service::Model {
                fixed_ns: Some(ns), ..
            } => *ns,
            Service::Model { times, .. } => {
                u64::try_from(times.of(seq).as_nanos()).unwrap_or(u64::MAX)
            }
            Service::File(draw) => draw.ns(seq),
        }
    }

    pub fn of(&self, seq: u64) -> Duration {
        Duration::from_nanos(self.ns(seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<u64>, String> {
        EmpiricalService::from_reader(text.as_bytes(), "svc.txt")
            .map(|s| s.times.to_vec())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn an_alb_logs_target_times_are_service_times_and_its_minus_ones_none() {
        let line = |target: &str| {
            format!(
                "h2 2018-07-02T22:23:00.186641Z app/lb/1 1.2.3.4:1 10.0.0.1:80 0.001 {target} \
                 0.000 200 200 1 2 \"GET / HTTP/2.0\" \"a b\" - - arn:x \"Root=1\" \"-\" \"-\" \
                 0 2018-07-02T22:22:48.364000Z \"forward\" \"-\"\n"
            )
        };
        let text = line("0.048") + &line("-1") + &line("1.5");
        assert_eq!(read(&text).unwrap(), [48_000_000, 1_500_000_000]);
        // A log of nothing but -1s holds no service time.
        assert!(
            read(&line("-1"))
                .unwrap_err()
                .contains("at least one service time")
        );
    }

    #[test]
    fn units_fractions_and_bare_seconds() {
        assert_eq!(
            read("\u{feff}12ms\r\n1.5s\n0.25\n# c\n\n7us\n3ns\n2m\n1h\n").unwrap(),
            [
                12_000_000,
                1_500_000_000,
                250_000_000,
                7_000,
                3,
                120_000_000_000,
                3_600_000_000_000,
            ]
        );
        assert_eq!(read("1.5 ms\n").unwrap(), [1_500_000]);
    }

    #[test]
    fn bad_lines_name_the_file_and_line() {
        for (text, line) in [
            ("12ms\nfast\n", 2),
            ("1\n\n-3ms\n", 3),
            ("12 parsecs\n", 1),
            ("2 3\n", 1),
            ("1..2s\n", 1),
            ("400d\n", 1),
            ("9999h\n", 1),
            ("1.\n", 1),
        ] {
            let e = read(text).unwrap_err();
            assert!(
                e.starts_with(&format!("svc.txt:{line}: expected a service time")),
                "{text:?}: {e}"
            );
        }
        assert!(read("# nothing\n").unwrap_err().contains("at least one"));
    }

    #[test]
    fn replay_wraps_and_sample_draws_every_line_at_about_its_share() {
        let s = EmpiricalService::from_reader("1ns\n2ns\n3ns\n".as_bytes(), "s").unwrap();
        assert_eq!(s.mean(), Duration::from_nanos(2));
        let replay = s.times(ServiceOrder::Replay, 1);
        assert_eq!(
            (0..7).map(|k| replay.ns(k)).collect::<Vec<_>>(),
            [1, 2, 3, 1, 2, 3, 1]
        );
        let sample = s.times(ServiceOrder::Sample, 1);
        let mut counts = [0u32; 4];
        for k in 0..30_000 {
            counts[sample.ns(k) as usize] += 1;
        }
        // 10 000 each; the standard deviation is about 82.
        assert!(
            counts[1..].iter().all(|&c| (9_400..10_600).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(sample.ns(5), s.times(ServiceOrder::Sample, 1).ns(5), "pure");
        let other = s.times(ServiceOrder::Sample, 2);
        assert!(
            (0..100).any(|k| other.ns(k) != sample.ns(k)),
            "the seed matters"
        );
    }

    #[test]
    fn a_last_line_cut_off_says_so() {
        assert_eq!(read("12ms\n3ms").unwrap(), [12_000_000, 3_000_000]);
        let e = read("12ms\n3mx").unwrap_err();
        assert!(e.starts_with("svc.txt:2: expected a service time"), "{e}");
        assert!(e.ends_with(CUT_OFF), "{e}");
    }

    /// Any input gives service times of at most a year, or one line naming
    /// the file (and the line, if one is to blame); never a panic.
    fn check_any_service(bytes: &[u8]) {
        match EmpiricalService::from_reader(bytes, "svc") {
            Ok(s) => {
                assert!(!s.times.is_empty());
                assert!(
                    s.times
                        .iter()
                        .all(|&t| u128::from(t) <= MAX_DURATION.as_nanos())
                );
                let _ = s.mean();
            }
            Err(e) => {
                let text = e.to_string();
                assert!(text.starts_with("svc:") && !text.contains('\n'), "{text:?}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_service_times_or_one_line(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)
        ) {
            check_any_service(&bytes);
        }

        #[test]
        fn any_lines_are_service_times_or_one_line(
            lines in proptest::collection::vec(
                "([0-9]{0,14}|\\.|[0-9]{1,3}\\.[0-9]{0,20}|ns|us|µs|ms|s|m|min|h|d| |#|[a-z]{1,3}){0,5}",
                0..30,
            ),
            crlf in proptest::bool::ANY,
            last_end in proptest::bool::ANY,
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let mut text = lines.join(end);
            if last_end {
                text.push_str(end);
            }
            check_any_service(text.as_bytes());
        }
    }
}
