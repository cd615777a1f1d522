//! Promise 114 of `docs/promises.md`: CI fails if a test secret appears in the test output.
//! `.ci/run` greps everything the tests and examples print for the names test secrets have: an
//! API key is `hero-…test-key…`, a practice group id `practice-…` and a webhook signing key
//! `…test-signing-key…`. A secret named otherwise would slip past that grep, so this test reads
//! every test, example and unit-test source of the workspace (and the signature fixture) and fails
//! on any API key, practice group id or signing key literal that breaks the naming.

mod support;

use std::path::Path;
use support::rust_files;

use regex::Regex;

/// `.ci/run`'s patterns, whole-literal.
const KEY: &str = r"^hero-[a-z0-9-]*test-key[a-z0-9-]*$";
const PRACTICE: &str = r"^practice-[a-z0-9-]+$";
const SIGNING: &str = r"^[a-z0-9-]*test-signing-key[a-z0-9-]*$";

/// Every place a test hands the client or the mock a key or a practice group, as
/// (what, literal, file:line). Doc comments are left out: they are the user's placeholders and
/// print nothing.
fn configured_secrets() -> Vec<(&'static str, String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        "tests",
        "src",
        "examples",
        "benches",
        "mock/tests",
        "mock/src",
        "cli/tests",
        "cli/src",
        "outbox/tests",
        "outbox/src",
    ] {
        rust_files(&root.join(dir), &mut files);
    }
    let lit = r#""([^"]*)""#;
    let forms: Vec<(&str, Regex)> = vec![
        // .api_key("K")            .api_key("K", "P")  (the mock's)
        ("key", Regex::new(&format!(r"\.api_key\(\s*{lit}")).unwrap()),
        (
            "practice",
            Regex::new(&format!(r"\.api_key\(\s*{lit},\s*{lit}")).unwrap(),
        ),
        (
            "practice",
            Regex::new(&format!(r"practice_group_id\(\s*{lit}")).unwrap(),
        ),
        // support::client_for(uri, "K", "P", ..), support::builder_for(uri, "K", "P", ..)
        (
            "key",
            Regex::new(&format!(r"(?:client|builder)_for\([^,]+,\s*{lit}")).unwrap(),
        ),
        (
            "practice",
            Regex::new(&format!(r"(?:client|builder)_for\([^,]+,\s*{lit},\s*{lit}")).unwrap(),
        ),
        // const KEY: &str = "K";   const PRACTICE / GROUP: &str = "P";
        (
            "key",
            Regex::new(&format!(r"const KEY: &str = {lit}")).unwrap(),
        ),
        (
            "practice",
            Regex::new(&format!(r"const (?:PRACTICE|GROUP): &str = {lit}")).unwrap(),
        ),
        // the environment: (ENV_API_KEY, "K"), "HERO_API_KEY" => Some("K"), ("HERO_API_KEY", "K")
        (
            "key",
            Regex::new(&format!(
                r#"(?:ENV_API_KEY|"HERO_API_KEY")\s*(?:,|=>\s*Some\()\s*{lit}"#
            ))
            .unwrap(),
        ),
        (
            "practice",
            Regex::new(&format!(
                r#"(?:ENV_PRACTICE_GROUP_ID|"HERO_PRACTICE_GROUP_ID")\s*(?:,|=>\s*Some\()\s*{lit}"#
            ))
            .unwrap(),
        ),
        // Webhook signing keys: const SIGNING_KEY: &str = "S"; .signing_key("S");
        // let k: SigningKey = "S".parse(); "--signing-key", "S"; "signing_key": "S"
        (
            "signing",
            Regex::new(&format!(r"const SIGNING_KEY: &str = {lit}")).unwrap(),
        ),
        (
            "signing",
            Regex::new(&format!(r"\.signing_key\(\s*{lit}")).unwrap(),
        ),
        (
            "signing",
            Regex::new(&format!(r"SigningKey = {lit}\.parse")).unwrap(),
        ),
        (
            "signing",
            Regex::new(&format!(r#""--signing-key",\s*{lit}"#)).unwrap(),
        ),
        (
            "signing",
            Regex::new(&format!(r#""signing_key":\s*{lit}"#)).unwrap(),
        ),
        // Credentials::new("K", "P")
        (
            "key",
            Regex::new(&format!(r"Credentials::new\(\s*{lit}")).unwrap(),
        ),
        (
            "practice",
            Regex::new(&format!(r"Credentials::new\(\s*{lit},\s*{lit}")).unwrap(),
        ),
    ];
    let mut found = Vec::new();
    // The signature vectors' key (the fixture the Python script writes).
    let fixture = root.join("tests/fixtures/webhook_signatures.json");
    let vectors: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    found.push((
        "signing",
        vectors["key"].as_str().unwrap().to_owned(),
        "tests/fixtures/webhook_signatures.json".to_owned(),
    ));
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.strip_prefix(root).unwrap().display().to_string();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for (what, form) in &forms {
                for c in form.captures_iter(line) {
                    let value = c.get(c.len() - 1).unwrap().as_str().to_owned();
                    found.push((*what, value, format!("{name}:{}", n + 1)));
                }
            }
        }
    }
    found
}

#[test]
fn every_test_secret_is_named_so_the_ci_grep_finds_it() {
    let (key, practice, signing) = (
        Regex::new(KEY).unwrap(),
        Regex::new(PRACTICE).unwrap(),
        Regex::new(SIGNING).unwrap(),
    );
    let found = configured_secrets();
    assert!(
        found.len() > 50,
        "the scan finds the tests' secrets ({} found)",
        found.len()
    );
    let signing_keys = found.iter().filter(|(what, ..)| *what == "signing").count();
    assert!(
        signing_keys >= 8,
        "the scan finds the signing keys ({signing_keys})"
    );
    let misnamed: Vec<_> = found
        .iter()
        .filter(|(what, value, _)| {
            // The documented demo values, shown in README and examples, and the values tests give
            // to show they are refused (empty, with white space): those are never configured.
            let demo = matches!(value.as_str(), "demo-practice" | "hero_test_key")
                || value.is_empty()
                || value.contains(char::is_whitespace);
            let ok = match *what {
                "key" => key.is_match(value),
                "signing" => signing.is_match(value),
                _ => practice.is_match(value),
            };
            !ok && !demo
        })
        .collect();
    assert!(
        misnamed.is_empty(),
        "test secrets .ci/run's grep would not see (name keys hero-…test-key…, practice groups practice-…, signing keys …test-signing-key…):\n{misnamed:#?}"
    );
}

/// The grep's patterns here and in `.ci/run` are the same, so this test's naming is the one the
/// grep looks for.
#[test]
fn the_naming_is_the_one_ci_greps_for() {
    let run =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run")).unwrap();
    assert!(
        run.contains(
            "grep -nE 'hero-[a-z0-9-]*test-key|practice-[a-z0-9]+-?[a-z0-9]*|test-signing-key'"
        ),
        ".ci/run's secret grep changed: update KEY, PRACTICE and SIGNING here"
    );
    let grep = Regex::new("hero-[a-z0-9-]*test-key|practice-[a-z0-9]+-?[a-z0-9]*|test-signing-key")
        .unwrap();
    for secret in configured_secrets()
        .into_iter()
        .map(|(_, v, _)| v)
        .filter(|v| v != "demo-practice" && v != "hero_test_key" && !v.is_empty())
        .filter(|v| !v.contains(char::is_whitespace))
    {
        assert!(grep.is_match(&secret), "{secret}");
    }
}
