//! `hero outbox`: workers on a shared (PostgreSQL) journal, the files they work queued, the
//! status of any journal, and a local PostgreSQL to try workers with.

use std::{num::NonZeroU32, path::PathBuf, time::Duration};

use clap::{Args, Subcommand};
use herohealth::{FindOptions, HeroClient};
use herohealth_outbox::{
    Choice, Decision, DecisionRecord, Entry, IdentifyError, Journal, JournalError, Options, Outbox,
    OutboxError, PgJournal, RunStatus, SqliteJournal,
};

use crate::{
    args::JournalArg,
    exit::{Exit, Failure, Outcome},
    output::{Column, Format, Printer, Row},
};

#[derive(Subcommand)]
pub(crate) enum OutboxCmd {
    /// Run a worker on what is queued in a PostgreSQL journal (by `send-many --journal
    /// postgres://...`), with any number of other workers; exits when nothing is left.
    Work(WorkArgs),
    /// Each run's counts (pending, in flight, sent, failed, ambiguous) and the rows a person
    /// must decide; no patient data. For a PostgreSQL journal or an SQLite file (read only:
    /// a run may be going on).
    Status(StatusArgs),
    /// Record a person's decision on a row the outbox could not settle (ambiguous: it may have
    /// gone, and the evidence cannot say): --sent MESSAGE_ID (it went, as that message),
    /// --send-again (the outbox sends it, once, on its next run or worker), or --abandon (never
    /// sent by the outbox). Only an ambiguous row, only once; a row in flight or held by a
    /// worker never. Kept in the journal for good, with --by and --note.
    Decide(DecideArgs),
    /// Every decision recorded in the journal (who, when, the choice, the row's candidates, and
    /// the note by its length: a person's free text is kept in the journal, never printed),
    /// oldest first: `--format json` or `--format csv` for the record.
    Decisions(StatusArgs),
    /// Queue a CSV file's rows in a PostgreSQL journal (once, by its rows: queuing it again
    /// queues nothing) for `hero outbox work` to send; nothing is sent by this command.
    Queue(QueueArgs),
    /// A PostgreSQL of your own for trying workers out: `start` sets one up in --dir (initdb the
    /// first time, then pg_ctl start; loopback only, no password: never for patient data) and
    /// prints `export HERO_OUTBOX_JOURNAL=postgres://...`; `stop` stops it. Needs the server's
    /// binaries (Debian and Ubuntu: apt-get install postgresql).
    #[command(subcommand)]
    LocalDb(LocalDbCmd),
    /// The outbox console: a web page of the runs, the workers and the rows a person must
    /// decide, on loopback (http://127.0.0.1:8080/ by default). Who may log in comes from
    /// HERO_CONSOLE_USER and HERO_CONSOLE_PASSWORD, or --users FILE; never from an argument.
    Serve(crate::console::ServeArgs),
    /// Reads a password from standard input and prints its Argon2id hash, for the console's
    /// users file (`name:$argon2id$...`).
    HashPassword,
}

#[derive(Args)]
pub(crate) struct QueueArgs {
    /// The CSV file (as `hero messages send-many --from` reads it). Every row is checked before
    /// anything is queued.
    #[arg(long, value_name = "FILE.csv")]
    from: PathBuf,
    /// The journal: a PostgreSQL URL (postgres://user@host/db). It holds patient data.
    #[arg(long, value_name = "postgres://...")]
    journal: JournalArg,
}

#[derive(Args)]
#[command(group(
    clap::ArgGroup::new("choice").required(true).args(["sent", "send_again", "abandon"])
))]
pub(crate) struct DecideArgs {
    /// The journal: a PostgreSQL URL, or an SQLite file (not while a run holds it).
    #[arg(long, value_name = "postgres://... or FILE.db")]
    journal: JournalArg,
    /// The row's run, as `hero outbox status` shows it (0 for an SQLite journal).
    #[arg(long, value_name = "R", default_value_t = 0)]
    run: u64,
    /// The row's line in its input file, as `hero outbox status` shows it.
    #[arg(long, value_name = "N")]
    line: u64,
    /// It went, as this message: one of the row's candidates, or a message you found.
    #[arg(long, value_name = "MESSAGE_ID")]
    sent: Option<String>,
    /// It did not go: the outbox sends it again, once, through its normal path.
    #[arg(long)]
    send_again: bool,
    /// Never send it from this journal: the row ends failed.
    #[arg(long)]
    abandon: bool,
    /// Who decides (kept in the record).
    #[arg(long, value_name = "NAME")]
    by: String,
    /// Why: what you checked (kept in the record).
    #[arg(long, value_name = "TEXT")]
    note: String,
}

