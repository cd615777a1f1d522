//! Every operation on the wire, against a loopback wiremock server: method, path, both auth headers,
//! the exact query string and JSON body, and decoding of the reference text's example responses.

mod support;

use chrono::{TimeZone, Timelike, Utc};
use herohealth::{
    BatchChannel, BatchMessageStatus, DeliveryStatus, EnrichmentStatus, ErrorKind, HeroClient,
    MessageType, PatientTitle, RetryPolicy, TemplateLink, TemplateType, WebhookEventType,
    types::{self, BatchRecipient, CreateBatchMessageRequestRecipients, ListSentMessagesStatus},
};
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, ResponseTemplate, matchers::any};

use support::{KEY, PRACTICE};

/// The one request the server received, with the checks every request must pass.
async fn only_request(server: &MockServer, method: &str, path: &str) -> Request {
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "expected exactly one request");
    let r = requests.remove(0);
    assert_eq!(r.method.as_str(), method);
    assert_eq!(r.url.path(), path);
    assert_eq!(r.headers["x-api-key"], KEY);
    assert_eq!(r.headers["x-practice-group-id"], PRACTICE);
    assert!(
        r.headers.get("api-version").is_none(),
        "api-version must not be sent"
    );
    let ua = r.headers["user-agent"].to_str().unwrap();
    assert_eq!(ua, format!("herohealth-rust/{}", env!("CARGO_PKG_VERSION")));
    r
}

fn body(r: &Request) -> Value {
    assert_eq!(r.headers["content-type"], "application/json");
    serde_json::from_slice(&r.body).unwrap()
}

fn batch_example() -> Value {
    json!({ "id": "string", "name": "string", "status": "CREATED", "channel": "SMS", "subject": "string", "content": "string" })
}

#[tokio::test]
async fn create_batch_message() {
    let (server, hero) = support::serve_json(200, batch_example()).await;
    let dob = Utc.with_ymd_and_hms(1955, 6, 2, 0, 0, 0).unwrap();
    let batch = hero
        .create_batch_message()
        .body_map(|b| {
            b.name("Flu clinic")
                .channel(BatchChannel::Email)
                .subject(Some("Flu vaccination".into()))
                .content("Your flu vaccination is due.")
                .recipients(vec![
                    BatchRecipient {
                        nhs_number: "943 476 5919".parse().unwrap(),
                        dob: Some(dob),
                    },
                    BatchRecipient {
                        nhs_number: "9434765870".parse().unwrap(),
                        dob: None,
                    },
                ])
        })
        .send()
        .await
        .unwrap();
    let r = only_request(&server, "POST", "/v1/batch_message").await;
    assert_eq!(r.url.query(), None);
    assert_eq!(
        body(&r),
        json!({
            "name": "Flu clinic",
            "channel": "EMAIL",
            "subject": "Flu vaccination",
            "content": "Your flu vaccination is due.",
            "recipients": [
                { "nhs_number": "9434765919", "dob": "1955-06-02T00:00:00Z" },
                { "nhs_number": "9434765870", "dob": null }
            ]
        })
    );
    assert_eq!(batch.id, "string");
    assert_eq!(batch.status, BatchMessageStatus::Created);
    assert_eq!(batch.channel, BatchChannel::Sms);
    assert_eq!(batch.subject.as_ref().unwrap().expose(), "string");
}

#[tokio::test]
async fn create_batch_message_with_a_single_recipient_object() {
    let (server, hero) = support::serve_json(200, batch_example()).await;
    let one = BatchRecipient {
        nhs_number: "9434765919".parse().unwrap(),
        dob: None,
    };
    hero.create_batch_message()
        .body_map(|b| {
            b.name("n")
                .channel(BatchChannel::NhsApp)
                .content("c")
                .recipients(CreateBatchMessageRequestRecipients::from(one))
        })
        .send()
        .await
        .unwrap();
    let r = only_request(&server, "POST", "/v1/batch_message").await;
    assert_eq!(
        body(&r),
        json!({"name": "n", "channel": "NHS_APP", "content": "c", "recipients": {"nhs_number": "9434765919", "dob": null}})
    );
}

#[tokio::test]
async fn list_batch_messages_reads_a_page() {
    let (server, hero) =
        support::serve_json(200, json!({"data": [batch_example()], "count": 1})).await;
    let list = hero
        .list_batch_messages()
        .page_size(50)
        .page_index(0)
        .status(types::BatchMessageStatusFilter::Created)
        .send()
        .await
        .unwrap();
    let r = only_request(&server, "GET", "/v1/batch_message").await;
    assert_eq!(
        r.url.query(),
        Some("page_index=0&page_size=50&status=CREATED")
    );
    match list.into_inner() {
        types::BatchMessageListResponse::BatchMessageList(page) => {
            assert_eq!(page.count, 1);
            assert_eq!(page.data[0].status, BatchMessageStatus::Created);
        }
        other => panic!("expected a page, got {other:?}"),
    }
}

#[tokio::test]
async fn list_batch_messages_reads_the_reference_single_object() {
    let (server, hero) = support::serve_json(200, batch_example()).await;
    let list = hero.list_batch_messages().send().await.unwrap();
    let r = only_request(&server, "GET", "/v1/batch_message").await;
    assert_eq!(r.url.query(), None);
    assert!(
        matches!(list.into_inner(), types::BatchMessageListResponse::BatchMessage(b) if b.id == "string")
    );
}

