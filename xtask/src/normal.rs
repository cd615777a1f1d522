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
//! [`meaning`] goes further for the keywords compared whole (`if`, `prefixItems`, oneOf branches,
//! discriminator targets): a schema with every `$ref` followed, whatever its target is named.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::subset::{percent_decode, pointer};

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
    /// The other assertion keywords of [`ASSERTIONS`], as written (compare them with [`meaning`]).
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
        if !n.properties.is_empty() {
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

/// `v` with every number that is a whole number written as an integer (`1.0` -> `1`), so that
/// numbers compare by value.
pub fn canon(v: &Value) -> Value {
    match v {
        Value::Number(x) => match x.as_f64() {
            Some(f) if x.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 =>
            {
                #[allow(clippy::cast_possible_truncation)]
                Value::from(f as i64)
            }
            _ => v.clone(),
        },
        Value::Array(xs) => Value::Array(xs.iter().map(canon).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), canon(x))).collect()),
        other => other.clone(),
    }
}

/// The meaning of schema `v` of `doc` as one value: every `$ref` followed (a recursive one marked
/// by how far up it points, not by its name), 3.0 and 3.1 spellings alike, annotations left out,
/// alternatives in no particular order. Two schemas mean the same when their meanings are equal.
pub fn meaning(doc: &Value, v: &Value) -> Value {
    meaning_at(doc, v, &mut Vec::new())
}

/// [`meaning`] of a value written for keyword `kind`.
pub fn meaning_of(doc: &Value, kind: Kind, v: &Value) -> Value {
    let mut stack = Vec::new();
    keyword_meaning(doc, kind, v, &mut stack)
}

fn keyword_meaning(doc: &Value, kind: Kind, v: &Value, stack: &mut Vec<Vec<String>>) -> Value {
    match kind {
        Kind::Value => match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| {
                        let x = match x.as_array() {
                            Some(xs) => {
                                let set: BTreeSet<String> = xs.iter().map(show).collect();
                                Value::from(set.into_iter().collect::<Vec<_>>())
                            }
                            None => canon(x),
                        };
                        (k.clone(), x)
                    })
                    .collect(),
            ),
            other => canon(other),
        },
        Kind::Schema => meaning_at(doc, v, stack),
        Kind::Schemas => Value::Array(
            v.as_array()
                .into_iter()
                .flatten()
                .map(|x| meaning_at(doc, x, stack))
                .collect(),
        ),
        Kind::SchemaMap => Value::Object(
            v.as_object()
                .into_iter()
                .flatten()
                .map(|(k, x)| (k.clone(), meaning_at(doc, x, stack)))
                .collect(),
        ),
    }
}

fn meaning_at(doc: &Value, v: &Value, stack: &mut Vec<Vec<String>>) -> Value {
    if let Value::Bool(b) = v {
        return Value::Bool(*b);
    }
    let n = norm(doc, v);
    norm_meaning(doc, &n, stack)
}

/// [`meaning`] of a schema already normalised (`n` from [`norm`] on `doc`).
pub fn meaning_of_norm(doc: &Value, n: &Norm) -> Value {
    norm_meaning(doc, n, &mut Vec::new())
}

fn norm_meaning(doc: &Value, n: &Norm, stack: &mut Vec<Vec<String>>) -> Value {
    if !n.refs.is_empty()
        && let Some(i) = stack.iter().rposition(|r| *r == n.refs)
    {
        return serde_json::json!({ "recursive": stack.len() - i });
    }
    if stack.len() > 24 {
        return Value::from("deep");
    }
    stack.push(n.refs.clone());
    let mut out = Map::new();
    let set = |s: &BTreeSet<String>| Value::from(s.iter().cloned().collect::<Vec<_>>());
    out.insert("types".into(), set(&n.types));
    out.insert("nullable".into(), n.nullable.into());
    if let Some(values) = &n.values {
        out.insert("values".into(), set(values));
    }
    if let Some(values) = &n.extensible {
        out.insert("x-extensible-enum".into(), set(values));
    }
    for (k, x) in [("format", &n.format), ("pattern", &n.pattern)] {
        if let Some(x) = x {
            out.insert(k.into(), x.clone().into());
        }
    }
    for (k, x) in &n.limits {
        out.insert((*k).into(), x.clone());
    }
    if let Some(d) = &n.default {
        out.insert("default".into(), d.clone());
    }
    let props: Map<String, Value> = n
        .properties
        .iter()
        .map(|(k, x)| (k.clone(), meaning_at(doc, x, stack)))
        .collect();
    out.insert("properties".into(), props.into());
    out.insert("required".into(), set(&n.required));
    if let Some(items) = &n.items {
        out.insert("items".into(), meaning_at(doc, items, stack));
    }
    if let Some((keyword, branches)) = &n.variants {
        let mut shown: Vec<String> = branches
            .iter()
            .map(|b| meaning_at(doc, b, stack).to_string())
            .collect();
        shown.sort();
        out.insert(keyword.clone(), shown.into());
    }
    for (k, flag) in [
        ("deprecated", n.deprecated),
        ("readOnly", n.read_only),
        ("writeOnly", n.write_only),
    ] {
        if flag {
            out.insert(k.into(), true.into());
        }
    }
    if let Some(d) = &n.discriminator {
        let mapping: Map<String, Value> = d["mapping"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, target)| {
                let target = mapping_ref(target.as_str().unwrap_or_default());
                let m = meaning_at(doc, &serde_json::json!({ "$ref": target }), stack);
                (k.clone(), m)
            })
            .collect();
        out.insert(
            "discriminator".into(),
            serde_json::json!({ "propertyName": d["propertyName"], "mapping": mapping }),
        );
    }
    for (key, kind) in ASSERTIONS {
        if let Some(x) = n.assertions.get(key) {
            out.insert(key.into(), keyword_meaning(doc, kind, x, stack));
        }
    }
    stack.pop();
    Value::Object(out)
}

/// A discriminator mapping's target as a `$ref`: a bare name means a schema of the components.
pub fn mapping_ref(target: &str) -> String {
    if target.contains('#') || target.contains('/') {
        target.to_owned()
    } else {
        format!("#/components/schemas/{target}")
    }
}

/// A value as reports show it: `` `text` `` or `` `12` ``, `none` for absent.
pub fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        Value::Null => "none".to_owned(),
        other => format!("`{other}`"),
    }
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

    #[test]
    fn meaning_follows_refs_by_target_and_stops_on_recursion() {
        let tree = |name: &str| {
            json!({"components": {"schemas": {name: {
                "type": "object",
                "properties": {
                    "size": {"type": "integer", "default": 1.0},
                    "children": {"type": "array", "items": {"$ref": format!("#/components/schemas/{name}")}},
                },
            }}}})
        };
        let (a, b) = (tree("Node"), tree("Folder"));
        let ma = meaning(&a, &json!({"$ref": "#/components/schemas/Node"}));
        let mb = meaning(&b, &json!({"$ref": "#/components/schemas/F%6Flder"}));
        assert_eq!(
            ma, mb,
            "the same tree under another name, its $ref percent-encoded"
        );
        assert_eq!(
            ma["properties"]["children"]["items"],
            json!({"recursive": 2})
        );
        assert_eq!(ma["properties"]["size"]["default"], json!(1));
        let other = meaning(&a, &json!({"type": "object"}));
        assert_ne!(ma, other);
    }
}
