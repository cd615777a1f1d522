//! What build.rs does to the spec before progenitor reads it: no error responses, no patterns.

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
