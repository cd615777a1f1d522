//! The `hero` binary against herohealth-mock: every command, the output formats, CSV checks, exit
//! codes, the batch flow in one command (create, send, wait) with its failures traced to patients,
//! and redaction of `--verbose` (`-vv` without the HTTP stack's own lines).

mod support;

use std::process::Output;

use assert_cmd::Command;
use herohealth_mock::{Fault, FaultRule, MockServer, RecipientOutcome};
use serde_json::Value;
use support::{REACHED, SET_TO_FAIL, SHARED_A, SHARED_B, code, json, ok, stderr};

const KEY: &str = "hero-mock-test-key-c0de";
const PRACTICE: &str = "practice-cli-77";

async fn mock() -> MockServer {
    mock_with(MockServer::builder()).await
}

async fn mock_with(config: herohealth_mock::MockConfig) -> MockServer {
    config
        .api_key(KEY, PRACTICE)
        .seed_sent_messages(60)
        .time_scale(200.0)
        .start()
        .await
        .unwrap()
}

/// Runs `hero` configured for `mock` (through the environment, as a user would).
async fn hero(mock: &MockServer, args: &[&str]) -> Output {
    hero_with(mock.base_url(), KEY, args).await
}

async fn hero_with(url: String, key: &str, args: &[&str]) -> Output {
    support::hero_at(url, key, PRACTICE, args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_send_get_and_status() {
    let mock = mock().await;
    let sent = json(
        &hero(
            &mock,
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
                "Your results are ready",
                "--to",
                "07700 900123",
                "--write-to-record",
                "--snomed-code",
                "1240751000000100",
            ],
        )
        .await,
    );
    let id = sent["message_id"].as_str().unwrap().to_owned();
    assert_eq!(sent["write_to_record"], true);
    assert_eq!(mock.calls("send_message"), 1);

    let got = json(&hero(&mock, &["--format", "json", "messages", "get", &id]).await);
    assert_eq!(got["id"], id.as_str());
    let waited = json(
        &hero(
            &mock,
            &[
                "--format",
                "json",
                "messages",
                "status",
                &id,
                "--wait",
                "--timeout",
                "30",
            ],
        )
        .await,
    );
    assert_eq!(waited["status"]["response"], "delivered");
    let table = ok(&hero(&mock, &["messages", "status", &id]).await);
    assert!(table.contains("delivered"), "{table}");

    let out = hero(
        &mock,
        &[
            "--format",
            "json",
            "messages",
            "send",
            "--patient-id",
            "7",
            "--type",
            "email",
            "--text",
            "Hello",
            "--to",
            "fatal@example.com",
            "--wait",
        ],
    )
    .await;
    // The final status is printed, and the exit code says it was not delivered (not "try again").
    assert_eq!(code(&out), 13, "{}", String::from_utf8_lossy(&out.stderr));
    let sent_and_waited: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sent_and_waited["status"]["response"], "fatal");
    // A final state: the hint says it will not be delivered and to reach the patient another way,
    // not "WAS sent: do not send it again" (which reads as if it might still go).
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("this message will not be delivered")
            && stderr.contains("Contact the patient another way"),
        "{stderr}"
    );
    assert!(!stderr.contains("WAS sent"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sent_list_filters_limits_and_formats() {
    let mock = mock().await;
    let fatal = json(
        &hero(
            &mock,
            &[
                "--format",
                "json",
                "sent",
                "list",
                "--all",
                "--status",
                "fatal",
                "--type",
                "sms",
                "--type",
                "nhs_app",
                "--page-size",
                "5",
            ],
        )
        .await,
    );
    let rows = fatal.as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["status"] == "fatal"
        && (r["message_type"] == "sms" || r["message_type"] == "nhs_app")));
    let limited = json(
        &hero(
            &mock,
            &[
                "--format",
                "json",
                "sent",
                "list",
                "--limit",
                "7",
                "--page-size",
                "3",
            ],
        )
        .await,
    );
    assert_eq!(limited.as_array().unwrap().len(), 7);
    let first_page = json(
        &hero(
            &mock,
            &["--format", "json", "sent", "list", "--page-size", "25"],
        )
        .await,
    );
    assert_eq!(
        first_page.as_array().unwrap().len(),
        25,
        "without --all, one page"
    );
    let named = json(
        &hero(
            &mock,
            &[
                "--format",
                "json",
                "sent",
                "list",
                "--all",
                "--last-name",
                "Lovelace",
                "--sent-from",
                "2024-01-01",
                "--sent-to",
                "2024-12-31",
                "--order-by",
                "sent_at",
                "--descending",
            ],
        )
        .await,
    );
    assert!(
        named
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["patient"]["last_name"] == herohealth::REDACTED)
            && !named.as_array().unwrap().is_empty(),
        "the filter matched, and the names are not printed"
    );
    let csv = ok(&hero(&mock, &["--format", "csv", "sent", "list", "--limit", "2"]).await);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "id,patient_id,first_name,last_name,type,to,status,created_at,sent_at,scheduled_at,record"
    );
    assert_eq!(lines.len(), 3);
    let table = ok(&hero(&mock, &["sent", "list", "--limit", "2"]).await);
    assert!(table.ends_with("2 item(s)\n"), "{table}");
}

