//! `hero webhooks create|list|delete|listen` and `hero messages send --attach`, end to end on
//! herohealth-mock: a webhook pointing at `hero webhooks listen`, a message written to the record,
//! the listener printing the verified event; a bad or stale signature answered 401 with nothing
//! printed; the attachment's two calls on the wire. The signing key, the file and the link never
//! appear in any output.

mod support;

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use herohealth::webhooks::{SignatureEncoding, SigningKey, sign};
use herohealth_mock::{FAILING_SNOMED_CODE, MockServer};
use serde_json::Value;
use support::all;

const KEY: &str = "hero-webhooks-cli-test-key-3a9c";
const PRACTICE: &str = "practice-webhooks-cli-5d";
const SIGNING_KEY: &str = "whsec-test-signing-key-cli-8b2f";

async fn mock() -> MockServer {
    support::mock_for(KEY, PRACTICE).await
}

async fn hero(mock: &MockServer, args: &[&str]) -> std::process::Output {
    support::hero_on(mock, KEY, PRACTICE, args).await
}

/// `hero webhooks listen --port 0` as a child process, its stdout lines and stderr lines as they
/// come. Killed when dropped.
struct Listener {
    child: Child,
    url: String,
    lines: mpsc::Receiver<String>,
    errors: mpsc::Receiver<String>,
}

impl Listener {
    fn start(extra: &[&str]) -> Listener {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("hero"))
            .env_clear()
            .args([
                "webhooks",
                "listen",
                "--port",
                "0",
                "--signing-key",
                SIGNING_KEY,
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (etx, errors) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if etx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = errors
            .recv_timeout(Duration::from_secs(60))
            .expect("listen says where it listens");
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .map(|w| w.trim_end_matches(':').to_owned())
            .unwrap_or_else(|| panic!("{first}"));
        Listener {
            child,
            url,
            lines,
            errors,
        }
    }

    fn next_event(&self) -> Value {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(60))
            .expect("an event line");
        serde_json::from_str(&line).unwrap()
    }

