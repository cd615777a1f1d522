//! Our generated types: for a schema of `openapi.yaml`, the Rust type build.rs has progenitor
//! 0.15.1 (typify 0.8) generate for it, or the handwritten type it puts in its place
//! (`x-herohealth-rust-type`, whose family in [`crate::dialect::FAMILIES`] says what it does), and
//! what that type does with JSON: which values it decodes (what Hero may send in a response) and
//! which it can send (what Hero must accept in a request). `cargo xtask diff` classifies a change
//! by asking it.
//!
//! typify 0.8's rules, as this reads them (the test `our_types_are_the_generated_ones` holds them
//! to the generated-code snapshot, `tests/snapshots/snapshot__generated_client.snap`):
//! - `string`: with `enum:`, a closed Rust enum; `format` `date-time`, `date`, `uuid`, `ip`,
//!   `ipv4` or `ipv6`, a `DateTime<Utc>`, `NaiveDate`, `Uuid` or `IpAddr`... that refuses other
//!   text; any other format, a `String`; `minLength`/`maxLength`, a newtype that refuses other
//!   lengths. build.rs removes every `pattern` first (`build/prepare.rs`): no generated type
//!   checks one.
//! - `integer`: the Rust integer its `format` and bounds choose (`int32` an `i32`, `minimum: 1` a
//!   `NonZeroU64`, `minimum: 0` with no format a `u64`, else `i64`); other bounds are not checked.
//! - `number`: an `f64` (`f32` for `format: float`), which reads any number; no bound is checked.
//! - `object`: with no properties, a `HashMap<String, T>` of its `additionalProperties`; with
//!   some, a struct that ignores a field it does not name, refuses one under
//!   `additionalProperties: false`, and reads one as `additionalProperties`' type otherwise.
//! - `array`: a `Vec<T>` (any length), or `[T; n]` when `minItems` = `maxItems` = n.
//! - `nullable`, and an optional field with no default that is not an inline array or map: an
//!   `Option`, which reads `null`; it is sent as `null` only where the field is not optional.
//! - `oneOf`/`anyOf`: an untagged enum: a value decodes when one alternative reads it.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::{
    dialect::{self, Family},
    normal::{Norm, norm},
    subset::pointer,
};

mod integers;

pub use integers::integer_format;
use integers::{integer_range, integer_type};

/// Where a schema sits: what serde does with a field left out or `null` depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Field {
    /// Not a field: a body, an item, a map's value, a parameter.
    #[default]
    Not,
    /// A required field.
    Required,
    /// An optional field.
    Optional,
}

/// What a struct does with a field its schema does not name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// Ignores it (no `additionalProperties`, or `true`).
    Ignored,
    /// Refuses it (`additionalProperties: false`: `#[serde(deny_unknown_fields)]`).
    Refused,
    /// Reads it as `additionalProperties`' type (a flattened map).
    Read,
}

/// The text a string type reads and sends.
#[derive(Debug, Clone, PartialEq)]
pub enum Text {
    /// `String`, or a newtype that checks these lengths.
    Any {
        /// `minLength` it checks.
        min: Option<u64>,
        /// `maxLength` it checks.
        max: Option<u64>,
    },
    /// A type that reads only text of this format (`date-time`: `DateTime<Utc>`).
    Format(&'static str),
    /// A generated enum: these values only (as reports show them).
    Closed(BTreeSet<String>),
    /// A forward-compatible enum (`crate::enums`): these values, any other read as `Unknown`.
    Open(BTreeSet<String>),
    /// A checked value (`crate::validate`): the text its check passes, which `openapi.yaml`
    /// describes.
    Checked {
        /// `pattern` it checks.
        pattern: Option<String>,
        /// `format` it checks.
        format: Option<String>,
        /// `minLength` it checks.
        min: Option<u64>,
        /// `maxLength` it checks.
        max: Option<u64>,
    },
}

/// The shape of a Rust type, as far as decoding and sending go.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// `serde_json::Value`: any JSON.
    Any,
    /// `bool`.
    Bool,
    /// An integer type, and the values it holds.
    Integer {
        /// The smallest.
        min: f64,
        /// The largest.
        max: f64,
    },
    /// `f64` or `f32`: any number.
    Number,
    /// A string type.
    Text(Text),
    /// `Vec<T>`, or `[T; n]` for a fixed length.
    Array {
        /// The length of a fixed-length array.
        len: Option<u64>,
    },
    /// `HashMap<String, T>`.
    Map,
    /// A struct.
    Struct {
        /// What it does with a field it does not name.
        unknown: Unknown,
    },
    /// An untagged enum of these alternatives.
    Either(Vec<Rust>),
}

/// Our Rust type at one place.
#[derive(Debug, Clone, PartialEq)]
pub struct Rust {
    /// How reports name it (`DateTime<Utc>`, `i64`, `crate::enums::DeliveryStatus`).
    pub name: String,
    /// It reads `null` (an `Option`).
    pub reads_null: bool,
    /// It may send `null`.
    pub sends_null: bool,
    /// What it is.
    pub shape: Shape,
}

