//! What the mock answers with: Hero's error body, JSON bodies, list pages and timestamps.

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// An error answer: the status and the `message` of Hero's error body
/// `{"error": true, "statusCode": …, "message": …}`.
#[derive(Debug)]
pub(crate) struct ApiFailure {
    status: StatusCode,
    message: Value,
}

/// Hero's error body with this status and `message` (a text, or a list of validation issues).
pub(crate) fn api_error(status: StatusCode, message: Value) -> ApiFailure {
    ApiFailure { status, message }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        let body =
            json!({"error": true, "statusCode": self.status.as_u16(), "message": self.message});
        (self.status, axum::Json(body)).into_response()
    }
}

/// A 200 with a serialised JSON body.
pub(crate) fn json_body(body: serde_json::Result<Vec<u8>>) -> Response {
    match body {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(e) => {
            api_error(StatusCode::INTERNAL_SERVER_ERROR, json!(e.to_string())).into_response()
        }
    }
}

/// A page of a list: Hero's `{data, count}`.
#[derive(serde::Serialize)]
pub(crate) struct ListPage<T> {
    pub(crate) data: Vec<T>,
    pub(crate) count: usize,
}

/// A timestamp as Hero writes it: RFC 3339, whole seconds, `Z`.
pub(crate) fn time_text(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// [`time_text`] as a JSON string.
pub(crate) fn ts(d: DateTime<Utc>) -> Value {
    json!(time_text(d))
}

/// [`ts`], or `null`.
pub(crate) fn opt_ts(d: Option<DateTime<Utc>>) -> Value {
    d.map_or(Value::Null, ts)
}
