//! How a wait ended: [`Delivery`], [`Recording`] and [`BatchOutcome`], values the caller must
//! look at (a declined message is not a success).

use crate::{
    DeliveryStatus,
    api::types,
    error::{Error, ErrorKind},
};

/// How a message ended: [`HeroClient::wait_for_delivery`](crate::HeroClient::wait_for_delivery)'s
/// answer. Look at it: only [`Delivered`](Delivery::Delivered) reached the patient.
///
/// ```
/// use herohealth::{Delivery, ErrorKind};
/// # fn check(d: Delivery) -> herohealth::Result<()> {
/// match &d {
///     Delivery::Delivered(s) => println!("delivered at {:?}", s.status.sent_at),
///     Delivery::Declined(_) | Delivery::Fatal(_) => println!("not delivered: follow the patient up"),
///     _ => println!("a final state this version does not know"),
/// }
/// // Or: delivered, or an error of kind DeliveryFailed.
/// let status = d.delivered()?;
/// # let _ = status; Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a message may have been declined or failed: look at how it ended"]
#[non_exhaustive]
pub enum Delivery {
    /// `delivered`.
    Delivered(types::MessageStatus),
    /// `declined`: the recipient's network refused it.
    Declined(types::MessageStatus),
    /// `fatal`: it failed for good.
    Fatal(types::MessageStatus),
}

impl Delivery {
    /// The final status, whatever it is.
    pub fn status(&self) -> &types::MessageStatus {
        match self {
            Delivery::Delivered(s) | Delivery::Declined(s) | Delivery::Fatal(s) => s,
        }
    }

    /// `true` for [`Delivery::Delivered`].
    pub fn is_delivered(&self) -> bool {
        matches!(self, Delivery::Delivered(_))
    }

    /// The status when delivered; otherwise an error of kind [`ErrorKind::DeliveryFailed`]
    /// naming the final state.
    pub fn delivered(self) -> Result<types::MessageStatus, Error> {
        match self {
            Delivery::Delivered(s) => Ok(s),
            other => Err(Error::new(
                ErrorKind::DeliveryFailed,
                format!(
                    "message {} ended `{}`",
                    crate::ids::MESSAGE_ID.shown(&other.status().id),
                    other.status().status.response
                ),
            )),
        }
    }

    pub(super) fn from_status(s: types::MessageStatus) -> Self {
        match s.status.response {
            DeliveryStatus::Declined => Delivery::Declined(s),
            DeliveryStatus::Fatal => Delivery::Fatal(s),
            _ => Delivery::Delivered(s),
        }
    }
}

/// How the write of a message into the patient's record ended:
/// [`HeroClient::wait_for_record`](crate::HeroClient::wait_for_record)'s answer.
/// [`Recording::record_status`] gives it as the [`WriteToRecordStatus`](crate::WriteToRecordStatus)
/// the other message types use.
#[derive(Debug, Clone, PartialEq)]
#[must_use = "the write to the record may have failed: look at how it ended"]
#[non_exhaustive]
pub enum Recording {
    /// Written into the record.
    Written(types::MessageStatus),
    /// The write failed (`errors.write_to_record` says why).
    Failed(types::MessageStatus),
    /// The message was sent without `write_to_record`: nothing will be written.
    NotRequested(types::MessageStatus),
}

impl Recording {
    /// The final status.
    pub fn status(&self) -> &types::MessageStatus {
        match self {
            Recording::Written(s) | Recording::Failed(s) | Recording::NotRequested(s) => s,
        }
    }

    /// `true` for [`Recording::Written`].
    pub fn is_written(&self) -> bool {
        matches!(self, Recording::Written(_))
    }

    /// The same ending as a [`WriteToRecordStatus`](crate::WriteToRecordStatus): `success`,
    /// `failed` or `not_written`, as [`types::SentMessage::record_status`] reads it.
    pub fn record_status(&self) -> crate::WriteToRecordStatus {
        match self {
            Recording::Written(_) => crate::WriteToRecordStatus::Success,
            Recording::Failed(_) => crate::WriteToRecordStatus::Failed,
            Recording::NotRequested(_) => crate::WriteToRecordStatus::NotWritten,
        }
    }

    pub(super) fn of(s: &types::MessageStatus) -> Option<fn(types::MessageStatus) -> Recording> {
        if !s.write_to_record {
            Some(Recording::NotRequested)
        } else if s.errors.write_to_record.is_some() {
            Some(Recording::Failed)
        } else if s.status.write_to_record_at.is_some() {
            Some(Recording::Written)
        } else {
            None
        }
    }
}

/// How a batch ended: [`HeroClient::wait_for_batch`](crate::HeroClient::wait_for_batch)'s answer. A
/// `COMPLETED` batch can hold sends that failed: look at [`failed_sends`](Self::failed_sends), and
/// [`HeroClient::batch_failures`](crate::HeroClient::batch_failures) says which patients they were
/// for.
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a completed batch can hold failed sends: look at them"]
pub struct BatchOutcome {
    /// The batch, `COMPLETED`.
    pub batch: types::BatchMessage,
    /// Sends in all.
    pub sends: u64,
    /// Sends that ended `ERROR`.
    pub failed_sends: u64,
}

impl BatchOutcome {
    /// `true` when no send failed.
    pub fn all_sent(&self) -> bool {
        self.failed_sends == 0
    }
}