    fn next_error(&self) -> String {
        self.errors
            .recv_timeout(Duration::from_secs(60))
            .expect("a line on stderr")
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_pointing_at_listen_gets_verified_write_to_record_events() {
    let mock = mock().await;
    let listener = Listener::start(&[]);
    for event in ["write-to-record.succeeded", "WRITE-TO-RECORD.FAILED"] {
        let out = hero(
            &mock,
            &[
                "--format",
                "json",
                "webhooks",
                "create",
                "--url",
                &listener.url,
                "--event-type",
                event,
                "--signing-key",
                SIGNING_KEY,
                "--header",
                "authorization=Bearer Ada Lovelace",
            ],
        )
        .await;
        let text = support::ok(&out);
        assert!(
            !all(&out).contains(SIGNING_KEY) && !all(&out).contains("Ada"),
            "{}",
            all(&out)
        );
        let created: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(created["signed"], true);
        // Header names and the URL are text of no declared form: counted, masked.
        assert_eq!(created["headers"], 1);
        assert_eq!(created["url"], herohealth::REDACTED);
    }
    let listed = hero(&mock, &["--format", "ndjson", "webhooks", "list"]).await;
    assert_eq!(support::ok(&listed).lines().count(), 2);
    assert!(!all(&listed).contains(SIGNING_KEY));
    // Signed as Hero's answer says: created with a key a moment ago, listed as signed.
    for line in support::ok(&listed).lines() {
        let hook: Value = serde_json::from_str(line).unwrap();
        assert_eq!(hook["signed"], true, "{line}");
    }

    let send = |snomed: &'static str| {
        let mock_url = mock.base_url();
        async move {
            let out = support::hero_at(
                mock_url,
                KEY,
                PRACTICE,
                &[
                    "--format",
                    "json",
                    "messages",
                    "send",
                    "--patient-id",
                    "42",
                    "--type",
                    "sms",
                    "--text",
                    "Your results are ready",
                    "--write-to-record",
                    "--snomed-code",
                    snomed,
                ],
            )
            .await;
            let sent: Value = serde_json::from_str(&support::ok(&out)).unwrap();
            sent["message_id"].as_str().unwrap().to_owned()
        }
    };
    let ok = send("1240751000000100").await;
    mock.advance(Duration::from_secs(5));
    let event = listener.next_event();
    assert_eq!(
        event,
        // `Message` is an object the crate declares (WebhookObject); the envelope's id has no declared form.
        serde_json::json!({"event": "write-to-record.succeeded", "object": "Message", "id": herohealth::REDACTED})
    );
    assert!(!ok.is_empty());
    let failed = send(FAILING_SNOMED_CODE).await;
    mock.advance(Duration::from_secs(5));
    let event = listener.next_event();
    assert_eq!(
        event,
        // `Message` is an object the crate declares (WebhookObject); the envelope's id has no declared form.
        serde_json::json!({"event": "write-to-record.failed", "object": "Message", "id": herohealth::REDACTED})
    );
    assert!(!failed.is_empty());
    assert!(mock.deliveries().iter().all(|d| d.delivered && d.signed));

    // Delete one: its event is no longer delivered.
    let hooks: Vec<Value> = support::ok(
        &hero(
            &mock,
            &[
                "--format",
                "ndjson",
                "webhooks",
                "list",
                "--event-type",
                "write-to-record.succeeded",
            ],
        )
        .await,
    )
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect();
    assert_eq!(hooks.len(), 1);
    let id = hooks[0]["id"].as_str().unwrap();
    support::ok(&hero(&mock, &["webhooks", "delete", id]).await);
    let gone = hero(&mock, &["webhooks", "delete", id]).await;
    assert_eq!(gone.status.code(), Some(5), "{}", all(&gone));
    send("1240751000000100").await;
    mock.advance(Duration::from_secs(5));
    // Mark the end with a failed write: the listener's next line is that one, not the deleted hook's.
    let last = send(FAILING_SNOMED_CODE).await;
    mock.advance(Duration::from_secs(5));
    assert!(!last.is_empty());
    // The envelope's id has no declared form: the line is the failed write's by its event.
    assert_eq!(listener.next_event()["event"], "write-to-record.failed");
}

/// A bad or stale signature, a missing header, a body full of patient data with a tampered
/// signature: 401, one line on stderr that names the rule, nothing on stdout; only the verified
/// delivery is printed, as its declared fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_answers_401_to_a_bad_or_stale_signature_and_prints_only_declared_fields() {
    let listener = Listener::start(&[]);
    let key: SigningKey = SIGNING_KEY.parse().unwrap();
    let hostile = r#"{"object":"Message","id":"77","practice_group_id":"practice-webhooks-cli-5d","event":"write-to-record.succeeded","patient":{"name":"Ada Lovelace","nhs_number":"9434765919"},"text":"Your biopsy results are ready"}"#;
    let http = herohealth::reqwest::Client::new();
    let post = |ts: String, sig: Option<String>, body: &'static str| {
        let (http, url) = (http.clone(), listener.url.clone());
        async move {
            let mut r = http
                .post(url)
                .header("x-herohealth-timestamp", ts)
                .header("x-patient", "Ada Lovelace +447700900123")
                .body(body);
            if let Some(sig) = sig {
                r = r.header("x-herohealth-signature", sig);
            }
            let resp = r.send().await.unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    };
    let now = chrono::Utc::now();
    let ts = now.timestamp().to_string();
    let wrong: SigningKey = "whsec-test-signing-key-wrong-cli".parse().unwrap();
    let stale_ts = (now - chrono::Duration::minutes(30))
        .timestamp()
        .to_string();
    let cases = [
        (
            ts.clone(),
            Some(sign(
                &wrong,
                &ts,
                hostile.as_bytes(),
                SignatureEncoding::Hex,
            )),
            "does not match",
        ),
        (
            ts.clone(),
            Some(sign(&key, &ts, b"another body", SignatureEncoding::Base64)),
            "does not match",
        ),
        (
            stale_ts.clone(),
            Some(sign(
                &key,
                &stale_ts,
                hostile.as_bytes(),
                SignatureEncoding::Hex,
            )),
            "tolerance",
        ),
        (ts.clone(), None, "missing"),
        (
            "Ada Lovelace".to_owned(),
            Some("sha256=9434765919".to_owned()),
            "header",
        ),
    ];
    for (ts, sig, why) in cases {
        let (status, text) = post(ts, sig, hostile).await;
        assert_eq!(status, 401, "{text}");
        let line = listener.next_error();
        assert!(
            line.contains("refused a delivery (401)") && line.contains(why),
            "{line}"
        );
        for text in [&text, &line] {
            assert!(
                !text.contains("Ada") && !text.contains("9434765919") && !text.contains("biopsy"),
                "{text}"
            );
            assert!(
                !text.contains(SIGNING_KEY) && !text.contains("practice-webhooks"),
                "{text}"
            );
        }
    }
    // The same body, signed: printed as its declared ids and event type only.
    let good = sign(&key, &ts, hostile.as_bytes(), SignatureEncoding::Hex);
    let (status, _) = post(ts, Some(format!("sha256={good}")), hostile).await;
    assert_eq!(status, 204);
    let line = listener
        .lines
        .recv_timeout(Duration::from_secs(60))
        .unwrap();
    assert_eq!(
        line,
        r#"{"event":"write-to-record.succeeded","id":"<redacted>","object":"Message"}"#
    );
    assert!(
        listener.lines.try_recv().is_err(),
        "one line per verified delivery, none for a refused one"
    );
}

