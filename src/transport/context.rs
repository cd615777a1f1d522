//! The two halves of the transport's side channel, together: what `exec` writes (an error
//! response's [`ResponseContext`], a [`AttemptFailure`] on a placeholder response, the per-call
//! [`CallRecord`]) and [`call`], which reads it back and makes the caller's
//! [`Result`](crate::Result). The only place an outcome becomes an [`Error`].

use std::{cell::RefCell, future::Future, time::Duration};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use progenitor_client::ResponseValue;
use reqwest::{StatusCode, header::HeaderMap};
use serde::de::DeserializeOwned;

use super::body::{BodyTooLarge, read_at_most, same_head};
use crate::{
    api::types::ApiError,
    error::{Error, ErrorKind, error_chain},
    redact::{json_path, mask_body, serde_message},
    response::Response,
};

/// The most of an error body the client reads.
pub(crate) const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Status of the placeholder response that carries a [`AttemptFailure`]; never seen outside the crate.
const FAILURE_STATUS: u16 = 599;

/// Context of an error response, read by [`call`].
#[derive(Clone, Debug)]
pub(crate) struct ResponseContext {
    pub(crate) operation: &'static str,
    pub(crate) attempts: u32,
    pub(crate) outcome_unknown: bool,
    pub(crate) body: Option<Bytes>,
}

/// A request that got no usable response, read by [`call`].
#[derive(Clone, Debug)]
pub(crate) struct AttemptFailure {
    pub(crate) kind: ErrorKind,
    pub(crate) message: String,
    pub(crate) operation: &'static str,
    pub(crate) attempts: u32,
    pub(crate) outcome_unknown: bool,
    /// Hero answered 2xx to a send, and the answer could not be read.
    pub(crate) accepted: bool,
    pub(crate) status: Option<StatusCode>,
}

impl AttemptFailure {
    /// A failure whose operation and attempt count `exec` fills in.
    pub(crate) fn new(kind: ErrorKind, message: String, outcome_unknown: bool) -> Self {
        Self {
            kind,
            message,
            operation: "",
            attempts: 0,
            outcome_unknown,
            accepted: false,
            status: None,
        }
    }

    /// A send Hero accepted whose answer could not be read.
    pub(crate) fn accepted(kind: ErrorKind, message: String) -> Self {
        Self {
            accepted: true,
            ..Self::new(kind, message, false)
        }
    }
}

/// What one call went through, kept in a task-local for the duration of [`call`].
#[derive(Debug, Default)]
pub(crate) struct CallRecord {
    /// Requests written (0 when nothing was sent).
    pub(crate) attempts: u32,
    /// The method changes state (not GET or HEAD).
    pub(crate) send: bool,
    /// Just before the first attempt was written.
    pub(crate) started: Option<DateTime<Utc>>,
    /// Just after the last attempt ended.
    pub(crate) ended: Option<DateTime<Utc>>,
    /// A send's JSON body, for [`crate::find::SendAttempt`].
    pub(crate) body: Option<Bytes>,
}

impl CallRecord {
    pub(crate) fn start(&mut self, request: &reqwest::Request) {
        let method = request.method();
        self.send = method != reqwest::Method::GET && method != reqwest::Method::HEAD;
        self.started.get_or_insert_with(Utc::now);
        if self.send {
            self.body = request
                .body()
                .and_then(reqwest::Body::as_bytes)
                .map(Bytes::copy_from_slice);
        }
    }

    pub(crate) fn attempted(&mut self, attempt: u32) {
        self.attempts = attempt;
        self.ended = Some(Utc::now());
    }
}

tokio::task_local! {
    static CALL: RefCell<CallRecord>;
}

/// Updates the current call's record; a no-op outside [`call`] (e.g. under `send_raw()`).
pub(crate) fn record(f: impl FnOnce(&mut CallRecord)) {
    let _ = CALL.try_with(|c| f(&mut c.borrow_mut()));
}

