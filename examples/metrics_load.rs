//! Measures what idle connections do to a running `--metrics` endpoint, on
//! loopback only: how long after its connect the server closes a connection
//! that sends nothing, and how long a scrape sent meanwhile takes.
//!
//! ```console
//! $ burstbuf --plain --duration 0s --metrics 127.0.0.1:9898 >/dev/null &
//! $ cargo run --release --example metrics_load -- 127.0.0.1:9898 32
//! ```
//!
//! It opens IDLE connections that never send a byte and, from the start,
//! sends a scrape (`GET /metrics`) every 250 ms for 5 s, each on its own
//! thread; then it prints when the server closed the idle connections
//! (looked at every 5 ms once they are all open) and how long each scrape
//! took. It refuses an address that is not loopback.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// How often the idle connections are looked at: the close times' precision.
const LOOK: Duration = Duration::from_millis(5);
/// How long the idle connections are watched.
const WATCH: Duration = Duration::from_secs(20);

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(idle)) = (args.next(), args.next()) else {
        eprintln!("usage: metrics_load ADDR IDLE (e.g. 127.0.0.1:9898 32)");
        std::process::exit(2);
    };
    let addr: SocketAddr = addr.parse().expect("an address such as 127.0.0.1:9898");
    assert!(addr.ip().is_loopback(), "loopback addresses only");
    let idle: usize = idle.parse().expect("a number of idle connections");

    // Each scrape on its own thread, so that a slow one does not delay the next.
    let scrapes = thread::spawn(move || {
        let mut sent = Vec::new();
        for _ in 0..20 {
            thread::sleep(Duration::from_millis(250));
            sent.push(thread::spawn(move || scrape(addr)));
        }
        sent.into_iter()
            .map(|s| s.join().expect("a scrape"))
            .collect::<Vec<_>>()
    });

    // The idle connections, each with the moment it was connected.
    let start = Instant::now();
    let mut open = Vec::with_capacity(idle);
    let mut failed = 0;
    for _ in 0..idle {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(stream) => {
                stream.set_nonblocking(true).expect("non-blocking");
                open.push((stream, Instant::now()));
            }
            Err(_) => failed += 1,
        }
    }
    println!(
        "{} idle connections open in {:?} ({failed} could not connect)",
        open.len(),
        start.elapsed()
    );

    let mut closed = Vec::new();
    let watching = Instant::now();
    while !open.is_empty() && watching.elapsed() < WATCH {
        let mut buf = [0u8; 512];
        open.retain_mut(|(stream, at)| match stream.read(&mut buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => true,
            // An answer (a 503) is not a close yet; the close follows it.
            Ok(n) if n > 0 => true,
            _ => {
                closed.push(at.elapsed());
                false
            }
        });
        thread::sleep(LOOK);
    }
    closed.sort();
    println!(
        "closed by the server: {} of {}; still open after {WATCH:?}: {}",
        closed.len(),
        closed.len() + open.len(),
        open.len()
    );
    if !closed.is_empty() {
        println!(
            "  after connect: min {:?}, median {:?}, max {:?}",
            closed[0],
            closed[closed.len() / 2],
            closed[closed.len() - 1]
        );
    }
    let mut taken = scrapes.join().expect("scrapes");
    for (status, took) in &taken {
        println!("scrape: {status} in {took:?}");
    }
    taken.sort_by_key(|(_, took)| *took);
    println!(
        "scrapes: median {:?}, max {:?}",
        taken[taken.len() / 2].1,
        taken[taken.len() - 1].1
    );
}

/// One `GET /metrics`: its status line (or why there is none) and how long it took.
fn scrape(addr: SocketAddr) -> (String, Duration) {
    let sent = Instant::now();
    let answer = (|| {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(30))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")?;
        let mut text = Vec::new();
        stream.read_to_end(&mut text)?;
        Ok::<_, io::Error>(text)
    })();
    let status = match answer {
        Ok(text) => String::from_utf8_lossy(&text)
            .lines()
            .next()
            .unwrap_or("(no answer)")
            .to_owned(),
        Err(e) => format!("(error: {e})"),
    };
    (status, sent.elapsed())
}
