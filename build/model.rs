//! `openapi.yaml`, read once into one model: every fact build.rs derives comes from here. The
//! operations' facts (paths, parameters, statuses, paging) are read in `operations.rs`.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{ReferenceOr, SchemaKind, Type};
use serde_yaml::Value;

use super::{
    dialect,
    operations::{OperationFact, operation_facts},
};

/// The spec, and every fact of it the build uses.
pub(super) struct Model {
    /// The spec as a YAML tree (for the walks that are simplest untyped: words, `$ref`s).
    pub(super) doc: Value,
    /// The same spec, typed.
    pub(super) api: openapiv3::OpenAPI,
    /// Every operation, in path order (get, put, post, delete, options, head, patch, trace).
    pub(super) operations: Vec<OperationFact>,
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

    /// Every id form the spec declares: `(schema name, pattern)` of each component schema with
    /// `x-herohealth-id`, by name.
    pub(super) fn id_forms(&self) -> BTreeMap<String, String> {
        self.schemas()
            .filter_map(|(name, schema)| {
                let form = schema.schema_data.extensions.get(dialect::ID)?;
                let form = form
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: `{}` is a pattern", dialect::ID));
                assert!(
                    form.starts_with('^') && form.ends_with('$'),
                    "{name}: an id form is anchored (`^...$`): {form}"
                );
                Some((name.clone(), form.to_owned()))
            })
            .collect()
    }

    /// `(schema, property) -> id schema` for every property of a component schema that refers to
    /// an id schema (`$ref`, or `allOf` with one `$ref`): the fields whose `Debug` shows the id in
    /// its declared form.
    pub(super) fn id_fields(&self) -> BTreeMap<(String, String), String> {
        let forms = self.id_forms();
        let mut out = BTreeMap::new();
        let Some(schemas) = self.doc["components"]["schemas"].as_mapping() else {
            return out;
        };
        let id_ref = |v: &Value| -> Option<String> {
            let refs = std::iter::once(v).chain(v["allOf"].as_sequence().into_iter().flatten());
            refs.filter_map(|r| r["$ref"].as_str())
                .filter_map(|r| r.strip_prefix("#/components/schemas/"))
                .find(|name| forms.contains_key(*name))
                .map(str::to_owned)
        };
        for (schema, body) in schemas {
            let (Some(schema), Some(props)) = (schema.as_str(), body["properties"].as_mapping())
            else {
                continue;
            };
            for (prop, value) in props {
                if let (Some(prop), Some(form)) = (prop.as_str(), id_ref(value)) {
                    out.insert((schema.to_owned(), prop.to_owned()), form);
                }
            }
        }
        assert!(!out.is_empty(), "no property refers to an id schema");
        out
    }

    /// The response headers `components.headers` declares as a request id (their schema is
    /// `RequestId`), in the spec's order: the headers an answer's request id is read from.
    pub(super) fn request_id_headers(&self) -> Vec<String> {
        let headers = self.doc["components"]["headers"].as_mapping();
        let found: Vec<String> = headers
            .into_iter()
            .flatten()
            .filter(|(_, h)| h["schema"]["$ref"].as_str() == Some("#/components/schemas/RequestId"))
            .filter_map(|(name, _)| name.as_str().map(str::to_ascii_lowercase))
            .collect();
        assert!(
            !found.is_empty(),
            "components.headers declares no request id header"
        );
        found
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
