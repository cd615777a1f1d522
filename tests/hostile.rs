//! The hostile-response corpus (`tests/hostile/`) × every operation × a matrix of statuses × every
//! way a user prints an error. Seeded with patient data that must never appear, and with the
//! promise that a send Hero answered 2xx is never a plain failure.

mod support;

use herohealth::{Error, HeroClient, RetryPolicy};
use herohealth_mock::raw::h2_frame;
use support::{Captured, every_operation, leaked};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

const KEY: &str = "hero-hostile-test-key-77aa";
const PRACTICE: &str = "practice-hostile-19cd";

/// Headers an answer (or a proxy or CDN on the path) may carry, every one full of patient data:
/// the request ids the client reads, `Retry-After` as text, and what it never shows.
const HOSTILE_HEADERS: &[(&str, &str)] = &[
    ("x-request-id", "Ada Lovelace 9434765919"),
    ("x-amzn-requestid", "ada.lovelace@example.org"),
    ("x-amz-cf-id", "Lovelace-07700900123"),
    ("retry-after", "Ada Lovelace"),
    (
        "www-authenticate",
        "Bearer realm=\"Ada Lovelace\", error=\"9434765919\"",
    ),
    (
        "location",
        "https://evil.example/patients/Ada-Lovelace?nhs=9434765919",
    ),
    ("content-type", "application/ada-lovelace+json"),
    ("date", "Ada Lovelace"),
];

/// Every body of the corpus, by file name, plus one built here: a huge error body of patient
/// records (past the 64 KiB error-body limit, so it is cut there and stops being JSON).
fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hostile");
    let mut bodies: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    bodies.sort();
    let record = r#"{"id":"1","patient":{"id":"2","title":"Dr","first_name":"Ada","last_name":"Lovelace"},"recipient_contact_detail":"+447700900123","message_type":"sms","content":"Your biopsy results are ready"},"#;
    let mut huge = String::from(r#"{"count":5000,"data":["#);
    while huge.len() < 200 * 1024 {
        huge.push_str(record);
    }
    bodies.push(("huge (generated)".into(), huge.into_bytes()));
    assert!(bodies.len() >= 15, "the corpus is in tests/hostile/");
    bodies
}

/// Every way a user prints an error they hold.
fn printed(e: &Error) -> Vec<String> {
    let mut out = vec![
        format!("{e}"),
        format!("{e:?}"),
        format!("{e:#}"),
        format!("{e:#?}"),
        e.body_excerpt().unwrap_or_default().to_owned(),
        e.hero_message().unwrap_or_default().to_owned(),
    ];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push(format!("{s} {s:?} {s:#?}"));
        source = s.source();
    }
    out
}

/// An error that went through `?` into a boxed or anyhow error, printed the ways those are.
fn printed_dyn(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = Vec::new();
    let mut source = Some(e);
    while let Some(s) = source {
        out.push(format!("{s} {s:?} {s:#?}"));
        source = s.source();
    }
    out
}

