//! A schema's meaning as one value, for the keywords compared whole (`if`, `prefixItems`, oneOf
//! branches, discriminator targets): every `$ref` followed, whatever its target is named, 3.0 and
//! 3.1 spellings alike (through [`norm`]), numbers by value.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::normal::{ASSERTIONS, Kind, Norm, norm};
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
    if let Some(additional) = &n.additional {
        out.insert(
            "additionalProperties".into(),
            meaning_at(doc, additional, stack),
        );
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
