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

use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::{format_ident, quote};

fn main() {
    println!("cargo:rerun-if-changed=openapi.yaml");
    println!("cargo:rerun-if-changed=build.rs");

    let text = fs::read_to_string("openapi.yaml").expect("read openapi.yaml");
    let mut spec: openapiv3::OpenAPI = serde_yaml::from_str(&text).expect("parse openapi.yaml");
    strip_error_responses(&mut spec);
    strip_patterns(&mut spec);

    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_inner_type(quote!(crate::client::ClientState))
        .with_hooks(HooksMode::Expected)
        .with_derive("PartialEq");
    for (schema, rust_type) in replacements(&spec) {
        let impls = [TypeImpl::Display, TypeImpl::FromStr];
        settings.with_replacement(schema, rust_type, impls.into_iter());
    }

    let tokens = Generator::new(&settings)
        .generate_tokens(&spec)
        .unwrap_or_else(|e| panic!("progenitor could not generate the client: {e}"));
    let mut file: syn::File = syn::parse2(tokens).expect("progenitor emitted invalid Rust");
    own_the_boundary(&mut file);
    optional_checked_setters(&mut file);
    file.items.push(spec_facts(&text));
    let code = prettyplease::unparse(&file);

    let out = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("codegen.rs");
    fs::write(out, code).expect("write codegen.rs");
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
fn own_the_boundary(file: &mut syn::File) {
    let builder = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "builder" => m.content.as_mut(),
            _ => None,
        })
        .expect("progenitor's builder module");
    let mut wrapped = 0;
    for item in builder.1.iter_mut() {
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
        wrapped += 1;
    }
    assert!(wrapped > 0, "no builder send() was found to wrap");
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
fn spec_facts(text: &str) -> syn::Item {
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
        }
    }
}

/// Lets the setter of an optional checked field (`Option<SnomedCode>`, `Option<ContactDetail>`,
/// an optional enum) take the same inputs as a required one (`"1240751000000100"`, a value, or
/// `None`/`Some(value)`), through `crate::validate::IntoOptional`.
fn optional_checked_setters(file: &mut syn::File) {
    let types = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "types" => m.content.as_mut(),
            _ => None,
        })
        .expect("progenitor's types module");
    let builder = types
        .1
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "builder" => m.content.as_mut(),
            _ => None,
        })
        .expect("typify's builder module");
    for item in builder.1.iter_mut() {
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
