//! The mock's webhooks: stored per practice group, and write-to-record events delivered signed to
//! loopback URLs, verified here with `herohealth::webhooks::Verifier`; retries on failure, in the
//! deliveries journal; attachment links stored with the file. The mock clock is held still
//! (`time_scale(0.0)`) and moved with `advance`; waits poll the journal (no timed assertions).

mod support;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, http::StatusCode};
use herohealth::{
    MessageType, WebhookEventType,
    webhooks::{SignatureEncoding, SigningKey, TimestampFormat, Verifier, WebhookEvent},
};
use herohealth_mock::{DeliveryEntry, FAILING_SNOMED_CODE, MockServer};

const SIGNING_KEY: &str = "whsec-test-signing-key-mock-5e7b";

/// What a receiver got: the headers and the body of each request.
type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A loopback receiver that answers each request with the next status of `answers` (then 204).
async fn receiver(answers: Vec<u16>) -> (String, Received) {
    #[derive(Clone)]
    struct R {
        got: Received,
        answers: Arc<Mutex<Vec<u16>>>,
    }
    async fn handle(State(r): State<R>, headers: HeaderMap, body: Bytes) -> StatusCode {
        r.got.lock().unwrap().push((headers, body));
        let next = {
            let mut a = r.answers.lock().unwrap();
            if a.is_empty() { 204 } else { a.remove(0) }
        };
        StatusCode::from_u16(next).unwrap()
    }
    let got: Received = Default::default();
    let app = Router::new().fallback(handle).with_state(R {
        got: got.clone(),
        answers: Arc::new(Mutex::new(answers)),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hero/webhooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

/// Waits (polling, up to a minute) until the deliveries journal satisfies `done`.
async fn deliveries_until(
    mock: &MockServer,
    done: impl Fn(&[DeliveryEntry]) -> bool,
) -> Vec<DeliveryEntry> {
    for _ in 0..3000 {
        let d = mock.deliveries();
        if done(&d) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the deliveries never got there: {:?}", mock.deliveries());
}

async fn still_mock(config: herohealth_mock::MockConfig) -> MockServer {
    config.time_scale(0.0).start().await.unwrap()
}

async fn create_hook(
    hero: &herohealth::HeroClient,
    event: WebhookEventType,
    url: &str,
    key: Option<&str>,
) -> String {
    hero.create_webhook()
        .body_map(|b| {
            let b = b.event_type(event).url(url);
            match key {
                Some(k) => b.signing_key(k),
                None => b,
            }
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_to_the_record_is_delivered_signed_and_a_failed_one_too() {
    let mock = still_mock(MockServer::builder()).await;
    let hero = mock.client();
    let (url, got) = receiver(vec![]).await;
    create_hook(
        &hero,
        WebhookEventType::WriteToRecordSucceeded,
        &url,
        Some(SIGNING_KEY),
    )
    .await;
    create_hook(
        &hero,
        WebhookEventType::WriteToRecordFailed,
        &url,
        Some(SIGNING_KEY),
    )
    .await;
    let ok = support::send_with(&hero, |b| b.message_string("Results").write_to_record(true))
        .await
        .unwrap();
    let bad = support::send_with(&hero, |b| {
        b.message_string("Results")
            .write_to_record(true)
            .snomed_code(FAILING_SNOMED_CODE)
    })
    .await
    .unwrap();
    // Not written yet: nothing delivered.
    mock.advance(Duration::from_secs(3));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(mock.deliveries().is_empty(), "{:?}", mock.deliveries());
    mock.advance(Duration::from_secs(2));
    let d = deliveries_until(&mock, |d| d.len() == 2).await;
    assert!(
        d.iter()
            .all(|e| e.delivered && e.signed && e.attempt == 1 && e.status == Some(204))
    );

    let verifier = Verifier::new(SIGNING_KEY.parse().unwrap());
    let mut events: Vec<(String, String)> = got
        .lock()
        .unwrap()
        .iter()
        .map(|(headers, body)| {
            assert_eq!(headers["content-type"], "application/json");
            let e: WebhookEvent = verifier.verify(headers, body).unwrap();
            assert_eq!(
                e.practice_group_id.expose(),
                herohealth_mock::DEMO_PRACTICE_GROUP_ID
            );
            (e.event.to_string(), e.message_id().unwrap().to_owned())
        })
        .collect();
    events.sort();
    assert_eq!(
        events,
        [
            ("write-to-record.failed".to_owned(), bad),
            ("write-to-record.succeeded".to_owned(), ok)
        ]
    );
    // The status the event leads to agrees.
    let status = hero
        .get_message_status()
        .id(&events[0].1)
        .send()
        .await
        .unwrap();
    assert!(status.errors.write_to_record.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delivery_is_retried_with_backoff_and_journaled() {
    let mock = still_mock(
        MockServer::builder()
            .webhook_attempts(4)
            .webhook_backoff(Duration::from_secs(10)),
    )
    .await;
    let hero = mock.client();
    let (url, got) = receiver(vec![500, 503]).await;
    create_hook(
        &hero,
        WebhookEventType::WriteToRecordSucceeded,
        &url,
        Some(SIGNING_KEY),
    )
    .await;
    let id = support::send_with(&hero, |b| b.message_string("Results").write_to_record(true))
        .await
        .unwrap();
    mock.advance(Duration::from_secs(5));
    deliveries_until(&mock, |d| d.len() == 1).await;
    // The retry waits for its backoff on the mock clock: 10 s, then 20 s.
    mock.advance(Duration::from_secs(9));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(mock.deliveries().len(), 1);
    mock.advance(Duration::from_secs(1));
    deliveries_until(&mock, |d| d.len() == 2).await;
    mock.advance(Duration::from_secs(20));
    let d = deliveries_until(&mock, |d| d.len() == 3).await;
    let summary: Vec<_> = d
        .iter()
        .map(|e| (e.attempt, e.status, e.delivered, e.will_retry))
        .collect();
    assert_eq!(
        summary,
        [
            (1, Some(500), false, true),
            (2, Some(503), false, true),
            (3, Some(204), true, false)
        ]
    );
    assert!(
        d.iter()
            .all(|e| e.id == id && e.event == "write-to-record.succeeded")
    );
    assert_eq!(d[0].error.as_deref(), Some("status 500"));
    // Each attempt is signed afresh, and the receiver got the same body three times.
    let got = got.lock().unwrap();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|(_, body)| body == &got[0].1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_stop_at_the_configured_number_and_a_dead_receiver_is_journaled() {
    let mock = still_mock(
        MockServer::builder()
            .webhook_attempts(2)
            .webhook_backoff(Duration::from_secs(1)),
    )
    .await;
    let hero = mock.client();
    // A port nothing listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    create_hook(
        &hero,
        WebhookEventType::WriteToRecordSucceeded,
        &format!("http://{closed}/h"),
        None,
    )
    .await;
    create_hook(
        &hero,
        WebhookEventType::WriteToRecordSucceeded,
        "https://partner.example/hero",
        None,
    )
    .await;
    support::send_with(&hero, |b| b.message_string("Results").write_to_record(true))
        .await
        .unwrap();
    mock.advance(Duration::from_secs(5));
    deliveries_until(&mock, |d| d.len() == 2).await;
    mock.advance(Duration::from_secs(1));
    let d = deliveries_until(&mock, |d| d.len() == 3).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    mock.advance(Duration::from_secs(60));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        mock.deliveries().len(),
        3,
        "two attempts and the one refused"
    );
    let remote: Vec<_> = d
        .iter()
        .filter(|e| e.url.starts_with("https://partner"))
        .collect();
    assert_eq!(remote.len(), 1);
    assert_eq!(remote[0].error.as_deref(), Some("not a loopback URL"));
    assert!(!remote[0].will_retry && !remote[0].signed);
    let local: Vec<_> = d.iter().filter(|e| e.url.contains("127.0.0.1")).collect();
    assert_eq!(
        local
            .iter()
            .map(|e| (e.attempt, e.will_retry))
            .collect::<Vec<_>>(),
        [(1, true), (2, false)]
    );
    assert!(
        local
            .iter()
            .all(|e| e.error.as_deref() == Some("connection failed"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_group_s_webhooks_for_that_event_created_before_it_get_it() {
    let mock = still_mock(
        MockServer::builder()
            .api_key("hero-mock-webhooks-test-key-a", "practice-webhooks-a")
            .api_key("hero-mock-webhooks-test-key-b", "practice-webhooks-b"),
    )
    .await;
    let client = |key: &str, group: &str| {
        herohealth::HeroClient::builder()
            .api_key(key)
            .practice_group_id(group)
            .base_url(mock.base_url())
            .build()
            .unwrap()
    };
    let a = client("hero-mock-webhooks-test-key-a", "practice-webhooks-a");
    let b = client("hero-mock-webhooks-test-key-b", "practice-webhooks-b");
    let (url, got) = receiver(vec![]).await;
    let wanted = create_hook(&a, WebhookEventType::WriteToRecordSucceeded, &url, None).await;
    create_hook(&a, WebhookEventType::WriteToRecordFailed, &url, None).await;
    create_hook(&b, WebhookEventType::WriteToRecordSucceeded, &url, None).await;
    let deleted = create_hook(&a, WebhookEventType::WriteToRecordSucceeded, &url, None).await;
    a.delete_webhook().id(&deleted).send().await.unwrap();
    assert_eq!(
        a.list_webhooks()
            .send()
            .await
            .unwrap()
            .into_inner()
            .into_webhooks()
            .len(),
        2
    );
    let only_failed = a
        .list_webhooks()
        .event_type(WebhookEventType::WriteToRecordFailed)
        .send()
        .await
        .unwrap()
        .into_inner()
        .into_webhooks();
    assert_eq!(only_failed.len(), 1);
    // A message without write-to-record gets no event.
    support::send_text(&a, "Not recorded").await.unwrap();
    support::send_with(&a, |m| m.message_string("Recorded").write_to_record(true))
        .await
        .unwrap();
    mock.advance(Duration::from_secs(5));
    let d = deliveries_until(&mock, |d| !d.is_empty()).await;
    // A webhook created after the write gets nothing of it.
    create_hook(&a, WebhookEventType::WriteToRecordSucceeded, &url, None).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let d2 = mock.deliveries();
    assert_eq!(d2.len(), 1, "{d2:?}");
    assert_eq!(d[0].webhook_id, wanted);
    assert_eq!(d[0].practice_group_id, "practice-webhooks-a");
    let got = got.lock().unwrap();
    assert_eq!(got.len(), 1);
    // Unsigned: no signature headers.
    assert!(got[0].0.get("x-herohealth-signature").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn base64_signatures_and_rfc3339_or_millisecond_timestamps_verify() {
    for (encoding, format) in [
        (SignatureEncoding::Base64, TimestampFormat::Rfc3339),
        (SignatureEncoding::Hex, TimestampFormat::UnixMillis),
    ] {
        let mock = still_mock(
            MockServer::builder()
                .webhook_signature(encoding)
                .webhook_timestamp(format),
        )
        .await;
        let hero = mock.client();
        let (url, got) = receiver(vec![]).await;
        create_hook(
            &hero,
            WebhookEventType::WriteToRecordSucceeded,
            &url,
            Some(SIGNING_KEY),
        )
        .await;
        support::send_with(&hero, |b| b.message_string("Results").write_to_record(true))
            .await
            .unwrap();
        mock.advance(Duration::from_secs(5));
        deliveries_until(&mock, |d| d.len() == 1).await;
        let got = got.lock().unwrap();
        let (headers, body) = &got[0];
        let ts = headers["x-herohealth-timestamp"].to_str().unwrap();
        let sig = headers["x-herohealth-signature"].to_str().unwrap();
        match format {
            TimestampFormat::Rfc3339 => assert!(ts.ends_with('Z'), "{ts}"),
            _ => assert_eq!(ts.len(), 13, "{ts}"),
        }
        assert_eq!(
            sig.len(),
            if encoding == SignatureEncoding::Hex {
                64
            } else {
                44
            }
        );
        let key: SigningKey = SIGNING_KEY.parse().unwrap();
        Verifier::new(key).verify(headers, body).unwrap();
    }
}

#[tokio::test]
async fn attachment_links_are_stored_with_the_file_and_a_message_carries_the_uuid() {
    let mock = MockServer::start().await;
    let hero = mock.client();
    let link = hero
        .create_attachment_link()
        .body_map(|b| b.patient_id("42").file("letter.pdf", b"%PDF-1.4 letter"))
        .send()
        .await
        .unwrap();
    support::send_with(&hero, |b| {
        b.message_string("Your letter")
            .message_type(MessageType::Email)
            .attachment_uuid(&*link)
    })
    .await
    .unwrap();
    let stored = mock.attachment_links();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].attachment_uuid, link.attachment_uuid);
    assert_eq!(stored[0].contents.as_deref(), Some(&b"%PDF-1.4 letter"[..]));
    assert_eq!(stored[0].file_name.as_deref(), Some("letter.pdf"));
    assert_eq!(stored[0].patient_id, "42");
    assert!(!format!("{:?}", stored[0]).contains("letter"));
    assert_eq!(
        mock.sent_messages()[0].attachment_uuid.as_deref(),
        Some(link.attachment_uuid.as_str())
    );
}

/// The mock and the client agree on every envelope value: every event the mock can deliver
/// (`WEBHOOK_EVENTS`), made to happen and delivered, is read by the client's parser with its
/// `event` and `object` as declared values, never `Unknown`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_the_mock_delivers_is_read_as_declared() {
    let mock = still_mock(MockServer::builder()).await;
    let hero = mock.client();
    let (url, got) = receiver(vec![]).await;
    for (event, _) in herohealth_mock::WEBHOOK_EVENTS.iter() {
        create_hook(&hero, event.clone(), &url, Some(SIGNING_KEY)).await;
    }
    // One write that succeeds, one that fails: every event of the list happens.
    for snomed in [herohealth_mock::DEFAULT_SNOMED_CODE, FAILING_SNOMED_CODE] {
        support::send_with(&hero, |b| {
            b.message_string("Results")
                .write_to_record(true)
                .snomed_code(snomed)
        })
        .await
        .unwrap();
    }
    mock.advance(Duration::from_secs(5));
    let n = herohealth_mock::WEBHOOK_EVENTS.len();
    deliveries_until(&mock, |d| d.len() == n).await;
    let verifier = Verifier::new(SIGNING_KEY.parse().unwrap());
    let mut read: Vec<(String, String)> = got
        .lock()
        .unwrap()
        .iter()
        .map(|(headers, body)| {
            let e: WebhookEvent = verifier.verify(headers, body).unwrap();
            assert!(e.event.is_known(), "{e:?}");
            assert!(e.object.is_known(), "{e:?}");
            (e.event.as_str().to_owned(), e.object.as_str().to_owned())
        })
        .collect();
    read.sort();
    let mut expected: Vec<(String, String)> = herohealth_mock::WEBHOOK_EVENTS
        .iter()
        .map(|(e, o)| (e.as_str().to_owned(), o.as_str().to_owned()))
        .collect();
    expected.sort();
    assert_eq!(read, expected);
}
