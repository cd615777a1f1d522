//! Facts of the spec the handwritten layer, the mock, the CLI and the tests read instead of
//! copying them: the operation table, paged lists, response types, words, and the enums.

use quote::{format_ident, quote};

#[allow(unused_imports)]
use super::*;

/// `pub mod spec`: facts of `openapi.yaml` the handwritten layer reads instead of copying.
pub(super) fn spec_facts(text: &str, tables: Vec<syn::Item>) -> syn::Item {
    use std::collections::BTreeSet;
    let doc: serde_yaml::Value = serde_yaml::from_str(text).expect("parse openapi.yaml");
    let mut keys = BTreeSet::new();
    let mut words = BTreeSet::new();
    fn walk(
        v: &serde_yaml::Value,
        parent: &str,
        in_responses: bool,
        keys: &mut BTreeSet<String>,
        words: &mut BTreeSet<String>,
    ) {
        use serde_yaml::Value;
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
                        && k == "description"
                        && let Some(d) = child.as_str()
                    {
                        words.extend(
                            d.split(|c: char| !c.is_ascii_alphabetic())
                                .filter(|w| w.len() > 1)
                                .map(str::to_ascii_lowercase),
                        );
                    }
                    if k == "x-herohealth-words" {
                        let words = child.as_sequence().into_iter().flatten();
                        keys.extend(words.filter_map(|w| w.as_str()).map(str::to_owned));
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
    walk(&doc, "", false, &mut keys, &mut words);
    let keys = keys.iter();
    let words = words.iter();
    syn::parse_quote! {
        /// Facts of `openapi.yaml`, derived by `build.rs` so that no handwritten code copies them.
        pub mod spec {
            /// Every property name, enum value and `x-herohealth-words` word the API description
            /// declares, sorted: the only words a redacted body excerpt, JSON path or validation
            /// issue keeps (everything else is masked).
            pub const STRUCTURAL_WORDS: &[&str] = &[#(#keys),*];
            /// Every word (lower case) of the descriptions of the API's responses ("Unauthorised",
            /// "not found", ...), sorted: the words of Hero's own error message an error may show.
            pub const RESPONSE_WORDS: &[&str] = &[#(#words),*];
            #(#tables)*
        }
    }
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
    use openapiv3::ReferenceOr;
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
                .get("x-herohealth-paged")
                .map(|v| paged_fact(spec, op, v));
            assert_eq!(
                has_page_index,
                paged.is_some(),
                "{method} {path}: an operation with a `page_index` parameter needs \
                 `x-herohealth-paged` (and only such an operation)"
            );
            let params = op
                .parameters
                .iter()
                .map(|p| {
                    let p = match p {
                        ReferenceOr::Item(p) => p,
                        ReferenceOr::Reference { reference } => {
                            let name = reference.rsplit('/').next().unwrap();
                            let components = spec.components.as_ref().expect("components");
                            match components.parameters.get(name) {
                                Some(ReferenceOr::Item(p)) => p,
                                _ => panic!("parameter {reference} not found"),
                            }
                        }
                    };
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
            out.push(OperationFact {
                id: snake_case(id),
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                paged,
                params,
            });
        }
    }
    out
}

pub(super) fn paged_fact(
    spec: &openapiv3::OpenAPI,
    op: &openapiv3::Operation,
    ext: &serde_json::Value,
) -> Paged {
    use openapiv3::{ReferenceOr, SchemaKind, Type};
    let text = |key: &str| ext.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    if let Some(item) = text("item") {
        assert_eq!(
            text("into_page").as_deref(),
            Some("handwritten"),
            "x-herohealth-paged: {ext}"
        );
        return Paged::Handwritten { item };
    }
    let (items, count) = text("items")
        .zip(text("count"))
        .unwrap_or_else(|| panic!("x-herohealth-paged needs `items` and `count`: {ext}"));
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

/// Every schema an error response (non-2xx) of some operation carries, read before
/// `strip_error_responses` removes them: the error bodies the client decodes by hand.
pub(super) fn error_body_schemas(spec: &openapiv3::OpenAPI) -> Vec<String> {
    use openapiv3::ReferenceOr;
    let mut names = std::collections::BTreeSet::new();
    let responses = spec.components.as_ref().map(|c| &c.responses);
    for (_, item) in spec.paths.iter() {
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
                    ReferenceOr::Reference { reference } => {
                        responses.and_then(|rs| match rs.get(reference.rsplit('/').next()?)? {
                            ReferenceOr::Item(r) => Some(r),
                            ReferenceOr::Reference { .. } => None,
                        })
                    }
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

/// The operation table, the response-type list and the paged-list impls, from the spec and from
/// what [`own_the_boundary`] found each builder's `send()` to return.
pub(super) fn operation_tables(
    facts: &[OperationFact],
    sends: &std::collections::BTreeMap<String, syn::Type>,
    error_schemas: &[String],
) -> (Vec<syn::Item>, Vec<syn::Item>) {
    use heck::ToUpperCamelCase;
    let mut rows = Vec::new();
    let mut decoded: Vec<String> = Vec::new();
    let mut paged_impls: Vec<syn::Item> = Vec::new();
    for f in facts {
        let response = sends
            .get(&f.id)
            .unwrap_or_else(|| panic!("no builder send() for operation {}", f.id));
        let response_text = quote!(#response).to_string().replace(' ', "");
        let (id, method, path, paged) = (&f.id, &f.method, &f.path, f.paged.is_some());
        rows.push(quote! {
            Operation { id: #id, method: #method, path: #path, paged: #paged, response: #response_text }
        });
        if response_text.starts_with("types::") && !decoded.contains(&response_text) {
            decoded.push(response_text.clone());
        }
        let Some(paged) = &f.paged else { continue };
        let builder = format_ident!("{}", f.id.to_upper_camel_case());
        let item = match paged {
            Paged::Fields { item, .. } | Paged::Handwritten { item } => format_ident!("{item}"),
        };
        paged_impls.push(syn::parse_quote! {
            impl<'a> crate::paginate::Paginate<'a> for builder::#builder<'a> {
                type Item = types::#item;
                fn stream_with(
                    self,
                    options: crate::paginate::PageOptions,
                ) -> impl futures::Stream<Item = crate::Result<types::#item>> + Send + Unpin + 'a {
                    crate::paginate::pages(options, move |index, size| {
                        self.clone().page_index(index).page_size(size).send()
                    })
                }
            }
        });
        if let Paged::Fields {
            items,
            count,
            count_required,
            ..
        } = paged
        {
            let (items, count) = (format_ident!("{items}"), format_ident!("{count}"));
            let count = if *count_required {
                quote!(Some(self.#count))
            } else {
                quote!(self.#count)
            };
            paged_impls.push(syn::parse_quote! {
                impl crate::paginate::IntoPage for #response {
                    type Item = types::#item;
                    fn into_page(self) -> crate::paginate::Page<types::#item> {
                        crate::paginate::Page { items: self.#items, count: #count }
                    }
                }
            });
        }
    }
    for name in error_schemas {
        let text = format!("types::{name}");
        if !decoded.contains(&text) {
            decoded.push(text);
        }
    }
    let decoders = decoded.iter().map(|t| {
        let ty: syn::Type = syn::parse_str(t).unwrap();
        let name = t.trim_start_matches("types::");
        quote!(check(#name, serde_json::from_slice::<super::#ty>(data).err());)
    });
    let spec_items: Vec<syn::Item> = vec![
        syn::parse_quote! {
            /// One operation of the API description: what a route table, a journal or a test needs
            /// to know about it without copying the spec.
            #[derive(Clone, Copy, Debug, PartialEq, Eq)]
            pub struct Operation {
                /// The snake_case operationId: the name of the client's method for it
                /// (`send_message`).
                pub id: &'static str,
                /// The HTTP method, upper case (`POST`).
                pub method: &'static str,
                /// The path template as the spec writes it (`/v1/messages/{id}`).
                pub path: &'static str,
                /// `true` for a paged list: its builder implements [`crate::Paginate`].
                pub paged: bool,
                /// The Rust type of the success body `send()` decodes (`types::Message`), or `()`.
                pub response: &'static str,
            }
        },
        syn::parse_quote! {
            /// Every operation of `openapi.yaml` (per path, in the order get, put, post, delete, patch).
            pub const OPERATIONS: &[Operation] = &[#(#rows),*];
        },
        syn::parse_quote! {
            /// Decodes `data` as every response body type the client reads (success bodies and
            /// Hero's error bodies) and hands each result to `check` with the type's name.
            /// For the fuzz targets and property tests; not a stable API.
            #[doc(hidden)]
            pub fn decode_each_response(
                data: &[u8],
                mut check: impl FnMut(&'static str, Option<serde_json::Error>),
            ) {
                #(#decoders)*
            }
        },
    ];
    (spec_items, paged_impls)
}

/// `crate::enums`' forward-compatible enums, one `open_enum!` per schema whose
/// `x-herohealth-rust-type` is `crate::enums::X`, from its `enum:` list and `description`.
/// A nullable `NullableX` schema gives `X` (its non-null values) and `type NullableX = Option<X>`.
pub(super) fn open_enums(spec: &openapiv3::OpenAPI) -> String {
    use heck::ToUpperCamelCase;
    use openapiv3::{ReferenceOr, SchemaKind, Type};
    use std::fmt::Write;
    let mut out = String::from(
        "// Generated by build.rs from openapi.yaml: one `open_enum!` per enum schema.\n",
    );
    let mut emitted: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let components = spec.components.as_ref().expect("components");
    for (schema_name, schema) in &components.schemas {
        let ReferenceOr::Item(schema) = schema else {
            continue;
        };
        let Some(rust) = schema
            .schema_data
            .extensions
            .get("x-herohealth-rust-type")
            .and_then(|v| v.as_str())
        else {
            continue;
        };
        let Some(rust_name) = rust.strip_prefix("crate::enums::") else {
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
        let description = schema.schema_data.description.as_deref().map(str::trim);
        let (name, nullable) = match schema_name.strip_prefix("Nullable") {
            Some(base) if schema.schema_data.nullable => (base.to_owned(), true),
            _ => (schema_name.clone(), false),
        };
        if nullable {
            writeln!(
                out,
                "\n/// A [`{name}`], or `None` where Hero sends `null` (schema `{schema_name}`).\n\
                 pub type {schema_name} = Option<{name}>;"
            )
            .unwrap();
        }
        if let Some(seen) = emitted.get(&name) {
            assert_eq!(
                seen, &values,
                "{schema_name} and {name} list different values"
            );
            continue;
        }
        let doc = description.unwrap_or_else(|| {
            panic!(
                "{schema_name}: an enum schema needs a `description` (it becomes the type's docs)"
            )
        });
        writeln!(out, "\nopen_enum! {{").unwrap();
        for line in doc.lines() {
            writeln!(out, "    /// {}", line.trim()).unwrap();
        }
        writeln!(out, "    {name} {{").unwrap();
        for wire in &values {
            let variant = wire.to_upper_camel_case();
            assert!(
                syn::parse_str::<syn::Ident>(&variant).is_ok(),
                "{schema_name}: `{wire}` gives no Rust name"
            );
            writeln!(
                out,
                "        /// `{wire}` on the wire.\n        {variant} = {wire:?},"
            )
            .unwrap();
        }
        writeln!(out, "    }}\n}}").unwrap();
        emitted.insert(name, values);
    }
    out
}
