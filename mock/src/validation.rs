//! Hero's request validation, as the mock does it: Zod-like issues (`code`, `expected`, `path`)
//! collected per request and answered as one 400 with Hero's error body, for JSON bodies and for
//! query strings. Enum fields accept the wire values the client generates from `openapi.yaml`.

use axum::{body::Bytes, http::StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use crate::reply::{ApiFailure, api_error};

/// The issues found in one request; [`Issues::finish`] answers them as Hero's 400.
#[derive(Default)]
pub(crate) struct Issues(Vec<Value>);

impl Issues {
    pub(crate) fn add(&mut self, code: &str, expected: &str, path: &[Value]) {
        self.0
            .push(json!({"code": code, "expected": expected, "path": path}));
    }

    /// One `custom` issue per dotted field path (`recipients.0.dob`; a number is an index), as
    /// [`crate::Fault::Validation`] asks for.
    pub(crate) fn for_fields(fields: &[String]) -> Self {
        let mut issues = Self::default();
        for field in fields {
            let path: Vec<Value> = field
                .split('.')
                .map(|p| p.parse::<u64>().map_or_else(|_| json!(p), |i| json!(i)))
                .collect();
            issues.add("custom", "string", &path);
        }
        issues
    }

    /// `Ok` without issues, else Hero's 400 listing them.
    pub(crate) fn finish(self) -> Result<(), ApiFailure> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.into_failure())
        }
    }

    /// Hero's 400 listing these issues.
    pub(crate) fn into_failure(self) -> ApiFailure {
        api_error(StatusCode::BAD_REQUEST, Value::Array(self.0))
    }

    /// A string field. An optional field may be absent but not `null` (Zod `.optional()`).
    pub(crate) fn string(
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

    pub(crate) fn one_of(
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

    pub(crate) fn boolean(&mut self, obj: &Map<String, Value>, field: &str) -> bool {
        match obj.get(field) {
            None => false,
            Some(Value::Bool(b)) => *b,
            _ => {
                self.add("invalid_type", "boolean", &[json!(field)]);
                false
            }
        }
    }

    pub(crate) fn datetime(&mut self, value: &str, path: &[Value]) -> Option<DateTime<Utc>> {
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
pub(crate) fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
        })
}

pub(crate) fn json_object(body: &Bytes) -> Result<Map<String, Value>, ApiFailure> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => {
            let mut issues = Issues::default();
            issues.add("invalid_type", "object", &[]);
            Err(issues.into_failure())
        }
    }
}

/// The query string as pairs, repeated keys kept.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(raw: Option<String>) -> Self {
        Self(
            raw.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default(),
        )
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub(crate) fn int(&self, name: &str, min: i64, issues: &mut Issues) -> Option<i64> {
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

    pub(crate) fn boolean(&self, name: &str, issues: &mut Issues) -> Option<bool> {
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
    pub(crate) fn enums(&self, name: &str, allowed: &[&str], issues: &mut Issues) -> Vec<String> {
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

/// The wire values of one of the API's forward-compatible enums (generated from the spec, so a
/// value added to the spec is accepted here with no other edit).
pub(crate) fn wire<T: herohealth::OpenEnum>() -> &'static [&'static str] {
    T::KNOWN_WIRE
}
