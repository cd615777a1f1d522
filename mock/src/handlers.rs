//! Routes: the auth gate, fault injection, validation with Hero's 400 body, and one handler per
//! operation of `openapi.yaml`.

use std::sync::Arc;

use axum::{
    Extension, Router,
    body::{Body, Bytes},
    extract::{ConnectInfo, MatchedPath, Path, RawQuery, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, patch, post},
};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use crate::{
    App, CountMode,
    faults::{ConnHandle, Fault, JournalEntry, unknown_enums},
    state::{Batch, Group, Message, Outcome, Patient, Recipient, person},
};

use herohealth::api::spec::OPERATIONS;

type Shared = Arc<App>;

/// The practice group a request was authenticated for.
#[derive(Clone)]
struct PracticeGroup(String);

pub(crate) fn router(app: Shared) -> Router {
    Router::new()
        .route(
            "/v1/batch_message",
            post(create_batch_message).get(list_batch_messages),
        )
        .route("/v1/batch_message/{id}/send", patch(send_batch_message))
        .route("/v1/batch_message/{id}", get(get_batch_message))
        .route(
            "/v1/batch_message/{id}/recipients",
            get(list_batch_message_recipients),
        )
        .route(
            "/v1/batch_message/{id}/messages",
            get(list_batch_message_sends),
        )
        .route("/v1/messages/send", post(send_message))
        .route("/v1/messages/{id}", get(get_message))
        .route("/v1/messages/{id}/status", get(get_message_status))
        .route(
            "/v1/messages/assignee/collection",
            get(list_assignee_collection),
        )
        .route("/v1/snomed/validate", post(validate_snomed_code))
        .route("/v1/templates", get(list_templates))
        .route("/v2/sent_messages", get(list_sent_messages))
        .route("/v1/patients/register_pds", post(register_patient_pds))
        .route_layer(middleware::from_fn_with_state(app.clone(), gate))
        .route("/__mock/journal", get(journal))
        .fallback(|| async { api_error(StatusCode::NOT_FOUND, json!("Not found")) })
        .with_state(app)
}

async fn journal(State(app): State<Shared>) -> Response {
    axum::Json(app.faults.journal()).into_response()
}

/// Hero's error body: `{error, statusCode, message}`.
fn api_error(status: StatusCode, message: Value) -> ApiFailure {
    ApiFailure { status, message }
}

/// An error answer: the status and the `message` of Hero's error body.
#[derive(Debug)]
pub(crate) struct ApiFailure {
    status: StatusCode,
    message: Value,
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        let body =
            json!({"error": true, "statusCode": self.status.as_u16(), "message": self.message});
        (self.status, axum::Json(body)).into_response()
    }
}

