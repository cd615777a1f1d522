//! Fault injection.
//!
//! A [`FaultRule`] picks requests by operation (the snake_case operationId, e.g. `send_message`) and
//! by how many calls of it came since the rule was added, and does one [`Fault`] to them. The gate
//! (`gate.rs`) asks [`Faults::next_call`] for each request and carries the fault out; a connection
//! reset goes through `conn.rs`.

use std::{collections::HashMap, sync::Mutex, time::Duration};

/// What to do to a request.
///
/// ```
/// use herohealth_mock::Fault;
/// assert_eq!(Fault::parse("429:5"), Ok(Fault::RateLimited { retry_after: Some(5) }));
/// assert!(Fault::ResetAfterProcessing.processes());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Wait this long, then answer normally.
    Latency(Duration),
    /// Answer 429 with `Retry-After` (seconds), without processing the request.
    RateLimited {
        /// The `Retry-After` value in seconds, if any.
        retry_after: Option<u64>,
    },
    /// Answer this status (500, 502, 503, ...) with Hero's error body, without processing.
    Status(u16),
    /// Reset the connection before the request is processed.
    ResetBeforeProcessing,
    /// Process the request, then reset the connection instead of answering.
    ResetAfterProcessing,
    /// Process the request, then answer with the first half of the JSON body.
    TruncatedJson,
    /// Process the request, then answer 200 with a body that is not JSON.
    MalformedJson,
    /// Answer a proxy's HTML error page with this status, without processing.
    HtmlError(u16),
    /// Process the request, then replace every enum value in the answer with `FUTURE_VALUE`.
    UnknownEnumValue,
    /// Process the request, then answer 200 with an empty body.
    EmptyBody,
    /// Process the request, then answer with `Content-Type: text/plain`.
    WrongContentType,
    /// Answer Hero's 400 with one validation issue per field (Zod-like `code`, `expected`,
    /// `path`), without processing: what Hero answers a body it refuses.
    Validation {
        /// The refused fields, each a dotted path (`recipients.0.dob`).
        fields: Vec<String>,
    },
}

impl Fault {
    /// Parses the command line form: `latency:MS`, `429[:SECS]`, `status:CODE`, `reset-before`,
    /// `reset-after`, `truncated`, `malformed`, `html[:CODE]`, `unknown-enum`, `empty`,
    /// `wrong-content-type`, `validation:FIELD[,FIELD...]`.
    pub fn parse(s: &str) -> Result<Fault, String> {
        let (kind, arg) = s.split_once(':').map_or((s, None), |(k, a)| (k, Some(a)));
        let num = |a: Option<&str>| {
            a.map(|a| {
                a.parse::<u64>()
                    .map_err(|_| format!("`{a}` is not a number"))
            })
            .transpose()
        };
        Ok(match kind {
            "latency" => {
                Fault::Latency(Duration::from_millis(num(arg)?.ok_or("latency needs :MS")?))
            }
            "429" => Fault::RateLimited {
                retry_after: num(arg)?,
            },
            "status" => Fault::Status(num(arg)?.ok_or("status needs :CODE")? as u16),
            "reset-before" => Fault::ResetBeforeProcessing,
            "reset-after" => Fault::ResetAfterProcessing,
            "truncated" => Fault::TruncatedJson,
            "malformed" => Fault::MalformedJson,
            "html" => Fault::HtmlError(num(arg)?.unwrap_or(502) as u16),
            "unknown-enum" => Fault::UnknownEnumValue,
            "empty" => Fault::EmptyBody,
            "wrong-content-type" => Fault::WrongContentType,
            "validation" => Fault::Validation {
                fields: arg
                    .ok_or("validation needs :FIELD[,FIELD...]")?
                    .split(',')
                    .map(str::to_owned)
                    .collect(),
            },
            other => return Err(format!("unknown fault `{other}`")),
        })
    }

    /// Whether the request is processed (changes state) before the fault shows.
    pub fn processes(&self) -> bool {
        !matches!(
            self,
            Fault::RateLimited { .. }
                | Fault::Status(_)
                | Fault::ResetBeforeProcessing
                | Fault::HtmlError(_)
                | Fault::Validation { .. }
        )
    }
}

/// Which calls a rule applies to, counting the calls of its operation from 1 from when the rule
/// was added (with [`crate::MockConfig::fault`] or [`crate::MockServer::inject`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Every call.
    Always,
    /// Only the n-th call.
    Nth(u64),
    /// The first n calls.
    FirstN(u64),
}

/// One fault, for one operation (or all) and some of its calls.
///
/// ```
/// use herohealth_mock::{Fault, FaultRule};
/// let rule = FaultRule::new("send_message", Fault::Status(503)).first(2);
/// assert_eq!(FaultRule::parse("send_message=status:503@first-2"), Ok(rule));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// The snake_case operationId, or `None` for every operation.
    pub operation: Option<String>,
    /// Which calls.
    pub when: When,
    /// What to do.
    pub fault: Fault,
}

impl FaultRule {
    /// A rule for every call of `operation`.
    pub fn new(operation: &str, fault: Fault) -> Self {
        Self {
            operation: Some(operation.to_owned()),
            when: When::Always,
            fault,
        }
    }

    /// A rule for every call of every operation.
    pub fn everywhere(fault: Fault) -> Self {
        Self {
            operation: None,
            when: When::Always,
            fault,
        }
    }

    /// Only the n-th call (from 1).
    pub fn nth(mut self, n: u64) -> Self {
        self.when = When::Nth(n);
        self
    }

    /// The first n calls.
    pub fn first(mut self, n: u64) -> Self {
        self.when = When::FirstN(n);
        self
    }

