//! `openapi.yaml`, read once into one model: every fact build.rs derives comes from here.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{ReferenceOr, SchemaKind, Type};
use serde_yaml::Value;

use super::dialect;

/// The spec, and every fact of it the build uses.
pub(super) struct Model {
    /// The spec as a YAML tree (for the walks that are simplest untyped: words, `$ref`s).
    pub(super) doc: Value,
    /// The same spec, typed.
    pub(super) api: openapiv3::OpenAPI,
    /// Every operation, in path order (get, put, post, delete, options, head, patch, trace).
    pub(super) operations: Vec<OperationFact>,
}

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

impl Model {
    /// Reads and checks `openapi.yaml`'s text.
    pub(super) fn read(text: &str) -> Model {
        let doc: Value = serde_yaml::from_str(text).expect("parse openapi.yaml");
        let api: openapiv3::OpenAPI =
            serde_yaml::from_value(doc.clone()).expect("openapi.yaml is OpenAPI 3.0");
        let operations = operation_facts(&api);
        Model {
            doc,
            api,
            operations,
        }
    }

    /// The spec as progenitor gets it: no error responses and no patterns (see build.rs's docs).
    pub(super) fn for_progenitor(&self) -> openapiv3::OpenAPI {
        let mut spec = self.api.clone();
        super::prepare::strip_error_responses(&mut spec);
        super::prepare::strip_patterns(&mut spec);
        spec
    }

    /// `(schema name, Rust type)` for every component schema with `x-herohealth-rust-type`.
    pub(super) fn replacements(&self) -> Vec<(String, String)> {
        self.schemas()
            .filter_map(|(name, schema)| {
                let rust = schema.schema_data.extensions.get(dialect::RUST_TYPE)?;
                let rust = rust.as_str()?.to_owned();
                // `cargo xtask diff` judges changes by what the family of the type reads and sends.
                assert!(
                    dialect::family(&rust).is_some(),
                    "{name}: {rust} is of no family of build/dialect.rs's FAMILIES"
                );
                Some((name.clone(), rust))
            })
            .collect()
    }

    /// Every component schema written inline (not a `$ref`).
    pub(super) fn schemas(&self) -> impl Iterator<Item = (&String, &openapiv3::Schema)> {
        self.api
            .components
            .iter()
            .flat_map(|c| c.schemas.iter())
            .filter_map(|(name, s)| match s {
                ReferenceOr::Item(s) => Some((name, s)),
                ReferenceOr::Reference { .. } => None,
            })
    }

    /// The open enums: `(schema name, Rust name, values, nullable)` of every schema whose
    /// `x-herohealth-rust-type` is `crate::enums::X`.
    pub(super) fn open_enums(&self) -> Vec<OpenEnum> {
        let mut out = Vec::new();
        for (schema_name, schema) in self.schemas() {
            let Some(rust) = schema
                .schema_data
                .extensions
                .get(dialect::RUST_TYPE)
                .and_then(|v| v.as_str())
            else {
                continue;
            };
            let Some(rust_name) = rust.strip_prefix(dialect::OPEN_ENUMS) else {
                continue;
            };
            assert_eq!(
                rust_name, schema_name,
                "crate::enums types are named as their schema"
            );
            let SchemaKind::Type(Type::String(s)) = &schema.schema_kind else {
                panic!("{schema_name}: an enum schema must be `type: string` with `enum:`")
            };
            let values: Vec<String> = s.enumeration.iter().flatten().cloned().collect();
            assert!(!values.is_empty(), "{schema_name}: no `enum:` values");
            let (name, nullable) = match schema_name.strip_prefix("Nullable") {
                Some(base) if schema.schema_data.nullable => (base.to_owned(), true),
                _ => (schema_name.clone(), false),
            };
            out.push(OpenEnum {
                schema: schema_name.clone(),
                name,
                values,
                nullable,
                description: schema
                    .schema_data
                    .description
                    .as_deref()
                    .map(str::trim)
                    .map(str::to_owned),
            });
        }
        out
    }

