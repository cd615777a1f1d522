//! Why a delivery was refused ([`WebhookError`]), and the count of verifications by outcome.

use std::time::Duration;

#[cfg(doc)]
use super::Repeats;

/// Why a delivery was refused. Its `Display` names the header or the rule broken, never a value
/// (the key, the signature, the timestamp or the body).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// A header is missing (a webhook created without a signing key sends neither).
    #[error("webhook delivery refused: the {0} header is missing")]
    MissingHeader(&'static str),
    /// A header is there but cannot be read: not text, a timestamp in none of the three formats,
    /// or no signature in hex or base64 of 32 bytes.
    #[error("webhook delivery refused: the {header} header {reason}")]
    MalformedHeader {
        /// The header.
        header: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No signature matches: another key signed it, or the body or timestamp was changed.
    #[error(
        "webhook delivery refused: the signature does not match (another signing key, or the body or timestamp was changed)"
    )]
    BadSignature,
    /// The signed timestamp is further in the past than the tolerance: a replay, or a delivery
    /// held up too long.
    #[error(
        "webhook delivery refused: signed {} s ago, more than the tolerance of {} s",
        .age.as_secs(),
        .tolerance.as_secs()
    )]
    TooOld {
        /// How long ago it was signed.
        age: Duration,
        /// The tolerance it exceeds.
        tolerance: Duration,
    },
    /// The signed timestamp is further in the future than the tolerance (a clock far off).
    #[error(
        "webhook delivery refused: signed {} s in the future, more than the tolerance of {} s",
        .ahead.as_secs(),
        .tolerance.as_secs()
    )]
    InTheFuture {
        /// How far ahead of now.
        ahead: Duration,
        /// The tolerance it exceeds.
        tolerance: Duration,
    },
    /// The (verified) body is not an event envelope: not JSON, or a required field missing or of
    /// the wrong type. The message names the JSON path and the rule, not the values.
    #[error("webhook delivery refused: the body is not a Hero event: {0}")]
    InvalidEvent(String),
    /// Verified, but the same event is being handled now (its other copy arrived a moment
    /// before, see [`Repeats`]): answer 503, so that it is delivered again once that handler has
    /// finished (then a repeat, or, that handler having failed, a first to act on).
    #[error(
        "webhook delivery deferred: the same event is being handled now; answered 503 so that it is delivered again"
    )]
    InFlight,
}

/// A verification's result, counted by its name (`herohealth.webhook.verifications`, feature
/// `metrics`).
pub(super) fn counted<T>(result: Result<T, WebhookError>) -> Result<T, WebhookError> {
    crate::telemetry::webhook_verified(match &result {
        Ok(_) => "verified",
        Err(WebhookError::MissingHeader(_)) => "missing_header",
        Err(WebhookError::MalformedHeader { .. }) => "malformed_header",
        Err(WebhookError::BadSignature) => "bad_signature",
        Err(WebhookError::TooOld { .. }) => "too_old",
        Err(WebhookError::InTheFuture { .. }) => "in_the_future",
        Err(WebhookError::InvalidEvent(_)) => "invalid_event",
        Err(WebhookError::InFlight) => "in_flight",
    });
    result
}

impl WebhookError {
    /// `true` for a refusal of who sent it or when (a missing or malformed header, a bad
    /// signature, a timestamp out of tolerance): answer 401. `false` for a body that is not an
    /// event (answer 400) and for [`InFlight`](Self::InFlight) (answer 503).
    ///
    /// ```
    /// use herohealth::webhooks::WebhookError;
    /// assert!(WebhookError::BadSignature.is_unauthorised());
    /// assert!(!WebhookError::InvalidEvent("missing field `id`".into()).is_unauthorised());
    /// assert!(!WebhookError::InFlight.is_unauthorised());
    /// ```
    pub fn is_unauthorised(&self) -> bool {
        !matches!(self, Self::InvalidEvent(_) | Self::InFlight)
    }

    /// The HTTP status to answer the delivery with: 401 (who or when), 400 (not an event) or 503
    /// (the same event is being handled now: deliver it again).
    ///
    /// ```
    /// use herohealth::webhooks::WebhookError;
    /// assert_eq!(WebhookError::BadSignature.status(), 401);
    /// assert_eq!(WebhookError::InvalidEvent("`id` is missing".into()).status(), 400);
    /// assert_eq!(WebhookError::InFlight.status(), 503);
    /// ```
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidEvent(_) => 400,
            Self::InFlight => 503,
            _ => 401,
        }
    }
}
