//! A trace: the arrival times of a file, sorted, as nanoseconds after the
//! earliest line. Kept as one `u64` a line in an `Arc<[u64]>`, read once and
//! shared read-only by every point of a sweep, every thread, and the live
//! producer.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use super::parse::{self, LogOptions, Stamp, TimeFormat, TraceError};
use crate::model::splitmix64;

const SECOND: i64 = 1_000_000_000;

/// Arrival times from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// Where it came from, for messages (`-` for stdin).
    pub name: String,
    pub format: TimeFormat,
    /// Nanoseconds after the earliest line, ascending; never empty.
    pub offsets: Arc<[u64]>,
    /// Lines earlier than a line before them in the file.
    pub out_of_order: u64,
    /// The earliest line's time, in nanoseconds since the Unix epoch.
    pub start_ns: i64,
    /// Every line's time was written in whole seconds (CLF, integer epoch
    /// seconds): ties were spread over their second, and nothing shorter
    /// than a second can be seen.
    pub whole_seconds: bool,
    /// The requests' durations, in file order, when the log carries them
    /// (see [`LogOptions`]): service times, for `--service-from` the log.
    pub durations: Option<Arc<[u64]>>,
}

impl Trace {
    /// Reads a file (`-` for stdin; gzip decompressed on the fly).
    pub fn read(path: &str, forced: Option<TimeFormat>) -> Result<Trace, TraceError> {
        Trace::read_log(path, forced, LogOptions::default())
    }

    /// [`Trace::read`], a log's duration field read as `log` says.
    pub fn read_log(
        path: &str,
        forced: Option<TimeFormat>,
        log: LogOptions,
    ) -> Result<Trace, TraceError> {
        Trace::from_log_reader(parse::open(path)?, path, forced, log)
    }

    /// Reads a trace; `name` is used in error messages.
    pub fn from_reader<R: Read>(
        reader: R,
        name: &str,
        forced: Option<TimeFormat>,
    ) -> Result<Trace, TraceError> {
        Trace::from_log_reader(reader, name, forced, LogOptions::default())
    }

    /// [`Trace::from_reader`], a log's duration field read as `log` says:
    /// with the time at the request's end, its arrival is the time less the
    /// duration; the durations are kept, in file order, as service times.
    pub fn from_log_reader<R: Read>(
        reader: R,
        name: &str,
        forced: Option<TimeFormat>,
        log: LogOptions,
    ) -> Result<Trace, TraceError> {
        // One i64 a line: the time, doubled, plus one if it was written in
        // whole seconds. Equal keys are indistinguishable lines, so an
        // unstable sort keeps file order where it matters.
        let mut keys: Vec<i64> = Vec::new();
        let (mut latest, mut out_of_order, mut coarse) = (i64::MIN, 0u64, true);
        let mut durations: Vec<u64> = Vec::new();
        // Every time is within `parse::LIMIT_NS` of 1970 (the parser refuses
        // others, naming the line), so doubled and plus one it fits.
        let format = parse::read_stamps(reader, name, forced, |stamp: Stamp| {
            let (ns, duration) = log.arrival(&stamp);
            // A time less a fraction of a second is no longer a whole second:
            // it is not spread, but its resolution is still the second's.
            let whole_seconds = stamp.whole_seconds && duration.is_none_or(|d| d == 0);
            coarse &= stamp.whole_seconds;
            if let Some(d) = duration {
                durations.push(d);
            }
            if ns < latest {
                out_of_order += 1;
            }
            latest = latest.max(ns);
            // Within the parser's limit less a year of duration: doubled, it fits.
            keys.push(ns.max(-parse::LIMIT_NS) * 2 + i64::from(whole_seconds));
        })?;
        keys.sort_unstable();
        spread_ties(&mut keys);
        let start_ns = keys[0];
        // In place (same size), then one copy into the shared slice: at most
        // 16 bytes a line at the peak, 8 once read.
        let mut offsets: Vec<u64> = keys.into_iter().map(|t| (t - start_ns) as u64).collect();
        offsets.shrink_to_fit();
        let offsets: Arc<[u64]> = offsets.into();
        Ok(Trace {
            name: name.into(),
            format,
            offsets,
            out_of_order,
            start_ns,
            whole_seconds: coarse,
            durations: (!durations.is_empty()).then(|| durations.into()),
        })
    }

