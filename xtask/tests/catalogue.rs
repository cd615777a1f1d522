//! One fixture pair per check of `xtask/README.md`'s catalogue: a change made to the small
//! `base.yaml` is reported once, with its class, and a re-expression of the same meaning is
//! reported as nothing. Each case edits the fixtures in code: `both` edits go into the old and the
//! new description, `new` edits then into the new one only, `ours` edits into `ours.yaml`.

use xtask::{Format, parse, report, sync};

mod common;

use common::{Edits, NOTHING, diff, edit, workspace};

/// Lines of base.yaml and ours.yaml that cases edit.
const PATIENT_ID: &str = "                patient_id: {type: string}\n";
const MESSAGE_ID: &str = "                  message_id: {type: string}\n";
const PAGE_SIZE: &str = "        - {name: page_size, in: query, schema: {type: integer}}\n";
const SCHEMAS: &str = "components:\n  schemas:\n";
const SEND: &str = "      operationId: sendMessage\n";
const REQUEST_JSON: &str =
    "      requestBody:\n        required: true\n        content:\n          application/json:\n";
const RESPONSE_JSON: &str = "          content:\n            application/json:\n              schema:\n                type: object\n                required: [message_id]\n";

/// `change` (the `both` and `new` edits, and `ours` edits) is reported as `expected`; `same`
/// (edits on top of the same `both`) as nothing.
fn pair(both: Edits, change: Edits, ours: Edits, expected: &str, same: Edits) {
    assert_eq!(diff(both, change, ours), expected, "the change");
    assert_eq!(diff(both, same, ours), NOTHING, "the re-expression");
}

#[test]
fn defaults_of_every_type() {
    let urgent = [(
        PATIENT_ID,
        "                patient_id: {type: string}\n                urgent: {type: boolean, default: false}\n",
    )];
    pair(
        &urgent,
        &[(
            "urgent: {type: boolean, default: false}",
            "urgent: {type: boolean, default: true}",
        )],
        &[],
        "warning  POST /v1/messages/send request body urgent: Hero changed the default from `false` to `true` (what Hero assumes when our client leaves it out)\n\
         0 breaking, 1 warning, 0 info; 0 touch our corrections\n",
        &[(
            "urgent: {type: boolean, default: false}",
            "urgent: {allOf: [{type: boolean}], default: false, description: Urgent}",
        )],
    );
    let page = [(
        PAGE_SIZE,
        "        - {name: page_size, in: query, schema: {type: integer, default: 20}}\n",
    )];
    pair(
        &page,
        &[("default: 20}", "default: 50}")],
        &[],
        "warning  GET /v2/sent_messages parameter query page_size: Hero changed the default from `20` to `50` (what Hero assumes when our client leaves it out)\n\
         0 breaking, 1 warning, 0 info; 0 touch our corrections\n",
        &[("default: 20}", "default: 20.0}")],
    );
    // A response default our types also carry: a field left out now means something else.
    let sender = "                  message_id: {type: string}\n                  sender: {type: object, default: {name: practice}}\n";
    pair(
        &[(MESSAGE_ID, sender)],
        &[("default: {name: practice}", "default: {name: hero}")],
        &[(MESSAGE_ID, sender)],
        "warning  POST /v1/messages/send response 200 sender: Hero changed the default from `{\"name\":\"practice\"}` to `{\"name\":\"hero\"}` (our client reads a field left out as `{\"name\":\"practice\"}`)\n\
         0 breaking, 1 warning, 0 info; 0 touch our corrections\n",
        &[("default: {name: practice}", "default: {'name': practice}")],
    );
}

#[test]
fn constants_of_every_type() {
    let consts = [(
        PATIENT_ID,
        "                patient_id: {type: string}\n                channel: {type: string, const: sms}\n                confirmed: {type: boolean, const: true}\n",
    )];
    pair(
        &consts,
        &[
            (
                "channel: {type: string, const: sms}",
                "channel: {type: string, const: email}",
            ),
            (
                "confirmed: {type: boolean, const: true}",
                "confirmed: {type: boolean, const: false}",
            ),
        ],
        &[],
        "breaking POST /v1/messages/send request body channel: Hero changed the value from `sms` to `email`\n\
         breaking POST /v1/messages/send request body confirmed: Hero changed the value from `true` to `false`\n\
         2 breaking, 0 warning, 0 info; 0 touch our corrections\n",
        &[
            (
                "channel: {type: string, const: sms}",
                "channel: {type: string, enum: [sms]}",
            ),
            (
                "confirmed: {type: boolean, const: true}",
                "confirmed: {oneOf: [{const: true}], type: boolean}",
            ),
        ],
    );
}

#[test]
fn a_request_field_restricted_to_values() {
    pair(
        &[],
        &[(
            PATIENT_ID,
            "                patient_id: {type: string, enum: ['1', '2']}\n",
        )],
        &[],
        "breaking POST /v1/messages/send request body patient_id: Hero changed the enum from any to `1`, `2` (values our client sends may be refused)\n\
         1 breaking, 0 warning, 0 info; 0 touch our corrections\n",
        &[(
            PATIENT_ID,
            "                patient_id: {type: string, format: null}\n",
        )],
    );
    // Values in another order are the same enum.
    let two = [(
        PATIENT_ID,
        "                patient_id: {type: string, enum: ['1', '2']}\n",
    )];
    assert_eq!(
        diff(&two, &[("enum: ['1', '2']", "enum: ['2', '1']")], &[]),
        NOTHING
    );
}

