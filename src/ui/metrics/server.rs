//! A small HTTP/1.1 server with limits, over `httparse`: the endpoint is
//! reachable by other programs, so none of them may hurt the run.
//!
//! - At most [`MAX_CONNECTIONS`] connections at once: [`WORKERS`] threads
//!   answer, the rest wait in a bounded queue; past that a connection gets 503
//!   and is closed. The threads are made once; none is spawned per connection.
//! - One request per connection (`Connection: close`): a client that pipelines
//!   requests and never reads gets one answer, then the connection is closed.
//! - The request head must fit in [`MAX_HEAD`] bytes (else 431) and arrive
//!   within [`IO_TIMEOUT`]; the answer must be taken within [`IO_TIMEOUT`].
//!   Every wait looks up each [`TICK`] to see whether the run is over, so no
//!   client delays the end of the run by more than a tick.
//! - Out of descriptors, `accept` fails: one line on stderr, the endpoint
//!   waits a tick and tries again; nothing else notices.
//! - Unless `--metrics-public`, a request whose `Host` is not a loopback name
//!   or address gets 421 (a web page reaching it by DNS rebinding).

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::mpsc::{self, RecvTimeoutError, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Connections held at once: being answered or waiting.
pub const MAX_CONNECTIONS: usize = 32;
/// Threads answering.
pub const WORKERS: usize = 4;
/// The most a request head may take.
pub const MAX_HEAD: usize = 8 * 1024;
/// How long a request head may take to arrive, and an answer to be taken.
pub const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// How often every wait looks up to see whether the run is over.
pub const TICK: Duration = Duration::from_millis(50);
/// Headers parsed at most; a head with more gets 431.
const MAX_HEADERS: usize = 32;

/// A request, as far as the routes need it.
#[derive(Debug)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
}

/// An answer: status, content type and body.
pub type Answer = (u16, &'static str, String);

/// The listening socket, bound before the run starts.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    /// `--metrics-public`: answer whatever `Host` a request names.
    public: bool,
}

impl Server {
    pub fn bind(addr: SocketAddr, public: bool) -> io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        // Polled, so the accepting thread can see the run end.
        listener.set_nonblocking(true)?;
        Ok(Server { listener, public })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Accepts and answers until `done` is set, then returns within a tick or two.
    pub fn serve(self, answer: &(dyn Fn(&Request) -> Answer + Sync), done: &AtomicBool) {
        let (tx, rx) = mpsc::sync_channel::<TcpStream>(MAX_CONNECTIONS - WORKERS);
        let rx = Arc::new(Mutex::new(rx));
        let public = self.public;
        thread::scope(|s| {
            let mut workers = 0;
            for i in 0..WORKERS {
                let rx = Arc::clone(&rx);
                let spawned = thread::Builder::new()
                    .name(format!("metrics-{i}"))
                    .spawn_scoped(s, move || {
                        while !done.load(Relaxed) {
                            let next = rx
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .recv_timeout(TICK);
                            match next {
                                Ok(stream) => handle(stream, answer, public, done),
                                Err(RecvTimeoutError::Timeout) => {}
                                Err(RecvTimeoutError::Disconnected) => return,
                            }
                        }
                    });
                workers += usize::from(spawned.is_ok());
            }
            if workers == 0 {
                let _ = writeln!(
                    io::stderr(),
                    "burstbuf: metrics: could not start a thread; the endpoint is off"
                );
                return;
            }
            self.accept(&tx, done);
        });
    }

    fn accept(&self, queue: &mpsc::SyncSender<TcpStream>, done: &AtomicBool) {
        let mut warned = false;
        while !done.load(Relaxed) {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if let Err(TrySendError::Full(stream)) = queue.try_send(stream) {
                        refuse(stream);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(TICK),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // Out of descriptors (EMFILE, ENFILE) or memory, or a
                    // connection reset before it was accepted: say so once,
                    // wait, and try again; the run goes on regardless.
                    if !warned && !is_transient(&e) {
                        warned = true;
                        let _ = writeln!(
                            io::stderr(),
                            "burstbuf: metrics: cannot accept connections ({e}); retrying"
                        );
                    }
                    thread::sleep(TICK);
                }
            }
        }
    }
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// Too many connections: a 503, written only if it fits at once.
fn refuse(mut stream: TcpStream) {
    if stream.set_nonblocking(true).is_ok() {
        let _ = stream.write(
            b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\
              Content-Length: 0\r\nRetry-After: 1\r\n\r\n",
        );
    }
}

