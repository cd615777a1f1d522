//! A full run with every tracing event captured at TRACE level (the client's and its HTTP stack's):
//! none of it, and no `Debug` or `Display` of what the run produced, shows the API key, the practice
//! group id or patient data.

mod support;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use herohealth::ErrorKind;
use herohealth::{
    BatchChannel, MessageType, PageOptions, Paginate, WaitOptions,
    types::{BatchRecipient, RegisterPatientPdsByNhsNumber},
};
use herohealth_mock::{Fault, FaultRule, MockServer};
use wiremock::{Mock, ResponseTemplate, matchers::any};

const KEY: &str = "hero-trace-test-key-7e1a";
const PRACTICE: &str = "practice-trace-55c0";
const NHS: &str = "9434765919";
const NHS_SPACED: &str = "943 476 5919";
const PHONE: &str = "07700900123";
const EMAIL: &str = "@example.org"; // every address the mock makes up for its patients
const TEXT: &str = "Your biopsy results are ready";
const NAME: &str = "Lovelace";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_secret_reaches_logs_debug_or_errors() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let mock = MockServer::builder()
        .api_key(KEY, PRACTICE)
        .seed_sent_messages(30)
        .time_scale(100.0)
        .fault(
            FaultRule::new(
                "list_sent_messages",
                Fault::RateLimited {
                    retry_after: Some(0),
                },
            )
            .nth(1),
        )
        .fault(FaultRule::new("get_message", Fault::UnknownEnumValue))
        .start()
        .await
        .unwrap();
    let hero = mock.client();
    let mut shown = Vec::new();

    let patient = hero
        .register_patient_pds()
        .body(RegisterPatientPdsByNhsNumber {
            nhs_number: NHS_SPACED.parse().unwrap(),
            dob: chrono::NaiveDate::from_ymd_opt(1955, 6, 2).unwrap(),
            ehr_partner: None,
            ehr_partner_id: None,
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    shown.push(format!("{patient:?}"));
    let patient_id = patient.patient_id.unwrap();
    let sent = hero
        .send_message()
        .body_map(|b| {
            b.patient_id(patient_id.as_str())
                .message_type(MessageType::Sms)
                .message_string(TEXT)
                .recipient_contact_detail(Some(PHONE.parse().unwrap()))
        })
        .send()
        .await
        .unwrap();
    shown.push(format!("{sent:?}"));
    let status = hero
        .wait_for_delivery(&sent.message_id, WaitOptions::default())
        .await
        .unwrap();
    shown.push(format!("{status:?}"));
    let message = hero
        .get_message()
        .id(&sent.message_id)
        .send()
        .await
        .unwrap();
    shown.push(format!("{message:?}"));
    // The registered patient's name, as the mock made it up from the NHS number: real patient
    // data of this run, searched for below.
    let patient = message
        .patient
        .clone()
        .expect("the message names its patient");
    let last_name = patient.last_name.expose().to_owned();
    let batch = hero
        .create_batch_message()
        .body_map(|b| {
            b.name("Batch")
                .channel(BatchChannel::Email)
                .subject(Some(TEXT.into()))
                .content(TEXT)
                .recipients(vec![BatchRecipient {
                    nhs_number: NHS.parse().unwrap(),
                    dob: None,
                }])
        })
        .send()
        .await
        .unwrap();
    shown.push(format!("{batch:?}"));
    let list = hero
        .list_sent_messages()
        .patient_last_name(NAME)
        .recipient_contact_detail(PHONE);
    shown.push(format!("{list:?}"));
    // Every sent message (the 30 seeded and ours), streamed, and the ones filtered by our
    // patient's real last name: rows holding real names and contacts, formatted below.
    let rows: Vec<_> = futures::TryStreamExt::try_collect(
        hero.list_sent_messages()
            .stream_with(PageOptions::default().page_size(7)),
    )
    .await
    .unwrap();
    assert!(rows.len() > 30, "{} rows", rows.len());
    let filtered = hero
        .list_sent_messages()
        .patient_last_name(last_name.as_str());
    shown.push(format!("{filtered:?}"));
    let ours: Vec<_> =
        futures::TryStreamExt::try_collect(filtered.stream_with(PageOptions::default()))
            .await
            .unwrap();
    assert!(
        ours.iter()
            .any(|m| m.id.as_deref() == Some(sent.message_id.as_str())),
        "the filter by the patient's last name finds the message sent to them"
    );
    shown.push(format!("{rows:?}"));
    shown.push(format!("{ours:?}"));
    for row in &rows {
        shown.push(format!(
            "{row:?} {:?} {}",
            row.patient, row.recipient_contact_detail
        ));
    }
    // The patient data those rows hold, read through `expose()`: none of it may be shown.
    let mut names: Vec<String> = vec![patient.first_name.expose().to_owned(), last_name.clone()];
    for row in &rows {
        names.push(row.patient.first_name.expose().to_owned());
        names.push(row.patient.last_name.expose().to_owned());
        names.push(row.recipient_contact_detail.expose().to_owned());
    }
    names.sort();
    names.dedup();
    let recipients = hero
        .list_batch_message_recipients()
        .id(&batch.id)
        .send()
        .await
        .unwrap();
    shown.push(format!("{recipients:?}"));

    // Errors: bad input, a validation refusal, and an auth failure.
    for err in [
        hero.send_message()
            .body_map(|b| {
                b.patient_id("1")
                    .message_type(MessageType::Email)
                    .message_string(TEXT)
                    .recipient_contact_detail(Some(PHONE.parse().unwrap()))
            })
            .send()
            .await
            .unwrap_err(),
        hero.send_message()
            .body_map(|b| b.patient_id(NHS).message_type("fax").message_string(TEXT))
            .send()
            .await
            .unwrap_err(),
    ] {
        shown.push(format!("{err} {err:?}"));
    }
    let wrong = herohealth::HeroClient::builder()
        .api_key(KEY)
        .practice_group_id("practice-other")
        .base_url(mock.base_url())
        .build()
        .unwrap();
    let err = wrong
        .list_sent_messages()
        .patient_full_name(NAME)
        .send()
        .await
        .unwrap_err();
    shown.push(format!("{err} {err:?} {wrong:?} {hero:?}"));
    for bad in [NHS_SPACED.replace('9', "8"), PHONE.to_owned()] {
        if let Err(e) = bad.parse::<herohealth::NhsNumber>() {
            shown.push(format!("{e} {e:?}"));
        }
    }

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        names.len() > 10,
        "the rows held patient names and contacts: {} values",
        names.len()
    );
    eprintln!("captured {} bytes of tracing output", logs.len());
    if std::env::var_os("SHOW_TRACE").is_some() {
        eprintln!("{logs}");
    }
    assert!(
        logs.contains("hero request attempt"),
        "the client's tracing was captured"
    );
    assert!(
        logs.contains("retrying hero request"),
        "the retry was logged"
    );
    let shown = shown.join("\n");
    // Long values anywhere; short first names ("Tim", "Ada") as whole words, so "Tim" is not
    // found inside "Timeout".
    let words = |text: &str| -> std::collections::HashSet<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .map(str::to_owned)
            .collect()
    };
    let (log_words, shown_words) = (words(&logs), words(&shown));
    for name in &names {
        let (in_logs, in_shown) = if name.chars().count() >= 5 {
            (logs.contains(name.as_str()), shown.contains(name.as_str()))
        } else {
            (log_words.contains(name), shown_words.contains(name))
        };
        assert!(!in_logs, "{name:?} appears in the tracing output");
        assert!(
            !in_shown,
            "{name:?} appears in Debug/Display output:\n{shown}"
        );
    }
    for secret in [
        KEY,
        PRACTICE,
        NHS,
        NHS_SPACED,
        PHONE,
        EMAIL,
        TEXT,
        NAME,
        "07700 900123",
    ] {
        assert!(
            !logs.contains(secret),
            "{secret:?} appears in the tracing output"
        );
        assert!(
            !shown.contains(secret),
            "{secret:?} appears in Debug/Display output:\n{shown}"
        );
    }
}

