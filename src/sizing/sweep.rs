//! `burstbuf sweep`: the live model, simulated in virtual time (see [`crate::sizing::sim`])
//! for every capacity and consumer count asked for, `runs` times each with the
//! seeds `seed`, `seed + 1`, … (the same seeds at every point, so the curves are
//! smooth and run 0 is comparable with a live run of `seed`). Each point's full
//! share is given with its 95% interval over the runs (see
//! `crate::sizing::interval`); the recommendation is the fewest consumers, then
//! the smallest capacity, whose upper bound meets the target.
//!
//! The simulations are split across `threads` scoped threads; each result goes
//! to its own slot and the figures are combined in one fixed order, so the
//! report is the same whatever the number of threads. How it is printed is in
//! [`crate::sizing::report`].

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use serde::{Serialize, Serializer};

use crate::model::{Model, WhenFull};
use crate::sizing::replay::{self, Replay};
use crate::sizing::report;
use crate::sizing::sim::StallEffect;
use crate::sizing::sim::{self, Scenario};
use crate::sizing::{interval, queueing};
use crate::traffic::{Service, ServiceFile, Trace};

/// How the sweep's table is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Aligned columns, plots and the recommendation.
    Text,
    Json,
    Csv,
}

/// What to sweep: the model, and every capacity and consumer count to try.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepConfig {
    pub model: Model,
    /// The seed of the first run; run `r` uses `seed + r` (wrapping).
    pub seed: u64,
    /// Model time each simulation runs the producer for.
    pub duration: Duration,
    /// Ascending, each at least 1.
    pub capacities: Vec<u64>,
    /// Ascending, each at least 1.
    pub consumers: Vec<u32>,
    /// The share of sends allowed to find the buffer full, in (0, 1).
    pub target_full: f64,
    pub format: TableFormat,
    /// Simulations of each point, at least 1; with one there is no interval.
    pub runs: u32,
    /// Threads to split the simulations across (the machine's cores); at least 1.
    pub threads: usize,
    /// Draw a progress bar on stderr for a sweep that takes more than about a
    /// second: only when stderr is a terminal, decided by the caller.
    pub progress: bool,
    /// Traffic from files, and the loads to sweep.
    pub traffic: Traffic,
    /// Policies for a full buffer to compare, and targets besides the full share.
    pub what_if: WhatIf,
}

/// `--when-full` (a fourth dimension of the sweep: every policy on the same
/// arrivals), the targets besides `--target-full`, and `--message-size`.
#[derive(Debug, Clone, PartialEq)]
pub struct WhatIf {
    /// Distinct, in the order given; `[Block]` by default.
    pub when_full: Vec<WhenFull>,
    /// `--target-p99`: the p99 of the time a send was blocked, over all sends
    /// (a send that did not block counts as 0).
    pub target_p99: Option<Duration>,
    /// `--target-drop`: the share of messages a drop policy may drop.
    pub target_drop: Option<f64>,
    /// `--message-size`: bytes per message, for capacities in bytes.
    pub message_size: Option<u64>,
}

impl Default for WhatIf {
    fn default() -> WhatIf {
        WhatIf {
            when_full: vec![WhenFull::Block],
            target_p99: None,
            target_drop: None,
            message_size: None,
        }
    }
}

impl WhatIf {
    /// Whether policies other than `block` are swept: then rows say their policy.
    pub fn swept(&self) -> bool {
        self.when_full != [WhenFull::Block]
    }
}

/// Where arrivals and service times come from, and the loads (`--load`) to
/// try: a third dimension of the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Traffic {
    /// `--arrivals-from`: replayed instead of the model's arrivals. With a
    /// trace, `duration` is how much of it to replay, in its own time.
    pub trace: Option<Arc<Trace>>,
    /// `--service-from`, and how its times are used.
    pub service: Option<ServiceFile>,
    /// Ascending, each > 0; `[1.0]` for the traffic as given.
    pub loads: Vec<f64>,
    /// With a trace and several runs, run 1 replays it and the others replay
    /// block-bootstrap resamples of it in blocks this long (`--block`).
    pub block: Duration,
}

/// `--block`'s default: a minute.
pub const BLOCK: Duration = Duration::from_secs(60);

impl Default for Traffic {
    fn default() -> Traffic {
        Traffic {
            trace: None,
            service: None,
            loads: vec![1.0],
            block: BLOCK,
        }
    }
}

impl Traffic {
    /// The service times of a run, by message number.
    pub fn service(&self, model: &Model, seed: u64) -> Service {
        Service::of_run(self.service.as_ref(), model, seed)
    }

    /// The mean service time.
    pub fn mean_service(&self, model: &Model) -> Duration {
        Service::mean_of_run(self.service.as_ref(), model)
    }

    /// Whether loads other than 1 are swept: then the rows say their load.
    pub fn swept(&self) -> bool {
        self.loads != [1.0]
    }

    /// ρ = λ/(c·μ) at a load, from the trace's mean rate or the model's.
    pub fn utilisation(
        &self,
        model: &Model,
        load: f64,
        consumers: u32,
        duration: Duration,
    ) -> Option<f64> {
        let gap = match &self.trace {
            Some(trace) => trace.mean_gap_s(trace.lines_within(duration))?,
            None => model.mean_gap().as_secs_f64(),
        } / load;
        let service = self.mean_service(model).as_secs_f64();
        (gap > 0.0).then(|| service / (gap * f64::from(consumers.max(1))))
    }
}

