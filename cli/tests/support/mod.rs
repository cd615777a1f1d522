//! What the `hero` tests share: running the binary as a user would, configured through the
//! environment only.

#![allow(dead_code)]

use std::{process::Output, time::Duration};

use assert_cmd::Command;

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
