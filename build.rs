//! The one codegen step: `openapi.yaml` → progenitor 0.15.1 → `$OUT_DIR/codegen.rs`.
//!
//! What this does to the spec before progenitor sees it, and why:
//! - Non-2xx responses are removed. They stay documented in `openapi.yaml`, but when progenitor knows an
//!   error schema it decodes error bodies itself, and a body that does not fit (an HTML 502 page, an
//!   empty 401) becomes `InvalidResponsePayload`, which has lost the status code. Without them every
//!   error reaches the handwritten layer as the raw response (status, headers, body) and
//!   `src/error.rs` decodes Hero's error body there.
//!
//! - Every `pattern` is removed. Request values that have one are replaced by validating types
//!   (`PatientId`); on responses a pattern would let one odd id fail a whole page of messages.
//!
//! Named schemas with an `x-herohealth-rust-type` extension are replaced by that handwritten type:
//! forward-compatible enums (`crate::enums`: an enum value Hero adds later decodes as `Unknown`),
//! validated request values (`crate::validate`) and redacted patient data (`crate::redact`).
//! `cargo xtask diff` reads the same extension to judge whether a new enum value breaks our users.
//!
//! After generation, every builder's `send()` becomes `send_raw()` (progenitor's own result, documented
//! as unredacted) and a new `send()` returns `herohealth::Result<herohealth::Response<T>>` through
//! `crate::transport::call` (see [`own_the_boundary`]). A `spec` module lists facts of the spec the
//! handwritten layer reads instead of copying them: the property names and the words Hero's error
//! descriptions use (what a redacted excerpt may keep), and the operation table.
//!
//! The generated code is snapshotted by `tests/snapshot.rs`: a spec change shows up as a diff there.

use std::{env, fs, path::Path};

use progenitor::{
    GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl, TypePatch,
};
use quote::{format_ident, quote};

fn main() {
    println!("cargo:rerun-if-changed=openapi.yaml");
    println!("cargo:rerun-if-changed=build.rs");

    let text = fs::read_to_string("openapi.yaml").expect("read openapi.yaml");
    let mut spec: openapiv3::OpenAPI = serde_yaml::from_str(&text).expect("parse openapi.yaml");
    let error_schemas = error_body_schemas(&spec);
    let operations = operation_facts(&spec);
    let enums = open_enums(&spec);
    strip_error_responses(&mut spec);
    strip_patterns(&mut spec);

    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_inner_type(quote!(crate::client::ClientState))
        .with_hooks(HooksMode::Expected)
        .with_derive("PartialEq");
    for name in response_only_schemas(&text) {
        settings.with_patch(name, TypePatch::default().with_attr("#[non_exhaustive]"));
    }
    for (schema, rust_type) in replacements(&spec) {
        let impls = [TypeImpl::Display, TypeImpl::FromStr];
        settings.with_replacement(schema, rust_type, impls.into_iter());
    }

    let tokens = Generator::new(&settings)
        .generate_tokens(&spec)
        .unwrap_or_else(|e| panic!("progenitor could not generate the client: {e}"));
    let mut file: syn::File = syn::parse2(tokens).expect("progenitor emitted invalid Rust");
    let sends = own_the_boundary(&mut file);
    optional_checked_setters(&mut file);
    let (spec_items, paged_impls) = operation_tables(&operations, &sends, &error_schemas);
    file.items.push(spec_facts(&text, spec_items));
    file.items.extend(paged_impls);
    one_client_type(&mut file);
    document_setters(&mut file, &operations);
    let code = rename_client(&prettyplease::unparse(&file));

    let out = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).to_owned();
    fs::write(out.join("codegen.rs"), code).expect("write codegen.rs");
    fs::write(out.join("enums.rs"), enums).expect("write enums.rs");
}

