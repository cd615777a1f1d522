//! `hero messages send-many`: one message per CSV row, each row's state journaled on disk by
//! herohealth-outbox, so a re-run resumes and no row is sent twice.

use std::{io::IsTerminal, path::PathBuf, time::Duration};

use clap::Args;
use herohealth::HeroClient;
use herohealth_outbox::{
    Event, Input, Journal, JournalError, Outbox, OutboxError, SqliteJournal, Status,
};

use crate::{
    args::JournalArg,
    exit::{Exit, Failure, Outcome},
    output::{Column, Format, Printer, Row},
};

/// Send one message per row of a CSV file, with a journal that makes re-runs resume.
#[derive(Args)]
pub(crate) struct SendManyArgs {
    /// The CSV file. Header: patient_id,type,text and optionally
    /// to,write_to_record,snomed_code,snomed_term,send_at. Every row is checked before anything
    /// is sent.
    #[arg(long, value_name = "FILE.csv")]
    from: PathBuf,
    /// The journal: an SQLite file (created when absent; one run holds it at a time), or a
    /// PostgreSQL URL (postgres://...: the file is queued once and worked with any other
    /// workers, see `hero outbox work`). Run the same command again to resume; a journal file
    /// made from another file is refused. It holds the rows: keep it like the CSV.
    #[arg(long, value_name = "FILE.db or postgres://...")]
    journal: JournalArg,
    #[command(flatten)]
    worker: crate::outbox::WorkerArgs,
}

const ROW: &[Column] = &[
    ("line", "/line"),
    ("row", "/row"),
    ("status", "/status"),
    ("message_id", "/message_id"),
    ("reason", "/reason"),
];

/// Sends the file's rows and prints one line per row (its line, status, message id or reason).
/// Exit 0 when every row ended sent; 9 when some may have gone but are ambiguous (a person
/// decides; never send them again); 13 when Hero refused some.
pub(crate) async fn run(hero: &HeroClient, format: Format, a: &SendManyArgs) -> Outcome {
    let input = read_input(&a.from)?;
    match &a.journal {
        JournalArg::Postgres(url) => {
            let journal = crate::outbox::connect(url, &a.worker).await?;
            send(hero, format, a, &input, journal).await
        }
        JournalArg::File(path) => {
            let journal = SqliteJournal::open(path).map_err(|e| journal_failure(&a.journal, e))?;
            send(hero, format, a, &input, journal).await
        }
    }
}

/// Reads and checks the CSV file given to --from, whole (nothing is sent when a row is refused),
/// and warns, naming both lines, of a row that repeats an earlier one.
pub(crate) fn read_input(from: &std::path::Path) -> Result<Input, Failure> {
    let bytes = std::fs::read(from).map_err(|e| {
        Failure::file(
            Exit::Usage,
            "--from",
            format!("cannot be read ({})", e.kind()),
        )
    })?;
    let input = Input::from_csv(&bytes).map_err(|e| {
        Failure::new(
            Exit::Invalid,
            e.to_string(),
            Some("fix the rows named above and run the command again".to_owned()),
        )
    })?;
    // A row that repeats an earlier one is sent again, as written: said before anything is.
    for (row, earlier) in input.repeats() {
        let line = |i: usize| input.rows()[i].line().map_or(i + 1, |l| l as usize);
        eprintln!(
            "warning: line {} repeats line {} (the same patient, message and recipient): both are sent, as the file says",
            line(row),
            line(earlier)
        );
    }
    Ok(input)
}