    /// Parses the command line form `OPERATION=FAULT[@N|@FIRST-N]`, OPERATION `*` for all.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (op, rest) = s.split_once('=').ok_or("expected OPERATION=FAULT[@N]")?;
        let (fault, when) = rest
            .split_once('@')
            .map_or((rest, None), |(f, w)| (f, Some(w)));
        let when = match when {
            None => When::Always,
            Some(w) => match w.strip_prefix("first-") {
                Some(n) => When::FirstN(n.parse().map_err(|_| format!("bad count `{n}`"))?),
                None => When::Nth(w.parse().map_err(|_| format!("bad call number `{w}`"))?),
            },
        };
        Ok(Self {
            operation: (op != "*").then(|| op.to_owned()),
            when,
            fault: Fault::parse(fault)?,
        })
    }

    fn matches(&self, operation: &str, call: u64) -> bool {
        self.operation.as_deref().is_none_or(|o| o == operation)
            && match self.when {
                When::Always => true,
                When::Nth(n) => call == n,
                When::FirstN(n) => call <= n,
            }
    }
}

/// The fault rules and the calls counted per operation.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// Each rule with the calls per operation already counted when it was added: its `Nth` and
    /// `FirstN` count from there.
    rules: Mutex<Vec<(FaultRule, HashMap<String, u64>)>>,
    calls: Mutex<HashMap<String, u64>>,
}

impl Faults {
    pub(crate) fn add(&self, rule: FaultRule) {
        let seen = self.calls.lock().expect("calls lock").clone();
        self.rules.lock().expect("rules lock").push((rule, seen));
    }

    pub(crate) fn clear(&self) {
        self.rules.lock().expect("rules lock").clear();
    }

    /// Counts the call and returns the fault for it, if a rule matches.
    pub(crate) fn next_call(&self, operation: &str) -> Option<Fault> {
        let call = {
            let mut calls = self.calls.lock().expect("calls lock");
            let c = calls.entry(operation.to_owned()).or_default();
            *c += 1;
            *c
        };
        self.rules
            .lock()
            .expect("rules lock")
            .iter()
            .find(|(r, seen)| {
                r.matches(operation, call - seen.get(operation).copied().unwrap_or(0))
            })
            .map(|(r, _)| r.fault.clone())
    }
}

/// Replaces every string value of an enum-valued field with `FUTURE_VALUE`.
pub(crate) fn unknown_enums(v: &mut serde_json::Value) {
    // Derived by herohealth's build.rs from openapi.yaml: every property whose schema is one of
    // the forward-compatible enums.
    use herohealth::spec::ENUM_FIELDS;
    match v {
        serde_json::Value::Object(map) => {
            for (k, item) in map.iter_mut() {
                if item.is_string() && ENUM_FIELDS.contains(&k.as_str()) {
                    *item = serde_json::Value::String("FUTURE_VALUE".to_owned());
                } else {
                    unknown_enums(item);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(unknown_enums),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_match() {
        let r = FaultRule::parse("send_message=reset-after@2").unwrap();
        assert_eq!(
            r,
            FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(2)
        );
        assert!(!r.matches("send_message", 1) && r.matches("send_message", 2));
        let r = FaultRule::parse("*=429:3@first-2").unwrap();
        assert_eq!(
            r.fault,
            Fault::RateLimited {
                retry_after: Some(3)
            }
        );
        assert!(r.matches("get_message", 2) && !r.matches("get_message", 3));
        assert!(FaultRule::parse("x=nope").is_err());
    }
}

/// The `Date` header the mock writes on every answer: by default Hero's own clock (the one it
/// stamps `created_at` by), or what a proxy or load balancer in front of Hero may write instead
/// ([`crate::MockConfig::date_header`], [`crate::MockServer::set_date_header`],
/// `--date-header`).
///
/// ```
/// use herohealth_mock::DateHeader;
/// assert_eq!("+90".parse(), Ok(DateHeader::Skewed(90)));
/// assert_eq!("-172800".parse(), Ok(DateHeader::Skewed(-172_800)));
/// assert_eq!("malformed".parse(), Ok(DateHeader::Malformed));
/// assert_eq!("hero".parse(), Ok(DateHeader::Hero));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DateHeader {
    /// Hero's clock: the one `created_at` is stamped by.
    #[default]
    Hero,
    /// A clock this many seconds ahead of Hero's (negative: behind), steady: a proxy's.
    Skewed(i64),
    /// A `Date` that is not an HTTP date.
    Malformed,
}

impl std::str::FromStr for DateHeader {
    type Err = String;
    /// `hero`, `+N` or `-N` (seconds), or `malformed`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "hero" => Ok(DateHeader::Hero),
            "malformed" => Ok(DateHeader::Malformed),
            n if n.starts_with(['+', '-']) => n
                .parse::<i64>()
                .map(DateHeader::Skewed)
                .map_err(|_| format!("`{n}` is not a number of seconds")),
            _ => Err("expected hero, +SECONDS, -SECONDS or malformed".to_owned()),
        }
    }
}

impl DateHeader {
    /// The header's value for an answer written at `now` (Hero's clock). (There is no "none":
    /// the HTTP server under the mock writes a `Date` of its own, by the real clock, to an answer
    /// without one; `herohealth_mock::raw` serves answers without.)
    pub(crate) fn value(self, now: chrono::DateTime<chrono::Utc>) -> String {
        let http =
            |t: chrono::DateTime<chrono::Utc>| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        match self {
            DateHeader::Hero => http(now),
            DateHeader::Skewed(s) => http(now + chrono::Duration::seconds(s)),
            DateHeader::Malformed => "yesterday, around teatime".to_owned(),
        }
    }
}
