//! A test of your own code against herohealth-mock: what was sent (typed), a fault at the n-th call
//! after it is set, and the mock's clock. Copy `your_code` and the checks into a `#[tokio::test]`;
//! here `main` runs them (`cargo run --example testing_with_the_mock`).
//!
//! In your crate: `[dev-dependencies] herohealth-mock = "0.1"` (its binary's dependencies stay out:
//! they are behind its `cli` feature).

use std::time::Duration;

use herohealth::{
    Delivery, ErrorKind, HeroClient, MessageType, WaitOptions, types::SendMessageRequest,
};
use herohealth_mock::{Fault, FaultRule, MockServer};

/// The code under test: tells a patient their results are ready, and says whether it went.
async fn your_code(hero: &HeroClient, patient_id: &str) -> herohealth::Result<String> {
    let sent = hero
        .send_message()
        .body_map(|b| {
            b.patient_id(patient_id)
                .message_type(MessageType::Sms)
                .message_string("Your results are ready. Please call the surgery.")
        })
        .send()
        .await?;
    Ok(sent.message_id.clone())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A clock 60 times faster than real time: deliveries take seconds, not minutes.
    let mock = MockServer::builder().time_scale(60.0).start().await?;
    let hero = mock.client();

    // What was sent, typed, from the mock's journal.
    let id = your_code(&hero, "12345").await?;
    let sent: SendMessageRequest = mock.journal()[0].body_as().ok_or("a send body")?;
    assert_eq!(sent.patient_id.as_str(), "12345");
    assert!(sent.message_string.as_str().contains("results are ready"));
    println!("sent {id}: the journal has the text and the patient id");

    // The status follows the mock's clock.
    let polling = WaitOptions::default().initial_interval(Duration::from_millis(100));
    let delivery = hero.wait_for_delivery(&id, polling).await?;
    assert!(matches!(delivery, Delivery::Delivered(_)));
    println!("delivered by {} (mock time)", mock.now());

    // A fault on the next call only: counted from when it is added.
    mock.inject(FaultRule::new("send_message", Fault::Status(500)).nth(1));
    let err = your_code(&hero, "12345").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(
        err.outcome_unknown(),
        "a 5xx after a send: it may have gone"
    );
    let again = your_code(&hero, "12345").await?;
    println!("the 500 hit exactly the call after inject()");
    let _ = hero.wait_for_delivery(&again, polling).await?;

    // Filtering by time: use the mock's clock, which runs ahead of Utc::now().
    let listed = hero
        .list_sent_messages()
        .sent_since(mock.now() - chrono::Duration::hours(1))
        .send()
        .await?;
    assert_eq!(listed.count, 2);
    println!(
        "{} messages sent in the last hour of mock time",
        listed.count
    );
    Ok(())
}