#[test]
fn response_values_and_requiredness() {
    pair(
        &[],
        &[
            (
                "                  link: {type: string, enum: [no_link, booking]}\n",
                "                  link: {type: string, enum: [no_link]}\n",
            ),
            (
                "                required: [message_id]\n",
                "                required: [link]\n",
            ),
            (
                "              required: [patient_id, message_type]\n",
                "              required: [patient_id]\n",
            ),
        ],
        &[],
        "breaking POST /v1/messages/send response 200 message_id: Hero changed it from required to optional (our client requires it)\n\
         info     POST /v1/messages/send request body message_type: Hero changed it from required to optional\n\
         info     POST /v1/messages/send response 200 link: Hero changed it from optional to required\n\
         info     POST /v1/messages/send response 200 link: Hero removed enum value `booking`\n\
         1 breaking, 0 warning, 3 info; 0 touch our corrections\n",
        &[(
            "              required: [patient_id, message_type]\n",
            "              required: [message_type, patient_id, patient_id]\n",
        )],
    );
}

#[test]
fn request_media_types_by_essence() {
    pair(
        &[],
        &[(
            REQUEST_JSON,
            "      requestBody:\n        required: true\n        content:\n          application/xml:\n",
        )],
        &[],
        "breaking POST /v1/messages/send request body: Hero changed the media type from `application/json` to `application/xml` (our client sends it)\n\
         1 breaking, 0 warning, 0 info; 0 touch our corrections\n",
        &[(
            REQUEST_JSON,
            "      requestBody:\n        required: true\n        content:\n          'Application/JSON; charset=utf-8':\n",
        )],
    );
}

#[test]
fn response_media_types_by_the_accept_our_client_sends() {
    // Every generated call whose success answer is typed sends `Accept: application/json`: a
    // server that negotiates answers 406 once no media type of the answer lists it, whatever our
    // decoder could have read.
    let media = |m: &str| {
        format!(
            "          content:\n            {m}:\n              schema:\n                type: object\n                required: [message_id]\n"
        )
    };
    let gone = "(our client sends `Accept: application/json`, which Hero no longer lists: a server that negotiates answers 406)";
    let cases = [
        (
            media("text/csv"),
            format!(
                "breaking POST /v1/messages/send response 200: Hero changed the media type from `application/json` to `text/csv` {gone}\n\
                 1 breaking, 0 warning, 0 info; 0 touch our corrections\n"
            ),
        ),
        (
            media("application/vnd.herohealth.v2+json"),
            format!(
                "breaking POST /v1/messages/send response 200: Hero changed the media type from `application/json` to `application/vnd.herohealth.v2+json` {gone}\n\
                 1 breaking, 0 warning, 0 info; 0 touch our corrections\n"
            ),
        ),
        (
            media("application/problem+json"),
            format!(
                "breaking POST /v1/messages/send response 200: Hero changed the media type from `application/json` to `application/problem+json` {gone}\n\
                 1 breaking, 0 warning, 0 info; 0 touch our corrections\n"
            ),
        ),
        (
            media("'*/*'"),
            "warning  POST /v1/messages/send response 200: Hero changed the media type from `application/json` to `*/*` (our client sends `Accept: application/json`, which only a range still lists: the body may no longer be JSON)\n\
             0 breaking, 1 warning, 0 info; 0 touch our corrections\n"
                .to_owned(),
        ),
        (
            // The vendor type beside JSON: our Accept is still listed.
            RESPONSE_JSON.replace(
                "          content:\n",
                "          content:\n            application/vnd.herohealth.v2+json: {}\n",
            ),
            "info     POST /v1/messages/send response 200: Hero added media type `application/vnd.herohealth.v2+json`\n\
             0 breaking, 0 warning, 1 info; 0 touch our corrections\n"
                .to_owned(),
        ),
    ];
    for (to, expected) in cases {
        pair(
            &[],
            &[(RESPONSE_JSON, &to)],
            &[],
            &expected,
            &[(RESPONSE_JSON, &media("'Application/JSON; charset=UTF-8'"))],
        );
    }
    // An answer our client reads no body of: it sends no Accept, any media type does.
    let ours = [(
        "          content:\n            application/json:\n              schema:\n                type: object\n                required: [message_id]\n                properties:\n                  message_id: {type: string}\n                  link: {$ref: '#/components/schemas/TemplateLink'}\n",
        "",
    )];
    assert_eq!(
        diff(
            &[],
            &[(RESPONSE_JSON, &media("application/vnd.herohealth.v2+json"))],
            &ours
        ),
        "info     POST /v1/messages/send response 200: Hero changed the media type from `application/json` to `application/vnd.herohealth.v2+json` (our client reads no body and sends no Accept)\n\
         0 breaking, 0 warning, 1 info; 0 touch our corrections\n",
        "no typed answer in openapi.yaml"
    );
}

#[test]
fn media_types_judged_only_where_our_client_negotiates() {
    let two = |a: &str, b: &str| {
        format!(
            "          content:\n            {b}: {{}}\n            {a}:\n              schema:\n                type: object\n                required: [message_id]\n"
        )
    };
    // A type beside ours removed: our Accept is still listed.
    assert_eq!(
        diff(
            &[(RESPONSE_JSON, &two("application/json", "text/csv"))],
            &[("            text/csv: {}\n", "")],
            &[]
        ),
        "info     POST /v1/messages/send response 200: Hero removed media type `text/csv` (our client sends `Accept: application/json`, which Hero still lists)\n\
         0 breaking, 0 warning, 1 info; 0 touch our corrections\n"
    );
    // Where Hero never listed our Accept, a change of the others changes nothing for it.
    assert_eq!(
        diff(
            &[(
                RESPONSE_JSON,
                &two("application/vnd.herohealth.v2+json", "text/csv")
            )],
            &[("            text/csv: {}\n", "")],
            &[]
        ),
        "info     POST /v1/messages/send response 200: Hero removed media type `text/csv` (Hero listed no `application/json` before either)\n\
         0 breaking, 0 warning, 1 info; 0 touch our corrections\n"
    );
    // An error answer's media types: info, whatever our Accept.
    let error = "        '400':\n          description: Bad\n          content:\n            application/json: {schema: {type: object}}\n";
    let both = [(
        "                  link: {type: string, enum: [no_link, booking]}\n",
        &*format!("                  link: {{type: string, enum: [no_link, booking]}}\n{error}"),
    )];
    assert_eq!(
        diff(
            &both,
            &[(
                "            application/json: {schema: {type: object}}\n",
                "            text/html: {schema: {type: object}}\n"
            )],
            &[]
        ),
        "info     POST /v1/messages/send response 400: Hero changed the media type from `application/json` to `text/html`\n\
         0 breaking, 0 warning, 1 info; 0 touch our corrections\n"
    );
}