#[derive(Subcommand)]
pub(crate) enum LocalDbCmd {
    /// Set up (the first time) and start a PostgreSQL in --dir; prints the variable to export:
    /// `eval "$(hero outbox local-db start --dir outbox-db)"`.
    Start(LocalDbArgs),
    /// Stop the PostgreSQL running in --dir.
    Stop(LocalDbArgs),
}

#[derive(Args)]
pub(crate) struct LocalDbArgs {
    /// Its directory (created when missing).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The port on 127.0.0.1 (default: the one it had, else a free one).
    #[arg(long)]
    port: Option<u16>,
}

/// How a worker sends (shared by `send-many`).
#[derive(Args, Clone)]
pub(crate) struct WorkerArgs {
    /// Requests per second at most: your Hero rate limit, per practice group. With a PostgreSQL
    /// journal every worker of a practice group shares it. A 429 slows down further.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) rate: u32,
    /// Sends in flight at once (rows to one patient always go one at a time).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub(crate) concurrency: u64,
    /// How long Hero may take to list a new message, in milliseconds: a send whose outcome is
    /// unknown is looked for 3 times this far apart before it is sent again.
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    pub(crate) find_delay: u64,
    /// With a PostgreSQL journal: how long a worker's claim on a row lasts unrenewed, in
    /// seconds. A worker killed or stopped for longer loses its rows to another, which looks for
    /// their sends before anything is sent again.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub(crate) lease: f64,
    /// With a PostgreSQL journal: how long the database may stay out of reach (a restart, a
    /// failover, a cut connection) before the worker stops, exit 15, in seconds. Meanwhile it
    /// connects again with backoff; nothing is sent that is not recorded.
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    pub(crate) reconnect_for: f64,
}

impl WorkerArgs {
    pub(crate) fn options(&self) -> Options {
        Options::default()
            .concurrency(self.concurrency as usize)
            .rate(NonZeroU32::new(self.rate))
            .find(FindOptions::default().list_delay(Duration::from_millis(self.find_delay)))
    }

    pub(crate) fn lease(&self) -> Duration {
        Duration::try_from_secs_f64(self.lease.max(0.1)).unwrap_or(PgJournal::DEFAULT_LEASE)
    }

    pub(crate) fn reconnect_for(&self) -> Duration {
        Duration::try_from_secs_f64(self.reconnect_for.max(0.0))
            .unwrap_or(PgJournal::DEFAULT_RECONNECT_FOR)
    }
}

#[derive(Args)]
pub(crate) struct WorkArgs {
    /// The journal: a PostgreSQL URL (postgres://user@host/db). It holds patient data.
    #[arg(long, value_name = "postgres://...")]
    journal: JournalArg,
    /// A practice group whose queue this worker works, with HERO_API_KEY (repeat for several;
    /// default HERO_PRACTICE_GROUP_ID).
    #[arg(long = "practice-group", value_name = "ID")]
    practice_groups: Vec<String>,
    #[command(flatten)]
    worker: WorkerArgs,
}

#[derive(Args)]
pub(crate) struct StatusArgs {
    /// The journal: a PostgreSQL URL, or an SQLite file.
    #[arg(long, value_name = "postgres://... or FILE.db")]
    journal: JournalArg,
}

/// Opens a PostgreSQL journal. The URL is never shown.
pub(crate) async fn connect(url: &str, worker: &WorkerArgs) -> Result<PgJournal, Failure> {
    PgJournal::connect(url)
        .await
        .map(|j| {
            j.lease(worker.lease())
                .reconnect_for(worker.reconnect_for())
        })
        .map_err(pg_failure)
}

