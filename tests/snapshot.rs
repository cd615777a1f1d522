//! The generated client, snapshotted: every change to `openapi.yaml` or `build.rs` shows up here as a
//! reviewable diff. After an intended change: `cargo insta review` (or `INSTA_UPDATE=always cargo test
//! --test snapshot`) and commit `tests/snapshots/`.

#[test]
fn generated_client() {
    let code = include_str!(concat!(env!("OUT_DIR"), "/codegen.rs"));
    insta::assert_snapshot!("generated_client", code);
}

/// The forward-compatible enums build.rs writes from the spec's `enum:` lists (`src/enums.rs`
/// includes them).
#[test]
fn generated_enums() {
    let code = include_str!(concat!(env!("OUT_DIR"), "/enums.rs"));
    insta::assert_snapshot!("generated_enums", code);
}