/// A new user's trial: a key pasted into the base URL (as user info, a query or a fragment) showed
/// in the builder's `Debug` before `build()` refused it; the adversary's: without a scheme, or in a
/// path (which `build()` accepts). Every part that may hold a secret is masked, the host still
/// shows, and neither the refusal nor a built client's `Debug` shows it.
#[test]
fn a_secret_in_the_base_url_is_not_shown_before_build_refuses_it() {
    for url in [
        "https://user:sk_live_SECRET@hero.example/",
        "https://sk_live_SECRET@hero.example/",
        "https://hero.example/v1?api_key=sk_live_SECRET",
        "https://hero.example/v1#sk_live_SECRET",
        "sk_live_SECRET",
        // The adversary's: no scheme (`user:key@host` parses as scheme `user`), other schemes,
        // and a key in a path, which `build()` accepts.
        "admin:sk_live_SECRET@hero.example/v1",
        "hero:sk_live_SECRET@hero.example",
        "apikey:sk_live_SECRET",
        "javascript:alert('sk_live_SECRET')",
        "https://hero.example/v1;key=sk_live_SECRET",
        "https://hero.example/%3Fk=sk_live_SECRET",
        "https://hero.example\\@sk_live_SECRET/",
    ] {
        let builder = herohealth::HeroClient::builder()
            .api_key(KEY)
            .practice_group_id(PRACTICE)
            .base_url(url);
        let shown = format!("{builder:?}");
        assert!(!shown.contains("SECRET"), "{url}: {shown}");
        if url.starts_with("https") {
            assert!(shown.contains("hero.example"), "{shown}");
        }
        let printed = match builder.build() {
            Ok(hero) => vec![format!("{hero:?}")],
            Err(e) => vec![format!("{e}"), format!("{e:?}")],
        };
        for printed in printed {
            assert!(!printed.contains("SECRET"), "{url}: {printed}");
        }
    }
}

