//! A batch's failed sends traced back to the patients they were for: [`HeroClient::batch_failures`].
//!
//! Hero lists a batch's sends by the contact detail each went to (`recipient`: a phone number or an
//! email address), and its recipients by NHS number with the contact details Hero found for them.
//! "Which patients were not reached?" is the join of the two on the contact detail, which is not
//! one-to-one: two recipients can share one (a family's mobile), so such a send is flagged
//! [`Traced::Ambiguous`] with every recipient it may have been for, never guessed.

use std::collections::HashMap;

use futures::TryStreamExt;

use crate::{
    BatchSendStatus, EnrichmentStatus, HeroClient, PageOptions, Paginate, Sensitive,
    api::types::{BatchMessage, BatchRecipientRow, BatchSend},
    error::Error,
    validate::canonical_contact,
};

/// Which recipient of the batch a failed send was for.
///
/// Its `Debug` shows the enrichment statuses only: names, NHS numbers and contact details are
/// [`Sensitive`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Traced {
    /// Exactly one recipient has the contact detail the send went to: the patient it was for.
    Recipient(BatchRecipientRow),
    /// Several recipients (different NHS numbers) share the contact detail: the send was for one
    /// of them (or each of them had a send to it). A person decides whom to follow up.
    Ambiguous(Vec<BatchRecipientRow>),
    /// No recipient of the batch has the contact detail (Hero's records changed since, or the
    /// send went somewhere this client does not see).
    Unmatched,
}

impl Traced {
    /// The recipients the send may have been for: one, several (ambiguous) or none.
    pub fn recipients(&self) -> &[BatchRecipientRow] {
        match self {
            Traced::Recipient(r) => std::slice::from_ref(r),
            Traced::Ambiguous(rs) => rs,
            Traced::Unmatched => &[],
        }
    }

    /// The NHS numbers of [`recipients`](Self::recipients) (patient data: never printed by
    /// `Debug`).
    pub fn nhs_numbers(&self) -> Vec<&Sensitive> {
        self.recipients()
            .iter()
            .filter_map(|r| r.nhs_number.as_ref())
            .collect()
    }

    /// `true` for [`Traced::Ambiguous`].
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, Traced::Ambiguous(_))
    }
}

/// One send of a batch that ended `ERROR`, with the recipient it was for.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FailedSend {
    /// The send (its `recipient` is the contact detail it went to).
    pub send: BatchSend,
    /// The recipient it was for.
    pub traced: Traced,
}

/// [`HeroClient::batch_failures`]' answer: the patients of a batch that were not reached.
///
/// Its `Debug` shows no NHS number, name or contact detail (they are [`Sensitive`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BatchFailures {
    /// The batch, as read before its sends (look at its status: before `COMPLETED`, sends still
    /// queued are not failures yet).
    pub batch: BatchMessage,
    /// The batch's sends in all.
    pub sends: u64,
    /// Every send that ended `ERROR`, each traced to its recipient.
    pub failed: Vec<FailedSend>,
    /// Recipients Hero could not trace on the Spine (`ENRICHMENT_ERROR`, `INVALID_PAYLOAD`, or any
    /// status but `ENRICHED`): no send was made for them at all.
    pub not_enriched: Vec<BatchRecipientRow>,
}

impl BatchFailures {
    /// `true` when every recipient was traced and no send failed.
    pub fn is_empty(&self) -> bool {
        self.failed.is_empty() && self.not_enriched.is_empty()
    }

    /// How many failed sends could not be traced to a single recipient (ambiguous or unmatched).
    pub fn untraced(&self) -> usize {
        self.failed
            .iter()
            .filter(|f| !matches!(f.traced, Traced::Recipient(_)))
            .count()
    }
}

