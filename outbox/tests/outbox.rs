//! The outbox against herohealth-mock on loopback. Every test checks, on the mock, that each
//! row's message was processed exactly once (or, for the failed row, never), and on the journal,
//! how each row ended.

use std::{collections::BTreeMap, time::Duration};

use futures::TryStreamExt;
use herohealth::{FindOptions, MessageType, PageOptions, Paginate, SendAttempt};
use herohealth_mock::{Fault, FaultRule, MockServer};
use herohealth_outbox::{
    Event, Input, Journal, JournalError, Options, Outbox, OutboxError, Row, RowState,
    SqliteJournal, Status,
};

/// One row per patient, patients 1001.., so the mock's list tells each row's messages apart.
fn input(n: usize) -> Input {
    Input::from_rows(
        (0..n)
            .map(|i| {
                Row::new(
                    &format!("{}", 1001 + i),
                    MessageType::Sms,
                    "Your results are ready",
                )
                .unwrap()
            })
            .collect(),
    )
}

fn options() -> Options {
    Options::default().concurrency(3).rate(None).find(
        FindOptions::default()
            .list_delay(Duration::from_millis(20))
            .looks(2),
    )
}

/// Messages the mock holds for each patient.
async fn on_mock(mock: &MockServer) -> BTreeMap<String, usize> {
    let all: Vec<_> = mock
        .client()
        .list_sent_messages()
        .stream_with(PageOptions::default().page_size(100))
        .try_collect()
        .await
        .unwrap();
    let mut counts = BTreeMap::new();
    for m in all {
        *counts.entry(m.patient.id.clone()).or_default() += 1;
    }
    counts
}

/// Every patient of `input` has exactly one message on the mock, and the mock processed exactly
/// that many sends.
async fn exactly_once(mock: &MockServer, n: usize) {
    let counts = on_mock(mock).await;
    for i in 0..n {
        assert_eq!(
            counts.get(&format!("{}", 1001 + i)),
            Some(&1),
            "row {i}: {counts:?}"
        );
    }
    assert_eq!(mock.processed("send_message"), n);
}

async fn run(
    mock: &MockServer,
    journal: SqliteJournal,
    input: &Input,
) -> Vec<herohealth_outbox::Entry> {
    let outbox = Outbox::new(mock.client(), journal, options());
    let summary = outbox.run(input, |_| {}).await.unwrap();
    let entries = outbox.entries().await.unwrap();
    assert_eq!(summary.total, entries.len());
    assert_eq!(summary.unfinished, 0, "{summary:?}");
    entries
}

fn statuses(entries: &[herohealth_outbox::Entry]) -> Vec<Status> {
    entries.iter().map(|e| e.state.status()).collect()
}

#[tokio::test]
async fn every_row_is_sent_once_with_its_message_id() {
    let mock = MockServer::start().await;
    let mut events = Vec::new();
    let outbox = Outbox::new(
        mock.client(),
        SqliteJournal::in_memory().unwrap(),
        options(),
    );
    let summary = outbox.run(&input(6), |e| events.push(e)).await.unwrap();
    assert!(summary.all_sent(), "{summary:?}");
    let entries = outbox.entries().await.unwrap();
    assert!(
        entries
            .iter()
            .all(|e| e.state.message_id().is_some() && e.sends == 1)
    );
    exactly_once(&mock, 6).await;
    assert_eq!(
        events.first(),
        Some(&Event::Started {
            total: 6,
            done: 0,
            to_resolve: 0
        })
    );
    assert_eq!(events.last(), Some(&Event::Progress { done: 6, total: 6 }));

    // A second run of the same input sends nothing.
    let summary = outbox.run(&input(6), |_| {}).await.unwrap();
    assert!(summary.all_sent());
    assert_eq!(mock.calls("send_message"), 6);
}

#[tokio::test]
async fn processed_then_connection_lost_is_found_sent_and_not_sent_again() {
    let mock = MockServer::start().await;
    mock.inject(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(2));
    let entries = run(&mock, SqliteJournal::in_memory().unwrap(), &input(4)).await;
    assert_eq!(statuses(&entries), vec![Status::Sent; 4]);
    assert_eq!(
        mock.calls("send_message"),
        4,
        "the unknown send was not written again"
    );
    exactly_once(&mock, 4).await;
}

