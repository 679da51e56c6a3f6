//! Measures how often `burstbuf sweep`'s 95% interval of the full share holds
//! the long-run value, at the default `--runs` (10) and `--duration` (1h):
//! independent sweeps (no seed used twice) of the original model with three
//! consumers, against one simulation of 2000 h, for capacities whose
//! long-run full share runs from about 10% down to below 0.01%.
//!
//! ```console
//! $ cargo run --release --example coverage -- 1000
//! $ cargo run --release --example coverage -- 1000 10m 3 10,50,100,120
//! ```
//!
//! The arguments: the number of sweeps (1000 by default; each capacity
//! costs about 3·10⁵ simulated messages per sweep at 1h), the duration of a
//! run (1h), the consumers (3) and the capacities (10,20,50,100,120,130,150).

use std::time::Duration;

use burstbuf::internals::Model;
use burstbuf::internals::coverage::{Plan, Reference, measure};

fn main() {
    let mut args = std::env::args().skip(1);
    let sweeps: u32 = args
        .next()
        .map_or(1000, |a| a.parse().expect("a number of sweeps"));
    let duration = args.next().map_or(Duration::from_secs(3600), |a| {
        humantime::parse_duration(&a).expect("a duration such as 1h")
    });
    let consumers: u32 = args
        .next()
        .map_or(3, |a| a.parse().expect("a consumer count"));
    let capacities: Vec<u64> = args
        .next()
        .map_or(vec![10, 20, 50, 100, 120, 130, 150], |a| {
            a.split(',')
                .map(|c| c.parse().expect("capacities such as 10,50,100"))
                .collect()
        });
    assert!(sweeps <= 100_000, "at most 100000 sweeps");
    // The long run: 2000 h whatever the runs' duration, in whole runs.
    let long = (7_200_000 / duration.as_secs().max(1)).max(1) as u32;
    let plan = Plan {
        model: Model::original(),
        consumers,
        capacities,
        duration,
        runs: 10,
        sweeps,
        reference: Reference::LongRun { long, seed: 7 },
        first_seed: 1_000_000,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    println!(
        "{sweeps} sweeps of 10 runs x {} with {consumers} consumers, against one run of {}:",
        humantime::format_duration(duration),
        humantime::format_duration(duration * long)
    );
    println!("capacity   long-run share   covered   above   below");
    for c in measure(&plan) {
        println!(
            "{:>8}   {:>13.5}%   {:>6.1}%   {:>4.1}%   {:>4.1}%",
            c.capacity,
            c.long_run * 100.0,
            c.share_covered() * 100.0,
            c.share_above() * 100.0,
            c.share_below() * 100.0
        );
    }
}