    /// A trace from offsets (nanoseconds, any order), as if read from a file.
    pub fn from_offsets(name: &str, mut offsets: Vec<u64>) -> Trace {
        offsets.sort_unstable();
        let first = offsets.first().copied().unwrap_or(0);
        Trace {
            name: name.into(),
            format: TimeFormat::Epoch,
            offsets: offsets.iter().map(|&t| t - first).collect(),
            out_of_order: 0,
            start_ns: 0,
            whole_seconds: false,
            durations: None,
        }
    }

    /// How many arrivals.
    pub fn lines(&self) -> u64 {
        self.offsets.len() as u64
    }

    /// From the earliest line to the latest.
    pub fn span(&self) -> Duration {
        Duration::from_nanos(self.offsets.last().copied().unwrap_or(0))
    }

    /// A block-bootstrap resample of the arrivals before `span`: the span is cut
    /// into blocks of `block`, and each block of the resample is a block of the
    /// trace drawn at random (with replacement, from `seed`), its arrivals
    /// shifted into place. It keeps the pattern within a block (bursts) and
    /// asks how much an answer depends on which blocks happened to be
    /// recorded. Ascending; nothing after `span`.
    ///
    /// Its time is one step a block ([`Trace::bootstrap_blocks`]) and one a
    /// line: in proportion to the span over the block, which the sweep's cost
    /// guard counts.
    pub fn bootstrap(&self, span: Duration, block: Duration, seed: u64) -> Vec<u64> {
        let lines = self.lines_within(span) as usize;
        let offsets = &self.offsets[..lines];
        let blocks = self.bootstrap_blocks(span, block);
        let span = u64::try_from(span.min(self.span()).as_nanos()).unwrap_or(u64::MAX);
        let block = u64::try_from(block.as_nanos()).unwrap_or(u64::MAX).max(1);
        // A resample holds about as many lines as the trace; room for a quarter
        // more saves most regrowths (each would copy it all).
        let mut out = Vec::with_capacity(lines + lines / 4);
        let mut state = seed;
        for j in 0..blocks {
            state = splitmix64(state);
            // Multiply-shift: a uniform block number without a division.
            let source = ((u128::from(state) * u128::from(blocks)) >> 64) as u64;
            let from = source * block;
            let first = offsets.partition_point(|&t| t < from);
            let last = offsets.partition_point(|&t| t < from.saturating_add(block));
            let at = j * block;
            out.extend(
                offsets[first..last]
                    .iter()
                    .map(|&t| t - from + at)
                    .take_while(|&t| t <= span),
            );
        }
        out
    }

    /// How many blocks of `block` a resample of the arrivals before `span` draws.
    pub fn bootstrap_blocks(&self, span: Duration, block: Duration) -> u64 {
        let span = u64::try_from(span.min(self.span()).as_nanos()).unwrap_or(u64::MAX);
        let block = u64::try_from(block.as_nanos()).unwrap_or(u64::MAX).max(1);
        span / block + 1
    }

    /// The mean gap between the first `lines` arrivals, in seconds; `None`
    /// with fewer than two. The one definition of a trace's mean gap (and
    /// its mean rate, the inverse): `fit`'s, the sweep's ρ, the live
    /// summary's λ and `fit --consume-every`'s comparison all use it.
    ///
    /// It is the last line's offset over the n − 1 gaps between n lines, not
    /// the span over n: the trace starts at its first line and ends at its
    /// last, so it holds n − 1 gaps and nothing after the last line; span / n
    /// would count a gap that was never recorded (two lines a second apart
    /// have a gap of 1 s, not 0.5 s). It is also the mean of the gaps `fit`
    /// fits its exponential model to, and (n − 1) / span is the maximum-
    /// likelihood rate of a Poisson stream watched from one arrival to another.
    pub fn mean_gap_s(&self, lines: u64) -> Option<f64> {
        let lines = lines.min(self.lines());
        let last = *self
            .offsets
            .get(usize::try_from(lines).ok()?.checked_sub(1)?)?;
        (lines >= 2).then(|| last as f64 / 1e9 / (lines - 1) as f64)
    }

