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

/// Promise 34: `request_id()` falls back to `x-amzn-requestid` (what API Gateway sends), and shows
/// an id only when it has an identifier's shape (here a UUID); anything longer or wordier is `…`.
/// Breaking the fallback gives `None`.
#[tokio::test]
async fn p34_the_request_id_falls_back_to_amazons_header_and_is_shown_only_id_shaped() {
    let server = wiremock::MockServer::start().await;
    let id = "c0ffee00-1234-4abc-9def-0123456789ab";
    Mock::given(any())
        .respond_with(ResponseTemplate::new(404).insert_header("x-amzn-requestid", id))
        .mount(&server)
        .await;
    let hero = support::client_for(
        &server.uri(),
        "hero-k-test-key",
        "practice-g",
        RetryPolicy::disabled(),
    );
    let err = hero.get_message().id("1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.request_id(), Some(id));
    server.reset().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(404).insert_header("x-amzn-requestid", "r".repeat(200).as_str()),
        )
        .mount(&server)
        .await;
    let err = hero.get_message().id("1").send().await.unwrap_err();
    assert_eq!(err.request_id(), Some("…"));
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
    let hero = support::client_for(
        &server.uri(),
        "hero-k-test-key",
        "practice-g",
        RetryPolicy::disabled(),
    );
    let err = hero.get_message().id("1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    let wait = err.retry_after().expect("the HTTP date was read");
    assert!(
        wait > Duration::from_secs(60) && wait <= Duration::from_secs(121),
        "{wait:?} from {date}"
    );
}

/// A wiremock server answering every request with `status` and `body`, and a client for it.
async fn serve(status: u16, body: serde_json::Value) -> (wiremock::MockServer, HeroClient) {
    let server = wiremock::MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    let hero = support::client_for(
        &server.uri(),
        "hero-k-test-key",
        "practice-g",
        RetryPolicy::disabled(),
    );
    (server, hero)
}

/// Promise 18: a bad contact detail fails with an error naming the field, and no request is made.
/// Breaking it (the text setter passing what it was given, or the error quoting it) shows as a
/// call on the mock or "nobody-at-all" in the message.
#[tokio::test]
async fn p18_a_bad_contact_detail_names_the_field_and_sends_nothing() {
    let (mock, hero) = mock_with(vec![], RetryPolicy::disabled()).await;
    for bad in ["nobody-at-all", "0770090", "+44 7700 900123 456 789"] {
        let err = hero
            .send_message()
            .body_map(|b| {
                b.patient_id("42")
                    .message_type(MessageType::Sms)
                    .message_string("Your results are ready")
                    .recipient_contact_detail(bad)
            })
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{bad}: {err}");
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("recipient_contact_detail"), "{shown}");
        assert!(!shown.contains(bad), "echoes {bad}: {shown}");
    }
    assert_eq!(mock.calls("send_message"), 0, "nothing was sent");
}

/// Promise 17: an NHS number with a wrong check digit, given as text the way a user types it into
/// a body's builder, fails naming the field without the value, so no request can be made from it.
/// Breaking it (the builder taking the text unchecked) makes the body, and the mock then sees a
/// registration.
#[tokio::test]
async fn p17_a_wrong_check_digit_names_the_field_and_sends_nothing() {
    let (mock, hero) = mock_with(vec![], RetryPolicy::disabled()).await;
    let body: Result<herohealth::types::RegisterPatientPdsByNhsNumber, _> =
        herohealth::types::builder::RegisterPatientPdsByNhsNumber::default()
            .nhs_number("943 476 5918")
            .dob(chrono::NaiveDate::from_ymd_opt(1955, 6, 2).unwrap())
            .try_into();
    match body {
        Err(err) => {
            let shown = format!("{err} {err:?}");
            assert!(shown.contains("nhs_number"), "{shown}");
            assert!(!shown.contains("5918"), "{shown}");
        }
        Ok(body) => {
            let _ = hero.register_patient_pds().body(body).send().await;
        }
    }
    assert_eq!(mock.calls("register_patient_pds"), 0, "nothing was sent");
}

