//! The mock's behaviour through the real client: lifecycles, auth and isolation, validation,
//! pagination and every kind of injected fault.

use std::time::Duration;

use herohealth::{
    BatchChannel, BatchMessageStatus, BatchSendStatus, DeliveryStatus, EnrichmentStatus, Error,
    ErrorKind, HeroClient, MessageType, RetryPolicy, WriteToRecordStatus,
    types::RegisterPatientPdsByNhsNumber,
};
use herohealth_mock::{CountMode, Fault, FaultRule, MockServer};

mod support;
use support::{post_json, recipient, send_to};

#[tokio::test]
async fn a_batch_is_created_enriched_sent_and_completed() {
    let mock = MockServer::start().await;
    let hero = mock.client();
    let batch = hero
        .create_batch_message()
        .body_map(|b| {
            b.name("Flu clinic")
                .channel(BatchChannel::Sms)
                .content("Your flu jab is due")
                .recipients(vec![recipient("943 476 5919"), recipient("9434765870")])
        })
        .send()
        .await
        .unwrap();
    assert_eq!(batch.status, BatchMessageStatus::Created);

    let recipients = hero
        .list_batch_message_recipients()
        .id(&batch.id)
        .send()
        .await
        .unwrap();
    assert_eq!(recipients.count, 2);
    assert!(
        recipients
            .data
            .iter()
            .all(|r| r.enrichment_status == EnrichmentStatus::Enriched)
    );
    assert!(
        recipients
            .data
            .iter()
            .all(|r| r.first_name.is_some() && r.mobile.is_some())
    );
    assert!(
        hero.list_batch_message_sends()
            .id(&batch.id)
            .send()
            .await
            .unwrap()
            .data
            .is_empty(),
        "nothing sent yet"
    );

    hero.send_batch_message()
        .id(&batch.id)
        .send()
        .await
        .unwrap();
    let get = || async {
        hero.get_batch_message()
            .id(&batch.id)
            .send()
            .await
            .unwrap()
            .into_inner()
            .status
    };
    assert_eq!(get().await, BatchMessageStatus::Pending);
    mock.advance(Duration::from_secs(1));
    assert_eq!(get().await, BatchMessageStatus::Sending);
    mock.advance(Duration::from_secs(2));
    assert_eq!(get().await, BatchMessageStatus::Completed);
    let sends = hero
        .list_batch_message_sends()
        .id(&batch.id)
        .send()
        .await
        .unwrap();
    assert_eq!(sends.count, 2);
    assert!(
        sends
            .data
            .iter()
            .all(|s| s.status == BatchSendStatus::Success && s.sent_at.is_some())
    );

    // Sending a batch twice is refused.
    let err: Error = hero
        .send_batch_message()
        .id(&batch.id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.status().map(|s| s.as_u16())),
        (ErrorKind::Conflict, Some(409))
    );
}

#[tokio::test]
async fn invalid_nhs_numbers_are_enrichment_errors() {
    let mock = MockServer::start().await;
    // The raw API accepts any string; the client would refuse it, so go around the client.
    let resp = post_json(&mock, "/v1/batch_message", serde_json::json!({"name": "n", "channel": "SMS", "content": "c",
        "recipients": [{"nhs_number": "9434765919", "dob": null}, {"nhs_number": "1234567890", "dob": null}]}))
    .await;
    let id = resp.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let hero = mock.client();
    let errors = hero
        .list_batch_message_recipients()
        .id(&id)
        .status(EnrichmentStatus::EnrichmentError)
        .send()
        .await
        .unwrap();
    assert_eq!(errors.count, 1);
    assert_eq!(
        errors.data[0].nhs_number.as_ref().unwrap().expose(),
        "1234567890"
    );
    assert!(errors.data[0].first_name.is_none());
}

