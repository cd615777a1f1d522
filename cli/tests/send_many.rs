//! `hero messages send-many` against herohealth-mock: refused input sends nothing, a resume sends
//! nothing twice, another file's journal is refused, a refused row exits 13, an ambiguous one 9,
//! and no output shows patient data.

mod support;

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

/// A mock that gives no message's text back: a row's own message cannot be told from another's.
async fn mock_without_text() -> MockServer {
    MockServer::builder()
        .api_key(KEY, PRACTICE)
        .no_message_content(true)
        .start()
        .await
        .unwrap()
}

async fn send_many(mock: &MockServer, dir: &Path, csv: &str, format: &str) -> Output {
    let (file, journal) = (dir.join(format!("{csv}.csv")), dir.join("j.db"));
    let mut cmd = support::hero_process(&mock.base_url(), KEY, PRACTICE);
    cmd.args(["--format", format, "messages", "send-many", "--from"])
        .arg(file)
        .arg("--journal")
        .arg(journal)
        .args(["--find-delay", "20"]);
    support::output_of(cmd).await
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
    // the same patient sits in the window, and Hero gives no text to tell them apart: ambiguous,
    // never sent again, exit 9.
    let mock = mock_without_text().await;
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

fn hero_cmd(url: &str, file: &Path, journal: &Path) -> std::process::Command {
    let mut cmd = support::hero_process(url, KEY, PRACTICE);
    cmd.env("HERO_TIMEOUT", "2")
        .args(["--format", "ndjson", "messages", "send-many", "--from"])
        .arg(file)
        .arg("--journal")
        .arg(journal)
        .args(["--find-delay", "20", "--rate", "1000"]);
    cmd
}

fn sha(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// Issue 22 §3: a second run on a journal another run holds (an overlapping cron job) exits 2
/// naming the journal as in use, sends nothing and changes nothing; once the holder is gone, the
/// same command runs.
#[tokio::test]
async fn a_journal_held_by_another_run_is_refused_and_nothing_changes() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let (file, journal) = (dir.path().join("a.csv"), dir.path().join("j.db"));
    std::fs::write(&file, CSV).unwrap();
    let holder = herohealth_outbox::SqliteJournal::open(&journal).unwrap();
    let before = sha(&journal);
    let out = support::output_of(hero_cmd(&mock.base_url(), &file, &journal)).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("in use by another run"), "{stderr}");
    // Named by its option, never by its path (a journal's name may name a patient).
    assert!(stderr.contains("the file given to --journal"), "{stderr}");
    assert!(!stderr.contains(&journal.display().to_string()), "{stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(mock.calls("send_message"), 0, "nothing sent");
    assert_eq!(sha(&journal), before, "nothing changed");
    no_patient_data(&out);
    drop(holder);
    let out = support::output_of(hero_cmd(&mock.base_url(), &file, &journal)).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(mock.processed("send_message"), 3);
}

/// Issue 22 §4: the same file opened and saved again (a byte order mark, CRLF, quoting, no final
/// newline, the type in capitals) is the same file: a re-run resumes and sends nothing again. A
/// really different file is refused, and the message names how many rows went and how to see
/// them, and does not advise a new journal.
#[tokio::test]
async fn a_resaved_file_is_the_same_file_and_a_different_one_is_refused_without_advising_a_new_journal()
 {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.db");
    let file = dir.path().join("a.csv");
    std::fs::write(&file, CSV).unwrap();
    let out = support::output_of(hero_cmd(&mock.base_url(), &file, &journal)).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let resaved = "\u{feff}\"patient_id\",\"type\",\"text\",\"to\"\r\n\
                   3001,SMS,\"Dear Ada your results are ready\",\"+447700900123\"\r\n\
                   \"3002\",email,Dear Grace please book,grace@example.org\r\n\
                   3003,sms,\"Dear Tim your review is due\",";
    let again = dir.path().join("a-resaved.csv");
    std::fs::write(&again, resaved).unwrap();
    let out = support::output_of(hero_cmd(&mock.base_url(), &again, &journal)).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(mock.calls("send_message"), 3, "nothing sent again");

    let other = dir.path().join("b.csv");
    std::fs::write(&other, CSV.replace("review is due", "review is overdue")).unwrap();
    let out = support::output_of(hero_cmd(&mock.base_url(), &other, &journal)).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("different input file"), "{stderr}");
    assert!(
        stderr.contains("3 of them sent or possibly sent"),
        "{stderr}"
    );
    assert!(stderr.contains("hero outbox status --journal"), "{stderr}");
    assert!(
        !stderr.contains("new journal") && !stderr.contains("new --journal"),
        "{stderr}"
    );
    assert_eq!(mock.calls("send_message"), 3);
    no_patient_data(&out);
}

