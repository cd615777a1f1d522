//! The request journal: every request the mock received, with its JSON body, for a test to
//! assert what was sent. It is test data the caller asked for: its `Debug` keeps out the body and
//! the practice group, and nothing writes it to logs or tracing.

use std::sync::Mutex;

use serde::Serialize;

/// One request the mock received. Its `Debug` shows the body's size, not the body: a test's
/// patient data stays out of test logs unless the test reads it.
#[derive(Clone, Serialize, PartialEq)]
#[non_exhaustive]
pub struct JournalEntry {
    /// The snake_case operationId, or `unknown`.
    pub operation: String,
    /// HTTP method.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// The practice group the request was authenticated for, if it was.
    pub practice_group_id: Option<String>,
    /// The status answered (0 for a reset connection, or a request the client gave up on
    /// before it was answered: not processed).
    pub status: u16,
    /// Whether the request was processed (could change state).
    pub processed: bool,
    /// The fault injected, if any.
    pub fault: Option<String>,
    /// When the request reached the gate, on the mock clock (the moment the rate limit counts
    /// it by): what a test counts requests per sliding second with.
    pub received_at: chrono::DateTime<chrono::Utc>,
    /// The request's JSON body, as sent (`None` without a body or when it was not JSON); read it
    /// typed with [`JournalEntry::body_as`].
    pub body: Option<serde_json::Value>,
}

impl JournalEntry {
    /// The request body decoded as `T`, e.g. `herohealth::types::SendMessageRequest`, to assert
    /// what was sent: `None` without a body or when it does not decode as `T`.
    ///
    /// ```
    /// # async fn run() -> herohealth::Result<()> {
    /// use herohealth::{MessageType, types::SendMessageRequest};
    /// let mock = herohealth_mock::MockServer::start().await;
    /// mock.client()
    ///     .send_message()
    ///     .body_map(|b| b.patient_id("98765").message_type(MessageType::Sms).message_string("Hi"))
    ///     .send()
    ///     .await?;
    /// let sent: SendMessageRequest = mock.journal()[0].body_as().expect("a send body");
    /// assert_eq!(sent.message_string.as_str(), "Hi");
    /// # Ok(()) }
    /// ```
    pub fn body_as<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_value(self.body.clone()?).ok()
    }
}

impl std::fmt::Debug for JournalEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalEntry")
            .field("operation", &self.operation)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("status", &self.status)
            .field("processed", &self.processed)
            .field("fault", &self.fault)
            .field("body", &self.body.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

impl JournalEntry {
    /// An entry for a request not answered yet.
    pub(crate) fn new(operation: &str, method: &str, path: &str) -> Self {
        Self {
            operation: operation.to_owned(),
            method: method.to_owned(),
            path: path.to_owned(),
            practice_group_id: None,
            status: 0,
            processed: false,
            fault: None,
            received_at: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
            body: None,
        }
    }
}

/// Every request received, in order.
#[derive(Debug, Default)]
pub(crate) struct Journal(Mutex<Vec<JournalEntry>>);

impl Journal {
    /// Keeps `entry`, answered with `status` (0 for a reset connection).
    pub(crate) fn record(&self, mut entry: JournalEntry, status: u16) {
        entry.status = status;
        self.0.lock().expect("journal lock").push(entry);
    }

    pub(crate) fn entries(&self) -> Vec<JournalEntry> {
        self.0.lock().expect("journal lock").clone()
    }
}

/// One attempt to deliver a webhook event ([`crate::MockServer::deliveries`]): which webhook,
/// which event about which message, and how the receiver answered. The signing key is never
/// kept; the body (the envelope, with the practice group) is, and its `Debug` leaves it out.
#[derive(Clone, Serialize, PartialEq)]
#[non_exhaustive]
pub struct DeliveryEntry {
    /// The webhook's id.
    pub webhook_id: String,
    /// The event type (`write-to-record.succeeded`).
    pub event: String,
    /// The id the event is about (for the write-to-record events, the message's id).
    pub id: String,
    /// The practice group that owns the webhook.
    pub practice_group_id: String,
    /// The webhook's URL.
    pub url: String,
    /// 1 for the first attempt, then 2, 3, ... for the retries.
    pub attempt: u32,
    /// The receiver's status, when it answered.
    pub status: Option<u16>,
    /// `true` when the receiver answered 2xx.
    pub delivered: bool,
    /// Why it was not delivered, when it was not: `status 401`, `connection failed`, `timed
    /// out`, or `not a loopback URL` (the mock delivers to loopback URLs only, and tries those
    /// once).
    pub error: Option<String>,
    /// Whether another attempt follows this failed one.
    pub will_retry: bool,
    /// Whether it carried the signature headers (the webhook has a signing key).
    pub signed: bool,
    /// The body exactly as sent.
    pub body: String,
}

impl std::fmt::Debug for DeliveryEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryEntry")
            .field("webhook_id", &self.webhook_id)
            .field("event", &self.event)
            .field("id", &self.id)
            .field("attempt", &self.attempt)
            .field("status", &self.status)
            .field("delivered", &self.delivered)
            .field("error", &self.error)
            .field("will_retry", &self.will_retry)
            .field("signed", &self.signed)
            .finish_non_exhaustive()
    }
}