#[tokio::test]
async fn no_hostile_body_puts_patient_data_in_any_printed_error_and_an_accepted_send_is_never_a_plain_failure()
 {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // While one dispatcher exists, tracing-core computes a callsite's interest from the default
    // of the thread that first hits it: a callsite first hit by a test on another thread (no
    // subscriber) would then be "never" for this test too. With a second dispatcher alive it
    // asks every live one, and each event checks this thread's default.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let _guard = tracing::subscriber::set_default(subscriber);

    let corpus = corpus();
    let statuses = [200u16, 301, 307, 400, 404, 429, 500, 502];
    let mut errors = 0usize;
    let mut accepted = 0usize;
    for status in statuses {
        for (name, body) in &corpus {
            let server = MockServer::start().await;
            let mut answer =
                ResponseTemplate::new(status).set_body_raw(body.clone(), "application/json");
            // Every header a client reads or a proxy may set, filled with patient data.
            for (name, value) in HOSTILE_HEADERS {
                answer = answer.insert_header(*name, *value);
            }
            Mock::given(any()).respond_with(answer).mount(&server).await;
            let hero = support::client_for(&server.uri(), KEY, PRACTICE, RetryPolicy::disabled());
            for op in every_operation() {
                let case = format!("{} answered {status} with {name}", op.name);
                // `?` into anyhow and into Box<dyn Error>, as a user's function would.
                let through_anyhow: anyhow::Result<()> =
                    async { Ok((op.call)(&hero).await?) }.await;
                let through_box: Result<(), Box<dyn std::error::Error>> =
                    async { Ok((op.call)(&hero).await?) }.await;
                let result = (op.call)(&hero).await;
                let Err(e) = result else {
                    assert!(through_anyhow.is_ok() && through_box.is_ok(), "{case}");
                    continue;
                };
                errors += 1;
                tracing::error!(error = %e, debug = ?e, "the call failed");
                let mut texts = printed(&e);
                let any = through_anyhow.unwrap_err();
                texts.push(format!("{any} {any:#} {any:?} {any:#?}"));
                texts.extend(printed_dyn(any.as_ref()));
                texts.extend(printed_dyn(through_box.unwrap_err().as_ref()));
                for text in &texts {
                    if let Some(data) = leaked(text) {
                        panic!("{case}: `{data}` leaked into: {text}");
                    }
                    assert!(
                        !text.contains(KEY) && !text.contains(PRACTICE),
                        "{case}: {text}"
                    );
                }
                assert_eq!(e.operation(), Some(op.name), "{case}: {e}");
                assert!(e.to_string().contains(op.name), "{case}: {e}");
                if op.send && (200..300).contains(&status) {
                    // Hero accepted it: never a plain failure, never retryable.
                    assert!(
                        e.accepted() && e.may_have_been_sent() && !e.is_retryable(),
                        "{case}: {e:?}"
                    );
                    assert!(
                        e.to_string().contains("do not send it again"),
                        "{case}: {e}"
                    );
                    accepted += 1;
                }
                if op.send && (status >= 500 || (300..400).contains(&status)) {
                    // A status that may follow processing: never a plain failure.
                    assert!(e.outcome_unknown() && !e.is_retryable(), "{case}: {e:?}");
                }
                if !op.send && status == 200 {
                    assert!(!e.may_have_been_sent(), "{case}: {e:?}");
                }
            }
        }
    }
    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(logs.contains("the call failed"), "tracing was captured");
    if let Some(data) = leaked(&logs) {
        let at = logs.find(data).unwrap();
        panic!(
            "`{data}` leaked into the TRACE log: …{}…",
            &logs[at.saturating_sub(300)..(at + 100).min(logs.len())]
        );
    }
    assert!(!logs.contains(KEY) && !logs.contains(PRACTICE));
    // The matrix really produced errors, and accepted sends among them.
    assert!(errors > 500, "{errors} errors");
    assert!(accepted > 40, "{accepted} accepted sends");
}

