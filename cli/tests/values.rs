//! The API's enum values on the command line: any case, sent in the API's spelling, listed in
//! `--help` from the client's enums; refusals that do not echo what was typed; shell completions;
//! and usage errors that name the option (or the word's position), never the value typed.

mod support;

use std::process::Output;

use herohealth::types::{CreateBatchMessageRequest, SendMessageRequest};
use herohealth_mock::MockServer;
use support::{code, stderr};

const KEY: &str = "hero-mock-test-key-values";
const PRACTICE: &str = "practice-cli-values";

async fn mock() -> MockServer {
    MockServer::builder()
        .api_key(KEY, PRACTICE)
        .start()
        .await
        .unwrap()
}

async fn hero(mock: &MockServer, args: &[&str]) -> Output {
    support::hero_at(mock.base_url(), KEY, PRACTICE, args).await
}

fn run_offline(args: &[&str]) -> Output {
    support::hero_offline(args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_type_in_any_case_is_sent_in_the_apis_spelling() {
    let mock = mock().await;
    for typed in ["sms", "SMS", "Sms", "nhs_app", "NHS_APP"] {
        let out = hero(
            &mock,
            &[
                "messages",
                "send",
                "--patient-id",
                "42",
                "--type",
                typed,
                "--text",
                "Hello",
            ],
        )
        .await;
        assert!(
            out.status.success(),
            "{typed}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sent: SendMessageRequest = mock.journal().last().unwrap().body_as().unwrap();
        assert_eq!(
            sent.message_type.as_str(),
            typed.to_ascii_lowercase(),
            "{typed}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_channel_in_any_case_is_sent_in_the_apis_spelling() {
    let mock = mock().await;
    let dir = std::env::temp_dir().join(format!("hero-values-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("recipients.csv");
    std::fs::write(&csv, "nhs_number,dob\n9434765919,1955-06-02\n").unwrap();
    for typed in ["sms", "SMS", "nhs_app"] {
        let out = hero(
            &mock,
            &[
                "batch",
                "create",
                "--name",
                "Flu",
                "--channel",
                typed,
                "--content",
                "Book now",
                "--recipients",
                csv.to_str().unwrap(),
            ],
        )
        .await;
        assert!(
            out.status.success(),
            "{typed}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sent: CreateBatchMessageRequest = mock.journal().last().unwrap().body_as().unwrap();
        assert_eq!(sent.channel.as_str(), typed.to_ascii_uppercase(), "{typed}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_filter_in_any_case_filters() {
    let mock = MockServer::builder()
        .api_key(KEY, PRACTICE)
        .seed_sent_messages(40)
        .start()
        .await
        .unwrap();
    let out = hero(
        &mock,
        &[
            "--format", "json", "sent", "list", "--status", "FATAL", "--all",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().expect("a JSON array");
    assert_eq!(rows.len(), 8, "every fifth seeded message is fatal");
    assert!(rows.iter().all(|r| r["status"] == "fatal"), "{rows:?}");
}

#[test]
fn an_unknown_value_is_refused_with_the_values_and_without_echoing_it() {
    let out = run_offline(&[
        "--mock",
        "messages",
        "send",
        "--patient-id",
        "42",
        "--type",
        "Ada Lovelace",
        "--text",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("hero, sms, email, nhs_app"), "{err}");
    assert!(!err.contains("Lovelace"), "{err}");
}

#[test]
fn help_lists_the_values_of_the_clients_enums() {
    let help = String::from_utf8(run_offline(&["messages", "send", "--help"]).stdout).unwrap();
    for v in herohealth::MessageType::KNOWN {
        assert!(help.contains(v.as_str()), "{v} missing from:\n{help}");
    }
    let help = String::from_utf8(run_offline(&["sent", "list", "--help"]).stdout).unwrap();
    for v in herohealth::DeliveryStatus::KNOWN {
        assert!(help.contains(v.as_str()), "{v} missing from:\n{help}");
    }
}

#[test]
fn completions_are_printed_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "_hero()"),
        ("zsh", "#compdef hero"),
        ("fish", "complete -c hero"),
    ] {
        let out = run_offline(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(
            script.contains(marker),
            "{shell}: {}",
            &script[..script.len().min(300)]
        );
        // Subcommands are completed too.
        assert!(
            script.contains("messages") && script.contains("send-many"),
            "{shell}"
        );
    }
    assert_eq!(run_offline(&["completions", "tcsh"]).status.code(), Some(2));
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
            "unknown option at word 5 of the command line",
        ),
        // An unknown option is text typed too: named by its place, never by what was typed.
        (
            &["sent", "list", "--Jane-Lovelace-9434765919"],
            "unknown option at word 4 of the command line",
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
