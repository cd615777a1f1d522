//! `cargo bench -p herohealth-outbox --features postgres --bench workers` (issue 37): figures
//! for BENCHMARKS.md, printed, not asserted (`-- pace`: section 3 only). One run, side by side:
//!
//! 1. The ceiling: rows per second with 1, 2, 4 and 8 workers (each an outbox with its own
//!    `PgJournal`, concurrency 8) on one PostgreSQL journal, against herohealth-mock with no rate
//!    limit and 5 ms per send.
//! 2. The journal's own cost per row, by step (claim, in flight, final), in both journals: one
//!    task, one row at a time, then 8 rows at once.
//! 3. The shared pace in a long run: 4 workers at a practice group's limit of 8 a second (the
//!    mock's sliding window, 429 beyond it), 480 rows (a minute): 429s, the most requests in any
//!    sliding second, and the arrival jitter (how much later than its place on the schedule each
//!    request arrives, relative to the one a limit's worth after it).
//!
//! The PostgreSQL is a throwaway cluster of the installed binaries with `fsync` on (a commit is
//! on disk, as SQLite's `synchronous=FULL`), on loopback, started by the bench.

use std::{
    num::NonZeroU32,
    time::{Duration, Instant},
};

use herohealth::{HeroClient, MessageType, SendAttempt};
use herohealth_mock::{Fault, FaultRule, MockServer};
use herohealth_outbox::{
    Input, Journal, Options, Outbox, PgJournal, Row, RowState, SqliteJournal, Status,
    testing::TempPostgres,
};

const KEY: &str = "hero-bench-test-key";
const GROUP: &str = "practice-bench";

fn rows(n: usize, tag: &str) -> Input {
    Input::from_rows(
        (0..n)
            .map(|i| {
                Row::new(
                    &format!("{}", 100_000 + i),
                    MessageType::Sms,
                    &format!("Bench {tag} {i}"),
                )
                .unwrap()
            })
            .collect(),
    )
}

fn client(mock: &MockServer) -> HeroClient {
    HeroClient::builder()
        .api_key(KEY)
        .practice_group_id(GROUP)
        .base_url(mock.base_url())
        .build()
        .unwrap()
}

