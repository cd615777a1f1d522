//! A full run with every tracing event captured at TRACE level (the client's and its HTTP stack's):
//! none of it, and no `Debug` or `Display` of what the run produced, shows the API key, the practice
//! group id or patient data.

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use herohealth::{
    BatchChannel, MessageType, PageOptions, Paginate, WaitOptions,
    types::{BatchRecipient, RegisterPatientPdsByNhsNumber},
};
use herohealth_mock::{Fault, FaultRule, MockServer};

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