/// Promise 42: an excerpt is bounded (300 characters). Breaking the cap puts the whole 20 KB page
/// into the error.
#[tokio::test]
async fn p42_a_body_excerpt_is_bounded() {
    let page = format!(
        "<html><body>{}</body></html>",
        "<p>gateway</p>".repeat(1500)
    );
    let server = wiremock::MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(502).set_body_string(page))
        .mount(&server)
        .await;
    let hero = support::client_for(
        &server.uri(),
        "hero-k-test-key",
        "practice-g",
        RetryPolicy::disabled(),
    );
    let err = hero.get_message().id("1").send().await.unwrap_err();
    let excerpt = err.body_excerpt().expect("an excerpt of the page");
    assert!(
        excerpt.chars().count() <= 301,
        "{} chars",
        excerpt.chars().count()
    );
    assert!(format!("{err:?}").len() < 2000, "{err:?}");
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

/// Promise 65: every enum Hero returns has `Unknown`, so a value Hero adds decodes. Here for the
/// batch enums no other test decodes as `Unknown` inside a response: losing one's `Unknown` makes
/// the call a Decode error.
#[tokio::test]
async fn p65_new_batch_values_from_hero_decode_as_unknown() {
    let (_s, hero) = serve(
        200,
        serde_json::json!({"id": "b", "name": "n", "status": "PAUSED", "channel": "WHATSAPP",
            "subject": null, "content": "c"}),
    )
    .await;
    let b = hero.get_batch_message().id("b").send().await.unwrap();
    assert!(
        matches!(b.status, herohealth::BatchMessageStatus::Unknown(_)),
        "{:?}",
        b.status
    );
    assert!(
        matches!(b.channel, herohealth::BatchChannel::Unknown(_)),
        "{:?}",
        b.channel
    );

    let (_s, hero) = serve(
        200,
        serde_json::json!({"data": [{"id": "s", "status": "BOUNCED", "subject": null,
            "recipient": "+447700900123", "channel": "SMS", "content": "Hello",
            "sent_at": null, "created_at": null}], "count": 1}),
    )
    .await;
    let sends = hero
        .list_batch_message_sends()
        .id("b")
        .send()
        .await
        .unwrap();
    assert!(matches!(
        sends.data[0].status,
        herohealth::BatchSendStatus::Unknown(_)
    ));

    let (_s, hero) = serve(
        200,
        serde_json::json!({"data": [{"enrichment_status": "ENRICHMENT_PAUSED"}], "count": 1}),
    )
    .await;
    let rows = hero
        .list_batch_message_recipients()
        .id("b")
        .send()
        .await
        .unwrap();
    assert!(matches!(
        rows.data[0].enrichment_status,
        herohealth::EnrichmentStatus::Unknown(_)
    ));
}

/// Promise 66 (as reworded in 09da099): `Unknown` can only come from the server. Text parses only
/// to a documented value, so code cannot invent one: `"bounced"` is no `DeliveryStatus`, and an
/// invented message type given as text is refused with nothing sent. A value Hero itself sent can be sent back to it, spelled as Hero
/// sent it. Breaking the first half (text parsing to `Unknown`) sends the invented value; breaking
/// the second (an `Unknown` sent some other way) shows on the wire.
#[tokio::test]
async fn p66_code_cannot_invent_an_enum_value_and_heros_own_goes_back_as_sent() {
    assert!("bounced".parse::<herohealth::DeliveryStatus>().is_err());
    let (server, hero) = serve(
        200,
        serde_json::json!({"id": "1", "scheduled_send_at": null, "write_to_record": false,
            "status": {"write_to_record_at": null, "sent_at": null, "response": "bounced",
            "failure_reason": null}, "errors": {"write_to_record": null, "send": null}}),
    )
    .await;
    assert!(herohealth::DeliveryStatus::try_from("bounced").is_err());
    let err = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("42")
                .message_type("letter")
                .message_string("Your results are ready")
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing was sent"
    );

    let status = hero.get_message_status().id("1").send().await.unwrap();
    let heros_own = status.into_inner().status.response;
    assert!(matches!(heros_own, herohealth::DeliveryStatus::Unknown(_)));
    let _ = hero.list_sent_messages().status(heros_own).send().await;
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].url.query(), Some("status=bounced"));
}