/// `--forward-to`: the verified delivery goes on, body and signature headers as received, and
/// Hero gets the forward's answer; the receiver can verify it itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_forwards_verified_deliveries() {
    use std::sync::{Arc, Mutex};
    type Got = Arc<Mutex<Vec<(axum::http::HeaderMap, axum::body::Bytes)>>>;
    let got: Got = Default::default();
    let seen = got.clone();
    // The application behind listen: its first answer is a failure (500), then 202.
    let app = axum::Router::new().fallback(
        move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let mut seen = seen.lock().unwrap();
                seen.push((headers, body));
                if seen.len() == 1 {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::ACCEPTED
                }
            }
        },
    );
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let forward = format!("http://{}/app/hook", tcp.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(tcp, app).await.unwrap() });
    let listener = Listener::start(&["--forward-to", &forward]);
    let key: SigningKey = SIGNING_KEY.parse().unwrap();
    let body = r#"{"object":"Message","id":"5","practice_group_id":"practice-webhooks-cli-5d","event":"write-to-record.failed"}"#;
    let deliver = |at: chrono::DateTime<chrono::Utc>| {
        let (url, key) = (listener.url.clone(), key.clone());
        async move {
            let ts = at.timestamp_millis().to_string();
            let sig = sign(&key, &ts, body.as_bytes(), SignatureEncoding::Base64);
            herohealth::reqwest::Client::new()
                .post(&url)
                .header("x-herohealth-timestamp", &ts)
                .header("x-herohealth-signature", &sig)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let now = chrono::Utc::now();
    // The application failed: its 500 is Hero's answer, and the event is not remembered.
    assert_eq!(deliver(now).await, 500, "the forward's answer");
    let first = listener.next_event();
    assert_eq!(first["id"], herohealth::REDACTED);
    assert_eq!(first.get("repeat"), None, "{first}");
    // Hero's retry, signed anew: not a repeat, forwarded, accepted.
    assert_eq!(deliver(now + chrono::Duration::seconds(20)).await, 202);
    let retry = listener.next_event();
    assert_eq!(retry.get("repeat"), None, "{retry}");
    // Once accepted, the same event again is a repeat (and still forwarded).
    assert_eq!(deliver(now + chrono::Duration::seconds(40)).await, 202);
    assert_eq!(listener.next_event()["repeat"], true);
    let got = got.lock().unwrap();
    assert_eq!(got.len(), 3);
    for (headers, forwarded) in got.iter() {
        assert_eq!(&forwarded[..], body.as_bytes());
        herohealth::webhooks::Verifier::new(key.clone())
            .verify(headers, forwarded)
            .unwrap();
    }
}

#[tokio::test]
async fn listen_refuses_bad_options_with_exit_2() {
    for args in [
        &["webhooks", "listen", "--port", "0", "--signing-key", ""][..],
        &[
            "webhooks",
            "listen",
            "--port",
            "0",
            "--signing-key",
            SIGNING_KEY,
            "--forward-to",
            "not a url",
        ],
        &["webhooks", "listen", "--port", "0"],
    ] {
        let out = support::hero_offline(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", all(&out));
        assert!(!all(&out).contains(SIGNING_KEY));
    }
    // The key from the environment is never shown by --help.
    let help = assert_cmd::Command::cargo_bin("hero")
        .unwrap()
        .env_clear()
        .env("HERO_WEBHOOK_SIGNING_KEY", SIGNING_KEY)
        .args(["webhooks", "listen", "--help"])
        .output()
        .unwrap();
    assert!(help.status.success());
    assert!(!all(&help).contains(SIGNING_KEY), "{}", all(&help));
}

/// `--attach FILE`: the link is created for the patient with the file, then the message carries
/// its uuid (both calls on the wire, in order); the file and the link never printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_attach_creates_the_link_then_sends_with_its_uuid() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("results-letter.pdf");
    let contents = b"%PDF-1.4 Dear Ada Lovelace, your biopsy results are ready";
    std::fs::write(&file, contents).unwrap();
    let out = hero(
        &mock,
        &[
            "--format",
            "json",
            "messages",
            "send",
            "--patient-id",
            "42",
            "--type",
            "email",
            "--text",
            "Your letter is attached",
            "--attach",
            file.to_str().unwrap(),
            "--attach-max-uses",
            "3",
        ],
    )
    .await;
    let text = support::ok(&out);
    let printed = all(&out);
    assert!(
        !printed.contains("Dear Ada") && !printed.contains("biopsy"),
        "{printed}"
    );
    assert!(
        !printed.contains("herohealth-mock.invalid"),
        "the link is never printed: {printed}"
    );
    let sent: Value = serde_json::from_str(&text).unwrap();
    let ops: Vec<_> = mock
        .journal()
        .into_iter()
        .map(|e| (e.operation, e.body))
        .collect();
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[0].0, "create_attachment_link");
    assert_eq!(ops[1].0, "send_message");
    let link_body = ops[0].1.as_ref().unwrap();
    assert_eq!(link_body["patient_id"], "42");
    assert_eq!(link_body["file_name"], "results-letter.pdf");
    assert_eq!(link_body["maximum_use_count"], 3);
    let stored = mock.attachment_links();
    assert_eq!(stored[0].contents.as_deref(), Some(&contents[..]));
    assert_eq!(
        ops[1].1.as_ref().unwrap()["attachment_uuid"],
        stored[0].attachment_uuid.as_str()
    );
    assert_eq!(
        mock.sent_messages()[0].attachment_uuid.as_deref(),
        Some(stored[0].attachment_uuid.as_str())
    );
    assert_eq!(sent["message_id"], mock.sent_messages()[0].id.as_str());
}

