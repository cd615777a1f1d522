//! One shape per concept across the types Hero returns for a message.
//!
//! Hero's answers spell the same facts differently: the delivery status is `status` in a
//! [`SentMessage`] and a [`Message`] but `status.response` in a [`MessageStatus`], and
//! `write_to_record` is a flag in a [`MessageStatus`] but an object in the other two. The fields
//! stay as Hero sends them; these methods ask each type the same question the same way:
//!
//! | question | method | on all three |
//! | --- | --- | --- |
//! | where is it in its delivery? | `delivery_status()` | [`DeliveryStatus`] (`Option` on [`Message`], whose every field is optional) |
//! | how did the write into the record end? | `record_status()` | `Option<`[`WriteToRecordStatus`]`>`: `None` while not done (e.g. awaiting approval) |
//! | when was it written? | `written_to_record_at()` | `Option<DateTime<Utc>>` |
//!
//! And a [`MessageStatusDetail`] compares equal to a [`DeliveryStatus`] and prints as one, so
//! `status.status == DeliveryStatus::Delivered` means the same on every type.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::{
    DeliveryStatus, WriteToRecordStatus,
    api::types::{Message, MessageStatus, MessageStatusDetail, SentMessage},
};

impl MessageStatus {
    /// The delivery status (`status.response`).
    ///
    /// ```
    /// use herohealth::{DeliveryStatus, WriteToRecordStatus, types::MessageStatus};
    /// let s: MessageStatus = serde_json::from_value(serde_json::json!({
    ///     "id": "7", "scheduled_send_at": null, "write_to_record": true,
    ///     "status": {"write_to_record_at": null, "sent_at": null, "response": "pending", "failure_reason": null},
    ///     "errors": {"write_to_record": null, "send": null}
    /// }))?;
    /// assert_eq!(s.delivery_status(), &DeliveryStatus::Pending);
    /// assert_eq!(s.status, DeliveryStatus::Pending); // the detail compares as its status
    /// assert_eq!(s.record_status(), None); // asked for, not written yet
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn delivery_status(&self) -> &DeliveryStatus {
        &self.status.response
    }

    /// How the write into the patient's record ended: `not_written` when none was asked for,
    /// `failed` when `errors.write_to_record` says why, `success` once it was written; `None`
    /// while it is not done (which includes a write waiting for approval).
    pub fn record_status(&self) -> Option<WriteToRecordStatus> {
        if !self.write_to_record {
            Some(WriteToRecordStatus::NotWritten)
        } else if self.errors.write_to_record.is_some() {
            Some(WriteToRecordStatus::Failed)
        } else if self.status.write_to_record_at.is_some() {
            Some(WriteToRecordStatus::Success)
        } else {
            None
        }
    }

    /// When it was written into the patient's record.
    pub fn written_to_record_at(&self) -> Option<DateTime<Utc>> {
        self.status.write_to_record_at
    }
}

impl SentMessage {
    /// The delivery status (`status`).
    ///
    /// ```
    /// use herohealth::{DeliveryStatus, WriteToRecordStatus, types::SentMessage};
    /// let m: SentMessage = serde_json::from_value(serde_json::json!({
    ///     "id": "7", "patient": {"id": "42", "title": null, "first_name": "A", "last_name": "B"},
    ///     "write_to_record": {"write_to_record_at": null, "status": "not_written", "failure_reason": null},
    ///     "short_link": null, "campaign": null, "created_at": null, "sent_at": null,
    ///     "scheduled_at": null, "status": "delivered", "sent_by": "API",
    ///     "recipient_contact_detail": "+447700900123", "message_type": "sms"
    /// }))?;
    /// assert_eq!(m.delivery_status(), &DeliveryStatus::Delivered);
    /// assert_eq!(m.record_status(), Some(WriteToRecordStatus::NotWritten));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn delivery_status(&self) -> &DeliveryStatus {
        &self.status
    }

    /// How the write into the patient's record ended (`write_to_record.status`); `None` while it
    /// is not done.
    pub fn record_status(&self) -> Option<WriteToRecordStatus> {
        self.write_to_record.status.clone()
    }

    /// When it was written into the patient's record.
    pub fn written_to_record_at(&self) -> Option<DateTime<Utc>> {
        self.write_to_record.write_to_record_at
    }
}

impl Message {
    /// The delivery status (`status`), when Hero gave one.
    pub fn delivery_status(&self) -> Option<&DeliveryStatus> {
        self.status.as_ref()
    }

    /// How the write into the patient's record ended (`write_to_record.status`); `None` while it
    /// is not done.
    pub fn record_status(&self) -> Option<WriteToRecordStatus> {
        self.write_to_record.as_ref()?.status.clone()
    }

    /// When it was written into the patient's record.
    pub fn written_to_record_at(&self) -> Option<DateTime<Utc>> {
        self.write_to_record.as_ref()?.write_to_record_at
    }
}

/// A status detail is its delivery status where one is compared.
impl PartialEq<DeliveryStatus> for MessageStatusDetail {
    fn eq(&self, other: &DeliveryStatus) -> bool {
        &self.response == other
    }
}

/// Prints the delivery status (`delivered`), as a [`DeliveryStatus`] does.
impl fmt::Display for MessageStatusDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.response, f)
    }
}
