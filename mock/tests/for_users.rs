//! What a partner's own tests need from the mock: fault rules that count from when they are added,
//! Hero's 400 with a field list on demand, what was sent (typed), the clock, a rate limit and a
//! listing delay. Through the real client, on loopback.

use std::time::Duration;

use herohealth::{ErrorKind, HeroClient, RetryPolicy, types::SendMessageRequest};
use herohealth_mock::{Fault, FaultRule, MockServer, Outcome};

mod support;
use support::{raw, recipient, send_text};

#[tokio::test]
async fn a_rule_counts_the_calls_made_after_it_was_added() {
    let mock = MockServer::start().await;
    let hero = mock.client().with_retry_policy(RetryPolicy::disabled());
    for i in 0..5 {
        send_text(&hero, &format!("before {i}")).await.unwrap();
    }
    mock.inject(FaultRule::new("send_message", Fault::Status(503)).nth(2));
    send_text(&hero, "first after").await.unwrap();
    let err = send_text(&hero, "second after").await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{err}");
    send_text(&hero, "third after").await.unwrap();
    let faults: Vec<_> = mock.journal().iter().map(|e| e.fault.is_some()).collect();
    assert_eq!(
        faults,
        [false, false, false, false, false, false, true, false]
    );

    // `first(n)` counts from the rule too.
    mock.clear_faults();
    mock.inject(FaultRule::new("send_message", Fault::Status(500)).first(1));
    assert!(send_text(&hero, "hit").await.is_err());
    send_text(&hero, "after").await.unwrap();
}

#[tokio::test]
async fn a_validation_fault_answers_heros_400_naming_the_fields() {
    let mock = MockServer::start().await;
    let hero = mock.client();
    mock.inject(
        FaultRule::new(
            "send_message",
            Fault::parse("validation:message_string,recipients.0.dob").unwrap(),
        )
        .first(1),
    );
    let err = send_text(&hero, "Hello").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation, "{err}");
    let fields: Vec<_> = err.validation_issues().iter().map(|i| i.field()).collect();
    assert_eq!(fields, ["message_string", "recipients.0.dob"]);
    assert!(!err.may_have_been_sent());
    assert_eq!(mock.processed("send_message"), 0, "nothing was processed");
}

#[tokio::test]
async fn the_journal_holds_what_was_sent_typed_and_keeps_it_out_of_debug() {
    let mock = MockServer::start().await;
    let hero = mock.client();
    send_text(&hero, "Your results from Tuesday are ready")
        .await
        .unwrap();
    hero.list_sent_messages().send().await.unwrap();
    let journal = mock.journal();
    let sent: SendMessageRequest = journal[0].body_as().expect("the send's body");
    assert_eq!(
        sent.message_string.as_str(),
        "Your results from Tuesday are ready"
    );
    assert_eq!(sent.patient_id.as_str(), "42");
    assert_eq!(journal[0].body.as_ref().unwrap()["message_type"], "sms");
    assert!(journal[1].body.is_none(), "a GET has no body");
    let debug = format!("{journal:?}");
    assert!(
        !debug.contains("Tuesday") && !debug.contains("demo-practice"),
        "{debug}"
    );
}

