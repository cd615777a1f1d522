//! What kind of error it is ([`ErrorKind`]), and whether a send went ([`WasSent`]): the two
//! answers a caller matches on.

#[cfg(doc)]
use super::Error;

/// What went wrong, in the terms a caller acts on.
///
/// ```
/// use herohealth::{ErrorKind, HeroClient};
/// let err = HeroClient::builder().build().unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidConfig);
/// assert_eq!(err.to_string(), "invalid client configuration: api_key is missing or empty");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The client configuration is incomplete or unsafe (missing key, http:// to a remote host, ...).
    InvalidConfig,
    /// A request value broke a rule; nothing was sent.
    InvalidRequest,
    /// Hero refused the credentials (401 or 403).
    Auth,
    /// Hero refused the request as invalid (400 or 422); see [`Error::validation_issues`].
    Validation,
    /// The resource does not exist for this practice group (404).
    NotFound,
    /// The request conflicts with the resource's state (409), e.g. a batch that was already sent.
    Conflict,
    /// Over the partner rate limit (429); see [`Error::retry_after`].
    RateLimited,
    /// Hero failed (5xx).
    Server,
    /// No response in time.
    Timeout,
    /// The connection failed, or broke before a response arrived.
    Connection,
    /// A response body that does not match the API description.
    Decode,
    /// Any other status the API description does not list.
    UnexpectedStatus,
    /// A waiter reached its deadline before a final state: nothing failed, it is just not done
    /// yet (see [`crate::WaitOptions::deadline`]). Not an HTTP timeout.
    WaitDeadline,
    /// A message ended `declined` or `fatal` where the caller asked for delivery
    /// ([`crate::Delivery::delivered`]).
    DeliveryFailed,
    /// The client's pace ([`crate::Pace`]) could not be kept: its shared schedule (a database)
    /// failed. Nothing was sent; try again when the schedule is back.
    Pace,
}

impl ErrorKind {
    pub(super) fn describe(self) -> &'static str {
        match self {
            Self::InvalidConfig => "invalid client configuration",
            Self::InvalidRequest => "invalid request, nothing was sent",
            Self::Auth => {
                "Hero refused the credentials: check the API key and the practice group id"
            }
            Self::Validation => "Hero rejected the request as invalid",
            Self::NotFound => "not found",
            Self::Conflict => "conflict with the resource's state (e.g. already sent)",
            Self::RateLimited => "rate limited by Hero",
            Self::Server => "Hero server error",
            Self::Timeout => "timed out waiting for Hero",
            Self::Connection => "connection to Hero failed",
            Self::Decode => "Hero's response did not match the API description",
            Self::UnexpectedStatus => "unexpected response status",
            Self::WaitDeadline => "still not final when the wait's deadline came",
            Self::DeliveryFailed => "the message was not delivered",
            Self::Pace => "the client's pace could not be kept, nothing was sent",
        }
    }
}

/// Whether a request that changes state (a send, a batch create or send) went: the one answer
/// to "was it sent?" an [`Error`] gives ([`Error::was_sent`]).
///
/// ```
/// use herohealth::{Error, WasSent};
/// fn next_step(e: &Error) -> &'static str {
///     match e.was_sent() {
///         WasSent::NotSent => "nothing reached Hero: fix the cause, or try again",
///         WasSent::MayHaveArrived => "look before sending again (find_send)",
///         WasSent::Accepted => "it went: never send it again",
///         _ => "look before sending again",
///     }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WasSent {
    /// Nothing was carried out: the request was refused before it was written, never reached
    /// Hero (the connection could not be made), or Hero refused it with a status that means it was
    /// not processed (a validation error, 401, 403, 404, 429). Also every error of a read.
    NotSent,
    /// The request was written and then the connection broke, timed out, or Hero answered a status
    /// that may follow processing (5xx, 3xx, 408, 409, a status the spec does not list): it may
    /// have gone. Look before sending again ([`crate::HeroClient::find_send`]).
    MayHaveArrived,
    /// Hero answered 2xx, and the answer could not be read or did not match the API description:
    /// it went. Never send it again.
    Accepted,
}
