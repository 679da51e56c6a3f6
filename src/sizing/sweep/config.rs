//! What a sweep is asked to do: the model and seed, every capacity, consumer
//! count, load and policy to try, the targets, and traffic from files.

use std::sync::Arc;
use std::time::Duration;

use crate::model::{Model, WhenFull};
use crate::traffic::{Service, ServiceFile, Trace};

/// How the sweep's table is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Aligned columns that fit 100 columns, plots and the recommendation.
    Text,
    /// The same with every column of the table (`--wide`).
    Wide,
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

/// The configuration the sweep's unit tests start from: the original model
/// for ten minutes, seed 3, one thread, a 1% target.
#[cfg(test)]
pub(crate) fn test_config(capacities: &[u64], consumers: &[u32], runs: u32) -> SweepConfig {
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
