//! Bounded runs of the fuzz targets' properties (`fuzz/`), with proptest generators: response
//! decoding never panics and never shows patient data; NHS number parsing never panics and accepts
//! exactly the valid numbers.

use herohealth::fuzzing::{decode_every_response, parse_nhs_number};
use proptest::prelude::*;
use serde_json::{Map, Value};

const KEYS: &[&str] = &[
    "data",
    "count",
    "id",
    "status",
    "patient",
    "title",
    "first_name",
    "last_name",
    "write_to_record",
    "write_to_record_at",
    "failure_reason",
    "short_link",
    "campaign",
    "created_at",
    "sent_at",
    "scheduled_at",
    "sent_by",
    "recipient_contact_detail",
    "message_type",
    "message_id",
    "content",
    "channel",
    "name",
    "subject",
    "enrichment_status",
    "mobile",
    "email",
    "nhs_number",
    "response",
    "errors",
    "send",
    "valid",
    "error",
    "statusCode",
    "message",
    "code",
    "expected",
    "path",
    "label",
    "value",
    "type",
    "key",
    "link",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[0-9 +]{8,14}".prop_map(Value::String),
        "[a-z.]{1,8}@example\\.org".prop_map(Value::String),
        "2024-0[1-9]-1[0-9]T1[0-9]:00:00Z".prop_map(Value::String),
        prop::sample::select(vec!["delivered", "SMS", "CREATED", "Dr", "Mx", "sms", ""])
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

fn nhs_digits() -> impl Strategy<Value = String> {
    prop::collection::vec(0u32..10, 9).prop_map(|d| {
        let sum: u32 = d.iter().enumerate().map(|(i, d)| d * (10 - i as u32)).sum();
        let check = (11 - sum % 11) % 11;
        let mut s: String = d
            .iter()
            .map(|d| char::from_digit(*d, 10).unwrap())
            .collect();
        s.push(char::from_digit(check, 10).unwrap_or('X'));
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decoding_arbitrary_json_never_panics_or_leaks(v in json()) {
        decode_every_response(v.to_string().as_bytes());
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_every_response(&bytes);
    }

    #[test]
    fn decoding_a_cut_valid_body_never_panics(cut in 0usize..400) {
        let body = br#"{"data":[{"id":"1","patient":{"id":"2","title":"Dr","first_name":"Ada","last_name":"Lovelace"},"write_to_record":{"write_to_record_at":null,"status":null,"failure_reason":null},"short_link":null,"campaign":null,"created_at":null,"sent_at":null,"scheduled_at":null,"status":"sent","sent_by":"x","recipient_contact_detail":"+447700900123","message_type":"sms"}],"count":1}"#;
        decode_every_response(&body[..cut.min(body.len())]);
    }

    #[test]
    fn nhs_number_parsing_never_panics(text in ".{0,16}") {
        parse_nhs_number(&text);
    }

    #[test]
    fn every_valid_nhs_number_is_accepted_in_all_three_forms(d in nhs_digits()) {
        let valid = !d.ends_with('X');
        for form in [d.clone(), format!("{} {} {}", &d[..3], &d[3..6], &d[6..]), format!("{}-{}-{}", &d[..3], &d[3..6], &d[6..])] {
            prop_assert_eq!(herohealth::NhsNumber::parse(&form).is_ok(), valid, "{}", form);
            parse_nhs_number(&form);
        }
    }

    #[test]
    fn a_single_digit_error_is_always_caught(d in nhs_digits(), pos in 0usize..10, delta in 1u32..10) {
        prop_assume!(!d.ends_with('X'));
        let mut digits: Vec<u32> = d.chars().map(|c| c.to_digit(10).unwrap()).collect();
        digits[pos] = (digits[pos] + delta) % 10;
        let typo: String = digits.iter().map(|d| char::from_digit(*d, 10).unwrap()).collect();
        prop_assert!(herohealth::NhsNumber::parse(&typo).is_err(), "{}", typo);
    }
}
