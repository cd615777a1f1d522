//! [`JournalError`]: what went wrong with a journal, built from structure (what was being done,
//! which row, which column), never from a lower layer's text about a value.

use crate::journal::{JOURNAL_SCHEMA, Status};

/// What went wrong with a journal. Its texts hold no patient data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// The journal was made from another input (its rows differ from this input's): resuming
    /// would send the wrong rows. `went` of its rows were sent or may have been: a new journal
    /// for this input would know nothing of them.
    #[error(
        "the journal was made from a different input file: it holds {rows} row(s), {went} of them sent or possibly sent (fingerprint {journal}; this file's is {input})"
    )]
    DifferentInput {
        /// The journal's input fingerprint.
        journal: String,
        /// This input's fingerprint.
        input: String,
        /// The rows the journal holds.
        rows: usize,
        /// Of them, the rows sent, in flight, unknown or ambiguous: rows that went, or may have.
        went: usize,
    },
    /// Another run holds the journal (a lock the operating system releases when that process
    /// ends, however it ends): nothing was sent and nothing changed.
    #[error(
        "the journal is in use by another run (another process, or another journal in this one, holds it): nothing was sent and nothing changed"
    )]
    InUse,
    /// A journal an earlier run saved beside this path (when its file was replaced under it)
    /// is still there: it may hold rows that went, which a journal opened here would not know.
    /// Nothing was read, sent or changed.
    #[error(
        "a journal saved by an earlier run is beside this one ({}): it may hold rows that went, which this journal does not know; nothing was sent",
        saved_name(.saved_at)
    )]
    SavedBeside {
        /// The saved journal.
        saved_at: std::path::PathBuf,
        /// The same, as text.
        saved: String,
    },
    /// The journal's file was deleted or replaced while this run held it: the run stopped.
    /// What the run had journaled was saved at `saved_at` (the journal's own path when the file
    /// was deleted; a sibling when another file took its place), so no row that went is
    /// forgotten.
    #[error(
        "the journal file was {what} while this run held it: stopped; what this run journaled ({went} row(s) sent or possibly sent) is saved {}",
        saved_where(.saved_at.as_deref())
    )]
    Moved {
        /// `deleted` or `replaced`.
        what: &'static str,
        /// Where the journal was saved (`None`: it could not be; see the text).
        saved_at: Option<std::path::PathBuf>,
        /// The same, as text.
        saved: String,
        /// Rows that went, or may have.
        went: usize,
    },
    /// The journal was written by a newer version of herohealth-outbox.
    #[error(
        "the journal has schema version {0}, newer than this version of herohealth-outbox reads ({JOURNAL_SCHEMA})"
    )]
    NewerSchema(u32),
    /// Another worker holds the row now (this worker's lease on it ran out): the change was
    /// refused by the row's fencing token, and nothing changed.
    #[error("row {index} was taken over by another worker (this worker's lease on it ran out)")]
    Fenced {
        /// The row.
        index: u64,
    },
    /// A row was not in the state an update expected (another worker moved it).
    #[error("row {index} is {found}, not {expected}")]
    Conflict {
        /// The row.
        index: u64,
        /// The state the update expected.
        expected: Status,
        /// The state it is in.
        found: Status,
    },
    /// The row cannot be decided ([`Journal::decide`](crate::Journal::decide)): only a row a
    /// person must decide (ambiguous) is, and only once; a row in flight or held by a worker
    /// never. Nothing changed and nothing was recorded.
    #[error("{}", not_decidable(*.run, *.index, *.found, *.decided, *.held))]
    NotDecidable {
        /// The run (0 in a journal of one input).
        run: u64,
        /// The row's position in its input, from 0.
        index: u64,
        /// Its status.
        found: Status,
        /// The decision already made on it, by its id, when there is one.
        decided: Option<u64>,
        /// A worker holds it (its lease runs).
        held: bool,
    },
    /// The decision was refused, with nothing changed and nothing recorded: the field and the
    /// rule ([`InvalidDecision`](crate::InvalidDecision)), never the value. A
    /// [`Choice::Sent`](crate::Choice::Sent) must name one of the row's candidates, or a message
    /// Hero showed to be the row's ([`Decision::identified_with`](crate::Decision::identified_with)),
    /// and never another row's.
    #[error("row {index} of run {run}: {why}; nothing was decided")]
    Refused {
        /// The run (0 in a journal of one input).
        run: u64,
        /// The row's position in its input, from 0.
        index: u64,
        /// The field and the rule.
        why: crate::InvalidDecision,
    },
    /// A stored row this version cannot read (written by another version, or edited): the run,
    /// the row and the column, never the value. Nothing was sent for it.
    #[error(
        "row {index} of run {run}{}: its {column} column is not readable by this version of herohealth-outbox",
        .line.map(|l| format!(" (line {l})")).unwrap_or_default()
    )]
    Unreadable {
        /// The run (0 in a journal of one input).
        run: u64,
        /// The row's position in its input, from 0.
        index: u64,
        /// Its line in the input file, when the row itself could be read.
        line: Option<u64>,
        /// The column: `row` or `state`.
        column: &'static str,
    },
    /// The database could not be reached for longer than the journal allows
    /// (`PgJournal::reconnect_for`, feature `postgres`): the worker stopped. Every request it
    /// wrote was recorded in flight first; rows it held go to other workers once their leases
    /// run out, and a worker started again resumes.
    #[error(
        "the journal's database could not be reached for {secs} s ({what}): stopped; nothing was sent that is not recorded, and a worker started again resumes"
    )]
    Unreachable {
        /// How long it tried, in seconds.
        secs: u64,
        /// What failed last, without values: `connection refused`, `postgres error 57P01`...
        what: String,
    },
    /// The journal's configuration cannot be used (a connection string that does not parse, an
    /// `sslmode` or CA file that cannot be used): nothing was connected to.
    #[error("the journal's configuration: {0}")]
    Config(String),
    /// The storage failed.
    #[error("journal storage: {0}")]
    Storage(String),
}

