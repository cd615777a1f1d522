//! A person's decisions on rows the outbox could not settle (issue 35), in both journals: each
//! choice applied and kept on the record, a decided row never decided again, a row a worker
//! holds never decided, and a send-again that goes back through the outbox's own path (paced,
//! journaled, written once), through a kill mid-send.

use std::time::Duration;

use herohealth::{FindOptions, MessageType};
use herohealth_mock::{Fault, FaultRule, MockServer};
use herohealth_outbox::{
    Choice, Decision, IdentifyError, Input, Journal, JournalError, Options, Outbox, RowState,
    SqliteJournal, Status,
};

/// Three rows, patients 1001 to 1003, lines 2 to 4 of their file.
fn input() -> Input {
    Input::from_csv(
        b"patient_id,type,text\n1001,sms,Your results are ready\n1002,sms,Your results are ready\n1003,sms,Your results are ready\n",
    )
    .unwrap()
}

fn options() -> Options {
    Options::default().concurrency(3).rate(None).find(
        FindOptions::default()
            .list_delay(Duration::from_millis(20))
            .looks(2),
    )
}

/// A mock whose requests take at most 2 s (Hero's processing time, for the lookups), and that
/// finishes a request whose client has gone.
async fn mock() -> MockServer {
    MockServer::builder()
        .finish_abandoned(true)
        .start()
        .await
        .unwrap()
}

fn client(mock: &MockServer) -> herohealth::HeroClient {
    mock.client_builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

/// Runs `input()` so that every row ends ambiguous: the practice's other software sends each
/// patient the same text just before, and each of the outbox's sends is processed and its
/// answer lost. Returns each row's candidates.
async fn every_row_ambiguous<J: Journal>(mock: &MockServer, journal: J) -> Vec<Vec<String>> {
    for patient in ["1001", "1002", "1003"] {
        mock.client()
            .send_message()
            .body_map(|b| {
                b.patient_id(patient)
                    .message_type(MessageType::Sms)
                    .message_string("Your results are ready")
            })
            .send()
            .await
            .unwrap();
    }
    mock.inject(FaultRule::new("send_message", Fault::ResetAfterProcessing));
    let outbox = Outbox::new(client(mock), journal, options());
    let summary = outbox.run(&input(), |_| {}).await.unwrap();
    mock.clear_faults();
    assert_eq!(summary.ambiguous, 3, "{summary:?}");
    outbox
        .entries()
        .await
        .unwrap()
        .into_iter()
        .map(|e| match e.state {
            RowState::Ambiguous { message_ids, .. } => {
                assert_eq!(message_ids.len(), 2);
                message_ids
            }
            other => panic!("{other:?}"),
        })
        .collect()
}

fn decision(choice: Choice) -> Decision {
    Decision::new(
        choice,
        "Dr Ada Example",
        "phoned the patient: Zebedee Quenby 9434765919",
    )
    .unwrap()
}

/// Each choice on one of three ambiguous rows, then a run: the row decided sent ends sent with
/// the id chosen, the one to send again is sent once more (and ends sent with its own new
/// message), the abandoned one ends failed and is never sent; every decision is kept, with who,
/// the row's line, its candidates and the note, and a second decision on any of them is
/// refused with nothing changed.
async fn each_choice<J: Journal>(mock: &MockServer, journal: &J, candidates: &[Vec<String>]) {
    let run = journal.to_decide().await.unwrap()[0].run;
    let sent = journal
        .decide(
            run,
            0,
            &decision(Choice::Sent {
                message_id: candidates[0][1].clone(),
            }),
        )
        .await
        .unwrap();
    let again = journal
        .decide(run, 1, &decision(Choice::SendAgain))
        .await
        .unwrap();
    let abandoned = journal
        .decide(run, 2, &decision(Choice::Abandon))
        .await
        .unwrap();
    assert!(journal.to_decide().await.unwrap().is_empty());
    assert!(sent.id < again.id && again.id < abandoned.id);
    assert_eq!(
        (sent.run, sent.index, sent.line, sent.decision.by()),
        (run, 0, Some(2), "Dr Ada Example")
    );
    assert_eq!(again.candidates, candidates[1]);
    assert_eq!(abandoned.line, Some(4));
    assert!(!abandoned.reason.is_empty());
    let shown = format!("{sent:?} {again:?} {abandoned:?}");
    assert!(
        !shown.contains("Zebedee") && !shown.contains("9434"),
        "{shown}"
    );
    assert!(
        journal
            .known_ids()
            .await
            .unwrap()
            .contains(&candidates[1][0]),
        "a send-again row's candidates stay known as this journal's"
    );

    let processed = mock.processed("send_message");
    let entries = journal.entries().await.unwrap();
    let rows: Vec<_> = entries.iter().filter(|e| e.run == run).collect();
    assert_eq!(
        rows[0].state,
        RowState::Sent {
            message_id: candidates[0][1].clone()
        }
    );
    assert_eq!(rows[1].state, RowState::Pending);
    assert_eq!(rows[2].state.status(), Status::Failed);

    // Decided once: each refused again, whatever the choice, and nothing changes.
    for (index, choice) in [
        (0, Choice::Abandon),
        (1, Choice::Abandon),
        (2, Choice::SendAgain),
    ] {
        let err = journal
            .decide(run, index, &decision(choice))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                JournalError::NotDecidable {
                    decided: Some(_),
                    held: false,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("decided already"), "{err}");
    }
    assert_eq!(journal.decisions().await.unwrap().len(), 3);
    assert_eq!(mock.processed("send_message"), processed, "nothing sent");
}

/// What the run after the decisions did: only the send-again row was sent, once.
async fn after_the_run<J: Journal>(mock: &MockServer, journal: J, candidates: &[Vec<String>]) {
    let processed = mock.processed("send_message");
    let outbox = Outbox::new(client(mock), journal, options());
    let summary = outbox.run(&input(), |_| {}).await.unwrap();
    assert_eq!((summary.sent, summary.failed), (2, 1), "{summary:?}");
    assert_eq!(mock.processed("send_message"), processed + 1);
    let entries = outbox.entries().await.unwrap();
    let own = entries[1].state.message_id().unwrap();
    assert!(
        !candidates[1].iter().any(|c| c == own),
        "its own new message"
    );
    assert_eq!(entries[2].state.status(), Status::Failed);
}

#[tokio::test]
async fn each_choice_is_applied_kept_and_never_made_twice_sqlite() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let candidates = every_row_ambiguous(&mock, SqliteJournal::open(&path).unwrap()).await;
    {
        let journal = SqliteJournal::open(&path).unwrap();
        // A run holds the file: nothing can be decided meanwhile.
        assert!(matches!(
            SqliteJournal::open(&path),
            Err(JournalError::InUse)
        ));
        each_choice(&mock, &journal, &candidates).await;
    }
    // Kept in the file, readable while a run holds it.
    let held = SqliteJournal::open(&path).unwrap();
    let read = SqliteJournal::open_read_only(&path).unwrap();
    assert_eq!(read.decisions().await.unwrap().len(), 3);
    after_the_run(&mock, held, &candidates).await;
    assert_eq!(read.decisions().await.unwrap().len(), 3, "never deleted");
}

