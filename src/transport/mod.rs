//! The executor: every operation's `send()` ends here, and runs one way, from the request
//! progenitor built to a decoded value or one [`Error`].
//!
//! # The life of one request
//!
//! `hero.send_message().body_map(|b| ...).send().await`:
//!
//! 1. **Builder** (generated): the setters convert each value into its checked type
//!    (`crate::validate`), keeping the first failure.
//! 2. **`into_request()`** (progenitor's own code, cut by `build.rs`): the URL, the query, the
//!    JSON body and the `reqwest::Request`, returned with the typed body.
//! 3. **[`execute`]**, straight through:
//!    - a setter's failure, or a rule across fields broken by the typed body
//!      (`crate::rules::Body`), is an [`ErrorKind::InvalidRequest`] naming the field: nothing is
//!      sent;
//!    - the auth headers (`crate::auth`) and the attempt's timeout are set;
//!    - the retry loop (`crate::retry`) writes the request, reads Hero's clock from each answer's
//!      `Date` (`crate::clock`), and logs each attempt without URL, headers or body;
//!    - a success body is read within its cap ([`body`]) and decoded with the operation's type
//!      (the JSON path of a failure); an error status's body is read within its cap and decoded
//!      as Hero's error body; a transport failure is classified in the crate's own words
//!      ([`failure`]);
//!    - the one [`Error`] is built, with whether a send went ([`crate::WasSent`]) and, for a
//!      send that may have gone, the [`crate::SendAttempt`] `find_send` looks for.
//!
//! Per-call state is a local ([`Call`]) passed by `&mut`. Nothing calls back into the generated
//! code.

pub(crate) mod body;
pub(crate) mod failure;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::{StatusCode, header::HeaderMap};
use serde::de::DeserializeOwned;

use crate::{
    api::{spec::Operation, types::ApiError},
    error::{Error, ErrorKind, WasSent},
    response::{Response, request_id_of},
    retry::{self, Verdict},
    rules::Body,
    shown::body::{decode_failure, mask_body},
    state::ClientState,
    telemetry,
    validate::Refusal,
};
use tracing::Instrument;

/// What one call went through, kept as a local of [`execute`].
#[derive(Debug)]
struct Call {
    /// Requests written (0 when nothing was sent).
    attempts: u32,
    /// Just before the first attempt was written.
    started: DateTime<Utc>,
    /// Just before the last attempt was written.
    last_started: DateTime<Utc>,
    /// When the last attempt ended (an answer's head read, or a failure).
    ended: DateTime<Utc>,
    /// Retries stopped because Hero asked for a wait longer than the policy allows.
    wait_too_long: bool,
}

/// How the last attempt ended.
enum Answer {
    Response(reqwest::Response),
    Failed(reqwest::Error),
    /// The pace could not be kept (a shared schedule failed): this attempt was not written.
    Paced(Error),
}

/// Runs one operation's request (see the module docs): every builder's `send()` is this call,
/// in its span ([`crate::telemetry`]).
pub(crate) async fn execute<T: Send + 'static, B: Body>(
    http: &reqwest::Client,
    state: &ClientState,
    op: &'static Operation,
    built: Result<(reqwest::Request, B), Refusal>,
    decode: fn(&[u8]) -> crate::Result<T>,
) -> crate::Result<Response<T>> {
    let span = telemetry::call_span(op, built.as_ref().ok().map(|(r, _)| r.url()));
    let result = call(http, state, op, built, decode)
        .instrument(span.clone())
        .await;
    telemetry::call_ended(&span, op, &result);
    result
}

