//! The `recorder` feature end to end: a small service records its traffic,
//! and the files read back — with a parser of the two formats as `burstbuf
//! sweep` reads them — as its arrivals and service times. (The workspace's
//! `tests/recorded.rs` replays such files with the `burstbuf` binary itself.)
#![cfg(feature = "recorder")]

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use metered::{Builder, Recorded, Recorder};

/// Long enough for a debug build on a loaded machine: only a hang uses it up.
const PATIENCE: Duration = Duration::from_secs(60);

/// Removes a recording's files when dropped.
struct Files(PathBuf, PathBuf);

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        let _ = std::fs::remove_file(&self.1);
    }
}

fn recorder(name: &str) -> (Recorder, Files) {
    let prefix = std::env::temp_dir().join(format!("metered-{name}-{}", std::process::id()));
    let recorder = Recorder::create(&prefix).unwrap();
    let files = Files(
        recorder.arrivals_path().to_owned(),
        recorder.services_path().to_owned(),
    );
    (recorder, files)
}

fn epoch_ns() -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    u64::try_from(now.as_nanos()).unwrap()
}

/// The data lines of a file: not blank, not a `#` comment.
fn data_lines(path: &PathBuf) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// `1796045114.626436011` → epoch nanoseconds (digits, a point, nine digits).
fn epoch_seconds(line: &str) -> u64 {
    let (secs, fraction) = line.split_once('.').expect("seconds.fraction");
    assert_eq!(fraction.len(), 9, "{line}");
    secs.parse::<u64>().unwrap() * 1_000_000_000 + fraction.parse::<u64>().unwrap()
}

/// `123ns` → nanoseconds.
fn service_ns(line: &str) -> u64 {
    line.strip_suffix("ns")
        .expect("a time in ns")
        .parse()
        .unwrap()
}

fn finish(recorder: Recorder) -> Recorded {
    let recorded = recorder.finish(PATIENCE);
    assert!(recorded.complete, "{recorded:?}");
    assert_eq!(recorded.error, None);
    recorded
}

#[test]
fn a_recorded_service_reads_back_as_its_arrivals_and_service_times() {
    let (recorder, files) = recorder("service");
    let work = Duration::from_millis(1);
    let before = epoch_ns();
    let (tx, rx) = Builder::new(4).record(&recorder).build::<u32>();
    thread::scope(|s| {
        for _ in 0..2 {
            let tx = tx.clone();
            s.spawn(move || (0..50).for_each(|n| tx.send(n).unwrap()));
        }
        drop(tx);
        s.spawn(move || {
            for _ in rx.iter() {
                thread::sleep(work);
            }
        });
    });
    let after = epoch_ns();
    let recorded = finish(recorder);
    assert_eq!(
        (recorded.arrivals_written, recorded.services_written),
        (100, 100)
    );
    let arrivals = data_lines(&files.0);
    assert_eq!(arrivals.len(), 100);
    for line in &arrivals {
        let at = epoch_seconds(line);
        assert!(
            (before..=after).contains(&at),
            "{line} not in {before}..{after}"
        );
    }
    let services = data_lines(&files.1);
    assert_eq!(services.len(), 100);
    for line in &services {
        // Each message was worked on for at least the sleep.
        let ns = service_ns(line);
        assert!(ns >= 1_000_000 && ns <= after - before, "{line}");
    }
}

#[test]
fn a_limit_ends_the_recording_while_the_channel_lives_on() {
    let (recorder, files) = recorder("limit");
    let recorder = recorder.limit(10);
    let (tx, rx) = Builder::new(4).record(&recorder).build::<u32>();
    for n in 0..30 {
        tx.send(n).unwrap();
        // Asking for the next message ends the last one's service.
        assert_eq!(rx.recv(), Ok(n));
    }
    let recorded = finish(recorder);
    assert_eq!(
        (recorded.arrivals_written, recorded.services_written),
        (10, 10)
    );
    assert_eq!(
        (data_lines(&files.0).len(), data_lines(&files.1).len()),
        (10, 10)
    );
    drop((tx, rx));
}

#[test]
fn a_recorder_attached_to_nothing_writes_empty_files() {
    let (recorder, files) = recorder("unused");
    let recorded = finish(recorder);
    assert_eq!(
        (recorded.arrivals_written, recorded.services_written),
        (0, 0)
    );
    assert_eq!(data_lines(&files.0), Vec::<String>::new());
}

#[test]
#[should_panic(expected = "records one channel")]
fn a_recorder_records_one_channel() {
    let (recorder, _files) = recorder("twice");
    let _first = Builder::new(1).record(&recorder).build::<u8>();
    let _second = Builder::new(1).record(&recorder);
}

#[test]
fn a_file_that_cannot_be_created_is_named() {
    let error = Recorder::create("/nonexistent-metered-dir/run").unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("/nonexistent-metered-dir/run.arrivals: "),
        "{error}"
    );
}
