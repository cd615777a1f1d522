//! Several `hero outbox work` processes on one PostgreSQL journal (issue 25), against
//! herohealth-mock with a rate limit per practice group, in both of its modes for a request
//! whose client went: workers are killed with SIGKILL at pseudo-random times (fixed seeds) and
//! started again, or stopped (SIGSTOP) longer than their lease and let go on. Every row must end
//! sent exactly once (or failed or ambiguous with a reason): no duplicate, no row lost. A 429 is
//! not a failure here: a worker killed, stopped or descheduled between its slot and its request
//! can arrive late (the shared pace itself is held in outbox/tests/postgres.rs); Hero's 429 is
//! unprocessed and the row goes again, once.
//! The PostgreSQL is a throwaway cluster of the installed binaries (loopback only); without them
//! the tests print a loud line and do nothing (and fail under `HEROHEALTH_REQUIRE_POSTGRES`).

mod support;

use std::{
    collections::BTreeMap,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use herohealth::{HeroClient, MessageType};
use herohealth_mock::{Fault, FaultRule, MockServer};
use herohealth_outbox::{Input, Journal, PgJournal, Row, testing::TempPostgres};

const KEY: &str = "hero-workers-test-key";
const GROUPS: [&str; 3] = [
    "practice-workers-1",
    "practice-workers-2",
    "practice-workers-3",
];

fn worker(mock: &MockServer, url: &str, groups: &[&str], rate: u32, lease: &str) -> Child {
    let mut cmd = support::hero_process(&mock.base_url(), KEY, groups[0]);
    cmd.env("HERO_TIMEOUT", "1")
        .args(["outbox", "work", "--journal", url])
        .args(["--rate", &rate.to_string(), "--concurrency", "4"])
        .args(["--find-delay", "50", "--lease", lease]);
    for g in groups {
        cmd.args(["--practice-group", g]);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hero outbox work")
}

/// Queues `rows` rows for each practice group (one run each), as `send-many` would.
async fn enqueue(mock: &MockServer, url: &str, groups: &[&str], rows: usize) -> Vec<String> {
    let mut texts = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        let key = HeroClient::builder()
            .api_key(KEY)
            .practice_group_id(*group)
            .base_url(mock.base_url())
            .build()
            .unwrap()
            .practice_group_key();
        let mut list = Vec::new();
        for i in 0..rows {
            // Every 25th row goes to the patient of the row before: one at a time.
            let patient = 10_000 + i - usize::from(i % 25 == 24);
            let text = format!("Reminder {g}-{i}");
            list.push(Row::new(&patient.to_string(), MessageType::Sms, &text).unwrap());
            texts.push(text);
        }
        let input = Input::from_rows(list);
        let j = PgJournal::connect(url).await.unwrap();
        j.bind(&key).await.unwrap();
        j.open(&input).await.unwrap();
    }
    texts
}

fn kill(child: &mut Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Every queued text processed by the mock exactly once (a 429 is unprocessed, so the count of
/// processed sends is the count of rows whatever the timing); returns how many 429s there were.
fn exactly_once(mock: &MockServer, texts: &[String], label: &str) -> usize {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for m in mock.sent_messages().iter() {
        if let Some(t) = texts.iter().find(|t| **t == m.text) {
            *seen.entry(t.as_str()).or_default() += 1;
        }
    }
    let duplicates: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "{label}: sent twice: {duplicates:?}");
    assert_eq!(seen.len(), texts.len(), "{label}: rows lost");
    assert_eq!(mock.processed("send_message"), texts.len(), "{label}");
    mock.journal().iter().filter(|e| e.status == 429).count()
}

/// 4 workers, 2,000 rows over 3 practice groups, each group limited by the mock; workers killed
/// with SIGKILL at pseudo-random times and restarted; both mock modes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_workers_killed_and_restarted_send_every_row_exactly_once() {
    let Some(pg) = TempPostgres::start("cli/tests/outbox_pg.rs: 4 workers, 2,000 rows, kill -9")
    else {
        return;
    };
    const RATE: u32 = 40;
    for (mode, finish) in [false, true].into_iter().enumerate() {
        let label = if finish {
            "finishes abandoned"
        } else {
            "drops abandoned"
        };
        let mut rng = fastrand::Rng::with_seed(25 + mode as u64);
        let url = pg.database(&format!("workers{mode}"));
        let mut mock = MockServer::builder();
        for g in GROUPS {
            mock = mock.api_key(KEY, g);
        }
        let mock = mock
            .rate_limit(RATE)
            .finish_abandoned(finish)
            .fault(FaultRule::new(
                "send_message",
                Fault::Latency(Duration::from_millis(3)),
            ))
            .start()
            .await
            .unwrap();
        let texts = enqueue(&mock, &url, &GROUPS, 667).await;
        let mut workers: Vec<Child> = (0..4)
            .map(|_| worker(&mock, &url, &GROUPS, RATE, "2"))
            .collect();
        let started = Instant::now();
        let mut kills = 0;
        while kills < 6 && started.elapsed() < Duration::from_secs(120) {
            tokio::time::sleep(Duration::from_millis(rng.u64(300..2_000))).await;
            let which = rng.usize(0..workers.len());
            if workers[which].try_wait().unwrap().is_none() {
                workers[which].kill().unwrap(); // SIGKILL
                let _ = workers[which].wait();
                kills += 1;
            }
            workers[which] = worker(&mock, &url, &GROUPS, RATE, "2");
        }
        // The last workers run to the end (bounded).
        let deadline = Instant::now() + Duration::from_secs(240);
        for w in &mut workers {
            while w.try_wait().unwrap().is_none() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if w.try_wait().unwrap().is_none() {
                w.kill().unwrap();
                panic!("{label}: a worker did not finish");
            }
        }
        for w in workers {
            let out = w.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{label}: {stderr}");
            for secret in [KEY, GROUPS[0], "Reminder", "10001"] {
                assert!(
                    !stderr.contains(secret),
                    "{label}: {secret} shown: {stderr}"
                );
            }
        }
        let refused = exactly_once(&mock, &texts, label);
        // The journal agrees: every row sent.
        let status = Command::new(env!("CARGO_BIN_EXE_hero"))
            .env_clear()
            .args(["--format", "json", "outbox", "status", "--journal", &url])
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
        let runs = &doc["runs"];
        let sent: u64 = runs
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["sent"].as_u64().unwrap())
            .sum();
        assert_eq!(sent as usize, texts.len(), "{label}: {runs}");
        eprintln!(
            "{label}: {} rows, {kills} kills: each sent once ({refused} 429s, each unprocessed)",
            texts.len()
        );
    }
}