/// The most trace lines one sweep may replay in all, over every point and
/// run, bootstrap blocks drawn included (about 100 s at 20 M/s).
pub const MAX_REPLAYED_MESSAGES: f64 = 2e9;

/// Refuses more points (capacities × consumer counts × loads) or simulations
/// (points × runs) than allowed.
pub fn check_points(
    capacities: &[u64],
    consumers: &[u32],
    loads: &[f64],
    runs: u32,
) -> Result<(), String> {
    let points = capacities.len() * consumers.len() * loads.len();
    if points > MAX_SWEEP_POINTS {
        return Err(format!(
            "--capacities × --consumers × --load gives {points} points; at most \
             {MAX_SWEEP_POINTS} are allowed"
        ));
    }
    let simulations = points.saturating_mul(runs.max(1) as usize);
    if simulations > MAX_SIMULATIONS {
        return Err(format!(
            "--capacities × --consumers × --load × --runs gives {simulations} simulations; at \
             most {MAX_SIMULATIONS} are allowed (lower --runs or try fewer points)"
        ));
    }
    Ok(())
}

/// The most points (capacities × consumer counts) one sweep may have.
pub const MAX_SWEEP_POINTS: usize = 10_000;

/// The most simulations (points × runs) one sweep may run: each keeps a few
/// figures until the report, so this bounds the memory too.
pub const MAX_SIMULATIONS: usize = 100_000;

/// The most messages a whole sweep may simulate: a few minutes on two cores
/// at the benchmarked rates (15–80 M messages/s per core).
pub const MAX_SWEEP_MESSAGES: f64 = 1e10;

/// A low guess of simulated messages per second per thread (the exponential
/// model is the slowest benchmarked, at about 15 M/s), to foresee a long sweep.
const GUESSED_RATE: f64 = 10e6;

/// What a sweep will do, counted before it starts from everything it will
/// simulate: every load, policy, consumer count, capacity and run; the
/// service times' mean (a `--service-from` file's); with a trace, its lines
/// and every bootstrap block drawn. The guard ([`check`]) refuses a sweep
/// too big, and the progress bar foresees a long one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Work {
    /// Points × runs.
    pub simulations: usize,
    /// Messages simulated, or trace lines replayed and bootstrap blocks
    /// drawn, in all, each weighted by its cost (see [`sim::message_cost`]);
    /// infinite when the model's time would never pass.
    pub steps: f64,
    /// The most messages (or lines) one simulation goes through, unweighted.
    pub per_simulation: f64,
    /// Blocks drawn for each bootstrap resample (0 without one).
    pub blocks: f64,
    /// The most one message costs here, in units of the simplest's.
    pub message_cost: f64,
}

/// Counts what `config` will simulate (see [`Work`]).
pub fn work(config: &SweepConfig) -> Work {
    let traffic = &config.traffic;
    let runs = config.runs.max(1);
    let policies = config.what_if.when_full.len().max(1);
    let points = config.capacities.len() * config.consumers.len() * traffic.loads.len() * policies;
    let simulations = points * runs as usize;
    let stalls = config.model.stalls.len();
    let message_cost = config
        .consumers
        .iter()
        .map(|&c| sim::message_cost(c, stalls))
        .fold(1.0, f64::max);
    let weighted = |per_point: f64| {
        config
            .consumers
            .iter()
            .map(|&c| per_point * sim::message_cost(c, stalls))
            .sum::<f64>()
            * (config.capacities.len() * traffic.loads.len() * policies) as f64
    };
    match &traffic.trace {
        Some(trace) => {
            let lines = trace.lines_within(config.duration) as f64;
            // Run 1 replays the trace; each other run draws a resample of
            // (span / block + 1) blocks, for every point, and replays about
            // as many lines. The drawing does not depend on the consumers.
            let blocks = if runs > 1 {
                trace.bootstrap_blocks(config.duration, traffic.block) as f64
            } else {
                0.0
            };
            let resamples = f64::from(runs - 1);
            let replayed = weighted(lines * f64::from(runs));
            Work {
                simulations,
                steps: replayed + blocks * resamples * (points as f64),
                per_simulation: lines,
                blocks,
                message_cost,
            }
        }
        None => {
            let mean_service = traffic.mean_service(&config.model);
            let (mut steps, mut per_simulation) = (0.0, 0.0f64);
            for &load in &traffic.loads {
                let gap = config.model.at_load(load).mean_gap();
                for &policy in &config.what_if.when_full {
                    for &consumers in &config.consumers {
                        for &capacity in &config.capacities {
                            let offers = sim::expected_offers(
                                gap,
                                mean_service,
                                consumers,
                                capacity,
                                policy,
                                config.duration,
                            );
                            per_simulation = per_simulation.max(offers);
                            steps += offers * sim::message_cost(consumers, stalls);
                        }
                    }
                }
            }
            Work {
                simulations,
                steps: steps * f64::from(runs),
                per_simulation,
                blocks: 0.0,
                message_cost,
            }
        }
    }
}

