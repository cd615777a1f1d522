//! Each operation of `openapi.yaml` as the build uses it ([`OperationFact`]): its id, method and
//! path, its parameters' setter docs, its statuses, and how a paged list becomes a page ([`Paged`],
//! checked: a list with a `page_index` parameter must say).

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{ReferenceOr, SchemaKind, Type};

use super::dialect;

/// One operation as `build.rs` read it from the spec.
pub(super) struct OperationFact {
    /// snake_case operationId (the builder method's name).
    pub(super) id: String,
    pub(super) method: String,
    pub(super) path: String,
    /// `x-herohealth-paged`, when the operation is a paged list.
    pub(super) paged: Option<Paged>,
    /// `(setter name, docs)` of each parameter, from its `description`, place and required-ness.
    pub(super) params: Vec<(String, String)>,
    /// The setter names of the required path parameters, in order.
    pub(super) path_params: Vec<String>,
    /// Whether the operation takes a JSON body.
    pub(super) has_body: bool,
    /// The 2xx statuses the spec lists, ascending: the answers `send()` decodes.
    pub(super) success: Vec<u16>,
    /// Every status the spec lists (2xx and errors), ascending.
    pub(super) statuses: Vec<u16>,
}

/// How a paged list's response becomes a page (`x-herohealth-paged` on the operation).
pub(super) enum Paged {
    /// `{items: data, count: count}`: the page's item array and its total, both properties of the
    /// response schema; the item type comes from the array's `$ref`.
    Fields {
        items: String,
        count: String,
        count_required: bool,
        item: String,
    },
    /// `{item: BatchMessage, into_page: handwritten}`: `src/paginate.rs` turns the response into a page.
    Handwritten { item: String },
}

pub(super) fn snake_case(id: &str) -> String {
    use heck::ToSnakeCase;
    id.to_snake_case()
}

/// Every operation, with the paging facts checked: an operation with a `page_index` parameter must say
/// how its response is paged, so that a new paged list cannot silently lack `.stream()`.
pub(super) fn operation_facts(spec: &openapiv3::OpenAPI) -> Vec<OperationFact> {
    let mut out = Vec::new();
    for (path, item) in spec.paths.paths.iter() {
        let ReferenceOr::Item(item) = item else {
            panic!("path item `{path}` is a $ref; build.rs reads inline path items only")
        };
        for (method, op) in item.iter() {
            let id = op
                .operation_id
                .as_deref()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            let has_page_index = op.parameters.iter().any(|p| match p {
                ReferenceOr::Reference { reference } => reference.ends_with("/PageIndex"),
                ReferenceOr::Item(p) => p.parameter_data_ref().name == "page_index",
            });
            let paged = op
                .extensions
                .get(dialect::PAGED)
                .map(|v| paged_fact(spec, op, v));
            assert_eq!(
                has_page_index,
                paged.is_some(),
                "{method} {path}: an operation with a `page_index` parameter needs \
                 `{}` (and only such an operation)",
                dialect::PAGED
            );
            // Every parameter, a `$ref` to components resolved.
            let resolved: Vec<&openapiv3::Parameter> = op
                .parameters
                .iter()
                .map(|p| match p {
                    ReferenceOr::Item(p) => p,
                    ReferenceOr::Reference { reference } => {
                        let name = reference.rsplit('/').next().unwrap();
                        let components = spec.components.as_ref().expect("components");
                        match components.parameters.get(name) {
                            Some(ReferenceOr::Item(p)) => p,
                            _ => panic!("parameter {reference} not found"),
                        }
                    }
                })
                .collect();
            let params = resolved
                .iter()
                .map(|&p| {
                    let data = p.parameter_data_ref();
                    let place = match p {
                        openapiv3::Parameter::Query { .. } => "query",
                        openapiv3::Parameter::Path { .. } => "path",
                        openapiv3::Parameter::Header { .. } => "header",
                        openapiv3::Parameter::Cookie { .. } => "cookie",
                    };
                    let setter: String = data
                        .name
                        .chars()
                        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    let need = if data.required {
                        "required"
                    } else {
                        "optional"
                    };
                    let mut doc = data.description.clone().unwrap_or_default();
                    if !doc.is_empty() {
                        doc.push_str("\n\n");
                    }
                    doc.push_str(&format!("The {place} parameter `{}` ({need}).", data.name));
                    (snake_case(&setter), doc)
                })
                .collect();
            let path_params = resolved
                .iter()
                .filter(|p| matches!(p, openapiv3::Parameter::Path { .. }))
                .map(|p| snake_case(&p.parameter_data_ref().name))
                .collect();
            let statuses: Vec<u16> = op
                .responses
                .responses
                .keys()
                .filter_map(|code| match code {
                    openapiv3::StatusCode::Code(c) => Some(*c),
                    openapiv3::StatusCode::Range(_) => None,
                })
                .collect::<BTreeSet<u16>>()
                .into_iter()
                .collect();
            assert!(
                op.responses
                    .responses
                    .keys()
                    .all(|c| matches!(c, openapiv3::StatusCode::Code(_))),
                "{method} {path}: status ranges (`4XX`) are not read; list each status"
            );
            let success = statuses
                .iter()
                .copied()
                .filter(|c| (200..300).contains(c))
                .collect();
            out.push(OperationFact {
                id: snake_case(id),
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                paged,
                params,
                path_params,
                has_body: op.request_body.is_some(),
                success,
                statuses,
            });
        }
    }
    let ids: BTreeMap<&str, usize> = out.iter().map(|o| (o.id.as_str(), 0)).collect();
    assert_eq!(ids.len(), out.len(), "operation ids are unique");
    out
}

fn paged_fact(
    spec: &openapiv3::OpenAPI,
    op: &openapiv3::Operation,
    ext: &serde_json::Value,
) -> Paged {
    let text = |key: &str| ext.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    if let Some(item) = text("item") {
        assert_eq!(
            text("into_page").as_deref(),
            Some("handwritten"),
            "{}: {ext}",
            dialect::PAGED
        );
        return Paged::Handwritten { item };
    }
    let (items, count) = text("items")
        .zip(text("count"))
        .unwrap_or_else(|| panic!("{} needs `items` and `count`: {ext}", dialect::PAGED));
    let ok = op
        .responses
        .responses
        .get(&openapiv3::StatusCode::Code(200))
        .expect("a paged list answers 200");
    let ReferenceOr::Item(ok) = ok else {
        panic!("200 response is a $ref")
    };
    let schema = ok.content.values().find_map(|m| m.schema.as_ref());
    let Some(ReferenceOr::Reference { reference }) = schema else {
        panic!("a paged list's 200 body must be a named schema")
    };
    let name = reference.rsplit('/').next().unwrap();
    let components = spec.components.as_ref().expect("components");
    let Some(ReferenceOr::Item(schema)) = components.schemas.get(name) else {
        panic!("schema {name} not found")
    };
    let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
        panic!("{name}: a paged response must be an object")
    };
    let array = object.properties.get(&items);
    let Some(ReferenceOr::Item(array)) = array else {
        panic!("{name}.{items} must be an inline array")
    };
    let SchemaKind::Type(Type::Array(array)) = &array.schema_kind else {
        panic!("{name}.{items} must be an array")
    };
    let Some(ReferenceOr::Reference { reference }) = &array.items else {
        panic!("{name}.{items} items must be a named schema")
    };
    assert!(
        object.properties.contains_key(&count),
        "{name} has no `{count}`"
    );
    Paged::Fields {
        count_required: object.required.contains(&count),
        items,
        count,
        item: reference.rsplit('/').next().unwrap().to_owned(),
    }
}