/// Promise 34: `request_id()` falls back to `x-amzn-requestid` (what API Gateway sends), and shows
/// an id only when it has an identifier's shape (here a UUID); anything longer or wordier is `…`.
/// Breaking the fallback gives `None`.
#[tokio::test]
async fn p34_the_request_id_falls_back_to_amazons_header_and_is_shown_only_id_shaped() {
    let id = "c0ffee00-1234-4abc-9def-0123456789ab";
    let (server, hero) =
        support::serve(ResponseTemplate::new(404).insert_header("x-amzn-requestid", id)).await;
    let err = hero.get_message().id("1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.request_id(), Some(id));
    server.reset().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(404).insert_header("x-amzn-requestid", "r".repeat(200).as_str()),
        )
        .mount(&server)
        .await;
    let err = hero.get_message().id("1").send().await.unwrap_err();
    assert_eq!(err.request_id(), Some("…"));
}

/// Promise 42: an excerpt is bounded (300 characters). Breaking the cap puts the whole 20 KB page
/// into the error.
#[tokio::test]
async fn p42_a_body_excerpt_is_bounded() {
    let page = format!(
        "<html><body>{}</body></html>",
        "<p>gateway</p>".repeat(1500)
    );
    let (_server, hero) = support::serve(ResponseTemplate::new(502).set_body_string(page)).await;
    let err = hero.get_message().id("1").send().await.unwrap_err();
    let excerpt = err.body_excerpt().expect("an excerpt of the page");
    assert!(
        excerpt.chars().count() <= 301,
        "{} chars",
        excerpt.chars().count()
    );
    assert!(format!("{err:?}").len() < 2000, "{err:?}");
}

