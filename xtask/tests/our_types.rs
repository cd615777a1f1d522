//! Each judgement `diff` makes by our generated types, on the small base: the same change to
//! Hero's description is breaking, a warning or info according to the Rust type `ours.yaml`
//! gives the place (integers by their range, text by its lengths, format and pattern, arrays by
//! their length, objects by what they do with fields they do not name, null by where a field is).

mod common;

use common::diff;

/// Lines of base.yaml and ours.yaml that cases edit.
const PATIENT_ID: &str = "                patient_id: {type: string}\n";
const MESSAGE_ID: &str = "                  message_id: {type: string}\n";
const BASE_COUNT: &str = "                  count: {type: integer}\n";
const OURS_COUNT: &str = "        count: {type: integer}\n";
const SCHEMAS: &str = "components:\n  schemas:\n";

/// `line` with `extra` (a YAML flow mapping's entries) added: `{type: string}` -> `{type:
/// string, maxLength: 12}`.
fn with(line: &str, extra: &str) -> String {
    line.replace('}', &format!(", {extra}}}"))
}

/// `line` followed by `next` at the same indentation.
fn then(line: &str, next: &str) -> String {
    let indent = line.len() - line.trim_start().len();
    format!("{line}{}{next}\n", " ".repeat(indent))
}

fn one(class: &str, line: &str) -> String {
    let count = |c: &str| usize::from(class == c);
    format!(
        "{class:<8} {line}\n{} breaking, {} warning, {} info; 0 touch our corrections\n",
        count("breaking"),
        count("warning"),
        count("info")
    )
}

#[test]
fn response_integers_against_our_rust_integer() {
    let i32_count = [(
        OURS_COUNT,
        "        count: {type: integer, format: int32}\n",
    )];
    let int32 = with(BASE_COUNT, "format: int32");
    let widened = [("format: int32}", "format: int64}")];
    assert_eq!(
        diff(&[(BASE_COUNT, &int32)], &widened, &i32_count),
        one(
            "breaking",
            "GET /v2/sent_messages response 200 count: Hero changed the format from `int32` to `int64` (our `i32` holds -2147483648 to 2147483647 only)"
        )
    );
    assert_eq!(
        diff(&[(BASE_COUNT, &int32)], &widened, &[]),
        one(
            "info",
            "GET /v2/sent_messages response 200 count: Hero changed the format from `int32` to `int64` (our `i64` holds every such value)"
        )
    );
    // Narrowed: fewer values than before, whatever our type holds.
    let bounded = with(BASE_COUNT, "exclusiveMaximum: 100");
    assert_eq!(
        diff(&[], &[(BASE_COUNT, &bounded)], &i32_count),
        one(
            "info",
            "GET /v2/sent_messages response 200 count: Hero changed `exclusiveMaximum` from none to `100` (fewer values than before)"
        )
    );
    // Within what our `i32` holds.
    let small = with(BASE_COUNT, "minimum: 0, maximum: 10");
    assert_eq!(
        diff(
            &[(BASE_COUNT, &small)],
            &[("maximum: 10}", "maximum: 1000}")],
            &i32_count
        ),
        one(
            "info",
            "GET /v2/sent_messages response 200 count: Hero changed `maximum` from `10` to `1000` (our `i32` holds every such value)"
        )
    );
    assert_eq!(
        diff(
            &[(BASE_COUNT, &small)],
            &[("maximum: 10}", "maximum: 1e12}")],
            &i32_count
        ),
        one(
            "breaking",
            "GET /v2/sent_messages response 200 count: Hero changed `maximum` from `10` to `1000000000000` (our `i32` holds -2147483648 to 2147483647 only)"
        )
    );
    // A number read into an `f64`: any number.
    assert_eq!(
        diff(
            &[],
            &[(BASE_COUNT, "                  count: {type: number}\n")],
            &[(OURS_COUNT, "        count: {type: number}\n")]
        ),
        one(
            "info",
            "GET /v2/sent_messages response 200 count: Hero changed the type from integer to number (openapi.yaml already has it so)"
        )
    );
    assert_eq!(
        diff(
            &[],
            &[(BASE_COUNT, "                  count: {type: number}\n")],
            &[(
                OURS_COUNT,
                "        count: {oneOf: [{type: number}, {type: string}]}\n"
            )]
        ),
        one(
            "info",
            "GET /v2/sent_messages response 200 count: Hero changed the type from integer to number (our `an untagged enum` reads it)"
        )
    );
}