async fn call<T: Send + 'static, B: Body>(
    http: &reqwest::Client,
    state: &ClientState,
    op: &'static Operation,
    built: Result<(reqwest::Request, B), Refusal>,
    decode: fn(&[u8]) -> crate::Result<T>,
) -> crate::Result<Response<T>> {
    let (mut request, body) = built.map_err(|r| Error::refused(r).with_operation(op.id))?;
    body.check(Utc::now())
        .map_err(|r| Error::refused(r).with_operation(op.id))?;
    state.credentials.apply(request.headers_mut());
    *request.timeout_mut() = Some(state.timeout);

    let now = crate::clock::now();
    let mut call = Call {
        attempts: 0,
        started: now,
        last_started: now,
        ended: now,
        wait_too_long: false,
    };
    let answer = attempts(http, state, op, request, &mut call).await;
    telemetry::attempts(call.attempts);
    let changes_state = op.changes_state();
    // Whether Hero accepted the send (a 2xx whose answer could not be used).
    let (err, accepted) = match answer {
        Answer::Response(resp) if resp.status().is_success() => {
            let status = resp.status();
            let sent = if changes_state {
                WasSent::Accepted
            } else {
                WasSent::NotSent
            };
            if !op.success.contains(&status.as_u16()) {
                let err = Error::new(
                    ErrorKind::UnexpectedStatus,
                    "a success status the API description does not list for this operation",
                )
                .with_status(status)
                .with_request_id(request_id_of(resp.headers()));
                (err.with_sent(sent), true)
            } else {
                let (status, headers, read) = body::read_success(resp).await;
                let decoded = match read {
                    Ok(bytes) => decode_body(bytes, decode).await,
                    Err(e) => Err(e),
                };
                match decoded {
                    Ok(value) => {
                        // A send's id is this client's own: find_send never mistakes it for
                        // another send's.
                        if let Some(sent) = (&value as &dyn std::any::Any)
                            .downcast_ref::<crate::api::types::SendMessageResponse>(
                        ) {
                            state.own_sends.remember(&sent.message_id);
                        }
                        return Ok(Response::new(value, status, headers));
                    }
                    Err(err) => {
                        let err = err
                            .with_status(status)
                            .with_request_id(request_id_of(&headers));
                        (err.with_sent(sent), true)
                    }
                }
            }
        }
        Answer::Response(resp) => {
            let status = resp.status();
            let sent = if changes_state && !refused(op, status) {
                WasSent::MayHaveArrived
            } else {
                WasSent::NotSent
            };
            let (headers, read) = body::read_error(resp).await;
            let mut err = from_status(status, &headers, read.as_deref());
            if call.wait_too_long {
                err = err.with_message(
                    "Hero asked to wait longer than the retry policy allows, so it was not retried",
                );
            }
            (err.with_sent(sent), false)
        }
        Answer::Paced(e) => {
            // Not written; an earlier attempt was retried only because it was not carried out.
            (e.with_sent(WasSent::NotSent), false)
        }
        Answer::Failed(e) => {
            let (kind, message) = failure::classify(&e);
            let sent = if changes_state && !failure::never_written(&e) {
                WasSent::MayHaveArrived
            } else {
                WasSent::NotSent
            };
            tracing::debug!(
                operation = op.id,
                attempt = call.attempts,
                ?kind,
                ?sent,
                "hero request failed"
            );
            (Error::new(kind, message).with_sent(sent), false)
        }
    };
    let err = err.with_operation(op.id).with_attempts(call.attempts);
    let attempt = if err.may_have_been_sent() {
        // Hero may create the message up to its longest processing time after the last write,
        // whatever timeout this request was given; only its 2xx says it is done.
        let processing = crate::clock::duration(state.processing);
        body.attempt(call.started, crate::clock::add(call.started, processing))
            .map(|a| {
                let a = a
                    .written_by(call.last_started)
                    .with_clock(state.clock.offset());
                if accepted {
                    a.accepted_at(call.ended)
                } else {
                    a.failed_at(call.ended)
                }
            })
    } else {
        None
    };
    Err(err.with_send_attempt(attempt))
}

/// A body at least this large is decoded on a task of its own (a page of a list: about 30 KiB
/// for 100 sent messages), so that a stream's pages in flight decode on every worker thread
/// instead of one after another on the consumer's; a smaller one is decoded in place, where a
/// task would cost more than it saves.
const DECODE_ON_A_TASK: usize = 16 * 1024;

/// Decodes a success body as `T`, on a task of its own when it is large ([`DECODE_ON_A_TASK`]).
async fn decode_body<T: Send + 'static>(
    bytes: bytes::Bytes,
    decode: fn(&[u8]) -> crate::Result<T>,
) -> crate::Result<T> {
    if bytes.len() < DECODE_ON_A_TASK {
        return decode(&bytes);
    }
    match tokio::spawn(async move { decode(&bytes) }).await {
        Ok(decoded) => decoded,
        // Decoding does not panic; were the task cancelled (the runtime shutting down), the
        // answer was read but not decoded.
        Err(_) => Err(Error::new(
            ErrorKind::Decode,
            "the response body could not be decoded (the runtime stopped)",
        )),
    }
}

