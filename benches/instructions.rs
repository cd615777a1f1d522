//! What the client costs in instructions, counted by Callgrind (gungraun), each case beside the
//! plainest alternative doing the same work in the same run: deterministic where the wall-clock
//! benches (`request_overhead`, `failure_path`, `batch_payload`) drown in the scheduler's noise.
//!
//! The loopback cases run herohealth-mock on a thread of its own (its own runtime), started in
//! the benchmark's setup; the measured function runs the client (or bare reqwest, configured as
//! `HeroClient` configures it) on a current-thread runtime on the measuring thread, so hyper's
//! connection task is counted with the call and the server's work is not (Callgrind collects only
//! inside the benchmark function, on its own thread). Every client makes the same calls in the
//! setup first (connection open, lazy statics set), so the count is the steady state.
//!
//! Needs Valgrind and `gungraun-runner` at the version of the `gungraun` dev-dependency:
//! `bash benches/setup.sh` installs both (BENCHMARKS.md).

#[path = "batch_payload.rs"]
#[allow(dead_code)]
mod payload;

use std::{hint::black_box, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use gungraun::{
    LibraryBenchmarkConfig, OutputFormat, library_benchmark, library_benchmark_group, main,
};
use herohealth::{
    API_KEY_HEADER, BatchChannel, Error, FindOptions, FoundSend, HeroClient, MessageType,
    NhsNumber, PRACTICE_GROUP_ID_HEADER, PageOptions, Paginate, RetryPolicy, types,
};
use herohealth_mock::{Fault, FaultRule, MockConfig, MockServer};
use serde::{Deserialize, Serialize};

/// Calls made by each loopback case's measured function; tables divide by it.
const CALLS: usize = 10;
/// The patient, text and recipient of the sends.
const PATIENT: &str = "7";
const TEXT: &str = "Your results are ready";
const TO: &str = "+447700900123";

/// A mock on a thread of its own, and a client of each kind on the measuring thread's runtime.
pub struct Wire {
    rt: tokio::runtime::Runtime,
    mock: Arc<MockServer>,
    base: String,
    key: String,
    group: String,
    hero: HeroClient,
    /// reqwest configured as `HeroClient` configures it (its `build`): a timeout per attempt, a
    /// connect timeout, no redirects, no retries of its own.
    http: reqwest::Client,
    /// What the case's setup found out (a batch id, a lost send's error).
    id: String,
    lost: Option<Error>,
}

fn configured_reqwest() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent("bench")
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never())
        .build()
        .expect("reqwest client")
}

/// Starts the mock on a thread of its own, and the clients on this one: `HeroClient` as the mock
/// builds it (the defaults: retry policy, timeouts), changed by `tune`.
fn wire(
    config: MockConfig,
    tune: impl FnOnce(herohealth::HeroClientBuilder) -> herohealth::HeroClientBuilder,
) -> Wire {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("mock runtime");
        rt.block_on(async move {
            let mock = config.start().await.expect("mock on loopback");
            tx.send(Arc::new(mock)).expect("mock handed over");
            std::future::pending::<()>().await
        });
    });
    let mock = rx.recv().expect("mock started");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let hero = rt.block_on(async { tune(mock.client_builder()).build().expect("client") });
    let (key, group) = mock.credentials();
    Wire {
        rt,
        base: mock.base_url(),
        mock,
        key,
        group,
        hero,
        http: configured_reqwest(),
        id: String::new(),
        lost: None,
    }
}

impl Wire {
    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .header(API_KEY_HEADER, &self.key)
            .header(PRACTICE_GROUP_ID_HEADER, &self.group)
            .header("accept", "application/json")
    }

    fn post<B: Serialize>(&self, path: &str, body: &B) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .header(API_KEY_HEADER, &self.key)
            .header(PRACTICE_GROUP_ID_HEADER, &self.group)
            .header("accept", "application/json")
            .json(body)
    }

    /// Runs `calls` on this thread's runtime `n` times (warming, or measured).
    fn run<F, Fut>(&self, n: usize, call: F)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = ()>,
    {
        self.rt.block_on(async {
            for _ in 0..n {
                call().await;
            }
        });
    }
}