/// A row that is not waiting for a person (pending, sent) is refused, and no decision is
/// recorded; a journal written before decisions were kept, opened read only, has none.
#[tokio::test]
async fn only_a_row_a_person_must_decide_is_decided() {
    let journal = SqliteJournal::in_memory().unwrap();
    journal.open(&input()).await.unwrap();
    let sent = RowState::Sent {
        message_id: "7".into(),
    };
    journal
        .transition(0, 1, Status::Pending, &sent)
        .await
        .unwrap();
    for index in [0, 1] {
        let err = journal
            .decide(0, index, &decision(Choice::SendAgain))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                JournalError::NotDecidable {
                    decided: None,
                    held: false,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("only a row a person must decide"));
    }
    assert!(
        journal
            .decide(0, 9, &decision(Choice::Abandon))
            .await
            .is_err()
    );
    assert!(
        journal
            .decide(1, 0, &decision(Choice::Abandon))
            .await
            .is_err()
    );
    assert!(journal.decisions().await.unwrap().is_empty());
    assert_eq!(journal.entries().await.unwrap()[1].state, sent);
}

/// A send-again goes through the outbox's own path: killed while Hero holds its request (which
/// Hero then finishes), the run resumed resolves it before anything else and it ends sent with
/// its own message, written once.
#[tokio::test]
async fn a_send_again_killed_mid_send_is_resumed_and_sent_once() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let candidates = every_row_ambiguous(&mock, SqliteJournal::open(&path).unwrap()).await;
    {
        let journal = SqliteJournal::open(&path).unwrap();
        journal
            .decide(0, 1, &decision(Choice::SendAgain))
            .await
            .unwrap();
    }
    let (calls, processed) = (mock.calls("send_message"), mock.processed("send_message"));
    mock.inject(FaultRule::new(
        "send_message",
        Fault::Latency(Duration::from_millis(1500)),
    ));
    let journal = SqliteJournal::open(&path).unwrap();
    let hero = client(&mock);
    let task = tokio::spawn(async move {
        let outbox = Outbox::new(hero, journal, options());
        outbox.run(&input(), |_| {}).await
    });
    // The row is in flight (its request written just after): the process is killed while
    // Hero holds the request.
    let read = SqliteJournal::open_read_only(&path).unwrap();
    while read.entries().await.unwrap()[1].state.status() != Status::InFlight {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    mock.clear_faults();
    let journal = loop {
        match SqliteJournal::open(&path) {
            Ok(j) => break j,
            // The killed run's last journal call is still letting go of the file.
            Err(JournalError::InUse) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(e) => panic!("{e:?}"),
        }
    };
    assert_eq!(
        journal.entries().await.unwrap()[1].state.status(),
        Status::InFlight
    );
    let outbox = Outbox::new(client(&mock), journal, options());
    let summary = outbox.run(&input(), |_| {}).await.unwrap();
    assert_eq!((summary.sent, summary.ambiguous), (1, 2), "{summary:?}");
    assert_eq!(
        mock.processed("send_message"),
        processed + 1,
        "written once"
    );
    let entries = outbox.entries().await.unwrap();
    let own = entries[1].state.message_id().expect("sent");
    assert!(!candidates[1].iter().any(|c| c == own), "its own message");
    assert_eq!(calls + 1, mock.calls("send_message"), "never written again");
}