#[tokio::test]
async fn send_batch_message_accepts_204_and_200() {
    for status in [204, 200] {
        let (server, hero) = support::serve(ResponseTemplate::new(status)).await;
        let rv = hero.send_batch_message().id("b-1/x").send().await.unwrap();
        assert_eq!(rv.status().as_u16(), status);
        let r = only_request(&server, "PATCH", "/v1/batch_message/b-1%2Fx/send").await;
        assert!(r.body.is_empty());
        assert!(r.headers.get("content-type").is_none());
    }
}

#[tokio::test]
async fn get_batch_message() {
    let (server, hero) = support::serve_json(200, batch_example()).await;
    let b = hero.get_batch_message().id("b-42").send().await.unwrap();
    only_request(&server, "GET", "/v1/batch_message/b-42").await;
    assert_eq!(b.name, "string");
    assert_eq!(b.content.expose(), "string");
}

#[tokio::test]
async fn list_batch_message_recipients() {
    let page = json!({"data": [
        {"enrichment_status": "ENRICHED", "first_name": "Ada", "last_name": "Lovelace", "nhs_number": "9434765919", "mobile": "+447700900123", "email": "ada@example.org"},
        {"enrichment_status": "ENRICHMENT_ERROR"},
        {}
    ], "count": 3});
    // The reference's example is `{ "data": [ {} ], "count": 0 }`: an empty row lacks the required
    // enrichment_status, so check the exact example separately below.
    let (server, hero) = support::serve_json(
        200,
        json!({"data": page["data"].as_array().unwrap()[..2], "count": 3}),
    )
    .await;
    let list = hero
        .list_batch_message_recipients()
        .id("b-1")
        .page_size(2)
        .page_index(1)
        .status(EnrichmentStatus::Enriched)
        .send()
        .await
        .unwrap();
    let r = only_request(&server, "GET", "/v1/batch_message/b-1/recipients").await;
    assert_eq!(
        r.url.query(),
        Some("page_index=1&page_size=2&status=ENRICHED")
    );
    assert_eq!(list.count, 3);
    assert_eq!(list.data[0].enrichment_status, EnrichmentStatus::Enriched);
    assert_eq!(
        list.data[0].mobile.as_ref().unwrap().expose(),
        "+447700900123"
    );
    assert_eq!(
        list.data[1].enrichment_status,
        EnrichmentStatus::EnrichmentError
    );
    assert!(!format!("{list:?}").contains("Lovelace"));

    let (_server, hero) = support::serve_json(200, json!({ "data": [ {} ], "count": 0 })).await;
    let err = hero
        .list_batch_message_recipients()
        .id("b-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(
        err.to_string()
            .contains("at $.data[0]: a value does not fit"),
        "{err}"
    );
}

#[tokio::test]
async fn list_batch_message_sends() {
    let row = json!({"id": "s-1", "status": "SENT", "subject": null, "recipient": "+447700900123", "channel": "SMS",
        "content": "Hello", "sent_at": "2024-03-15T14:00:00Z", "created_at": null});
    let (server, hero) = support::serve_json(200, json!({"data": [row], "count": 1})).await;
    let list = hero
        .list_batch_message_sends()
        .id("b-1")
        .status(herohealth::BatchSendStatus::Sent)
        .send()
        .await
        .unwrap();
    let r = only_request(&server, "GET", "/v1/batch_message/b-1/messages").await;
    assert_eq!(r.url.query(), Some("status=SENT"));
    let s = &list.data[0];
    assert_eq!(s.status, herohealth::BatchSendStatus::Sent);
    assert_eq!(
        s.sent_at,
        Some(Utc.with_ymd_and_hms(2024, 3, 15, 14, 0, 0).unwrap())
    );
    assert_eq!(s.created_at, None);
    assert_eq!(s.subject, None);
}

fn send_response_example() -> Value {
    json!({ "message_id": "string", "content": "string", "created_at": "string", "snomed_code": "string", "write_to_record": true,
        "auth_token": "string", "confirm_write_to_record_url": "string", "submitted_by": "string", "send_at": "2019-08-24T14:15:22Z" })
}

#[tokio::test]
async fn send_message_with_every_field() {
    let (server, hero) = support::serve_json(200, send_response_example()).await;
    // A date relative to now (a literal future date breaks the day it passes), whole seconds.
    let at = Utc::now().with_nanosecond(0).unwrap() + chrono::Duration::days(30);
    let sent = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("98765")
                .message_type(MessageType::Sms)
                .message_string("Your results are ready")
                .recipient_contact_detail(Some("07788 123456".parse().unwrap()))
                .fallback_contact_detail(Some("ada@example.org".parse().unwrap()))
                .fallback_message_type(Some(types::FallbackMessageType::Email))
                .write_to_record(true)
                .encrypted(types::SendMessageRequestEncrypted::Boolean(true))
                .snomed_code(Some("1240751000000100".parse().unwrap()))
                .snomed_term(Some("Test result".to_owned()))
                .auto_write_to_record(true)
                .task_id(Some("t-1".to_owned()))
                .attachment_uuid(Some("3f2b".parse().unwrap()))
                .short_link_id(Some("17".parse().unwrap()))
                .assignee_id(Some(12))
                .assignee_type(Some(types::AssigneeType::AdminTeam))
                .send_at(Some(at))
        })
        .send()
        .await
        .unwrap();
    let r = only_request(&server, "POST", "/v1/messages/send").await;
    assert_eq!(
        body(&r),
        json!({
            "patient_id": "98765", "message_type": "sms", "message_string": "Your results are ready",
            "recipient_contact_detail": "07788 123456", "fallback_contact_detail": "ada@example.org",
            "fallback_message_type": "email", "write_to_record": true, "encrypted": true,
            "snomed_code": "1240751000000100", "snomed_term": "Test result", "auto_write_to_record": true,
            "task_id": "t-1", "attachment_uuid": "3f2b", "short_link_id": "17", "assignee_id": 12,
            "assignee_type": "AdminTeam", "send_at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
    );
    assert_eq!(sent.message_id, "string");
    assert!(sent.write_to_record);
    assert_eq!(
        sent.send_at,
        Some(Utc.with_ymd_and_hms(2019, 8, 24, 14, 15, 22).unwrap())
    );
    assert_eq!(
        sent.auth_token.as_ref().map(herohealth::Sensitive::expose),
        Some("string")
    );
}

#[tokio::test]
async fn send_message_minimal_body_sends_the_defaults() {
    let (server, hero) = support::serve_json(200, json!({"message_id": "m-1", "content": "x", "created_at": "2024-03-15T14:00:00Z", "write_to_record": false})).await;
    let sent = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("1")
                .message_type(MessageType::Hero)
                .message_string("Sample text message")
        })
        .send()
        .await
        .unwrap();
    let r = only_request(&server, "POST", "/v1/messages/send").await;
    assert_eq!(
        body(&r),
        json!({"patient_id": "1", "message_type": "hero", "message_string": "Sample text message",
               "write_to_record": false, "encrypted": false, "auto_write_to_record": false})
    );
    assert_eq!(sent.snomed_code, None);
    assert_eq!(sent.send_at, None);
}