// ---------------------------------------------------------------------------------------------
// get_batch_message: the client vs the same GET through bare reqwest configured alike.

async fn hero_get_batch(w: &Wire) {
    let batch = w
        .hero
        .get_batch_message()
        .id(&w.id)
        .send()
        .await
        .expect("batch");
    black_box(batch.into_inner());
}

async fn bare_get_batch(w: &Wire) {
    let batch = w
        .get(&format!("/v1/batch_message/{}", w.id))
        .send()
        .await
        .expect("answer")
        .error_for_status()
        .expect("200")
        .json::<types::BatchMessage>()
        .await
        .expect("batch");
    black_box(batch);
}

fn get_batch_setup(warm: usize) -> Wire {
    let mut w = wire(MockConfig::default(), |b| b);
    w.id = w.rt.block_on(async {
        w.hero
            .create_batch_message()
            .body_map(|b| {
                b.name("bench")
                    .channel(BatchChannel::Sms)
                    .content("c")
                    .recipients(vec![types::BatchRecipient {
                        nhs_number: "9434765919".parse().expect("valid"),
                        dob: None,
                    }])
            })
            .send()
            .await
            .expect("batch created")
            .into_inner()
            .id
    });
    w.run(warm, || hero_get_batch(&w));
    w.run(warm, || bare_get_batch(&w));
    w
}

#[library_benchmark]
#[bench::loopback(args = (20), setup = get_batch_setup)]
fn get_batch_message_herohealth(w: Wire) -> Wire {
    w.run(CALLS, || hero_get_batch(&w));
    w
}

#[library_benchmark]
#[bench::loopback(args = (20), setup = get_batch_setup)]
fn get_batch_message_bare_reqwest(w: Wire) -> Wire {
    w.run(CALLS, || bare_get_batch(&w));
    w
}

// ---------------------------------------------------------------------------------------------
// A send: its success path and its refused path (400 with validation issues).

#[derive(Serialize)]
struct PlainSend<'a> {
    patient_id: &'a str,
    message_type: &'a str,
    message_string: &'a str,
}

const PLAIN_SEND: PlainSend<'static> = PlainSend {
    patient_id: PATIENT,
    message_type: "sms",
    message_string: TEXT,
};

async fn hero_send(w: &Wire) -> herohealth::Result<types::SendMessageResponse> {
    w.hero
        .send_message()
        .body_map(|b| {
            b.patient_id(PATIENT)
                .message_type(MessageType::Sms)
                .message_string(TEXT)
        })
        .send()
        .await
        .map(|r| r.into_inner())
}

async fn hero_send_ok(w: &Wire) {
    black_box(hero_send(w).await.expect("sent"));
}

async fn bare_send_ok(w: &Wire) {
    let sent = w
        .post("/v1/messages/send", &PLAIN_SEND)
        .send()
        .await
        .expect("answer")
        .error_for_status()
        .expect("200")
        .json::<types::SendMessageResponse>()
        .await
        .expect("decoded");
    black_box(sent);
}

async fn hero_send_refused(w: &Wire) {
    let err = hero_send(w).await.expect_err("refused");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    black_box(err);
}

async fn bare_send_refused(w: &Wire) {
    let resp = w
        .post("/v1/messages/send", &PLAIN_SEND)
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status().as_u16(), 400);
    black_box(resp.json::<serde_json::Value>().await.expect("error body"));
}

fn send_ok_setup(warm: usize) -> Wire {
    let w = wire(MockConfig::default(), |b| b);
    w.run(warm, || hero_send_ok(&w));
    w.run(warm, || bare_send_ok(&w));
    w
}

