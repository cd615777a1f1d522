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

/// A journal whose commit of a row going in flight answers late (a stalled network, a paused
/// VM): issue 35's scenario 2, for any journal.
struct SlowCommit<J>(J, Duration);

impl<J: herohealth_outbox::Journal> herohealth_outbox::Journal for SlowCommit<J> {
    async fn bind(&self, group_key: &str) -> Result<(), herohealth_outbox::JournalError> {
        self.0.bind(group_key).await
    }
    async fn open(&self, input: &Input) -> Result<(), herohealth_outbox::JournalError> {
        self.0.open(input).await
    }
    async fn entries(
        &self,
    ) -> Result<Vec<herohealth_outbox::Entry>, herohealth_outbox::JournalError> {
        self.0.entries().await
    }
    async fn transition(
        &self,
        run: u64,
        index: u64,
        from: Status,
        to: &herohealth_outbox::RowState,
    ) -> Result<(), herohealth_outbox::JournalError> {
        let done = self.0.transition(run, index, from, to).await;
        if to.status() == Status::InFlight {
            tokio::time::sleep(self.1).await;
        }
        done
    }
    async fn claim(
        &self,
        max: usize,
    ) -> Result<Vec<herohealth_outbox::Entry>, herohealth_outbox::JournalError> {
        self.0.claim(max).await
    }
    async fn release(&self) -> Result<(), herohealth_outbox::JournalError> {
        self.0.release().await
    }
    async fn unfinished(&self) -> Result<usize, herohealth_outbox::JournalError> {
        self.0.unfinished().await
    }
    async fn known_ids(&self) -> Result<Vec<String>, herohealth_outbox::JournalError> {
        self.0.known_ids().await
    }
    async fn shared_pace(
        &self,
        group: &str,
        rate: std::num::NonZeroU32,
    ) -> Result<Option<herohealth::Pace>, herohealth_outbox::JournalError> {
        self.0.shared_pace(group, rate).await
    }
    async fn runs(
        &self,
    ) -> Result<Vec<herohealth_outbox::RunStatus>, herohealth_outbox::JournalError> {
        self.0.runs().await
    }
    async fn to_decide(
        &self,
    ) -> Result<Vec<herohealth_outbox::Entry>, herohealth_outbox::JournalError> {
        self.0.to_decide().await
    }
    async fn workers(
        &self,
    ) -> Result<Vec<herohealth_outbox::WorkerStatus>, herohealth_outbox::JournalError> {
        self.0.workers().await
    }
}

/// A mock for issue 35's scenario 2: Hero finishes a request whose client has gone
/// (herohealth-mock's `finish_abandoned`), and takes 1.9 s of the client's 2 s over the first
/// one; any other is quick.
async fn finishing_mock() -> MockServer {
    let mock = MockServer::builder()
        .finish_abandoned(true)
        .start()
        .await
        .unwrap();
    mock.inject(FaultRule::new("send_message", Fault::Latency(Duration::from_millis(1900))).nth(1));
    mock
}

fn hero(mock: &MockServer) -> herohealth::HeroClient {
    mock.client_builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

fn one_row() -> Input {
    Input::from_rows(vec![
        Row::new("4002", MessageType::Sms, "Your results are ready").unwrap(),
    ])
}

fn quick_looks() -> Options {
    Options::default().rate(None).find(
        FindOptions::default()
            .list_delay(Duration::from_millis(20))
            .looks(2),
    )
}

/// The row was written once and ended sent with its own message.
async fn sent_once<J: herohealth_outbox::Journal>(
    mock: &MockServer,
    outbox: &Outbox<J>,
    summary: &herohealth_outbox::Summary,
) {
    assert_eq!(mock.calls("send_message"), 1, "written once: {summary:?}");
    assert!(summary.all_sent(), "{summary:?}");
    let ours = mock.sent_messages()[0].id.clone();
    assert_eq!(
        outbox.entries().await.unwrap()[0].state.message_id(),
        Some(ours.as_str())
    );
}

/// Issue 35's scenario 2: the commit of a row going in flight answers 1.5 s late, so the request
/// gets what is left of its 2 s, and Hero, taking 1.9 s, creates the message after the client
/// gave up. Hero may create it until the request's write plus Hero's longest processing time,
/// whatever time the client gave the request: the lookups wait that out, find it, and the row
/// ends sent with its own message, written once.
async fn a_late_commit_never_sends_a_row_twice<J: herohealth_outbox::Journal>(journal: J) {
    let mock = finishing_mock().await;
    let journal = SlowCommit(journal, Duration::from_millis(1500));
    let outbox = Outbox::new(hero(&mock), journal, quick_looks());
    let summary = outbox.run(&one_row(), |_| {}).await.unwrap();
    sent_once(&mock, &outbox, &summary).await;
}

#[tokio::test]
async fn a_late_commit_never_sends_a_row_twice_sqlite() {
    a_late_commit_never_sends_a_row_twice(SqliteJournal::in_memory().unwrap()).await;
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn a_late_commit_never_sends_a_row_twice_postgres() {
    let Some(pg) = herohealth_outbox::testing::TempPostgres::start("outbox/tests/late_listing.rs")
    else {
        return;
    };
    let url = pg.database("late_commit");
    a_late_commit_never_sends_a_row_twice(
        herohealth_outbox::PgJournal::connect(&url).await.unwrap(),
    )
    .await;
    drop(pg);
}

/// The same, the run killed while Hero holds the request: the resumed run waits out the latest
/// moment Hero could create the message before it answers, finds it, and never writes again.
#[tokio::test]
async fn a_late_commit_then_a_kill_never_sends_a_row_twice() {
    let mock = finishing_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let journal = SlowCommit(
        SqliteJournal::open(&path).unwrap(),
        Duration::from_millis(1500),
    );
    let client = hero(&mock);
    let task = tokio::spawn(async move {
        let outbox = Outbox::new(client, journal, quick_looks());
        outbox.run(&one_row(), |_| {}).await
    });
    while mock.calls("send_message") == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    let journal = loop {
        match SqliteJournal::open(&path) {
            Ok(j) => break j,
            Err(herohealth_outbox::JournalError::InUse) => {
                tokio::time::sleep(Duration::from_millis(10)).await
            }
            Err(e) => panic!("{e:?}"),
        }
    };
    let outbox = Outbox::new(hero(&mock), journal, quick_looks());
    let summary = outbox.run(&one_row(), |_| {}).await.unwrap();
    sent_once(&mock, &outbox, &summary).await;
}