/// The string formats typify reads into a type of their own, and that type.
const FORMATS: [(&str, &str); 6] = [
    ("date-time", "DateTime<Utc>"),
    ("date", "NaiveDate"),
    ("uuid", "Uuid"),
    ("ip", "IpAddr"),
    ("ipv4", "Ipv4Addr"),
    ("ipv6", "Ipv6Addr"),
];

/// A numeric limit of `n`.
pub(super) fn limit(n: &Norm, key: &str) -> Option<f64> {
    n.limits
        .iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.as_f64())
}

/// The handwritten type that replaces schema `v` (through `$ref`s and a lone `allOf`), and the
/// schema that names it.
fn replacement(doc: &Value, v: &Value) -> Option<(String, Value)> {
    let mut v = v.clone();
    for _ in 0..16 {
        if let Some(t) = v[dialect::RUST_TYPE].as_str() {
            return Some((t.to_owned(), v));
        }
        v = if let Some(r) = v["$ref"].as_str() {
            pointer(doc, r)?.clone()
        } else if let Some([one]) = v["allOf"].as_array().map(Vec::as_slice) {
            one.clone()
        } else {
            return None;
        };
    }
    None
}

/// Our Rust type for schema `v` of `doc` (our `openapi.yaml`), at a place of kind `field`.
pub fn of(doc: &Value, v: &Value, field: Field) -> Rust {
    of_at(doc, v, field, 0)
}

/// [`of`], `depth` alternatives down (an alternative that is the schema itself ends in `Any`).
fn of_at(doc: &Value, v: &Value, field: Field, depth: usize) -> Rust {
    let n = norm(doc, v);
    let (name, shape) = match replacement(doc, v) {
        Some((path, target)) => {
            let t = norm(doc, &target);
            let text = match dialect::family(&path) {
                Some(Family::OpenEnum) => Text::Open(t.values.unwrap_or_default()),
                Some(Family::Text) => Text::Any {
                    min: None,
                    max: None,
                },
                Some(Family::Checked) | None => Text::Checked {
                    pattern: t.pattern.clone(),
                    format: t.format.clone(),
                    min: limit(&t, "minLength").map(|x| x as u64),
                    max: limit(&t, "maxLength").map(|x| x as u64),
                },
            };
            (path, Shape::Text(text))
        }
        None if depth > 8 => ("serde_json::Value".to_owned(), Shape::Any),
        None => shape(doc, &n, depth),
    };
    // An inline array or map (not a named type of its own) is `#[serde(default)]`, not an `Option`.
    let intrinsic = n.refs.is_empty() && matches!(shape, Shape::Array { .. } | Shape::Map);
    let optional = field == Field::Optional && n.default.is_none() && !intrinsic;
    Rust {
        name,
        reads_null: n.nullable || optional,
        sends_null: n.nullable && field != Field::Optional,
        shape,
    }
}

/// The name and shape typify gives a schema (not replaced), normalised as `n`.
fn shape(doc: &Value, n: &Norm, depth: usize) -> (String, Shape) {
    if let Some((_, branches)) = &n.variants {
        let alternatives: Vec<Rust> = branches
            .iter()
            .map(|b| of_at(doc, b, Field::Not, depth + 1))
            .collect();
        return ("an untagged enum".to_owned(), Shape::Either(alternatives));
    }
    match n.types.len() {
        0 => ("serde_json::Value".to_owned(), Shape::Any),
        1 => one_type(n.types.first().map_or("", String::as_str), n),
        _ => {
            let alternatives = n
                .types
                .iter()
                .map(|t| {
                    let (name, shape) = one_type(t, n);
                    Rust {
                        name,
                        reads_null: false,
                        sends_null: false,
                        shape,
                    }
                })
                .collect();
            ("an untagged enum".to_owned(), Shape::Either(alternatives))
        }
    }
}

fn one_type(t: &str, n: &Norm) -> (String, Shape) {
    match t {
        "string" => {
            if let Some(values) = &n.values {
                return ("enum".to_owned(), Shape::Text(Text::Closed(values.clone())));
            }
            if let Some((format, name)) =
                FORMATS.iter().find(|(f, _)| n.format.as_deref() == Some(f))
            {
                return ((*name).to_owned(), Shape::Text(Text::Format(format)));
            }
            let (min, max) = (limit(n, "minLength"), limit(n, "maxLength"));
            let text = Text::Any {
                min: min.map(|x| x as u64),
                max: max.map(|x| x as u64),
            };
            ("String".to_owned(), Shape::Text(text))
        }
        "integer" => {
            let ty = integer_type(n);
            let (min, max) = integer_range(&ty);
            (ty, Shape::Integer { min, max })
        }
        "number" if n.format.as_deref() == Some("float") => ("f32".to_owned(), Shape::Number),
        "number" => ("f64".to_owned(), Shape::Number),
        "boolean" => ("bool".to_owned(), Shape::Bool),
        "array" => {
            let (min, max) = (limit(n, "minItems"), limit(n, "maxItems"));
            let unique = n.assertions.get("uniqueItems") == Some(&Value::Bool(true));
            match (min, max) {
                (Some(a), Some(b)) if a == b && a > 0.0 && !unique => (
                    format!("[_; {a}]"),
                    Shape::Array {
                        len: Some(a as u64),
                    },
                ),
                _ => ("Vec<_>".to_owned(), Shape::Array { len: None }),
            }
        }
        "object" => {
            let closed = n.additional == Some(Value::Bool(false));
            if n.properties.is_empty() && n.required.is_empty() && !closed {
                return ("HashMap<String, _>".to_owned(), Shape::Map);
            }
            let unknown = match &n.additional {
                None => Unknown::Ignored,
                Some(Value::Bool(false)) => Unknown::Refused,
                Some(_) => Unknown::Read,
            };
            ("struct".to_owned(), Shape::Struct { unknown })
        }
        _ => ("serde_json::Value".to_owned(), Shape::Any),
    }
}

