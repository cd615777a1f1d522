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
//! validated request values (`crate::validate`) and redacted patient data (`crate::Sensitive`).
//! An id schema (`x-herohealth-id`) becomes `String`, and its declared form a `crate::ids` static
//! that every `Debug`, error and `hero` shows that kind of id through.
//! `cargo xtask diff` reads the same extension to judge whether a new enum value breaks our users.
//!
//! After generation, the seam (`build/seam.rs`): every builder's `send()` is cut at the statement
//! that builds the `reqwest::Request`; that part becomes a private `into_request()`, and a new
//! `send()` hands the request and its typed body to `crate::transport::execute`, which runs it. A
//! `spec` module lists facts of the spec the handwritten layer reads instead of copying them (see
//! `build/facts.rs`). `openapi.yaml` is read once (`build/model.rs`); every rewrite of progenitor's
//! output is typed (syn) and counted, so one that stops matching fails the build.
//!
//! The generated code is snapshotted by `tests/snapshot.rs`: a spec change shows up as a diff there.

use std::{env, fs, path::Path};

use progenitor::{
    GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl, TypePatch,
};
use quote::quote;

#[path = "build/debug.rs"]
mod debug;
#[path = "build/dialect.rs"]
mod dialect;
#[path = "build/facts.rs"]
mod facts;
#[path = "build/model.rs"]
mod model;
#[path = "build/operations.rs"]
mod operations;
#[path = "build/prepare.rs"]
mod prepare;
#[path = "build/refusal.rs"]
mod refusal;
#[path = "build/reshape.rs"]
mod reshape;
#[path = "build/seam.rs"]
mod seam;

fn main() {
    println!("cargo:rerun-if-changed=openapi.yaml");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");

    let text = fs::read_to_string("openapi.yaml").expect("read openapi.yaml");
    let model = model::Model::read(&text);

    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_inner_type(quote!(crate::state::ClientState))
        // The crate runs every request itself (`crate::transport::execute`): progenitor's hooks
        // are not used, and `seam::private_plumbing` removes their default impl.
        .with_hooks(HooksMode::Optional)
        .with_derive("PartialEq");
    for name in model.response_only_schemas() {
        settings.with_patch(name, TypePatch::default().with_attr("#[non_exhaustive]"));
    }
    for (schema, rust_type) in model.replacements() {
        let impls = [TypeImpl::Display, TypeImpl::FromStr];
        settings.with_replacement(schema, rust_type, impls.into_iter());
    }

    let tokens = Generator::new(&settings)
        .generate_tokens(&model.for_progenitor())
        .unwrap_or_else(|e| panic!("progenitor could not generate the client: {e}"));
    let mut file: syn::File = syn::parse2(tokens).expect("progenitor emitted invalid Rust");
    let sends = seam::cut_requests(&mut file, &model);
    seam::private_plumbing(&mut file);
    reshape::optional_checked_setters(&mut file);
    file.items.push(facts::spec_module(&model, &sends));
    file.items.push(facts::decoders(&model, &sends));
    file.items.extend(facts::paged_impls(&model, &sends));
    reshape::one_client_type(&mut file);
    reshape::document_setters(&mut file, &model.operations);
    reshape::operation_examples(&mut file, &model.operations);
    seam::private_builder_constructors(&mut file, model.operations.len());
    refusal::typed_refusals(&mut file);
    reshape::document_type_builders(&mut file);
    debug::shown_and_debug(&mut file, &model.patient_data(), &model.id_fields());
    assert!(
        seam::rename_client(&mut file) > 0,
        "progenitor's `Client` renamed"
    );
    let code = prettyplease::unparse(&file);

    let out = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).to_owned();
    fs::write(out.join("codegen.rs"), code).expect("write codegen.rs");
    fs::write(out.join("enums.rs"), facts::open_enums(&model)).expect("write enums.rs");
    fs::write(out.join("ids.rs"), facts::id_forms(&model)).expect("write ids.rs");
}