/// Section 1: `workers` outboxes on one journal, no rate limit, 5 ms per send: rows per second.
async fn ceiling(pg: &TempPostgres, workers: usize, n: usize, connections: usize) -> f64 {
    let url = pg.database(&format!("ceiling{workers}x{connections}"));
    let mock = MockServer::builder()
        .api_key(KEY, GROUP)
        .fault(FaultRule::new(
            "send_message",
            Fault::Latency(Duration::from_millis(5)),
        ))
        .start()
        .await
        .unwrap();
    let input = rows(n, "ceiling");
    // Queued first (as `hero outbox queue` does), then the workers start together.
    let queue = PgJournal::connect(&url).await.unwrap();
    queue
        .bind(&client(&mock).practice_group_key())
        .await
        .unwrap();
    queue.open(&input).await.unwrap();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (url, hero) = (url.clone(), client(&mock));
        tasks.push(tokio::spawn(async move {
            let journal = PgJournal::connect(&url)
                .await
                .unwrap()
                .connections(connections);
            let options = Options::default().concurrency(8).rate(None);
            Outbox::new(hero, journal, options)
                .work(|_| {})
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(mock.processed("send_message"), n, "each row once");
    n as f64 / secs
}

/// The machine's CPU time so far, busy and in all (`/proc/stat`, in ticks): what share of both
/// cores a run kept busy.
fn cpu() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    let total: u64 = ticks.iter().sum();
    let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

/// The share of the machine's CPU kept busy since `from` (a [`cpu`] reading).
fn busy_since(from: (u64, u64)) -> f64 {
    let now = cpu();
    (now.0 - from.0) as f64 / (now.1 - from.1).max(1) as f64
}

/// The plainest alternative to section 1: the same rows split between `workers` outboxes that
/// share nothing (each its own SQLite journal in memory, no fsync): what the mock, the HTTP and
/// the outbox cost on this machine without a shared journal.
async fn unshared(workers: usize, n: usize) -> f64 {
    let mock = MockServer::builder()
        .api_key(KEY, GROUP)
        .fault(FaultRule::new(
            "send_message",
            Fault::Latency(Duration::from_millis(5)),
        ))
        .start()
        .await
        .unwrap();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let hero = client(&mock);
        let input = rows(n / workers, &format!("unshared {w}"));
        tasks.push(tokio::spawn(async move {
            let options = Options::default().concurrency(8).rate(None);
            Outbox::new(hero, SqliteJournal::in_memory().unwrap(), options)
                .run(&input, |_| {})
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    mock.processed("send_message") as f64 / secs
}

/// A send attempt for row `i` (what an in-flight state records).
fn attempt(i: usize) -> SendAttempt {
    let body: herohealth::types::SendMessageRequest =
        herohealth::types::SendMessageRequest::builder()
            .patient_id(format!("{}", 100_000 + i))
            .message_type(MessageType::Sms)
            .message_string("Bench")
            .try_into()
            .unwrap();
    let now = chrono::Utc::now();
    SendAttempt::new(&body, now, now + chrono::Duration::seconds(30))
}

/// Microseconds per row of each step: claim (in batches of `batch`, as the outbox claims: 32 at
/// concurrency 8 from a shared journal, every row at once from SQLite's), pending -> in flight,
/// in flight -> sent; `at_once` rows' changes in flight together.
async fn steps<J: Journal>(journal: &J, n: usize, batch: usize, at_once: usize) -> [f64; 3] {
    journal.bind("practice-steps").await.unwrap();
    journal.open(&rows(n, "steps")).await.unwrap();
    let mut took = [Duration::ZERO; 3];
    let mut done = 0;
    while done < n {
        let start = Instant::now();
        let claimed = journal.claim(batch).await.unwrap();
        took[0] += start.elapsed();
        assert!(!claimed.is_empty(), "rows left to claim");
        for (step, from) in [(1, Status::Pending), (2, Status::InFlight)] {
            let start = Instant::now();
            for chunk in claimed.chunks(at_once) {
                let changes = chunk.iter().map(|e| {
                    let state = if step == 1 {
                        RowState::InFlight {
                            attempt: attempt(e.index as usize),
                        }
                    } else {
                        RowState::Sent {
                            message_id: format!("m-{}", e.index),
                        }
                    };
                    async move {
                        journal
                            .transition(e.run, e.index, from, &state)
                            .await
                            .unwrap()
                    }
                });
                futures::future::join_all(changes).await;
            }
            took[step] += start.elapsed();
        }
        done += claimed.len();
    }
    took.map(|t| t.as_secs_f64() * 1e6 / n as f64)
}

/// One worker in a process of its own (this bench run again with `--worker URL BASE_URL LIMIT`),
/// as `hero outbox work` is: its own runtime, connections and timers.
async fn worker_process(url: &str, base_url: &str, limit: u32) {
    let hero = HeroClient::builder()
        .api_key(KEY)
        .practice_group_id(GROUP)
        .base_url(base_url)
        .build()
        .unwrap();
    let journal = PgJournal::connect(url).await.unwrap();
    let options = Options::default()
        .concurrency(4)
        .rate(NonZeroU32::new(limit));
    Outbox::new(hero, journal, options)
        .work(|_| {})
        .await
        .unwrap();
}

/// Section 3: `workers` workers sharing the pace of a group limited to `limit` a second, as
/// tasks of this process or as processes of their own.
async fn shared_pace(pg: &TempPostgres, workers: usize, limit: u32, n: usize, processes: bool) {
    let url = pg.database(&format!("pace{workers}x{limit}{processes}"));
    let mock = MockServer::builder()
        .api_key(KEY, GROUP)
        .rate_limit(limit)
        .fault(FaultRule::new(
            "send_message",
            Fault::Latency(Duration::from_millis(5)),
        ))
        .start()
        .await
        .unwrap();
    let input = rows(n, "pace");
    let queue = PgJournal::connect(&url).await.unwrap();
    queue
        .bind(&client(&mock).practice_group_key())
        .await
        .unwrap();
    queue.open(&input).await.unwrap();
    let start = Instant::now();
    if processes {
        let exe = std::env::current_exe().unwrap();
        let children: Vec<_> = (0..workers)
            .map(|_| {
                std::process::Command::new(&exe)
                    .args(["--worker", &url, &mock.base_url(), &limit.to_string()])
                    .spawn()
                    .unwrap()
            })
            .collect();
        tokio::task::spawn_blocking(move || {
            for mut c in children {
                assert!(c.wait().unwrap().success());
            }
        })
        .await
        .unwrap();
    } else {
        let mut tasks = Vec::new();
        for _ in 0..workers {
            let (url, base) = (url.clone(), mock.base_url());
            tasks.push(tokio::spawn(async move {
                worker_process(&url, &base, limit).await
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let journal = mock.journal();
    let refused = journal.iter().filter(|e| e.status == 429).count();
    let mut times: Vec<f64> = journal
        .iter()
        .filter(|e| e.operation == "send_message")
        .map(|e| e.received_at.timestamp_micros() as f64 / 1e6)
        .collect();
    times.sort_by(f64::total_cmp);
    let l = limit as usize;
    // How late each request is against the one `limit` places after it, compared with the
    // schedule's spacing (`limit` intervals at `Pace::HEADROOM` of the limit): a 429 needs more
    // than the slack this prints (52 ms at 0.95).
    let span = f64::from(limit) / (f64::from(limit) * herohealth::Pace::HEADROOM);
    let mut jitter: Vec<f64> = times
        .windows(l + 1)
        .map(|w| (span - (w[l] - w[0])) * 1e3)
        .collect();
    jitter.sort_by(f64::total_cmp);
    let most = {
        let mut most = 0;
        let mut from = 0;
        for to in 0..times.len() {
            while times[to] - times[from] >= 1.0 {
                from += 1;
            }
            most = most.max(to - from + 1);
        }
        most
    };
    let pct = |p: f64| jitter[((jitter.len() - 1) as f64 * p) as usize];
    println!(
        "   {workers} workers ({}) at {limit}/s, {n} rows in {secs:.1} s ({:.3} of the limit): {refused} 429s, at most {most} requests in any sliding second; jitter over {limit} requests (ms, > {:.0} would be a 429): median {:.1}, p99 {:.1}, max {:.1}",
        if processes {
            "processes"
        } else {
            "tasks of one process"
        },
        n as f64 / secs / f64::from(limit),
        (span - 1.0) * 1e3,
        pct(0.5),
        pct(0.99),
        jitter.last().copied().unwrap_or(0.0)
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--worker") {
        let limit = args[at + 3].parse().unwrap();
        return worker_process(&args[at + 1], &args[at + 2], limit).await;
    }
    let Some(pg) = TempPostgres::start_with("the workers benches", true) else {
        return;
    };
    // `-- pace`: the shared pace's section only (both of its rows, in one run).
    if args.iter().any(|a| a == "pace") {
        println!("3. the shared pace in a long run");
        shared_pace(&pg, 4, 8, 480, true).await;
        shared_pace(&pg, 4, 8, 480, false).await;
        return;
    }
    println!("1. the ceiling: rows/s, one PostgreSQL journal, mock without limit, 5 ms a send");
    for workers in [1, 2, 4, 8] {
        let one = ceiling(&pg, workers, 3_000, 1).await;
        let at = cpu();
        let pool = ceiling(&pg, workers, 3_000, herohealth_outbox::CONNECTIONS).await;
        let busy = busy_since(at);
        let alone = unshared(workers, 3_000).await;
        println!(
            "   {workers} worker(s): {pool:.0} rows/s ({} connections a worker; CPU {:.0}% busy), {one:.0} rows/s (1); sharing nothing (in-memory journals): {alone:.0} rows/s",
            herohealth_outbox::CONNECTIONS,
            busy * 100.0
        );
    }

    println!("2. the journal's own cost, microseconds per row (claim / in flight / final)");
    for at_once in [1, 8] {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = SqliteJournal::open(dir.path().join("steps.db")).unwrap();
        let [c, f, s] = steps(&sqlite, 1_000, 1_000, at_once).await;
        let mut postgres = String::new();
        for connections in [1, herohealth_outbox::CONNECTIONS] {
            let url = pg.database(&format!("steps{at_once}x{connections}"));
            let journal = PgJournal::connect(&url)
                .await
                .unwrap()
                .connections(connections);
            let [pc, pf, ps] = steps(&journal, 1_000, 32, at_once).await;
            postgres.push_str(&format!(
                ", PostgreSQL over {connections} connection(s) {pc:.0} / {pf:.0} / {ps:.0} us ({:.0} rows/s)",
                1e6 / (pc + pf + ps)
            ));
        }
        println!(
            "   {at_once} at once: SQLite {c:.0} / {f:.0} / {s:.0} us ({:.0} rows/s){postgres}",
            1e6 / (c + f + s),
        );
    }

    println!("3. the shared pace in a long run");
    shared_pace(&pg, 4, 8, 480, true).await;
    shared_pace(&pg, 4, 8, 480, false).await;
}
