//! Every type a response decodes into, and every field of one, has a description in `openapi.yaml`:
//! build.rs carries a schema's `description` into the type's rustdoc and a property's into the
//! field's, so a schema or property without one is a type or field users can only guess at.
//!
//! A property that is only a `$ref` gets no field doc from progenitor: give it
//! `allOf: [{$ref: ...}]` with a `description` beside it.

use std::collections::BTreeSet;

use serde_json::Value;

/// Where a description is missing: a response schema (`BatchSend`) or one of its properties
/// (`BatchSend.recipient`), or a response's inline schema (`GET /v1/x response 200`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Undocumented {
    /// `Schema` or `Schema.property`, or the response whose inline schema it is.
    pub location: String,
    /// Why it counts: the operation and status that first reach it.
    pub reached_from: String,
}

/// Every schema a response of `ours` decodes into (following `$ref`s, `allOf`/`oneOf`/`anyOf`,
/// array items and map values), and every property of those, that has no `description`; in the
/// order of their locations.
pub fn undocumented(ours: &Value) -> Vec<Undocumented> {
    let mut walk = Walk {
        doc: ours,
        seen: BTreeSet::new(),
        found: BTreeSet::new(),
    };
    let methods = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    if let Some(paths) = ours.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in methods {
                let Some(responses) = item
                    .get(method)
                    .and_then(|op| op.get("responses"))
                    .and_then(Value::as_object)
                else {
                    continue;
                };
                for (status, response) in responses {
                    let from = format!("{} {path} response {status}", method.to_uppercase());
                    let response = walk.resolve(response);
                    let Some(content) = response.get("content").and_then(Value::as_object) else {
                        continue;
                    };
                    for media in content.values() {
                        let Some(schema) = media.get("schema") else {
                            continue;
                        };
                        if schema.get("$ref").is_some() {
                            walk.schema(schema, &from);
                            continue;
                        }
                        // An inline response schema is a type of its own (progenitor names it
                        // after the operation): it and its fields need descriptions too.
                        if !has_description(schema) {
                            walk.found.insert(Undocumented {
                                location: from.clone(),
                                reached_from: from.clone(),
                            });
                        }
                        walk.body(schema, Some(&from), &from);
                    }
                }
            }
        }
    }
    walk.found.into_iter().collect()
}

fn has_description(schema: &Value) -> bool {
    schema
        .get("description")
        .and_then(Value::as_str)
        .is_some_and(|d| !d.trim().is_empty())
}

struct Walk<'a> {
    doc: &'a Value,
    /// Component schemas already walked.
    seen: BTreeSet<String>,
    found: BTreeSet<Undocumented>,
}

impl<'a> Walk<'a> {
    /// A `$ref` followed (within the document), or the value itself.
    fn resolve(&self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => r
                .strip_prefix('#')
                .and_then(|p| self.doc.pointer(p))
                .unwrap_or(v),
            None => v,
        }
    }

    fn schema(&mut self, schema: &'a Value, from: &str) {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let Some(name) = r.strip_prefix("#/components/schemas/") else {
                return;
            };
            if !self.seen.insert(name.to_owned()) {
                return;
            }
            let Some(target) = self.doc.pointer(&format!("/components/schemas/{name}")) else {
                return;
            };
            if !has_description(target) {
                self.found.insert(Undocumented {
                    location: name.to_owned(),
                    reached_from: from.to_owned(),
                });
            }
            self.body(target, Some(name), from);
            return;
        }
        self.body(schema, None, from);
    }

    /// The parts of a schema: its properties (each needs a description when the schema is a
    /// named one), its alternatives, items and map values.
    fn body(&mut self, schema: &'a Value, name: Option<&str>, from: &str) {
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (field, prop) in props {
                if let Some(name) = name
                    && !has_description(prop)
                {
                    self.found.insert(Undocumented {
                        location: format!("{name}.{field}"),
                        reached_from: from.to_owned(),
                    });
                }
                self.schema(prop, from);
            }
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(parts) = schema.get(key).and_then(Value::as_array) {
                for part in parts {
                    // An inline part of a named schema is part of that type: its properties are
                    // the type's fields.
                    match part.get("$ref") {
                        Some(_) => self.schema(part, from),
                        None => self.body(part, name, from),
                    }
                }
            }
        }
        if let Some(items) = schema.get("items") {
            self.schema(items, from);
        }
        if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
            self.schema(values, from);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locations(doc: Value) -> Vec<String> {
        undocumented(&doc).into_iter().map(|u| u.location).collect()
    }

    #[test]
    fn a_bare_ref_property_counts_as_undocumented_and_all_of_with_a_description_does_not() {
        let doc = serde_json::json!({
            "paths": {"/x": {"get": {"responses": {
                "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}},
                "400": {"$ref": "#/components/responses/Bad"}
            }}}},
            "components": {
                "responses": {"Bad": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Err"}}}}},
                "schemas": {
                    "Page": {"description": "A page.", "properties": {
                        "items": {"description": "The items.", "type": "array", "items": {"$ref": "#/components/schemas/Item"}},
                        "bare": {"$ref": "#/components/schemas/Item"},
                        "wrapped": {"description": "Documented.", "allOf": [{"$ref": "#/components/schemas/Item"}]}
                    }},
                    "Item": {"properties": {"id": {"type": "string"}, "name": {"description": "Its name.", "type": "string"}}},
                    "Err": {"description": "An error.", "properties": {"message": {"oneOf": [{"type": "string"}]}}},
                    "Unused": {"properties": {"x": {"type": "string"}}}
                }
            }
        });
        assert_eq!(
            locations(doc),
            ["Err.message", "Item", "Item.id", "Page.bare"]
        );
    }
}