#[tokio::test]
async fn single_messages_move_through_their_statuses() {
    let mock = MockServer::start().await;
    let hero = mock.client();
    let ok = send_to(&hero, "07788 123456", true).await.unwrap();
    let declined = send_to(&hero, "+447700900444", false).await.unwrap();
    let fatal = send_to(&hero, "+447700900666", false).await.unwrap();
    let status = |id: String| {
        let hero = hero.clone();
        async move {
            hero.get_message_status()
                .id(id)
                .send()
                .await
                .unwrap()
                .into_inner()
        }
    };
    assert_eq!(
        status(ok.clone()).await.status.response,
        DeliveryStatus::Pending
    );
    mock.advance(Duration::from_secs(1));
    let s = status(ok.clone()).await;
    assert_eq!(s.status.response, DeliveryStatus::Sent);
    assert!(s.status.sent_at.is_some() && s.status.write_to_record_at.is_none());
    mock.advance(Duration::from_secs(3));
    let s = status(ok.clone()).await;
    assert_eq!(s.status.response, DeliveryStatus::Delivered);
    assert!(
        s.status.write_to_record_at.is_some(),
        "write_to_record fills"
    );
    let m = hero.get_message().id(&ok).send().await.unwrap();
    assert_eq!(
        m.write_to_record.as_ref().unwrap().status,
        Some(WriteToRecordStatus::Success)
    );
    assert_eq!(
        status(declined).await.status.response,
        DeliveryStatus::Declined
    );
    let f = status(fatal).await;
    assert_eq!(f.status.response, DeliveryStatus::Fatal);
    assert!(f.errors.send.is_some());

    // A scheduled message waits for its time.
    let at = mock.now() + chrono::Duration::minutes(10);
    let id = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("7")
                .message_type(MessageType::Email)
                .message_string("Later")
                .send_at(Some(at))
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .message_id;
    mock.advance(Duration::from_secs(300));
    assert_eq!(
        status(id.clone()).await.status.response,
        DeliveryStatus::Pending
    );
    mock.advance(Duration::from_secs(305));
    assert_eq!(
        status(id.clone()).await.status.response,
        DeliveryStatus::Delivered
    );
    let listed = hero
        .list_sent_messages()
        .scheduled(true)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.count, 1);
    assert_eq!(
        listed.data[0].scheduled_at.map(|d| d.timestamp()),
        Some(at.timestamp())
    );
}

#[tokio::test]
async fn auth_failures_and_practice_group_isolation() {
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
    let (a, b) = (
        client("hero-a-test-key", "practice-a"),
        client("hero-b-test-key", "practice-b"),
    );
    let id = send_to(&a, "07788 123456", false).await.unwrap();

    let err: Error = client("hero-wrong-test-key", "practice-a")
        .get_message_status()
        .id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.status().map(|s| s.as_u16())),
        (ErrorKind::Auth, Some(401))
    );
    let err: Error = client("hero-a-test-key", "practice-b")
        .get_message_status()
        .id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.status().map(|s| s.as_u16())),
        (ErrorKind::Auth, Some(403))
    );

    // Group B sees none of group A's data.
    let err: Error = b.get_message_status().id(&id).send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(b.list_sent_messages().send().await.unwrap().count, 0);
    assert_eq!(a.list_sent_messages().send().await.unwrap().count, 1);
    assert_eq!(
        mock.journal()
            .iter()
            .filter(|e| e.practice_group_id.is_none())
            .count(),
        2
    );
}

#[tokio::test]
async fn server_side_validation_uses_heros_body() {
    // The client refuses an EMAIL batch without a subject before sending, so ask the mock directly.
    let mock = MockServer::start().await;
    let resp = post_json(
        &mock,
        "/v1/batch_message",
        serde_json::json!({"name": "n", "channel": "EMAIL", "content": "c",
        "recipients": [{"nhs_number": "9434765919", "dob": null}]}),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"error": true, "statusCode": 400, "message": [
            {"code": "custom", "expected": "subject is required when channel = EMAIL", "path": ["subject"]}
        ]})
    );
}

