//! Every error status, transport failure and bad body becomes the right `herohealth::Error`, and
//! no error, `Debug` output or log line shows the API key or the practice group id.

mod support;

use std::time::Duration;

use herohealth::{Error, ErrorKind, HeroClient, RetryPolicy};
use serde_json::json;
use support::{RawServer, closed_url};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

const KEY: &str = "hero-error-test-key-91d3";
const PRACTICE: &str = "practice-error-3a8f";

/// A client for `uri`: attempts of 5 s, so that no answer a server gives times out on a busy
/// machine (a timeout is provoked on the test's own clock, in `a_timeout_is_a_timeout`).
fn client(uri: &str, retry: RetryPolicy) -> HeroClient {
    support::client_for(uri, KEY, PRACTICE, retry)
}

async fn status_error(template: ResponseTemplate) -> Error {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(template)
        .mount(&server)
        .await;
    let hero = client(&server.uri(), RetryPolicy::disabled());
    let err: Error = hero
        .get_message_status()
        .id("m-1")
        .send()
        .await
        .unwrap_err();
    assert_no_secret(&err);
    err
}

fn assert_no_secret(err: &Error) {
    let text = format!("{err} {err:?}");
    assert!(!text.contains(KEY) && !text.contains(PRACTICE), "{text}");
}

#[tokio::test]
async fn validation_error_body_is_decoded() {
    let err = status_error(ResponseTemplate::new(400).set_body_json(json!({
        "error": true, "statusCode": 400,
        "message": [{"code": "invalid_type", "expected": "string", "path": ["recipients", 0, "nhs_number"]}]
    })))
    .await;
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.validation_issues().len(), 1);
    assert_eq!(err.validation_issues()[0].code, "invalid_type");
    assert!(err.api_error().unwrap().error == Some(true));
    assert_eq!(
        err.to_string(),
        "Hero rejected the request as invalid (HTTP 400) in get_message_status: recipients.0.nhs_number (invalid_type, expected string) (1 attempt)"
    );
    assert!(!err.is_retryable());
}

/// A validation issue about a query parameter names it: parameter names are words of the API
/// description, as property names are (found by a new-user trial: `page_index` showed as `…`).
/// A word the spec does not declare is still masked.
#[tokio::test]
async fn a_validation_issue_names_the_query_parameter() {
    let err = status_error(ResponseTemplate::new(400).set_body_json(json!({
        "error": true, "statusCode": 400,
        "message": [
            {"code": "too_small", "expected": "integer", "path": ["page_index"]},
            {"code": "invalid_type", "expected": "string", "path": ["sent_at", 1]},
            {"code": "invalid_type", "expected": "string", "path": ["Lovelace"]}
        ]
    })))
    .await;
    let fields: Vec<String> = err
        .validation_issues()
        .iter()
        .map(|i| i.field().to_string())
        .collect();
    assert_eq!(fields, ["page_index", "sent_at.1", "…"]);
    assert!(
        err.to_string().contains(
            "page_index (too_small, expected integer); sent_at.1 (invalid_type, expected string); …"
        ),
        "each issue, separated: {err}"
    );
}

/// Hero's own message is shown when it is, whole, a message the spec declares (or one with
/// masked slots); anything else is `…`, even when its words are words of the API.
#[tokio::test]
async fn heros_declared_messages_are_shown_and_nothing_else() {
    for (status, message, shown) in [
        (403, "Forbidden", "Forbidden"),
        (429, "Too Many Requests", "Too Many Requests"),
        (404, "No patient found: Ada Lovelace", "No patient found: …"),
        (403, "Forbidden for Ada Lovelace", "…"),
        (
            404,
            "No patient found: …Page, Hero Key",
            "No patient found: …",
        ),
        (404, "Page Hero Key not found", "…"),
    ] {
        let err = status_error(
            ResponseTemplate::new(status)
                .set_body_json(json!({"error": true, "statusCode": status, "message": message})),
        )
        .await;
        assert_eq!(err.hero_message(), Some(shown), "{status} {message}");
    }
}

