//! Webhooks: verify a delivery from Hero and read its event.
//!
//! Hero POSTs each event a webhook subscribes to (`hero.create_webhook()`) to the webhook's URL as
//! a small JSON envelope, [`WebhookEvent`]: `{object, id, practice_group_id, event}`. When the
//! webhook has a signing key, two headers come with it: [`TIMESTAMP_HEADER`] and
//! [`SIGNATURE_HEADER`], the signature being HMAC-SHA256, keyed with the signing key, over
//! `"{timestamp}.{body}"`: the timestamp header's text, a dot, and the body's bytes exactly as sent.
//!
//! ```
//! use herohealth::webhooks::{SigningKey, Verifier};
//!
//! # fn handle(headers: &http::HeaderMap, body: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//! let key: SigningKey = std::env::var("HERO_WEBHOOK_SIGNING_KEY").unwrap_or_default().parse()?;
//! let event = Verifier::new(key).verify(headers, body)?; // 401 your caller on an error
//! if let Some(message_id) = event.message_id() {
//!     // write-to-record.succeeded or .failed: look the message up with
//!     // hero.get_message_status().id(message_id)
//! }
//! # Ok(()) }
//! ```
//!
//! # What is Hero's and what is inferred
//!
//! Published by Hero (developer.herohealth.net/pages/api/webhooks/security): the two headers, HMAC-SHA256
//! with the signing key, and the signed text `"{timestamp}.{raw body}"`. Not published, so read
//! leniently here:
//! - the signature's encoding: hex or base64 (standard or URL-safe, padded or not) are accepted,
//!   with or without a `sha256=` or `v1=` prefix; several signatures may be given, separated by
//!   commas or spaces (one matching is enough);
//! - the timestamp's format: Unix seconds, Unix milliseconds (13 digits or more) or RFC 3339;
//! - the tolerance: [`DEFAULT_TOLERANCE`], five minutes either side of now, set with
//!   [`Verifier::tolerance`];
//! - the key: its text's UTF-8 bytes are the HMAC key;
//! - the write-to-record events' payload: it is unpublished; it is read with the same envelope
//!   (unknown `object` and `event` values decode as `Unknown`) and its `id` taken as the message
//!   id ([`WebhookEvent::message_id`]), which leads to `get_message_status`;
//! - Hero's retries: unpublished. Answer 2xx quickly and make handling an event twice harmless.
//!
//! Nothing here prints the signing key, the signature or the body: the errors name the header, the
//! rule or the JSON path, and [`WebhookEvent`]'s `Debug` masks the `id` and the practice group
//! (no form is declared for them) and shows `object` and `event` only as values the spec
//! declares (`unknown(N chars)` otherwise).

use std::{fmt, time::Duration};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::Mac;

mod error;
mod event;
mod repeats;
mod signing;

pub use error::WebhookError;
use error::counted;
pub use event::WebhookEvent;
pub use repeats::{Claim, DEFAULT_REPEAT_CAPACITY, DEFAULT_REPEAT_WINDOW, Occurrence, Repeats};
use signing::mac;
pub use signing::{SignatureEncoding, TimestampFormat, key_tag, sign};

pub use crate::enums::WebhookEventType;

/// The header with the time Hero signed the delivery at (`X-Herohealth-Timestamp`).
pub const TIMESTAMP_HEADER: &str = "x-herohealth-timestamp";
/// The header with the delivery's signature (`X-Herohealth-Signature`).
pub const SIGNATURE_HEADER: &str = "x-herohealth-signature";
/// How far from now a delivery's timestamp may be, either side, by default: five minutes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The signing key of a webhook (Hero's `signing_key`): a checked request value, never printed.
pub use crate::validate::SigningKey;