#[tokio::test]
async fn register_patient_pds_outcomes() {
    let mock = MockServer::start().await;
    let hero = mock.client();
    let body = |nhs: &str| RegisterPatientPdsByNhsNumber {
        nhs_number: nhs.parse().unwrap(),
        dob: chrono::NaiveDate::from_ymd_opt(1992, 1, 1).unwrap(),
        ehr_partner: None,
        ehr_partner_id: None,
    };
    let first = hero
        .register_patient_pds()
        .body(body("943 476 5919"))
        .send()
        .await
        .unwrap();
    let again = hero
        .register_patient_pds()
        .body(body("9434765919"))
        .send()
        .await
        .unwrap();
    assert!(first.patient_id.is_some());
    assert_eq!(
        first.patient_id, again.patient_id,
        "the same patient is found again"
    );
    let verify = hero
        .register_patient_pds()
        .body(body("9000000009"))
        .send()
        .await
        .unwrap();
    assert!(verify.patient_id.is_none() && verify.login_url.is_some());
    let err: Error = hero
        .register_patient_pds()
        .body(body("9999999999"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn pagination_follows_the_documented_semantics() {
    let mock = MockServer::builder()
        .seed_sent_messages(45)
        .start()
        .await
        .unwrap();
    let hero = mock.client();
    let page = |i: i64| hero.list_sent_messages().page_index(i).page_size(20).send();
    let (p0, p2, p3) = (
        page(0).await.unwrap(),
        page(2).await.unwrap(),
        page(3).await.unwrap(),
    );
    assert_eq!((p0.data.len(), p0.count), (20, 45));
    assert_eq!((p2.data.len(), p2.count), (5, 45));
    assert_eq!((p3.data.len(), p3.count), (0, 45));
    assert_eq!(p0.data[0].id.as_deref(), Some("1"));
    assert_eq!(p2.data[4].id.as_deref(), Some("45"));
    let default = hero.list_sent_messages().send().await.unwrap();
    assert_eq!(default.data.len(), 20);
    let capped = hero
        .list_sent_messages()
        .page_size(1000)
        .send()
        .await
        .unwrap();
    assert_eq!(capped.data.len(), 45);

    let mock = MockServer::builder()
        .seed_sent_messages(45)
        .count_mode(CountMode::Page)
        .max_page_size(10)
        .start()
        .await
        .unwrap();
    let p = mock
        .client()
        .list_sent_messages()
        .page_size(20)
        .page_index(4)
        .send()
        .await
        .unwrap();
    assert_eq!((p.data.len(), p.count), (5, 5));
}

async fn fault_error(fault: Fault, retry: RetryPolicy) -> (Error, MockServer) {
    let mock = MockServer::builder()
        .seed_sent_messages(3)
        .fault(FaultRule::new("list_sent_messages", fault))
        .start()
        .await
        .unwrap();
    let hero = mock
        .client_builder()
        .retry_policy(retry)
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let err = hero.list_sent_messages().send().await.unwrap_err();
    (err, mock)
}

#[tokio::test]
async fn injected_faults_become_typed_errors() {
    let off = RetryPolicy::disabled;
    let (e, _) = fault_error(
        Fault::RateLimited {
            retry_after: Some(9),
        },
        off(),
    )
    .await;
    assert_eq!(
        (e.kind(), e.retry_after()),
        (ErrorKind::RateLimited, Some(Duration::from_secs(9)))
    );
    let (e, _) = fault_error(Fault::Status(503), off()).await;
    assert_eq!(
        (e.kind(), e.status().map(|s| s.as_u16())),
        (ErrorKind::Server, Some(503))
    );
    let (e, _) = fault_error(Fault::HtmlError(502), off()).await;
    assert_eq!(e.kind(), ErrorKind::Server);
    // Structure only: an HTML page keeps none of its text.
    assert!(e.body_excerpt().unwrap().starts_with("… ("), "{e:?}");
    for fault in [Fault::TruncatedJson, Fault::MalformedJson, Fault::EmptyBody] {
        let (e, _) = fault_error(fault.clone(), off()).await;
        assert_eq!(e.kind(), ErrorKind::Decode, "{fault:?}");
    }
    let (e, mock) = fault_error(Fault::ResetBeforeProcessing, off()).await;
    assert_eq!(e.kind(), ErrorKind::Connection);
    assert_eq!(
        (
            mock.calls("list_sent_messages"),
            mock.processed("list_sent_messages")
        ),
        (1, 0)
    );
}

#[tokio::test]
async fn tolerable_faults_still_decode() {
    let mock = MockServer::builder()
        .seed_sent_messages(3)
        .fault(FaultRule::new("list_sent_messages", Fault::UnknownEnumValue).nth(1))
        .fault(FaultRule::new("list_sent_messages", Fault::WrongContentType).nth(2))
        .fault(
            FaultRule::new(
                "list_sent_messages",
                Fault::Latency(Duration::from_millis(20)),
            )
            .nth(3),
        )
        .start()
        .await
        .unwrap();
    let hero = mock.client();
    let page = hero.list_sent_messages().send().await.unwrap();
    assert!(
        page.data
            .iter()
            .all(|m| !m.status.is_known() && m.status.as_str() == "FUTURE_VALUE")
    );
    assert_eq!(hero.list_sent_messages().send().await.unwrap().count, 3);
    assert_eq!(hero.list_sent_messages().send().await.unwrap().count, 3);
    assert_eq!(mock.calls("list_sent_messages"), 3);
}

#[tokio::test]
async fn a_reset_after_a_send_is_processed_once_and_reported_unknown() {
    let mock = MockServer::builder()
        .fault(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(1))
        .start()
        .await
        .unwrap();
    let hero = mock.client();
    let err = send_to(&hero, "07788 123456", false).await.unwrap_err();
    assert!(err.outcome_unknown(), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(
        mock.processed("send_message"),
        1,
        "processed once, never sent again"
    );
    assert_eq!(hero.list_sent_messages().send().await.unwrap().count, 1);
}
