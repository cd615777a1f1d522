//! What a partner's own tests need from the mock: fault rules that count from when they are added,
//! Hero's 400 with a field list on demand, what was sent (typed), the clock, a rate limit and a
//! listing delay. Through the real client, on loopback.

use std::time::Duration;

use herohealth::{ErrorKind, HeroClient, MessageType, RetryPolicy, types::SendMessageRequest};
use herohealth_mock::{Fault, FaultRule, MockServer};

async fn send(hero: &HeroClient, text: &str) -> herohealth::Result<String> {
    let sent = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("42")
                .message_type(MessageType::Sms)
                .message_string(text)
        })
        .send()
        .await?;
    Ok(sent.into_inner().message_id)
}

#[tokio::test]
async fn a_rule_counts_the_calls_made_after_it_was_added() {
    let mock = MockServer::start().await;
    let hero = mock.client().with_retry_policy(RetryPolicy::disabled());
    for i in 0..5 {
        send(&hero, &format!("before {i}")).await.unwrap();
    }
    mock.inject(FaultRule::new("send_message", Fault::Status(503)).nth(2));
    send(&hero, "first after").await.unwrap();
    let err = send(&hero, "second after").await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{err}");
    send(&hero, "third after").await.unwrap();
    let faults: Vec<_> = mock.journal().iter().map(|e| e.fault.is_some()).collect();
    assert_eq!(
        faults,
        [false, false, false, false, false, false, true, false]
    );

    // `first(n)` counts from the rule too.
    mock.clear_faults();
    mock.inject(FaultRule::new("send_message", Fault::Status(500)).first(1));
    assert!(send(&hero, "hit").await.is_err());
    send(&hero, "after").await.unwrap();
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
    let err = send(&hero, "Hello").await.unwrap_err();
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
    send(&hero, "Your results from Tuesday are ready")
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
    let id = send(&hero, "Hello").await.unwrap();
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
    let mock = MockServer::builder().rate_limit(3).start().await.unwrap();
    let hero = mock.client().with_retry_policy(RetryPolicy::disabled());
    // 20 at once: far more than 3 land inside one second.
    let answers = futures::future::join_all((0..20).map(|_| hero.list_templates().send())).await;
    let limited: Vec<_> = answers.iter().filter_map(|a| a.as_ref().err()).collect();
    assert!(limited.len() >= 10, "{} refused", limited.len());
    for err in &limited {
        assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    }
    let journal = mock.journal();
    assert_eq!(journal.len(), 20);
    assert!(
        journal
            .iter()
            .filter(|e| e.status == 429)
            .all(|e| !e.processed && e.fault.as_deref() == Some("RateLimit"))
    );
}