/// The keys a recipient can be found by: its contact details in canonical form, and its NHS
/// number's digits (a send through the NHS App may name the patient by it; inferred).
fn keys(r: &BatchRecipientRow) -> Vec<String> {
    let mut keys: Vec<String> = [&r.mobile, &r.email]
        .into_iter()
        .flatten()
        .map(|c| canonical_contact(c.expose()))
        .chain(r.nhs_number.as_ref().map(|n| nhs_key(n.expose())))
        .filter(|k| !k.is_empty())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// An NHS number's digits (`943 476 5919` is `9434765919`).
fn nhs_key(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// The recipients a send to `contact` may have been for, by their index: every recipient with
/// that contact detail, one per NHS number.
fn trace(
    contact: &str,
    index: &HashMap<String, Vec<usize>>,
    recipients: &[BatchRecipientRow],
) -> Traced {
    let canonical = canonical_contact(contact);
    let digits = nhs_key(contact);
    let mut found: Vec<usize> = index
        .get(&canonical)
        .into_iter()
        .chain(index.get(&digits).filter(|_| digits.len() == 10))
        .flatten()
        .copied()
        .collect();
    found.sort_unstable();
    found.dedup();
    // The same patient listed twice is one patient.
    let mut seen = Vec::new();
    found.retain(|&i| {
        let nhs = recipients[i]
            .nhs_number
            .as_ref()
            .map(|n| nhs_key(n.expose()));
        if seen.contains(&nhs) {
            false
        } else {
            seen.push(nhs);
            true
        }
    });
    match found.as_slice() {
        [] => Traced::Unmatched,
        [one] => Traced::Recipient(recipients[*one].clone()),
        many => Traced::Ambiguous(many.iter().map(|&i| recipients[i].clone()).collect()),
    }
}

/// Traces each failed send to the recipients with its contact detail.
fn join(
    batch: BatchMessage,
    recipients: Vec<BatchRecipientRow>,
    sends: Vec<BatchSend>,
) -> BatchFailures {
    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in recipients.iter().enumerate() {
        for key in keys(r) {
            index.entry(key).or_default().push(i);
        }
    }
    let total = sends.len() as u64;
    let failed = sends
        .into_iter()
        .filter(|s| s.status == BatchSendStatus::Error)
        .map(|send| FailedSend {
            traced: trace(send.recipient.expose(), &index, &recipients),
            send,
        })
        .collect();
    let not_enriched = recipients
        .into_iter()
        .filter(|r| r.enrichment_status != EnrichmentStatus::Enriched)
        .collect();
    BatchFailures {
        batch,
        sends: total,
        failed,
        not_enriched,
    }
}

impl HeroClient {
    /// The patients of a batch that were not reached: every send that ended `ERROR`, traced to
    /// the recipient (NHS number) it was for, and the recipients Hero could not trace on the
    /// Spine (no send was made for them). Call it once the batch is `COMPLETED`
    /// ([`wait_for_batch`](Self::wait_for_batch)); it reads the batch, all its recipients and all
    /// its sends, page by page.
    ///
    /// A send names its recipient only by the contact detail it went to. When several recipients
    /// (different NHS numbers) share that contact detail, the send is [`Traced::Ambiguous`],
    /// with all of them; when none has it, [`Traced::Unmatched`]. Contact details compare in
    /// canonical form (`07700 900123` is `+447700900123`; emails in any case).
    ///
    /// ```no_run
    /// use herohealth::Traced;
    /// # async fn run(hero: herohealth::HeroClient) -> herohealth::Result<()> {
    /// let failures = hero.batch_failures("42").await?;
    /// for failed in &failures.failed {
    ///     match &failed.traced {
    ///         Traced::Recipient(patient) => {
    ///             // patient.nhs_number: follow them up another way
    ///             # let _ = patient;
    ///         }
    ///         Traced::Ambiguous(patients) => println!("one of {} patients sharing a contact detail", patients.len()),
    ///         _ => println!("a send to a contact detail no recipient has"),
    ///     }
    /// }
    /// println!("{} recipients were not found on the Spine", failures.not_enriched.len());
    /// # Ok(()) }
    /// ```
    pub async fn batch_failures(
        &self,
        batch_id: impl Into<String>,
    ) -> Result<BatchFailures, Error> {
        let id: String = batch_id.into();
        let pages = PageOptions::default().page_size(100);
        let batch = self
            .get_batch_message()
            .id(id.clone())
            .send()
            .await?
            .into_inner();
        let recipients: Vec<BatchRecipientRow> = self
            .list_batch_message_recipients()
            .id(id.clone())
            .stream_with(pages)
            .try_collect()
            .await?;
        let sends: Vec<BatchSend> = self
            .list_batch_message_sends()
            .id(id)
            .stream_with(pages)
            .try_collect()
            .await?;
        Ok(join(batch, recipients, sends))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(nhs: &str, mobile: &str, email: &str) -> BatchRecipientRow {
        serde_json::from_value(serde_json::json!({
            "enrichment_status": "ENRICHED", "nhs_number": nhs, "mobile": mobile, "email": email,
            "first_name": "Ada", "last_name": "Lovelace"
        }))
        .unwrap()
    }

    fn send(to: &str, status: &str) -> BatchSend {
        serde_json::from_value(serde_json::json!({
            "id": "s", "status": status, "recipient": to, "channel": "SMS", "content": "c",
            "sent_at": null, "created_at": null
        }))
        .unwrap()
    }

    #[test]
    fn a_send_is_traced_by_its_contact_in_any_spelling_and_a_shared_one_is_ambiguous() {
        let batch: BatchMessage = serde_json::from_value(serde_json::json!({
            "id": "b", "name": "n", "status": "COMPLETED", "channel": "SMS", "content": "c"
        }))
        .unwrap();
        let recipients = vec![
            row("9434765919", "07700 900123", "ada@example.org"),
            row("9434765870", "+447700900666", "grace@example.org"),
            row("9434765862", "+44 7700 900666", "alan@example.org"),
            // The same patient twice is one patient.
            row("943 476 5919", "07700900123", "ada@example.org"),
        ];
        let sends = vec![
            send("+447700900123", "ERROR"),
            send("07700900666", "ERROR"),
            send("ADA@example.org", "SUCCESS"),
            send("+447700900999", "ERROR"),
        ];
        let f = join(batch, recipients, sends);
        assert_eq!(f.sends, 4);
        assert_eq!(f.failed.len(), 3);
        assert_eq!(f.failed[0].traced.nhs_numbers()[0].expose(), "9434765919");
        assert!(matches!(f.failed[0].traced, Traced::Recipient(_)));
        assert!(f.failed[1].traced.is_ambiguous());
        assert_eq!(f.failed[1].traced.recipients().len(), 2);
        assert_eq!(f.failed[2].traced, Traced::Unmatched);
        assert_eq!(f.untraced(), 2);
        let shown = format!("{f:?}");
        for secret in ["9434765919", "900123", "ada@", "Lovelace"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}
