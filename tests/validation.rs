//! Checked before sending: values and the rules across fields are refused with an error naming the
//! field and the rule, never the value, and nothing reaches the server; optional checked fields
//! take text as required ones do; a body can be checked without sending. The number in a test's
//! name is the promise's row in `docs/promises.md`.

mod support;

use herohealth::{ErrorKind, MessageType, RetryPolicy, types::BatchRecipient};
use herohealth_mock::MockServer;

/// Promise 31: a refusal names the field and the rule, never the value. Breaking it (an enum
/// parse error that quotes what was typed, as serde's `unknown variant` does) puts "faxmachine"
/// in the message.
#[tokio::test]
async fn p31_an_unknown_message_type_is_refused_without_echoing_it() {
    let (mock, hero) = support::mock_with(vec![], RetryPolicy::disabled()).await;
    let err = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("42")
                .message_type("faxmachine")
                .message_string("Your results are ready")
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    let shown = format!("{err} {err:?} {err:#}");
    assert!(shown.contains("message_type"), "names the field: {shown}");
    assert!(!shown.contains("faxmachine"), "echoes the value: {shown}");
    assert_eq!(mock.calls("send_message"), 0, "nothing was sent");
}

/// Promise 29: an SMS goes to a phone number. Breaking it (the rule matching a key or value the
/// generated body no longer uses) lets the request reach the mock and the test sees a call.
#[tokio::test]
async fn p29_an_sms_to_an_email_address_is_refused_before_sending() {
    let (mock, hero) = support::mock_with(vec![], RetryPolicy::disabled()).await;
    let err = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("42")
                .message_type(MessageType::Sms)
                .message_string("Your results are ready")
                .recipient_contact_detail(Some("ada.lovelace@example.org".parse().unwrap()))
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("recipient_contact_detail"),
        "names the field: {shown}"
    );
    assert_eq!(support::leaked(&shown), None, "{shown}");
    assert_eq!(mock.calls("send_message"), 0, "nothing was sent");
}