/// `(schema name, Rust type)` for every component schema with `x-herohealth-rust-type`.
fn replacements(spec: &openapiv3::OpenAPI) -> Vec<(String, String)> {
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
fn strip_error_responses(spec: &mut openapiv3::OpenAPI) {
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
fn strip_patterns(spec: &mut openapiv3::OpenAPI) {
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
fn operations_mut(
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

/// Renames every generated `send()` to `send_raw()` and adds a `send()` that returns the crate's
/// `Result<Response<T>>`: the one boundary between progenitor's types and ours, so that it holds for
/// every operation the spec gains.
fn own_the_boundary(file: &mut syn::File) -> std::collections::BTreeMap<String, syn::Type> {
    let builder = module(&mut file.items, "builder");
    let mut sends = std::collections::BTreeMap::new();
    for item in builder.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        let Some(pos) = imp.items.iter().position(
            |i| matches!(i, syn::ImplItem::Fn(f) if f.sig.ident == "send" && f.sig.asyncness.is_some()),
        ) else {
            continue;
        };
        let syn::ImplItem::Fn(raw) = &mut imp.items[pos] else {
            unreachable!()
        };
        let output = response_type(&raw.sig.output)
            .expect("send() returns Result<ResponseValue<T>, Error<()>>");
        let operation = operation_id(&raw.block).expect("send() names its OperationInfo");
        let summary: Vec<syn::Attribute> = raw
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .cloned()
            .collect();
        raw.sig.ident = format_ident!("send_raw");
        raw.attrs.retain(|a| !a.path().is_ident("doc"));
        let warning = "**Unredacted escape hatch.** Sends the request and returns progenitor's own \
            result: its error's `Display` and `Debug` print raw response bodies, which can hold \
            patient data. Use [`send`](Self::send), which returns [`crate::Error`], unless you \
            need progenitor's types and keep their errors out of every log.";
        raw.attrs.push(syn::parse_quote!(#[doc = #warning]));
        let send: syn::ImplItem = syn::parse_quote! {
            #(#summary)*
            ///
            /// Returns the decoded body with its status and headers, or a redacted
            /// [`crate::Error`] that names this operation (see the crate docs on errors).
            pub async fn send(self) -> crate::Result<crate::Response<#output>> {
                crate::transport::context::call(#operation, self.send_raw()).await
            }
        };
        imp.items.insert(pos, send);
        sends.insert(operation, output);
    }
    assert!(!sends.is_empty(), "no builder send() was found to wrap");
    sends
}

/// `T` of `Result<ResponseValue<T>, Error<()>>`.
fn response_type(output: &syn::ReturnType) -> Option<syn::Type> {
    fn first_arg(ty: &syn::Type) -> Option<&syn::Type> {
        let syn::Type::Path(p) = ty else { return None };
        let syn::PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else {
            return None;
        };
        args.args.iter().find_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        })
    }
    let syn::ReturnType::Type(_, ty) = output else {
        return None;
    };
    first_arg(first_arg(ty)?).cloned()
}

/// The `operation_id` literal of the `OperationInfo` a generated `send()` builds.
fn operation_id(block: &syn::Block) -> Option<String> {
    let text = quote!(#block).to_string();
    let rest = &text[text.find("operation_id :")? + "operation_id :".len()..];
    let start = rest.find('"')? + 1;
    let end = start + rest[start..].find('"')?;
    Some(rest[start..end].to_owned())
}

/// `pub mod spec`: facts of `openapi.yaml` the handwritten layer reads instead of copying.
fn spec_facts(text: &str, tables: Vec<syn::Item>) -> syn::Item {
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

/// Lets the setter of an optional checked field (`Option<SnomedCode>`, `Option<ContactDetail>`,
/// an optional enum) take the same inputs as a required one (`"1240751000000100"`, a value, or
/// `None`/`Some(value)`), through `crate::validate::IntoOptional`.
fn optional_checked_setters(file: &mut syn::File) {
    let types = module(&mut file.items, "types");
    let builder = module(types, "builder");
    for item in builder.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        for f in imp.items.iter_mut() {
            let syn::ImplItem::Fn(f) = f else { continue };
            let Some(wc) = f.sig.generics.where_clause.as_mut() else {
                continue;
            };
            let mut rewritten = false;
            for pred in wc.predicates.iter_mut() {
                let text = quote!(#pred).to_string().replace(' ', "");
                let Some(inner) = text
                    .strip_prefix("T:::std::convert::TryInto<::std::option::Option<")
                    .and_then(|t| t.strip_suffix(">>"))
                else {
                    continue;
                };
                if !(inner.starts_with("crate::validate::") || inner.starts_with("crate::enums::"))
                {
                    continue;
                }
                let ty: syn::Type = syn::parse_str(inner).expect("a type path");
                *pred = syn::parse_quote!(T: crate::validate::IntoOptional<#ty>);
                rewritten = true;
            }
            if rewritten {
                let block = &f.block;
                let body = quote!(#block).to_string().replace(
                    "value . try_into ()",
                    "crate :: validate :: IntoOptional :: into_optional (value)",
                );
                f.block = syn::parse_str(&body).expect("the setter's body");
            }
        }
    }
}

/// One operation as `build.rs` read it from the spec.
struct OperationFact {
    /// snake_case operationId (the builder method's name).
    id: String,
    method: String,
    path: String,
    /// `x-herohealth-paged`, when the operation is a paged list.
    paged: Option<Paged>,
    /// `(setter name, docs)` of each parameter, from its `description`, place and required-ness.
    params: Vec<(String, String)>,
}

/// How a paged list's response becomes a page (`x-herohealth-paged` on the operation).
enum Paged {
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

fn snake_case(id: &str) -> String {
    use heck::ToSnakeCase;
    id.to_snake_case()
}

/// Every operation, with the paging facts checked: an operation with a `page_index` parameter must say
/// how its response is paged, so that a new paged list cannot silently lack `.stream()`.
fn operation_facts(spec: &openapiv3::OpenAPI) -> Vec<OperationFact> {
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

fn paged_fact(
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
fn error_body_schemas(spec: &openapiv3::OpenAPI) -> Vec<String> {
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
fn operation_tables(
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
fn open_enums(spec: &openapiv3::OpenAPI) -> String {
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

/// The docs of the one client type (the generated client, renamed `HeroClient`).
const CLIENT_DOC: &str = r#" The Hero client: one method per operation of `openapi.yaml`, each returning a typed request
 builder whose `send()` gives [`crate::Result`]`<`[`crate::Response`]`<T>>`.

 Build it with [`HeroClient::builder`] or [`HeroClient::from_env`]. The handwritten additions are
 inherent methods of this same type: configuration ([`crate::HeroClientBuilder`],
 [`HeroClient::with_timeout`], [`HeroClient::with_retry_policy`]), waiters
 ([`HeroClient::wait_for_delivery`]), registration ([`HeroClient::register_patient`]) and the
 resolution of a send whose outcome is unknown ([`HeroClient::find_send`]). Its `Debug` shows no
 secret. Cloning is cheap and shares the connection pool.

 ```no_run
 use herohealth::{HeroClient, MessageType};

 # async fn run() -> herohealth::Result<()> {
 let hero = HeroClient::from_env()?;
 let sent = hero
     .send_message()
     .body_map(|b| {
         b.patient_id("98765")
             .message_type(MessageType::Sms)
             .message_string("Your test results are ready.")
     })
     .send()
     .await?;
 let status = hero.get_message_status().id(&sent.message_id).send().await?;
 println!("{}", status.status.response);
 # Ok(()) }
 ```"#;

/// progenitor's `Client` becomes the crate's one client type, `HeroClient`: its own docs, no
/// derived `Debug` (the handwritten one shows no secret) and no public constructor that would skip
/// the builder's safety settings (no redirects, https-only off loopback).
fn one_client_type(file: &mut syn::File) {
    let mut found = false;
    for item in file.items.iter_mut() {
        match item {
            syn::Item::Struct(s) if s.ident == "Client" => {
                s.attrs.clear();
                for line in CLIENT_DOC.lines() {
                    s.attrs.push(syn::parse_quote!(#[doc = #line]));
                }
                s.attrs.push(syn::parse_quote!(#[derive(Clone)]));
                found = true;
            }
            syn::Item::Impl(imp)
                if imp.trait_.is_none() && {
                    let ty = &imp.self_ty;
                    quote!(#ty).to_string() == "Client"
                } =>
            {
                imp.items
                    .retain(|i| !matches!(i, syn::ImplItem::Fn(f) if f.sig.ident == "new"));
                for i in imp.items.iter_mut() {
                    if let syn::ImplItem::Fn(f) = i
                        && f.sig.ident == "new_with_client"
                    {
                        f.vis = syn::parse_quote!(pub(crate));
                        f.attrs.retain(|a| !a.path().is_ident("doc"));
                    }
                }
            }
            _ => {}
        }
    }
    assert!(found, "progenitor's `Client` struct");
}

/// Renames the generated `Client` to `HeroClient` in the code and its docs (`reqwest::Client`
/// stays).
fn rename_client(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + 4096);
    let mut rest = code;
    while let Some(at) = rest.find("Client") {
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        let prev = out.chars().next_back();
        let next = after["Client".len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        if !word(prev) && !word(next) && !out.ends_with("reqwest::") {
            out.push_str("HeroClient");
        } else {
            out.push_str("Client");
        }
        rest = &after["Client".len()..];
    }
    out.push_str(rest);
    out
}

/// Docs on every request builder's setters (progenitor writes none): each parameter's
/// `description` from the spec with its place and whether it is required, and what `body` and
/// `body_map` take.
fn document_setters(file: &mut syn::File, operations: &[OperationFact]) {
    use heck::ToUpperCamelCase;
    let builder = module(&mut file.items, "builder");
    for item in builder.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        let ty = &imp.self_ty;
        let ty = quote!(#ty).to_string().replace(' ', "");
        let Some(op) = operations
            .iter()
            .find(|o| ty == format!("{}<'a>", o.id.to_upper_camel_case()))
        else {
            continue;
        };
        for f in imp.items.iter_mut() {
            let syn::ImplItem::Fn(f) = f else { continue };
            let name = f.sig.ident.to_string();
            if f.attrs.iter().any(|a| a.path().is_ident("doc")) {
                continue;
            }
            let doc = match name.as_str() {
                "new" => "A request with nothing set; prefer the client's method of the same \
                    operation."
                    .to_owned(),
                "body" => "The request body, whole: a value of the body type or its builder \
                    (`types::builder::...`)."
                    .to_owned(),
                "body_map" => "Sets the request body's fields through its builder: \
                    `.body_map(|b| b.field(value))`. Fields the builder checks (NHS numbers, \
                    patient ids, SNOMED codes, contact details) fail `send()` with an error that \
                    names the field, before anything is sent."
                    .to_owned(),
                _ => match op.params.iter().find(|(setter, _)| *setter == name) {
                    Some((_, doc)) => doc.clone(),
                    None => continue,
                },
            };
            for line in doc.lines() {
                let line = format!(" {line}");
                f.attrs.push(syn::parse_quote!(#[doc = #line]));
            }
        }
    }
}

/// Component schemas that only responses use (never a request body or parameter, directly or
/// through a `$ref`): the types users receive but never build. They get `#[non_exhaustive]`, so
/// that an optional field Hero adds later is not a breaking change for anyone.
fn response_only_schemas(text: &str) -> Vec<String> {
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

/// The items of the inline module `name` among `items` (progenitor's `builder` and `types`,
/// typify's `types::builder`).
fn module<'a>(items: &'a mut [syn::Item], name: &str) -> &'a mut Vec<syn::Item> {
    items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the generated `{name}` module"))
}
