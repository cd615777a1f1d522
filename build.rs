//! The one codegen step: `openapi.yaml` → progenitor 0.15.1 → `$OUT_DIR/codegen.rs`.
//!
//! What this does to the spec before progenitor sees it, and why:
//! - Non-2xx responses are removed. They stay documented in `openapi.yaml`, but when progenitor knows an
//!   error schema it decodes error bodies itself, and a body that does not fit (an HTML 502 page, an
//!   empty 401) becomes `InvalidResponsePayload`, which has lost the status code. Without them every
//!   error reaches the handwritten layer as the raw response (status, headers, body) and
//!   `src/error.rs` decodes Hero's error body there.
//!
//! The named schemas listed in `REPLACEMENTS` are replaced by handwritten types: forward-compatible
//! enums (an enum value Hero adds later decodes as `Unknown`), and validated / redacted strings.
//!
//! The generated code is snapshotted by `tests/snapshot.rs`: a spec change shows up as a diff there.

use std::{env, fs, path::Path};

use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::quote;

/// `(schema name in openapi.yaml, Rust type that replaces it)`.
const REPLACEMENTS: &[(&str, &str)] = &[
    // Forward-compatible enums (src/enums.rs).
    ("BatchChannel", "crate::enums::BatchChannel"),
    ("BatchMessageStatus", "crate::enums::BatchMessageStatus"),
    ("BatchSendStatus", "crate::enums::BatchSendStatus"),
    ("DeliveryStatus", "crate::enums::DeliveryStatus"),
    ("EnrichmentStatus", "crate::enums::EnrichmentStatus"),
    ("MessageType", "crate::enums::MessageType"),
    ("PatientTitle", "crate::enums::PatientTitle"),
    ("TemplateLink", "crate::enums::TemplateLink"),
    ("TemplateType", "crate::enums::TemplateType"),
    ("WriteToRecordStatus", "crate::enums::WriteToRecordStatus"),
    // Validated request values (src/validate.rs) and redacted patient data (src/redact.rs).
    ("PatientId", "crate::validate::PatientId"),
    ("NhsNumber", "crate::validate::NhsNumber"),
    ("MessageText", "crate::validate::MessageText"),
    ("ContactDetail", "crate::validate::ContactDetail"),
    ("SnomedCode", "crate::validate::SnomedCode"),
    ("SensitiveText", "crate::redact::Sensitive"),
    // Response ids documented with `^\d+$`: decoded as plain strings so one odd id cannot fail a page.
    ("NumericId", "::std::string::String"),
];

fn main() {
    println!("cargo:rerun-if-changed=openapi.yaml");
    println!("cargo:rerun-if-changed=build.rs");

    let text = fs::read_to_string("openapi.yaml").expect("read openapi.yaml");
    let mut spec: openapiv3::OpenAPI = serde_yaml::from_str(&text).expect("parse openapi.yaml");
    strip_error_responses(&mut spec);

    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_inner_type(quote!(crate::client::ClientState))
        .with_hooks(HooksMode::Expected)
        .with_derive("PartialEq");
    for (schema, rust_type) in REPLACEMENTS {
        let impls = [TypeImpl::Display, TypeImpl::FromStr];
        settings.with_replacement(*schema, *rust_type, impls.into_iter());
    }

    let tokens = Generator::new(&settings)
        .generate_tokens(&spec)
        .unwrap_or_else(|e| panic!("progenitor could not generate the client: {e}"));
    let file: syn::File = syn::parse2(tokens).expect("progenitor emitted invalid Rust");
    let code = prettyplease::unparse(&file);

    let out = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("codegen.rs");
    fs::write(out, code).expect("write codegen.rs");
}

/// Remove every response that is not a 2xx from every operation (see the module docs).
fn strip_error_responses(spec: &mut openapiv3::OpenAPI) {
    for (_, item) in spec.paths.paths.iter_mut() {
        let openapiv3::ReferenceOr::Item(item) = item else {
            continue;
        };
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for op in ops.into_iter().flatten() {
            op.responses.default = None;
            op.responses.responses.retain(|code, _| match code {
                openapiv3::StatusCode::Code(c) => (200..300).contains(c),
                openapiv3::StatusCode::Range(r) => *r == 2,
            });
        }
    }
}