/// The TRACE output of the crate's own target (`herohealth`), the one it enables; a library user's
/// subscriber decides about hyper's and h2's (the guide, privacy, says to cap them).
fn crate_trace() -> (Captured, tracing::subscriber::DefaultGuard) {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("herohealth=trace"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (logs, guard)
}

/// Every printed form of `e` (and of it through anyhow and a box) and the logs, checked.
fn assert_nothing_shown(case: &str, e: Error, logs: &Captured) {
    let mut texts = printed(&e);
    let any = anyhow::Error::from(e);
    texts.push(format!("{any} {any:#} {any:?} {any:#?}"));
    texts.extend(printed_dyn(any.as_ref()));
    texts.push(String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned());
    for text in &texts {
        if let Some(data) = leaked(text) {
            panic!("{case}: `{data}` leaked into: {text}");
        }
    }
}

/// A cleartext HTTP/2 server (prior knowledge) that answers every request (its HEADERS frame)
/// with `answer(stream)`: raw frames chosen by the test (a GOAWAY with debug data, a RST_STREAM).
async fn h2_server(answer: fn(u32) -> Vec<u8>) -> support::RawServer {
    support::RawServer::h2(move |frame| match frame.kind {
        1 => answer(frame.stream),
        _ => Vec::new(),
    })
    .await
}

/// The debug data a hostile server puts in its GOAWAY: h2's own `Display` of the error shows it.
const GOAWAY_DEBUG: &[u8] = b"Ada Lovelace 9434765919 +447700900123 Your biopsy results are ready";

fn goaway(_stream: u32) -> Vec<u8> {
    // GOAWAY: last stream 0 (nothing processed), PROTOCOL_ERROR, then the debug data.
    let mut payload = vec![0, 0, 0, 0, 0, 0, 0, 1];
    payload.extend_from_slice(GOAWAY_DEBUG);
    h2_frame(7, 0, 0, &payload)
}

fn rst_stream(stream: u32) -> Vec<u8> {
    // RST_STREAM with INTERNAL_ERROR on the request's stream.
    h2_frame(3, 0, stream, &2u32.to_be_bytes())
}

/// Issue 23: a lower layer's error text (h2's GOAWAY debug data, a reason phrase, a body cut
/// off) never reaches an error or the crate's logs: the error says, in the crate's own words,
/// what happened (HTTP/2 GOAWAY from the server with its code, a reset stream, a cut answer).
/// On tokio's paused clock: a cut answer ends the call at the attempt's timeout, the test's own
/// time (no real seconds waited, however busy the machine is).
#[tokio::test(start_paused = true)]
async fn the_network_on_the_path_cannot_put_text_into_an_error() {
    let (logs, _guard) = crate_trace();
    let h2 = |url: &str| {
        HeroClient::builder()
            .api_key(KEY)
            .practice_group_id(PRACTICE)
            .base_url(url)
            .retry_policy(RetryPolicy::disabled())
            .timeout(std::time::Duration::from_secs(5))
            .configure_http(|http| http.http2_prior_knowledge())
            .build()
            .unwrap()
    };
    for (name, answer, says) in [
        ("GOAWAY", goaway as fn(u32) -> Vec<u8>, "HTTP/2 GOAWAY"),
        ("RST_STREAM", rst_stream, "HTTP/2"),
    ] {
        let server = h2_server(answer).await;
        let hero = h2(server.url());
        for op in every_operation() {
            let e = (op.call)(&hero).await.unwrap_err();
            let case = format!("{} over {name}", op.name);
            assert_eq!(e.kind(), herohealth::ErrorKind::Connection, "{case}: {e}");
            assert!(e.to_string().contains(says), "{case}: {e}");
            assert!(std::error::Error::source(&e).is_none(), "{case}");
            if op.send {
                // Written, then the stream went: it may have arrived.
                assert!(e.may_have_been_sent(), "{case}: {e:?}");
            }
            assert_nothing_shown(&case, e, &logs);
        }
    }

    // HTTP/1.1: a reason phrase, headers and a body cut short, all full of patient data.
    let server = support::RawServer::answering(|_head| async {
        let headers: String = HOSTILE_HEADERS
            .iter()
            .filter(|(n, _)| *n != "content-type")
            .map(|(n, v)| format!("{n}: {v}\r\n"))
            .collect();
        format!(
            "HTTP/1.1 404 Ada Lovelace 9434765919\r\ncontent-type: application/json\r\n{headers}content-length: 4000\r\n\r\n{{\"message\":\"No patient found for Ada Lovelace\""
        )
    })
    .await;
    let hero = support::client_for(server.url(), KEY, PRACTICE, RetryPolicy::disabled());
    for op in every_operation() {
        let call = (op.call)(&hero);
        let e = tokio::time::timeout(std::time::Duration::from_secs(20), call)
            .await
            .expect("the cut answer ends the call")
            .unwrap_err();
        assert_nothing_shown(&format!("{} cut off", op.name), e, &logs);
    }
}

/// Issue 23: ids and enum values Hero sends, inside the crate's own messages (a waiter's deadline,
/// `Delivery::delivered`), show only when they have an id's shape or are values the spec lists.
#[tokio::test]
async fn ids_and_enum_values_hero_sends_show_only_in_their_shape() {
    let (logs, _guard) = crate_trace();
    let status = |response: &str| {
        serde_json::json!({
            "id": "Ada Lovelace 9434765919",
            "scheduled_send_at": null,
            "write_to_record": true,
            "status": {"write_to_record_at": null, "sent_at": null, "response": response,
                       "failure_reason": "Ada Lovelace moved to 07700900123"},
            "errors": {"write_to_record": "No patient Ada Lovelace", "send": "Lovelace"}
        })
    };
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(status("Lovelace")))
        .mount(&server)
        .await;
    let hero = support::client_for(&server.uri(), KEY, PRACTICE, RetryPolicy::disabled());
    let quick = herohealth::WaitOptions::default()
        .initial_interval(std::time::Duration::from_millis(100))
        .deadline(std::time::Duration::from_millis(300));
    let e = hero
        .wait_for_delivery("Ada Lovelace 9434765919", quick)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), herohealth::ErrorKind::WaitDeadline);
    assert!(e.to_string().contains("message … did not reach"), "{e}");
    assert_nothing_shown("a waiter's deadline", e, &logs);
    let read = hero.get_message_status().id("1").send().await.unwrap();
    let debug = format!("{read:?} {:#?}", *read);
    assert!(leaked(&debug).is_none(), "{debug}");

    server.reset().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(status("fatal")))
        .mount(&server)
        .await;
    let e = hero
        .wait_for_delivery("9f86d081884c7d659a2feaa0c55ad015", quick)
        .await
        .unwrap()
        .delivered()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the message was not delivered: message … ended `fatal`"
    );
    assert_nothing_shown("delivered()", e, &logs);
}

