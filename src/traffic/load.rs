//! Load over time: a trace's arrivals counted in consecutive windows (a
//! minute, or longer for a long service time), the busiest of them, and how
//! busy the busiest is for a given service. A mean rate over a whole trace
//! can hide windows where the writers cannot keep up: traffic that comes
//! only in minute :05 of each hour has a mean ρ of 0.01 and busy minutes at
//! ρ 1.4. `fit` sizes the writers for the busiest window.
//!
//! One pass over the sorted offsets, keeping only the windows that hold
//! arrivals: time and memory in proportion to the lines, not the span.

use std::time::{Duration, UNIX_EPOCH};

use serde::Serialize;

/// The window lengths tried, in seconds: the first at least [`SERVICES_PER_WINDOW`]
/// service times long is used (a minute unless a service takes over 0.6 s).
pub const LOAD_WINDOWS: [u64; 4] = [60, 600, 3600, 86_400];

/// A window should hold this many service times at least, so that "the
/// writers keep up over the window" means more than a handful of messages.
pub const SERVICES_PER_WINDOW: f64 = 100.0;

/// How many of the busiest windows are kept (and charted).
pub const BUSIEST: usize = 8;

/// A trace's arrivals per window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadOverTime {
    pub window_s: u64,
    /// Windows from the one of the first arrival to the one of the last.
    pub windows: u64,
    /// Windows that hold at least one arrival.
    pub busy_windows: u64,
    /// Arrivals per window over all of them.
    pub mean_count: f64,
    /// The busiest windows on the clock, busiest first (ties: earliest first).
    pub busiest: Vec<WindowCount>,
    /// The most arrivals in any window of this length, wherever it starts: a
    /// burst that straddles two clock windows is counted whole. The busiest
    /// window's ρ is this one's.
    pub peak: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowCount {
    /// The window's start, seconds after the trace's first arrival (the
    /// first window may start before it: windows are on the clock).
    pub start_s: f64,
    /// The same in UTC, RFC 3339 (`None` before 1970).
    pub start: Option<String>,
    pub count: u64,
}

impl LoadOverTime {
    /// Counts `offsets` (sorted, nanoseconds after `start_ns`, the first
    /// arrival's time since the epoch) in windows chosen for a mean service
    /// time of `service_s` (0 when none is known: a minute).
    pub fn of(offsets: &[u64], start_ns: i64, service_s: f64) -> LoadOverTime {
        let window_s = LOAD_WINDOWS
            .iter()
            .copied()
            .find(|&w| w as f64 >= SERVICES_PER_WINDOW * service_s)
            .unwrap_or(LOAD_WINDOWS[LOAD_WINDOWS.len() - 1]);
        let window_ns = window_s * 1_000_000_000;
        // Windows on the clock's minutes (hours, days: UTC), not from the
        // first arrival: "the minute :05" is a minute of the log's own time.
        let phase = start_ns.rem_euclid(window_ns as i64) as u64;
        let span = offsets.last().copied().unwrap_or(0);
        let windows = (span + phase) / window_ns + 1;
        // (window number, count) of the windows holding arrivals, in order.
        let mut counts: Vec<(u64, u64)> = Vec::new();
        for &t in offsets {
            let i = (t + phase) / window_ns;
            match counts.last_mut() {
                Some((j, c)) if *j == i => *c += 1,
                _ => counts.push((i, 1)),
            }
        }
        let busy_windows = counts.len() as u64;
        // The sliding peak, by two pointers.
        let (mut peak, mut first) = (0usize, 0usize);
        for (last, &t) in offsets.iter().enumerate() {
            while offsets[first] + window_ns <= t {
                first += 1;
            }
            peak = peak.max(last + 1 - first);
        }
        let keep = BUSIEST.min(counts.len());
        let by_count = |a: &(u64, u64), b: &(u64, u64)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
        if keep > 0 && keep < counts.len() {
            counts.select_nth_unstable_by(keep - 1, by_count);
        }
        counts.truncate(keep);
        counts.sort_unstable_by(by_count);
        LoadOverTime {
            window_s,
            windows,
            busy_windows,
            mean_count: offsets.len() as f64 / windows as f64,
            busiest: counts
                .iter()
                .map(|&(i, count)| WindowCount {
                    start_s: (i * window_ns) as f64 / 1e9 - phase as f64 / 1e9,
                    start: u64::try_from(start_ns)
                        .ok()
                        .and_then(|ns| (ns - phase).checked_add(i * window_ns))
                        .map(|ns| {
                            let at = UNIX_EPOCH + Duration::from_nanos(ns);
                            humantime::format_rfc3339_seconds(at).to_string()
                        }),
                    count,
                })
                .collect(),
            peak: peak as u64,
        }
    }

    /// The window in words: "minute", "hour", "day" or "600 s window".
    pub fn window_name(&self) -> String {
        match self.window_s {
            60 => "minute".into(),
            3600 => "hour".into(),
            86_400 => "day".into(),
            w => format!("{w} s window"),
        }
    }

    /// The busiest window's arrivals, wherever it starts.
    pub fn peak_count(&self) -> u64 {
        self.peak
    }

