//! A small HTTP/1.1 server with limits, over `httparse`: the endpoint is
//! reachable by other programs, so none of them may hurt the run, and none
//! may keep a scrape from being answered.
//!
//! One thread does everything, over non-blocking sockets: it accepts, reads
//! each connection's request head as it arrives, answers, and looks up every
//! [`POLL`] while connections are open (every [`TICK`] while none are, and
//! at once again while connections keep arriving). No
//! connection waits for another, so each limit below is measured from that
//! connection's own accept, whatever the others do.
//!
//! - At most [`MAX_CONNECTIONS`] connections at once. Past that a connection
//!   gets 503 at once and is closed; nothing queues behind a busy slot.
//! - The request head must be complete within [`HEAD_TIMEOUT`] of the
//!   connection's accept, and fit in [`MAX_HEAD`] bytes (else 431); a
//!   connection that sends nothing, or too slowly, is closed at that deadline.
//! - One request per connection (`Connection: close`): a client that pipelines
//!   requests and never reads gets one answer, then the connection is closed.
//!   The answer must be taken within [`ANSWER_TIMEOUT`].
//! - A scrape therefore gets 200 within a poll or two of its accept, or 503
//!   when all slots are taken; the run ends within a [`TICK`].
//! - Out of descriptors, `accept` fails: one line on stderr, the endpoint
//!   waits a tick and tries again; nothing else notices.
//! - Unless `--metrics-public`, a request whose `Host` is not a loopback name
//!   or address gets 421 (a web page reaching it by DNS rebinding); a request
//!   with two `Host` headers gets 400 (RFC 9112 §3.2).

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::thread;
use std::time::{Duration, Instant};

/// Connections held at once: being read or answered.
pub const MAX_CONNECTIONS: usize = 32;
/// The most a request head may take.
pub const MAX_HEAD: usize = 8 * 1024;
/// How long after its accept a connection may take to send a complete request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(2);
/// How long an answer may take to be taken once it is ready.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the server looks at its connections while it has any.
pub const POLL: Duration = Duration::from_millis(5);
/// How often it looks for a connection, and whether the run is over, while it has none.
pub const TICK: Duration = Duration::from_millis(50);
/// How soon it looks again after it has just accepted some.
const FLOOD_POLL: Duration = Duration::from_millis(1);
/// Connections the kernel may hold for the server before it accepts them.
const BACKLOG: i32 = 4096;
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
    limits: Limits,
}

/// The deadlines a connection is held to; the constants, except in tests
/// that need a deadline no machine can miss.
#[derive(Debug, Clone, Copy)]
struct Limits {
    head: Duration,
    answer: Duration,
}

impl Server {
    pub fn bind(addr: SocketAddr, public: bool) -> io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        // std listens with a queue of 128 connections not yet accepted; in a
        // flood, one that finds it full is retried by its kernel only after
        // a second (then 3 s). A longer queue (the kernel caps it at
        // net.core.somaxconn) rides out the moments the thread is not running.
        rustix::net::listen(&listener, BACKLOG)?;
        // Polled, so the one thread can also read, write and see the run end.
        listener.set_nonblocking(true)?;
        Ok(Server {
            listener,
            public,
            limits: Limits {
                head: HEAD_TIMEOUT,
                answer: ANSWER_TIMEOUT,
            },
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Accepts and answers until `done` is set, then returns within a [`TICK`].
    pub fn serve(self, answer: &dyn Fn(&Request) -> Answer, done: &AtomicBool) {
        let mut held: Vec<Connection> = Vec::with_capacity(MAX_CONNECTIONS);
        let mut warned = false;
        while !done.load(Relaxed) {
            let accepted = self.accept(&mut held, &mut warned);
            let now = Instant::now();
            held.retain_mut(|c| c.advance(answer, self.public, now) == Next::Keep);
            thread::sleep(match accepted {
                // Out of descriptors: give them time to come back.
                Accepted::Failed => TICK,
                // A flood: the kernel's queue of connections waiting to be
                // accepted is short, and one that finds it full waits a
                // second to try again; empty it often.
                Accepted::Some => FLOOD_POLL,
                Accepted::None if held.is_empty() => TICK,
                Accepted::None => POLL,
            });
        }
    }

    /// Takes every connection waiting: into a free slot, or a 503 at once.
    fn accept(&self, held: &mut Vec<Connection>, warned: &mut bool) -> Accepted {
        let mut accepted = Accepted::None;
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    let now = Instant::now();
                    accepted = Accepted::Some;
                    if held.len() < MAX_CONNECTIONS && stream.set_nonblocking(true).is_ok() {
                        held.push(Connection::new(stream, now, self.limits));
                    } else {
                        refuse(stream);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return accepted,
                Err(e) if e.kind() == io::ErrorKind::Interrupted || is_transient(&e) => {}
                Err(e) => {
                    // Out of descriptors (EMFILE, ENFILE) or memory: say so
                    // once, wait, and try again; the run goes on regardless.
                    if !*warned {
                        *warned = true;
                        let _ = writeln!(
                            io::stderr(),
                            "burstbuf: metrics: cannot accept connections ({e}); retrying"
                        );
                    }
                    return Accepted::Failed;
                }
            }
        }
    }
}

/// What one round of accepting found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accepted {
    None,
    Some,
    /// `accept` itself failed.
    Failed,
}

/// A connection reset before it was accepted: nothing to report.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// The answer to a connection past [`MAX_CONNECTIONS`].
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\
                      Content-Length: 0\r\nRetry-After: 1\r\n\r\n";

