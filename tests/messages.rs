//! A message through the public surface against herohealth-mock: registering its patient answers
//! registered or must-verify; its state reads the same way on every message type; and its write
//! into the record, while it awaits approval, is neither written nor failed until approved.

mod support;

use std::time::Duration;

use chrono::NaiveDate;
use herohealth::{
    DeliveryStatus, ErrorKind, MessageType, Recording, Registration, WriteToRecordStatus,
};
use herohealth_mock::MockServer;

#[tokio::test]
async fn registering_a_patient_answers_registered_or_must_verify() {
    let mock = MockServer::builder()
        .time_scale(50.0)
        .start()
        .await
        .unwrap();
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
async fn every_message_type_answers_the_same_question_the_same_way() {
    let mock = MockServer::builder().time_scale(0.0).start().await.unwrap();
    let hero = mock.client();
    let sent = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("42")
                .message_type(MessageType::Sms)
                .message_string("Hello")
                .write_to_record(true)
        })
        .send()
        .await
        .unwrap();
    mock.advance(Duration::from_secs(10));
    let status = hero
        .get_message_status()
        .id(&sent.message_id)
        .send()
        .await
        .unwrap()
        .into_inner();
    let message = hero
        .get_message()
        .id(&sent.message_id)
        .send()
        .await
        .unwrap()
        .into_inner();
    let listed = hero
        .list_sent_messages()
        .patient_id("42")
        .send()
        .await
        .unwrap()
        .into_inner()
        .data
        .remove(0);
    // One shape: delivery status, record status and write time read alike on all three.
    assert_eq!(status.delivery_status(), &DeliveryStatus::Delivered);
    assert_eq!(listed.delivery_status(), &DeliveryStatus::Delivered);
    assert_eq!(message.delivery_status(), Some(&DeliveryStatus::Delivered));
    for record in [
        status.record_status(),
        listed.record_status(),
        message.record_status(),
    ] {
        assert_eq!(record, Some(WriteToRecordStatus::Success));
    }
    let written = status.written_to_record_at();
    assert!(written.is_some());
    assert_eq!(listed.written_to_record_at(), written);
    assert_eq!(message.written_to_record_at(), written);
    // `status.status` compares and prints as the delivery status, as `listed.status` does.
    assert_eq!(status.status, DeliveryStatus::Delivered);
    assert_eq!(status.status.to_string(), listed.status.to_string());
}

#[tokio::test]
async fn a_write_awaiting_approval_is_not_final_until_approved_through_its_url() {
    let mock = MockServer::builder()
        .write_approval(true)
        .time_scale(0.0)
        .start()
        .await
        .unwrap();
    let hero = mock.client();
    let sent = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("42")
                .message_type(MessageType::Sms)
                .message_string("Your results are ready")
                .write_to_record(true)
        })
        .send()
        .await
        .unwrap();
    let url = sent
        .confirm_write_to_record_url
        .clone()
        .expect("a write that awaits approval names where it is approved");
    let token = sent.auth_token.clone().expect("and its token");
    // Neither the URL nor the token shows in a Debug.
    let shown = format!("{sent:?}");
    assert!(!shown.contains(token.expose()), "{shown}");
    assert!(!shown.contains("confirm_write_to_record/"), "{shown}");

    mock.advance(Duration::from_secs(60));
    let status = hero
        .get_message_status()
        .id(&sent.message_id)
        .send()
        .await
        .unwrap();
    assert_eq!(status.delivery_status(), &DeliveryStatus::Delivered);
    assert_eq!(status.record_status(), None, "not written, not failed");
    let err = hero
        .wait_for_record(
            &sent.message_id,
            support::fast_wait().deadline(Duration::from_millis(300)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WaitDeadline);
    assert!(err.to_string().contains("awaiting approval"), "{err}");

    // Approved through the URL (the token is the credential: no API key).
    let answer = herohealth::reqwest::Client::new()
        .post(url.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 204);
    mock.advance(Duration::from_secs(1));
    let recording = hero
        .wait_for_record(
            &sent.message_id,
            support::fast_wait().deadline(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    assert!(matches!(recording, Recording::Written(_)));
    assert_eq!(recording.record_status(), WriteToRecordStatus::Success);

    // auto_write_to_record skips approval.
    let auto = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("42")
                .message_type(MessageType::Sms)
                .message_string("Your results are ready")
                .write_to_record(true)
                .auto_write_to_record(true)
        })
        .send()
        .await
        .unwrap();
    assert!(auto.confirm_write_to_record_url.is_none());
    mock.advance(Duration::from_secs(5));
    let recording = hero
        .wait_for_record(
            &auto.message_id,
            support::fast_wait().deadline(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    assert!(recording.is_written());

    // An unknown token approves nothing.
    let unknown = herohealth::reqwest::Client::new()
        .post(format!(
            "{}/__mock/confirm_write_to_record/wtr-unknown",
            mock.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn without_write_approval_a_write_needs_no_approval() {
    let mock = MockServer::builder().time_scale(0.0).start().await.unwrap();
    let hero = mock.client();
    let sent = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("42")
                .message_type(MessageType::Sms)
                .message_string("Hello")
                .write_to_record(true)
        })
        .send()
        .await
        .unwrap();
    assert!(sent.confirm_write_to_record_url.is_none() && sent.auth_token.is_none());
    assert!(
        !mock.approve_write(&sent.message_id),
        "nothing awaits approval"
    );
    mock.advance(Duration::from_secs(5));
    let recording = hero
        .wait_for_record(
            &sent.message_id,
            support::fast_wait().deadline(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    assert!(recording.is_written());
}