#[tokio::test]
async fn invalid_request_values_name_the_field_and_send_nothing() {
    let (server, hero) = support::serve_json(200, send_response_example()).await;
    let cases: Vec<(&str, herohealth::Error)> = vec![
        (
            "message_string",
            hero.send_message()
                .body_map(|b| {
                    b.patient_id("1")
                        .message_type(MessageType::Sms)
                        .message_string("   ")
                })
                .send()
                .await
                .unwrap_err(),
        ),
        (
            "patient_id",
            hero.send_message()
                .body_map(|b| {
                    b.patient_id("12a")
                        .message_type(MessageType::Sms)
                        .message_string("hi")
                })
                .send()
                .await
                .unwrap_err(),
        ),
        (
            "message_type",
            hero.send_message()
                .body_map(|b| b.patient_id("1").message_type("fax").message_string("hi"))
                .send()
                .await
                .unwrap_err(),
        ),
        (
            "message_string",
            hero.send_message()
                .body_map(|b| b.patient_id("1").message_type(MessageType::Sms))
                .send()
                .await
                .unwrap_err(),
        ),
        ("id", hero.get_message_status().send().await.unwrap_err()),
    ];
    for (field, err) in cases {
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
        assert!(err.to_string().contains(field), "{field}: {err}");
    }
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing may be sent"
    );
}

fn message_example() -> Value {
    json!({ "id": "string",
        "patient": { "id": "string", "title": "Baron", "first_name": "string", "last_name": "string" },
        "write_to_record": { "write_to_record_at": "2019-08-24T14:15:22Z", "status": "string", "failure_reason": "string", "snomed_code": "string" },
        "short_link": { "id": "string", "type": "string", "name": "string", "status": "string" },
        "campaign": { "id": "string", "name": "string" },
        "created_at": "2019-08-24T14:15:22Z", "sent_at": "2019-08-24T14:15:22Z", "scheduled_at": "2019-08-24T14:15:22Z",
        "status": "delivered", "sent_by_admin": { "id": "string", "first_name": "Grace" } })
}

#[tokio::test]
async fn get_message() {
    let (server, hero) = support::serve_json(200, message_example()).await;
    let m = hero.get_message().id("m-9").send().await.unwrap();
    only_request(&server, "GET", "/v1/messages/m-9").await;
    assert_eq!(m.status, Some(DeliveryStatus::Delivered));
    let patient = m.patient.as_ref().unwrap();
    assert_eq!(patient.title, Some(PatientTitle::Baron));
    assert_eq!(patient.id, "string"); // not digits, yet decoded: ids are not checked on the way in
    let wtr = m.write_to_record.as_ref().unwrap();
    assert_eq!(wtr.status.as_ref().unwrap().as_str(), "string"); // an unknown value, kept
    assert_eq!(wtr.snomed_code.as_deref(), Some("string"));
    assert_eq!(
        m.sent_by_admin
            .as_ref()
            .unwrap()
            .0
            .as_ref()
            .unwrap()
            .id
            .as_deref(),
        Some("string")
    );
}

fn status_example(response: &str) -> Value {
    json!({ "id": "string", "scheduled_send_at": "2019-08-24T14:15:22Z", "write_to_record": true,
        "status": { "write_to_record_at": "2019-08-24T14:15:22Z", "sent_at": "2019-08-24T14:15:22Z", "response": response, "failure_reason": "string" },
        "errors": { "write_to_record": "string", "send": "string" } })
}

#[tokio::test]
async fn get_message_status() {
    let (server, hero) = support::serve_json(200, status_example("delivered")).await;
    let s = hero.get_message_status().id("m-9").send().await.unwrap();
    only_request(&server, "GET", "/v1/messages/m-9/status").await;
    assert_eq!(s.status.response, DeliveryStatus::Delivered);
    assert!(s.status.response.is_terminal());
    assert_eq!(s.errors.send.as_deref(), Some("string"));
    assert_eq!(
        s.scheduled_send_at,
        Some(Utc.with_ymd_and_hms(2019, 8, 24, 14, 15, 22).unwrap())
    );
}

