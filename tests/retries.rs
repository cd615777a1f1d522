//! The retry policy on the wire (herohealth-mock's fault injection): GETs survive rate limits,
//! 5xx and broken connections; a send is never made twice unless it provably never arrived.
//! Every test whose servers run on its own runtime runs on tokio's paused clock: the attempt
//! timeouts and backoffs it provokes are the test's own time, however busy the machine is.

mod support;

use std::time::Duration;

use herohealth::{Error, ErrorKind, HeroClient, MessageType, RetryPolicy};
use herohealth_mock::{Fault, FaultRule, MockServer};
use wiremock::ResponseTemplate;

fn retrying() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(6)
        .initial_backoff(Duration::from_millis(2))
        .max_backoff(Duration::from_millis(10))
        .total_deadline(Duration::from_secs(10))
}

async fn mock_with(rules: Vec<FaultRule>) -> (MockServer, HeroClient) {
    support::mock_with(rules, retrying()).await
}

#[tokio::test(start_paused = true)]
async fn gets_survive_a_rate_limit_storm_and_server_errors() {
    let (mock, hero) = mock_with(vec![
        FaultRule::new(
            "list_sent_messages",
            Fault::RateLimited {
                retry_after: Some(0),
            },
        )
        .first(3),
        FaultRule::new("get_message_status", Fault::Status(503)).first(2),
        FaultRule::new("get_message", Fault::HtmlError(502)).nth(1),
        FaultRule::new("list_templates", Fault::ResetBeforeProcessing).nth(1),
        FaultRule::new(
            "list_assignee_collection",
            Fault::Latency(Duration::from_millis(800)),
        )
        .nth(1),
    ])
    .await;
    assert_eq!(hero.list_sent_messages().send().await.unwrap().count, 5);
    assert_eq!(mock.calls("list_sent_messages"), 4);
    hero.get_message_status().id("1").send().await.unwrap();
    assert_eq!(mock.calls("get_message_status"), 3);
    hero.get_message().id("1").send().await.unwrap();
    hero.list_templates().send().await.unwrap();
    assert_eq!(
        mock.calls("list_templates"),
        2,
        "the reset GET was sent again"
    );
    hero.list_assignee_collection().send().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn gets_give_up_after_max_attempts_with_the_last_error() {
    let (mock, hero) = mock_with(vec![FaultRule::new(
        "list_sent_messages",
        Fault::RateLimited {
            retry_after: Some(0),
        },
    )])
    .await;
    let err: Error = hero.list_sent_messages().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.attempts(), 6);
    assert_eq!(mock.calls("list_sent_messages"), 6);
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_beyond_the_deadline_is_not_waited_for() {
    let (mock, hero) = mock_with(vec![FaultRule::new(
        "list_sent_messages",
        Fault::RateLimited {
            retry_after: Some(3600),
        },
    )])
    .await;
    let err: Error = hero.list_sent_messages().send().await.unwrap_err();
    assert_eq!(
        (err.kind(), err.retry_after()),
        (ErrorKind::RateLimited, Some(Duration::from_secs(3600)))
    );
    assert_eq!(mock.calls("list_sent_messages"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_rate_limited_send_is_retried_because_hero_refused_it() {
    let (mock, hero) = mock_with(vec![
        FaultRule::new(
            "send_message",
            Fault::RateLimited {
                retry_after: Some(0),
            },
        )
        .first(2),
    ])
    .await;
    support::send_sms(&hero, "42").await.unwrap();
    assert_eq!(mock.calls("send_message"), 3);
    assert_eq!(mock.processed("send_message"), 1);
}

#[tokio::test(start_paused = true)]
async fn sends_are_never_repeated_after_they_may_have_arrived() {
    for fault in [
        Fault::Status(500),
        Fault::Status(502),
        Fault::Status(503),
        Fault::HtmlError(504),
        Fault::ResetBeforeProcessing,
        Fault::ResetAfterProcessing,
        Fault::Latency(Duration::from_millis(1500)),
    ] {
        let (mock, hero) =
            mock_with(vec![FaultRule::new("send_message", fault.clone()).nth(1)]).await;
        let err = support::send_sms(&hero, "42").await.unwrap_err();
        assert!(err.outcome_unknown(), "{fault:?}: {err}");
        assert!(!err.is_retryable(), "{fault:?}");
        assert_eq!(err.attempts(), 1, "{fault:?}");
        assert_eq!(
            mock.calls("send_message") + usize::from(matches!(fault, Fault::Latency(_))),
            1,
            "{fault:?}: sent once"
        );
        assert!(mock.processed("send_message") <= 1, "{fault:?}");
        assert!(
            err.to_string().starts_with("the outcome is unknown"),
            "{err}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_send_that_could_not_connect_is_retried() {
    // Nothing listens on this port: the request is provably never written.
    let hero = support::client_for(
        &support::closed_url(),
        "hero-k-test-key",
        "practice-p",
        retrying().max_attempts(3),
    );
    let err = support::send_sms(&hero, "42").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert_eq!(
        err.attempts(),
        3,
        "connect failures are retried, even for a send"
    );
    assert!(!err.outcome_unknown());
}

#[tokio::test(start_paused = true)]
async fn retries_can_be_turned_off() {
    let (mock, _) = mock_with(vec![
        FaultRule::new("list_sent_messages", Fault::Status(503)).first(1),
    ])
    .await;
    let hero = mock
        .client_builder()
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();
    let err: Error = hero.list_sent_messages().send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(mock.calls("list_sent_messages"), 1);
}

#[tokio::test(start_paused = true)]
async fn cross_field_rules_refuse_before_sending() {
    let (mock, hero) = mock_with(vec![]).await;
    let past = chrono::Utc::now() - chrono::Duration::minutes(5);
    let err: Error = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("1")
                .message_type(MessageType::Sms)
                .message_string("hi")
                .send_at(Some(past))
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string().contains("send_at: must not be in the past"),
        "{err}"
    );
    let err: Error = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("1")
                .message_type(MessageType::Email)
                .message_string("hi")
                .recipient_contact_detail(Some("07700900123".parse().unwrap()))
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("recipient_contact_detail: must be an email address"),
        "{err}"
    );
    let err: Error = hero
        .create_batch_message()
        .body_map(|b| {
            b.name("n")
                .channel(herohealth::BatchChannel::Email)
                .content("c")
                .recipients(vec![herohealth::types::BatchRecipient {
                    nhs_number: "9434765919".parse().unwrap(),
                    dob: None,
                }])
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("subject: is required when channel is EMAIL"),
        "{err}"
    );
    assert!(mock.journal().is_empty(), "nothing reached the server");
}

#[tokio::test(start_paused = true)]
async fn a_send_whose_answer_breaks_off_is_outcome_unknown_not_retryable() {
    use tokio::io::AsyncWriteExt;
    // Hero answers 200 and the connection breaks halfway through the body.
    let server = support::RawServer::after_head(|mut sock| {
        async move {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{\"message_id\":\"m-1\",";
            let _ = sock.write_all(head.as_bytes()).await;
            drop(sock);
        }
    })
    .await;
    let hero = support::client_for(server.url(), "hero-k-test-key", "practice-p", retrying());
    let err = support::send_sms(&hero, "42").await.unwrap_err();
    assert!(err.accepted() && !err.outcome_unknown(), "{err}");
    assert!(err.may_have_been_sent() && !err.is_retryable());
    assert!(
        err.to_string().contains("Hero accepted the request"),
        "{err}"
    );
    assert_eq!(server.connections(), 1, "sent once");

    // A GET that breaks off the same way is just a connection error (and safe to retry).
    let err: Error = hero.list_templates().send().await.unwrap_err();
    assert!(!err.outcome_unknown());
}

/// Promise 58: a GET is retried on 504. Breaking it (`502..=504` narrowed to `502..=503`) makes
/// the first 504 the answer: the call fails and the mock sees one call, not two.
#[tokio::test(start_paused = true)]
async fn p58_a_get_is_retried_on_504() {
    let (mock, hero) = support::mock_with(
        vec![FaultRule::new("get_message", Fault::HtmlError(504)).nth(1)],
        support::quick_retries(),
    )
    .await;
    hero.get_message().id("1").send().await.unwrap();
    assert_eq!(mock.calls("get_message"), 2, "the 504 GET was sent again");
}

/// Promise 59: a GET is not retried on 500 (Hero's own failure, not a gateway's). Breaking it
/// (500 made retryable) shows as a second call and the GET succeeding.
#[tokio::test(start_paused = true)]
async fn p59_a_get_is_not_retried_on_500() {
    let (mock, hero) = support::mock_with(
        vec![FaultRule::new("get_message", Fault::Status(500)).nth(1)],
        support::quick_retries(),
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
#[tokio::test(start_paused = true)]
async fn p36_503_504_and_timeouts_on_a_get_are_retryable() {
    let (_mock, hero) = support::mock_with(
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

/// Promise 55: all attempts fit in the total deadline; no retry starts later. With a backoff far
/// longer than the deadline, a 503 on a GET is returned at once, after one call. Breaking it (the
/// deadline ignored for backoff waits) makes the call wait and retry: a second call on the mock.
#[tokio::test(start_paused = true)]
async fn p55_no_retry_starts_after_the_total_deadline() {
    let policy = RetryPolicy::default()
        .max_attempts(5)
        .initial_backoff(Duration::from_secs(3600))
        .max_backoff(Duration::from_secs(3600))
        .total_deadline(Duration::from_millis(20));
    let (mock, hero) = support::mock_with(
        vec![FaultRule::new("get_message", Fault::Status(503)).first(5)],
        policy,
    )
    .await;
    let err = hero.get_message().id("1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.attempts(), 1);
    assert_eq!(mock.calls("get_message"), 1);
}

/// Promise 52: the default policy is 3 attempts within 60 s, backing off from 250 ms up to 10 s.
/// Changing any default fails one of these.
#[test]
fn p52_the_default_retry_policy_is_the_documented_one() {
    let p = RetryPolicy::default();
    assert_eq!(p.get_max_attempts(), 3);
    assert_eq!(p.get_total_deadline(), Duration::from_secs(60));
    assert_eq!(p.backoff_cap(1), Duration::from_millis(250));
    assert_eq!(p.backoff_cap(2), Duration::from_millis(500));
    assert_eq!(p.backoff_cap(30), Duration::from_secs(10));
}

/// Promise 35: `retry_after()` reads an HTTP date too. Breaking the date form gives `None` (and
/// a retry would ignore Hero's wait). The date is two minutes ahead; the bounds allow for the
/// date's whole-second precision and a slow machine, not for a wrong parse.
#[tokio::test]
async fn p35_retry_after_as_an_http_date_is_read() {
    let at = chrono::Utc::now() + chrono::Duration::seconds(120);
    let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let (_server, hero) =
        support::serve(ResponseTemplate::new(429).insert_header("retry-after", date.as_str()))
            .await;
    let err = hero.get_message().id("1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    let wait = err.retry_after().expect("the HTTP date was read");
    assert!(
        wait > Duration::from_secs(60) && wait <= Duration::from_secs(121),
        "{wait:?} from {date}"
    );
}