#[test]
fn request_integers_against_what_our_rust_integer_sends() {
    let priority = "                priority: {type: integer}\n";
    let both = [(PATIENT_ID, then(PATIENT_ID, priority.trim_start()))];
    let both: Vec<(&str, &str)> = both.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let ours = |schema: &str| then(PATIENT_ID, &format!("priority: {schema}"));
    let min1 = [(priority, with(priority, "minimum: 1"))];
    let min1: Vec<(&str, &str)> = min1.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let nonzero = ours("{type: integer, format: int64, minimum: 1}");
    assert_eq!(
        diff(&both, &min1, &[(PATIENT_ID, &nonzero)]),
        one(
            "info",
            "POST /v1/messages/send request body priority: Hero changed `minimum` from none to `1` (our `NonZeroU64` sends only such values)"
        )
    );
    let declared = ours("{type: integer, format: int64, minimum: 2}");
    assert_eq!(
        diff(&both, &min1, &[(PATIENT_ID, &declared)]),
        one(
            "warning",
            "POST /v1/messages/send request body priority: Hero changed `minimum` from none to `1` (openapi.yaml has it too, but our generated `i64` does not check it)"
        )
    );
    assert_eq!(
        diff(&both, &min1, &[]),
        one(
            "breaking",
            "POST /v1/messages/send request body priority: Hero changed `minimum` from none to `1` (values our client sends may be refused)"
        )
    );
    // 3.1's exclusive bound: above 0 is from 1, which our `NonZeroU64` sends only.
    let above0 = [(priority, with(priority, "exclusiveMinimum: 0"))];
    let above0: Vec<(&str, &str)> = above0.iter().map(|(a, b)| (*a, b.as_str())).collect();
    assert_eq!(
        diff(&both, &above0, &[(PATIENT_ID, &nonzero)]),
        one(
            "info",
            "POST /v1/messages/send request body priority: Hero changed `exclusiveMinimum` from none to `0` (our `NonZeroU64` sends only such values)"
        )
    );
    // Loosened: whatever our type, what was accepted still is.
    let min5 = with(priority, "minimum: 5");
    let loose = [(PATIENT_ID, then(PATIENT_ID, min5.trim_start()))];
    let loose: Vec<(&str, &str)> = loose.iter().map(|(a, b)| (*a, b.as_str())).collect();
    assert_eq!(
        diff(&loose, &[("minimum: 5}", "minimum: 1}")], &[]),
        one(
            "info",
            "POST /v1/messages/send request body priority: Hero changed `minimum` from `5` to `1`"
        )
    );
}