/// Promise 30: a batch has recipients. Breaking it sends an empty batch: the mock sees a call.
#[tokio::test]
async fn p30_a_batch_without_recipients_is_refused_before_sending() {
    let (mock, hero) = support::mock_with(vec![], RetryPolicy::disabled()).await;
    let err = hero
        .create_batch_message()
        .body_map(|b| {
            b.name("Flu clinic")
                .channel(herohealth::BatchChannel::Sms)
                .content("Book your flu jab")
                .recipients(Vec::<BatchRecipient>::new())
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(format!("{err}").contains("recipients"), "{err}");
    assert_eq!(mock.calls("create_batch_message"), 0, "nothing was sent");
}

/// Promise 18: a bad contact detail fails with an error naming the field, and no request is made.
/// Breaking it (the text setter passing what it was given, or the error quoting it) shows as a
/// call on the mock or "nobody-at-all" in the message.
#[tokio::test]
async fn p18_a_bad_contact_detail_names_the_field_and_sends_nothing() {
    let (mock, hero) = support::mock_with(vec![], RetryPolicy::disabled()).await;
    for bad in ["nobody-at-all", "0770090", "+44 7700 900123 456 789"] {
        let err = hero
            .send_message()
            .body_map(|b| {
                b.patient_id("42")
                    .message_type(MessageType::Sms)
                    .message_string("Your results are ready")
                    .recipient_contact_detail(bad)
            })
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{bad}: {err}");
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("recipient_contact_detail"), "{shown}");
        assert!(!shown.contains(bad), "echoes {bad}: {shown}");
    }
    assert_eq!(mock.calls("send_message"), 0, "nothing was sent");
}

/// Promise 17: an NHS number with a wrong check digit, given as text the way a user types it into
/// a body's builder, fails naming the field without the value, so no request can be made from it.
/// Breaking it (the builder taking the text unchecked) makes the body, and the mock then sees a
/// registration.
#[tokio::test]
async fn p17_a_wrong_check_digit_names_the_field_and_sends_nothing() {
    let (mock, hero) = support::mock_with(vec![], RetryPolicy::disabled()).await;
    let body: Result<herohealth::types::RegisterPatientPdsByNhsNumber, _> =
        herohealth::types::builder::RegisterPatientPdsByNhsNumber::default()
            .nhs_number("943 476 5918")
            .dob(chrono::NaiveDate::from_ymd_opt(1955, 6, 2).unwrap())
            .try_into();
    match body {
        Err(err) => {
            let shown = format!("{err} {err:?}");
            assert!(shown.contains("nhs_number"), "{shown}");
            assert!(!shown.contains("5918"), "{shown}");
        }
        Ok(body) => {
            let _ = hero.register_patient_pds().body(body).send().await;
        }
    }
    assert_eq!(mock.calls("register_patient_pds"), 0, "nothing was sent");
}

/// Promise 23: a phone number has 10 to 15 digits. Breaking a bound (`10..15`, `9..=15`,
/// `10..=16`) refuses a valid 15-digit international number or sends a 9- or 16-digit one.
#[tokio::test]
async fn p23_phone_numbers_of_10_to_15_digits_are_sent_and_9_or_16_refused() {
    let (mock, hero) = support::mock_with(vec![], RetryPolicy::disabled()).await;
    let send = |to: &'static str| {
        hero.send_message()
            .body_map(move |b| {
                b.patient_id("42")
                    .message_type(MessageType::Sms)
                    .message_string("Your results are ready")
                    .recipient_contact_detail(to)
            })
            .send()
    };
    for good in ["0770090012", "+44 (7700) 900-12345"] {
        send(good).await.unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    assert_eq!(mock.calls("send_message"), 2);
    for bad in ["077009001", "+44 7700 900 123 4567"] {
        let err = send(bad).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{bad}: {err}");
    }
    assert_eq!(mock.calls("send_message"), 2, "nothing more was sent");
}

/// The Verhoeff check digit of `digits`, for building valid SNOMED codes of any length.
fn verhoeff_check_digit(digits: &str) -> char {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    const INV: [u8; 10] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];
    let mut c = 0u8;
    for (i, d) in digits.bytes().rev().enumerate() {
        c = D[c as usize][P[(i + 1) % 8][(d - b'0') as usize] as usize];
    }
    (b'0' + INV[c as usize]) as char
}

/// Promise 24: a SNOMED code is 6 to 18 digits with no leading 0 and a valid Verhoeff check
/// digit. Each code here has a valid check digit, so only the rule under test refuses it. Breaking
/// a bound refuses a valid 6- or 18-digit code or sends a 5- or 19-digit one; dropping the
/// leading-0 rule sends `0…`; a wrong check digit sent means the Verhoeff check is gone.
#[tokio::test]
async fn p24_snomed_codes_of_6_to_18_digits_are_sent_and_the_rest_refused() {
    let (mock, hero) = support::mock_with(vec![], RetryPolicy::disabled()).await;
    let code = |body: &str| format!("{body}{}", verhoeff_check_digit(body));
    let send = |snomed: String| {
        hero.send_message()
            .body_map(move |b| {
                b.patient_id("42")
                    .message_type(MessageType::Sms)
                    .message_string("Your results are ready")
                    .write_to_record(true)
                    .snomed_code(snomed.as_str())
            })
            .send()
    };
    assert_eq!(
        code("124075100000010"),
        "1240751000000100",
        "the Verhoeff table"
    );
    for good in [code("10000"), code("12345678901234567")] {
        send(good.clone())
            .await
            .unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    assert_eq!(mock.calls("send_message"), 2);
    let mut wrong_check = code("1240751000000");
    let last = wrong_check.pop().unwrap();
    wrong_check.push(if last == '9' {
        '0'
    } else {
        (last as u8 + 1) as char
    });
    for bad in [
        code("1000"),
        code("123456789012345678"),
        code("0240751000000"),
        wrong_check,
    ] {
        let err = send(bad.clone()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{bad}: {err}");
        assert!(err.to_string().contains("snomed_code"), "{err}");
    }
    assert_eq!(mock.calls("send_message"), 2, "nothing more was sent");
}

#[tokio::test]
async fn optional_checked_fields_take_text_like_required_ones() {
    let mock = MockServer::builder()
        .time_scale(50.0)
        .start()
        .await
        .unwrap();
    let hero = mock.client();
    let sent = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("98765")
                // Any case: sent as Hero's `sms`.
                .message_type("SMS")
                .message_string("Your results are ready")
                .recipient_contact_detail("+447700900123")
                .write_to_record(true)
                .snomed_code("1240751000000100")
                // Optional text takes text as it comes, as required fields do (a new user's
                // `.snomed_term("...")` did not compile).
                .snomed_term("Result")
        })
        .send()
        .await
        .unwrap();
    assert!(!sent.message_id.is_empty());
    let journal = mock.journal();
    assert_eq!(journal.len(), 1);
    let body: serde_json::Value = journal[0].body_as().unwrap();
    assert_eq!(body["message_type"], "sms");
    assert_eq!(body["snomed_term"], "Result");
    assert_eq!(body["snomed_code"], "1240751000000100");
    // ... and `None` / `Some(String)` / `&String` still do.
    let term = String::from("Result");
    let _ = herohealth::types::SendMessageRequest::builder()
        .patient_id(98765)
        .snomed_term(None)
        .snomed_term(Some(term.clone()))
        .snomed_term(&term);

    // A bad optional value fails the request, names the field, and sends nothing.
    let err = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("98765")
                .message_type(MessageType::Sms)
                .message_string("Hello")
                .snomed_code("12345")
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("snomed_code"), "{err}");
    assert!(!err.to_string().contains("12345"), "{err}");
    assert_eq!(mock.journal().len(), 1, "nothing was sent");
}