/// Promises 82 and 83: patient data in a request (demographics) and in every response field that
/// holds it (first names, a recipient row's mobile, a batch send's recipient and content) never
/// shows in `Debug`. Losing `Sensitive` on any of them puts a seeded value in the output.
#[tokio::test]
async fn p82_p83_patient_data_in_requests_and_responses_never_shows_in_debug() {
    let demographics = herohealth::types::builder::RegisterPatientPdsByDemographics::default()
        .forename("Ada")
        .surname("Cavell")
        .postcode("SW1A 1AA")
        .dob(chrono::NaiveDate::from_ymd_opt(1955, 6, 2).unwrap());
    let shown = format!("{demographics:?}");
    assert_eq!(support::leaked(&shown), None, "{shown}");

    let (_s, hero) = support::serve_json(
        200,
        serde_json::json!({"data": [{"enrichment_status": "ENRICHED", "first_name": "Ada",
            "last_name": "Seacole", "nhs_number": "9434765919", "mobile": "+447700900123",
            "email": "ada.lovelace@example.org"}], "count": 1}),
    )
    .await;
    let rows = hero
        .list_batch_message_recipients()
        .id("b")
        .send()
        .await
        .unwrap();
    assert_eq!(
        rows.data[0].mobile.as_ref().unwrap().expose(),
        "+447700900123"
    );
    let shown = format!("{rows:?} {:?}", rows.data);
    assert_eq!(support::leaked(&shown), None, "{shown}");

    let (_s, hero) = support::serve_json(
        200,
        serde_json::json!({"data": [{"id": "s", "status": "SENT", "subject": null,
            "recipient": "ada.lovelace@example.org", "channel": "EMAIL",
            "content": "Your biopsy results are ready", "sent_at": null, "created_at": null}],
            "count": 1}),
    )
    .await;
    let sends = hero
        .list_batch_message_sends()
        .id("b")
        .send()
        .await
        .unwrap();
    let shown = format!("{sends:?}");
    assert_eq!(support::leaked(&shown), None, "{shown}");

    let (_s, hero) = support::serve_json(
        200,
        serde_json::json!({"data": [{"id": "1", "patient": {"id": "2", "title": "Dr",
            "first_name": "Ada", "last_name": "Cavell"}, "write_to_record": {"write_to_record_at": null,
            "status": null, "failure_reason": null}, "short_link": null, "campaign": null,
            "created_at": null, "sent_at": null, "scheduled_at": null, "status": "sent",
            "sent_by": "x", "recipient_contact_detail": "+447700900123", "message_type": "sms"}],
            "count": 1}),
    )
    .await;
    let sent = hero.list_sent_messages().send().await.unwrap();
    assert_eq!(sent.data[0].patient.first_name.expose(), "Ada");
    let shown = format!("{sent:?}");
    assert_eq!(support::leaked(&shown), None, "{shown}");
}

/// Promise 40: serde's messages are cut to their category and expected type: a value of the wrong
/// type in Hero's answer (a name where a number belongs, an NHS number where a string belongs) is
/// never quoted in the error. Breaking it shows "Ada Lovelace" or "9434765919".
#[tokio::test]
async fn p40_a_value_of_the_wrong_type_is_not_quoted_in_the_decode_error() {
    for body in [
        serde_json::json!({"data": [], "count": "Ada Lovelace"}),
        serde_json::json!({"data": [{"id": 9434765919_u64}], "count": 1}),
        serde_json::json!({"data": [{"id": "1", "patient": {"id": "2", "title": null,
            "first_name": ["Ada"], "last_name": "Lovelace"}}], "count": 1}),
    ] {
        let (_s, hero) = support::serve_json(200, body).await;
        let err = hero.list_sent_messages().send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
        let shown = format!("{err} {err:?} {err:#}");
        assert_eq!(support::leaked(&shown), None, "{shown}");
    }
}