    /// How many arrivals come before `duration` (all of them when it is the span or longer).
    pub fn lines_within(&self, duration: Duration) -> u64 {
        if duration >= self.span() {
            return self.lines();
        }
        let cut = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        self.offsets.partition_point(|&t| t < cut) as u64
    }
}

/// An offset at a load: every gap divided by `load` (exact for load 1).
#[inline]
pub fn scaled(offset: u64, load: f64) -> u64 {
    if load == 1.0 {
        offset
    } else {
        (offset as f64 / load) as u64
    }
}

/// Spreads each run of `n` equal whole-second keys (time × 2 + 1) over its
/// second: the k-th arrives at T + k/n s. Turns the keys into plain
/// nanoseconds, sorted.
fn spread_ties(keys: &mut [i64]) {
    let mut resort = false;
    let mut i = 0;
    while i < keys.len() {
        let key = keys[i];
        let mut j = i + 1;
        while j < keys.len() && keys[j] == key {
            j += 1;
        }
        let t = key >> 1; // floor division, right for negative times too
        let n = (j - i) as i64;
        for (k, slot) in keys[i..j].iter_mut().enumerate() {
            *slot = if key & 1 == 1 && n > 1 {
                resort = true;
                t + (k as i64 * SECOND) / n
            } else {
                t
            };
        }
        i = j;
    }
    // A spread tie may pass a line written with a fraction (a file mixing
    // `12` and `12.5`): sort again, which is cheap on nearly sorted data.
    if resort {
        keys.sort_unstable();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn trace(text: &str) -> Trace {
        Trace::from_reader(text.as_bytes(), "t", None).unwrap()
    }

    #[test]
    fn the_mean_gap_counts_the_gaps_between_lines() {
        let t = Trace::from_offsets("gaps", vec![0, 1_000_000_000, 3_000_000_000]);
        // Two gaps of 1 s and 2 s: 1.5 s, not the span over the three lines.
        assert_eq!(t.mean_gap_s(3), Some(1.5));
        assert_eq!(t.mean_gap_s(2), Some(1.0), "the first two lines");
        assert_eq!(
            t.mean_gap_s(100),
            Some(1.5),
            "no more lines than the trace has"
        );
        assert_eq!(t.mean_gap_s(1), None);
        assert_eq!(t.mean_gap_s(0), None);
        let instant = Trace::from_offsets("instant", vec![5, 5]);
        assert_eq!(instant.mean_gap_s(2), Some(0.0));
    }

    #[test]
    fn offsets_are_sorted_from_the_earliest_line_and_disorder_is_counted() {
        let t = trace("100.5\n102\n101.25\n99.5\n103.5\n");
        assert_eq!(*t.offsets, [0, S, S * 7 / 4, S * 5 / 2, 4 * S]);
        assert_eq!(t.out_of_order, 2);
        assert_eq!(t.span(), Duration::from_secs(4));
        assert_eq!(t.lines(), 5);
        assert_eq!(t.start_ns, 99_500_000_000);
    }

    #[test]
    fn ties_at_whole_seconds_are_spread_over_the_second() {
        // Three at 10 s and two at 11 s: 10, 10⅓, 10⅔, 11, 11½.
        let t = trace("10\n10\n11\n10\n11\n");
        assert_eq!(*t.offsets, [0, S / 3, 2 * S / 3, S, S + S / 2]);
        assert_eq!(t.out_of_order, 1);
        // Written with fractions, equal times stay equal.
        assert_eq!(*trace("10.0\n10.0\n").offsets, [0, 0]);
        // A mixed file stays sorted: 10, 10.25 (written), 10.5 (spread).
        assert_eq!(*trace("10\n10\n10.25\n").offsets, [0, S / 4, S / 2]);
        // CLF too, and not RFC 3339 (its resolution is not whole seconds).
        let clf = "a - - [10/Oct/2000:13:55:36 -0700] x\nb - - [10/Oct/2000:13:55:36 -0700] y\n\
                   c - - [10/Oct/2000:13:55:36 -0700] z\nd - - [10/Oct/2000:13:55:37 -0700] z\n";
        assert_eq!(*trace(clf).offsets, [0, S / 3, 2 * S / 3, S]);
        assert_eq!(
            *trace("2026-11-30T12:00:00Z\n2026-11-30T12:00:00Z\n").offsets,
            [0, 0]
        );
    }

    #[test]
    fn crlf_a_bom_and_offsets_in_every_format() {
        let rfc = "\u{feff}2026-11-30T12:00:01.5+01:00\r\n2026-11-30T11:00:00Z\r\n";
        let t = trace(rfc);
        assert_eq!(t.format, TimeFormat::Rfc3339);
        assert_eq!(*t.offsets, [0, 1_500_000_000]);
        assert_eq!(t.out_of_order, 1);
        let clf = "\u{feff}h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 5\r\n\
                   h - - [10/Oct/2000:22:55:40 +0200] \"GET /\" 200 5\r\n";
        let t = trace(clf);
        assert_eq!(t.format, TimeFormat::Clf);
        assert_eq!(*t.offsets, [0, 4 * S]);
        let ms = Trace::from_reader(
            "\u{feff}1000\r\n1500.5\r\n".as_bytes(),
            "t",
            Some(TimeFormat::EpochMs),
        )
        .unwrap();
        assert_eq!(*ms.offsets, [0, 500_500_000]);
    }

    #[test]
    fn cutting_by_duration() {
        let t = trace("0\n1.5\n2.5\n4\n");
        assert_eq!(t.lines_within(Duration::from_secs(2)), 2);
        assert_eq!(
            t.lines_within(Duration::from_millis(2500)),
            2,
            "before the cut"
        );
        assert_eq!(t.lines_within(Duration::from_secs(4)), 4, "the span: all");
        assert_eq!(t.lines_within(Duration::ZERO), 0);
    }

    #[test]
    fn a_block_bootstrap_reuses_whole_blocks_in_order() {
        // 10 blocks of 1 s, block k holding k + 1 arrivals at k s + 0, 10, 20 … ms.
        let offsets: Vec<u64> = (0..10u64)
            .flat_map(|k| (0..=k).map(move |i| k * S + i * 10_000_000))
            .collect();
        let t = Trace::from_offsets("b", offsets);
        let span = t.span();
        let block = Duration::from_secs(1);
        let a = t.bootstrap(span, block, 7);
        assert_eq!(a, t.bootstrap(span, block, 7), "the seed repeats it");
        assert_ne!(a, t.bootstrap(span, block, 8), "another seed differs");
        assert!(a.windows(2).all(|w| w[0] <= w[1]), "ascending");
        assert!(a.last().is_some_and(|&x| x <= span.as_nanos() as u64));
        // Every output block is one of the trace's blocks, shifted into place.
        for j in 0..10u64 {
            let pattern: Vec<u64> = a
                .iter()
                .filter(|&&x| x / S == j)
                .map(|&x| x - j * S)
                .collect();
            let n = pattern.len() as u64;
            assert!((1..=10).contains(&n), "block {j}: {pattern:?}");
            let expected: Vec<u64> = (0..n).map(|i| i * 10_000_000).collect();
            assert_eq!(
                pattern,
                expected,
                "block {j} is the trace's block {}",
                n - 1
            );
        }
        // Different draws for different seeds; over many, each block is used.
        let mut used = [false; 10];
        for seed in 0..50 {
            // The block an output block came from is its count of arrivals - 1.
            let a = t.bootstrap(span, block, seed);
            for j in 0..10 {
                let n = a.iter().filter(|&&x| x / S == j).count();
                used[n - 1] = true;
            }
        }
        assert!(used.iter().all(|&u| u));
        // One block as long as the trace: the trace itself.
        let whole = t.bootstrap(span, Duration::from_secs(3600), 1);
        assert_eq!(whole, *t.offsets);
        // A cut: nothing after it.
        let cut = t.bootstrap(Duration::from_millis(4500), block, 3);
        assert!(cut.iter().all(|&x| x <= 4_500_000_000));
    }

    #[test]
    fn from_offsets_sorts_and_starts_at_zero() {
        let t = Trace::from_offsets("x", vec![30, 10, 20]);
        assert_eq!(*t.offsets, [0, 10, 20]);
    }
}
