//! Day one for a Rust engineer, through the public surface against herohealth-mock: optional
//! checked fields take text, registering a patient answers registered or must-verify, streams need
//! no pinning, the HTTP client can be configured without weakening the crate's safety settings,
//! per-call timeout and retry overrides keep the outcome-unknown guarantee, and the waiters return
//! how a message or its record write ended.

use std::time::Duration;

use chrono::NaiveDate;
use futures::TryStreamExt;
use herohealth::{
    Delivery, DeliveryStatus, ErrorKind, HeroClient, MessageType, Paginate, Recording,
    Registration, RetryPolicy, WaitOptions, reqwest,
};
use herohealth_mock::{Fault, FaultRule, MockServer};

fn fast() -> WaitOptions {
    WaitOptions::default()
        .initial_interval(Duration::from_millis(5))
        .max_interval(Duration::from_millis(20))
        .deadline(Duration::from_secs(30))
}

async fn mock() -> MockServer {
    MockServer::builder()
        .time_scale(50.0)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn optional_checked_fields_take_text_like_required_ones() {
    let mock = mock().await;
    let hero = mock.client();
    let sent = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("98765")
                // Any case: sent as Hero's `sms`.
                .message_type("SMS")
                .message_string("Your results are ready")
                .recipient_contact_detail("+447700900123")
                .write_to_record(true)
                .snomed_code("1240751000000100")
                // Optional text takes text as it comes, as required fields do (a new user's
                // `.snomed_term("...")` did not compile).
                .snomed_term("Result")
        })
        .send()
        .await
        .unwrap();
    assert!(!sent.message_id.is_empty());
    let journal = mock.journal();
    assert_eq!(journal.len(), 1);
    let body: serde_json::Value = journal[0].body_as().unwrap();
    assert_eq!(body["message_type"], "sms");
    assert_eq!(body["snomed_term"], "Result");
    assert_eq!(body["snomed_code"], "1240751000000100");
    // ... and `None` / `Some(String)` / `&String` still do.
    let term = String::from("Result");
    let _ = herohealth::types::SendMessageRequest::builder()
        .patient_id(98765)
        .snomed_term(None)
        .snomed_term(Some(term.clone()))
        .snomed_term(&term);

    // A bad optional value fails the request, names the field, and sends nothing.
    let err = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("98765")
                .message_type(MessageType::Sms)
                .message_string("Hello")
                .snomed_code("12345")
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("snomed_code"), "{err}");
    assert!(!err.to_string().contains("12345"), "{err}");
    assert_eq!(mock.journal().len(), 1, "nothing was sent");
}

