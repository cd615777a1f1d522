//! `herohealth::webhooks` against signatures computed independently (Python's `hmac`, in
//! `tests/fixtures/webhook_signatures.json`, made by `tests/fixtures/make_webhook_signatures.py`):
//! hex and base64, with and without prefixes, every timestamp format; a tampered body, a wrong key,
//! a stale or future timestamp, missing and malformed headers; the event read leniently; and the
//! signing key, the signature and the body never in an error or a `Debug`, even for a body and
//! headers full of patient data (the hostile corpus of `tests/hostile/`).

mod support;

use std::time::Duration;

use chrono::{DateTime, Utc};
use herohealth::webhooks::{
    SIGNATURE_HEADER, SignatureEncoding, SigningKey, TIMESTAMP_HEADER, Verifier, WebhookError,
    WebhookEvent, WebhookEventType, sign,
};
use http::{HeaderMap, HeaderValue};
use serde_json::Value;

const SIGNING_KEY: &str = "whsec-test-signing-key-rust-41c9";

struct Vectors {
    key: SigningKey,
    signed_at: DateTime<Utc>,
    vectors: Vec<Value>,
}

fn vectors() -> Vectors {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/webhook_signatures.json"
    ))
    .unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let vectors = v["vectors"].as_array().unwrap().clone();
    assert!(vectors.len() >= 12, "the fixture holds the vectors");
    Vectors {
        key: v["key"].as_str().unwrap().parse().unwrap(),
        signed_at: DateTime::from_timestamp(v["signed_at_unix"].as_i64().unwrap(), 0).unwrap(),
        vectors,
    }
}

fn headers(timestamp: &str, signature: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(TIMESTAMP_HEADER, HeaderValue::from_str(timestamp).unwrap());
    h.insert(SIGNATURE_HEADER, HeaderValue::from_str(signature).unwrap());
    h
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field].as_str().unwrap()
}

#[test]
fn python_signatures_verify_in_hex_and_base64_with_or_without_a_prefix() {
    let Vectors {
        key,
        signed_at,
        vectors,
    } = vectors();
    // A minute after signing: well inside the default tolerance.
    let verifier = Verifier::new(key.clone()).now(signed_at + chrono::Duration::seconds(60));
    for v in &vectors {
        let (ts, body) = (text(v, "timestamp"), text(v, "body").as_bytes());
        let (hex, b64) = (text(v, "hex"), text(v, "base64"));
        let upper = hex.to_uppercase();
        let url_safe = b64.replace('+', "-").replace('/', "_");
        let unpadded = b64.trim_end_matches('=');
        for signature in [
            hex.to_owned(),
            upper,
            format!("sha256={hex}"),
            format!("v1={hex}"),
            b64.to_owned(),
            format!("sha256={b64}"),
            format!("v1={b64}"),
            url_safe,
            unpadded.to_owned(),
            // Several signatures (a key rotation): one matching is enough.
            format!("v1={}, {hex}", "0".repeat(64)),
        ] {
            let event = verifier
                .verify(&headers(ts, &signature), body)
                .unwrap_or_else(|e| panic!("{ts} {signature}: {e}"));
            assert!(!event.id.is_empty());
        }
        // The Rust signer writes what Python wrote.
        assert_eq!(sign(&key, ts, body, SignatureEncoding::Hex), hex);
        assert_eq!(sign(&key, ts, body, SignatureEncoding::Base64), b64);
    }
}

#[test]
fn a_tampered_body_a_wrong_key_or_a_changed_timestamp_is_a_bad_signature() {
    let Vectors {
        key,
        signed_at,
        vectors,
    } = vectors();
    let now = signed_at + chrono::Duration::seconds(1);
    let wrong: SigningKey = "whsec-test-signing-key-wrong-0000".parse().unwrap();
    for v in &vectors {
        let (ts, body) = (text(v, "timestamp"), text(v, "body"));
        for sig in [text(v, "hex"), text(v, "base64")] {
            let h = headers(ts, sig);
            // One byte of the body changed.
            let tampered = body.replacen("\"id\"", "\"Id\"", 1);
            assert_ne!(tampered, body);
            let ok = Verifier::new(key.clone()).now(now);
            assert_eq!(
                ok.verify(&h, tampered.as_bytes()),
                Err(WebhookError::BadSignature)
            );
            // A byte appended (trailing white space is still a different body).
            assert_eq!(
                ok.verify(&h, format!("{body} ").as_bytes()),
                Err(WebhookError::BadSignature)
            );
            // Another key.
            assert_eq!(
                Verifier::new(wrong.clone())
                    .now(now)
                    .verify(&h, body.as_bytes()),
                Err(WebhookError::BadSignature)
            );
        }
        // The timestamp is signed too: the same signature under another timestamp fails.
        if ts == "1700000000" {
            let h = headers("1700000001", text(v, "hex"));
            assert_eq!(
                Verifier::new(key.clone())
                    .now(now)
                    .verify(&h, body.as_bytes()),
                Err(WebhookError::BadSignature)
            );
        }
    }
}