fn send_refused_setup(warm: usize) -> Wire {
    let w = wire(
        MockConfig::default().fault(FaultRule::new(
            "send_message",
            Fault::Validation {
                fields: vec!["message_string".into(), "patient_id".into()],
            },
        )),
        |b| b,
    );
    w.run(warm, || hero_send_refused(&w));
    w.run(warm, || bare_send_refused(&w));
    w
}

#[library_benchmark]
#[bench::loopback(args = (20), setup = send_ok_setup)]
fn send_message_ok_herohealth(w: Wire) -> Wire {
    w.run(CALLS, || hero_send_ok(&w));
    w
}

#[library_benchmark]
#[bench::loopback(args = (20), setup = send_ok_setup)]
fn send_message_ok_bare_reqwest(w: Wire) -> Wire {
    w.run(CALLS, || bare_send_ok(&w));
    w
}

#[library_benchmark]
#[bench::loopback(args = (20), setup = send_refused_setup)]
fn send_message_refused_herohealth(w: Wire) -> Wire {
    w.run(CALLS, || hero_send_refused(&w));
    w
}

#[library_benchmark]
#[bench::loopback(args = (20), setup = send_refused_setup)]
fn send_message_refused_bare_reqwest(w: Wire) -> Wire {
    w.run(CALLS, || bare_send_refused(&w));
    w
}

// ---------------------------------------------------------------------------------------------
// A page of 100 sent messages: streamed through the client vs fetched and decoded into plain
// serde structs; and the decoding alone, from the same bytes.

/// `SentMessageList` as plain serde structs: strings, options and chrono's times.
#[derive(Deserialize)]
pub struct PlainPage {
    pub data: Vec<PlainSentMessage>,
    pub count: i64,
}

#[derive(Deserialize)]
pub struct PlainSentMessage {
    pub id: Option<String>,
    pub patient: PlainPatient,
    pub write_to_record: PlainWrite,
    pub short_link: Option<PlainShortLink>,
    pub campaign: Option<PlainCampaign>,
    pub created_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub status: String,
    pub sent_by: String,
    pub recipient_contact_detail: String,
    pub message_type: String,
}

#[derive(Deserialize)]
pub struct PlainPatient {
    pub id: String,
    pub title: Option<String>,
    pub first_name: String,
    pub last_name: String,
}

#[derive(Deserialize)]
pub struct PlainWrite {
    pub write_to_record_at: Option<DateTime<Utc>>,
    pub status: Option<String>,
    pub failure_reason: Option<String>,
}

#[derive(Deserialize)]
pub struct PlainShortLink {
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
}

#[derive(Deserialize)]
pub struct PlainCampaign {
    pub id: Option<String>,
    pub name: Option<String>,
}

const PAGE: u64 = 100;

async fn hero_stream_page(w: &Wire) {
    use futures::TryStreamExt;
    let n = w
        .hero
        .list_sent_messages()
        .stream_with(
            PageOptions::default()
                .page_size(PAGE)
                .concurrency(1)
                .limit(PAGE as usize),
        )
        .try_fold(0u64, |n, m| async move {
            black_box(m);
            Ok(n + 1)
        })
        .await
        .expect("streamed");
    assert_eq!(n, PAGE);
}

async fn bare_page(w: &Wire) {
    let page = w
        .get(&format!("/v2/sent_messages?page_index=0&page_size={PAGE}"))
        .send()
        .await
        .expect("answer")
        .error_for_status()
        .expect("200")
        .json::<PlainPage>()
        .await
        .expect("decoded");
    let mut n = 0u64;
    for m in page.data {
        black_box(m);
        n += 1;
    }
    assert_eq!(n, PAGE);
}