/// Each status Hero answers has its kind (what `match err.kind()` in user code relies on).
#[tokio::test]
async fn each_status_has_its_kind() {
    for (status, kind) in [
        (400, ErrorKind::Validation),
        (401, ErrorKind::Auth),
        (403, ErrorKind::Auth),
        (404, ErrorKind::NotFound),
        (409, ErrorKind::Conflict),
        (422, ErrorKind::Validation),
        (429, ErrorKind::RateLimited),
        (500, ErrorKind::Server),
        (503, ErrorKind::Server),
        (418, ErrorKind::UnexpectedStatus),
    ] {
        let err = status_error(ResponseTemplate::new(status)).await;
        assert_eq!(err.kind(), kind, "{status}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
    }
}

#[tokio::test]
async fn auth_failures_are_401_and_403() {
    for status in [401, 403] {
        let err = status_error(ResponseTemplate::new(status)).await;
        assert_eq!(err.kind(), ErrorKind::Auth);
        assert_eq!(err.status().unwrap().as_u16(), status);
        assert!(
            err.to_string()
                .contains("check the API key and the practice group id")
        );
        assert_eq!(err.body_excerpt(), None);
    }
    let err = status_error(
        ResponseTemplate::new(401)
            .set_body_json(json!({"statusCode": 401, "message": "Unauthorized"})),
    )
    .await;
    assert_eq!(err.api_error().unwrap().status_code, Some(401));
}

const REQUEST_ID: &str = "3f2b9c1e-8a4d-4f6b-9c2e-1a2b3c4d5e6f";

#[tokio::test]
async fn not_found_rate_limited_and_server_errors() {
    let err =
        status_error(ResponseTemplate::new(404).insert_header("x-request-id", REQUEST_ID)).await;
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.request_id(), Some(REQUEST_ID));
    assert!(
        err.to_string()
            .ends_with(&format!("; request id {REQUEST_ID} (1 attempt)")),
        "{err}"
    );
    // A request id without an identifier's shape could carry anything: shown as `…`.
    let err =
        status_error(ResponseTemplate::new(404).insert_header("x-request-id", "req-Jane-Doe"))
            .await;
    assert_eq!(err.request_id(), Some("…"));
    assert!(!format!("{err} {err:?}").contains("Jane"), "{err:?}");

    let err = status_error(ResponseTemplate::new(429).insert_header("retry-after", "7")).await;
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(err.is_retryable());

    let err = status_error(
        ResponseTemplate::new(500)
            .set_body_json(json!({"error": true, "statusCode": 500, "message": "Unknown error"})),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(!err.is_retryable());

    let err = status_error(
        ResponseTemplate::new(502)
            .insert_header("content-type", "text/html")
            .set_body_string("<html><body><h1>502 Bad Gateway</h1></body></html>"),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.is_retryable());
    assert_eq!(
        err.body_excerpt(),
        Some("… (50 bytes)"),
        "an HTML page keeps none of its text"
    );

    let err = status_error(ResponseTemplate::new(418)).await;
    assert_eq!(err.kind(), ErrorKind::UnexpectedStatus);
}

#[tokio::test]
async fn a_bad_success_body_is_a_decode_error_with_a_path_and_no_patient_data() {
    let body = json!({"data": [{"id": "1", "patient": {"id": "2", "title": null, "first_name": "Ada", "last_name": 7}}], "count": 1});
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let hero = client(&server.uri(), RetryPolicy::disabled());
    let err: Error = hero.list_sent_messages().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    let text = format!("{err} {err:?}");
    assert!(
        text.contains("at $.data[0].patient.last_name: a value does not fit"),
        "{text}"
    );
    assert!(!text.contains("Ada"), "{text}");
    for body in ["", "{\"data\": [", "<html>oops</html>"] {
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(&server)
            .await;
        server.reset().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(&server)
            .await;
        let err: Error = hero.list_sent_messages().send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{body:?}");
    }
}

#[tokio::test]
async fn connection_refused_is_a_connection_error_without_the_url() {
    // Nothing listens on that port.
    let hero = client(&closed_url(), RetryPolicy::disabled());
    let err: Error = hero
        .list_sent_messages()
        .patient_full_name("Ada Lovelace")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert_eq!(err.attempts(), 1);
    assert!(!err.outcome_unknown());
    assert!(err.is_retryable());
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains("Ada") && !text.contains("Lovelace") && !text.contains("/v2/"),
        "{text}"
    );
    // `Debug` shows the error's fields (what a `{:?}` in a log is for), none of them secret.
    assert!(
        text.contains("kind: Connection") && text.contains("attempts: 1"),
        "{text}"
    );
    assert_no_secret(&err);
}

