//! Configuration through the public surface: an HTTP client configured without weakening the
//! crate's safety settings, the documented defaults, `HERO_ENVIRONMENT`'s spellings, and per-call
//! limits (a timeout, a retry policy, a whole-call deadline) that keep the outcome-unknown
//! guarantee.

mod support;

use std::time::Duration;

use herohealth::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, ErrorKind, HeroClient, MessageType, PageOptions,
    RetryPolicy, WaitOptions, WasSent, reqwest,
};
use herohealth_mock::{Fault, FaultRule, MockServer};

#[tokio::test]
async fn a_configured_http_client_keeps_the_safety_settings() {
    let target = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&target)
        .await;
    let redirector = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(
            wiremock::ResponseTemplate::new(307)
                .insert_header("location", format!("{}/v1/templates", target.uri())),
        )
        .mount(&redirector)
        .await;
    let hero = HeroClient::builder()
        .api_key("hero-day-one-test-key")
        .practice_group_id("practice-day-one")
        .base_url(redirector.uri())
        .retry_policy(RetryPolicy::disabled())
        // A hook that tries to follow redirects is overridden: the key must not follow them.
        .configure_http(|http| {
            http.redirect(reqwest::redirect::Policy::limited(10))
                .http1_only()
        })
        .build()
        .unwrap();
    let err = hero.list_templates().send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(307), "{err}");
    assert!(target.received_requests().await.unwrap().is_empty());
}