/// The first page of a longer list (1,000 messages): one request on each side. (A list that is
/// exactly one full page costs the client a second request, for an empty page: the engine does
/// not take a `count` equal to the page's length as the total; `paginate.rs` says why.)
fn page_setup(warm: usize) -> Wire {
    let w = wire(
        MockConfig::default()
            .seed_sent_messages(10 * PAGE)
            .max_page_size(PAGE as usize),
        |b| b,
    );
    w.run(warm, || hero_stream_page(&w));
    w.run(warm, || bare_page(&w));
    // One request a page on both sides: the stream stops at its limit, asking for no page more.
    assert_eq!(w.mock.calls("list_sent_messages"), 2 * warm);
    w
}

#[library_benchmark]
#[bench::loopback(args = (5), setup = page_setup)]
fn page_of_100_streamed_herohealth(w: Wire) -> Wire {
    w.run(CALLS, || hero_stream_page(&w));
    w
}

#[library_benchmark]
#[bench::loopback(args = (5), setup = page_setup)]
fn page_of_100_plain_serde_reqwest(w: Wire) -> Wire {
    w.run(CALLS, || bare_page(&w));
    w
}

/// The bytes of one page of 100 (what the mock answers), for the decode-only cases.
fn page_bytes(_: ()) -> Vec<u8> {
    let w = wire(MockConfig::default().seed_sent_messages(10 * PAGE), |b| b);
    let bytes = w.rt.block_on(async {
        w.get(&format!("/v2/sent_messages?page_index=0&page_size={PAGE}"))
            .send()
            .await
            .expect("answer")
            .bytes()
            .await
            .expect("body")
    });
    // Each decoder once before it is measured.
    black_box(serde_json::from_slice::<types::SentMessageList>(&bytes).expect("typed"));
    black_box(serde_json::from_slice::<PlainPage>(&bytes).expect("plain"));
    bytes.to_vec()
}

#[library_benchmark]
#[bench::page(args = (()), setup = page_bytes)]
fn page_of_100_decode_herohealth_types(bytes: Vec<u8>) -> types::SentMessageList {
    black_box(serde_json::from_slice::<types::SentMessageList>(black_box(&bytes)).expect("typed"))
}

#[library_benchmark]
#[bench::page(args = (()), setup = page_bytes)]
fn page_of_100_decode_plain_structs(bytes: Vec<u8>) -> PlainPage {
    black_box(serde_json::from_slice::<PlainPage>(black_box(&bytes)).expect("plain"))
}

// ---------------------------------------------------------------------------------------------
// find_send on a listing of 1,000 messages: the patient's SMS list holds 1,000 messages from
// another sender (to another number) and the lost send's own; the client finds its send.

const LISTED: usize = 1_000;
const OTHER: &str = "+447700900999";

#[derive(Deserialize)]
struct PlainMessage {
    content: Option<String>,
}

/// The plainest way to find a lost send: list the patient's SMS messages, keep those to the same
/// number created since the send started (less a minute), and read each one's text.
async fn bare_find(w: &Wire, since: DateTime<Utc>, known: &[String]) -> String {
    let mut candidates = Vec::new();
    let mut index = 0;
    let mut seen = 0;
    loop {
        let page = w
            .get(&format!(
                "/v2/sent_messages?patient_id={PATIENT}&message_type=sms&page_index={index}&page_size=100"
            ))
            .send()
            .await
            .expect("answer")
            .error_for_status()
            .expect("200")
            .json::<PlainPage>()
            .await
            .expect("page");
        seen += page.data.len();
        let last = page.data.is_empty() || seen as i64 >= page.count;
        for m in page.data {
            let id = m.id.unwrap_or_default();
            if m.recipient_contact_detail == TO
                && m.created_at
                    .is_some_and(|t| t >= since - chrono::Duration::seconds(60))
                && !known.contains(&id)
            {
                candidates.push(id);
            }
        }
        if last {
            break;
        }
        index += 1;
    }
    assert_eq!(seen, LISTED + known.len() + 1);
    for id in candidates {
        let m = w
            .get(&format!("/v1/messages/{id}"))
            .send()
            .await
            .expect("answer")
            .json::<PlainMessage>()
            .await
            .expect("message");
        if m.content.as_deref() == Some(TEXT) {
            return id;
        }
    }
    panic!("not found")
}

