//! The diff engine on fixture descriptions: the report lists exactly the changes made, each with
//! the right class, and `--fail-on breaking` exits non-zero only when one is breaking.

use std::{path::PathBuf, process::Command};

use serde_json::Value;
use xtask::{Class, diff, load, operations, subset};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn doc(name: &str) -> Value {
    load(&fixture(name)).unwrap()
}

/// `(class, location, message)` of every change from the base to `name`, as our client sees it.
fn changes(name: &str) -> Vec<(Class, String, String)> {
    let ours = doc("ours.yaml");
    let old = subset(&doc("base.yaml"), &ours);
    let new = subset(&doc(name), &ours);
    diff(&old, &new, Some(&ours))
        .into_iter()
        .map(|c| (c.class, c.location, c.message))
        .collect()
}

fn c(class: Class, location: &str, message: &str) -> (Class, String, String) {
    (class, location.to_owned(), message.to_owned())
}

#[test]
fn the_subset_keeps_only_our_operations_and_what_they_use() {
    let ours = doc("ours.yaml");
    let s = subset(&doc("base.yaml"), &ours);
    let ops: Vec<_> = operations(&s).into_iter().collect();
    assert_eq!(
        ops,
        vec![
            ("GET".to_owned(), "/v2/sent_messages".to_owned()),
            ("POST".to_owned(), "/v1/messages/send".to_owned())
        ]
    );
    assert!(s["components"]["schemas"].get("SentMessage").is_some());
    assert!(
        s["components"]["schemas"].get("Appointment").is_none(),
        "other tags' schemas are dropped"
    );
    assert!(diff(&s, &s, Some(&ours)).is_empty(), "no change, no report");
}

#[test]
fn a_renamed_field() {
    assert_eq!(
        changes("renamed_field.yaml"),
        vec![
            c(
                Class::Breaking,
                "GET /v2/sent_messages response 200 data[] sent_by",
                "required property removed"
            ),
            c(
                Class::Info,
                "GET /v2/sent_messages response 200 data[] sender",
                "property added"
            ),
        ]
    );
}

#[test]
fn new_enum_values_are_judged_by_our_types() {
    assert_eq!(
        changes("new_enum_value.yaml"),
        vec![
            c(
                Class::Breaking,
                "POST /v1/messages/send response 200 link",
                "enum value `form` added"
            ),
            c(
                Class::Warning,
                "GET /v2/sent_messages response 200 data[] status",
                "enum value `bounced` added (our client decodes it as Unknown)"
            ),
            c(
                Class::Info,
                "POST /v1/messages/send request body message_type",
                "enum value `nhs_app` added"
            ),
        ]
    );
}

#[test]
fn a_removed_operation() {
    assert_eq!(
        changes("removed_operation.yaml"),
        vec![c(
            Class::Breaking,
            "GET /v2/sent_messages",
            "operation removed"
        )]
    );
}

#[test]
fn new_optional_fields_in_yaml_and_json() {
    let expected = vec![
        c(
            Class::Info,
            "GET /v2/sent_messages response 200 data[] read_at",
            "property added",
        ),
        c(
            Class::Info,
            "POST /v1/messages/send request body priority",
            "property added",
        ),
    ];
    assert_eq!(changes("new_optional_field.yaml"), expected);
    assert_eq!(changes("new_optional_field.json"), expected);
}

fn run_diff(name: &str, extra: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "diff",
            "--from",
            &fixture(name),
            "--snapshot",
            &fixture("base.yaml"),
            "--ours",
            &fixture("ours.yaml"),
        ])
        .args(["--corrections", &fixture("corrections.yaml")])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn fail_on_breaking_exits_non_zero_only_for_a_breaking_change() {
    assert_eq!(
        run_diff("new_optional_field.yaml", &["--fail-on", "breaking"]).0,
        0
    );
    assert_eq!(
        run_diff("removed_operation.yaml", &["--fail-on", "breaking"]).0,
        1
    );
    assert_eq!(
        run_diff("removed_operation.yaml", &[]).0,
        0,
        "without --fail-on the report is informational"
    );
    let (code, _) = run_diff("new_enum_value.yaml", &["--fail-on", "warning"]);
    assert_eq!(code, 1);
}

#[test]
fn reports_in_three_formats_and_corrections_flagged() {
    let (_, text) = run_diff("renamed_field.yaml", &[]);
    assert!(
        text.contains(
            "breaking GET /v2/sent_messages response 200 data[] sent_by: required property removed"
        ),
        "{text}"
    );
    assert!(
        text.contains("[touches a correction: review by hand]"),
        "{text}"
    );
    assert!(
        text.ends_with("1 breaking, 0 warning, 1 info; 2 touch our corrections\n"),
        "{text}"
    );
    let (_, json) = run_diff("renamed_field.yaml", &["--format", "json"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["changes"][0]["class"], "breaking");
    assert_eq!(v["changes"][0]["touches_correction"], true);
    let (_, md) = run_diff("renamed_field.yaml", &["--format", "markdown"]);
    assert!(
        md.starts_with("| class | location | change | correction |"),
        "{md}"
    );
}
