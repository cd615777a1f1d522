//! Promises of the README and the crate docs that `docs/promises.md` found unproven (verdict b, c
//! or d), each held here through the public surface with the inputs a user would give. The number
//! in each test's name is the promise's row in `docs/promises.md`.

mod support;

use std::time::Duration;

use herohealth::{ErrorKind, HeroClient, MessageType, RetryPolicy, types::BatchRecipient};
use herohealth_mock::{Fault, FaultRule, MockServer};
use wiremock::{Mock, ResponseTemplate, matchers::any};

fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(3)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(5))
        .total_deadline(Duration::from_secs(10))
}

async fn mock_with(rules: Vec<FaultRule>, retry: RetryPolicy) -> (MockServer, HeroClient) {
    let mut config = MockServer::builder().seed_sent_messages(3);
    for rule in rules {
        config = config.fault(rule);
    }
    let mock = config.start().await.unwrap();
    let hero = mock
        .client_builder()
        .retry_policy(retry)
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    (mock, hero)
}

/// Promise 58: a GET is retried on 504. Breaking it (`502..=504` narrowed to `502..=503`) makes
/// the first 504 the answer: the call fails and the mock sees one call, not two.
#[tokio::test]
async fn p58_a_get_is_retried_on_504() {
    let (mock, hero) = mock_with(
        vec![FaultRule::new("get_message", Fault::HtmlError(504)).nth(1)],
        quick_retries(),
    )
    .await;
    hero.get_message().id("1").send().await.unwrap();
    assert_eq!(mock.calls("get_message"), 2, "the 504 GET was sent again");
}

/// Promise 59: a GET is not retried on 500 (Hero's own failure, not a gateway's). Breaking it
/// (500 made retryable) shows as a second call and the GET succeeding.
#[tokio::test]
async fn p59_a_get_is_not_retried_on_500() {
    let (mock, hero) = mock_with(
        vec![FaultRule::new("get_message", Fault::Status(500)).nth(1)],
        quick_retries(),
    )
    .await;
    let err = hero.get_message().id("1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert!(!err.is_retryable());
    assert_eq!(mock.calls("get_message"), 1, "a 500 GET is not sent again");
}

/// Promise 36: `is_retryable()` is true for a GET that failed with 503, 504 or a timeout. Breaking
/// it (one of them dropped from the retryable set) makes that assertion fail.
#[tokio::test]
async fn p36_503_504_and_timeouts_on_a_get_are_retryable() {
    let (_mock, hero) = mock_with(
        vec![
            FaultRule::new("get_message", Fault::Status(503)).nth(1),
            FaultRule::new("get_message", Fault::HtmlError(504)).nth(2),
            FaultRule::new("get_message", Fault::Latency(Duration::from_secs(5))).nth(3),
        ],
        RetryPolicy::disabled(),
    )
    .await;
    for expected in [ErrorKind::Server, ErrorKind::Server, ErrorKind::Timeout] {
        let err = hero.get_message().id("1").send().await.unwrap_err();
        assert_eq!(err.kind(), expected, "{err}");
        assert!(err.is_retryable(), "{err:?} should be retryable");
        assert!(!err.may_have_been_sent(), "a GET sends nothing");
    }
}

/// Promise 31: a refusal names the field and the rule, never the value. Breaking it (an enum
/// parse error that quotes what was typed, as serde's `unknown variant` does) puts "faxmachine"
/// in the message.
#[tokio::test]
async fn p31_an_unknown_message_type_is_refused_without_echoing_it() {
    let (mock, hero) = mock_with(vec![], RetryPolicy::disabled()).await;
    let err = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("42")
                .message_type("faxmachine")
                .message_string("Your results are ready")
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    let shown = format!("{err} {err:?} {err:#}");
    assert!(shown.contains("message_type"), "names the field: {shown}");
    assert!(!shown.contains("faxmachine"), "echoes the value: {shown}");
    assert_eq!(mock.calls("send_message"), 0, "nothing was sent");
}

/// Promise 29: an SMS goes to a phone number. Breaking it (the rule matching a key or value the
/// generated body no longer uses) lets the request reach the mock and the test sees a call.
#[tokio::test]
async fn p29_an_sms_to_an_email_address_is_refused_before_sending() {
    let (mock, hero) = mock_with(vec![], RetryPolicy::disabled()).await;
    let err = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("42")
                .message_type(MessageType::Sms)
                .message_string("Your results are ready")
                .recipient_contact_detail(Some("ada.lovelace@example.org".parse().unwrap()))
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("recipient_contact_detail"),
        "names the field: {shown}"
    );
    assert_eq!(support::leaked(&shown), None, "{shown}");
    assert_eq!(mock.calls("send_message"), 0, "nothing was sent");
}

/// Promise 30: a batch has recipients. Breaking it sends an empty batch: the mock sees a call.
#[tokio::test]
async fn p30_a_batch_without_recipients_is_refused_before_sending() {
    let (mock, hero) = mock_with(vec![], RetryPolicy::disabled()).await;
    let err = hero
        .create_batch_message()
        .body_map(|b| {
            b.name("Flu clinic")
                .channel(herohealth::BatchChannel::Sms)
                .content("Book your flu jab")
                .recipients(Vec::<BatchRecipient>::new())
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(format!("{err}").contains("recipients"), "{err}");
    assert_eq!(mock.calls("create_batch_message"), 0, "nothing was sent");
}

/// Promise 34: `request_id()` falls back to `x-amzn-requestid` (what API Gateway sends) and keeps
/// at most 128 characters. Breaking the fallback gives `None`; breaking the cut gives all 200.
#[tokio::test]
async fn p34_the_request_id_falls_back_to_amazons_header_and_is_cut_at_128() {
    let server = wiremock::MockServer::start().await;
    let long = "r".repeat(200);
    Mock::given(any())
        .respond_with(ResponseTemplate::new(404).insert_header("x-amzn-requestid", long.as_str()))
        .mount(&server)
        .await;
    let hero = support::client_for(&server.uri(), "k", "g", RetryPolicy::disabled());
    let err = hero.get_message().id("1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.request_id(), Some("r".repeat(128).as_str()));
}

/// Promise 35: `retry_after()` reads an HTTP date too. Breaking the date form gives `None` (and
/// a retry would ignore Hero's wait). The date is two minutes ahead; the bounds allow for the
/// date's whole-second precision and a slow machine, not for a wrong parse.
#[tokio::test]
async fn p35_retry_after_as_an_http_date_is_read() {
    let server = wiremock::MockServer::start().await;
    let at = chrono::Utc::now() + chrono::Duration::seconds(120);
    let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    Mock::given(any())
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", date.as_str()))
        .mount(&server)
        .await;
    let hero = support::client_for(&server.uri(), "k", "g", RetryPolicy::disabled());
    let err = hero.get_message().id("1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    let wait = err.retry_after().expect("the HTTP date was read");
    assert!(
        wait > Duration::from_secs(60) && wait <= Duration::from_secs(121),
        "{wait:?} from {date}"
    );
}
