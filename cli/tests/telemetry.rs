//! `hero` exports over OTLP (HTTP, protobuf) when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: a tiny
//! OTLP/HTTP receiver on loopback gets its traces and metrics, with the operation and the path
//! template in them and nothing of the patient named in the query; unset, nothing is attempted.

mod support;

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    sync::{Arc, Mutex},
    thread,
    time::Duration,
};

use herohealth_mock::MockServer;

const KEY: &str = "hero-mock-test-key-telemetry";
const PRACTICE: &str = "practice-cli-telemetry";

/// Patient data the command names in its query: none may reach the collector.
const SEEDED: &[&str] = &[
    "Zelda",
    "Quixote-Fairweather",
    "zelda.qf@example.org",
    "88231457",
];

/// One request the receiver got: its path and body.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// An OTLP/HTTP receiver on `listener`: it answers every request 200 with an empty (valid)
/// protobuf response and keeps its path and body; each connection it accepts is kept as a
/// request to `connect` with no body.
fn receiver(listener: TcpListener) -> Received {
    let received: Received = Arc::default();
    let store = received.clone();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            store
                .lock()
                .unwrap()
                .push(("connect".to_owned(), Vec::new()));
            let store = store.clone();
            thread::spawn(move || serve(stream, &store));
        }
    });
    received
}

/// Serves one connection's requests (HTTP/1.1, bodies with a `Content-Length`).
fn serve(stream: TcpStream, store: &Received) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        store.lock().unwrap().push((path, body));
        let answer =
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

async fn mock() -> MockServer {
    MockServer::builder()
        .api_key(KEY, PRACTICE)
        .seed_sent_messages(5)
        .start()
        .await
        .unwrap()
}

/// `hero sent list` with a patient's name, email and id in its query.
const LIST: &[&str] = &[
    "sent",
    "list",
    "--first-name",
    "Zelda",
    "--last-name",
    "Quixote-Fairweather",
    "--to",
    "zelda.qf@example.org",
    "--patient-id",
    "88231457",
];

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_endpoint_set_a_local_collector_gets_traces_and_metrics() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let received = receiver(listener);
    let mock = mock().await;
    let out = support::hero_at_with(
        mock.base_url(),
        KEY,
        PRACTICE,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)],
        LIST,
    )
    .await;
    support::ok(&out);
    // `hero` flushed both exporters before it exited.
    let received = received.lock().unwrap().clone();
    let paths: Vec<&str> = received.iter().map(|(p, _)| p.as_str()).collect();
    assert!(paths.contains(&"/v1/traces"), "{paths:?}");
    assert!(paths.contains(&"/v1/metrics"), "{paths:?}");
    let traces: Vec<u8> = received
        .iter()
        .filter(|(p, _)| p == "/v1/traces")
        .flat_map(|(_, b)| b.clone())
        .collect();
    let metrics: Vec<u8> = received
        .iter()
        .filter(|(p, _)| p == "/v1/metrics")
        .flat_map(|(_, b)| b.clone())
        .collect();
    // Protobuf holds strings as they are: the spans and metrics of the list call are there.
    for expected in [
        "list_sent_messages",
        "GET /v2/sent_messages",
        "url.template",
        "hero",
    ] {
        assert!(contains(&traces, expected), "no {expected} in the traces");
    }
    for expected in ["http.client.request.duration", "list_sent_messages"] {
        assert!(contains(&metrics, expected), "no {expected} in the metrics");
    }
    for (path, body) in &received {
        for datum in SEEDED.iter().chain(&[KEY, PRACTICE]) {
            assert!(!contains(body, datum), "{datum} was exported to {path}");
        }
        assert!(
            !contains(body, "first_name="),
            "a query was exported to {path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_endpoint_nothing_is_attempted() {
    // The default OTLP/HTTP port on loopback: an exporter built with no endpoint would send here.
    // Another copy of this suite (CI runs two at once) may hold the port for a moment: wait for
    // it, a bounded number of tries.
    let listener = (0..600)
        .find_map(|_| {
            TcpListener::bind("127.0.0.1:4318")
                .inspect_err(|_| thread::sleep(Duration::from_millis(100)))
                .ok()
        })
        .expect("the default OTLP/HTTP port 4318 must be free on loopback for this test");
    let received = receiver(listener);
    let mock = mock().await;
    let out = support::hero_at_with(
        mock.base_url(),
        KEY,
        PRACTICE,
        // Other OTEL variables, but no endpoint.
        &[
            ("OTEL_SERVICE_NAME", "hero-test"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "1000"),
        ],
        LIST,
    )
    .await;
    support::ok(&out);
    // Not a connection, let alone a request.
    assert!(received.lock().unwrap().is_empty());
}

/// An endpoint the exporter cannot use is said so, without the endpoint: it may hold
/// credentials (`user:token@`), and the exporter's own error quotes it whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_endpoint_is_said_without_its_credentials() {
    let mock = mock().await;
    let out = support::hero_at_with(
        mock.base_url(),
        KEY,
        PRACTICE,
        &[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://collector:tok-7qx-never-shown@bad host:4318",
        )],
        LIST,
    )
    .await;
    support::ok(&out);
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!printed.contains("tok-7qx"), "{printed}");
    assert!(printed.contains("are not exported"), "{printed}");
}
