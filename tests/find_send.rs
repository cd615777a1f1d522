//! `HeroClient::find_send` on herohealth-mock: sent, not sent, and ambiguous (two identical
//! messages to one patient inside the window), with exclusions narrowing an ambiguous answer.

use std::time::Duration;

use herohealth::{FindOptions, FoundSend, HeroClient, MessageType};
use herohealth_mock::{Fault, FaultRule, MockServer};

async fn send(hero: &HeroClient) -> herohealth::Result<String> {
    let sent = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("7")
                .message_type(MessageType::Sms)
                .message_string("Your results are ready")
                .recipient_contact_detail("+447700900123")
        })
        .send()
        .await?;
    Ok(sent.message_id.clone())
}

fn quick() -> FindOptions {
    FindOptions::default()
        .list_delay(Duration::from_millis(10))
        .looks(2)
}

#[tokio::test]
async fn find_send_answers_sent_not_sent_and_ambiguous() {
    let mock = MockServer::start().await;
    let hero = mock.client();

    // Processed, then the connection broke: sent, with the id the list shows.
    mock.inject(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(1));
    let err = send(&hero).await.unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
    let found = hero.find_send(&err, quick()).await.unwrap();
    let FoundSend::Sent { message_id: first } = found else {
        panic!("{found:?}")
    };

    // A second identical message inside the window: ambiguous, unless the first is excluded.
    mock.clear_faults();
    mock.inject(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(1));
    let err = send(&hero).await.unwrap_err();
    let found = hero.find_send(&err, quick()).await.unwrap();
    let FoundSend::Ambiguous { message_ids } = &found else {
        panic!("{found:?}")
    };
    assert_eq!(message_ids.len(), 2);
    let found = hero
        .find_send(&err, quick().exclude([first.clone()]))
        .await
        .unwrap();
    assert!(
        matches!(&found, FoundSend::Sent { message_id } if *message_id != first),
        "{found:?}"
    );

    // Refused before processing: nothing matches (the two earlier ones are known and excluded).
    mock.clear_faults();
    mock.inject(FaultRule::new("send_message", Fault::ResetBeforeProcessing).nth(1));
    let err = send(&hero).await.unwrap_err();
    let known: Vec<String> = message_ids.clone();
    let found = hero.find_send(&err, quick().exclude(known)).await.unwrap();
    assert_eq!(found, FoundSend::NotSent);

    // An error without a send attempt is refused, not guessed.
    let err = hero.get_message().id("404").send().await.unwrap_err();
    assert_eq!(
        hero.find_send(&err, quick()).await.unwrap_err().kind(),
        herohealth::ErrorKind::InvalidRequest
    );
}

#[tokio::test]
async fn a_message_hero_lists_late_is_found_by_looking_again() {
    // Hero lists a new message 30 s after it is created. The first look finds nothing; then the
    // mock's clock moves on past the delay, and the next look finds it.
    let mock = MockServer::builder()
        .list_delay(Duration::from_secs(30))
        .start()
        .await
        .unwrap();
    let hero = mock.client();
    mock.inject(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(1));
    let err = send(&hero).await.unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
    let options = FindOptions::default()
        .list_delay(Duration::from_millis(100))
        .looks(50);
    let time_passes = async {
        while mock.calls("list_sent_messages") == 0 {
            tokio::task::yield_now().await;
        }
        mock.advance(Duration::from_secs(31));
    };
    let (found, ()) = tokio::join!(hero.find_send(&err, options), time_passes);
    let found = found.unwrap();
    assert!(matches!(found, FoundSend::Sent { .. }), "{found:?}");
    assert!(mock.calls("list_sent_messages") >= 2, "it looked again");
}

#[tokio::test]
async fn a_listing_later_than_the_looks_is_the_documented_failure_mode() {
    // Listed only an hour after: with one look, "not sent" although it went. This is why the
    // defaults look 3 times 10 s apart, and why the README says to widen them where it matters.
    let mock = MockServer::builder()
        .list_delay(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let hero = mock.client();
    mock.inject(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(1));
    let err = send(&hero).await.unwrap_err();
    let found = hero.find_send(&err, quick().looks(1)).await.unwrap();
    assert_eq!(found, FoundSend::NotSent);
    assert_eq!(mock.processed("send_message"), 1, "yet it was processed");
}