/// A send whose connection breaks after the mock processed it, and its deadline passed.
fn lose_a_send(w: &Wire) -> Error {
    w.mock
        .inject(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(1));
    let err =
        w.rt.block_on(async {
            w.hero
                .send_message()
                .body_map(|b| {
                    b.patient_id(PATIENT)
                        .message_type(MessageType::Sms)
                        .message_string(TEXT)
                        .recipient_contact_detail(TO)
                })
                .send()
                .await
        })
        .expect_err("lost");
    assert!(err.outcome_unknown(), "{err:?}");
    let deadline = err.send_attempt().expect("attempt").deadline();
    let wait = (deadline - Utc::now()).to_std().unwrap_or_default();
    std::thread::sleep(wait + Duration::from_millis(100));
    err
}

fn find_options() -> FindOptions {
    FindOptions::default().looks(1).list_delay(Duration::ZERO)
}

fn find_setup(_: ()) -> Wire {
    // A send may take 2 s (Valgrind runs the code tens of times slower) and Hero as long to
    // create its message; one attempt (the looks' reads are not retried either).
    let mut w = wire(MockConfig::default(), |b| {
        b.retry_policy(RetryPolicy::default().max_attempts(1))
            .timeout(Duration::from_secs(2))
            .hero_processing_time(Duration::from_secs(2))
    });
    let other = PlainSendTo {
        patient_id: PATIENT,
        message_type: "sms",
        message_string: "Your appointment is confirmed",
        recipient_contact_detail: OTHER,
    };
    w.rt.block_on(async {
        for _ in 0..LISTED {
            w.post("/v1/messages/send", &other)
                .send()
                .await
                .expect("answer")
                .error_for_status()
                .expect("sent");
        }
    });
    // One lost send found by each side before the one measured (the code paths warmed); the
    // client remembers what it found, and the bare side is told.
    let warm = lose_a_send(&w);
    let since = warm.send_attempt().expect("attempt").started();
    let found =
        w.rt.block_on(w.hero.find_send(&warm, find_options()))
            .expect("found");
    let FoundSend::Sent { message_id } = &found else {
        panic!("the warm-up send was not found: {found:?}")
    };
    assert_eq!(&w.rt.block_on(bare_find(&w, since, &[])), message_id);
    w.id = message_id.clone();
    w.lost = Some(lose_a_send(&w));
    w
}

#[derive(Serialize)]
struct PlainSendTo<'a> {
    patient_id: &'a str,
    message_type: &'a str,
    message_string: &'a str,
    recipient_contact_detail: &'a str,
}

#[library_benchmark]
#[bench::listing_1000(args = (()), setup = find_setup)]
fn find_send_herohealth(w: Wire) -> Wire {
    let err = w.lost.as_ref().expect("a lost send");
    let found = w.rt.block_on(w.hero.find_send(err, find_options()));
    assert!(matches!(found, Ok(FoundSend::Sent { .. })), "{found:?}");
    w
}

#[library_benchmark]
#[bench::listing_1000(args = (()), setup = find_setup)]
fn find_send_bare_reqwest(w: Wire) -> Wire {
    let since = w
        .lost
        .as_ref()
        .and_then(|e| e.send_attempt())
        .expect("attempt")
        .started();
    let known = [w.id.clone()];
    let found = w.rt.block_on(bare_find(&w, since, &known));
    assert_ne!(found, w.id);
    w
}

// ---------------------------------------------------------------------------------------------
// A 100 000-recipient batch built and serialised (the `batch_payload` bench's two sides), and
// `NhsNumber::parse`.

pub struct Numbers {
    raw: Vec<String>,
    digits: Vec<String>,
}