/// Promises 82 and 83: patient data in a request (demographics) and in every response field that
/// holds it (first names, a recipient row's mobile, a batch send's recipient and content) never
/// shows in `Debug`. Losing `Sensitive` on any of them puts a seeded value in the output.
#[tokio::test]
async fn p82_p83_patient_data_in_requests_and_responses_never_shows_in_debug() {
    let demographics = herohealth::types::builder::RegisterPatientPdsByDemographics::default()
        .forename("Ada")
        .surname("Cavell")
        .postcode("SW1A 1AA")
        .dob(chrono::NaiveDate::from_ymd_opt(1955, 6, 2).unwrap());
    let shown = format!("{demographics:?}");
    assert_eq!(support::leaked(&shown), None, "{shown}");

    let (_s, hero) = serve(
        200,
        serde_json::json!({"data": [{"enrichment_status": "ENRICHED", "first_name": "Ada",
            "last_name": "Seacole", "nhs_number": "9434765919", "mobile": "+447700900123",
            "email": "ada.lovelace@example.org"}], "count": 1}),
    )
    .await;
    let rows = hero
        .list_batch_message_recipients()
        .id("b")
        .send()
        .await
        .unwrap();
    assert_eq!(
        rows.data[0].mobile.as_ref().unwrap().expose(),
        "+447700900123"
    );
    let shown = format!("{rows:?} {:?}", rows.data);
    assert_eq!(support::leaked(&shown), None, "{shown}");

    let (_s, hero) = serve(
        200,
        serde_json::json!({"data": [{"id": "s", "status": "SENT", "subject": null,
            "recipient": "ada.lovelace@example.org", "channel": "EMAIL",
            "content": "Your biopsy results are ready", "sent_at": null, "created_at": null}],
            "count": 1}),
    )
    .await;
    let sends = hero
        .list_batch_message_sends()
        .id("b")
        .send()
        .await
        .unwrap();
    let shown = format!("{sends:?}");
    assert_eq!(support::leaked(&shown), None, "{shown}");

    let (_s, hero) = serve(
        200,
        serde_json::json!({"data": [{"id": "1", "patient": {"id": "2", "title": "Dr",
            "first_name": "Ada", "last_name": "Cavell"}, "write_to_record": {"write_to_record_at": null,
            "status": null, "failure_reason": null}, "short_link": null, "campaign": null,
            "created_at": null, "sent_at": null, "scheduled_at": null, "status": "sent",
            "sent_by": "x", "recipient_contact_detail": "+447700900123", "message_type": "sms"}],
            "count": 1}),
    )
    .await;
    let sent = hero.list_sent_messages().send().await.unwrap();
    assert_eq!(sent.data[0].patient.first_name.expose(), "Ada");
    let shown = format!("{sent:?}");
    assert_eq!(support::leaked(&shown), None, "{shown}");
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

/// Promise 23: a phone number has 10 to 15 digits. Breaking a bound (`10..15`, `9..=15`,
/// `10..=16`) refuses a valid 15-digit international number or sends a 9- or 16-digit one.
#[tokio::test]
async fn p23_phone_numbers_of_10_to_15_digits_are_sent_and_9_or_16_refused() {
    let (mock, hero) = mock_with(vec![], RetryPolicy::disabled()).await;
    let send = |to: &'static str| {
        hero.send_message()
            .body_map(move |b| {
                b.patient_id("42")
                    .message_type(MessageType::Sms)
                    .message_string("Your results are ready")
                    .recipient_contact_detail(to)
            })
            .send()
    };
    for good in ["0770090012", "+44 (7700) 900-12345"] {
        send(good).await.unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    assert_eq!(mock.calls("send_message"), 2);
    for bad in ["077009001", "+44 7700 900 123 4567"] {
        let err = send(bad).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{bad}: {err}");
    }
    assert_eq!(mock.calls("send_message"), 2, "nothing more was sent");
}

/// Answers a sent-messages page with one row whose id is the page's index, of 3 in all.
struct OneRowPages;

impl wiremock::Respond for OneRowPages {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let page = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "page_index")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"data": [{"id": page,
            "patient": {"id": "2", "title": null, "first_name": "A", "last_name": "B"},
            "write_to_record": {"write_to_record_at": null, "status": null, "failure_reason": null},
            "short_link": null, "campaign": null, "created_at": null, "sent_at": null,
            "scheduled_at": null, "status": "sent", "sent_by": "x",
            "recipient_contact_detail": "+447700900123", "message_type": "sms"}], "count": 3}))
    }
}

