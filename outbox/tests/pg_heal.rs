//! `PgJournal` heals (issue 37): every method is async and runs inside any tokio runtime; a
//! connection ended by the server, a restart and a stop of several seconds are connected again
//! and the statement run again (leases renewed again afterwards, and the heartbeat says so once);
//! past its bound the journal says
//! the database is unreachable; the pace's connection cut sends no row above the limit, and a
//! shared pace that fails stops the run (never a pace of its own); a row
//! this version cannot read is named without its values. On a throwaway cluster of the installed
//! binaries (loopback only); without them each test prints a loud line (and fails under
//! `HEROHEALTH_REQUIRE_POSTGRES`).

mod support;

#[cfg(not(feature = "postgres"))]
#[test]
fn the_postgres_feature_is_off() {
    support::postgres_feature_off(
        "outbox/tests/pg_heal.rs",
        "the PgJournal tests were NOT run",
    );
}

#[cfg(feature = "postgres")]
mod with_postgres {
    use std::{collections::BTreeMap, num::NonZeroU32, time::Duration};

    use herohealth_mock::{Fault, FaultRule, MockServer};
    use herohealth_outbox::{
        Input, Journal, JournalError, Options, Outbox, PgJournal, RowState, Status,
        testing::TempPostgres,
    };

    const GROUP: &str = "practice-heal";

    /// Rows to patients `base`, `base + 1`, ... (`n` of them).
    fn input(n: usize, base: usize) -> Input {
        crate::support::reminders((base..base + n).map(|p| p.to_string()))
    }

    /// Polls `check` (bounded by a generous count, never asserting on time) until it holds.
    async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
        for _ in 0..600 {
            if check().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("never: {what}");
    }