/// Issue 22 §3: a journal deleted while a run holds it stops the run with a clear error, the
/// journal is written back where it was, and the re-run resumes from it: no row is sent twice.
/// One replaced by another file stops the run too, and what the run journaled is saved beside
/// it, named in the error.
///
/// On a busy machine: the replacement is one step (a rename over the journal), as a delete and
/// then a write would leave a moment when the run sees the journal deleted and writes it back,
/// and the write then lands on the journal written back; and the run has twenty rows at 200 ms
/// each, so a test thread held up for seconds still deletes the journal mid-run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_deleted_or_replaced_during_a_run_stops_it_and_nothing_is_sent_twice() {
    const ROWS: usize = 20;
    for replace in [false, true] {
        let mock = MockServer::builder()
            .api_key(KEY, PRACTICE)
            .fault(FaultRule::new(
                "send_message",
                Fault::Latency(std::time::Duration::from_millis(200)),
            ))
            .start()
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (file, journal) = (dir.path().join("a.csv"), dir.path().join("j.db"));
        let mut csv = String::from("patient_id,type,text\n");
        for i in 0..ROWS {
            csv.push_str(&format!("{},sms,Reminder {i}\n", 5001 + i));
        }
        std::fs::write(&file, &csv).unwrap();
        let mut cmd = hero_cmd(&mock.base_url(), &file, &journal);
        cmd.args(["--concurrency", "1"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = cmd.spawn().unwrap();
        let started = std::time::Instant::now();
        while mock.processed("send_message") < 1 && started.elapsed().as_secs() < 30 {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        if replace {
            let another = dir.path().join("another");
            std::fs::write(&another, b"another file").unwrap();
            std::fs::rename(&another, &journal).unwrap();
        } else {
            std::fs::remove_file(&journal).unwrap();
        }
        let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap();
        mock.clear_faults();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        let sent_before = mock.processed("send_message");
        assert!(sent_before < ROWS, "the run stopped: {sent_before}");
        if replace {
            assert!(
                stderr.contains("was replaced while this run held it"),
                "{stderr}"
            );
            let saved: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    n.starts_with("j.db.saved-") && !n.ends_with("-wal") && !n.ends_with("-shm")
                })
                .collect();
            assert_eq!(saved.len(), 1, "{saved:?}");
            // Named by what the outbox added to the journal's name, never by the name typed.
            let added = saved[0].strip_prefix("j.db").unwrap();
            assert!(
                stderr.contains(&format!("`{added}`")) && !stderr.contains("j.db"),
                "the error names it: {stderr}"
            );
            assert_eq!(
                std::fs::read(&journal).unwrap(),
                b"another file",
                "left alone"
            );
            // The adversary trial: while the saved journal is beside it, the journal's path is
            // refused, whatever is there now (here another file; an empty journal alike), so a
            // re-run never starts afresh for rows that went.
            let refused = support::output_of(hero_cmd(&mock.base_url(), &file, &journal)).await;
            assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
            assert!(
                text(&refused).contains("a journal saved by an earlier run is beside this one")
                    && text(&refused).contains(added)
                    && !text(&refused).contains("j.db"),
                "{}",
                text(&refused)
            );
            assert_eq!(mock.processed("send_message"), sent_before, "nothing sent");
            // The saved journal resumes the run.
            std::fs::rename(dir.path().join(&saved[0]), &journal).unwrap();
        } else {
            assert!(
                stderr.contains("was deleted while this run held it"),
                "{stderr}"
            );
            assert!(journal.exists(), "written back");
        }
        let again = support::output_of(hero_cmd(&mock.base_url(), &file, &journal)).await;
        assert_eq!(again.status.code(), Some(0), "{}", text(&again));
        assert_eq!(mock.processed("send_message"), ROWS, "each row once");
        let all: Vec<_> = mock.sent_messages();
        let mut patients: Vec<_> = all.iter().map(|m| m.patient_id.clone()).collect();
        patients.sort();
        patients.dedup();
        assert_eq!(patients.len(), ROWS);
        no_patient_data(&out);
    }
}

