//! One frame of the gauge on a 120×30 terminal: time to render and diff it,
//! and the bytes written, for a whole frame and for a typical next frame (one
//! more message produced, a second later): `cargo bench --bench render`.

use std::hint::black_box;
use std::time::Instant;

use burstbuf::live::counters::ProducerState;
use burstbuf::stats::Rates;
use burstbuf::ui::gauge::{Glyphs, Phase, Snapshot, render};
use burstbuf::ui::screen::Screen;

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
        rates: Rates {
            arrival: Some(8.31),
            service: Some(3.33),
        },
        blocked_p99_s: Some(0.281),
        blocked_max_s: Some(0.281),
        high_water: 100,
        oldest_age_s: Some(24.9),
        history: (0..25).map(|s| s * 4).collect(),
        glyphs: Glyphs::Unicode,
        schedule_lag_s: 0.0004,
        faithful: true,
        stalled_until_s: None,
        dropped: 0,
    }
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
}
