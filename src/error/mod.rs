//! The crate's one error type, [`Error`]: what went wrong, in the terms a caller acts on, with
//! whether a send went ([`WasSent`]) and, for a refused value, which field and rule ([`Refusal`]).
//!
//! It knows nothing of the transport: the executor (`src/transport/`) builds every `Error` through
//! the crate-private setters below.
//!
//! Nothing here shows an API key, a practice group id or patient data. Every text an `Error`
//! holds is built from structure where it was made (`src/shown/`): no URL (whose query may hold a
//! patient's name), no lower layer's error text (the crate's own classification instead: a JSON
//! path and a category for a body that did not decode), body excerpts with only the JSON
//! structure and the spec's own key names, Hero's own message only as a phrase the spec declares,
//! and the request id only in the form the spec declares for it.

use std::{fmt, time::Duration};

use reqwest::StatusCode;

use crate::validate::Refusal;
use crate::{
    api::types::{ApiError, ApiErrorMessage, ValidationIssue},
    attempt::SendAttempt,
};

mod kind;

pub use kind::{ErrorKind, WasSent};

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl crate::validate::Rule for crate::api::types::error::ConversionError {
    fn rule(&self) -> String {
        self.refusal().rule().to_owned()
    }
}

/// An error from the Hero client.
///
/// ```
/// use herohealth::{Error, ErrorKind};
///
/// fn explain(err: &Error) -> &'static str {
///     match err.kind() {
///         ErrorKind::Auth => "fix the credentials",
///         ErrorKind::Validation => "fix the request",
///         _ if err.outcome_unknown() => "check the sent messages before sending again",
///         _ if err.is_retryable() => "try again later",
///         _ => "give up",
///     }
/// }
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: Option<String>,
    status: Option<StatusCode>,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    api_error: Option<ApiError>,
    body_excerpt: Option<String>,
    hero_message: Option<String>,
    sent: WasSent,
    refusal: Option<Refusal>,
    attempt: Option<SendAttempt>,
    operation: Option<&'static str>,
    attempts: u32,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message: Some(message.into()),
                status: None,
                request_id: None,
                retry_after: None,
                api_error: None,
                body_excerpt: None,
                hero_message: None,
                sent: WasSent::NotSent,
                refusal: None,
                attempt: None,
                operation: None,
                attempts: 0,
            }),
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidConfig, message)
    }

    /// A value refused before anything was sent.
    pub(crate) fn refused(refusal: Refusal) -> Self {
        let mut err = Self::new(ErrorKind::InvalidRequest, refusal.to_string());
        err.inner.refusal = Some(refusal);
        err
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The HTTP status, when Hero answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// Hero's request id (the first of the headers `openapi.yaml` declares as one: `x-request-id`,
    /// `x-amzn-requestid`), when the response carried one: the id itself when it has the form
    /// the spec declares for a request id ([`ids::REQUEST_ID`](crate::ids::REQUEST_ID), a UUID),
    /// else `…` (a header that could hold anything is never shown).
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// How long Hero asked the client to wait (`Retry-After`), on a 429 or 503.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// Hero's decoded error body, masked, when it sent one that fits the documented shape: its
    /// `message` as [`hero_message`](Self::hero_message) shows it, its issues as
    /// [`validation_issues`](Self::validation_issues) do.
    pub fn api_error(&self) -> Option<ApiError> {
        let api = self.inner.api_error.as_ref()?;
        let mut masked = api.clone();
        masked.message = match &api.message {
            Some(ApiErrorMessage::String(_)) => {
                self.inner.hero_message.clone().map(ApiErrorMessage::String)
            }
            Some(ApiErrorMessage::Array(issues)) => Some(ApiErrorMessage::Array(
                issues.iter().map(crate::shown::hero::mask_issue).collect(),
            )),
            None => None,
        };
        Some(masked)
    }

    /// Hero's decoded error body, unmasked, when it sent one that fits the documented shape.
    /// **Its texts are Hero's own and may quote patient data** (a name in `message`, a value in an
    /// issue): keep them out of logs. For what is safe to show, use
    /// [`hero_message`](Self::hero_message) and [`validation_issues`](Self::validation_issues).
    pub fn api_error_unmasked(&self) -> Option<&ApiError> {
        self.inner.api_error.as_ref()
    }

    /// The fields Hero's validation rejected (from a 400 body), masked: each issue's path keeps
    /// only the names the API description declares (and indices), its code and expected type only
    /// the spec's words; anything else Hero wrote is `…`.
    pub fn validation_issues(&self) -> Vec<ValidationIssue> {
        self.validation_issues_unmasked()
            .iter()
            .map(crate::shown::hero::mask_issue)
            .collect()
    }

    /// The fields Hero's validation rejected, as Hero wrote them. **Unmasked: Hero's text may quote
    /// patient data**; prefer [`validation_issues`](Self::validation_issues).
    pub fn validation_issues_unmasked(&self) -> &[ValidationIssue] {
        match self
            .inner
            .api_error
            .as_ref()
            .and_then(|e| e.message.as_ref())
        {
            Some(ApiErrorMessage::Array(issues)) => issues,
            _ => &[],
        }
    }

    /// A bounded excerpt of a body that could not be decoded, with every string and number masked.
    pub fn body_excerpt(&self) -> Option<&str> {
        self.inner.body_excerpt.as_deref()
    }

    /// The operation (snake_case operationId) that failed, when the failure came from a request.
    pub fn operation(&self) -> Option<&'static str> {
        self.inner.operation
    }

    /// How many times the request was sent (0 when it never was).
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    /// Whether the request went: [`WasSent::NotSent`], [`WasSent::MayHaveArrived`] or
    /// [`WasSent::Accepted`]. Always `NotSent` for a read.
    pub fn was_sent(&self) -> WasSent {
        self.inner.sent
    }

    /// The value refused before anything was sent (field and rule), for
    /// [`ErrorKind::InvalidRequest`] raised by a request or a request type's builder; `None` for an
    /// error made with `?` from a value parsed on its own (it fills no field yet).
    pub fn refusal(&self) -> Option<&Refusal> {
        self.inner.refusal.as_ref()
    }

    /// `true` when a request that changes state (a send, a batch create or send) may or may not
    /// have reached Hero ([`WasSent::MayHaveArrived`]): it was written, and then the connection
    /// broke, timed out, or Hero answered a status that may follow processing. Do not send it again
    /// blindly: [`HeroClient::find_send`](crate::HeroClient::find_send) tells whether it went.
    pub fn outcome_unknown(&self) -> bool {
        self.inner.sent == WasSent::MayHaveArrived
    }

    /// `true` when Hero **accepted** a request that changes state (it answered 2xx) but its
    /// answer could not be read or decoded (cut off, malformed, empty, too large). The message was
    /// sent: do not send it again. [`status`](Self::status) holds Hero's 2xx status; the message
    /// id is unknown ([`HeroClient::find_send`](crate::HeroClient::find_send) can find it).
    pub fn accepted(&self) -> bool {
        self.inner.sent == WasSent::Accepted
    }

    /// `true` when the request may have been carried out by Hero: [`accepted`](Self::accepted)
    /// or [`outcome_unknown`](Self::outcome_unknown). Never send such a request again without
    /// looking first.
    pub fn may_have_been_sent(&self) -> bool {
        self.inner.sent != WasSent::NotSent
    }

    /// What was sent, and when, for a `send_message` whose outcome is unknown or that Hero
    /// accepted: what [`HeroClient::find_send`](crate::HeroClient::find_send) looks for. (Not to be
    /// confused with [`attempts`](Self::attempts), the number of HTTP requests written.)
    pub fn send_attempt(&self) -> Option<&SendAttempt> {
        self.inner.attempt.as_ref()
    }

    /// `true` when trying the same request again later may succeed: rate limits, 502/503/504,
    /// timeouts and connection failures; never when the request may have been carried out
    /// ([`may_have_been_sent`](Self::may_have_been_sent)).
    pub fn is_retryable(&self) -> bool {
        if self.may_have_been_sent() {
            return false;
        }
        match self.inner.kind {
            ErrorKind::RateLimited
            | ErrorKind::Timeout
            | ErrorKind::Connection
            | ErrorKind::Pace => true,
            ErrorKind::Server => matches!(self.inner.status.map(|s| s.as_u16()), Some(502..=504)),
            _ => false,
        }
    }

    /// Hero's own message (the `message` text of its error body), masked: only the words the API
    /// description's responses use are kept; any other word (a name, a number) shows as `…`.
    /// The message as Hero wrote it is in [`api_error_unmasked`](Self::api_error_unmasked).
    pub fn hero_message(&self) -> Option<&str> {
        self.inner.hero_message.as_deref()
    }
}

