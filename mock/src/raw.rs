//! Raw loopback servers that misbehave on cue, for what a well-behaved Hero (the [`MockServer`])
//! never does: an answer held back, a connection reset or cut mid-body, bytes that are not HTTP, a
//! chunked body of any size, plain HTTP where TLS was asked for, HTTP/2 frames of your choosing, a
//! listener that never accepts, a port where nothing listens.
//!
//! Every server runs on the caller's tokio runtime (a paused clock included) and lives as long as
//! the runtime; each connection gets its own task. Point a client at [`RawServer::url`].
//!
//! ```
//! use herohealth::{ErrorKind, HeroClient, RetryPolicy};
//! use herohealth_mock::raw::{RawServer, response};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // Every request is answered 503 with a Retry-After.
//! let server = RawServer::answering(|_head| async {
//!     response("503 Service Unavailable", "retry-after: 0\r\n", "{}")
//! })
//! .await;
//! let hero = HeroClient::builder()
//!     .api_key("test-key")
//!     .practice_group_id("test-practice")
//!     .base_url(server.url())
//!     .retry_policy(RetryPolicy::disabled())
//!     .build()
//!     .unwrap();
//! let e = hero.get_message().id("1").send().await.unwrap_err();
//! assert_eq!(e.kind(), ErrorKind::Server);
//! assert_eq!(server.connections(), 1);
//! # }
//! ```
//!
//! [`MockServer`]: crate::MockServer

use std::{
    future::Future,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpSocket, TcpStream},
};

mod h2;

use h2::serve_h2;
pub use h2::{H2Frame, h2_frame};

/// A raw loopback server: its address and what it has seen.
#[derive(Debug, Clone)]
pub struct RawServer {
    url: String,
    connections: Arc<AtomicUsize>,
    cancelled: Arc<AtomicUsize>,
}

impl RawServer {
    /// A server that hands each accepted connection to `act` before anything is read: for plain
    /// HTTP where TLS was asked for, a connection closed at once, or a proxy that counts.
    ///
    /// ```
    /// use herohealth_mock::raw::RawServer;
    /// use tokio::io::AsyncWriteExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // Answers a TLS hello in plain HTTP.
    /// let server = RawServer::on_connect(|mut stream| async move {
    ///     let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
    /// })
    /// .await;
    /// let tls_url = server.url().replace("http://", "https://");
    /// # let _ = tls_url;
    /// # }
    /// ```
    pub async fn on_connect<F, Fut>(act: F) -> RawServer
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (listener, server) = RawServer::bind().await;
        let (act, connections) = (Arc::new(act), server.connections.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                connections.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(act(stream));
            }
        });
        server
    }

    /// A server that reads each connection's first request head (request line and headers, up to
    /// the blank line) and then hands the connection to `act`: for answers no HTTP server would
    /// give (a reset, a body cut off, bytes that are not HTTP, a chunked body of any size). A body
    /// the client sends after the head is left unread in the stream.
    ///
    /// ```
    /// use herohealth_mock::raw::RawServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // Every request's connection is dropped unanswered.
    /// let server = RawServer::after_head(|stream| async move { drop(stream) }).await;
    /// # let _ = server;
    /// # }
    /// ```
    pub async fn after_head<F, Fut>(act: F) -> RawServer
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let act = Arc::new(act);
        RawServer::on_connect(move |mut stream| {
            let act = act.clone();
            async move {
                let (mut seen, mut scanned) = (Vec::new(), 0);
                let mut buf = [0u8; 4096];
                while head_end(&seen, &mut scanned).is_none() {
                    if seen.len() > MAX_HEAD {
                        return;
                    }
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                act(stream).await;
            }
        })
        .await
    }

    /// An HTTP/1.1 server that gives each request's head (request line and headers, as text) to
    /// `handle` and writes back its answer, a whole raw response (see [`response`]). A body is
    /// skipped by its `Content-Length` (a chunked request body is not understood), and a head
    /// longer than 64 KiB closes the connection. A handler that never completes never answers: the
    /// request is held. A request whose connection the client closes first is counted in
    /// [`RawServer::cancelled`] and its handler dropped. Connections are kept alive.
    ///
    /// ```
    /// use herohealth_mock::raw::{RawServer, response};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // Held for a minute of the runtime's clock, then answered.
    /// let server = RawServer::answering(|head| async move {
    ///     tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    ///     response("200 OK", "", &format!("{{\"seen\":{}}}", head.len()))
    /// })
    /// .await;
    /// # let _ = server;
    /// # }
    /// ```
    pub async fn answering<F, Fut>(handle: F) -> RawServer
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = String> + Send + 'static,
    {
        let cancelled = Arc::new(AtomicUsize::new(0));
        let (handle, counter) = (Arc::new(handle), cancelled.clone());
        let mut server = RawServer::on_connect(move |stream| {
            answer_heads(stream, handle.clone(), counter.clone())
        })
        .await;
        server.cancelled = cancelled;
        server
    }

    /// A cleartext HTTP/2 server (prior knowledge) that speaks just enough of the protocol for a
    /// client to send: it sends its SETTINGS, checks the client's preface, acknowledges the
    /// client's SETTINGS and closes on GOAWAY. Every other frame goes to `answer`, whose bytes
    /// (whole frames, see [`h2_frame`]; empty for none) are written back: answer a HEADERS frame
    /// with a response, a GOAWAY carrying debug data, a RST_STREAM, or anything else.
    ///
    /// ```
    /// use herohealth_mock::raw::{RawServer, h2_frame};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // Every request's stream is reset (RST_STREAM, INTERNAL_ERROR).
    /// let server = RawServer::h2(|frame| {
    ///     if frame.kind == 1 {
    ///         h2_frame(3, 0, frame.stream, &2u32.to_be_bytes())
    ///     } else {
    ///         Vec::new()
    ///     }
    /// })
    /// .await;
    /// # let _ = server;
    /// # }
    /// ```
    pub async fn h2<F>(answer: F) -> RawServer
    where
        F: Fn(H2Frame) -> Vec<u8> + Send + Sync + 'static,
    {
        let answer = Arc::new(answer);
        RawServer::on_connect(move |stream| serve_h2(stream, answer.clone())).await
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// For [`RawServer::answering`]: the requests whose connection closed before they were
    /// answered (a client that gave up: a timeout, a dropped future). Always 0 for other servers.
    pub fn cancelled(&self) -> usize {
        self.cancelled.load(Ordering::SeqCst)
    }

    async fn bind() -> (TcpListener, RawServer) {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port to listen on");
        let url = format!("http://{}", listener.local_addr().expect("a bound address"));
        let server = RawServer {
            url,
            connections: Arc::default(),
            cancelled: Arc::default(),
        };
        (listener, server)
    }
}