/// Promise 75: `page_size` and `concurrency` are at least 1. Breaking it asks Hero for pages of 0
/// (a list that never advances, or an error) or prefetches nothing and never ends.
#[tokio::test]
async fn p75_a_page_size_and_concurrency_of_zero_are_read_as_one() {
    let server = wiremock::MockServer::start().await;
    Mock::given(any())
        .respond_with(OneRowPages)
        .mount(&server)
        .await;
    let hero = support::client_for(
        &server.uri(),
        "hero-k-test-key",
        "practice-g",
        RetryPolicy::disabled(),
    );
    use futures::TryStreamExt;
    use herohealth::{PageOptions, Paginate};
    let rows: Vec<_> = hero
        .list_sent_messages()
        .stream_with(PageOptions::default().page_size(0).concurrency(0))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3);
    for (i, r) in requests.iter().enumerate() {
        let q: std::collections::HashMap<_, _> = r.url.query_pairs().collect();
        assert_eq!(q["page_size"], "1", "{:?}", r.url);
        assert_eq!(q["page_index"], i.to_string(), "{:?}", r.url);
    }
}

/// Promise 55: all attempts fit in the total deadline; no retry starts later. With a backoff far
/// longer than the deadline, a 503 on a GET is returned at once, after one call. Breaking it (the
/// deadline ignored for backoff waits) makes the call wait and retry: a second call on the mock.
#[tokio::test]
async fn p55_no_retry_starts_after_the_total_deadline() {
    let policy = RetryPolicy::default()
        .max_attempts(5)
        .initial_backoff(Duration::from_secs(3600))
        .max_backoff(Duration::from_secs(3600))
        .total_deadline(Duration::from_millis(20));
    let (mock, hero) = mock_with(
        vec![FaultRule::new("get_message", Fault::Status(503)).first(5)],
        policy,
    )
    .await;
    let err = hero.get_message().id("1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.attempts(), 1);
    assert_eq!(mock.calls("get_message"), 1);
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Promises 63 and 64: every attempt is logged with its operation, attempt, status and delay, and
/// the logs (TRACE, the HTTP stack's included) carry no URL, header or patient data. Dropping a
/// field from the attempt's event, or logging the request's URL (whose query names the patient),
/// fails it.
#[tokio::test]
async fn p63_p64_attempts_are_logged_with_their_fields_and_no_url_or_patient_data() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // While one dispatcher exists, tracing-core computes a callsite's interest from the default
    // of the thread that first hits it: a callsite first hit by a test on another thread (no
    // subscriber) would then be "never" for this test too. With a second dispatcher alive it
    // asks every live one, and each event checks this thread's default.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let _guard = tracing::subscriber::set_default(subscriber);
    let (_mock, hero) = mock_with(
        vec![FaultRule::new("list_sent_messages", Fault::Status(503)).nth(1)],
        quick_retries(),
    )
    .await;
    // Another test's thread may have met a callsite for the first time while this subscriber
    // was being registered (tracing's interest cache then says "never" for it): ask again, now
    // that it is registered. Without this the test failed about one run in six under load.
    tracing::callsite::rebuild_interest_cache();
    hero.list_sent_messages()
        .patient_full_name("Ada Lovelace")
        .recipient_contact_detail("07700900123")
        .send()
        .await
        .unwrap();
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let attempts: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("hero request attempt"))
        .collect();
    assert_eq!(attempts.len(), 2, "{logs}");
    for (line, attempt, status) in [(attempts[0], 1, 503), (attempts[1], 2, 200)] {
        assert!(line.contains("list_sent_messages"), "{line}");
        assert!(line.contains(&format!("attempt={attempt}")), "{line}");
        assert!(line.contains(&format!("status={status}")), "{line}");
    }
    let retry = logs
        .lines()
        .find(|l| l.contains("retrying hero request"))
        .expect("the retry was logged");
    assert!(
        retry.contains("list_sent_messages") && retry.contains("delay_ms="),
        "{retry}"
    );
    for secret in [
        "/v2/",
        "sent_messages?",
        "patient_full_name=",
        "Ada",
        "Lovelace",
        "07700900123",
        "hero-mock",
        "x-api-key",
    ] {
        assert!(!logs.contains(secret), "{secret:?} in the logs:\n{logs}");
    }
}