/// A server that takes the request and never answers: the attempt's timeout ends it, on tokio's
/// paused clock (the test's own time, however busy the machine is).
#[tokio::test(start_paused = true)]
async fn a_timeout_is_a_timeout() {
    let server = RawServer::answering(|_head| std::future::pending::<String>()).await;
    let err = client(server.url(), RetryPolicy::disabled())
        .get_message()
        .id("1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_no_secret(&err);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let target = MockServer::start().await;
    let err = status_error(
        ResponseTemplate::new(307).insert_header("location", format!("{}/elsewhere", target.uri())),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::UnexpectedStatus);
    assert!(
        target.received_requests().await.unwrap().is_empty(),
        "the API key must not follow a redirect"
    );
}

#[test]
fn bad_configuration_is_refused_with_the_reason() {
    let build = |key: &str, pg: &str, url: &str| {
        HeroClient::builder()
            .api_key(key)
            .practice_group_id(pg)
            .base_url(url)
            .build()
            .unwrap_err()
            .to_string()
    };
    assert!(
        build("", PRACTICE, "https://api.herohealth.net").contains("api_key is missing or empty")
    );
    assert!(
        build(KEY, " ", "https://api.herohealth.net")
            .contains("practice_group_id is missing or empty")
    );
    assert!(
        build(KEY, PRACTICE, "http://api.herohealth.net")
            .contains("http:// to a host that is not loopback")
    );
    assert!(build(KEY, PRACTICE, "not a url").contains("not a valid absolute URL"));
    let err = HeroClient::builder()
        .api_key(KEY)
        .practice_group_id(PRACTICE)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.to_string().contains("environment"));
    // A zero timeout would fail every call: refused, naming the setting.
    for (zero_timeout, says) in [
        (true, "timeout must be above zero"),
        (false, "connect_timeout must be above zero"),
    ] {
        let builder = HeroClient::builder()
            .api_key(KEY)
            .practice_group_id(PRACTICE)
            .base_url("https://api.herohealth.net");
        let builder = if zero_timeout {
            builder.timeout(Duration::ZERO)
        } else {
            builder.connect_timeout(Duration::ZERO)
        };
        let err = builder.build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert!(err.to_string().contains(says), "{err}");
    }
    let ok = HeroClient::builder()
        .api_key(KEY)
        .practice_group_id(PRACTICE)
        .build();
    assert!(ok.is_err());
    let client = client("http://127.0.0.1:9", RetryPolicy::default());
    let debug = format!("{client:?}");
    assert!(!debug.contains(KEY) && !debug.contains(PRACTICE), "{debug}");
}

const CHUNKED: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";

/// A one-shot raw HTTP server that answers `head`, then `body`: in chunked framing, `chunk` bytes a
/// frame, or as it is (`None`, for a `Content-Length` head).
async fn answer_with(head: String, body: Vec<u8>, chunk: Option<usize>) -> String {
    use tokio::io::AsyncWriteExt;
    let answer = std::sync::Arc::new((head, body));
    let server = RawServer::after_head(move |mut sock| {
        let answer = answer.clone();
        async move {
            let (head, body) = &*answer;
            let _ = sock.write_all(head.as_bytes()).await;
            let Some(chunk) = chunk else {
                let _ = sock.write_all(body).await;
                return;
            };
            for piece in body.chunks(chunk) {
                let frame = format!("{:x}\r\n", piece.len());
                if sock.write_all(frame.as_bytes()).await.is_err()
                    || sock.write_all(piece).await.is_err()
                    || sock.write_all(b"\r\n").await.is_err()
                {
                    return;
                }
            }
            let _ = sock.write_all(b"0\r\n\r\n").await;
        }
    })
    .await;
    server.url().to_owned()
}