/// Whether an error status means Hero did not carry a send out: a status the spec lists for the
/// operation that means a refusal (400, 401, 403, 404, 422), or 429 (Hero's rate limit, which the
/// retry rules count as not carried out). Anything else may follow processing (5xx, 3xx, 408,
/// 409, a status the spec does not list).
fn refused(op: &Operation, status: StatusCode) -> bool {
    let s = status.as_u16();
    s == 429 || (matches!(s, 400 | 401 | 403 | 404 | 422) && op.statuses.contains(&s))
}

/// The retry loop: writes the request until an attempt ends in a way the policy does not retry.
async fn attempts(
    http: &reqwest::Client,
    state: &ClientState,
    op: &'static Operation,
    request: reqwest::Request,
    call: &mut Call,
) -> Answer {
    let policy = &state.retry;
    let idempotent = !op.changes_state();
    let first = Instant::now();
    let mut pending = request;
    loop {
        // The client's pace: every attempt waits for its slot (a retry too: it is a request).
        if let Some(pace) = &state.pace {
            let waiting = tokio::time::Instant::now();
            let acquired = pace.acquire().await;
            telemetry::paced(op, waiting.elapsed());
            if let Err(e) = acquired {
                return Answer::Paced(e);
            }
        }
        call.attempts += 1;
        let attempt = call.attempts;
        // Keep a copy for the next attempt (bodies here are always buffered JSON).
        let spare = if attempt < policy.get_max_attempts() {
            pending.try_clone()
        } else {
            None
        };
        let sent_at = crate::clock::now();
        if attempt == 1 {
            call.started = sent_at;
        }
        call.last_started = sent_at;
        let span = telemetry::attempt_span(op, pending.url(), attempt);
        let took = tokio::time::Instant::now();
        let result = http.execute(pending).instrument(span.clone()).await;
        let ended = match &result {
            Ok(resp) => Ok(resp.status()),
            Err(e) => Err(failure::classify(e).0),
        };
        telemetry::attempt_ended(&span, op, ended, took.elapsed());
        call.ended = crate::clock::now();
        let (verdict, retry_after, status) = match &result {
            Ok(resp) => {
                state.clock.observe(resp.headers(), sent_at, call.ended);
                let status = resp.status();
                if let Some(pace) = &state.pace {
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        let rate = pace.rate_limited(retry_after(resp.headers())).await;
                        tracing::warn!(
                            operation = op.id,
                            per_second = rate,
                            "hero answered 429: the client's pace slows down"
                        );
                    } else if status.is_success() {
                        pace.succeeded();
                    }
                }
                let verdict = if status.is_success() {
                    Verdict::Return
                } else {
                    retry::after_status(idempotent, status.as_u16())
                };
                (verdict, retry_after(resp.headers()), Some(status.as_u16()))
            }
            Err(e) => (retry::after_error(idempotent, e), None, None),
        };
        tracing::debug!(
            operation = op.id,
            method = op.method,
            attempt,
            status,
            "hero request attempt"
        );
        if verdict == Verdict::Retry
            && let Some(spare) = spare
        {
            let delay = policy.delay(attempt, retry_after);
            if first.elapsed().saturating_add(delay) < policy.get_total_deadline() {
                tracing::info!(
                    operation = op.id,
                    attempt,
                    status,
                    delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    "retrying hero request"
                );
                telemetry::retried(op);
                // A zero wait (no backoff configured, a jitter of 0) is none: tokio's timer
                // would still round it up to its next tick (a millisecond).
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                pending = spare;
                continue;
            }
            // Hero's own wait, not the backoff's draw, is what the policy could not give.
            call.wait_too_long = retry_after
                .is_some_and(|d| first.elapsed().saturating_add(d) >= policy.get_total_deadline());
        }
        return match result {
            Ok(resp) => Answer::Response(resp),
            Err(e) => Answer::Failed(e),
        };
    }
}