#[tokio::test]
async fn lost_before_processing_is_found_not_sent_and_sent_once_more() {
    let mock = MockServer::start().await;
    mock.inject(FaultRule::new("send_message", Fault::ResetBeforeProcessing).nth(1));
    let entries = run(&mock, SqliteJournal::in_memory().unwrap(), &input(3)).await;
    assert_eq!(statuses(&entries), vec![Status::Sent; 3]);
    assert_eq!(
        mock.calls("send_message"),
        4,
        "one row written twice, once processed"
    );
    assert_eq!(entries.iter().map(|e| e.sends).sum::<u32>(), 4);
    exactly_once(&mock, 3).await;
}

#[tokio::test]
async fn two_messages_to_the_patient_in_the_window_leave_the_row_ambiguous() {
    // Hero gives no message's text back: the row's own cannot be told from the other.
    let mock = MockServer::builder()
        .no_message_content(true)
        .start()
        .await
        .unwrap();
    // The outbox's send (the second of all) is processed, then its connection lost.
    mock.inject(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(2));
    // Another system sends the same patient the same kind of message just before.
    mock.client()
        .send_message()
        .body_map(|b| {
            b.patient_id("1001")
                .message_type(MessageType::Sms)
                .message_string("From the practice's other software")
        })
        .send()
        .await
        .unwrap();
    let entries = run(&mock, SqliteJournal::in_memory().unwrap(), &input(1)).await;
    let RowState::Ambiguous {
        message_ids,
        reason,
    } = &entries[0].state
    else {
        panic!("{:?}", entries[0].state)
    };
    assert_eq!(message_ids.len(), 2);
    assert!(!reason.is_empty());
    assert_eq!(mock.calls("send_message"), 2, "never sent again");
    assert_eq!(on_mock(&mock).await.get("1001"), Some(&2));
}

#[tokio::test]
async fn a_400_fails_the_row_with_a_reason_and_the_others_are_sent() {
    let mock = MockServer::start().await;
    mock.inject(FaultRule::new("send_message", Fault::Status(400)).nth(1));
    let outbox = Outbox::new(
        mock.client(),
        SqliteJournal::in_memory().unwrap(),
        options().concurrency(1),
    );
    let summary = outbox.run(&input(3), |_| {}).await.unwrap();
    assert_eq!(
        (summary.sent, summary.failed, summary.all_sent()),
        (2, 1, false)
    );
    let entries = outbox.entries().await.unwrap();
    let failed: Vec<_> = entries
        .iter()
        .filter(|e| e.state.status() == Status::Failed)
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].state.reason().unwrap().contains("invalid"),
        "{:?}",
        failed[0].state
    );
    assert_eq!(
        mock.calls("send_message"),
        3,
        "the failed row is not retried"
    );
    assert_eq!(mock.processed("send_message"), 2);
    let counts = on_mock(&mock).await;
    assert_eq!(counts.values().sum::<usize>(), 2);
    assert!(counts.values().all(|c| *c == 1));
}

#[tokio::test]
async fn a_429_is_waited_out_and_slows_the_pace() {
    let mock = MockServer::start().await;
    mock.inject(
        FaultRule::new(
            "send_message",
            Fault::RateLimited {
                retry_after: Some(1),
            },
        )
        .first(2),
    );
    let mut rates = Vec::new();
    let outbox = Outbox::new(
        mock.client(),
        SqliteJournal::in_memory().unwrap(),
        options().concurrency(1).rate(std::num::NonZeroU32::new(40)),
    );
    let summary = outbox
        .run(&input(4), |e| {
            if let Event::Rate { per_second } = e {
                rates.push(per_second)
            }
        })
        .await
        .unwrap();
    assert!(summary.all_sent());
    assert_eq!(rates.first(), Some(&Some(20.0)), "{rates:?}");
    assert_eq!(mock.calls("send_message"), 6);
    exactly_once(&mock, 4).await;
}

