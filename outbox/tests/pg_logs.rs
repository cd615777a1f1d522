//! What the database driver logs holds no row value: every value the journal hands to
//! `tokio_postgres` is masked in its `Debug` (the driver logs a statement's parameters with it
//! at DEBUG), and the statements carry values only as parameters. A logger at TRACE captures
//! everything the driver (and every other `log` user) says while a journal queues, claims and
//! changes rows full of patient data. Its own binary: the logger is global.

mod support;

#[cfg(not(feature = "postgres"))]
#[test]
fn the_postgres_feature_is_off() {
    support::postgres_feature_off(
        "outbox/tests/pg_logs.rs",
        "the driver's logs were NOT checked",
    );
}

#[cfg(feature = "postgres")]
mod with_postgres {
    use std::sync::Mutex;

    use herohealth::MessageType;
    use herohealth_outbox::{
        Input, Journal, PgJournal, Row, RowState, Status, testing::TempPostgres,
    };

    /// Every record logged through `log`, at any level, with its target.
    static LOGGED: Mutex<Vec<String>> = Mutex::new(Vec::new());

    struct Capture;

    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &log::Record<'_>) {
            LOGGED
                .lock()
                .unwrap()
                .push(format!("{} {}", record.target(), record.args()));
        }
        fn flush(&self) {}
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_drivers_logs_hold_no_row_value() {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
        let Some(pg) = TempPostgres::start("outbox/tests/pg_logs.rs") else {
            return;
        };
        let url = pg.database("logs");
        let secrets = [
            "9434765919",
            "Zebedee Quenby",
            "+447700900123",
            "zebedee.quenby@example.org",
        ];
        let rows = vec![
            Row::new(
                "9434765919",
                MessageType::Sms,
                "Dear Zebedee Quenby, your results",
            )
            .unwrap()
            .to("+447700900123")
            .unwrap(),
            Row::new(
                "9434765919",
                MessageType::Email,
                "Zebedee Quenby: annual review",
            )
            .unwrap()
            .to("zebedee.quenby@example.org")
            .unwrap(),
        ];
        let j = PgJournal::connect(&url).await.unwrap();
        j.bind("practice-logs").await.unwrap();
        j.open(&Input::from_rows(rows)).await.unwrap();
        let held = j.claim(10).await.unwrap();
        let failed = RowState::Failed {
            reason: "refused for Zebedee Quenby".into(),
        };
        j.transition(held[0].run, held[0].index, Status::Pending, &failed)
            .await
            .unwrap();
        j.entries().await.unwrap();
        j.to_decide().await.unwrap();
        j.known_ids().await.unwrap();
        j.release().await.unwrap();
        drop(j);
        let logged = LOGGED.lock().unwrap().clone();
        assert!(
            logged.iter().any(|l| l.starts_with("tokio_postgres")),
            "the driver logged nothing at TRACE: the logger is not in place"
        );
        for line in &logged {
            for secret in secrets {
                assert!(!line.contains(secret), "{secret} logged: {line}");
            }
        }
        eprintln!("{} driver log lines, none with a row value", logged.len());
    }
}