/// What reading the head found.
#[derive(Debug, PartialEq, Eq)]
enum Head {
    /// A whole head of this many bytes.
    Complete,
    /// The head is larger than [`MAX_HEAD`] or has too many headers.
    TooLarge,
    Malformed,
    /// The client went away, took too long, or the run ended.
    Gone,
}

fn handle(
    mut stream: TcpStream,
    answer: &(dyn Fn(&Request) -> Answer + Sync),
    public: bool,
    done: &AtomicBool,
) {
    if stream.set_nonblocking(false).is_err()
        || stream.set_read_timeout(Some(TICK)).is_err()
        || stream.set_write_timeout(Some(TICK)).is_err()
    {
        return;
    }
    let mut buf = [0u8; MAX_HEAD];
    let deadline = Instant::now() + IO_TIMEOUT;
    let (head, len) = read_head(&mut stream, &mut buf, deadline, done);
    let response = match head {
        Head::Gone => return,
        Head::TooLarge => plain(431, "request header fields too large\n"),
        Head::Malformed => plain(400, "bad request\n"),
        Head::Complete => {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut request = httparse::Request::new(&mut headers);
            match request.parse(&buf[..len]) {
                Ok(httparse::Status::Complete(_)) => respond(&request, answer, public),
                _ => plain(400, "bad request\n"),
            }
        }
    };
    let deadline = Instant::now() + IO_TIMEOUT;
    write_all(&mut stream, &response, deadline, done);
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// Reads until the head is whole (`\r\n\r\n`), too large, or the time is up.
fn read_head(
    stream: &mut impl Read,
    buf: &mut [u8; MAX_HEAD],
    deadline: Instant,
    done: &AtomicBool,
) -> (Head, usize) {
    let mut len = 0;
    loop {
        if done.load(Relaxed) || Instant::now() >= deadline {
            return (Head::Gone, len);
        }
        if len == buf.len() {
            return (Head::TooLarge, len);
        }
        match stream.read(&mut buf[len..]) {
            Ok(0) => return (Head::Gone, len),
            Ok(n) => {
                len += n;
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                match httparse::Request::new(&mut headers).parse(&buf[..len]) {
                    Ok(httparse::Status::Complete(end)) => return (Head::Complete, end),
                    Ok(httparse::Status::Partial) => {}
                    Err(httparse::Error::TooManyHeaders) => return (Head::TooLarge, len),
                    Err(_) => return (Head::Malformed, len),
                }
            }
            Err(e) if worth_retrying(&e) => {}
            Err(_) => return (Head::Gone, len),
        }
    }
}

/// A socket timeout or an interrupted call: try again, while time allows.
fn worth_retrying(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Writes the whole answer unless the client stops taking it for too long.
fn write_all(stream: &mut impl Write, mut bytes: &[u8], deadline: Instant, done: &AtomicBool) {
    while !bytes.is_empty() {
        if done.load(Relaxed) || Instant::now() >= deadline {
            return;
        }
        match stream.write(bytes) {
            Ok(0) => return,
            Ok(n) => bytes = &bytes[n..],
            Err(e) if worth_retrying(&e) => {}
            Err(_) => return,
        }
    }
}

fn respond(
    request: &httparse::Request,
    answer: &(dyn Fn(&Request) -> Answer + Sync),
    public: bool,
) -> Vec<u8> {
    let method = request.method.unwrap_or("");
    let target = request.path.unwrap_or("");
    let host = request
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("host"))
        .map(|h| String::from_utf8_lossy(h.value).into_owned());
    match (&host, request.version) {
        // HTTP/1.1 requires a Host (RFC 9112 §3.2).
        (None, Some(1)) => return plain(400, "no Host header\n"),
        (Some(host), _) if !public && !is_loopback_host(host) => {
            return plain(421, "only loopback names are answered here\n");
        }
        _ => {}
    }
    let (status, content_type, body) = answer(&Request {
        method,
        path: target,
    });
    let body = if method == "HEAD" { "" } else { body.as_str() };
    let allow = if status == 405 {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    // HEAD answers with the length GET would have.
    let length = if method == "HEAD" && status == 200 {
        answer(&Request {
            method: "GET",
            path: target,
        })
        .2
        .len()
    } else {
        body.len()
    };
    format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\
         {allow}Connection: close\r\n\r\n{body}",
        reason(status)
    )
    .into_bytes()
}

fn plain(status: u16, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        reason(status),
        body.len()
    )
    .into_bytes()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        421 => "Misdirected Request",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// `localhost`, a `.localhost` name (RFC 6761) or a loopback address, with or without a port.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        return rest
            .split_once(']')
            .and_then(|(ip, _)| ip.parse::<Ipv6Addr>().ok())
            .is_some_and(|ip| ip.is_loopback());
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        }
    };
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "LOCALHOST:9898",
            "localhost.",
            "app.localhost",
            "127.0.0.1",
            "127.0.0.1:80",
            "127.3.4.5:9",
            "[::1]",
            "[::1]:9898",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:9898",
            "localhost.evil.example",
            "10.0.0.1",
            "[::2]:80",
            "0.0.0.0",
            "",
            "127.0.0.1.nip.io",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    fn head_of(bytes: &[u8]) -> (Head, usize) {
        let done = AtomicBool::new(false);
        let mut buf = [0u8; MAX_HEAD];
        read_head(
            &mut io::Cursor::new(bytes.to_vec()),
            &mut buf,
            Instant::now() + Duration::from_secs(600),
            &done,
        )
    }

    #[test]
    fn heads_are_bounded() {
        let request = b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\nGET /x";
        assert_eq!(head_of(request), (Head::Complete, request.len() - 6));
        let mut endless = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        endless.resize(100_000, b'a');
        assert_eq!(head_of(&endless).0, Head::TooLarge);
        assert_eq!(head_of(b"GET /metrics HTTP/1.1\r\nHost").0, Head::Gone);
        assert_eq!(head_of(b"\x00\x01 nonsense\r\n\r\n").0, Head::Malformed);
        let many: String = (0..100).map(|i| format!("X{i}: y\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(head_of(many.as_bytes()).0, Head::TooLarge);
    }

    fn answer_to(head: &str, public: bool) -> String {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        assert!(request.parse(head.as_bytes()).unwrap().is_complete());
        let answer =
            |r: &Request| -> Answer { (200, "text/plain", format!("{} {}", r.method, r.path)) };
        String::from_utf8(respond(&request, &answer, public)).unwrap()
    }

    #[test]
    fn hosts_are_checked_unless_public() {
        let ok = answer_to("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n", false);
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.ends_with("\r\n\r\nGET /metrics"), "{ok}");
        assert!(ok.contains("Connection: close\r\n"), "{ok}");
        let foreign = "GET /metrics HTTP/1.1\r\nHost: evil.example\r\n\r\n";
        assert!(answer_to(foreign, false).starts_with("HTTP/1.1 421 "));
        assert!(answer_to(foreign, true).starts_with("HTTP/1.1 200 "));
        let no_host = "GET /metrics HTTP/1.1\r\n\r\n";
        assert!(answer_to(no_host, false).starts_with("HTTP/1.1 400 "));
        let old = "GET /metrics HTTP/1.0\r\n\r\n";
        assert!(answer_to(old, false).starts_with("HTTP/1.1 200 "));
    }

    #[test]
    fn head_has_the_length_of_get_and_no_body() {
        let head = answer_to("HEAD /m HTTP/1.1\r\nHost: localhost\r\n\r\n", false);
        assert!(head.contains("Content-Length: 6\r\n"), "{head}");
        assert!(head.ends_with("\r\n\r\n"), "{head}");
    }
}
