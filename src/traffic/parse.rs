//! Reading a file of timestamps, one a line, and the five formats: epoch
//! seconds, epoch milliseconds, RFC 3339, the Common (or Combined) Log
//! Format, whose lines may end in the request's duration (nginx, Apache
//! `%D`; see [`LogOptions`]), and AWS ALB access logs (their creation time
//! and target time). Files may be gzip ([`open`]). The parsers are hand-written over bytes: each format is small, and
//! a general date library would cost more than the whole parse (the CLF path
//! reads about a hundred bytes a line and must go at ≥ 100 MB/s).
//!
//! Lines are read in large chunks and never stored: what is kept is one `i64`
//! (nanoseconds since the Unix epoch) a line, plus one bit saying whether it was
//! written at whole-second resolution (for spreading ties, see [`super::trace`]).

use std::borrow::Cow;
use std::io::{self, BufRead, Read};

/// How the timestamps are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// Seconds since the Unix epoch, fractions allowed: `1456589246.25`.
    Epoch,
    /// Milliseconds since the Unix epoch, fractions allowed.
    EpochMs,
    /// RFC 3339 as the first field: `2026-11-30T12:00:00.125Z`, `+01:00`.
    Rfc3339,
    /// Common or Combined Log Format: `… [10/Oct/2000:13:55:36 -0700] …`.
    Clf,
    /// AWS Application Load Balancer access logs: the arrival is the
    /// `request_creation_time`, the duration `target_processing_time`.
    Alb,
}

impl TimeFormat {
    pub fn name(self) -> &'static str {
        match self {
            TimeFormat::Epoch => "epoch",
            TimeFormat::EpochMs => "epoch-ms",
            TimeFormat::Rfc3339 => "rfc3339",
            TimeFormat::Clf => "clf",
            TimeFormat::Alb => "alb",
        }
    }

    /// What a line of this format looks like, for the error message.
    fn expected(self) -> &'static str {
        match self {
            TimeFormat::Epoch => "epoch seconds such as 1456589246 or 1456589246.25",
            TimeFormat::EpochMs => "epoch milliseconds such as 1456589246250",
            TimeFormat::Rfc3339 => {
                "an RFC 3339 time such as 2026-11-30T12:00:00.125Z as the first field"
            }
            TimeFormat::Clf => {
                "a Common Log Format line with a time such as [10/Oct/2000:13:55:36 -0700]"
            }
            TimeFormat::Alb => {
                "an AWS ALB access log line: type, time, elb, client, target, three \
                 processing times (seconds or -1), …, an RFC 3339 request_creation_time \
                 as the 22nd field"
            }
        }
    }

    /// Parses one line (without its line end) of this format.
    pub fn parse(self, line: &[u8]) -> Option<Stamp> {
        match self {
            TimeFormat::Epoch => epoch(line, 1_000_000_000),
            TimeFormat::EpochMs => epoch(line, 1_000_000).map(|s| Stamp {
                whole_seconds: false,
                ..s
            }),
            TimeFormat::Rfc3339 => rfc3339(line),
            TimeFormat::Clf => clf(line),
            TimeFormat::Alb => alb(line),
        }
    }
}

/// One line's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Nanoseconds since the Unix epoch (UTC).
    pub ns: i64,
    /// Written at whole-second resolution (CLF, integer epoch seconds): ties are spread.
    pub whole_seconds: bool,
    /// The request's duration, when the line carries one (a CLF line's last
    /// field: nginx `$request_time`, Apache `%D`), as written.
    pub duration: Option<LogDuration>,
}

/// A duration field as written: a number, read as seconds, and whether it
/// was a whole number (Apache's `%D` is whole microseconds, nginx's
/// `$request_time` seconds with milliseconds: `0.153`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogDuration {
    /// The number times 10^9: nanoseconds if it is in seconds.
    pub as_seconds_ns: u64,
    pub whole: bool,
    /// What the format itself fixes, so that `--log-duration` and
    /// `--log-time` do not apply: ALB writes seconds, and its
    /// `request_creation_time` is the request's start.
    pub fixed: Option<(DurationUnit, LogTime)>,
}

/// The unit of a log's duration field (`--log-duration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationUnit {
    Seconds,
    Micros,
}

/// What a log line's time is (`--log-time`): when the request arrived
/// (Apache's `%t`) or when it ended (nginx's `$time_local`, written as the
/// response goes out); with `End`, arrival = time − duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTime {
    Start,
    End,
}

/// How a log's duration field is read; `None`s are detected per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogOptions {
    pub unit: Option<DurationUnit>,
    pub time: Option<LogTime>,
}

impl LogDuration {
    /// The unit when none is given: a fraction is seconds (nginx), a whole
    /// number microseconds (Apache `%D`; nginx always writes the milliseconds).
    pub fn unit(self, forced: Option<DurationUnit>) -> DurationUnit {
        if let Some((unit, _)) = self.fixed {
            return unit;
        }
        forced.unwrap_or(if self.whole {
            DurationUnit::Micros
        } else {
            DurationUnit::Seconds
        })
    }

    /// Nanoseconds, in `unit`.
    pub fn ns(self, unit: DurationUnit) -> u64 {
        match unit {
            DurationUnit::Seconds => self.as_seconds_ns,
            DurationUnit::Micros => self.as_seconds_ns / 1_000_000,
        }
    }
}

