//! Hero may list a new message late (herohealth-mock's `list_delay`): a send whose answer was lost
//! is still found sent, and not written again, when the lookups span the delay.

use std::time::Duration;

use futures::TryStreamExt;
use herohealth::{FindOptions, MessageType, PageOptions, Paginate};
use herohealth_mock::{Fault, FaultRule, MockServer};
use herohealth_outbox::{Input, Options, Outbox, Row, SqliteJournal, Status};

#[tokio::test]
async fn a_send_listed_late_is_found_sent_not_sent_again() {
    let mock = MockServer::builder()
        .list_delay(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    mock.inject(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(1));
    let input = Input::from_rows(vec![
        Row::new("4001", MessageType::Sms, "Your results are ready").unwrap(),
    ]);
    // Three looks 200 ms apart: the last is at least 400 ms after the send, past the 300 ms delay.
    let options = Options::default().rate(None).find(
        FindOptions::default()
            .list_delay(Duration::from_millis(200))
            .looks(3),
    );
    let outbox = Outbox::new(mock.client(), SqliteJournal::in_memory().unwrap(), options);
    let summary = outbox.run(&input, |_| {}).await.unwrap();
    assert!(summary.all_sent(), "{summary:?}");
    let entries = outbox.entries().await.unwrap();
    assert_eq!(entries[0].state.status(), Status::Sent);
    assert_eq!(entries[0].sends, 1);
    assert_eq!(mock.calls("send_message"), 1, "found, not written again");
    mock.advance(Duration::from_secs(1)); // past the list delay, on the mock's clock
    let listed: Vec<_> = mock
        .client()
        .list_sent_messages()
        .patient_id("4001")
        .stream_with(PageOptions::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id.as_deref(), entries[0].state.message_id());
}
