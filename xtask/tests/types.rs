//! `xtask::rust`, our model of the generated types that `diff` classifies changes by, is held to
//! the generated code itself: for every field of every struct build.rs generates from
//! `openapi.yaml`'s component schemas (`tests/snapshots/snapshot__generated_client.snap`), the
//! model gives the same Rust type (a `DateTime<Utc>`, an `i64` or `NonZeroU64`, a replacement type,
//! a `Vec`, a generated type of its own) and the same `Option`-ness.

use quote::ToTokens;
use xtask::{
    load,
    normal::norm,
    rust::{self, Field, Shape, Text},
};

mod common;

use common::workspace;

/// The generated module `types` of the snapshot.
fn generated_types() -> Vec<syn::Item> {
    let snap =
        std::fs::read_to_string(workspace("tests/snapshots/snapshot__generated_client.snap"))
            .unwrap();
    // insta's header: `---`, its fields, `---`.
    let code = snap.splitn(3, "---\n").nth(2).expect("an insta snapshot");
    let file = syn::parse_file(code).expect("the snapshot is Rust");
    file.items
        .into_iter()
        .find_map(|i| match i {
            syn::Item::Mod(m) if m.ident == "types" => m.content.map(|(_, items)| items),
            _ => None,
        })
        .expect("pub mod types")
}

/// A type as text, without spaces or the paths of the standard crates.
fn plain(ty: &syn::Type) -> String {
    let mut text = ty
        .to_token_stream()
        .to_string()
        .replace(' ', "")
        .replace(",>", ">");
    for prefix in [
        "::std::option::",
        "::std::string::",
        "::std::vec::",
        "::std::collections::",
        "::std::num::",
        "::chrono::offset::",
        "::chrono::naive::",
        "::chrono::",
        "::uuid::",
        "::serde_json::",
    ] {
        text = text.replace(prefix, "");
    }
    text
}

/// The JSON name of a field: its `#[serde(rename = "...")]`, else its name.
fn json_name(f: &syn::Field) -> String {
    for attr in &f.attrs {
        if attr.path().is_ident("serde") {
            let text = attr.to_token_stream().to_string();
            if let Some(rest) = text.split("rename = \"").nth(1) {
                return rest.split('"').next().unwrap_or_default().to_owned();
            }
        }
    }
    f.ident.as_ref().unwrap().to_string()
}

/// What the model says the field's type is: `Some(text)` for a type named by the model (a
/// builtin or a replacement), `None` for a type generated under a name of its own.
fn expected(model: &rust::Rust) -> Option<String> {
    if model.name.starts_with("crate::") {
        return Some(model.name.clone());
    }
    match &model.shape {
        Shape::Text(Text::Any {
            min: None,
            max: None,
        }) => Some("String".to_owned()),
        Shape::Text(Text::Format(_)) => Some(model.name.clone()),
        Shape::Integer { .. } | Shape::Number | Shape::Bool => Some(model.name.clone()),
        Shape::Any => Some("Value".to_owned()),
        _ => None,
    }
}

#[test]
fn our_types_are_the_generated_ones() {
    let doc = load(&workspace("openapi.yaml")).unwrap().json;
    let items = generated_types();
    let mut checked = 0;
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        let whole = rust::of(&doc, schema, Field::Not);
        if !matches!(whole.shape, Shape::Struct { .. }) {
            continue;
        }
        let find = |wanted: &str| {
            items.iter().find_map(|i| match i {
                syn::Item::Struct(s) if s.ident == wanted => Some(s),
                _ => None,
            })
        };
        let Some(mut item) = find(name) else {
            continue;
        };
        // A nullable object is a newtype of an `Option` of its `...Inner` struct.
        if let syn::Fields::Unnamed(fields) = &item.fields {
            let ty = plain(&fields.unnamed[0].ty);
            assert_eq!(ty, format!("Option<{name}Inner>"), "{name}");
            assert!(
                whole.reads_null,
                "{name}: {ty}, but the model reads no null"
            );
            item = find(&format!("{name}Inner")).unwrap();
        }
        let denies = item.attrs.iter().any(|a| {
            a.to_token_stream()
                .to_string()
                .contains("deny_unknown_fields")
        });
        assert_eq!(
            denies,
            whole.unknown() == Some(rust::Unknown::Refused),
            "{name}: deny_unknown_fields"
        );
        let n = norm(&doc, schema);
        for f in &item.fields {
            let key = json_name(f);
            let Some(prop) = n.properties.get(&key) else {
                panic!("{name}.{key}: a field the model has no property for");
            };
            let field = if n.required.contains(&key) {
                Field::Required
            } else {
                Field::Optional
            };
            let model = rust::of(&doc, prop, field);
            let ty = plain(&f.ty);
            let (optional, inner) = match ty.strip_prefix("Option<") {
                Some(rest) => (true, rest.strip_suffix('>').unwrap().to_owned()),
                None => (false, ty.clone()),
            };
            let named = !inner.contains("::") && !inner.contains('<') && {
                let generic = ["String", "Value", "bool", "f64", "f32"];
                !generic.contains(&inner.as_str())
                    && !inner.starts_with(['i', 'u'])
                    && !inner.starts_with("NonZero")
                    && !inner.starts_with("DateTime")
                    && !inner.starts_with("NaiveDate")
                    && !inner.starts_with("Uuid")
            };
            if optional {
                assert!(
                    model.reads_null,
                    "{name}.{key}: {ty}, but the model reads no null"
                );
            } else if !named && !model.name.starts_with("crate::") {
                // (A replacement of a nullable schema reads null itself: `NullablePatientTitle`.)
                assert!(
                    !model.reads_null,
                    "{name}.{key}: {ty}, but the model reads null"
                );
            }
            match expected(&model) {
                Some(text) => assert_eq!(inner, text, "{name}.{key}"),
                None => assert!(
                    named || inner.starts_with("Vec<") || inner.starts_with("HashMap<"),
                    "{name}.{key}: {ty} for the model's {}",
                    model.name
                ),
            }
            if let Shape::Array { .. } = model.shape {
                assert!(inner.starts_with("Vec<") || named, "{name}.{key}: {ty}");
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} fields checked");
}