#[test]
fn the_schema_compared_is_the_one_our_client_sends_or_reads() {
    // A response under a `+json` type beside another: the `+json` one's schema is compared.
    let response = "          content:\n            application/octet-stream: {schema: {type: string}}\n            application/problem+json:\n              schema:\n                type: object\n                required: [message_id]\n";
    let message_id = (
        "                  message_id: {type: string}\n",
        "                  message_id: {type: integer}\n",
    );
    assert_eq!(
        diff(&[(RESPONSE_JSON, response)], &[message_id], &[]),
        "breaking POST /v1/messages/send response 200 message_id: Hero changed the type from string to integer (our `String` refuses an integer)\n\
         1 breaking, 0 warning, 0 info; 0 touch our corrections\n"
    );
    // A request body under JSON and text: the JSON one (what our client sends) is compared.
    let request = "      requestBody:\n        required: true\n        content:\n          text/plain: {schema: {type: string}}\n          application/json:\n";
    assert_eq!(
        diff(
            &[(REQUEST_JSON, request)],
            &[(PATIENT_ID, "                patient_id: {type: integer}\n")],
            &[]
        ),
        "breaking POST /v1/messages/send request body patient_id: Hero changed the type from string to integer\n\
         1 breaking, 0 warning, 0 info; 0 touch our corrections\n"
    );
}

#[test]
fn header_names_compare_case_insensitively() {
    let security = "security:\n  - apiKeyAuth: []\ncomponents:\n  securitySchemes:\n    apiKeyAuth: {type: apiKey, in: header, name: x-api-key}\n  schemas:\n";
    let both = [
        (
            SEND,
            "      operationId: sendMessage\n      parameters:\n        - {name: X-Request-Id, in: header, schema: {type: string}}\n",
        ),
        (SCHEMAS, security),
    ];
    pair(
        &both,
        &[
            (
                "name: X-Request-Id, in: header,",
                "name: X-Request-Id, in: header, required: true,",
            ),
            ("name: x-api-key}", "name: x-partner-key}"),
        ],
        &[(SCHEMAS, security)],
        "breaking POST /v1/messages/send parameter header X-Request-Id: Hero changed it from optional to required\n\
         breaking security scheme apiKeyAuth: Hero changed `name` from `x-api-key` to `x-partner-key`\n\
         2 breaking, 0 warning, 0 info; 0 touch our corrections\n",
        &[
            (
                "name: X-Request-Id, in: header,",
                "name: x-request-id, in: header,",
            ),
            ("name: x-api-key}", "name: X-API-Key}"),
        ],
    );
    // OpenAPI ignores Accept, Content-Type and Authorization header parameters.
    assert_eq!(
        diff(
            &[],
            &[(
                SEND,
                "      operationId: sendMessage\n      parameters:\n        - {name: Content-Type, in: header, required: true, schema: {type: string}}\n",
            )],
            &[]
        ),
        NOTHING
    );
}

#[test]
fn path_parameter_names_compare_by_meaning() {
    let path = "  /v1/messages/{id}:\n    get:\n      operationId: getMessage\n      tags: [Messages]\n      parameters:\n        - {name: id, in: path, required: true, schema: {type: string}}\n      responses:\n        '200': {description: Ok}\n";
    let both = [(
        "  /v1/appointments:\n",
        format!("{path}  /v1/appointments:\n"),
    )];
    let both: Vec<(&str, &str)> = both.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let ours = format!(
        "{}  /v1/messages/send:\n",
        path.replace("      tags: [Messages]\n", "")
    );
    pair(
        &both,
        &[(
            "{name: id, in: path, required: true, schema: {type: string}}",
            "{name: id, in: path, required: true, schema: {type: integer}}",
        )],
        &[("  /v1/messages/send:\n", &ours)],
        "breaking GET /v1/messages/{id} parameter path id: Hero changed the type from string to integer\n\
         1 breaking, 0 warning, 0 info; 0 touch our corrections\n",
        &[
            ("  /v1/messages/{id}:\n", "  /v1/messages/{message_id}:\n"),
            ("{name: id, in: path,", "{name: message_id, in: path,"),
        ],
    );
}

#[test]
fn server_urls_compare_by_meaning() {
    let server = |info: &str| {
        (
            info.to_owned(),
            format!("{info}servers:\n  - url: https://api.example.net\n"),
        )
    };
    let (a, b) = server("info: {title: Hero Health Public API, version: 1.0.0}\n");
    let (c, d) = server("info: {title: ours, version: 1.0.0}\n");
    pair(
        &[(&a, &b)],
        &[("https://api.example.net", "https://api2.example.net")],
        &[(&c, &d)],
        "breaking servers: Hero removed server `https://api.example.net` (openapi.yaml still lists it)\n\
         info     servers: Hero added server `https://api2.example.net`\n\
         1 breaking, 0 warning, 1 info; 0 touch our corrections\n",
        &[(
            "  - url: https://api.example.net\n",
            "  - url: 'HTTPS://API.{zone}:443/'\n    variables:\n      zone: {default: example.net}\n",
        )],
    );
}