#[tokio::test]
async fn a_delivery_status_hero_adds_later_still_decodes() {
    let (_server, hero) = support::serve_json(200, status_example("bounced")).await;
    let s = hero.get_message_status().id("m-9").send().await.unwrap();
    assert!(!s.status.response.is_known());
    assert_eq!(s.status.response.as_str(), "bounced");
    assert!(!s.status.response.is_terminal());
}

#[tokio::test]
async fn list_assignee_collection() {
    let (server, hero) = support::serve_json(
        200,
        json!({"data": [{"label": "Dr A Smith", "value": 12, "type": "Admin", "key": "admin-12"},
        {"label": "Reception", "value": null, "type": "AdminTeam", "key": "team"}]}),
    )
    .await;
    let a = hero.list_assignee_collection().send().await.unwrap();
    let r = only_request(&server, "GET", "/v1/messages/assignee/collection").await;
    assert_eq!(r.url.query(), None);
    assert_eq!(a.data[0].value, Some(12));
    assert_eq!(a.data[1].value, None);
    assert_eq!(a.data[1].type_, "AdminTeam");
}

#[tokio::test]
async fn validate_snomed_code() {
    let (server, hero) = support::serve_json(200, json!({ "valid": true })).await;
    let v = hero
        .validate_snomed_code()
        .body_map(|b| b.code("1240751000000100"))
        .send()
        .await
        .unwrap();
    let r = only_request(&server, "POST", "/v1/snomed/validate").await;
    assert_eq!(body(&r), json!({"code": "1240751000000100"}));
    assert!(v.valid);
}

#[tokio::test]
async fn list_templates() {
    let (server, hero) = support::serve_json(200, json!({"data": [
        {"id": "t1", "name": "Results", "content": "Your results", "link": "booking", "type": "user", "sms_snomed_code": null,
         "send_follow_up_one": true, "reminder_time": 2.5},
        {"id": "t2", "name": "Plain", "content": "Hi", "link": "survey"}
    ], "count": 2}))
    .await;
    let t = hero
        .list_templates()
        .has_follow_up(true)
        .send()
        .await
        .unwrap();
    let r = only_request(&server, "GET", "/v1/templates").await;
    assert_eq!(r.url.query(), Some("has_follow_up=true"));
    assert_eq!(t.count, 2);
    assert_eq!(t.data[0].link, TemplateLink::Booking);
    assert_eq!(t.data[0].type_, TemplateType::User);
    assert_eq!(t.data[0].reminder_time, Some(2.5));
    assert!(t.data[0].send_follow_up_one && !t.data[0].send_follow_up_two);
    // Defaults from the reference, and an unknown link kind kept.
    assert_eq!(t.data[1].type_, TemplateType::Hero);
    assert_eq!(t.data[1].link.as_str(), "survey");
}

fn sent_message(title: &str) -> Value {
    json!({"id": "1001", "patient": {"id": "98765", "title": title, "first_name": "Ada", "last_name": "Lovelace"},
        "write_to_record": {"write_to_record_at": null, "status": "not_written", "failure_reason": null},
        "short_link": null, "campaign": {"id": "3", "name": "Flu"}, "created_at": "2024-03-15T14:00:00Z",
        "sent_at": "2024-03-15T14:00:05Z", "scheduled_at": null, "status": "delivered", "sent_by": "Integration",
        "recipient_contact_detail": "+447700900123", "message_type": "sms"})
}

#[tokio::test]
async fn list_sent_messages_with_every_filter() {
    let (server, hero) = support::serve_json(
        200,
        json!({"data": [sent_message("Dr"), sent_message("Mx")], "count": 2}),
    )
    .await;
    let list = hero
        .list_sent_messages()
        .page_index(2)
        .page_size(25)
        .order_by(types::SentMessagesOrderBy::SentAt)
        .order_descending(true)
        .patient_first_name("Ada")
        .patient_last_name("Lovelace")
        .patient_full_name("Ada Lovelace")
        .patient_id("98765")
        .recipient_contact_detail("+447700900123")
        .write_to_record_status(herohealth::WriteToRecordStatus::NotWritten)
        .message_type(vec![MessageType::Sms, MessageType::NhsApp])
        .short_link_id("7")
        .short_link_type("booking")
        .campaign_id("3")
        .status(ListSentMessagesStatus::DeliveryStatus(
            DeliveryStatus::Fatal,
        ))
        .scheduled(false)
        .sent_by("Integration")
        .sent_at(vec![
            Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2024, 3, 31, 23, 59, 59).unwrap(),
        ])
        .scheduled_at(vec![Utc.with_ymd_and_hms(2024, 4, 1, 0, 0, 0).unwrap()])
        .send()
        .await
        .unwrap();
    let r = only_request(&server, "GET", "/v2/sent_messages").await;
    assert_eq!(
        r.url.query(),
        Some(
            "campaign_id=3&message_type=sms&message_type=nhs_app&order_by=sent_at&order_descending=true\
             &page_index=2&page_size=25&patient_first_name=Ada&patient_full_name=Ada+Lovelace&patient_id=98765\
             &patient_last_name=Lovelace&recipient_contact_detail=%2B447700900123&scheduled=false\
             &scheduled_at%5B%5D=2024-04-01T00%3A00%3A00Z&sent_at%5B%5D=2024-03-01T00%3A00%3A00Z\
             &sent_at%5B%5D=2024-03-31T23%3A59%3A59Z&sent_by=Integration&short_link_id=7&short_link_type=booking\
             &status=fatal&write_to_record_status=not_written"
        )
    );
    assert_eq!(list.count, 2);
    let m = &list.data[0];
    assert_eq!(m.id.as_deref(), Some("1001"));
    assert_eq!(m.patient.title, Some(PatientTitle::Dr));
    assert_eq!(m.patient.first_name.expose(), "Ada");
    assert_eq!(m.status, DeliveryStatus::Delivered);
    assert_eq!(m.message_type, MessageType::Sms);
    assert_eq!(
        m.write_to_record.status,
        Some(herohealth::WriteToRecordStatus::NotWritten)
    );
    assert_eq!(m.campaign.as_ref().unwrap().name.as_deref(), Some("Flu"));
    // A title beyond the ten the reference lists decodes instead of failing the page.
    assert_eq!(list.data[1].patient.title.as_ref().unwrap().as_str(), "Mx");
    assert!(!list.data[1].patient.title.as_ref().unwrap().is_known());
    let debug = format!("{:?}", list.data);
    assert!(
        !debug.contains("Lovelace") && !debug.contains("447700900123"),
        "{debug}"
    );
}

