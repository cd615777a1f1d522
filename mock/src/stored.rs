//! What the mock stored from each accepted `POST /v1/messages/send`, for a test to assert what
//! Hero would now hold (the journal has every request, accepted or not).

use chrono::{DateTime, Utc};

use crate::state::Message;

/// A message the mock accepted and stored, as it stored it: [`crate::MockServer::sent_messages`].
/// Its `Debug` shows the id and type only (the rest is patient data).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> herohealth::Result<()> {
/// use herohealth::MessageType;
/// let mock = herohealth_mock::MockServer::start().await;
/// mock.client()
///     .send_message()
///     .body_map(|b| b.patient_id("42").message_type(MessageType::Sms).message_string("Hi"))
///     .send()
///     .await?;
/// let sent = mock.sent_messages();
/// assert_eq!((sent.len(), sent[0].text.as_str(), sent[0].patient_id.as_str()), (1, "Hi", "42"));
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SentMessage {
    /// The `message_id` the mock answered.
    pub id: String,
    /// The patient it was sent to.
    pub patient_id: String,
    /// `sms`, `email`, `nhs_app` or `hero`, as sent.
    pub message_type: String,
    /// The `message_string`.
    pub text: String,
    /// Where it went: `recipient_contact_detail` as sent, or the patient's own number or address.
    pub recipient_contact_detail: String,
    /// Whether it is written to the patient's record.
    pub write_to_record: bool,
    /// The SNOMED code recorded (the default one when written to the record without one).
    pub snomed_code: Option<String>,
    /// When it was scheduled for, if it was.
    pub send_at: Option<DateTime<Utc>>,
    /// When the mock stored it (mock clock).
    pub created_at: DateTime<Utc>,
    /// The `attachment_uuid` it carries (from `POST /v1/attachment_links`), as sent.
    pub attachment_uuid: Option<String>,
}

impl SentMessage {
    pub(crate) fn from_stored(m: &Message) -> Self {
        Self {
            id: m.id.to_string(),
            patient_id: m.patient_id.clone(),
            message_type: m.message_type.clone(),
            text: m.content.clone(),
            recipient_contact_detail: m.contact.clone(),
            write_to_record: m.write_to_record,
            snomed_code: m.snomed_code.clone(),
            send_at: m.send_at,
            created_at: m.created_at,
            attachment_uuid: m.attachment_uuid.clone(),
        }
    }
}

impl std::fmt::Debug for SentMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentMessage")
            .field("id", &self.id)
            .field("message_type", &self.message_type)
            .finish_non_exhaustive()
    }
}

/// An attachment link the mock created, as it stored it: [`crate::MockServer::attachment_links`].
/// Its `Debug` shows the uuid and the file's size only (the rest is patient data).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttachmentLink {
    /// The `attachment_uuid` the mock answered.
    pub attachment_uuid: String,
    /// The `attachment_link` the mock answered.
    pub attachment_link: String,
    /// The patient it is for.
    pub patient_id: String,
    /// `file_name`, as sent.
    pub file_name: Option<String>,
    /// The file's bytes (`file_data` decoded from base64).
    pub contents: Option<Vec<u8>>,
    /// `ehr_file_id`, as sent.
    pub ehr_file_id: Option<String>,
    /// `expiry_date`, as sent.
    pub expiry_date: Option<DateTime<Utc>>,
    /// `maximum_use_count`, as sent.
    pub maximum_use_count: Option<u64>,
    /// When the mock created it (mock clock).
    pub created_at: DateTime<Utc>,
}

impl AttachmentLink {
    pub(crate) fn from_stored(a: &crate::state::Attachment) -> Self {
        Self {
            attachment_uuid: a.uuid.clone(),
            attachment_link: a.link.clone(),
            patient_id: a.patient_id.clone(),
            file_name: a.file_name.clone(),
            contents: a.contents.clone(),
            ehr_file_id: a.ehr_file_id.clone(),
            expiry_date: a.expiry_date,
            maximum_use_count: a.maximum_use_count,
            created_at: a.created_at,
        }
    }
}

impl std::fmt::Debug for AttachmentLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentLink")
            .field("attachment_uuid", &self.attachment_uuid)
            .field("bytes", &self.contents.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}
