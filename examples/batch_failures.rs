//! Send a batch, then follow up the patients it did not reach: wait for the batch to complete,
//! trace each failed send back to the patient (NHS number) it was for, flag the sends whose
//! contact detail several patients share (a person decides whom to call), and list the patients
//! Hero could not trace on the Spine (nothing was sent to them).
//!
//! `cargo run --example batch_failures` runs against an embedded herohealth-mock, set up so that
//! each kind of failure happens once.

use std::time::Duration;

use chrono::NaiveDate;
use herohealth::{BatchChannel, Traced, WaitOptions, types::BatchRecipient};
use herohealth_mock::{MockServer, RecipientOutcome};

/// Your list: NHS number and date of birth. In the mock, the two numbers ending `666` share a
/// mobile (a failing test number), the third is set to fail, the fourth is not found on the Spine.
const LIST: [(&str, &str); 5] = [
    ("943 476 0666", "1955-06-02"),
    ("943 477 7666", "1958-02-14"),
    ("943 476 5919", "1992-01-01"),
    ("943 476 5870", "1988-11-30"),
    ("943 476 5862", "1970-07-07"),
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::builder()
        .batch_outcome("943 476 5919", RecipientOutcome::Error)
        .batch_outcome("943 476 5870", RecipientOutcome::EnrichmentError)
        .time_scale(20.0)
        .start()
        .await?;
    let hero = mock.client();

    let recipients = LIST
        .iter()
        .map(|(nhs, dob)| Ok(BatchRecipient::new(nhs.parse()?, dob.parse::<NaiveDate>()?)))
        .collect::<Result<Vec<_>, Box<dyn std::error::Error>>>()?;
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
    hero.send_batch_message().id(&batch.id).send().await?;
    println!("sent batch {} to {} patients", batch.id, LIST.len());

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
    }

    // Who was not reached, and what to do about each.
    let failures = hero.batch_failures(&batch.id).await?;
    println!(
        "{} of {} sends failed; {} patient(s) not found on the Spine",
        failures.failed.len(),
        failures.sends,
        failures.not_enriched.len()
    );
    let mut follow_up = Vec::new();
    for failed in &failures.failed {
        match &failed.traced {
            Traced::Recipient(patient) => {
                follow_up.extend(patient.nhs_number.clone());
                println!(
                    "send {}: one patient to contact another way",
                    failed.send.id
                );
            }
            Traced::Ambiguous(patients) => println!(
                "send {}: {} patients share this contact detail; check which of them to call",
                failed.send.id,
                patients.len()
            ),
            _ => println!(
                "send {}: no recipient has this contact detail",
                failed.send.id
            ),
        }
    }
    for patient in &failures.not_enriched {
        follow_up.extend(patient.nhs_number.clone());
    }
    // The NHS numbers are patient data (`Sensitive`): shown only where a person needs them,
    // never logged. Here, only how many.
    println!("{} patient(s) to follow up by NHS number", follow_up.len());
    assert_eq!(follow_up.len(), 2);
    assert_eq!(failures.untraced(), 2);
    Ok(())
}