/// The Verhoeff check digit of `digits`, for building valid SNOMED codes of any length.
fn verhoeff_check_digit(digits: &str) -> char {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    const INV: [u8; 10] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];
    let mut c = 0u8;
    for (i, d) in digits.bytes().rev().enumerate() {
        c = D[c as usize][P[(i + 1) % 8][(d - b'0') as usize] as usize];
    }
    (b'0' + INV[c as usize]) as char
}

/// Promise 24: a SNOMED code is 6 to 18 digits with no leading 0 and a valid Verhoeff check
/// digit. Each code here has a valid check digit, so only the rule under test refuses it. Breaking
/// a bound refuses a valid 6- or 18-digit code or sends a 5- or 19-digit one; dropping the
/// leading-0 rule sends `0…`; a wrong check digit sent means the Verhoeff check is gone.
#[tokio::test]
async fn p24_snomed_codes_of_6_to_18_digits_are_sent_and_the_rest_refused() {
    let (mock, hero) = mock_with(vec![], RetryPolicy::disabled()).await;
    let code = |body: &str| format!("{body}{}", verhoeff_check_digit(body));
    let send = |snomed: String| {
        hero.send_message()
            .body_map(move |b| {
                b.patient_id("42")
                    .message_type(MessageType::Sms)
                    .message_string("Your results are ready")
                    .write_to_record(true)
                    .snomed_code(snomed.as_str())
            })
            .send()
    };
    assert_eq!(
        code("124075100000010"),
        "1240751000000100",
        "the Verhoeff table"
    );
    for good in [code("10000"), code("12345678901234567")] {
        send(good.clone())
            .await
            .unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    assert_eq!(mock.calls("send_message"), 2);
    let mut wrong_check = code("1240751000000");
    let last = wrong_check.pop().unwrap();
    wrong_check.push(if last == '9' {
        '0'
    } else {
        (last as u8 + 1) as char
    });
    for bad in [
        code("1000"),
        code("123456789012345678"),
        code("0240751000000"),
        wrong_check,
    ] {
        let err = send(bad.clone()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{bad}: {err}");
        assert!(err.to_string().contains("snomed_code"), "{err}");
    }
    assert_eq!(mock.calls("send_message"), 2, "nothing more was sent");
}

/// Promise 40: serde's messages are cut to their category and expected type: a value of the wrong
/// type in Hero's answer (a name where a number belongs, an NHS number where a string belongs) is
/// never quoted in the error. Breaking it shows "Ada Lovelace" or "9434765919".
#[tokio::test]
async fn p40_a_value_of_the_wrong_type_is_not_quoted_in_the_decode_error() {
    for body in [
        serde_json::json!({"data": [], "count": "Ada Lovelace"}),
        serde_json::json!({"data": [{"id": 9434765919_u64}], "count": 1}),
        serde_json::json!({"data": [{"id": "1", "patient": {"id": "2", "title": null,
            "first_name": ["Ada"], "last_name": "Lovelace"}}], "count": 1}),
    ] {
        let (_s, hero) = serve(200, body).await;
        let err = hero.list_sent_messages().send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
        let shown = format!("{err} {err:?} {err:#}");
        assert_eq!(support::leaked(&shown), None, "{shown}");
    }
}

/// Promise 73 (in part): an error ends the stream, and a count that changes moves the end. A
/// stream that went on after an error, or kept the first count, yields rows past them.
#[tokio::test]
async fn p73_an_error_ends_the_stream_and_a_smaller_count_moves_the_end() {
    use futures::StreamExt;
    use herohealth::{PageOptions, Paginate};
    struct Pages(Vec<ResponseTemplate>);
    impl wiremock::Respond for Pages {
        fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
            let page: usize = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "page_index")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            self.0[page.min(self.0.len() - 1)].clone()
        }
    }
    let row = |id: usize| {
        serde_json::json!({"id": id.to_string(), "patient": {"id": "2", "title": null,
            "first_name": "A", "last_name": "B"}, "write_to_record": {"write_to_record_at": null,
            "status": null, "failure_reason": null}, "short_link": null, "campaign": null,
            "created_at": null, "sent_at": null, "scheduled_at": null, "status": "sent",
            "sent_by": "x", "recipient_contact_detail": "+447700900123", "message_type": "sms"})
    };
    let page = |ids: [usize; 2], count: usize| {
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"data": [row(ids[0]), row(ids[1])], "count": count}))
    };
    let options = PageOptions::default().page_size(2).concurrency(1);

    let server = wiremock::MockServer::start().await;
    Mock::given(any())
        .respond_with(Pages(vec![
            page([1, 2], 8),
            ResponseTemplate::new(500),
            page([5, 6], 8),
        ]))
        .mount(&server)
        .await;
    let hero = support::client_for(
        &server.uri(),
        "hero-k-test-key",
        "practice-g",
        RetryPolicy::disabled(),
    );
    let items: Vec<_> = hero
        .list_sent_messages()
        .stream_with(options)
        .collect()
        .await;
    assert_eq!(items.len(), 3, "two rows, the error, then the end");
    assert!(items[0].is_ok() && items[1].is_ok());
    assert_eq!(items[2].as_ref().unwrap_err().kind(), ErrorKind::Server);

    let server = wiremock::MockServer::start().await;
    Mock::given(any())
        .respond_with(Pages(vec![
            page([1, 2], 8),
            page([3, 4], 4),
            page([5, 6], 8),
        ]))
        .mount(&server)
        .await;
    let hero = support::client_for(
        &server.uri(),
        "hero-k-test-key",
        "practice-g",
        RetryPolicy::disabled(),
    );
    let ids: Vec<String> = hero
        .list_sent_messages()
        .stream_with(options)
        .map(|m| m.unwrap().id.unwrap())
        .collect()
        .await;
    assert_eq!(
        ids,
        ["1", "2", "3", "4"],
        "the count of 4 on page 1 ends the list there"
    );
}