/// The same promise where a program uses serde on the crate's types itself (its own stored JSON, a
/// queue, a row read back): a number, or another non-string, where a patient's value belongs is
/// refused without quoting it (serde's own message quotes it), at the top level, in a struct and
/// through `serde_json::Value`; a string still reads as itself, leading zeros and all.
#[test]
fn a_patient_value_of_the_wrong_type_is_not_quoted_by_serde() {
    use herohealth::{ContactDetail, MessageText, NhsNumber, PatientId, Sensitive, SnomedCode};
    fn refused<T: serde::de::DeserializeOwned>(json: &str) -> String {
        let from_str = match serde_json::from_str::<T>(json) {
            Ok(_) => panic!("{json} was read"),
            Err(e) => format!("{e} {e:?}"),
        };
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        let from_value = match serde_json::from_value::<T>(value) {
            Ok(_) => panic!("{json} was read from a Value"),
            Err(e) => format!("{e} {e:?}"),
        };
        format!("{from_str} {from_value}")
    }
    for json in [
        "9434765919",
        "-9434765919",
        "9434765919.0",
        "9.434765919e9",
        "7700900123",
        "[9434765919]",
        r#"{"n": 9434765919}"#,
    ] {
        for shown in [
            refused::<NhsNumber>(json),
            refused::<PatientId>(json),
            refused::<MessageText>(json),
            refused::<ContactDetail>(json),
            refused::<SnomedCode>(json),
            refused::<Sensitive>(json),
            refused::<BatchRecipient>(&format!(r#"{{"nhs_number": {json}, "dob": null}}"#)),
            refused::<herohealth::types::BatchRecipientRow>(&format!(
                r#"{{"nhs_number": "9434765919", "enrichment_status": "ENRICHED", "mobile": {json}}}"#
            )),
        ] {
            assert!(shown.contains("what came is not shown"), "{shown}");
            for digits in ["9434765", "7700900", "434765919", "4.3"] {
                assert!(!shown.contains(digits), "{json}: {shown}");
            }
        }
    }
    // Strings still read as they are (never inferred as numbers).
    let phone: Sensitive = serde_json::from_str(r#""07700900123""#).unwrap();
    assert_eq!(phone.expose(), "07700900123");
    let n: NhsNumber = serde_json::from_str(r#""943 476 5919""#).unwrap();
    assert_eq!(n.as_str(), "9434765919");
    let n: NhsNumber = serde_json::from_value(serde_json::json!("9434765919")).unwrap();
    assert_eq!(n.as_str(), "9434765919");
    // A refused string is not quoted either, and a string cut off is refused in the same words.
    let e = serde_json::from_str::<NhsNumber>(r#""943 476 5918""#).unwrap_err();
    assert!(!e.to_string().contains("943"), "{e}");
    let e = serde_json::from_str::<NhsNumber>(r#""9434765919"#).unwrap_err();
    assert!(e.to_string().contains("what came is not shown"), "{e}");
}

/// Promises 63 and 64: every attempt is logged with its operation, attempt, status and delay, and
/// the logs (TRACE, the HTTP stack's included) carry no URL, header or patient data. Dropping a
/// field from the attempt's event, or logging the request's URL (whose query names the patient),
/// fails it.
#[tokio::test]
async fn p63_p64_attempts_are_logged_with_their_fields_and_no_url_or_patient_data() {
    let logs = Capture::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // While one dispatcher exists, tracing-core computes a callsite's interest from the default
    // of the thread that first hits it: a callsite first hit by a test on another thread (no
    // subscriber) would then be "never" for this test too. With a second dispatcher alive it
    // asks every live one, and each event checks this thread's default.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let _guard = tracing::subscriber::set_default(subscriber);
    let (_mock, hero) = support::mock_with(
        vec![FaultRule::new("list_sent_messages", Fault::Status(503)).nth(1)],
        support::quick_retries(),
    )
    .await;
    // Another test's thread may have met a callsite for the first time while this subscriber
    // was being registered (tracing's interest cache then says "never" for it): ask again, now
    // that it is registered. Without this the test failed about one run in six under load.
    tracing::callsite::rebuild_interest_cache();
    hero.list_sent_messages()
        .patient_full_name("Ada Lovelace")
        .recipient_contact_detail("07700900123")
        .send()
        .await
        .unwrap();
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let attempts: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("hero request attempt"))
        .collect();
    assert_eq!(attempts.len(), 2, "{logs}");
    for (line, attempt, status) in [(attempts[0], 1, 503), (attempts[1], 2, 200)] {
        assert!(line.contains("list_sent_messages"), "{line}");
        assert!(line.contains(&format!("attempt={attempt}")), "{line}");
        assert!(line.contains(&format!("status={status}")), "{line}");
    }
    let retry = logs
        .lines()
        .find(|l| l.contains("retrying hero request"))
        .expect("the retry was logged");
    assert!(
        retry.contains("list_sent_messages") && retry.contains("delay_ms="),
        "{retry}"
    );
    // The spans name the path template (`url.template`, the attempt's OpenTelemetry name), never
    // the URL: with the template taken out, no path is left.
    let logs = logs
        .replace("url.template=\"/v2/sent_messages\"", "")
        .replace("otel.name=GET /v2/sent_messages", "");
    for secret in [
        "/v2/",
        "sent_messages?",
        "patient_full_name=",
        "Ada",
        "Lovelace",
        "07700900123",
        "hero-mock",
        "x-api-key",
    ] {
        assert!(!logs.contains(secret), "{secret:?} in the logs:\n{logs}");
    }
}