/// `validate::check_send_message` / `check_batch_message` give the error `.send()` would, with
/// nothing sent: for a program that refuses a whole list before its first send.
#[test]
fn a_body_is_checked_against_the_rules_across_fields_without_sending() {
    use herohealth::{BatchChannel, types};
    let sms_to_email: types::SendMessageRequest = types::SendMessageRequest::builder()
        .patient_id("98765")
        .message_type(MessageType::Sms)
        .message_string("Your results are ready")
        .recipient_contact_detail("ada@example.org")
        .try_into()
        .unwrap();
    let err = herohealth::check_send_message(&sms_to_email).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string()
            .contains("recipient_contact_detail: must be a phone number"),
        "{err}"
    );
    assert!(!err.to_string().contains("ada@"), "{err}");
    let fine: types::SendMessageRequest = types::SendMessageRequest::builder()
        .patient_id("98765")
        .message_type(MessageType::Email)
        .message_string("Your results are ready")
        .recipient_contact_detail("ada@example.org")
        .try_into()
        .unwrap();
    herohealth::check_send_message(&fine).unwrap();

    let batch = |subject: Option<&str>| -> types::CreateBatchMessageRequest {
        types::CreateBatchMessageRequest::builder()
            .name("Flu clinic")
            .channel(BatchChannel::Email)
            .content("Your flu jab is due")
            .subject(subject.map(herohealth::Sensitive::from))
            .recipients(vec![types::BatchRecipient {
                nhs_number: "9434765919".parse().unwrap(),
                dob: None,
            }])
            .try_into()
            .unwrap()
    };
    let err = herohealth::check_batch_message(&batch(None)).unwrap_err();
    assert!(
        err.to_string()
            .contains("subject: is required when channel is EMAIL"),
        "{err}"
    );
    herohealth::check_batch_message(&batch(Some("Flu jabs"))).unwrap();
    // Optional text takes a `String` too.
    let with_text: types::CreateBatchMessageRequest = types::CreateBatchMessageRequest::builder()
        .name("Flu clinic")
        .channel(BatchChannel::Email)
        .content("Your flu jab is due")
        .subject(String::from("Flu jabs"))
        .recipients(vec![])
        .try_into()
        .unwrap();
    assert_eq!(with_text.subject.unwrap().expose(), "Flu jabs");
}
