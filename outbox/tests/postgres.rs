//! `PgJournal` on a real PostgreSQL (a throwaway cluster of the installed binaries, loopback
//! only): claims, leases, fencing tokens, one row per patient at a time, runs by fingerprint,
//! and several outboxes on one journal with one shared pace. Without the binaries each test
//! prints a loud line naming the package and what was not run (and fails when
//! `HEROHEALTH_REQUIRE_POSTGRES` is set, as `.ci/run` does).

mod support;

/// Built without the `postgres` feature, nothing here runs: say so loudly (and fail where the
/// PostgreSQL tests must run).
#[cfg(not(feature = "postgres"))]
#[test]
fn the_postgres_feature_is_off() {
    support::postgres_feature_off(
        "outbox/tests/postgres.rs",
        "the PgJournal tests were NOT run",
    );
}

#[cfg(feature = "postgres")]
mod with_postgres {
    use std::{collections::BTreeMap, time::Duration};

    use crate::support::reminders;
    use herohealth::MessageType;
    use herohealth_mock::MockServer;
    use herohealth_outbox::{
        Journal, JournalError, Options, Outbox, PgJournal, RowState, Status, testing::TempPostgres,
    };

    // A practice group key (`HeroClient::practice_group_key`), opaque to the journal.
    const GROUP: &str = "practice-pg-journal";

    /// A lease that runs out while its worker is only slow (its heartbeat stalled, the process
    /// still there): another worker takes the row with a new fencing token, and the slow worker's
    /// late change is refused (`Fenced`), changing nothing. Meanwhile rows to one patient are held
    /// one at a time, and a second worker never gets a row the first holds.
    #[tokio::test(flavor = "current_thread")]
    async fn a_slow_workers_late_change_is_refused_by_the_fencing_token() {
        let Some(pg) = TempPostgres::start("outbox/tests/postgres.rs fencing") else {
            return;
        };
        let url = pg.database("fencing");
        let slow = PgJournal::connect(&url)
            .await
            .unwrap()
            .lease(Duration::from_millis(300))
            .without_heartbeat();
        slow.bind(GROUP).await.unwrap();
        // Rows 0 and 1 are to one patient.
        slow.open(&reminders(["101", "101", "102"])).await.unwrap();
        let held = slow.claim(10).await.unwrap();
        let rows: Vec<u64> = held.iter().map(|e| e.index).collect();
        assert_eq!(rows, [0, 2], "one row per patient");

        let other = PgJournal::connect(&url).await.unwrap();
        other.bind(GROUP).await.unwrap();
        assert!(
            other.claim(10).await.unwrap().is_empty(),
            "every row is held"
        );

        // The slow worker's leases run out.
        tokio::time::sleep(Duration::from_millis(600)).await;
        let taken = other.claim(10).await.unwrap();
        let rows: Vec<u64> = taken.iter().map(|e| e.index).collect();
        assert_eq!(
            rows,
            [0, 2],
            "taken over; row 1 still waits for its patient"
        );

        let sent = RowState::Sent {
            message_id: "m-1".into(),
        };
        let err = slow
            .transition(held[0].run, 0, Status::Pending, &sent)
            .await
            .unwrap_err();
        assert!(matches!(err, JournalError::Fenced { index: 0 }), "{err:?}");
        assert_eq!(
            other.entries().await.unwrap()[0].state,
            RowState::Pending,
            "nothing changed"
        );
        other
            .transition(taken[0].run, 0, Status::Pending, &sent)
            .await
            .unwrap();
        // Row 0 is final: its patient's next row can be claimed now.
        let next = other.claim(10).await.unwrap();
        assert!(next.iter().any(|e| e.index == 1), "{next:?}");
        drop(pg);
    }

