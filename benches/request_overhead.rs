//! What `HeroClient` adds to one request: `get_batch_message` through the client vs the same GET
//! with a bare `reqwest::Client` (same URL, headers, connection reuse, decoding into the same type),
//! sequential and 32 at a time, against herohealth-mock on loopback; and the same GET with reqwest
//! configured as `HeroClient` configures it.

use criterion::{Criterion, criterion_group, criterion_main};
use futures::future::join_all;
use herohealth::{BatchChannel, types};
use herohealth_mock::MockServer;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (mock, id) = rt.block_on(async {
        let mock = MockServer::start().await;
        let hero = mock.client();
        let batch = hero
            .create_batch_message()
            .body_map(|b| {
                b.name("bench")
                    .channel(BatchChannel::Sms)
                    .content("c")
                    .recipients(vec![types::BatchRecipient {
                        nhs_number: "9434765919".parse().unwrap(),
                        dob: None,
                    }])
            })
            .send()
            .await
            .unwrap();
        (mock, batch.into_inner().id)
    });
    let hero = mock.client();
    let (key, group) = mock.credentials();
    let bare = reqwest::Client::builder()
        .user_agent("bench")
        .build()
        .unwrap();
    // reqwest configured as HeroClient configures it (a timeout per attempt, a connect timeout,
    // no redirects, no retries of its own): what the settings cost, apart from the client's work.
    let configured = reqwest::Client::builder()
        .user_agent("bench")
        .timeout(std::time::Duration::from_secs(30))
        .connect_timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never())
        .build()
        .unwrap();
    let url = format!("{}/v1/batch_message/{id}", mock.base_url());
    // The same GET with a plain reqwest client: the user's code the comparison stands for.
    let plain_get = |client: &reqwest::Client| {
        let request = client
            .get(&url)
            .header("x-api-key", &key)
            .header("x-practice-group-id", &group)
            .header("accept", "application/json");
        async move {
            request
                .send()
                .await
                .unwrap()
                .error_for_status()
                .unwrap()
                .json::<types::BatchMessage>()
                .await
                .unwrap()
        }
    };
    let bare_get = || plain_get(&bare);
    let conf_get = || plain_get(&configured);
    let hero_get = || {
        let request = hero.get_batch_message().id(&id);
        async move { request.send().await.unwrap().into_inner() }
    };
    assert_eq!(rt.block_on(bare_get()), rt.block_on(hero_get()));

    // Every client warmed alike before anything is measured: in one process, whichever function
    // criterion measures first ran about 10 µs slower (its position, not its client).
    rt.block_on(async {
        for _ in 0..2_000 {
            bare_get().await;
            hero_get().await;
            conf_get().await;
        }
    });

    let mut g = c.benchmark_group("get_batch_message/sequential");
    g.bench_function("bare_reqwest", |b| b.to_async(&rt).iter(bare_get));
    g.bench_function("herohealth", |b| b.to_async(&rt).iter(hero_get));
    g.bench_function("configured_reqwest", |b| b.to_async(&rt).iter(conf_get));
    g.finish();

    let mut g = c.benchmark_group("get_batch_message/concurrent_32");
    g.bench_function("bare_reqwest", |b| {
        b.to_async(&rt)
            .iter(|| join_all((0..32).map(|_| bare_get())))
    });
    g.bench_function("herohealth", |b| {
        b.to_async(&rt)
            .iter(|| join_all((0..32).map(|_| hero_get())))
    });
    g.bench_function("configured_reqwest", |b| {
        b.to_async(&rt)
            .iter(|| join_all((0..32).map(|_| conf_get())))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
