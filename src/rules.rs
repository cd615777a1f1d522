//! The rules across fields that the generated types cannot express (an sms goes to a phone number,
//! an email batch needs a subject, ...), written against the generated request types and checked
//! on the typed body of every request by the executor before anything is sent: [`Body`].

use chrono::{DateTime, Utc};

use crate::{
    BatchChannel, MessageType,
    api::types::{
        CreateAttachmentLinkRequest, CreateBatchMessageRequest,
        CreateBatchMessageRequestRecipients, CreateWebhookRequest, FallbackMessageType,
        RegisterPatientPdsRequest, SendMessageRequest, ValidateSnomedRequest,
    },
    attempt::SendAttempt,
    error::Error,
    validate::ContactDetail,
    validate::Refusal,
};

/// The typed body of a request, as the executor sees it: the rules across its fields, and what
/// identifies a send of it for [`crate::HeroClient::find_send`].
///
/// Every operation's body type implements it (the generated `send()` requires it), so a body type
/// the spec gains does not compile until someone decides its rules.
pub(crate) trait Body {
    /// The first rule across fields the body breaks, as of `now`.
    fn check(&self, now: DateTime<Utc>) -> Result<(), Refusal>;

    /// The send as `find_send` looks for it, for a body whose sends Hero lists.
    fn attempt(&self, _started: DateTime<Utc>, _deadline: DateTime<Utc>) -> Option<SendAttempt> {
        None
    }
}

/// No body (a read, or `sendBatchMessage`).
impl Body for () {
    fn check(&self, _: DateTime<Utc>) -> Result<(), Refusal> {
        Ok(())
    }
}

impl Body for ValidateSnomedRequest {
    fn check(&self, _: DateTime<Utc>) -> Result<(), Refusal> {
        Ok(())
    }
}

impl Body for RegisterPatientPdsRequest {
    fn check(&self, _: DateTime<Utc>) -> Result<(), Refusal> {
        Ok(())
    }
}

impl Body for CreateWebhookRequest {
    fn check(&self, _: DateTime<Utc>) -> Result<(), Refusal> {
        Ok(())
    }
}

/// A link is to one file: a file of the record (`ehr_file_id`) or one sent inline (`file_data`
/// with its `file_name`), and it does not expire before it is made.
impl Body for CreateAttachmentLinkRequest {
    fn check(&self, now: DateTime<Utc>) -> Result<(), Refusal> {
        let inline = self.file_data.is_some() || self.file_name.is_some();
        match (self.ehr_file_id.is_some(), inline) {
            (true, true) => {
                return Err(Refusal::new(
                    "ehr_file_id",
                    "give either ehr_file_id or file_data with file_name, not both",
                ));
            }
            (false, false) => {
                return Err(Refusal::new(
                    "file_data",
                    "a link needs a file: ehr_file_id, or file_data with file_name",
                ));
            }
            _ => {}
        }
        if self.file_data.is_some()
            && self
                .file_name
                .as_ref()
                .is_none_or(|n| n.expose().trim().is_empty())
        {
            return Err(Refusal::new("file_name", "is required with file_data"));
        }
        if self.file_name.is_some() && self.file_data.is_none() {
            return Err(Refusal::new("file_data", "is required with file_name"));
        }
        if self.expiry_date.is_some_and(|at| at < now) {
            return Err(Refusal::new("expiry_date", "must not be in the past"));
        }
        Ok(())
    }
}

/// An sms goes to a phone number and an email to an email address.
fn contact_fits(
    field: &str,
    sms: bool,
    email: bool,
    contact: Option<&ContactDetail>,
) -> Result<(), Refusal> {
    match contact {
        Some(c) if sms && c.is_email() => Err(Refusal::new(
            field,
            "must be a phone number for an sms message",
        )),
        Some(c) if email && !c.is_email() => Err(Refusal::new(
            field,
            "must be an email address for an email message",
        )),
        _ => Ok(()),
    }
}

impl Body for SendMessageRequest {
    fn check(&self, now: DateTime<Utc>) -> Result<(), Refusal> {
        contact_fits(
            "recipient_contact_detail",
            self.message_type == MessageType::Sms,
            self.message_type == MessageType::Email,
            self.recipient_contact_detail.as_ref(),
        )?;
        if let Some(fallback) = self.fallback_message_type {
            let Some(contact) = self.fallback_contact_detail.as_ref() else {
                return Err(Refusal::new(
                    "fallback_contact_detail",
                    "is required when fallback_message_type is set",
                ));
            };
            contact_fits(
                "fallback_contact_detail",
                fallback == FallbackMessageType::Sms,
                fallback == FallbackMessageType::Email,
                Some(contact),
            )?;
        }
        if self.send_at.is_some_and(|at| at < now) {
            return Err(Refusal::new("send_at", "must not be in the past"));
        }
        Ok(())
    }

    fn attempt(&self, started: DateTime<Utc>, deadline: DateTime<Utc>) -> Option<SendAttempt> {
        Some(SendAttempt::new(self, started, deadline))
    }
}

