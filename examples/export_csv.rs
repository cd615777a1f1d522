//! Export a month's failed messages as CSV: a filtered time range, streamed page by page, so a
//! list of any length uses the memory of one page.
//!
//! `cargo run --example export_csv` runs against an embedded herohealth-mock seeded with messages.
//! The columns hold no patient data; add `m.patient.last_name.expose()` and the like only where the
//! file is allowed to hold it.

use chrono::{TimeZone, Utc};
use futures::TryStreamExt;
use herohealth::{DeliveryStatus, PageOptions, Paginate, types::ListSentMessagesStatus};
use herohealth_mock::MockServer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::builder()
        .seed_sent_messages(300)
        .start()
        .await?;
    let hero = mock.client();

    // January 2024, when the mock's seeded messages were sent. For "the last 7 days" use
    // `Utc::now()` with Hero, and `mock.now()` with a mock whose clock runs faster.
    let from = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .ok_or("a date")?;
    let to = Utc
        .with_ymd_and_hms(2024, 1, 31, 23, 59, 59)
        .single()
        .ok_or("a date")?;
    let mut messages = hero
        .list_sent_messages()
        .sent_between(from, to)
        .status(ListSentMessagesStatus::DeliveryStatus(
            DeliveryStatus::Fatal,
        ))
        .stream_with(PageOptions::default().page_size(100));

    let mut out = std::io::stdout().lock();
    use std::io::Write;
    writeln!(out, "id,sent_at,status,message_type")?;
    let mut rows = 0;
    while let Some(m) = messages.try_next().await? {
        let sent_at = m.sent_at.map(|t| t.to_rfc3339()).unwrap_or_default();
        writeln!(
            out,
            "{},{sent_at},{},{}",
            m.id.as_deref().unwrap_or(""),
            m.status,
            m.message_type
        )?;
        rows += 1;
    }
    eprintln!("{rows} failed message(s) in January 2024");
    Ok(())
}