#[tokio::test]
async fn a_huge_body_is_refused_not_buffered() {
    let url = answer_with(CHUNKED.to_owned(), vec![b' '; 64 << 20], Some(1 << 20)).await;
    let hero = client(&url, RetryPolicy::disabled());
    let err: Error = hero.list_sent_messages().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("larger than"), "{err}");

    let url = answer_with(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 99999999999\r\n\r\n"
            .to_owned(),
        Vec::new(),
        None,
    )
    .await;
    let hero = client(&url, RetryPolicy::disabled());
    let err: Error = hero.list_sent_messages().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("larger than"), "{err}");
}

#[tokio::test]
async fn extra_fields_and_missing_optional_fields_decode() {
    let server = MockServer::start().await;
    let body = json!({"message_id": "m", "content": "c", "created_at": "x", "write_to_record": false,
        "brand_new_field": {"nested": [1, 2]}});
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let hero = client(&server.uri(), RetryPolicy::disabled());
    let sent = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("1")
                .message_type(herohealth::MessageType::Hero)
                .message_string("hi")
        })
        .send()
        .await
        .unwrap();
    assert_eq!(sent.snomed_code, None);
    assert_eq!(sent.send_at, None);
}

/// The most of a success body the client reads (32 MiB), as its docs promise.
const MAX_BODY: usize = 32 * 1024 * 1024;

/// A server that answers one request with a chunked 200 whose body is `json` padded with spaces to
/// exactly `len` bytes (still valid JSON), in chunks of an odd size that lands on no boundary.
async fn chunked_json(json: &'static str, len: usize) -> String {
    let mut body = json.as_bytes().to_vec();
    body.resize(len, b' ');
    answer_with(CHUNKED.to_owned(), body, Some(999_983)).await
}

const LIST: &str = r#"{"data":[],"count":0}"#;
const SENT: &str = r#"{"message_id":"m-1","content":"c","created_at":"2024-03-15T14:00:00Z","write_to_record":false}"#;

#[tokio::test]
async fn a_chunked_success_body_up_to_the_cap_is_read_and_one_byte_more_is_refused() {
    // A normal chunked answer (no Content-Length), as a CDN may send.
    let hero = client(&chunked_json(LIST, 4_000).await, RetryPolicy::disabled());
    assert_eq!(hero.list_sent_messages().send().await.unwrap().count, 0);
    // Exactly the cap: read.
    let hero = client(&chunked_json(LIST, MAX_BODY).await, RetryPolicy::disabled());
    assert_eq!(hero.list_sent_messages().send().await.unwrap().count, 0);
    // One byte over: a Decode error that says why, not a silent truncation.
    let hero = client(
        &chunked_json(LIST, MAX_BODY + 1).await,
        RetryPolicy::disabled(),
    );
    let err = hero.list_sent_messages().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("larger than"), "{err}");
    assert!(!err.accepted(), "a GET is not a send");
    assert_eq!(err.operation(), Some("list_sent_messages"));
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn a_sends_chunked_answer_up_to_the_cap_is_read_and_one_byte_more_is_an_accepted_send() {
    let send = |hero: HeroClient| async move {
        hero.send_message()
            .body_map(|b| {
                b.patient_id("98765")
                    .message_type(herohealth::MessageType::Sms)
                    .message_string("Your results are ready")
            })
            .send()
            .await
    };
    let hero = client(&chunked_json(SENT, 4_000).await, RetryPolicy::disabled());
    assert_eq!(send(hero).await.unwrap().message_id, "m-1");
    let hero = client(&chunked_json(SENT, MAX_BODY).await, RetryPolicy::disabled());
    assert_eq!(send(hero).await.unwrap().message_id, "m-1");
    let hero = client(
        &chunked_json(SENT, MAX_BODY + 1).await,
        RetryPolicy::disabled(),
    );
    let err = send(hero).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(
        err.accepted() && err.may_have_been_sent(),
        "Hero answered 200: the message went, whatever the body: {err}"
    );
    assert!(!err.is_retryable());
    assert_eq!(err.operation(), Some("send_message"));
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
}

/// A server that answers one request with a 200 whose `Content-Length` body is `json` padded with
/// spaces to exactly `len` bytes.
async fn sized_json(json: &'static str, len: usize) -> String {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n"
    );
    let mut body = json.as_bytes().to_vec();
    body.resize(len, b' ');
    answer_with(head, body, None).await
}

