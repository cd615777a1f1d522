//! One fixture per class of issue 41, through the command line a maintainer runs
//! (`cargo xtask diff|check|regen`): each change is reported with the class our generated types
//! give it. Fixtures: `xtask/tests/fixtures/classes/` (`hero.yaml` the snapshot, `ours.yaml` our
//! `openapi.yaml`, one file per change).

use std::{
    path::PathBuf,
    process::{Command, Output},
};

mod common;

use common::fixture;

fn class(name: &str) -> String {
    fixture(&format!("classes/{name}"))
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// `diff --from classes/NAME` against the class fixtures' snapshot and ours, with `extra`.
fn diff(name: &str, extra: &[&str]) -> Output {
    let (from, snapshot, ours, corrections) = (
        class(name),
        class("hero.yaml"),
        class("ours.yaml"),
        class("corrections.yaml"),
    );
    let mut args = vec![
        "diff",
        "--from",
        &from,
        "--snapshot",
        &snapshot,
        "--ours",
        &ours,
        "--corrections",
        &corrections,
    ];
    args.extend_from_slice(extra);
    xtask(&args)
}

/// The text report of `diff` for fixture `name`, checking `--fail-on breaking`'s status agrees.
fn report(name: &str) -> String {
    let o = diff(name, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let strict = diff(name, &["--fail-on", "breaking"]);
    let breaking = !out.contains("\n0 breaking,") && !out.starts_with("0 breaking,");
    assert_eq!(strict.status.code(), Some(i32::from(breaking)), "{out}");
    out
}

#[test]
fn a_response_format_narrowed_under_our_date_time_is_breaking() {
    assert_eq!(
        report("format_narrowed.yaml"),
        "breaking GET /v1/items response 200 data[] sent_at: Hero changed the format from `date-time` to `date` (our `DateTime<Utc>` refuses a `date`)\n\
         breaking POST /v1/items response 200 sent_at: Hero changed the format from `date-time` to `date` (our `DateTime<Utc>` refuses a `date`)\n\
         2 breaking, 0 warning, 0 info; 0 touch our corrections\n"
    );
}

#[test]
fn a_response_string_gaining_a_format_our_string_reads_is_info() {
    assert_eq!(
        report("format_added.yaml"),
        "info     GET /v1/items response 200 data[] created_at: Hero changed the format from none to `date-time` (our `String` reads it)\n\
         info     POST /v1/items response 200 created_at: Hero changed the format from none to `date-time` (our `String` reads it)\n\
         0 breaking, 0 warning, 2 info; 0 touch our corrections\n"
    );
}

#[test]
fn a_response_map_whose_values_widen_past_ours_is_breaking() {
    assert_eq!(
        report("map_values_widened.yaml"),
        "breaking GET /v1/items response 200 data[] labels <additionalProperties>: Hero changed the type from string to integer, string (our `String` refuses an integer)\n\
         breaking POST /v1/items response 200 labels <additionalProperties>: Hero changed the type from string to integer, string (our `String` refuses an integer)\n\
         2 breaking, 0 warning, 0 info; 0 touch our corrections\n"
    );
}

#[test]
fn a_request_closed_to_fields_it_does_not_name_is_info() {
    assert_eq!(
        report("request_closed.yaml"),
        "info     POST /v1/items request body: Hero changed `additionalProperties` from any to `false` (our client sends only the fields it names)\n\
         0 breaking, 0 warning, 1 info; 0 touch our corrections\n"
    );
}

#[test]
fn keywords_written_out_at_their_defaults_are_silent() {
    assert_eq!(
        report("defaults_written_out.yaml"),
        "0 breaking, 0 warning, 0 info; 0 touch our corrections\n"
    );
}

#[test]
fn an_answer_only_under_a_vendor_media_type_breaks_our_accept() {
    assert_eq!(
        report("vendor_media_type.yaml"),
        "breaking GET /v1/items response 200: Hero changed the media type from `application/json` to `application/vnd.herohealth.v2+json` (our client sends `Accept: application/json`, which Hero no longer lists: a server that negotiates answers 406)\n\
         1 breaking, 0 warning, 0 info; 0 touch our corrections\n"
    );
}

/// A fresh directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_snapshot_behind_openapi_yaml_fails_check_and_regen_brings_it_in_step() {
    let dir = Scratch(std::env::temp_dir().join(format!("xtask-classes-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let snapshot = dir.0.join("upstream.yaml");
    std::fs::copy(class("behind.yaml"), &snapshot).unwrap();
    let snap = snapshot.to_string_lossy().into_owned();
    let (ours, corrections) = (class("ours.yaml"), class("corrections.yaml"));
    let paths = [
        "--snapshot",
        snap.as_str(),
        "--ours",
        ours.as_str(),
        "--corrections",
        corrections.as_str(),
    ];
    let check = || xtask(&[&["check", "--corrections-only"][..], &paths].concat());

    let o = check();
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("not in the snapshot: POST /v1/items (createItem)\n"),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).starts_with(&format!(
            "error: 1 operation(s) of {ours} not in {snap} (run `cargo xtask regen`, or mark each there under x-herohealth-ours-alone with why)"
        )),
        "{}",
        stderr(&o)
    );

    // diff says what happened: the snapshot was behind, not that Hero added the operation.
    let hero = class("hero.yaml");
    let o = xtask(&[&["diff", "--from", hero.as_str()][..], &paths].concat());
    assert_eq!(
        stdout(&o),
        "info     POST /v1/items: spec/upstream.yaml lacked it though openapi.yaml carries it (the snapshot was behind); Hero's description has it, and regen records it\n\
         0 breaking, 0 warning, 1 info; 0 touch our corrections\n"
    );

    let o = xtask(
        &[
            &["regen", "--no-codegen", "--from", hero.as_str()][..],
            &paths,
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = check();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let o = xtask(&[&["diff", "--from", hero.as_str()][..], &paths].concat());
    assert_eq!(
        stdout(&o),
        "0 breaking, 0 warning, 0 info; 0 touch our corrections\n"
    );
}

#[test]
fn an_operation_of_ours_alone_is_marked_with_why_and_the_mark_is_kept_until_hero_has_it() {
    let dir = Scratch(std::env::temp_dir().join(format!("xtask-alone-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let snapshot = dir.0.join("upstream.yaml");
    let behind = std::fs::read_to_string(class("behind.yaml")).unwrap();
    let write = |marks: &str| std::fs::write(&snapshot, format!("{behind}{marks}")).unwrap();
    let snap = snapshot.to_string_lossy().into_owned();
    let (ours, corrections) = (class("ours.yaml"), class("corrections.yaml"));
    let paths = [
        "--snapshot",
        snap.as_str(),
        "--ours",
        ours.as_str(),
        "--corrections",
        corrections.as_str(),
    ];
    let check = || xtask(&[&["check", "--corrections-only"][..], &paths].concat());

    write(
        "x-herohealth-ours-alone:\n  - operation: POST /v1/items\n    why: Hero publishes no description of it.\n",
    );
    let o = check();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));

    write("x-herohealth-ours-alone:\n  - operation: POST /v1/items\n");
    let o = check();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o)
            .contains("mark that does not hold: POST /v1/items: marked ours alone without a why\n"),
        "{}",
        stdout(&o)
    );

    // regen from a description that still lacks it keeps the mark; from one that has it, drops
    // it and says so.
    write(
        "x-herohealth-ours-alone:\n  - operation: POST /v1/items\n    why: Hero publishes no description of it.\n",
    );
    let behind_path = class("behind.yaml");
    let o = xtask(
        &[
            &["regen", "--no-codegen", "--from", behind_path.as_str()][..],
            &paths,
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "0 breaking, 0 warning, 0 info; 0 touch our corrections\n"
    );
    let saved = std::fs::read_to_string(&snapshot).unwrap();
    assert!(
        saved.contains("x-herohealth-ours-alone:\n- operation: POST /v1/items\n  why: Hero publishes no description of it.\n"),
        "{saved}"
    );
    let hero = class("hero.yaml");
    let o = xtask(
        &[
            &["regen", "--no-codegen", "--from", hero.as_str()][..],
            &paths,
        ]
        .concat(),
    );
    assert_eq!(
        stdout(&o),
        "info     POST /v1/items: Hero's description has it now: spec/upstream.yaml no longer marks it ours alone\n\
         0 breaking, 0 warning, 1 info; 0 touch our corrections\n"
    );
    assert!(
        !std::fs::read_to_string(&snapshot)
            .unwrap()
            .contains("ours-alone")
    );
    let o = check();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}
