//! The house a newcomer reads: the README stays a front door, and every page of the guide is built
//! (so its examples run as doctests), reachable from the README, and where `docs/promises.md`
//! says a promise is made.

use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The guide's pages: every `src/guide/*.md`.
fn pages() -> BTreeSet<String> {
    let pages: BTreeSet<String> = std::fs::read_dir(root().join("src/guide"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(".md").map(str::to_owned))
        .collect();
    assert!(pages.len() >= 10, "the guide has its pages: {pages:?}");
    pages
}

#[test]
fn the_readme_is_a_front_door() {
    let readme = read("README.md");
    let lines = readme.lines().count();
    assert!(
        lines <= 250,
        "README.md has {lines} lines: the rest belongs in a page of the guide (src/guide/)"
    );
    for must in [
        "## Install",
        "## The first send",
        "## The two commands",
        "cargo test --workspace",
        "## Where each topic is explained",
        "## The crates",
    ] {
        assert!(readme.contains(must), "README.md lacks {must:?}");
    }
}

#[test]
fn every_page_of_the_guide_is_built_and_linked_from_the_readme() {
    let module = read("src/guide/mod.rs");
    let readme = read("README.md");
    for page in pages() {
        // Included as a module's docs: rustdoc renders it and runs its examples as doctests.
        assert!(
            module.contains(&format!(
                "#[doc = include_str!(\"{page}.md\")]\npub mod {page} {{}}"
            )),
            "src/guide/{page}.md is not a module of src/guide/mod.rs: its examples would not run"
        );
        assert!(
            module.contains(&format!("[`{page}`]")),
            "src/guide/mod.rs's table does not list {page}"
        );
        assert!(
            readme.contains(&format!("(src/guide/{page}.md)")),
            "README.md does not link src/guide/{page}.md"
        );
    }
}

#[test]
fn every_page_docs_promises_names_exists() {
    let promises = read("docs/promises.md");
    let pages = pages();
    let named: BTreeSet<&str> = promises
        .split("src/guide/")
        .skip(1)
        .filter_map(|rest| rest.split_once(".md").map(|(page, _)| page))
        .filter(|page| *page != "*")
        .collect();
    assert!(
        !named.is_empty(),
        "docs/promises.md names the guide's pages"
    );
    for page in named {
        assert!(
            pages.contains(page),
            "docs/promises.md names src/guide/{page}.md, which does not exist"
        );
    }
}
