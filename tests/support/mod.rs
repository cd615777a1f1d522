//! Shared test support (as reqwest's `tests/support/`): clients for a loopback server, a table of
//! every operation called the way a user calls it, and the patient data no output may show. The
//! servers are herohealth-mock's: `MockServer` for Hero, `raw` for what misbehaves on cue.
#![allow(dead_code)]

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::future::BoxFuture;
use herohealth::{
    BatchChannel, Error, FindOptions, HeroClient, MessageType, RetryPolicy, WaitOptions,
    WebhookEventType, types,
};

/// A client builder for `uri` with the test's key, practice group and retry policy: each test file
/// has credentials of its own, so a leak names the file it came from.
pub fn builder_for(
    uri: &str,
    key: &str,
    practice: &str,
    retry: RetryPolicy,
) -> herohealth::HeroClientBuilder {
    HeroClient::builder()
        .api_key(key)
        .practice_group_id(practice)
        .base_url(uri)
        .retry_policy(retry)
}

/// A client for `uri` with the given retry policy and a short timeout.
pub fn client_for(uri: &str, key: &str, practice: &str, retry: RetryPolicy) -> HeroClient {
    builder_for(uri, key, practice, retry)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// A retry policy for tests: 3 attempts, waits of 1 to 5 ms, a 10 s deadline.
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(3)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(5))
        .total_deadline(Duration::from_secs(10))
}

/// herohealth-mock with 5 sent messages seeded and `rules` injected, and a client for it with
/// `retry` and a 400 ms attempt timeout. The mock serves on the test's runtime: a test that
/// counts on that timeout runs on tokio's paused clock (`start_paused`), where it is the test's
/// own time and a busy machine cannot make an answer late.
pub async fn mock_with(
    rules: Vec<herohealth_mock::FaultRule>,
    retry: RetryPolicy,
) -> (herohealth_mock::MockServer, HeroClient) {
    mock_with_timeout(rules, retry, Duration::from_millis(400)).await
}

/// As [`mock_with`], with an attempt timeout of `timeout`.
pub async fn mock_with_timeout(
    rules: Vec<herohealth_mock::FaultRule>,
    retry: RetryPolicy,
    timeout: Duration,
) -> (herohealth_mock::MockServer, HeroClient) {
    let mut config = herohealth_mock::MockServer::builder().seed_sent_messages(5);
    for rule in rules {
        config = config.fault(rule);
    }
    let mock = config.start().await.unwrap();
    let hero = mock
        .client_builder()
        .retry_policy(retry)
        .timeout(timeout)
        .build()
        .unwrap();
    (mock, hero)
}

/// The API key and practice group of [`serve`]'s client.
pub const KEY: &str = "hero-k-test-key";
/// See [`KEY`].
pub const PRACTICE: &str = "practice-g";

/// A wiremock server answering every request with `responder` (a `ResponseTemplate` or a
/// `wiremock::Respond` of the test's), and a client for it that does not retry.
pub async fn serve(
    responder: impl wiremock::Respond + 'static,
) -> (wiremock::MockServer, HeroClient) {
    use wiremock::{Mock, matchers::any};
    let server = wiremock::MockServer::start().await;
    Mock::given(any())
        .respond_with(responder)
        .mount(&server)
        .await;
    let hero = client_for(&server.uri(), KEY, PRACTICE, RetryPolicy::disabled());
    (server, hero)
}

/// [`serve`] answering every request with `status` and the JSON `body`.
pub async fn serve_json(
    status: u16,
    body: serde_json::Value,
) -> (wiremock::MockServer, HeroClient) {
    serve(wiremock::ResponseTemplate::new(status).set_body_json(body)).await
}

/// A client for `mock` with attempts of at most `timeout` (and the mock's retry policy).
pub fn mock_client(mock: &herohealth_mock::MockServer, timeout: Duration) -> HeroClient {
    mock.client_builder().timeout(timeout).build().unwrap()
}

/// The send most tests make: an SMS "Your results are ready" to `patient`, to the contact
/// details on the patient's record. Its message id.
pub async fn send_sms(hero: &HeroClient, patient: &str) -> Result<String, Error> {
    let sent = hero
        .send_message()
        .body_map(|b| {
            b.patient_id(patient)
                .message_type(MessageType::Sms)
                .message_string("Your results are ready")
        })
        .send()
        .await?;
    Ok(sent.into_inner().message_id)
}

/// [`send_sms`] to the contact detail `to` (an email when `to` is an address), written to the
/// patient's record when `record`. Its message id.
pub async fn send_to(
    hero: &HeroClient,
    patient: &str,
    to: &str,
    record: bool,
) -> Result<String, Error> {
    let sent = hero
        .send_message()
        .body_map(|b| {
            b.patient_id(patient)
                .message_type(if to.contains('@') {
                    MessageType::Email
                } else {
                    MessageType::Sms
                })
                .message_string("Your results are ready")
                .recipient_contact_detail(to)
                .write_to_record(record)
        })
        .send()
        .await?;
    Ok(sent.into_inner().message_id)
}

/// Waiting that polls every 5 to 20 ms (the default deadline: 10 minutes, of the mock's
/// lifecycle, which tests speed up or move on).
pub fn fast_wait() -> WaitOptions {
    WaitOptions::default()
        .initial_interval(Duration::from_millis(5))
        .max_interval(Duration::from_millis(20))
}

