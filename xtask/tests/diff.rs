//! The diff engine on fixture descriptions: each report is compared whole, so a change is reported
//! once, with the right class and the right wording, and nothing else is.
//!
//! Fixtures (xtask/tests/fixtures): `base.yaml` and `ours.yaml` are a small upstream and "our
//! openapi.yaml"; one file per kind of change to them; `hero_bundle_3_1.yaml`, a realistic 3.1
//! bundle of every tag whose messaging operations mean what `spec/upstream.yaml` means, which some
//! tests edit in place (each edit must match exactly once); `recursive*.yaml`, a recursive schema.

use xtask::{Correction, Format, load, operations, report, subset, sync, to_json};

mod common;

use common::{fixture, workspace};

fn yaml(path: &str) -> serde_yaml::Value {
    load(path).unwrap().yaml
}

fn corrections(path: &str) -> Vec<Correction> {
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The text report from snapshot `old` to `new`, judged by `ours`.
fn text(
    old: &serde_yaml::Value,
    new: &serde_yaml::Value,
    ours: &str,
    corrections_path: &str,
) -> String {
    let ours = load(ours).unwrap().json;
    let found = sync(old, new, &ours, &corrections(corrections_path));
    report(&found.changes, Format::Text)
}

/// The report from the small base to fixture `name`.
fn small(name: &str) -> String {
    text(
        &yaml(&fixture("base.yaml")),
        &yaml(&fixture(name)),
        &fixture("ours.yaml"),
        &fixture("corrections.yaml"),
    )
}

/// `text` with each `(from, to)` replaced; each `from` must occur exactly once.
fn edit(text: &str, edits: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (from, to) in edits {
        assert_eq!(out.matches(from).count(), 1, "{from:?} must occur once");
        out = out.replace(from, to);
    }
    out
}

fn bundle_text() -> String {
    std::fs::read_to_string(fixture("hero_bundle_3_1.yaml")).unwrap()
}

/// The report from `spec/upstream.yaml` to the 3.1 bundle with `edits`, judged by our real
/// `openapi.yaml`.
fn bundle(edits: &[(&str, &str)]) -> String {
    let (new, _) = xtask::parse(&edit(&bundle_text(), edits)).unwrap();
    text(
        &yaml(&workspace("spec/upstream.yaml")),
        &new,
        &workspace("openapi.yaml"),
        &fixture("corrections.yaml"),
    )
}

/// What `regen` would save from the 3.1 bundle, our real `openapi.yaml` choosing.
fn bundle_subset() -> serde_yaml::Value {
    let ours = load(&workspace("openapi.yaml")).unwrap().json;
    sync(
        &yaml(&workspace("spec/upstream.yaml")),
        &yaml(&fixture("hero_bundle_3_1.yaml")),
        &ours,
        &[],
    )
    .subset
}

#[test]
fn the_subset_keeps_only_our_operations_and_what_they_use() {
    let ours = load(&fixture("ours.yaml")).unwrap().json;
    let s = to_json(&subset(&yaml(&fixture("base.yaml")), &ours));
    let ops: Vec<String> = operations(&s).iter().map(|o| o.name()).collect();
    assert_eq!(ops, vec!["POST /v1/messages/send", "GET /v2/sent_messages"]);
    assert!(s["components"]["schemas"].get("SentMessage").is_some());
    assert!(
        s["components"]["schemas"].get("Appointment").is_none(),
        "other tags' schemas are dropped"
    );
    assert_eq!(
        s["x-herohealth-not-carried"],
        serde_json::json!(["GET /v1/messages/send (sendMessageForm)"]),
        "an operation under our tag that we do not carry is recorded"
    );
}

#[test]
fn a_3_1_bundle_of_every_tag_means_what_the_snapshot_means() {
    let tags = to_json(&yaml(&fixture("hero_bundle_3_1.yaml")))["tags"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(tags, 23, "every tag of Hero's public API, Links included");
    assert_eq!(
        bundle(&[]),
        "0 breaking, 0 warning, 0 info; 0 touch our corrections\n"
    );
    // And back: the bundle's subset as the snapshot, the hand-written 3.0 snapshot as "new".
    let saved = bundle_subset();
    assert_eq!(
        text(
            &saved,
            &yaml(&workspace("spec/upstream.yaml")),
            &workspace("openapi.yaml"),
            &fixture("corrections.yaml")
        ),
        "0 breaking, 0 warning, 0 info; 0 touch our corrections\n"
    );
    let saved = to_json(&saved);
    assert!(
        !serde_json::to_string(&saved).unwrap().contains("#/paths/"),
        "a $ref into a path we do not carry is inlined"
    );
    assert!(saved["components"]["schemas"].get("FormSection").is_none());
    assert!(
        saved["components"]["securitySchemes"]
            .get("partnerKey")
            .is_none()
    );
}

#[test]
fn a_renamed_field() {
    assert_eq!(
        small("renamed_field.yaml"),
        "breaking GET /v2/sent_messages response 200 data[] sent_by: Hero removed the property (our client requires it)  [touches a correction: review by hand]\n\
         info     GET /v2/sent_messages response 200 data[] sender: Hero added a property  [touches a correction: review by hand]\n\
         1 breaking, 0 warning, 1 info; 2 touch our corrections\n"
    );
}

#[test]
fn new_enum_values_are_judged_by_our_types() {
    assert_eq!(
        small("new_enum_value.yaml"),
        "breaking POST /v1/messages/send response 200 link: Hero added enum value `form`\n\
         warning  GET /v2/sent_messages response 200 data[] status: Hero added enum value `bounced` (our client decodes it as Unknown)  [touches a correction: review by hand]\n\
         info     POST /v1/messages/send request body message_type: Hero added enum value `nhs_app`\n\
         1 breaking, 1 warning, 1 info; 1 touch our corrections\n"
    );
}

#[test]
fn a_removed_operation() {
    assert_eq!(
        small("removed_operation.yaml"),
        "breaking GET /v2/sent_messages: Hero removed the operation\n\
         1 breaking, 0 warning, 0 info; 0 touch our corrections\n"
    );
}

#[test]
fn new_optional_fields_in_yaml_and_json() {
    let expected = "info     GET /v2/sent_messages response 200 data[] read_at: Hero added a property  [touches a correction: review by hand]\n\
                    info     POST /v1/messages/send request body priority: Hero added a property\n\
                    0 breaking, 0 warning, 2 info; 1 touch our corrections\n";
    assert_eq!(small("new_optional_field.yaml"), expected);
    assert_eq!(small("new_optional_field.json"), expected);
}

#[test]
fn changes_that_break_sends_are_breaking() {
    assert_eq!(
        small("type_changed.yaml"),
        "breaking POST /v1/messages/send request body patient_id: Hero changed the type from string to integer\n\
         1 breaking, 0 warning, 0 info; 0 touch our corrections\n"
    );
    assert_eq!(
        small("made_required.yaml"),
        "breaking GET /v2/sent_messages parameter query page_size: Hero changed it from optional to required\n\
         breaking POST /v1/messages/send request body priority: Hero added a required property\n\
         2 breaking, 0 warning, 0 info; 0 touch our corrections\n"
    );
    assert_eq!(
        small("request_enum_value_removed.yaml"),
        "breaking POST /v1/messages/send request body message_type: Hero removed enum value `email`\n\
         1 breaking, 0 warning, 0 info; 0 touch our corrections\n"
    );
}

#[test]
fn a_renamed_path_parameter_is_the_same_operation() {
    assert_eq!(
        bundle(&[(
            "  /v1/batch_message/{id}/send:\n    parameters:\n      - $ref: '#/components/parameters/BatchId'\n",
            "  /v1/batch_message/{batch_message_id}/send:\n    parameters:\n      - {name: batch_message_id, in: path, required: true, schema: {type: string}}\n",
        )]),
        "0 breaking, 0 warning, 0 info; 0 touch our corrections\n",
        "a path parameter's name is not on the wire"
    );
}

#[test]
fn a_moved_operation_is_found_by_its_operation_id() {
    assert_eq!(
        bundle(&[("  /v1/snomed/validate:\n", "  /v2/snomed/validate:\n")]),
        "breaking POST /v1/snomed/validate: Hero changed the path from /v1/snomed/validate to /v2/snomed/validate (same operationId; our client calls /v1/snomed/validate)\n\
         1 breaking, 0 warning, 0 info; 0 touch our corrections\n"
    );
}

#[test]
fn nullability_and_types_in_the_3_1_spelling() {
    assert_eq!(
        bundle(&[
            // A response field that may now be null.
            (
                "                  message_id: {type: string}\n",
                "                  message_id: {type: [string, 'null']}\n"
            ),
            // A response field whose type changed.
            (
                "                        value: {type: [number, 'null']}\n",
                "                        value: {type: [string, 'null']}\n"
            ),
            // A shared nullable component that is no longer nullable (responses: harmless).
            (
                "    NullableDateTime:\n      type: [string, 'null']\n",
                "    NullableDateTime:\n      type: string\n"
            ),
        ]),
        "breaking GET /v1/messages/assignee/collection response 200 data[] value: Hero changed the type from number to string (our `i64` refuses a string)\n\
         breaking POST /v1/batch_message request body recipients <oneOf 0>[] dob: Hero changed it from nullable to not nullable\n\
         breaking POST /v1/batch_message request body recipients <oneOf 1> dob: Hero changed it from nullable to not nullable\n\
         breaking POST /v1/messages/send response 200 message_id: Hero changed it from not nullable to nullable\n\
         info     GET /v1/batch_message/{id}/messages response 200 data[] created_at: Hero changed it from nullable to not nullable\n\
         info     GET /v1/batch_message/{id}/messages response 200 data[] sent_at: Hero changed it from nullable to not nullable\n\
         info     GET /v1/messages/{id}/status response 200 scheduled_send_at: Hero changed it from nullable to not nullable\n\
         info     GET /v1/messages/{id}/status response 200 status sent_at: Hero changed it from nullable to not nullable\n\
         info     GET /v1/messages/{id}/status response 200 status write_to_record_at: Hero changed it from nullable to not nullable\n\
         info     GET /v2/sent_messages response 200 data[] created_at: Hero changed it from nullable to not nullable  [touches a correction: review by hand]\n\
         info     GET /v2/sent_messages response 200 data[] scheduled_at: Hero changed it from nullable to not nullable  [touches a correction: review by hand]\n\
         info     GET /v2/sent_messages response 200 data[] sent_at: Hero changed it from nullable to not nullable  [touches a correction: review by hand]\n\
         info     GET /v2/sent_messages response 200 data[] write_to_record write_to_record_at: Hero changed it from nullable to not nullable  [touches a correction: review by hand]\n\
         info     POST /v1/messages/send response 200 send_at: Hero changed it from nullable to not nullable\n\
         4 breaking, 0 warning, 10 info; 4 touch our corrections\n"
    );
}

#[test]
fn operation_id_deprecation_security_style_media_type_limits_and_servers() {
    assert_eq!(
        bundle(&[
            (
                "      operationId: sendMessage\n",
                "      operationId: sendAMessage\n      deprecated: true\n      security:\n        - partnerKey: []\n"
            ),
            (
                "        - {name: 'sent_at[]', in: query, schema:",
                "        - {name: 'sent_at[]', in: query, explode: false, schema:"
            ),
            (
                "    post:\n      operationId: validateSnomedCode\n      tags: [Messages]\n      requestBody:\n        required: true\n        content:\n          application/json:\n",
                "    post:\n      operationId: validateSnomedCode\n      tags: [Messages]\n      requestBody:\n        required: true\n        content:\n          application/x-www-form-urlencoded:\n"
            ),
            (
                "                message_string: {type: string, minLength: 1}\n",
                "                message_string: {type: string, minLength: 1, maxLength: 612}\n"
            ),
            (
                "  - url: https://api.herohealth.net/\n    description: Production\n",
                ""
            ),
        ]),
        "breaking GET /v2/sent_messages parameter query sent_at[]: Hero changed its serialisation from style form, explode to style form, no explode (our client sends the old form)\n\
         breaking POST /v1/messages/send request body message_string: Hero changed `maxLength` from none to `612` (values our client sends may be refused)\n\
         breaking POST /v1/messages/send security: Hero changed security from [apiKeyAuth, practiceGroupId] to [partnerKey] (our client does not send it)\n\
         breaking POST /v1/snomed/validate request body: Hero changed the media type from `application/json` to `application/x-www-form-urlencoded` (our client sends it)\n\
         breaking servers: Hero removed server `https://api.herohealth.net` (openapi.yaml still lists it)\n\
         warning  POST /v1/messages/send: Hero changed it from not deprecated to deprecated\n\
         warning  POST /v1/messages/send: Hero changed the operationId from `sendMessage` to `sendAMessage` (the generated method keeps openapi.yaml's name)\n\
         info     security scheme partnerKey: Hero added it\n\
         5 breaking, 2 warning, 1 info; 0 touch our corrections\n"
    );
}

#[test]
fn statuses_and_required_fields_are_judged_by_our_openapi_yaml() {
    // Our client accepts 200 and 204 from sendBatchMessage: 200 -> 204 is harmless. It accepts
    // only 200 from sendMessage: 200 -> 201 breaks it.
    assert_eq!(
        bundle(&[
            (
                "      summary: Send a Batch Message\n      tags: [Messages]\n      responses:\n        '200':\n",
                "      summary: Send a Batch Message\n      tags: [Messages]\n      responses:\n        '204':\n"
            ),
            (
                "        '200':\n          description: Ok\n          content:\n            application/json:\n              schema:\n                type: object\n                required: [message_id, content, created_at, write_to_record]\n",
                "        '201':\n          description: Ok\n          content:\n            application/json:\n              schema:\n                type: object\n                required: [message_id, content, created_at, write_to_record]\n"
            ),
        ]),
        "breaking POST /v1/messages/send response 200: Hero removed the success response\n\
         breaking POST /v1/messages/send response 201: Hero added a success response (our client does not accept it)\n\
         info     PATCH /v1/batch_message/{id}/send response 200: Hero removed the success response (our client accepts 204)\n\
         info     PATCH /v1/batch_message/{id}/send response 204: Hero added a success response (our client accepts it)\n\
         2 breaking, 0 warning, 2 info; 0 touch our corrections\n"
    );
    // Hero's old schema had sent_by optional, ours requires it: its removal breaks our client.
    let base = std::fs::read_to_string(fixture("base.yaml")).unwrap();
    let optional = edit(
        &base,
        &[("required: [id, status, sent_by]", "required: [id, status]")],
    );
    let removed = edit(&optional, &[("        sent_by: {type: string}\n", "")]);
    let parse = |t: &str| xtask::parse(t).unwrap().0;
    assert_eq!(
        text(
            &parse(&optional),
            &parse(&removed),
            &fixture("ours.yaml"),
            &fixture("corrections.yaml")
        ),
        "breaking GET /v2/sent_messages response 200 data[] sent_by: Hero removed the property (our client requires it)  [touches a correction: review by hand]\n\
         1 breaking, 0 warning, 0 info; 1 touch our corrections\n"
    );
}

#[test]
fn a_new_operation_under_our_tags_is_listed_as_not_carried() {
    let ours = load(&workspace("openapi.yaml")).unwrap().json;
    let synced = bundle_subset();
    let (new, _) = xtask::parse(&edit(
        &bundle_text(),
        &[(
            "  /v1/messages/assignee/collection:\n",
            "  /v1/messages/drafts:\n    get:\n      operationId: listDrafts\n      tags: [Messages]\n      responses:\n        '200': {description: Ok}\n  /v1/messages/assignee/collection:\n",
        )],
    ))
    .unwrap();
    assert_eq!(
        report(&sync(&synced, &new, &ours, &[]).changes, Format::Text),
        "info     GET /v1/messages/drafts (listDrafts): Hero added an operation under a tag we carry; not carried: add it to openapi.yaml if the client should offer it\n\
         0 breaking, 0 warning, 1 info; 0 touch our corrections\n"
    );
}

#[test]
fn a_recursive_schema_is_compared_once_per_place() {
    assert_eq!(
        text(
            &yaml(&fixture("recursive.yaml")),
            &yaml(&fixture("recursive_changed.yaml")),
            &fixture("recursive.yaml"),
            &fixture("corrections.yaml"),
        ),
        "breaking POST /v1/folders request body name: Hero changed `maxLength` from none to `64` (values our client sends may be refused)\n\
         info     GET /v1/folders response 200 name: Hero changed `maxLength` from none to `64` (our `String` reads every such text)\n\
         1 breaking, 0 warning, 1 info; 0 touch our corrections\n"
    );
}