#[tokio::test]
async fn registering_a_patient_answers_registered_or_must_verify() {
    let mock = mock().await;
    let hero = mock.client();
    let dob = NaiveDate::from_ymd_opt(1992, 1, 1).unwrap();
    let registered = hero
        .register_patient("943 476 5919".parse().unwrap(), dob)
        .await
        .unwrap();
    let Registration::Registered { patient_id } = &registered else {
        panic!("{registered:?}")
    };
    assert!(!patient_id.as_str().is_empty());
    assert_eq!(registered.patient_id(), Some(patient_id));

    let verify = hero
        .register_patient("900 000 0009".parse().unwrap(), dob)
        .await
        .unwrap();
    assert!(
        matches!(verify, Registration::MustVerify { .. }) && verify.patient_id().is_none(),
        "{verify:?}"
    );

    let err = hero
        .register_patient("999 999 9999".parse().unwrap(), dob)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn streams_need_no_pinning() {
    let mock = MockServer::builder()
        .seed_sent_messages(45)
        .start()
        .await
        .unwrap();
    let hero = mock.client();
    let mut stream = hero.list_sent_messages().stream();
    let mut n = 0;
    while let Some(_message) = stream.try_next().await.unwrap() {
        n += 1;
    }
    assert_eq!(n, 45);
    let mut updates = hero.watch_delivery("1", fast());
    let _ = updates.try_next().await;
}

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

#[tokio::test]
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

async fn send_to(hero: &HeroClient, to: &str, record: bool) -> String {
    hero.send_message()
        .body_map(|b| {
            b.patient_id("7")
                .message_type(if to.contains('@') {
                    MessageType::Email
                } else {
                    MessageType::Sms
                })
                .message_string("Hello")
                .recipient_contact_detail(to)
                .write_to_record(record)
        })
        .send()
        .await
        .unwrap()
        .message_id
        .clone()
}

#[tokio::test]
async fn waiters_return_how_a_message_ended() {
    let mock = mock().await;
    let hero = mock.client();
    for (to, expected) in [
        ("+447700900123", DeliveryStatus::Delivered),
        ("+447700900444", DeliveryStatus::Declined),
        ("declined@example.com", DeliveryStatus::Declined),
        ("+447700900666", DeliveryStatus::Fatal),
        ("fatal@example.com", DeliveryStatus::Fatal),
    ] {
        let id = send_to(&hero, to, false).await;
        let delivery = hero.wait_for_delivery(&id, fast()).await.unwrap();
        assert_eq!(delivery.status().status.response, expected, "{to}");
        match (&delivery, &expected) {
            (Delivery::Delivered(_), DeliveryStatus::Delivered)
            | (Delivery::Declined(_), DeliveryStatus::Declined)
            | (Delivery::Fatal(_), DeliveryStatus::Fatal) => {}
            other => panic!("{other:?}"),
        }
        let delivered = delivery.delivered();
        if expected == DeliveryStatus::Delivered {
            delivered.unwrap();
        } else {
            assert_eq!(delivered.unwrap_err().kind(), ErrorKind::DeliveryFailed);
        }
    }

    let written = send_to(&hero, "+447700900123", true).await;
    let recording = hero.wait_for_record(&written, fast()).await.unwrap();
    assert!(matches!(recording, Recording::Written(_)), "{recording:?}");
    let not_asked = send_to(&hero, "+447700900123", false).await;
    let recording = hero.wait_for_record(&not_asked, fast()).await.unwrap();
    assert!(
        matches!(recording, Recording::NotRequested(_)),
        "{recording:?}"
    );
}

/// `validate::check_send_message` / `check_batch_message` give the error `.send()` would, with
/// nothing sent: for a program that refuses a whole list before its first send.
#[test]
fn a_body_is_checked_against_the_rules_across_fields_without_sending() {
    use herohealth::{BatchChannel, types};
    let sms_to_email: types::SendMessageRequest = types::SendMessageRequest::builder()
        .patient_id("98765")
        .message_type(MessageType::Sms)
        .message_string("Your results are ready")
        .recipient_contact_detail("ada@example.org")
        .try_into()
        .unwrap();
    let err = herohealth::check_send_message(&sms_to_email).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string()
            .contains("recipient_contact_detail: must be a phone number"),
        "{err}"
    );
    assert!(!err.to_string().contains("ada@"), "{err}");
    let fine: types::SendMessageRequest = types::SendMessageRequest::builder()
        .patient_id("98765")
        .message_type(MessageType::Email)
        .message_string("Your results are ready")
        .recipient_contact_detail("ada@example.org")
        .try_into()
        .unwrap();
    herohealth::check_send_message(&fine).unwrap();

    let batch = |subject: Option<&str>| -> types::CreateBatchMessageRequest {
        types::CreateBatchMessageRequest::builder()
            .name("Flu clinic")
            .channel(BatchChannel::Email)
            .content("Your flu jab is due")
            .subject(subject.map(herohealth::Sensitive::from))
            .recipients(vec![types::BatchRecipient {
                nhs_number: "9434765919".parse().unwrap(),
                dob: None,
            }])
            .try_into()
            .unwrap()
    };
    let err = herohealth::check_batch_message(&batch(None)).unwrap_err();
    assert!(
        err.to_string()
            .contains("subject: is required when channel is EMAIL"),
        "{err}"
    );
    herohealth::check_batch_message(&batch(Some("Flu jabs"))).unwrap();
    // Optional text takes a `String` too.
    let with_text: types::CreateBatchMessageRequest = types::CreateBatchMessageRequest::builder()
        .name("Flu clinic")
        .channel(BatchChannel::Email)
        .content("Your flu jab is due")
        .subject(String::from("Flu jabs"))
        .recipients(vec![])
        .try_into()
        .unwrap();
    assert_eq!(with_text.subject.unwrap().expose(), "Flu jabs");
}
