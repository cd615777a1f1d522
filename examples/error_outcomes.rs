//! Every outcome of a send, handled: sent; refused before sending (bad input, names the field);
//! refused by Hero (validation, auth, not found); may have been sent (resolved with `find_send`,
//! never sent twice); sent for sure although the answer broke (`accepted`).
//!
//! `cargo run --example error_outcomes` runs each case against an embedded herohealth-mock with
//! the fault that causes it.

use std::time::Duration;

use herohealth::{Error, ErrorKind, FindOptions, FoundSend, HeroClient, MessageType};
use herohealth_mock::{Fault, FaultRule, MockServer};

/// What happened to one message.
#[derive(Debug, PartialEq)]
enum SendOutcome {
    /// It went: Hero's message id.
    Sent(String),
    /// It did not go, and sending it again is safe (after fixing what the reason says).
    NotSent(String),
    /// A person must look: it may have gone more than once, or we could not tell.
    AskAPerson(String),
}

/// Sends one message and says what happened, without ever sending it twice.
async fn send(hero: &HeroClient, patient_id: &str, text: &str, snomed: &str) -> SendOutcome {
    let result = hero
        .send_message()
        .body_map(|b| {
            b.patient_id(patient_id)
                .message_type(MessageType::Sms)
                .message_string(text)
                .write_to_record(true)
                .snomed_code(snomed)
        })
        .send()
        .await;
    let err = match result {
        Ok(sent) => return SendOutcome::Sent(sent.message_id.clone()),
        Err(err) => err,
    };
    // `{err}` is safe to log: no patient data, no key.
    eprintln!("   error: {err}");
    if err.may_have_been_sent() {
        // Hero accepted it (`err.accepted()`), or the answer was lost: look for it before
        // anything else. Hero has no idempotency key; `find_send` never answers "not sent" while
        // a candidate exists.
        return resolve(hero, &err).await;
    }
    match err.kind() {
        ErrorKind::InvalidRequest => SendOutcome::NotSent(format!("fix the input: {err}")),
        ErrorKind::Validation => {
            let fields: Vec<_> = err.validation_issues().iter().map(|i| i.field()).collect();
            SendOutcome::NotSent(format!("Hero refused fields {fields:?}"))
        }
        ErrorKind::Auth => SendOutcome::NotSent("check the API key and practice group id".into()),
        _ if err.is_retryable() => SendOutcome::NotSent("try again later".into()),
        _ => SendOutcome::NotSent(format!("{err}")),
    }
}

impl std::fmt::Display for SendOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendOutcome::Sent(id) => write!(f, "sent: message {id}"),
            SendOutcome::NotSent(why) => write!(f, "not sent: {why}"),
            SendOutcome::AskAPerson(why) => write!(f, "ask a person: {why}"),
        }
    }
}

async fn resolve(hero: &HeroClient, err: &Error) -> SendOutcome {
    // Short delays for the demo; the defaults suit Hero.
    let options = FindOptions::default().list_delay(Duration::from_millis(200));
    match hero.find_send(err, options).await {
        Ok(FoundSend::Sent { message_id }) => SendOutcome::Sent(message_id),
        Ok(FoundSend::NotSent) => {
            SendOutcome::NotSent("it never arrived: safe to send again".into())
        }
        Ok(FoundSend::Ambiguous { message_ids }) => {
            SendOutcome::AskAPerson(format!("{} candidates: {message_ids:?}", message_ids.len()))
        }
        Ok(_) => SendOutcome::AskAPerson("an answer this version does not know".into()),
        Err(e) => SendOutcome::AskAPerson(format!("could not look: {e}")),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::builder().start().await?;
    let hero = mock.client();
    let text = "Your results are ready";
    let snomed = "1240751000000100";

    println!("1. a normal send");
    let outcome = send(&hero, "98765", text, snomed).await;
    println!("   {outcome}");
    assert!(matches!(outcome, SendOutcome::Sent(_)));

    println!("2. a SNOMED code that is not one: refused before anything is sent");
    let before = mock.calls("send_message");
    let outcome = send(&hero, "98765", text, "not-a-code").await;
    println!("   {outcome}");
    assert!(matches!(outcome, SendOutcome::NotSent(_)));
    assert_eq!(mock.calls("send_message"), before, "nothing was sent");

    println!("3. the connection breaks after Hero processed the send: found, not resent");
    mock.inject(FaultRule::new("send_message", Fault::ResetAfterProcessing).first(1));
    let outcome = send(&hero, "98766", text, snomed).await;
    println!("   {outcome}");
    assert!(matches!(outcome, SendOutcome::Sent(_)));

    println!("4. Hero answered 200 with a broken body: it went (accepted), found by its fields");
    mock.inject(FaultRule::new("send_message", Fault::TruncatedJson).first(1));
    let outcome = send(&hero, "98767", text, snomed).await;
    println!("   {outcome}");
    assert!(matches!(outcome, SendOutcome::Sent(_)));

    println!("5. Hero failed before processing (503): outcome unknown, looked for, not found");
    mock.inject(FaultRule::new("send_message", Fault::Status(503)).first(1));
    let outcome = send(&hero, "98768", text, snomed).await;
    println!("   {outcome}");
    assert!(matches!(outcome, SendOutcome::NotSent(_)));

    println!("6. Hero refuses a field (400): not sent, the field named");
    let refused = Fault::Validation {
        fields: vec!["message_string".to_owned()],
    };
    mock.inject(FaultRule::new("send_message", refused).first(1));
    let outcome = send(&hero, "98770", text, snomed).await;
    println!("   {outcome}");
    assert!(matches!(&outcome, SendOutcome::NotSent(why) if why.contains("message_string")));

    println!("7. a wrong API key");
    let wrong = HeroClient::builder()
        .api_key("hero-wrong-test-key")
        .practice_group_id("demo-practice")
        .base_url(mock.base_url())
        .build()?;
    let outcome = send(&wrong, "98769", text, snomed).await;
    println!("   {outcome}");
    assert!(matches!(outcome, SendOutcome::NotSent(_)));
    // Every send reached Hero at most once.
    assert_eq!(mock.processed("send_message"), 3);
    Ok(())
}
