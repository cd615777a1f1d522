//! Set-up shared by the mock's tests (as reqwest's `tests/support/`): sends through the real client, raw requests with the
//! mock's credentials (for what the client would refuse to send), and batch recipients.
#![allow(dead_code)] // each test file uses some of these

use herohealth::{
    HeroClient, MessageType,
    types::{BatchRecipient, builder::SendMessageRequest},
};
use herohealth_mock::MockServer;

/// Sends an SMS to patient 42, its body set further by `body`. Returns the message id.
pub async fn send_with(
    hero: &HeroClient,
    body: impl FnOnce(SendMessageRequest) -> SendMessageRequest,
) -> herohealth::Result<String> {
    let sent = hero
        .send_message()
        .body_map(|b| body(b.patient_id("42").message_type(MessageType::Sms)))
        .send()
        .await?;
    Ok(sent.into_inner().message_id)
}

/// Sends `text` by SMS to patient 42's own number.
pub async fn send_text(hero: &HeroClient, text: &str) -> herohealth::Result<String> {
    send_with(hero, |b| b.message_string(text)).await
}

/// Sends "Your results are ready" by SMS to patient 42 at `contact`, written to the record or not.
pub async fn send_to(
    hero: &HeroClient,
    contact: &str,
    write_to_record: bool,
) -> herohealth::Result<String> {
    send_with(hero, |b| {
        b.message_string("Your results are ready")
            .recipient_contact_detail(Some(contact.parse().unwrap()))
            .write_to_record(write_to_record)
    })
    .await
}

/// A raw request with the mock's credentials, around the client's own checks.
pub fn raw(mock: &MockServer, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    let (key, group) = mock.credentials();
    reqwest::Client::new()
        .request(method, format!("{}{path}", mock.base_url()))
        .header("x-api-key", key)
        .header("x-practice-group-id", group)
}

/// A raw `POST path` of `body` with the mock's credentials.
pub async fn post_json(
    mock: &MockServer,
    path: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    raw(mock, reqwest::Method::POST, path)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A batch recipient without a date of birth.
pub fn recipient(nhs: &str) -> BatchRecipient {
    BatchRecipient {
        nhs_number: nhs.parse().unwrap(),
        dob: None,
    }
}