fn numbers(n: usize) -> Numbers {
    let raw = payload::common::nhs_numbers(n);
    let digits = raw.iter().map(|n| n.replace(' ', "")).collect();
    Numbers { raw, digits }
}

fn batch_setup(n: usize) -> Numbers {
    let numbers = numbers(n);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&payload::with_herohealth(&numbers.raw))
            .expect("JSON"),
        serde_json::from_slice::<serde_json::Value>(&payload::plain(&numbers.digits))
            .expect("JSON"),
        "the same JSON on the wire"
    );
    numbers
}

#[library_benchmark]
#[bench::recipients_100k(args = (100_000), setup = batch_setup)]
fn batch_herohealth_types(numbers: Numbers) -> Vec<u8> {
    black_box(payload::with_herohealth(black_box(&numbers.raw)))
}

#[library_benchmark]
#[bench::recipients_100k(args = (100_000), setup = batch_setup)]
fn batch_plain_structs(numbers: Numbers) -> Vec<u8> {
    black_box(payload::plain(black_box(&numbers.digits)))
}

/// The NHS number rule written plainly: ten digits (spaces allowed between groups), the check
/// digit from the first nine weighted 10 down to 2, modulo 11.
fn plain_nhs_check(text: &str) -> Option<[u8; 10]> {
    let mut digits = [0u8; 10];
    let mut n = 0;
    for b in text.trim().bytes() {
        match b {
            b'0'..=b'9' if n < 10 => {
                digits[n] = b - b'0';
                n += 1;
            }
            b' ' => {}
            _ => return None,
        }
    }
    if n != 10 {
        return None;
    }
    let sum: u32 = digits[..9]
        .iter()
        .enumerate()
        .map(|(i, &d)| u32::from(d) * (10 - i as u32))
        .sum();
    let check = (11 - sum % 11) % 11;
    (check != 10 && check == u32::from(digits[9])).then_some(digits)
}

fn parse_setup(n: usize) -> Vec<String> {
    let raw = numbers(n).raw;
    for r in &raw {
        assert!(NhsNumber::parse(r).is_ok() && plain_nhs_check(r).is_some());
    }
    raw
}

#[library_benchmark]
#[bench::grouped_1000(args = (1_000), setup = parse_setup)]
fn nhs_number_parse_herohealth(raw: Vec<String>) -> usize {
    raw.iter()
        .filter(|r| black_box(NhsNumber::parse(black_box(r))).is_ok())
        .count()
}

#[library_benchmark]
#[bench::grouped_1000(args = (1_000), setup = parse_setup)]
fn nhs_number_check_written_plainly(raw: Vec<String>) -> usize {
    raw.iter()
        .filter(|r| black_box(plain_nhs_check(black_box(r))).is_some())
        .count()
}

library_benchmark_group!(
    name = per_call;
    benchmarks = get_batch_message_bare_reqwest, get_batch_message_herohealth
);
library_benchmark_group!(
    name = send;
    benchmarks = send_message_ok_bare_reqwest, send_message_ok_herohealth,
        send_message_refused_bare_reqwest, send_message_refused_herohealth
);
library_benchmark_group!(
    name = page;
    benchmarks = page_of_100_plain_serde_reqwest, page_of_100_streamed_herohealth,
        page_of_100_decode_plain_structs, page_of_100_decode_herohealth_types
);
library_benchmark_group!(
    name = find;
    benchmarks = find_send_bare_reqwest, find_send_herohealth
);
library_benchmark_group!(
    name = batch;
    benchmarks = batch_plain_structs, batch_herohealth_types,
        nhs_number_check_written_plainly, nhs_number_parse_herohealth
);

main!(
    config = LibraryBenchmarkConfig::default()
        .output_format(OutputFormat::default().show_intermediate(true));
    library_benchmark_groups = per_call, send, page, find, batch
);
