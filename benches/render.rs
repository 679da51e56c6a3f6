//! The gauge on a 120×30 terminal: the time to render and diff one frame, the
//! bytes of a whole frame and of a typical next one, and the bytes of a
//! minute of frames at 30 a second (a synthetic run shaped like the default
//! one: 30 s of producing, 30 s of draining) with the figures lines at frame
//! rate and at their own pace (`ui::gauge::pace`): `cargo bench --bench render`.
//! The live run's bytes are measured in a terminal; see the README.

use std::hint::black_box;
use std::time::{Duration, Instant};

use burstbuf::internals::ProducerState;
use burstbuf::internals::gauge::{Figures, Glyphs, Pace, Phase, Snapshot, render};
use burstbuf::internals::screen::Screen;

const ROUNDS: u32 = 100_000;

fn snapshot(produced: u64, elapsed_s: u64) -> Snapshot {
    Snapshot {
        capacity: 100,
        produced,
        consumed: 85,
        full_count: 13,
        elapsed_s,
        phase: Phase::Running,
        producer: ProducerState::Blocked,
        glyphs: Glyphs::Unicode,
        schedule_lag_s: 0.0004,
        faithful: true,
        stalled_until_s: None,
        consumers: None,
        dropped: 0,
        keys: false,
        figures: Figures {
            arrival: Some(8.31),
            service: Some(3.33),
            utilisation: Some(8.31 / 3.33),
            blocked_p99_s: Some(0.281),
            blocked_max_s: Some(0.281),
            high_water: 100,
            catch_up_s: Some(29.7),
            oldest_age_s: Some(24.9),
            history: (0..25).map(|s| s * 4).collect(),
        },
    }
}

/// The frame at `t` seconds of a run shaped like the default one: 8.3
/// messages a second offered, 3.33 consumed, a 100-slot buffer, the producer
/// stopped at 30 s; μ over its window hovering at the 3.35 rounding edge, the
/// oldest message's age growing with the frame.
fn synthetic(t: f64) -> Snapshot {
    let consumed = (t * 3.33) as u64;
    let offered = (t.min(30.0) * 8.3) as u64;
    let produced = offered.min(consumed + 100);
    let depth = produced - consumed;
    let mut s = snapshot(produced, t as u64);
    s.consumed = consumed;
    s.full_count = offered.saturating_sub(consumed + 100).min(produced) / 8;
    s.phase = if t < 30.0 {
        Phase::Running
    } else {
        Phase::Draining
    };
    s.producer = match (t < 30.0, depth == 100) {
        (false, _) => ProducerState::Stopped,
        (true, true) => ProducerState::Blocked,
        (true, false) => ProducerState::Sending,
    };
    let mu = 3.35 + 0.004 * (t * 7.0).sin();
    let lambda = if t < 30.0 {
        8.3 + 0.3 * (t * 0.7).sin()
    } else {
        0.0
    };
    s.figures = Figures {
        arrival: Some(lambda),
        service: Some(mu),
        utilisation: Some(lambda / mu),
        catch_up_s: Figures::catch_up_s(depth, Some(mu)),
        oldest_age_s: (depth > 0).then_some(depth as f64 / 3.33 + t.fract()),
        history: ((t as u64).saturating_sub(59)..=t as u64)
            .map(|s| (s * 5).min(100))
            .collect(),
        ..s.figures
    };
    s
}

/// The bytes of a minute of frames at 30 a second, with the figures at their
/// pace or at frame rate.
fn minute(paced: bool) -> usize {
    let mut screen = Screen::new(true);
    let mut pace = Pace::default();
    let mut bytes = 0;
    for frame in 0..60 * 30 {
        let now = Duration::from_millis(frame * 33);
        let mut s = synthetic(now.as_secs_f64());
        if paced {
            let fresh = std::mem::take(&mut s.figures);
            s.figures = pace.figures(now, || fresh, false).clone();
        }
        let mut out = Vec::new();
        screen.draw(&render(&s, 120, 30), &mut out).unwrap();
        bytes += out.len();
    }
    bytes
}

fn main() {
    let (a, b) = (snapshot(184, 24), snapshot(185, 25));

    let mut whole = Vec::new();
    Screen::new(true)
        .draw(&render(&a, 120, 30), &mut whole)
        .unwrap();
    let mut screen = Screen::new(true);
    screen.draw(&render(&a, 120, 30), &mut Vec::new()).unwrap();
    let mut next = Vec::new();
    screen.draw(&render(&b, 120, 30), &mut next).unwrap();

    let start = Instant::now();
    let mut bytes = 0;
    for i in 0..ROUNDS {
        let s = if i % 2 == 0 { &a } else { &b };
        let mut out = Vec::with_capacity(256);
        screen
            .draw(&render(black_box(s), 120, 30), &mut out)
            .unwrap();
        bytes += out.len();
    }
    let per_frame = start.elapsed() / ROUNDS;
    black_box(bytes);
    println!("render + diff of one 120x30 frame: {per_frame:?}");
    println!("bytes for a whole frame (first draw): {}", whole.len());
    println!(
        "bytes for the next frame (one message and one second later): {}",
        next.len()
    );
    println!(
        "bytes for a synthetic minute at 30 frames a second: figures at frame rate {}, at their pace {}",
        minute(false),
        minute(true)
    );
}
