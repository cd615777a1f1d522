//! A schema's meaning, whichever way OpenAPI 3.0 or 3.1 spells it. Both sides of a comparison go
//! through [`norm`], so that these compare equal:
//!
//! | 3.0 | 3.1 |
//! | --- | --- |
//! | `type: string, nullable: true` | `type: [string, 'null']` |
//! | `nullable: true` beside `allOf: [$ref]` | `anyOf: [$ref, {type: 'null'}]` |
//! | `enum: [a, b]` | `oneOf: [{const: a}, {const: b}]` |
//! | `example: x` | `examples: [x]` (annotations are not compared) |
//! | `allOf: [$ref]` with a description | `$ref` with a sibling description |
//! | `exclusiveMinimum: true, minimum: 1` | `exclusiveMinimum: 1` |
//! | `default: 1.0` | `default: 1` (numbers by value, in every keyword) |
//!
//! A keyword written at its default (`minItems: 0`, `uniqueItems: false`, ...: [`crate::keywords`])
//! is dropped first, so it means what its absence means. [`crate::meaning`] goes further for the
//! keywords compared whole.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::{
    keywords::without_defaults,
    meaning::{canon, show},
    subset::{percent_decode, pointer},
};

/// The parts of a schema a client's behaviour depends on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Norm {
    /// The types other than `null`; empty for "any".
    pub types: BTreeSet<String>,
    /// Whether `null` is allowed.
    pub nullable: bool,
    /// The allowed values other than `null` (shown as JSON), if restricted.
    pub values: Option<BTreeSet<String>>,
    /// `format`.
    pub format: Option<String>,
    /// `pattern`.
    pub pattern: Option<String>,
    /// The numeric limits of [`LIMITS`] (`exclusiveMinimum` in the 3.1 numeric form), in that
    /// order of keys.
    pub limits: Vec<(&'static str, Value)>,
    /// `default`, of any type (booleans, objects and arrays included).
    pub default: Option<Value>,
    /// `properties`, as written (normalise each in turn).
    pub properties: Map<String, Value>,
    /// `required`.
    pub required: BTreeSet<String>,
    /// `items`, as written.
    pub items: Option<Value>,
    /// `additionalProperties` as written: `false`, or the schema of the properties not named;
    /// `None` when any is allowed (absent, `true`, `{}`).
    pub additional: Option<Value>,
    /// `oneOf`/`anyOf` that is more than a way of writing null or an enum: the keyword and its
    /// schemas.
    pub variants: Option<(String, Vec<Value>)>,
    /// `deprecated: true`.
    pub deprecated: bool,
    /// `readOnly: true`: sent by Hero only, ignored in requests.
    pub read_only: bool,
    /// `writeOnly: true`: sent by clients only, never in responses.
    pub write_only: bool,
    /// `discriminator`, as written.
    pub discriminator: Option<Value>,
    /// `x-extensible-enum`: values Hero names while promising that others may come.
    pub extensible: Option<BTreeSet<String>>,
    /// The other assertion keywords of [`ASSERTIONS`], as written (compare them with [`crate::meaning`]).
    pub assertions: BTreeMap<String, Value>,
    /// The `$ref`s followed to reach it (to stop on recursion).
    pub refs: Vec<String>,
}

/// The numeric limits, compared as numbers: a change is tighter or looser.
pub const LIMITS: [&str; 12] = [
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minContains",
    "maxContains",
    "minProperties",
    "maxProperties",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
];

/// How an assertion keyword's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A value compared as it is (numbers by value; lists in `dependentRequired` as sets).
    Value,
    /// A schema (or `true`/`false`).
    Schema,
    /// A list of schemas, in order (`prefixItems`).
    Schemas,
    /// Names to schemas (`patternProperties`, `dependentSchemas`).
    SchemaMap,
}

/// The assertion keywords compared whole: JSON Schema's (most of them 2020-12, which OpenAPI 3.1
/// allows) that the normaliser does not take apart. `content*` are annotations: they say how Hero
/// reads a string, not which strings it accepts.
pub const ASSERTIONS: [(&str, Kind); 17] = [
    ("contains", Kind::Schema),
    ("prefixItems", Kind::Schemas),
    ("if", Kind::Schema),
    ("then", Kind::Schema),
    ("else", Kind::Schema),
    ("not", Kind::Schema),
    ("dependentRequired", Kind::Value),
    ("dependentSchemas", Kind::SchemaMap),
    ("patternProperties", Kind::SchemaMap),
    ("propertyNames", Kind::Schema),
    ("unevaluatedItems", Kind::Schema),
    ("unevaluatedProperties", Kind::Schema),
    ("uniqueItems", Kind::Value),
    ("multipleOf", Kind::Value),
    ("contentSchema", Kind::Schema),
    ("contentMediaType", Kind::Value),
    ("contentEncoding", Kind::Value),
];

