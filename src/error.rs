//! The crate's one error type, [`Error`], and how every failure becomes one.
//!
//! Generated operations return `progenitor_client::Error`; `?` (or `Error::from`) turns it into this
//! type. Hero's error bodies, the request id, `Retry-After` and whether the outcome of a send is
//! unknown are gathered by the transport hook (`src/transport.rs`) and read here.
//!
//! Nothing here shows an API key, a practice group id or patient data: URLs (whose query may hold a
//! patient's name) are dropped from transport errors, serde messages are cut to their category and
//! expected type, and body excerpts have every string and number masked.

use std::{fmt, time::Duration};

use reqwest::StatusCode;

use crate::api::types::{ApiError, ApiErrorMessage, ValidationIssue, ValidationIssuePathItem};

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
    outcome_unknown: bool,
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
                outcome_unknown: false,
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
    /// 5xx. Do not send again blindly: look for the message first (e.g. in the sent-messages list).
    pub fn outcome_unknown(&self) -> bool {
        self.inner.outcome_unknown
    }

    /// `true` when trying the same request again later may succeed: rate limits, 502/503/504,
    /// timeouts and connection failures, except where the outcome of a send is unknown.
    pub fn is_retryable(&self) -> bool {
        if self.inner.outcome_unknown {
            return false;
        }
        match self.inner.kind {
            ErrorKind::RateLimited | ErrorKind::Timeout | ErrorKind::Connection => true,
            ErrorKind::Server => matches!(self.inner.status.map(|s| s.as_u16()), Some(502..=504)),
            _ => false,
        }
    }

    fn from_response(
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
        ctx: Option<&crate::transport::ResponseContext>,
    ) -> Self {
        let kind = match status.as_u16() {
            400 | 422 => ErrorKind::Validation,
            401 | 403 => ErrorKind::Auth,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            429 => ErrorKind::RateLimited,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::UnexpectedStatus,
        };
        let mut err = Self::new(kind, String::new());
        err.inner.message = None;
        err.inner.status = Some(status);
        err.inner.request_id = crate::transport::request_id(headers);
        err.inner.retry_after = crate::transport::retry_after(headers);
        if let Some(ctx) = ctx {
            err.inner.operation = Some(ctx.operation);
            err.inner.attempts = ctx.attempts;
            err.inner.outcome_unknown = ctx.outcome_unknown;
            if let Some(body) = &ctx.body {
                match serde_json::from_slice::<ApiError>(body) {
                    Ok(api) => err.inner.api_error = Some(api),
                    Err(_) if !body.is_empty() => {
                        err.inner.body_excerpt = Some(redacted_excerpt(body))
                    }
                    Err(_) => {}
                }
            }
        }
        err
    }

    fn from_failure(failure: &crate::transport::Failure) -> Self {
        let mut err = Self::new(failure.kind, failure.message.clone());
        err.inner.operation = Some(failure.operation);
        err.inner.attempts = failure.attempts;
        err.inner.outcome_unknown = failure.outcome_unknown;
        err
    }

    fn decode(bytes: &[u8], e: &serde_json::Error) -> Self {
        let path = json_path_at(bytes, e.line(), e.column());
        let mut err = Self::new(
            ErrorKind::Decode,
            format!("at {path}: {}", safe_serde_message(e)),
        );
        err.inner.body_excerpt = Some(redacted_excerpt(bytes));
        err
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        if i.outcome_unknown {
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
                let path: Vec<String> = issue
                    .path
                    .iter()
                    .map(|p| match p {
                        ValidationIssuePathItem::String(s) => s.clone(),
                        ValidationIssuePathItem::Integer(i) => i.to_string(),
                    })
                    .collect();
                write!(
                    f,
                    "{} ({}, expected {})",
                    path.join("."),
                    issue.code,
                    issue.expected
                )?;
            }
        }
        if let Some(d) = i.retry_after {
            write!(f, "; retry after {}s", d.as_secs())?;
        }
        if let Some(id) = &i.request_id {
            write!(f, "; request id {id}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Error")
            .field("kind", &i.kind)
            .field("status", &i.status.map(|s| s.as_u16()))
            .field("operation", &i.operation)
            .field("message", &i.message)
            .field("outcome_unknown", &i.outcome_unknown)
            .field("attempts", &i.attempts)
            .field("request_id", &i.request_id)
            .field("retry_after", &i.retry_after)
            .field("validation_issues", &self.validation_issues())
            .field("body_excerpt", &i.body_excerpt)
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

impl<E> From<progenitor_client::Error<E>> for Error {
    fn from(e: progenitor_client::Error<E>) -> Self {
        use progenitor_client::Error as P;
        match e {
            // The message names the field and the rule (our validators never echo the value).
            P::InvalidRequest(m) => Error::new(ErrorKind::InvalidRequest, m),
            P::UnexpectedResponse(resp) => {
                if let Some(failure) = resp.extensions().get::<crate::transport::Failure>() {
                    return Error::from_failure(failure);
                }
                let ctx = resp.extensions().get::<crate::transport::ResponseContext>();
                Error::from_response(resp.status(), resp.headers(), ctx)
            }
            P::ErrorResponse(rv) => Error::from_response(rv.status(), rv.headers(), None),
            P::InvalidResponsePayload(bytes, e) => Error::decode(&bytes, &e),
            P::CommunicationError(e) | P::ResponseBodyError(e) | P::InvalidUpgrade(e) => {
                Error::transport(e)
            }
            P::Custom(m) => Error::new(ErrorKind::InvalidRequest, m),
        }
    }
}

impl Error {
    /// A reqwest error without its URL (the query may name a patient).
    pub(crate) fn transport(e: reqwest::Error) -> Self {
        let e = e.without_url();
        let (kind, message) = classify_transport(&e);
        let mut err = Error::new(kind, message);
        err.inner.status = e.status();
        err.inner.source = Some(Box::new(e));
        err
    }
}

/// The kind of a transport failure and its message (pass an error already stripped of its URL).
pub(crate) fn classify_transport(e: &reqwest::Error) -> (ErrorKind, String) {
    let too_large = std::iter::successors(Some(e as &(dyn std::error::Error + 'static)), |e| {
        e.source()
    })
    .any(|e| e.is::<crate::transport::BodyTooLarge>());
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else if e.is_decode() || too_large {
        ErrorKind::Decode
    } else {
        ErrorKind::Connection
    };
    (kind, error_chain(e))
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

/// serde_json's message without the value it quotes: "invalid type: string \"Ada\", expected a
/// boolean at line 1 column 9" becomes "invalid type, expected a boolean". Field names are kept.
fn safe_serde_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let full = match full.rfind(" at line ") {
        Some(i) => &full[..i],
        None => &full,
    };
    if full.starts_with("missing field") || full.starts_with("duplicate field") {
        return full.to_owned();
    }
    let head = full.split(':').next().unwrap_or(full);
    match full.rfind(", expected ") {
        Some(i) if head.len() < i => format!("{head}{}", &full[i..]),
        _ => head.to_owned(),
    }
}

/// The JSON path (`$.data[3].patient.title`) of the value at `line`:`column` (1-based, as serde_json
/// reports) in `bytes`.
pub(crate) fn json_path_at(bytes: &[u8], line: usize, column: usize) -> String {
    enum Frame {
        Object(Option<String>),
        Array(usize),
    }
    // Byte offset of line:column.
    let mut offset = 0;
    let mut l = 1;
    while l < line && offset < bytes.len() {
        if bytes[offset] == b'\n' {
            l += 1;
        }
        offset += 1;
    }
    let end = (offset + column.saturating_sub(1)).min(bytes.len());
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    let mut expecting_key = false;
    while i < end {
        match bytes[i] {
            b'{' => {
                stack.push(Frame::Object(None));
                expecting_key = true;
            }
            b'[' => {
                stack.push(Frame::Array(0));
                expecting_key = false;
            }
            b'}' | b']' => {
                stack.pop();
                expecting_key = false;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array(n)) => *n += 1,
                Some(Frame::Object(_)) => expecting_key = true,
                None => {}
            },
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if expecting_key {
                    let key =
                        String::from_utf8_lossy(&bytes[start..i.min(bytes.len())]).into_owned();
                    if let Some(Frame::Object(k)) = stack.last_mut() {
                        *k = Some(key);
                    }
                    expecting_key = false;
                }
            }
            _ => {}
        }
        i += 1;
    }
    let mut path = String::from("$");
    for frame in &stack {
        match frame {
            Frame::Object(Some(k)) => {
                path.push('.');
                path.push_str(k);
            }
            Frame::Object(None) => {}
            Frame::Array(n) => path.push_str(&format!("[{n}]")),
        }
    }
    path
}