fn header_text(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Auth, then faults, then the handler; every request is journaled.
async fn gate(
    State(app): State<Shared>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    matched: MatchedPath,
    mut req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let operation = OPERATIONS
        .iter()
        .find(|o| o.method == method.as_str() && o.path == matched.as_str())
        .map_or("unknown", |o| o.id);
    let mut entry = JournalEntry {
        operation: operation.to_owned(),
        method: method.to_string(),
        path,
        practice_group_id: None,
        status: 0,
        processed: false,
        fault: None,
        body: None,
    };
    // The JSON body, for the journal (a test asserts what was sent); the handler reads it again.
    if matches!(method, axum::http::Method::POST | axum::http::Method::PATCH) {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, 64 << 20)
            .await
            .unwrap_or_default();
        entry.body = serde_json::from_slice(&bytes).ok();
        req = Request::from_parts(parts, Body::from(bytes));
    }

    let (key, group) = (
        header_text(&req, "x-api-key"),
        header_text(&req, "x-practice-group-id"),
    );
    let group = match (key, group) {
        (Some(key), Some(group)) => match app.config.keys.get(&key) {
            Some(bound) if *bound == group => Ok(group),
            Some(_) => Err(api_error(StatusCode::FORBIDDEN, json!("Forbidden")).into_response()),
            None => Err(api_error(StatusCode::UNAUTHORIZED, json!("Unauthorised")).into_response()),
        },
        _ => Err(api_error(StatusCode::UNAUTHORIZED, json!("Unauthorised")).into_response()),
    };
    let group = match group {
        Ok(g) => g,
        Err(resp) => {
            entry.status = resp.status().as_u16();
            app.faults.record(entry);
            return resp;
        }
    };
    entry.practice_group_id = Some(group.clone());
    req.extensions_mut().insert(PracticeGroup(group.clone()));

    if let Some(retry_after) = app.rate_limit.admit(&group) {
        entry.fault = Some("RateLimit".to_owned());
        let mut resp =
            api_error(StatusCode::TOO_MANY_REQUESTS, json!("Too Many Requests")).into_response();
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        entry.status = resp.status().as_u16();
        app.faults.record(entry);
        return resp;
    }
    let fault = app.faults.next_call(operation);
    let reset = matches!(
        fault,
        Some(Fault::ResetBeforeProcessing | Fault::ResetAfterProcessing)
    );
    entry.fault = fault.as_ref().map(|f| format!("{f:?}"));
    entry.processed = fault.as_ref().is_none_or(Fault::processes);
    let resp = match fault {
        None => next.run(req).await,
        Some(Fault::Latency(d)) => {
            tokio::time::sleep(d).await;
            next.run(req).await
        }
        Some(Fault::RateLimited { retry_after }) => {
            let mut resp = api_error(StatusCode::TOO_MANY_REQUESTS, json!("Too Many Requests"))
                .into_response();
            if let Some(secs) = retry_after {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            resp
        }
        Some(Fault::Validation { fields }) => {
            let issues: Vec<Value> = fields
                .iter()
                .map(|f| {
                    let path: Vec<Value> = f
                        .split('.')
                        .map(|p| p.parse::<u64>().map_or_else(|_| json!(p), |i| json!(i)))
                        .collect();
                    json!({"code": "custom", "expected": "string", "path": path})
                })
                .collect();
            api_error(StatusCode::BAD_REQUEST, Value::Array(issues)).into_response()
        }
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            api_error(status, json!("Unknown error")).into_response()
        }
        Some(Fault::HtmlError(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
            let page = format!(
                "<html><head><title>{code}</title></head><body><h1>{code} Bad Gateway</h1></body></html>"
            );
            (status, [(header::CONTENT_TYPE, "text/html")], page).into_response()
        }
        Some(Fault::ResetBeforeProcessing) => {
            conn.0.reset();
            StatusCode::OK.into_response()
        }
        Some(Fault::ResetAfterProcessing) => {
            let resp = next.run(req).await;
            conn.0.reset();
            resp
        }
        Some(fault) => {
            let resp = next.run(req).await;
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
    };
    entry.status = if reset { 0 } else { resp.status().as_u16() };
    app.faults.record(entry);
    resp
}

// ------------------------------------------------------------------ validation

/// Collects Zod-like issues and answers Hero's 400 body.
#[derive(Default)]
struct Issues(Vec<Value>);

impl Issues {
    fn add(&mut self, code: &str, expected: &str, path: &[Value]) {
        self.0
            .push(json!({"code": code, "expected": expected, "path": path}));
    }

    fn finish(self) -> Result<(), ApiFailure> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(api_error(StatusCode::BAD_REQUEST, Value::Array(self.0)))
        }
    }

    /// A string field. An optional field may be absent but not `null` (Zod `.optional()`).
    fn string(
        &mut self,
        obj: &Map<String, Value>,
        field: &str,
        required: bool,
        non_empty: bool,
    ) -> Option<String> {
        match obj.get(field) {
            None if !required => None,
            Some(Value::String(s)) if non_empty && s.trim().is_empty() => {
                self.add("too_small", "non-empty string", &[json!(field)]);
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            _ => {
                self.add("invalid_type", "string", &[json!(field)]);
                None
            }
        }
    }

    fn one_of(
        &mut self,
        obj: &Map<String, Value>,
        field: &str,
        allowed: &[&str],
        required: bool,
    ) -> Option<String> {
        let v = self.string(obj, field, required, false)?;
        if allowed.contains(&v.as_str()) {
            Some(v)
        } else {
            let expected: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
            self.add("invalid_enum_value", &expected.join(" | "), &[json!(field)]);
            None
        }
    }

    fn boolean(&mut self, obj: &Map<String, Value>, field: &str) -> bool {
        match obj.get(field) {
            None => false,
            Some(Value::Bool(b)) => *b,
            _ => {
                self.add("invalid_type", "boolean", &[json!(field)]);
                false
            }
        }
    }

    fn datetime(&mut self, value: &str, path: &[Value]) -> Option<DateTime<Utc>> {
        match parse_datetime(value) {
            Some(d) => Some(d),
            None => {
                self.add("invalid_string", "datetime", path);
                None
            }
        }
    }
}

/// An ISO 8601 date-time, or a date (taken as midnight UTC).
fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
        })
}

fn json_object(body: &Bytes) -> Result<Map<String, Value>, ApiFailure> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => {
            let mut issues = Issues::default();
            issues.add("invalid_type", "object", &[]);
            Err(issues.finish().expect_err("one issue"))
        }
    }
}

/// The query string as pairs, repeated keys kept.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<String>) -> Self {
        Self(
            raw.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn int(&self, name: &str, min: i64, issues: &mut Issues) -> Option<i64> {
        let v = self.get(name)?;
        match v.parse::<i64>() {
            Ok(n) if n >= min => Some(n),
            Ok(_) => {
                issues.add("too_small", &format!("integer >= {min}"), &[json!(name)]);
                None
            }
            Err(_) => {
                issues.add("invalid_type", "integer", &[json!(name)]);
                None
            }
        }
    }

    fn boolean(&self, name: &str, issues: &mut Issues) -> Option<bool> {
        match self.get(name)? {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                issues.add("invalid_type", "boolean", &[json!(name)]);
                None
            }
        }
    }

    /// Every value of `name` must be one of `allowed`.
    fn enums(&self, name: &str, allowed: &[&str], issues: &mut Issues) -> Vec<String> {
        let values = self.all(name);
        for v in &values {
            if !allowed.contains(v) {
                let expected: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
                issues.add("invalid_enum_value", &expected.join(" | "), &[json!(name)]);
            }
        }
        values.into_iter().map(str::to_owned).collect()
    }
}