impl LogOptions {
    /// The duration of a stamp in nanoseconds, and its arrival time: the
    /// line's time, less the duration when the time is the request's end
    /// (the default for seconds, nginx's way; for microseconds, Apache's, the
    /// start). A stamp without a duration arrives at its time.
    pub fn arrival(self, stamp: &Stamp) -> (i64, Option<u64>) {
        let Some(d) = stamp.duration else {
            return (stamp.ns, None);
        };
        let unit = d.unit(self.unit);
        let ns = d.ns(unit);
        let end = match (d.fixed, self.time) {
            (Some((_, time)), _) | (None, Some(time)) => time == LogTime::End,
            (None, None) => unit == DurationUnit::Seconds,
        };
        let arrival = if end {
            stamp
                .ns
                .saturating_sub(i64::try_from(ns).unwrap_or(i64::MAX))
        } else {
            stamp.ns
        };
        (arrival, Some(ns))
    }
}

/// Why a file could not be read: one line for the user, naming the file and
/// (for a bad line) its number and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", located(.file, *.line))]
pub struct TraceError {
    pub file: String,
    /// 1-based; `None` for an error about the whole file.
    pub line: Option<u64>,
    pub message: String,
}

/// `file:line`, or the file alone, its name shown [`printable`].
fn located(file: &str, line: Option<u64>) -> String {
    match line {
        Some(line) => format!("{}:{line}", printable(file)),
        None => printable(file).into_owned(),
    }
}

/// A file's name as a one-line message shows it: control characters (a
/// newline, an escape that a terminal would act on) written as escapes
/// (`\n`, `\u{1b}`), everything else as it is.
pub fn printable(name: &str) -> Cow<'_, str> {
    if !name.chars().any(char::is_control) {
        return Cow::Borrowed(name);
    }
    let mut shown = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if c.is_control() {
            shown.extend(c.escape_debug());
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

impl TraceError {
    pub fn file(file: &str, message: impl Into<String>) -> TraceError {
        TraceError {
            file: file.into(),
            line: None,
            message: message.into(),
        }
    }

    fn at(file: &str, line: u64, message: impl Into<String>) -> TraceError {
        TraceError {
            file: file.into(),
            line: Some(line),
            message: message.into(),
        }
    }
}

/// Opens a file (`-` for stdin), decompressing it on the fly when it is
/// gzip (by its first two bytes, so `.gz` files and gzip on stdin alike; a
/// rotated log's members one after another).
pub fn open(path: &str) -> Result<Box<dyn Read>, TraceError> {
    let source: Box<dyn Read> = if path == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(path).map_err(|e| TraceError::file(path, e.to_string()))?)
    };
    let mut source = io::BufReader::with_capacity(1 << 16, source);
    let head = loop {
        match source.fill_buf() {
            Ok(head) => break head,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(TraceError::file(path, e.to_string())),
        }
    };
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(source))
    } else {
        Box::new(source)
    })
}

/// The most data lines one file may hold: 8 bytes each while sorting, so at
/// most 0.8 GB, and a bound on what a mistaken `-` on a pipe can make us keep.
pub const MAX_LINES: u64 = 100_000_000;

/// Calls `each` with every data line (not blank, not a `#` comment), its
/// 1-based number and whether it had a line end (only the last line may not),
/// with the line end (`\n` or `\r\n`) and a leading UTF-8 BOM removed. Reads
/// in large chunks; never holds more than one chunk and one line.
pub fn for_each_line<R: Read>(
    mut reader: R,
    file: &str,
    mut each: impl FnMut(&[u8], u64, bool) -> Result<(), TraceError>,
) -> Result<(), TraceError> {
    const CHUNK: usize = 1 << 18;
    /// A longer line is not a timestamp line; refusing it bounds the memory.
    const MAX_LINE: usize = 1 << 20;
    let mut buf = vec![0u8; CHUNK];
    let (mut filled, mut number, mut first) = (0usize, 0u64, true);
    let io_error = |e: io::Error| TraceError::file(file, e.to_string());
    loop {
        let read = loop {
            match reader.read(&mut buf[filled..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(e)),
            }
        };
        let end = filled + read;
        let mut start = 0;
        while let Some(at) = buf[start..end].iter().position(|&b| b == b'\n') {
            number += 1;
            let mut line = &buf[start..start + at];
            if first {
                line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
                first = false;
            }
            visit(line, number, true, &mut each)?;
            start += at + 1;
        }
        if read == 0 {
            // The last line, without a line end.
            if start < end {
                number += 1;
                let mut line = &buf[start..end];
                if first {
                    line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
                }
                visit(line, number, false, &mut each)?;
            }
            return Ok(());
        }
        buf.copy_within(start..end, 0);
        filled = end - start;
        if filled == buf.len() {
            if buf.len() >= MAX_LINE {
                return Err(TraceError::at(
                    file,
                    number + 1,
                    format!("expected a line of at most {MAX_LINE} bytes"),
                ));
            }
            buf.resize(buf.len() * 2, 0);
        }
    }
}

fn visit(
    line: &[u8],
    number: u64,
    ended: bool,
    each: &mut impl FnMut(&[u8], u64, bool) -> Result<(), TraceError>,
) -> Result<(), TraceError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let trimmed = line.trim_ascii_start();
    if trimmed.is_empty() || trimmed[0] == b'#' || trimmed.trim_ascii_end().is_empty() {
        return Ok(());
    }
    each(trimmed, number, ended)
}

/// Said of a last line without a line end that cannot be right: a file cut
/// off while it was written (a full disk, a killed writer) ends that way.
pub const CUT_OFF: &str = "the last line has no line end: is the file cut off?";

/// The earliest and latest times a trace may hold: within 2^62 ns (146
/// years) of 1970, so that a time doubled (the sort key, see
/// [`super::trace`]) still fits an `i64`.
pub const LIMIT_NS: i64 = i64::MAX / 2;

