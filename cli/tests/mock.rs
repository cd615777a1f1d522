//! `hero mock start|stop`: herohealth-mock in the background, its state kept across commands (and
//! used by `hero --mock` through `HERO_MOCK_URL`) until `hero mock stop`.

mod support;

use serde_json::Value;
use support::{REACHED, SET_TO_FAIL, code, json, stderr, stdout};

/// Runs `hero mock stop`'s own check on the way out: the mock a test started is stopped by its
/// process id even when an assertion failed first.
struct Started(Vec<(String, String)>);

impl Started {
    fn var(&self, name: &str) -> &str {
        &self.0.iter().find(|(k, _)| k == name).unwrap().1
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if let Some((_, pid)) = self.0.iter().find(|(k, _)| k == "HERO_MOCK_PID") {
            let _ = std::process::Command::new("kill")
                .arg(pid)
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

#[test]
fn mock_start_keeps_state_across_commands_until_mock_stop() {
    let out = support::hero_offline(&[
        "mock",
        "start",
        "--time-scale",
        "200",
        "--batch-outcome",
        &format!("{SET_TO_FAIL}=ERROR"),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let env: Vec<(String, String)> = stdout(&out)
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let started = Started(env);
    let url = started.var("HERO_BASE_URL").to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(started.var("HERO_MOCK_URL"), url);

    // A message sent by one command is there for the next, also through `--mock`.
    let sent = support::hero_env(
        &started.0,
        &[
            "--format",
            "json",
            "messages",
            "send",
            "--patient-id",
            "42",
            "--type",
            "sms",
            "--text",
            "Hi",
        ],
    );
    let id = json(&sent)["message_id"].as_str().unwrap().to_owned();
    let only_mock_url = vec![("HERO_MOCK_URL".to_owned(), url.clone())];
    let got = support::hero_env(
        &only_mock_url,
        &["--mock", "--format", "json", "messages", "get", &id],
    );
    assert_eq!(json(&got)["id"], id.as_str());

    // The batch flow, as the guide (the CLI page) shows it, across commands.
    let dir = tempfile::tempdir().unwrap();
    let file = support::recipients_csv(&dir, &[SET_TO_FAIL, REACHED]);
    let out = support::hero_env(
        &started.0,
        &support::batch_create_args(&file, &["--send", "--wait"]),
    );
    assert_eq!(code(&out), 13, "{}", stderr(&out));
    let batch: Value = serde_json::from_slice(&out.stdout).unwrap();
    let batch_id = batch["id"].as_str().unwrap();
    let rows = json(&support::hero_env(
        &started.0,
        &["--format", "json", "batch", "failures", batch_id],
    ));
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["nhs_number"], herohealth::REDACTED);

    let stop = support::hero_env(&started.0, &["mock", "stop"]);
    assert_eq!(code(&stop), 0, "{}", stderr(&stop));
    // Stopped: its port refuses connections (looked for until it does, not timed).
    let addr = url.trim_start_matches("http://").to_owned();
    let refused = (0..500).any(|_| {
        let gone = std::net::TcpStream::connect(&addr).is_err();
        if !gone {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        gone
    });
    assert!(refused, "the mock still answers at {addr}");
    // Without the variables, stop refuses (exit 2) and stops nothing.
    let out = support::hero_offline(&["mock", "stop"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}