/// A worker stopped (SIGSTOP) for longer than its lease, then let go on: another worker takes
/// its rows over and resolves them; the slow worker's late changes are refused by the fencing
/// tokens; nothing is sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_slower_than_its_lease_sends_nothing_twice() {
    let Some(pg) = TempPostgres::start("cli/tests/outbox_pg.rs: a worker slower than its lease")
    else {
        return;
    };
    for finish in [false, true] {
        let url = pg.database(&format!("slow{}", u8::from(finish)));
        let mock = MockServer::builder()
            .api_key(KEY, GROUPS[0])
            .rate_limit(20)
            .finish_abandoned(finish)
            .fault(FaultRule::new(
                "send_message",
                Fault::Latency(Duration::from_millis(5)),
            ))
            .start()
            .await
            .unwrap();
        let texts = enqueue(&mock, &url, &GROUPS[..1], 60).await;
        let mut slow = worker(&mock, &url, &GROUPS[..1], 20, "1");
        let started = Instant::now();
        while mock.processed("send_message") < 10 && started.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        kill(&mut slow, "-STOP");
        let other = worker(&mock, &url, &GROUPS[..1], 20, "1");
        tokio::time::sleep(Duration::from_millis(3_000)).await;
        kill(&mut slow, "-CONT");
        let (a, b) = tokio::task::spawn_blocking(move || {
            (
                slow.wait_with_output().unwrap(),
                other.wait_with_output().unwrap(),
            )
        })
        .await
        .unwrap();
        for out in [&a, &b] {
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let _refused = exactly_once(
            &mock,
            &texts,
            if finish {
                "slow, finishes"
            } else {
                "slow, drops"
            },
        );
    }
}

/// `send-many --journal postgres://...` queues the file once and works it: a second run of the
/// same command (even with the file saved again) queues nothing and sends nothing; its output is
/// the run's rows, and no error or line shows the URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_many_on_postgres_queues_a_file_once() {
    let Some(pg) = TempPostgres::start("cli/tests/outbox_pg.rs: send-many on PostgreSQL") else {
        return;
    };
    let url = pg.database("sendmany");
    let mock = MockServer::builder()
        .api_key(KEY, GROUPS[0])
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.csv");
    std::fs::write(
        &file,
        "patient_id,type,text\n4001,sms,Dear Ada\n4002,sms,Dear Grace\n4001,sms,Dear Ada again\n",
    )
    .unwrap();
    let run = |file: std::path::PathBuf| {
        let (url, base) = (url.clone(), mock.base_url());
        tokio::task::spawn_blocking(move || {
            support::hero_process(&base, KEY, GROUPS[0])
                .args(["--format", "ndjson", "messages", "send-many", "--from"])
                .arg(file)
                .args(["--journal", &url, "--find-delay", "20"])
                .output()
                .unwrap()
        })
    };
    let out = run(file.clone()).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert!(
        stdout.lines().all(|l| l.contains(r#""status":"sent""#)),
        "{stdout}"
    );
    std::fs::write(
        &file,
        "\u{feff}patient_id,type,text\r\n4001,SMS,Dear Ada\r\n4002,sms,\"Dear Grace\"\r\n4001,sms,Dear Ada again",
    )
    .unwrap();
    let again = run(file).await.unwrap();
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(again.stdout, out.stdout, "the same rows, the same ids");
    assert_eq!(mock.processed("send_message"), 3, "queued and sent once");
    for text in [&stderr, &stdout] {
        assert!(
            !text.contains("postgres://") && !text.contains("Ada"),
            "{text}"
        );
    }
}

/// Waits (bounded by a count, not asserted on time) until `check` holds.
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..1_200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never: {what}");
}