/// Refuses a sweep that would run too many simulations, one whose simulated
/// time could never pass, or one that would take far too long (counting
/// everything [`work`] counts); the error gives the estimate and says which
/// option to change.
pub fn check(config: &SweepConfig) -> Result<(), String> {
    let runs = config.runs.max(1);
    let policies = config.what_if.when_full.len().max(1) as u32;
    check_points(
        &config.capacities,
        &config.consumers,
        &config.traffic.loads,
        runs.saturating_mul(policies),
    )?;
    let work = work(config);
    let costly = if work.message_cost > 1.0 {
        format!(
            ", each costing up to {:.0} times the simplest's (the consumers scanned, the \
             stalls checked)",
            work.message_cost
        )
    } else {
        String::new()
    };
    let points = config.capacities.len() * config.consumers.len() * config.traffic.loads.len();
    let shape = if policies > 1 {
        format!("{points} points × {runs} runs × {policies} policies")
    } else {
        format!("{points} points × {runs} runs")
    };
    if let Some(trace) = &config.traffic.trace {
        if work.steps > MAX_REPLAYED_MESSAGES {
            let blocks = if work.blocks > 0.0 {
                format!(
                    " and {:.1e} bootstrap blocks of --block {} for each of the other runs",
                    work.blocks,
                    humantime::format_duration(config.traffic.block)
                )
            } else {
                String::new()
            };
            return Err(format!(
                "{} trace lines{blocks}, over {shape}{costly}, is {:.1e} replayed messages \
                 and blocks; at most {MAX_REPLAYED_MESSAGES:.0e} are allowed (lower --runs, \
                 lengthen --block, try fewer --capacities, --consumers or --load values, or a \
                 shorter --duration than the trace's {})",
                trace.lines_within(config.duration),
                work.steps,
                humantime::format_duration(trace.span())
            ));
        }
        return Ok(());
    }
    if work.steps.is_infinite() {
        let service = match &config.traffic.service {
            Some((file, _)) => format!(
                "--service-from {} (its mean is {})",
                file.name,
                humantime::format_duration(file.mean())
            ),
            None => "--consume-every".to_owned(),
        };
        let dropping = if config
            .what_if
            .when_full
            .iter()
            .any(|&p| p != WhenFull::Block)
        {
            " (a drop policy never waits for the consumers, so only the producer's \
             intervals pass time)"
        } else {
            ""
        };
        return Err(format!(
            "neither producing nor consuming takes any time, so simulated time would \
             never pass{dropping}: give --produce-every, --burst-pause or {service} a duration"
        ));
    }
    if work.steps > MAX_SWEEP_MESSAGES {
        return Err(format!(
            "--duration {} with these intervals means about {:.1e} messages per simulation \
             and {:.1e} for the whole sweep ({shape}){costly}; at most {MAX_SWEEP_MESSAGES:.0e} \
             are allowed (shorten --duration, lower --runs, try fewer points, or lengthen \
             --produce-every or --consume-every)",
            humantime::format_duration(config.duration),
            work.per_simulation,
            work.steps,
        ));
    }
    Ok(())
}

/// About how long the sweep will take, from a low guess of the simulation's speed.
pub fn estimated_time(config: &SweepConfig) -> Duration {
    let work = work(config);
    // No more threads than simulations, and at least one.
    let threads = config.threads.min(work.simulations).max(1);
    Duration::try_from_secs_f64(work.steps / (GUESSED_RATE * threads as f64))
        .unwrap_or(Duration::MAX)
}

/// One simulation's figures, in model time.
#[derive(Debug, Clone, PartialEq)]
struct Figures {
    dropped: u64,
    /// The p99 of the time blocked over all sends (not blocked: 0).
    p99_all_s: f64,
    /// What each `--stall` cost, in the model's order.
    stalls: Vec<StallEffect>,
    produced: u64,
    full_count: u64,
    full_share: f64,
    blocked_p50_s: Option<f64>,
    blocked_p99_s: Option<f64>,
    blocked_max_s: Option<f64>,
    blocked_total_s: f64,
    max_depth: u64,
    mean_in_buffer_s: f64,
    throughput: Option<f64>,
}

/// A figure over the runs: the mean, and the upper end of its 95% interval
/// with two runs or more.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Upper {
    pub mean: f64,
    pub ci_high: Option<f64>,
}

impl Upper {
    /// What must meet a target: the upper bound, or with one run the one figure.
    pub fn bound(&self) -> f64 {
        self.ci_high.unwrap_or(self.mean)
    }
}

/// A share over the runs: the mean, and the 95% interval with two runs or more.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Share {
    pub mean: f64,
    /// `None` (JSON `null`) with one run.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

impl Share {
    /// What must meet the target: the upper bound, or with one run the one share.
    pub fn bound(&self) -> f64 {
        self.ci_high.unwrap_or(self.mean)
    }
}

/// One point's figures, in model time: the mean over its runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// `--load`, when loads are swept (else left out of the JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<f64>,
    /// `--when-full`, when policies other than block are swept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when_full: Option<WhenFull>,
    /// Messages dropped (mean over runs), and their share of those offered,
    /// under a drop policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop_share: Option<Share>,
    /// With `--target-p99`: the p99 of the time blocked over all sends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_p99_all_s: Option<Upper>,
    /// With `--message-size`: the capacity in bytes, and the most bytes the
    /// buffer held (its deepest, mean over the runs, times the size).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_bytes: Option<u64>,
    pub capacity: u64,
    pub consumers: u32,
    #[serde(serialize_with = "number")]
    pub produced: f64,
    #[serde(serialize_with = "number")]
    pub full_count: f64,
    /// The share of sends that found the buffer full.
    pub full_share: Share,
    /// The M/M/c/K prediction of `full_share`, where it applies (the model's
    /// own arrivals and service, both exponential, and no stall).
    pub predicted_full_share: Option<f64>,
    /// Time blocked per blocked send: the mean over the runs that had one;
    /// `None` if no run had a blocked send.
    pub blocked_p50_s: Option<f64>,
    pub blocked_p99_s: Option<f64>,
    pub blocked_max_s: Option<f64>,
    pub blocked_total_s: f64,
    #[serde(serialize_with = "number")]
    pub max_depth: f64,
    /// Mean time a message waited in the buffer.
    pub mean_in_buffer_s: f64,
    /// Messages sent per second of producing time.
    pub throughput: Option<f64>,
    /// What each `--stall` cost here (mean over the runs); left out without stalls.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stalls: Vec<StallRow>,
}