/// Crate-private setters: the transport builds every error through these.
impl Error {
    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.inner.status = Some(status);
        self
    }
    /// Hero's request id, kept only in the form the spec declares for it (else `…`).
    pub(crate) fn with_request_id(mut self, id: Option<&str>) -> Self {
        self.inner.request_id = id.map(|id| crate::ids::REQUEST_ID.shown(id).to_string());
        self
    }
    pub(crate) fn with_retry_after(mut self, after: Option<Duration>) -> Self {
        self.inner.retry_after = after;
        self
    }
    pub(crate) fn with_operation(mut self, operation: &'static str) -> Self {
        if !operation.is_empty() {
            self.inner.operation = Some(operation);
        }
        self
    }
    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.inner.attempts = attempts;
        self
    }
    pub(crate) fn with_sent(mut self, sent: WasSent) -> Self {
        self.inner.sent = sent;
        self
    }
    pub(crate) fn with_send_attempt(mut self, attempt: Option<SendAttempt>) -> Self {
        self.inner.attempt = attempt;
        self
    }
    pub(crate) fn with_api_error(mut self, api: ApiError) -> Self {
        if let Some(ApiErrorMessage::String(m)) = &api.message {
            self.inner.hero_message = Some(crate::shown::hero::mask_hero_message(m));
        }
        self.inner.api_error = Some(api);
        self
    }
    /// An excerpt made by `shown::body::mask_body`.
    pub(crate) fn with_excerpt(mut self, excerpt: String) -> Self {
        self.inner.body_excerpt = Some(excerpt);
        self
    }
    pub(crate) fn with_message(mut self, message: impl Into<String>) -> Self {
        self.inner.message = Some(message.into());
        self
    }
    pub(crate) fn without_message(mut self) -> Self {
        self.inner.message = None;
        self
    }
    /// The kind an HTTP status gives.
    pub(crate) fn kind_of_status(status: u16) -> ErrorKind {
        match status {
            400 | 422 => ErrorKind::Validation,
            401 | 403 => ErrorKind::Auth,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            429 => ErrorKind::RateLimited,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::UnexpectedStatus,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        match i.sent {
            WasSent::Accepted => f.write_str(
                "Hero accepted the request but its answer could not be read; it was sent, do not send it again: ",
            )?,
            WasSent::MayHaveArrived => {
                f.write_str("the outcome is unknown (the request may have reached Hero): ")?
            }
            WasSent::NotSent => {}
        }
        f.write_str(i.kind.describe())?;
        if let Some(status) = i.status {
            write!(f, " (HTTP {})", status.as_u16())?;
        }
        if let Some(op) = i.operation {
            write!(f, " in {op}")?;
        }
        if let Some(m) = i.message.as_deref().filter(|m| !m.is_empty()) {
            write!(f, ": {m}")?;
        }
        let issues = self.validation_issues_unmasked();
        if !issues.is_empty() {
            f.write_str(": ")?;
            for (n, issue) in issues.iter().enumerate() {
                if n > 0 {
                    f.write_str("; ")?;
                }
                f.write_str(&crate::shown::hero::describe_issue(issue))?;
            }
        }
        if let Some(m) = &i.hero_message {
            write!(f, "; Hero says \"{m}\"")?;
        }
        if let Some(d) = i.retry_after {
            write!(f, "; retry after {}s", d.as_secs())?;
        }
        if let Some(id) = &i.request_id {
            write!(f, "; request id {id}")?;
        }
        match i.attempts {
            0 => {}
            1 => f.write_str(" (1 attempt)")?,
            n => write!(f, " ({n} attempts)")?,
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let issues: Vec<String> = self
            .validation_issues_unmasked()
            .iter()
            .map(crate::shown::hero::describe_issue)
            .collect();
        f.debug_struct("Error")
            .field("kind", &i.kind)
            .field("status", &i.status.map(|s| s.as_u16()))
            .field("operation", &i.operation)
            .field("message", &i.message)
            .field("hero_message", &i.hero_message)
            .field("was_sent", &i.sent)
            .field("refusal", &i.refusal)
            .field("attempts", &i.attempts)
            .field("request_id", &i.request_id)
            .field("retry_after", &i.retry_after)
            .field("validation_issues", &issues)
            .field("body_excerpt", &i.body_excerpt)
            .field("send_attempt", &i.attempt)
            .finish()
    }
}

impl From<crate::validate::InvalidValue> for Error {
    /// `?` from a parse (`"943 476 5919".parse::<NhsNumber>()?`) into the crate's error, of kind
    /// `InvalidRequest`: nothing was sent. Its message names the kind of value and the rule
    /// (`an NHS number has a wrong check digit`), never the value. [`Error::refusal`] is `None`:
    /// a value parsed on its own fills no field yet ([`InvalidValue::rule`](crate::InvalidValue::rule)
    /// has the rule); a value refused on its way into a request names its field there.
    fn from(e: crate::validate::InvalidValue) -> Self {
        Error::new(ErrorKind::InvalidRequest, e.to_string())
    }
}

impl From<crate::api::types::error::ConversionError> for Error {
    /// `?` from building a request type out of its builder
    /// (`types::SendMessageRequest::builder()....try_into()?`): of kind `InvalidRequest`, naming
    /// the field; nothing was sent. The message never holds the refused value: the checked types'
    /// errors do not echo it.
    ///
    /// ```
    /// use herohealth::{MessageType, types};
    /// let built: Result<types::SendMessageRequest, _> = types::SendMessageRequest::builder()
    ///     .patient_id("98765")
    ///     .message_type(MessageType::Sms)
    ///     .try_into();
    /// let err = herohealth::Error::from(built.unwrap_err());
    /// assert_eq!(err.kind(), herohealth::ErrorKind::InvalidRequest);
    /// assert!(err.to_string().contains("message_string"), "{err}");
    /// assert_eq!(err.refusal().map(|r| r.field()), Some("message_string"));
    /// ```
    fn from(e: crate::api::types::error::ConversionError) -> Self {
        Error::refused(e.into_refusal())
    }
}

impl From<crate::enums::UnknownVariant> for Error {
    fn from(e: crate::enums::UnknownVariant) -> Self {
        Error::new(ErrorKind::InvalidRequest, e.to_string())
    }
}

/// No `source()`: a lower layer's error (reqwest's, hyper's, h2's) prints text the server or the
/// network chose (HTTP/2 GOAWAY debug data, a URL), so the crate keeps only its own
/// classification of it, in the message.
impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    /// `?` from a request type's builder names the field a refusal at `.send()` would.
    #[test]
    fn a_request_type_built_short_is_a_refusal_of_its_field() {
        use crate::{MessageType, types};
        let built: Result<types::SendMessageRequest, _> = types::SendMessageRequest::builder()
            .patient_id("98765")
            .message_type(MessageType::Sms)
            .try_into();
        let err = super::Error::from(built.unwrap_err());
        assert_eq!(err.kind(), super::ErrorKind::InvalidRequest);
        let refusal = err.refusal().expect("a refusal");
        assert_eq!(
            (refusal.field(), refusal.rule()),
            ("message_string", "is required")
        );
    }
}
