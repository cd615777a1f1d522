//! The whole messaging flow: find a patient, create a batch message, send it, read its sends, send
//! one message and follow its status.
//!
//! `cargo run --example quickstart` runs it against an embedded herohealth-mock (its clock 20 times
//! faster than real time). With `HERO_API_KEY`, `HERO_PRACTICE_GROUP_ID` and `HERO_BASE_URL` or
//! `HERO_ENVIRONMENT` set it runs against Hero instead; it refuses production, where it would
//! message real patients, and needs a staging test patient in `HERO_QUICKSTART_NHS_NUMBER` and
//! `HERO_QUICKSTART_DOB` (YYYY-MM-DD).

use std::time::Duration;

use chrono::NaiveDate;
use futures::{StreamExt, TryStreamExt};
use herohealth::{
    BatchChannel, Environment, HeroClient, MessageType, PageOptions, Paginate, Registration,
    WaitOptions, types::BatchRecipient,
};
use herohealth_mock::MockServer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (hero, _mock, nhs, dob) = if std::env::var_os("HERO_API_KEY").is_some() {
        let hero = HeroClient::from_env()?;
        if *hero.environment() == Environment::Production
            || hero.base_url() == Environment::PRODUCTION_URL
        {
            return Err(
                "the quickstart messages patients: run it against staging, not production".into(),
            );
        }
        let nhs = std::env::var("HERO_QUICKSTART_NHS_NUMBER")
            .map_err(|_| "set HERO_QUICKSTART_NHS_NUMBER")?;
        let dob = std::env::var("HERO_QUICKSTART_DOB")
            .map_err(|_| "set HERO_QUICKSTART_DOB (YYYY-MM-DD)")?;
        println!("Using Hero at {}", hero.base_url());
        (hero, None, nhs, dob.parse::<NaiveDate>()?)
    } else {
        let mock = MockServer::builder().time_scale(20.0).start().await?;
        println!(
            "Using an embedded herohealth-mock at {} (set HERO_API_KEY etc. to use Hero)",
            mock.base_url()
        );
        (
            mock.client(),
            Some(mock),
            "943 476 5919".to_owned(),
            NaiveDate::from_ymd_opt(1955, 6, 2).unwrap(),
        )
    };

    // 1. The patient's Hero id, traced on the Spine (PDS) by NHS number and date of birth.
    let patient_id = match hero.register_patient(nhs.parse()?, dob).await? {
        Registration::Registered { patient_id } => patient_id,
        Registration::MustVerify { login_url, .. } => {
            return Err(
                format!("the patient must verify their identity first: {login_url:?}").into(),
            );
        }
        other => return Err(format!("an answer this version does not know: {other:?}").into()),
    };
    println!("1. registered the patient: Hero patient_id {patient_id}");

    // 2. A batch message to the patient.
    let recipient = BatchRecipient::new(nhs.parse()?, dob);
    let batch = hero
        .create_batch_message()
        .body_map(|b| {
            b.name("Quickstart flu clinic")
                .channel(BatchChannel::Sms)
                .content("Your flu vaccination is due. Please book at the surgery.")
                .recipients(vec![recipient])
        })
        .send()
        .await?
        .into_inner();
    println!("2. created batch {} ({})", batch.id, batch.status);
    let recipients = hero
        .list_batch_message_recipients()
        .id(&batch.id)
        .send()
        .await?;
    for r in &recipients.data {
        println!("   recipient: {}", r.enrichment_status);
    }

    // 3. Send it and wait until it is completed.
    hero.send_batch_message().id(&batch.id).send().await?;
    println!("3. sent batch {}", batch.id);
    let polling = WaitOptions::default()
        .initial_interval(Duration::from_millis(250))
        .deadline(Duration::from_secs(120));
    let mut batch_updates = hero.watch_batch(&batch.id, polling);
    while let Some(update) = batch_updates.next().await {
        println!("   batch status: {}", update?.status);
    }

    // 4. Its sends, page by page as they are read.
    let mut sends = hero.list_batch_message_sends().id(&batch.id).stream();
    while let Some(s) = sends.try_next().await? {
        println!(
            "4. send {}: {} on {} at {:?}",
            s.id, s.status, s.channel, s.sent_at
        );
    }

    // 5. One message to the patient, followed until it is delivered (or fails).
    let sent = hero
        .send_message()
        .body_map(|b| {
            b.patient_id(patient_id.clone())
                .message_type(MessageType::Sms)
                .message_string("Your test results are ready. Please call the surgery.")
                .write_to_record(true)
        })
        .send()
        .await?
        .into_inner();
    println!("5. sent message {}", sent.message_id);
    let mut deliveries = hero.watch_delivery(&sent.message_id, polling);
    while let Some(update) = deliveries.next().await {
        let status = update?;
        println!(
            "   delivery: {}, written to record at {:?}",
            status.status.response, status.status.write_to_record_at
        );
    }

    // 6. The patient's sent messages, streamed.
    let listed: Vec<_> = hero
        .list_sent_messages()
        .patient_id(patient_id.clone())
        .stream_with(PageOptions::default().page_size(50))
        .try_collect()
        .await?;
    println!(
        "6. {} sent message(s) for patient {patient_id}",
        listed.len()
    );
    Ok(())
}