/// One stall's cost at one point: the deepest the buffer got while it lasted,
/// and the sends made while it lasted that found the buffer full, with the
/// time they were blocked in all (a mean over the runs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StallRow {
    pub at_s: f64,
    pub length_s: f64,
    #[serde(serialize_with = "number")]
    pub backlog_peak: f64,
    #[serde(serialize_with = "number")]
    pub full_count: f64,
    pub blocked_s: f64,
}

/// A stall beside the rule of thumb: a buffer of at least the offered rate
/// times the stall's length, against what the simulation found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StallAdvice {
    pub at_s: f64,
    pub length_s: f64,
    /// ⌈λ × length⌉, λ the offered rate (mean over the model or trace).
    pub rule_of_thumb: Option<u64>,
    /// At the recommended point: the stall's backlog peak and its blocking.
    pub backlog_peak: Option<f64>,
    pub full_count: Option<f64>,
    pub blocked_s: Option<f64>,
}

/// A mean of counts: written as a whole number when it is one (always, with one run).
fn number<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    if x.fract() == 0.0 && (0.0..9.0e15).contains(x) {
        s.serialize_u64(*x as u64)
    } else {
        s.serialize_f64(*x)
    }
}

/// The smallest system that meets the target, and the consumer counts for which none does.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The load it is for, when loads are swept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<f64>,
    /// The policy it is for, when policies are swept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when_full: Option<WhenFull>,
    /// With several targets: the one that decided the capacity (the one the
    /// next smaller capacity tried missed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// With `--message-size`: the recommended capacity in bytes, and the most
    /// bytes the buffer held there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_bytes: Option<u64>,
    /// The targets besides the full share, in words (for the text).
    #[serde(skip)]
    pub other_targets: Vec<String>,
    pub target_full: f64,
    /// Runs per point; with one, the share itself must meet the target, else its upper bound.
    pub runs: u32,
    /// The fewest consumers, then the smallest capacity, that meet the target.
    pub consumers: Option<u32>,
    pub capacity: Option<u64>,
    /// The recommended point's full share.
    pub full_share: Option<Share>,
    /// Why the recommendation may not hold: with ρ ≥ 1 every buffer fills
    /// given time, so one that met the target only because the simulated time
    /// was too short to fill it sizes for that long a burst, no longer.
    pub warning: Option<String>,
    /// Consumer counts (fewer than the recommended) for which no capacity tried meets it.
    pub unmet: Vec<Unmet>,
    /// For each consumer count, the smallest capacity that meets the target.
    pub smallest: Vec<Smallest>,
    /// Each `--stall`: the rule of thumb beside the simulation; left out without stalls.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stalls: Vec<StallAdvice>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unmet {
    pub consumers: u32,
    /// ρ = λ/(c·μ) from the configuration.
    pub utilisation: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Smallest {
    pub consumers: u32,
    /// `None` when no capacity tried meets the target.
    pub capacity: Option<u64>,
    /// A smaller capacity whose mean meets the target but whose upper bound
    /// does not: close, but not shown to be enough.
    pub close: Option<Close>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Close {
    pub capacity: u64,
    pub full_share: Share,
}

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

/// One point of the sweep.
#[derive(Debug, Clone, Copy)]
struct Point {
    load: f64,
    when_full: WhenFull,
    capacity: u64,
    consumers: u32,
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

/// One point's row from its runs, in run order.
fn combine(config: &SweepConfig, point: Point, runs: &[Figures]) -> Row {
    let Point {
        load,
        when_full,
        capacity,
        consumers,
    } = point;
    let mean = |f: fn(&Figures) -> f64| average(runs.iter().map(f));
    // The mean over the runs that have the figure.
    let mean_of_some = |f: fn(&Figures) -> Option<f64>| {
        let some: Vec<f64> = runs.iter().filter_map(f).collect();
        (!some.is_empty()).then(|| average(some.into_iter()))
    };
    let shares: Vec<f64> = runs.iter().map(|r| r.full_share).collect();
    let full: u64 = runs.iter().map(|r| r.full_count).sum();
    let produced: u64 = runs.iter().map(|r| r.produced).sum();
    let estimate = interval::share(&shares, full, produced);
    let from_files = config.traffic.trace.is_some() || config.traffic.service.is_some();
    let what_if = &config.what_if;
    let dropping = when_full != WhenFull::Block;
    let drop_share = dropping.then(|| {
        let shares: Vec<f64> = runs
            .iter()
            .map(|r| {
                if r.produced == 0 {
                    0.0
                } else {
                    r.dropped as f64 / r.produced as f64
                }
            })
            .collect();
        let dropped: u64 = runs.iter().map(|r| r.dropped).sum();
        let e = interval::share(&shares, dropped, produced);
        Share {
            mean: e.mean,
            ci_low: e.interval.map(|i| i.0),
            ci_high: e.interval.map(|i| i.1),
        }
    });
    let p99s: Vec<f64> = runs.iter().map(|r| r.p99_all_s).collect();
    let blocked_p99_all_s = what_if.target_p99.is_some().then(|| Upper {
        mean: average(p99s.iter().copied()),
        ci_high: interval::mean_upper(&p99s),
    });
    let max_depth = mean(|r| r.max_depth as f64);
    Row {
        load: config.traffic.swept().then_some(load),
        when_full: (what_if.swept()).then_some(when_full),
        dropped: dropping.then(|| mean(|r| r.dropped as f64)),
        drop_share,
        blocked_p99_all_s,
        capacity_bytes: what_if.message_size.map(|b| b.saturating_mul(capacity)),
        peak_bytes: what_if
            .message_size
            .map(|b| (b as f64 * max_depth).round() as u64),
        capacity,
        consumers,
        produced: mean(|r| r.produced as f64),
        full_count: mean(|r| r.full_count as f64),
        full_share: Share {
            mean: estimate.mean,
            ci_low: estimate.interval.map(|i| i.0),
            ci_high: estimate.interval.map(|i| i.1),
        },
        predicted_full_share: if from_files {
            None
        } else {
            queueing::theory(&config.model.at_load(load), consumers, capacity).map(|t| t.full_share)
        },
        blocked_p50_s: mean_of_some(|r| r.blocked_p50_s),
        blocked_p99_s: mean_of_some(|r| r.blocked_p99_s),
        blocked_max_s: mean_of_some(|r| r.blocked_max_s),
        blocked_total_s: mean(|r| r.blocked_total_s),
        max_depth,
        mean_in_buffer_s: mean(|r| r.mean_in_buffer_s),
        throughput: mean_of_some(|r| r.throughput),
        stalls: config
            .model
            .stalls
            .iter()
            .enumerate()
            .map(|(k, stall)| {
                let of = |f: fn(&StallEffect) -> f64| {
                    average(runs.iter().map(move |r| r.stalls.get(k).map_or(0.0, f)))
                };
                StallRow {
                    at_s: stall.at.as_secs_f64(),
                    length_s: stall.length.as_secs_f64(),
                    backlog_peak: of(|e| e.backlog_peak as f64),
                    full_count: of(|e| e.full_count as f64),
                    blocked_s: of(|e| e.blocked_ns as f64 / 1e9),
                }
            })
            .collect(),
    }
}

/// The mean; exactly the value when all are equal (ten runs blocked 280 ms
/// each print 0.28, not 0.2800000000000001).
fn average(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let mut all = values.clone();
    let first = all.next().unwrap_or(0.0);
    if all.all(|v| v == first) {
        return first;
    }
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    sum / n as f64
}

/// For each consumer count, the smallest capacity whose full share meets the
/// target — its upper bound with two runs or more, the one share with one run;
/// the recommendation is the fewest consumers that have one.
pub fn recommend(rows: &[Row], config: &SweepConfig) -> Recommendation {
    recommend_at(
        rows,
        config,
        config.traffic.loads.first().copied().unwrap_or(1.0),
        config
            .what_if
            .when_full
            .first()
            .copied()
            .unwrap_or(WhenFull::Block),
    )
}

/// One recommendation per load and policy, in the order swept.
pub fn recommend_per_load(rows: &[Row], config: &SweepConfig) -> Vec<Recommendation> {
    config
        .traffic
        .loads
        .iter()
        .flat_map(|&load| {
            config
                .what_if
                .when_full
                .iter()
                .map(move |&policy| recommend_at(rows, config, load, policy))
        })
        .collect()
}

/// Whether there is more than one recommendation to print.
pub fn several_recommendations(config: &SweepConfig) -> bool {
    config.traffic.swept() || config.what_if.swept()
}

/// The targets a row misses, by name; `None` if it meets them all (each on
/// its upper bound where runs are replicated).
pub fn missed(row: &Row, config: &SweepConfig) -> Option<String> {
    let mut missed = Vec::new();
    if row.full_share.bound() > config.target_full {
        missed.push("--target-full");
    }
    if let (Some(target), Some(p99)) = (config.what_if.target_p99, row.blocked_p99_all_s)
        && p99.bound() > target.as_secs_f64()
    {
        missed.push("--target-p99");
    }
    if let (Some(target), Some(drop)) = (config.what_if.target_drop, row.drop_share)
        && drop.bound() > target
    {
        missed.push("--target-drop");
    }
    (!missed.is_empty()).then(|| missed.join(" and "))
}

/// [`recommend`] among the rows of one load and policy.
fn recommend_at(rows: &[Row], config: &SweepConfig, load: f64, policy: WhenFull) -> Recommendation {
    let target = config.target_full;
    let swept = config.traffic.swept();
    let policies = config.what_if.swept();
    let at_load = move |r: &&Row| {
        (!swept || r.load == Some(load)) && (!policies || r.when_full == Some(policy))
    };
    let utilisation = |consumers| {
        config
            .traffic
            .utilisation(&config.model, load, consumers, config.duration)
    };
    // A trace cannot be made longer: at ρ ≥ 1 its backlog grows for as long
    // as the traffic lasts, and a buffer that held this trace's is no answer.
    let overloaded = |consumers| {
        config.traffic.trace.is_some() && utilisation(consumers).is_some_and(|rho| rho >= 1.0)
    };
    let smallest: Vec<Smallest> = config
        .consumers
        .iter()
        .map(|&consumers| {
            let of = |c| {
                rows.iter()
                    .filter(at_load)
                    .filter(move |r: &&Row| r.consumers == c && !overloaded(c))
            };
            let capacity = of(consumers)
                .filter(|r| missed(r, config).is_none())
                .map(|r| r.capacity)
                .min();
            let close = of(consumers)
                .filter(|r| r.full_share.mean <= target && r.full_share.bound() > target)
                .filter(|r| capacity.is_none_or(|c| r.capacity < c))
                .min_by_key(|r| r.capacity)
                .map(|r| Close {
                    capacity: r.capacity,
                    full_share: r.full_share,
                });
            Smallest {
                consumers,
                capacity,
                close,
            }
        })
        .collect();
    let chosen = smallest.iter().find(|s| s.capacity.is_some());
    let chosen_row = chosen.and_then(|s| {
        rows.iter()
            .filter(at_load)
            .find(|r| r.consumers == s.consumers && Some(r.capacity) == s.capacity)
    });
    let warning = chosen_row.and_then(|row| {
        let rho = utilisation(row.consumers)?;
        (rho >= 1.0 && row.max_depth < row.capacity as f64).then(|| {
            format!(
                "rho = {rho:.2} with {} consumer(s): the producer outpaces the consumers, so \
                 any buffer fills given time; capacity {} met the target only because {} \
                 was too short to fill it (deepest {:.1}). It holds for bursts that short, \
                 not for longer ones: try a longer --duration.",
                row.consumers,
                row.capacity,
                humantime::format_duration(config.duration),
                row.max_depth
            )
        })
    });
    let unmet = smallest
        .iter()
        .take_while(|s| s.capacity.is_none())
        .map(|s| Unmet {
            consumers: s.consumers,
            utilisation: utilisation(s.consumers),
        })
        .collect();
    // The rule of thumb: the offered rate over the stall times its length.
    let rate = config
        .traffic
        .utilisation(&config.model, load, 1, config.duration)
        .map(|rho| rho / config.traffic.mean_service(&config.model).as_secs_f64());
    let stalls = config
        .model
        .stalls
        .iter()
        .enumerate()
        .map(|(k, stall)| {
            let simulated = chosen_row.and_then(|r| r.stalls.get(k));
            StallAdvice {
                at_s: stall.at.as_secs_f64(),
                length_s: stall.length.as_secs_f64(),
                rule_of_thumb: rate
                    .filter(|r| r.is_finite())
                    .map(|r| (r * stall.length.as_secs_f64()).ceil() as u64),
                backlog_peak: simulated.map(|s| s.backlog_peak),
                full_count: simulated.map(|s| s.full_count),
                blocked_s: simulated.map(|s| s.blocked_s),
            }
        })
        .collect();
    let several = config.what_if.target_p99.is_some() || config.what_if.target_drop.is_some();
    // The target that decided it: the one the next smaller capacity tried missed.
    let decided_by = chosen_row.filter(|_| several).map(|row| {
        rows.iter()
            .filter(at_load)
            .filter(|r| r.consumers == row.consumers && r.capacity < row.capacity)
            .max_by_key(|r| r.capacity)
            .and_then(|r| missed(r, config))
            .unwrap_or_else(|| "the smallest capacity tried".to_string())
    });
    let mut other_targets = Vec::new();
    if let Some(p99) = config.what_if.target_p99 {
        other_targets.push(format!(
            "a p99 time blocked over all sends of at most {}",
            crate::units::seconds(p99.as_secs_f64())
        ));
    }
    if let Some(drop) = config.what_if.target_drop
        && policy != WhenFull::Block
    {
        other_targets.push(format!("at most {}% of messages dropped", drop * 100.0));
    }
    Recommendation {
        other_targets,
        when_full: policies.then_some(policy),
        decided_by,
        capacity_bytes: chosen_row.and_then(|r| r.capacity_bytes),
        peak_bytes: chosen_row.and_then(|r| r.peak_bytes),
        stalls,
        load: swept.then_some(load),
        target_full: target,
        runs: config.runs.max(1),
        consumers: chosen.map(|s| s.consumers),
        capacity: chosen.and_then(|s| s.capacity),
        full_share: chosen_row.map(|r| r.full_share),
        warning,
        unmet,
        smallest,
    }
}

/// The progress bar: `\r[#####     ]  40%`, to be drawn over itself.
pub fn progress_bar(done: usize, total: usize, width: usize) -> String {
    let share = if total == 0 {
        1.0
    } else {
        done.min(total) as f64 / total as f64
    };
    let filled = (share * width as f64).floor() as usize;
    format!(
        "\r[{}{}] {:>3}%",
        "#".repeat(filled),
        " ".repeat(width - filled),
        (share * 100.0).floor()
    )
}

/// Draws the progress bar on stderr until the sweep is done: from the start
/// if it should take more than a second, else once a second has passed.
fn draw_progress(progress: &Progress, expected: Duration) {
    const WIDTH: usize = 40;
    let start = Instant::now();
    let show_after = if expected > Duration::from_secs(1) {
        Duration::ZERO
    } else {
        Duration::from_secs(1)
    };
    let mut stderr = io::stderr();
    let mut drawn = false;
    loop {
        let (done, total) = progress.done();
        if done >= total {
            break;
        }
        if start.elapsed() >= show_after {
            // A failed write only loses the bar.
            let _ = stderr.write_all(progress_bar(done, total, WIDTH).as_bytes());
            let _ = stderr.flush();
            drawn = true;
        }
        thread::park_timeout(Duration::from_millis(100));
    }
    if drawn {
        let blank = " ".repeat(WIDTH + 7);
        let _ = write!(stderr, "\r{blank}\r");
        let _ = stderr.flush();
    }
}

/// Runs the sweep and prints the report on stdout (and, if asked, the progress on stderr).
pub fn run(config: &SweepConfig) -> io::Result<()> {
    let rows = if config.progress {
        let expected = estimated_time(config);
        rows_watched(config, |progress| draw_progress(progress, expected))
    } else {
        rows(config)
    };
    let mut stdout = io::stdout().lock();
    stdout.write_all(report::report(config, &rows).as_bytes())?;
    stdout.flush()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn config(capacities: &[u64], consumers: &[u32], runs: u32) -> SweepConfig {
        SweepConfig {
            model: Model::original(),
            seed: 3,
            duration: Duration::from_secs(600),
            capacities: capacities.to_vec(),
            consumers: consumers.to_vec(),
            target_full: 0.01,
            format: TableFormat::Text,
            runs,
            threads: 1,
            progress: false,
            what_if: WhatIf::default(),
            traffic: Traffic::default(),
        }
    }

    #[test]
    fn a_trace_at_several_loads_gives_rows_and_a_recommendation_per_load() {
        // A burst of 20 arrivals every 10 s for 10 minutes, 100 ms of service:
        // one consumer keeps up at load 1 with a buffer of 20.
        let offsets: Vec<u64> = (0..60u64)
            .flat_map(|burst| (0..20u64).map(move |k| burst * 10_000_000_000 + k * 1_000_000))
            .collect();
        let trace = Arc::new(Trace::from_offsets("bursts", offsets));
        let mut c = config(&[5, 20, 100], &[1, 2], 1);
        c.duration = trace.span();
        c.model.consume_every = Duration::from_millis(100);
        c.traffic = Traffic {
            trace: Some(Arc::clone(&trace)),
            service: None,
            loads: vec![1.0, 4.0],
            block: BLOCK,
        };
        let rows = rows(&c);
        assert_eq!(rows.len(), 12);
        assert!(
            rows[..6]
                .iter()
                .all(|r| r.load == Some(1.0) && r.produced == 1200.0)
        );
        assert!(rows[6..].iter().all(|r| r.load == Some(4.0)));
        let per_load = recommend_per_load(&rows, &c);
        assert_eq!(per_load.len(), 2);
        assert_eq!(
            (
                per_load[0].load,
                per_load[0].consumers,
                per_load[0].capacity
            ),
            (Some(1.0), Some(1), Some(20))
        );
        assert_eq!(per_load[1].load, Some(4.0));
        assert!(
            per_load[1].text().contains("at 4x load"),
            "{}",
            per_load[1].text()
        );
        let csv = report::csv(&rows);
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        assert_eq!(header.last(), Some(&"load"));
        assert!(csv.lines().nth(7).unwrap().ends_with(",4"), "{csv}");
        c.format = TableFormat::Json;
        let json: serde_json::Value = serde_json::from_str(&report::report(&c, &rows)).unwrap();
        assert_eq!(json["rows"][11]["load"], 4.0);
        assert_eq!(json["recommendations"].as_array().unwrap().len(), 2);
        assert_eq!(json["arrivals_from"]["lines"], 1200);
        c.format = TableFormat::Text;
        let text = report::report(&c, &rows);
        assert!(text.contains("replayed from bursts (1200 lines"), "{text}");
        assert!(
            text.contains("Recommendation at 1x load: capacity 20 with 1 consumer(s)"),
            "{text}"
        );
        // Without --load the rows carry no load, and the JSON no field for it.
        c.traffic.loads = vec![1.0];
        let rows = rows_of(&c);
        assert!(rows.iter().all(|r| r.load.is_none()));
        c.format = TableFormat::Json;
        let json: serde_json::Value = serde_json::from_str(&report::report(&c, &rows)).unwrap();
        assert!(json["rows"][0].get("load").is_none() && json.get("loads").is_none());
    }

    fn rows_of(c: &SweepConfig) -> Vec<Row> {
        rows(c)
    }

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
    fn an_overloaded_system_is_not_recommended_even_if_a_buffer_held_the_trace() {
        // 1000 arrivals 10 ms apart against 20 ms of service: rho = 2. A
        // buffer of 1000 holds the whole backlog of this short trace.
        let trace = Arc::new(Trace::from_offsets(
            "steady",
            (0..1000u64).map(|k| k * 10_000_000).collect(),
        ));
        let mut c = config(&[10, 1000], &[1, 2, 3], 1);
        c.duration = trace.span();
        c.model.consume_every = Duration::from_millis(20);
        c.traffic.trace = Some(trace);
        let rows = rows(&c);
        assert_eq!(rows[1].full_count, 0.0, "the big buffer never filled");
        let r = recommend(&rows, &c);
        // Two consumers: rho just above 1 (1000 lines over 9.99 s).
        assert_eq!((r.consumers, r.capacity), (Some(3), Some(10)), "{r:?}");
        assert!(r.text().contains("no buffer is enough"), "{}", r.text());
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

    fn row(capacity: u64, consumers: u32, mean: f64, high: Option<f64>) -> Row {
        Row {
            load: None,
            when_full: None,
            dropped: None,
            drop_share: None,
            blocked_p99_all_s: None,
            capacity_bytes: None,
            peak_bytes: None,
            capacity,
            consumers,
            produced: 1000.0,
            full_count: mean * 1000.0,
            full_share: Share {
                mean,
                ci_low: high.map(|_| 0.0),
                ci_high: high,
            },
            predicted_full_share: None,
            blocked_p50_s: None,
            blocked_p99_s: None,
            blocked_max_s: None,
            blocked_total_s: 0.0,
            max_depth: 0.0,
            mean_in_buffer_s: 0.0,
            throughput: None,
            stalls: Vec::new(),
        }
    }

    #[test]
    fn the_recommendation_is_the_fewest_consumers_then_the_smallest_capacity() {
        let c = config(&[1, 10, 100, 1000], &[1, 3, 4], 1);
        let rows = vec![
            row(1, 1, 0.9, None),
            row(10, 1, 0.8, None),
            row(100, 1, 0.5, None),
            row(1000, 1, 0.2, None),
            row(1, 3, 0.5, None),
            row(10, 3, 0.05, None),
            row(100, 3, 0.005, None),
            row(1000, 3, 0.0, None),
            row(1, 4, 0.001, None),
        ];
        let r = recommend(&rows, &c);
        assert_eq!((r.consumers, r.capacity), (Some(3), Some(100)));
        assert_eq!(r.unmet.len(), 1);
        assert_eq!(r.unmet[0].consumers, 1);
        let rho = r.unmet[0].utilisation.unwrap();
        assert!((rho - 2.5).abs() < 1e-9);
        let smallest: Vec<_> = r
            .smallest
            .iter()
            .map(|s| (s.consumers, s.capacity))
            .collect();
        assert_eq!(smallest, [(1, None), (3, Some(100)), (4, Some(1))]);

        assert_eq!(r.warning, None, "rho < 1 with 3 consumers");

        let none = recommend(&rows[..4], &config(&[1, 10, 100, 1000], &[1], 1));
        assert_eq!(none.capacity, None);
    }

    #[test]
    fn with_runs_the_upper_bound_must_meet_the_target() {
        let c = config(&[10, 50, 100], &[3], 10);
        let rows = vec![
            row(10, 3, 0.05, Some(0.07)),
            // The mean meets 1%, the upper bound does not: close, not enough.
            row(50, 3, 0.008, Some(0.012)),
            row(100, 3, 0.002, Some(0.004)),
        ];
        let r = recommend(&rows, &c);
        assert_eq!((r.consumers, r.capacity), (Some(3), Some(100)));
        let close = r.smallest[0].close.as_ref().unwrap();
        assert_eq!(
            (close.capacity, close.full_share.ci_high),
            (50, Some(0.012))
        );
        assert_eq!(r.runs, 10);
    }

    #[test]
    fn a_buffer_that_never_filled_with_rho_at_least_1_is_flagged() {
        // ρ = 2.5 with one consumer: two minutes are too short to fill 1000 slots.
        let c = SweepConfig {
            duration: Duration::from_secs(120),
            ..config(&[100, 1000], &[1], 3)
        };
        let r = recommend(&rows(&c), &c);
        assert_eq!(r.capacity, Some(1000));
        let warning = r.warning.unwrap();
        assert!(
            warning.contains("rho = 2.50") && warning.contains("--duration"),
            "{warning}"
        );
        // An hour fills it: no capacity tried meets the target, nothing to flag.
        let c = SweepConfig {
            duration: Duration::from_secs(3600),
            ..c
        };
        let r = recommend(&rows(&c), &c);
        assert_eq!((r.capacity, r.warning), (None, None));
    }

    #[test]
    fn the_cost_counts_every_point_and_every_run() {
        let hour = Duration::from_secs(3600);
        let sized = |capacities: &[u64], consumers: &[u32], duration, runs| SweepConfig {
            duration,
            ..config(capacities, consumers, runs)
        };
        // One consumer at 300 ms: 12 000 messages an hour per simulation,
        // and at most the capacity and the consumer more (taken at once).
        assert_eq!(work(&sized(&[1], &[1], hour, 1)).per_simulation, 12_002.0);
        assert_eq!(
            work(&sized(&[1, 2, 3], &[1], hour, 10)).steps,
            (12_002.0 + 12_003.0 + 12_004.0) * 10.0
        );
        // Allowed as one run, refused as a thousand: the guard sees the runs.
        let days = Duration::from_secs(300 * 24 * 3600);
        let capacities: Vec<u64> = (1..=100).collect();
        assert!(check(&sized(&capacities, &[1], days, 1)).is_ok());
        let refused = check(&sized(&capacities, &[1], days, 100)).unwrap_err();
        assert!(
            refused.contains("whole sweep") && refused.contains("--runs"),
            "{refused}"
        );
        let many = check(&sized(&capacities, &[1, 2, 3, 4, 5], hour, 1000)).unwrap_err();
        assert!(many.contains("500000 simulations"), "{many}");
    }

    #[test]
    fn the_progress_bar() {
        assert_eq!(progress_bar(0, 10, 10), "\r[          ]   0%");
        assert_eq!(progress_bar(4, 10, 10), "\r[####      ]  40%");
        assert_eq!(progress_bar(10, 10, 10), "\r[##########] 100%");
        assert_eq!(progress_bar(0, 0, 4), "\r[####] 100%");
    }

    #[test]
    fn a_long_sweep_is_foreseen() {
        let mut c = config(&[1, 10, 100], &[1], 10);
        assert!(estimated_time(&c) < Duration::from_millis(100));
        c.duration = Duration::from_secs(30 * 24 * 3600);
        assert!(estimated_time(&c) > Duration::from_secs(1));
    }
}
