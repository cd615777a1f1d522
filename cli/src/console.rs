//! `hero outbox serve`: the outbox console (herohealth_outbox::console) on a journal, on loopback
//! unless given TLS or the risk named; users from the environment or a file, never an argument.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Args;
use herohealth::HeroClient;
use herohealth_outbox::{
    Journal, PgJournal, SqliteJournal,
    console::{self, Config, Users},
};

use crate::{
    args::JournalArg,
    exit::{Exit, Failure, Outcome},
};

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// The journal: a PostgreSQL URL, or an SQLite file (a run may hold it meanwhile; a decision
    /// waits until no run holds it).
    #[arg(long, value_name = "postgres://... or FILE.db")]
    journal: JournalArg,
    /// Where to listen. Loopback by default; any other address needs --tls-cert and --tls-key,
    /// or --insecure-plain-http.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDRESS:PORT")]
    bind: SocketAddr,
    /// Who may log in: a file of `name:password` or `name:$argon2id$...` lines (hash one with
    /// `hero outbox hash-password`). Default: HERO_CONSOLE_USER and HERO_CONSOLE_PASSWORD.
    #[arg(long, value_name = "FILE")]
    users: Option<PathBuf>,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "CERT.pem", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM); needs --tls-cert.
    #[arg(long, value_name = "KEY.pem", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Listen on a non-loopback address over plain HTTP: anyone on the network path can read
    /// the passwords and sessions. Prefer --tls-cert/--tls-key, or a TLS proxy in front.
    #[arg(long)]
    insecure_plain_http: bool,
    /// Show everything, change nothing (no decision can be made).
    #[arg(long)]
    read_only: bool,
    /// Show every practice group of a shared (PostgreSQL) journal, not only the one of
    /// HERO_PRACTICE_GROUP_ID.
    #[arg(long)]
    all_practice_groups: bool,
    /// The name the pages give the practice group of HERO_PRACTICE_GROUP_ID (the id is never
    /// shown).
    #[arg(long, default_value = "HERO_PRACTICE_GROUP_ID", value_name = "NAME")]
    practice_group_label: String,
    /// Minutes a session lasts unused.
    #[arg(long, default_value_t = 30, value_name = "MINUTES", value_parser = clap::value_parser!(u64).range(1..=1440))]
    session_minutes: u64,
}

/// The users of the file, else of the environment.
fn users(a: &ServeArgs) -> Result<Users, Failure> {
    let usage = |e: console::ConsoleError| Failure::new(Exit::Usage, e.to_string(), None);
    if let Some(path) = &a.users {
        let text = crate::exit::read_file("--users", path)?;
        return Users::parse(&text)
            .map_err(|e| Failure::file(Exit::Usage, "--users", format!("is refused: {e}")));
    }
    Users::from_env(|n| std::env::var(n).ok())
        .map_err(usage)?
        .ok_or_else(|| {
            Failure::new(
                Exit::Usage,
                "hero outbox serve: nobody may log in",
                Some("set HERO_CONSOLE_USER and HERO_CONSOLE_PASSWORD (at least 12 characters), or give --users FILE".to_owned()),
            )
        })
}

/// The practice group the console shows: HERO_PRACTICE_GROUP_ID's, unless every group was
/// asked for. A shared journal needs one or the other.
fn scope(a: &ServeArgs, config: Config, postgres: bool) -> Result<Config, Failure> {
    if a.all_practice_groups {
        return Ok(config);
    }
    match std::env::var("HERO_PRACTICE_GROUP_ID") {
        Ok(id) if !id.trim().is_empty() => Ok(config.practice_group(
            HeroClient::practice_group_key_of(&id),
            a.practice_group_label.clone(),
        )),
        _ if postgres => Err(Failure::new(
            Exit::Usage,
            "hero outbox serve: a shared journal holds the runs of every practice group that uses it: which one may the console show?",
            Some("set HERO_PRACTICE_GROUP_ID (its group only is shown and decided), or give --all-practice-groups".to_owned()),
        )),
        // An SQLite journal holds one input of one group.
        _ => Ok(config),
    }
}