#[test]
fn ref_targets_compare_by_meaning() {
    // The response schema moved to a component (its `$ref` percent-encoded: `%65` is `e`), and
    // the list's row renamed.
    let inline = "              schema:\n                type: object\n                required: [message_id]\n                properties:\n                  message_id: {type: string}\n                  link: {type: string, enum: [no_link, booking]}\n";
    let reply = |id: &str| {
        format!(
            "components:\n  schemas:\n    Reply:\n      type: object\n      required: [message_id]\n      properties:\n        message_id: {{type: {id}}}\n        link: {{type: string, enum: [no_link, booking]}}\n"
        )
    };
    let moved = "              schema: {$ref: '#/components/schemas/R%65ply'}\n";
    let row = "items: {$ref: '#/components/schemas/SentMessage'}";
    let (same, changed) = (reply("string"), reply("integer"));
    pair(
        &[],
        &[
            (inline, moved),
            (SCHEMAS, &changed),
            ("    SentMessage:\n", "    Row:\n"),
            (row, "items: {$ref: '#/components/schemas/Row'}"),
        ],
        &[],
        "breaking POST /v1/messages/send response 200 message_id: Hero changed the type from string to integer (our `String` refuses an integer)\n\
         1 breaking, 0 warning, 0 info; 0 touch our corrections\n",
        &[
            (inline, moved),
            (SCHEMAS, &same),
            ("    SentMessage:\n", "    Row:\n"),
            (row, "items: {$ref: '#/components/schemas/Row'}"),
        ],
    );
}

#[test]
fn all_of_is_merged_into_one_schema() {
    let body = "            schema:\n              type: object\n              required: [patient_id, message_type]\n";
    pair(
        &[],
        &[(
            body,
            "            schema:\n              allOf:\n                - {type: object, required: [priority], properties: {priority: {type: integer}}}\n              type: object\n              required: [patient_id, message_type]\n",
        )],
        &[],
        "breaking POST /v1/messages/send request body priority: Hero added a required property\n\
         1 breaking, 0 warning, 0 info; 0 touch our corrections\n",
        &[(
            body,
            "            schema:\n              allOf:\n                - description: A message\n                - type: object\n                  required: [patient_id]\n              required: [message_type]\n",
        )],
    );
}

#[test]
fn alternatives_match_by_meaning() {
    let both = [
        (
            PATIENT_ID,
            "                patient_id: {type: string}\n                recipient: {oneOf: [{type: string}, {type: integer}, {type: boolean}]}\n",
        ),
        (
            MESSAGE_ID,
            "                  message_id: {type: string}\n                  channel: {anyOf: [{type: string}, {type: integer}]}\n",
        ),
    ];
    pair(
        &both,
        &[
            (
                "recipient: {oneOf: [{type: string}, {type: integer}, {type: boolean}]}",
                "recipient: {oneOf: [{type: string}, {type: boolean}]}",
            ),
            (
                "channel: {anyOf: [{type: string}, {type: integer}]}",
                "channel: {anyOf: [{type: string}, {type: integer}, {type: boolean}]}",
            ),
        ],
        &[],
        "breaking POST /v1/messages/send request body recipient: Hero removed alternative 1 of the oneOf (our client may send it)\n\
         breaking POST /v1/messages/send response 200 channel: Hero added alternative 2 to the anyOf (our types may not decode it)\n\
         2 breaking, 0 warning, 0 info; 0 touch our corrections\n",
        &[
            (
                "recipient: {oneOf: [{type: string}, {type: integer}, {type: boolean}]}",
                "recipient: {oneOf: [{type: boolean}, {type: integer}, {type: string, description: text}]}",
            ),
            (
                "channel: {anyOf: [{type: string}, {type: integer}]}",
                "channel: {anyOf: [{type: [integer]}, {type: string}]}",
            ),
        ],
    );
}

#[test]
fn wrapped_in_one_of() {
    pair(
        &[],
        &[
            (
                PATIENT_ID,
                "                patient_id: {oneOf: [{type: string}, {type: integer}]}\n",
            ),
            (
                MESSAGE_ID,
                "                  message_id: {oneOf: [{type: string}, {type: integer}]}\n",
            ),
        ],
        &[],
        "breaking POST /v1/messages/send response 200 message_id: Hero changed the schema composition from one to oneOf of 2 (our client decodes only the old one)\n\
         info     POST /v1/messages/send request body patient_id: Hero changed the schema composition from one to oneOf of 2 (what our client sends is one of them)\n\
         1 breaking, 0 warning, 1 info; 0 touch our corrections\n",
        &[
            (
                PATIENT_ID,
                "                patient_id: {oneOf: [{type: string}]}\n",
            ),
            (
                MESSAGE_ID,
                "                  message_id: {anyOf: [{type: string}]}\n",
            ),
        ],
    );
}

#[test]
fn types_widened_and_narrowed() {
    pair(
        &[],
        &[
            (
                PATIENT_ID,
                "                patient_id: {type: [string, integer]}\n",
            ),
            (
                MESSAGE_ID,
                "                  message_id: {type: [string, integer]}\n",
            ),
            (
                PAGE_SIZE,
                "        - {name: page_size, in: query, schema: {type: string}}\n",
            ),
            (
                "                  count: {type: integer}\n",
                "                  count: {type: number}\n",
            ),
        ],
        &[],
        "breaking GET /v2/sent_messages response 200 count: Hero changed the type from integer to number (our `i64` refuses a number)\n\
         breaking POST /v1/messages/send response 200 message_id: Hero changed the type from string to integer, string (our `String` refuses an integer)\n\
         info     GET /v2/sent_messages parameter query page_size: Hero changed the type from integer to string (sent as text, which is still allowed)\n\
         info     POST /v1/messages/send request body patient_id: Hero changed the type from string to integer, string (what our client sends is still allowed)\n\
         2 breaking, 0 warning, 2 info; 0 touch our corrections\n",
        &[
            (PATIENT_ID, "                patient_id: {type: [string]}\n"),
            (
                MESSAGE_ID,
                "                  message_id: {allOf: [{type: string}]}\n",
            ),
        ],
    );
    assert_eq!(
        diff(
            &[],
            &[(
                PAGE_SIZE,
                "        - {name: page_size, in: query, schema: {type: number}}\n"
            )],
            &[]
        ),
        "info     GET /v2/sent_messages parameter query page_size: Hero changed the type from integer to number (what our client sends is still allowed)\n\
         0 breaking, 0 warning, 1 info; 0 touch our corrections\n",
        "a number includes every integer"
    );
}

