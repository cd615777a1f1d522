//! `cargo xtask <task>`: maintainer tasks for the API description.
//!
//! - `regen [--from URL|FILE]`: fetch Hero's description (the published URL by default), keep the
//!   messaging operations we carry, report what changed since `spec/upstream.yaml`, save the new
//!   snapshot there (Hero's key order, under a provenance header: source, date, SHA-256), and
//!   regenerate the client (the insta snapshot of the generated code is updated for review).
//!   `openapi.yaml` is never changed: changes that touch one of our corrections
//!   (`spec/corrections.yaml`) are listed for a person. Nothing is saved when the input is not an
//!   OpenAPI 3.x description with paths, when `--fail-on` triggers, or when the snapshot would lose
//!   an operation we carry (unless `--accept-removals`).
//! - `diff [--from URL|FILE] [--format text|json|markdown] [--fail-on breaking|warning]`: the same
//!   report, writing nothing.
//! - `check`: `openapi.yaml` lints, the generated-code snapshot is current, every response type
//!   and field has a description (build.rs makes it the type's or field's rustdoc), every
//!   operation of `openapi.yaml` is in `spec/upstream.yaml` or marked there as ours alone (with
//!   why), and `openapi.yaml` differs from `spec/upstream.yaml` only where
//!   `spec/corrections.yaml` says so (and each correction is still needed).
//!
//! Exit status: 0 done; 1 `--fail-on` triggered, or `check` found a difference; 2 the input could
//! not be used (unreadable, not OpenAPI 3.x, no paths) or `regen` refused to save. Paths given on
//! the command line are relative to the current directory; the defaults are in the workspace.
#![forbid(unsafe_code)]

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use clap::{Parser, Subcommand, ValueEnum};
use xtask::{
    Change, Class, Correction, Format, UPSTREAM_URL, input, load, provenance, report, sync,
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

/// Our side: the description and its recorded corrections.
#[derive(clap::Args)]
struct Ours {
    /// Our description [default: openapi.yaml in the workspace].
    #[arg(long)]
    ours: Option<PathBuf>,
    /// Our recorded corrections [default: spec/corrections.yaml in the workspace].
    #[arg(long)]
    corrections: Option<PathBuf>,
    /// The last synced upstream subset [default: spec/upstream.yaml in the workspace].
    #[arg(long)]
    snapshot: Option<PathBuf>,
}

#[derive(clap::Args)]
struct Sources {
    /// Hero's description: a URL or a file (YAML or JSON), relative to the current directory.
    #[arg(long, default_value = UPSTREAM_URL)]
    from: String,
    #[command(flatten)]
    ours: Ours,
    /// Report format. `json` prints nothing but the JSON report on stdout.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Exit with status 1 when a change of this class (or worse) is found (`regen` then saves
    /// nothing).
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
}

#[derive(Subcommand)]
enum Task {
    /// Re-sync the upstream snapshot, report the changes, regenerate the client.
    Regen {
        #[command(flatten)]
        sources: Sources,
        /// Save the snapshot even when it loses operations we carry (Hero really removed them).
        #[arg(long)]
        accept_removals: bool,
        /// Save the snapshot only; do not regenerate the client's generated-code snapshot.
        #[arg(long)]
        no_codegen: bool,
    },
    /// Report what changed upstream, writing nothing.
    Diff(Sources),
    /// Lint the spec, check the generated-code snapshot, the descriptions of the response types
    /// and the recorded corrections.
    Check {
        #[command(flatten)]
        ours: Ours,
        /// Check the corrections only (no lint, no generated-code snapshot, no descriptions).
        #[arg(long, conflicts_with = "docs_only")]
        corrections_only: bool,
        /// Check only that every response type and field has a description.
        #[arg(long)]
        docs_only: bool,
    },
}

/// The workspace root.
fn root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

impl Ours {
    fn paths(&self) -> (PathBuf, PathBuf, PathBuf) {
        let or =
            |p: &Option<PathBuf>, default: &str| p.clone().unwrap_or_else(|| root().join(default));
        (
            or(&self.ours, "openapi.yaml"),
            or(&self.corrections, "spec/corrections.yaml"),
            or(&self.snapshot, "spec/upstream.yaml"),
        )
    }
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Regen {
            sources,
            accept_removals,
            no_codegen,
        } => regen(&sources, accept_removals, no_codegen),
        Task::Diff(s) => changes(&s).map(|found| {
            print!("{}", report(&found.changes, s.format));
            exit_code(&found.changes, s.fail_on)
        }),
        Task::Check {
            ours,
            corrections_only,
            docs_only,
        } => {
            if docs_only {
                check_docs(&ours)
            } else {
                check(&ours, corrections_only)
            }
        }
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn read_corrections(path: &Path) -> Result<Vec<Correction>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads every input (each validated) and compares.
fn changes(s: &Sources) -> Result<xtask::Sync, String> {
    let (ours, corrections, snapshot) = s.ours.paths();
    let ours = load(&path_str(&ours))?;
    let corrections = read_corrections(&corrections)?;
    let snapshot = load(&path_str(&snapshot))?;
    let upstream = load(&s.from)?;
    Ok(sync(
        &snapshot.yaml,
        &upstream.yaml,
        &ours.json,
        &corrections,
    ))
}

fn regen(s: &Sources, accept_removals: bool, no_codegen: bool) -> Result<i32, String> {
    let (ours, corrections, snapshot) = s.ours.paths();
    let ours = load(&path_str(&ours))?;
    let corrections = read_corrections(&corrections)?;
    let old = load(&path_str(&snapshot))?;
    let upstream = load(&s.from)?;
    let found = sync(&old.yaml, &upstream.yaml, &ours.json, &corrections);
    print!("{}", report(&found.changes, s.format));
    let code = exit_code(&found.changes, s.fail_on);
    if code != 0 {
        eprintln!(
            "not saved: --fail-on found a change; {} is unchanged",
            snapshot.display()
        );
        return Ok(code);
    }
    if !found.lost.is_empty() && !accept_removals {
        return Err(format!(
            "not saved: {} would lose {} operation(s) we carry ({}); check the source, and if \
             Hero really removed them run again with --accept-removals",
            snapshot.display(),
            found.lost.len(),
            found.lost.join(", ")
        ));
    }
    let body = serde_yaml::to_string(&found.subset).map_err(|e| e.to_string())?;
    let text = provenance(&upstream.source, &input::today(), &upstream.sha256) + &body;
    let tmp = snapshot.with_extension("yaml.tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &snapshot))
        .map_err(|e| format!("cannot save {}: {e}", snapshot.display()))?;
    eprintln!("saved {}", snapshot.display());
    if !no_codegen {
        regenerate()?;
    }
    Ok(0)
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
    // Tools' output goes to stderr: stdout holds the report only.
    let status = cmd
        .current_dir(root())
        .stdout(Stdio::from(std::io::stderr()))
        .status()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
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

/// Every response type and field of our description has a description (see `xtask::docs`).
fn check_docs(paths: &Ours) -> Result<i32, String> {
    let (ours, _, _) = paths.paths();
    println!(
        "==> every response type and field of {} has a description",
        ours.display()
    );
    let ours = load(&path_str(&ours))?;
    let missing = xtask::docs::undocumented(&ours.json);
    for m in &missing {
        println!(
            "no description: {} (reached from {})",
            m.location, m.reached_from
        );
    }
    if !missing.is_empty() {
        eprintln!(
            "error: {} response type(s) or field(s) without a description; a property that is \
             only a $ref needs `allOf: [{{$ref: ...}}]` with a `description` beside it",
            missing.len()
        );
        return Ok(1);
    }
    Ok(0)
}

fn check(paths: &Ours, corrections_only: bool) -> Result<i32, String> {
    if !corrections_only {
        lint_and_snapshot()?;
        let docs = check_docs(paths)?;
        if docs != 0 {
            return Ok(docs);
        }
    }
    let (ours, corrections, snapshot) = paths.paths();
    println!(
        "==> {} differs from {} only where {} says",
        ours.display(),
        snapshot.display(),
        corrections.display()
    );
    let ours = load(&path_str(&ours))?;
    let upstream = load(&path_str(&snapshot))?;
    let corrections = read_corrections(&corrections)?;
    let found = xtask::check(&upstream.yaml, &ours.json, &corrections);
    for op in &found.coverage.missing {
        println!("not in the snapshot: {op}");
    }
    for wrong in &found.coverage.wrong {
        println!("mark that does not hold: {wrong}");
    }
    for c in &found.unrecorded {
        println!("unrecorded difference: {}: {}", c.location, c.message);
    }
    for k in &found.stale {
        println!("correction no longer needed: {}", k.location);
    }
    let coverage = &found.coverage;
    if !coverage.missing.is_empty() || !coverage.wrong.is_empty() {
        eprintln!(
            "error: {} operation(s) of {} not in {} (run `cargo xtask regen`, or mark each there \
             under {} with why), {} mark(s) that do not hold",
            coverage.missing.len(),
            paths.paths().0.display(),
            snapshot.display(),
            xtask::dialect::OURS_ALONE,
            coverage.wrong.len()
        );
    }
    if !found.unrecorded.is_empty() || !found.stale.is_empty() {
        eprintln!(
            "error: {} difference(s) not in the corrections, {} correction(s) no longer needed",
            found.unrecorded.len(),
            found.stale.len()
        );
    }
    if !found.passed() {
        return Ok(1);
    }
    println!(
        "{} differences, all recorded in {} corrections",
        found.differences.len(),
        corrections.len()
    );
    Ok(0)
}

fn lint_and_snapshot() -> Result<(), String> {
    println!("==> redocly lint openapi.yaml ({REDOCLY_CLI})");
    let tools = root().join(".ci/.tools");
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

    Ok(())
}