/// Reads every timestamp of a file; the format is `forced`, or detected from
/// the first data line (tried as epoch seconds, RFC 3339, then CLF). Calls
/// `each` with every stamp, in file order, and returns the format. A time
/// outside [`LIMIT_NS`], and a last line without a line end that does not
/// parse or is earlier than a line before it (a number cut short), are
/// errors that name the line.
pub fn read_stamps<R: Read>(
    reader: R,
    file: &str,
    forced: Option<TimeFormat>,
    mut each: impl FnMut(Stamp),
) -> Result<TimeFormat, TraceError> {
    let mut format = forced;
    let mut lines = 0u64;
    let mut latest = i64::MIN;
    for_each_line(reader, file, |line, number, ended| {
        let cut_off = |message: String| {
            let message = if ended {
                message
            } else {
                format!("{message}; {CUT_OFF}")
            };
            TraceError::at(file, number, message)
        };
        let f = match format {
            Some(f) => f,
            None => {
                let detected = detect(line);
                let Some(f) = detected else {
                    return Err(cut_off(
                        "expected a time: epoch seconds (1456589246.25), RFC 3339 \
                         (2026-11-30T12:00:00Z) or a Common Log Format line"
                            .into(),
                    ));
                };
                format = Some(f);
                f
            }
        };
        let stamp = f
            .parse(line)
            .ok_or_else(|| cut_off(format!("expected {}", f.expected())))?;
        if !(-LIMIT_NS..=LIMIT_NS).contains(&stamp.ns) {
            return Err(TraceError::at(
                file,
                number,
                "expected a time between the years 1824 and 2116",
            ));
        }
        if !ended && stamp.ns < latest {
            return Err(TraceError::at(
                file,
                number,
                format!(
                    "earlier than a line before it, and {CUT_OFF} (if the line is whole, \
                     end it with a newline)"
                ),
            ));
        }
        latest = latest.max(stamp.ns);
        lines += 1;
        if lines > MAX_LINES {
            return Err(TraceError::at(
                file,
                number,
                format!("more than {MAX_LINES} lines; at most {MAX_LINES} are allowed"),
            ));
        }
        each(stamp);
        Ok(())
    })?;
    // Even with a format given: a trace of no lines has no start.
    match format {
        Some(format) if lines > 0 => Ok(format),
        _ => Err(TraceError::file(
            file,
            "expected at least one timestamp line",
        )),
    }
}

/// The format of a first data line: a number is epoch seconds, unless it has
/// 11 or more digits before any point (10^10 s is the year 2286): then
/// milliseconds, as `Date.now()` and many loggers write them.
fn detect(line: &[u8]) -> Option<TimeFormat> {
    let digits = line.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits >= 11 && TimeFormat::EpochMs.parse(line).is_some() {
        return Some(TimeFormat::EpochMs);
    }
    // ALB before CLF: an ALB line's request may hold a `[` (an IPv6 host).
    [
        TimeFormat::Epoch,
        TimeFormat::Rfc3339,
        TimeFormat::Alb,
        TimeFormat::Clf,
    ]
    .into_iter()
    .find(|f| f.parse(line).is_some())
}

/// The end of a field: the line's end, or a separator.
fn field_ends(rest: &[u8]) -> bool {
    matches!(rest.first(), None | Some(b' ' | b'\t' | b',' | b';'))
}

/// Leading decimal digits as a number, and how many there were (at most 18).
fn digits(s: &[u8]) -> (u64, usize) {
    let mut value = 0u64;
    let mut n = 0;
    while n < s.len() && n < 18 && s[n].is_ascii_digit() {
        value = value * 10 + u64::from(s[n] - b'0');
        n += 1;
    }
    (value, n)
}

/// Exactly `n` digits at the start of `s`.
fn fixed(s: &[u8], n: usize) -> Option<u32> {
    let s = s.get(..n)?;
    let mut value = 0u32;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(b - b'0');
    }
    Some(value)
}

/// A fraction's digits (after the point) as nanoseconds at `unit_ns` per
/// whole unit; digits past the nanosecond are dropped. Returns it and the
/// number of bytes read (at least one digit is required).
fn fraction(s: &[u8], unit_ns: u64) -> Option<(u64, usize)> {
    let mut n = 0;
    let (mut value, mut scale) = (0u64, 1u64);
    while n < s.len() && s[n].is_ascii_digit() {
        if scale < 1_000_000_000 {
            value = value * 10 + u64::from(s[n] - b'0');
            scale *= 10;
        }
        n += 1;
    }
    (n > 0).then(|| (value * unit_ns / scale, n))
}