    /// Every method of the journal, from a current-thread runtime (the one a new user's
    /// `#[tokio::main(flavor = "current_thread")]` gives): none blocks it or panics with "Cannot
    /// start a runtime from within a runtime", and dropping the journal there is fine.
    #[tokio::test(flavor = "current_thread")]
    async fn every_method_is_called_from_inside_a_runtime() {
        let Some(pg) = TempPostgres::start("outbox/tests/pg_heal.rs every method") else {
            return;
        };
        let url = pg.database("methods");
        let j = PgJournal::connect(&url)
            .await
            .unwrap()
            .lease(Duration::from_secs(5))
            .reconnect_for(Duration::from_secs(30));
        j.bind(GROUP).await.unwrap();
        j.open(&input(2, 100)).await.unwrap();
        assert_eq!(j.entries().await.unwrap().len(), 2);
        let claimed = j.claim(10).await.unwrap();
        assert_eq!(claimed.len(), 2);
        assert_eq!(j.unfinished().await.unwrap(), 2);
        let sent = RowState::Sent {
            message_id: "7".into(),
        };
        j.transition(claimed[0].run, 0, Status::Pending, &sent)
            .await
            .unwrap();
        assert_eq!(j.known_ids().await.unwrap(), ["7"]);
        let pace = j
            .shared_pace(GROUP, NonZeroU32::new(50).unwrap())
            .await
            .unwrap()
            .expect("a shared pace");
        pace.acquire().await.unwrap();
        let runs = j.runs().await.unwrap();
        assert_eq!((runs[0].sent, runs[0].pending), (1, 1));
        assert_eq!(runs[0].group_key.as_deref(), Some(GROUP));
        assert!(j.to_decide().await.unwrap().is_empty());
        until("the worker's first heartbeat", async || {
            j.workers()
                .await
                .unwrap()
                .iter()
                .any(|w| w.id == j.worker_id())
        })
        .await;
        let me = j.workers().await.unwrap();
        let me = me.iter().find(|w| w.id == j.worker_id()).unwrap();
        assert_eq!((me.held, me.in_flight), (1, 0), "{me:?}");
        j.release().await.unwrap();
        assert!(format!("{j:?}").starts_with("PgJournal"));
        drop(pace);
        drop(j);
        // And the same from a multi-thread runtime's task.
        let url2 = url.clone();
        tokio::task::spawn_blocking(move || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap()
                .block_on(async {
                    let j = PgJournal::connect(&url2).await.unwrap();
                    j.bind(GROUP).await.unwrap();
                    assert_eq!(j.entries().await.unwrap().len(), 2);
                })
        })
        .await
        .unwrap();
    }

    /// The server ends the worker's connection (`pg_terminate_backend`, as an idle timeout or an
    /// operator would): the next call connects again and runs; the heartbeat renews the leases
    /// again, so nobody takes the worker's rows over.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_connection_ended_by_the_server_is_made_again_and_the_leases_renewed() {
        let Some(pg) = TempPostgres::start("outbox/tests/pg_heal.rs terminate") else {
            return;
        };
        let url = pg.database("terminate");
        let j = PgJournal::connect(&url)
            .await
            .unwrap()
            .lease(Duration::from_secs(6));
        j.bind(GROUP).await.unwrap();
        j.open(&input(3, 200)).await.unwrap();
        let held = j.claim(10).await.unwrap();
        assert_eq!(held.len(), 3);
        for _ in 0..2 {
            let before = pg.psql("terminate", "SELECT clock_timestamp()");
            // Every connection of the worker's rows. Each is made again on its next use, so after
            // a cut there may be none yet (on a busy machine): wait for one to cut again.
            let mut pids = String::new();
            until("a connection of the worker's rows", async || {
                pids = pg.psql(
                    "terminate",
                    &format!(
                        "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity
                         WHERE application_name = 'herohealth-outbox rows {}'",
                        j.worker_id()
                    ),
                );
                !pids.is_empty()
            })
            .await;
            for pid in pids.split(' ') {
                pg.terminate(pid.parse().unwrap());
            }
            // Renewed after the cut (the heartbeat shares the rows' connection, made again):
            // every lease now runs to well after the cut.
            until("leases renewed after the cut", async || {
                let renewed = pg.psql(
                    "terminate",
                    &format!(
                        "SELECT (SELECT count(*) FROM outbox_workers WHERE heartbeat_at > '{before}')
                              || ' ' || (SELECT count(*) FROM outbox_rows
                                         WHERE claimed AND lease_until > '{before}'::timestamptz + interval '3 seconds')"
                    ),
                );
                renewed == "1 3"
            })
            .await;
        }
        let other = PgJournal::connect(&url).await.unwrap();
        other.bind(GROUP).await.unwrap();
        assert!(other.claim(10).await.unwrap().is_empty(), "still held");
        let sent = RowState::Sent {
            message_id: "8".into(),
        };
        j.transition(held[1].run, held[1].index, Status::Pending, &sent)
            .await
            .unwrap();
        assert_eq!(other.entries().await.unwrap()[1].state, sent);
    }

    /// A call made while the server restarts (`pg_ctl restart -m immediate`, every connection
    /// cut) or while it is stopped for several seconds waits for it and runs; nothing is lost.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_restart_and_a_stop_of_several_seconds_are_waited_out() {
        let Some(pg) = TempPostgres::start("outbox/tests/pg_heal.rs restart") else {
            return;
        };
        let url = pg.database("restart");
        let j = PgJournal::connect(&url).await.unwrap();
        j.bind(GROUP).await.unwrap();
        j.open(&input(2, 300)).await.unwrap();
        let held = j.claim(10).await.unwrap();
        pg.restart_immediately();
        let sent = RowState::Sent {
            message_id: "9".into(),
        };
        j.transition(held[0].run, 0, Status::Pending, &sent)
            .await
            .unwrap();
        pg.stop();
        let call = tokio::spawn(async move {
            let failed = RowState::Failed {
                reason: "example".into(),
            };
            j.transition(held[1].run, 1, Status::Pending, &failed)
                .await
                .map(|()| j)
        });
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert!(!call.is_finished(), "the call waits for the database");
        pg.start_again();
        let j = call.await.unwrap().unwrap();
        let states: Vec<Status> = j
            .entries()
            .await
            .unwrap()
            .iter()
            .map(|e| e.state.status())
            .collect();
        assert_eq!(states, [Status::Sent, Status::Failed]);
    }

    /// Past its bound (`reconnect_for`) the journal says the database could not be reached, and
    /// how long it tried; once the database is back, the next call runs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn past_its_bound_the_journal_says_the_database_is_unreachable() {
        let Some(pg) = TempPostgres::start("outbox/tests/pg_heal.rs bound") else {
            return;
        };
        let url = pg.database("bound");
        let j = PgJournal::connect(&url)
            .await
            .unwrap()
            .reconnect_for(Duration::from_secs(1));
        j.bind(GROUP).await.unwrap();
        j.open(&input(1, 400)).await.unwrap();
        pg.stop();
        let err = j.entries().await.unwrap_err();
        assert!(
            matches!(err, JournalError::Unreachable { secs: 1.., .. }),
            "{err:?}"
        );
        let shown = err.to_string();
        assert!(
            shown.contains("could not be reached") && shown.contains("connection refused"),
            "{shown}"
        );
        assert!(!shown.contains("postgres://"), "{shown}");
        pg.start_again();
        assert_eq!(j.entries().await.unwrap().len(), 1);
        // A database that is not there at all: refused at once, named without the URL.
        let missing = url.replace("/bound", "/no_such_database");
        let err = PgJournal::connect(&missing).await.unwrap_err();
        assert!(matches!(err, JournalError::Config(_)), "{err:?}");
        assert!(err.to_string().contains("3D000"), "{err}");
    }

    /// Two workers share one pace; each worker's pace connection is ended by the server twice
    /// during the run: the pace connects again, and no sliding second of the mock holds more
    /// requests than the limit (the pace never went on alone). Every row is sent once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_pace_connection_cut_sends_no_row_above_the_limit() {
        let Some(pg) = TempPostgres::start("outbox/tests/pg_heal.rs pace cut") else {
            return;
        };
        let url = pg.database("pacecut");
        const LIMIT: u32 = 20;
        const ROWS: usize = 100;
        let mock = MockServer::builder()
            .api_key("hero-heal-test-key", "practice-heal")
            .rate_limit(LIMIT)
            .fault(FaultRule::new(
                "send_message",
                Fault::Latency(Duration::from_millis(2)),
            ))
            .start()
            .await
            .unwrap();
        let rows = input(ROWS, 5000);
        let mut workers = Vec::new();
        for _ in 0..2 {
            let (url, hero, rows) = (url.clone(), mock.client(), rows.clone());
            workers.push(tokio::spawn(async move {
                let journal = PgJournal::connect(&url).await.unwrap();
                // Two thirds of the mock's limit: arrivals on a busy machine bunch by more than
                // the pace's headroom, and two paces gone on alone would still send 4/3 of it.
                let options = Options::default()
                    .concurrency(4)
                    .rate(NonZeroU32::new(LIMIT * 2 / 3));
                Outbox::new(hero, journal, options)
                    .run(&rows, |_| {})
                    .await
                    .unwrap()
            }));
        }
        for at in [20, 50] {
            until("sends to go on", async || {
                mock.processed("send_message") >= at
            })
            .await;
            let pids = pg.psql(
                "pacecut",
                "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity
                 WHERE application_name LIKE 'herohealth-outbox pace %'",
            );
            let pids: Vec<i32> = pids.split(' ').map(|p| p.parse().unwrap()).collect();
            assert_eq!(pids.len(), 2, "one pace connection per worker");
            for pid in pids {
                pg.terminate(pid);
            }
        }
        for w in workers {
            assert!(w.await.unwrap().all_sent());
        }
        let journal = mock.journal();
        assert_eq!(journal.iter().filter(|e| e.status == 429).count(), 0);
        let mut times: Vec<_> = journal.iter().map(|e| e.received_at).collect();
        times.sort();
        let mut most = 0;
        let mut start = 0;
        for end in 0..times.len() {
            while times[end] - times[start] >= chrono::Duration::seconds(1) {
                start += 1;
            }
            most = most.max(end - start + 1);
        }
        assert!(most <= LIMIT as usize, "{most} requests in one second");
        let mut per_patient: BTreeMap<String, usize> = BTreeMap::new();
        for m in mock.sent_messages() {
            *per_patient.entry(m.patient_id).or_default() += 1;
        }
        assert_eq!(per_patient.len(), ROWS);
        assert!(per_patient.values().all(|n| *n == 1));
    }

    /// The pace's database out of reach past the bound: the run stops with the pace's error and
    /// sends nothing more; it never goes on at a pace of its own.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_pace_that_cannot_be_reached_stops_the_run() {
        let Some(pg) = TempPostgres::start("outbox/tests/pg_heal.rs pace gone") else {
            return;
        };
        let url = pg.database("pacegone");
        let mock = MockServer::builder()
            .api_key("hero-heal-test-key", "practice-heal")
            .start()
            .await
            .unwrap();
        let journal = PgJournal::connect(&url)
            .await
            .unwrap()
            .reconnect_for(Duration::from_millis(500));
        let outbox = Outbox::new(
            mock.client(),
            journal,
            Options::default().rate(NonZeroU32::new(5)),
        );
        let rows = input(40, 6000);
        let run = outbox.run(&rows, |_| {});
        let stop = async {
            until("a few sends", async || mock.processed("send_message") >= 3).await;
            pg.stop();
        };
        let (result, ()) = tokio::join!(run, stop);
        let err = result.unwrap_err();
        assert!(
            matches!(
                err,
                herohealth_outbox::OutboxError::Pace(_)
                    | herohealth_outbox::OutboxError::Journal(JournalError::Unreachable { .. })
            ),
            "{err:?}"
        );
        let sent = mock.processed("send_message");
        assert!(sent < 40, "{sent}");
        // Nothing more goes out once the run stopped.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(mock.processed("send_message"), sent);
        pg.start_again();
    }

    /// Everything this process logs, as text (a `tracing_subscriber` writer).
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
    }

    /// The heartbeat says when it cannot renew the leases (the database away past the bound)
    /// and, once, when it renews them again, with how many renewals it missed; while all is
    /// well it says nothing.
    #[tokio::test(flavor = "current_thread")]
    async fn the_heartbeat_says_when_it_fails_and_when_it_renews_again() {
        let Some(pg) = TempPostgres::start("outbox/tests/pg_heal.rs heartbeat") else {
            return;
        };
        let url = pg.database("heartbeat");
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        // A callsite first hit by another test's thread (no subscriber there) must not be
        // cached as "never": with a second dispatcher alive each event asks this thread's.
        let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
        let _guard = tracing::subscriber::set_default(subscriber);
        // The heartbeat runs on this (current-thread) runtime, under this thread's subscriber.
        let j = PgJournal::connect(&url)
            .await
            .unwrap()
            .lease(Duration::from_millis(600))
            .reconnect_for(Duration::from_millis(300));
        j.bind(GROUP).await.unwrap();
        j.open(&input(2, 900)).await.unwrap();
        assert_eq!(j.claim(10).await.unwrap().len(), 2);
        until("three heartbeats", async || {
            tokio::time::sleep(Duration::from_millis(700)).await;
            j.workers()
                .await
                .unwrap()
                .iter()
                .any(|w| w.id == j.worker_id())
        })
        .await;
        let quiet = logs.text();
        assert!(
            !quiet.contains("renewed again") && !quiet.contains("could not be renewed"),
            "{quiet}"
        );
        pg.stop();
        until("a renewal that failed", async || {
            logs.text().contains("the leases could not be renewed")
        })
        .await;
        pg.start_again();
        until("the leases renewed again", async || {
            logs.text().contains("the leases are renewed again")
        })
        .await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        let shown = logs.text();
        assert_eq!(shown.matches("renewed again").count(), 1, "{shown}");
        assert!(!shown.contains("missed=0"), "{shown}");
        // Logged from structure only: no URL, no row value.
        assert!(
            !shown.contains("postgres://") && !shown.contains("Reminder"),
            "{shown}"
        );
    }

    /// The shared pace failing while the rows' journal is fine (here its table is gone: not a
    /// lost connection, nothing to wait out) stops the run with the pace's error, named by its
    /// SQLSTATE: no request goes without a slot of the shared schedule (never a pace of this
    /// process alone), and every row is sent or still pending, none left in flight.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_shared_pace_that_fails_is_an_error_never_a_pace_of_its_own() {
        let Some(pg) = TempPostgres::start("outbox/tests/pg_heal.rs pace fails") else {
            return;
        };
        let url = pg.database("pacefails");
        let mock = MockServer::builder()
            .api_key("hero-heal-test-key", "practice-heal")
            .start()
            .await
            .unwrap();
        let journal = PgJournal::connect(&url).await.unwrap();
        let outbox = Outbox::new(
            mock.client(),
            journal,
            Options::default().rate(NonZeroU32::new(5)),
        );
        let rows = input(40, 8000);
        let run = outbox.run(&rows, |_| {});
        let gone = async {
            until("a few sends", async || mock.processed("send_message") >= 3).await;
            pg.psql(
                "pacefails",
                "ALTER TABLE outbox_pace RENAME TO outbox_pace_gone",
            );
        };
        let (result, ()) = tokio::join!(run, gone);
        let err = result.unwrap_err();
        assert!(
            matches!(err, herohealth_outbox::OutboxError::Pace(_)),
            "{err:?}"
        );
        assert!(err.to_string().contains("42P01"), "{err}");
        let sent = mock.processed("send_message");
        assert!(sent < 40, "{sent}");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(mock.processed("send_message"), sent, "nothing more went");
        let entries = outbox.journal().entries().await.unwrap();
        let by = |status| {
            entries
                .iter()
                .filter(|e| e.state.status() == status)
                .count()
        };
        assert_eq!(by(Status::Sent), sent);
        assert_eq!(by(Status::Pending), 40 - sent);
    }

    /// A row this version cannot read (another version's, or edited) is named by its run, row
    /// and column, never by its values.
    #[tokio::test(flavor = "current_thread")]
    async fn an_unreadable_row_is_named_without_its_values() {
        let Some(pg) = TempPostgres::start("outbox/tests/pg_heal.rs unreadable") else {
            return;
        };
        let url = pg.database("unreadable");
        let j = PgJournal::connect(&url).await.unwrap();
        j.bind(GROUP).await.unwrap();
        j.open(&input(2, 700)).await.unwrap();
        pg.psql(
            "unreadable",
            "UPDATE outbox_rows SET state = '{\"status\":\"held_for_Zebedee_Quenby_9434765919\"}' WHERE idx = 1",
        );
        let err = j.entries().await.unwrap_err();
        assert!(
            matches!(
                err,
                JournalError::Unreadable {
                    index: 1,
                    line: None,
                    column: "state",
                    ..
                }
            ),
            "{err:?}"
        );
        for shown in [err.to_string(), format!("{err:?}"), format!("{err:#?}")] {
            assert!(
                !shown.contains("Zebedee") && !shown.contains("9434765919"),
                "{shown}"
            );
        }
    }
}
