use super::*;
use std::sync::Arc;

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

/// What reading `bytes` (then the end of the stream) leaves: the head
/// read, and what it says; `None` if the client closed before it was whole.
fn head_of(bytes: &[u8]) -> Option<(Vec<u8>, Parsed)> {
    let mut head = Vec::new();
    read_available(&mut io::Cursor::new(bytes.to_vec()), &mut head).ok()?;
    let parsed = parse(&head);
    Some((head, parsed))
}

#[test]
fn heads_are_bounded() {
    let request = b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\nGET /x";
    assert_eq!(head_of(request).unwrap().1, Parsed::Complete);
    let mut endless = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
    endless.resize(100_000, b'a');
    let (head, parsed) = head_of(&endless).unwrap();
    assert_eq!((head.len(), parsed), (MAX_HEAD, Parsed::TooLarge));
    assert_eq!(head_of(b"GET /metrics HTTP/1.1\r\nHost"), None);
    assert_eq!(
        head_of(b"\x00\x01 nonsense\r\n\r\n").unwrap().1,
        Parsed::Malformed
    );
    let many: String = (0..100).map(|i| format!("X{i}: y\r\n")).collect();
    let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
    assert_eq!(head_of(many.as_bytes()).unwrap().1, Parsed::TooLarge);
}

fn echo(r: &Request) -> Answer {
    (200, "text/plain", format!("{} {}", r.method, r.path))
}

fn answer_to(head: &str, public: bool) -> String {
    let answer = respond_to(head.as_bytes(), public, &echo).expect("a whole head");
    String::from_utf8(answer).unwrap()
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
fn two_host_headers_are_a_bad_request() {
    // Whichever the server went by, a proxy in front may have gone by the other.
    for public in [false, true] {
        for hosts in [
            "Host: localhost\r\nHost: evil.com\r\n",
            "Host: localhost\r\nhost: localhost\r\n",
            "host: evil.com\r\nHOST: 127.0.0.1\r\n",
        ] {
            for version in ["1.1", "1.0"] {
                let head = format!("GET /metrics HTTP/{version}\r\n{hosts}\r\n");
                let answer = answer_to(&head, public);
                assert!(answer.starts_with("HTTP/1.1 400 "), "{head:?}: {answer}");
                assert!(answer.ends_with("more than one Host header\n"), "{answer}");
            }
        }
    }
}

#[test]
fn head_has_the_length_of_get_and_no_body() {
    let head = answer_to("HEAD /m HTTP/1.1\r\nHost: localhost\r\n\r\n", false);
    assert!(head.contains("Content-Length: 6\r\n"), "{head}");
    assert!(head.ends_with("\r\n\r\n"), "{head}");
}

/// What any bytes get: nothing yet (only while a head may still be
/// coming), or one whole answer whose status line is one line.
fn check_any_head(bytes: &[u8]) {
    for public in [false, true] {
        match respond_to(bytes, public, &echo) {
            None => assert!(
                bytes.len() < MAX_HEAD && parse(bytes) == Parsed::Partial,
                "no answer to {bytes:?}"
            ),
            Some(answer) => {
                let text = String::from_utf8_lossy(&answer);
                let (status_line, rest) = text.split_once("\r\n").expect("a status line");
                let status: u16 = status_line
                    .strip_prefix("HTTP/1.1 ")
                    .and_then(|s| s.get(..3))
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| panic!("{status_line:?}"));
                assert!(matches!(status, 200 | 400 | 421 | 431), "{text}");
                assert!(rest.contains("Connection: close\r\n"), "{text}");
                assert!(rest.contains("\r\n\r\n"), "{text}");
            }
        }
    }
}

proptest::proptest! {
    #[test]
    fn any_bytes_get_an_answer_or_wait_for_more(
        bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2 * MAX_HEAD)
    ) {
        check_any_head(&bytes);
    }

    #[test]
    fn any_lines_get_an_answer_or_wait_for_more(
        method in "[A-Z]{0,8}|GET|HEAD|POST",
        target in "[ -~]{0,40}|/metrics|/debug/vars\\?x=1",
        version in "HTTP/1\\.[01]|HTTP/[0-9]\\.[0-9]|[ -~]{0,10}",
        headers in proptest::collection::vec("[ -~\t]{0,60}|[Hh][Oo][Ss][Tt]: [ -~]{0,20}", 0..40),
        end in proptest::option::of("\r\n|\n"),
    ) {
        let mut head = format!("{method} {target} {version}\r\n");
        for line in &headers {
            head.push_str(line);
            head.push_str("\r\n");
        }
        if let Some(end) = end {
            head.push_str(&end);
        }
        check_any_head(head.as_bytes());
    }
}