async fn answer_heads<F, Fut>(mut stream: TcpStream, handle: Arc<F>, cancelled: Arc<AtomicUsize>)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = String>,
{
    let (mut pending, mut buf) = (Vec::new(), [0u8; 4096]);
    // How much of `pending` is known to hold no head's end, and how much of the last request's
    // body is still to come (skipped, never taken for a request).
    let (mut scanned, mut body_left) = (0, 0usize);
    loop {
        let skip = body_left.min(pending.len());
        pending.drain(..skip);
        body_left -= skip;
        while body_left == 0 {
            let Some(end) = head_end(&pending, &mut scanned) else {
                break;
            };
            let head = String::from_utf8_lossy(&pending[..end]).into_owned();
            pending.drain(..end + 4);
            scanned = 0;
            let length = content_length(&head);
            let answer = handle(head);
            tokio::pin!(answer);
            let answer = loop {
                tokio::select! {
                    answer = &mut answer => break answer,
                    read = stream.read(&mut buf) => match read {
                        Ok(0) | Err(_) => {
                            cancelled.fetch_add(1, Ordering::SeqCst);
                            return;
                        }
                        Ok(n) => pending.extend_from_slice(&buf[..n]),
                    },
                }
            };
            if stream.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
            let skip = length.min(pending.len());
            pending.drain(..skip);
            body_left = length - skip;
        }
        if body_left == 0 && pending.len() > MAX_HEAD {
            return;
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
}

/// The longest request head the servers read (64 KiB); a connection that sends more without the
/// blank line that ends a head is closed.
const MAX_HEAD: usize = 64 * 1024;

/// Where the head in `bytes` ends (the index of its blank line's `\r\n\r\n`), searching only
/// past what an earlier call had `scanned` (less the three bytes a split end may have left).
fn head_end(bytes: &[u8], scanned: &mut usize) -> Option<usize> {
    let from = scanned.saturating_sub(3);
    let found = bytes
        .get(from..)
        .and_then(|rest| rest.windows(4).position(|w| w == b"\r\n\r\n"))
        .map(|at| from + at);
    if found.is_none() {
        *scanned = bytes.len();
    }
    found
}

/// A request head's `Content-Length` (0 when absent or not a number).
fn content_length(head: &str) -> usize {
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0)
}

/// `http://127.0.0.1:PORT` where nothing listens (a port bound, then let go): a connection is
/// refused, so a request is provably never written.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let url = herohealth_mock::raw::closed_url();
/// assert!(tokio::net::TcpStream::connect(url.trim_start_matches("http://")).await.is_err());
/// # }
/// ```
pub fn closed_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a loopback port")
        .local_addr()
        .expect("a bound address")
        .port();
    format!("http://127.0.0.1:{port}")
}