/// Checks deliveries signed with one key, or with any of several (a key being rotated: see
/// [`add_key`](Self::add_key)): the signature, then the timestamp against now
/// (± [`DEFAULT_TOLERANCE`] unless set), then reads the event.
///
/// ```
/// use std::time::Duration;
/// use herohealth::webhooks::{
///     SIGNATURE_HEADER, SignatureEncoding, SigningKey, TIMESTAMP_HEADER, Verifier, WebhookError,
///     WebhookEventType, sign,
/// };
///
/// let key: SigningKey = "whsec-example".parse().unwrap();
/// let body = br#"{"object":"Message","id":"42","practice_group_id":"p-1","event":"write-to-record.succeeded"}"#;
/// let now = chrono::Utc::now();
/// let ts = now.timestamp().to_string();
/// let mut headers = http::HeaderMap::new();
/// headers.insert(TIMESTAMP_HEADER, ts.parse().unwrap());
/// headers.insert(SIGNATURE_HEADER, sign(&key, &ts, body, SignatureEncoding::Hex).parse().unwrap());
///
/// let verifier = Verifier::new(key).tolerance(Duration::from_secs(60)).now(now);
/// let event = verifier.verify(&headers, body).unwrap();
/// assert_eq!(event.event, WebhookEventType::WriteToRecordSucceeded);
/// assert_eq!(event.message_id(), Some("42"));
///
/// // The same delivery ten minutes later is a replay.
/// let later = verifier.clone().now(now + chrono::Duration::minutes(10));
/// assert!(matches!(later.verify(&headers, body), Err(WebhookError::TooOld { .. })));
/// // A changed body fails the signature.
/// let changed = String::from_utf8_lossy(body).replace("\"42\"", "\"43\"");
/// assert_eq!(verifier.verify(&headers, changed.as_bytes()), Err(WebhookError::BadSignature));
/// ```
///
/// During a key rotation both webhooks deliver, one signed with each key: give the verifier both,
/// and a delivery signed with either is accepted ([`signed_by`](Self::signed_by) says which).
///
/// ```
/// use herohealth::webhooks::{SIGNATURE_HEADER, SignatureEncoding, SigningKey, TIMESTAMP_HEADER, Verifier, sign};
///
/// let old: SigningKey = "whsec-old".parse().unwrap();
/// let new: SigningKey = "whsec-new".parse().unwrap();
/// let verifier = Verifier::new(old.clone()).add_key(new.clone());
/// let body = br#"{"object":"Message","id":"42","practice_group_id":"p-1","event":"write-to-record.failed"}"#;
/// let ts = chrono::Utc::now().timestamp().to_string();
/// for (key, index) in [(&old, 0), (&new, 1)] {
///     let mut headers = http::HeaderMap::new();
///     headers.insert(TIMESTAMP_HEADER, ts.parse().unwrap());
///     headers.insert(SIGNATURE_HEADER, sign(key, &ts, body, SignatureEncoding::Hex).parse().unwrap());
///     assert_eq!(verifier.signed_by(&headers, body), Ok(index));
/// }
/// ```
#[derive(Clone)]
pub struct Verifier {
    /// Never empty: `new` takes one, `add_key` adds.
    keys: Vec<SigningKey>,
    tolerance: Duration,
    now: Option<DateTime<Utc>>,
    repeats: Repeats,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.keys)
            .field("tolerance", &self.tolerance)
            .field("now", &self.now)
            .field("repeats", &self.repeats)
            .finish()
    }
}

impl Verifier {
    /// A verifier for deliveries signed with `key`, with the default tolerance, the system
    /// clock and a default [`Repeats`] (used by [`receive`](Self::receive) and the extractor).
    pub fn new(key: SigningKey) -> Self {
        Self {
            keys: vec![key],
            tolerance: DEFAULT_TOLERANCE,
            now: None,
            repeats: Repeats::default(),
        }
    }

    /// A verifier for deliveries signed with any one of `keys`; `None` when there is none.
    ///
    /// ```
    /// use herohealth::webhooks::{SigningKey, Verifier};
    /// let keys: Vec<SigningKey> = vec!["whsec-old".parse().unwrap(), "whsec-new".parse().unwrap()];
    /// assert_eq!(Verifier::with_keys(keys).unwrap().key_count(), 2);
    /// assert!(Verifier::with_keys(Vec::new()).is_none());
    /// ```
    pub fn with_keys(keys: impl IntoIterator<Item = SigningKey>) -> Option<Self> {
        let mut keys = keys.into_iter();
        let first = keys.next()?;
        Some(keys.fold(Self::new(first), Self::add_key))
    }

    /// Accept deliveries signed with `key` too (any one key verifying is enough; each is checked
    /// in constant time, and every key is always checked, so the time taken does not say which
    /// one came close).
    pub fn add_key(mut self, key: SigningKey) -> Self {
        self.keys.push(key);
        self
    }

    /// How many keys it accepts.
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// How far from now a timestamp may be, either side (default [`DEFAULT_TOLERANCE`]).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Take `now` as the current time instead of the system clock: for tests.
    pub fn now(mut self, now: DateTime<Utc>) -> Self {
        self.now = Some(now);
        self
    }

    /// Remember verified events in `repeats` (shared by every clone of this verifier) instead of
    /// a default [`Repeats`]: see [`receive`](Self::receive).
    pub fn repeats(mut self, repeats: Repeats) -> Self {
        self.repeats = repeats;
        self
    }