/// Runs one generated request (`send_raw()`) and makes the caller's result: every builder's
/// `send()` is this (see `build.rs`).
pub(crate) async fn call<T: DeserializeOwned>(
    operation: &'static str,
    request: impl Future<Output = Result<ResponseValue<T>, progenitor_client::Error<()>>>,
) -> crate::Result<Response<T>> {
    CALL.scope(RefCell::new(CallRecord::default()), async move {
        let result = request.await;
        let record = CALL.with(|c| c.take());
        match result {
            Ok(value) => Ok(Response::from_value(value)),
            Err(e) => Err(outcome_error::<T>(operation, e, record)),
        }
    })
    .await
}

/// The error of a call that did not give a value.
fn outcome_error<T: DeserializeOwned>(
    operation: &'static str,
    e: progenitor_client::Error<()>,
    record: CallRecord,
) -> Error {
    use progenitor_client::Error as P;
    let err = match e {
        // progenitor decodes only the documented 200: Hero answered it and the body did not fit.
        P::InvalidResponsePayload(bytes, _) => decode_error::<T>(&bytes)
            .with_status(StatusCode::OK)
            .with_accepted(record.send),
        P::UnexpectedResponse(resp) if resp.status().is_success() => {
            let status = resp.status();
            Error::new(
                ErrorKind::UnexpectedStatus,
                "a success status the API description does not list for this operation",
            )
            .with_status(status)
            .with_request_id(request_id(resp.headers()))
            .with_accepted(record.send)
        }
        other => Error::from(other),
    };
    let err = err.with_operation(operation);
    let err = if record.attempts > 0 {
        err.with_attempts(record.attempts)
    } else {
        err
    };
    let attempt = match (&record.body, record.started) {
        (Some(body), Some(started)) if err.may_have_been_sent() => crate::find::SendAttempt::new(
            operation,
            started,
            record.ended.unwrap_or_else(Utc::now),
            body,
        ),
        _ => None,
    };
    err.with_send_attempt(attempt)
}

/// A body that does not decode as `T`: the JSON path (masked) and serde's message (masked).
fn decode_error<T: DeserializeOwned>(bytes: &[u8]) -> Error {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let detail = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => format!("at {}: {}", json_path(e.path()), serde_message(e.inner())),
        Ok(_) => match de.end() {
            Err(e) => format!("after the value: {}", serde_message(&e)),
            Ok(()) => "the body did not decode".to_owned(),
        },
    };
    Error::new(ErrorKind::Decode, detail).with_excerpt(mask_body(bytes))
}

impl<E> From<progenitor_client::Error<E>> for Error {
    /// For code that calls `send_raw()`: progenitor's error made safe to print. Prefer `send()`,
    /// which also knows the operation's type (the JSON path of a decode failure) and the attempts.
    fn from(e: progenitor_client::Error<E>) -> Self {
        use progenitor_client::Error as P;
        match e {
            // The message names the field and the rule (our validators never echo the value).
            P::InvalidRequest(m) | P::Custom(m) => Error::new(ErrorKind::InvalidRequest, m),
            P::UnexpectedResponse(resp) => from_unexpected(&resp),
            P::ErrorResponse(rv) => from_status(rv.status(), rv.headers(), None),
            P::InvalidResponsePayload(bytes, e) => {
                Error::new(ErrorKind::Decode, serde_message(&e)).with_excerpt(mask_body(&bytes))
            }
            P::CommunicationError(e) | P::ResponseBodyError(e) | P::InvalidUpgrade(e) => {
                transport_error(e)
            }
        }
    }
}

