//! The transport hook: every generated operation goes through [`ClientHooks`] here.
//!
//! `pre` sets the auth headers (from `src/auth.rs`) and removes progenitor's `api-version` header
//! (Hero documents no such header). `exec` sends the request under the retry policy
//! (`src/retry.rs`), logs each attempt without URL, headers or body, and hands failures to
//! `src/error.rs` with their context: an error response's body is read (bounded) and kept in the
//! response's extensions as [`ResponseContext`]; a transport failure is turned into a
//! [`Failure`] carried on a placeholder response, because a `reqwest::Error` cannot carry it.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::HeaderMap;

use crate::{
    api::Client,
    client::ClientState,
    error::{ErrorKind, classify_transport},
    retry::{self, Verdict},
};

/// The most of an error body the client reads.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Status of the placeholder response that carries a [`Failure`]; never seen outside the crate.
const FAILURE_STATUS: u16 = 599;

/// Context of an error response, read by `Error::from`.
#[derive(Clone, Debug)]
pub(crate) struct ResponseContext {
    pub(crate) operation: &'static str,
    pub(crate) attempts: u32,
    pub(crate) outcome_unknown: bool,
    pub(crate) body: Option<Bytes>,
}

/// A request that got no usable response, read by `Error::from`.
#[derive(Clone, Debug)]
pub(crate) struct Failure {
    pub(crate) kind: ErrorKind,
    pub(crate) message: String,
    pub(crate) operation: &'static str,
    pub(crate) attempts: u32,
    pub(crate) outcome_unknown: bool,
}

impl Failure {
    /// A failure whose operation and attempt count `exec` fills in.
    fn new(kind: ErrorKind, message: String, outcome_unknown: bool) -> Self {
        Self {
            kind,
            message,
            operation: "",
            attempts: 0,
            outcome_unknown,
        }
    }
}

impl ClientHooks<ClientState> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        if let Some(body) = request.body().and_then(reqwest::Body::as_bytes) {
            crate::validate::check_body(info.operation_id, body, chrono::Utc::now())
                .map_err(progenitor_client::Error::InvalidRequest)?;
        }
        let headers = request.headers_mut();
        headers.remove("api-version");
        self.inner().credentials.apply(headers);
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let policy = &self.inner().retry;
        let operation = info.operation_id;
        let method = request.method().clone();
        let idempotent = method == reqwest::Method::GET || method == reqwest::Method::HEAD;
        let started = Instant::now();
        let mut pending = Some(request);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let Some(current) = pending.take() else {
                unreachable!("a request is kept for every attempt that is started")
            };
            // Keep a copy for the next attempt (bodies here are always buffered JSON).
            let spare = if attempt < policy.get_max_attempts() {
                current.try_clone()
            } else {
                None
            };
            let result = self.client().execute(current).await;
            let (verdict, retry_after, status) = match &result {
                Ok(resp) if resp.status().is_success() => {
                    (Verdict::Return, None, Some(resp.status()))
                }
                Ok(resp) => (
                    retry::after_status(idempotent, resp.status().as_u16()),
                    retry_after(resp.headers()),
                    Some(resp.status()),
                ),
                Err(e) => (retry::after_error(idempotent, e), None, None),
            };
            let status_code = status.map(|s| s.as_u16());
            tracing::debug!(operation, %method, attempt, status = status_code, "hero request attempt");

            if verdict == Verdict::Retry
                && let Some(spare) = spare
            {
                let delay = policy.delay(attempt, retry_after);
                if started.elapsed() + delay < policy.get_total_deadline() {
                    tracing::info!(
                        operation,
                        attempt,
                        status = status_code,
                        delay_ms = delay.as_millis() as u64,
                        "retrying hero request"
                    );
                    tokio::time::sleep(delay).await;
                    pending = Some(spare);
                    continue;
                }
            }
            let outcome_unknown = verdict == Verdict::OutcomeUnknown;
            return match result {
                // A send's success body is read here, where the method is known: if the
                // connection breaks now, Hero has accepted the send and the caller must not resend.
                Ok(resp) if resp.status().is_success() && !idempotent => {
                    Ok(match read_send_body(resp).await {
                        Ok(resp) => resp,
                        Err(failure) => failure_response(Failure {
                            operation,
                            attempts: attempt,
                            ..failure
                        }),
                    })
                }
                Ok(resp) if resp.status().is_success() => match limit_body(resp) {
                    Ok(resp) => Ok(resp),
                    Err(failure) => Ok(failure_response(Failure {
                        operation,
                        attempts: attempt,
                        ..failure
                    })),
                },
                Ok(resp) => Ok(with_context(resp, operation, attempt, outcome_unknown).await),
                Err(e) => {
                    let (kind, message) = classify_transport(&e.without_url());
                    tracing::debug!(
                        operation,
                        attempt,
                        ?kind,
                        outcome_unknown,
                        "hero request failed"
                    );
                    Ok(failure_response(Failure {
                        kind,
                        message,
                        operation,
                        attempts: attempt,
                        outcome_unknown,
                    }))
                }
            };
        }
    }
}