pub(crate) async fn serve(a: ServeArgs) -> Outcome {
    let tls = a.tls_cert.is_some();
    console::check_bind(a.bind, tls, a.insecure_plain_http)
        .map_err(|e| Failure::new(Exit::Usage, e.to_string(), None))?;
    let users = users(&a)?;
    let postgres = matches!(a.journal, JournalArg::Postgres(_));
    let config = Config::new(users)
        .read_only(a.read_only)
        .secure_cookies(tls)
        .session_idle(Duration::from_secs(a.session_minutes * 60));
    let config = scope(&a, config, postgres)?;
    match &a.journal {
        JournalArg::Postgres(url) => {
            let journal = PgJournal::connect(url)
                .await
                .map_err(crate::outbox::pg_failure)?;
            run(journal, config, &a).await
        }
        JournalArg::File(path) => {
            // Read without a lock (a run may hold the file); a decision takes the file for itself.
            let journal = if a.read_only {
                SqliteJournal::open_read_only(path)
            } else {
                SqliteJournal::open_watching(path)
            }
            .map_err(|e| Failure::file(Exit::Usage, "--journal", format!("cannot be read: {e}")))?;
            run(journal, config, &a).await
        }
    }
}

async fn run<J: Journal>(journal: J, config: Config, a: &ServeArgs) -> Outcome {
    let app = console::router::<J>(journal, config)
        .map_err(|e| Failure::new(Exit::Usage, e.to_string(), None))?
        .into_make_service_with_connect_info::<SocketAddr>();
    let failed = |what: &str, e: std::io::Error| {
        Failure::new(
            Exit::Other,
            format!("hero outbox serve: {what} ({})", e.kind()),
            None,
        )
    };
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match (&a.tls_cert, &a.tls_key) {
        (Some(cert), Some(key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .map_err(|e| failed("the TLS certificate or key could not be read", e))?;
            let listener = std::net::TcpListener::bind(a.bind)
                .map_err(|e| failed(&format!("cannot listen on {}", a.bind), e))?;
            listener
                .set_nonblocking(true)
                .map_err(|e| failed("the listener", e))?;
            let addr = listener
                .local_addr()
                .map_err(|e| failed("the listener", e))?;
            announce("https", addr, a.read_only);
            let server = axum_server::from_tcp_rustls(listener, tls)
                .map_err(|e| failed("the listener", e))?
                .serve(app);
            tokio::select! {
                r = server => r.map_err(|e| failed("the server stopped", e))?,
                () = stop => {}
            }
        }
        _ => {
            let listener = tokio::net::TcpListener::bind(a.bind)
                .await
                .map_err(|e| failed(&format!("cannot listen on {}", a.bind), e))?;
            let addr = listener
                .local_addr()
                .map_err(|e| failed("the listener", e))?;
            announce("http", addr, a.read_only);
            axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
                .map_err(|e| failed("the server stopped", e))?;
        }
    }
    Ok(())
}

fn announce(scheme: &str, addr: SocketAddr, read_only: bool) {
    eprintln!(
        "hero outbox console listening on {scheme}://{addr}/{}; Ctrl-C stops it",
        if read_only { " (read only)" } else { "" }
    );
}

/// `hero outbox hash-password`: reads a password from standard input (one line) and prints its
/// Argon2id hash, for a users file.
pub(crate) fn hash_password() -> Outcome {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| {
        Failure::new(
            Exit::Other,
            format!("reading standard input ({})", e.kind()),
            None,
        )
    })?;
    let password = line.trim_end_matches(['\r', '\n']);
    let hash = console::hash_password(password)
        .map_err(|e| Failure::new(Exit::Usage, e.to_string(), None))?;
    println!("{hash}");
    Ok(())
}