/// Promise 13: both auth headers are on every request, replacing any value already there. A
/// client whose HTTP hook sets its own `x-api-key` and `x-practice-group-id` still sends exactly
/// one of each, the configured ones. Breaking it (appending instead of replacing, or the hook's
/// defaults winning) shows two values or the hook's.
#[tokio::test]
async fn p13_the_auth_headers_replace_any_value_already_there() {
    let server = wiremock::MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&server)
        .await;
    let hero = HeroClient::builder()
        .api_key("hero-configured-test-key")
        .practice_group_id("practice-configured")
        .base_url(server.uri())
        .retry_policy(RetryPolicy::disabled())
        .configure_http(|http| {
            let mut headers = herohealth::reqwest::header::HeaderMap::new();
            headers.insert("x-api-key", "hook-key".parse().unwrap());
            headers.insert("x-practice-group-id", "hook-group".parse().unwrap());
            http.default_headers(headers)
        })
        .build()
        .unwrap();
    let _ = hero.list_templates().send().await;
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    for (name, value) in [
        ("x-api-key", "hero-configured-test-key"),
        ("x-practice-group-id", "practice-configured"),
    ] {
        let values: Vec<_> = requests[0].headers.get_all(name).iter().collect();
        assert_eq!(values, [value], "{name}");
    }
}

/// Promise 32 (the one status no other test sends): a 422 is a Validation error. Breaking the
/// mapping makes it UnexpectedStatus.
#[tokio::test]
async fn p32_a_422_is_a_validation_error() {
    let (_s, hero) = serve(
        422,
        serde_json::json!({"statusCode": 422, "message": "Unprocessable Entity"}),
    )
    .await;
    let err = hero.get_message().id("1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(422));
    assert!(!err.is_retryable());
}
