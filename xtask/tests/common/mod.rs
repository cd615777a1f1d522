//! Paths shared by the integration tests (each test file uses some of them).
#![allow(dead_code)]

use std::path::PathBuf;

/// A file under xtask/tests/fixtures.
pub fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// A file of the workspace (`openapi.yaml`, `spec/upstream.yaml`).
pub fn workspace(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Edits of a description's text: `(from, to)`, each `from` found exactly once.
pub type Edits<'a> = &'a [(&'a str, &'a str)];

/// The empty report.
pub const NOTHING: &str = "0 breaking, 0 warning, 0 info; 0 touch our corrections\n";

/// `text` with each `(from, to)` replaced; each `from` must occur exactly once.
pub fn edit(text: &str, edits: Edits) -> String {
    let mut out = text.to_owned();
    for (from, to) in edits {
        assert_eq!(out.matches(from).count(), 1, "{from:?} must occur once");
        out = out.replace(from, to);
    }
    out
}

/// A fixture's text.
pub fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

/// The report from `base.yaml` + `both` to `base.yaml` + `both` + `new`, judged by `ours.yaml` +
/// `ours`.
pub fn diff(both: Edits, new: Edits, ours: Edits) -> String {
    let old = edit(&read("base.yaml"), both);
    let new = edit(&old, new);
    let ours = xtask::parse(&edit(&read("ours.yaml"), ours)).unwrap().1;
    let corrections: Vec<xtask::Correction> =
        serde_yaml::from_str(&read("corrections.yaml")).unwrap();
    let (old, new) = (xtask::parse(&old).unwrap().0, xtask::parse(&new).unwrap().0);
    xtask::report(
        &xtask::sync(&old, &new, &ours, &corrections).changes,
        xtask::Format::Text,
    )
}