#[test]
fn text_lengths_against_what_our_newtype_checks() {
    let twelve = with(MESSAGE_ID, "maxLength: 12");
    assert_eq!(
        diff(
            &[(MESSAGE_ID, &twelve)],
            &[("maxLength: 12}", "maxLength: 36}")],
            &[(MESSAGE_ID, &twelve)]
        ),
        one(
            "breaking",
            "POST /v1/messages/send response 200 message_id: Hero changed `maxLength` from `12` to `36` (our `String` reads texts of at most 12 characters only)"
        )
    );
    assert_eq!(
        diff(
            &[(MESSAGE_ID, &twelve)],
            &[("maxLength: 12}", "maxLength: 10}")],
            &[(MESSAGE_ID, &twelve)]
        ),
        one(
            "info",
            "POST /v1/messages/send response 200 message_id: Hero changed `maxLength` from `12` to `10` (our `String` reads every such text)"
        )
    );
    let two = with(MESSAGE_ID, "minLength: 2");
    assert_eq!(
        diff(
            &[(MESSAGE_ID, &two)],
            &[("minLength: 2}", "minLength: 1}")],
            &[(MESSAGE_ID, &two)]
        ),
        one(
            "breaking",
            "POST /v1/messages/send response 200 message_id: Hero changed `minLength` from `2` to `1` (our `String` reads texts of at least 2 characters only)"
        )
    );
    // A request: our newtype sends at most 10, within Hero's new 12.
    assert_eq!(
        diff(
            &[],
            &[(PATIENT_ID, &with(PATIENT_ID, "maxLength: 12"))],
            &[(PATIENT_ID, &with(PATIENT_ID, "maxLength: 10"))]
        ),
        one(
            "info",
            "POST /v1/messages/send request body patient_id: Hero changed `maxLength` from none to `12` (our `String` checks it)"
        )
    );
    // A number's bounds: our `f64` checks none.
    let score = "                  score: {type: number}\n";
    let both = [(MESSAGE_ID, then(MESSAGE_ID, score.trim_start()))];
    let both: Vec<(&str, &str)> = both.iter().map(|(a, b)| (*a, b.as_str())).collect();
    assert_eq!(
        diff(&both, &[(score, &with(score, "maximum: 1"))], &both),
        one(
            "info",
            "POST /v1/messages/send response 200 score: Hero changed `maximum` from none to `1` (our `f64` does not check it)"
        )
    );
}

#[test]
fn fixed_length_arrays() {
    let pair =
        "                  pair: {type: array, items: {type: string}, minItems: 2, maxItems: 2}\n";
    let both = [(MESSAGE_ID, then(MESSAGE_ID, pair.trim_start()))];
    let both: Vec<(&str, &str)> = both.iter().map(|(a, b)| (*a, b.as_str())).collect();
    assert_eq!(
        diff(&both, &[("maxItems: 2}", "maxItems: 3}")], &both),
        one(
            "breaking",
            "POST /v1/messages/send response 200 pair: Hero changed `maxItems` from `2` to `3` (our `[_; 2]` reads exactly 2 items)"
        )
    );
    let request = "                pair: {type: array, items: {type: string}}\n";
    let both = [(PATIENT_ID, then(PATIENT_ID, request.trim_start()))];
    let both: Vec<(&str, &str)> = both.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let ours = [(
        PATIENT_ID,
        then(
            PATIENT_ID,
            "pair: {type: array, items: {type: string}, minItems: 2, maxItems: 2}",
        ),
    )];
    let ours: Vec<(&str, &str)> = ours.iter().map(|(a, b)| (*a, b.as_str())).collect();
    assert_eq!(
        diff(
            &both,
            &[(
                "items: {type: string}}",
                "items: {type: string}, maxItems: 2}"
            )],
            &ours
        ),
        one(
            "info",
            "POST /v1/messages/send request body pair: Hero changed `maxItems` from none to `2` (our `[_; 2]` checks it)"
        )
    );
}