/// Issue 23: the `Debug` of every value the client decodes shows no text of the answer but ids
/// (in an id's shape), the values the spec lists and timestamps; the values a caller builds
/// show no date of birth. Checked against the mock's seeded answers, field by field.
#[tokio::test]
async fn debug_of_what_the_client_decodes_or_builds_shows_no_free_text() {
    use futures::TryStreamExt;
    use herohealth::Paginate;
    let mock = herohealth_mock::MockServer::builder()
        .seed_sent_messages(40)
        .start()
        .await
        .unwrap();
    let hero = mock.client();
    let sent: Vec<herohealth::types::SentMessage> = hero
        .list_sent_messages()
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(sent.len(), 40);
    let message = hero
        .get_message()
        .id(sent[0].id.clone().unwrap())
        .send()
        .await
        .unwrap()
        .into_inner();
    let templates = hero.list_templates().send().await.unwrap().into_inner();
    let mut checked = 0;
    let mut check = |value: serde_json::Value, debug: String| {
        for text in free_text(&value) {
            assert!(!debug.contains(&text), "`{text}` shows in {debug}");
            checked += 1;
        }
    };
    for m in &sent {
        check(serde_json::to_value(m).unwrap(), format!("{m:?} {m:#?}"));
    }
    check(
        serde_json::to_value(&message).unwrap(),
        format!("{message:?}"),
    );
    check(
        serde_json::to_value(&templates).unwrap(),
        format!("{templates:?}"),
    );
    assert!(checked > 100, "{checked} texts checked");

    // What a caller builds: a batch recipient and a registration keep the date of birth out.
    let dob = chrono::NaiveDate::from_ymd_opt(1955, 6, 2).unwrap();
    let recipient = herohealth::types::BatchRecipient::new("9434765919".parse().unwrap(), dob);
    let register = herohealth::types::RegisterPatientPdsByNhsNumber {
        nhs_number: "9434765919".parse().unwrap(),
        dob,
        ehr_partner: None,
        ehr_partner_id: None,
    };
    let debug = format!("{recipient:?} {register:?} {recipient:#?}");
    assert!(
        !debug.contains("1955") && !debug.contains("06-02"),
        "{debug}"
    );
    assert!(leaked(&debug).is_none(), "{debug}");
}

/// Every string of `value` that is not an id (a key `id`/`…_id`), a timestamp, or one of the
/// values the spec lists.
fn free_text(value: &serde_json::Value) -> Vec<String> {
    fn walk(key: &str, v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => {
                let id = key == "id" || key.ends_with("_id");
                let timestamp = chrono::DateTime::parse_from_rfc3339(s).is_ok();
                let listed = herohealth::spec::STRUCTURAL_WORDS.contains(&s.as_str());
                if !(id || timestamp || listed) && s.len() > 2 {
                    out.push(s.clone());
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(key, i, out)),
            serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| walk(k, v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", value, &mut out);
    out
}