/// A loopback listener whose accept queue is full, so a new connection is never completed (the
/// kernel drops its SYN): the state a connect timeout is for. It stays so while this value lives.
#[derive(Debug)]
pub struct Unaccepting {
    addr: SocketAddr,
    _listener: TcpListener,
    _fillers: Vec<std::net::TcpStream>,
}

impl Unaccepting {
    /// Listens with the smallest backlog and fills the queue with connections kept open, until
    /// one cannot complete (waiting 200 ms of real time for it, so set the stage before pausing a
    /// runtime's clock). Must be called within a tokio runtime.
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let never = herohealth_mock::raw::Unaccepting::start();
    /// // With tokio's `test-util`, pause the clock here: a client pointed at never.url() then
    /// // waits for its connect timeout in no real time.
    /// # let _ = never.url();
    /// # }
    /// ```
    pub fn start() -> Unaccepting {
        let socket = TcpSocket::new_v4().expect("a socket");
        socket
            .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .expect("a loopback port");
        let listener = socket.listen(0).expect("to listen");
        let addr = listener.local_addr().expect("a bound address");
        let mut fillers = Vec::new();
        // The queue's length is the backlog plus one (or a little more).
        while let Ok(s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            fillers.push(s);
            assert!(fillers.len() < 64, "the accept queue never filled");
        }
        Unaccepting {
            addr,
            _listener: listener,
            _fillers: fillers,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// A raw HTTP/1.1 response with `status` (e.g. `"503 Service Unavailable"`), extra header lines
/// (each ending `\r\n`) and a JSON body, its length given.
///
/// ```
/// let r = herohealth_mock::raw::response("404 Not Found", "x-request-id: r-1\r\n", "{}");
/// assert_eq!(
///     r,
///     "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 2\r\nx-request-id: r-1\r\n\r\n{}"
/// );
/// ```
pub fn response(status: &str, headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{headers}\r\n{body}",
        body.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_split_across_reads_is_found_once_and_its_body_length_read() {
        let mut scanned = 0;
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r", &mut scanned), None);
        assert_eq!(scanned, 17);
        assert_eq!(
            head_end(b"GET / HTTP/1.1\r\n\r\nrest", &mut scanned),
            Some(14)
        );
        let mut scanned = 0;
        assert_eq!(head_end(b"\r\n\r\n", &mut scanned), Some(0));
        assert_eq!(content_length("POST / HTTP/1.1\r\nContent-Length: 12"), 12);
        assert_eq!(
            content_length("POST / HTTP/1.1\r\ncontent-length:7\r\nx: 1"),
            7
        );
        assert_eq!(content_length("GET / HTTP/1.1\r\nhost: x"), 0);
    }

    /// A body holding a blank line is skipped by its length, not answered as a second request;
    /// a head with no end is cut off at 64 KiB, not scanned forever.
    #[tokio::test]
    async fn answering_skips_bodies_and_closes_on_an_endless_head() {
        let server = RawServer::answering(|head| async move {
            response(
                "200 OK",
                "",
                &format!("\"{}\"", head.lines().next().unwrap_or("")),
            )
        })
        .await;
        let addr = server.url().trim_start_matches("http://").to_owned();
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        let body = "a\r\n\r\nGET /fake HTTP/1.1\r\n\r\n";
        let request = format!(
            "POST /one HTTP/1.1\r\ncontent-length: {}\r\n\r\n{body}GET /two HTTP/1.1\r\n\r\n",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut got = String::new();
        let mut buf = [0u8; 1024];
        while got.matches("HTTP/1.1 200").count() < 2 {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed early: {got}");
            got.push_str(std::str::from_utf8(&buf[..n]).unwrap());
        }
        assert!(
            got.contains("POST /one") && got.contains("GET /two"),
            "{got}"
        );
        assert!(!got.contains("fake"), "{got}");

        let mut endless = TcpStream::connect(&addr).await.unwrap();
        let junk = vec![b'x'; 1 << 20];
        // Written until the server closes (it stops reading past 64 KiB); then it reads EOF.
        let _ = endless.write_all(&junk).await;
        let mut rest = Vec::new();
        let _ = endless.read_to_end(&mut rest).await;
        assert!(rest.is_empty());
    }

    #[tokio::test]
    async fn answering_counts_connections_and_requests_given_up() {
        let server = RawServer::answering(|_| std::future::pending()).await;
        let mut stream = TcpStream::connect(server.url().trim_start_matches("http://"))
            .await
            .unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        drop(stream);
        while server.cancelled() == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!((server.connections(), server.cancelled()), (1, 1));
    }
}