/// One page of `items` per `page_index` (from 0) and `page_size`, and the `count` to report.
fn paginate<T>(app: &App, items: Vec<T>, q: &Query, issues: &mut Issues) -> (Vec<T>, usize) {
    let (skip, size) = page_window(app, q, issues);
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(skip).take(size).collect();
    let count = count_for(app, total, page.len());
    (page, count)
}

/// One page of `rows` as Hero's `{data, count}` body, or the 400 for a bad query.
fn page_response<T: serde::Serialize>(
    app: &App,
    rows: Vec<T>,
    q: &Query,
    mut issues: Issues,
) -> Result<Response, ApiFailure> {
    let (data, count) = paginate(app, rows, q, &mut issues);
    issues.finish()?;
    Ok(axum::Json(ListPage { data, count }).into_response())
}

/// `(items to skip, page size)` from `page_index` (from 0) and `page_size` (default and cap from
/// the configuration).
fn page_window(app: &App, q: &Query, issues: &mut Issues) -> (usize, usize) {
    let size = q
        .int("page_size", 1, issues)
        .map_or(app.config.default_page_size, |s| s as usize)
        .min(app.config.max_page_size);
    let index = q.int("page_index", 0, issues).unwrap_or(0) as usize;
    (index.saturating_mul(size), size)
}

/// The `count` a list reports, per [`CountMode`].
fn count_for(app: &App, total: usize, on_page: usize) -> usize {
    match app.config.count_mode {
        CountMode::Total => total,
        CountMode::Page => on_page,
    }
}

/// The wire values of one of the client's enums, generated from `openapi.yaml`: a value added to
/// the spec is accepted here with no other edit.
macro_rules! wire {
    ($t:ty) => {
        <$t>::KNOWN
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<&'static str>>()
    };
}

fn channels() -> Vec<&'static str> {
    wire!(herohealth::BatchChannel)
}
fn batch_statuses() -> Vec<&'static str> {
    wire!(herohealth::BatchMessageStatus)
}
fn enrichment_statuses() -> Vec<&'static str> {
    wire!(herohealth::EnrichmentStatus)
}
fn send_statuses() -> Vec<&'static str> {
    wire!(herohealth::BatchSendStatus)
}
fn message_types() -> Vec<&'static str> {
    wire!(herohealth::MessageType)
}
fn delivery_statuses() -> Vec<&'static str> {
    wire!(herohealth::DeliveryStatus)
}
fn write_to_record_statuses() -> Vec<&'static str> {
    wire!(herohealth::WriteToRecordStatus)
}

fn with_group<R>(app: &App, group: &str, f: impl FnOnce(&mut Group) -> R) -> R {
    let mut groups = app.groups.lock().expect("store lock");
    f(groups.entry(group.to_owned()).or_default())
}

fn ts(d: DateTime<Utc>) -> Value {
    json!(d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn opt_ts(d: Option<DateTime<Utc>>) -> Value {
    d.map_or(Value::Null, ts)
}

// ------------------------------------------------------------------ batch messages

fn batch_json(b: &Batch, now: DateTime<Utc>) -> Value {
    let mut v = json!({"id": b.id, "name": b.name, "status": b.status(now), "channel": b.channel, "content": b.content});
    if let Some(s) = &b.subject {
        v["subject"] = json!(s);
    }
    v
}

async fn create_batch_message(
    State(app): State<Shared>,
    Extension(PracticeGroup(group)): Extension<PracticeGroup>,
    body: Bytes,
) -> Result<Response, ApiFailure> {
    let obj = json_object(&body)?;
    let mut issues = Issues::default();
    let name = issues.string(&obj, "name", true, false);
    let channel = issues.one_of(&obj, "channel", &channels(), true);
    let subject = issues.string(&obj, "subject", false, false);
    if channel.as_deref() == Some("EMAIL") && subject.as_deref().is_none_or(|s| s.trim().is_empty())
    {
        issues.add(
            "custom",
            "subject is required when channel = EMAIL",
            &[json!("subject")],
        );
    }
    let content = issues.string(&obj, "content", true, true);
    let mut recipients = Vec::new();
    let list: Vec<(Option<usize>, &Value)> = match obj.get("recipients") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (Some(i), v))
            .collect(),
        Some(v @ Value::Object(_)) => vec![(None, v)],
        _ => {
            issues.add("invalid_type", "array", &[json!("recipients")]);
            Vec::new()
        }
    };
    for (i, r) in list {
        let path = |field: &str| -> Vec<Value> {
            let mut p = vec![json!("recipients")];
            p.extend(i.map(|i| json!(i)));
            p.push(json!(field));
            p
        };
        let Value::Object(r) = r else {
            issues.add("invalid_type", "object", &path("")[..path("").len() - 1]);
            continue;
        };
        let nhs = match r.get("nhs_number") {
            Some(Value::String(s)) => Some(s.clone()),
            _ => {
                issues.add("invalid_type", "string", &path("nhs_number"));
                None
            }
        };
        match r.get("dob") {
            Some(Value::Null) => {}
            Some(Value::String(s)) => {
                issues.datetime(s, &path("dob"));
            }
            _ => issues.add("invalid_type", "string", &path("dob")),
        }
        if let Some(nhs) = nhs {
            recipients.push(nhs);
        }
    }
    issues.finish()?;
    let now = app.clock.now();
    let id = format!("bm_{:06}", app.next_id());
    let batch = with_group(&app, &group, |g| {
        let recipients = recipients
            .into_iter()
            .map(|raw| match herohealth::NhsNumber::parse(&raw) {
                Ok(nhs) => {
                    let p = g.register_nhs(nhs.as_str());
                    let outcome = app
                        .config
                        .outcome_for(if channel.as_deref() == Some("EMAIL") {
                            &p.email
                        } else {
                            &p.mobile
                        });
                    Recipient {
                        nhs_number: nhs.as_str().to_owned(),
                        enriched: Some(p),
                        outcome,
                    }
                }
                Err(_) => Recipient {
                    nhs_number: raw,
                    enriched: None,
                    outcome: Outcome::Fatal,
                },
            })
            .collect();
        let batch = Batch {
            id,
            name: name.unwrap_or_default(),
            channel: channel.unwrap_or_default(),
            subject,
            content: content.unwrap_or_default(),
            sent_at: None,
            recipients,
        };
        g.batches.push(batch.clone());
        batch
    });
    Ok(axum::Json(batch_json(&batch, now)).into_response())
}

