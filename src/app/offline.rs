//! The commands that compute and print, with nothing live: `burstbuf sweep`
//! (the progress bar on stderr while it runs, the report on stdout) and
//! `burstbuf fit`.

use std::io::{self, Write};
use std::thread;
use std::time::{Duration, Instant};

use crate::cli::config::{FitConfig, FitInput};
use crate::sizing::answer;
use crate::sizing::report;
use crate::sizing::sweep::{self, SweepConfig};
use crate::traffic;

/// The progress bar: `\r[#####     ]  40%`, to be drawn over itself.
fn progress_bar(done: usize, total: usize, width: usize) -> String {
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
fn draw_progress(progress: &sweep::Progress, expected: Duration) {
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

/// `burstbuf sweep`: runs it, with the progress on stderr if asked, and
/// prints the report on stdout.
pub(super) fn sweep(config: &SweepConfig) -> io::Result<()> {
    let rows = if config.progress {
        let expected = sweep::estimated_time(config);
        sweep::rows_watched(config, |progress| draw_progress(progress, expected))
    } else {
        sweep::rows(config)
    };
    let mut stdout = io::stdout().lock();
    stdout.write_all(report::report(config, &rows).as_bytes())?;
    stdout.flush()
}

/// `burstbuf fit`: the statistics and fitted models, and with a service time
/// the answer, on stdout.
pub(super) fn fit(config: &FitConfig) -> io::Result<()> {
    let text = match (&config.input, &config.answer, config.json) {
        (_, Some(plan), false) => answer::answer(plan).text(),
        (_, Some(plan), true) => json_line(&answer::answer(plan)),
        (FitInput::Trace(trace), None, false) => traffic::fit::fit_trace(trace).text(),
        (FitInput::Trace(trace), None, true) => json_line(&traffic::fit::fit_trace(trace)),
        (FitInput::Service(file), None, false) => traffic::fit::fit_service(file).text(),
        (FitInput::Service(file), None, true) => json_line(&traffic::fit::fit_service(file)),
    };
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

fn json_line(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("plain data serialises") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_bar() {
        assert_eq!(progress_bar(0, 10, 10), "\r[          ]   0%");
        assert_eq!(progress_bar(4, 10, 10), "\r[####      ]  40%");
        assert_eq!(progress_bar(10, 10, 10), "\r[##########] 100%");
        assert_eq!(progress_bar(0, 0, 4), "\r[####] 100%");
    }
}