    /// Property names whose schema is an open enum (directly, or as an array's items), anywhere in
    /// the component schemas: the fields a response carries enum values in.
    pub(super) fn enum_fields(&self) -> Vec<String> {
        let enums: BTreeSet<String> = self.open_enums().into_iter().map(|e| e.schema).collect();
        let mut fields = BTreeSet::new();
        fn is_enum_ref(v: &Value, enums: &BTreeSet<String>) -> bool {
            let r = v
                .get("$ref")
                .or_else(|| v.get("items").and_then(|i| i.get("$ref")))
                .and_then(Value::as_str);
            r.and_then(|r| r.strip_prefix("#/components/schemas/"))
                .is_some_and(|name| enums.contains(name))
                || ["allOf", "oneOf", "anyOf"].iter().any(|k| {
                    v.get(*k)
                        .and_then(Value::as_sequence)
                        .is_some_and(|alts| alts.iter().any(|a| is_enum_ref(a, &enums.clone())))
                })
        }
        fn walk(v: &Value, enums: &BTreeSet<String>, fields: &mut BTreeSet<String>) {
            match v {
                Value::Mapping(m) => {
                    if let Some(props) = m.get("properties").and_then(Value::as_mapping) {
                        for (name, schema) in props {
                            if is_enum_ref(schema, enums)
                                && let Some(name) = name.as_str()
                            {
                                fields.insert(name.to_owned());
                            }
                        }
                    }
                    m.values().for_each(|c| walk(c, enums, fields));
                }
                Value::Sequence(items) => items.iter().for_each(|c| walk(c, enums, fields)),
                _ => {}
            }
        }
        walk(&self.doc["components"]["schemas"], &enums, &mut fields);
        fields.into_iter().collect()
    }

    /// Every message a response declares (`x-herohealth-messages`), sorted.
    pub(super) fn hero_messages(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        fn walk(v: &Value, out: &mut BTreeSet<String>) {
            match v {
                Value::Mapping(m) => {
                    if let Some(list) = m.get(dialect::MESSAGES).and_then(Value::as_sequence) {
                        out.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
                    }
                    m.values().for_each(|c| walk(c, out));
                }
                Value::Sequence(items) => items.iter().for_each(|c| walk(c, out)),
                _ => {}
            }
        }
        walk(&self.doc, &mut out);
        assert!(
            !out.is_empty(),
            "the error responses declare Hero's messages ({})",
            dialect::MESSAGES
        );
        out
    }

