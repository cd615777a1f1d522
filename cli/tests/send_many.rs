//! `hero messages send-many` against herohealth-mock: refused input sends nothing, a resume sends
//! nothing twice, another file's journal is refused, a refused row exits 13, an ambiguous one 9,
//! and no output shows patient data.

use std::{path::Path, process::Output};

use herohealth_mock::{Fault, FaultRule, MockServer};

const KEY: &str = "hero-send-many-test-key";
const PRACTICE: &str = "practice-send-many";
const CSV: &str = "patient_id,type,text,to\n\
                   3001,sms,Dear Ada your results are ready,+447700900123\n\
                   3002,email,Dear Grace please book,grace@example.org\n\
                   3003,sms,Dear Tim your review is due,\n";

async fn mock() -> MockServer {
    MockServer::builder()
        .api_key(KEY, PRACTICE)
        .start()
        .await
        .unwrap()
}

async fn send_many(mock: &MockServer, dir: &Path, csv: &str, format: &str) -> Output {
    let (file, journal) = (dir.join(format!("{csv}.csv")), dir.join("j.db"));
    let url = mock.base_url();
    let format = format.to_owned();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_hero"))
            .env_clear()
            .env("HERO_API_KEY", KEY)
            .env("HERO_PRACTICE_GROUP_ID", PRACTICE)
            .env("HERO_BASE_URL", url)
            .args(["--format", &format, "messages", "send-many", "--from"])
            .arg(file)
            .arg("--journal")
            .arg(journal)
            .args(["--find-delay", "20"])
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn no_patient_data(out: &Output) {
    let all = text(out);
    for secret in [
        "Ada",
        "Grace",
        "Tim",
        "447700900123",
        "grace@example.org",
        KEY,
        PRACTICE,
    ] {
        assert!(!all.contains(secret), "{secret} shown: {all}");
    }
}

#[tokio::test]
async fn sends_each_row_once_and_a_rerun_resumes_without_sending_again() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.csv"), CSV).unwrap();
    let out = send_many(&mock, dir.path(), "a", "csv").await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "line,row,status,message_id,reason");
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(lines[1].starts_with("2,1,sent,") && lines[3].starts_with("4,3,sent,"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("3 rows: 3 sent, 0 failed"));
    no_patient_data(&out);

    let again = send_many(&mock, dir.path(), "a", "csv").await;
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_eq!(again.stdout, out.stdout, "the same rows, the same ids");
    assert_eq!(mock.calls("send_message"), 3);

    // Another file with the same journal: refused, nothing sent.
    std::fs::write(dir.path().join("b.csv"), format!("{CSV}3004,sms,Hi,\n")).unwrap();
    let other = send_many(&mock, dir.path(), "b", "csv").await;
    assert_eq!(other.status.code(), Some(2), "{}", text(&other));
    assert!(text(&other).contains("different input file"));
    assert!(other.stdout.is_empty());
    assert_eq!(mock.calls("send_message"), 3);
}

#[tokio::test]
async fn a_bad_row_refuses_the_file_by_line_and_field_and_sends_nothing() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let bad = format!("{CSV}30x5,sms,Dear Ada,\n3006,sms,Dear Ada,Ada's phone\n");
    std::fs::write(dir.path().join("bad.csv"), bad).unwrap();
    let out = send_many(&mock, dir.path(), "bad", "table").await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 5: field `patient_id`"), "{stderr}");
    assert!(stderr.contains("line 6: field `to`"), "{stderr}");
    no_patient_data(&out);
    assert_eq!(mock.calls("send_message"), 0);
    assert!(
        !dir.path().join("j.db").exists(),
        "no journal for a refused file"
    );
}

#[tokio::test]
async fn a_refused_row_exits_13_and_an_ambiguous_one_9() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.csv"), CSV).unwrap();
    // The first send Hero sees is refused (400); with 4 sends at once it may be any row's.
    mock.inject(FaultRule::new("send_message", Fault::Status(400)).nth(1));
    let out = send_many(&mock, dir.path(), "a", "ndjson").await;
    assert_eq!(out.status.code(), Some(13), "{}", text(&out));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let failed: Vec<_> = rows.iter().filter(|r| r["status"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{rows:?}");
    assert!(failed[0]["reason"].as_str().unwrap().contains("invalid"));
    assert!(failed[0]["message_id"].is_null());
    no_patient_data(&out);

    // A new file whose one row's send is processed and its answer lost, while another message to
    // the same patient sits in the window: ambiguous, never sent again, exit 9.
    let mock = self::mock().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.csv"),
        "patient_id,type,text\n3001,sms,Hi\n",
    )
    .unwrap();
    mock.inject(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(2));
    mock.client()
        .send_message()
        .body_map(|b| {
            b.patient_id("3001")
                .message_type(herohealth::MessageType::Sms)
                .message_string("Sent by other software")
        })
        .send()
        .await
        .unwrap();
    let out = send_many(&mock, dir.path(), "c", "ndjson").await;
    assert_eq!(out.status.code(), Some(9), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(r#""status":"ambiguous""#));
    assert_eq!(mock.calls("send_message"), 2);
}
