use super::*;
use axum_core::{
    extract::{FromRef, FromRequest, Request},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use http::StatusCode;

/// An axum extractor (feature `axum`): a delivery whose signature and timestamp the state's
/// [`Verifier`] accepted, its event, and whether that event was acted on before
/// ([`is_repeat`](Self::is_repeat), from the verifier's [`Repeats`]). A refused delivery is
/// answered 401 (signature, headers, time), 400 (not an event) or 503 (the same event is
/// being handled now: delivered again later) with the error's text, which holds no value of
/// the request.
///
/// **Act once:** skip a repeat; act on a first, then call [`done`](Self::done). An event is
/// remembered only by `done`: a handler that fails before it (an error answered 5xx, an early
/// `?`, a panic) leaves it unremembered, so Hero's retry reaches the handler as a first again.
///
/// ```
/// use axum::{Router, http::StatusCode, routing::post};
/// use herohealth::webhooks::{VerifiedEvent, Verifier};
///
/// async fn act_on(message_id: &str) -> Result<(), std::io::Error> {
///     // write-to-record.succeeded or .failed: hero.get_message_status().id(message_id), ...
///     Ok(())
/// }
///
/// async fn on_hero_event(delivery: VerifiedEvent) -> StatusCode {
///     if delivery.is_repeat() {
///         return StatusCode::NO_CONTENT; // acted on already: a retry, or a rotation's overlap
///     }
///     if let Some(message_id) = delivery.event.message_id() {
///         if act_on(message_id).await.is_err() {
///             return StatusCode::INTERNAL_SERVER_ERROR; // not remembered: Hero's retry is acted on
///         }
///     }
///     delivery.done(); // acted on: a later copy is a repeat
///     StatusCode::NO_CONTENT
/// }
///
/// # fn app() -> Result<Router, herohealth::InvalidValue> {
/// let key = std::env::var("HERO_WEBHOOK_SIGNING_KEY").unwrap_or_default().parse()?;
/// let app = Router::new()
///     .route("/hero/webhooks", post(on_hero_event))
///     .with_state(Verifier::new(key));
/// # Ok(app) }
/// ```
pub struct VerifiedEvent {
    /// The event.
    pub event: WebhookEvent,
    key: usize,
    claim: Claim,
    body: Bytes,
}

impl VerifiedEvent {
    /// The body exactly as Hero sent it (to forward it on with its signature headers).
    pub fn raw_body(&self) -> &[u8] {
        &self.body
    }

    /// The event, by value.
    pub fn into_event(self) -> WebhookEvent {
        self.event
    }

    /// `true` when the same event was acted on (its handler called [`done`](Self::done))
    /// within the window of the verifier's [`Repeats`]: a retry, or the other webhook's copy
    /// during a key rotation. Answer 2xx, act on it no further.
    pub fn is_repeat(&self) -> bool {
        self.claim.is_repeat()
    }

    /// The event was acted on: from now, within the window, a copy of it is a repeat. Call
    /// it once the handler has succeeded; a handler that returns without it (an error, a
    /// 5xx) leaves the event unremembered, so Hero's retry is acted on.
    pub fn done(&self) {
        self.claim.done();
    }

    /// Which of the verifier's keys signed it (0 for `Verifier::new`'s, then each
    /// `add_key` in turn).
    pub fn key_index(&self) -> usize {
        self.key
    }
}

impl fmt::Debug for VerifiedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedEvent")
            .field("event", &self.event)
            .field("key", &self.key)
            .field("repeat", &self.is_repeat())
            .field("body", &format_args!("({} bytes)", self.body.len()))
            .finish()
    }
}

/// Why [`VerifiedEvent`] refused a request: a [`WebhookError`], or a body that could not be
/// read (too large, or cut off). Answered 401, 400, 503 ([`WebhookError::InFlight`]) or 413
/// with its `Display`, a text that holds no value of the request.
///
/// ```
/// use herohealth::webhooks::{VerifiedEvent, WebhookRejection};
///
/// // The obvious handler: `?`-style with the rejection as an error.
/// async fn on_hero_event(
///     delivery: Result<VerifiedEvent, WebhookRejection>,
/// ) -> Result<(), Box<dyn std::error::Error>> {
///     let delivery = delivery.map_err(|e| {
///         eprintln!("refused ({}): {e}", e.status());
///         e
///     })?;
///     let _ = delivery.event;
///     Ok(())
/// }
/// ```
#[derive(Debug)]
pub struct WebhookRejection {
    status: StatusCode,
    error: Option<WebhookError>,
    key: Option<usize>,
}

impl WebhookRejection {
    /// The verification error, when it got that far.
    pub fn error(&self) -> Option<&WebhookError> {
        self.error.as_ref()
    }

    /// Which of the verifier's keys signed the delivery, when its signature was verified
    /// and it was refused after that (a body that is not an event, or a copy of an event
    /// being handled now, [`WebhookError::InFlight`]).
    pub fn key_index(&self) -> Option<usize> {
        self.key
    }

    /// The status it is answered with.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error {
            Some(e) => fmt::Display::fmt(e, f),
            None => f.write_str("webhook delivery refused: the body could not be read"),
        }
    }
}

impl std::error::Error for WebhookRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.as_ref().map(|e| e as _)
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        (self.status, self.to_string()).into_response()
    }
}

impl<S> FromRequest<S> for VerifiedEvent
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebhookRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = Verifier::from_ref(state);
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|e| WebhookRejection {
                status: e.status(),
                error: None,
                key: None,
            })?;
        let (signed_by, result) = verifier.received(&headers, &body);
        match counted(result) {
            Ok(Received {
                event, key, claim, ..
            }) => Ok(Self {
                event,
                key,
                claim,
                body,
            }),
            Err(error) => Err(WebhookRejection {
                status: StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST),
                error: Some(error),
                key: signed_by,
            }),
        }
    }
}