async fn list_batch_messages(
    State(app): State<Shared>,
    Extension(PracticeGroup(group)): Extension<PracticeGroup>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiFailure> {
    let q = Query::parse(raw);
    let mut issues = Issues::default();
    let mut allowed = batch_statuses();
    allowed.extend(
        enrichment_statuses()
            .into_iter()
            .filter(|s| *s != "CREATED"),
    );
    let status = q.enums("status", &allowed, &mut issues);
    let now = app.clock.now();
    let rows: Vec<Value> = with_group(&app, &group, |g| {
        g.batches
            .iter()
            .filter(|b| {
                status.iter().all(|s| {
                    if batch_statuses().contains(&s.as_str()) {
                        b.status(now) == s
                    } else {
                        b.recipients.iter().any(|r| enrichment(r) == s)
                    }
                })
            })
            .map(|b| batch_json(b, now))
            .collect()
    });
    page_response(&app, rows, &q, issues)
}

fn find_batch<R>(
    app: &App,
    group: &str,
    id: &str,
    f: impl FnOnce(&mut Batch) -> R,
) -> Result<R, ApiFailure> {
    with_group(app, group, |g| {
        g.batches.iter_mut().find(|b| b.id == id).map(f)
    })
    .ok_or_else(|| api_error(StatusCode::NOT_FOUND, json!("Batch message not found")))
}

async fn send_batch_message(
    State(app): State<Shared>,
    Extension(PracticeGroup(group)): Extension<PracticeGroup>,
    Path(id): Path<String>,
) -> Result<Response, ApiFailure> {
    let now = app.clock.now();
    let already = find_batch(&app, &group, &id, |b| {
        let already = b.sent_at.is_some();
        b.sent_at.get_or_insert(now);
        already
    })?;
    if already {
        return Err(api_error(
            StatusCode::CONFLICT,
            json!("Batch message already sent"),
        ));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn get_batch_message(
    State(app): State<Shared>,
    Extension(PracticeGroup(group)): Extension<PracticeGroup>,
    Path(id): Path<String>,
) -> Result<Response, ApiFailure> {
    let now = app.clock.now();
    let v = find_batch(&app, &group, &id, |b| batch_json(b, now))?;
    Ok(axum::Json(v).into_response())
}

fn enrichment(r: &Recipient) -> &'static str {
    if r.enriched.is_some() {
        "ENRICHED"
    } else {
        "ENRICHMENT_ERROR"
    }
}

async fn list_batch_message_recipients(
    State(app): State<Shared>,
    Extension(PracticeGroup(group)): Extension<PracticeGroup>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiFailure> {
    let q = Query::parse(raw);
    let mut issues = Issues::default();
    let status = q.enums("status", &enrichment_statuses(), &mut issues);
    let rows = find_batch(&app, &group, &id, |b| {
        b.recipients
            .iter()
            .filter(|r| status.iter().all(|s| enrichment(r) == s))
            .map(|r| match &r.enriched {
                Some(p) => json!({"enrichment_status": "ENRICHED", "first_name": p.first_name, "last_name": p.last_name,
                    "nhs_number": r.nhs_number, "mobile": p.mobile, "email": p.email}),
                None => json!({"enrichment_status": "ENRICHMENT_ERROR", "nhs_number": r.nhs_number}),
            })
            .collect::<Vec<_>>()
    })?;
    page_response(&app, rows, &q, issues)
}

async fn list_batch_message_sends(
    State(app): State<Shared>,
    Extension(PracticeGroup(group)): Extension<PracticeGroup>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiFailure> {
    let q = Query::parse(raw);
    let mut issues = Issues::default();
    let status = q.enums("status", &send_statuses(), &mut issues);
    let now = app.clock.now();
    let rows = find_batch(&app, &group, &id, |b| {
        b.recipients
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let (st, sent_at) = b.send_state(r, now)?;
                let p = r.enriched.as_ref()?;
                status.iter().all(|s| s == st).then(|| {
                    let mut v = json!({"id": format!("{}_{}", b.id, i + 1), "status": st, "recipient": b.contact_of(p),
                        "channel": b.channel, "content": b.content, "sent_at": opt_ts(sent_at), "created_at": opt_ts(b.sent_at)});
                    if let Some(s) = &b.subject {
                        v["subject"] = json!(s);
                    }
                    v
                })
            })
            .collect::<Vec<_>>()
    })?;
    page_response(&app, rows, &q, issues)
}

// ------------------------------------------------------------------ single messages

async fn send_message(
    State(app): State<Shared>,
    Extension(PracticeGroup(group)): Extension<PracticeGroup>,
    body: Bytes,
) -> Result<Response, ApiFailure> {
    let obj = json_object(&body)?;
    let mut issues = Issues::default();
    let patient_id = issues.string(&obj, "patient_id", true, false);
    if patient_id
        .as_deref()
        .is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        issues.add("invalid_string", "^\\d+$", &[json!("patient_id")]);
    }
    let message_type = issues.one_of(&obj, "message_type", &message_types(), true);
    let content = issues.string(&obj, "message_string", true, true);
    let contact = issues.string(&obj, "recipient_contact_detail", false, false);
    issues.string(&obj, "fallback_contact_detail", false, false);
    issues.one_of(&obj, "fallback_message_type", &["sms", "email"], false);
    let write_to_record = issues.boolean(&obj, "write_to_record");
    issues.boolean(&obj, "auto_write_to_record");
    if !matches!(
        obj.get("encrypted"),
        None | Some(Value::Bool(_) | Value::String(_))
    ) {
        issues.add("invalid_type", "boolean | string", &[json!("encrypted")]);
    }
    let snomed_code = issues.string(&obj, "snomed_code", false, false);
    issues.one_of(&obj, "assignee_type", &["Admin", "AdminTeam"], false);
    for field in ["snomed_term", "task_id"] {
        issues.string(&obj, field, false, false);
    }
    for field in ["attachment_uuid", "short_link_id"] {
        issues.string(&obj, field, false, true);
    }
    if obj.get("assignee_id").is_some_and(|v| v.as_i64().is_none()) {
        issues.add("invalid_type", "integer", &[json!("assignee_id")]);
    }
    let send_at = issues
        .string(&obj, "send_at", false, false)
        .and_then(|s| issues.datetime(&s, &[json!("send_at")]));
    issues.finish()?;
    let (patient_id, message_type, content) = (
        patient_id.unwrap_or_default(),
        message_type.unwrap_or_default(),
        content.unwrap_or_default(),
    );

    let now = app.clock.now();
    let m = with_group(&app, &group, |g| {
        let patient = g.patient(&patient_id);
        let contact = contact.unwrap_or_else(|| {
            if message_type == "email" {
                patient.email.clone()
            } else {
                patient.mobile.clone()
            }
        });
        let snomed_valid = snomed_code
            .as_deref()
            .is_none_or(|c| herohealth::SnomedCode::parse(c).is_ok());
        let m = Message {
            id: g.messages.len() as u64 + 1,
            patient_id,
            outcome: app.config.outcome_for(&contact),
            message_type,
            content,
            contact,
            write_to_record,
            snomed_code: snomed_code
                .or_else(|| write_to_record.then(|| crate::DEFAULT_SNOMED_CODE.to_owned())),
            snomed_valid,
            send_at,
            created_at: now,
            sent_by: "API".to_owned(),
            campaign: None,
            short_link: None,
        };
        g.messages.push(m.clone());
        m
    });
    Ok(axum::Json(json!({
        "message_id": m.id.to_string(),
        "content": m.content,
        "created_at": ts(m.created_at),
        "snomed_code": m.snomed_code,
        "write_to_record": m.write_to_record,
        "auth_token": Value::Null,
        "confirm_write_to_record_url": Value::Null,
        "submitted_by": "API",
        "send_at": opt_ts(m.send_at),
    }))
    .into_response())
}

fn find_message<R>(
    app: &App,
    group: &str,
    id: &str,
    f: impl FnOnce(&Message, &mut Group) -> R,
) -> Result<R, ApiFailure> {
    with_group(app, group, |g| {
        let m = id
            .parse::<usize>()
            .ok()
            .and_then(|i| g.messages.get(i.checked_sub(1)?))
            .cloned()?;
        Some(f(&m, g))
    })
    .ok_or_else(|| api_error(StatusCode::NOT_FOUND, json!("Message not found")))
}

/// A 200 with a serialised JSON body.
fn json_body(body: serde_json::Result<Vec<u8>>) -> Response {
    match body {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(e) => {
            api_error(StatusCode::INTERNAL_SERVER_ERROR, json!(e.to_string())).into_response()
        }
    }
}

/// A row of the sent-messages list (and the base of getMessage), serialised without building a
/// `serde_json::Value` tree: listing is the mock's hottest path.
#[derive(serde::Serialize)]
struct SentRow<'a> {
    id: String,
    patient: PatientRow<'a>,
    write_to_record: WriteToRecordRow,
    short_link: Option<ShortLinkRow<'a>>,
    campaign: Option<CampaignRow<'a>>,
    created_at: String,
    sent_at: Option<String>,
    scheduled_at: Option<String>,
    status: &'static str,
    sent_by: &'a str,
    recipient_contact_detail: &'a str,
    message_type: &'a str,
}

