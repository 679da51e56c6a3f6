//! The closed loop for a service of its own: traffic recorded by the
//! `burstbuf-metered` crate's recorder is read by `burstbuf sweep
//! --arrivals-from/--service-from` as the service's arrivals and service times.

mod common;
use common::json_run;

use std::thread;
use std::time::{Duration, Instant};

#[test]
fn a_service_recorded_by_the_metered_crate_is_replayed_by_the_sweep() {
    let prefix = std::env::temp_dir().join(format!("burstbuf-recorded-{}", std::process::id()));
    let recorder = metered::Recorder::create(&prefix).unwrap();
    let (arrivals, services) = (
        recorder.arrivals_path().to_str().unwrap().to_owned(),
        recorder.services_path().to_str().unwrap().to_owned(),
    );
    // A service: two request threads, one writer that takes at least 2 ms a job.
    let work = Duration::from_millis(2);
    let started = Instant::now();
    let (tx, rx) = metered::Builder::new(4).record(&recorder).build::<u32>();
    thread::scope(|s| {
        for _ in 0..2 {
            let tx = tx.clone();
            s.spawn(move || (0..30).for_each(|n| tx.send(n).unwrap()));
        }
        drop(tx);
        s.spawn(move || rx.iter().for_each(|_| thread::sleep(work)));
    });
    let ran = started.elapsed();
    let recorded = recorder.finish(Duration::from_secs(60));
    assert!(recorded.complete, "{recorded:?}");

    let sweep = json_run(&[
        "sweep",
        "--arrivals-from",
        &arrivals,
        "--service-from",
        &services,
        "--service-order=replay",
        "--capacities=4",
        "--consumers=1",
        "--runs=1",
    ]);
    let _ = std::fs::remove_file(&arrivals);
    let _ = std::fs::remove_file(&services);
    let traced = &sweep["arrivals_from"];
    assert_eq!(traced["format"], "epoch", "{sweep}");
    assert_eq!(traced["lines"], 60, "{sweep}");
    assert!(
        traced["span_s"].as_f64().unwrap() <= ran.as_secs_f64(),
        "{sweep}"
    );
    let served = &sweep["service_from"];
    assert_eq!(served["times"], 60, "{sweep}");
    assert!(
        served["mean_s"].as_f64().unwrap() >= work.as_secs_f64(),
        "{sweep}"
    );
    assert_eq!(sweep["rows"][0]["produced"], 60, "{sweep}");
}
