//! Rules across fields that the generated types cannot express, checked on the JSON body of every
//! request in the transport's `pre` hook, so that no request that breaks one is ever sent.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// The fields of a request body the rules across fields look at. Everything else (a batch's
/// recipients above all) is skipped while parsing, not built.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Fields<'a> {
    #[serde(borrow)]
    message_type: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    recipient_contact_detail: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    fallback_message_type: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    fallback_contact_detail: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    send_at: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    channel: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    subject: Option<std::borrow::Cow<'a, str>>,
    recipients: Option<Count>,
    #[serde(borrow)]
    ehr_file_id: Option<std::borrow::Cow<'a, str>>,
    file_data: Option<serde::de::IgnoredAny>,
    #[serde(borrow)]
    file_name: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    expiry_date: Option<std::borrow::Cow<'a, str>>,
}

/// How many recipients a batch has (an array, or one object), counted without keeping them.
struct Count(usize);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("recipients")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Count, A::Error> {
                let mut n = 0;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Count(n))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Count, A::Error> {
                serde::de::IgnoredAny::deserialize(serde::de::value::MapAccessDeserializer::new(
                    map,
                ))?;
                Ok(Count(1))
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

/// Rules across fields that the generated types cannot express, checked on the JSON body of every
/// request in the transport's `pre` hook (so no request that breaks one is ever sent).
/// Returns `field: rule` for the first rule broken. Never includes a value.
pub(crate) fn check_body(
    operation: &str,
    body: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), String> {
    if !matches!(
        operation,
        "send_message" | "create_batch_message" | "create_attachment_link"
    ) {
        return Ok(());
    }
    // Fail closed: a body the rules cannot read is not sent.
    let Ok(b) = serde_json::from_slice::<Fields<'_>>(body) else {
        return Err("request body: cannot be checked against the rules across fields".to_owned());
    };
    match operation {
        "send_message" => {
            let contact_rule = |kind: &Option<std::borrow::Cow<'_, str>>,
                                contact: &Option<std::borrow::Cow<'_, str>>,
                                field: &str|
             -> Result<(), String> {
                match (kind.as_deref(), contact.as_deref()) {
                    (Some("sms"), Some(c)) if c.contains('@') => Err(format!(
                        "{field}: must be a phone number for an sms message"
                    )),
                    (Some("email"), Some(c)) if !c.contains('@') => Err(format!(
                        "{field}: must be an email address for an email message"
                    )),
                    _ => Ok(()),
                }
            };
            contact_rule(
                &b.message_type,
                &b.recipient_contact_detail,
                "recipient_contact_detail",
            )?;
            if b.fallback_message_type.is_some() && b.fallback_contact_detail.is_none() {
                return Err(
                    "fallback_contact_detail: is required when fallback_message_type is set"
                        .to_owned(),
                );
            }
            contact_rule(
                &b.fallback_message_type,
                &b.fallback_contact_detail,
                "fallback_contact_detail",
            )?;
            if let Some(at) = b
                .send_at
                .as_deref()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                && at < now
            {
                return Err("send_at: must not be in the past".to_owned());
            }
        }
        "create_attachment_link" => {
            let inline = b.file_data.is_some() || b.file_name.is_some();
            match (b.ehr_file_id.is_some(), inline) {
                (true, true) => {
                    return Err("ehr_file_id: give either ehr_file_id or file_data with \
                                file_name, not both"
                        .to_owned());
                }
                (false, false) => {
                    return Err("file_data: a link needs a file: ehr_file_id, or file_data \
                                with file_name"
                        .to_owned());
                }
                _ => {}
            }
            if b.file_data.is_some() && b.file_name.as_deref().is_none_or(|n| n.trim().is_empty()) {
                return Err("file_name: is required with file_data".to_owned());
            }
            if b.file_name.is_some() && b.file_data.is_none() {
                return Err("file_data: is required with file_name".to_owned());
            }
            if let Some(at) = b
                .expiry_date
                .as_deref()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                && at < now
            {
                return Err("expiry_date: must not be in the past".to_owned());
            }
        }
        _ => {
            if b.channel.as_deref() == Some("EMAIL")
                && b.subject.as_deref().is_none_or(|s| s.trim().is_empty())
            {
                return Err("subject: is required when channel is EMAIL".to_owned());
            }
            if b.recipients.is_some_and(|Count(n)| n == 0) {
                return Err("recipients: must not be empty".to_owned());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod body_rules {
    use super::check_body;

    fn check(op: &str, body: serde_json::Value) -> Result<(), String> {
        check_body(op, body.to_string().as_bytes(), chrono::Utc::now())
    }

    #[test]
    fn cross_field_rules() {
        use serde_json::json;
        assert!(
            check(
                "send_message",
                json!({"message_type": "sms", "recipient_contact_detail": "07700900123"})
            )
            .is_ok()
        );
        assert_eq!(
            check(
                "send_message",
                json!({"message_type": "sms", "recipient_contact_detail": "a@b.org"})
            )
            .unwrap_err(),
            "recipient_contact_detail: must be a phone number for an sms message"
        );
        assert!(
            check(
                "send_message",
                json!({"message_type": "email", "recipient_contact_detail": "07700900123"})
            )
            .is_err()
        );
        assert_eq!(
            check(
                "send_message",
                json!({"message_type": "sms", "fallback_message_type": "email"})
            )
            .unwrap_err(),
            "fallback_contact_detail: is required when fallback_message_type is set"
        );
        assert!(
            check(
                "send_message",
                json!({"fallback_message_type": "email", "fallback_contact_detail": "07700900123"})
            )
            .is_err()
        );
        assert_eq!(
            check("send_message", json!({"send_at": "2020-01-01T00:00:00Z"})).unwrap_err(),
            "send_at: must not be in the past"
        );
        assert!(check("send_message", json!({"send_at": "2999-01-01T00:00:00Z"})).is_ok());
        assert_eq!(
            check(
                "create_batch_message",
                json!({"channel": "EMAIL", "subject": " "})
            )
            .unwrap_err(),
            "subject: is required when channel is EMAIL"
        );
        assert!(
            check(
                "create_batch_message",
                json!({"channel": "SMS", "recipients": []})
            )
            .is_err()
        );
        assert!(check("get_message", json!({"send_at": "2020-01-01T00:00:00Z"})).is_ok());
    }

    #[test]
    fn an_attachment_link_needs_exactly_one_file() {
        use serde_json::json;
        let op = "create_attachment_link";
        assert!(check(op, json!({"patient_id": "1", "ehr_file_id": "f-1"})).is_ok());
        assert!(
            check(
                op,
                json!({"patient_id": "1", "file_data": "QQ==", "file_name": "a.pdf"})
            )
            .is_ok()
        );
        for (body, rule) in [
            (
                json!({"patient_id": "1"}),
                "file_data: a link needs a file: ehr_file_id, or file_data with file_name",
            ),
            (
                json!({"ehr_file_id": "f", "file_data": "QQ==", "file_name": "a"}),
                "ehr_file_id: give either ehr_file_id or file_data with file_name, not both",
            ),
            (
                json!({"file_data": "QQ=="}),
                "file_name: is required with file_data",
            ),
            (
                json!({"file_data": "QQ==", "file_name": " "}),
                "file_name: is required with file_data",
            ),
            (
                json!({"file_name": "a.pdf"}),
                "file_data: is required with file_name",
            ),
            (
                json!({"ehr_file_id": "f", "expiry_date": "2020-01-01T00:00:00Z"}),
                "expiry_date: must not be in the past",
            ),
        ] {
            assert_eq!(check(op, body.clone()).unwrap_err(), rule, "{body}");
        }
        let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
        assert!(check(op, json!({"ehr_file_id": "f", "expiry_date": tomorrow})).is_ok());
    }
}