#[tokio::test]
async fn list_sent_messages_reference_example_and_single_status() {
    let (server, hero) = support::serve_json(200, json!({ "data": [], "count": 0 })).await;
    let list = hero
        .list_sent_messages()
        .status(DeliveryStatus::Pending)
        .send()
        .await
        .unwrap();
    let r = only_request(&server, "GET", "/v2/sent_messages").await;
    assert_eq!(r.url.query(), Some("status=pending"));
    assert_eq!(list.count, 0);
}

#[tokio::test]
async fn register_patient_pds_by_nhs_number() {
    let (server, hero) = support::serve_json(200, json!({"patient_id": "98765"})).await;
    let rv = hero
        .register_patient_pds()
        .body(types::RegisterPatientPdsByNhsNumber {
            nhs_number: "943 476 5919".parse().unwrap(),
            dob: chrono::NaiveDate::from_ymd_opt(1992, 1, 1).unwrap(),
            ehr_partner: None,
            ehr_partner_id: Some("emis-1".parse().unwrap()),
        })
        .send()
        .await
        .unwrap();
    let r = only_request(&server, "POST", "/v1/patients/register_pds").await;
    assert_eq!(
        body(&r),
        json!({"nhs_number": "9434765919", "dob": "1992-01-01", "ehr_partner_id": "emis-1"})
    );
    assert_eq!(rv.patient_id.as_deref(), Some("98765"));
}

#[tokio::test]
async fn register_patient_pds_by_demographics_and_identity_check() {
    let (server, hero) = support::serve_json(
        200,
        json!({"message": "Patient must verify their identity before proceeding", "login_url": "https://patient.herohealth.net/verify/abc123"}),
    )
    .await;
    let rv = hero
        .register_patient_pds()
        .body(types::RegisterPatientPdsByDemographics {
            dob: chrono::NaiveDate::from_ymd_opt(1989, 4, 11).unwrap(),
            postcode: "LS1 4AP".into(),
            forename: "Ada".into(),
            surname: "Lovelace".into(),
            ehr_partner: None,
            ehr_partner_id: None,
        })
        .send()
        .await
        .unwrap();
    let r = only_request(&server, "POST", "/v1/patients/register_pds").await;
    assert_eq!(
        body(&r),
        json!({"dob": "1989-04-11", "postcode": "LS1 4AP", "forename": "Ada", "surname": "Lovelace"})
    );
    assert_eq!(rv.patient_id, None);
    assert_eq!(
        rv.login_url.as_deref(),
        Some("https://patient.herohealth.net/verify/abc123")
    );
}

