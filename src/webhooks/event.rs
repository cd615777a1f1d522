//! The event a delivery carries ([`WebhookEvent`]), read from its JSON envelope.

use std::fmt;

use serde::{Deserialize, Serialize};

#[cfg(doc)]
use super::Verifier;
use super::{WebhookError, WebhookEventType};
use crate::enums::WebhookObject;

/// One event Hero delivered: the envelope every documented channel uses,
/// `{object, id, practice_group_id, event}` (all required; other fields are ignored).
///
/// Unknown `object` and `event` values decode (as `Unknown`), so an event Hero adds later is read,
/// not refused. `Debug` shows `object` and `event` when the spec declares them and masks the rest:
///
/// ```
/// # use herohealth::webhooks::WebhookEvent;
/// let e = WebhookEvent::parse(br#"{"object":"Patient","id":"Zebedee_Quenby","practice_group_id":"p-1","event":"zebedee.quenby@example.org"}"#).unwrap();
/// assert_eq!(
///     format!("{e:?}"),
///     "WebhookEvent { object: Patient, id: …(14 chars), practice_group_id: <redacted>, event: Unknown(unknown(26 chars)) }"
/// );
/// ```
///
/// ```
/// use herohealth::webhooks::{WebhookEvent, WebhookEventType};
/// let e = WebhookEvent::parse(br#"{"object":"Appointment","id":"7","practice_group_id":"p-1","event":"appointment.confirmed","extra":1}"#).unwrap();
/// assert_eq!((e.event.clone(), e.id.as_str(), e.message_id()), (WebhookEventType::AppointmentConfirmed, "7", None));
/// let later = WebhookEvent::parse(br#"{"object":"Invoice","id":"8","practice_group_id":"p-1","event":"invoice.paid"}"#).unwrap();
/// assert!(!later.event.is_known() && !later.object.is_known());
/// let err = WebhookEvent::parse(br#"{"object":"Patient","id":"9"}"#).unwrap_err();
/// assert_eq!(err.to_string(), "webhook delivery refused: the body is not a Hero event: `practice_group_id` is missing");
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// What the event is about (`Appointment`, `Prescription`, ...).
    pub object: WebhookObject,
    /// The id of that object (for the write-to-record events, the message's id).
    pub id: String,
    /// The practice group the event belongs to (masked in `Debug`).
    pub practice_group_id: crate::Sensitive,
    /// What happened.
    pub event: WebhookEventType,
}

impl fmt::Debug for WebhookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookEvent")
            .field("object", &self.object)
            .field("id", &format_args!("{}", crate::shown::by_length(&self.id)))
            .field("practice_group_id", &self.practice_group_id)
            .field("event", &self.event)
            .finish()
    }
}

impl WebhookEvent {
    /// Reads an event from a delivery's body (already verified: see [`Verifier`]). A refusal
    /// names the field or the JSON category, never what the body holds.
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        let invalid = |why: String| WebhookError::InvalidEvent(why);
        let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
            invalid(format!(
                "not JSON ({})",
                crate::shown::body::decode_failure(None, &e, "WebhookEvent")
            ))
        })?;
        let Some(object) = value.as_object() else {
            return Err(invalid("not a JSON object".to_owned()));
        };
        // The envelope's four fields, named (they are not the API description's words, which
        // are all a masked serde message keeps).
        for field in ["object", "id", "practice_group_id", "event"] {
            match object.get(field) {
                None => return Err(invalid(format!("`{field}` is missing"))),
                Some(v) if !v.is_string() => {
                    return Err(invalid(format!("`{field}` is not a string")));
                }
                Some(_) => {}
            }
        }
        serde_json::from_value(value)
            .map_err(|e| invalid(crate::shown::body::decode_failure(None, &e, "WebhookEvent")))
    }

    /// `true` for `write-to-record.succeeded` and `write-to-record.failed`.
    pub fn is_write_to_record(&self) -> bool {
        matches!(
            self.event,
            WebhookEventType::WriteToRecordSucceeded | WebhookEventType::WriteToRecordFailed
        )
    }

    /// The message a write-to-record event is about (its `id`; Hero's payload for these events is
    /// unpublished, see the module docs), for `hero.get_message_status().id(..)`; `None` for other
    /// events.
    pub fn message_id(&self) -> Option<&str> {
        self.is_write_to_record().then_some(self.id.as_str())
    }
}

impl crate::types::WebhookListResponse {
    /// The webhooks, whichever shape Hero answered with (a `{data}` page or a bare array).
    ///
    /// ```
    /// let page: herohealth::types::WebhookListResponse = serde_json::from_str(
    ///     r#"{"data":[{"id":"1","event_type":"write-to-record.failed","url":"https://x.example/h","created_at":"t","updated_at":"t"}]}"#,
    /// ).unwrap();
    /// assert_eq!(page.into_webhooks()[0].id, "1");
    /// ```
    pub fn into_webhooks(self) -> Vec<crate::types::Webhook> {
        match self {
            Self::WebhookList(page) => page.data,
            Self::Array(items) => items,
        }
    }
}
