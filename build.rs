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
//! The generated code is snapshotted by `tests/snapshot.rs`: a spec change shows up as a diff there.

use std::{env, fs, path::Path};

use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::quote;

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
    let file: syn::File = syn::parse2(tokens).expect("progenitor emitted invalid Rust");
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
