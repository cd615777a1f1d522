//! Day two (issue 27), through the public surface against herohealth-mock: a batch's failed sends
//! traced to patients, the write to the record while it awaits approval, defaults as documented,
//! one shape per concept across the message types, configuration text that matches behaviour,
//! and a whole-call deadline that keeps the outcome-unknown guarantee.

use std::time::Duration;

use chrono::NaiveDate;
use futures::TryStreamExt;
use herohealth::{
    BatchChannel, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, DeliveryStatus, ErrorKind, HeroClient,
    MessageType, PageOptions, Paginate, Recording, RetryPolicy, Traced, WaitOptions, WasSent,
    WriteToRecordStatus, types::BatchRecipient,
};
use herohealth_mock::{Fault, FaultRule, MockServer, RecipientOutcome};

/// Two valid NHS numbers that end alike (`…666`): the mock gives both the mobile
/// `+447700900666`, a failing test number, so an SMS batch fails for both and each failed send
/// could be either patient's.
const SHARED_A: &str = "9434760666";
const SHARED_B: &str = "9434777666";
/// Set to fail by NHS number (its own mobile would be delivered).
const SET_TO_FAIL: &str = "9434765919";
/// Set to be untraceable on the Spine: no send at all.
const UNTRACED: &str = "9434765870";
/// Delivered.
const REACHED: &str = "9434765862";

fn recipient(nhs: &str) -> BatchRecipient {
    BatchRecipient::new(
        nhs.parse().unwrap(),
        NaiveDate::from_ymd_opt(1960, 1, 31).unwrap(),
    )
}

fn polling(deadline: Duration) -> WaitOptions {
    WaitOptions::default()
        .initial_interval(Duration::from_millis(5))
        .max_interval(Duration::from_millis(20))
        .deadline(deadline)
}

#[tokio::test]
async fn batch_failures_trace_each_failed_send_to_its_patient_and_flag_shared_contacts() {
    let mock = MockServer::builder()
        .batch_outcome(UNTRACED, RecipientOutcome::EnrichmentError)
        .time_scale(0.0)
        .start()
        .await
        .unwrap();
    // Set at run time too: it applies to batches created from now on.
    mock.set_batch_outcome("943 476 5919", RecipientOutcome::Error);
    let hero = mock.client();
    let batch = hero
        .create_batch_message()
        .body_map(|b| {
            b.name("Flu clinic")
                .channel(BatchChannel::Sms)
                .content("Your flu vaccination is due")
                .recipients(
                    [SHARED_A, SHARED_B, SET_TO_FAIL, UNTRACED, REACHED]
                        .map(recipient)
                        .to_vec(),
                )
        })
        .send()
        .await
        .unwrap();
    hero.send_batch_message()
        .id(&batch.id)
        .send()
        .await
        .unwrap();
    mock.advance(Duration::from_secs(5));
    let outcome = hero
        .wait_for_batch(&batch.id, polling(Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!((outcome.sends, outcome.failed_sends), (4, 3));

    let failures = hero.batch_failures(&batch.id).await.unwrap();
    assert_eq!(failures.sends, 4);
    assert_eq!(failures.failed.len(), 3);
    let nhs = |t: &Traced| -> Vec<String> {
        let mut v: Vec<String> = t
            .nhs_numbers()
            .iter()
            .map(|n| n.expose().to_owned())
            .collect();
        v.sort();
        v
    };
    let exact: Vec<_> = failures
        .failed
        .iter()
        .filter(|f| matches!(f.traced, Traced::Recipient(_)))
        .collect();
    assert_eq!(exact.len(), 1);
    assert_eq!(nhs(&exact[0].traced), [SET_TO_FAIL]);
    let ambiguous: Vec<_> = failures
        .failed
        .iter()
        .filter(|f| f.traced.is_ambiguous())
        .collect();
    assert_eq!(ambiguous.len(), 2, "one failed send to each sharer");
    for f in &ambiguous {
        assert_eq!(nhs(&f.traced), [SHARED_A, SHARED_B]);
        assert_eq!(f.send.recipient.expose(), "+447700900666");
    }
    assert_eq!(failures.untraced(), 2);
    assert_eq!(failures.not_enriched.len(), 1);
    assert_eq!(
        failures.not_enriched[0]
            .nhs_number
            .as_ref()
            .unwrap()
            .expose(),
        UNTRACED
    );
    assert!(!failures.is_empty());

    // Nothing of a patient shows in its Debug: no NHS number, mobile or name.
    let shown = format!("{failures:?} {:?}", failures.failed[0]);
    for secret in [
        SHARED_A,
        SHARED_B,
        SET_TO_FAIL,
        UNTRACED,
        "900666",
        "+4477",
        "@example.org",
    ] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[tokio::test]
async fn an_email_batch_goes_to_each_patient_s_own_address_so_the_shared_mobile_does_not_fail() {
    // The mock's documented derivation: a recipient's email is their own, so the default failing
    // mobile does not touch an EMAIL batch.
    let mock = MockServer::builder().time_scale(0.0).start().await.unwrap();
    let hero = mock.client();
    let batch = hero
        .create_batch_message()
        .body_map(|b| {
            b.name("Reviews")
                .channel(BatchChannel::Email)
                .subject("Your annual review")
                .content("Please book your annual review")
                .recipients([SHARED_A, SHARED_B].map(recipient).to_vec())
        })
        .send()
        .await
        .unwrap();
    hero.send_batch_message()
        .id(&batch.id)
        .send()
        .await
        .unwrap();
    mock.advance(Duration::from_secs(5));
    let failures = hero.batch_failures(&batch.id).await.unwrap();
    assert_eq!(failures.sends, 2);
    assert!(failures.is_empty(), "{failures:?}");
    let recipients: Vec<_> = hero
        .list_batch_message_recipients()
        .id(&batch.id)
        .stream_with(PageOptions::default())
        .try_collect()
        .await
        .unwrap();
    let mobiles: Vec<&str> = recipients
        .iter()
        .map(|r| r.mobile.as_ref().unwrap().expose())
        .collect();
    assert_eq!(mobiles, ["+447700900666", "+447700900666"]);
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
        .wait_for_record(&sent.message_id, polling(Duration::from_millis(300)))
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
        .wait_for_record(&sent.message_id, polling(Duration::from_secs(30)))
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
        .wait_for_record(&auto.message_id, polling(Duration::from_secs(30)))
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
        .wait_for_record(&sent.message_id, polling(Duration::from_secs(30)))
        .await
        .unwrap();
    assert!(recording.is_written());
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

#[tokio::test]
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

#[tokio::test]
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