#[test]
fn a_stale_or_future_timestamp_is_refused_outside_the_tolerance() {
    let Vectors {
        key,
        signed_at,
        vectors,
    } = vectors();
    let v = &vectors[0];
    let (h, body) = (
        headers(text(v, "timestamp"), text(v, "hex")),
        text(v, "body").as_bytes(),
    );
    let at =
        |secs: i64| Verifier::new(key.clone()).now(signed_at + chrono::Duration::seconds(secs));
    // The default tolerance is five minutes either side, inclusive.
    assert!(at(300).verify(&h, body).is_ok());
    assert!(at(-300).verify(&h, body).is_ok());
    assert_eq!(
        at(301).verify(&h, body),
        Err(WebhookError::TooOld {
            age: Duration::from_secs(301),
            tolerance: Duration::from_secs(300)
        })
    );
    assert_eq!(
        at(-301).verify(&h, body),
        Err(WebhookError::InTheFuture {
            ahead: Duration::from_secs(301),
            tolerance: Duration::from_secs(300)
        })
    );
    // A tolerance of one's own.
    let tight = at(31).tolerance(Duration::from_secs(30));
    assert!(matches!(
        tight.verify(&h, body),
        Err(WebhookError::TooOld { .. })
    ));
    let err = at(3600).verify(&h, body).unwrap_err();
    assert_eq!(
        err.to_string(),
        "webhook delivery refused: signed 3600 s ago, more than the tolerance of 300 s"
    );
    assert!(err.is_unauthorised());
    // Without `.now()`, the system clock: a delivery signed in 2023 is stale today.
    assert!(matches!(
        Verifier::new(key).verify(&h, body),
        Err(WebhookError::TooOld { .. })
    ));
}

#[test]
fn missing_and_malformed_headers_are_named() {
    let Vectors {
        key,
        signed_at,
        vectors,
    } = vectors();
    let v = &vectors[0];
    let body = text(v, "body").as_bytes();
    let verifier = Verifier::new(key).now(signed_at);
    let mut only_signature = HeaderMap::new();
    only_signature.insert(SIGNATURE_HEADER, text(v, "hex").parse().unwrap());
    assert_eq!(
        verifier.verify(&only_signature, body),
        Err(WebhookError::MissingHeader(TIMESTAMP_HEADER))
    );
    let mut only_timestamp = HeaderMap::new();
    only_timestamp.insert(TIMESTAMP_HEADER, "1700000000".parse().unwrap());
    assert_eq!(
        verifier.verify(&only_timestamp, body),
        Err(WebhookError::MissingHeader(SIGNATURE_HEADER))
    );
    assert_eq!(
        verifier
            .verify(&HeaderMap::new(), body)
            .unwrap_err()
            .to_string(),
        "webhook delivery refused: the x-herohealth-timestamp header is missing"
    );
    for (ts, sig, header) in [
        ("yesterday", text(v, "hex"), TIMESTAMP_HEADER),
        ("", text(v, "hex"), TIMESTAMP_HEADER),
        ("1700000000", "not a signature", SIGNATURE_HEADER),
        ("1700000000", "sha256=abcd", SIGNATURE_HEADER),
        // 31 bytes of base64: not an HMAC-SHA256.
        (
            "1700000000",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
            SIGNATURE_HEADER,
        ),
    ] {
        match verifier.verify(&headers(ts, sig), body) {
            Err(WebhookError::MalformedHeader { header: h, .. }) => {
                assert_eq!(h, header, "{ts} {sig}")
            }
            other => panic!("{ts} {sig}: {other:?}"),
        }
    }
    // A header that is not text.
    let mut binary = headers("1700000000", text(v, "hex"));
    binary.insert(
        TIMESTAMP_HEADER,
        HeaderValue::from_bytes(&[0xff, 0xfe]).unwrap(),
    );
    assert!(matches!(
        verifier.verify(&binary, body),
        Err(WebhookError::MalformedHeader {
            header: TIMESTAMP_HEADER,
            ..
        })
    ));
}