#[tokio::test]
async fn a_message_is_listed_only_after_the_list_delay() {
    let mock = MockServer::builder()
        .list_delay(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let hero = mock.client();
    let id = send_text(&hero, "Hello").await.unwrap();
    assert_eq!(hero.list_sent_messages().send().await.unwrap().count, 0);
    // Found by id at once.
    assert_eq!(
        hero.get_message().id(&id).send().await.unwrap().id,
        Some(id.clone())
    );
    mock.advance(Duration::from_secs(61));
    let listed = hero.list_sent_messages().send().await.unwrap();
    assert_eq!(listed.count, 1);
    assert_eq!(listed.data[0].id.as_deref(), Some(id.as_str()));
}

#[tokio::test]
async fn beyond_the_rate_limit_the_mock_answers_429_with_retry_after_and_processes_nothing() {
    // The clock moves only with advance(), so the one-second window is the test's to step.
    let mock = MockServer::builder()
        .api_key("hero-a-test-key", "practice-a")
        .api_key("hero-b-test-key", "practice-b")
        .rate_limit(3)
        .time_scale(0.0)
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let templates = |key: &str, group: &str| {
        http.get(format!("{}/v1/templates", mock.base_url()))
            .header("x-api-key", key)
            .header("x-practice-group-id", group)
            .send()
    };
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            templates("hero-a-test-key", "practice-a")
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);

    let refused = templates("hero-a-test-key", "practice-a").await.unwrap();
    assert_eq!(refused.status().as_u16(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(
        refused.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"error": true, "statusCode": 429, "message": "Too Many Requests"})
    );
    // Another practice group has its own window.
    assert_eq!(
        templates("hero-b-test-key", "practice-b")
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );

    // A send refused by the limit is not processed, and the client sees a retryable 429.
    let a = HeroClient::builder()
        .api_key("hero-a-test-key")
        .practice_group_id("practice-a")
        .base_url(mock.base_url())
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();
    let err = send_text(&a, "Hello").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    assert!(!err.may_have_been_sent());
    assert_eq!(
        (mock.calls("send_message"), mock.processed("send_message")),
        (1, 0)
    );

    // The next second has room again.
    mock.advance(Duration::from_secs(1));
    send_text(&a, "Hello").await.unwrap();
    assert_eq!(mock.processed("send_message"), 1);

    let journal = mock.journal();
    let refused: Vec<_> = journal.iter().filter(|e| e.status == 429).collect();
    assert_eq!(refused.len(), 4);
    assert!(
        refused
            .iter()
            .all(|e| !e.processed && e.fault.as_deref() == Some("RateLimit"))
    );
}

#[tokio::test]
async fn a_rate_limited_request_does_not_count_toward_fault_rules() {
    let mock = MockServer::builder()
        .rate_limit(1)
        .time_scale(0.0)
        .fault(FaultRule::new("list_templates", Fault::Status(503)).nth(2))
        .start()
        .await
        .unwrap();
    let hero = mock.client().with_retry_policy(RetryPolicy::disabled());
    let status = |r: herohealth::Result<_>| match r {
        Ok(_) => 200,
        Err(e) => e.status().unwrap().as_u16(),
    };
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(status(hero.list_templates().send().await));
        seen.push(status(hero.list_templates().send().await));
        mock.advance(Duration::from_secs(1));
    }
    // Each second: one admitted, one refused by the limit; the 2nd admitted call is the rule's.
    assert_eq!(seen, [200, 429, 503, 429, 200, 429]);
}

#[tokio::test]
async fn batches_and_their_sends_are_listed_only_after_the_list_delay() {
    let mock = MockServer::builder()
        .list_delay(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let hero = mock.client();
    let batch = hero
        .create_batch_message()
        .body_map(|b| {
            b.name("Flu clinic")
                .channel(herohealth::BatchChannel::Sms)
                .content("Your flu jab is due")
                .recipients(vec![recipient("943 476 5919"), recipient("9434765870")])
        })
        .send()
        .await
        .unwrap();
    hero.send_batch_message()
        .id(&batch.id)
        .send()
        .await
        .unwrap();
    mock.advance(Duration::from_secs(5)); // the sends are done, but not listed yet
    let batches = || async {
        let resp = raw(&mock, reqwest::Method::GET, "/v1/batch_message")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        resp.json::<serde_json::Value>().await.unwrap()
    };
    assert_eq!(batches().await["count"], 0);
    let sends = || hero.list_batch_message_sends().id(&batch.id).send();
    assert_eq!(sends().await.unwrap().count, 0);
    // Found by id at once.
    assert_eq!(
        hero.get_batch_message()
            .id(&batch.id)
            .send()
            .await
            .unwrap()
            .id,
        batch.id
    );

    mock.advance(Duration::from_secs(55));
    let listed = batches().await;
    assert_eq!(listed["count"], 1);
    assert_eq!(listed["data"][0]["id"], batch.id.as_str());
    assert_eq!(sends().await.unwrap().count, 2);
}

#[tokio::test]
async fn debug_output_shows_no_keys_groups_contacts_or_patient_data() {
    let config = MockServer::builder()
        .api_key("hero-mock-test-key", "practice-mock-debug")
        .outcome("+447700900123", Outcome::Declined)
        .not_found_nhs_number("9434765919");
    let shown_config = format!("{config:?}");
    let mock = config.start().await.unwrap();
    send_text(&mock.client(), "Your results from Tuesday are ready")
        .await
        .unwrap();
    let shown = format!("{shown_config} {mock:?} {:?}", mock.journal());
    assert!(shown.contains("MockConfig") && shown.contains("MockServer"));
    for secret in [
        "hero-mock-test-key",
        "practice-mock-debug",
        "+447700900123",
        "9434765919",
        "Tuesday",
    ] {
        assert!(!shown.contains(secret), "Debug shows {secret}");
    }
}

#[tokio::test]
async fn sent_messages_are_what_the_mock_stored_typed() {
    let mock = MockServer::builder()
        .seed_sent_messages(5)
        .fault(
            FaultRule::new(
                "send_message",
                Fault::parse("validation:message_string").unwrap(),
            )
            .nth(2),
        )
        .fault(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(3))
        .start()
        .await
        .unwrap();
    let hero = mock.client().with_retry_policy(RetryPolicy::disabled());
    let first = send_text(&hero, "Your results from Tuesday are ready")
        .await
        .unwrap();
    send_text(&hero, "refused").await.unwrap_err();
    let reset = send_text(&hero, "stored, then the connection reset")
        .await
        .unwrap_err();
    assert!(reset.outcome_unknown(), "{reset}");

    let sent = mock.sent_messages();
    let texts: Vec<_> = sent.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Your results from Tuesday are ready",
            "stored, then the connection reset"
        ]
    );
    assert_eq!(sent[0].id, first);
    assert_eq!(
        (
            sent[0].patient_id.as_str(),
            sent[0].message_type.as_str(),
            sent[0].write_to_record
        ),
        ("42", "sms", false)
    );
    let debug = format!("{sent:?}");
    assert!(
        !debug.contains("Tuesday") && !debug.contains("\"42\""),
        "{debug}"
    );
}