    /// Verifies the delivery's signature and timestamp, then reads its event.
    pub fn verify(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<WebhookEvent, WebhookError> {
        counted(
            self.key_of(headers, body)
                .and_then(|_| WebhookEvent::parse(body)),
        )
    }

    /// As [`verify`](Self::verify), and then says whether the event was acted on before (see
    /// [`Repeats`]): only a verified delivery is claimed, so a forged one can never make a real
    /// one look like a repeat. Act on a first, then call [`Received::done`]: until then another
    /// copy of the event is refused as [`WebhookError::InFlight`] (answer 503), and if the
    /// [`Received`] is dropped without `done` (your handling failed) the event is not
    /// remembered, so Hero's retry is a first again.
    ///
    /// ```
    /// use herohealth::webhooks::{SIGNATURE_HEADER, SignatureEncoding, SigningKey, TIMESTAMP_HEADER, Verifier, sign};
    ///
    /// let key: SigningKey = "whsec-example".parse().unwrap();
    /// let verifier = Verifier::new(key.clone());
    /// let body = br#"{"object":"Message","id":"42","practice_group_id":"p-1","event":"write-to-record.succeeded"}"#;
    /// let ts = chrono::Utc::now().timestamp().to_string();
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert(TIMESTAMP_HEADER, ts.parse().unwrap());
    /// headers.insert(SIGNATURE_HEADER, sign(&key, &ts, body, SignatureEncoding::Hex).parse().unwrap());
    /// let first = verifier.receive(&headers, body).unwrap();
    /// assert!(!first.repeat);
    /// // ... act on first.event; only then:
    /// first.done();
    /// assert!(verifier.receive(&headers, body).unwrap().repeat); // act on it once only
    /// ```
    pub fn receive(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<Received, WebhookError> {
        counted(self.received(headers, body).1)
    }

    /// As [`receive`](Self::receive), not counted, with the index of the key that verified the
    /// delivery when one did (a copy refused as in flight was verified).
    fn received(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> (Option<usize>, Result<Received, WebhookError>) {
        let key = match self.key_of(headers, body) {
            Ok(key) => key,
            Err(e) => return (None, Err(e)),
        };
        let result = WebhookEvent::parse(body).and_then(|event| {
            let claim = self.repeats.claim(body);
            if claim.occurrence() == Occurrence::InFlight {
                return Err(WebhookError::InFlight);
            }
            Ok(Received {
                event,
                key,
                repeat: claim.is_repeat(),
                claim,
            })
        });
        (Some(key), result)
    }

    /// Verifies the delivery's signature and timestamp only (the body need not be an event).
    pub fn verify_signature(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<(), WebhookError> {
        counted(self.key_of(headers, body)).map(|_| ())
    }

    /// As [`verify_signature`](Self::verify_signature), and says which key signed it: its index
    /// in the order the keys were given (`new`'s is 0, then each `add_key` in turn). Every
    /// signature header is read (a proxy may have split one into several), and each may hold
    /// several signatures separated by commas or spaces: one matching one key is enough.
    pub fn signed_by(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<usize, WebhookError> {
        counted(self.key_of(headers, body))
    }

    /// As [`signed_by`](Self::signed_by), not counted (`herohealth.webhook.verifications`).
    fn key_of(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<usize, WebhookError> {
        fn text<'a>(
            value: &'a http::HeaderValue,
            name: &'static str,
        ) -> Result<&'a str, WebhookError> {
            value.to_str().map_err(|_| WebhookError::MalformedHeader {
                header: name,
                reason: "is not visible ASCII text",
            })
        }
        let mut timestamps = headers.get_all(TIMESTAMP_HEADER).iter();
        let timestamp = timestamps
            .next()
            .ok_or(WebhookError::MissingHeader(TIMESTAMP_HEADER))?;
        if timestamps.any(|other| other != timestamp) {
            return Err(WebhookError::MalformedHeader {
                header: TIMESTAMP_HEADER,
                reason: "is given more than once, with different values",
            });
        }
        let timestamp = text(timestamp, TIMESTAMP_HEADER)?;
        let mut signatures = Vec::new();
        for value in headers.get_all(SIGNATURE_HEADER) {
            signatures.push(text(value, SIGNATURE_HEADER)?);
        }
        if signatures.is_empty() {
            return Err(WebhookError::MissingHeader(SIGNATURE_HEADER));
        }
        self.check(timestamp, &signatures, body)
    }

    /// As [`verify_signature`](Self::verify_signature), from the two headers' text.
    pub fn verify_parts(
        &self,
        timestamp: &str,
        signature: &str,
        body: &[u8],
    ) -> Result<(), WebhookError> {
        counted(self.check(timestamp, &[signature], body)).map(|_| ())
    }

    /// The index of the key that signed `body` at `timestamp` with one of `signatures`, if the
    /// timestamp is within the tolerance.
    fn check(
        &self,
        timestamp: &str,
        signatures: &[&str],
        body: &[u8],
    ) -> Result<usize, WebhookError> {
        let signed_at = parse_timestamp(timestamp).ok_or(WebhookError::MalformedHeader {
            header: TIMESTAMP_HEADER,
            reason: "is not a timestamp in Unix seconds, Unix milliseconds or RFC 3339",
        })?;
        let candidates: Vec<Vec<u8>> = signatures
            .iter()
            .flat_map(|header| header.split([',', ' ', '\t']))
            .filter(|s| !s.is_empty())
            .filter_map(decode_signature)
            .collect();
        if candidates.is_empty() {
            return Err(WebhookError::MalformedHeader {
                header: SIGNATURE_HEADER,
                reason: "holds no HMAC-SHA256 signature in hex or base64",
            });
        }
        // Every key against every candidate (in constant time each), so the time taken does not
        // say which one came close; the first key that matches is the answer.
        let mut matched = None;
        for (index, key) in self.keys.iter().enumerate() {
            let mut mac = mac(key);
            mac.update(timestamp.as_bytes());
            mac.update(b".");
            mac.update(body);
            let ok = candidates
                .iter()
                .fold(false, |ok, c| mac.clone().verify_slice(c).is_ok() | ok);
            if ok && matched.is_none() {
                matched = Some(index);
            }
        }
        let Some(index) = matched else {
            return Err(WebhookError::BadSignature);
        };
        let now = self.now.unwrap_or_else(Utc::now);
        let tolerance = self.tolerance;
        match (now - signed_at).to_std() {
            Ok(age) if age > tolerance => Err(WebhookError::TooOld { age, tolerance }),
            Ok(_) => Ok(index),
            Err(_) => match (signed_at - now).to_std() {
                Ok(ahead) if ahead > tolerance => {
                    Err(WebhookError::InTheFuture { ahead, tolerance })
                }
                _ => Ok(index),
            },
        }
    }
}

/// A delivery [`Verifier::receive`] accepted. Once you have acted on its event, call
/// [`done`](Self::done); dropped without it, the event is not remembered (Hero's retry is acted
/// on).
#[derive(Debug)]
#[non_exhaustive]
pub struct Received {
    /// Its event.
    pub event: WebhookEvent,
    /// Which of the verifier's keys signed it (0 for `new`'s, then each `add_key` in turn).
    pub key: usize,
    /// The same event (the same body, see [`Repeats`]) was acted on before, within the window of
    /// the verifier's [`Repeats`]: act on it no further, answer 2xx all the same.
    pub repeat: bool,
    claim: Claim,
}

impl Received {
    /// The event was acted on: a later copy of it, within the window, is a repeat. Call it once
    /// your handling succeeded (for a repeat it does nothing).
    pub fn done(&self) {
        self.claim.done();
    }
}

/// Verifies a delivery with the default tolerance and the system clock, and reads its event:
/// `Verifier::new(key.clone()).verify(headers, body)`.
///
/// ```
/// # fn handle(headers: &http::HeaderMap, body: &[u8], key: &herohealth::webhooks::SigningKey) {
/// match herohealth::webhooks::verify(headers, body, key) {
///     Ok(event) => println!("{} {}", event.event, event.id),
///     Err(e) if e.is_unauthorised() => eprintln!("401: {e}"),
///     Err(e) => eprintln!("400: {e}"),
/// }
/// # }
/// ```
pub fn verify(
    headers: &http::HeaderMap,
    body: &[u8],
    key: &SigningKey,
) -> Result<WebhookEvent, WebhookError> {
    Verifier::new(key.clone()).verify(headers, body)
}

/// Unix seconds, Unix milliseconds (13 digits or more: seconds that large are past the year
/// 5000) or RFC 3339.
fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = t.parse().ok()?;
        if t.len() >= 13 {
            DateTime::from_timestamp_millis(n)
        } else {
            DateTime::from_timestamp(n, 0)
        }
    } else {
        DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }
}

/// One signature of the header, as the 32 bytes of an HMAC-SHA256: `sha256=`/`v1=` prefix
/// dropped, then hex or base64 (standard or URL-safe, padded or not).
fn decode_signature(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let lower = text.get(..7).map(str::to_ascii_lowercase);
    let s = if lower.as_deref() == Some("sha256=") {
        &text[7..]
    } else if text.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("v1=")) {
        &text[3..]
    } else {
        text
    };
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return hex::decode(s).ok();
    }
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(s).ok())
        .filter(|bytes| bytes.len() == 32)
}

#[cfg(feature = "axum")]
mod extract;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use extract::{VerifiedEvent, WebhookRejection};
