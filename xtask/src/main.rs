//! `cargo xtask <task>`: maintainer tasks for the API description.
//!
//! - `regen [--from URL|FILE]`: fetch Hero's description (the published URL by default), keep the
//!   messaging operations we carry, report what changed since `spec/upstream.yaml`, save the new
//!   snapshot there, and regenerate the client (the insta snapshot of the generated code is updated
//!   for review). `openapi.yaml` is never changed: changes that touch one of our corrections
//!   (`spec/corrections.yaml`) are listed for a person.
//! - `diff [--from URL|FILE] [--format text|json|markdown] [--fail-on breaking|warning]`: the same
//!   report, writing nothing.
//! - `check`: `openapi.yaml` lints, the generated-code snapshot is current, and `openapi.yaml` differs
//!   from `spec/upstream.yaml` only where `spec/corrections.yaml` says so (and each correction is
//!   still needed).

use std::{path::PathBuf, process::Command};

use clap::{Parser, Subcommand, ValueEnum};
use xtask::{
    Change, Class, Correction, Format, UPSTREAM_URL, diff, load, mark_corrections, report, subset,
};

/// The pinned linter (npm), installed under `.ci/.tools`.
const REDOCLY_CLI: &str = "@redocly/cli@2.77.0";

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Maintainer tasks for herohealth's API description"
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Breaking,
    Warning,
}

#[derive(clap::Args)]
struct Sources {
    /// Hero's description: a URL or a file (YAML or JSON).
    #[arg(long, default_value = UPSTREAM_URL)]
    from: String,
    /// The last synced upstream subset.
    #[arg(long, default_value = "spec/upstream.yaml")]
    snapshot: PathBuf,
    /// Our description.
    #[arg(long, default_value = "openapi.yaml")]
    ours: PathBuf,
    /// Our recorded corrections.
    #[arg(long, default_value = "spec/corrections.yaml")]
    corrections: PathBuf,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Exit with status 1 when a change of this class (or worse) is found.
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
}

#[derive(Subcommand)]
enum Task {
    /// Re-sync the upstream snapshot, report the changes, regenerate the client.
    Regen(Sources),
    /// Report what changed upstream, writing nothing.
    Diff(Sources),
    /// Lint the spec, check the generated-code snapshot and the recorded corrections.
    Check,
}

fn main() {
    let cli = Cli::parse();
    // Paths are relative to the workspace root, wherever cargo xtask is run from.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    std::env::set_current_dir(&root).expect("workspace root");
    let result = match cli.task {
        Task::Regen(s) => changes(&s).and_then(|(changes, new)| {
            print!("{}", report(&changes, s.format));
            let text = serde_yaml::to_string(&new).map_err(|e| e.to_string())?;
            let header = format!(
                "# Hero's messaging subset, as last synced from {} by `cargo xtask regen`.\n",
                s.from
            );
            std::fs::write(&s.snapshot, header + &text).map_err(|e| e.to_string())?;
            println!("saved {}", s.snapshot.display());
            regenerate()?;
            Ok(exit_code(&changes, s.fail_on))
        }),
        Task::Diff(s) => changes(&s).map(|(changes, _)| {
            print!("{}", report(&changes, s.format));
            exit_code(&changes, s.fail_on)
        }),
        Task::Check => check().map(|()| 0),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}

fn read_corrections(path: &PathBuf) -> Result<Vec<Correction>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The changes from the snapshot to the new upstream subset, and that subset.
fn changes(s: &Sources) -> Result<(Vec<Change>, serde_json::Value), String> {
    let ours = load(&s.ours.to_string_lossy())?;
    let upstream = load(&s.from)?;
    let new = subset(&upstream, &ours);
    // The snapshot is a subset already; subsetting again also accepts a whole upstream file.
    let old = subset(&load(&s.snapshot.to_string_lossy())?, &ours);
    let mut changes = diff(&old, &new, Some(&ours));
    mark_corrections(&mut changes, &read_corrections(&s.corrections)?);
    Ok((changes, new))
}

fn exit_code(changes: &[Change], fail_on: Option<FailOn>) -> i32 {
    let worst = match fail_on {
        None => return 0,
        Some(FailOn::Breaking) => Class::Breaking,
        Some(FailOn::Warning) => Class::Warning,
    };
    i32::from(changes.iter().any(|c| c.class <= worst))
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed ({status})"))
    }
}

/// Rebuilds the generated client and updates its snapshot for review.
fn regenerate() -> Result<(), String> {
    run(Command::new("cargo")
        .args(["test", "--quiet", "-p", "herohealth", "--test", "snapshot"])
        .env("INSTA_UPDATE", "always"))?;
    run(Command::new("git").args(["status", "--short", "--", "tests/snapshots", "spec"]))
}

fn check() -> Result<(), String> {
    println!("==> redocly lint openapi.yaml ({REDOCLY_CLI})");
    let tools = PathBuf::from(".ci/.tools");
    let redocly = tools.join("node_modules/.bin/redocly");
    let version = REDOCLY_CLI.rsplit('@').next().unwrap_or_default();
    let installed = Command::new(&redocly)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == version);
    if !installed {
        run(Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--prefix",
            ])
            .arg(&tools)
            .arg(REDOCLY_CLI))?;
    }
    run(Command::new(&redocly).args(["lint", "openapi.yaml", "--format=stylish"]))?;

    println!("==> the generated-code snapshot is current");
    run(Command::new("cargo")
        .args(["test", "--quiet", "-p", "herohealth", "--test", "snapshot"])
        .env("INSTA_UPDATE", "no"))?;

    println!(
        "==> openapi.yaml differs from spec/upstream.yaml only where spec/corrections.yaml says"
    );
    let ours = load("openapi.yaml")?;
    let upstream = load("spec/upstream.yaml")?;
    let corrections = read_corrections(&PathBuf::from("spec/corrections.yaml"))?;
    let differences = diff(&subset(&upstream, &ours), &ours, Some(&ours));
    let unrecorded: Vec<&Change> = differences
        .iter()
        .filter(|c| !corrections.iter().any(|k| k.covers(&c.location)))
        .collect();
    let stale: Vec<&Correction> = corrections
        .iter()
        .filter(|k| !differences.iter().any(|c| k.covers(&c.location)))
        .collect();
    for c in &unrecorded {
        eprintln!("unrecorded difference: {}: {}", c.location, c.message);
    }
    for k in &stale {
        eprintln!("correction no longer needed: {}", k.location);
    }
    if !unrecorded.is_empty() || !stale.is_empty() {
        return Err(format!(
            "{} difference(s) not in spec/corrections.yaml, {} correction(s) no longer needed",
            unrecorded.len(),
            stale.len()
        ));
    }
    println!(
        "{} differences, all recorded in {} corrections",
        differences.len(),
        corrections.len()
    );
    Ok(())
}
