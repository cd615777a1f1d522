//! `cargo bench -p herohealth-outbox --bench send_many` (#15): throughput numbers for
//! BENCHMARKS.md, printed, not asserted.
//!
//! 1. Pacing: 2,000 rows against herohealth-mock limited to 100 requests per second (429 with
//!    Retry-After beyond it) with 5 ms latency per send: the outbox at `rate(100)` vs a naive
//!    `buffer_unordered(16)` loop over the same rows (the client's default retries). Achieved sends
//!    per second and 429s received.
//! 2. The journal's cost, no rate limit: the outbox with `SqliteJournal` (WAL, synchronous=FULL, a
//!    temporary file) vs the same outbox with an in-memory journal.

use std::{
    num::NonZeroU32,
    time::{Duration, Instant},
};

use futures::StreamExt;
use herohealth::MessageType;
use herohealth_mock::{Fault, FaultRule, MockServer};
use herohealth_outbox::{
    Entry, Input, Journal, JournalError, Options, Outbox, Row, RowState, SqliteJournal, Status,
};

const ROWS: usize = 2_000;
const LIMIT: u32 = 100;

fn rows(n: usize) -> Vec<Row> {
    (0..n)
        .map(|i| {
            Row::new(
                &format!("{}", 10_000 + i),
                MessageType::Sms,
                "Your results are ready",
            )
            .unwrap()
        })
        .collect()
}

/// The same bookkeeping without storage: what the outbox costs without a journal on disk.
#[derive(Default)]
struct MemoryJournal(std::sync::Mutex<Vec<Entry>>);

impl MemoryJournal {
    fn rows(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.0.lock().unwrap()
    }
}

impl Journal for MemoryJournal {
    async fn bind(&self, _group_key: &str) -> Result<(), JournalError> {
        Ok(())
    }

    async fn open(&self, input: &Input) -> Result<(), JournalError> {
        let mut rows = self.rows();
        if rows.is_empty() {
            *rows = input
                .rows()
                .iter()
                .enumerate()
                .map(|(i, row)| Entry {
                    run: 0,
                    index: i as u64,
                    row: row.clone(),
                    state: RowState::Pending,
                    sends: 0,
                })
                .collect();
        }
        Ok(())
    }

    async fn entries(&self) -> Result<Vec<Entry>, JournalError> {
        Ok(self.rows().clone())
    }

    async fn transition(
        &self,
        _run: u64,
        index: u64,
        from: Status,
        to: &RowState,
    ) -> Result<(), JournalError> {
        let mut rows = self.rows();
        let e = &mut rows[index as usize];
        if e.state.status() != from {
            return Err(JournalError::Storage("conflict".into()));
        }
        if to.status() == Status::InFlight {
            e.sends += 1;
        }
        e.state = to.clone();
        Ok(())
    }

    async fn claim(&self, _max: usize) -> Result<Vec<Entry>, JournalError> {
        let rows = self.rows();
        Ok(rows
            .iter()
            .filter(|e| !e.state.status().is_final())
            .cloned()
            .collect())
    }

    async fn release(&self) -> Result<(), JournalError> {
        Ok(())
    }

    async fn unfinished(&self) -> Result<usize, JournalError> {
        Ok(self
            .rows()
            .iter()
            .filter(|e| !e.state.status().is_final())
            .count())
    }

    async fn known_ids(&self) -> Result<Vec<String>, JournalError> {
        Ok(Vec::new())
    }

    async fn shared_pace(
        &self,
        _group: &str,
        _rate: NonZeroU32,
    ) -> Result<Option<herohealth::Pace>, JournalError> {
        Ok(None)
    }

    async fn runs(&self) -> Result<Vec<herohealth_outbox::RunStatus>, JournalError> {
        Ok(Vec::new())
    }

    async fn to_decide(&self) -> Result<Vec<Entry>, JournalError> {
        Ok(Vec::new())
    }

    async fn workers(&self) -> Result<Vec<herohealth_outbox::WorkerStatus>, JournalError> {
        Ok(Vec::new())
    }
}

fn count_429(mock: &MockServer) -> usize {
    mock.journal()
        .iter()
        .filter(|e| e.operation == "send_message" && e.status == 429)
        .count()
}

async fn limited_mock() -> MockServer {
    MockServer::builder()
        .rate_limit(LIMIT)
        .fault(FaultRule::new(
            "send_message",
            Fault::Latency(Duration::from_millis(5)),
        ))
        .start()
        .await
        .unwrap()
}

