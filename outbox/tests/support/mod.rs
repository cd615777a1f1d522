//! What the outbox's tests share: the loud line of a PostgreSQL test not run, and rows to send.

#![allow(dead_code)]

use herohealth::MessageType;
use herohealth_outbox::{Input, Row};

/// Built without the `postgres` feature, a file's PostgreSQL tests do not run: says so loudly,
/// naming the file and `what` was not done, and fails where they must run
/// (`HEROHEALTH_REQUIRE_POSTGRES`, as `.ci/run` sets it).
pub fn postgres_feature_off(file: &str, what: &str) {
    let line = format!(
        "!!!!! SKIPPED: {file}: built without the `postgres` feature (cargo test -p herohealth-outbox --features postgres), so {what} !!!!!"
    );
    if std::env::var_os("HEROHEALTH_REQUIRE_POSTGRES").is_some_and(|v| v != "0" && !v.is_empty()) {
        panic!("{line}");
    }
    eprintln!("{line}");
}

/// One SMS row per patient, in order, the `i`th with the text `Reminder i`.
pub fn reminders<P: AsRef<str>>(patients: impl IntoIterator<Item = P>) -> Input {
    Input::from_rows(
        patients
            .into_iter()
            .enumerate()
            .map(|(i, p)| Row::new(p.as_ref(), MessageType::Sms, &format!("Reminder {i}")).unwrap())
            .collect(),
    )
}
