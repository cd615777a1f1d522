//! Issue 34, shown only when declared: patient data in the issue's shapes seeded into every
//! declared field of every operation's answer (built from `openapi.yaml`), every header the client
//! reads, Hero's error bodies at every status the spec lists, every webhook envelope field and a
//! registration's answer; none of it in errors (`{}` `{:?}` `{:#}`), accessors, `Debug` or
//! `Shown` of any returned value, or the logs at TRACE under `herohealth::log_directives`. And
//! the declared ids and enum values still print as they are. (`hero`'s side: `cli/tests/declared.rs`.)

#[path = "support/corpus.rs"]
mod corpus;
mod support;

use support::Captured;

use herohealth::{
    BatchChannel, Error, HeroClient, MessageType, RetryPolicy, Shown, WebhookEventType, types,
    webhooks::WebhookEvent,
};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

/// Every way a user prints an error, and its accessors.
fn printed(e: &Error) -> Vec<String> {
    vec![
        format!("{e}"),
        format!("{e:?}"),
        format!("{e:#}"),
        format!("{e:#?}"),
        format!("{:?}", e.request_id()),
        format!("{:?}", e.hero_message()),
        format!("{:?}", e.validation_issues()),
        format!("{:?}", e.api_error()),
        format!("{:?}", e.body_excerpt()),
        format!("{:?}", e.refusal()),
        format!(
            "{:?}",
            e.validation_issues()
                .iter()
                .map(|i| i.field())
                .collect::<Vec<_>>()
        ),
    ]
}

/// An error through `?` into `anyhow` and `Box<dyn Error>`, printed as those print.
async fn through_question_mark(h: &HeroClient) -> Vec<String> {
    async fn any(h: &HeroClient) -> anyhow::Result<()> {
        h.list_sent_messages().send().await?;
        Ok(())
    }
    async fn boxed(h: &HeroClient) -> Result<(), Box<dyn std::error::Error>> {
        h.get_message().id("1").send().await?;
        Ok(())
    }
    let mut out = Vec::new();
    if let Err(e) = any(h).await {
        out.extend([format!("{e}"), format!("{e:#}"), format!("{e:?}")]);
    }
    if let Err(e) = boxed(h).await {
        out.extend([format!("{e}"), format!("{e:?}")]);
    }
    out
}

/// Calls one operation the way a user does and prints everything it gives back.
macro_rules! shown {
    ($call:expr) => {
        match $call.send().await {
            Ok(r) => vec![
                format!("{r:?}"),
                format!("{r:#?}"),
                Shown::shown(&*r).to_string(),
                format!("{:?}", r.request_id()),
            ],
            Err(e) => printed(&e),
        }
    };
    (unit $call:expr) => {
        match $call.send().await {
            Ok(r) => vec![format!("{r:?}"), format!("{:?}", r.request_id())],
            Err(e) => printed(&e),
        }
    };
}

/// Every operation of `openapi.yaml`, called, and all it printed.
async fn every_operation(h: &HeroClient) -> Vec<(&'static str, Vec<String>)> {
    vec![
        ("list_batch_messages", shown!(h.list_batch_messages())),
        (
            "create_batch_message",
            shown!(h.create_batch_message().body_map(|b| {
                b.name("Flu clinic")
                    .channel(BatchChannel::Sms)
                    .content("Your flu jab is due")
                    .recipients(vec![types::BatchRecipient {
                        nhs_number: "9434765919".parse().unwrap(),
                        dob: None,
                    }])
            })),
        ),
        (
            "send_batch_message",
            shown!(unit h.send_batch_message().id("42")),
        ),
        ("get_batch_message", shown!(h.get_batch_message().id("42"))),
        (
            "list_batch_message_recipients",
            shown!(h.list_batch_message_recipients().id("42")),
        ),
        (
            "list_batch_message_sends",
            shown!(h.list_batch_message_sends().id("42")),
        ),
        (
            "send_message",
            shown!(h.send_message().body_map(|b| {
                b.patient_id("98765")
                    .message_type(MessageType::Sms)
                    .message_string("Your results are ready")
            })),
        ),
        ("get_message", shown!(h.get_message().id("1"))),
        ("get_message_status", shown!(h.get_message_status().id("1"))),
        (
            "list_assignee_collection",
            shown!(h.list_assignee_collection()),
        ),
        (
            "validate_snomed_code",
            shown!(
                h.validate_snomed_code()
                    .body_map(|b| b.code("1240751000000100"))
            ),
        ),
        ("list_templates", shown!(h.list_templates())),
        ("list_sent_messages", shown!(h.list_sent_messages())),
        (
            "register_patient_pds",
            shown!(
                h.register_patient_pds()
                    .body(types::RegisterPatientPdsByNhsNumber {
                        nhs_number: "9434765870".parse().unwrap(),
                        dob: chrono::NaiveDate::from_ymd_opt(1992, 1, 1).unwrap(),
                        ehr_partner: None,
                        ehr_partner_id: None,
                    })
            ),
        ),
        (
            "create_webhook",
            shown!(h.create_webhook().body_map(|b| {
                b.event_type(WebhookEventType::WriteToRecordSucceeded)
                    .url("https://partner.example/hero")
                    .signing_key("whsec-test-signing-key-declared")
            })),
        ),
        ("list_webhooks", shown!(h.list_webhooks())),
        ("delete_webhook", shown!(unit h.delete_webhook().id("17"))),
        (
            "create_attachment_link",
            shown!(
                h.create_attachment_link()
                    .body_map(|b| b.patient_id("98765").file("results.pdf", b"%PDF-1.4"))
            ),
        ),
    ]
}