#[tokio::test]
async fn a_content_length_of_exactly_the_cap_is_read_and_one_byte_more_refused_unread() {
    // A list (GET).
    let hero = client(&sized_json(LIST, MAX_BODY).await, RetryPolicy::disabled());
    assert_eq!(hero.list_sent_messages().send().await.unwrap().count, 0);
    let hero = client(
        &sized_json(LIST, MAX_BODY + 1).await,
        RetryPolicy::disabled(),
    );
    let err = hero.list_sent_messages().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("larger than"), "{err}");

    // A send: over the cap it went (Hero said 200), and is never a plain failure.
    let send = |hero: HeroClient| async move {
        hero.send_message()
            .body_map(|b| {
                b.patient_id("98765")
                    .message_type(herohealth::MessageType::Sms)
                    .message_string("Your results are ready")
            })
            .send()
            .await
    };
    let hero = client(&sized_json(SENT, MAX_BODY).await, RetryPolicy::disabled());
    assert_eq!(send(hero).await.unwrap().message_id, "m-1");
    let hero = client(
        &sized_json(SENT, MAX_BODY + 1).await,
        RetryPolicy::disabled(),
    );
    let err = send(hero).await.unwrap_err();
    assert!(err.accepted(), "{err}");
    assert!(err.to_string().contains("larger than"), "{err}");
}

#[tokio::test]
async fn a_long_validation_answer_is_read_whole_up_to_the_error_body_cap() {
    // Hero's 400 listing 300 refused fields (about 20 KiB): every issue is read, not cut at 1 KiB.
    let issues: Vec<_> = (0..300)
        .map(|i| json!({"code": "invalid_type", "expected": "string", "path": ["recipients", i, "nhs_number"]}))
        .collect();
    let body = json!({"error": true, "statusCode": 400, "message": issues});
    assert!(serde_json::to_vec(&body).unwrap().len() > 16 * 1024);
    let err = status_error(ResponseTemplate::new(400).set_body_json(body)).await;
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert_eq!(err.validation_issues().len(), 300);
    assert_eq!(
        err.validation_issues()[299].field(),
        "recipients.299.nhs_number"
    );
}

#[tokio::test]
async fn an_unlisted_success_status_on_a_send_is_an_accepted_send_and_on_a_get_is_not() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({"queued": true})))
        .mount(&server)
        .await;
    let hero = client(&server.uri(), RetryPolicy::disabled());
    let err = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("98765")
                .message_type(herohealth::MessageType::Sms)
                .message_string("Your results are ready")
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedStatus, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(202));
    assert!(err.accepted(), "Hero said 202 to a send: it went: {err}");
    let err = hero.list_templates().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedStatus, "{err}");
    assert!(!err.accepted() && !err.may_have_been_sent());
}