    /// A change of a row is a compare-and-set on its state and fencing token: a send is counted
    /// going in flight and uncounted coming back; the same change run again (a reply lost with a
    /// connection) is done, not a conflict, and counts nothing twice; a final row is no longer
    /// held, nor this worker's to change; a row whose lease ran out is never put in flight (the
    /// worker claims it again first); a row in flight stays leased until its attempt's deadline;
    /// released rows go to the next worker at once.
    #[tokio::test(flavor = "current_thread")]
    async fn a_change_is_a_fenced_compare_and_set_safe_to_run_twice() {
        let Some(pg) = TempPostgres::start("outbox/tests/postgres.rs changes") else {
            return;
        };
        let url = pg.database("changes");
        let j = PgJournal::connect(&url)
            .await
            .unwrap()
            .lease(Duration::from_millis(1500))
            .without_heartbeat();
        j.bind(GROUP).await.unwrap();
        j.open(&reminders(["201", "202", "203"])).await.unwrap();
        let held = j.claim(10).await.unwrap();
        let run = held[0].run;
        let body: herohealth::types::SendMessageRequest =
            herohealth::types::SendMessageRequest::builder()
                .patient_id("201")
                .message_type(MessageType::Sms)
                .message_string("Reminder 0")
                .try_into()
                .unwrap();
        let now = chrono::Utc::now();
        let flight = |secs| RowState::InFlight {
            attempt: herohealth::SendAttempt::new(
                &body,
                now,
                now + chrono::Duration::seconds(secs),
            ),
        };
        let sends = |entries: &[herohealth_outbox::Entry], i: usize| entries[i].sends;
        // Row 0's attempt is due at once: its lease stays the 1.5 s lease.
        let to_flight = flight(0);
        j.transition(run, 0, Status::Pending, &to_flight)
            .await
            .unwrap();
        // Run again, as after a lost reply: done, counted once.
        j.transition(run, 0, Status::Pending, &to_flight)
            .await
            .unwrap();
        assert_eq!(sends(&j.entries().await.unwrap(), 0), 1);
        // Another change from a state the row is not in: a conflict naming what it is.
        let err = j
            .transition(run, 0, Status::Unknown, &RowState::Pending)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                JournalError::Conflict {
                    index: 0,
                    expected: Status::Unknown,
                    found: Status::InFlight
                }
            ),
            "{err:?}"
        );
        // Back to pending from in flight (Hero provably did not carry it out): uncounted.
        j.transition(run, 0, Status::InFlight, &RowState::Pending)
            .await
            .unwrap();
        assert_eq!(sends(&j.entries().await.unwrap(), 0), 0);
        // Row 1 goes in flight with an attempt due in 30 s: its lease outlasts the 1.5 s lease.
        j.transition(run, 1, Status::Pending, &flight(30))
            .await
            .unwrap();
        // Row 2 is final: no longer held by anyone.
        let sent = RowState::Sent {
            message_id: "m-2".into(),
        };
        j.transition(run, 2, Status::Pending, &sent).await.unwrap();
        // This worker holds it no more: a second change of it is refused, changing nothing.
        let err = j
            .transition(run, 2, Status::Pending, &RowState::Pending)
            .await
            .unwrap_err();
        assert!(matches!(err, JournalError::Fenced { index: 2 }), "{err:?}");
        assert_eq!(sends(&j.entries().await.unwrap(), 2), 0);
        assert_eq!(j.entries().await.unwrap()[2].state, sent);
        assert_eq!(
            pg.psql("changes", "SELECT claimed FROM outbox_rows WHERE idx = 2"),
            "f"
        );
        // The 1.5 s lease runs out (no heartbeat): row 0 is not put in flight on it.
        tokio::time::sleep(Duration::from_millis(2000)).await;
        let err = j
            .transition(run, 0, Status::Pending, &flight(30))
            .await
            .unwrap_err();
        assert!(matches!(err, JournalError::Fenced { index: 0 }), "{err:?}");
        // Another worker takes row 0 (its lease ran out), not row 1 (in flight, leased to its
        // deadline).
        let other = PgJournal::connect(&url).await.unwrap();
        other.bind(GROUP).await.unwrap();
        let taken: Vec<u64> = other
            .claim(10)
            .await
            .unwrap()
            .iter()
            .map(|e| e.index)
            .collect();
        assert_eq!(taken, [0]);
        other.release().await.unwrap();
        // Released: the first worker claims row 0 again at once, with a new token (and its own
        // row in flight again, first).
        let again = j.claim(10).await.unwrap();
        assert_eq!(again.iter().map(|e| e.index).collect::<Vec<_>>(), [1, 0]);
        j.transition(run, 0, Status::Pending, &flight(30))
            .await
            .unwrap();
    }

    /// A database error that is not a lost connection (here, a table that is gone) is the
    /// claim's error, named by its SQLSTATE, never an empty claim.
    #[tokio::test(flavor = "current_thread")]
    async fn a_claim_that_fails_says_so() {
        let Some(pg) = TempPostgres::start("outbox/tests/postgres.rs claim fails") else {
            return;
        };
        let url = pg.database("claimfails");
        let j = PgJournal::connect(&url).await.unwrap();
        j.bind(GROUP).await.unwrap();
        j.open(&reminders(["401"])).await.unwrap();
        pg.psql(
            "claimfails",
            "ALTER TABLE outbox_rows RENAME TO outbox_rows_gone",
        );
        let err = j.claim(10).await.unwrap_err();
        assert!(err.to_string().contains("42P01"), "{err}");
    }

    /// A row that becomes ambiguous records since when it waits for a person (the database's
    /// clock), until decided; a run's `waiting_since` is its oldest. A journal of schema 3 gets
    /// the column when a worker connects, its ambiguous rows waiting since their last change.
    #[tokio::test(flavor = "current_thread")]
    async fn an_ambiguous_row_records_since_when_it_waits_and_schema_3_is_migrated() {
        let Some(pg) = TempPostgres::start("outbox/tests/postgres.rs waiting since") else {
            return;
        };
        let url = pg.database("waiting");
        let j = PgJournal::connect(&url).await.unwrap();
        j.bind(GROUP).await.unwrap();
        j.open(&reminders(["601", "602", "603"])).await.unwrap();
        let run = j.claim(10).await.unwrap()[0].run;
        let ambiguous = RowState::Ambiguous {
            message_ids: vec!["41".into()],
            reason: "example".into(),
        };
        assert_eq!(j.runs().await.unwrap()[0].waiting_since, None);
        j.transition(run, 0, Status::Pending, &ambiguous)
            .await
            .unwrap();
        j.transition(run, 1, Status::Pending, &ambiguous)
            .await
            .unwrap();
        let at = |idx: u64| {
            pg.psql(
                "waiting",
                &format!(
                    "SELECT coalesce(to_char(waiting_since AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '-'),
                            abs(extract(epoch FROM waiting_since - updated_at)) < 1
                     FROM outbox_rows WHERE idx = {idx}"
                ),
            )
        };
        let first = at(0);
        assert!(first.ends_with("|t"), "{first}");
        let since = |text: &str| {
            chrono::DateTime::parse_from_rfc3339(text.split('|').next().unwrap())
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        assert_eq!(
            j.runs().await.unwrap()[0].waiting_since,
            Some(since(&first))
        );
        assert_eq!(at(2), "-|", "a pending row waits for no one");
        let decision =
            herohealth_outbox::Decision::new(herohealth_outbox::Choice::Abandon, "A. Person", "x")
                .unwrap();
        j.decide(run, 0, &decision).await.unwrap();
        assert_eq!(at(0), "-|", "a decided row waits no more");
        let second = at(1);
        assert_eq!(
            j.runs().await.unwrap()[0].waiting_since,
            Some(since(&second))
        );
        j.release().await.unwrap();
        drop(j);

        // The journal as version 3 left it: no column, row 1 ambiguous since its last change.
        pg.psql(
            "waiting",
            "ALTER TABLE outbox_rows DROP COLUMN waiting_since;
             UPDATE outbox_rows SET updated_at = '2026-01-02T03:04:05.000006Z' WHERE idx = 1;
             UPDATE herohealth_outbox_meta SET value = '3' WHERE key = 'schema'",
        );
        let j = PgJournal::connect(&url).await.unwrap();
        assert_eq!(
            pg.psql(
                "waiting",
                "SELECT value FROM herohealth_outbox_meta WHERE key = 'schema'"
            ),
            herohealth_outbox::PG_SCHEMA.to_string()
        );
        assert_eq!(at(1), "2026-01-02T03:04:05.000006Z|t");
        assert_eq!(at(2), "-|");
        assert_eq!(
            j.runs().await.unwrap()[0].waiting_since,
            Some(since("2026-01-02T03:04:05.000006Z"))
        );
    }

    /// Rows to resolve (in flight, unknown) come before pending ones in a claim.
    #[tokio::test(flavor = "current_thread")]
    async fn rows_to_resolve_are_claimed_first() {
        let Some(pg) = TempPostgres::start("outbox/tests/postgres.rs resolve first") else {
            return;
        };
        let url = pg.database("resolvefirst");
        let j = PgJournal::connect(&url)
            .await
            .unwrap()
            .lease(Duration::from_millis(200))
            .without_heartbeat();
        j.bind(GROUP).await.unwrap();
        j.open(&reminders(["501", "502", "503"])).await.unwrap();
        let held = j.claim(10).await.unwrap();
        // Row 2 goes in flight with an attempt already due: its lease is the 0.2 s lease.
        let body: herohealth::types::SendMessageRequest =
            herohealth::types::SendMessageRequest::builder()
                .patient_id("503")
                .message_type(MessageType::Sms)
                .message_string("Reminder 2")
                .try_into()
                .unwrap();
        let now = chrono::Utc::now();
        let flight = RowState::InFlight {
            attempt: herohealth::SendAttempt::new(&body, now, now),
        };
        j.transition(held[0].run, 2, Status::Pending, &flight)
            .await
            .unwrap();
        j.release().await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let other = PgJournal::connect(&url).await.unwrap();
        other.bind(GROUP).await.unwrap();
        let order: Vec<u64> = other
            .claim(10)
            .await
            .unwrap()
            .iter()
            .map(|e| e.index)
            .collect();
        assert_eq!(order, [2, 0, 1]);
    }

    /// The same input queued twice is one run; another input is another run of the same database.
    #[tokio::test(flavor = "current_thread")]
    async fn an_input_is_queued_once_by_its_fingerprint() {
        let Some(pg) = TempPostgres::start("outbox/tests/postgres.rs runs") else {
            return;
        };
        let url = pg.database("runs");
        let j = PgJournal::connect(&url).await.unwrap();
        j.bind(GROUP).await.unwrap();
        j.open(&reminders(["1", "2"])).await.unwrap();
        j.open(&reminders(["1", "2"])).await.unwrap();
        assert_eq!(j.entries().await.unwrap().len(), 2);
        j.open(&reminders(["3"])).await.unwrap();
        assert_eq!(j.entries().await.unwrap().len(), 1);
        let runs = j.runs().await.unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!((runs[0].pending, runs[1].pending), (2, 1));
        // A second connection migrates nothing twice.
        PgJournal::connect(&url).await.unwrap();
    }

    /// Four outboxes (workers) on one Postgres journal and one practice group, with a rate limit
    /// on the mock: every row is sent exactly once, no 429 is answered, and no sliding second of
    /// the mock's journal holds more requests than the limit (the shared pace). The workers pace
    /// at half the mock's limit: arrivals on a busy machine (CI shares its cores, a second copy of
    /// the suite may run) bunch by more than the pace's headroom, and four unshared paces would
    /// still send twice the limit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn four_workers_share_one_pace_and_send_each_row_once() {
        let Some(pg) = TempPostgres::start("outbox/tests/postgres.rs shared pace") else {
            return;
        };
        let url = pg.database("pace");
        const LIMIT: u32 = 20;
        const ROWS: usize = 120;
        let mock = MockServer::builder()
            .api_key("hero-pace-test-key", "practice-pace")
            .rate_limit(LIMIT)
            .start()
            .await
            .unwrap();
        let patients: Vec<String> = (0..ROWS).map(|i| format!("{}", 7000 + i)).collect();
        let input = reminders(&patients);
        let mut workers = Vec::new();
        for _ in 0..4 {
            let url = url.clone();
            let hero = mock.client();
            let input = input.clone();
            workers.push(tokio::spawn(async move {
                let journal = PgJournal::connect(&url).await.unwrap();
                let options = Options::default()
                    .concurrency(4)
                    .rate(std::num::NonZeroU32::new(LIMIT / 2));
                let outbox = Outbox::new(hero, journal, options);
                outbox.run(&input, |_| {}).await.unwrap()
            }));
        }
        for w in workers {
            let summary = w.await.unwrap();
            assert!(summary.all_sent(), "{summary:?}");
        }
        let journal = mock.journal();
        assert_eq!(
            journal.iter().filter(|e| e.status == 429).count(),
            0,
            "no 429"
        );
        let mut per_patient: BTreeMap<String, usize> = BTreeMap::new();
        for m in mock.sent_messages() {
            *per_patient.entry(m.patient_id).or_default() += 1;
        }
        assert_eq!(per_patient.len(), ROWS);
        assert!(per_patient.values().all(|n| *n == 1), "{per_patient:?}");
        assert_eq!(mock.processed("send_message"), ROWS);
        // Every sliding second of the mock's clock: at most the limit.
        let mut times: Vec<_> = journal.iter().map(|e| e.received_at).collect();
        times.sort();
        let most = max_in_any_second(&times);
        assert!(most <= LIMIT as usize, "{most} requests in one second");
        eprintln!("shared pace: at most {most} requests in any sliding second (limit {LIMIT})");
    }

    /// The most timestamps inside any window `[t, t + 1 s)`.
    fn max_in_any_second(sorted: &[chrono::DateTime<chrono::Utc>]) -> usize {
        let mut most = 0;
        let mut start = 0;
        for end in 0..sorted.len() {
            while sorted[end] - sorted[start] >= chrono::Duration::seconds(1) {
                start += 1;
            }
            most = most.max(end - start + 1);
        }
        most
    }
}