/// A message in Hero to `patient` by SMS, as another sender (or a send whose answer was lost)
/// makes it.
async fn message(mock: &MockServer, patient: &str, text: &str) -> String {
    mock.client()
        .send_message()
        .body_map(|b| {
            b.patient_id(patient)
                .message_type(MessageType::Sms)
                .message_string(text)
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .message_id
}

/// The field and the rule of a refused decision.
fn refused(err: JournalError) -> String {
    match err {
        JournalError::Refused { why, .. } => {
            assert_eq!(why.field(), "message_id");
            why.rule().to_owned()
        }
        other => panic!("not refused: {other:?}"),
    }
}

/// A person may decide a row sent only with one of its own candidates, or with a message Hero's
/// records show to be its own: never with another row's message. Row 2 (patient 1002) is
/// unresolved, its message already in Hero; a decision "row 1 was sent as that message" is
/// refused (with Hero's evidence too: another patient), and so is row 3's sent message, though
/// it is one of row 1's candidates, and an id nobody knows. Then the run resolves row 2 as sent
/// with its own message: never sent twice. A message the person found that Hero shows to be
/// row 1's is taken, with that evidence only.
async fn another_row_s_message_is_refused<J: Journal>(mock: &MockServer, journal: J) {
    let hero = client(mock);
    journal.bind(&hero.practice_group_key()).await.unwrap();
    journal.open(&input()).await.unwrap();
    let rows = journal.claim(3).await.unwrap();
    assert_eq!(rows.len(), 3);
    let run = rows[0].run;
    // Its request written now, Hero able to create the message for 2 s.
    let now = chrono::Utc::now();
    let attempt = herohealth::SendAttempt::new(
        &rows[1].row.request().unwrap(),
        now,
        now + chrono::Duration::seconds(2),
    );
    journal
        .transition(run, 1, Status::Pending, &RowState::InFlight { attempt })
        .await
        .unwrap();
    let theirs = message(mock, "1002", "Your results are ready").await;
    let other = message(mock, "1001", "Your appointment is confirmed").await;
    let row_3s = message(mock, "1001", "Your results are ready").await;
    let ambiguous = RowState::Ambiguous {
        message_ids: vec![other.clone(), row_3s.clone()],
        reason: "example".into(),
    };
    journal
        .transition(run, 0, Status::Pending, &ambiguous)
        .await
        .unwrap();
    let sent = RowState::Sent {
        message_id: row_3s.clone(),
    };
    journal
        .transition(run, 2, Status::Pending, &sent)
        .await
        .unwrap();

    let sent_as = |id: &str| {
        decision(Choice::Sent {
            message_id: id.to_owned(),
        })
    };
    for (id, rule) in [
        (&theirs, "not one of the row's candidates"),
        (&row_3s, "another row's message"),
        (&"999999".to_owned(), "not one of the row's candidates"),
    ] {
        let err = journal.decide(run, 0, &sent_as(id)).await.unwrap_err();
        let text = err.to_string();
        assert!(refused(err).contains(rule), "{id}: {text}");
        assert!(text.contains("nothing was decided"), "{text}");
    }
    let row = journal.to_decide().await.unwrap().remove(0);
    assert_eq!(row.index, 0);
    match sent_as(&theirs).identified_with(&hero, &row).await {
        Err(IdentifyError::Refused(why)) => {
            assert_eq!(why.field(), "message_id");
            assert!(why.rule().contains("patient_id"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert!(journal.decisions().await.unwrap().is_empty());
    assert_eq!(journal.entries().await.unwrap()[0].state, ambiguous);

    // A message the person found, Hero's evidence that it is row 1's: taken, and only with it.
    let found = message(mock, "1001", "Your results are ready").await;
    let err = journal.decide(run, 0, &sent_as(&found)).await.unwrap_err();
    assert!(refused(err).contains("Hero's records"));
    let checked = sent_as(&found).identified_with(&hero, &row).await.unwrap();
    let record = journal.decide(run, 0, &checked).await.unwrap();
    assert_eq!(record.decision.choice().message_id(), Some(found.as_str()));

    // The run resolves row 2: sent, with its own message; nothing written again.
    let processed = mock.processed("send_message");
    let outbox = Outbox::new(hero, journal, options());
    let summary = outbox.run(&input(), |_| {}).await.unwrap();
    assert_eq!(summary.sent, 3, "{summary:?}");
    assert_eq!(
        mock.processed("send_message"),
        processed,
        "never sent twice"
    );
    let entries = outbox.entries().await.unwrap();
    let states: Vec<_> = entries
        .iter()
        .filter(|e| e.run == run)
        .map(|e| e.state.clone())
        .collect();
    assert_eq!(
        states,
        [
            RowState::Sent { message_id: found },
            RowState::Sent { message_id: theirs },
            sent
        ]
    );
}

#[tokio::test]
async fn another_row_s_message_is_refused_sqlite() {
    let mock = mock().await;
    another_row_s_message_is_refused(&mock, SqliteJournal::in_memory().unwrap()).await;
}

/// Built without the `postgres` feature, the PostgreSQL half is not run: say so loudly (and
/// fail where it must run).
#[cfg(not(feature = "postgres"))]
#[test]
fn the_postgres_feature_is_off() {
    let line = "!!!!! SKIPPED: outbox/tests/decisions.rs: built without the `postgres` feature, so the PgJournal decisions were NOT tested !!!!!";
    if std::env::var_os("HEROHEALTH_REQUIRE_POSTGRES").is_some_and(|v| v != "0" && !v.is_empty()) {
        panic!("{line}");
    }
    eprintln!("{line}");
}

#[cfg(feature = "postgres")]
mod with_postgres {
    use super::*;
    use herohealth_outbox::{PgJournal, testing::TempPostgres};

    /// The same in PostgreSQL, and a row a worker holds is never decided.
    #[tokio::test]
    async fn each_choice_is_applied_kept_and_never_made_twice_postgres() {
        let Some(pg) = TempPostgres::start("outbox/tests/decisions.rs") else {
            return;
        };
        let url = pg.database("decisions");
        let mock = mock().await;
        let candidates = every_row_ambiguous(&mock, PgJournal::connect(&url).await.unwrap()).await;

        // A worker holds a row of another run: it is not decided.
        let worker = PgJournal::connect(&url).await.unwrap();
        worker.bind("another-group").await.unwrap();
        worker.open(&input()).await.unwrap();
        let held = worker.claim(1).await.unwrap();
        let err = PgJournal::connect(&url)
            .await
            .unwrap()
            .decide(held[0].run, held[0].index, &decision(Choice::Abandon))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                JournalError::NotDecidable {
                    held: true,
                    decided: None,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("held by a worker"), "{err}");

        let journal = PgJournal::connect(&url).await.unwrap();
        journal
            .bind(&client(&mock).practice_group_key())
            .await
            .unwrap();
        each_choice(&mock, &journal, &candidates).await;
        after_the_run(&mock, PgJournal::connect(&url).await.unwrap(), &candidates).await;
        let kept = journal.decisions().await.unwrap();
        assert_eq!(kept.len(), 3, "never deleted");
        assert!(kept.iter().all(|d| d.decision.note().contains("phoned")));
        drop(pg);
    }

    #[tokio::test]
    async fn another_row_s_message_is_refused_postgres() {
        let Some(pg) = TempPostgres::start("outbox/tests/decisions.rs") else {
            return;
        };
        let url = pg.database("refused");
        let mock = mock().await;
        another_row_s_message_is_refused(&mock, PgJournal::connect(&url).await.unwrap()).await;
        drop(pg);
    }
}