#[tokio::test]
async fn an_error_after_retries_says_how_many_attempts_were_made() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503).set_body_json(
            json!({"error": true, "statusCode": 503, "message": "Service Unavailable"}),
        ))
        .mount(&server)
        .await;
    let policy = RetryPolicy::default()
        .max_attempts(3)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(2));
    let hero = client(&server.uri(), policy);
    let err = hero.list_templates().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.attempts(), 3, "{err}");
    assert!(err.to_string().contains("3 attempts"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn only_a_send_that_may_have_gone_carries_its_attempt() {
    let send = |hero: HeroClient| async move {
        hero.send_message()
            .body_map(|b| {
                b.patient_id("98765")
                    .message_type(herohealth::MessageType::Sms)
                    .message_string("Your results are ready")
            })
            .send()
            .await
            .unwrap_err()
    };
    // Refused by Hero (400): it did not go, nothing to look for.
    let refused = json!({"error": true, "statusCode": 400, "message": [
        {"code": "custom", "expected": "string", "path": ["message_string"]}]});
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(400).set_body_json(refused))
        .mount(&server)
        .await;
    let err = send(client(&server.uri(), RetryPolicy::disabled())).await;
    assert!(!err.may_have_been_sent());
    assert!(err.send_attempt().is_none(), "{err:?}");
    // A 500 after the send was written: it may have gone, and the attempt is kept to look for it.
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let err = send(client(&server.uri(), RetryPolicy::disabled())).await;
    assert!(err.outcome_unknown());
    let attempt = err
        .send_attempt()
        .expect("the attempt of a send that may have gone");
    assert_eq!(attempt.operation(), "send_message");
    assert_eq!(attempt.patient_id(), Some("98765"));
}

fn once(url: &str) -> HeroClient {
    client(url, RetryPolicy::disabled())
}

/// A transport failure is named in the crate's own words, by what happened (never by a lower
/// layer's text): each kind of failure a server or the network can cause, on loopback.
#[tokio::test]
async fn transport_failures_are_named_in_the_crates_words() {
    use tokio::io::AsyncWriteExt;
    let read =
        |hero: HeroClient| async move { hero.get_message().id("1").send().await.unwrap_err() };

    // Nobody listens.
    let e = read(once(&closed_url())).await;
    assert_eq!(
        (e.kind(), e.to_string().contains("connection refused")),
        (ErrorKind::Connection, true),
        "{e}"
    );

    // The server resets the connection instead of answering.
    let server = RawServer::after_head(|stream| async move {
        let _ = stream.set_zero_linger();
        drop(stream);
    })
    .await;
    let e = read(once(server.url())).await;
    assert!(
        e.to_string().contains("connection reset by the server"),
        "{e}"
    );

    // It closes the connection without answering.
    let server = RawServer::after_head(|mut stream| async move {
        let _ = stream.shutdown().await;
    })
    .await;
    let e = read(once(server.url())).await;
    assert!(
        e.to_string()
            .contains("connection closed before the answer was complete"),
        "{e}"
    );

    // It answers something that is not HTTP.
    let server = RawServer::after_head(|mut stream| async move {
        let _ = stream.write_all(b"Ada Lovelace 9434765919\r\n\r\n").await;
        let _ = stream.shutdown().await;
    })
    .await;
    let e = read(once(server.url())).await;
    assert!(
        e.to_string()
            .contains("the server's answer was not valid HTTP"),
        "{e}"
    );
    assert!(!e.to_string().contains("Lovelace"), "{e}");

    // It cuts the answer's body short.
    let server = RawServer::after_head(|mut stream| async move {
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n{\"id\":")
            .await;
        let _ = stream.shutdown().await;
    })
    .await;
    let e = read(once(server.url())).await;
    assert!(
        e.to_string()
            .contains("connection closed before the answer was complete"),
        "{e}"
    );

    // It speaks plain HTTP where TLS was asked for (answering the TLS hello at once).
    let plain = RawServer::on_connect(|mut stream| async move {
        let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        let _ = stream.shutdown().await;
    })
    .await;
    let tls = plain.url().replace("http://", "https://");
    let e = read(once(&tls)).await;
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(e.to_string().contains("TLS handshake failed"), "{e}");
    assert!(!e.may_have_been_sent());
}

/// A send whose connection broke after it was written keeps the attempt Hero could still be
/// carrying out: from just before the first request to the last attempt's start plus the
/// client's timeout. With a retry (a 429 first), the attempt starts at the first request.
#[tokio::test]
async fn a_broken_send_remembers_its_start_and_its_deadline() {
    let mock = herohealth_mock::MockServer::start().await;
    let hero = mock
        .client_builder()
        .timeout(Duration::from_secs(7))
        .retry_policy(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(1)),
        )
        .build()
        .unwrap();
    use herohealth_mock::{Fault, FaultRule};
    mock.inject(
        FaultRule::new(
            "send_message",
            Fault::RateLimited {
                retry_after: Some(1),
            },
        )
        .nth(1),
    );
    mock.inject(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(2));
    let before = chrono::Utc::now();
    let e = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("7")
                .message_type(herohealth::MessageType::Sms)
                .message_string("Your results are ready")
        })
        .send()
        .await
        .unwrap_err();
    let after = chrono::Utc::now();
    assert!(e.outcome_unknown() && e.attempts() == 2, "{e:?}");
    let attempt = e.send_attempt().unwrap();
    // Started at the first request, not at the retry a second later.
    assert!(attempt.started() >= before, "{attempt:?}");
    assert!(
        attempt.started() < before + chrono::Duration::milliseconds(900),
        "{attempt:?}"
    );
    // The second attempt began a second or more in; Hero may carry it out for 7 s from then.
    let deadline = attempt.deadline() - attempt.started();
    assert!(
        deadline >= chrono::Duration::seconds(8)
            && attempt.deadline() <= after + chrono::Duration::seconds(7),
        "{attempt:?}"
    );
}