/// Follows `$ref`s; sibling keywords of a `$ref` (3.1 allows them) are kept where the target has
/// none of its own. Returns the schema and the refs followed.
pub fn deref(doc: &Value, v: &Value) -> (Value, Vec<String>) {
    let mut v = v.clone();
    let mut refs = Vec::new();
    for _ in 0..32 {
        let Some(r) = v["$ref"].as_str().map(percent_decode) else {
            break;
        };
        let Some(target) = pointer(doc, &r) else {
            break;
        };
        if refs.contains(&r) {
            break;
        }
        refs.push(r);
        let mut merged = target.clone();
        if let (Some(m), Some(siblings)) = (merged.as_object_mut(), v.as_object()) {
            for (k, x) in siblings {
                if k != "$ref" && !m.contains_key(k) {
                    m.insert(k.clone(), x.clone());
                }
            }
        }
        v = merged;
    }
    (v, refs)
}

/// The meaning of schema `v` of `doc`.
pub fn norm(doc: &Value, v: &Value) -> Norm {
    norm_at(doc, v, 0)
}

fn norm_at(doc: &Value, v: &Value, depth: usize) -> Norm {
    let (v, refs) = deref(doc, v);
    let v = without_defaults(&v);
    let mut n = Norm {
        refs,
        ..Norm::default()
    };
    if depth > 16 {
        return n;
    }
    match &v["type"] {
        Value::String(t) => add_type(&mut n, t),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .for_each(|t| add_type(&mut n, t)),
        _ => {}
    }
    n.nullable |= v["nullable"] == true;
    if let Some(c) = v.get("const") {
        add_values(&mut n, std::slice::from_ref(c));
    }
    if let Some(vals) = v["enum"].as_array() {
        add_values(&mut n, vals);
    }
    n.format = v["format"].as_str().map(str::to_owned);
    n.pattern = v["pattern"].as_str().map(str::to_owned);
    for key in LIMITS {
        if let Some(x) = v.get(key).filter(|x| !x.is_boolean()) {
            n.limits.push((key, canon(x)));
        }
    }
    n.default = v.get("default").map(canon);
    // 3.0's boolean exclusiveMinimum/Maximum turn minimum/maximum into the 3.1 form.
    for (flag, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if v[flag] == true
            && let Some(i) = n.limits.iter().position(|(k, _)| *k == bound)
        {
            n.limits[i].0 = flag;
        }
    }
    n.limits
        .sort_by_key(|(k, _)| LIMITS.iter().position(|x| x == k));
    if let Some(props) = v["properties"].as_object() {
        n.properties = props.clone();
    }
    n.required = v["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect();
    n.items = v.get("items").cloned();
    n.additional = v.get("additionalProperties").cloned();
    n.deprecated = v["deprecated"] == true;
    n.read_only = v["readOnly"] == true;
    n.write_only = v["writeOnly"] == true;
    n.discriminator = v.get("discriminator").cloned();
    n.extensible = v["x-extensible-enum"]
        .as_array()
        .map(|vals| vals.iter().map(|x| show(&canon(x))).collect());
    for (key, _) in ASSERTIONS {
        if let Some(x) = v.get(key) {
            n.assertions.insert(key.to_owned(), x.clone());
        }
    }
    if let Some(parts) = v["allOf"].as_array() {
        for part in parts {
            let p = norm_at(doc, part, depth + 1);
            merge(&mut n, p);
        }
    }
    for keyword in ["oneOf", "anyOf"] {
        let Some(branches) = v[keyword].as_array() else {
            continue;
        };
        let mut rest = Vec::new();
        let mut normed = Vec::new();
        for b in branches {
            let p = norm_at(doc, b, depth + 1);
            if is_null(&p) {
                n.nullable = true;
            } else {
                rest.push(b.clone());
                normed.push(p);
            }
        }
        let all_values = !normed.is_empty()
            && normed
                .iter()
                .all(|p| p.values.is_some() && p.properties.is_empty() && p.items.is_none());
        if all_values {
            for p in normed {
                n.nullable |= p.nullable;
                n.types.extend(p.types);
                n.values
                    .get_or_insert_with(BTreeSet::new)
                    .extend(p.values.unwrap_or_default());
            }
        } else if rest.len() == 1 {
            let p = normed.pop().unwrap_or_default();
            merge(&mut n, p);
        } else if !rest.is_empty() {
            n.variants = Some((keyword.to_owned(), rest));
        }
    }
    if n.types.is_empty() {
        if !n.properties.is_empty() || n.additional.is_some() {
            n.types.insert("object".to_owned());
        } else if n.items.is_some() {
            n.types.insert("array".to_owned());
        }
    }
    n
}

fn add_type(n: &mut Norm, t: &str) {
    if t == "null" {
        n.nullable = true;
    } else {
        n.types.insert(t.to_owned());
    }
}

fn add_values(n: &mut Norm, vals: &[Value]) {
    let set = n.values.get_or_insert_with(BTreeSet::new);
    for x in vals {
        if x.is_null() {
            n.nullable = true;
        } else {
            set.insert(show(&canon(x)));
        }
    }
}

/// A schema that allows only `null`.
fn is_null(n: &Norm) -> bool {
    n.nullable
        && n.types.is_empty()
        && n.values.as_ref().is_none_or(BTreeSet::is_empty)
        && n.properties.is_empty()
        && n.items.is_none()
        && n.additional.is_none()
}

/// `allOf` (or a lone `oneOf`/`anyOf` branch): `b`'s meaning added to `a`'s.
fn merge(a: &mut Norm, b: Norm) {
    if a.types.is_empty() {
        a.types = b.types;
    }
    a.nullable |= b.nullable;
    if a.values.is_none() {
        a.values = b.values;
    }
    a.format = a.format.take().or(b.format);
    a.pattern = a.pattern.take().or(b.pattern);
    for (k, v) in b.limits {
        if !a.limits.iter().any(|(x, _)| *x == k) {
            a.limits.push((k, v));
        }
    }
    a.limits
        .sort_by_key(|(k, _)| LIMITS.iter().position(|x| x == k));
    for (k, v) in b.properties {
        a.properties.entry(k).or_insert(v);
    }
    a.required.extend(b.required);
    if a.items.is_none() {
        a.items = b.items;
    }
    if a.additional.is_none() {
        a.additional = b.additional;
    }
    if a.variants.is_none() {
        a.variants = b.variants;
    }
    a.deprecated |= b.deprecated;
    a.read_only |= b.read_only;
    a.write_only |= b.write_only;
    a.default = a.default.take().or(b.default);
    a.discriminator = a.discriminator.take().or(b.discriminator);
    a.extensible = a.extensible.take().or(b.extensible);
    for (k, v) in b.assertions {
        a.assertions.entry(k).or_insert(v);
    }
    a.refs.extend(b.refs);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn n(v: Value) -> Norm {
        let mut x = norm(
            &json!({"components": {"schemas": {"S": {"type": "string"}}}}),
            &v,
        );
        x.refs.clear();
        x
    }

    #[test]
    fn the_3_0_and_3_1_spellings_mean_the_same() {
        assert_eq!(
            n(json!({"type": "string", "nullable": true})),
            n(json!({"type": ["string", "null"]}))
        );
        assert_eq!(
            n(json!({"allOf": [{"$ref": "#/components/schemas/S"}], "nullable": true})),
            n(json!({"anyOf": [{"$ref": "#/components/schemas/S"}, {"type": "null"}]}))
        );
        assert_eq!(
            n(json!({"type": "string", "enum": ["a", "b"]})),
            n(
                json!({"oneOf": [{"const": "a", "type": "string"}, {"const": "b", "type": "string", "title": "B"}]})
            )
        );
        assert_eq!(
            n(json!({"type": "string", "nullable": true, "enum": ["a", null]})),
            n(json!({"type": ["string", "null"], "enum": ["a", null]}))
        );
        assert_eq!(
            n(json!({"type": "integer", "minimum": 1, "exclusiveMinimum": true, "example": 2})),
            n(json!({"type": "integer", "exclusiveMinimum": 1, "examples": [2]}))
        );
        assert_eq!(
            n(json!({"$ref": "#/components/schemas/S", "description": "x"})),
            n(json!({"allOf": [{"$ref": "#/components/schemas/S"}], "description": "y"}))
        );
        assert_ne!(
            n(json!({"type": "string"})),
            n(json!({"type": ["string", "null"]}))
        );
    }
}