/// A connected pair on loopback: the client's end and the server's.
fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    server.set_nonblocking(true).unwrap();
    (client, server)
}

const LIMITS: Limits = Limits {
    head: HEAD_TIMEOUT,
    answer: ANSWER_TIMEOUT,
};

#[test]
fn a_connection_that_sends_nothing_is_closed_at_its_accept_plus_the_limit() {
    // The clock is the test's: looks at chosen moments, no sleeping.
    let (_client, server) = pair();
    let accepted = Instant::now();
    let mut c = Connection::new(server, accepted, LIMITS);
    let just_before = accepted + HEAD_TIMEOUT - Duration::from_millis(1);
    assert_eq!(c.advance(&echo, false, accepted), Next::Keep);
    assert_eq!(c.advance(&echo, false, just_before), Next::Keep);
    assert_eq!(
        c.advance(&echo, false, accepted + HEAD_TIMEOUT),
        Next::Close
    );
}

/// Waits until `n` bytes sent by the client have reached `server`'s socket.
fn arrived(server: &TcpStream, n: usize) {
    let start = Instant::now();
    let mut buf = vec![0u8; n];
    while !matches!(server.peek(&mut buf), Ok(got) if got == n) {
        assert!(start.elapsed() < Duration::from_secs(60), "never arrived");
        thread::sleep(Duration::from_millis(1));
    }
}

/// A connection accepted at the returned moment, whose client has sent
/// `bytes`, all of which have reached the server's socket.
fn having_sent(bytes: &[u8]) -> (TcpStream, Connection, Instant) {
    let (mut client, server) = pair();
    let accepted = Instant::now();
    client.write_all(bytes).unwrap();
    arrived(&server, bytes.len());
    (client, Connection::new(server, accepted, LIMITS), accepted)
}

#[test]
fn a_head_sent_in_time_is_answered_even_if_looked_at_late() {
    let request = b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let (mut client, mut c, accepted) = having_sent(request);
    // The first look comes long after the deadline: the head is there, so it is answered.
    assert_eq!(
        c.advance(&echo, false, accepted + 10 * HEAD_TIMEOUT),
        Next::Close
    );
    drop(c);
    let mut answer = String::new();
    client.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
}

#[test]
fn a_head_that_is_still_partial_at_the_deadline_is_closed() {
    let partial = b"GET /metrics HTTP/1.1\r\nHo";
    let (mut client, mut c, accepted) = having_sent(partial);
    assert_eq!(c.advance(&echo, false, accepted), Next::Keep);
    assert!(matches!(&c.phase, Phase::Reading(head) if head.len() == partial.len()));
    assert_eq!(
        c.advance(&echo, false, accepted + HEAD_TIMEOUT),
        Next::Close
    );
    drop(c); // as the server does with a connection it closes
    let mut answer = Vec::new();
    client.read_to_end(&mut answer).unwrap();
    assert!(answer.is_empty(), "closed without an answer");
}

/// A server on a free loopback port with `limits`, until dropped.
struct Running {
    addr: SocketAddr,
    done: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.done.store(true, Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn running(limits: Limits) -> Running {
    let mut server = Server::bind("127.0.0.1:0".parse().unwrap(), false).unwrap();
    server.limits = limits;
    let addr = server.local_addr().unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&done);
    let thread = thread::spawn(move || server.serve(&echo, &flag));
    Running {
        addr,
        done,
        thread: Some(thread),
    }
}

/// One GET: the status, or `None` if the connection ended without one.
fn status(addr: SocketAddr) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).ok()?;
    // Only a hang would use this up.
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    String::from_utf8_lossy(&answer)
        .split(' ')
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn with_every_slot_held_a_new_connection_gets_503_without_waiting_for_one() {
    // Deadlines no test outlives: only a refusal at once can answer the probe.
    let server = running(Limits {
        head: Duration::from_secs(3600),
        answer: Duration::from_secs(3600),
    });
    let mut idle: Vec<TcpStream> = (0..MAX_CONNECTIONS)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    // Accepted in the order they connected: the idle ones first.
    assert_eq!(status(server.addr), Some(503));
    assert_eq!(status(server.addr), Some(503));
    // One slot freed: answered again (once the server has seen it go).
    drop(idle.pop());
    let start = Instant::now();
    while status(server.addr) != Some(200) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no slot came back"
        );
        thread::sleep(Duration::from_millis(5));
    }
}