/// What a crash leaves: rows committed in flight, one whose request reached Hero, one whose did
/// not.
#[tokio::test]
async fn a_resume_resolves_rows_left_in_flight_before_sending_anything_new() {
    let mock = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let input = input(4);
    // What the crashed process recorded before writing each request: the attempt, with its
    // deadline (its start plus the client's timeout, here 2 s).
    let attempt = |patient: &str| -> SendAttempt {
        let body: herohealth::types::SendMessageRequest =
            herohealth::types::SendMessageRequest::builder()
                .patient_id(patient)
                .message_type(MessageType::Sms)
                .message_string("Your results are ready")
                .try_into()
                .unwrap();
        let started = chrono::Utc::now();
        SendAttempt::new(&body, started, started + chrono::Duration::seconds(2))
    };
    {
        let journal = SqliteJournal::open(&path).unwrap();
        journal.open(&input).await.unwrap();
        journal
            .transition(
                0,
                0,
                Status::Pending,
                &RowState::InFlight {
                    attempt: attempt("1001"),
                },
            )
            .await
            .unwrap();
        journal
            .transition(
                0,
                1,
                Status::Pending,
                &RowState::InFlight {
                    attempt: attempt("1002"),
                },
            )
            .await
            .unwrap();
        journal
            .transition(
                0,
                2,
                Status::Pending,
                &RowState::InFlight {
                    attempt: attempt("1003"),
                },
            )
            .await
            .unwrap();
        // The crashed process's request for row 0 reached Hero; the ones for rows 1 and 2 did not.
        mock.client()
            .send_message()
            .body_map(|b| {
                b.patient_id("1001")
                    .message_type(MessageType::Sms)
                    .message_string("Your results are ready")
            })
            .send()
            .await
            .unwrap();
    }
    let mut events = Vec::new();
    let outbox = Outbox::new(
        mock.client(),
        SqliteJournal::open(&path).unwrap(),
        options(),
    );
    let summary = outbox.run(&input, |e| events.push(e)).await.unwrap();
    assert!(summary.all_sent(), "{summary:?}");
    assert_eq!(
        events[0],
        Event::Started {
            total: 4,
            done: 0,
            to_resolve: 3
        }
    );
    // The three resolutions (in any order) come before any send: row 0 found, rows 1 and 2 not.
    let rows: Vec<(u64, Status)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Row { index, status, .. } => Some((*index, *status)),
            _ => None,
        })
        .collect();
    let mut resolved = rows[..3].to_vec();
    resolved.sort_by_key(|(index, _)| *index);
    assert_eq!(
        resolved,
        [
            (0, Status::Sent),
            (1, Status::Pending),
            (2, Status::Pending)
        ],
        "{events:?}"
    );
    let entries = outbox.entries().await.unwrap();
    assert_eq!(
        entries.iter().map(|e| e.sends).collect::<Vec<_>>(),
        vec![1, 2, 2, 1],
        "row 0 was found, not resent"
    );
    assert_eq!(mock.calls("send_message"), 4);
    exactly_once(&mock, 4).await;
}

