//! The gate every API request passes, as one middleware: it names the operation (from the
//! generated operation table), keeps the JSON body for the journal, checks the API key against
//! the practice group, applies the rate limit and any fault rule, runs the handler, and journals
//! the request with what was answered. Handlers read the authenticated group with the
//! [`PracticeGroup`] extractor.
//!
//! The journal is test data a caller asked for: nothing here writes a request, its body or its
//! credentials to logs or tracing.

use std::sync::Arc;

use axum::{
    body::{Body, Bytes},
    extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use herohealth::spec::OPERATIONS;
use serde_json::{Value, json};

use crate::{
    App,
    conn::ConnHandle,
    faults::{Fault, unknown_enums},
    journal::JournalEntry,
    reply::{ApiFailure, api_error},
    validation::Issues,
};

/// The practice group a request was authenticated for: an extractor for handlers behind the gate.
#[derive(Clone)]
pub(crate) struct PracticeGroup(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for PracticeGroup {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiFailure> {
        parts
            .extensions
            .get::<PracticeGroup>()
            .cloned()
            .ok_or_else(|| api_error(StatusCode::UNAUTHORIZED, json!("Unauthorised")))
    }
}

/// The largest body the gate reads for the journal (the handler sees the same bytes).
pub(crate) const BODY_LIMIT: usize = 64 << 20;

/// Auth, rate limit, faults, then the handler; every request is journaled.
pub(crate) async fn gate(
    State(app): State<Arc<App>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    matched: MatchedPath,
    mut req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    let operation = OPERATIONS
        .iter()
        .find(|o| o.method == method.as_str() && o.path == matched.as_str())
        .map_or("unknown", |o| o.id);
    let mut entry = JournalEntry::new(operation, method.as_str(), req.uri().path());
    entry.received_at = app.clock.now();
    // The JSON body, for the journal (a test asserts what was sent); the handler reads it again.
    if matches!(method, Method::POST | Method::PATCH) {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, BODY_LIMIT)
            .await
            .unwrap_or_default();
        entry.body = serde_json::from_slice(&bytes).ok();
        req = Request::from_parts(parts, Body::from(bytes));
    }

    let group = match authenticate(&app, req.headers()) {
        Ok(group) => group,
        Err(refused) => return answered(&app, entry, refused.into_response(), &conn),
    };
    entry.practice_group_id = Some(group.clone());

    // The moment the rate limit counts the request by.
    entry.received_at = app.clock.now();
    if let Some(retry_after) = app.rate_limit.admit(&group, entry.received_at, &app.clock) {
        entry.fault = Some("RateLimit".to_owned());
        return answered(&app, entry, too_many_requests(Some(retry_after)), &conn);
    }
    req.extensions_mut().insert(PracticeGroup(group));

    let fault = app.faults.next_call(operation);
    entry.fault = fault.as_ref().map(|f| format!("{f:?}"));
    entry.processed = fault.as_ref().is_none_or(Fault::processes);
    if app.config.finish_abandoned {
        // Hero finishes what it started: the handler runs to its end on its own task, whether or
        // not the client is still there to read the answer.
        let task_app = app.clone();
        let task = tokio::spawn(async move {
            let resp = match fault {
                None => next.run(req).await,
                Some(fault) => apply(fault, req, next, &conn).await,
            };
            answered(&task_app, entry, resp, &conn)
        });
        return task
            .await
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    }
    // A client that gives up (its timeout during a latency fault) drops this future: the
    // request is journaled all the same, with status 0, so `calls()` counts it.
    let mut unanswered = Unanswered {
        app: &app,
        entry: Some(entry),
    };
    let resp = match fault {
        None => next.run(req).await,
        Some(fault) => apply(fault, req, next, &conn).await,
    };
    let entry = unanswered.entry.take().expect("the entry, until answered");
    answered(&app, entry, resp, &conn)
}

/// Journals, when dropped, a request whose answer was never written (status 0).
struct Unanswered<'a> {
    app: &'a App,
    entry: Option<JournalEntry>,
}