/// At most this many characters of a body go into an error.
const EXCERPT_CHARS: usize = 300;

/// A bounded excerpt of a body with patient data masked: JSON keeps its keys and shape, strings
/// become `"…"` and numbers `#`; other text keeps its first characters with digits masked and any
/// word holding an `@` replaced.
pub(crate) fn redacted_excerpt(bytes: &[u8]) -> String {
    fn mask(v: &serde_json::Value, out: &mut String) {
        use serde_json::Value;
        if out.len() > EXCERPT_CHARS {
            return;
        }
        match v {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(_) => out.push('#'),
            Value::String(_) => out.push_str("\"…\""),
            Value::Array(items) => {
                out.push('[');
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    mask(item, out);
                }
                out.push(']');
            }
            Value::Object(map) => {
                out.push('{');
                for (n, (k, item)) in map.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(k).unwrap_or_default());
                    out.push(':');
                    mask(item, out);
                }
                out.push('}');
            }
        }
    }
    let mut out = String::new();
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(v) => mask(&v, &mut out),
        Err(_) => {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4 * EXCERPT_CHARS)]);
            let words: Vec<String> = text
                .split_whitespace()
                .map(|w| {
                    if w.contains('@') {
                        "…@…".to_owned()
                    } else {
                        w.chars()
                            .map(|c| if c.is_ascii_digit() { '#' } else { c })
                            .collect()
                    }
                })
                .collect();
            out = words.join(" ");
        }
    }
    if out.chars().count() > EXCERPT_CHARS {
        out = out.chars().take(EXCERPT_CHARS).collect();
        out.push('…');
    }
    format!("{out} ({} bytes)", bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_path_of_a_decode_error() {
        let body = br#"{"data":[{"id":"1","patient":{"title":"Dr"}},{"id":"2","patient":{"title":5}}],"count":2}"#;
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct P {
            title: String,
        }
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct M {
            patient: P,
        }
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct L {
            data: Vec<M>,
        }
        let e = serde_json::from_slice::<L>(body).err().unwrap();
        assert_eq!(
            json_path_at(body, e.line(), e.column()),
            "$.data[1].patient.title"
        );
    }

    #[test]
    fn serde_messages_lose_their_values() {
        let e = serde_json::from_str::<bool>("\"Ada Lovelace\"").unwrap_err();
        assert_eq!(safe_serde_message(&e), "invalid type, expected a boolean");
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct S {
            created_at: String,
        }
        let e = serde_json::from_str::<S>("{}").unwrap_err();
        assert_eq!(safe_serde_message(&e), "missing field `created_at`");
    }

    #[test]
    fn excerpts_mask_patient_data() {
        let body = br#"{"first_name":"Ada","nhs":9434765919,"ok":true,"x":[null]}"#;
        let ex = redacted_excerpt(body);
        assert_eq!(
            ex,
            format!(
                r#"{{"first_name":"…","nhs":#,"ok":true,"x":[null]}} ({} bytes)"#,
                body.len()
            )
        );
        let html = b"<html><body>502 Bad Gateway for ada@example.org</body></html>";
        let ex = redacted_excerpt(html);
        assert!(
            ex.starts_with("<html><body>### Bad Gateway for …@…"),
            "{ex}"
        );
    }
}