/// A non-negative decimal number of units since the epoch.
fn epoch(line: &[u8], unit_ns: u64) -> Option<Stamp> {
    let (whole, n) = digits(line);
    if n == 0 {
        return None;
    }
    // Saturated, not refused: too large a time is then refused with the
    // range of times allowed, not as a number of the wrong form.
    let mut ns = i64::try_from(u128::from(whole) * u128::from(unit_ns)).unwrap_or(i64::MAX);
    let mut rest = &line[n..];
    let mut whole_seconds = true;
    if let Some(after) = rest.strip_prefix(b".") {
        let (frac, m) = fraction(after, unit_ns)?;
        ns = ns.saturating_add(frac as i64);
        rest = &after[m..];
        whole_seconds = false;
    }
    field_ends(rest).then_some(Stamp {
        ns,
        whole_seconds,
        duration: None,
    })
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Nanoseconds since the epoch of a checked civil date and time, minus an offset east of UTC.
fn instant(
    year: u32,
    month: u32,
    day: u32,
    (hour, minute, second): (u32, u32, u32),
    nanos: u64,
    offset_s: i64,
) -> Option<i64> {
    let year = i64::from(year);
    let valid = (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month)
        && hour <= 23
        && minute <= 59
        && second <= 60; // a leap second counts as the next second's start
    if !valid {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_s;
    // Saturated, as for epoch times: refused later, with the range allowed.
    Some(
        secs.saturating_mul(1_000_000_000)
            .saturating_add(nanos as i64),
    )
}

/// `2026-11-30T12:00:00.125Z` or with a `±HH:MM` offset, as the first field.
fn rfc3339(line: &[u8]) -> Option<Stamp> {
    if line.len() < 20 {
        return None;
    }
    let year = fixed(line, 4)?;
    let month = fixed(&line[5..], 2)?;
    let day = fixed(&line[8..], 2)?;
    let hour = fixed(&line[11..], 2)?;
    let minute = fixed(&line[14..], 2)?;
    let second = fixed(&line[17..], 2)?;
    if line[4] != b'-'
        || line[7] != b'-'
        || !matches!(line[10], b'T' | b't')
        || line[13] != b':'
        || line[16] != b':'
    {
        return None;
    }
    let mut rest = &line[19..];
    let mut nanos = 0;
    if let Some(after) = rest.strip_prefix(b".") {
        let (frac, n) = fraction(after, 1_000_000_000)?;
        nanos = frac;
        rest = &after[n..];
    }
    let offset_s = match rest.first()? {
        b'Z' | b'z' => {
            rest = &rest[1..];
            0
        }
        sign @ (b'+' | b'-') => {
            let h = fixed(&rest[1..], 2)?;
            let m = fixed(rest.get(4..)?, 2)?;
            if rest[3] != b':' || h > 23 || m > 59 {
                return None;
            }
            let s = i64::from(h * 3600 + m * 60);
            rest = &rest[6..];
            if *sign == b'-' { -s } else { s }
        }
        _ => return None,
    };
    if !field_ends(rest) {
        return None;
    }
    let ns = instant(year, month, day, (hour, minute, second), nanos, offset_s)?;
    Some(Stamp {
        ns,
        whole_seconds: false,
        duration: None,
    })
}

fn month_number(name: &[u8]) -> Option<u32> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    MONTHS
        .iter()
        .position(|m| m.as_slice() == name)
        .map(|i| i as u32 + 1)
}

/// `… [10/Oct/2000:13:55:36 -0700] …`: the first `[` opens the time.
fn clf(line: &[u8]) -> Option<Stamp> {
    let open = line.iter().position(|&b| b == b'[')?;
    let t = line.get(open + 1..open + 28)?;
    // 10/Oct/2000:13:55:36 -0700]
    // 0123456789012345678901234567
    if t[2] != b'/' || t[6] != b'/' || t[11] != b':' || t[14] != b':' || t[17] != b':' {
        return None;
    }
    if t[20] != b' ' || t[26] != b']' {
        return None;
    }
    let day = fixed(t, 2)?;
    let month = month_number(&t[3..6])?;
    let year = fixed(&t[7..], 4)?;
    let hour = fixed(&t[12..], 2)?;
    let minute = fixed(&t[15..], 2)?;
    let second = fixed(&t[18..], 2)?;
    let (oh, om) = (fixed(&t[22..], 2)?, fixed(&t[24..], 2)?);
    if oh > 23 || om > 59 {
        return None;
    }
    let offset = i64::from(oh * 3600 + om * 60);
    let offset_s = match t[21] {
        b'+' => offset,
        b'-' => -offset,
        _ => return None,
    };
    let ns = instant(year, month, day, (hour, minute, second), 0, offset_s)?;
    Some(Stamp {
        ns,
        whole_seconds: true,
        duration: clf_duration(&line[open + 28..]),
    })
}

/// A CLF line's duration: a number as the last field, after the fields
/// that follow the request: `"GET / HTTP/1.1" 200 512 0.153` (Common, with
/// status and bytes) or `… "referer" "agent" 0.153` (Combined). A line
/// without one, as a plain Common line (whose last field is the bytes), has none.
fn clf_duration(rest: &[u8]) -> Option<LogDuration> {
    let quote = rest.iter().rposition(|&b| b == b'"')?;
    let tail: Vec<&[u8]> = rest[quote + 1..]
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty())
        .collect();
    // After the request: status and bytes, then the duration; after the
    // agent (the request's quote is not the last): the duration alone.
    let request_last = rest[..quote].iter().filter(|&&b| b == b'"').count() == 1;
    let field = match (request_last, tail.as_slice()) {
        (true, [_, _, d]) | (false, [d]) => *d,
        _ => return None,
    };
    let (whole, n) = digits(field);
    if n == 0 {
        return None;
    }
    let mut ns = whole.checked_mul(1_000_000_000)?;
    let whole_number = match &field[n..] {
        [] => true,
        [b'.', frac @ ..] if !frac.is_empty() && frac.iter().all(u8::is_ascii_digit) => {
            let (mut value, mut scale) = (0u64, 1u64);
            for &b in frac.iter().take(9) {
                value = value * 10 + u64::from(b - b'0');
                scale *= 10;
            }
            ns = ns.checked_add(value * (1_000_000_000 / scale))?;
            false
        }
        _ => return None,
    };
    Some(LogDuration {
        as_seconds_ns: ns,
        whole: whole_number,
        fixed: None,
    })
}

/// The types an ALB line starts with (its first field).
const ALB_TYPES: [&[u8]; 6] = [b"http", b"https", b"h2", b"grpcs", b"ws", b"wss"];