/// An error status, with Hero's body decoded (or masked) when it was read whole.
fn from_status(status: StatusCode, headers: &HeaderMap, body: Option<&[u8]>) -> Error {
    let mut err = Error::new(Error::kind_of_status(status.as_u16()), String::new())
        .without_message()
        .with_status(status)
        .with_request_id(request_id_of(headers))
        .with_retry_after(retry_after(headers));
    if let Some(body) = body.filter(|b| !b.is_empty()) {
        err = match serde_json::from_slice::<ApiError>(body) {
            Ok(api) => err.with_api_error(api),
            Err(_) => err.with_excerpt(mask_body(body)),
        };
    }
    err
}

/// Decodes a success body as `T`: one pass of serde_json; only a body that does not decode is
/// read again, to name the JSON path (keys masked) and the kind of failure, from structure only
/// (serde's message, which quotes what it read, is dropped unread).
pub(crate) fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> crate::Result<T> {
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let expected = std::any::type_name::<T>();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let detail = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => decode_failure(Some(e.path()), e.inner(), expected),
        Ok(_) => match de.end() {
            Err(e) => format!("after the value: {}", decode_failure(None, &e, expected)),
            Ok(()) => "the body did not decode".to_owned(),
        },
    };
    Err(Error::new(ErrorKind::Decode, detail).with_excerpt(mask_body(bytes)))
}

/// An operation whose success has no body: whatever came is ignored.
pub(crate) fn decode_empty(_: &[u8]) -> crate::Result<()> {
    Ok(())
}

/// The error an error status with `body` becomes (for the fuzz target, which reaches this path
/// without a server).
pub(crate) fn error_for_status_body(status: u16, body: &[u8]) -> Error {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    from_status(status, &HeaderMap::new(), Some(body)).with_operation("send_message")
}

/// `Retry-After` as a duration: delta-seconds or an HTTP date. Any value parses without
/// overflow (`18446744073709551615` seconds is a long wait, not a panic); a date in the past is
/// no wait.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn op(method: &'static str, statuses: &'static [u16]) -> Operation {
        Operation {
            id: "x",
            method,
            path: "/x",
            paged: false,
            response: "()",
            success: &[200],
            statuses,
        }
    }

    #[test]
    fn only_statuses_that_mean_not_processed_count_as_refused() {
        let send = op("POST", &[200, 400, 401, 403, 404, 429, 500]);
        for s in [400, 401, 403, 404, 429] {
            assert!(refused(&send, StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [
            301, 307, 308, 408, 409, 410, 413, 418, 422, 500, 502, 503, 504, 599,
        ] {
            assert!(!refused(&send, StatusCode::from_u16(s).unwrap()), "{s}");
        }
        // A refusal status the spec does not list for the operation may follow processing.
        let narrow = op("POST", &[200, 401]);
        assert!(!refused(&narrow, StatusCode::BAD_REQUEST));
        assert!(refused(&narrow, StatusCode::UNAUTHORIZED));
        assert!(refused(&narrow, StatusCode::TOO_MANY_REQUESTS));
        let listed = op("POST", &[200, 422]);
        assert!(refused(&listed, StatusCode::UNPROCESSABLE_ENTITY));
    }

    #[test]
    fn retry_after_never_overflows() {
        let mut h = HeaderMap::new();
        h.insert(
            reqwest::header::RETRY_AFTER,
            "18446744073709551615".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_secs(u64::MAX)));
        h.insert(
            reqwest::header::RETRY_AFTER,
            "Fri, 31 Dec 9999 23:59:59 GMT".parse().unwrap(),
        );
        assert!(retry_after(&h).unwrap() > Duration::from_secs(200 * 365 * 86_400));
        h.insert(
            reqwest::header::RETRY_AFTER,
            "Thu, 01 Jan 1970 00:00:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn a_body_that_does_not_decode_names_its_path_not_its_values() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Page {
            data: Vec<Row>,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Row {
            count: u32,
        }
        let err = decode_json::<Page>(br#"{"data":[{"count":1},{"count":"Ada"}]}"#).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("$.data[1].count"), "{shown}");
        assert!(!shown.contains("Ada"), "{shown}");
        let err = decode_json::<Row>(br#"{"count":1} trailing"#).unwrap_err();
        assert!(err.to_string().contains("after the value"), "{err}");
        assert!(decode_json::<Row>(br#"{"count":1}"#).is_ok());
    }
}