/// A PostgreSQL journal's failure: the database out of reach (exit 15), its configuration
/// (exit 2), or another (exit 1); never the URL.
pub(crate) fn pg_failure(e: JournalError) -> Failure {
    let (code, hint) = match &e {
        JournalError::Unreachable { .. } => (
            Exit::JournalUnreachable,
            "nothing is lost: every request written was recorded first; start the worker again once the database is back (other workers take this one's rows when its leases run out), or give it longer with --reconnect-for",
        ),
        JournalError::Config(_) => (
            Exit::Usage,
            "check the URL (host, database, user, password), its sslmode and sslrootcert, and that the role may create tables",
        ),
        _ => (
            Exit::Other,
            "nothing is lost: start the worker again to resume",
        ),
    };
    Failure::new(
        code,
        format!("--journal (PostgreSQL): {e}"),
        Some(hint.to_owned()),
    )
}

/// What `hero outbox status` reports.
type Report = (Vec<RunStatus>, Vec<Entry>, Vec<DecisionRecord>);

/// Each run's counts, the rows to decide and the rows decided, from any journal.
async fn report(journal: &impl Journal) -> Result<Report, JournalError> {
    Ok((
        journal.runs().await?,
        journal.to_decide().await?,
        journal.decisions().await?,
    ))
}

/// A journal to read (a run may hold it meanwhile), its failures as the command's.
enum Reader {
    Pg(PgJournal),
    Sqlite(SqliteJournal),
}

impl Reader {
    async fn open(journal: &JournalArg) -> Result<Reader, Failure> {
        match journal {
            JournalArg::Postgres(url) => Ok(Reader::Pg(
                PgJournal::connect(url).await.map_err(pg_failure)?,
            )),
            JournalArg::File(path) => {
                let j = SqliteJournal::open_read_only(path).map_err(|e| {
                    Failure::file(Exit::Usage, "--journal", format!("cannot be read: {e}"))
                })?;
                Ok(Reader::Sqlite(j))
            }
        }
    }

    async fn report(&self) -> Result<Report, Failure> {
        match self {
            Reader::Pg(j) => report(j).await.map_err(pg_failure),
            Reader::Sqlite(j) => report(j).await.map_err(|e| {
                Failure::file(Exit::Other, "--journal", format!("cannot be read: {e}"))
            }),
        }
    }
}

