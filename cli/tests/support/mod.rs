//! What the `hero` tests share: running the binary as a user would, configured through the
//! environment only.

#![allow(dead_code)]

use std::{process::Output, time::Duration};

use assert_cmd::Command;
use serde_json::Value;

/// Two valid NHS numbers ending alike (`…666`): herohealth-mock gives both the failing mobile
/// `+447700900666`, so an SMS batch fails for both and each failed send could be either's.
pub const SHARED_A: &str = "9434760666";
/// See [`SHARED_A`].
pub const SHARED_B: &str = "9434777666";
/// An NHS number a test sets to fail (`--batch-outcome`, `batch_outcome`); its own mobile would be
/// delivered.
pub const SET_TO_FAIL: &str = "9434765919";
/// An NHS number whose batch send is delivered.
pub const REACHED: &str = "9434765862";

/// `hero`'s exit code (a test's `hero` always exits: it is never killed by a signal).
pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap()
}

/// What `hero` printed on stdout.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What `hero` printed on stderr.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Everything a command printed: its stdout, then its stderr.
pub fn all(out: &Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

/// A herohealth-mock that knows the API key `key` of `practice`, its clock stopped (it moves
/// only when the test advances it).
pub async fn mock_for(key: &str, practice: &str) -> herohealth_mock::MockServer {
    herohealth_mock::MockServer::builder()
        .api_key(key, practice)
        .time_scale(0.0)
        .start()
        .await
        .unwrap()
}

/// `hero args` against `mock`, as [`hero_at`].
pub async fn hero_on(
    mock: &herohealth_mock::MockServer,
    key: &str,
    practice: &str,
    args: &[&str],
) -> Output {
    hero_at(mock.base_url(), key, practice, args).await
}

/// The stdout of a command that must have succeeded (else the exit code and stderr, as the
/// failure).
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}",
        out.status.code(),
        stderr(out)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The JSON on stdout of a command that must have succeeded.
pub fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).unwrap()
}

/// A recipients CSV in `dir` (`nhs_number,dob`, each born 1960-01-31): its path.
pub fn recipients_csv(dir: &tempfile::TempDir, rows: &[&str]) -> String {
    let path = dir.path().join("recipients.csv");
    let mut text = "nhs_number,dob\n".to_owned();
    for nhs in rows {
        text.push_str(&format!("{nhs},1960-01-31\n"));
    }
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// `hero --format json batch create` of an SMS batch from `file`, then `extra`.
pub fn batch_create_args<'a>(file: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--format",
        "json",
        "batch",
        "create",
        "--name",
        "Flu",
        "--channel",
        "sms",
        "--content",
        "Your flu jab is due",
        "--recipients",
        file,
    ];
    args.extend_from_slice(extra);
    args
}

/// Runs `hero args` with only `HERO_API_KEY`, `HERO_PRACTICE_GROUP_ID` and `HERO_BASE_URL` set
/// (on a blocking thread, so a mock on the test's runtime keeps serving).
pub async fn hero_at(url: String, key: &str, practice: &str, args: &[&str]) -> Output {
    hero_at_with(url, key, practice, &[], args).await
}

/// As [`hero_at`], with more environment variables (`HERO_TIMEOUT`, ...).
pub async fn hero_at_with(
    url: String,
    key: &str,
    practice: &str,
    env: &[(&str, &str)],
    args: &[&str],
) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let (key, practice) = (key.to_owned(), practice.to_owned());
    tokio::task::spawn_blocking(move || {
        Command::cargo_bin("hero")
            .unwrap()
            .env_clear()
            .env("HERO_API_KEY", key)
            .env("HERO_PRACTICE_GROUP_ID", practice)
            .env("HERO_BASE_URL", url)
            .envs(env)
            .args(args)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// Runs `hero args` with no configuration at all (help, completions, usage errors, `--mock`).
pub fn hero_offline(args: &[&str]) -> Output {
    Command::cargo_bin("hero")
        .unwrap()
        .env_clear()
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

/// Runs `hero args` with exactly the environment `env` (nothing else of the test's), as a user
/// would after `eval "$(hero mock start)"`.
pub fn hero_env(env: &[(String, String)], args: &[&str]) -> Output {
    Command::cargo_bin("hero")
        .unwrap()
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

/// [`hero_env`] on a blocking thread, so a mock on the test's runtime keeps serving.
pub async fn hero_env_async(env: Vec<(String, String)>, args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        hero_env(&env, &args)
    })
    .await
    .unwrap()
}

/// The configuration a test's `hero` runs with against `url` (as [`hero_at`] sets it).
pub fn env_for(url: &str, key: &str, practice: &str) -> Vec<(String, String)> {
    vec![
        ("HERO_API_KEY".to_owned(), key.to_owned()),
        ("HERO_PRACTICE_GROUP_ID".to_owned(), practice.to_owned()),
        ("HERO_BASE_URL".to_owned(), url.to_owned()),
    ]
}

/// `hero` as a `std::process::Command`, to spawn, kill or wait on: configured as [`hero_at`]
/// configures it (only `HERO_API_KEY`, `HERO_PRACTICE_GROUP_ID` and `HERO_BASE_URL`); the caller
/// adds the rest.
pub fn hero_process(url: &str, key: &str, practice: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hero"));
    cmd.env_clear()
        .env("HERO_API_KEY", key)
        .env("HERO_PRACTICE_GROUP_ID", practice)
        .env("HERO_BASE_URL", url);
    cmd
}

/// Runs `cmd` to its end on a blocking thread (so a mock on the test's runtime keeps serving).
pub async fn output_of(mut cmd: std::process::Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}