#[test]
fn read_only_and_write_only() {
    let both = [(
        PATIENT_ID,
        "                patient_id: {type: string}\n                id: {type: string, readOnly: true, maxLength: 10}\n",
    )];
    pair(
        &both,
        &[
            (
                PATIENT_ID,
                "                patient_id: {type: string, readOnly: true}\n",
            ),
            (
                MESSAGE_ID,
                "                  message_id: {type: string, writeOnly: true}\n",
            ),
            (
                "id: {type: string, readOnly: true, maxLength: 10}",
                "id: {type: string, readOnly: true, maxLength: 5}",
            ),
        ],
        &[],
        "warning  POST /v1/messages/send request body patient_id: Hero changed it from not read-only to read-only (Hero ignores it when our client sends it)\n\
         warning  POST /v1/messages/send response 200 message_id: Hero changed it from not write-only to write-only (Hero no longer sends it)\n\
         info     POST /v1/messages/send request body id: Hero changed `maxLength` from `10` to `5` (read-only: our client does not send it)\n\
         0 breaking, 2 warning, 1 info; 0 touch our corrections\n",
        &[(
            "id: {type: string, readOnly: true, maxLength: 10}",
            "id: {allOf: [{readOnly: true}], type: string, maxLength: 10}",
        )],
    );
}

#[test]
fn discriminators_by_meaning() {
    let both = [
        (
            MESSAGE_ID,
            "                  message_id: {type: string}\n                  target:\n                    oneOf: [{$ref: '#/components/schemas/Sms'}, {$ref: '#/components/schemas/Email'}]\n                    discriminator: {propertyName: kind, mapping: {sms: Sms, email: '#/components/schemas/Email'}}\n",
        ),
        (
            SCHEMAS,
            "components:\n  schemas:\n    Sms: {type: object, properties: {kind: {type: string}, phone: {type: string}}}\n    Email: {type: object, properties: {kind: {type: string}, address: {type: string}}}\n",
        ),
    ];
    let mapping = "mapping: {sms: Sms, email: '#/components/schemas/Email'}";
    pair(
        &both,
        &[
            (
                "discriminator: {propertyName: kind,",
                "discriminator: {propertyName: type,",
            ),
            (mapping, "mapping: {sms: Sms}"),
        ],
        &[],
        "warning  POST /v1/messages/send response 200 target: Hero changed the discriminator's property from `kind` to `type` (another field now names the alternative)\n\
         warning  POST /v1/messages/send response 200 target: Hero removed the discriminator mapping `email`\n\
         0 breaking, 2 warning, 0 info; 0 touch our corrections\n",
        &[
            (
                mapping,
                "mapping: {sms: '#/components/schemas/Text', email: Email}",
            ),
            ("    Sms: {type", "    Text: {type"),
            (
                "oneOf: [{$ref: '#/components/schemas/Sms'}",
                "oneOf: [{$ref: '#/components/schemas/Text'}",
            ),
        ],
    );
}

#[test]
fn x_extensible_enum_values() {
    let both = [(
        "                message_type: {type: string, enum: [sms, email]}\n",
        "                message_type: {type: string, x-extensible-enum: [sms, email]}\n",
    )];
    pair(
        &both,
        &[(
            "x-extensible-enum: [sms, email]",
            "x-extensible-enum: [sms, nhs_app]",
        )],
        &[],
        "breaking POST /v1/messages/send request body message_type: Hero removed x-extensible-enum value `email`\n\
         info     POST /v1/messages/send request body message_type: Hero added x-extensible-enum value `nhs_app`\n\
         1 breaking, 0 warning, 1 info; 0 touch our corrections\n",
        &[(
            "x-extensible-enum: [sms, email]",
            "x-extensible-enum: [email, sms]",
        )],
    );
}

#[test]
fn limits_and_patterns() {
    let both = [
        (
            PATIENT_ID,
            "                patient_id: {type: string, maxLength: 12, pattern: '^[0-9]+$'}\n                tags: {type: array, maxItems: 4, maxContains: 3}\n",
        ),
        (
            MESSAGE_ID,
            "                  message_id: {type: string, maxLength: 12}\n",
        ),
    ];
    pair(
        &both,
        &[
            (
                "maxLength: 12, pattern: '^[0-9]+$'}",
                "maxLength: 10, pattern: '^[0-9a-f]+$'}",
            ),
            (
                "maxItems: 4, maxContains: 3}",
                "maxItems: 6, maxContains: 2}",
            ),
            (
                "                  message_id: {type: string, maxLength: 12}\n",
                "                  message_id: {type: string, maxLength: 36}\n",
            ),
        ],
        &[],
        "breaking POST /v1/messages/send request body patient_id: Hero changed `maxLength` from `12` to `10` (values our client sends may be refused)\n\
         breaking POST /v1/messages/send request body tags: Hero changed `maxContains` from `3` to `2` (values our client sends may be refused)\n\
         warning  POST /v1/messages/send request body patient_id: Hero changed the pattern from `^[0-9]+$` to `^[0-9a-f]+$` (values our client sends may be refused)\n\
         info     POST /v1/messages/send request body tags: Hero changed `maxItems` from `4` to `6`\n\
         info     POST /v1/messages/send response 200 message_id: Hero changed `maxLength` from `12` to `36` (our `String` reads every such text)\n\
         2 breaking, 1 warning, 2 info; 0 touch our corrections\n",
        &[
            ("maxLength: 12, pattern", "maxLength: 12.0, pattern"),
            ("maxContains: 3}", "maxContains: 3.0}"),
        ],
    );
}

