//! Bounded runs of the fuzz targets' properties (`fuzz/`), with proptest generators: response
//! decoding never panics and never shows patient data; NHS number parsing never panics and accepts
//! exactly the valid numbers.

mod support;

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

/// A valid `list_sent_messages` body holding patient data, cut at every length by the tests below.
const CUT_BODY: &[u8] = br#"{"data":[{"id":"1","patient":{"id":"2","title":"Dr","first_name":"Adelaide","last_name":"Lovelace"},"write_to_record":{"write_to_record_at":null,"status":null,"failure_reason":null},"short_link":null,"campaign":null,"created_at":null,"sent_at":null,"scheduled_at":null,"status":"sent","sent_by":"Cavell","recipient_contact_detail":"+447700900123","message_type":"sms"},{"id":"2","patient":{"id":"3","title":null,"first_name":"Ada","last_name":"Seacole"},"write_to_record":{"write_to_record_at":null,"status":null,"failure_reason":null},"short_link":null,"campaign":null,"created_at":null,"sent_at":null,"scheduled_at":null,"status":"sent","sent_by":"x","recipient_contact_detail":"ada.lovelace@example.org","message_type":"email"}],"count":2}"#;

/// Answers `GET /v2/sent_messages?page_index=N&page_size=S` with the first N bytes of [`CUT_BODY`],
/// as a 200 when S is 1, a 400 when S is 2 and a 502 when S is 3.
struct CutBody;

impl wiremock::Respond for CutBody {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let param = |name: &str| -> usize {
            request
                .url
                .query_pairs()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0)
        };
        let status = [200, 400, 502][param("page_size").clamp(1, 3) - 1];
        wiremock::ResponseTemplate::new(status)
            .set_body_raw(CUT_BODY[..param("page_index")].to_vec(), "application/json")
    }
}

/// Every cut of a body holding patient data, answered to `list_sent_messages` as a success, a
/// 400 and a 502: no error the client returns shows a name, contact or sender the body held, in
/// any way a user prints it (`{e}`, `{e:?}`, `{e:#}`, `body_excerpt()`). An excerpt or serde
/// message that kept the body's letters fails it (the cut inside `"first_name":"Ada` was the
/// audit's example).
#[tokio::test]
async fn a_cut_body_shows_no_patient_data_in_any_error() {
    let (_server, hero) = support::serve(CutBody).await;
    let fed = [
        "Adelaide",
        "Ada",
        "Lovelace",
        "Seacole",
        "Cavell",
        "+447700900123",
        "ada.lovelace",
    ];
    let mut errors = 0;
    for cut in 0..=CUT_BODY.len() {
        for mode in 1..=3 {
            let Err(e) = hero
                .list_sent_messages()
                .page_index(cut as i64)
                .page_size(mode)
                .send()
                .await
            else {
                continue;
            };
            errors += 1;
            let shown = format!("{e} {e:?} {e:#} {:?}", e.body_excerpt());
            for data in fed {
                assert!(
                    !shown.contains(data),
                    "cut {cut}, mode {mode}: {data:?} in {shown}"
                );
            }
        }
    }
    assert!(
        errors > 2 * CUT_BODY.len(),
        "the cuts gave errors: {errors}"
    );
}

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

    /// `decode_every_response` panics if any word of 4 or more characters of the body shows in an
    /// error (as every success body, and as a 400/404/429/500 body), so the patient data fed here
    /// is spelled in such words: a cut body that leaks "Adelaide", "Lovelace", the phone number or
    /// the sender's name fails it. `a_cut_body_shows_no_patient_data_in_any_error` checks the
    /// same cuts on the wire, for the three-letter "Ada" too.
    #[test]
    fn decoding_a_cut_valid_body_never_panics(cut in 0usize..CUT_BODY.len() + 1) {
        decode_every_response(&CUT_BODY[..cut]);
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
