//! The illustrator thread: the only one that touches the terminal. It hears of
//! messages produced and consumed on two unbounded channels (whose senders
//! skip an event while one waits, see [`crate::live::events`], so watching
//! never slows the producer nor queues without bound), and draws at most
//! [`FRAME`]⁻¹ times a second, only when the picture changes; the figures
//! lines under the gauge follow at their own slower pace ([`Pace`]).
//! It also turns keys into stop and abort requests (signals have their own
//! threads, see [`crate::ui::signals`]), `+` and `-` into one consumer more
//! or fewer ([`crate::live::crew`]), and `?` into the list of keys.
//!
//! It never writes itself: frames and log lines go to the [`Writer`] thread,
//! which keeps only the latest, so a reader that stops reading cannot stop it
//! from draining the event channels.
//!
//! std has no `select`, so each turn drains both channels without blocking,
//! sleeps until the next frame, and takes the keys that came meanwhile.

use std::collections::VecDeque;
use std::io;
use std::sync::mpsc::TryRecvError;
use std::thread;
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::live::control::{Shared, State};
use crate::live::events::Feed;
use crate::live::reading::Reading;
use crate::stats::Window;
use crate::ui::gauge::{self, Figures, Glyphs, HISTORY_SECONDS, Pace, Phase, Snapshot};
use crate::ui::signals::{self, Stops};
use crate::ui::writer::Writer;

/// The shortest time between two frames: about 30 frames a second.
pub const FRAME: Duration = Duration::from_millis(33);

/// Model seconds over which the live rates are taken.
const WINDOW_S: f64 = 5.0;

/// How the picture looks, decided once from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Look {
    pub capacity: u64,
    pub glyphs: Glyphs,
}

/// The receiving ends of the two event channels.
#[derive(Debug)]
pub struct Feeds {
    pub produced: Feed,
    pub consumed: Feed,
}

/// What the picture is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The live gauge, on a terminal already in raw mode and the alternate screen.
    Live,
    /// One logfmt line per second of model time.
    Plain,
}

/// Runs until both event channels are closed (after a final frame) or the run
/// is aborted. An error is an I/O error on the output (as the writer found it)
/// or on the terminal's keys; the caller aborts the run.
pub fn run(
    feeds: Feeds,
    mode: Mode,
    writer: &Writer,
    look: Look,
    shared: &Shared,
    stops: &Stops,
) -> io::Result<()> {
    let watch = Watch::new(feeds, look, shared, stops);
    match mode {
        Mode::Live => live(watch, writer),
        Mode::Plain => plain(watch, writer),
    }
}

/// What the illustrator knows of the run.
struct Watch<'a> {
    feeds: Feeds,
    look: Look,
    shared: &'a Shared,
    stops: &'a Stops,
    /// Rates over the last [`WINDOW_S`] seconds.
    window: Window,
    /// The deepest the buffer was in each recent model second: (second, depth).
    history: VecDeque<(u64, u64)>,
    /// The latest reading of the counters: every figure shown comes from it.
    reading: Reading,
    /// Whether each channel is still open. The events only say that
    /// something moved; the figures come from the reading.
    producing: bool,
    consuming: bool,
}

/// Takes every waiting event; says whether the channel is closed (its
/// senders gone and everything they sent taken).
fn drain(feed: &Feed) -> bool {
    loop {
        match feed.try_recv() {
            Ok(_) => {}
            Err(TryRecvError::Empty) => return false,
            Err(TryRecvError::Disconnected) => return true,
        }
    }
}