/// Issue 22 §5: a Retry-After of 2^64-1 seconds, or a date in the year 9999, neither panics nor
/// hangs `send-many`: the run stops with a clear error (exit 6), nothing sent, every row kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_retry_after_stops_the_run_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.csv");
    std::fs::write(&file, CSV).unwrap();

    let mock = mock().await;
    mock.inject(FaultRule::new(
        "send_message",
        Fault::RateLimited {
            retry_after: Some(u64::MAX),
        },
    ));
    let journal = dir.path().join("j1.db");
    let mut cmd = hero_cmd(&mock.base_url(), &file, &journal);
    cmd.args(["--concurrency", "1"]);
    let out = support::output_of(cmd).await;
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Hero asked to wait 18446744073709551615 s"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(mock.processed("send_message"), 0);
    mock.clear_faults();
    let out = support::output_of(hero_cmd(&mock.base_url(), &file, &journal)).await;
    assert_eq!(out.status.code(), Some(0), "every row kept: {}", text(&out));

    // A server whose every answer is a 429 until the year 9999.
    let app = axum::Router::new().fallback(|| async {
        (
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT")],
            "{}",
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let journal = dir.path().join("j2.db");
    let mut cmd = hero_cmd(&url, &file, &journal);
    cmd.args(["--concurrency", "1"]);
    let out = support::output_of(cmd).await;
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("longer than the 60 s allowed"), "{stderr}");
    no_patient_data(&out);
}

/// `hero outbox status` on an SQLite journal, while a run holds it: the run's counts and the
/// rows a person must decide (with their candidates), and no patient data.
#[tokio::test]
async fn hero_outbox_status_reads_an_sqlite_journal_while_it_is_held() {
    let mock = mock_without_text().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.csv"),
        "patient_id,type,text\n3001,sms,Dear Ada\n",
    )
    .unwrap();
    // Processed, its answer lost, with another message to the patient in the window and no text
    // to tell them apart: ambiguous.
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
    let journal = dir.path().join("j.db");
    let held = herohealth_outbox::SqliteJournal::open(&journal).unwrap();
    let status = |format: &'static str| {
        let journal = journal.clone();
        async move {
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hero"));
            cmd.env_clear()
                .args(["--format", format, "outbox", "status", "--journal"])
                .arg(journal);
            support::output_of(cmd).await
        }
    };
    let out = status("json").await;
    assert!(out.status.success(), "{}", text(&out));
    // One JSON document (the adversary's trial found two arrays, which no JSON parser reads).
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let runs = &doc["runs"];
    assert_eq!(runs[0]["ambiguous"], 1, "{runs}");
    assert_eq!(runs[0]["sent"], 0, "{runs}");
    let decide = &doc["to_decide"];
    assert_eq!(decide[0]["row"], 1, "{decide}");
    assert_eq!(decide[0]["line"], 2, "{decide}");
    assert_eq!(
        decide[0]["candidates"].as_str().unwrap().split(' ').count(),
        2,
        "{decide}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 row(s) a person must decide"));
    no_patient_data(&out);
    let out = status("table").await;
    assert!(out.status.success(), "{}", text(&out));
    no_patient_data(&out);
    drop(held);
}

/// The last adversary's trial: a row repeated in the file was sent twice without a word. It is
/// still sent, as the file says, but a warning names both lines (never a value) before anything
/// is sent.
#[tokio::test]
async fn a_repeated_row_is_named_by_its_lines_before_it_is_sent_again() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = "patient_id,type,text,to\n3001,sms,Your results are ready,07700 900123\n3002,sms,Hi,\n3001,SMS,Your results are ready,+447700900123\n";
    std::fs::write(dir.path().join("r.csv"), csv).unwrap();
    let out = send_many(&mock, dir.path(), "r", "csv").await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: line 4 repeats line 2"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("3001") && !stderr.contains("results"),
        "{stderr}"
    );
    assert_eq!(mock.calls("send_message"), 3, "every row, as written");
}