#[test]
fn patterns_and_formats_by_what_our_type_checks() {
    let checked = |name: &str, extra: &str| {
        format!(
            "{SCHEMAS}    {name}:\n      x-herohealth-rust-type: 'crate::validate::{name}'\n      type: string\n      pattern: '^\\d+$'\n{extra}"
        )
    };
    let to = |name: &str| format!("{{$ref: '#/components/schemas/{name}'}}");
    let pattern = with(PATIENT_ID, "pattern: '^\\d+$'");
    let ours_checked = [
        (
            PATIENT_ID,
            format!("                patient_id: {}\n", to("PatientId")),
        ),
        (SCHEMAS, checked("PatientId", "")),
    ];
    let ours_checked: Vec<(&str, &str)> =
        ours_checked.iter().map(|(a, b)| (*a, b.as_str())).collect();
    assert_eq!(
        diff(&[], &[(PATIENT_ID, &pattern)], &ours_checked),
        one(
            "info",
            "POST /v1/messages/send request body patient_id: Hero changed the pattern from none to `^\\d+$` (our `crate::validate::PatientId` checks it)"
        )
    );
    assert_eq!(
        diff(&[], &[(PATIENT_ID, &pattern)], &[(PATIENT_ID, &pattern)]),
        one(
            "warning",
            "POST /v1/messages/send request body patient_id: Hero changed the pattern from none to `^\\d+$` (openapi.yaml has it too, but build.rs removes patterns: our generated type does not check it)"
        )
    );
    // A response our checked type reads: Hero no longer promises its pattern.
    let message_pattern = with(MESSAGE_ID, "pattern: '^\\d+$'");
    let ours_message = [
        (
            MESSAGE_ID,
            format!("                  message_id: {}\n", to("MessageId")),
        ),
        (SCHEMAS, checked("MessageId", "")),
    ];
    let ours_message: Vec<(&str, &str)> =
        ours_message.iter().map(|(a, b)| (*a, b.as_str())).collect();
    assert_eq!(
        diff(
            &[(MESSAGE_ID, &message_pattern)],
            &[(", pattern: '^\\d+$'}", "}")],
            &ours_message
        ),
        one(
            "breaking",
            "POST /v1/messages/send response 200 message_id: Hero changed the pattern from `^\\d+$` to none (our `crate::validate::MessageId` checks `^\\d+$` on what it reads)"
        )
    );
    // Formats of a request: sent only so, declared only, or not at all.
    let format = |f: &str| with(PATIENT_ID, &format!("format: {f}"));
    let cases = [
        (
            "date-time",
            format("date-time"),
            "info",
            "(our `DateTime<Utc>` sends only `date-time`)",
        ),
        (
            "email",
            format("email"),
            "warning",
            "(openapi.yaml has it too, but our `String` may send other text)",
        ),
        (
            "uuid",
            PATIENT_ID.to_owned(),
            "breaking",
            "(values our client sends may be refused)",
        ),
    ];
    for (f, ours, class, note) in cases {
        assert_eq!(
            diff(&[], &[(PATIENT_ID, &format(f))], &[(PATIENT_ID, &ours)]),
            one(
                class,
                &format!(
                    "POST /v1/messages/send request body patient_id: Hero changed the format from none to `{f}` {note}"
                )
            ),
            "{f}"
        );
    }
    assert_eq!(
        diff(&[], &[(PATIENT_ID, &format("password"))], &[]),
        one(
            "info",
            "POST /v1/messages/send request body patient_id: Hero changed the format from none to `password`"
        )
    );
    // One alternative of ours is a `DateTime<Utc>`: a date in a response is refused.
    let date_time = with(MESSAGE_ID, "format: date-time");
    assert_eq!(
        diff(
            &[(MESSAGE_ID, &date_time)],
            &[("format: date-time}", "format: date}")],
            &[(
                MESSAGE_ID,
                "                  message_id: {oneOf: [{type: string, format: date-time}, {type: integer}]}\n"
            )]
        ),
        one(
            "breaking",
            "POST /v1/messages/send response 200 message_id: Hero changed the format from `date-time` to `date` (our `DateTime<Utc>` refuses a `date`)"
        )
    );
}

#[test]
fn null_by_where_our_field_is() {
    // Our `link` is optional: an `Option`, which reads null.
    let link = "                  link: {type: string, enum: [no_link, booking]}\n";
    assert_eq!(
        diff(&[], &[(link, &with(link, "nullable: true"))], &[]),
        one(
            "info",
            "POST /v1/messages/send response 200 link: Hero changed it from not nullable to nullable (our client already accepts null)"
        )
    );
    // An optional nullable field is never sent as null; a required one may be.
    let note = "                note: {type: string, nullable: true}\n";
    let both = [(PATIENT_ID, then(PATIENT_ID, note.trim_start()))];
    let both: Vec<(&str, &str)> = both.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let not_null = [(", nullable: true}", "}")];
    assert_eq!(
        diff(&both, &not_null, &both),
        one(
            "info",
            "POST /v1/messages/send request body note: Hero changed it from nullable to not nullable (our client never sends null)"
        )
    );
    let required = [
        both[0],
        (
            "              required: [patient_id, message_type]\n",
            "              required: [patient_id, message_type, note]\n",
        ),
    ];
    assert_eq!(
        diff(&required, &not_null, &required),
        one(
            "breaking",
            "POST /v1/messages/send request body note: Hero changed it from nullable to not nullable"
        )
    );
}