impl<'a> Watch<'a> {
    fn new(feeds: Feeds, look: Look, shared: &'a Shared, stops: &'a Stops) -> Watch<'a> {
        Watch {
            feeds,
            look,
            window: Window::new(WINDOW_S),
            history: VecDeque::with_capacity(HISTORY_SECONDS + 1),
            reading: Reading::take(shared),
            shared,
            stops,
            producing: true,
            consuming: true,
        }
    }

    /// Takes in all waiting events, then reads the counters.
    fn update(&mut self) {
        if self.producing && drain(&self.feeds.produced) {
            self.producing = false;
            // The producer is done: a stop request from now on quits at once.
            self.shared.control.stop();
        }
        if self.consuming && drain(&self.feeds.consumed) {
            self.consuming = false;
        }
        // After the events: the reading is at least as far on as they are.
        self.reading = Reading::take(self.shared);
        self.sample();
    }

    /// q, Esc or Ctrl-C: the first stops the producer and drains, the next
    /// (key or signal) quits at once.
    fn escalate(&self) {
        self.stops.request(&self.shared.control);
    }

    /// Feeds the rate window and the depth history from the latest reading.
    fn sample(&mut self) {
        let reading = &self.reading;
        self.window.push(reading.sample());
        let second = reading.t_s as u64;
        let depth = reading.depth;
        match self.history.back_mut() {
            Some((last, deepest)) if *last == second => *deepest = (*deepest).max(depth),
            Some(&mut (last, _)) => {
                // Seconds with no turn in them (at high --speed) repeat the depth.
                let skipped = second.saturating_sub(last).min(HISTORY_SECONDS as u64);
                for s in second + 1 - skipped..=second {
                    self.history.push_back((s, depth));
                }
            }
            None => self.history.push_back((second, depth)),
        }
        while self.history.len() > HISTORY_SECONDS {
            self.history.pop_front();
        }
    }

    fn aborted(&self) -> bool {
        self.shared.control.state() == State::Aborted
    }

    fn finished(&self) -> bool {
        !self.producing && !self.consuming
    }

    /// The frame's figures, all from the latest reading.
    fn snapshot(&self) -> Snapshot {
        let phase = if self.finished() {
            Phase::Done
        } else if self.producing && self.shared.control.state() == State::Running {
            Phase::Running
        } else {
            Phase::Draining
        };
        let r = &self.reading;
        let crew = &self.shared.crew;
        let mut s = Snapshot {
            capacity: self.look.capacity,
            produced: r.produced,
            consumed: r.consumed,
            full_count: r.full_count,
            dropped: r.dropped,
            elapsed_s: r.t_s as u64,
            phase,
            producer: r.producer,
            glyphs: self.look.glyphs,
            schedule_lag_s: r.schedule_lag_s,
            faithful: r.faithful,
            stalled_until_s: self.shared.stalls.stalled_until_s(r.t_s),
            consumers: crew.pressed().then(|| (r.consumers, crew.wanted())),
            keys: false,
            figures: Figures::default(),
        };
        s.figures = self.figures(s.depth());
        s
    }

    /// The figures lines' figures, all from the latest reading (whose
    /// depth, as the snapshot shows it, is `depth`).
    fn figures(&self, depth: u64) -> Figures {
        let r = &self.reading;
        // Up to this reading, even if it came too soon to be kept.
        let rates = self.window.rates_to(&r.sample());
        Figures {
            arrival: rates.arrival,
            service: rates.service,
            utilisation: rates.utilisation(),
            blocked_p99_s: r.blocked.p99_s,
            blocked_max_s: r.blocked.max_s,
            high_water: r.high_water,
            catch_up_s: Figures::catch_up_s(depth, rates.service),
            oldest_age_s: r.oldest_age_s,
            history: self.history.iter().map(|&(_, depth)| depth).collect(),
        }
    }
}

fn is_stop_key(key: &KeyEvent) -> bool {
    key.kind != KeyEventKind::Release
        && match key.code {
            KeyCode::Char('q' | 'Q') | KeyCode::Esc => true,
            KeyCode::Char('c') => key.modifiers.contains(KeyModifiers::CONTROL),
            _ => false,
        }
}

/// `+` or `-`: one consumer more or fewer (see [`crate::live::crew`]).
fn crew_key(key: &KeyEvent) -> Option<char> {
    match key.code {
        KeyCode::Char(c @ ('+' | '-')) if key.kind != KeyEventKind::Release => Some(c),
        _ => None,
    }
}

fn is_suspend_key(key: &KeyEvent) -> bool {
    key.kind != KeyEventKind::Release
        && key.code == KeyCode::Char('z')
        && key.modifiers.contains(KeyModifiers::CONTROL)
}

/// Whether the keys are listed after `key`: `?` shows or hides them, any
/// other key hides them (and still does what it does).
fn keys_shown_after(shown: bool, key: &KeyEvent) -> bool {
    match key.kind {
        KeyEventKind::Release => shown,
        _ => key.code == KeyCode::Char('?') && !shown,
    }
}

fn live(mut watch: Watch, writer: &Writer) -> io::Result<()> {
    let (mut width, mut height) = crossterm::terminal::size().unwrap_or((0, 0));
    writer.reset();
    let started = Instant::now();
    let mut next_frame = started;
    let mut pace = Pace::default();
    let mut keys_shown = false;
    loop {
        watch.update();
        if let Some(e) = writer.take_error() {
            return Err(e);
        }
        if watch.aborted() {
            return Ok(());
        }
        let now = Instant::now();
        if now >= next_frame || watch.finished() {
            next_frame = now + FRAME;
            let mut s = watch.snapshot();
            s.keys = keys_shown;
            // The gauge follows every reading, the figures lines a few times a
            // second (the last frame shows the last reading whole).
            let fresh = std::mem::take(&mut s.figures);
            s.figures = pace
                .figures(now - started, || fresh, watch.finished())
                .clone();
            // The writer writes only what changed since the frame it last
            // wrote, often nothing.
            writer.frame(gauge::render(&s, width.into(), height.into()));
        }
        if watch.finished() {
            return Ok(());
        }
        let wait = next_frame.saturating_duration_since(now);
        // Sleep, then take every key and resize that came meanwhile: keys wait
        // at most a frame. (crossterm's terminal poll rounds its timeout down
        // to whole milliseconds and spins through the rest, about 3% of a
        // core at 30 frames a second, so it is only ever asked to look.)
        if !wait.is_zero() {
            thread::sleep(wait);
        }
        while event::poll(LOOK)? {
            let event = event::read()?;
            if let Event::Key(key) = &event {
                keys_shown = keys_shown_after(keys_shown, key);
            }
            match event {
                Event::Key(key) if is_stop_key(&key) => watch.escalate(),
                // Raw mode turns Ctrl-Z into a key: make it the signal it would be.
                Event::Key(key) if is_suspend_key(&key) => signals::suspend_self(),
                // Once the run is over there is nothing left to consume.
                Event::Key(key) if !watch.finished() => match crew_key(&key) {
                    Some('+') => _ = watch.shared.crew.more(),
                    Some(_) => _ = watch.shared.crew.fewer(),
                    None => {}
                },
                Event::Resize(w, h) => {
                    (width, height) = (w, h);
                    writer.reset();
                }
                _ => {}
            }
        }
    }
}