impl Drop for Unanswered<'_> {
    fn drop(&mut self) {
        if let Some(mut entry) = self.entry.take() {
            // The handlers do not await: dropped here, the handler never ran (a latency fault
            // or the body was still being read), so nothing was processed.
            entry.processed = false;
            self.app.journal.record(entry, 0);
        }
    }
}

/// Journals `entry` with the status of `resp` (0 when the connection was reset instead), and
/// gives `resp` back with its `Date` on the mock's clock (Hero's `Date` and its `created_at` come
/// from one clock, which is what a client measures Hero's clock by).
fn answered(app: &App, entry: JournalEntry, mut resp: Response, conn: &ConnHandle) -> Response {
    let status = if conn.was_reset() {
        0
    } else {
        resp.status().as_u16()
    };
    app.journal.record(entry, status);
    let date = app
        .date_header
        .lock()
        .expect("date lock")
        .value(app.clock.now());
    if let Ok(date) = HeaderValue::from_str(&date) {
        resp.headers_mut().insert(header::DATE, date);
    }
    resp
}

/// The practice group `x-api-key` is configured for, if `x-practice-group-id` names it: else
/// 401 (no or an unknown key) or 403 (a key of another group).
pub(crate) fn authenticate(app: &App, headers: &HeaderMap) -> Result<String, ApiFailure> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let unauthorised = || api_error(StatusCode::UNAUTHORIZED, json!("Unauthorised"));
    let (Some(key), Some(group)) = (text("x-api-key"), text("x-practice-group-id")) else {
        return Err(unauthorised());
    };
    let mut known = false;
    for (k, g) in &app.config.keys {
        if k == key {
            if g == group {
                return Ok(group.to_owned());
            }
            known = true;
        }
    }
    if known {
        Err(api_error(StatusCode::FORBIDDEN, json!("Forbidden")))
    } else {
        Err(unauthorised())
    }
}

/// Hero's 429, with `Retry-After` in seconds when given.
fn too_many_requests(retry_after: Option<u64>) -> Response {
    let mut resp =
        api_error(StatusCode::TOO_MANY_REQUESTS, json!("Too Many Requests")).into_response();
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// The answer to a request with `fault`: instead of the handler, around it, or after it.
async fn apply(fault: Fault, req: Request, next: Next, conn: &ConnHandle) -> Response {
    match fault {
        Fault::Latency(d) => {
            tokio::time::sleep(d).await;
            next.run(req).await
        }
        Fault::RateLimited { retry_after } => too_many_requests(retry_after),
        Fault::Validation { fields } => Issues::for_fields(&fields).into_failure().into_response(),
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            api_error(status, json!("Unknown error")).into_response()
        }
        Fault::HtmlError(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
            let page = format!(
                "<html><head><title>{code}</title></head><body><h1>{code} Bad Gateway</h1></body></html>"
            );
            (status, [(header::CONTENT_TYPE, "text/html")], page).into_response()
        }
        Fault::ResetBeforeProcessing => {
            conn.reset();
            StatusCode::OK.into_response()
        }
        Fault::ResetAfterProcessing => {
            let resp = next.run(req).await;
            conn.reset();
            resp
        }
        Fault::TruncatedJson
        | Fault::MalformedJson
        | Fault::EmptyBody
        | Fault::UnknownEnumValue
        | Fault::WrongContentType => reshape(&fault, next.run(req).await).await,
    }
}

/// The handler's answer, spoiled as `fault` says.
async fn reshape(fault: &Fault, resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let bytes = match fault {
        Fault::TruncatedJson => bytes.slice(..bytes.len() / 2),
        Fault::MalformedJson => Bytes::from_static(b"{\"data\": [,]"),
        Fault::EmptyBody => Bytes::new(),
        Fault::UnknownEnumValue => match serde_json::from_slice::<Value>(&bytes) {
            Ok(mut v) => {
                unknown_enums(&mut v);
                Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
            }
            Err(_) => bytes,
        },
        Fault::WrongContentType => {
            parts
                .headers
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            bytes
        }
        _ => bytes,
    };
    if matches!(fault, Fault::MalformedJson | Fault::EmptyBody) {
        parts.status = StatusCode::OK;
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}
