//! The sweep's simulations, split across `threads` scoped threads: each
//! takes the next simulation from a shared counter, each result goes to its
//! own slot, and the figures are combined in one fixed order, so the rows
//! are the same whatever the number of threads. A watcher on the calling
//! thread may follow the progress (the binary draws a bar from it).

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::thread::{self, Thread};
use std::time::Duration;

use super::config::SweepConfig;
use super::rows::{Figures, Point, Row, combine};
use crate::model::WhenFull;
use crate::sizing::replay::{self, Replay};
use crate::sizing::sim::{self, Scenario};

/// Progress of a running sweep, for a watcher on the calling thread.
pub struct Progress {
    done: AtomicUsize,
    total: usize,
    /// The watching thread: woken after the last simulation, so it sees the end at once.
    watcher: Thread,
}

impl Progress {
    /// Simulations finished, and in all.
    pub fn done(&self) -> (usize, usize) {
        (self.done.load(Relaxed), self.total)
    }
}

/// Runs every simulation of the sweep (consumer counts outer, capacities
/// inner, every run of each) and combines each point's runs.
pub fn rows(config: &SweepConfig) -> Vec<Row> {
    rows_watched(config, |_| {})
}

/// [`rows`], with `watch` called on this thread while the simulations run: it
/// may return at once, or wait (`thread::park_timeout`) until all are done.
pub fn rows_watched(config: &SweepConfig, watch: impl FnOnce(&Progress)) -> Vec<Row> {
    // Loads outer, then policies, consumer counts, capacities inner.
    let points: Vec<Point> = config
        .traffic
        .loads
        .iter()
        .flat_map(|&load| {
            config.what_if.when_full.iter().flat_map(move |&when_full| {
                config.consumers.iter().flat_map(move |&consumers| {
                    config.capacities.iter().map(move |&capacity| Point {
                        load,
                        when_full,
                        capacity,
                        consumers,
                    })
                })
            })
        })
        .collect();
    let runs = config.runs.max(1) as usize;
    let total = points.len() * runs;
    let threads = config.threads.clamp(1, total.max(1));
    let next = AtomicUsize::new(0);
    let progress = Progress {
        done: AtomicUsize::new(0),
        total,
        watcher: thread::current(),
    };
    // Simulation i is run i % runs of point i / runs; each goes to its own slot.
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Relaxed);
            if i >= total {
                break done;
            }
            let point = points[i / runs];
            let run = (i % runs) as u64;
            let seed = config.seed.wrapping_add(run);
            done.push((i, simulate(config, point, seed, run)));
            // Relaxed: the count only drives the progress bar; join() publishes the results.
            if progress.done.fetch_add(1, Relaxed) + 1 == total {
                progress.watcher.unpark(); // the watcher need not wait out its tick
            }
        }
    };
    let mut slots: Vec<Option<Figures>> = vec![None; total];
    thread::scope(|s| {
        let workers: Vec<_> = (0..threads).map(|_| s.spawn(work)).collect();
        watch(&progress);
        for worker in workers {
            let done = worker.join().expect("a sweep thread panicked");
            for (i, figures) in done {
                slots[i] = Some(figures);
            }
        }
    });
    let figures: Vec<Figures> = slots
        .into_iter()
        .map(|f| f.expect("every simulation ran"))
        .collect();
    points
        .iter()
        .zip(figures.chunks(runs))
        .map(|(&point, runs)| combine(config, point, runs))
        .collect()
}

