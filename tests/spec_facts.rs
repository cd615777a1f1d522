//! The facts build.rs derives from `openapi.yaml` (enum values, the operation table, which lists
//! are paged) read back against the spec itself, so that a spec edit flows to the client, the mock
//! and the CLI with no other edit. The walkthrough is in the guide ("How it is built", `src/guide/architecture.md`).

mod support;

use std::collections::BTreeMap;

use herohealth::spec::OPERATIONS;
use serde_yaml::Value;

fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
        .expect("read openapi.yaml");
    serde_yaml::from_str(&text).expect("parse openapi.yaml")
}

/// `schema name -> its enum values (nulls left out)` for every schema build.rs turns into an enum.
fn enum_schemas(spec: &Value) -> BTreeMap<String, Vec<String>> {
    let schemas = spec["components"]["schemas"].as_mapping().unwrap();
    schemas
        .iter()
        .filter(|(_, s)| {
            s["x-herohealth-rust-type"]
                .as_str()
                .is_some_and(|t| t.starts_with("crate::enums::"))
        })
        .map(|(name, s)| {
            let values = s["enum"].as_sequence().expect("an enum: list");
            let values = values.iter().filter_map(|v| v.as_str().map(str::to_owned));
            (name.as_str().unwrap().to_owned(), values.collect())
        })
        .collect()
}

#[test]
fn every_enum_lists_exactly_the_values_of_its_schema() {
    // The Rust types' own lists (OpenEnum::KNOWN_WIRE, by type name), from the generated table.
    let rust: BTreeMap<&str, &[&str]> = herohealth::OPEN_ENUMS.iter().copied().collect();
    let spec = enum_schemas(&spec());
    // A `NullableX` schema is `Option<X>`: the type is `X`.
    let by_type: BTreeMap<String, &Vec<String>> = spec
        .iter()
        .map(|(name, values)| (name.trim_start_matches("Nullable").to_owned(), values))
        .collect();
    assert_eq!(
        by_type.keys().map(String::as_str).collect::<Vec<_>>(),
        rust.keys().copied().collect::<Vec<_>>(),
        "every enum schema of openapi.yaml has a Rust type"
    );
    for (name, values) in &by_type {
        assert_eq!(rust[name.as_str()], values.as_slice(), "{name}");
    }
    // Each value parses back to a known value and prints as the spec spells it.
    fn round_trip<T: herohealth::OpenEnum + PartialEq>() {
        for v in T::known() {
            assert_eq!(&v.wire().parse::<T>().unwrap(), v, "{}", T::NAME);
        }
    }
    round_trip::<herohealth::MessageType>();
    round_trip::<herohealth::DeliveryStatus>();
}

#[test]
fn the_operation_table_is_the_spec_and_paged_lists_are_the_ones_with_page_index() {
    let spec = spec();
    let mut from_spec = Vec::new();
    for (path, item) in spec["paths"].as_mapping().unwrap() {
        for (method, op) in item.as_mapping().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            let paged = op["parameters"]
                .as_sequence()
                .into_iter()
                .flatten()
                .any(|p| {
                    p["$ref"]
                        .as_str()
                        .is_some_and(|r| r.ends_with("/PageIndex"))
                        || p["name"] == "page_index"
                });
            let snake: String = id
                .chars()
                .flat_map(|c| {
                    let lower = c.to_ascii_lowercase();
                    (c.is_ascii_uppercase().then_some('_').into_iter()).chain([lower])
                })
                .collect();
            from_spec.push((
                snake,
                method.as_str().unwrap().to_ascii_uppercase(),
                path.as_str().unwrap().to_owned(),
                paged,
            ));
        }
    }
    let mut generated: Vec<_> = OPERATIONS
        .iter()
        .map(|o| {
            (
                o.id.to_owned(),
                o.method.to_owned(),
                o.path.to_owned(),
                o.paged,
            )
        })
        .collect();
    generated.sort();
    from_spec.sort();
    assert_eq!(generated, from_spec);
    assert_eq!(OPERATIONS.iter().filter(|o| o.paged).count(), 4);
}

#[test]
fn the_shared_operation_table_of_the_tests_covers_every_operation() {
    let mut tested: Vec<_> = support::every_operation().iter().map(|o| o.name).collect();
    let mut all: Vec<_> = OPERATIONS.iter().map(|o| o.id).collect();
    tested.sort_unstable();
    all.sort_unstable();
    assert_eq!(tested, all);
    for op in support::every_operation() {
        let spec_op = OPERATIONS.iter().find(|o| o.id == op.name).unwrap();
        assert_eq!(op.send, spec_op.method != "GET", "{}", op.name);
    }
}