#[test]
fn response_headers() {
    let headers = "          description: Ok\n          headers:\n            X-Rate-Limit: {schema: {type: integer}}\n          content:\n            application/json:\n              schema:\n                type: object\n                required: [message_id]\n";
    let plain = "          description: Ok\n          content:\n            application/json:\n              schema:\n                type: object\n                required: [message_id]\n";
    pair(
        &[(plain, headers)],
        &[(
            "            X-Rate-Limit: {schema: {type: integer}}\n",
            "            Retry-After: {schema: {type: string}}\n",
        )],
        &[(plain, headers)],
        "warning  POST /v1/messages/send response 200 header X-Rate-Limit: Hero removed the header (our client reads it)\n\
         info     POST /v1/messages/send response 200 header Retry-After: Hero added a header\n\
         0 breaking, 1 warning, 1 info; 0 touch our corrections\n",
        &[(
            "X-Rate-Limit: {schema: {type: integer}}",
            "x-rate-limit: {schema: {type: [integer]}}",
        )],
    );
}

#[test]
fn response_header_requiredness_and_type() {
    let required = "          description: Ok\n          headers:\n            X-Rate-Limit: {required: true, schema: {type: integer}}\n          content:\n            application/json:\n              schema:\n                type: object\n                required: [message_id]\n";
    let plain = "          description: Ok\n          content:\n            application/json:\n              schema:\n                type: object\n                required: [message_id]\n";
    pair(
        &[(plain, required)],
        &[(
            "X-Rate-Limit: {required: true, schema: {type: integer}}",
            "X-Rate-Limit: {schema: {type: string}}",
        )],
        &[(plain, required)],
        "breaking POST /v1/messages/send response 200 header X-Rate-Limit: Hero changed it from required to optional (our client requires it)\n\
         breaking POST /v1/messages/send response 200 header X-Rate-Limit: Hero changed the type from integer to string\n\
         2 breaking, 0 warning, 0 info; 0 touch our corrections\n",
        &[(
            "X-Rate-Limit: {required: true, schema: {type: integer}}",
            "X-RATE-LIMIT: {required: true, schema: {type: integer, description: Per minute}}",
        )],
    );
}

#[test]
fn a_media_type_without_a_schema() {
    let schema = "              schema:\n                type: object\n                required: [message_id]\n                properties:\n                  message_id: {type: string}\n                  link: {type: string, enum: [no_link, booking]}\n";
    pair(
        &[],
        &[(schema, "              x-no-schema: true\n")],
        &[],
        "warning  POST /v1/messages/send response 200: Hero changed the type from object to any\n\
         0 breaking, 1 warning, 0 info; 0 touch our corrections\n",
        &[],
    );
    let empty = [(schema, "              schema: {}\n")];
    assert_eq!(
        diff(
            &empty,
            &[(
                "              schema: {}\n",
                "              x-no-schema: true\n"
            )],
            &[]
        ),
        NOTHING,
        "an empty schema and no schema both mean any body"
    );
}

#[test]
fn deprecation_with_a_sunset() {
    pair(
        &[],
        &[(
            SEND,
            "      operationId: sendMessage\n      deprecated: true\n      x-sunset: '9999-12-31'\n",
        )],
        &[],
        "warning  POST /v1/messages/send: Hero changed it from not deprecated to deprecated (sunset 9999-12-31)\n\
         0 breaking, 1 warning, 0 info; 0 touch our corrections\n",
        &[(
            SEND,
            "      operationId: sendMessage\n      deprecated: false\n",
        )],
    );
    // A parameter and a property, deprecated and reactivated.
    let both = [(
        MESSAGE_ID,
        "                  message_id: {type: string, deprecated: true}\n",
    )];
    pair(
        &both,
        &[
            (
                PAGE_SIZE,
                "        - {name: page_size, in: query, deprecated: true, schema: {type: integer}}\n",
            ),
            (
                "message_id: {type: string, deprecated: true}",
                "message_id: {type: string}",
            ),
        ],
        &[],
        "warning  GET /v2/sent_messages parameter query page_size: Hero changed it from not deprecated to deprecated\n\
         info     POST /v1/messages/send response 200 message_id: Hero changed it from deprecated to not deprecated\n\
         0 breaking, 1 warning, 1 info; 0 touch our corrections\n",
        &[(
            "message_id: {type: string, deprecated: true}",
            "message_id: {allOf: [{deprecated: true}], type: string}",
        )],
    );
}

#[test]
fn request_bodies_and_parameters() {
    let body = "      requestBody:\n        required: true\n        content:\n          application/json:\n            schema:\n              type: object\n              required: [patient_id, message_type]\n              properties:\n                patient_id: {type: string}\n                message_type: {type: string, enum: [sms, email]}\n";
    pair(
        &[],
        &[
            (
                "      requestBody:\n        required: true\n",
                "      requestBody:\n        required: false\n",
            ),
            (
                PAGE_SIZE,
                "        - {name: limit, in: query, schema: {type: integer}}\n",
            ),
        ],
        &[],
        "warning  GET /v2/sent_messages parameter query page_size: Hero removed the parameter (the client may still send it)\n\
         info     GET /v2/sent_messages parameter query limit: Hero added an optional parameter\n\
         info     POST /v1/messages/send request body: Hero changed it from required to optional\n\
         0 breaking, 1 warning, 2 info; 0 touch our corrections\n",
        &[
            (
                body,
                "      requestBody: {$ref: '#/components/requestBodies/Send'}\n",
            ),
            (
                PAGE_SIZE,
                "        - $ref: '#/components/parameters/PageSize'\n",
            ),
            (
                SCHEMAS,
                "components:\n  parameters:\n    PageSize: {name: page_size, in: query, schema: {type: integer}}\n  requestBodies:\n    Send:\n      required: true\n      content:\n        application/json:\n          schema:\n            type: object\n            required: [patient_id, message_type]\n            properties:\n              patient_id: {type: string}\n              message_type: {type: string, enum: [sms, email]}\n  schemas:\n",
            ),
        ],
    );
}

