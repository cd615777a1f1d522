//! The crate's one error type, [`Error`]: what went wrong, in the terms a caller acts on.
//!
//! This module is a leaf: it knows nothing of the transport. The request pipeline
//! (`src/transport/`) builds every `Error` through the crate-private setters below; what a
//! request went through to get here is written once, in the transport module's docs.
//!
//! Nothing here shows an API key, a practice group id or patient data. Every text an `Error`
//! holds was masked where it was made ([`crate::redact`]): URLs (whose query may hold a patient's
//! name) are dropped from transport errors, serde messages lose the values they quote, body
//! excerpts keep only the JSON structure and the spec's own key names, and Hero's own message
//! keeps only the words the API description uses.

use std::{fmt, time::Duration};

use reqwest::StatusCode;

use crate::api::types::{ApiError, ApiErrorMessage, ValidationIssue};

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in the terms a caller acts on.
///
/// ```
/// use herohealth::{ErrorKind, HeroClient};
/// let err = HeroClient::builder().build().unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidConfig);
/// assert_eq!(err.to_string(), "invalid client configuration: api_key is missing or empty");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The client configuration is incomplete or unsafe (missing key, http:// to a remote host, ...).
    InvalidConfig,
    /// A request value broke a rule; nothing was sent.
    InvalidRequest,
    /// Hero refused the credentials (401 or 403).
    Auth,
    /// Hero refused the request as invalid (400 or 422); see [`Error::validation_issues`].
    Validation,
    /// The resource does not exist for this practice group (404).
    NotFound,
    /// The request conflicts with the resource's state (409), e.g. a batch that was already sent.
    Conflict,
    /// Over the partner rate limit (429); see [`Error::retry_after`].
    RateLimited,
    /// Hero failed (5xx).
    Server,
    /// No response in time.
    Timeout,
    /// The connection failed, or broke before a response arrived.
    Connection,
    /// A response body that does not match the API description.
    Decode,
    /// Any other status the API description does not list.
    UnexpectedStatus,
    /// A waiter reached its deadline before a final state: nothing failed, it is just not done
    /// yet (see [`crate::WaitOptions::deadline`]). Not an HTTP timeout.
    WaitDeadline,
    /// A message ended `declined` or `fatal` where the caller asked for delivery
    /// ([`crate::Delivery::delivered`]).
    DeliveryFailed,
}