/// Reads an error response's body (at most [`ERROR_BODY_LIMIT`] bytes) and returns an equivalent
/// response that carries it as a [`ResponseContext`].
async fn with_context(
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

/// A response builder with `resp`'s status, version and headers.
fn same_head(resp: &reqwest::Response) -> http::response::Builder {
    let mut builder = http::Response::builder()
        .status(resp.status())
        .version(resp.version());
    if let Some(headers) = builder.headers_mut() {
        *headers = resp.headers().clone();
    }
    builder
}

/// Reads at most `limit` bytes of `resp`'s body; the flag says whether there was more.
async fn read_at_most(
    resp: &mut reqwest::Response,
    limit: usize,
) -> reqwest::Result<(Bytes, bool)> {
    let mut body = BytesMut::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = limit - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if chunk.len() > room {
            return Ok((body.freeze(), true));
        }
    }
    Ok((body.freeze(), false))
}

fn failure_response(failure: Failure) -> reqwest::Response {
    let resp = http::Response::builder()
        .status(FAILURE_STATUS)
        .extension(failure)
        .body(Bytes::new())
        .expect("a valid placeholder response");
    reqwest::Response::from(resp)
}

/// The most of a success body the client reads; a larger one fails with `ErrorKind::Decode`.
pub(crate) const MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;

/// The error a body stream ends with past [`MAX_RESPONSE_BYTES`].
#[derive(Debug, thiserror::Error)]
#[error("the response body is larger than {MAX_RESPONSE_BYTES} bytes")]
pub(crate) struct BodyTooLarge;

/// Bounds a success body: refused up front when its `Content-Length` is too large, cut off with
/// [`BodyTooLarge`] when a body without one grows too large.
fn limit_body(resp: reqwest::Response) -> Result<reqwest::Response, Failure> {
    match resp.content_length() {
        Some(len) if len > MAX_RESPONSE_BYTES => Err(Failure::new(
            ErrorKind::Decode,
            BodyTooLarge.to_string(),
            false,
        )),
        // hyper holds a body to its Content-Length.
        Some(_) => Ok(resp),
        None => {
            let builder = same_head(&resp);
            let mut seen = 0u64;
            let body = resp.bytes_stream().map(move |chunk| {
                let chunk = chunk?;
                seen += chunk.len() as u64;
                if seen > MAX_RESPONSE_BYTES {
                    return Err(Box::new(BodyTooLarge) as Box<dyn std::error::Error + Send + Sync>);
                }
                Ok(chunk)
            });
            let rebuilt = builder
                .body(reqwest::Body::wrap_stream(body))
                .expect("status, version and headers come from a valid response");
            Ok(reqwest::Response::from(rebuilt))
        }
    }
}

/// Reads a send's success body (at most [`MAX_RESPONSE_BYTES`]) and returns an equivalent
/// response; a body that cannot be read is a failure whose outcome is unknown.
async fn read_send_body(mut resp: reqwest::Response) -> Result<reqwest::Response, Failure> {
    let too_large = || Failure::new(ErrorKind::Decode, BodyTooLarge.to_string(), true);
    if resp
        .content_length()
        .is_some_and(|len| len > MAX_RESPONSE_BYTES)
    {
        return Err(too_large());
    }
    match read_at_most(&mut resp, MAX_RESPONSE_BYTES as usize).await {
        Ok((_, true)) => Err(too_large()),
        Ok((body, false)) => {
            let rebuilt = same_head(&resp)
                .body(body)
                .expect("status, version and headers come from a valid response");
            Ok(reqwest::Response::from(rebuilt))
        }
        Err(e) => {
            let (kind, message) = classify_transport(&e.without_url());
            let message =
                format!("Hero accepted the request but its answer could not be read: {message}");
            Err(Failure::new(kind, message, true))
        }
    }
}

/// Hero's request id header, when present.
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