/// A fault of the database, by name.
type Named<'a> = (&'a str, Box<dyn Fn() + 'a>);

/// Workers that heal (issue 37): three `hero outbox work` processes on one journal while the
/// database is restarted (`pg_ctl restart -m immediate`), stopped for several seconds, and one of
/// each worker's connections (rows, then pace) is ended by the server (`pg_terminate_backend`).
/// After each fault sends go on, every worker still runs, and every worker's heartbeat (its
/// leases) is renewed again; at the end each exits 0 and every row went exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_heal_after_a_restart_a_stop_and_cut_connections() {
    let Some(pg) = TempPostgres::start("cli/tests/outbox_pg.rs: workers that heal") else {
        return;
    };
    const RATE: u32 = 40;
    let url = pg.database("heal");
    let mock = MockServer::builder()
        .api_key(KEY, GROUPS[0])
        .rate_limit(RATE)
        .fault(FaultRule::new(
            "send_message",
            Fault::Latency(Duration::from_millis(3)),
        ))
        .start()
        .await
        .unwrap();
    let texts = enqueue(&mock, &url, &GROUPS[..1], 700).await;
    let mut workers: Vec<Child> = (0..3)
        .map(|_| worker(&mock, &url, &GROUPS[..1], RATE, "3"))
        .collect();
    let pids = |kind: &str| -> Vec<i32> {
        let listed = pg.psql(
            "heal",
            &format!(
                "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE application_name LIKE 'herohealth-outbox {kind} %'"
            ),
        );
        listed.split(' ').filter_map(|p| p.parse().ok()).collect()
    };
    let faults: [Named<'_>; 4] = [
        ("restart", Box::new(|| pg.restart_immediately())),
        (
            "stop",
            Box::new(|| {
                pg.stop();
                std::thread::sleep(Duration::from_secs(4));
                pg.start_again();
            }),
        ),
        (
            "cut rows",
            Box::new(|| {
                for pid in pids("rows") {
                    pg.terminate(pid);
                }
            }),
        ),
        (
            "cut pace",
            Box::new(|| {
                for pid in pids("pace") {
                    pg.terminate(pid);
                }
            }),
        ),
    ];
    for (i, (fault, act)) in faults.iter().enumerate() {
        let at = 60 + i * 120;
        until("sends going on", || mock.processed("send_message") >= at).await;
        let before = pg.psql("heal", "SELECT clock_timestamp()");
        act();
        until(&format!("sends going on after {fault}"), || {
            mock.processed("send_message") >= at + 40
        })
        .await;
        for w in &mut workers {
            assert!(
                w.try_wait().unwrap().is_none(),
                "a worker ended after {fault}"
            );
        }
        until(
            &format!("every worker's leases renewed after {fault}"),
            || {
                pg.psql(
                    "heal",
                    &format!("SELECT count(*) FROM outbox_workers WHERE heartbeat_at > '{before}'"),
                ) == "3"
            },
        )
        .await;
    }
    let outs = tokio::task::spawn_blocking(move || {
        workers
            .into_iter()
            .map(|w| w.wait_with_output().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for out in outs {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(!stderr.contains("postgres://"), "{stderr}");
    }
    exactly_once(&mock, &texts, "workers that heal");
}

/// A worker whose database stays away longer than `--reconnect-for` says so and exits 15 with a
/// hint, having sent nothing it did not record; a worker started once the database is back
/// finishes the rows, each sent once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_database_stays_away_exits_15_and_a_new_one_resumes() {
    let Some(pg) = TempPostgres::start("cli/tests/outbox_pg.rs: the database stays away") else {
        return;
    };
    let url = pg.database("away");
    let mock = MockServer::builder()
        .api_key(KEY, GROUPS[0])
        .start()
        .await
        .unwrap();
    let texts = enqueue(&mock, &url, &GROUPS[..1], 200).await;
    let mut cmd = support::hero_process(&mock.base_url(), KEY, GROUPS[0]);
    cmd.env("HERO_TIMEOUT", "1")
        .args(["outbox", "work", "--journal", &url, "--rate", "20"])
        .args(["--reconnect-for", "2", "--lease", "1", "--find-delay", "50"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    until("some sends", || mock.processed("send_message") >= 10).await;
    pg.stop();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(15), "{stderr}");
    assert!(stderr.contains("could not be reached"), "{stderr}");
    assert!(stderr.contains("hint: nothing is lost"), "{stderr}");
    assert!(!stderr.contains("postgres://"), "{stderr}");
    let sent = mock.processed("send_message");
    assert!(sent < texts.len(), "{sent}");
    pg.start_again();
    let again = worker(&mock, &url, &GROUPS[..1], 40, "1");
    let out = tokio::task::spawn_blocking(move || again.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exactly_once(&mock, &texts, "after the database came back");
}
