//! `hero webhooks rotate` and `hero webhooks listen` with several keys, end to end on
//! herohealth-mock: during the overlap both keys verify and each event comes twice; after the
//! delete only the new webhook delivers; a rotation stopped at each step (the create's answer lost,
//! the wait's timeout, the delete failing) says where it stopped and finishes when run again,
//! never making a second new webhook. No key is ever printed.

mod support;

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use herohealth::webhooks::{SigningKey, key_tag};
use herohealth_mock::{Fault, FaultRule, MockServer};
use serde_json::Value;
use support::all;

const KEY: &str = "hero-webhooks-rotate-test-key-77b1";
const PRACTICE: &str = "practice-webhooks-rotate-2c";
const OLD: &str = "rotate-old-test-signing-key-0d5e";
const NEW: &str = "rotate-new-test-signing-key-91fa";

async fn mock() -> MockServer {
    support::mock_for(KEY, PRACTICE).await
}

async fn hero(mock: &MockServer, args: &[&str]) -> std::process::Output {
    support::hero_on(mock, KEY, PRACTICE, args).await
}

fn no_key(text: &str) {
    assert!(!text.contains(OLD) && !text.contains(NEW), "{text}");
}

/// The key files.
struct Keys {
    dir: tempfile::TempDir,
}

impl Keys {
    fn new() -> Keys {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("old.key"), format!("{OLD}\n")).unwrap();
        std::fs::write(dir.path().join("new.key"), format!("  {NEW}\n")).unwrap();
        Keys { dir }
    }
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }
}

/// `hero webhooks listen` with `args`, its stdout lines as they come. Killed when dropped.
struct Listener {
    child: Child,
    url: String,
    lines: mpsc::Receiver<String>,
}

impl Listener {
    fn start(env: &[(&str, &str)], args: &[&str]) -> Listener {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("hero"))
            .env_clear()
            .envs(env.iter().copied())
            .args(["webhooks", "listen", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        err.read_line(&mut first).unwrap();
        std::thread::spawn(move || for _ in err.lines() {});
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .map(|w| w.trim_end_matches(':').to_owned())
            .unwrap_or_else(|| panic!("{first}"));
        Listener { child, url, lines }
    }

    fn next_line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(60))
            .expect("an event line")
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a message written to the record and moves the mock clock on: its
/// write-to-record.succeeded event is delivered to every webhook of that event.
async fn written(mock: &MockServer) {
    let out = hero(
        mock,
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
            "--write-to-record",
            "--snomed-code",
            "1240751000000100",
        ],
    )
    .await;
    support::ok(&out);
    mock.advance(Duration::from_secs(5));
}