#[test]
fn fields_a_schema_does_not_name() {
    // A response struct openapi.yaml closes refuses a field Hero adds.
    let closed = [(
        "                required: [message_id]\n",
        "                required: [message_id]\n                additionalProperties: false\n",
    )];
    assert_eq!(
        diff(
            &[],
            &[(MESSAGE_ID, &then(MESSAGE_ID, "sender: {type: string}"))],
            &closed
        ),
        one(
            "breaking",
            "POST /v1/messages/send response 200 sender: Hero added a property (our type refuses a field it does not name: additionalProperties is false)"
        )
    );
    assert_eq!(
        diff(&closed, &[(closed[0].1, closed[0].0)], &closed),
        one(
            "breaking",
            "POST /v1/messages/send response 200: Hero changed `additionalProperties` from `false` to any (our type refuses a field it does not name: openapi.yaml closes it)"
        )
    );
    // A request map: Hero closing it, or narrowing its values.
    let labels = "labels: {type: object, additionalProperties: {type: string}}";
    let both = [(PATIENT_ID, then(PATIENT_ID, labels))];
    let both: Vec<(&str, &str)> = both.iter().map(|(a, b)| (*a, b.as_str())).collect();
    assert_eq!(
        diff(
            &both,
            &[(
                "additionalProperties: {type: string}}",
                "properties: {a: {type: string}}, additionalProperties: false}"
            )],
            &both
        ),
        "breaking POST /v1/messages/send request body labels: Hero changed `additionalProperties` from `{\"type\":\"string\"}` to `false` (our client sends a map of fields Hero does not name)\n\
         info     POST /v1/messages/send request body labels a: Hero added a property\n\
         1 breaking, 0 warning, 1 info; 0 touch our corrections\n"
    );
    assert_eq!(
        diff(
            &both,
            &[(
                "additionalProperties: {type: string}}",
                "additionalProperties: {type: integer}}"
            )],
            &both
        ),
        one(
            "breaking",
            "POST /v1/messages/send request body labels <additionalProperties>: Hero changed the type from string to integer"
        )
    );
    // A request struct: Hero closing it refuses a field only ours names.
    let ours_note = [(PATIENT_ID, then(PATIENT_ID, "note: {type: string}"))];
    let ours_note: Vec<(&str, &str)> = ours_note.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let close_request = [(
        "              required: [patient_id, message_type]\n",
        "              required: [patient_id, message_type]\n              additionalProperties: false\n",
    )];
    assert_eq!(
        diff(&[], &close_request, &ours_note),
        one(
            "breaking",
            "POST /v1/messages/send request body: Hero changed `additionalProperties` from any to `false` (our client may send `note`, which Hero does not name)"
        )
    );
    assert_eq!(
        diff(&[], &close_request, &[]),
        one(
            "info",
            "POST /v1/messages/send request body: Hero changed `additionalProperties` from any to `false` (our client sends only the fields it names)"
        )
    );
    // A response map of ours reads what its values read.
    let counts = "                  counts: {type: object}\n";
    let both = [(MESSAGE_ID, then(MESSAGE_ID, counts.trim_start()))];
    let both: Vec<(&str, &str)> = both.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let ours_map = [(
        MESSAGE_ID,
        then(
            MESSAGE_ID,
            "counts: {type: object, additionalProperties: {type: string}}",
        ),
    )];
    let ours_map: Vec<(&str, &str)> = ours_map.iter().map(|(a, b)| (*a, b.as_str())).collect();
    for (values, class, note) in [
        ("integer", "breaking", "(our map's values are `String`)"),
        ("string", "info", "(our map's `String` values read them)"),
    ] {
        assert_eq!(
            diff(
                &both,
                &[(
                    "counts: {type: object}",
                    &format!("counts: {{type: object, additionalProperties: {{type: {values}}}}}")
                )],
                &ours_map
            ),
            one(
                class,
                &format!(
                    "POST /v1/messages/send response 200 counts: Hero changed `additionalProperties` from any to `{{\"type\":\"{values}\"}}` {note}"
                )
            )
        );
    }
}