#[tokio::test]
async fn the_journal_over_http_needs_a_key_and_shows_only_that_groups_requests() {
    let mock = MockServer::builder()
        .api_key("hero-a-test-key", "practice-a")
        .api_key("hero-b-test-key", "practice-b")
        .start()
        .await
        .unwrap();
    let client = |key: &str, group: &str| {
        HeroClient::builder()
            .api_key(key)
            .practice_group_id(group)
            .base_url(mock.base_url())
            .build()
            .unwrap()
    };
    send_text(
        &client("hero-a-test-key", "practice-a"),
        "Your results from Tuesday are ready",
    )
    .await
    .unwrap();
    client("hero-b-test-key", "practice-b")
        .list_templates()
        .send()
        .await
        .unwrap();

    let http = reqwest::Client::new();
    let journal = |key: Option<(&str, &str)>| {
        let mut req = http.get(format!("{}/__mock/journal", mock.base_url()));
        if let Some((k, g)) = key {
            req = req.header("x-api-key", k).header("x-practice-group-id", g);
        }
        req.send()
    };
    assert_eq!(journal(None).await.unwrap().status().as_u16(), 401);
    assert_eq!(
        journal(Some(("hero-a-test-key", "practice-b")))
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    let a: serde_json::Value = journal(Some(("hero-a-test-key", "practice-a")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a.as_array().unwrap().len(), 1, "{a}");
    assert_eq!(a[0]["operation"], "send_message");
    assert_eq!(
        a[0]["body"]["message_string"],
        "Your results from Tuesday are ready"
    );
    let b: serde_json::Value = journal(Some(("hero-b-test-key", "practice-b")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ops: Vec<_> = b
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["list_templates"]);
}

/// `calls()` counts every request received, also one the client gave up on while a latency
/// fault held it: journaled with status 0 (found by a new-user trial: it counted 0). On tokio's
/// paused clock: the client's timeout and the latency are the test's own time.
#[tokio::test(start_paused = true)]
async fn a_request_the_client_gave_up_on_is_counted() {
    let mock = MockServer::builder()
        .fault(FaultRule::new(
            "get_message",
            Fault::Latency(Duration::from_secs(30)),
        ))
        .start()
        .await
        .unwrap();
    let hero = mock
        .client_builder()
        .retry_policy(RetryPolicy::disabled())
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = hero.get_message().id("1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    // The server sees the connection close a moment after the client gives up.
    for _ in 0..200 {
        if mock.calls("get_message") == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(mock.calls("get_message"), 1);
    assert_eq!(mock.journal()[0].status, 0);
    assert_eq!(mock.processed("get_message"), 0, "the handler never ran");
}