/// A missing, unreadable or oversized file is a usage error (exit 2) and nothing is sent; so is
/// a message the rules refuse (nothing is sent, not even the link).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_unreadable_or_oversized_attachment_sends_nothing() {
    let mock = mock().await;
    let top = tempfile::tempdir().unwrap();
    // Patient names live in file names: no part of the path is ever printed.
    let dir = top.path().join("Ada-Lovelace-9434765919");
    std::fs::create_dir(&dir).unwrap();
    let big = dir.join("big.pdf");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(10 * 1024 * 1024 + 1).unwrap();
    let exact = dir.join("exact.pdf");
    std::fs::File::create(&exact)
        .unwrap()
        .set_len(10 * 1024 * 1024)
        .unwrap();
    let missing = dir.join("missing.pdf");
    let a_dir = dir.join("a-directory");
    std::fs::create_dir(&a_dir).unwrap();
    // A FIFO with no writer: opening it to read would wait forever.
    let fifo = dir.join("results-fifo.pdf");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    // A link to it is no better.
    let link = dir.join("link-to-fifo.pdf");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    let device = std::path::PathBuf::from("/dev/null");
    for (path, why) in [
        (&big, "is larger than 10 MiB"),
        (&missing, "cannot be opened (entity not found)"),
        (&a_dir, "is not a regular file (a directory)"),
        (&fifo, "is not a regular file (a FIFO)"),
        (&link, "is not a regular file (a FIFO)"),
        (&device, "is not a regular file (a device)"),
    ] {
        let out = hero(
            &mock,
            &[
                "messages",
                "send",
                "--patient-id",
                "42",
                "--type",
                "sms",
                "--text",
                "Hi",
                "--attach",
                path.to_str().unwrap(),
            ],
        )
        .await;
        let text = all(&out);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(
            text.contains(&format!(
                "the file given to --attach {why}; nothing was sent"
            )),
            "{text}"
        );
        assert!(
            !text.contains("Ada") && !text.contains("9434765919") && !text.contains(".pdf"),
            "the path is never printed: {text}"
        );
        assert!(mock.journal().is_empty(), "nothing reached the mock");
    }
    // A message the rules refuse (an sms to an email address): no link is made either.
    let ok_file = dir.join("ok.pdf");
    std::fs::write(&ok_file, b"%PDF").unwrap();
    let out = hero(
        &mock,
        &[
            "messages",
            "send",
            "--patient-id",
            "42",
            "--type",
            "sms",
            "--text",
            "Hi",
            "--to",
            "ada@example.org",
            "--attach",
            ok_file.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(4), "{}", all(&out));
    assert!(mock.journal().is_empty(), "nothing reached the mock");
    // A file of exactly 10 MiB is taken.
    let out = hero(
        &mock,
        &[
            "messages",
            "send",
            "--patient-id",
            "42",
            "--type",
            "email",
            "--text",
            "Hi",
            "--attach",
            exact.to_str().unwrap(),
        ],
    )
    .await;
    support::ok(&out);
    assert_eq!(
        mock.attachment_links()[0].contents.as_ref().map(Vec::len),
        Some(10 * 1024 * 1024)
    );
}