#[tokio::test]
async fn time_ranges_send_one_or_two_timestamps_and_a_backwards_range_sends_nothing() {
    let from = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2024, 3, 31, 23, 59, 59).unwrap();
    let list = json!({"data": [], "count": 0});
    for (call, query) in [
        (
            0,
            "scheduled_at%5B%5D=2024-03-01T00%3A00%3A00Z&sent_at%5B%5D=2024-03-01T00%3A00%3A00Z\
             &sent_at%5B%5D=2024-03-31T23%3A59%3A59Z",
        ),
        (
            1,
            "scheduled_at%5B%5D=2024-03-01T00%3A00%3A00Z&scheduled_at%5B%5D=2024-03-31T23%3A59%3A59Z\
             &sent_at%5B%5D=2024-03-01T00%3A00%3A00Z",
        ),
    ] {
        let (server, client) =
            support::serve(ResponseTemplate::new(200).set_body_json(&list)).await;
        let request = client.list_sent_messages();
        let request = match call {
            0 => request.sent_between(from, to).scheduled_since(from),
            _ => request.sent_since(from).scheduled_between(from, to),
        };
        request.send().await.unwrap();
        let r = only_request(&server, "GET", "/v2/sent_messages").await;
        assert_eq!(r.url.query(), Some(query));
    }

    let (server, client) = support::serve(ResponseTemplate::new(200).set_body_json(&list)).await;
    let err = client
        .list_sent_messages()
        .sent_between(to, from)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), herohealth::ErrorKind::InvalidRequest);
    assert!(
        err.to_string()
            .contains("sent_at: the range ends before it starts"),
        "the field and the reason: {err}"
    );
    // Every setter's refusal says why, after the field's name (not progenitor's "conversion to
    // `...` failed").
    let err = client
        .list_sent_messages()
        .page_size(0u64)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), herohealth::ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("page_size: "), "{err}");
    assert!(!err.to_string().contains("conversion to"), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_batch_recipient_takes_the_date_of_birth_as_a_date() {
    let (server, client) =
        support::serve(ResponseTemplate::new(200).set_body_json(batch_example())).await;
    let dob = chrono::NaiveDate::from_ymd_opt(1984, 3, 1).unwrap();
    client
        .create_batch_message()
        .body_map(|b| {
            b.name("Flu clinic")
                .channel(herohealth::BatchChannel::Sms)
                .content("Your flu jab is due")
                .recipients(vec![
                    types::BatchRecipient::new("9434765919".parse().unwrap(), dob),
                    types::BatchRecipient::without_date_of_birth("9434765870".parse().unwrap()),
                ])
        })
        .send()
        .await
        .unwrap();
    let r = only_request(&server, "POST", "/v1/batch_message").await;
    assert_eq!(
        body(&r)["recipients"],
        json!([
            {"nhs_number": "9434765919", "dob": "1984-03-01T00:00:00Z"},
            {"nhs_number": "9434765870", "dob": null},
        ])
    );
}

fn webhook_example() -> Value {
    json!({"id": "17", "event_type": "write-to-record.succeeded", "url": "https://partner.example/hero",
        "created_at": "2024-03-15T14:00:00Z", "updated_at": "2024-03-15T14:00:00Z",
        "signing_key": "whsec-test-signing-key-wire-9d1e", "headers": {"authorization": "Bearer x"}})
}

#[tokio::test]
async fn create_webhook() {
    let (server, hero) = support::serve_json(200, webhook_example()).await;
    let mut headers = std::collections::HashMap::new();
    headers.insert("authorization".to_owned(), "Bearer x".into());
    let hook = hero
        .create_webhook()
        .body_map(|b| {
            b.event_type(WebhookEventType::WriteToRecordSucceeded)
                .url("https://partner.example/hero")
                .signing_key("whsec-test-signing-key-wire-9d1e")
                .description(Some("Record outcomes".to_owned()))
                .headers(Some(types::WebhookHeaders(headers)))
        })
        .send()
        .await
        .unwrap();
    let r = only_request(&server, "POST", "/v1/webhooks").await;
    assert_eq!(
        body(&r),
        json!({"event_type": "write-to-record.succeeded", "url": "https://partner.example/hero",
            "signing_key": "whsec-test-signing-key-wire-9d1e", "description": "Record outcomes",
            "headers": {"authorization": "Bearer x"}})
    );
    assert_eq!(hook.id, "17");
    assert_eq!(hook.event_type, WebhookEventType::WriteToRecordSucceeded);
    // The echoed key is held, never printed.
    assert_eq!(
        hook.signing_key.as_ref().unwrap().expose(),
        "whsec-test-signing-key-wire-9d1e"
    );
    assert!(!format!("{:?}", *hook).contains("whsec"));
    // An event type Hero adds later decodes.
    let (_s, hero) = support::serve_json(200, json!({"id": "1", "event_type": "invoice.paid", "url": "u", "created_at": "t", "updated_at": "t"})).await;
    let later = hero
        .create_webhook()
        .body_map(|b| {
            b.event_type(WebhookEventType::AppointmentConfirmed)
                .url("https://x.example/h")
        })
        .send()
        .await
        .unwrap();
    assert_eq!(later.event_type.as_str(), "invoice.paid");
}

#[tokio::test]
async fn list_webhooks_reads_a_page_or_a_bare_array() {
    for answer in [
        json!({"data": [webhook_example()], "count": 1}),
        json!({"data": [webhook_example()]}),
        json!([webhook_example()]),
    ] {
        let (server, hero) = support::serve_json(200, answer.clone()).await;
        let list = hero
            .list_webhooks()
            .event_type(WebhookEventType::WriteToRecordFailed)
            .send()
            .await
            .unwrap()
            .into_inner()
            .into_webhooks();
        let r = only_request(&server, "GET", "/v1/webhooks").await;
        assert_eq!(r.url.query(), Some("event_type=write-to-record.failed"));
        assert_eq!(list.len(), 1, "{answer}");
        assert_eq!(list[0].id, "17");
    }
}

#[tokio::test]
async fn delete_webhook_accepts_204_and_200() {
    for status in [204, 200] {
        let (server, hero) = support::serve(ResponseTemplate::new(status)).await;
        hero.delete_webhook().id("17").send().await.unwrap();
        only_request(&server, "DELETE", "/v1/webhooks/17").await;
    }
    let (_server, hero) = support::serve_json(
        404,
        json!({"error": true, "statusCode": 404, "message": "Not found"}),
    )
    .await;
    let err = hero.delete_webhook().id("17").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn create_attachment_link_sends_the_file_base64_and_masks_the_link() {
    let (server, hero) = support::serve_json(
        200,
        json!({"attachment_link": "https://files.example/a/secret-token", "attachment_uuid": "0b8e7c52-8f5e-4a8e-9d0e-2f1c3b4a5d6e"}),
    )
    .await;
    let expiry = Utc::now() + chrono::Duration::days(7);
    let link = hero
        .create_attachment_link()
        .body_map(|b| {
            b.patient_id("98765")
                .file("results.pdf", b"%PDF-1.4\n")
                .expiry_date(Some(expiry))
                .maximum_use_count(std::num::NonZeroU64::new(3))
        })
        .send()
        .await
        .unwrap();
    let r = only_request(&server, "POST", "/v1/attachment_links").await;
    let sent = body(&r);
    assert_eq!(
        sent,
        json!({"patient_id": "98765", "file_name": "results.pdf", "file_data": "JVBERi0xLjQK",
            "expiry_date": sent["expiry_date"], "maximum_use_count": 3})
    );
    assert!(
        sent["expiry_date"]
            .as_str()
            .unwrap()
            .starts_with(&expiry.format("%Y-%m-%dT").to_string())
    );
    assert_eq!(link.attachment_uuid, "0b8e7c52-8f5e-4a8e-9d0e-2f1c3b4a5d6e");
    assert_eq!(
        link.attachment_link.expose(),
        "https://files.example/a/secret-token"
    );
    assert!(!format!("{:?}", *link).contains("secret-token"));
}

#[tokio::test]
async fn an_attachment_link_without_exactly_one_file_is_refused_and_nothing_is_sent() {
    let (server, hero) = support::serve_json(200, json!({})).await;
    for (fill, field) in [
        (
            (|b: types::builder::CreateAttachmentLinkRequest| b.patient_id("1"))
                as fn(
                    types::builder::CreateAttachmentLinkRequest,
                ) -> types::builder::CreateAttachmentLinkRequest,
            "file_data",
        ),
        (
            |b| b.patient_id("1").file("a.pdf", b"x").ehr_file_id("f-1"),
            "ehr_file_id",
        ),
        (|b| b.patient_id("1").file_data("QQ=="), "file_name"),
        (|b| b.patient_id("x1").ehr_file_id("f-1"), "patient_id"),
    ] {
        let err = hero
            .create_attachment_link()
            .body_map(fill)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
        assert!(err.to_string().contains(field), "{field}: {err}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// `ehr_file_id` (a file of the patient's record) takes its declared type's text form, as
/// `patient_id` does: `&str`, `String`, `&String`, or `Some(checked)`/`None`; on the wire it is the
/// text given. An empty one breaks the spec's `minLength: 1`: refused naming the field, nothing
/// sent.
#[tokio::test]
async fn ehr_file_id_takes_text_and_an_empty_one_is_refused_before_sending() {
    let (server, hero) = support::serve_json(
        200,
        json!({"attachment_link": "https://files.example/a/2", "attachment_uuid": "9d1e"}),
    )
    .await;
    let owned = String::from("ehr-file-2");
    let third = String::from("ehr-file-3");
    let borrowed: &String = &third;
    let typed: types::CreateAttachmentLinkRequestEhrFileId = "ehr-file-4".parse().unwrap();
    let fills: [Box<dyn Fn(types::builder::CreateAttachmentLinkRequest) -> _>; 4] = [
        Box::new(|b: types::builder::CreateAttachmentLinkRequest| {
            b.patient_id("98765").ehr_file_id("ehr-file-1")
        }),
        Box::new(|b| b.patient_id("98765").ehr_file_id(owned.clone())),
        Box::new(|b| b.patient_id("98765").ehr_file_id(borrowed)),
        Box::new(|b| b.patient_id("98765").ehr_file_id(Some(typed.clone()))),
    ];
    for fill in &fills {
        let link = hero
            .create_attachment_link()
            .body_map(fill)
            .send()
            .await
            .unwrap();
        assert_eq!(link.attachment_uuid, "9d1e");
    }
    let sent: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| body(r)["ehr_file_id"].clone())
        .collect();
    assert_eq!(
        sent,
        ["ehr-file-1", "ehr-file-2", "ehr-file-3", "ehr-file-4"]
    );
    server.reset().await;
    let err = hero
        .create_attachment_link()
        .body_map(|b| b.patient_id("98765").ehr_file_id(""))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert!(err.to_string().contains("ehr_file_id"), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// A message with an attachment, on the wire: the link is created for the patient with the file,
/// then the message carries the link's `attachment_uuid`.
#[tokio::test]
async fn a_message_with_an_attachment_carries_the_link_s_uuid() {
    use wiremock::matchers::{method, path};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/attachment_links"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"attachment_link": "https://files.example/a/1", "attachment_uuid": "4f6c1d2e-uuid"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/messages/send"))
        .respond_with(ResponseTemplate::new(200).set_body_json(send_response_example()))
        .mount(&server)
        .await;
    let hero = support::client_for(&server.uri(), KEY, PRACTICE, RetryPolicy::disabled());
    let link = hero
        .create_attachment_link()
        .body_map(|b| b.patient_id("98765").file("letter.pdf", b"%PDF"))
        .send()
        .await
        .unwrap();
    hero.send_message()
        .body_map(|b| {
            b.patient_id("98765")
                .message_type(MessageType::Email)
                .message_string("Your letter is attached")
                .attachment_uuid(&*link)
        })
        .send()
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let calls: Vec<_> = requests
        .iter()
        .map(|r| (r.method.to_string(), r.url.path().to_owned()))
        .collect();
    assert_eq!(
        calls,
        [
            ("POST".to_owned(), "/v1/attachment_links".to_owned()),
            ("POST".to_owned(), "/v1/messages/send".to_owned())
        ]
    );
    assert_eq!(body(&requests[0])["file_data"], "JVBERg==");
    assert_eq!(body(&requests[1])["attachment_uuid"], "4f6c1d2e-uuid");
}

/// A new user's trial: an operation called without its path id (as the generated docs once
/// showed) is refused naming `id` and "is required", like a missing body field, and nothing is
/// sent.
#[tokio::test]
async fn an_operation_without_its_path_id_is_refused_naming_id_and_nothing_is_sent() {
    let (server, hero) = support::serve(ResponseTemplate::new(200)).await;
    let errors = [
        hero.get_message().send().await.map(|_| ()).unwrap_err(),
        hero.get_message_status()
            .send()
            .await
            .map(|_| ())
            .unwrap_err(),
        hero.send_batch_message()
            .send()
            .await
            .map(|_| ())
            .unwrap_err(),
        hero.get_batch_message()
            .send()
            .await
            .map(|_| ())
            .unwrap_err(),
        hero.delete_webhook().send().await.map(|_| ()).unwrap_err(),
    ];
    for e in errors {
        let refusal = e.refusal().expect("a refusal");
        assert_eq!(
            (refusal.field(), refusal.rule()),
            ("id", "is required"),
            "{e}"
        );
        assert!(e.to_string().contains("id: is required"), "{e}");
        assert!(!e.may_have_been_sent());
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// Promise 13: both auth headers are on every request, replacing any value already there. A
/// client whose HTTP hook sets its own `x-api-key` and `x-practice-group-id` still sends exactly
/// one of each, the configured ones. Breaking it (appending instead of replacing, or the hook's
/// defaults winning) shows two values or the hook's.
#[tokio::test]
async fn p13_the_auth_headers_replace_any_value_already_there() {
    let server = wiremock::MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&server)
        .await;
    let hero = HeroClient::builder()
        .api_key("hero-configured-test-key")
        .practice_group_id("practice-configured")
        .base_url(server.uri())
        .retry_policy(RetryPolicy::disabled())
        .configure_http(|http| {
            let mut headers = herohealth::reqwest::header::HeaderMap::new();
            headers.insert("x-api-key", "hook-key".parse().unwrap());
            headers.insert("x-practice-group-id", "hook-group".parse().unwrap());
            http.default_headers(headers)
        })
        .build()
        .unwrap();
    let _ = hero.list_templates().send().await;
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    for (name, value) in [
        ("x-api-key", "hero-configured-test-key"),
        ("x-practice-group-id", "practice-configured"),
    ] {
        let values: Vec<_> = requests[0].headers.get_all(name).iter().collect();
        assert_eq!(values, [value], "{name}");
    }
}

/// Promise 65: every enum Hero returns has `Unknown`, so a value Hero adds decodes. Here for the
/// batch enums no other test decodes as `Unknown` inside a response: losing one's `Unknown` makes
/// the call a Decode error.
#[tokio::test]
async fn p65_new_batch_values_from_hero_decode_as_unknown() {
    let (_s, hero) = support::serve_json(
        200,
        serde_json::json!({"id": "b", "name": "n", "status": "PAUSED", "channel": "WHATSAPP",
            "subject": null, "content": "c"}),
    )
    .await;
    let b = hero.get_batch_message().id("b").send().await.unwrap();
    assert!(
        matches!(b.status, herohealth::BatchMessageStatus::Unknown(_)),
        "{:?}",
        b.status
    );
    assert!(
        matches!(b.channel, herohealth::BatchChannel::Unknown(_)),
        "{:?}",
        b.channel
    );

    let (_s, hero) = support::serve_json(
        200,
        serde_json::json!({"data": [{"id": "s", "status": "BOUNCED", "subject": null,
            "recipient": "+447700900123", "channel": "SMS", "content": "Hello",
            "sent_at": null, "created_at": null}], "count": 1}),
    )
    .await;
    let sends = hero
        .list_batch_message_sends()
        .id("b")
        .send()
        .await
        .unwrap();
    assert!(matches!(
        sends.data[0].status,
        herohealth::BatchSendStatus::Unknown(_)
    ));

    let (_s, hero) = support::serve_json(
        200,
        serde_json::json!({"data": [{"enrichment_status": "ENRICHMENT_PAUSED"}], "count": 1}),
    )
    .await;
    let rows = hero
        .list_batch_message_recipients()
        .id("b")
        .send()
        .await
        .unwrap();
    assert!(matches!(
        rows.data[0].enrichment_status,
        herohealth::EnrichmentStatus::Unknown(_)
    ));
}

/// Promise 66 (as reworded in 09da099): `Unknown` can only come from the server. Text parses only
/// to a documented value, so code cannot invent one: `"bounced"` is no `DeliveryStatus`, and an
/// invented message type given as text is refused with nothing sent. A value Hero itself sent can be sent back to it, spelled as Hero
/// sent it. Breaking the first half (text parsing to `Unknown`) sends the invented value; breaking
/// the second (an `Unknown` sent some other way) shows on the wire.
#[tokio::test]
async fn p66_code_cannot_invent_an_enum_value_and_heros_own_goes_back_as_sent() {
    assert!("bounced".parse::<herohealth::DeliveryStatus>().is_err());
    let (server, hero) = support::serve_json(
        200,
        serde_json::json!({"id": "1", "scheduled_send_at": null, "write_to_record": false,
            "status": {"write_to_record_at": null, "sent_at": null, "response": "bounced",
            "failure_reason": null}, "errors": {"write_to_record": null, "send": null}}),
    )
    .await;
    assert!(herohealth::DeliveryStatus::try_from("bounced").is_err());
    let err = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("42")
                .message_type("letter")
                .message_string("Your results are ready")
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing was sent"
    );

    let status = hero.get_message_status().id("1").send().await.unwrap();
    let heros_own = status.into_inner().status.response;
    assert!(matches!(heros_own, herohealth::DeliveryStatus::Unknown(_)));
    let _ = hero.list_sent_messages().status(heros_own).send().await;
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].url.query(), Some("status=bounced"));
}