/// The fields of an ALB line: separated by spaces; a field that opens with
/// `"` runs to its closing quote (ALB escapes a quote inside as `\"`), and
/// is given without its quotes. At most `n` fields are split off.
fn alb_fields(line: &[u8], n: usize) -> Option<Vec<&[u8]>> {
    let mut fields = Vec::with_capacity(n);
    let mut rest = line;
    while fields.len() < n {
        rest = rest.trim_ascii_start();
        if rest.is_empty() {
            break;
        }
        if let Some(inner) = rest.strip_prefix(b"\"") {
            let mut at = 0;
            let close = loop {
                match inner.get(at)? {
                    b'\\' => at += 2,
                    b'"' => break at,
                    _ => at += 1,
                }
            };
            fields.push(&inner[..close]);
            rest = &inner[close + 1..];
            if !(rest.is_empty() || rest[0] == b' ') {
                return None;
            }
        } else {
            let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
            fields.push(&rest[..end]);
            rest = &rest[end..];
        }
    }
    Some(fields)
}

/// An AWS ALB access log line. The arrival is its `request_creation_time`
/// (the 22nd field), not its `time` (the 2nd: when the response was sent);
/// the duration is its `target_processing_time` (the 7th, seconds), or none
/// when it is -1: no target answered (it could not be reached, or closed
/// the connection), so the line is an arrival but no service time.
fn alb(line: &[u8]) -> Option<Stamp> {
    const TARGET_TIME: usize = 6;
    const CREATED: usize = 21;
    let fields = alb_fields(line, CREATED + 1)?;
    if fields.len() <= CREATED || !ALB_TYPES.contains(&fields[0]) {
        return None;
    }
    // The line's own time, checked so that another format is not taken for ALB.
    rfc3339(fields[1])?;
    let created = rfc3339(fields[CREATED])?;
    let duration = match fields[TARGET_TIME] {
        b"-1" => None,
        field => {
            let (whole, n) = digits(field);
            let (frac, m) = match field.get(n) {
                Some(b'.') => fraction(&field[n + 1..], 1_000_000_000)?,
                _ => (0, 0),
            };
            let used = if m > 0 { n + 1 + m } else { n };
            if n == 0 || used != field.len() {
                return None;
            }
            let ns = whole.checked_mul(1_000_000_000)?.checked_add(frac)?;
            Some(LogDuration {
                as_seconds_ns: ns,
                whole: m == 0,
                fixed: Some((DurationUnit::Seconds, LogTime::Start)),
            })
        }
    };
    Some(Stamp {
        duration,
        ..created
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_lines_duration_is_its_last_field_after_the_request() {
        let duration = |line: &str| TimeFormat::Clf.parse(line.as_bytes()).unwrap().duration;
        let t = "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700]";
        let nginx = duration(&format!(
            r#"{t} "GET / HTTP/1.1" 200 512 "-" "curl/8" 0.153"#
        ));
        assert_eq!(
            nginx,
            Some(LogDuration {
                as_seconds_ns: 153_000_000,
                whole: false,
                fixed: None,
            })
        );
        let apache = duration(&format!(r#"{t} "GET / HTTP/1.1" 200 512 153000"#)).unwrap();
        assert_eq!(
            apache.ns(apache.unit(None)),
            153_000_000,
            "whole: microseconds"
        );
        assert_eq!(apache.ns(DurationUnit::Seconds), 153_000 * 1_000_000_000);
        // A plain Common or Combined line has none: its last field is the bytes, or quoted.
        assert_eq!(duration(&format!(r#"{t} "GET / HTTP/1.1" 200 512"#)), None);
        assert_eq!(
            duration(&format!(r#"{t} "GET / HTTP/1.1" 200 512 "-" "curl/8""#)),
            None
        );
        assert_eq!(
            duration(&format!(r#"{t} "GET / HTTP/1.1" 200 512 "-" "x" 1e3"#)),
            None
        );
    }

    #[test]
    fn the_end_of_a_request_less_its_duration_is_its_arrival() {
        let stamp = Stamp {
            ns: 10 * S,
            whole_seconds: true,
            duration: Some(LogDuration {
                as_seconds_ns: 250_000_000,
                whole: false,
                fixed: None,
            }),
        };
        let auto = LogOptions::default();
        assert_eq!(auto.arrival(&stamp), (10 * S - S / 4, Some(250_000_000)));
        let start = LogOptions {
            time: Some(LogTime::Start),
            ..auto
        };
        assert_eq!(start.arrival(&stamp), (10 * S, Some(250_000_000)));
        // Whole microseconds (Apache): the time is the start unless told.
        let apache = Stamp {
            duration: Some(LogDuration {
                as_seconds_ns: 250_000 * 1_000_000_000,
                whole: true,
                fixed: None,
            }),
            ..stamp
        };
        assert_eq!(auto.arrival(&apache), (10 * S, Some(250_000_000)));
        let end = LogOptions {
            time: Some(LogTime::End),
            ..auto
        };
        assert_eq!(end.arrival(&apache), (10 * S - S / 4, Some(250_000_000)));
    }

    const S: i64 = 1_000_000_000;

    fn stamp(format: TimeFormat, line: &str) -> Option<(i64, bool)> {
        format
            .parse(line.as_bytes())
            .map(|s| (s.ns, s.whole_seconds))
    }

    #[test]
    fn epoch_seconds_and_milliseconds() {
        use TimeFormat::*;
        assert_eq!(stamp(Epoch, "1456589246"), Some((1456589246 * S, true)));
        assert_eq!(
            stamp(Epoch, "1456589246.25"),
            Some((1456589246 * S + S / 4, false))
        );
        assert_eq!(
            stamp(Epoch, "1.123456789123"),
            Some((S + 123_456_789, false)),
            "digits past the nanosecond are dropped"
        );
        assert_eq!(
            stamp(Epoch, "12 GET /x"),
            Some((12 * S, true)),
            "first field"
        );
        assert_eq!(stamp(Epoch, "12,200"), Some((12 * S, true)));
        for bad in [
            "",
            "x",
            "12x",
            "1.",
            ".5",
            "-5",
            "1e9",
            "99999999999999999999",
        ] {
            assert_eq!(stamp(Epoch, bad), None, "{bad:?}");
        }
        assert_eq!(
            stamp(EpochMs, "1456589246250"),
            Some((1456589246250 * 1_000_000, false))
        );
        assert_eq!(stamp(EpochMs, "1000.5"), Some((S + 500_000, false)));
    }

    #[test]
    fn rfc3339_with_fractions_and_offsets() {
        use TimeFormat::Rfc3339;
        let noon = 1_796_040_000; // 2026-11-30T12:00:00Z
        assert_eq!(
            stamp(Rfc3339, "2026-11-30T12:00:00.125Z"),
            Some((noon * S + S / 8, false))
        );
        assert_eq!(
            stamp(Rfc3339, "2026-11-30T13:00:00+01:00 GET /"),
            Some((noon * S, false))
        );
        assert_eq!(
            stamp(Rfc3339, "2026-11-30t06:30:00-05:30"),
            Some((noon * S, false))
        );
        assert_eq!(stamp(Rfc3339, "1970-01-01T00:00:00Z"), Some((0, false)));
        assert_eq!(
            stamp(Rfc3339, "2024-02-29T00:00:00Z"),
            Some((1_709_164_800 * S, false))
        );
        for bad in [
            "2026-11-30 12:00:00Z",
            "2026-11-30T12:00:00",
            "2026-13-30T12:00:00Z",
            "2025-02-29T12:00:00Z",
            "2026-11-30T24:00:00Z",
            "2026-11-30T12:00:00.Z",
            "2026-11-30T12:00:00+0100",
            "2026-11-30T12:00:00Zjunk",
        ] {
            assert_eq!(stamp(Rfc3339, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn common_log_format_honours_the_offset() {
        use TimeFormat::Clf;
        let line = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#;
        // 2000-10-10T20:55:36Z
        assert_eq!(stamp(Clf, line), Some((971_211_336 * S, true)));
        assert_eq!(
            stamp(Clf, "h - - [10/Oct/2000:20:55:36 +0000] x"),
            Some((971_211_336 * S, true))
        );
        assert_eq!(
            stamp(Clf, "h - - [11/Oct/2000:02:25:36 +0530]"),
            Some((971_211_336 * S, true))
        );
        for bad in [
            "h - - 10/Oct/2000:13:55:36 -0700",
            "h - - [10/Okt/2000:13:55:36 -0700]",
            "h - - [10/Oct/2000:13:55:36]",
            "h - - [31/Apr/2000:13:55:36 -0700]",
            "h - - [10/Oct/2000:13:55:36 -0700",
        ] {
            assert_eq!(stamp(Clf, bad), None, "{bad:?}");
        }
    }

    fn lines(text: &[u8]) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        for_each_line(text, "f", |line, n, _| {
            out.push((String::from_utf8_lossy(line).into_owned(), n));
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn lines_skip_blanks_and_comments_and_lose_crlf_and_the_bom() {
        let text = b"\xef\xbb\xbf1\r\n\r\n  # comment\n#x\n 2 \r\n   \n3";
        assert_eq!(
            lines(text),
            [("1".into(), 1), ("2 ".into(), 5), ("3".into(), 7)]
        );
        assert!(lines(b"").is_empty());
        // A line longer than the first chunk still arrives whole.
        let long = format!("{}\n5\n", "7".repeat(300_000));
        let got = lines(long.as_bytes());
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0.len(), 300_000);
        assert_eq!(got[1], ("5".into(), 2));
    }

    fn read(text: &str, forced: Option<TimeFormat>) -> Result<(TimeFormat, Vec<i64>), String> {
        let mut all = Vec::new();
        read_stamps(text.as_bytes(), "trace.log", forced, |s| all.push(s.ns))
            .map(|f| (f, all))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_format_is_detected_from_the_first_data_line() {
        assert_eq!(read("# hi\n5\n6.5\n", None).unwrap().0, TimeFormat::Epoch);
        assert_eq!(
            read("2026-11-30T12:00:00Z\n", None).unwrap().0,
            TimeFormat::Rfc3339
        );
        assert_eq!(
            read("h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1\n", None)
                .unwrap()
                .0,
            TimeFormat::Clf
        );
        assert_eq!(
            read("5000\n", Some(TimeFormat::EpochMs)).unwrap().1,
            [5 * S]
        );
        // Eleven digits or more: milliseconds.
        assert_eq!(
            read("1456589246250\n1456589246500.5\n", None).unwrap(),
            (
                TimeFormat::EpochMs,
                vec![1_456_589_246_250_000_000, 1_456_589_246_500_500_000]
            )
        );
        assert_eq!(read("4000000000\n", None).unwrap().0, TimeFormat::Epoch);
        assert_eq!(read("10000000000\n", None).unwrap().0, TimeFormat::EpochMs);
    }

    #[test]
    fn each_error_names_the_file_the_line_and_what_was_expected() {
        let cases: &[(&str, Option<TimeFormat>, &str)] = &[
            ("1\n2\nthree\n", None, "trace.log:3: expected epoch seconds"),
            (
                "\n# c\nnope\n",
                None,
                "trace.log:3: expected a time: epoch seconds",
            ),
            (
                "2026-11-30T12:00:00Z\r\n2026-11-30T12:00:00\r\n",
                None,
                "trace.log:2: expected an RFC 3339 time",
            ),
            (
                "h - - [10/Oct/2000:13:55:36 -0700]\n\nh - - [10/Oct/2000:13:55:36]\n",
                None,
                "trace.log:3: expected a Common Log Format line",
            ),
            (
                "12\n",
                Some(TimeFormat::Clf),
                "trace.log:1: expected a Common Log Format line",
            ),
            (
                "1.5\nx\n",
                Some(TimeFormat::EpochMs),
                "trace.log:2: expected epoch milliseconds",
            ),
            (
                "# only a comment\n\n",
                None,
                "trace.log: expected at least one",
            ),
            (
                "# only a comment\n\n",
                Some(TimeFormat::Epoch),
                "trace.log: expected at least one",
            ),
        ];
        for (text, forced, message) in cases {
            let error = read(text, *forced).unwrap_err();
            assert!(error.starts_with(message), "{text:?}: {error}");
            assert!(!error.contains('\n'), "one line: {error}");
        }
    }

    #[test]
    fn names_are_shown_on_one_line() {
        assert_eq!(printable("plain/name.log"), "plain/name.log");
        assert_eq!(printable("a\nb\r\t\x1b[2Jc"), "a\\nb\\r\\t\\u{1b}[2Jc");
        assert_eq!(printable("caf\u{e9} \"q\" \\"), "caf\u{e9} \"q\" \\");
        let e = TraceError::file("x\ny", "no such file");
        assert_eq!(e.to_string(), "x\\ny: no such file");
    }

    #[test]
    fn a_time_out_of_range_names_its_line() {
        for text in [
            "1\n9000000000\n",
            "2026-11-30T12:00:00Z\n3026-11-30T12:00:00Z\n",
            "h - - [10/Oct/2000:13:55:36 -0700]\nh - - [10/Oct/1800:13:55:36 -0700]\n",
        ] {
            let error = read(text, None).unwrap_err();
            assert_eq!(
                error, "trace.log:2: expected a time between the years 1824 and 2116",
                "{text:?}"
            );
        }
        // The edges of the range are read.
        assert!(read("1824-01-01T00:00:00Z\n2116-01-01T00:00:00Z\n", None).is_ok());
    }

    #[test]
    fn a_last_line_without_a_line_end_must_be_whole() {
        // Whole, it is read like any other.
        assert_eq!(read("1\n2\n3", None).unwrap().1, [S, 2 * S, 3 * S]);
        // Cut off where it does not parse: its number, and why that may be.
        let error = read("1\n2\n3x", None).unwrap_err();
        assert_eq!(
            error,
            format!(
                "trace.log:3: expected epoch seconds such as 1456589246 or 1456589246.25; {CUT_OFF}"
            )
        );
        let error = read("2026-11-30T12:00:00.125Z\n2026-11-30T12:00:0", None).unwrap_err();
        assert!(
            error.starts_with("trace.log:2: expected an RFC 3339"),
            "{error}"
        );
        assert!(error.ends_with(CUT_OFF), "{error}");
        // Cut off where it still parses, as a disk filling up leaves a
        // recording: a number cut short is decades earlier than the lines
        // before it, and is not read as a time.
        let cut = "1796045114.626436011\n1796045114.726436011\n17960";
        let error = read(cut, None).unwrap_err();
        assert!(
            error.starts_with("trace.log:3: earlier than a line before it"),
            "{error}"
        );
        assert!(error.contains(CUT_OFF), "{error}");
        // With a line end the same line is a (sorted) time like any other.
        assert!(read(&format!("{cut}\n"), None).is_ok());
    }

    /// Any input gives stamps or one line naming the file (and the line, if
    /// one is to blame); never a panic.
    fn check_any_trace(bytes: &[u8]) {
        for forced in [
            None,
            Some(TimeFormat::Epoch),
            Some(TimeFormat::EpochMs),
            Some(TimeFormat::Rfc3339),
            Some(TimeFormat::Clf),
            Some(TimeFormat::Alb),
        ] {
            let mut stamps = Vec::new();
            match read_stamps(bytes, "t", forced, |s| stamps.push(s.ns)) {
                Ok(format) => {
                    assert!(!stamps.is_empty());
                    assert!(forced.is_none_or(|f| f == format));
                    assert!(stamps.iter().all(|ns| (-LIMIT_NS..=LIMIT_NS).contains(ns)));
                }
                Err(e) => {
                    let text = e.to_string();
                    assert!(text.starts_with("t:") && !text.contains('\n'), "{text:?}");
                    assert!(!e.message.is_empty(), "{text:?}");
                }
            }
            // And the whole reading of a trace (sorting, spreading ties).
            match crate::traffic::Trace::from_reader(bytes, "t", forced) {
                Ok(trace) => {
                    assert_eq!(trace.lines(), stamps.len() as u64);
                    assert!(trace.offsets.windows(2).all(|w| w[0] <= w[1]));
                }
                Err(e) => assert!(!e.to_string().contains('\n'), "{e}"),
            }
        }
    }

    /// Pieces of every format, so that random lines come near real ones.
    const PIECES: &str = "(1456589246|17960|2026-11-30T12:00:00|\\.125|Z|[+-]01:00|\\[10/Oct/2000:13:55:36 -0700\\]|[0-9]{1,20}|[ \t,;#.:/TZ-]|[a-zA-Z]{1,4}|\\xef\\xbb\\xbf){0,8}";

    proptest::proptest! {
        #[test]
        fn any_bytes_are_stamps_or_one_line(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)
        ) {
            check_any_trace(&bytes);
        }

        #[test]
        fn any_lines_are_stamps_or_one_line(
            lines in proptest::collection::vec(PIECES, 0..30),
            ends in proptest::collection::vec("\n|\r\n|\n\n", 30),
            last_end in proptest::bool::ANY,
        ) {
            let mut text = String::new();
            for (i, line) in lines.iter().enumerate() {
                text.push_str(line);
                if i + 1 < lines.len() || last_end {
                    text.push_str(&ends[i]);
                }
            }
            check_any_trace(text.as_bytes());
        }

        #[test]
        fn any_line_parses_or_not_without_a_panic(
            line in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
            piece in PIECES,
        ) {
            for format in [TimeFormat::Epoch, TimeFormat::EpochMs, TimeFormat::Rfc3339, TimeFormat::Clf, TimeFormat::Alb] {
                let _ = format.parse(&line);
                let _ = format.parse(piece.as_bytes());
            }
            let _ = detect(&line);
        }

        #[test]
        fn any_alb_like_line_parses_or_not_without_a_panic(
            fields in proptest::collection::vec(ALB_PIECES, 0..30),
            cut in 0usize..600,
        ) {
            let line = fields.join(" ");
            let line = &line.as_bytes()[..cut.min(line.len())];
            if let Some(stamp) = TimeFormat::Alb.parse(line) {
                let d = stamp.duration.map(|d| d.ns(d.unit(None)));
                assert!(d.is_none_or(|ns| ns < 1 << 62));
            }
            check_any_trace(line);
        }
    }

    /// An ALB line's fields and things near them, for the random lines.
    const ALB_PIECES: &str = "(https|h2|2018-07-02T22:22:48\\.364000Z|-1|0\\.00[0-9]|[0-9]{1,20}|\"[a-z \\\\\"]{0,6}\"|\"|-|app/x|1\\.2\\.3\\.4:80)";

    /// The example of AWS's documentation, with `request` and the times
    /// given: ends at 22:23:00.186641, created at 22:22:48.364.
    fn alb_line(target_time: &str, request: &str) -> String {
        format!(
            "https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 \
             192.168.131.39:2817 10.0.0.1:80 0.086 {target_time} 0.037 200 200 0 57 \
             \"{request}\" \"curl/7.46.0\" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 \
             arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 \
             \"Root=1-58337281-1d84f3d73c47ec4e58577259\" \"www.example.com\" \
             \"arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012\" \
             1 2018-07-02T22:22:48.364000Z \"authenticate,forward\" \"-\" \"-\" \
             \"10.0.0.1:80\" \"200\" \"-\" \"-\" TID_123456"
        )
    }

    #[test]
    fn an_alb_line_arrives_at_its_creation_and_takes_its_target_time() {
        let created = 1_530_570_168 * S + 364_000_000; // 2018-07-02T22:22:48.364Z
        let line = alb_line("0.048", "GET https://www.example.com:443/ HTTP/1.1");
        let stamp = TimeFormat::Alb.parse(line.as_bytes()).unwrap();
        assert_eq!((stamp.ns, stamp.whole_seconds), (created, false));
        let d = stamp.duration.unwrap();
        // Seconds, and the time the start, whatever the options say.
        assert_eq!(d.ns(d.unit(Some(DurationUnit::Micros))), 48_000_000);
        let end = LogOptions {
            time: Some(LogTime::End),
            ..LogOptions::default()
        };
        assert_eq!(end.arrival(&stamp), (created, Some(48_000_000)));
        assert_eq!(detect(line.as_bytes()), Some(TimeFormat::Alb));
        // -1: no target answered. An arrival, but no service time.
        let failed = TimeFormat::Alb.parse(alb_line("-1", "GET / HTTP/1.1").as_bytes());
        assert_eq!(failed.map(|s| (s.ns, s.duration)), Some((created, None)));
        // Quoted fields with spaces, escaped quotes and a `[` (an IPv6 host).
        let odd = alb_line("1", r#"GET http://[::1]:80/a\"b c HTTP/1.1"#);
        assert_eq!(detect(odd.as_bytes()), Some(TimeFormat::Alb));
        assert_eq!(
            TimeFormat::Alb
                .parse(odd.as_bytes())
                .unwrap()
                .duration
                .map(|d| d.as_seconds_ns),
            Some(S as u64)
        );
        for bad in [
            alb_line("x", "GET / HTTP/1.1"),
            alb_line("-2", "GET / HTTP/1.1"),
            alb_line("0.5.1", "GET / HTTP/1.1"),
            alb_line("0.048", "GET / HTTP/1.1").replace("https ", "ftp "),
            alb_line("0.048", "GET / HTTP/1.1").replace("48.364000Z", "48.364000"),
            alb_line("0.048", "GET / HTTP/1.1").replace("\"www.example.com\"", "\"www"),
            alb_line("0.048", "GET / HTTP/1.1")[..400].to_string(),
        ] {
            assert_eq!(TimeFormat::Alb.parse(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn a_bad_alb_line_names_its_line() {
        let good = alb_line("0.048", "GET / HTTP/1.1");
        let text = format!("{good}\n{}\n", good.replace("48.364000Z", "48.364000"));
        let error = read(&text, None).unwrap_err();
        assert!(
            error.starts_with("trace.log:2: expected an AWS ALB access log line"),
            "{error}"
        );
        assert!(read(&format!("{good}\n"), Some(TimeFormat::Alb)).is_ok());
    }
}