/// `find_send` looking twice, 20 ms apart (a mock lists a message at once unless told not to).
pub fn quick_find() -> FindOptions {
    FindOptions::default()
        .list_delay(Duration::from_millis(20))
        .looks(2)
}

/// Patient data seeded into hostile bodies: none of it may appear in anything printed.
pub const PATIENT_DATA: &[&str] = &[
    "Ada",
    "Lovelace",
    "Cavell",
    "Seacole",
    "+447700900123",
    "07700900123",
    "7700900123",
    "ada.lovelace@example.org",
    "9434765919",
    "943 476 5919",
    "943-476-5919",
    "biopsy",
    "Your biopsy results are ready",
    "SW1A 1AA",
];

/// The first piece of patient data `text` shows, if any.
pub fn leaked(text: &str) -> Option<&'static str> {
    PATIENT_DATA.iter().copied().find(|p| text.contains(p))
}

/// One operation, called the way a user calls it, with `?`-style conversion to `herohealth::Error`.
pub struct Operation {
    /// snake_case operationId.
    pub name: &'static str,
    /// `true` for a POST/PATCH that changes state (a send).
    pub send: bool,
    /// `true` when Hero's success answer carries a body the client decodes.
    pub decodes: bool,
    pub call: fn(&HeroClient) -> BoxFuture<'_, Result<(), Error>>,
}

macro_rules! op {
    ($name:literal, send = $send:literal, decodes = $decodes:literal, |$h:ident| $call:expr) => {
        Operation {
            name: $name,
            send: $send,
            decodes: $decodes,
            call: |$h| Box::pin(async move { $call.send().await.map(|_| ()) }),
        }
    };
}

/// Every operation of `openapi.yaml`.
pub fn every_operation() -> Vec<Operation> {
    vec![
        op!("list_batch_messages", send = false, decodes = true, |h| h
            .list_batch_messages()),
        op!("create_batch_message", send = true, decodes = true, |h| h
            .create_batch_message()
            .body_map(|b| b
                .name("Flu clinic")
                .channel(BatchChannel::Sms)
                .content("Your flu jab is due")
                .recipients(vec![types::BatchRecipient {
                    nhs_number: "9434765919".parse().unwrap(),
                    dob: None,
                }]))),
        op!("send_batch_message", send = true, decodes = false, |h| h
            .send_batch_message()
            .id("42")),
        op!("get_batch_message", send = false, decodes = true, |h| h
            .get_batch_message()
            .id("42")),
        op!(
            "list_batch_message_recipients",
            send = false,
            decodes = true,
            |h| h.list_batch_message_recipients().id("42")
        ),
        op!(
            "list_batch_message_sends",
            send = false,
            decodes = true,
            |h| h.list_batch_message_sends().id("42")
        ),
        op!("send_message", send = true, decodes = true, |h| h
            .send_message()
            .body_map(|b| b
                .patient_id("98765")
                .message_type(MessageType::Sms)
                .message_string("Your results are ready"))),
        op!("get_message", send = false, decodes = true, |h| h
            .get_message()
            .id("m-1")),
        op!("get_message_status", send = false, decodes = true, |h| h
            .get_message_status()
            .id("m-1")),
        op!(
            "list_assignee_collection",
            send = false,
            decodes = true,
            |h| h.list_assignee_collection()
        ),
        op!("validate_snomed_code", send = true, decodes = true, |h| h
            .validate_snomed_code()
            .body_map(|b| b.code("1240751000000100"))),
        op!("list_templates", send = false, decodes = true, |h| h
            .list_templates()),
        op!("list_sent_messages", send = false, decodes = true, |h| h
            .list_sent_messages()),
        op!("register_patient_pds", send = true, decodes = true, |h| h
            .register_patient_pds()
            .body(types::RegisterPatientPdsByNhsNumber {
                nhs_number: "9434765870".parse().unwrap(),
                dob: chrono::NaiveDate::from_ymd_opt(1992, 1, 1).unwrap(),
                ehr_partner: None,
                ehr_partner_id: None,
            })),
        op!("create_webhook", send = true, decodes = true, |h| h
            .create_webhook()
            .body_map(|b| b
                .event_type(WebhookEventType::WriteToRecordSucceeded)
                .url("https://partner.example/hero")
                .signing_key("whsec-test-signing-key-support-1"))),
        op!("list_webhooks", send = false, decodes = true, |h| h
            .list_webhooks()),
        op!("delete_webhook", send = true, decodes = false, |h| h
            .delete_webhook()
            .id("17")),
        op!("create_attachment_link", send = true, decodes = true, |h| h
            .create_attachment_link()
            .body_map(|b| b
                .patient_id("98765")
                .file("results.pdf", b"%PDF-1.4"))),
    ]
}

/// Raw servers that misbehave on cue are herohealth-mock's, as users' tests get them.
#[allow(unused_imports)]
pub use herohealth_mock::raw::{RawServer, closed_url, response};

/// The `page_index` of a request head's query (0 when absent).
pub fn page_index(head: &str) -> usize {
    let target = head.split_whitespace().nth(1).unwrap_or("");
    target
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("page_index="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every `.rs` file under `dir`, at any depth, added to `out`.
pub fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}