/// Run `run` (0 first) of a point with its seed: the model simulated, or the
/// trace replayed (every run borrows the one copy of it).
fn simulate(config: &SweepConfig, point: Point, seed: u64, run: u64) -> Figures {
    let Point {
        load,
        when_full,
        capacity,
        consumers,
    } = point;
    let service = config.traffic.service(&config.model, seed);
    let outcome = match &config.traffic.trace {
        Some(trace) => {
            // Run 0 is the trace itself; the others resample its blocks with their seeds.
            let resampled;
            let offsets = if run == 0 {
                &trace.offsets[..trace.lines_within(config.duration) as usize]
            } else {
                resampled = trace.bootstrap(config.duration, config.traffic.block, seed);
                &resampled[..]
            };
            replay::replay_what_if(
                &Replay {
                    offsets,
                    load,
                    produce: config.duration.min(trace.span()),
                    capacity,
                    consumers,
                },
                &service,
                when_full,
                &config.model.stalls,
            )
        }
        None => sim::simulate_with(
            &Scenario {
                model: &config.model.at_load(load),
                seed,
                capacity,
                consumers,
                horizon: Some(config.duration),
                messages: None,
                when_full,
            },
            &|seq| service.ns(seq),
        ),
    };
    let secs = |d: Duration| d.as_secs_f64();
    // Under a drop policy a full buffer blocks nobody.
    let blocked = outcome.blocked.count() > 0;
    // The p99 over all sends, those that did not block counting 0: the
    // blocked sends' quantile that leaves 1% of all sends above it.
    let p99_all_s = if outcome.full_count * 100 <= outcome.produced || when_full != WhenFull::Block
    {
        0.0
    } else {
        let q = 1.0 - 0.01 * outcome.produced as f64 / outcome.full_count as f64;
        outcome
            .blocked
            .quantile(q.clamp(0.0, 1.0))
            .map_or(0.0, secs)
    };
    Figures {
        dropped: outcome.dropped,
        p99_all_s,
        stalls: outcome.stalls.clone(),
        produced: outcome.produced,
        full_count: outcome.full_count,
        full_share: outcome.full_share(),
        blocked_p50_s: outcome.blocked.quantile(0.5).map(secs),
        blocked_p99_s: outcome.blocked.quantile(0.99).map(secs),
        blocked_max_s: blocked.then(|| secs(outcome.blocked.max())),
        blocked_total_s: secs(outcome.blocked.total()),
        max_depth: outcome.max_depth,
        mean_in_buffer_s: outcome.mean_wait_s,
        throughput: outcome.throughput(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::sizing::sweep::test_config as config;
    use crate::traffic::Trace;

    #[test]
    fn runs_of_a_trace_replay_it_exactly_or_resample_it() {
        let offsets: Vec<u64> = (0..3000u64)
            .map(|k| k * 7_000_000 + (k % 13) * 900_000)
            .collect();
        let trace = Arc::new(Trace::from_offsets("steady", offsets));
        let mut c = config(&[2, 50], &[1], 1);
        c.duration = trace.span();
        c.model.consume_every = Duration::from_millis(8);
        c.traffic.trace = Some(Arc::clone(&trace));
        // One run: the exact replay's counts.
        let one = rows(&c);
        let exact = replay::replay(
            &Replay {
                offsets: &trace.offsets,
                load: 1.0,
                produce: trace.span(),
                capacity: 2,
                consumers: 1,
            },
            &c.traffic.service(&c.model, c.seed),
        );
        assert_eq!(one[0].produced, exact.produced as f64);
        assert_eq!(one[0].full_count, exact.full_count as f64);
        assert!(one[0].full_share.ci_high.is_none());
        // Several: run 1 is the trace, the others resamples; an interval appears.
        c.runs = 8;
        c.traffic.block = Duration::from_secs(1);
        let many = rows(&c);
        assert!(many[0].full_share.ci_high.is_some());
        assert_ne!(
            many[0].full_count, exact.full_count as f64,
            "resamples differ"
        );
        assert!(many[0].full_share.ci_low.unwrap() <= many[0].full_share.ci_high.unwrap());
    }

    #[test]
    fn one_row_per_capacity_and_consumer_count_in_order() {
        let c = config(&[1, 10, 100], &[1, 3], 1);
        let rows = rows(&c);
        let shape: Vec<(u64, u32)> = rows.iter().map(|r| (r.capacity, r.consumers)).collect();
        assert_eq!(
            shape,
            [(1, 1), (10, 1), (100, 1), (1, 3), (10, 3), (100, 3)]
        );
        let share = |i: usize| rows[i].full_share.mean;
        // With ρ = 2.5 one consumer blocks at any size; a bigger buffer blocks less.
        assert!(share(0) > share(2) && share(2) > 0.3);
        // Three consumers (ρ ≈ 0.83) block far less at the same capacity.
        assert!(share(5) < share(2) / 10.0);
        assert!(rows.iter().all(|r| r.predicted_full_share.is_none()));
        // One run: no interval.
        assert!(rows.iter().all(|r| r.full_share.ci_high.is_none()));
    }

    #[test]
    fn one_run_is_the_simulation_of_the_seed() {
        let c = config(&[20], &[1], 1);
        let row = &rows(&c)[0];
        let outcome = sim::simulate(&Scenario {
            model: &c.model,
            seed: 3,
            capacity: 20,
            consumers: 1,
            horizon: Some(c.duration),
            messages: None,
            when_full: WhenFull::Block,
        });
        assert_eq!(row.produced, outcome.produced as f64);
        assert_eq!(row.full_count, outcome.full_count as f64);
        assert_eq!(row.full_share.mean, outcome.full_share());
        assert_eq!(row.max_depth, outcome.max_depth as f64);
    }

    #[test]
    fn runs_use_consecutive_seeds_and_give_the_mean_and_an_interval() {
        let c = config(&[20], &[3], 5);
        let row = &rows(&c)[0];
        let shares: Vec<f64> = (3..8)
            .map(|seed| {
                sim::simulate(&Scenario {
                    model: &c.model,
                    seed,
                    capacity: 20,
                    consumers: 3,
                    horizon: Some(c.duration),
                    messages: None,
                    when_full: WhenFull::Block,
                })
                .full_share()
            })
            .collect();
        let mean = shares.iter().sum::<f64>() / 5.0;
        assert!((row.full_share.mean - mean).abs() < 1e-12);
        let (low, high) = (
            row.full_share.ci_low.unwrap(),
            row.full_share.ci_high.unwrap(),
        );
        assert!(low <= mean && mean <= high && low < high, "{row:?}");
        // The seeds differ, so the runs do: the interval has a width.
        assert!(shares.iter().any(|&s| s != shares[0]), "{shares:?}");
    }

    #[test]
    fn the_report_does_not_depend_on_the_number_of_threads() {
        let mut c = config(&[1, 5, 50, 500], &[1, 2, 3], 4);
        let one = rows(&c);
        for threads in [2, 3, 8, 100] {
            c.threads = threads;
            assert_eq!(rows(&c), one, "{threads} threads");
        }
    }

    #[test]
    fn the_watcher_sees_every_simulation_finish() {
        let c = SweepConfig {
            threads: 2,
            ..config(&[1, 10], &[1, 2], 3)
        };
        let mut seen = (0, 0);
        rows_watched(&c, |p| {
            loop {
                let (done, total) = p.done();
                if done >= total {
                    seen = (done, total);
                    break;
                }
                thread::park_timeout(Duration::from_millis(10));
            }
        });
        assert_eq!(seen, (12, 12));
    }
}
