//! The hostile-response corpus (`tests/hostile/`) × every operation × a matrix of statuses × every
//! way a user prints an error. Seeded with patient data that must never appear, and with the
//! promise that a send Hero answered 2xx is never a plain failure.

mod support;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use herohealth::{Error, RetryPolicy};
use support::{every_operation, leaked};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

const KEY: &str = "hero-hostile-test-key-77aa";
const PRACTICE: &str = "practice-hostile-19cd";

/// Every body of the corpus, by file name, plus one built here: a huge error body of patient
/// records (past the 64 KiB error-body limit, so it is cut there and stops being JSON).
fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hostile");
    let mut bodies: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    bodies.sort();
    let record = r#"{"id":"1","patient":{"id":"2","title":"Dr","first_name":"Ada","last_name":"Lovelace"},"recipient_contact_detail":"+447700900123","message_type":"sms","content":"Your biopsy results are ready"},"#;
    let mut huge = String::from(r#"{"count":5000,"data":["#);
    while huge.len() < 200 * 1024 {
        huge.push_str(record);
    }
    bodies.push(("huge (generated)".into(), huge.into_bytes()));
    assert!(bodies.len() >= 15, "the corpus is in tests/hostile/");
    bodies
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every way a user prints an error they hold.
fn printed(e: &Error) -> Vec<String> {
    let mut out = vec![
        format!("{e}"),
        format!("{e:?}"),
        format!("{e:#}"),
        format!("{e:#?}"),
        e.body_excerpt().unwrap_or_default().to_owned(),
        e.hero_message().unwrap_or_default().to_owned(),
    ];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push(format!("{s} {s:?} {s:#?}"));
        source = s.source();
    }
    out
}

/// An error that went through `?` into a boxed or anyhow error, printed the ways those are.
fn printed_dyn(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = Vec::new();
    let mut source = Some(e);
    while let Some(s) = source {
        out.push(format!("{s} {s:?} {s:#?}"));
        source = s.source();
    }
    out
}

#[tokio::test]
async fn no_hostile_body_puts_patient_data_in_any_printed_error_and_an_accepted_send_is_never_a_plain_failure()
 {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // While one dispatcher exists, tracing-core computes a callsite's interest from the default
    // of the thread that first hits it: a callsite first hit by a test on another thread (no
    // subscriber) would then be "never" for this test too. With a second dispatcher alive it
    // asks every live one, and each event checks this thread's default.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let _guard = tracing::subscriber::set_default(subscriber);

    let corpus = corpus();
    let statuses = [200u16, 400, 404, 500, 502];
    let mut errors = 0usize;
    let mut accepted = 0usize;
    for status in statuses {
        for (name, body) in &corpus {
            let server = MockServer::start().await;
            Mock::given(any())
                .respond_with(
                    ResponseTemplate::new(status).set_body_raw(body.clone(), "application/json"),
                )
                .mount(&server)
                .await;
            let hero = support::client_for(&server.uri(), KEY, PRACTICE, RetryPolicy::disabled());
            for op in every_operation() {
                let case = format!("{} answered {status} with {name}", op.name);
                // `?` into anyhow and into Box<dyn Error>, as a user's function would.
                let through_anyhow: anyhow::Result<()> =
                    async { Ok((op.call)(&hero).await?) }.await;
                let through_box: Result<(), Box<dyn std::error::Error>> =
                    async { Ok((op.call)(&hero).await?) }.await;
                let result = (op.call)(&hero).await;
                let Err(e) = result else {
                    assert!(through_anyhow.is_ok() && through_box.is_ok(), "{case}");
                    continue;
                };
                errors += 1;
                tracing::error!(error = %e, debug = ?e, "the call failed");
                let mut texts = printed(&e);
                let any = through_anyhow.unwrap_err();
                texts.push(format!("{any} {any:#} {any:?} {any:#?}"));
                texts.extend(printed_dyn(any.as_ref()));
                texts.extend(printed_dyn(through_box.unwrap_err().as_ref()));
                for text in &texts {
                    if let Some(data) = leaked(text) {
                        panic!("{case}: `{data}` leaked into: {text}");
                    }
                    assert!(
                        !text.contains(KEY) && !text.contains(PRACTICE),
                        "{case}: {text}"
                    );
                }
                assert_eq!(e.operation(), Some(op.name), "{case}: {e}");
                assert!(e.to_string().contains(op.name), "{case}: {e}");
                if op.send && (200..300).contains(&status) {
                    // Hero accepted it: never a plain failure, never retryable.
                    assert!(
                        e.accepted() && e.may_have_been_sent() && !e.is_retryable(),
                        "{case}: {e:?}"
                    );
                    assert!(
                        e.to_string().contains("do not send it again"),
                        "{case}: {e}"
                    );
                    accepted += 1;
                }
                if op.send && status >= 500 {
                    assert!(e.outcome_unknown() && !e.is_retryable(), "{case}: {e:?}");
                }
                if !op.send && status == 200 {
                    assert!(!e.may_have_been_sent(), "{case}: {e:?}");
                }
            }
        }
    }
    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(logs.contains("the call failed"), "tracing was captured");
    if let Some(data) = leaked(&logs) {
        let at = logs.find(data).unwrap();
        panic!(
            "`{data}` leaked into the TRACE log: …{}…",
            &logs[at.saturating_sub(300)..(at + 100).min(logs.len())]
        );
    }
    assert!(!logs.contains(KEY) && !logs.contains(PRACTICE));
    // The matrix really produced errors, and accepted sends among them.
    assert!(errors > 500, "{errors} errors");
    assert!(accepted > 40, "{accepted} accepted sends");
}