impl ErrorKind {
    fn describe(self) -> &'static str {
        match self {
            Self::InvalidConfig => "invalid client configuration",
            Self::InvalidRequest => "invalid request, nothing was sent",
            Self::Auth => {
                "Hero refused the credentials: check the API key and the practice group id"
            }
            Self::Validation => "Hero rejected the request as invalid",
            Self::NotFound => "not found",
            Self::Conflict => "conflict with the resource's state (e.g. already sent)",
            Self::RateLimited => "rate limited by Hero",
            Self::Server => "Hero server error",
            Self::Timeout => "timed out waiting for Hero",
            Self::Connection => "connection to Hero failed",
            Self::Decode => "Hero's response did not match the API description",
            Self::UnexpectedStatus => "unexpected response status",
            Self::WaitDeadline => "still not final when the wait's deadline came",
            Self::DeliveryFailed => "the message was not delivered",
        }
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
    outcome_unknown: bool,
    accepted: bool,
    attempt: Option<crate::find::SendAttempt>,
    operation: Option<&'static str>,
    attempts: u32,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
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
                outcome_unknown: false,
                accepted: false,
                attempt: None,
                operation: None,
                attempts: 0,
                source: None,
            }),
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidConfig, message)
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The HTTP status, when Hero answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// Hero's request id (`x-request-id`), when the response carried one.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// How long Hero asked the client to wait (`Retry-After`), on a 429 or 503.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// Hero's decoded error body, when it sent one that fits the documented shape.
    pub fn api_error(&self) -> Option<&ApiError> {
        self.inner.api_error.as_ref()
    }

    /// The fields Hero's validation rejected (from a 400 body), if any.
    pub fn validation_issues(&self) -> &[ValidationIssue] {
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

    /// `true` when a request that changes state (a send, a batch create or send) may or may not
    /// have reached Hero: it was written, and then the connection broke, timed out, or Hero answered
    /// 5xx. Do not send it again blindly: [`HeroClient::find_send`](crate::HeroClient::find_send)
    /// tells whether it went, or look for it in the sent-messages list.
    pub fn outcome_unknown(&self) -> bool {
        self.inner.outcome_unknown
    }

    /// `true` when Hero **accepted** a request that changes state (it answered 2xx) but its
    /// answer could not be read or decoded (cut off, malformed, empty, too large). The message was
    /// sent: do not send it again. [`status`](Self::status) holds Hero's 2xx status; the message
    /// id is unknown ([`HeroClient::find_send`](crate::HeroClient::find_send) can find it).
    pub fn accepted(&self) -> bool {
        self.inner.accepted
    }

    /// `true` when the request may have been carried out by Hero: [`accepted`](Self::accepted)
    /// or [`outcome_unknown`](Self::outcome_unknown). Never send such a request again without
    /// looking first.
    pub fn may_have_been_sent(&self) -> bool {
        self.inner.accepted || self.inner.outcome_unknown
    }

    /// What was sent, and when, for a send whose outcome is unknown or that Hero accepted:
    /// what [`HeroClient::find_send`](crate::HeroClient::find_send) looks for.
    pub fn send_attempt(&self) -> Option<&crate::find::SendAttempt> {
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
            ErrorKind::RateLimited | ErrorKind::Timeout | ErrorKind::Connection => true,
            ErrorKind::Server => matches!(self.inner.status.map(|s| s.as_u16()), Some(502..=504)),
            _ => false,
        }
    }

    /// Hero's own message (the `message` text of its error body), masked: only the words the API
    /// description's responses use are kept; any other word (a name, a number) shows as `…`.
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
    pub(crate) fn with_request_id(mut self, id: Option<String>) -> Self {
        self.inner.request_id = id;
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
    pub(crate) fn with_outcome_unknown(mut self, unknown: bool) -> Self {
        self.inner.outcome_unknown = unknown;
        self
    }
    pub(crate) fn with_accepted(mut self, accepted: bool) -> Self {
        self.inner.accepted = accepted;
        if accepted {
            self.inner.outcome_unknown = false;
        }
        self
    }
    pub(crate) fn with_send_attempt(mut self, attempt: Option<crate::find::SendAttempt>) -> Self {
        self.inner.attempt = attempt;
        self
    }
    pub(crate) fn with_api_error(mut self, api: ApiError) -> Self {
        if let Some(ApiErrorMessage::String(m)) = &api.message {
            self.inner.hero_message = Some(crate::redact::mask_hero_message(m));
        }
        self.inner.api_error = Some(api);
        self
    }
    /// An excerpt made by [`crate::redact::mask_body`].
    pub(crate) fn with_excerpt(mut self, excerpt: String) -> Self {
        self.inner.body_excerpt = Some(excerpt);
        self
    }
    pub(crate) fn with_source(mut self, source: Box<dyn std::error::Error + Send + Sync>) -> Self {
        self.inner.source = Some(source);
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
        if i.accepted {
            f.write_str("Hero accepted the request but its answer could not be read; it was sent, do not send it again: ")?;
        } else if i.outcome_unknown {
            f.write_str("the outcome is unknown (the request may have reached Hero): ")?;
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
        let issues = self.validation_issues();
        if !issues.is_empty() {
            f.write_str(": ")?;
            for (n, issue) in issues.iter().enumerate() {
                if n > 0 {
                    f.write_str("; ")?;
                }
                f.write_str(&crate::redact::describe_issue(issue))?;
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
            .validation_issues()
            .iter()
            .map(crate::redact::describe_issue)
            .collect();
        f.debug_struct("Error")
            .field("kind", &i.kind)
            .field("status", &i.status.map(|s| s.as_u16()))
            .field("operation", &i.operation)
            .field("message", &i.message)
            .field("hero_message", &i.hero_message)
            .field("outcome_unknown", &i.outcome_unknown)
            .field("accepted", &i.accepted)
            .field("attempts", &i.attempts)
            .field("request_id", &i.request_id)
            .field("retry_after", &i.retry_after)
            .field("validation_issues", &issues)
            .field("body_excerpt", &i.body_excerpt)
            .field("send_attempt", &i.attempt)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// `e` and its sources, joined by `: `.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