#[tokio::test]
async fn a_journal_from_another_input_is_refused_and_nothing_is_sent() {
    let mock = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    run(&mock, SqliteJournal::open(&path).unwrap(), &input(2)).await;
    let outbox = Outbox::new(
        mock.client(),
        SqliteJournal::open(&path).unwrap(),
        options(),
    );
    let err = outbox.run(&input(3), |_| {}).await.unwrap_err();
    assert!(
        matches!(
            err,
            OutboxError::Journal(JournalError::DifferentInput { .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("different input file"), "{err}");
    assert_eq!(mock.calls("send_message"), 2);
}

#[test]
fn nothing_printed_shows_patient_data() {
    let row = Row::new("98765", MessageType::Sms, "Dear Ada Lovelace")
        .unwrap()
        .to("+447700900123")
        .unwrap();
    let input = Input::from_rows(vec![row.clone()]);
    let shown = format!("{row:?} {input:?}");
    for secret in ["98765", "Ada", "447700900123"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    let bad = "patient_id,type,text,to\n98765,sms,Dear Ada,not-a-phone-Ada\n";
    let err = Input::from_csv(bad.as_bytes()).unwrap_err().to_string();
    assert!(
        err.starts_with("1 row refused") && err.contains("line 2: field `to`"),
        "{err}"
    );
    assert!(!err.contains("Ada") && !err.contains("98765"), "{err}");
}

/// A file with a row that breaks one of herohealth's rules across fields (an sms to an email
/// address, an email to a phone number, a time in the past) is refused whole before anything is
/// sent, each such row named by its line and column, and never its value. Found by a new user:
/// the valid row of such a file was sent and the others failed mid-run.
#[tokio::test]
async fn rows_that_break_a_rule_across_fields_refuse_the_whole_file() {
    let csv = "patient_id,type,text,to,send_at\n\
        98765,sms,Dear Ada,ada@example.org,\n\
        98766,email,Dear Ada,+447700900123,\n\
        98767,sms,Dear Ada,+447700900124,2001-01-01T09:00:00Z\n\
        98768,sms,Dear Ada,+447700900125,\n";
    let err = Input::from_csv(csv.as_bytes()).unwrap_err();
    let problems: Vec<_> = err
        .problems()
        .iter()
        .map(|p| (p.line(), p.field().to_owned(), p.reason().to_owned()))
        .collect();
    assert_eq!(
        problems,
        [
            (
                Some(2),
                "to".into(),
                "must be a phone number for an sms message".into()
            ),
            (
                Some(3),
                "to".into(),
                "must be an email address for an email message".into()
            ),
            (Some(4), "send_at".into(), "must not be in the past".into()),
        ]
    );
    let shown = err.to_string();
    assert!(
        shown.starts_with("3 rows refused, nothing was sent"),
        "{shown}"
    );
    for secret in ["ada@", "447700900123", "9876", "Ada"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    // The same rule for rows built in code.
    let refused = Row::new("98765", MessageType::Sms, "Dear Ada")
        .unwrap()
        .to("ada@example.org")
        .unwrap_err();
    assert_eq!(refused.field(), "to");
}

#[tokio::test]
async fn an_accepted_send_whose_answer_is_unreadable_is_sent_not_failed() {
    let mock = MockServer::start().await;
    mock.inject(FaultRule::new("send_message", Fault::TruncatedJson).nth(1));
    let entries = run(&mock, SqliteJournal::in_memory().unwrap(), &input(2)).await;
    assert_eq!(statuses(&entries), vec![Status::Sent; 2]);
    assert_eq!(mock.calls("send_message"), 2);
    exactly_once(&mock, 2).await;
}

#[tokio::test]
async fn a_5xx_after_writing_is_looked_for_then_sent_once() {
    let mock = MockServer::start().await;
    mock.inject(FaultRule::new("send_message", Fault::Status(503)).nth(1));
    let entries = run(&mock, SqliteJournal::in_memory().unwrap(), &input(2)).await;
    assert_eq!(statuses(&entries), vec![Status::Sent; 2]);
    assert_eq!(
        mock.calls("send_message"),
        3,
        "the 503'd row was written again once"
    );
    exactly_once(&mock, 2).await;
}

#[tokio::test]
async fn a_run_that_cannot_get_through_stops_and_a_rerun_sends_every_row() {
    let mock = MockServer::start().await;
    mock.inject(FaultRule::new(
        "send_message",
        Fault::RateLimited {
            retry_after: Some(0),
        },
    ));
    let outbox = Outbox::new(
        mock.client(),
        SqliteJournal::in_memory().unwrap(),
        options().max_retries(2),
    );
    let err = outbox.run(&input(3), |_| {}).await.unwrap_err();
    assert!(matches!(err, OutboxError::Hero(_)), "{err:?}");
    assert!(
        err.to_string().starts_with("stopped, re-run to resume"),
        "{err}"
    );
    let left = outbox.entries().await.unwrap();
    assert_eq!(statuses(&left), vec![Status::Pending; 3], "nothing dropped");
    assert_eq!(mock.processed("send_message"), 0);

    mock.clear_faults();
    let summary = outbox.run(&input(3), |_| {}).await.unwrap();
    assert!(summary.all_sent(), "{summary:?}");
    exactly_once(&mock, 3).await;
}

/// A run can be handed to `tokio::spawn`: its future is `Send` (this fails to compile otherwise).
#[test]
fn a_run_is_send() {
    fn send<T: Send>(_: &T) {}
    let hero = herohealth::HeroClient::builder()
        .api_key("hero-k-test-key")
        .practice_group_id("practice-p")
        .base_url("http://127.0.0.1:1")
        .build()
        .unwrap();
    let outbox = Outbox::new(hero, SqliteJournal::in_memory().unwrap(), options());
    let input = input(1);
    let run = outbox.run(&input, |_| {});
    send(&run);
    send(&outbox);
}
