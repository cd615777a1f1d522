//! Every response the mock gives conforms to `openapi.yaml`: its status is documented for the
//! operation and its body validates against the documented schema (OpenAPI 3.0 converted to JSON
//! Schema draft 7). Requests cover each operation with good and bad input and without credentials.

use std::time::Duration;

use herohealth::spec::OPERATIONS;
use herohealth_mock::MockServer;
use serde_json::{Value, json};

struct Spec {
    doc: Value,
    components: Value,
}

/// OpenAPI 3.0 `nullable: true` becomes a JSON Schema type union with "null", and beside an
/// `allOf` (a documented `$ref`), the `allOf` or null.
fn to_json_schema(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if map.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(Value::String(t)) = map.get("type").cloned() {
                    map.insert("type".into(), json!([t, "null"]));
                }
                if let Some(all_of) = map.remove("allOf") {
                    map.insert("anyOf".into(), json!([{"type": "null"}, {"allOf": all_of}]));
                }
            }
            map.remove("example");
            map.values_mut().for_each(to_json_schema);
        }
        Value::Array(items) => items.iter_mut().for_each(to_json_schema),
        _ => {}
    }
}

impl Spec {
    fn load() -> Spec {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml"))
            .unwrap();
        let doc: Value = serde_yaml::from_str(&text).unwrap();
        let mut components = doc["components"].clone();
        to_json_schema(&mut components);
        Spec { doc, components }
    }

    /// The response object documented for `status` (following `components/responses` refs).
    fn response(&self, method: &str, route: &str, status: u16) -> Option<Value> {
        let op = &self.doc["paths"][route][method.to_lowercase()];
        assert!(op.is_object(), "{method} {route} is not in openapi.yaml");
        let r = op["responses"].get(status.to_string())?.clone();
        Some(match r.get("$ref").and_then(Value::as_str) {
            Some(rf) => self.doc["components"]["responses"][rf.rsplit('/').next().unwrap()].clone(),
            None => r,
        })
    }

    /// Checks one response; panics with the reason if it breaks the spec.
    fn check(
        &self,
        method: &str,
        route: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) {
        let doc = self
            .response(method, route, status)
            .unwrap_or_else(|| panic!("{method} {route} answered undocumented status {status}"));
        let Some(schema) = doc["content"]["application/json"]["schema"].as_object() else {
            assert!(
                body.is_empty(),
                "{method} {route} {status}: documented without a body, got one"
            );
            return;
        };
        assert!(
            content_type.is_some_and(|c| c.starts_with("application/json")),
            "{method} {route} {status}: {content_type:?}"
        );
        let instance: Value = serde_json::from_slice(body)
            .unwrap_or_else(|e| panic!("{method} {route}: not JSON: {e}"));
        let mut root = json!({"components": self.components});
        root["$ref"] = schema["$ref"].clone();
        let validator = jsonschema::draft7::new(&root).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {route} {status} breaks the spec: {errors:#?}\n{instance:#}"
        );
    }
}

struct Probe {
    spec: Spec,
    mock: MockServer,
    http: reqwest::Client,
    checked: std::collections::BTreeSet<(String, u16)>,
}