/// The timeout that makes crossterm's poll look at the terminal without
/// waiting: it polls (with zero milliseconds) until this much time has passed,
/// so it must be long enough for one look, and is short enough that those
/// looks cost nothing. (Zero would not look at all.)
const LOOK: Duration = Duration::from_micros(100);

fn plain(mut watch: Watch, writer: &Writer) -> io::Result<()> {
    let clock = watch.shared.clock;
    // Wake often enough to write a line for every model second, but never spin.
    let tick = clock
        .after(clock.start_instant(), Duration::from_secs(1))
        .saturating_duration_since(clock.start_instant())
        .clamp(Duration::from_millis(1), FRAME);
    let mut next_line = 1.0;
    loop {
        watch.update();
        if let Some(e) = writer.take_error() {
            return Err(e);
        }
        if watch.aborted() {
            return Ok(());
        }
        // The line's time is the reading's, like every figure on it.
        let t = watch.reading.t_s;
        if watch.finished() {
            writer.line(gauge::logfmt(&watch.snapshot(), t));
            return Ok(());
        }
        if t >= next_line {
            writer.line(gauge::logfmt(&watch.snapshot(), t));
            next_line = t.floor() + 1.0;
        }
        thread::sleep(tick);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::events;

    #[test]
    fn draining_takes_everything_and_sees_the_end() {
        let (events, feed) = events::channel();
        assert!(!drain(&feed), "open and empty");
        events.send(1);
        assert!(!drain(&feed));
        assert_eq!(feed.try_recv(), Err(TryRecvError::Empty), "all taken");
        events.send(2);
        drop(events);
        assert!(drain(&feed), "closed once the last event is taken");
    }

    #[test]
    fn stop_keys() {
        let key = |code, modifiers| KeyEvent::new(code, modifiers);
        assert!(is_stop_key(&key(KeyCode::Char('q'), KeyModifiers::NONE)));
        assert!(is_stop_key(&key(KeyCode::Esc, KeyModifiers::NONE)));
        assert!(is_stop_key(&key(KeyCode::Char('c'), KeyModifiers::CONTROL)));
        assert!(!is_stop_key(&key(KeyCode::Char('c'), KeyModifiers::NONE)));
        assert!(!is_stop_key(&key(KeyCode::Char('x'), KeyModifiers::NONE)));
        assert!(is_suspend_key(&key(
            KeyCode::Char('z'),
            KeyModifiers::CONTROL
        )));
        assert!(!is_suspend_key(&key(
            KeyCode::Char('z'),
            KeyModifiers::NONE
        )));
    }

    #[test]
    fn question_mark_toggles_the_keys_and_any_other_key_hides_them() {
        let press = |code, modifiers| KeyEvent::new(code, modifiers);
        let question = press(KeyCode::Char('?'), KeyModifiers::NONE);
        // Some terminals report `?` with the Shift it took to type it.
        let shifted = press(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert!(keys_shown_after(false, &question));
        assert!(!keys_shown_after(true, &shifted));
        assert!(keys_shown_after(false, &shifted));
        for other in [
            press(KeyCode::Char('x'), KeyModifiers::NONE),
            press(KeyCode::Char('q'), KeyModifiers::NONE),
            press(KeyCode::Esc, KeyModifiers::NONE),
            press(KeyCode::Enter, KeyModifiers::NONE),
        ] {
            assert!(!keys_shown_after(true, &other), "{other:?}");
            assert!(!keys_shown_after(false, &other), "{other:?}");
        }
        for (c, modifiers) in [
            ('+', KeyModifiers::NONE),
            ('+', KeyModifiers::SHIFT),
            ('-', KeyModifiers::NONE),
        ] {
            assert_eq!(crew_key(&press(KeyCode::Char(c), modifiers)), Some(c));
        }
        assert_eq!(
            crew_key(&press(KeyCode::Char('='), KeyModifiers::NONE)),
            None
        );
        let mut release = question;
        release.kind = KeyEventKind::Release;
        assert!(
            keys_shown_after(true, &release),
            "a release is no key press"
        );
        assert!(!keys_shown_after(false, &release));
    }
}
