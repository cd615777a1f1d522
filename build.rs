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
use quote::quote;

#[path = "build/facts.rs"]
mod facts;
#[path = "build/prepare.rs"]
mod prepare;
#[path = "build/reshape.rs"]
mod reshape;

use facts::*;
use prepare::*;
use reshape::*;

fn main() {
    println!("cargo:rerun-if-changed=openapi.yaml");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");

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
    name_setter_errors(&mut file);
    document_type_builders(&mut file);
    let code = rename_client(&prettyplease::unparse(&file));

    let out = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).to_owned();
    fs::write(out.join("codegen.rs"), code).expect("write codegen.rs");
    fs::write(out.join("enums.rs"), enums).expect("write enums.rs");
}
