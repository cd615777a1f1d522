//! `cargo xtask diff|regen|check` as a maintainer runs them: exit statuses, what is written (and
//! what is not), the provenance header, pure JSON on stdout, bad input refused, `check` failing on
//! fixtures that should fail. HTTP is served on 127.0.0.1 only; nothing is timed.

use std::{
    io::{Read, Write},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Output},
};

mod common;

use common::{fixture, workspace};

/// A fresh directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("xtask-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .unwrap()
}

/// `xtask TASK... --snapshot S --ours O --corrections C EXTRA...`.
fn xtask_on(task: &[&str], [snapshot, ours, corrections]: [&str; 3], extra: &[&str]) -> Output {
    let mut args = task.to_vec();
    args.extend([
        "--snapshot",
        snapshot,
        "--ours",
        ours,
        "--corrections",
        corrections,
    ]);
    args.extend_from_slice(extra);
    xtask(&args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// `diff --from FROM` against the small base and ours.
fn diff(from: &str, extra: &[&str]) -> Output {
    let (snapshot, ours, corrections) = (
        fixture("base.yaml"),
        fixture("ours.yaml"),
        fixture("corrections.yaml"),
    );
    xtask_on(
        &["diff", "--from", from],
        [&snapshot, &ours, &corrections],
        extra,
    )
}

/// `regen --no-codegen --from FROM` into a copy of the small base in `dir`; returns the output and
/// the snapshot's path.
fn regen(dir: &Path, from: &str, extra: &[&str]) -> (Output, PathBuf) {
    let snapshot = dir.join("upstream.yaml");
    if !snapshot.exists() {
        std::fs::copy(fixture("base.yaml"), &snapshot).unwrap();
    }
    let snap = snapshot.to_string_lossy().into_owned();
    let (ours, corrections) = (fixture("ours.yaml"), fixture("corrections.yaml"));
    let o = xtask_on(
        &["regen", "--no-codegen", "--from", from],
        [&snap, &ours, &corrections],
        extra,
    );
    (o, snapshot)
}

#[test]
fn fail_on_breaking_exits_1_for_changes_that_break_sends() {
    for name in [
        "type_changed.yaml",
        "made_required.yaml",
        "request_enum_value_removed.yaml",
        "removed_operation.yaml",
    ] {
        let o = diff(&fixture(name), &["--fail-on", "breaking"]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stdout(&o));
    }
    let o = diff(
        &fixture("new_optional_field.yaml"),
        &["--fail-on", "breaking"],
    );
    assert_eq!(o.status.code(), Some(0), "additions only");
    let o = diff(&fixture("removed_operation.yaml"), &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "without --fail-on the report is informational"
    );
    let o = diff(&fixture("new_enum_value.yaml"), &["--fail-on", "warning"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn reports_in_three_formats_and_json_is_pure_json() {
    let o = diff(&fixture("renamed_field.yaml"), &[]);
    assert!(
        stdout(&o).ends_with("1 breaking, 0 warning, 1 info; 2 touch our corrections\n"),
        "{}",
        stdout(&o)
    );
    let o = diff(&fixture("renamed_field.yaml"), &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("stdout is JSON only");
    assert_eq!(v["changes"][0]["class"], "breaking");
    assert_eq!(v["changes"][0]["touches_correction"], true);
    let o = diff(&fixture("renamed_field.yaml"), &["--format", "markdown"]);
    assert!(
        stdout(&o).starts_with("| class | location | change | correction |"),
        "{}",
        stdout(&o)
    );
    // regen too: "saved ..." goes to stderr.
    let dir = scratch("json");
    let (o, _) = regen(
        &dir,
        &fixture("new_optional_field.yaml"),
        &["--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("stdout is JSON only");
    assert_eq!(
        v["summary"],
        "0 breaking, 0 warning, 2 info; 1 touch our corrections"
    );
    assert!(stderr(&o).contains("saved "), "{}", stderr(&o));
}

#[test]
fn bad_input_is_refused_with_exit_2_and_nothing_written() {
    let cases = [
        (
            "bad/login_page.html",
            "an HTML page, not an OpenAPI description",
        ),
        (
            "bad/empty.yaml",
            "empty document, not an OpenAPI description",
        ),
        (
            "bad/not_openapi.yaml",
            "not an OpenAPI description: no `openapi: 3.x` field",
        ),
        (
            "bad/swagger_2_0.yaml",
            "a Swagger 2.0 description; OpenAPI 3.0 or 3.1 is needed",
        ),
        (
            "bad/no_paths.yaml",
            "an OpenAPI description without paths: there is nothing to compare",
        ),
        (
            "bad/openapi_4.yaml",
            "OpenAPI version 4.0.0 is not supported; 3.0 or 3.1 is needed",
        ),
        ("bad/missing.yaml", "cannot read"),
    ];
    for (name, message) in cases {
        let from = fixture(name);
        let o = diff(&from, &["--fail-on", "breaking"]);
        assert_eq!(o.status.code(), Some(2), "{name}");
        assert_eq!(stdout(&o), "", "{name}: no report");
        assert!(stderr(&o).contains(message), "{name}: {}", stderr(&o));
        let dir = scratch("bad");
        let before = std::fs::read_to_string(fixture("base.yaml")).unwrap();
        for extra in [&[][..], &["--accept-removals"][..]] {
            let (o, snapshot) = regen(&dir, &from, extra);
            assert_eq!(o.status.code(), Some(2), "{name}");
            assert_eq!(
                std::fs::read_to_string(&snapshot).unwrap(),
                before,
                "{name}: the snapshot is untouched"
            );
        }
    }
}

/// Serves one HTTP response on 127.0.0.1; returns the URL.
fn serve_once(status: &str, content_type: &str, body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/openapi.yaml", listener.local_addr().unwrap());
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    });
    url
}

#[test]
fn an_html_page_served_with_200_is_refused() {
    let url = serve_once(
        "200 OK",
        "text/html; charset=utf-8",
        "<!doctype html><html><body>Sign in</body></html>",
    );
    let dir = scratch("http");
    let (o, snapshot) = regen(&dir, &url, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!(
            "error: {url}: an HTML page, not an OpenAPI description (a login or error page, or the docs site?)\n"
        )
    );
    assert_eq!(
        std::fs::read_to_string(snapshot).unwrap(),
        std::fs::read_to_string(fixture("base.yaml")).unwrap()
    );
}

#[test]
fn an_http_error_and_a_network_error_show_their_cause() {
    let url = serve_once("503 Service Unavailable", "text/plain", "down");
    let o = diff(&url, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("503 Service Unavailable"),
        "{}",
        stderr(&o)
    );
    // A port nothing listens on (bound, then closed).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/openapi.yaml");
    let o = diff(&url, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!("error: cannot fetch {url}: ")),
        "{err}"
    );
    assert!(
        err.contains("Connection refused"),
        "the cause is shown: {err}"
    );
}

#[test]
fn regen_saves_hero_s_key_order_under_a_provenance_header() {
    let dir = scratch("regen");
    let from = fixture("new_optional_field.yaml");
    let ours_before = std::fs::read(fixture("ours.yaml")).unwrap();
    let (o, snapshot) = regen(&dir, &from, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), format!("saved {}\n", snapshot.display()));
    let saved = std::fs::read_to_string(&snapshot).unwrap();
    let lines: Vec<&str> = saved.lines().collect();
    assert_eq!(lines[2], format!("# source: {from}"));
    assert!(lines[3].starts_with("# fetched: 20"), "{}", lines[3]);
    assert_eq!(
        lines[4],
        format!(
            "# sha256: {}",
            xtask::input::sha256_hex(&std::fs::read(&from).unwrap())
        )
    );
    assert_eq!(lines[5], "openapi: 3.0.3", "Hero's key order, not sorted");
    let at = |needle: &str| {
        saved
            .find(needle)
            .unwrap_or_else(|| panic!("{needle}: {saved}"))
    };
    assert!(at("operationId: listSentMessages") < at("tags:\n      - Messages"));
    assert!(at("  /v2/sent_messages:") < at("  /v1/messages/send:"));
    assert!(
        !saved.contains("listAppointments"),
        "other tags are left out"
    );
    assert_eq!(
        std::fs::read(fixture("ours.yaml")).unwrap(),
        ours_before,
        "openapi.yaml is never edited"
    );
    // The saved snapshot is the new baseline.
    let snap = snapshot.to_string_lossy().into_owned();
    let o = xtask_on(
        &["diff", "--from", &from],
        [&snap, &fixture("ours.yaml"), &fixture("corrections.yaml")],
        &[],
    );
    assert_eq!(
        stdout(&o),
        "0 breaking, 0 warning, 0 info; 0 touch our corrections\n"
    );
}

#[test]
fn regen_refuses_to_lose_carried_operations_unless_accepted() {
    let dir = scratch("removals");
    let before = std::fs::read_to_string(fixture("base.yaml")).unwrap();
    let from = fixture("removed_operation.yaml");
    let (o, snapshot) = regen(&dir, &from, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!(
            "error: not saved: {} would lose 1 operation(s) we carry (GET /v2/sent_messages); check the source, and if Hero really removed them run again with --accept-removals\n",
            snapshot.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&snapshot).unwrap(), before);
    let (o, _) = regen(&dir, &from, &["--accept-removals"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let saved = std::fs::read_to_string(&snapshot).unwrap();
    assert!(!saved.contains("/v2/sent_messages:"), "{saved}");
}

#[test]
fn regen_saves_nothing_when_fail_on_triggers() {
    let dir = scratch("fail-on");
    let before = std::fs::read_to_string(fixture("base.yaml")).unwrap();
    let (o, snapshot) = regen(
        &dir,
        &fixture("type_changed.yaml"),
        &["--fail-on", "breaking"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).ends_with("1 breaking, 0 warning, 0 info; 0 touch our corrections\n"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        stderr(&o),
        format!(
            "not saved: --fail-on found a change; {} is unchanged\n",
            snapshot.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&snapshot).unwrap(), before);
}

#[test]
fn from_is_relative_to_the_caller_s_directory() {
    let o = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(fixture(""))
        .args([
            "diff",
            "--from",
            "type_changed.yaml",
            "--snapshot",
            "base.yaml",
            "--ours",
            "ours.yaml",
            "--corrections",
            "corrections.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).ends_with("1 breaking, 0 warning, 0 info; 0 touch our corrections\n"),
        "{}",
        stdout(&o)
    );
}

/// `check --corrections-only` of fixture `ours` against the small base: status, stdout, stderr.
fn check(ours: &str, corrections: &str) -> (Option<i32>, String, String) {
    let (ours, snapshot, corrections) = (fixture(ours), fixture("base.yaml"), fixture(corrections));
    let o = xtask_on(
        &["check", "--corrections-only"],
        [&snapshot, &ours, &corrections],
        &[],
    );
    let heading = format!("==> {ours} differs from {snapshot} only where {corrections} says\n");
    let out = stdout(&o);
    let body = out
        .strip_prefix(&heading)
        .unwrap_or_else(|| panic!("{out}"));
    (o.status.code(), body.to_owned(), stderr(&o))
}

#[test]
fn check_passes_when_every_difference_is_recorded() {
    assert_eq!(
        check("ours_checked.yaml", "check_corrections.yaml"),
        (
            Some(0),
            "1 differences, all recorded in 1 corrections\n".to_owned(),
            String::new()
        )
    );
}

#[test]
fn check_fails_on_an_unrecorded_difference_worded_from_our_side() {
    assert_eq!(
        check("ours_drifted.yaml", "check_corrections.yaml"),
        (
            Some(1),
            "unrecorded difference: GET /v2/sent_messages parameter query page_size: the type is string in openapi.yaml, integer in Hero's description\n".to_owned(),
            "error: 1 difference(s) not in the corrections, 0 correction(s) no longer needed\n".to_owned()
        )
    );
}

#[test]
fn check_fails_on_a_correction_no_longer_needed() {
    assert_eq!(
        check("ours.yaml", "check_corrections.yaml"),
        (
            Some(1),
            "correction no longer needed: POST /v1/messages/send request body patient_id\n"
                .to_owned(),
            "error: 0 difference(s) not in the corrections, 1 correction(s) no longer needed\n"
                .to_owned()
        )
    );
}

#[test]
fn the_repository_differs_from_upstream_only_where_its_corrections_say() {
    let o = xtask_on(
        &["check", "--corrections-only"],
        [
            &workspace("spec/upstream.yaml"),
            &workspace("openapi.yaml"),
            &workspace("spec/corrections.yaml"),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn after_a_regen_from_the_3_1_bundle_check_still_passes() {
    // The README's walkthrough on a realistic Hero file: regen reports nothing, and `check` holds.
    let dir = scratch("walkthrough");
    let snapshot = dir.join("upstream.yaml");
    std::fs::copy(workspace("spec/upstream.yaml"), &snapshot).unwrap();
    let snap = snapshot.to_string_lossy().into_owned();
    let (ours, corrections) = (
        workspace("openapi.yaml"),
        workspace("spec/corrections.yaml"),
    );
    let o = xtask_on(
        &[
            "regen",
            "--no-codegen",
            "--fail-on",
            "warning",
            "--from",
            &fixture("hero_bundle_3_1.yaml"),
        ],
        [&snap, &ours, &corrections],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "0 breaking, 0 warning, 0 info; 0 touch our corrections\n"
    );
    let o = xtask_on(
        &["check", "--corrections-only"],
        [&snap, &ours, &corrections],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}

/// `check --docs-only` of `ours`: status, stdout, stderr.
fn check_docs(ours: &str) -> (Option<i32>, String, String) {
    let o = xtask(&["check", "--docs-only", "--ours", ours]);
    (o.status.code(), stdout(&o), stderr(&o))
}

#[test]
fn check_fails_on_a_response_type_or_field_without_a_description() {
    let ours = fixture("undocumented.yaml");
    let (status, out, err) = check_docs(&ours);
    assert_eq!(status, Some(1), "{out}{err}");
    assert_eq!(
        out,
        format!(
            "==> every response type and field of {ours} has a description\n\
             no description: Err.message (reached from GET /v1/items response 400)\n\
             no description: Item (reached from GET /v1/items response 200)\n\
             no description: Item.id (reached from GET /v1/items response 200)\n\
             no description: POST /v1/items response 201 (reached from POST /v1/items response 201)\n\
             no description: POST /v1/items response 201.id (reached from POST /v1/items response 201)\n\
             no description: Page.bare (reached from GET /v1/items response 200)\n"
        )
    );
    assert!(
        err.starts_with("error: 6 response type(s) or field(s) without a description"),
        "{err}"
    );
}

#[test]
fn every_response_type_and_field_of_openapi_yaml_has_a_description() {
    let (status, out, err) = check_docs(&workspace("openapi.yaml"));
    assert_eq!(status, Some(0), "{out}{err}");
}
