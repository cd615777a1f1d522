//! The journal's tables in PostgreSQL and their migrations, applied once by whichever worker
//! connects first (under an advisory lock).

use std::sync::Arc;

use tokio_postgres::Client;

use super::link::{Link, STATEMENT_TIMEOUT};
use crate::journal::JournalError;

/// The schema this version creates and reads (`herohealth_outbox_meta.schema`): 1 the runs, rows,
/// fencing sequence and pace; 2 the workers (their heartbeats, for a status page) and an index of
/// each worker's claimed rows (the heartbeat's renewal); 3 the decisions people made on rows
/// (kept for good); 4 since when each ambiguous row waits for a person (`waiting_since`, set to
/// their last change for the rows ambiguous already).
pub const PG_SCHEMA: u32 = 4;

/// Each migration, by the version it brings the schema to.
const MIGRATIONS: &[(u32, &str)] = &[
    (
        1,
        "CREATE TABLE outbox_runs (
             id bigserial PRIMARY KEY,
             group_key text NOT NULL,
             fingerprint text NOT NULL,
             rows bigint NOT NULL,
             created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
             UNIQUE (group_key, fingerprint)
         );
         CREATE TABLE outbox_rows (
             run_id bigint NOT NULL REFERENCES outbox_runs (id),
             idx bigint NOT NULL,
             group_key text NOT NULL,
             patient_id text NOT NULL,
             row text NOT NULL,
             status text NOT NULL,
             state text NOT NULL,
             sends integer NOT NULL DEFAULT 0,
             claimed boolean NOT NULL DEFAULT false,
             owner text,
             fence bigint NOT NULL DEFAULT 0,
             lease_until timestamptz,
             updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
             PRIMARY KEY (run_id, idx)
         );
         CREATE UNIQUE INDEX outbox_rows_one_claimed_per_patient
             ON outbox_rows (group_key, patient_id) WHERE claimed;
         CREATE INDEX outbox_rows_open
             ON outbox_rows (group_key, run_id, idx)
             WHERE status IN ('pending', 'in_flight', 'unknown');
         CREATE SEQUENCE outbox_fence;
         CREATE TABLE outbox_pace (group_key text PRIMARY KEY, tat timestamptz NOT NULL);",
    ),
    (
        2,
        "CREATE TABLE outbox_workers (
             id text PRIMARY KEY,
             started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
             heartbeat_at timestamptz NOT NULL DEFAULT clock_timestamp()
         );
         CREATE INDEX outbox_rows_owner ON outbox_rows (owner) WHERE claimed;",
    ),
    (
        3,
        "CREATE TABLE outbox_decisions (
             id bigserial PRIMARY KEY,
             run_id bigint NOT NULL,
             idx bigint NOT NULL,
             line bigint,
             decision text NOT NULL,
             token text NOT NULL UNIQUE,
             decided_at timestamptz NOT NULL DEFAULT clock_timestamp(),
             FOREIGN KEY (run_id, idx) REFERENCES outbox_rows (run_id, idx)
         );
         CREATE INDEX outbox_decisions_row ON outbox_decisions (run_id, idx);",
    ),
    (
        4,
        "ALTER TABLE outbox_rows ADD COLUMN waiting_since timestamptz;
         UPDATE outbox_rows SET waiting_since = updated_at WHERE status = 'ambiguous';",
    ),
];

/// Creates or migrates the tables, in one transaction on `link`'s connection (which nothing else
/// uses yet), and forgets workers not heard of for a week.
pub(super) async fn migrate(link: &Link) -> Result<(), JournalError> {
    link.run(
        "creating the journal's tables",
        STATEMENT_TIMEOUT,
        migrate_on,
    )
    .await?
}

async fn migrate_on(
    client: Arc<Client>,
) -> Result<Result<(), JournalError>, tokio_postgres::Error> {
    let result = steps(&client).await;
    if result.is_err() {
        // A statement failed inside the transaction: the connection must leave it.
        let _ = client.batch_execute("ROLLBACK").await;
    }
    result
}

async fn steps(client: &Client) -> Result<Result<(), JournalError>, tokio_postgres::Error> {
    // One migrator at a time, whichever worker starts first; the lock goes with the transaction.
    client
        .batch_execute(
            "BEGIN;
             SELECT pg_advisory_xact_lock(7267021974);
             CREATE TABLE IF NOT EXISTS herohealth_outbox_meta (key text PRIMARY KEY, value text NOT NULL);",
        )
        .await?;
    let version = client
        .query_opt(
            "SELECT value FROM herohealth_outbox_meta WHERE key = 'schema'",
            &[],
        )
        .await?
        .and_then(|r| r.try_get::<_, String>(0).ok())
        .map_or(Some(0), |v| v.parse::<u32>().ok());
    let Some(version) = version else {
        client.batch_execute("ROLLBACK").await?;
        return Ok(Err(JournalError::Storage(
            "the journal's schema version is not a number".into(),
        )));
    };
    if version > PG_SCHEMA {
        client.batch_execute("ROLLBACK").await?;
        return Ok(Err(JournalError::NewerSchema(version)));
    }
    for (to, sql) in MIGRATIONS.iter().filter(|(to, _)| *to > version) {
        client.batch_execute(sql).await?;
        client
            .batch_execute(&format!(
                "INSERT INTO herohealth_outbox_meta (key, value) VALUES ('schema', '{to}')
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
            ))
            .await?;
    }
    client
        .batch_execute(
            "DELETE FROM outbox_workers w WHERE heartbeat_at < clock_timestamp() - interval '7 days'
                 AND NOT EXISTS (SELECT 1 FROM outbox_rows r WHERE r.owner = w.id AND r.claimed);
             COMMIT;",
        )
        .await?;
    Ok(Ok(()))
}