    /// The names of the properties the spec marks `x-herohealth-patient-data`.
    pub(super) fn patient_data(&self) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        fn walk(v: &Value, names: &mut BTreeSet<String>) {
            match v {
                Value::Mapping(m) => {
                    if let Some(props) = m.get("properties").and_then(Value::as_mapping) {
                        for (name, schema) in props {
                            if schema.get(dialect::PATIENT_DATA).and_then(Value::as_bool)
                                == Some(true)
                                && let Some(name) = name.as_str()
                            {
                                names.insert(name.to_owned());
                            }
                        }
                    }
                    m.values().for_each(|c| walk(c, names));
                }
                Value::Sequence(items) => items.iter().for_each(|c| walk(c, names)),
                _ => {}
            }
        }
        walk(&self.doc, &mut names);
        names
    }

    /// Every schema an error response (non-2xx) of some operation carries: the error bodies the
    /// client decodes by hand.
    pub(super) fn error_body_schemas(&self) -> Vec<String> {
        let mut names = BTreeSet::new();
        let responses = self.api.components.as_ref().map(|c| &c.responses);
        for (_, item) in self.api.paths.iter() {
            let ReferenceOr::Item(item) = item else {
                continue;
            };
            for (_, op) in item.iter() {
                for (code, r) in op.responses.responses.iter() {
                    if matches!(code, openapiv3::StatusCode::Code(c) if (200..300).contains(c)) {
                        continue;
                    }
                    let r = match r {
                        ReferenceOr::Item(r) => Some(r),
                        ReferenceOr::Reference { reference } => responses.and_then(|rs| {
                            match rs.get(reference.rsplit('/').next()?)? {
                                ReferenceOr::Item(r) => Some(r),
                                ReferenceOr::Reference { .. } => None,
                            }
                        }),
                    };
                    for m in r.into_iter().flat_map(|r| r.content.values()) {
                        if let Some(ReferenceOr::Reference { reference }) = &m.schema {
                            names.insert(reference.rsplit('/').next().unwrap().to_owned());
                        }
                    }
                }
            }
        }
        names.into_iter().collect()
    }

    /// Component schemas that only responses use (never a request body or parameter, directly or
    /// through a `$ref`): the types users receive but never build. They get `#[non_exhaustive]`, so
    /// that an optional field Hero adds later is not a breaking change for anyone.
    pub(super) fn response_only_schemas(&self) -> Vec<String> {
        let doc = &self.doc;
        let schemas = &doc["components"]["schemas"];
        fn refs(v: &Value, section: &str, out: &mut Vec<String>) {
            match v {
                Value::Mapping(m) => {
                    for (k, child) in m {
                        if k.as_str() == Some("$ref")
                            && let Some(r) = child.as_str()
                            && let Some(name) = r.strip_prefix(&format!("#/components/{section}/"))
                        {
                            out.push(name.to_owned());
                        }
                        refs(child, section, out);
                    }
                }
                Value::Sequence(items) => items.iter().for_each(|i| refs(i, section, out)),
                _ => {}
            }
        }
        let closure = |roots: Vec<String>| {
            let mut seen = BTreeSet::new();
            let mut todo = roots;
            while let Some(name) = todo.pop() {
                if seen.insert(name.clone()) {
                    refs(&schemas[name.as_str()], "schemas", &mut todo);
                }
            }
            seen
        };
        let (mut sent, mut received) = (Vec::new(), Vec::new());
        // Parameters, bodies and responses may be `$ref`s into `components`: follow those too.
        let follow = |v: &Value, section: &str, out: &mut Vec<String>| {
            let mut direct = Vec::new();
            refs(v, section, &mut direct);
            for name in direct {
                refs(&doc["components"][section][name.as_str()], "schemas", out);
            }
        };
        for (_, item) in doc["paths"].as_mapping().into_iter().flatten() {
            for (_, op) in item.as_mapping().into_iter().flatten() {
                for v in [&op["requestBody"], &op["parameters"]] {
                    refs(v, "schemas", &mut sent);
                }
                follow(&op["parameters"], "parameters", &mut sent);
                follow(&op["requestBody"], "requestBodies", &mut sent);
                for (code, r) in op["responses"].as_mapping().into_iter().flatten() {
                    let code = code.as_str().map(str::to_owned).unwrap_or_else(|| {
                        code.as_u64().map(|c| c.to_string()).unwrap_or_default()
                    });
                    if code.starts_with('2') {
                        refs(r, "schemas", &mut received);
                    }
                }
            }
        }
        let sent = closure(sent);
        closure(received)
            .into_iter()
            .filter(|name| !sent.contains(name))
            .filter(|name| schemas[name.as_str()].get(dialect::RUST_TYPE).is_none())
            .collect()
    }

    /// Every word of the API: property and parameter names, enum values and `x-herohealth-words`
    /// (what a masked text may keep), and the words (lower case) of Hero's declared messages
    /// (what Hero's own message may show).
    pub(super) fn words(&self) -> (BTreeSet<String>, BTreeSet<String>) {
        let mut keys = BTreeSet::new();
        let mut words = BTreeSet::new();
        fn walk(
            v: &Value,
            parent: &str,
            in_responses: bool,
            keys: &mut BTreeSet<String>,
            words: &mut BTreeSet<String>,
        ) {
            match v {
                Value::Mapping(m) => {
                    // A parameter's name (`page_index`, `sent_at[]`) is a word of the API, as a
                    // property's is: Hero's validation issues name it in their `path`.
                    if let (Some(_), Some(name)) = (
                        m.get("in").and_then(Value::as_str),
                        m.get("name").and_then(Value::as_str),
                    ) {
                        keys.insert(name.trim_end_matches("[]").to_owned());
                    }
                    for (k, child) in m {
                        let Some(k) = k.as_str() else { continue };
                        if parent == "properties" {
                            keys.insert(k.to_owned());
                        }
                        if in_responses
                            && k == dialect::MESSAGES
                            && let Some(list) = child.as_sequence()
                        {
                            words.extend(
                                list.iter()
                                    .filter_map(Value::as_str)
                                    .flat_map(|d| d.split(|c: char| !c.is_ascii_alphabetic()))
                                    .filter(|w| w.len() > 1)
                                    .map(str::to_ascii_lowercase),
                            );
                        }
                        if k == dialect::WORDS {
                            let listed = child.as_sequence().into_iter().flatten();
                            keys.extend(listed.filter_map(|w| w.as_str()).map(str::to_owned));
                        }
                        if k == "example" || k == "examples" {
                            continue;
                        }
                        walk(child, k, in_responses || k == "responses", keys, words);
                    }
                }
                Value::Sequence(items) => {
                    for item in items {
                        if parent == "enum"
                            && let Some(s) = item.as_str()
                        {
                            keys.insert(s.to_owned());
                        }
                        walk(item, parent, in_responses, keys, words);
                    }
                }
                _ => {}
            }
        }
        walk(&self.doc, "", false, &mut keys, &mut words);
        (keys, words)
    }
}

/// One open enum of the spec.
pub(super) struct OpenEnum {
    /// The schema's name (`NullablePatientTitle`).
    pub(super) schema: String,
    /// The Rust type's name (`PatientTitle`).
    pub(super) name: String,
    pub(super) values: Vec<String>,
    /// A `NullableX` schema: `type NullableX = Option<X>`.
    pub(super) nullable: bool,
    pub(super) description: Option<String>,
}

pub(super) fn snake_case(id: &str) -> String {
    use heck::ToSnakeCase;
    id.to_snake_case()
}

/// Every operation, with the paging facts checked: an operation with a `page_index` parameter must say
/// how its response is paged, so that a new paged list cannot silently lack `.stream()`.
fn operation_facts(spec: &openapiv3::OpenAPI) -> Vec<OperationFact> {
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

/// The items of the inline module `name` among `items` (progenitor's `builder` and `types`,
/// typify's `types::builder`).
pub(super) fn module<'a>(items: &'a mut [syn::Item], name: &str) -> &'a mut Vec<syn::Item> {
    items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the generated `{name}` module"))
}
