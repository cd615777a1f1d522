//! Shared test support (as reqwest's `tests/support/`): clients for a loopback server, a table of
//! every operation called the way a user calls it, and the patient data no output may show.
#![allow(dead_code)]

use std::time::Duration;

use futures::future::BoxFuture;
use herohealth::{
    BatchChannel, Error, HeroClient, MessageType, RetryPolicy, WebhookEventType, types,
};

/// A client for `uri` with the given retry policy and a short timeout.
pub fn client_for(uri: &str, key: &str, practice: &str, retry: RetryPolicy) -> HeroClient {
    HeroClient::builder()
        .api_key(key)
        .practice_group_id(practice)
        .base_url(uri)
        .retry_policy(retry)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
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

/// A loopback HTTP/1.1 server on the caller's runtime, for what wiremock cannot show: a request
/// held unanswered, a request the client gave up on, arrival on tokio's paused clock. Each
/// request's head (request line and headers; no body is read, so GETs only) goes to `handle`,
/// whose answer (a whole raw response, see [`response`]) is written back; a handler that never
/// completes never answers. A request whose connection the client closes first is counted in
/// `cancelled` and its handler dropped.
pub async fn raw_server<F, Fut>(handle: F) -> RawServer
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = String> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let cancelled = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (handle, counter) = (std::sync::Arc::new(handle), cancelled.clone());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(raw_connection(stream, handle.clone(), counter.clone()));
        }
    });
    RawServer { url, cancelled }
}

/// What [`raw_server`] gives the test.
pub struct RawServer {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// Requests whose connection closed before they were answered.
    pub cancelled: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

async fn raw_connection<F, Fut>(
    mut stream: tokio::net::TcpStream,
    handle: std::sync::Arc<F>,
    cancelled: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = String>,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut pending, mut buf) = (Vec::new(), [0u8; 4096]);
    loop {
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).into_owned();
            pending.drain(..end + 4);
            let answer = handle(head);
            tokio::pin!(answer);
            let answer = loop {
                tokio::select! {
                    answer = &mut answer => break answer,
                    read = stream.read(&mut buf) => match read {
                        Ok(0) | Err(_) => {
                            cancelled.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            return;
                        }
                        Ok(n) => pending.extend_from_slice(&buf[..n]),
                    },
                }
            };
            if stream.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
}

/// A loopback server that hands each connection to `act` once the request's head has been read:
/// for answers no HTTP server would give (a reset, a body cut off, bytes that are not HTTP, a
/// chunked body of any size). Returns `http://127.0.0.1:PORT`.
pub async fn socket_server<F, Fut>(act: F) -> String
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let act = std::sync::Arc::new(act);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let act = act.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                act(stream).await;
            });
        }
    });
    url
}

/// `http://127.0.0.1:PORT` where nothing listens (a port bound, then let go): a connection is
/// refused, so a request is provably never written.
pub fn closed_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

/// A raw HTTP/1.1 response with `status` (e.g. `"503 Service Unavailable"`), extra header lines
/// (each ending `\r\n`) and a JSON body.
pub fn response(status: &str, headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{headers}\r\n{body}",
        body.len()
    )
}

/// The `page_index` of a request head's query (0 when absent).
pub fn page_index(head: &str) -> usize {
    let target = head.split_whitespace().nth(1).unwrap_or("");
    target
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("page_index="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