/// A response handed back raw: a [`AttemptFailure`] on a placeholder, or an error status.
fn from_unexpected(resp: &reqwest::Response) -> Error {
    if let Some(f) = resp.extensions().get::<AttemptFailure>() {
        let err = Error::new(f.kind, f.message.clone())
            .with_operation(f.operation)
            .with_attempts(f.attempts)
            .with_outcome_unknown(f.outcome_unknown)
            .with_accepted(f.accepted);
        return match f.status {
            Some(s) => err.with_status(s),
            None => err,
        };
    }
    let ctx = resp.extensions().get::<ResponseContext>();
    from_status(resp.status(), resp.headers(), ctx)
}

/// An error status, with Hero's body decoded (or masked) when the transport read it.
fn from_status(status: StatusCode, headers: &HeaderMap, ctx: Option<&ResponseContext>) -> Error {
    let mut err = Error::new(Error::kind_of_status(status.as_u16()), String::new())
        .without_message()
        .with_status(status)
        .with_request_id(request_id(headers))
        .with_retry_after(retry_after(headers));
    if let Some(ctx) = ctx {
        err = err
            .with_operation(ctx.operation)
            .with_attempts(ctx.attempts)
            .with_outcome_unknown(ctx.outcome_unknown);
        if let Some(body) = ctx.body.as_ref().filter(|b| !b.is_empty()) {
            err = match serde_json::from_slice::<ApiError>(body) {
                Ok(api) => err.with_api_error(api),
                Err(_) => err.with_excerpt(mask_body(body)),
            };
        }
    }
    err
}

/// The error an error status with `body` becomes, as a send of `operation` sees it: for the fuzz
/// target, which must reach this path without a server.
pub(crate) fn error_for_status_body(status: u16, body: &[u8]) -> Error {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let ctx = ResponseContext {
        operation: "send_message",
        attempts: 1,
        outcome_unknown: false,
        body: Some(Bytes::copy_from_slice(body)),
    };
    from_status(status, &HeaderMap::new(), Some(&ctx))
}

/// A reqwest error without its URL (the query may name a patient).
pub(crate) fn transport_error(e: reqwest::Error) -> Error {
    let e = e.without_url();
    let (kind, message) = classify_transport(&e);
    let status = e.status();
    let err = Error::new(kind, message).with_source(Box::new(e));
    match status {
        Some(s) => err.with_status(s),
        None => err,
    }
}

/// The kind of a transport failure and its message (pass an error already stripped of its URL).
pub(crate) fn classify_transport(e: &reqwest::Error) -> (ErrorKind, String) {
    let too_large = std::iter::successors(Some(e as &(dyn std::error::Error + 'static)), |e| {
        e.source()
    })
    .any(|e| e.is::<BodyTooLarge>());
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else if e.is_decode() || too_large {
        ErrorKind::Decode
    } else {
        ErrorKind::Connection
    };
    (kind, error_chain(e))
}

pub(crate) async fn with_context(
    mut resp: reqwest::Response,
    operation: &'static str,
    attempts: u32,
    outcome_unknown: bool,
) -> reqwest::Response {
    // A body cut off by the network is not decoded; one cut at the limit still shows an excerpt.
    let (body, complete) = match read_at_most(&mut resp, ERROR_BODY_LIMIT).await {
        Ok((body, _)) => (body, true),
        Err(_) => (Bytes::new(), false),
    };
    let ctx = ResponseContext {
        operation,
        attempts,
        outcome_unknown,
        body: complete.then(|| body.clone()),
    };
    let rebuilt = same_head(&resp)
        .extension(ctx)
        .body(body)
        .expect("status, version and headers come from a valid response");
    reqwest::Response::from(rebuilt)
}
pub(crate) fn failure_response(failure: AttemptFailure) -> reqwest::Response {
    let resp = http::Response::builder()
        .status(FAILURE_STATUS)
        .extension(failure)
        .body(Bytes::new())
        .expect("a valid placeholder response");
    reqwest::Response::from(resp)
}
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    ["x-request-id", "x-amzn-requestid", "x-amz-cf-id"]
        .iter()
        .find_map(|h| headers.get(*h))
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(128).collect())
}

/// `Retry-After` as a duration: delta-seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}