impl Body for CreateBatchMessageRequest {
    fn check(&self, _: DateTime<Utc>) -> Result<(), Refusal> {
        if self.channel == BatchChannel::Email
            && self
                .subject
                .as_ref()
                .is_none_or(|s| s.expose().trim().is_empty())
        {
            return Err(Refusal::new("subject", "is required when channel is EMAIL"));
        }
        if matches!(&self.recipients, CreateBatchMessageRequestRecipients::Array(r) if r.is_empty())
        {
            return Err(Refusal::new("recipients", "must not be empty"));
        }
        Ok(())
    }
}

/// Checks a message you built against the rules across its fields that `.send()` checks before
/// anything is sent (an sms goes to a phone number and an email to an email address, a fallback
/// type needs its contact, `send_at` is not in the past): the very same check, with nothing sent.
/// For a program that refuses a whole list before its first send (as `herohealth-outbox` does).
/// The error is the one `.send()` would give: [`crate::ErrorKind::InvalidRequest`], with the
/// field and the rule in [`Error::refusal`], never the value.
///
/// ```
/// use herohealth::{MessageType, check_send_message, types};
/// let body: types::SendMessageRequest = types::SendMessageRequest::builder()
///     .patient_id("98765")
///     .message_type(MessageType::Sms)
///     .message_string("Your results are ready")
///     .recipient_contact_detail("ada@example.org")
///     .try_into()?;
/// let err = check_send_message(&body).unwrap_err();
/// assert_eq!(err.kind(), herohealth::ErrorKind::InvalidRequest);
/// let refusal = err.refusal().unwrap();
/// assert_eq!(refusal.field(), "recipient_contact_detail");
/// assert_eq!(refusal.rule(), "must be a phone number for an sms message");
/// assert!(!err.to_string().contains("ada@"));
/// # Ok::<(), herohealth::Error>(())
/// ```
pub fn check_send_message(body: &SendMessageRequest) -> crate::Result<()> {
    body.check(Utc::now()).map_err(Error::refused)
}