/// The JSON types (other than null) a shape reads; `None` for any.
fn json_types(shape: &Shape) -> Option<BTreeSet<&'static str>> {
    let set = |ts: &[&'static str]| Some(ts.iter().copied().collect());
    match shape {
        Shape::Any => None,
        Shape::Bool => set(&["boolean"]),
        Shape::Integer { .. } => set(&["integer"]),
        Shape::Number => set(&["integer", "number"]),
        Shape::Text(_) => set(&["string"]),
        Shape::Array { .. } => set(&["array"]),
        Shape::Map | Shape::Struct { .. } => set(&["object"]),
        Shape::Either(alts) => {
            let mut all = BTreeSet::new();
            for a in alts {
                all.extend(json_types(&a.shape)?);
            }
            Some(all)
        }
    }
}

impl Rust {
    /// Whether it reads a value of every JSON type of `types` (empty: any type).
    pub fn reads_types(&self, types: &BTreeSet<String>) -> bool {
        match json_types(&self.shape) {
            None => true,
            Some(ours) => {
                !types.is_empty()
                    && types
                        .iter()
                        .all(|t| ours.contains(t.as_str()) || (t == "null" && self.reads_null))
            }
        }
    }

    /// The text types it holds (itself, or the alternatives of an untagged enum).
    fn texts(&self) -> Vec<(&str, &Text)> {
        match &self.shape {
            Shape::Text(t) => vec![(self.name.as_str(), t)],
            Shape::Either(alts) => alts.iter().flat_map(Rust::texts).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether it reads every string of `format` (`None`: any text); `Err` names the type that
    /// refuses some. A type that reads no text is not asked.
    pub fn reads_format(&self, format: Option<&str>) -> Result<(), String> {
        let texts = self.texts();
        if texts.is_empty() {
            return Ok(());
        }
        let reads = |t: &Text| match t {
            Text::Format(ours) => {
                format == Some(*ours) || (*ours == "ip" && matches!(format, Some("ipv4" | "ipv6")))
            }
            Text::Checked {
                format: Some(f), ..
            } => format == Some(f.as_str()),
            _ => true,
        };
        match texts.iter().find(|(_, t)| reads(t)) {
            Some(_) => Ok(()),
            None => Err(texts[0].0.to_owned()),
        }
    }

    /// The format every string it sends has, if one.
    pub fn sends_format(&self) -> Option<&str> {
        match &self.shape {
            Shape::Text(Text::Format(f)) => Some(f),
            Shape::Text(Text::Checked { format, .. }) => format.as_deref(),
            _ => None,
        }
    }

    /// The text lengths it checks, `(minLength, maxLength)`, when it is text.
    pub fn lengths(&self) -> Option<(Option<u64>, Option<u64>)> {
        match &self.shape {
            Shape::Text(Text::Any { min, max } | Text::Checked { min, max, .. }) => {
                Some((*min, *max))
            }
            Shape::Text(_) => Some((None, None)),
            _ => None,
        }
    }

    /// The pattern it checks (a handwritten checked value's; no generated type checks one).
    pub fn pattern(&self) -> Option<&str> {
        match &self.shape {
            Shape::Text(Text::Checked { pattern, .. }) => pattern.as_deref(),
            _ => None,
        }
    }

    /// The integers it holds, when it is an integer type.
    pub fn integers(&self) -> Option<(f64, f64)> {
        match self.shape {
            Shape::Integer { min, max } => Some((min, max)),
            _ => None,
        }
    }

    /// The length of a fixed-length array (`[T; n]`).
    pub fn fixed_len(&self) -> Option<u64> {
        match self.shape {
            Shape::Array { len } => len,
            _ => None,
        }
    }

    /// What a struct does with a field it does not name.
    pub fn unknown(&self) -> Option<Unknown> {
        match self.shape {
            Shape::Struct { unknown } => Some(unknown),
            _ => None,
        }
    }

    /// Whether it is a forward-compatible enum (`crate::enums`).
    pub fn open(&self) -> bool {
        matches!(self.shape, Shape::Text(Text::Open(_)))
    }

    /// The values of an enum (closed or open).
    pub fn values(&self) -> Option<&BTreeSet<String>> {
        match &self.shape {
            Shape::Text(Text::Closed(v) | Text::Open(v)) => Some(v),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
