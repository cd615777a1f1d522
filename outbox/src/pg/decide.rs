//! A person's decision of an ambiguous row in PostgreSQL, and the record of decisions.

use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::{
    PgJournal,
    link::Param,
    read::{column, entry_of},
};
use crate::journal::{Decision, DecisionRecord, Entry, JournalError, Stored};

impl PgJournal {
    /// Decides in two statements, each safe to run again after a lost connection: the row is
    /// read, then changed only if it still holds what was read (its candidates are the ones
    /// recorded), is ambiguous and held by no worker, together with the record (a token of this
    /// call finds a record the first run of the statement made).
    pub(super) async fn decide_row(
        &self,
        run: u64,
        index: u64,
        decision: &Decision,
    ) -> Result<DecisionRecord, JournalError> {
        let token = crate::journal::decision_token();
        // A row changed between the read and the change (a worker finished it): read again.
        for _ in 0..3 {
            let rows = self
                .link
                .query(
                    "reading the row to decide",
                    "SELECT run_id, idx, row, state, sends,
                            claimed AND lease_until > clock_timestamp(),
                            (SELECT max(id) FROM outbox_decisions d WHERE d.run_id = $1 AND d.idx = $2),
                            (SELECT id FROM outbox_decisions d WHERE d.token = $3)
                     FROM outbox_rows WHERE run_id = $1 AND idx = $2",
                    &[
                        Param::Int8(run as i64),
                        Param::Int8(index as i64),
                        Param::Text(token.clone()),
                    ],
                )
                .await?;
            let Some(r) = rows.first() else {
                return Err(JournalError::Storage(format!(
                    "no row {index} of run {run}"
                )));
            };
            let entry = entry_of(r)?;
            let held: Option<bool> = column(r, 5, "lease_until")?;
            let decided: Option<i64> = column(r, 6, "id")?;
            if column::<Option<i64>>(r, 7, "id")?.is_some() {
                // This call's record, made by a statement whose answer was lost.
                return self.decision(&token).await;
            }
            let status = entry.state.status();
            let held = held.unwrap_or(false);
            if !crate::journal::decidable(status) || held {
                return Err(JournalError::NotDecidable {
                    run,
                    index,
                    found: status,
                    decided: decided.map(|id| id as u64),
                    held,
                });
            }
            if let Some(id) = decision.choice().message_id() {
                self.admissible(&entry, decision, id).await?;
            }
            let to = decision.choice().state();
            let stored = Stored::of(decision, &entry.state, token.clone());
            let recorded = self
                .link
                .query(
                    "recording the decision",
                    "WITH changed AS (
                         UPDATE outbox_rows SET status = $3, state = $4, updated_at = clock_timestamp(),
                             waiting_since = NULL, claimed = false, owner = NULL, lease_until = NULL
                         WHERE run_id = $1 AND idx = $2 AND status = 'ambiguous' AND state = $5
                           AND NOT (claimed AND lease_until > clock_timestamp())
                           AND NOT EXISTS (SELECT 1 FROM outbox_decisions WHERE token = $8)
                           AND NOT EXISTS (SELECT 1 FROM outbox_rows s WHERE s.status = 'sent' AND s.state = $4)
                         RETURNING run_id),
                     recorded AS (
                         INSERT INTO outbox_decisions (run_id, idx, line, decision, token)
                         SELECT $1, $2, NULLIF($6, -1), $7, $8 FROM changed
                         RETURNING id)
                     SELECT id FROM recorded
                     UNION ALL SELECT id FROM outbox_decisions WHERE token = $8",
                    &[
                        Param::Int8(run as i64),
                        Param::Int8(index as i64),
                        Param::Text(to.status().as_str().to_owned()),
                        Param::Text(crate::journal::to_json(&to)?),
                        Param::Text(crate::journal::to_json(&entry.state)?),
                        Param::Int8(entry.row.line().map_or(-1, |l| l as i64)),
                        Param::Text(crate::journal::to_json(&stored)?),
                        Param::Text(token.clone()),
                    ],
                )
                .await?;
            if !recorded.is_empty() {
                return self.decision(&token).await;
            }
        }
        Err(JournalError::Storage(
            "the row kept changing while it was being decided: nothing was decided".into(),
        ))
    }

    pub(super) async fn read_decisions(&self) -> Result<Vec<DecisionRecord>, JournalError> {
        self.link
            .query(
                "reading the decisions",
                "SELECT id, run_id, idx, line, decision, decided_at FROM outbox_decisions ORDER BY id",
                &[],
            )
            .await?
            .iter()
            .map(decision_of)
            .collect()
    }

    /// Refuses a decision of message `id` on `entry` that [`crate::journal::admissible`] does
    /// not allow, by the rows and decisions that may name it and the patient's unresolved rows.
    async fn admissible(
        &self,
        entry: &Entry,
        decision: &Decision,
        id: &str,
    ) -> Result<(), JournalError> {
        let (run, index) = (entry.run, entry.index);
        let params = [
            Param::Int8(run as i64),
            Param::Int8(index as i64),
            Param::Text(crate::journal::id_needle(id)),
        ];
        let others = self
            .link
            .query(
                "reading the rows that may name the message",
                "SELECT run_id, idx, row, state, sends FROM outbox_rows o
                 WHERE NOT (o.run_id = $1 AND o.idx = $2)
                   AND (strpos(o.state, $3) > 0
                        OR (o.status IN ('in_flight', 'unknown') AND EXISTS (
                            SELECT 1 FROM outbox_rows d WHERE d.run_id = $1 AND d.idx = $2
                              AND d.group_key = o.group_key AND d.patient_id = o.patient_id)))",
                &params,
            )
            .await?
            .iter()
            .map(entry_of)
            .collect::<Result<Vec<_>, _>>()?;
        let mut elsewhere = false;
        for r in self
            .link
            .query(
                "reading the decisions that may name the message",
                "SELECT id, run_id, idx, line, decision, decided_at FROM outbox_decisions
                 WHERE NOT (run_id = $1 AND idx = $2) AND strpos(decision, $3) > 0",
                &params,
            )
            .await?
            .iter()
        {
            let record = decision_of(r)?;
            elsewhere |= crate::journal::names(record.decision.choice(), &record.candidates, id);
        }
        crate::journal::admissible(decision, entry, &others, elsewhere)
            .map_err(|why| JournalError::Refused { run, index, why })
    }

    /// The decision recorded with `token`.
    async fn decision(&self, token: &str) -> Result<DecisionRecord, JournalError> {
        let rows = self
            .link
            .query(
                "reading the decision",
                "SELECT id, run_id, idx, line, decision, decided_at FROM outbox_decisions WHERE token = $1",
                &[Param::Text(token.to_owned())],
            )
            .await?;
        decision_of(
            rows.first()
                .ok_or_else(|| JournalError::Storage("the decision recorded vanished".into()))?,
        )
    }
}

/// A row of `id, run_id, idx, line, decision, decided_at`.
pub(super) fn decision_of(r: &Row) -> Result<DecisionRecord, JournalError> {
    let id = column::<i64>(r, 0, "id")? as u64;
    let run = column::<i64>(r, 1, "run_id")? as u64;
    let index = column::<i64>(r, 2, "idx")? as u64;
    let line = column::<Option<i64>>(r, 3, "line")?.map(|l| l as u64);
    let stored: Stored = r
        .try_get::<_, &str>(4)
        .ok()
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or(JournalError::Unreadable {
            run,
            index,
            line,
            column: "decision",
        })?;
    let at = column::<DateTime<Utc>>(r, 5, "decided_at")?;
    Ok(stored.record(id, run, index, line, at))
}
