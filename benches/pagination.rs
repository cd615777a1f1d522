//! Streaming 100 000 sent messages from herohealth-mock: one page at a time vs prefetching 8 pages,
//! with no injected latency and with 5 ms per page.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use futures::TryStreamExt;
use herohealth::{PageOptions, Paginate};
use herohealth_mock::{Fault, FaultRule, MockServer};

const N: u64 = 100_000;
const PAGE: u64 = 100;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for latency_ms in [0u64, 5] {
        let mock = rt.block_on(async {
            let mut config = MockServer::builder()
                .seed_sent_messages(N)
                .max_page_size(PAGE as usize);
            if latency_ms > 0 {
                config = config.fault(FaultRule::new(
                    "list_sent_messages",
                    Fault::Latency(Duration::from_millis(latency_ms)),
                ));
            }
            config.start().await.unwrap()
        });
        let hero = mock.client();
        // Streams the list and counts it, spending `work` on each item as a consumer would.
        let consume = |concurrency: usize, work: Duration| {
            let stream = hero.list_sent_messages().stream_with(
                PageOptions::default()
                    .page_size(PAGE)
                    .concurrency(concurrency),
            );
            async move {
                let n = stream
                    .try_fold(0u64, |n, _| async move {
                        if !work.is_zero() {
                            let start = std::time::Instant::now();
                            while start.elapsed() < work {
                                std::hint::spin_loop();
                            }
                        }
                        Ok(n + 1)
                    })
                    .await
                    .unwrap();
                assert_eq!(n, N);
            }
        };
        let count = |concurrency: usize| consume(concurrency, Duration::ZERO);
        let mut g = c.benchmark_group(format!("stream_100k_sent_messages/latency_{latency_ms}ms"));
        g.sample_size(10).measurement_time(Duration::from_secs(15));
        g.bench_function("sequential", |b| b.to_async(&rt).iter(|| count(1)));
        g.bench_function("prefetch_8", |b| b.to_async(&rt).iter(|| count(8)));
        g.finish();
        if latency_ms > 0 {
            // A consumer that spends 10 µs on each item (formatting and writing a CSV row):
            // 1 s of its own work for the 100 000; prefetching should hide the pages behind it.
            let work = |concurrency: usize| consume(concurrency, Duration::from_micros(10));
            let mut g = c.benchmark_group(format!(
                "stream_100k_sent_messages/latency_{latency_ms}ms_consumer_10us_per_item"
            ));
            g.sample_size(10).measurement_time(Duration::from_secs(15));
            g.bench_function("sequential", |b| b.to_async(&rt).iter(|| work(1)));
            g.bench_function("prefetch_8", |b| b.to_async(&rt).iter(|| work(8)));
            g.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