#[derive(serde::Serialize)]
struct PatientRow<'a> {
    id: &'a str,
    title: Option<&'static str>,
    first_name: &'a str,
    last_name: &'a str,
}

#[derive(serde::Serialize)]
struct WriteToRecordRow {
    write_to_record_at: Option<String>,
    status: Option<&'static str>,
    failure_reason: Option<&'static str>,
}

#[derive(serde::Serialize)]
struct ShortLinkRow<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    name: &'static str,
    status: &'static str,
}

#[derive(serde::Serialize)]
struct CampaignRow<'a> {
    id: &'a str,
    name: &'a str,
}

/// The rows of `messages` whose patient is known.
fn sent_rows<'a>(
    messages: impl Iterator<Item = &'a Message>,
    patients: &'a std::collections::BTreeMap<String, Patient>,
    now: DateTime<Utc>,
) -> Vec<SentRow<'a>> {
    messages
        .filter_map(|m| patients.get(&m.patient_id).map(|p| sent_row(m, p, now)))
        .collect()
}

/// A page of a list.
#[derive(serde::Serialize)]
struct ListPage<T> {
    data: Vec<T>,
    count: usize,
}

fn time_text(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn sent_row<'a>(m: &'a Message, p: &'a Patient, now: DateTime<Utc>) -> SentRow<'a> {
    let s = m.state(now);
    SentRow {
        id: m.id.to_string(),
        patient: PatientRow {
            id: &p.id,
            title: p.title,
            first_name: &p.first_name,
            last_name: &p.last_name,
        },
        write_to_record: WriteToRecordRow {
            write_to_record_at: s.wtr_at.map(time_text),
            status: s.wtr_status,
            failure_reason: s.wtr_failure,
        },
        short_link: m.short_link.as_ref().map(|(id, kind)| ShortLinkRow {
            id,
            kind,
            name: "Book an appointment",
            status: "active",
        }),
        campaign: m
            .campaign
            .as_ref()
            .map(|(id, name)| CampaignRow { id, name }),
        created_at: time_text(m.created_at),
        sent_at: s.sent_at.map(time_text),
        scheduled_at: m.send_at.map(time_text),
        status: s.status,
        sent_by: &m.sent_by,
        recipient_contact_detail: &m.contact,
        message_type: &m.message_type,
    }
}

async fn get_message(
    State(app): State<Shared>,
    Extension(PracticeGroup(group)): Extension<PracticeGroup>,
    Path(id): Path<String>,
) -> Result<Response, ApiFailure> {
    let now = app.clock.now();
    let v = find_message(&app, &group, &id, |m, g| {
        let p = g.patient(&m.patient_id);
        let mut v = serde_json::to_value(sent_row(m, &p, now)).unwrap_or_default();
        let obj = v.as_object_mut().expect("object");
        for k in ["sent_by", "recipient_contact_detail", "message_type"] {
            obj.remove(k);
        }
        obj["write_to_record"]["snomed_code"] = json!(m.snomed_code);
        // Optional and not nullable in this operation's description: absent rather than null.
        if let Some(wtr) = obj["write_to_record"].as_object_mut()
            && wtr.get("status") == Some(&Value::Null)
        {
            wtr.remove("status");
        }
        obj.insert("sent_by_admin".to_owned(), Value::Null);
        v
    })?;
    Ok(axum::Json(v).into_response())
}

async fn get_message_status(
    State(app): State<Shared>,
    Extension(PracticeGroup(group)): Extension<PracticeGroup>,
    Path(id): Path<String>,
) -> Result<Response, ApiFailure> {
    let now = app.clock.now();
    let v = find_message(&app, &group, &id, |m, _| {
        let s = m.state(now);
        json!({
            "id": m.id.to_string(),
            "scheduled_send_at": opt_ts(m.send_at),
            "write_to_record": m.write_to_record,
            "status": {"write_to_record_at": opt_ts(s.wtr_at), "sent_at": opt_ts(s.sent_at), "response": s.status, "failure_reason": s.send_error},
            "errors": {"write_to_record": s.wtr_failure, "send": s.send_error},
        })
    })?;
    Ok(axum::Json(v).into_response())
}

async fn list_sent_messages(
    State(app): State<Shared>,
    Extension(PracticeGroup(group)): Extension<PracticeGroup>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiFailure> {
    let q = Query::parse(raw);
    let mut issues = Issues::default();
    let order_by = q.enums(
        "order_by",
        &[
            "patient_first_name",
            "patient_last_name",
            "patient_full_name",
            "created_at",
            "sent_at",
        ],
        &mut issues,
    );
    let descending = q.boolean("order_descending", &mut issues).unwrap_or(false);
    let scheduled = q.boolean("scheduled", &mut issues);
    let types = q.enums("message_type", &message_types(), &mut issues);
    let statuses = q.enums("status", &delivery_statuses(), &mut issues);
    let wtr = q.enums(
        "write_to_record_status",
        &write_to_record_statuses(),
        &mut issues,
    );
    let range = |name: &str, issues: &mut Issues| -> Vec<DateTime<Utc>> {
        let values = q.all(name);
        if values.len() > 2 {
            issues.add("too_big", "at most 2 items", &[json!(name)]);
        }
        values
            .iter()
            .filter_map(|v| issues.datetime(v, &[json!(name)]))
            .collect()
    };
    let sent_range = range("sent_at[]", &mut issues);
    let scheduled_range = range("scheduled_at[]", &mut issues);
    if q.get("patient_id")
        .is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        issues.add("invalid_string", "^\\d+$", &[json!("patient_id")]);
    }
    let text = |name: &str| q.get(name).map(str::to_lowercase);
    let (first, last, full) = (
        text("patient_first_name"),
        text("patient_last_name"),
        text("patient_full_name"),
    );
    let now = app.clock.now();
    let in_range = |d: Option<DateTime<Utc>>, r: &[DateTime<Utc>]| match (r, d) {
        ([], _) => true,
        (_, None) => false,
        ([from], Some(d)) => d >= *from,
        ([from, to, ..], Some(d)) => d >= *from && d <= *to,
    };
    let needs_state = !wtr.is_empty() || !statuses.is_empty() || !sent_range.is_empty();
    // A message shows in the list only `list_delay` (mock time) after it was created.
    let listed_by = now - chrono::Duration::from_std(app.config.list_delay).unwrap_or_default();
    let filtered = needs_state
        || !app.config.list_delay.is_zero()
        || first.is_some()
        || last.is_some()
        || full.is_some()
        || !types.is_empty()
        || !order_by.is_empty()
        || !scheduled_range.is_empty()
        || scheduled.is_some()
        || [
            "patient_id",
            "recipient_contact_detail",
            "sent_by",
            "campaign_id",
            "short_link_id",
            "short_link_type",
        ]
        .iter()
        .any(|k| q.get(k).is_some());
    if !filtered {
        // Nothing to filter or sort: slice the page (O(page), not O(messages)).
        let (skip, size) = page_window(&app, &q, &mut issues);
        issues.finish()?;
        let body = with_group(&app, &group, |g| {
            let patients = &g.patients;
            let rows = if descending {
                sent_rows(g.messages.iter().rev().skip(skip).take(size), patients, now)
            } else {
                sent_rows(g.messages.iter().skip(skip).take(size), patients, now)
            };
            let count = count_for(&app, g.messages.len(), rows.len());
            serde_json::to_vec(&ListPage { data: rows, count })
        });
        return Ok(json_body(body));
    }
    let body = with_group(&app, &group, |g| {
        let patients = &g.patients;
        let mut rows: Vec<(&Message, &Patient, Option<DateTime<Utc>>)> = g
            .messages
            .iter()
            .filter_map(|m| {
                let p = patients.get(&m.patient_id)?;
                let s = needs_state.then(|| m.state(now));
                let keep = m.created_at <= listed_by
                    && first
                        .as_ref()
                        .is_none_or(|f| p.first_name.to_lowercase().contains(f))
                    && last
                        .as_ref()
                        .is_none_or(|l| p.last_name.to_lowercase().contains(l))
                    && full.as_ref().is_none_or(|f| {
                        format!("{} {}", p.first_name, p.last_name)
                            .to_lowercase()
                            .contains(f)
                    })
                    && q.get("patient_id").is_none_or(|id| id == m.patient_id)
                    && q.get("recipient_contact_detail")
                        .is_none_or(|c| c == m.contact)
                    && (wtr.is_empty()
                        || s.as_ref()
                            .and_then(|s| s.wtr_status)
                            .is_some_and(|w| wtr.iter().any(|x| x == w)))
                    && (types.is_empty() || types.contains(&m.message_type))
                    && (statuses.is_empty()
                        || s.as_ref()
                            .is_some_and(|s| statuses.iter().any(|x| x == s.status)))
                    && scheduled.is_none_or(|b| b == m.send_at.is_some())
                    && q.get("sent_by").is_none_or(|b| b == m.sent_by)
                    && q.get("campaign_id")
                        .is_none_or(|c| m.campaign.as_ref().is_some_and(|(id, _)| id == c))
                    && q.get("short_link_id")
                        .is_none_or(|c| m.short_link.as_ref().is_some_and(|(id, _)| id == c))
                    && q.get("short_link_type")
                        .is_none_or(|c| m.short_link.as_ref().is_some_and(|(_, t)| t == c))
                    && in_range(s.as_ref().and_then(|s| s.sent_at), &sent_range)
                    && in_range(m.send_at, &scheduled_range);
                keep.then(|| (m, p, m.state(now).sent_at))
            })
            .collect();
        match order_by.first().map(String::as_str) {
            Some("patient_first_name") => rows.sort_by(|a, b| a.1.first_name.cmp(&b.1.first_name)),
            Some("patient_last_name") => rows.sort_by(|a, b| a.1.last_name.cmp(&b.1.last_name)),
            Some("patient_full_name") => rows.sort_by(|a, b| {
                (&a.1.first_name, &a.1.last_name).cmp(&(&b.1.first_name, &b.1.last_name))
            }),
            Some("sent_at") => rows.sort_by_key(|r| r.2),
            _ => {}
        }
        if descending {
            rows.reverse();
        }
        let (page, count) = paginate(&app, rows, &q, &mut issues);
        let data: Vec<SentRow<'_>> = page
            .into_iter()
            .map(|(m, p, _)| sent_row(m, p, now))
            .collect();
        serde_json::to_vec(&ListPage { data, count })
    });
    issues.finish()?;
    Ok(json_body(body))
}

// ------------------------------------------------------------------ assignees, SNOMED, templates

async fn list_assignee_collection() -> Response {
    axum::Json(json!({"data": [
        {"label": "Dr Ada Lovelace", "value": 12, "type": "Admin", "key": "admin-12"},
        {"label": "Grace Hopper", "value": 14, "type": "Admin", "key": "admin-14"},
        {"label": "Reception team", "value": 3, "type": "AdminTeam", "key": "team-3"},
    ]}))
    .into_response()
}

async fn validate_snomed_code(body: Bytes) -> Result<Response, ApiFailure> {
    let obj = json_object(&body)?;
    let mut issues = Issues::default();
    let code = issues.string(&obj, "code", true, false);
    issues.finish()?;
    let valid = herohealth::SnomedCode::parse(&code.unwrap_or_default()).is_ok();
    Ok(axum::Json(json!({"valid": valid})).into_response())
}

async fn list_templates(RawQuery(raw): RawQuery) -> Result<Response, ApiFailure> {
    let q = Query::parse(raw);
    let mut issues = Issues::default();
    let follow_up = q.boolean("has_follow_up", &mut issues);
    issues.finish()?;
    let all = [
        json!({"id": "tpl_1", "name": "Test results ready", "content": "Your test results are ready. Please call the surgery.",
               "link": "no_link", "type": "hero", "sms_snomed_code": "1240751000000100", "send_follow_up_one": false,
               "send_follow_up_two": false, "reminder_time": null}),
        json!({"id": "tpl_2", "name": "Flu clinic", "content": "Your flu vaccination is due. Book here:", "link": "booking",
               "type": "user", "sms_snomed_code": null, "sms_follow_up_1_snomed_code": null, "send_follow_up_one": true,
               "send_follow_up_two": false, "reminder_time": 72}),
        json!({"id": "tpl_3", "name": "Asthma review", "content": "Please complete your asthma review form:", "link": "form",
               "type": "external", "send_follow_up_one": true, "send_follow_up_two": true, "reminder_time": 48}),
    ];
    let data: Vec<Value> = all
        .into_iter()
        .filter(|t| {
            follow_up.is_none_or(|f| {
                f == (t["send_follow_up_one"] == json!(true)
                    || t["send_follow_up_two"] == json!(true))
            })
        })
        .collect();
    let count = data.len();
    Ok(axum::Json(json!({"data": data, "count": count})).into_response())
}

// ------------------------------------------------------------------ patients

async fn register_patient_pds(
    State(app): State<Shared>,
    Extension(PracticeGroup(group)): Extension<PracticeGroup>,
    body: Bytes,
) -> Result<Response, ApiFailure> {
    let obj = json_object(&body)?;
    let mut issues = Issues::default();
    match obj.get("dob").and_then(Value::as_str) {
        Some(d) => {
            issues.datetime(d, &[json!("dob")]);
        }
        None => issues.add("invalid_type", "string", &[json!("dob")]),
    }
    for field in ["ehr_partner", "ehr_partner_id"] {
        issues.string(&obj, field, false, true);
    }
    let nhs = if obj.contains_key("nhs_number") {
        let raw = issues.string(&obj, "nhs_number", true, false);
        let nhs = raw
            .as_deref()
            .and_then(|r| herohealth::NhsNumber::parse(r).ok());
        if raw.is_some() && nhs.is_none() {
            issues.add("custom", "a valid NHS number", &[json!("nhs_number")]);
        }
        nhs
    } else {
        for field in ["postcode", "forename", "surname"] {
            issues.string(&obj, field, true, false);
        }
        None
    };
    issues.finish()?;
    if let Some(nhs) = &nhs {
        if app.config.not_found_nhs.contains(nhs.as_str()) {
            return Err(api_error(StatusCode::NOT_FOUND, json!("No patient found")));
        }
        if app.config.verify_identity_nhs.contains(nhs.as_str()) {
            return Ok(axum::Json(json!({
                "message": "Patient must verify their identity before proceeding",
                "login_url": format!("https://patient.herohealth.net/verify/{}", &nhs.as_str()[6..]),
            }))
            .into_response());
        }
    }
    let key = match &nhs {
        Some(n) => n.as_str().to_owned(),
        None => {
            let s = |k: &str| {
                obj.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_lowercase()
            };
            format!(
                "demo:{}:{}:{}:{}",
                s("forename"),
                s("surname"),
                s("postcode"),
                s("dob")
            )
        }
    };
    let patient = with_group(&app, &group, |g| {
        if nhs.is_some() {
            g.register_nhs(&key)
        } else if let Some(id) = g.by_nhs.get(&key) {
            g.patients[id].clone()
        } else {
            g.next_patient += 1;
            let id = (100_000 + g.next_patient).to_string();
            let mut p = person(g.next_patient, id.clone());
            p.first_name = obj
                .get("forename")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            p.last_name = obj
                .get("surname")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            g.by_nhs.insert(key.clone(), id.clone());
            g.patients.insert(id, p.clone());
            p
        }
    });
    Ok(axum::Json(json!({"patient_id": patient.id})).into_response())
}