    /// ρ of the busiest window at `load` with `consumers` of `service_s` each:
    /// at load L a window of the trace passes in 1/L of its time.
    pub fn busiest_utilisation(&self, load: f64, service_s: f64, consumers: u32) -> f64 {
        self.peak_count() as f64 * service_s * load
            / (self.window_s as f64 * f64::from(consumers.max(1)))
    }

    /// The fewest consumers (at least 1, at most `most`) for which the busiest
    /// window's ρ is below 1 at `load`; `None` if not even `most` are enough.
    pub fn consumers_for_busiest(&self, load: f64, service_s: f64, most: u32) -> Option<u32> {
        let work = self.peak_count() as f64 * service_s * load / self.window_s as f64;
        // ρ < 1 needs more consumers than the work: ⌊work⌋ + 1.
        let needed = (work.floor() + 1.0).max(1.0);
        (needed <= f64::from(most)).then_some(needed as u32)
    }

    /// A small chart of the busiest windows, in time order: one line each,
    /// `width` characters of bar at most. `label` writes a window's start.
    pub fn chart(&self, width: usize, label: impl Fn(&WindowCount) -> String) -> Vec<String> {
        let peak = self.busiest.first().map_or(1, |w| w.count.max(1));
        let mut shown = self.busiest.clone();
        shown.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        shown
            .iter()
            .map(|w| {
                let bar = ((w.count as f64 / peak as f64) * width as f64).round() as usize;
                format!(
                    "{}  {:<width$} {}",
                    label(w),
                    "#".repeat(bar.max(1)),
                    w.count
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn busy_minutes_in_a_quiet_hour_are_found_and_counted() {
        // 84 hours; 120 arrivals in minute :05 of each, nothing else.
        let offsets: Vec<u64> = (0..84u64)
            .flat_map(|h| (0..120u64).map(move |k| h * 3600 * S + 300 * S + k * S / 2))
            .collect();
        let load = LoadOverTime::of(&offsets, 0, 0.3);
        assert_eq!(load.window_s, 60);
        assert_eq!(load.busy_windows, 84);
        assert_eq!(load.peak_count(), 120);
        assert_eq!(load.busiest.len(), BUSIEST);
        assert_eq!(
            load.busiest[0].start_s, 300.0,
            "the earliest of equals first"
        );
        // The mean hides them: ρ 0.01 over the trace, 1.2 in a busy minute at 2×.
        assert!(load.mean_count * 0.3 / 60.0 < 0.02, "{load:?}");
        let busy = load.busiest_utilisation(2.0, 0.3, 1);
        assert!((busy - 1.2).abs() < 1e-9, "{busy}");
        assert_eq!(load.consumers_for_busiest(2.0, 0.3, 1000), Some(2));
        assert_eq!(load.consumers_for_busiest(1.0, 0.3, 1000), Some(1));
        assert_eq!(load.consumers_for_busiest(2.0, 0.3, 1), None);
        // Exactly ρ = 1 is not stable: one more.
        assert_eq!(load.consumers_for_busiest(1.0, 0.5, 1000), Some(2));
    }

    #[test]
    fn a_long_service_takes_a_longer_window_and_memory_follows_the_lines() {
        // Two lines a century apart: two windows kept, not 53 million.
        let offsets = [0, 100 * 365 * 86_400 * S];
        let load = LoadOverTime::of(&offsets, -1, 1.0);
        assert_eq!(load.window_s, 600);
        assert_eq!(load.busy_windows, 2);
        assert!(load.windows > 5_000_000);
        let chart = load.chart(10, |w| format!("{:>12}", w.start_s));
        assert_eq!(chart.len(), 2);
        assert_eq!(load.busiest[0].start, None, "before 1970");
        assert!(chart[0].ends_with(" 1"), "{chart:?}");
    }

    #[test]
    fn windows_are_on_the_clock() {
        // The first arrival at 12:04:30: its minute starts 30 s before it.
        let start = 1_795_996_800 * S as i64 + 4 * 60 * S as i64 + 30 * S as i64;
        let offsets = [0, 10 * S, 35 * S];
        let load = LoadOverTime::of(&offsets, start, 0.1);
        assert_eq!(load.windows, 2);
        assert_eq!(load.busiest[0].count, 2);
        // Anywhere, 60 s hold all three: the peak is not cut by the clock.
        assert_eq!(load.peak_count(), 3);
        assert_eq!(load.busiest[0].start_s, -30.0);
        assert_eq!(
            load.busiest[0].start.as_deref(),
            Some("2026-11-30T00:04:00Z")
        );
        assert_eq!(
            load.busiest[1].start.as_deref(),
            Some("2026-11-30T00:05:00Z")
        );
    }

    #[test]
    fn the_chart_is_in_time_order_with_bars_in_proportion() {
        let mut offsets = vec![0; 10];
        offsets.extend(std::iter::repeat_n(120 * S, 5));
        let load = LoadOverTime::of(&offsets, 0, 0.0);
        let chart = load.chart(10, |w| format!("{}", w.start_s));
        assert_eq!(chart, ["0  ########## 10", "120  #####      5"]);
        assert_eq!(
            load.busiest[1].start.as_deref(),
            Some("1970-01-01T00:02:00Z")
        );
    }
}