async fn serving(status: u16, body: &serde_json::Value) -> (MockServer, HeroClient) {
    let server = MockServer::start().await;
    let mut answer = ResponseTemplate::new(status).set_body_json(body);
    for (name, value) in corpus::HEADERS {
        answer = answer.insert_header(*name, *value);
    }
    Mock::given(any()).respond_with(answer).mount(&server).await;
    let hero = support::client_for(
        &server.uri(),
        "hero-declared-test-key",
        "practice-declared",
        RetryPolicy::disabled(),
    );
    (server, hero)
}

fn check(what: &str, texts: &[String]) {
    for t in texts {
        assert!(
            corpus::leak(t).is_none(),
            "{what}: {:?} in {t}",
            corpus::leak(t)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_seeded_patient_data_is_printed_and_declared_values_are() {
    let logs = Captured::default();
    let writer = logs.clone();
    let filter = tracing_subscriber::EnvFilter::new(herohealth::log_directives("trace"));
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let spec = corpus::spec();
    let mut seeder = corpus::Seeder::new(&spec);
    let operations = herohealth::spec::OPERATIONS;

    // Every operation's success answer, seeded.
    let mut answered = 0;
    for op in operations {
        let (status, body) = seeder
            .answer(op.id)
            .unwrap_or((op.success[0], serde_json::json!({})));
        let (_server, hero) = serving(status, &body).await;
        let printed = every_operation(&hero).await;
        let (_, texts) = printed.iter().find(|(name, _)| *name == op.id).unwrap();
        check(&format!("{} answering {body}", op.id), texts);
        // Decoded: the seeds were read into the declared types, not refused as a whole.
        assert!(texts[0].starts_with("Response"), "{}: {}", op.id, texts[0]);
        answered += 1;
    }
    assert_eq!(answered, operations.len());

    // Every status an operation lists, with Hero's error bodies seeded.
    for status in [400u16, 401, 403, 404, 409, 422, 429, 500, 503] {
        for body in corpus::error_bodies() {
            let (_server, hero) = serving(status, &body).await;
            for (name, texts) in every_operation(&hero).await {
                check(&format!("{name} answering {status} {body}"), &texts);
            }
            check(
                &format!("? answering {status} {body}"),
                &through_question_mark(&hero).await,
            );
        }
    }

    // A registration that must verify: Hero's message and login_url.
    let (_server, hero) = serving(
        200,
        &serde_json::json!({"message": "Zebedee_Quenby_9434765919 must verify",
            "login_url": "https://login.example/Zebedee%20Quenby%209434765919"}),
    )
    .await;
    let r = hero
        .register_patient(
            "9434765870".parse().unwrap(),
            chrono::NaiveDate::from_ymd_opt(1992, 1, 1).unwrap(),
        )
        .await
        .unwrap();
    check("register_patient", &[format!("{r:?}"), format!("{r:#?}")]);

    // Every webhook envelope field.
    for envelope in corpus::envelopes() {
        let body = serde_json::to_vec(&envelope).unwrap();
        let shown = match WebhookEvent::parse(&body) {
            Ok(e) => vec![
                format!("{e:?}"),
                format!("{e:#?}"),
                e.event.to_string(),
                e.object.to_string(),
            ],
            Err(e) => vec![format!("{e}"), format!("{e:?}")],
        };
        check(&format!("webhook {envelope}"), &shown);
    }

    // A body that does not decode, every way serde could quote it.
    for body in [
        serde_json::json!({"message_id": 9434765919u64, "content": "x", "created_at": "t", "write_to_record": false}),
        serde_json::json!({"message_id": "1", "content": ["Zebedee_Quenby_9434765919"], "created_at": "t", "write_to_record": "quenby_19550602"}),
    ] {
        let (_server, hero) = serving(200, &body).await;
        let texts = shown!(hero.send_message().body_map(|b| {
            b.patient_id("98765")
                .message_type(MessageType::Sms)
                .message_string("hi")
        }));
        check(&format!("send_message decoding {body}"), &texts);
    }

    let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        logged.contains("hero request attempt"),
        "the logs were captured"
    );
    check("the logs at TRACE", &[logged]);

    // Declared ids and enum values print as they are.
    let uuid = "4c3a1b7e-9f0d-4e2a-8b6c-1d2e3f4a5b6c";
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-request-id", uuid)
                .set_body_json(serde_json::json!({
                    "id": "123456", "scheduled_send_at": null, "write_to_record": false,
                    "status": {"write_to_record_at": null, "sent_at": null, "response": "delivered", "failure_reason": null},
                    "errors": {"write_to_record": null, "send": null}})),
        )
        .mount(&server)
        .await;
    let hero = support::client_for(
        &server.uri(),
        "hero-declared-test-key",
        "practice-declared",
        RetryPolicy::disabled(),
    );
    let status = hero.get_message_status().id("123456").send().await.unwrap();
    assert_eq!(status.request_id(), Some(uuid));
    let debug = format!("{status:?}");
    assert!(
        debug.contains("\"123456\"") && debug.contains("\"delivered\""),
        "{debug}"
    );
    assert_eq!(status.shown()["id"], "123456");
    assert_eq!(status.shown()["status"]["response"], "delivered");
}