/// Where [`JournalError::Moved`] saved the journal, never by its path (see [`saved_name`]): a
/// copy beside it has the name the outbox gives one.
fn saved_where(saved_at: Option<&std::path::Path>) -> String {
    match saved_at.map(added) {
        None => "nowhere: it could not be written (this run's journal is lost; look in Hero's list of sent messages before sending any row again)".to_owned(),
        Some(None) => "in its place (written back)".to_owned(),
        Some(Some(added)) => format!("beside it, as the journal's name followed by `{added}`"),
    }
}

/// A saved journal named as its error may: the journal's name is what the user typed (it may
/// name a patient), so only the part the outbox added is shown, `.saved-TIME-PID`, and only in
/// that form (a file found beside the journal may have been named by anyone).
fn saved_name(saved: &std::path::Path) -> String {
    match added(saved) {
        Some(added) => format!("the journal's name followed by `{added}`"),
        None => "the journal's name followed by `.saved-`".to_owned(),
    }
}

/// What the outbox added to a journal's name to name its copy, `.saved-TIME-PID`, when `saved`
/// has that form.
fn added(saved: &std::path::Path) -> Option<String> {
    let name = saved.file_name()?.to_str()?;
    let mut parts = name.rsplitn(3, '-');
    let (pid, time, head) = (parts.next()?, parts.next()?, parts.next()?);
    (head.ends_with(".saved")
        && pid.parse::<u32>().is_ok()
        && chrono::NaiveDateTime::parse_from_str(time, "%Y%m%dT%H%M%SZ").is_ok())
    .then(|| format!(".saved-{time}-{pid}"))
}

/// The text of [`JournalError::NotDecidable`].
fn not_decidable(run: u64, index: u64, found: Status, decided: Option<u64>, held: bool) -> String {
    let row = format!("row {index} of run {run}");
    match (decided, held) {
        (_, true) => format!(
            "{row} is {found} and held by a worker: a row in flight or leased cannot be decided; nothing changed"
        ),
        (Some(id), false) => format!(
            "{row} was decided already (decision {id}; it is {found} now): a decision is never changed; nothing changed"
        ),
        (None, false) => format!(
            "{row} is {found}: only a row a person must decide (ambiguous) can be decided; nothing changed"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_journal_is_named_by_what_the_outbox_added_only() {
        let dir = std::path::Path::new("/srv/Zebedee_Quenby_9434765919");
        let copy = dir.join("Zebedee_Quenby.db.saved-20261207T231500Z-4242");
        let moved = |saved_at: Option<std::path::PathBuf>| JournalError::Moved {
            what: "replaced",
            saved: String::new(),
            saved_at,
            went: 1,
        };
        let beside = moved(Some(copy.clone())).to_string();
        assert!(
            beside.ends_with(
                "saved beside it, as the journal's name followed by `.saved-20261207T231500Z-4242`"
            ),
            "{beside}"
        );
        let back = moved(Some(dir.join("Zebedee_Quenby.db"))).to_string();
        assert!(
            back.ends_with("saved in its place (written back)"),
            "{back}"
        );
        assert!(moved(None).to_string().contains("saved nowhere"));
        // A file beside the journal named by someone else: not in the outbox's form, not shown.
        for name in [
            "j.db.saved-Zebedee-Quenby",
            "j.db.saved-20261207T231500Z-Quenby",
            "j.db.saved-Quenby-4242",
            "j.db.Quenby-20261207T231500Z-4242",
        ] {
            let e = JournalError::SavedBeside {
                saved_at: dir.join(name),
                saved: String::new(),
            }
            .to_string();
            assert!(
                e.contains("(the journal's name followed by `.saved-`)"),
                "{e}"
            );
        }
        for e in [beside, back] {
            assert!(!e.contains("Quenby") && !e.contains("9434765919"), "{e}");
        }
    }
}
