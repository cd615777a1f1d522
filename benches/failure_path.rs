//! What a failure costs: a send Hero refuses with 400 and its validation issues, and a read
//! answered 503 twice (the retry policy's second attempt with no backoff), through `HeroClient`
//! (error built, masked, `WasSent` decided) vs the same exchanges with a bare `reqwest::Client`
//! that reads the error body into a `serde_json::Value`, against herohealth-mock on loopback.

use criterion::{Criterion, criterion_group, criterion_main};
use herohealth::{MessageType, RetryPolicy};
use herohealth_mock::{Fault, FaultRule, MockServer};
use serde_json::{Value, json};

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mock = rt.block_on(async {
        MockServer::builder()
            .fault(FaultRule::new(
                "send_message",
                Fault::Validation {
                    fields: vec!["message_string".into(), "patient_id".into()],
                },
            ))
            .fault(FaultRule::new("get_batch_message", Fault::Status(503)))
            .start()
            .await
            .unwrap()
    });
    let hero = mock
        .client_builder()
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(2)
                .initial_backoff(std::time::Duration::ZERO),
        )
        .build()
        .unwrap();
    let (key, group) = mock.credentials();
    let bare = reqwest::Client::builder()
        .user_agent("bench")
        .build()
        .unwrap();
    let base = mock.base_url().to_string();

    // 400 with validation issues.
    let hero_400 = || {
        let call = hero.send_message().body_map(|b| {
            b.patient_id("98765")
                .message_type(MessageType::Sms)
                .message_string("Your results are ready.")
        });
        async move {
            let err = call.send().await.unwrap_err();
            assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
            err
        }
    };
    let bare_400 = || {
        let request = bare
            .post(format!("{base}/v1/messages/send"))
            .header("x-api-key", &key)
            .header("x-practice-group-id", &group)
            .json(&json!({"patient_id": "98765", "message_type": "sms",
                "message_string": "Your results are ready."}));
        async move {
            let resp = request.send().await.unwrap();
            assert_eq!(resp.status().as_u16(), 400);
            resp.json::<Value>().await.unwrap()
        }
    };
    rt.block_on(hero_400());
    rt.block_on(bare_400());
    let mut g = c.benchmark_group("failure/validation_400");
    g.bench_function("herohealth", |b| b.to_async(&rt).iter(hero_400));
    g.bench_function("bare_reqwest", |b| b.to_async(&rt).iter(bare_400));
    g.finish();

    // 503, retried once without backoff, then the error.
    let hero_503 = || {
        let call = hero.get_batch_message().id("1");
        async move {
            let err = call.send().await.unwrap_err();
            assert_eq!(err.attempts(), 2);
            err
        }
    };
    let bare_503 = || {
        let url = format!("{base}/v1/batch_message/1");
        let (bare, key, group) = (&bare, &key, &group);
        async move {
            let mut last = Value::Null;
            for _ in 0..2 {
                let resp = bare
                    .get(&url)
                    .header("x-api-key", key)
                    .header("x-practice-group-id", group)
                    .header("accept", "application/json")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status().as_u16(), 503);
                last = resp.json::<Value>().await.unwrap();
            }
            last
        }
    };
    rt.block_on(hero_503());
    rt.block_on(bare_503());
    let mut g = c.benchmark_group("failure/status_503_retried");
    g.bench_function("herohealth", |b| b.to_async(&rt).iter(hero_503));
    g.bench_function("bare_reqwest", |b| b.to_async(&rt).iter(bare_503));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