/// As [`check_send_message`], for a batch (an email batch needs a subject; a batch needs
/// recipients).
///
/// ```
/// use herohealth::{BatchChannel, check_batch_message, types};
/// let body: types::CreateBatchMessageRequest = types::CreateBatchMessageRequest::builder()
///     .name("Flu")
///     .channel(BatchChannel::Email)
///     .content("Your flu jab is due")
///     .recipients(Vec::<types::BatchRecipient>::new())
///     .try_into()?;
/// assert_eq!(check_batch_message(&body).unwrap_err().refusal().unwrap().field(), "subject");
/// # Ok::<(), herohealth::Error>(())
/// ```
pub fn check_batch_message(body: &CreateBatchMessageRequest) -> crate::Result<()> {
    body.check(Utc::now()).map_err(Error::refused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::types;
    use chrono::Duration;

    fn message(
        f: impl FnOnce(types::builder::SendMessageRequest) -> types::builder::SendMessageRequest,
    ) -> SendMessageRequest {
        f(SendMessageRequest::builder()
            .patient_id("1")
            .message_type(MessageType::Sms)
            .message_string("Hi"))
        .try_into()
        .unwrap()
    }

    fn refused(body: &impl Body) -> Option<(String, String)> {
        body.check(Utc::now())
            .err()
            .map(|r| (r.field().to_owned(), r.rule().to_owned()))
    }

    fn refusal(field: &str, rule: &str) -> Option<(String, String)> {
        Some((field.to_owned(), rule.to_owned()))
    }

    #[test]
    fn a_message_goes_by_a_channel_that_fits_its_contact() {
        assert_eq!(
            refused(&message(|b| b.recipient_contact_detail("07700900123"))),
            None
        );
        assert_eq!(
            refused(&message(|b| b.recipient_contact_detail("a@b.org"))),
            refusal(
                "recipient_contact_detail",
                "must be a phone number for an sms message"
            )
        );
        assert_eq!(
            refused(&message(|b| b
                .message_type(MessageType::Email)
                .recipient_contact_detail("07700900123"))),
            refusal(
                "recipient_contact_detail",
                "must be an email address for an email message"
            )
        );
        assert_eq!(
            refused(&message(|b| b
                .message_type(MessageType::Email)
                .recipient_contact_detail("a@b.org"))),
            None
        );
        // Other channels take either.
        assert_eq!(
            refused(&message(|b| b
                .message_type(MessageType::NhsApp)
                .recipient_contact_detail("a@b.org"))),
            None
        );
    }

    #[test]
    fn a_fallback_needs_its_contact_and_it_must_fit() {
        assert_eq!(
            refused(&message(
                |b| b.fallback_message_type(FallbackMessageType::Email)
            )),
            refusal(
                "fallback_contact_detail",
                "is required when fallback_message_type is set"
            )
        );
        assert_eq!(
            refused(&message(|b| b
                .fallback_message_type(FallbackMessageType::Email)
                .fallback_contact_detail("07700900123"))),
            refusal(
                "fallback_contact_detail",
                "must be an email address for an email message"
            )
        );
        assert_eq!(
            refused(&message(|b| b
                .fallback_message_type(FallbackMessageType::Sms)
                .fallback_contact_detail("a@b.org"))),
            refusal(
                "fallback_contact_detail",
                "must be a phone number for an sms message"
            )
        );
        assert_eq!(
            refused(&message(|b| b
                .fallback_message_type(FallbackMessageType::Sms)
                .fallback_contact_detail("07700900123"))),
            None
        );
        // A fallback contact without a fallback type is not checked against a channel.
        assert_eq!(
            refused(&message(|b| b.fallback_contact_detail("a@b.org"))),
            None
        );
    }

    #[test]
    fn a_send_is_never_scheduled_in_the_past() {
        let now = Utc::now();
        let past = message(|b| b.send_at(now - Duration::seconds(1)));
        assert_eq!(
            past.check(now).unwrap_err(),
            Refusal::new("send_at", "must not be in the past")
        );
        let later = message(|b| b.send_at(now + Duration::seconds(1)));
        assert_eq!(later.check(now), Ok(()));
        // Exactly now is not in the past.
        assert_eq!(message(|b| b.send_at(now)).check(now), Ok(()));
    }

    fn batch(
        channel: BatchChannel,
        subject: Option<&str>,
        recipients: Vec<types::BatchRecipient>,
    ) -> CreateBatchMessageRequest {
        let b = CreateBatchMessageRequest::builder()
            .name("Flu")
            .channel(channel)
            .content("Your flu jab is due")
            .recipients(recipients);
        let b = match subject {
            Some(s) => b.subject(s),
            None => b,
        };
        b.try_into().unwrap()
    }

    #[test]
    fn an_email_batch_needs_a_subject_and_every_batch_recipients() {
        let one = || {
            vec![types::BatchRecipient::new(
                "9434765919".parse().unwrap(),
                chrono::NaiveDate::from_ymd_opt(1955, 6, 2).unwrap(),
            )]
        };
        assert_eq!(refused(&batch(BatchChannel::Sms, None, one())), None);
        assert_eq!(
            refused(&batch(BatchChannel::Email, None, one())),
            refusal("subject", "is required when channel is EMAIL")
        );
        assert_eq!(
            refused(&batch(BatchChannel::Email, Some("  "), one())),
            refusal("subject", "is required when channel is EMAIL")
        );
        assert_eq!(
            refused(&batch(BatchChannel::Email, Some("Flu"), one())),
            None
        );
        assert_eq!(
            refused(&batch(BatchChannel::Sms, None, Vec::new())),
            refusal("recipients", "must not be empty")
        );
    }

    #[test]
    fn an_attachment_link_needs_exactly_one_file() {
        use serde_json::json;
        let link = |mut body: serde_json::Value| -> CreateAttachmentLinkRequest {
            body["patient_id"] = json!("1");
            serde_json::from_value(body).unwrap()
        };
        assert_eq!(refused(&link(json!({"ehr_file_id": "f-1"}))), None);
        assert_eq!(
            refused(&link(json!({"file_data": "QQ==", "file_name": "a.pdf"}))),
            None
        );
        for (body, field, rule) in [
            (
                json!({}),
                "file_data",
                "a link needs a file: ehr_file_id, or file_data with file_name",
            ),
            (
                json!({"ehr_file_id": "f", "file_data": "QQ==", "file_name": "a"}),
                "ehr_file_id",
                "give either ehr_file_id or file_data with file_name, not both",
            ),
            (
                json!({"file_data": "QQ=="}),
                "file_name",
                "is required with file_data",
            ),
            (
                json!({"file_data": "QQ==", "file_name": " "}),
                "file_name",
                "is required with file_data",
            ),
            (
                json!({"file_name": "a.pdf"}),
                "file_data",
                "is required with file_name",
            ),
            (
                json!({"ehr_file_id": "f", "expiry_date": (Utc::now() - Duration::seconds(1)).to_rfc3339()}),
                "expiry_date",
                "must not be in the past",
            ),
        ] {
            assert_eq!(refused(&link(body.clone())), refusal(field, rule), "{body}");
        }
        let tomorrow = (Utc::now() + Duration::days(1)).to_rfc3339();
        assert_eq!(
            refused(&link(json!({"ehr_file_id": "f", "expiry_date": tomorrow}))),
            None
        );
        // Expiring exactly now is not in the past.
        let now = Utc::now();
        let at_now = link(json!({"ehr_file_id": "f", "expiry_date": now.to_rfc3339()}));
        assert_eq!(at_now.check(now), Ok(()));
    }

    #[test]
    fn the_public_checks_give_the_error_send_gives() {
        let err =
            check_send_message(&message(|b| b.recipient_contact_detail("a@b.org"))).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidRequest);
        assert_eq!(
            err.to_string(),
            "invalid request, nothing was sent: recipient_contact_detail: must be a phone number for an sms message"
        );
        assert!(check_send_message(&message(|b| b)).is_ok());
        let err = check_batch_message(&batch(BatchChannel::Sms, None, Vec::new())).unwrap_err();
        assert_eq!(err.refusal().unwrap().field(), "recipients");
    }
}