async fn listed(mock: &MockServer) -> Vec<Value> {
    let out = hero(mock, &["--format", "ndjson", "webhooks", "list"]).await;
    no_key(&all(&out));
    support::ok(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn create(mock: &MockServer, url: &str) -> String {
    let out = hero(
        mock,
        &[
            "--format",
            "json",
            "webhooks",
            "create",
            "--url",
            url,
            "--event-type",
            "write-to-record.succeeded",
            "--description",
            "Record outcomes",
            "--signing-key",
            OLD,
        ],
    )
    .await;
    let hook: Value = serde_json::from_str(&support::ok(&out)).unwrap();
    hook["id"].as_str().unwrap().to_owned()
}

/// The mock's journal of deliveries once it holds `n` (it journals one when the receiver's answer
/// is in, a moment after the receiver printed it).
async fn deliveries(mock: &MockServer, n: usize) -> Vec<herohealth_mock::DeliveryEntry> {
    for _ in 0..1200 {
        let d = mock.deliveries();
        if d.len() >= n {
            assert_eq!(d.len(), n, "{d:?}");
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{:?}", mock.deliveries());
}

/// The tags of the keys the log's deliveries were verified with (not the lines `rotate` adds to
/// mark where a rotation began).
fn seen_tags(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["key"].as_str().map(str::to_owned)
        })
        .collect()
}

/// Appends a line as `hero webhooks listen --seen-log` writes it: a delivery verified with the
/// key tagged `tag`.
fn log_seen(log: &str, tag: &str) {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    writeln!(
        f,
        "{{\"at\":\"{}\",\"key\":\"{tag}\"}}",
        chrono::Utc::now().to_rfc3339()
    )
    .unwrap();
}

/// The whole rotation: the listener takes both keys (one from the environment, one from a file),
/// rotate creates the new webhook and waits; an event during the overlap comes twice, once signed
/// with each key, both verified; rotate sees the new key verified and deletes the old; after that
/// only the new webhook delivers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_end_to_end_has_no_gap() {
    let mock = mock().await;
    let keys = Keys::new();
    let log = keys.dir.path().join("seen.log");
    let listener = Listener::start(
        &[("HERO_WEBHOOK_SIGNING_KEY", OLD)],
        &[
            "--signing-key-file",
            &keys.path("new.key"),
            "--seen-log",
            log.to_str().unwrap(),
        ],
    );
    let old_id = create(&mock, &listener.url).await;
    written(&mock).await;
    no_key(&listener.next_line());
    let old_tag = key_tag(&OLD.parse::<SigningKey>().unwrap());
    let new_tag = key_tag(&NEW.parse::<SigningKey>().unwrap());
    assert_eq!(seen_tags(&log), vec![old_tag.clone()]);

    // rotate, in the background: it creates the new webhook, then waits.
    let rotate = {
        let url = mock.base_url();
        let args = vec![
            "--format".to_owned(),
            "json".to_owned(),
            "webhooks".to_owned(),
            "rotate".to_owned(),
            old_id.clone(),
            "--signing-key-file".to_owned(),
            keys.path("new.key"),
            "--seen-log".to_owned(),
            log.to_str().unwrap().to_owned(),
            "--wait".to_owned(),
            "60".to_owned(),
        ];
        tokio::spawn(async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            support::hero_at(url, KEY, PRACTICE, &args).await
        })
    };
    let mut hooks = Vec::new();
    for _ in 0..600 {
        hooks = listed(&mock).await;
        if hooks.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(hooks.len(), 2, "{hooks:?}");
    let new_id = hooks
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_owned())
        .find(|id| *id != old_id)
        .unwrap();
    let new = hooks.iter().find(|h| h["id"] == new_id.as_str()).unwrap();
    assert_eq!(new["signed"], true);
    assert_eq!(new["event_type"], "write-to-record.succeeded");
    // A description is free text: `hero` shows that it is there, never its text (issue 34).
    assert_eq!(new["description"], "<redacted>");

    // The overlap: one event, two deliveries, one signed with each key, both verified.
    written(&mock).await;
    let (first, second) = (listener.next_line(), listener.next_line());
    no_key(&first);
    no_key(&second);
    // The second copy is printed as a repeat, the first not.
    let (first, second): (Value, Value) = (
        serde_json::from_str(&first).unwrap(),
        serde_json::from_str(&second).unwrap(),
    );
    assert_eq!(first.get("repeat"), None, "{first}");
    assert_eq!(second["repeat"], true, "{second}");
    assert_eq!(first["event"], second["event"]);
    let out = rotate.await.unwrap();
    let text = all(&out);
    no_key(&text);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for said in [
        "step 1 of 3: created webhook",
        "step 2 of 3: a delivery signed with the new key",
        "step 3 of 3: deleted webhook",
    ] {
        assert!(text.contains(said), "{said}: {text}");
    }
    let done: Value = serde_json::from_str(&support::ok(&out)).unwrap();
    assert_eq!(done["old_id"], old_id.as_str());
    assert_eq!(done["new_id"], new_id.as_str());
    let tags = seen_tags(&log);
    assert_eq!(tags.len(), 3);
    assert!(
        tags[1..].contains(&old_tag) && tags[1..].contains(&new_tag),
        "{tags:?}"
    );
    let overlap = deliveries(&mock, 3).await;
    assert!(overlap.iter().all(|d| d.delivered && d.signed));

    // After the delete: only the new webhook, only the new key.
    let hooks = listed(&mock).await;
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0]["id"], new_id.as_str());
    written(&mock).await;
    no_key(&listener.next_line());
    let after: Vec<_> = deliveries(&mock, 4).await.into_iter().skip(3).collect();
    assert_eq!(after[0].webhook_id, new_id);
    assert_eq!(seen_tags(&log).last(), Some(&new_tag));

    // Run again once done: it says so, changes nothing.
    let again = hero(
        &mock,
        &[
            "webhooks",
            "rotate",
            &old_id,
            "--signing-key-file",
            &keys.path("new.key"),
            "--confirmed",
        ],
    )
    .await;
    assert_eq!(again.status.code(), Some(0), "{}", all(&again));
    assert!(
        all(&again).contains("the rotation is done"),
        "{}",
        all(&again)
    );
    assert_eq!(listed(&mock).await.len(), 1);
}