/// The candidates' ids as they may be shown: each in the declared form of a message id.
fn shown_ids(ids: &[String]) -> String {
    ids.iter()
        .map(|id| herohealth::ids::MESSAGE_ID.shown(id).as_str().to_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A decision as `decide`, `decisions` and `status` show it; the note (by its length only:
/// [`Decision::shown_note`], the console's rule too) only where asked. The decider's name is the
/// operator's own words, typed to `hero outbox decide`.
fn decision_row(d: &DecisionRecord, with_note: bool) -> Row {
    let mut row = Row::new()
        .number("decision", d.id)
        .number("run", d.run)
        .number("row", d.index + 1)
        .words("choice", d.decision.choice().as_str());
    if let Some(line) = d.line {
        row = row.number("line", line);
    }
    if let Some(id) = d.decision.choice().message_id() {
        row = row.id("message_id", &herohealth::ids::MESSAGE_ID, id);
    }
    row = row
        .words("by", d.decision.by())
        .words(
            "decided_at",
            &d.decided_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
        .words("candidates", &shown_ids(&d.candidates))
        .words("reason", &d.reason);
    if with_note {
        row = row.words("note", &d.decision.shown_note());
    }
    row
}

const DECISION: &[Column] = &[
    ("decision", "/decision"),
    ("run", "/run"),
    ("row", "/row"),
    ("line", "/line"),
    ("choice", "/choice"),
    ("message_id", "/message_id"),
    ("by", "/by"),
    ("decided_at", "/decided_at"),
    ("candidates", "/candidates"),
    ("reason", "/reason"),
    ("note", "/note"),
];

const DECIDED: &[Column] = &[
    ("decision", "/decision"),
    ("run", "/run"),
    ("row", "/row"),
    ("line", "/line"),
    ("choice", "/choice"),
    ("message_id", "/message_id"),
    ("by", "/by"),
    ("decided_at", "/decided_at"),
];

/// `hero outbox decisions`: the record.
async fn decisions(format: Format, a: &StatusArgs) -> Outcome {
    let (_, _, decided) = Reader::open(&a.journal).await?.report().await?;
    let mut printer = Printer::list(format, DECISION);
    for d in &decided {
        printer.push(&decision_row(d, true))?;
    }
    printer.finish()?;
    Ok(())
}

/// `hero outbox decide`: one decision, applied and recorded.
async fn decide(format: Format, a: &DecideArgs) -> Outcome {
    let choice = match (&a.sent, a.send_again, a.abandon) {
        (Some(id), false, false) => Choice::Sent {
            message_id: id.clone(),
        },
        (None, true, false) => Choice::SendAgain,
        (None, false, true) => Choice::Abandon,
        _ => {
            return Err(Failure::new(
                Exit::Usage,
                "exactly one of --sent MESSAGE_ID, --send-again, --abandon",
                None,
            ));
        }
    };
    let decision = Decision::new(choice, &a.by, &a.note).map_err(|e| {
        let flag = match e.field() {
            "message_id" => "--sent",
            "by" => "--by",
            _ => "--note",
        };
        Failure::new(
            Exit::Usage,
            format!("{flag}: {}; nothing was decided", e.rule()),
            None,
        )
    })?;
    let record = match &a.journal {
        JournalArg::Postgres(url) => {
            let j = PgJournal::connect(url).await.map_err(pg_failure)?;
            decide_on(&j, a, &decision).await
        }
        JournalArg::File(path) => {
            if !path.is_file() {
                return Err(Failure::file(Exit::Usage, "--journal", "is not there"));
            }
            let j = SqliteJournal::open(path).map_err(|e| Failure {
                hint: matches!(e, JournalError::InUse).then(|| {
                    "a run holds the journal while it sends: decide once it has stopped".to_owned()
                }),
                ..Failure::file(
                    Exit::Conflict,
                    "--journal",
                    format!("cannot be opened: {e}"),
                )
            })?;
            decide_on(&j, a, &decision).await
        }
    }?;
    let next = match record.decision.choice() {
        Choice::SendAgain => {
            "the outbox sends it, once, on its next run (`hero messages send-many` with the same file and journal, or `hero outbox work`)"
        }
        Choice::Sent { .. } => "it stays sent with that message; never sent again",
        Choice::Abandon => "it stays failed; never sent from this journal",
        _ => "",
    };
    eprintln!(
        "decided (decision {}): run {} line {}: {}; {next}",
        record.id,
        record.run,
        a.line,
        record.decision.choice().as_str()
    );
    let mut printer = Printer::single(format, DECISION);
    printer.push(&decision_row(&record, true))?;
    printer.finish()?;
    Ok(())
}

/// Finds the row at `--line` of `--run` among the rows to decide (or decided) and decides it.
async fn decide_on(
    journal: &impl Journal,
    a: &DecideArgs,
    decision: &Decision,
) -> Result<DecisionRecord, Failure> {
    let failed = |e: JournalError| match e {
        JournalError::Refused { why, .. } => Failure::new(
            Exit::Usage,
            format!(
                "--sent (run {} line {}): {}; nothing was decided",
                a.run,
                a.line,
                why.rule()
            ),
            Some("`hero outbox status --journal ...` lists the row's candidates".to_owned()),
        ),
        e @ JournalError::NotDecidable { .. } => Failure::new(
            Exit::Conflict,
            format!("run {} line {}: {e}", a.run, a.line),
            Some(
                "`hero outbox status --journal ...` lists the rows to decide and those decided"
                    .to_owned(),
            ),
        ),
        e @ (JournalError::Unreachable { .. } | JournalError::Config(_)) => pg_failure(e),
        e => Failure::new(Exit::Other, format!("--journal: {e}"), None),
    };
    let at = |run: u64, line: Option<u64>| run == a.run && line == Some(a.line);
    let rows = journal.to_decide().await.map_err(failed)?;
    let entry = rows.iter().find(|e| at(e.run, e.row.line()));
    let index = match entry {
        Some(e) => Some(e.index),
        None => journal
            .decisions()
            .await
            .map_err(failed)?
            .iter()
            .rev()
            .find(|d| at(d.run, d.line))
            .map(|d| d.index),
    };
    let Some(index) = index else {
        return Err(Failure::new(
            Exit::Conflict,
            format!(
                "run {} has no row at line {} waiting for a person: only an ambiguous row can be decided (not one pending, in flight, held by a worker, sent or failed); nothing was decided",
                a.run, a.line
            ),
            Some(
                "`hero outbox status --journal ...` lists the rows to decide, by run and line"
                    .to_owned(),
            ),
        ));
    };
    // A message that is not one of the row's candidates (one the person found) is taken only
    // on Hero's evidence that it is the row's: asked here, checked again by the journal. A
    // candidate is only a message listed near the attempt (maybe another sender's): Hero is asked
    // about it too when the credentials are set, and one Hero shows to be another's is refused.
    let checked;
    // Built once, and only for a decision that names a message.
    let hero = decision.choice().message_id().map(|_| client_of_env());
    let unchecked_candidate = entry.is_some_and(|e| {
        decision
            .choice()
            .message_id()
            .is_some_and(|id| candidate(e, id))
    }) && hero.as_ref().is_some_and(Result::is_err);
    if unchecked_candidate {
        eprintln!(
            "warning: --sent: not checked with Hero (no usable HERO_API_KEY and HERO_PRACTICE_GROUP_ID): a candidate is a message listed near the attempt, not one shown to be this row's; decided as you chose it"
        );
    }
    let decision = match (entry, hero) {
        (Some(e), Some(hero)) if !unchecked_candidate => {
            let hero = hero.map_err(|f| {
                Failure::new(
                    Exit::Usage,
                    "--sent: that message is not one of the row's candidates; a message you found is checked with Hero first (set HERO_API_KEY and HERO_PRACTICE_GROUP_ID); nothing was decided",
                    Some(format!("without Hero: {}", f.message)),
                )
            })?;
            checked = decision.clone().identified_with(&hero, e).await.map_err(
                |err| match err {
                    IdentifyError::Refused(why) => Failure::new(
                        Exit::Usage,
                        format!("--sent: {}; nothing was decided", why.rule()),
                        Some(
                            "`hero outbox status --journal ...` lists the row's candidates"
                                .to_owned(),
                        ),
                    ),
                    IdentifyError::Hero(e) => {
                        let f = Failure::from(e);
                        Failure::new(
                            f.code,
                            format!(
                                "--sent: Hero could not show that message: {}; nothing was decided",
                                f.message
                            ),
                            f.hint,
                        )
                    }
                    other => Failure::new(
                        Exit::Other,
                        format!("--sent: {other}; nothing was decided"),
                        None,
                    ),
                },
            )?;
            &checked
        }
        _ => decision,
    };
    journal.decide(a.run, index, decision).await.map_err(failed)
}

/// Whether `id` is one of the candidates of the row in `e`.
fn candidate(e: &Entry, id: &str) -> bool {
    matches!(&e.state, herohealth_outbox::RowState::Ambiguous { message_ids, .. } if message_ids.iter().any(|c| c == id))
}

pub(crate) async fn run(format: Format, cmd: OutboxCmd) -> Outcome {
    match cmd {
        OutboxCmd::Status(a) => status(format, &a).await,
        OutboxCmd::Decide(a) => decide(format, &a).await,
        OutboxCmd::Decisions(a) => decisions(format, &a).await,
        OutboxCmd::Work(a) => work(&a).await,
        OutboxCmd::Queue(a) => queue(&a).await,
        OutboxCmd::LocalDb(cmd) => local_db(cmd).await,
        OutboxCmd::Serve(a) => crate::console::serve(a).await,
        OutboxCmd::HashPassword => crate::console::hash_password(),
    }
}

const RUN: &[Column] = &[
    ("run", "/run"),
    ("input", "/input"),
    ("pending", "/pending"),
    ("in_flight", "/in_flight"),
    ("sent", "/sent"),
    ("failed", "/failed"),
    ("ambiguous", "/ambiguous"),
];

const DECIDE: &[Column] = &[
    ("run", "/run"),
    ("row", "/row"),
    ("line", "/line"),
    ("candidates", "/candidates"),
    ("reason", "/reason"),
];

async fn status(format: Format, a: &StatusArgs) -> Outcome {
    let (runs, decide, decided) = Reader::open(&a.journal).await?.report().await?;
    let runs: Vec<Row> = runs
        .iter()
        .map(|r| {
            Row::new()
                .number("run", r.run)
                // The input's fingerprint: the crate's own hash of it, hex.
                .words("input", r.fingerprint.get(..12).unwrap_or(&r.fingerprint))
                .number("pending", r.pending)
                .number("in_flight", r.in_flight)
                .number("sent", r.sent)
                .number("failed", r.failed)
                .number("ambiguous", r.ambiguous)
        })
        .collect();
    let decide: Vec<Row> = decide
        .iter()
        .map(|e| {
            let (ids, reason) = match &e.state {
                herohealth_outbox::RowState::Ambiguous {
                    message_ids,
                    reason,
                } => (shown_ids(message_ids), reason.clone()),
                other => (String::new(), other.reason().unwrap_or_default().to_owned()),
            };
            Row::new()
                .number("run", e.run)
                .number("row", e.index + 1)
                .field("line", &e.row.line())
                .words("candidates", &ids)
                .words("reason", &reason)
        })
        .collect();
    if !decide.is_empty() {
        eprintln!(
            "{} row(s) a person must decide (`hero outbox decide`; never send them again by hand):",
            decide.len()
        );
    }
    // The rows a person decided (`hero outbox decisions` lists the record).
    let decided: Vec<Row> = decided.iter().map(|d| decision_row(d, false)).collect();
    if !decided.is_empty() {
        eprintln!(
            "{} row(s) decided by a person (`hero outbox decisions` lists the record)",
            decided.len()
        );
    }
    // JSON is one document; the other formats print the runs, the rows to decide, then the
    // rows decided.
    if format == Format::Json {
        let doc = Row::new()
            .rows("runs", runs)
            .rows("to_decide", decide)
            .rows("decided", decided);
        let mut printer = Printer::single(format, &[]);
        printer.push(&doc)?;
        printer.finish()?;
        return Ok(());
    }
    let mut printer = Printer::list(format, RUN);
    for r in &runs {
        printer.push(r)?;
    }
    printer.finish()?;
    if !decide.is_empty() {
        let mut printer = Printer::list(format, DECIDE);
        for e in &decide {
            printer.push(e)?;
        }
        printer.finish()?;
    }
    if !decided.is_empty() {
        let mut printer = Printer::list(format, DECIDED);
        for d in &decided {
            printer.push(d)?;
        }
        printer.finish()?;
    }
    Ok(())
}

/// The client of the environment (HERO_API_KEY, HERO_PRACTICE_GROUP_ID, ...): its practice group
/// names the queue.
fn client_of_env() -> Result<HeroClient, Failure> {
    HeroClient::builder()
        .from_lookup(|name| std::env::var(name).ok())
        .map_err(Failure::from)?
        .build()
        .map_err(Failure::from)
}

async fn queue(a: &QueueArgs) -> Outcome {
    let url = a.journal.postgres("hero outbox queue")?;
    let input = crate::send_many::read_input(&a.from)?;
    let hero = client_of_env()?;
    let journal = PgJournal::connect(url).await.map_err(pg_failure)?;
    journal
        .bind(&hero.practice_group_key())
        .await
        .map_err(pg_failure)?;
    journal.open(&input).await.map_err(pg_failure)?;
    let entries = journal.entries().await.map_err(pg_failure)?;
    let done = entries
        .iter()
        .filter(|e| e.state.status().is_final())
        .count();
    eprintln!(
        "{} rows queued ({done} of them final already): `hero outbox work --journal ...` sends them, with any number of workers",
        entries.len()
    );
    Ok(())
}

async fn local_db(cmd: LocalDbCmd) -> Outcome {
    let failed = |what: &str, e: String| {
        Failure::new(
            Exit::Other,
            format!("hero outbox local-db {what}: {e}"),
            Some("it needs PostgreSQL's server binaries (Debian and Ubuntu: apt-get install postgresql); as root it runs them as `nobody`, so --dir must be a directory `nobody` can reach (under /tmp)".to_owned()),
        )
    };
    // pg_ctl and initdb block: off the async threads.
    tokio::task::spawn_blocking(move || match cmd {
        LocalDbCmd::Start(a) => {
            let setup = herohealth_outbox::testing::Setup {
                durable: true,
                ..Default::default()
            };
            herohealth_outbox::testing::LocalPostgres::start(&a.dir, a.port, &setup)
                .map(|pg| {
                    println!("export HERO_OUTBOX_JOURNAL={}", pg.url());
                    eprintln!(
                        "PostgreSQL runs in the directory given to --dir at {} (loopback only, no password: for trying workers, never for patient data); `hero outbox local-db stop` with the same --dir stops it",
                        pg.url(),
                    );
                })
                .map_err(|e| failed("start", e))
        }
        LocalDbCmd::Stop(a) => {
            herohealth_outbox::testing::LocalPostgres::stop(&a.dir).map_err(|e| failed("stop", e))
        }
    })
    .await
    .map_err(|_| Failure::new(Exit::Other, "the local-db task panicked", None))?
}

async fn work(a: &WorkArgs) -> Outcome {
    let url = a.journal.postgres("hero outbox work")?;
    let mut builder = HeroClient::builder();
    builder = builder
        .from_lookup(|name| std::env::var(name).ok())
        .map_err(Failure::from)?;
    let groups: Vec<Option<String>> = if a.practice_groups.is_empty() {
        vec![None]
    } else {
        a.practice_groups.iter().cloned().map(Some).collect()
    };
    let mut workers = Vec::new();
    for group in groups {
        let mut b = builder.clone();
        if let Some(g) = group {
            b = b.practice_group_id(g);
        }
        let hero = b.build().map_err(Failure::from)?;
        let journal = connect(url, &a.worker).await?;
        let options = a.worker.options();
        workers.push(tokio::spawn(async move {
            let outbox = Outbox::new(hero, journal, options);
            let result = outbox.work(|_| {}).await;
            let entries = outbox.entries().await;
            (result, entries)
        }));
    }
    let mut failure = None;
    let (mut sent, mut failed, mut ambiguous, mut total) = (0, 0, 0, 0);
    for w in workers {
        let (result, _) = w
            .await
            .map_err(|_| Failure::new(Exit::Other, "a worker panicked", None))?;
        match result {
            Ok(s) => {
                sent += s.sent;
                failed += s.failed;
                ambiguous += s.ambiguous;
                total += s.total;
            }
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    }
    eprintln!("{total} rows: {sent} sent, {failed} failed, {ambiguous} ambiguous");
    if let Some(e) = failure {
        return Err(match e {
            OutboxError::Hero(e) => {
                let mut f = Failure::from(e);
                f.hint = Some("nothing is lost: start the worker again to resume".to_owned());
                f
            }
            e @ OutboxError::WaitTooLong { .. } => {
                Failure::new(Exit::RateLimited, e.to_string(), None)
            }
            OutboxError::Journal(e) => pg_failure(e),
            e @ OutboxError::Pace(_) => Failure::new(
                Exit::JournalUnreachable,
                e.to_string(),
                Some(
                    "nothing is lost: start the worker again once the database is back".to_owned(),
                ),
            ),
            other => Failure::new(Exit::Other, other.to_string(), None),
        });
    }
    if ambiguous > 0 {
        return Err(Failure::new(
            Exit::OutcomeUnknown,
            format!(
                "{ambiguous} row(s) may have been sent but cannot be told apart from other messages"
            ),
            Some("a person decides: `hero outbox status --journal ...` lists them, `hero outbox decide` records the decision".to_owned()),
        ));
    }
    if failed > 0 {
        return Err(Failure::new(
            Exit::NotDelivered,
            format!("Hero refused {failed} row(s)"),
            None,
        ));
    }
    Ok(())
}
