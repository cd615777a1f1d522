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
    shown.push(format!(
        "{:?}",
        hero.get_message()
            .id(&sent.message_id)
            .send()
            .await
            .unwrap()
    ));
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
    let rows: Vec<_> =
        futures::TryStreamExt::try_collect(list.stream_with(PageOptions::default().page_size(7)))
            .await
            .unwrap();
    shown.push(format!("{rows:?}"));
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
        .practice_group_id("other")
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
        shown.iter().any(|s| s.contains("first_name")),
        "patient rows were formatted"
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
