//! Issue 35 through `hero messages send-many`, as a practice runs it: a row ends `sent` only with
//! its own message, `ambiguous` (exit 9) when the evidence does not settle it, and is never
//! written twice. Each test waits on what the mock saw, never on a clock.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::Duration,
};

use herohealth::MessageType;
use herohealth_mock::{DateHeader, Fault, FaultRule, MockServer};

const KEY: &str = "hero-evidence-test-key";
const PRACTICE: &str = "practice-evidence-1";

/// One row: patient 5001, an SMS to the number the other sender uses too.
const CSV: &str = "patient_id,type,text,to\n5001,sms,Your results are ready,+447700900123\n";

fn files(dir: &Path) -> (PathBuf, PathBuf) {
    let csv = dir.join("rows.csv");
    std::fs::write(&csv, CSV).unwrap();
    (csv, dir.join("rows.db"))
}

fn hero(mock: &MockServer, csv: &Path, journal: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hero"));
    cmd.env_clear()
        .env("HERO_API_KEY", KEY)
        .env("HERO_PRACTICE_GROUP_ID", PRACTICE)
        .env("HERO_BASE_URL", mock.base_url())
        .env("HERO_TIMEOUT", "2")
        .args(["--format", "ndjson", "messages", "send-many", "--from"])
        .arg(csv)
        .arg("--journal")
        .arg(journal)
        .args(["--rate", "1000", "--find-delay", "50"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

async fn run(cmd: Command) -> Output {
    let mut cmd = cmd;
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// The one row's line of output.
fn row(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    lines[0].clone()
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn mock(
    configure: impl FnOnce(herohealth_mock::MockConfig) -> herohealth_mock::MockConfig,
) -> MockServer {
    configure(MockServer::builder().api_key(KEY, PRACTICE))
        .start()
        .await
        .unwrap()
}

/// The practice's appointment system messages the same patient, channel and recipient.
async fn another_sender(mock: &MockServer) -> String {
    let hero = herohealth::HeroClient::builder()
        .api_key(KEY)
        .practice_group_id(PRACTICE)
        .base_url(mock.base_url())
        .build()
        .unwrap();
    hero.send_message()
        .body_map(|b| {
            b.patient_id("5001")
                .message_type(MessageType::Sms)
                .message_string("Your appointment is confirmed")
                .recipient_contact_detail("+447700900123")
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .message_id
}

/// Starts `hero`, waits until the mock holds its request, then kills it (SIGKILL).
async fn killed_while_held(mock: &MockServer, cmd: Command) {
    let mut cmd = cmd;
    let mut child: Child = cmd.spawn().unwrap();
    while mock.calls("send_message") == 0 {
        assert!(child.try_wait().unwrap().is_none(), "hero ended first");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    let _ = child.wait();
}

/// Scenario 1: `send-many` is killed while Hero holds the row's request, and Hero drops it;
/// another sender then messages the patient. The re-run never reports the row sent with that
/// message's id: it is ambiguous (exit 9), for a person; nothing is written again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_1_the_re_run_never_takes_another_sender_s_message_for_the_row() {
    for give_text in [true, false] {
        let mock = mock(|c| {
            c.no_message_content(!give_text).fault(
                FaultRule::new("send_message", Fault::Latency(Duration::from_secs(60))).nth(1),
            )
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let (csv, journal) = files(dir.path());
        killed_while_held(&mock, hero(&mock, &csv, &journal)).await;
        assert_eq!(mock.processed("send_message"), 0, "Hero dropped it");
        let other = another_sender(&mock).await;
        let out = run(hero(&mock, &csv, &journal)).await;
        assert_eq!(out.status.code(), Some(9), "{}", text(&out));
        let row = row(&out);
        assert_eq!(row["status"], "ambiguous", "{}", text(&out));
        assert_ne!(row["message_id"], serde_json::json!(other));
        assert_eq!(mock.processed("send_message"), 1, "only the other sender's");
        if give_text {
            // The other sender's message is the row's one candidate, and its text differs: a
            // person choosing it is refused on Hero's evidence, and the row stays to decide.
            let mut decide = outbox(
                "json",
                &[
                    "decide",
                    "--run",
                    "0",
                    "--line",
                    "2",
                    "--sent",
                    &other,
                    "--by",
                    "Dr A",
                    "--note",
                    "the one candidate",
                ],
                &journal,
            );
            decide
                .env("HERO_API_KEY", KEY)
                .env("HERO_PRACTICE_GROUP_ID", PRACTICE)
                .env("HERO_BASE_URL", mock.base_url());
            let out = run(decide).await;
            assert_eq!(out.status.code(), Some(2), "{}", text(&out));
            let said = text(&out);
            assert!(
                said.contains("--sent: Hero's records show that candidate to be another message"),
                "{said}"
            );
            let status = run(outbox("json", &["status"], &journal)).await;
            let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
            assert_eq!(status["decided"], serde_json::json!([]), "{status}");
            let reason = status["to_decide"][0]["reason"]
                .as_str()
                .unwrap_or_default();
            assert!(!reason.contains("matches this send"), "{status}");
            assert_eq!(
                mock.processed("send_message"),
                1,
                "nothing sent by deciding"
            );
        }
    }
}

/// Scenario 3: a proxy whose `Date` runs steadily 90 s ahead of Hero's clock. A row whose send
/// went (its answer lost) ends sent, with its own message, found by its text; one whose send
/// never arrived is ambiguous, never written again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_3_a_proxy_date_90_s_ahead_never_sends_a_row_twice() {
    let went = mock(|c| {
        c.date_header(DateHeader::Skewed(90))
            .fault(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(1))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (csv, journal) = files(dir.path());
    let out = run(hero(&went, &csv, &journal)).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let ours = went.sent_messages()[0].id.clone();
    assert_eq!(row(&out)["message_id"], serde_json::json!(ours));
    assert_eq!(went.processed("send_message"), 1);

    let never = mock(|c| {
        c.date_header(DateHeader::Skewed(90))
            .fault(FaultRule::new("send_message", Fault::ResetBeforeProcessing).nth(1))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (csv, journal) = files(dir.path());
    let out = run(hero(&never, &csv, &journal)).await;
    assert_eq!(out.status.code(), Some(9), "{}", text(&out));
    assert_eq!(row(&out)["status"], "ambiguous");
    assert_eq!(never.calls("send_message"), 1, "never written again");
}

/// `hero outbox ...` on a journal, with nothing else in the environment.
fn outbox(format: &str, args: &[&str], journal: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hero"));
    cmd.env_clear()
        .args(["--format", format, "outbox"])
        .args(args)
        .arg("--journal")
        .arg(journal)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// A person decides the ambiguous row of scenario 1 with `hero outbox decide`: a decision needs
/// exactly one choice, a name and a note; it is made once (a second is refused, exit 10), kept
/// (`hero outbox decisions` as JSON and CSV, `hero outbox status` shows the row decided), and a
/// send-again goes back through `send-many`: sent once, with its own message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_decides_the_ambiguous_row_once_and_on_the_record() {
    let mock = mock(|c| {
        c.fault(FaultRule::new("send_message", Fault::Latency(Duration::from_secs(60))).nth(1))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (csv, journal) = files(dir.path());
    killed_while_held(&mock, hero(&mock, &csv, &journal)).await;
    let other = another_sender(&mock).await;
    let out = run(hero(&mock, &csv, &journal)).await;
    assert_eq!(out.status.code(), Some(9), "{}", text(&out));

    let decide = |extra: &[&str]| {
        let mut args = vec!["decide", "--run", "0", "--line", "2"];
        args.extend_from_slice(extra);
        outbox("json", &args, &journal)
    };
    let note = "phoned the patient: not received";
    // Exactly one choice, a name and a note, or nothing is decided (exit 2).
    for bad in [
        &["--by", "Dr Ada Example", "--note", note][..],
        &[
            "--send-again",
            "--abandon",
            "--by",
            "Dr Ada Example",
            "--note",
            note,
        ],
        &["--send-again", "--note", note],
        &["--send-again", "--by", "Dr Ada Example"],
        &["--send-again", "--by", " ", "--note", note],
    ] {
        let out = run(decide(bad)).await;
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", text(&out));
    }
    // No row waiting at another line.
    let out = run(outbox(
        "json",
        &[
            "decide",
            "--line",
            "3",
            "--abandon",
            "--by",
            "A",
            "--note",
            "n",
        ],
        &journal,
    ))
    .await;
    assert_eq!(out.status.code(), Some(10), "{}", text(&out));

    let out = run(decide(&[
        "--send-again",
        "--by",
        "Dr Ada Example",
        "--note",
        note,
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["choice"], "send_again");
    assert_eq!(record["line"], 2);
    assert_eq!(record["by"], "Dr Ada Example");
    assert!(
        record["candidates"].as_str().unwrap().contains(&other),
        "{record}"
    );

    // Once: a second decision is refused, whatever it is.
    let out = run(decide(&[
        "--sent",
        &other,
        "--by",
        "Someone Else",
        "--note",
        "x",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(10), "{}", text(&out));
    assert!(text(&out).contains("decided already"), "{}", text(&out));

    let status = run(outbox("json", &["status"], &journal)).await;
    assert_eq!(status.status.code(), Some(0), "{}", text(&status));
    let doc: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(doc["decided"][0]["choice"], "send_again", "{doc}");
    assert_eq!(doc["to_decide"].as_array().unwrap().len(), 0, "{doc}");
    assert!(
        !text(&status).contains("phoned"),
        "the note only in the record"
    );

    // The send-again goes through send-many: written once, sent with its own message.
    let processed = mock.processed("send_message");
    let out = run(hero(&mock, &csv, &journal)).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(mock.processed("send_message"), processed + 1);
    let row = row(&out);
    assert_eq!(row["status"], "sent", "{}", text(&out));
    assert_ne!(row["message_id"], serde_json::json!(other));
    let out = run(decide(&["--abandon", "--by", "A", "--note", "n"])).await;
    assert_eq!(out.status.code(), Some(10), "{}", text(&out));

    let json = run(outbox("json", &["decisions"], &journal)).await;
    let kept: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(kept.as_array().unwrap().len(), 1, "{kept}");
    // The note is a person's free text: kept in the journal, shown by its length only.
    assert_eq!(kept[0]["note"], "kept in the journal (32 chars)", "{kept}");
    assert!(!text(&json).contains("phoned"), "{}", text(&json));
    let csv_out = run(outbox("csv", &["decisions"], &journal)).await;
    let csv_text = String::from_utf8(csv_out.stdout).unwrap();
    let lines: Vec<&str> = csv_text.lines().collect();
    assert_eq!(lines.len(), 2, "{csv_text}");
    assert!(
        lines[0].starts_with("decision,run,row,line,choice"),
        "{csv_text}"
    );
    assert!(lines[1].contains("send_again") && lines[1].contains("Dr Ada Example"));
    assert!(!csv_text.contains("phoned"), "{csv_text}");
}

/// Two rows, patients 5001 and 5002, lines 2 and 3.
const TWO: &str = "patient_id,type,text,to\n5001,sms,Your results are ready,+447700900123\n5002,sms,Your results are ready,+447700900456\n";

/// A message in Hero to `patient` at `to`, as another sender (or a send whose answer was lost)
/// makes it.
async fn message(mock: &MockServer, patient: &str, text: &str, to: &str) -> String {
    let hero = herohealth::HeroClient::builder()
        .api_key(KEY)
        .practice_group_id(PRACTICE)
        .base_url(mock.base_url())
        .build()
        .unwrap();
    hero.send_message()
        .body_map(|b| {
            b.patient_id(patient)
                .message_type(MessageType::Sms)
                .message_string(text)
                .recipient_contact_detail(to)
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .message_id
}

/// The clinical-safety hole of a decision: `hero outbox decide --sent ID` with the message of
/// another patient's unresolved row is refused (exit 2, naming --sent; nothing recorded), with
/// Hero's records asked too; the run then resolves that row as sent with its own message, never
/// sending it twice. A message the person found that Hero shows to be the row's is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decide_sent_refuses_another_row_s_message() {
    use herohealth_outbox::{Input, Journal, RowState, SqliteJournal, Status};

    let mock = mock(|c| c).await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("rows.csv");
    std::fs::write(&csv, TWO).unwrap();
    let journal = dir.path().join("rows.db");
    // Row 3 (patient 5002) went, its answer lost: in flight, its message in Hero. Row 2 is
    // ambiguous, another sender's message its candidate.
    let other = another_sender(&mock).await;
    let theirs = {
        let j = SqliteJournal::open(&journal).unwrap();
        j.open(&Input::from_csv(TWO.as_bytes()).unwrap())
            .await
            .unwrap();
        let rows = j.claim(2).await.unwrap();
        let now = chrono::Utc::now();
        let attempt = herohealth::SendAttempt::new(
            &rows[1].row.request().unwrap(),
            now,
            now + chrono::Duration::seconds(2),
        );
        j.transition(0, 1, Status::Pending, &RowState::InFlight { attempt })
            .await
            .unwrap();
        let theirs = message(&mock, "5002", "Your results are ready", "+447700900456").await;
        let ambiguous = RowState::Ambiguous {
            message_ids: vec![other.clone()],
            reason: "example".into(),
        };
        j.transition(0, 0, Status::Pending, &ambiguous)
            .await
            .unwrap();
        theirs
    };
    let decide = |id: &str, with_hero: bool| {
        let mut cmd = outbox(
            "json",
            &[
                "decide",
                "--line",
                "2",
                "--sent",
                id,
                "--by",
                "Dr Ada Example",
                "--note",
                "found it",
            ],
            &journal,
        );
        if with_hero {
            cmd.env("HERO_API_KEY", KEY)
                .env("HERO_PRACTICE_GROUP_ID", PRACTICE)
                .env("HERO_BASE_URL", mock.base_url());
        }
        cmd
    };
    for with_hero in [false, true] {
        let out = run(decide(&theirs, with_hero)).await;
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            said.contains("--sent") && said.contains("nothing was decided"),
            "{said}"
        );
        if with_hero {
            assert!(said.contains("patient_id"), "{said}");
        }
    }
    let kept = run(outbox("json", &["decisions"], &journal)).await;
    assert_eq!(
        String::from_utf8_lossy(&kept.stdout).trim(),
        "[]",
        "{}",
        text(&kept)
    );

    // The re-run resolves row 3: sent, with its own message; nothing written again.
    let processed = mock.processed("send_message");
    let out = run(hero(&mock, &csv, &journal)).await;
    assert_eq!(
        out.status.code(),
        Some(9),
        "row 2 still to decide: {}",
        text(&out)
    );
    assert_eq!(
        mock.processed("send_message"),
        processed,
        "never sent twice"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        rows.iter()
            .any(|r| r["status"] == "sent" && r["message_id"] == serde_json::json!(theirs)),
        "{stdout}"
    );

    // A message the person found: Hero's records show it is row 2's.
    let found = message(&mock, "5001", "Your results are ready", "+447700900123").await;
    let out = run(decide(&found, true)).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["message_id"], serde_json::json!(found), "{record}");
}
