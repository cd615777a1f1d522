//! After a send whose outcome is unknown, the command `hero` prints to find it really finds it; a
//! send that went is never reported with the "try again" exit status, whatever fails after it.

mod support;

use std::process::Output;

use herohealth_mock::{Fault, FaultRule, MockServer};

const KEY: &str = "hero-mock-test-key-recovery";
const PRACTICE: &str = "practice-cli-recovery";

async fn hero(mock: &MockServer, args: Vec<String>) -> Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    support::hero_at(mock.base_url(), KEY, PRACTICE, &args).await
}

fn args(s: &[&str]) -> Vec<String> {
    s.iter().map(|a| a.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_printed_recovery_command_finds_the_message_that_went() {
    let mock = MockServer::builder()
        .api_key(KEY, PRACTICE)
        .seed_sent_messages(30)
        .start()
        .await
        .unwrap();
    mock.inject(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(1));
    let send = args(&[
        "messages",
        "send",
        "--patient-id",
        "1007",
        "--type",
        "sms",
        "--text",
        "Hello",
    ]);
    let out = hero(&mock, send).await;
    assert_eq!(out.status.code(), Some(9), "outcome unknown");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // One hint, naming the command once (not the generic `--patient-id ...` as well).
    assert_eq!(stderr.matches("hero sent list").count(), 1, "{stderr}");
    assert!(!stderr.contains("--patient-id ..."), "{stderr}");
    let command = stderr
        .split("look for it with: ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_else(|| panic!("no recovery command in: {stderr}"));
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(words[..3], ["hero", "sent", "list"], "{command}");
    let mut list: Vec<String> = args(&["--format", "json"]);
    list.extend(words[1..].iter().map(|w| w.to_string()));
    let out = hero(&mock, list).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    // The message that went is the first row: this patient's newest.
    let stored = mock.sent_messages();
    let ours = stored.last().unwrap();
    assert_eq!(rows[0]["id"], ours.id.to_string(), "{rows:?}");
    assert!(
        rows.iter().all(|r| r["patient"]["id"] == "1007"),
        "only that patient: {rows:?}"
    );
    assert_eq!(
        mock.processed("send_message"),
        1,
        "and it was not sent again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_that_went_never_exits_with_the_try_again_status() {
    let mock = MockServer::builder()
        .api_key(KEY, PRACTICE)
        .start()
        .await
        .unwrap();
    // The send goes; every status request after it fails as the network would.
    mock.inject(FaultRule::new(
        "get_message_status",
        Fault::ResetBeforeProcessing,
    ));
    let out = hero(
        &mock,
        args(&[
            "messages",
            "send",
            "--patient-id",
            "42",
            "--type",
            "sms",
            "--text",
            "Hello",
            "--wait",
            "--timeout",
            "5",
        ]),
    )
    .await;
    let code = out.status.code();
    assert_ne!(
        code,
        Some(8),
        "8 says 'try again': the patient would get it twice"
    );
    assert_eq!(code, Some(14), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("WAS sent"));
    assert_eq!(mock.processed("send_message"), 1);
}
