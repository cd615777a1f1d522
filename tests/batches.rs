//! Batches through the public surface against herohealth-mock: a batch's failed sends traced to
//! the patients they were for, a contact detail several recipients share flagged (never guessed),
//! and an email batch sent to each patient's own address.

mod support;

use std::time::Duration;

use chrono::NaiveDate;
use futures::TryStreamExt;
use herohealth::{BatchChannel, PageOptions, Paginate, Traced, types::BatchRecipient};
use herohealth_mock::{MockServer, RecipientOutcome};

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
        .wait_for_batch(
            &batch.id,
            support::fast_wait().deadline(Duration::from_secs(30)),
        )
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
