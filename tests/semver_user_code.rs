//! Code a user writes against herohealth, kept here so that CI can compile it unchanged against a
//! copy of the crate whose `openapi.yaml` gained an optional field in a request type and in a
//! response type, and a new enum value (`.ci/run`, step "semver: ..."): adding an optional field
//! or an enum value to the spec must never break a caller. It is also an ordinary test here.

use chrono::NaiveDate;
use herohealth::{
    DeliveryStatus, HeroClient, MessageType,
    types::{self, BatchRecipient},
};

/// Reading responses: fields by name, enums with a wildcard (they are `#[non_exhaustive]`).
pub fn describe(m: &types::SentMessage) -> String {
    let status = match &m.status {
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Fatal | DeliveryStatus::Declined => "failed",
        _ => "in progress",
    };
    format!("{} {status}", m.id.as_deref().unwrap_or("?"))
}

/// Building requests: through builders and constructors, never struct literals.
pub fn requests(hero: &HeroClient) -> Result<(), herohealth::Error> {
    let _send = hero.send_message().body_map(|b| {
        b.patient_id("98765")
            .message_type(MessageType::Sms)
            .message_string("Your results are ready")
            .snomed_code("1240751000000100")
    });
    let body: types::SendMessageRequest = types::SendMessageRequest::builder()
        .patient_id("98765")
        .message_type(MessageType::Email)
        .message_string("Hello")
        .try_into()
        .map_err(herohealth::Error::from)?;
    let _same = hero.send_message().body(body);
    let dob = NaiveDate::from_ymd_opt(1984, 3, 1).unwrap();
    let recipient = BatchRecipient::new("9434765919".parse()?, dob);
    let _batch = hero.create_batch_message().body_map(|b| {
        b.name("Flu clinic")
            .channel(herohealth::BatchChannel::Sms)
            .content("Your flu jab is due")
            .recipients(vec![recipient])
    });
    Ok(())
}

#[test]
fn the_user_code_runs() {
    let hero = HeroClient::builder()
        .api_key("hero-semver-test-key")
        .practice_group_id("practice-semver")
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    requests(&hero).unwrap();
    let row: types::SentMessage = serde_json::from_value(serde_json::json!({
        "id": "7", "content": "c", "sent_at": null, "created_at": null, "scheduled_at": null,
        "status": "delivered", "sent_by": "x", "message_type": "sms", "recipient_contact_detail": "x",
        "patient": {"id": "1", "title": null, "first_name": "A", "last_name": "B"},
        "write_to_record": {"write_to_record_at": null, "status": null, "failure_reason": null},
        "short_link": null, "campaign": null
    }))
    .unwrap();
    assert_eq!(describe(&row), "7 delivered");
}