/// On tokio's paused clock: the timeouts and the latency are the test's own time.
#[tokio::test(start_paused = true)]
async fn per_call_overrides_keep_the_outcome_unknown_guarantee() {
    let mock = MockServer::builder()
        .fault(FaultRule::new("send_message", Fault::Latency(Duration::from_millis(800))).nth(1))
        .fault(FaultRule::new("list_templates", Fault::Status(503)).nth(1))
        .start()
        .await
        .unwrap();
    let hero = mock.client();
    let err = hero
        .with_timeout(Duration::from_millis(100))
        .send_message()
        .body_map(|b| {
            b.patient_id("7")
                .message_type(MessageType::Sms)
                .message_string("Hello")
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.outcome_unknown() && !err.is_retryable(), "{err:?}");
    assert_eq!(err.attempts(), 1, "sent once, never retried");
    assert!(err.send_attempt().is_some());

    let err = hero
        .with_retry_policy(RetryPolicy::disabled())
        .list_templates()
        .send()
        .await
        .unwrap_err();
    assert_eq!((err.kind(), err.attempts()), (ErrorKind::Server, 1));
    // The original client still retries.
    hero.list_templates().send().await.unwrap();
}

#[test]
fn defaults_are_the_documented_ones() {
    let wait = WaitOptions::default();
    assert_eq!(
        (
            wait.get_initial_interval(),
            wait.get_max_interval(),
            wait.get_multiplier(),
            wait.get_deadline()
        ),
        (
            Duration::from_secs(1),
            Duration::from_secs(30),
            1.5,
            Duration::from_secs(600)
        )
    );
    let retry = RetryPolicy::default();
    assert_eq!(
        (
            retry.get_max_attempts(),
            retry.get_initial_backoff(),
            retry.get_max_backoff(),
            retry.get_total_deadline()
        ),
        (
            3,
            Duration::from_millis(250),
            Duration::from_secs(10),
            Duration::from_secs(60)
        )
    );
    let pages = PageOptions::default();
    assert_eq!(
        (
            pages.get_page_size(),
            pages.get_limit(),
            pages.get_concurrency()
        ),
        (100, None, 1)
    );
    assert_eq!(DEFAULT_TIMEOUT, Duration::from_secs(30));
    assert_eq!(DEFAULT_CONNECT_TIMEOUT, Duration::from_secs(10));
    let hero = HeroClient::builder()
        .api_key("hero-day-two-test-key")
        .practice_group_id("practice-day-two")
        .base_url("http://127.0.0.1:1")
        .build()
        .unwrap();
    assert_eq!(hero.timeout(), DEFAULT_TIMEOUT);
    assert_eq!(hero.retry_policy(), &RetryPolicy::default());
    assert_eq!(hero.deadline(), None);
}

#[test]
fn hero_environment_takes_prod_and_its_error_names_every_accepted_spelling() {
    let env = |value: &'static str| {
        move |name: &str| match name {
            "HERO_API_KEY" => Some("hero-day-two-test-key".to_owned()),
            "HERO_PRACTICE_GROUP_ID" => Some("practice-day-two".to_owned()),
            "HERO_ENVIRONMENT" => Some(value.to_owned()),
            _ => None,
        }
    };
    for prod in ["prod", "PROD", "production", " Production "] {
        let hero = HeroClient::builder()
            .from_lookup(env(prod))
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(hero.base_url(), "https://api.herohealth.net", "{prod}");
    }
    let err = HeroClient::builder().from_lookup(env("live")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(
        err.to_string()
            .contains("HERO_ENVIRONMENT must be `production` (or `prod`) or `staging`"),
        "{err}"
    );
}

#[test]
fn a_deadline_cuts_each_attempt_and_the_retries_to_fit_whatever_the_order_it_is_set_in() {
    let hero = HeroClient::builder()
        .api_key("hero-day-two-test-key")
        .practice_group_id("practice-day-two")
        .base_url("http://127.0.0.1:1")
        .build()
        .unwrap();
    let secs = Duration::from_secs;
    for bounded in [
        hero.with_timeout(secs(5)).with_deadline(secs(20)),
        hero.with_deadline(secs(20)).with_timeout(secs(5)),
    ] {
        assert_eq!(bounded.timeout(), secs(5));
        assert_eq!(bounded.retry_policy().get_total_deadline(), secs(15));
        assert_eq!(bounded.deadline(), Some(secs(20)));
    }
    // Shorter than an attempt: one attempt, of the deadline.
    let short = hero.with_deadline(Duration::from_millis(1500));
    assert_eq!(short.timeout(), Duration::from_millis(1500));
    assert_eq!(short.retry_policy().get_total_deadline(), Duration::ZERO);
    // Longer than the policy needs: the policy's own total deadline.
    let long = hero.with_deadline(secs(600));
    assert_eq!(
        (long.timeout(), long.retry_policy().get_total_deadline()),
        (DEFAULT_TIMEOUT, secs(60))
    );
}

/// On tokio's paused clock: the timeouts and the latency are the test's own time.
#[tokio::test(start_paused = true)]
async fn a_send_cut_off_by_the_deadline_may_have_arrived_and_is_never_dropped() {
    let mock = MockServer::builder()
        .fault(FaultRule::new(
            "send_message",
            Fault::Latency(Duration::from_secs(30)),
        ))
        .start()
        .await
        .unwrap();
    let hero = mock.client().with_deadline(Duration::from_millis(300));
    let err = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("42")
                .message_type(MessageType::Sms)
                .message_string("Hello")
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(err.was_sent(), WasSent::MayHaveArrived);
    assert_eq!(err.attempts(), 1);
    assert!(
        err.send_attempt().is_some(),
        "find_send can look for it: {err:?}"
    );
}

/// On tokio's paused clock: the timeouts and the latency are the test's own time.
#[tokio::test(start_paused = true)]
async fn a_deadline_no_longer_than_an_attempt_leaves_no_room_for_a_retry() {
    let mock = MockServer::builder()
        .fault(FaultRule::new(
            "list_templates",
            Fault::RateLimited {
                retry_after: Some(0),
            },
        ))
        .start()
        .await
        .unwrap();
    let err = mock.client().list_templates().send().await.unwrap_err();
    assert_eq!(
        (err.kind(), err.attempts()),
        (ErrorKind::RateLimited, 3),
        "retried without a deadline"
    );
    let err = mock
        .client()
        .with_deadline(DEFAULT_TIMEOUT)
        .list_templates()
        .send()
        .await
        .unwrap_err();
    assert_eq!((err.kind(), err.attempts()), (ErrorKind::RateLimited, 1));
}