/// `hero webhooks list` shows `signed` as Hero's answer says, as `create` does: a webhook created
/// with a key a moment before is listed signed, one without unsigned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shows_signed_as_the_answer_says() {
    let mock = mock().await;
    let mut created = Vec::new();
    for key in [Some(SIGNING_KEY), None] {
        let mut args = vec![
            "--format",
            "json",
            "webhooks",
            "create",
            "--url",
            "https://partner.example/hero",
            "--event-type",
            "appointment.confirmed",
        ];
        if let Some(k) = key {
            args.extend(["--signing-key", k]);
        }
        let out = hero(&mock, &args).await;
        let hook: Value = serde_json::from_str(&support::ok(&out)).unwrap();
        assert_eq!(hook["signed"], key.is_some(), "{hook}");
        created.push((hook["id"].as_str().unwrap().to_owned(), key.is_some()));
    }
    let listed = hero(&mock, &["--format", "ndjson", "webhooks", "list"]).await;
    assert!(!all(&listed).contains(SIGNING_KEY), "{}", all(&listed));
    let listed: Vec<Value> = support::ok(&listed)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), 2);
    for (id, signed) in created {
        let hook = listed.iter().find(|h| h["id"] == id.as_str()).unwrap();
        assert_eq!(hook["signed"], signed, "{hook}");
    }
}