#[test]
fn request_bodies_and_parameters_added_and_removed() {
    let list = "      operationId: listSentMessages\n";
    let body = "      requestBody:\n        required: true\n        content:\n          application/json:\n            schema: {type: object}\n";
    let with_body = format!("{list}{body}");
    assert_eq!(
        diff(
            &[],
            &[
                (
                    "  /v2/sent_messages:\n",
                    "  /v2/sent_messages:\n    parameters:\n      - {name: practice, in: query, required: true, schema: {type: string}}\n"
                ),
                (list, &with_body),
                (PATIENT_ID, ""),
            ],
            &[]
        ),
        "breaking GET /v2/sent_messages parameter query practice: Hero added a required parameter\n\
         breaking GET /v2/sent_messages request body: Hero added a required request body\n\
         warning  POST /v1/messages/send request body patient_id: Hero removed the property (the client may still send it)\n\
         2 breaking, 1 warning, 0 info; 0 touch our corrections\n"
    );
    assert_eq!(
        diff(&[(list, &with_body)], &[(body, "")], &[]),
        "warning  GET /v2/sent_messages request body: Hero removed the request body\n\
         0 breaking, 1 warning, 0 info; 0 touch our corrections\n"
    );
    // An optional property made required.
    let urgent = [(
        PATIENT_ID,
        "                patient_id: {type: string}\n                urgent: {type: boolean}\n",
    )];
    assert_eq!(
        diff(
            &urgent,
            &[(
                "              required: [patient_id, message_type]\n",
                "              required: [patient_id, message_type, urgent]\n"
            )],
            &[]
        ),
        "breaking POST /v1/messages/send request body urgent: Hero changed it from optional to required\n\
         1 breaking, 0 warning, 0 info; 0 touch our corrections\n"
    );
    // The same parameter declared on the path item rather than the operation.
    assert_eq!(
        diff(
            &[],
            &[
                (PAGE_SIZE, ""),
                (
                    "  /v2/sent_messages:\n",
                    "  /v2/sent_messages:\n    parameters:\n      - {name: page_size, in: query, schema: {type: integer}}\n"
                )
            ],
            &[]
        ),
        NOTHING
    );
}

#[test]
fn error_statuses() {
    pair(
        &[],
        &[(
            "                  count: {type: integer}\n  /v1/messages/send:\n",
            "                  count: {type: integer}\n        '404': {description: Not found}\n  /v1/messages/send:\n",
        )],
        &[],
        "info     GET /v2/sent_messages response 404: Hero added an error response\n\
         0 breaking, 0 warning, 1 info; 0 touch our corrections\n",
        &[(
            "        '200':\n          description: Ok\n          content:\n            application/json:\n              schema:\n                type: object\n                required: [message_id]\n",
            "        200:\n          description: Ok\n          content:\n            application/json:\n              schema:\n                type: object\n                required: [message_id]\n",
        )],
    );
}

#[test]
fn security_by_meaning() {
    let security = "security:\n  - apiKeyAuth: []\ncomponents:\n  securitySchemes:\n    apiKeyAuth: {type: apiKey, in: header, name: x-api-key}\n  schemas:\n";
    pair(
        &[(SCHEMAS, security)],
        &[
            (
                "  - apiKeyAuth: []\n",
                "  - apiKeyAuth: []\n    partnerKey: []\n",
            ),
            (
                "    apiKeyAuth: {type: apiKey, in: header, name: x-api-key}\n",
                "    apiKeyAuth: {type: apiKey, in: header, name: x-api-key}\n    partnerKey: {type: http, scheme: bearer}\n",
            ),
        ],
        &[(SCHEMAS, security)],
        "breaking GET /v2/sent_messages security: Hero changed security from [apiKeyAuth] to [apiKeyAuth, partnerKey] (our client does not send it)\n\
         breaking POST /v1/messages/send security: Hero changed security from [apiKeyAuth] to [apiKeyAuth, partnerKey] (our client does not send it)\n\
         info     security scheme partnerKey: Hero added it\n\
         2 breaking, 0 warning, 1 info; 0 touch our corrections\n",
        // The scheme renamed, and the document's security repeated on one operation.
        &[
            ("    apiKeyAuth: {type", "    key: {type"),
            ("  - apiKeyAuth: []", "  - key: []"),
            (
                SEND,
                "      operationId: sendMessage\n      security: [{key: []}]\n",
            ),
        ],
    );
}