async fn rotate(
    mock: &MockServer,
    keys: &Keys,
    old_id: &str,
    extra: &[&str],
) -> std::process::Output {
    let file = keys.path("new.key");
    let mut args = vec!["webhooks", "rotate", old_id, "--signing-key-file", &file];
    args.extend(extra);
    let out = hero(mock, &args).await;
    no_key(&all(&out));
    out
}

/// After a rotation run to its end: the old webhook gone, exactly one other, signed.
async fn rotated(mock: &MockServer, old_id: &str) {
    let hooks = listed(mock).await;
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_ne!(hooks[0]["id"], old_id);
    assert_eq!(hooks[0]["signed"], true);
}

/// Stopped at step 1: Hero made the new webhook but its answer was lost. Run again: it finds
/// that webhook by its key and goes on; never a second one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_stopped_at_step_1_goes_on_when_run_again() {
    let mock = mock().await;
    let keys = Keys::new();
    let old_id = create(&mock, "http://127.0.0.1:9/hero").await;
    mock.inject(FaultRule::new(
        "create_webhook",
        Fault::ResetAfterProcessing,
    ));
    let out = rotate(&mock, &keys, &old_id, &["--confirmed"]).await;
    assert_ne!(out.status.code(), Some(0), "{}", all(&out));
    assert!(
        all(&out).contains("stopped at step 1 of 3 (create the new webhook)"),
        "{}",
        all(&out)
    );
    assert!(
        all(&out).contains("run the same command again"),
        "{}",
        all(&out)
    );
    assert_eq!(listed(&mock).await.len(), 2, "Hero made it");
    mock.clear_faults();
    let out = rotate(&mock, &keys, &old_id, &["--confirmed"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    assert!(
        all(&out).contains("step 1 of 3: done before"),
        "{}",
        all(&out)
    );
    rotated(&mock, &old_id).await;
}

/// Stopped at step 2: no delivery with the new key within --wait: exit 12, both webhooks kept,
/// saying what to do. A line of the new key from before the rotation began (listen tried with
/// the new key beforehand) is stale: it does not count, in the first run nor in a run again.
/// Run again once one is seen after the rotation began: it goes on from step 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_stopped_at_step_2_goes_on_when_run_again() {
    let mock = mock().await;
    let keys = Keys::new();
    let log = keys.path("seen.log");
    let old_id = create(&mock, "http://127.0.0.1:9/hero").await;
    // A log holding the old key's deliveries, and a stale one of the new key.
    let old_tag = key_tag(&OLD.parse::<SigningKey>().unwrap());
    let new_tag = key_tag(&NEW.parse::<SigningKey>().unwrap());
    log_seen(&log, &old_tag);
    log_seen(&log, &new_tag);
    let out = rotate(&mock, &keys, &old_id, &["--seen-log", &log, "--wait", "1"]).await;
    assert_eq!(out.status.code(), Some(12), "{}", all(&out));
    assert!(all(&out).contains("step 2 of 3 stopped"), "{}", all(&out));
    assert!(all(&out).contains("both deliver"), "{}", all(&out));
    assert_eq!(listed(&mock).await.len(), 2);
    // Run again, nothing new seen: still stopped at step 2.
    let out = rotate(&mock, &keys, &old_id, &["--seen-log", &log, "--wait", "1"]).await;
    assert_eq!(out.status.code(), Some(12), "{}", all(&out));
    assert!(
        all(&out).contains("step 1 of 3: done before"),
        "{}",
        all(&out)
    );
    // A log that lost the rotation's mark (replaced): its line of the new key cannot be told
    // from a stale one, so a run again waits for a new one.
    let other_log = keys.path("other.log");
    log_seen(&other_log, &new_tag);
    let out = rotate(
        &mock,
        &keys,
        &old_id,
        &["--seen-log", &other_log, "--wait", "1"],
    )
    .await;
    assert_eq!(out.status.code(), Some(12), "{}", all(&out));
    assert_eq!(listed(&mock).await.len(), 2);
    // The listener verified one with the new key since the rotation began.
    log_seen(&log, &new_tag);
    let out = rotate(&mock, &keys, &old_id, &["--seen-log", &log, "--wait", "1"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    assert!(
        all(&out).contains("step 1 of 3: done before"),
        "{}",
        all(&out)
    );
    rotated(&mock, &old_id).await;
}

/// Stopped at step 3: the delete failed. Run again: it deletes the old one (the new one found,
/// not made again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_stopped_at_step_3_goes_on_when_run_again() {
    let mock = mock().await;
    let keys = Keys::new();
    let old_id = create(&mock, "http://127.0.0.1:9/hero").await;
    mock.inject(FaultRule::new("delete_webhook", Fault::Status(403)));
    let out = rotate(&mock, &keys, &old_id, &["--confirmed"]).await;
    assert_ne!(out.status.code(), Some(0), "{}", all(&out));
    assert!(
        all(&out).contains("stopped at step 3 of 3 (delete the old webhook)"),
        "{}",
        all(&out)
    );
    assert_eq!(listed(&mock).await.len(), 2);
    mock.clear_faults();
    let out = rotate(&mock, &keys, &old_id, &["--confirmed"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    rotated(&mock, &old_id).await;
}

/// Without a key, or with an empty key file: exit 2, nothing done.
#[tokio::test]
async fn listen_and_rotate_refuse_missing_keys_with_exit_2() {
    let keys = Keys::new();
    let empty = keys.path("empty.key");
    std::fs::write(&empty, "\n").unwrap();
    for args in [
        vec!["webhooks", "listen", "--port", "0"],
        vec![
            "webhooks",
            "listen",
            "--port",
            "0",
            "--signing-key-file",
            &empty,
        ],
        vec![
            "webhooks",
            "listen",
            "--port",
            "0",
            "--signing-key-file",
            "/nonexistent/key",
        ],
    ] {
        let out = support::hero_offline(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", all(&out));
    }
    let mock = mock().await;
    let old_id = create(&mock, "http://127.0.0.1:9/hero").await;
    let out = hero(
        &mock,
        &[
            "webhooks",
            "rotate",
            &old_id,
            "--signing-key-file",
            &empty,
            "--confirmed",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    // Neither --seen-log nor --confirmed: a usage error before anything is made.
    let out = hero(
        &mock,
        &[
            "webhooks",
            "rotate",
            &old_id,
            "--signing-key-file",
            &keys.path("new.key"),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    assert_eq!(listed(&mock).await.len(), 1);
}
