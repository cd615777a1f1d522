//! Day two of `hero` (issues 23 and 27): the batch flow in one command and its failures traced to
//! patients, comma lists and times ago in filters, exports without patient data, usage errors
//! that never show a value typed, `-vv` without the HTTP stack's frames, and `hero mock start`
//! keeping state across commands.

mod support;

use std::process::Output;

use herohealth_mock::{MockServer, RecipientOutcome};
use serde_json::Value;

const KEY: &str = "hero-day-two-cli-test-key";
const PRACTICE: &str = "practice-day-two-cli";

/// Two valid NHS numbers ending alike (`…666`): the mock gives both the failing mobile
/// `+447700900666`.
const SHARED_A: &str = "9434760666";
const SHARED_B: &str = "9434777666";
/// Set to fail by NHS number.
const SET_TO_FAIL: &str = "9434765919";
const REACHED: &str = "9434765862";

async fn mock() -> MockServer {
    MockServer::builder()
        .api_key(KEY, PRACTICE)
        .seed_sent_messages(60)
        .batch_outcome(SET_TO_FAIL, RecipientOutcome::Error)
        .time_scale(200.0)
        .start()
        .await
        .unwrap()
}

async fn hero(mock: &MockServer, args: &[&str]) -> Output {
    support::hero_at(mock.base_url(), KEY, PRACTICE, args).await
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    assert_eq!(code(out), 0, "{}", stderr(out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn csv_file(dir: &tempfile::TempDir, rows: &[&str]) -> String {
    let path = dir.path().join("recipients.csv");
    let mut text = "nhs_number,dob\n".to_owned();
    for nhs in rows {
        text.push_str(&format!("{nhs},1960-01-31\n"));
    }
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn create_args<'a>(file: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_create_send_wait_is_one_command_and_failures_names_the_patients() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let file = csv_file(&dir, &[SHARED_A, SHARED_B, SET_TO_FAIL, REACHED]);

    // --wait needs --send; a bad row refuses the file, exit 4, nothing sent: the same checks.
    let out = hero(&mock, &create_args(&file, &["--wait"])).await;
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let bad = csv_file(&dir, &[SHARED_A, "9434765918"]);
    let out = hero(&mock, &create_args(&bad, &["--send", "--wait"])).await;
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("line 3: nhs_number: an NHS number has a wrong check digit"),
        "{}",
        stderr(&out)
    );
    assert!(mock.journal().is_empty(), "nothing reached the server");

    // Created, sent and waited for in one command: 3 of 4 sends fail, so exit 13, and the hint
    // names the command that says whom they were for.
    let file = csv_file(&dir, &[SHARED_A, SHARED_B, SET_TO_FAIL, REACHED]);
    let out = hero(
        &mock,
        &create_args(&file, &["--send", "--wait", "--timeout", "60"]),
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
    assert_eq!(exact[0]["nhs_number"], SET_TO_FAIL);
    assert_eq!(exact[0]["problem"], "send failed");
    let ambiguous: Vec<_> = rows
        .iter()
        .filter(|r| r["match"].as_str().unwrap().starts_with("ambiguous"))
        .collect();
    // Two failed sends to the shared mobile, each listing both patients.
    assert_eq!(ambiguous.len(), 4, "{rows:?}");
    for r in &ambiguous {
        assert!(
            r["nhs_number"] == SHARED_A || r["nhs_number"] == SHARED_B,
            "{r}"
        );
        assert_eq!(r["to"], "+447700900666");
    }
    assert!(!rows.iter().any(|r| r["nhs_number"] == REACHED));
    assert!(
        stderr(&out).contains("3 of 4 sends failed (1 traced to one patient, 2 ambiguous"),
        "{}",
        stderr(&out)
    );

    // --send without --wait prints the sent batch and exits 0.
    let out = hero(&mock, &create_args(&file, &["--send"])).await;
    let sent = json(&out);
    assert_ne!(sent["status"], "CREATED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_take_comma_lists_and_a_time_ago() {
    let mock = mock().await;
    let ids = |out: &Output| -> Vec<String> {
        json(out)
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let base = ["--format", "json", "sent", "list", "--all"];
    let with = |extra: &[&'static str]| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        a
    };
    let repeated = ids(&hero(&mock, &with(&["--status", "fatal", "--status", "declined"])).await);
    let listed = ids(&hero(&mock, &with(&["--status", "fatal,DECLINED"])).await);
    assert!(!repeated.is_empty());
    assert_eq!(listed, repeated);
    let types = ids(&hero(&mock, &with(&["--type", "sms,email"])).await);
    let sms = ids(&hero(&mock, &with(&["--type", "sms"])).await);
    assert!(types.len() > sms.len() && !sms.is_empty());

    // The seeded messages are from long ago: "sent in the last day" lists only the new one.
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
                "Hello",
                "--wait",
            ],
        )
        .await,
    );
    assert_eq!(sent["status"]["response"], "delivered");
    let recent = ids(&hero(&mock, &with(&["--sent-from", "1d"])).await);
    assert_eq!(recent, [sent["id"].as_str().unwrap()]);
    let out = hero(&mock, &with(&["--sent-from", "2w", "--sent-to", "1w"])).await;
    assert!(ids(&out).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_without_patient_data_holds_no_names_or_contacts_in_any_format() {
    let mock = mock().await;
    // What the seeded rows hold: names and contact details.
    let full = json(
        &hero(
            &mock,
            &["--format", "json", "sent", "list", "--limit", "30"],
        )
        .await,
    );
    let mut secrets = Vec::new();
    for row in full.as_array().unwrap() {
        for pointer in [
            "/patient/first_name",
            "/patient/last_name",
            "/recipient_contact_detail",
        ] {
            secrets.push(row.pointer(pointer).unwrap().as_str().unwrap().to_owned());
        }
    }
    assert!(secrets.len() >= 90);
    for format in ["table", "json", "ndjson", "csv"] {
        let out = hero(
            &mock,
            &[
                "--format",
                format,
                "sent",
                "list",
                "--limit",
                "30",
                "--no-patient-data",
            ],
        )
        .await;
        assert_eq!(code(&out), 0, "{format}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("1001"), "{format}: patient ids stay: {text}");
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{format}: {s} in {text}");
        }
    }
    let chosen = json(
        &hero(
            &mock,
            &[
                "--format",
                "json",
                "sent",
                "list",
                "--limit",
                "5",
                "--columns",
                "status,id",
            ],
        )
        .await,
    );
    for row in chosen.as_array().unwrap() {
        let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 2, "{row}");
        assert!(row["id"].is_string() && row["status"].is_string(), "{row}");
    }
    let csv = stdout(
        &hero(
            &mock,
            &[
                "--format",
                "csv",
                "sent",
                "list",
                "--limit",
                "2",
                "--columns",
                "status,id",
            ],
        )
        .await,
    );
    assert!(csv.starts_with("status,id\n"), "{csv}");
    // A column that does not exist is a usage error listing the columns.
    let out = support::hero_offline(&["--mock", "sent", "list", "--columns", "id,nhs"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("first_name"), "{}", stderr(&out));
}

/// Issue 23: no usage error shows a value typed. Each command line puts patient data (a name, an
/// NHS number, a phone number, an email, a date of birth) where the option cannot take it; the
/// error names the option (or the word's position) and shows none of it. clap's own rendering
/// quoted every one of these.
#[test]
fn usage_errors_name_the_option_and_never_show_the_value() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "patients",
                "register-pds",
                "--nhs-number",
                "9434765919",
                "--dob",
                "02/06/1955",
            ],
            "--dob",
        ),
        (
            &[
                "messages",
                "send",
                "--patient-id",
                "42",
                "--type",
                "sms",
                "--text",
                "Dear",
                "Jane",
                "Lovelace",
            ],
            "a value with spaces must be in quotes",
        ),
        (
            &["sent", "list", "--sent-from", "07700900123"],
            "--sent-from",
        ),
        (
            &[
                "sent",
                "list",
                "--sent-from",
                "1d",
                "--sent-to",
                "02/06/1955",
            ],
            "--sent-to",
        ),
        (
            &["sent", "list", "--scheduled-from", "Jane Lovelace"],
            "--scheduled-from",
        ),
        (&["sent", "list", "--status", "Jane Lovelace"], "--status"),
        (
            &["sent", "list", "--status", "fatal,9434765919"],
            "--status",
        ),
        (
            &["sent", "list", "--type", "jane.lovelace@example.org"],
            "--type",
        ),
        (
            &["sent", "list", "--write-to-record", "9434765919"],
            "--write-to-record",
        ),
        (&["sent", "list", "--order-by", "Lovelace"], "--order-by"),
        (&["sent", "list", "--limit", "07700900123x"], "--limit"),
        (
            &["sent", "list", "--page-size", "9434765919999999999999"],
            "--page-size",
        ),
        (&["sent", "list", "--scheduled", "Lovelace"], "--scheduled"),
        (&["sent", "list", "--columns", "Lovelace"], "--columns"),
        (&["sent", "list", "Jane Lovelace"], "unexpected argument"),
        (&["sent", "Lovelace"], "unknown command"),
        (&["Lovelace"], "unknown command"),
        (&["--format", "Lovelace", "sent", "list"], "--format"),
        (
            &[
                "messages",
                "send",
                "--patient-id",
                "42",
                "--type",
                "Lovelace",
                "--text",
                "Hi",
            ],
            "--type",
        ),
        (
            &[
                "messages",
                "send",
                "--patient-id",
                "42",
                "--type",
                "sms",
                "--text",
                "Hi",
                "--send-at",
                "1955-06-02T25:00:00Z",
            ],
            "--send-at",
        ),
        (
            &[
                "messages",
                "send",
                "--patient-id",
                "42",
                "--type",
                "sms",
                "--text",
                "Hi",
                "--attach",
                "x",
                "--attach-max-uses",
                "Lovelace",
            ],
            "--attach-max-uses",
        ),
        (
            &[
                "batch",
                "create",
                "--name",
                "Flu",
                "--channel",
                "Lovelace",
                "--content",
                "c",
                "--recipients",
                "f.csv",
            ],
            "--channel",
        ),
        (
            &[
                "messages",
                "send-many",
                "--from",
                "a.csv",
                "--journal",
                "a.db",
                "--rate",
                "07700900123x",
            ],
            "--rate",
        ),
        (
            &[
                "webhooks",
                "listen",
                "--port",
                "9434765919",
                "--signing-key",
                "k",
            ],
            "--port",
        ),
        (
            &["mock", "start", "--batch-outcome", "9434765919=Lovelace"],
            "--batch-outcome",
        ),
        (
            &["mock", "start", "--batch-outcome", "9434765918=ERROR"],
            "--batch-outcome",
        ),
        (&["completions", "Lovelace"], "Lovelace-free"),
        (
            &["sent", "list", "--to=07700900123", "--frob=07700900123"],
            "--frob",
        ),
    ];
    let secrets = [
        "02/06/1955",
        "1955",
        "Jane",
        "Lovelace",
        "9434765919",
        "9434765918",
        "07700900123",
        "900123",
        "jane.lovelace",
        "25:00",
    ];
    for (args, says) in cases {
        let mut all = vec!["--mock"];
        all.extend_from_slice(args);
        let out = support::hero_offline(&all);
        let err = stderr(&out);
        assert_eq!(code(&out), 2, "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        if *says != "Lovelace-free" {
            assert!(err.contains(says), "{args:?} should name {says}: {err}");
        }
        for s in secrets {
            assert!(!err.contains(s), "{args:?}: `{s}` in the error: {err}");
        }
    }
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

    // The batch flow, as the README shows it, across commands.
    let dir = tempfile::tempdir().unwrap();
    let file = csv_file(&dir, &[SET_TO_FAIL, REACHED]);
    let out = support::hero_env(&started.0, &create_args(&file, &["--send", "--wait"]));
    assert_eq!(code(&out), 13, "{}", stderr(&out));
    let batch: Value = serde_json::from_slice(&out.stdout).unwrap();
    let batch_id = batch["id"].as_str().unwrap();
    let rows = json(&support::hero_env(
        &started.0,
        &["--format", "json", "batch", "failures", batch_id],
    ));
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["nhs_number"], SET_TO_FAIL);

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