async fn send<J: Journal>(
    hero: &HeroClient,
    format: Format,
    a: &SendManyArgs,
    input: &Input,
    journal: J,
) -> Outcome {
    let outbox = Outbox::new(hero.clone(), journal, a.worker.options());

    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(input.rows().len() as u64);
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {msg} ({eta})")
        {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let result = outbox
        .run(input, |event| {
            let Some(bar) = &bar else { return };
            match event {
                Event::Started {
                    done, to_resolve, ..
                } => {
                    bar.set_position(done as u64);
                    if to_resolve > 0 {
                        bar.set_message(format!("resolving {to_resolve} unfinished send(s)"));
                    }
                }
                Event::Progress { done, .. } => bar.set_position(done as u64),
                Event::Rate {
                    per_second: Some(r),
                } => bar.set_message(format!("{r:.0}/s")),
                Event::Rate { per_second: None } => bar.set_message(String::new()),
                _ => {}
            }
        })
        .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }

    // A journal that failed or belongs to another file: nothing of it is shown.
    let journal_failure = |e| journal_failure(&a.journal, e);
    let result = match result {
        Err(OutboxError::Journal(e)) => return Err(journal_failure(e)),
        Err(e @ OutboxError::WaitTooLong { .. }) => {
            return Err(Failure::new(
                Exit::RateLimited,
                e.to_string(),
                Some("nothing was sent by that request and every row is kept in the journal: run the same command again later to resume".to_owned()),
            ));
        }
        other => other,
    };
    // Every row, as the journal has it, even when the run stopped early.
    let outbox_failure = |e| outbox_failure(&a.journal, e);
    let entries = outbox.entries().await.map_err(outbox_failure)?;
    let mut printer = Printer::list(format, ROW);
    for e in &entries {
        let row = Row::new()
            .field("line", &e.row.line())
            .number("row", e.index + 1)
            .words("status", e.state.status().as_str());
        let row = match e.state.message_id() {
            Some(id) => row.id("message_id", &herohealth::ids::MESSAGE_ID, id),
            None => row,
        };
        let row = match e.state.reason() {
            Some(reason) => row.words("reason", reason),
            None => row,
        };
        printer.push(&row)?;
    }
    printer.finish()?;
    let count = |s: Status| entries.iter().filter(|e| e.state.status() == s).count();
    let (sent, failed, ambiguous) = (
        count(Status::Sent),
        count(Status::Failed),
        count(Status::Ambiguous),
    );
    let unfinished = entries.len() - sent - failed - ambiguous;
    eprintln!(
        "{} rows: {sent} sent, {failed} failed, {ambiguous} ambiguous, {unfinished} unfinished",
        entries.len()
    );
    result.map_err(outbox_failure)?;
    if ambiguous > 0 {
        return Err(Failure::new(
            Exit::OutcomeUnknown,
            format!("{ambiguous} row(s) may have been sent but cannot be told apart from other messages"),
            Some("a person decides: `hero outbox status --journal ...` lists them with their candidates, `hero outbox decide` records the decision (only a send-again decision sends a row again)".to_owned()),
        ));
    }
    if failed > 0 {
        return Err(Failure::new(
            Exit::NotDelivered,
            format!("Hero refused {failed} row(s)"),
            Some(
                "see each row's reason; put only those rows, fixed, in a new file with a new --journal of its own (this journal keeps the rows that went)"
                    .to_owned(),
            ),
        ));
    }
    Ok(())
}

fn journal_failure(journal: &JournalArg, e: JournalError) -> Failure {
    if let JournalArg::Postgres(_) = journal
        && matches!(
            e,
            JournalError::Unreachable { .. } | JournalError::Config(_)
        )
    {
        return crate::outbox::pg_failure(e);
    }
    // Named by its option, never by what was typed: a URL may hold a password, a path may name a
    // patient.
    let shown = journal.shown();
    let (code, hint) = match &e {
        JournalError::DifferentInput { went: 0, .. } => (
            Exit::Usage,
            Some("use the file this journal was made from; nothing in it went, so a new --journal for this file is safe too (see its rows with `hero outbox status --journal` and the same journal)".to_owned()),
        ),
        JournalError::DifferentInput { went, .. } => (
            Exit::Usage,
            Some(format!(
                "use the file this journal was made from: {went} of its rows went or may have, and a fresh start would forget them (see its rows, without patient data, with `hero outbox status --journal` and the same journal)"
            )),
        ),
        JournalError::InUse => (
            Exit::Usage,
            Some("wait for the other run to end (a killed run's lock goes with its process), then run the same command again".to_owned()),
        ),
        JournalError::SavedBeside { .. } => (
            Exit::Usage,
            Some(format!(
                "look at the saved journal first (`hero outbox status --journal` with it): to resume from it, move it to {shown}; once no row of it can have gone, move it elsewhere"
            )),
        ),
        JournalError::Moved { saved_at: Some(saved), .. }
            if matches!(journal, JournalArg::File(path) if path == saved) =>
        (
            Exit::Other,
            Some("run the same command again to resume from the journal written back; never delete a journal while a run holds it".to_owned()),
        ),
        JournalError::Moved { saved_at: Some(_), .. } => (
            Exit::Other,
            Some("another file took the journal's place: look at both (`hero outbox status --journal` with each) before running again; never replace a journal while a run holds it".to_owned()),
        ),
        _ => (Exit::Usage, None),
    };
    Failure::new(code, format!("{shown}: {e}"), hint)
}

fn outbox_failure(journal: &JournalArg, e: OutboxError) -> Failure {
    match e {
        OutboxError::Journal(e) => journal_failure(journal, e),
        OutboxError::Hero(e) => {
            let mut f = Failure::from(e);
            f.hint = Some(
                "nothing is lost: run the same command again to resume from the journal".to_owned(),
            );
            f
        }
        e @ OutboxError::Pace(_) => Failure::new(
            Exit::JournalUnreachable,
            e.to_string(),
            Some(
                "nothing is lost: run the same command again once the database is back".to_owned(),
            ),
        ),
        other => Failure::new(Exit::Other, other.to_string(), None),
    }
}