/// All slots taken: a 503, written only if it fits at once, then closed.
fn refuse(stream: TcpStream) {
    if stream.set_nonblocking(true).is_err() {
        return;
    }
    let _ = (&stream).write(BUSY);
    let _ = stream.shutdown(Shutdown::Write);
    // What the client has already sent is read away (a few reads at most),
    // so that closing sends a FIN, not a reset that could beat the 503 to it.
    let mut sink = [0u8; 1024];
    for _ in 0..8 {
        match (&stream).read(&mut sink) {
            Ok(1..) => {}
            _ => break,
        }
    }
}

/// One held connection: its head as it arrives, then its answer as it leaves.
#[derive(Debug)]
struct Connection {
    stream: TcpStream,
    /// When the head must be complete: its accept plus the head limit.
    head_deadline: Instant,
    limits: Limits,
    phase: Phase,
}

#[derive(Debug)]
enum Phase {
    /// The request head so far.
    Reading(Vec<u8>),
    /// The answer, how much of it is written, and when it must have been taken.
    Answering {
        bytes: Vec<u8>,
        written: usize,
        deadline: Instant,
    },
}

/// Whether a connection stays after a look at it.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    Keep,
    Close,
}

impl Connection {
    fn new(stream: TcpStream, accepted: Instant, limits: Limits) -> Connection {
        Connection {
            stream,
            head_deadline: accepted + limits.head,
            limits,
            phase: Phase::Reading(Vec::new()),
        }
    }

    /// Reads what has arrived, answers once the head is whole, writes what
    /// the client takes; never waits.
    fn advance(&mut self, answer: &dyn Fn(&Request) -> Answer, public: bool, now: Instant) -> Next {
        if let Phase::Reading(head) = &mut self.phase {
            match read_available(&mut self.stream, head) {
                Err(()) => return Next::Close,
                Ok(()) => match respond_to(head, public, answer) {
                    Some(bytes) => {
                        self.phase = Phase::Answering {
                            bytes,
                            written: 0,
                            deadline: now + self.limits.answer,
                        }
                    }
                    // Read just now, so a head that arrived in time is
                    // answered even if this look comes after the deadline.
                    None if now >= self.head_deadline => return Next::Close,
                    None => return Next::Keep,
                },
            }
        }
        let Phase::Answering {
            bytes,
            written,
            deadline,
        } = &mut self.phase
        else {
            return Next::Keep;
        };
        loop {
            if *written == bytes.len() {
                let _ = self.stream.shutdown(Shutdown::Write);
                return Next::Close;
            }
            match self.stream.write(&bytes[*written..]) {
                Ok(0) => return Next::Close,
                Ok(n) => *written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return if now >= *deadline {
                        Next::Close
                    } else {
                        Next::Keep
                    };
                }
                Err(_) => return Next::Close,
            }
        }
    }
}

/// Appends what has arrived to `head`, up to [`MAX_HEAD`] bytes; `Err` if the
/// client closed or the connection failed before the head was whole.
fn read_available(stream: &mut impl Read, head: &mut Vec<u8>) -> Result<(), ()> {
    let mut chunk = [0u8; 2048];
    while head.len() < MAX_HEAD {
        let room = (MAX_HEAD - head.len()).min(chunk.len());
        match stream.read(&mut chunk[..room]) {
            Ok(0) => return Err(()),
            Ok(n) => {
                head.extend_from_slice(&chunk[..n]);
                // Parsed as it grows: a complete head is answered at once,
                // even if a pipelining client has sent more behind it.
                if !matches!(parse(head), Parsed::Partial) {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(_) => return Err(()),
        }
    }
    Ok(())
}

/// What the bytes of a request head say so far.
#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    /// More may come.
    Partial,
    /// A whole head.
    Complete,
    /// Larger than [`MAX_HEAD`] or with more than [`MAX_HEADERS`] headers: 431.
    TooLarge,
    /// Not HTTP: 400.
    Malformed,
}

fn parse(head: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match httparse::Request::new(&mut headers).parse(head) {
        Ok(httparse::Status::Complete(_)) => Parsed::Complete,
        Ok(httparse::Status::Partial) if head.len() >= MAX_HEAD => Parsed::TooLarge,
        Ok(httparse::Status::Partial) => Parsed::Partial,
        Err(httparse::Error::TooManyHeaders) => Parsed::TooLarge,
        Err(_) => Parsed::Malformed,
    }
}

/// The whole answer to the bytes of a request head as far as they have
/// arrived, or `None` while more may come. Pure, so any bytes can be tried.
fn respond_to(head: &[u8], public: bool, answer: &dyn Fn(&Request) -> Answer) -> Option<Vec<u8>> {
    match parse(head) {
        Parsed::Partial => None,
        Parsed::TooLarge => Some(plain(431, "request header fields too large\n")),
        Parsed::Malformed => Some(plain(400, "bad request\n")),
        Parsed::Complete => {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut request = httparse::Request::new(&mut headers);
            Some(match request.parse(head) {
                Ok(httparse::Status::Complete(_)) => respond(&request, answer, public),
                _ => plain(400, "bad request\n"),
            })
        }
    }
}

fn respond(
    request: &httparse::Request,
    answer: &dyn Fn(&Request) -> Answer,
    public: bool,
) -> Vec<u8> {
    let method = request.method.unwrap_or("");
    let target = request.path.unwrap_or("");
    let mut hosts = request
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("host"))
        .map(|h| String::from_utf8_lossy(h.value).into_owned());
    let (host, another) = (hosts.next(), hosts.next());
    match (&host, request.version) {
        // More than one Host: which one is meant is anyone's guess (RFC 9112 §3.2).
        _ if another.is_some() => return plain(400, "more than one Host header\n"),
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
mod tests;