impl Probe {
    async fn call(
        &mut self,
        method: &str,
        route: &str,
        path: &str,
        body: Option<Value>,
        auth: bool,
    ) -> (u16, Value) {
        let url = format!("{}{}", self.mock.base_url(), path);
        let mut req = self.http.request(method.parse().unwrap(), url);
        if auth {
            let (key, group) = self.mock.credentials();
            req = req
                .header("x-api-key", key)
                .header("x-practice-group-id", group);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = resp.bytes().await.unwrap();
        self.spec
            .check(method, route, status, ct.as_deref(), &bytes);
        self.checked.insert((format!("{method} {route}"), status));
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// A `GET` of `path`, an instance of `route`.
    async fn get(&mut self, route: &str, path: &str) -> (u16, Value) {
        self.call("GET", route, path, None, true).await
    }

    async fn patch(&mut self, route: &str, path: &str) -> (u16, Value) {
        self.call("PATCH", route, path, None, true).await
    }

    /// A `POST` to `route` (no path parameters) of `body`.
    async fn post(&mut self, route: &str, body: Value) -> (u16, Value) {
        self.call("POST", route, route, Some(body), true).await
    }
}

#[tokio::test]
async fn every_response_conforms_to_openapi_yaml() {
    let mock = MockServer::builder()
        .seed_sent_messages(30)
        // A write into the record awaits approval: its answer holds the approval URL and token.
        .write_approval(true)
        .start()
        .await
        .unwrap();
    let mut p = Probe {
        spec: Spec::load(),
        mock,
        http: reqwest::Client::new(),
        checked: Default::default(),
    };

    // Batch lifecycle, with one invalid NHS number.
    let batch = json!({"name": "Flu", "channel": "EMAIL", "subject": "Flu jab", "content": "Your flu jab is due",
        "recipients": [{"nhs_number": "943 476 5919", "dob": "1955-06-02T00:00:00Z"}, {"nhs_number": "1234567890", "dob": null}]});
    let (s, created) = p.post("/v1/batch_message", batch).await;
    assert_eq!(s, 200);
    let id = created["id"].as_str().unwrap().to_owned();
    for bad in [
        json!({}),
        json!({"name": "x", "channel": "EMAIL", "content": "c", "recipients": []}),
        json!({"name": "x", "channel": "FAX", "content": "", "recipients": {"nhs_number": 5, "dob": "yesterday"}}),
        json!([1, 2]),
    ] {
        let (s, body) = p.post("/v1/batch_message", bad).await;
        assert_eq!(s, 400, "{body}");
    }
    p.get(
        "/v1/batch_message",
        "/v1/batch_message?page_size=5&page_index=0&status=CREATED",
    )
    .await;
    p.get(
        "/v1/batch_message",
        "/v1/batch_message?status=ENRICHMENT_ERROR",
    )
    .await;
    p.get("/v1/batch_message", "/v1/batch_message?page_size=0")
        .await;
    p.get("/v1/batch_message/{id}", &format!("/v1/batch_message/{id}"))
        .await;
    p.get("/v1/batch_message/{id}", "/v1/batch_message/nope")
        .await;
    for q in ["", "?status=ENRICHED&page_size=1", "?status=NOPE"] {
        p.get(
            "/v1/batch_message/{id}/recipients",
            &format!("/v1/batch_message/{id}/recipients{q}"),
        )
        .await;
    }
    let (s, _) = p
        .patch(
            "/v1/batch_message/{id}/send",
            &format!("/v1/batch_message/{id}/send"),
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = p
        .patch(
            "/v1/batch_message/{id}/send",
            &format!("/v1/batch_message/{id}/send"),
        )
        .await;
    assert_eq!(s, 409, "a batch is sent once");
    p.patch("/v1/batch_message/{id}/send", "/v1/batch_message/nope/send")
        .await;
    for advance in [0, 1, 2] {
        p.mock.advance(Duration::from_secs(advance));
        p.get(
            "/v1/batch_message/{id}/messages",
            &format!("/v1/batch_message/{id}/messages"),
        )
        .await;
        p.get("/v1/batch_message/{id}", &format!("/v1/batch_message/{id}"))
            .await;
    }
    p.get(
        "/v1/batch_message/{id}/messages",
        &format!("/v1/batch_message/{id}/messages?status=SUCCESS"),
    )
    .await;

    // Single messages through their lifecycle, scheduled and with write-to-record.
    let send = json!({"patient_id": "1", "message_type": "sms", "message_string": "Sample text message",
        "recipient_contact_detail": "07788 123456", "write_to_record": true, "snomed_code": "123456789"});
    let (s, sent) = p.post("/v1/messages/send", send).await;
    assert_eq!(s, 200);
    assert!(sent["confirm_write_to_record_url"].is_string() && sent["auth_token"].is_string());
    let mid = sent["message_id"].as_str().unwrap().to_owned();
    let later = (p.mock.now() + chrono::Duration::hours(1)).to_rfc3339();
    let (s, _) = p
        .post("/v1/messages/send", json!({"patient_id": "2", "message_type": "email", "message_string": "Later", "send_at": later, "encrypted": "yes"}))
        .await;
    assert_eq!(s, 200);
    for bad in [
        json!({"patient_id": "string", "message_type": "hero", "message_string": "x"}),
        json!({"patient_id": "1", "message_type": "fax", "message_string": ""}),
        json!({"message_type": "sms"}),
        json!({"patient_id": "1", "message_type": "sms", "message_string": "x", "send_at": "tomorrow", "assignee_id": "x"}),
    ] {
        let (s, _) = p.post("/v1/messages/send", bad).await;
        assert_eq!(s, 400);
    }
    for step in [0, 2, 5] {
        p.mock.advance(Duration::from_secs(step));
        for id in [mid.as_str(), "1", "31", "999"] {
            p.get(
                "/v1/messages/{id}/status",
                &format!("/v1/messages/{id}/status"),
            )
            .await;
            p.get("/v1/messages/{id}", &format!("/v1/messages/{id}"))
                .await;
        }
    }

    // Lists with every filter, good and bad.
    for q in [
        "",
        "?page_index=1&page_size=7&order_by=sent_at&order_descending=true",
        "?status=delivered&status=fatal&message_type=sms&message_type=email",
        "?patient_first_name=ada&patient_last_name=cav&patient_full_name=ada%20c&patient_id=1000",
        "?write_to_record_status=failed&scheduled=false&sent_by=Seed&campaign_id=1&short_link_id=17&short_link_type=booking",
        "?sent_at%5B%5D=2024-01-01T00:00:00Z&sent_at%5B%5D=2024-01-01T08:10:00Z&scheduled_at%5B%5D=2024-01-01T00:00:00Z",
        "?recipient_contact_detail=%2B447700900000&order_by=patient_full_name",
        "?page_index=string&page_size=string",
        "?status=bounced&order_by=nope&scheduled=maybe&sent_at%5B%5D=never",
    ] {
        p.get("/v2/sent_messages", &format!("/v2/sent_messages{q}"))
            .await;
    }
    for q in [
        "",
        "?has_follow_up=true",
        "?has_follow_up=false",
        "?has_follow_up=1",
    ] {
        p.get("/v1/templates", &format!("/v1/templates{q}")).await;
    }
    p.get(
        "/v1/messages/assignee/collection",
        "/v1/messages/assignee/collection",
    )
    .await;
    for code in [
        json!({"code": "1240751000000100"}),
        json!({"code": "string"}),
        json!({"code": 5}),
    ] {
        p.post("/v1/snomed/validate", code).await;
    }

    // Patients: found, verify identity, not found, demographics, invalid.
    for body in [
        json!({"nhs_number": "123 456 7891", "dob": "1992-01-01"}),
        json!({"nhs_number": "943 476 5919", "dob": "1992-01-01"}),
        json!({"nhs_number": "9000000009", "dob": "1992-01-01"}),
        json!({"nhs_number": "9999999999", "dob": "1992-01-01"}),
        json!({"dob": "1989-04-11", "postcode": "LS1 4AP", "forename": "Ada", "surname": "Lovelace", "ehr_partner": "emis"}),
        json!({"dob": "1989-04-11", "forename": ""}),
    ] {
        p.post("/v1/patients/register_pds", body).await;
    }

    // Webhooks: created (with and without a key and headers), listed, filtered, deleted.
    let (s, hook) = p
        .post(
            "/v1/webhooks",
            json!({"event_type": "write-to-record.succeeded", "url": "http://127.0.0.1:9/hook",
                "signing_key": "whsec-test-signing-key-conformance", "description": "d", "headers": {"x-a": "b"}}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = p
        .post(
            "/v1/webhooks",
            json!({"event_type": "appointment.confirmed", "url": "https://partner.example/h"}),
        )
        .await;
    assert_eq!(s, 200);
    for bad in [
        json!({}),
        json!({"event_type": "invoice.paid", "url": "not a url"}),
        json!({"event_type": "write-to-record.failed", "url": "ftp://x/", "signing_key": "", "headers": {"a": 1}}),
        json!({"event_type": "write-to-record.failed", "url": "https://x.example/", "headers": []}),
    ] {
        let (s, body) = p.post("/v1/webhooks", bad).await;
        assert_eq!(s, 400, "{body}");
    }
    for q in [
        "",
        "?event_type=write-to-record.succeeded",
        "?event_type=nope",
    ] {
        p.get("/v1/webhooks", &format!("/v1/webhooks{q}")).await;
    }
    let hook_id = hook["id"].as_str().unwrap().to_owned();
    let (s, _) = p
        .call(
            "DELETE",
            "/v1/webhooks/{id}",
            &format!("/v1/webhooks/{hook_id}"),
            None,
            true,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = p
        .call(
            "DELETE",
            "/v1/webhooks/{id}",
            &format!("/v1/webhooks/{hook_id}"),
            None,
            true,
        )
        .await;
    assert_eq!(s, 404);

    // Attachment links: an uploaded file, a record file, and bodies Hero would refuse.
    for good in [
        json!({"patient_id": "1", "file_name": "a.pdf", "file_data": "JVBERi0xLjQK", "maximum_use_count": 2,
            "expiry_date": (p.mock.now() + chrono::Duration::days(1)).to_rfc3339()}),
        json!({"patient_id": "1", "ehr_file_id": "f-1"}),
    ] {
        let (s, link) = p.post("/v1/attachment_links", good).await;
        assert_eq!(s, 200, "{link}");
    }
    for bad in [
        json!({}),
        json!({"patient_id": "1"}),
        json!({"patient_id": "1", "ehr_file_id": "f", "file_data": "QQ==", "file_name": "a"}),
        json!({"patient_id": "x", "file_data": "not base64!", "file_name": "a", "maximum_use_count": 0}),
        json!({"patient_id": "1", "file_data": "QQ=="}),
        // int64: one past i64::MAX is out of range (schemathesis found the mock taking it).
        json!({"patient_id": "1", "ehr_file_id": "f", "maximum_use_count": 9_223_372_036_854_775_808u64}),
        json!({"patient_id": "1", "ehr_file_id": "f", "maximum_use_count": -1}),
    ] {
        let (s, body) = p.post("/v1/attachment_links", bad).await;
        assert_eq!(s, 400, "{body}");
    }

    // Every operation without credentials.
    for op in OPERATIONS {
        let (method, route) = (op.method, op.path);
        let path = route.replace("{id}", "1");
        let body = (method != "GET" && method != "PATCH").then(|| json!({}));
        let (s, _) = p.call(method, route, &path, body, false).await;
        assert_eq!(s, 401);
    }

    // Every operation of the spec has a route: the gate named each in the journal by its id.
    let journaled: std::collections::BTreeSet<String> =
        p.mock.journal().into_iter().map(|e| e.operation).collect();
    for op in OPERATIONS {
        assert!(
            journaled.contains(op.id),
            "{} ({} {}) has no route in the mock",
            op.id,
            op.method,
            op.path
        );
    }
    assert!(!journaled.contains("unknown"), "{journaled:?}");

    for op in OPERATIONS {
        let key = format!("{} {}", op.method, op.path);
        assert!(
            p.checked
                .iter()
                .any(|(k, s)| *k == key && (200..300).contains(s)),
            "no success checked for {key}"
        );
    }
}