#[test]
fn the_event_is_read_leniently_and_a_broken_one_is_refused_by_path() {
    let e = WebhookEvent::parse(
        br#"{"object":"Message","id":"42","practice_group_id":"practice-x","event":"write-to-record.failed","new":{"a":1}}"#,
    )
    .unwrap();
    assert_eq!(e.event, WebhookEventType::WriteToRecordFailed);
    assert_eq!(e.message_id(), Some("42"));
    assert_eq!(e.object, herohealth::WebhookObject::Message);
    assert_eq!(e.object.as_str(), "Message");
    // An object Hero adds later is read, as Unknown.
    let later = WebhookEvent::parse(
        br#"{"object":"Invoice","id":"42","practice_group_id":"practice-x","event":"write-to-record.failed"}"#,
    )
    .unwrap();
    assert!(!later.object.is_known());
    // Every documented event type reads as itself.
    for t in WebhookEventType::KNOWN {
        let body = format!(
            r#"{{"object":"Patient","id":"1","practice_group_id":"p","event":"{}"}}"#,
            t.as_str()
        );
        assert_eq!(&WebhookEvent::parse(body.as_bytes()).unwrap().event, t);
    }
    for (body, expect) in [
        (
            &br#"{"object":"Patient","id":"1","event":"patient.added-to-sequence"}"#[..],
            "`practice_group_id` is missing",
        ),
        (
            br#"{"object":"Patient","id":1,"practice_group_id":"p","event":"x"}"#,
            "`id` is not a string",
        ),
        (br#"not json"#, "not JSON"),
        (br#"[1, 2]"#, "not a JSON object"),
        (
            br#"{"object":"Patient","id":"1","practice_group_id":"p","event":"x"} trailing"#,
            "not JSON",
        ),
    ] {
        let err = WebhookEvent::parse(body).unwrap_err();
        assert!(!err.is_unauthorised());
        assert!(err.to_string().contains(expect), "{err}");
    }
}

/// A key rotation's overlap: a verifier of two keys accepts a delivery signed with either, says
/// which, and refuses one signed with neither; a third key added later works too; the one-key
/// constructor is unchanged.
#[test]
fn a_verifier_of_several_keys_accepts_any_one_and_says_which() {
    let old: SigningKey = "rotation-old-test-signing-key-5b1e".parse().unwrap();
    let new: SigningKey = "rotation-new-test-signing-key-77c2".parse().unwrap();
    let other: SigningKey = "rotation-other-test-signing-key-0aa9".parse().unwrap();
    let now = Utc::now();
    let ts = now.timestamp().to_string();
    let body = br#"{"object":"Message","id":"42","practice_group_id":"p-1","event":"write-to-record.succeeded"}"#;
    let signed = |key: &SigningKey, encoding| headers(&ts, &sign(key, &ts, body, encoding));
    let both = Verifier::new(old.clone()).add_key(new.clone()).now(now);
    assert_eq!(both.key_count(), 2);
    assert_eq!(
        both.signed_by(&signed(&old, SignatureEncoding::Hex), body),
        Ok(0)
    );
    assert_eq!(
        both.signed_by(&signed(&new, SignatureEncoding::Base64), body),
        Ok(1)
    );
    assert_eq!(
        both.verify(&signed(&new, SignatureEncoding::Hex), body)
            .unwrap()
            .id,
        "42"
    );
    assert_eq!(
        both.verify(&signed(&other, SignatureEncoding::Hex), body),
        Err(WebhookError::BadSignature)
    );
    // Order matters only for the index: the same keys the other way round.
    let reversed = Verifier::with_keys([new.clone(), old.clone()])
        .unwrap()
        .now(now);
    assert_eq!(
        reversed.signed_by(&signed(&old, SignatureEncoding::Hex), body),
        Ok(1)
    );
    assert!(Verifier::with_keys(Vec::new()).is_none());
    // A third key.
    let three = both.clone().add_key(other.clone());
    assert_eq!(
        three.signed_by(&signed(&other, SignatureEncoding::Hex), body),
        Ok(2)
    );
    // One key: only that one.
    let only_new = Verifier::new(new.clone()).now(now);
    assert_eq!(
        only_new.verify(&signed(&old, SignatureEncoding::Hex), body),
        Err(WebhookError::BadSignature)
    );
    assert!(
        only_new
            .verify(&signed(&new, SignatureEncoding::Hex), body)
            .is_ok()
    );
    // Stale is stale whichever key signed it.
    let later = both.clone().now(now + chrono::Duration::minutes(10));
    assert!(matches!(
        later.verify(&signed(&new, SignatureEncoding::Hex), body),
        Err(WebhookError::TooOld { .. })
    ));
    // No key shows in its Debug.
    let debug = format!("{three:?}");
    for key in [&old, &new, &other] {
        assert!(!debug.contains(key.expose()), "{debug}");
    }
}

/// Several signature headers: every one is read (a proxy may split or repeat a header), so a
/// good signature in the second counts; several timestamps must agree.
#[test]
fn every_signature_header_is_read() {
    let key: SigningKey = SIGNING_KEY.parse().unwrap();
    let other: SigningKey = "other-test-signing-key-9f3a".parse().unwrap();
    let now = Utc::now();
    let ts = now.timestamp().to_string();
    let body = br#"{"object":"Message","id":"7","practice_group_id":"p-1","event":"write-to-record.failed"}"#;
    let good = sign(&key, &ts, body, SignatureEncoding::Hex);
    let wrong = sign(&other, &ts, body, SignatureEncoding::Hex);
    let verifier = Verifier::new(key.clone()).now(now);
    for (first, second) in [(&wrong, &good), (&good, &wrong)] {
        let mut h = headers(&ts, first);
        h.append(SIGNATURE_HEADER, HeaderValue::from_str(second).unwrap());
        assert_eq!(verifier.signed_by(&h, body), Ok(0), "{first} then {second}");
    }
    // A malformed first header does not hide a good second one.
    let mut h = headers(&ts, "not a signature");
    h.append(SIGNATURE_HEADER, HeaderValue::from_str(&good).unwrap());
    assert!(verifier.verify(&h, body).is_ok());
    // Neither matches: a bad signature.
    let mut h = headers(&ts, &wrong);
    h.append(SIGNATURE_HEADER, HeaderValue::from_str(&wrong).unwrap());
    assert_eq!(verifier.verify(&h, body), Err(WebhookError::BadSignature));
    // Two timestamps: the same twice is one; two different ones are refused, naming the header.
    let mut h = headers(&ts, &good);
    h.append(TIMESTAMP_HEADER, HeaderValue::from_str(&ts).unwrap());
    assert!(verifier.verify(&h, body).is_ok());
    let mut h = headers(&ts, &good);
    h.append(TIMESTAMP_HEADER, HeaderValue::from_static("1700000000"));
    assert!(matches!(
        verifier.verify(&h, body),
        Err(WebhookError::MalformedHeader {
            header: TIMESTAMP_HEADER,
            ..
        })
    ));
}

/// Repeats: an event acted on (`done`) is a repeat when delivered again within the window, a
/// first again outside it; a claim dropped without `done` (the handler failed) leaves nothing
/// remembered; a copy arriving while the first is handled is in flight; memory is bounded by the
/// capacity; only verified deliveries are claimed by `receive`.
#[test]
fn repeats_within_the_window_are_reported_and_memory_is_bounded() {
    use herohealth::webhooks::{
        DEFAULT_REPEAT_CAPACITY, DEFAULT_REPEAT_WINDOW, Occurrence, Repeats,
    };
    use std::time::Instant;

    let body = |event: &str, object: &str, id: &str, group: &str| {
        serde_json::json!({"event": event, "object": object, "id": id, "practice_group_id": group})
            .to_string()
    };
    let e = body("write-to-record.succeeded", "Message", "42", "p-1");
    let e = e.as_bytes();
    // The documented defaults: one hour, 100 000 events.
    assert_eq!(DEFAULT_REPEAT_WINDOW, Duration::from_secs(3600));
    assert_eq!(DEFAULT_REPEAT_CAPACITY, 100_000);
    assert_eq!(Repeats::default().window(), DEFAULT_REPEAT_WINDOW);
    assert!(Repeats::default().is_empty());
    let repeats = Repeats::new(Duration::from_secs(600), 3);
    assert_eq!(repeats.window(), Duration::from_secs(600));
    let t0 = Instant::now();
    let at = |s: u64| t0 + Duration::from_secs(s);
    // Claimed and dropped (the handler failed): not remembered.
    let failed = repeats.claim_at(e, t0);
    assert_eq!(failed.occurrence(), Occurrence::First);
    drop(failed);
    assert!(repeats.is_empty());
    let first = repeats.claim_at(e, at(1));
    assert_eq!(first.occurrence(), Occurrence::First);
    // A copy while the first is handled: in flight, neither first nor repeat.
    let copy = repeats.claim_at(e, at(1));
    assert_eq!(copy.occurrence(), Occurrence::InFlight);
    assert!(!copy.is_repeat());
    drop(copy);
    assert_eq!(
        repeats.claim_at(e, at(1)).occurrence(),
        Occurrence::InFlight
    );
    first.done_at(at(2));
    first.done_at(at(3)); // twice changes nothing
    assert_eq!(repeats.len(), 1);
    assert!(!repeats.is_empty());
    assert_eq!(repeats.claim_at(e, at(3)).occurrence(), Occurrence::Repeat);
    let repeat = repeats.claim_at(e, at(602));
    assert!(repeat.is_repeat());
    // A repeat's `done` does not extend the window: it counts from when it was acted on.
    repeat.done_at(at(602));
    drop(repeat);
    assert_eq!(repeats.claim_at(e, at(603)).occurrence(), Occurrence::First);
    let t1 = at(700);
    for other in [
        body("write-to-record.failed", "Message", "42", "p-1"),
        body("write-to-record.succeeded", "Appointment", "42", "p-1"),
        body("write-to-record.succeeded", "Message", "43", "p-1"),
    ] {
        let claim = repeats.claim_at(other.as_bytes(), t1);
        assert_eq!(claim.occurrence(), Occurrence::First, "{other}");
        claim.done_at(t1);
        assert!(repeats.claim_at(other.as_bytes(), t1).is_repeat());
    }
    // Capacity 3: the three above; `e` (dropped at 603 s without done) was never remembered.
    assert_eq!(repeats.len(), 3);
    // Another practice group's event with the same fields is another event.
    let fresh = Repeats::new(Duration::from_secs(600), 100);
    fresh.claim_at(e, t0).done_at(t0);
    let p2 = body("write-to-record.succeeded", "Message", "42", "p-2");
    assert_eq!(
        fresh.claim_at(p2.as_bytes(), t0).occurrence(),
        Occurrence::First
    );
    // Bounded: ten thousand events in a capacity of 100; the oldest are forgotten first.
    for i in 0..10_000 {
        let b = body("appointment.confirmed", "Appointment", &i.to_string(), "p");
        fresh.claim_at(b.as_bytes(), t0).done_at(t0);
    }
    assert_eq!(fresh.len(), 100);
    let oldest = body("appointment.confirmed", "Appointment", "0", "p");
    let newest = body("appointment.confirmed", "Appointment", "9999", "p");
    assert_eq!(
        fresh.claim_at(oldest.as_bytes(), t0).occurrence(),
        Occurrence::First
    );
    assert!(fresh.claim_at(newest.as_bytes(), t0).is_repeat());
    // Debug shows the window and counts, never an event.
    let debug = format!("{fresh:?} {:?}", fresh.claim_at(newest.as_bytes(), t0));
    assert!(
        debug.contains("remembered: 100") && !debug.contains("9999"),
        "{debug}"
    );

    // Through `receive`: a forged delivery is refused and not remembered; clones share memory.
    let key: SigningKey = SIGNING_KEY.parse().unwrap();
    let verifier = Verifier::new(key.clone()).repeats(Repeats::new(Duration::from_secs(60), 10));
    let ts = Utc::now().timestamp().to_string();
    let body = br#"{"object":"Message","id":"42","practice_group_id":"p-1","event":"write-to-record.succeeded"}"#;
    let forged = headers(
        &ts,
        &sign(
            &"forger-test-signing-key".parse().unwrap(),
            &ts,
            body,
            SignatureEncoding::Hex,
        ),
    );
    assert_eq!(
        verifier.receive(&forged, body).unwrap_err(),
        WebhookError::BadSignature
    );
    let good = headers(&ts, &sign(&key, &ts, body, SignatureEncoding::Hex));
    let first = verifier.receive(&good, body).unwrap();
    assert!(!first.repeat && first.key == 0);
    // While it is handled, a copy is refused as in flight (503), not handed over.
    let busy = verifier.clone().receive(&good, body).unwrap_err();
    assert_eq!((busy.clone(), busy.status()), (WebhookError::InFlight, 503));
    first.done();
    assert!(verifier.clone().receive(&good, body).unwrap().repeat);
}

/// What makes two deliveries the same event: the body's JSON, whatever its spacing or key order,
/// whichever key signed it and whenever. Two real events about one object in the same hour
/// (the same event name, a value differing) are both acted on; the same event re-sent, under the
/// other key of a rotation and with a later timestamp, is a repeat.
#[test]
fn a_repeat_is_the_same_body_not_merely_the_same_object_and_event() {
    use herohealth::webhooks::Repeats;

    let old: SigningKey = "whsec-rotation-old-test-signing-key-5b1e".parse().unwrap();
    let new: SigningKey = "whsec-rotation-new-test-signing-key-a07c".parse().unwrap();
    let verifier = Verifier::new(old.clone())
        .add_key(new.clone())
        .repeats(Repeats::new(Duration::from_secs(3600), 100));
    let deliver = |key: &SigningKey, at: DateTime<Utc>, body: &str| {
        let ts = at.timestamp().to_string();
        let h = headers(
            &ts,
            &sign(key, &ts, body.as_bytes(), SignatureEncoding::Hex),
        );
        verifier.receive(&h, body.as_bytes())
    };
    let now = Utc::now();
    // Two status changes of one message, one event name, a minute apart: two events.
    let queued = r#"{"object":"Message","id":"42","practice_group_id":"p-1","event":"write-to-record.failed","status":"queued"}"#;
    let rejected = r#"{"object":"Message","id":"42","practice_group_id":"p-1","event":"write-to-record.failed","status":"rejected"}"#;
    let a = deliver(&old, now, queued).unwrap();
    assert!(!a.repeat);
    a.done();
    let b = deliver(&old, now + chrono::Duration::seconds(60), rejected).unwrap();
    assert!(
        !b.repeat,
        "another status of the same message is another event"
    );
    b.done();
    // The first re-sent: by the new webhook of a rotation (other key, later timestamp), and by
    // Hero's retry with its keys in another order and other spacing: repeats.
    let again = deliver(&new, now + chrono::Duration::seconds(90), queued).unwrap();
    assert!(again.repeat && again.key == 1);
    let respaced = r#"{ "status": "queued", "event": "write-to-record.failed",
        "practice_group_id": "p-1", "id": "42", "object": "Message" }"#;
    assert!(
        deliver(&old, now + chrono::Duration::seconds(120), respaced)
            .unwrap()
            .repeat
    );
    // The envelope alone: the same four fields are one event however they are sent.
    let plain = r#"{"object":"Message","id":"42","practice_group_id":"p-1","event":"write-to-record.succeeded"}"#;
    deliver(&old, now, plain).unwrap().done();
    assert!(
        deliver(&new, now + chrono::Duration::seconds(1), plain)
            .unwrap()
            .repeat
    );
}

/// Everything a user prints of a verifier, a key, an event or an error.
fn printed(verifier: &Verifier, result: &Result<WebhookEvent, WebhookError>) -> String {
    let mut out = format!("{verifier:?} {:?}", verifier.clone());
    match result {
        Ok(e) => out.push_str(&format!("{e:?} {e:#?}")),
        Err(e) => {
            out.push_str(&format!("{e} {e:?} {e:#?}"));
            let boxed: Box<dyn std::error::Error> = Box::new(e.clone());
            out.push_str(&format!("{boxed} {boxed:?}"));
            let any = anyhow::Error::from(e.clone());
            out.push_str(&format!("{any} {any:#} {any:?}"));
        }
    }
    out
}

/// The hostile corpus as webhook bodies, with headers full of patient data, signed and tampered:
/// no error, `Debug` or event shows the key, the signature, the practice group or any patient
/// data.
#[test]
fn hostile_bodies_and_headers_never_show_in_errors_or_debug() {
    let key: SigningKey = SIGNING_KEY.parse().unwrap();
    let now = Utc::now();
    let ts = now.timestamp().to_string();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hostile");
    let mut bodies: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    // An envelope that parses, the rest of it full of patient data (only the declared ids and
    // event type may ever show).
    bodies.push(
        br#"{"object":"Message","id":"77","practice_group_id":"practice-hostile-19cd","event":"write-to-record.succeeded","patient":{"name":"Ada Lovelace","nhs_number":"9434765919","phone":"+447700900123"},"text":"Your biopsy results are ready"}"#.to_vec(),
    );
    // And one whose declared fields have the wrong types, holding patient data.
    bodies.push(
        br#"{"object":{"name":"Ada Lovelace"},"id":9434765919,"practice_group_id":"practice-hostile-19cd","event":["Your biopsy results are ready"]}"#.to_vec(),
    );
    assert!(bodies.len() >= 15);
    let mut checked = 0;
    for body in &bodies {
        let signature = sign(&key, &ts, body, SignatureEncoding::Hex);
        let tampered_sig = sign(&key, &ts, b"another body", SignatureEncoding::Base64);
        for sig in [
            signature.as_str(),
            tampered_sig.as_str(),
            "sha256=Ada Lovelace +447700900123",
        ] {
            let mut h = headers(&ts, sig);
            h.insert(
                "x-patient",
                HeaderValue::from_static("Ada Lovelace 9434765919"),
            );
            h.insert(
                "authorization",
                HeaderValue::from_static("Bearer biopsy +447700900123"),
            );
            let verifier = Verifier::new(key.clone()).now(now);
            let result = verifier.verify(&h, body);
            let text = printed(&verifier, &result);
            if let Some(data) = support::leaked(&text) {
                panic!("`{data}` leaked: {text}");
            }
            assert!(!text.contains(SIGNING_KEY), "{text}");
            assert!(!text.contains(&signature) && !text.contains(&tampered_sig));
            assert!(!text.contains("practice-hostile-19cd"), "{text}");
            checked += 1;
        }
    }
    assert!(checked >= 45, "{checked}");
}

#[test]
fn the_signing_key_never_prints_and_is_masked_in_the_create_answer() {
    let key: SigningKey = SIGNING_KEY.parse().unwrap();
    assert_eq!(
        format!("{key} {key:?}"),
        "<redacted> SigningKey(<redacted>)"
    );
    let hook: herohealth::types::Webhook = serde_json::from_value(serde_json::json!({
        "id": "1", "event_type": "write-to-record.succeeded", "url": "https://x.example/h",
        "created_at": "t", "updated_at": "t", "signing_key": SIGNING_KEY,
        "headers": {"authorization": "Bearer Ada Lovelace"}
    }))
    .unwrap();
    let shown = format!("{hook:?} {hook:#?}");
    assert!(
        !shown.contains(SIGNING_KEY) && !shown.contains("Ada"),
        "{shown}"
    );
    assert_eq!(hook.signing_key.as_ref().unwrap().expose(), SIGNING_KEY);
    let request = herohealth::types::CreateWebhookRequest::builder()
        .event_type(WebhookEventType::WriteToRecordFailed)
        .url("https://x.example/h")
        .signing_key(SIGNING_KEY);
    let request: herohealth::types::CreateWebhookRequest = request.try_into().unwrap();
    assert!(!format!("{request:?}").contains(SIGNING_KEY));
    // An empty key is refused, naming the field, without echoing anything.
    let empty: Result<herohealth::types::CreateWebhookRequest, _> =
        herohealth::types::CreateWebhookRequest::builder()
            .event_type(WebhookEventType::WriteToRecordFailed)
            .url("https://x.example/h")
            .signing_key("")
            .try_into();
    let err = herohealth::Error::from(empty.unwrap_err());
    assert!(err.to_string().contains("signing_key"), "{err}");
}

/// The axum extractor (feature `axum`): a handler of a few lines gets verified events; a bad or
/// stale signature is answered 401 and never reaches it; a verified body that is not an event 400.
#[cfg(feature = "axum")]
#[tokio::test]
async fn the_axum_extractor_verifies_before_the_handler_runs() {
    use axum::{Router, extract::State, http::StatusCode, routing::post};
    use herohealth::webhooks::VerifiedEvent;
    use std::sync::{Arc, Mutex};

    type Seen = Arc<Mutex<Vec<(String, String)>>>;
    #[derive(Clone)]
    struct App {
        verifier: Verifier,
        seen: Seen,
    }
    impl axum::extract::FromRef<App> for Verifier {
        fn from_ref(app: &App) -> Verifier {
            app.verifier.clone()
        }
    }
    async fn handler(State(app): State<App>, delivery: VerifiedEvent) -> StatusCode {
        let repeat = if delivery.is_repeat() {
            " (repeat)"
        } else {
            ""
        };
        delivery.done();
        let e = delivery.event;
        app.seen
            .lock()
            .unwrap()
            .push((format!("{}{repeat}", e.event), e.id));
        StatusCode::NO_CONTENT
    }

    let key: SigningKey = SIGNING_KEY.parse().unwrap();
    let seen: Seen = Default::default();
    let app = Router::new().route("/hero", post(handler)).with_state(App {
        verifier: Verifier::new(key.clone()),
        seen: seen.clone(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hero", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let http = reqwest::Client::new();
    let post = |ts: String, sig: String, body: &'static str| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let resp = http
                .post(url)
                .header(TIMESTAMP_HEADER, ts)
                .header(SIGNATURE_HEADER, sig)
                .body(body)
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    };
    let body = r#"{"object":"Message","id":"42","practice_group_id":"practice-extract-1","event":"write-to-record.succeeded"}"#;
    let now = Utc::now();
    let ts = now.timestamp().to_string();
    let good = sign(&key, &ts, body.as_bytes(), SignatureEncoding::Base64);
    assert_eq!(post(ts.clone(), good.clone(), body).await.0, 204);
    // The same delivery again: the handler is told it is a repeat.
    assert_eq!(post(ts.clone(), good.clone(), body).await.0, 204);
    // Tampered: 401, and the answer names the rule, not the request's values.
    let mut tampered = good.clone().into_bytes();
    tampered[0] = if tampered[0] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let (status, text) = post(ts.clone(), tampered, body).await;
    assert_eq!(status, 401, "{text}");
    assert!(
        text.contains("signature does not match") && !text.contains("42"),
        "{text}"
    );
    // Stale: 401.
    let old = (now - chrono::Duration::minutes(10))
        .timestamp()
        .to_string();
    let stale = sign(&key, &old, body.as_bytes(), SignatureEncoding::Hex);
    let (status, text) = post(old, stale, body).await;
    assert_eq!(status, 401);
    assert!(text.contains("tolerance"), "{text}");
    // Verified, but not an event: 400.
    let junk = r#"{"hello":"world"}"#;
    let sig = sign(&key, &ts, junk.as_bytes(), SignatureEncoding::Hex);
    assert_eq!(post(ts, sig, junk).await.0, 400);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            ("write-to-record.succeeded".to_owned(), "42".to_owned()),
            (
                "write-to-record.succeeded (repeat)".to_owned(),
                "42".to_owned()
            )
        ],
        "only the verified event reached the handler"
    );
}

/// Act once, on the wire: a handler that fails (500) leaves the event unremembered, so Hero's
/// retry reaches it as a first; once it has succeeded and called `done`, the next copy (here the
/// rotation's other webhook, another key and timestamp) is a repeat. A copy arriving while the
/// first is still being handled is answered 503 and never reaches the handler.
#[cfg(feature = "axum")]
#[tokio::test]
async fn a_retry_after_the_handlers_failure_is_not_a_repeat() {
    use axum::{Router, extract::State, http::StatusCode, routing::post};
    use futures::channel::oneshot;
    use herohealth::webhooks::VerifiedEvent;
    use std::sync::{Arc, Mutex};

    /// Says the handler has a first, then waits to be released.
    type Hold = (oneshot::Sender<()>, oneshot::Receiver<()>);
    #[derive(Clone)]
    struct App {
        verifier: Verifier,
        /// What each call of the handler saw: (repeat?, answered, the key that signed it).
        calls: Arc<Mutex<Vec<(bool, u16, usize)>>>,
        /// The answers the handler gives in turn to firsts (500 = its work failed).
        answers: Arc<Mutex<Vec<u16>>>,
        /// When set, the handler says it has a first, then waits before answering (to hold the
        /// first in flight).
        hold: Arc<Mutex<Option<Hold>>>,
    }
    impl axum::extract::FromRef<App> for Verifier {
        fn from_ref(app: &App) -> Verifier {
            app.verifier.clone()
        }
    }
    async fn handler(State(app): State<App>, delivery: VerifiedEvent) -> StatusCode {
        if delivery.is_repeat() {
            app.calls
                .lock()
                .unwrap()
                .push((true, 204, delivery.key_index()));
            return StatusCode::NO_CONTENT;
        }
        let hold = app.hold.lock().unwrap().take();
        if let Some((entered, release)) = hold {
            entered.send(()).unwrap();
            release.await.unwrap();
        }
        let answer = app.answers.lock().unwrap().remove(0);
        app.calls
            .lock()
            .unwrap()
            .push((false, answer, delivery.key_index()));
        if answer >= 500 {
            return StatusCode::from_u16(answer).unwrap(); // not done: not remembered
        }
        delivery.done();
        StatusCode::from_u16(answer).unwrap()
    }

    let old: SigningKey = SIGNING_KEY.parse().unwrap();
    let new: SigningKey = "whsec-test-signing-key-rust-new-7d20".parse().unwrap();
    let app = App {
        verifier: Verifier::new(old.clone()).add_key(new.clone()),
        calls: Default::default(),
        answers: Arc::new(Mutex::new(vec![500, 204, 204])),
        hold: Default::default(),
    };
    let router = Router::new()
        .route("/hero", post(handler))
        .with_state(app.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hero", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let http = reqwest::Client::new();
    let post = |key: SigningKey, at: DateTime<Utc>, body: &'static str| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let ts = at.timestamp().to_string();
            let sig = sign(&key, &ts, body.as_bytes(), SignatureEncoding::Hex);
            let resp = http
                .post(url)
                .header(TIMESTAMP_HEADER, ts)
                .header(SIGNATURE_HEADER, sig)
                .body(body)
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    };
    let body = r#"{"object":"Message","id":"42","practice_group_id":"practice-once-1","event":"write-to-record.succeeded"}"#;
    let now = Utc::now();
    // The first delivery: the handler's work fails, 500.
    assert_eq!(post(old.clone(), now, body).await.0, 500);
    // Hero's retry (signed anew): not a repeat, acted on, 204.
    let later = now + chrono::Duration::seconds(30);
    assert_eq!(post(old.clone(), later, body).await.0, 204);
    // The rotation's other webhook delivers the same event: a repeat now.
    assert_eq!(post(new.clone(), later, body).await.0, 204);
    assert_eq!(
        *app.calls.lock().unwrap(),
        vec![(false, 500, 0), (false, 204, 0), (true, 204, 1)]
    );

    // Another event, its first copy held in the handler: the second copy is answered 503 and
    // never reaches the handler; once the first is done, a third copy is a repeat.
    let other = r#"{"object":"Message","id":"43","practice_group_id":"practice-once-1","event":"write-to-record.succeeded"}"#;
    let (entered, has_entered) = oneshot::channel();
    let (release, released) = oneshot::channel();
    *app.hold.lock().unwrap() = Some((entered, released));
    let held = tokio::spawn(post(old.clone(), now, other));
    has_entered.await.unwrap();
    let (status, text) = post(new.clone(), now, other).await;
    assert_eq!(status, 503, "{text}");
    assert!(
        text.contains("being handled now") && !text.contains("43"),
        "{text}"
    );
    release.send(()).unwrap();
    assert_eq!(held.await.unwrap().0, 204);
    assert_eq!(post(new.clone(), now, other).await.0, 204);
    assert_eq!(
        app.calls.lock().unwrap()[3..],
        [(false, 204, 0), (true, 204, 1)]
    );
}

/// `WebhookRejection` is an error like any other: `Display`, `std::error::Error` with the
/// verification error as its source, `?` into `Box<dyn Error>` and `anyhow`.
#[cfg(feature = "axum")]
#[tokio::test]
async fn a_rejection_is_an_error_with_display_and_source() {
    use axum::{extract::FromRequest, http::Request};
    use herohealth::webhooks::{VerifiedEvent, WebhookRejection};

    let key: SigningKey = SIGNING_KEY.parse().unwrap();
    let verifier = Verifier::new(key);
    let req = Request::builder()
        .method("POST")
        .header(TIMESTAMP_HEADER, Utc::now().timestamp().to_string())
        .header(SIGNATURE_HEADER, "0".repeat(64))
        .body(axum::body::Body::from(r#"{"id":"Ada Lovelace"}"#))
        .unwrap();
    let rejection: WebhookRejection = VerifiedEvent::from_request(req, &verifier)
        .await
        .unwrap_err();
    assert_eq!(rejection.status().as_u16(), 401);
    assert_eq!(rejection.key_index(), None, "no key verified it");
    assert_eq!(
        rejection.to_string(),
        WebhookError::BadSignature.to_string()
    );
    // A copy of an event being handled, signed with the second key: 503, and it says which key
    // verified it (listen logs it as seen).
    let (old, new): (SigningKey, SigningKey) = (
        SIGNING_KEY.parse().unwrap(),
        "whsec-test-signing-key-rust-second-3e1f".parse().unwrap(),
    );
    let both = Verifier::new(old.clone()).add_key(new.clone());
    let body = r#"{"object":"Message","id":"7","practice_group_id":"p-1","event":"write-to-record.failed"}"#;
    let ts = Utc::now().timestamp().to_string();
    let held = both
        .receive(
            &headers(
                &ts,
                &sign(&old, &ts, body.as_bytes(), SignatureEncoding::Hex),
            ),
            body.as_bytes(),
        )
        .unwrap();
    let copy = Request::builder()
        .method("POST")
        .header(TIMESTAMP_HEADER, &ts)
        .header(
            SIGNATURE_HEADER,
            sign(&new, &ts, body.as_bytes(), SignatureEncoding::Hex),
        )
        .body(axum::body::Body::from(body))
        .unwrap();
    let busy = VerifiedEvent::from_request(copy, &both).await.unwrap_err();
    assert_eq!(
        (busy.status().as_u16(), busy.key_index(), busy.error()),
        (503, Some(1), Some(&WebhookError::InFlight))
    );
    drop(held);
    let source = std::error::Error::source(&rejection).unwrap().to_string();
    assert_eq!(source, WebhookError::BadSignature.to_string());
    fn handler(r: Result<(), WebhookRejection>) -> Result<(), Box<dyn std::error::Error>> {
        r?;
        Ok(())
    }
    let boxed = handler(Err(rejection)).unwrap_err();
    let any = anyhow::anyhow!(boxed.to_string());
    let text = format!("{boxed} {boxed:?} {any:#}");
    assert!(
        text.contains("signature does not match") && !text.contains("Ada"),
        "{text}"
    );
}
