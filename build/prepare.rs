//! What build.rs does to the spec before progenitor reads it: the replaced schemas, no error
//! responses, no patterns, and which schemas only responses use.

#[allow(unused_imports)]
use super::*;

/// `(schema name, Rust type)` for every component schema with `x-herohealth-rust-type`.
pub(super) fn replacements(spec: &openapiv3::OpenAPI) -> Vec<(String, String)> {
    let schemas = spec
        .components
        .as_ref()
        .map(|c| c.schemas.iter())
        .into_iter()
        .flatten();
    schemas
        .filter_map(|(name, schema)| {
            let openapiv3::ReferenceOr::Item(schema) = schema else {
                return None;
            };
            let rust = schema
                .schema_data
                .extensions
                .get("x-herohealth-rust-type")?
                .as_str()?;
            Some((name.clone(), rust.to_owned()))
        })
        .collect()
}

/// Remove every response that is not a 2xx from every operation (see the module docs).
pub(super) fn strip_error_responses(spec: &mut openapiv3::OpenAPI) {
    for (_, item) in spec.paths.paths.iter_mut() {
        let openapiv3::ReferenceOr::Item(item) = item else {
            continue;
        };
        for op in operations_mut(item) {
            op.responses.default = None;
            op.responses.responses.retain(|code, _| match code {
                openapiv3::StatusCode::Code(c) => (200..300).contains(c),
                openapiv3::StatusCode::Range(r) => *r == 2,
            });
        }
    }
}

/// Remove `pattern` from every schema: components, parameters and request/response bodies.
pub(super) fn strip_patterns(spec: &mut openapiv3::OpenAPI) {
    use openapiv3::{ReferenceOr, Schema, SchemaKind, Type};
    fn walk(s: &mut ReferenceOr<Schema>) {
        if let ReferenceOr::Item(s) = s {
            walk_schema(s);
        }
    }
    fn walk_boxed(s: &mut ReferenceOr<Box<Schema>>) {
        if let ReferenceOr::Item(s) = s {
            walk_schema(s);
        }
    }
    fn walk_schema(s: &mut Schema) {
        match &mut s.schema_kind {
            SchemaKind::Type(Type::String(t)) => t.pattern = None,
            SchemaKind::Type(Type::Object(o)) => o.properties.values_mut().for_each(walk_boxed),
            SchemaKind::Type(Type::Array(a)) => a.items.iter_mut().for_each(walk_boxed),
            SchemaKind::OneOf { one_of: v }
            | SchemaKind::AllOf { all_of: v }
            | SchemaKind::AnyOf { any_of: v } => v.iter_mut().for_each(walk),
            SchemaKind::Not { not } => walk(not.as_mut()),
            _ => {}
        }
    }
    if let Some(c) = spec.components.as_mut() {
        c.schemas.values_mut().for_each(walk);
    }
    for (_, item) in spec.paths.paths.iter_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for op in operations_mut(item) {
            for p in op.parameters.iter_mut() {
                if let ReferenceOr::Item(p) = p {
                    use openapiv3::Parameter as P;
                    let data = match p {
                        P::Query { parameter_data, .. }
                        | P::Header { parameter_data, .. }
                        | P::Path { parameter_data, .. }
                        | P::Cookie { parameter_data, .. } => parameter_data,
                    };
                    if let openapiv3::ParameterSchemaOrContent::Schema(s) = &mut data.format {
                        walk(s);
                    }
                }
            }
            if let Some(ReferenceOr::Item(body)) = op.request_body.as_mut() {
                body.content
                    .values_mut()
                    .filter_map(|m| m.schema.as_mut())
                    .for_each(walk);
            }
            for (_, r) in op.responses.responses.iter_mut() {
                if let ReferenceOr::Item(r) = r {
                    r.content
                        .values_mut()
                        .filter_map(|m| m.schema.as_mut())
                        .for_each(walk);
                }
            }
        }
    }
}

/// Every operation of a path item.
pub(super) fn operations_mut(
    item: &mut openapiv3::PathItem,
) -> impl Iterator<Item = &mut openapiv3::Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

/// Component schemas that only responses use (never a request body or parameter, directly or
/// through a `$ref`): the types users receive but never build. They get `#[non_exhaustive]`, so
/// that an optional field Hero adds later is not a breaking change for anyone.
pub(super) fn response_only_schemas(text: &str) -> Vec<String> {
    use serde_yaml::Value;
    use std::collections::BTreeSet;
    let doc: Value = serde_yaml::from_str(text).expect("parse openapi.yaml");
    let schemas = doc["components"]["schemas"].clone();
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Mapping(m) => {
                for (k, child) in m {
                    if k.as_str() == Some("$ref")
                        && let Some(r) = child.as_str()
                        && let Some(name) = r.strip_prefix("#/components/schemas/")
                    {
                        out.push(name.to_owned());
                    }
                    refs(child, out);
                }
            }
            Value::Sequence(items) => items.iter().for_each(|i| refs(i, out)),
            _ => {}
        }
    }
    let closure = |roots: Vec<String>| {
        let mut seen = BTreeSet::new();
        let mut todo = roots;
        while let Some(name) = todo.pop() {
            if seen.insert(name.clone()) {
                refs(&schemas[name.as_str()], &mut todo);
            }
        }
        seen
    };
    let (mut sent, mut received) = (Vec::new(), Vec::new());
    for (_, item) in doc["paths"].as_mapping().into_iter().flatten() {
        for (_, op) in item.as_mapping().into_iter().flatten() {
            refs(&op["requestBody"], &mut sent);
            refs(&op["parameters"], &mut sent);
            for (code, r) in op["responses"].as_mapping().into_iter().flatten() {
                let code = code
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| code.as_u64().map(|c| c.to_string()).unwrap_or_default());
                if code.starts_with('2') {
                    refs(r, &mut received);
                }
            }
        }
    }
    // Parameters and responses may be `$ref`s into `components`: follow those too.
    let components = &doc["components"];
    let follow = |list: &mut Vec<String>, section: &str, v: &Value| {
        let mut direct = Vec::new();
        fn section_refs(v: &Value, section: &str, out: &mut Vec<String>) {
            match v {
                Value::Mapping(m) => {
                    for (k, child) in m {
                        if k.as_str() == Some("$ref")
                            && let Some(r) = child.as_str()
                            && let Some(name) = r.strip_prefix(&format!("#/components/{section}/"))
                        {
                            out.push(name.to_owned());
                        }
                        section_refs(child, section, out);
                    }
                }
                Value::Sequence(items) => items.iter().for_each(|i| section_refs(i, section, out)),
                _ => {}
            }
        }
        section_refs(v, section, &mut direct);
        for name in direct {
            refs(&components[section][name.as_str()], list);
        }
    };
    for (_, item) in doc["paths"].as_mapping().into_iter().flatten() {
        for (_, op) in item.as_mapping().into_iter().flatten() {
            follow(&mut sent, "parameters", &op["parameters"]);
            follow(&mut sent, "requestBodies", &op["requestBody"]);
        }
    }
    let sent = closure(sent);
    let received = closure(received);
    received
        .into_iter()
        .filter(|name| !sent.contains(name))
        .filter(|name| {
            schemas[name.as_str()]
                .get("x-herohealth-rust-type")
                .is_none()
        })
        .collect()
}
