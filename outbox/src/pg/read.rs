//! Reading the journal's rows back from PostgreSQL: a column this version wrote, or an error
//! naming it (never its value).

use tokio_postgres::Row;

use crate::journal::{Entry, JournalError};

pub(super) fn unreadable(run: u64, index: u64, column: &'static str) -> JournalError {
    JournalError::Unreadable {
        run,
        index,
        line: None,
        column,
    }
}

/// A value of a column this version wrote, or a journal error naming it.
pub(super) fn column<'a, T: tokio_postgres::types::FromSql<'a>>(
    r: &'a Row,
    i: usize,
    name: &'static str,
) -> Result<T, JournalError> {
    r.try_get(i).map_err(|_| {
        JournalError::Storage(format!(
            "the {name} column is not readable by this version of herohealth-outbox"
        ))
    })
}

/// A row of `run_id, idx, row, state, sends`.
pub(super) fn entry_of(r: &Row) -> Result<Entry, JournalError> {
    let run = column::<i64>(r, 0, "run_id")? as u64;
    let index = column::<i64>(r, 1, "idx")? as u64;
    let row: &str = r.try_get(2).map_err(|_| unreadable(run, index, "row"))?;
    let state: &str = r.try_get(3).map_err(|_| unreadable(run, index, "state"))?;
    let sends: i32 = r.try_get(4).map_err(|_| unreadable(run, index, "sends"))?;
    crate::journal::decode(run, index, row, state, i64::from(sends))
}
