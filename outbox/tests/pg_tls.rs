//! `PgJournal` over TLS (rustls), from the connection string's `sslmode` and `sslrootcert`:
//! against a throwaway cluster started with TLS only (`hostnossl ... reject`) and a certificate
//! made in the test (the `openssl` command line: a CA, and a server certificate for `localhost`
//! signed by it), and against one without TLS. Without PostgreSQL's binaries each test prints a
//! loud line (and fails under `HEROHEALTH_REQUIRE_POSTGRES`).

mod support;

#[cfg(not(feature = "postgres"))]
#[test]
fn the_postgres_feature_is_off() {
    support::postgres_feature_off(
        "outbox/tests/pg_tls.rs",
        "the PgJournal TLS tests were NOT run",
    );
}

#[cfg(feature = "postgres")]
mod with_postgres {
    use std::{
        path::{Path, PathBuf},
        process::Command,
    };

    use herohealth::MessageType;
    use herohealth_mock::MockServer;
    use herohealth_outbox::{
        Input, Journal, JournalError, Options, Outbox, PgJournal, Row,
        testing::{Setup, TempPostgres},
    };

    fn openssl(dir: &Path, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("the openssl command line (Debian's openssl)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A CA (`NAME-ca.crt`) and a certificate for `localhost` it signed (`NAME.crt`,
    /// `NAME.key`), valid from now for a day.
    fn certificates(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
        let ca = format!("{name}-ca");
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                &format!("/CN={ca}"),
                "-keyout",
                &format!("{ca}.key"),
                "-out",
                &format!("{ca}.crt"),
            ],
        );
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
            ],
        );
        std::fs::write(
            dir.join(format!("{name}.ext")),
            "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                &format!("{ca}.crt"),
                "-CAkey",
                &format!("{ca}.key"),
                "-CAcreateserial",
                "-days",
                "1",
                "-out",
                &format!("{name}.crt"),
                "-extfile",
                &format!("{name}.ext"),
            ],
        );
        (
            dir.join(format!("{ca}.crt")),
            dir.join(format!("{name}.crt")),
            dir.join(format!("{name}.key")),
        )
    }

    fn input() -> Input {
        Input::from_rows(
            (0..3)
                .map(|i| Row::new(&format!("{}", 900 + i), MessageType::Sms, "Hi").unwrap())
                .collect(),
        )
    }

    /// Whether every connection to `db` but psql's own uses TLS, and how many there are.
    fn tls_connections(pg: &TempPostgres, db: &str) -> String {
        pg.psql(
            db,
            &format!(
                "SELECT count(*) || ' ' || coalesce(bool_and(s.ssl), false) FROM pg_stat_ssl s
                 JOIN pg_stat_activity a USING (pid)
                 WHERE a.datname = '{db}' AND a.pid <> pg_backend_pid()"
            ),
        )
    }

    /// A server that requires TLS: `disable` is refused; `require` connects (encrypted, the
    /// certificate unchecked); `verify-ca` with its CA connects; `verify-full` connects to the
    /// name the certificate is for and is refused for another name and for another CA; a CA file
    /// that cannot be read is refused before connecting. A whole run goes over `verify-full`,
    /// every connection encrypted.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tls_is_required_and_checked_as_the_url_says() {
        let dir = tempfile::tempdir().unwrap();
        let (ca, cert, key) = certificates(dir.path(), "server");
        let (other_ca, _, _) = certificates(dir.path(), "other");
        let Some(pg) = TempPostgres::start_setup(
            "outbox/tests/pg_tls.rs TLS",
            Setup {
                tls: Some((cert, key)),
                tls_only: true,
                ..Setup::default()
            },
        ) else {
            return;
        };
        let plain = pg.database("tls");
        let base = plain.replace(
            "postgres://postgres@127.0.0.1",
            "postgres://postgres@localhost",
        );
        let url = |host_url: &str, query: &str| format!("{host_url}?{query}");
        let ca = ca.display().to_string();

        let err = PgJournal::connect(&url(&base, "sslmode=disable"))
            .await
            .unwrap_err();
        assert!(matches!(err, JournalError::Config(_)), "{err:?}");
        assert!(err.to_string().contains("28000"), "{err}");

        PgJournal::connect(&url(&base, "sslmode=require"))
            .await
            .unwrap();
        PgJournal::connect(&url(&plain, &format!("sslmode=verify-ca&sslrootcert={ca}")))
            .await
            .unwrap();

        // For 127.0.0.1 the certificate (for localhost) is not valid: verify-full refuses it.
        let err = PgJournal::connect(&url(
            &plain,
            &format!("sslmode=verify-full&sslrootcert={ca}"),
        ))
        .await
        .unwrap_err();
        assert!(matches!(err, JournalError::Config(_)), "{err:?}");
        assert!(err.to_string().contains("not for the host"), "{err}");
        let other = other_ca.display().to_string();
        let err = PgJournal::connect(&url(
            &base,
            &format!("sslmode=verify-full&sslrootcert={other}"),
        ))
        .await
        .unwrap_err();
        assert!(err.to_string().contains("not issued by the CA"), "{err}");
        let err = PgJournal::connect(&url(
            &base,
            "sslmode=verify-full&sslrootcert=/no/such/ca.pem",
        ))
        .await
        .unwrap_err();
        assert!(err.to_string().contains("sslrootcert"), "{err}");
        assert!(!err.to_string().contains("/no/such"), "{err}");

        // A run over verify-full: rows journaled and sent, every connection encrypted.
        let full = url(&base, &format!("sslmode=verify-full&sslrootcert={ca}"));
        let mock = MockServer::start().await;
        let journal = PgJournal::connect(&full).await.unwrap();
        let outbox = Outbox::new(
            mock.client(),
            journal,
            Options::default().rate(std::num::NonZeroU32::new(50)),
        );
        let summary = outbox
            .run(&input(), |_| {
                // Meanwhile, the journal's connections (rows and pace) are all TLS.
            })
            .await
            .unwrap();
        assert!(summary.all_sent(), "{summary:?}");
        let (count, all_tls) = {
            let shown = tls_connections(&pg, "tls");
            let (c, t) = shown.split_once(' ').unwrap();
            (c.parse::<u32>().unwrap(), t.to_owned())
        };
        assert!(count >= 2, "rows and pace connections: {count}");
        assert_eq!(all_tls, "true");
        assert_eq!(outbox.journal().entries().await.unwrap().len(), 3);
    }

    /// A client that requires TLS (`require`, `verify-full`) refuses a server that does not
    /// offer it, at once and saying so; `prefer` (the default) connects without.
    #[tokio::test(flavor = "current_thread")]
    async fn tls_required_by_the_client_is_refused_by_a_server_without_it() {
        let Some(pg) = TempPostgres::start("outbox/tests/pg_tls.rs no TLS") else {
            return;
        };
        let url = pg.database("notls");
        let dir = tempfile::tempdir().unwrap();
        let (ca, _, _) = certificates(dir.path(), "unused");
        let full = format!("sslmode=verify-full&sslrootcert={}", ca.display());
        for mode in ["sslmode=require", full.as_str()] {
            let err = PgJournal::connect(&format!("{url}?{mode}"))
                .await
                .unwrap_err();
            assert!(matches!(err, JournalError::Config(_)), "{mode}: {err:?}");
            assert!(err.to_string().contains("TLS"), "{mode}: {err}");
        }
        let j = PgJournal::connect(&url).await.unwrap();
        j.bind("practice-tls").await.unwrap();
        j.open(&input()).await.unwrap();
    }
}