async fn outbox_run<J: Journal>(mock: &MockServer, journal: J, options: Options) -> (f64, usize) {
    let input = Input::from_rows(rows(ROWS));
    let outbox = Outbox::new(mock.client(), journal, options);
    let start = Instant::now();
    let summary = outbox.run(&input, |_| {}).await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert!(summary.all_sent(), "{summary:?}");
    (secs, summary.sent)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let dir = tempfile::tempdir().unwrap();

    // 1. Pacing against the mock's rate limit.
    let mock = limited_mock().await;
    let (secs, sent) = outbox_run(
        &mock,
        SqliteJournal::open(dir.path().join("paced.db")).unwrap(),
        Options::default()
            .concurrency(4)
            .rate(NonZeroU32::new(LIMIT)),
    )
    .await;
    println!(
        "outbox rate(100): {sent} sent in {secs:.2} s = {:.1}/s ({:.3} of the limit), {} 429s",
        sent as f64 / secs,
        sent as f64 / secs / f64::from(LIMIT),
        count_429(&mock)
    );
    drop(mock);

    let mock = limited_mock().await;
    let hero = mock.client();
    let start = Instant::now();
    let results: Vec<_> = futures::stream::iter(rows(ROWS))
        .map(|row| {
            let hero = &hero;
            let patient = row.patient_id().to_owned();
            async move {
                hero.send_message()
                    .body_map(|b| {
                        b.patient_id(patient.as_str())
                            .message_type(MessageType::Sms)
                            .message_string("Your results are ready")
                    })
                    .send()
                    .await
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let secs = start.elapsed().as_secs_f64();
    let sent = results.iter().filter(|r| r.is_ok()).count();
    println!(
        "naive buffer_unordered(16): {sent} sent, {} failed, in {secs:.2} s = {:.1}/s, {} 429s",
        results.len() - sent,
        sent as f64 / secs,
        count_429(&mock)
    );
    drop(mock);

    // 2. The journal's cost, no rate limit, no latency: SQLite, PostgreSQL (a throwaway cluster
    //    with fsync on, loopback), in memory.
    #[cfg(feature = "postgres")]
    let pg = herohealth_outbox::testing::TempPostgres::start_with("the PostgreSQL benches", true);
    for concurrency in [1, 8] {
        let options = || Options::default().concurrency(concurrency).rate(None);
        let mock = MockServer::start().await;
        let path = dir.path().join(format!("cost-{concurrency}.db"));
        let (secs, sent) = outbox_run(&mock, SqliteJournal::open(path).unwrap(), options()).await;
        let with = sent as f64 / secs;
        drop(mock);
        #[allow(unused_mut)]
        let mut postgres = String::new();
        #[cfg(feature = "postgres")]
        if let Some(pg) = &pg {
            let url = pg.database(&format!("cost{concurrency}"));
            let journal = herohealth_outbox::PgJournal::connect(&url).await.unwrap();
            let mock = MockServer::start().await;
            let (secs, sent) = outbox_run(&mock, journal, options()).await;
            postgres = format!("PostgreSQL journal {:.0} rows/s, ", sent as f64 / secs);
        }
        let mock = MockServer::start().await;
        let (secs, sent) = outbox_run(&mock, MemoryJournal::default(), options()).await;
        let without = sent as f64 / secs;
        println!(
            "concurrency {concurrency}: SQLite journal {with:.0} rows/s, {postgres}in-memory journal {without:.0} rows/s ({:.2}x SQLite)",
            without / with
        );
    }

    // 3. Workers on one PostgreSQL journal: 2,001 rows over 3 practice groups, each limited to
    //    50 requests a second by the mock (5 ms per send); 1, 2 and 4 workers (each one outbox
    //    per group, its own connections), one shared pace per group.
    #[cfg(feature = "postgres")]
    if let Some(pg) = &pg {
        for workers in [1, 2, 4] {
            aggregate(pg, workers).await;
        }
    }
}

#[cfg(feature = "postgres")]
async fn aggregate(pg: &herohealth_outbox::testing::TempPostgres, workers: usize) {
    use herohealth_outbox::PgJournal;
    const GROUP_LIMIT: u32 = 50;
    const GROUPS: [&str; 3] = ["practice-bench-1", "practice-bench-2", "practice-bench-3"];
    let url = pg.database(&format!("workers{workers}"));
    let mut builder = MockServer::builder()
        .rate_limit(GROUP_LIMIT)
        .fault(FaultRule::new(
            "send_message",
            Fault::Latency(Duration::from_millis(5)),
        ));
    for g in GROUPS {
        builder = builder.api_key("hero-bench-test-key", g);
    }
    let mock = builder.start().await.unwrap();
    let client = |g: &str| {
        herohealth::HeroClient::builder()
            .api_key("hero-bench-test-key")
            .practice_group_id(g)
            .base_url(mock.base_url())
            .build()
            .unwrap()
    };
    let per_group = 667;
    // Queue the three inputs first (as `send-many` does), then start the workers together.
    for (i, g) in GROUPS.iter().enumerate() {
        let input = Input::from_rows(
            (0..per_group)
                .map(|r| {
                    Row::new(
                        &format!("{}", 20_000 + r),
                        MessageType::Sms,
                        &format!("Bench {i}-{r}"),
                    )
                    .unwrap()
                })
                .collect(),
        );
        let (url, key) = (url.clone(), client(g).practice_group_key());
        let j = PgJournal::connect(&url).await.unwrap();
        j.bind(&key).await.unwrap();
        j.open(&input).await.unwrap();
    }
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..workers {
        for g in GROUPS {
            let (url, hero) = (url.clone(), client(g));
            tasks.push(tokio::spawn(async move {
                let journal = PgJournal::connect(&url).await.unwrap();
                let options = Options::default()
                    .concurrency(4)
                    .rate(NonZeroU32::new(GROUP_LIMIT));
                Outbox::new(hero, journal, options)
                    .work(|_| {})
                    .await
                    .unwrap()
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let sent = mock.processed("send_message");
    let limit = f64::from(GROUP_LIMIT) * GROUPS.len() as f64;
    println!(
        "{workers} worker(s), 3 groups x {GROUP_LIMIT}/s: {sent} sent in {secs:.2} s = {:.1}/s ({:.3} of the {limit:.0}/s sum), {} 429s",
        sent as f64 / secs,
        sent as f64 / secs / limit,
        mock.journal().iter().filter(|e| e.status == 429).count()
    );
}
