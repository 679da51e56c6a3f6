//! The `recorder` feature end to end: a small service records its traffic,
//! and the files read back — with a parser of the two formats as `burstbuf
//! sweep` reads them — as its arrivals and service times. (The workspace's
//! `tests/recorded.rs` replays such files with the `burstbuf` binary itself.)
#![cfg(feature = "recorder")]

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use metered::{Builder, CreateError, RecordOptions, Recorded, Recorder};

/// Long enough for a debug build on a loaded machine: only a hang uses it up.
const PATIENCE: Duration = Duration::from_secs(60);

/// A recording's final names; its files, whole or partial, go when dropped.
struct Files(PathBuf, PathBuf);

impl Files {
    fn new(name: &str) -> Files {
        let prefix = prefix(name);
        let files = Files(with(&prefix, ".arrivals"), with(&prefix, ".services"));
        files.clean();
        files
    }

    fn clean(&self) {
        for path in [&self.0, &self.1] {
            let _ = fs::remove_file(path);
            let _ = fs::remove_file(with(path, ".incomplete"));
        }
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        self.clean();
    }
}

fn prefix(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("metered-{name}-{}", std::process::id()))
}

/// `path` with `suffix` added to its name.
fn with(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

fn recorder(name: &str) -> (Recorder, Files) {
    let files = Files::new(name);
    let recorder = Recorder::create(prefix(name)).unwrap();
    assert_eq!(
        (recorder.arrivals_path(), recorder.services_path()),
        (files.0.as_path(), files.1.as_path())
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
            .starts_with("/nonexistent-metered-dir/run.arrivals.incomplete: "),
        "{error}"
    );
    assert!(matches!(error, CreateError::Io { .. }), "{error:?}");
}

#[test]
fn the_files_keep_incomplete_names_until_the_recording_is_whole() {
    let (recorder, files) = recorder("partial");
    let (tx, rx) = Builder::new(4).record(&recorder).build::<u32>();
    tx.send(1).unwrap();
    // Written under the partial names meanwhile; nothing under the real ones.
    assert!(exists(&with(&files.0, ".incomplete")));
    assert!(exists(&with(&files.1, ".incomplete")));
    assert!(!exists(&files.0) && !exists(&files.1));
    // An end still alive: the wait runs out and the names say so.
    let waited = recorder.finish(Duration::from_millis(20));
    assert!(!waited.complete, "{waited:?}");
    assert!(
        waited
            .error
            .as_deref()
            .unwrap()
            .contains("still being written"),
        "{waited:?}"
    );
    assert_eq!(waited.arrivals, with(&files.0, ".incomplete"));
    assert!(!exists(&files.0));
    drop((tx, rx));
}

#[test]
fn existing_files_are_kept_unless_overwrite_and_an_input_always() {
    let files = Files::new("exists");
    fs::write(&files.1, "12ms\n").unwrap();
    let refused = Recorder::create(prefix("exists")).unwrap_err();
    assert!(
        matches!(&refused, CreateError::Exists { path } if *path == files.1),
        "{refused:?}"
    );
    assert_eq!(refused.to_string(), format!("{} exists", files.1.display()));
    // Nothing was made on the way, and theirs is untouched.
    assert!(!exists(&with(&files.0, ".incomplete")));
    assert_eq!(fs::read_to_string(&files.1).unwrap(), "12ms\n");
    // A partial file left by a program that was killed: the same.
    fs::remove_file(&files.1).unwrap();
    fs::write(with(&files.0, ".incomplete"), "1\n").unwrap();
    assert!(matches!(
        Recorder::create(prefix("exists")),
        Err(CreateError::Exists { .. })
    ));
    // Overwriting replaces them, once the recording is whole.
    fs::write(&files.1, "12ms\n").unwrap();
    let recorder = RecordOptions::new()
        .overwrite(true)
        .create(prefix("exists"))
        .unwrap();
    let (tx, rx) = Builder::new(4).record(&recorder).build::<u32>();
    assert_eq!(
        fs::read_to_string(&files.1).unwrap(),
        "12ms\n",
        "untouched until the end"
    );
    tx.send(1).unwrap();
    assert_eq!(rx.recv(), Ok(1));
    drop((tx, rx));
    let recorded = finish(recorder);
    assert_eq!(recorded.services, files.1);
    assert_eq!(data_lines(&files.1).len(), 1);

    // The program's own input, by any name, is refused even when overwriting.
    let input = &files.0;
    let other_name = std::env::temp_dir()
        .join(".")
        .join(input.file_name().unwrap());
    for overwrite in [false, true] {
        let refused = RecordOptions::new()
            .overwrite(overwrite)
            .input("/nonexistent")
            .input(&other_name)
            .create(prefix("exists"))
            .unwrap_err();
        match refused {
            CreateError::Input { path, input: named } => {
                assert_eq!((&path, &named), (input, &other_name));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(data_lines(input).len(), 1, "the input is untouched");
}

#[test]
fn a_file_that_appears_meanwhile_is_not_replaced() {
    let (recorder, files) = recorder("race");
    let (tx, rx) = Builder::new(4).record(&recorder).build::<u32>();
    tx.send(1).unwrap();
    drop((tx, rx));
    // Someone else writes the same name meanwhile.
    fs::write(&files.0, "theirs\n").unwrap();
    let recorded = recorder.finish(PATIENCE);
    assert!(!recorded.complete, "{recorded:?}");
    assert!(
        recorded.error.as_deref().unwrap().contains("appeared"),
        "{recorded:?}"
    );
    assert_eq!(fs::read_to_string(&files.0).unwrap(), "theirs\n");
    assert_eq!(recorded.arrivals, with(&files.0, ".incomplete"));
}

/// A program that knows its times better than the channel records them itself.
#[test]
fn tapes_write_the_times_a_program_gives_them() {
    let files = Files::new("tapes");
    let recorder = RecordOptions::new()
        .by("a test")
        .create(prefix("tapes"))
        .unwrap();
    let origin = UNIX_EPOCH + Duration::from_secs(1_000);
    let (mut arrivals, mut services) = recorder.tapes(origin);
    // More than a chunk, with ties (a burst).
    for i in 0..10_000u64 {
        arrivals.push(i / 3 * 1_234_567);
    }
    assert_eq!((arrivals.taped(), arrivals.lost()), (10_000, 0));
    drop(arrivals);
    assert!(services.extend_waiting((0..10_000).map(|i| i * 7), || false));
    drop(services);
    let recorded = finish(recorder);
    assert_eq!(
        (recorded.arrivals, recorded.services),
        (files.0.clone(), files.1.clone())
    );
    let text = fs::read_to_string(&files.0).unwrap();
    assert!(text.starts_with("# a test: "), "{text:.60}");
    let arrivals = data_lines(&files.0);
    assert_eq!(arrivals.len(), 10_000);
    for (i, line) in arrivals.iter().enumerate() {
        assert_eq!(
            epoch_seconds(line),
            1_000_000_000_000 + i as u64 / 3 * 1_234_567,
            "{line}"
        );
    }
    let services: Vec<u64> = data_lines(&files.1).iter().map(|l| service_ns(l)).collect();
    assert_eq!(services, (0..10_000).map(|i| i * 7).collect::<Vec<_>>());
}
