//! Register a patient, send them an SMS that is written into their record with a SNOMED code, and
//! follow it until it is delivered and recorded.
//!
//! `cargo run --example register_and_send` runs against an embedded herohealth-mock. Against Hero,
//! build the client with `HeroClient::from_env()?` instead (see the README).

use std::time::Duration;

use chrono::NaiveDate;
use herohealth::{Delivery, MessageType, Recording, Registration, WaitOptions};
use herohealth_mock::MockServer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::builder().time_scale(20.0).start().await?;
    let hero = mock.client();

    // The NHS number is checked (Modulus 11) before anything is sent.
    let nhs = "943 476 5919".parse()?;
    let dob = NaiveDate::from_ymd_opt(1955, 6, 2).ok_or("a date")?;
    let patient_id = match hero.register_patient(nhs, dob).await? {
        Registration::Registered { patient_id } => patient_id,
        Registration::MustVerify { login_url, .. } => {
            println!("the patient must verify their identity first: {login_url:?}");
            return Ok(());
        }
        _ => return Err("an answer this version does not know".into()),
    };
    println!("registered: patient {patient_id}");

    let sent = hero
        .send_message()
        .body_map(|b| {
            b.patient_id(patient_id.clone())
                .message_type(MessageType::Sms)
                .message_string("Your blood test results are normal. No action is needed.")
                .write_to_record(true)
                // "Blood test result normal": checked as a SNOMED CT id before sending.
                .snomed_code("1240751000000100")
                .snomed_term("Blood test result normal")
        })
        .send()
        .await?;
    println!("sent: message {}", sent.message_id);

    let polling = WaitOptions::default()
        .initial_interval(Duration::from_millis(250))
        .deadline(Duration::from_secs(120));
    match hero.wait_for_delivery(&sent.message_id, polling).await? {
        Delivery::Delivered(_) => println!("delivered"),
        other => println!(
            "not delivered ({}): follow the patient up",
            other.status().status.response
        ),
    }
    match hero.wait_for_record(&sent.message_id, polling).await? {
        Recording::Written(s) => {
            println!("written to the record at {:?}", s.status.write_to_record_at)
        }
        Recording::Failed(s) => println!("not written: {:?}", s.errors.write_to_record),
        _ => println!("not written"),
    }
    Ok(())
}
