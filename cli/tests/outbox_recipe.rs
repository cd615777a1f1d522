//! The guide's recipe for trying workers (src/guide/workers.md, "Try it: three workers on one
//! journal, from nothing"), run as written: its shell block, line by line, with `hero` on the
//! PATH, in an empty directory. Only its first line (installing PostgreSQL's package) is checked
//! rather than run. Without PostgreSQL's binaries it prints a loud line (and fails under
//! `HEROHEALTH_REQUIRE_POSTGRES`).

use std::process::Command;

/// The recipe's shell block, as the guide has it.
fn recipe() -> Vec<String> {
    let page = include_str!("../../src/guide/workers.md");
    let section = page
        .split("## Try it: three workers on one journal, from nothing")
        .nth(1)
        .expect("the guide's recipe section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the recipe's shell block");
    block.lines().map(str::to_owned).collect()
}

#[test]
fn the_guides_recipe_runs_three_workers_from_nothing() {
    let lines = recipe();
    assert!(
        lines[0].starts_with("sudo apt-get install postgresql"),
        "the recipe starts by installing PostgreSQL: {lines:?}"
    );
    if herohealth_outbox::testing::binaries().is_none() {
        let line = "!!!!! SKIPPED: cli/tests/outbox_recipe.rs: the PostgreSQL server binaries (Debian package `postgresql`) are not installed, so the guide's recipe was NOT run !!!!!";
        if std::env::var_os("HEROHEALTH_REQUIRE_POSTGRES")
            .is_some_and(|v| v != "0" && !v.is_empty())
        {
            panic!("{line}");
        }
        eprintln!("{line}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    #[cfg(unix)]
    {
        // As root the recipe's PostgreSQL runs as `nobody`, which must reach its directory.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let hero = std::path::PathBuf::from(env!("CARGO_BIN_EXE_hero"));
    let path = format!(
        "{}:{}",
        hero.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Whatever happens, the mock and the database the recipe started are stopped.
    let script = format!(
        "set -e\ntrap 'hero outbox local-db stop --dir outbox-db >/dev/null 2>&1 || true; if [ -n \"${{HERO_MOCK_PID:-}}\" ]; then kill \"$HERO_MOCK_PID\" 2>/dev/null || true; fi' EXIT\n{}\n",
        lines[1..].join("\n")
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // Each of the three workers ran until nothing was left, and says so.
    let finished = stderr
        .lines()
        .filter(|l| *l == "300 rows: 300 sent, 0 failed, 0 ambiguous")
        .count();
    assert_eq!(finished, 3, "{stderr}");
    // The status table: one run, 300 sent, nothing pending.
    let run = stdout
        .lines()
        .find(|l| l.contains(" 300 "))
        .unwrap_or_else(|| panic!("no run of 300 sent rows: {stdout}"));
    let cells: Vec<&str> = run
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|c| !c.is_empty())
        .collect();
    // run, input, pending, in_flight, sent, failed, ambiguous
    assert_eq!(cells[2..], ["0", "0", "300", "0", "0"], "{run}");
    assert!(
        !dir.path().join("outbox-db/data/postmaster.pid").exists(),
        "stopped"
    );
}
