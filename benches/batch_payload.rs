//! Building, validating (NHS numbers) and serialising a 100 000-recipient batch through the crate's
//! types, vs `serde_json::to_vec` of the same data as plain structs.

pub mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use herohealth::{BatchChannel, types};
use serde::Serialize;

#[derive(Serialize)]
struct PlainRecipient<'a> {
    nhs_number: &'a str,
    dob: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Serialize)]
struct PlainBatch<'a> {
    name: &'a str,
    channel: &'a str,
    content: &'a str,
    recipients: Vec<PlainRecipient<'a>>,
}

/// Through the crate: parse and check every NHS number, build the request type, serialise it.
pub fn with_herohealth(raw: &[String]) -> Vec<u8> {
    let recipients: Vec<types::BatchRecipient> = raw
        .iter()
        .map(|n| types::BatchRecipient {
            nhs_number: n.parse().expect("valid"),
            dob: None,
        })
        .collect();
    let body = types::CreateBatchMessageRequest::builder()
        .name("Flu clinic")
        .channel(BatchChannel::Sms)
        .content("Your flu vaccination is due.")
        .recipients(recipients);
    let body = types::CreateBatchMessageRequest::try_from(body).expect("valid body");
    serde_json::to_vec(&body).expect("serialisable")
}

/// Plain structs holding the (already normalised) numbers: no checks.
pub fn plain(digits: &[String]) -> Vec<u8> {
    let body = PlainBatch {
        name: "Flu clinic",
        channel: "SMS",
        content: "Your flu vaccination is due.",
        recipients: digits
            .iter()
            .map(|n| PlainRecipient {
                nhs_number: n,
                dob: None,
            })
            .collect(),
    };
    serde_json::to_vec(&body).expect("serialisable")
}

fn bench(c: &mut Criterion) {
    let raw = common::nhs_numbers(100_000);
    let digits: Vec<String> = raw.iter().map(|n| n.replace(' ', "")).collect();
    let parsed = |b: Vec<u8>| serde_json::from_slice::<serde_json::Value>(&b).expect("JSON");
    assert!(
        parsed(with_herohealth(&raw)) == parsed(plain(&digits)),
        "the same JSON on the wire"
    );
    let mut g = c.benchmark_group("batch_100k_recipients");
    g.sample_size(20);
    g.bench_function("herohealth_types", |b| b.iter(|| with_herohealth(&raw)));
    g.bench_function("plain_structs", |b| b.iter(|| plain(&digits)));
    // Where the difference goes: each step of the crate's path alone, beside the plain one's.
    let parsed_recipients: Vec<types::BatchRecipient> = raw
        .iter()
        .map(|n| types::BatchRecipient {
            nhs_number: n.parse().expect("valid"),
            dob: None,
        })
        .collect();
    let plain_recipients: Vec<PlainRecipient> = digits
        .iter()
        .map(|n| PlainRecipient {
            nhs_number: n,
            dob: None,
        })
        .collect();
    g.bench_function("step_check_nhs_numbers", |b| {
        b.iter(|| {
            raw.iter()
                .map(|n| n.parse::<herohealth::NhsNumber>().expect("valid"))
                .collect::<Vec<_>>()
        })
    });
    g.bench_function("floor_read_each_number", |b| {
        b.iter(|| {
            raw.iter()
                .map(|n| {
                    let b = n.as_bytes();
                    let mut w = [0u8; 8];
                    w.copy_from_slice(&b[..8]);
                    (u64::from_le_bytes(w), u64::from(b[b.len() - 1]))
                })
                .collect::<Vec<_>>()
        })
    });
    g.bench_function("step_build_recipients", |b| {
        b.iter(|| {
            raw.iter()
                .map(|n| types::BatchRecipient {
                    nhs_number: n.parse().expect("valid"),
                    dob: None,
                })
                .collect::<Vec<_>>()
        })
    });
    g.bench_function("step_serialise_recipients", |b| {
        b.iter(|| serde_json::to_vec(&parsed_recipients).expect("serialisable"))
    });
    g.bench_function("step_serialise_plain_recipients", |b| {
        b.iter(|| serde_json::to_vec(&plain_recipients).expect("serialisable"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