#[test]
fn mock_mode_streams_every_seeded_message_once_in_order() {
    let out = Command::cargo_bin("hero")
        .unwrap()
        .env_clear()
        .args(["--mock", "sent", "list", "--all", "--format", "ndjson"])
        .output()
        .unwrap();
    let text = ok(&out);
    let ids: Vec<u64> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(ids, (1..=250).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_from_a_csv_file() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "nhs_number,dob\n943 476 5919,1955-06-02\n9434765870,1960-01-31\n",
    )
    .unwrap();
    let good = good.to_str().unwrap();

    let dry = json(
        &hero(
            &mock,
            &[
                "--format",
                "json",
                "batch",
                "create",
                "--name",
                "Flu",
                "--channel",
                "SMS",
                "--content",
                "Your flu jab is due",
                "--recipients",
                good,
                "--dry-run",
            ],
        )
        .await,
    );
    assert_eq!(dry.as_array().unwrap().len(), 2);
    assert_eq!(
        mock.calls("create_batch_message"),
        0,
        "a dry run sends nothing"
    );

    let batch = json(
        &hero(
            &mock,
            &[
                "--format",
                "json",
                "batch",
                "create",
                "--name",
                "Flu",
                "--channel",
                "SMS",
                "--content",
                "Your flu jab is due",
                "--recipients",
                good,
            ],
        )
        .await,
    );
    let id = batch["id"].as_str().unwrap().to_owned();
    assert_eq!(batch["status"], "CREATED");
    let recipients = json(
        &hero(
            &mock,
            &["--format", "json", "batch", "recipients", &id, "--all"],
        )
        .await,
    );
    assert_eq!(recipients.as_array().unwrap().len(), 2);
    assert!(
        recipients
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["enrichment_status"] == "ENRICHED")
    );
    // Waiting for a batch nobody has sent: exit 12, and the hint says to send it, not to wait.
    let unsent = hero(&mock, &["batch", "wait", &id, "--timeout", "1"]).await;
    assert_eq!(code(&unsent), 12, "{}", stderr(&unsent));
    assert!(
        stderr(&unsent).contains(&format!("hint: send it first: hero batch send {id}")),
        "{}",
        stderr(&unsent)
    );
    let sent = json(&hero(&mock, &["--format", "json", "batch", "send", &id]).await);
    assert_ne!(sent["status"], "CREATED");
    // Sending twice: Hero's 409 may follow processing, so it is "may have been sent" (exit 9),
    // and the hint names the command that shows this batch.
    let again = hero(&mock, &["batch", "send", &id]).await;
    assert_eq!(code(&again), 9, "sending twice: {}", stderr(&again));
    assert!(
        stderr(&again).contains(&format!("look for it with: hero batch get {id}")),
        "{}",
        stderr(&again)
    );
    let done = json(
        &hero(
            &mock,
            &["--format", "json", "batch", "wait", &id, "--timeout", "30"],
        )
        .await,
    );
    assert_eq!(done["status"], "COMPLETED");
    let sends = json(
        &hero(
            &mock,
            &[
                "--format", "json", "batch", "sends", &id, "--all", "--status", "SUCCESS",
            ],
        )
        .await,
    );
    assert_eq!(sends.as_array().unwrap().len(), 2);
    let got = json(&hero(&mock, &["--format", "json", "batch", "get", &id]).await);
    assert_eq!(got["id"], id.as_str());
    let list = json(
        &hero(
            &mock,
            &[
                "--format",
                "json",
                "batch",
                "list",
                "--all",
                "--status",
                "COMPLETED",
            ],
        )
        .await,
    );
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_csv_is_refused_with_a_reason_per_line_and_nothing_is_sent() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "nhs_number,dob\n943 476 5919,1955-06-02\n943 476 5918,1955-06-02\n9434765870,02/06/1955\n9434765919\n").unwrap();
    let out = hero(
        &mock,
        &[
            "batch",
            "create",
            "--name",
            "Flu",
            "--channel",
            "SMS",
            "--content",
            "c",
            "--recipients",
            bad.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code(&out), 4);
    let err = stderr(&out);
    assert!(err.contains("3 problem(s), nothing was sent"), "{err}");
    assert!(
        err.contains("line 3: nhs_number: an NHS number has a wrong check digit"),
        "{err}"
    );
    assert!(
        err.contains("line 4: dob: is not a date (YYYY-MM-DD)"),
        "{err}"
    );
    assert!(err.contains("line 5: missing column dob"), "{err}");
    assert!(mock.journal().is_empty(), "nothing reached the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_assignees_snomed_and_patients() {
    let mock = mock().await;
    let t = json(
        &hero(
            &mock,
            &[
                "--format",
                "json",
                "templates",
                "list",
                "--has-follow-up",
                "true",
            ],
        )
        .await,
    );
    assert!(
        t.as_array()
            .unwrap()
            .iter()
            .all(|t| t["send_follow_up_one"] == true)
    );
    let csv = ok(&hero(&mock, &["--format", "csv", "assignees", "list"]).await);
    assert!(csv.starts_with("label,value,type,key\n"), "{csv}");
    let s = json(
        &hero(
            &mock,
            &["--format", "json", "snomed", "validate", "1240751000000100"],
        )
        .await,
    );
    assert_eq!(
        (s["offline_check"].as_str(), s["valid"].as_bool()),
        (Some("ok"), Some(true))
    );
    let s = json(
        &hero(
            &mock,
            &["--format", "json", "snomed", "validate", "123456789"],
        )
        .await,
    );
    assert_eq!(
        (s["offline_check"].as_str(), s["valid"].as_bool()),
        (Some("has a wrong Verhoeff check digit"), Some(false))
    );
    let p = json(
        &hero(
            &mock,
            &[
                "--format",
                "json",
                "patients",
                "register-pds",
                "--nhs-number",
                "943 476 5919",
                "--dob",
                "1955-06-02",
            ],
        )
        .await,
    );
    assert!(
        p["patient_id"]
            .as_str()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_digit())
    );
    let p = json(
        &hero(
            &mock,
            &[
                "--format",
                "json",
                "patients",
                "register-pds",
                "--forename",
                "Ada",
                "--surname",
                "Lovelace",
                "--postcode",
                "LS1 4AP",
                "--dob",
                "1955-06-02",
            ],
        )
        .await,
    );
    assert!(p["patient_id"].is_string());
    let v = json(
        &hero(
            &mock,
            &[
                "--format",
                "json",
                "patients",
                "register-pds",
                "--nhs-number",
                "9000000009",
                "--dob",
                "1955-06-02",
            ],
        )
        .await,
    );
    assert!(v["login_url"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_scripts_can_use() {
    let mock = mock_with(
        MockServer::builder()
            .fault(FaultRule::new("list_templates", Fault::Status(500)))
            .fault(FaultRule::new(
                "list_assignee_collection",
                Fault::RateLimited {
                    retry_after: Some(0),
                },
            ))
            .fault(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(1)),
    )
    .await;
    let usage = hero(&mock, &["messages", "send", "--patient-id", "1"]).await;
    assert_eq!(code(&usage), 2);
    let auth = hero_with(mock.base_url(), "wrong-key", &["sent", "list"]).await;
    assert_eq!(code(&auth), 3);
    assert!(
        stderr(&auth).contains("hint: check HERO_API_KEY"),
        "{}",
        stderr(&auth)
    );
    let invalid = hero(
        &mock,
        &[
            "messages",
            "send",
            "--patient-id",
            "1",
            "--type",
            "sms",
            "--text",
            " ",
        ],
    )
    .await;
    assert_eq!(code(&invalid), 4, "{}", stderr(&invalid));
    assert!(
        stderr(&invalid).contains("message_string"),
        "{}",
        stderr(&invalid)
    );
    let bad_to = hero(
        &mock,
        &[
            "messages",
            "send",
            "--patient-id",
            "1",
            "--type",
            "sms",
            "--text",
            "hi",
            "--to",
            "nobody",
        ],
    )
    .await;
    assert_eq!(code(&bad_to), 4);
    assert!(
        stderr(&bad_to).contains("--to: a contact detail"),
        "{}",
        stderr(&bad_to)
    );
    assert_eq!(code(&hero(&mock, &["messages", "get", "404"]).await), 5);
    let limited = hero(&mock, &["assignees", "list"]).await;
    assert_eq!(code(&limited), 6, "{}", stderr(&limited));
    assert_eq!(code(&hero(&mock, &["templates", "list"]).await), 7);
    let unknown = hero(
        &mock,
        &[
            "messages",
            "send",
            "--patient-id",
            "1",
            "--type",
            "sms",
            "--text",
            "hi",
        ],
    )
    .await;
    assert_eq!(code(&unknown), 9, "{}", stderr(&unknown));
    assert!(
        stderr(&unknown).contains("look for it with: hero sent list --patient-id 1 "),
        "{}",
        stderr(&unknown)
    );
    assert_eq!(mock.processed("send_message"), 1, "not sent again");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let network = hero_with(format!("http://127.0.0.1:{port}"), KEY, &["sent", "list"]).await;
    assert_eq!(code(&network), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_logs_stay_redacted() {
    let mock = mock().await;
    let out = hero(
        &mock,
        &[
            "-v",
            "messages",
            "send",
            "--patient-id",
            "42",
            "--type",
            "sms",
            "--text",
            "Biopsy results ready",
            "--to",
            "07700 900123",
        ],
    )
    .await;
    ok(&out);
    let log = stderr(&out);
    assert!(log.contains("hero request attempt"), "{log}");
    for secret in [KEY, PRACTICE, "Biopsy", "07700", "900123"] {
        assert!(!log.contains(secret), "{secret} in the log: {log}");
    }
}

/// Promise 103, the rest of it: a timeout is a network failure (exit 8, "try again"), and an
/// error with no code of its own is 1. `HERO_TIMEOUT` cuts each attempt of `sent list` to 0.3 s
/// against a mock that answers after 30 s: exit 8 with the network hint. A sent-messages page
/// that is not JSON is a decode error: exit 1, never 0 and never "try again".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_exits_8_and_an_unreadable_answer_exits_1() {
    let slow = mock_with(MockServer::builder().fault(FaultRule::new(
        "list_sent_messages",
        Fault::Latency(std::time::Duration::from_secs(30)),
    )))
    .await;
    let out = support::hero_at_with(
        slow.base_url(),
        KEY,
        PRACTICE,
        &[("HERO_TIMEOUT", "0.3")],
        &["sent", "list"],
    )
    .await;
    assert_eq!(code(&out), 8, "{}", stderr(&out));
    assert!(stderr(&out).contains("timed out"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("hint: check the network"),
        "{}",
        stderr(&out)
    );

    let bad = support::hero_at_with(
        slow.base_url(),
        KEY,
        PRACTICE,
        &[("HERO_TIMEOUT", "soon")],
        &["sent", "list"],
    )
    .await;
    assert_eq!(code(&bad), 2, "a bad HERO_TIMEOUT is a configuration error");
    assert!(stderr(&bad).contains("HERO_TIMEOUT"), "{}", stderr(&bad));

    let garbled = mock_with(
        MockServer::builder().fault(FaultRule::new("list_sent_messages", Fault::MalformedJson)),
    )
    .await;
    let out = hero(&garbled, &["sent", "list"]).await;
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stdout_is_empty(&out));
}

fn stdout_is_empty(out: &Output) -> bool {
    out.stdout.is_empty()
}

/// Promise 100, the spinner: on a terminal `sent list --all` shows "reading" on stderr while it
/// pages; with stderr a pipe it writes nothing there at all (no spinner, no control codes), so
/// scripts see only the rows. The terminal is a pseudo-terminal from util-linux `script`.
#[test]
fn the_spinner_shows_on_a_terminal_and_never_in_a_pipe() {
    let hero = assert_cmd::cargo::cargo_bin("hero");
    let piped = support::hero_offline(&["--mock", "sent", "list", "--all"]);
    assert!(piped.status.success());
    assert!(
        piped.stderr.is_empty(),
        "stderr in a pipe: {:?}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert!(String::from_utf8_lossy(&piped.stdout).lines().count() > 200);

    let command = format!("{} --mock sent list --all > /dev/null", hero.display());
    let terminal = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("HERO_API_KEY")
        .output()
        .expect("util-linux `script` (Debian's bsdutils) runs the command on a pseudo-terminal");
    assert!(terminal.status.success(), "{terminal:?}");
    let shown = String::from_utf8_lossy(&terminal.stdout);
    assert!(shown.contains("reading"), "on a terminal: {shown:?}");
}

/// List options that cannot mean anything are refused, never answered with an empty list a script
/// would read as "none" (found by a new-user trial: `--page-size 0` and a backwards range printed
/// "0 item(s)" and exited 0).
#[test]
fn list_options_that_mean_nothing_are_refused_not_an_empty_list() {
    for (args, exit, says) in [
        (&["sent", "list", "--page-size", "0"][..], 2, "--page-size"),
        (&["sent", "list", "--limit", "0"][..], 2, "--limit"),
        (&["batch", "list", "--page-size", "0"][..], 2, "--page-size"),
        (
            &[
                "sent",
                "list",
                "--sent-from",
                "2026-02-01",
                "--sent-to",
                "2026-01-01",
            ][..],
            4,
            "sent_at: the range ends before it starts",
        ),
        (
            &[
                "sent",
                "list",
                "--scheduled-from",
                "2026-02-01",
                "--scheduled-to",
                "2026-01-01",
            ][..],
            4,
            "scheduled_at: the range ends before it starts",
        ),
    ] {
        let mut all = vec!["--mock"];
        all.extend_from_slice(args);
        let out = support::hero_offline(&all);
        assert_eq!(code(&out), exit, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// A recipients file that cannot be read is a usage error (exit 2, "check the file's path"), not
/// "invalid request"; and `-v` logs carry no colour codes into a pipe or a log file (both found
/// by a new-user trial).
#[test]
fn an_unreadable_file_is_a_usage_error_and_logs_in_a_pipe_have_no_colour() {
    let out = support::hero_offline(&[
        "--mock",
        "batch",
        "create",
        "--name",
        "Flu",
        "--channel",
        "sms",
        "--content",
        "Hi",
        "--recipients",
        "/nonexistent/recipients.csv",
    ]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot be read"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("hint: check the file's path"),
        "{}",
        stderr(&out)
    );

    let out = support::hero_offline(&["--mock", "-v", "sent", "list", "--limit", "1"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("list_sent_messages"),
        "logged: {}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains('\u{1b}'),
        "colour codes: {:?}",
        stderr(&out)
    );
}

/// The adversary trial: a server that answers a send with patient data in `message_id` cannot
/// make `hero` print it; an id is shown only in an id's shape (the send itself succeeded).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_id_that_is_not_id_shaped_is_never_printed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                // The head, then the body its content-length names.
                loop {
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if seen.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                let body = r#"{"message_id":"Ada Lovelace 07700 900123","content":"x","created_at":"2026-01-01T00:00:00Z","write_to_record":false}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(answer.as_bytes()).await;
            });
        }
    });
    let out = hero_with(
        url,
        KEY,
        &[
            "messages",
            "send",
            "--patient-id",
            "98765",
            "--type",
            "sms",
            "--text",
            "Your results are ready",
        ],
    )
    .await;
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_eq!(code(&out), 0, "{all}");
    assert!(
        !all.contains("Lovelace") && !all.contains("900123"),
        "{all}"
    );
    assert!(all.contains('…'), "{all}");
}

/// The last adversary's trial: `register-pds` traced by name without `--postcode` was refused
/// naming `--nhs-number`. The refusal names what is missing of the three, never a value, and
/// nothing is sent; with none of them it names `--nhs-number`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_pds_by_name_names_the_option_missing() {
    let mock = MockServer::start().await;
    let base = ["patients", "register-pds", "--dob", "1955-06-02"];
    for (extra, says) in [
        (
            &["--forename", "Ada", "--surname", "Lovelace"][..],
            "--postcode required",
        ),
        (
            &["--surname", "Lovelace"][..],
            "--forename and --postcode required",
        ),
        (&[][..], "--nhs-number is required"),
    ] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let out = hero(&mock, &args).await;
        assert_eq!(code(&out), 2, "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(says), "{extra:?}: {err}");
        assert!(!err.contains("Lovelace") && !err.contains("Ada"), "{err}");
    }
    assert_eq!(mock.calls("register_patient_pds"), 0, "nothing sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_create_send_wait_is_one_command_and_failures_names_the_patients() {
    let mock =
        mock_with(MockServer::builder().batch_outcome(SET_TO_FAIL, RecipientOutcome::Error)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = support::recipients_csv(&dir, &[SHARED_A, SHARED_B, SET_TO_FAIL, REACHED]);

    // --wait needs --send; a bad row refuses the file, exit 4, nothing sent: the same checks.
    let out = hero(&mock, &support::batch_create_args(&file, &["--wait"])).await;
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let bad = support::recipients_csv(&dir, &[SHARED_A, "9434765918"]);
    let out = hero(
        &mock,
        &support::batch_create_args(&bad, &["--send", "--wait"]),
    )
    .await;
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("line 3: nhs_number: an NHS number has a wrong check digit"),
        "{}",
        stderr(&out)
    );
    assert!(mock.journal().is_empty(), "nothing reached the server");

    // Created, sent and waited for in one command: 3 of 4 sends fail, so exit 13, and the hint
    // names the command that says whom they were for.
    let file = support::recipients_csv(&dir, &[SHARED_A, SHARED_B, SET_TO_FAIL, REACHED]);
    let out = hero(
        &mock,
        &support::batch_create_args(&file, &["--send", "--wait", "--timeout", "60"]),
    )
    .await;
    assert_eq!(code(&out), 13, "{}", stderr(&out));
    let batch: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(batch["status"], "COMPLETED");
    let id = batch["id"].as_str().unwrap().to_owned();
    let err = stderr(&out);
    assert!(err.contains(&format!("created batch {id}")), "{err}");
    assert!(err.contains("3 of 4 sends failed"), "{err}");
    assert!(
        err.contains(&format!("hint: `hero batch failures {id}`")),
        "{err}"
    );
    assert_eq!(mock.calls("create_batch_message"), 1);
    assert_eq!(mock.calls("send_batch_message"), 1);

    let out = hero(&mock, &["--format", "json", "batch", "failures", &id]).await;
    let rows = json(&out);
    let rows = rows.as_array().unwrap();
    let exact: Vec<_> = rows.iter().filter(|r| r["match"] == "exact").collect();
    assert_eq!(exact.len(), 1, "{rows:?}");
    // Patient data is not printed: a program reads HeroClient::batch_failures for who they are.
    assert_eq!(exact[0]["nhs_number"], herohealth::REDACTED);
    assert_eq!(exact[0]["problem"], "send failed");
    let ambiguous: Vec<_> = rows
        .iter()
        .filter(|r| r["match"].as_str().unwrap().starts_with("ambiguous"))
        .collect();
    // Two failed sends to the shared mobile, each listing both patients.
    assert_eq!(ambiguous.len(), 4, "{rows:?}");
    for r in &ambiguous {
        assert_eq!(r["nhs_number"], herohealth::REDACTED, "{r}");
        assert_eq!(r["to"], herohealth::REDACTED);
    }
    let printed = serde_json::to_string(&rows).unwrap();
    for nhs in [SHARED_A, SHARED_B, REACHED, SET_TO_FAIL, "+447700900666"] {
        assert!(!printed.contains(nhs), "{printed}");
    }
    assert!(
        stderr(&out).contains("3 of 4 sends failed (1 traced to one patient, 2 ambiguous"),
        "{}",
        stderr(&out)
    );

    // --send without --wait prints the sent batch and exits 0.
    let out = hero(&mock, &support::batch_create_args(&file, &["--send"])).await;
    let sent = json(&out);
    assert_ne!(sent["status"], "CREATED");
}

/// Issue 23: `-vv` logs more of the client, never hyper's or h2's frame-level lines (nor
/// reqwest's, which name URLs), even with `RUST_LOG=trace` in the environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_twice_logs_the_client_and_nothing_of_the_http_stack() {
    let mock = mock().await;
    let mut env = support::env_for(&mock.base_url(), KEY, PRACTICE);
    env.push(("RUST_LOG".to_owned(), "trace".to_owned()));
    let out = support::hero_env_async(
        env,
        &[
            "-vv",
            "sent",
            "list",
            "--limit",
            "1",
            "--first-name",
            "Grace",
        ],
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let log = stderr(&out);
    assert!(log.contains("hero request attempt"), "{log}");
    for line in log.lines() {
        for target in [" h2", " hyper", "reqwest", "rustls", "frame"] {
            assert!(!line.contains(target), "{target}: {line}");
        }
        assert!(!line.contains("Grace"), "{line}");
    }
}