#[test]
fn json_schema_2020_12_assertions() {
    // keyword, a value, the same value written another way.
    let cases = [
        ("contains", "{type: string}", "{type: [string]}"),
        (
            "prefixItems",
            "[{type: string}]",
            "[{allOf: [{type: string}]}]",
        ),
        ("if", "{required: [a]}", "{required: [a], description: x}"),
        ("then", "{required: [b]}", "{required: [b], title: y}"),
        ("else", "{required: [c]}", "{required: [c], example: z}"),
        ("not", "{type: integer}", "{type: [integer]}"),
        ("dependentRequired", "{a: [b, c]}", "{a: [c, b]}"),
        (
            "dependentSchemas",
            "{a: {required: [b]}}",
            "{a: {allOf: [{required: [b]}]}}",
        ),
        (
            "patternProperties",
            "{'^x-': {type: string}}",
            "{'^x-': {type: [string]}}",
        ),
        ("propertyNames", "{maxLength: 8}", "{maxLength: 8.0}"),
        ("unevaluatedItems", "false", "false"),
        (
            "unevaluatedProperties",
            "{type: string}",
            "{type: [string]}",
        ),
        ("uniqueItems", "true", "true"),
        ("multipleOf", "2", "2.0"),
        ("contentSchema", "{type: object}", "{type: [object]}"),
        ("contentMediaType", "application/json", "application/json"),
        ("contentEncoding", "base64", "base64"),
    ];
    for (key, value, same) in cases {
        let request =
            |v: &str| format!("                patient_id: {{type: string, {key}: {v}}}\n");
        let response =
            |v: &str| format!("                  message_id: {{type: string, {key}: {v}}}\n");
        let shown = |v: &str| {
            let json =
                serde_json::to_string(&serde_yaml::from_str::<serde_json::Value>(v).unwrap())
                    .unwrap();
            json.trim_matches('"').to_owned()
        };
        let expected = if key.starts_with("content") {
            format!(
                "warning  POST /v1/messages/send request body patient_id: Hero added `{key}` `{}` (Hero reads the text another way)\n\
                 warning  POST /v1/messages/send response 200 message_id: Hero removed `{key}` (Hero writes the text another way)\n\
                 0 breaking, 2 warning, 0 info; 0 touch our corrections\n",
                shown(value)
            )
        } else {
            format!(
                "breaking POST /v1/messages/send request body patient_id: Hero added `{key}` `{}` (values our client sends may be refused)\n\
                 info     POST /v1/messages/send response 200 message_id: Hero removed `{key}` (our types do not read it)\n\
                 1 breaking, 0 warning, 1 info; 0 touch our corrections\n",
                shown(value)
            )
        };
        // Added to a request field, removed from a response field.
        let (req, resp) = (request(value), response(value));
        assert_eq!(
            diff(
                &[(MESSAGE_ID, &resp)],
                &[(PATIENT_ID, &req), (&resp, MESSAGE_ID)],
                &[]
            ),
            expected,
            "{key}"
        );
        let (req2, resp2) = (request(same), response(same));
        assert_eq!(
            diff(
                &[(PATIENT_ID, &req), (MESSAGE_ID, &resp)],
                &[(&req, &req2), (&resp, &resp2)],
                &[]
            ),
            NOTHING,
            "{key}: the same meaning"
        );
    }
}

#[test]
fn a_boolean_default_flipped_in_the_real_description() {
    // Before this check, boolean defaults were not compared at all: Hero flipping
    // write_to_record's default would have changed what our requests mean without a word.
    let upstream = std::fs::read_to_string(workspace("spec/upstream.yaml")).unwrap();
    let line = "                write_to_record: {type: boolean, default: false}\n";
    let flipped = edit(
        &upstream,
        &[(
            line,
            "                write_to_record: {type: boolean, default: true}\n",
        )],
    );
    let respelled = edit(
        &upstream,
        &[(
            line,
            "                write_to_record: {type: [boolean], default: false}\n",
        )],
    );
    let ours = xtask::load(&workspace("openapi.yaml")).unwrap().json;
    let old = parse(&upstream).unwrap().0;
    let run = |new: &str| {
        let new = parse(new).unwrap().0;
        report(&sync(&old, &new, &ours, &[]).changes, Format::Text)
    };
    assert_eq!(
        run(&flipped),
        "warning  POST /v1/messages/send request body write_to_record: Hero changed the default from `false` to `true` (what Hero assumes when our client leaves it out)\n\
         0 breaking, 1 warning, 0 info; 0 touch our corrections\n"
    );
    assert_eq!(run(&respelled), NOTHING);
}

#[test]
fn the_readme_catalogue_names_real_fixtures() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let mut tests = String::new();
    for entry in std::fs::read_dir(dir.join("tests")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            tests.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    let (mut ids, mut implemented, mut not_applicable) = (Vec::new(), 0, 0);
    let mut fixtures = 0;
    for line in readme
        .lines()
        .filter(|l| l.starts_with("| ") && l.ends_with(" |"))
    {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let last = cells[cells.len() - 1];
        let listed = match last.strip_prefix("implemented (`") {
            Some(rest) => Some(rest.trim_end_matches(')')),
            // The fixture column of the table of re-expressions: names only.
            None if last.split(", ").all(|t| {
                let name = t.trim_matches('`');
                t.starts_with('`')
                    && name.len() + 2 == t.len()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            }) =>
            {
                Some(last)
            }
            None => None,
        };
        for name in listed.into_iter().flat_map(|l| l.split(", ")) {
            let name = name.trim_matches('`');
            assert!(
                tests.contains(&format!("fn {name}()")),
                "README names fixture {name}, which no test defines"
            );
            fixtures += 1;
        }
        if cells.len() == 4
            && cells[1].contains("` E") | cells[1].contains("` W") | cells[1].contains("` I")
        {
            let row: Vec<&str> = cells[1]
                .split(", ")
                .map(|c| c.split('`').nth(1).unwrap())
                .collect();
            if last.starts_with("implemented (") {
                implemented += row.len();
            } else {
                assert!(last.starts_with("not applicable: "), "{line}");
                not_applicable += row.len();
            }
            ids.extend(row);
        }
    }
    assert!(fixtures > 50, "the fixtures named were read: {fixtures}");
    let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "each rule id in one row");
    assert!(
        readme.contains(&format!("{} rule ids", ids.len())),
        "{}",
        ids.len()
    );
    assert!(
        readme.contains(&format!("({implemented} rule ids) are implemented")),
        "{implemented}"
    );
    assert!(
        readme.contains(&format!("({not_applicable} rule ids) do not apply")),
        "{not_applicable}"
    );
}
