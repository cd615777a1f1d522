//! Send one message to a list of patients as a batch: read the list (NHS number, date of birth),
//! refuse it whole if any line is bad (naming the line), create the batch, send it, and count the
//! sends that failed.
//!
//! `cargo run --example batch_from_list` runs against an embedded herohealth-mock.

use std::time::Duration;

use herohealth::chrono::NaiveDate;
use herohealth::{BatchChannel, NhsNumber, WaitOptions, types::BatchRecipient};
use herohealth_mock::MockServer;

/// Your list: one patient per line, `NHS number,date of birth`.
const LIST: &str = "\
943 476 5919,1955-06-02
943 476 5870,1992-01-01
943 476 5862,1988-11-30
";

/// Every line checked before anything is sent; the error names the line, never its content.
fn recipients(list: &str) -> Result<Vec<BatchRecipient>, String> {
    list.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let (nhs, dob) = line.split_once(',').ok_or(format!(
                "line {}: expected `NHS number,date of birth`",
                i + 1
            ))?;
            let nhs: NhsNumber = nhs.parse().map_err(|e| format!("line {}: {e}", i + 1))?;
            let dob: NaiveDate = dob
                .trim()
                .parse()
                .map_err(|_| format!("line {}: the date of birth is not YYYY-MM-DD", i + 1))?;
            Ok(BatchRecipient::new(nhs, dob))
        })
        .collect()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let recipients = recipients(LIST)?;
    let mock = MockServer::builder().time_scale(20.0).start().await?;
    let hero = mock.client();

    let batch = hero
        .create_batch_message()
        .body_map(|b| {
            b.name("Flu clinic, Saturday")
                .channel(BatchChannel::Sms)
                .content("Your flu vaccination is due. Book at the surgery or online.")
                .recipients(recipients)
        })
        .send()
        .await?;
    println!(
        "created batch {} for {} patients",
        batch.id,
        LIST.lines().count()
    );

    hero.send_batch_message().id(&batch.id).send().await?;
    let outcome = hero
        .wait_for_batch(
            &batch.id,
            WaitOptions::default()
                .initial_interval(Duration::from_millis(250))
                .deadline(Duration::from_secs(120)),
        )
        .await?;
    if outcome.all_sent() {
        println!("all {} sends went", outcome.sends);
    } else {
        println!(
            "{} of {} sends failed: follow them up",
            outcome.failed_sends, outcome.sends
        );
    }
    Ok(())
}