/// A `Retry-After` longer than the retry policy allows ends the retries, and the error says so;
/// a 429 that ran out of attempts does not.
#[tokio::test]
async fn a_wait_longer_than_the_policy_allows_ends_the_retries_and_says_so() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(429).insert_header("retry-after", "18446744073709551615"),
        )
        .mount(&server)
        .await;
    let hero = client(&server.uri(), RetryPolicy::default());
    let e = hero.get_message().id("1").send().await.unwrap_err();
    assert_eq!((e.kind(), e.attempts()), (ErrorKind::RateLimited, 1), "{e}");
    assert!(
        e.to_string()
            .contains("Hero asked to wait longer than the retry policy allows"),
        "{e}"
    );
    assert_eq!(e.retry_after(), Some(Duration::from_secs(u64::MAX)));

    server.reset().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .mount(&server)
        .await;
    let hero = client(
        &server.uri(),
        RetryPolicy::default()
            .max_attempts(2)
            .initial_backoff(Duration::from_millis(1)),
    );
    let e = hero.get_message().id("1").send().await.unwrap_err();
    assert_eq!(e.attempts(), 2, "{e}");
    assert!(
        !e.to_string()
            .contains("longer than the retry policy allows"),
        "{e}"
    );
}

/// Promise 5: the API key and practice group id must be printable ASCII without white space, and
/// a refusal never echoes the value. Breaking the check builds a client with a key that cannot be
/// a header value (or one with a space in it); breaking the message shows the value.
#[test]
fn p5_a_key_or_group_that_is_not_printable_ascii_is_refused_without_echo() {
    for (key, group) in [
        ("clé-secrète-7", "group-1"),
        ("key with-space-7", "group-1"),
        ("key-7\tsecret", "group-1"),
        ("key-7", "grøup-secret"),
        ("key-7", "group secret"),
    ] {
        let err = HeroClient::builder()
            .api_key(key)
            .practice_group_id(group)
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidConfig,
            "{key:?} {group:?}: {err}"
        );
        let shown = format!("{err} {err:?} {err:#}");
        for secret in ["clé", "with-space", "secret", "grøup"] {
            assert!(!shown.contains(secret), "{secret:?} echoed: {shown}");
        }
    }
}

/// Promise 7: a base URL must be absolute http(s) with no credentials, query or fragment, and a
/// trailing `/` is removed. Breaking a check builds a client that would send the key to another
/// scheme, put `user:pw` on every request or glue a query to every path; breaking the trim gives
/// `//v1/...` paths. None of the refusals echoes the credentials.
#[test]
fn p7_a_base_url_is_absolute_http_without_credentials_query_or_fragment() {
    for bad in [
        "ftp://127.0.0.1/",
        "https://user:pw-secret@api.example.org",
        "https://api.example.org/?a=1",
        "https://api.example.org/#frag",
        "/v1",
    ] {
        let err = HeroClient::builder()
            .api_key("hero-k-test-key")
            .practice_group_id("practice-g")
            .base_url(bad)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{bad}: {err}");
        assert!(!format!("{err} {err:?}").contains("pw-secret"), "{err:?}");
    }
    let hero = HeroClient::builder()
        .api_key("hero-k-test-key")
        .practice_group_id("practice-g")
        .base_url("http://127.0.0.1:9/")
        .build()
        .unwrap();
    assert_eq!(hero.base_url(), "http://127.0.0.1:9");
}

/// Promise 32 (the one status no other test sends): a 422 is a Validation error. Breaking the
/// mapping makes it UnexpectedStatus.
#[tokio::test]
async fn p32_a_422_is_a_validation_error() {
    let (_s, hero) = support::serve_json(
        422,
        serde_json::json!({"statusCode": 422, "message": "Unprocessable Entity"}),
    )
    .await;
    let err = hero.get_message().id("1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(422));
    assert!(!err.is_retryable());
}
