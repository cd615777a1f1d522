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
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};

use crate::enums::WebhookObject;

mod repeats;
pub use repeats::{Claim, DEFAULT_REPEAT_CAPACITY, DEFAULT_REPEAT_WINDOW, Occurrence, Repeats};

pub use crate::enums::WebhookEventType;

/// The header with the time Hero signed the delivery at (`X-Herohealth-Timestamp`).
pub const TIMESTAMP_HEADER: &str = "x-herohealth-timestamp";
/// The header with the delivery's signature (`X-Herohealth-Signature`).
pub const SIGNATURE_HEADER: &str = "x-herohealth-signature";
/// How far from now a delivery's timestamp may be, either side, by default: five minutes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The signing key of a webhook (Hero's `signing_key`): a checked request value, never printed.
pub use crate::validate::SigningKey;

/// HMAC-SHA256 keyed with `key`.
fn mac(key: &SigningKey) -> HmacSha256 {
    // HMAC takes a key of any length: this never fails.
    <HmacSha256 as KeyInit>::new_from_slice(key.expose().as_bytes())
        .expect("HMAC accepts a key of any length")
}

/// How a signature is written: Hero does not say, so [`Verifier`] accepts both; [`sign`] writes
/// either (for your own tests, and for herohealth-mock).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SignatureEncoding {
    /// 64 lower-case hex digits.
    #[default]
    Hex,
    /// Standard base64, padded (44 characters).
    Base64,
}

/// How a timestamp is written: Hero does not say, so [`Verifier`] reads all three.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TimestampFormat {
    /// Seconds since the Unix epoch (`1700000000`).
    #[default]
    UnixSeconds,
    /// Milliseconds since the Unix epoch (`1700000000000`).
    UnixMillis,
    /// RFC 3339 (`2023-11-14T22:13:20Z`).
    Rfc3339,
}

impl TimestampFormat {
    /// `at` as this format writes it.
    ///
    /// ```
    /// use herohealth::webhooks::TimestampFormat;
    /// let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    /// assert_eq!(TimestampFormat::UnixSeconds.format(at), "1700000000");
    /// assert_eq!(TimestampFormat::UnixMillis.format(at), "1700000000000");
    /// assert_eq!(TimestampFormat::Rfc3339.format(at), "2023-11-14T22:13:20Z");
    /// ```
    pub fn format(self, at: DateTime<Utc>) -> String {
        match self {
            Self::UnixSeconds => at.timestamp().to_string(),
            Self::UnixMillis => at.timestamp_millis().to_string(),
            Self::Rfc3339 => at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        }
    }
}

/// The signature Hero would send for `body` signed at `timestamp` (the timestamp header's text):
/// HMAC-SHA256 with `key` over `"{timestamp}.{body}"`, written in `encoding`. For tests of your
/// own handler, and for herohealth-mock's deliveries.
///
/// ```
/// use herohealth::webhooks::{SignatureEncoding, SigningKey, sign};
/// let key: SigningKey = "whsec-example".parse().unwrap();
/// let hex = sign(&key, "1700000000", br#"{"id":"1"}"#, SignatureEncoding::Hex);
/// assert_eq!(hex.len(), 64);
/// let b64 = sign(&key, "1700000000", br#"{"id":"1"}"#, SignatureEncoding::Base64);
/// assert_eq!(b64.len(), 44);
/// ```
pub fn sign(key: &SigningKey, timestamp: &str, body: &[u8], encoding: SignatureEncoding) -> String {
    let mut mac = mac(key);
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    match encoding {
        SignatureEncoding::Hex => hex::encode(tag),
        SignatureEncoding::Base64 => base64::engine::general_purpose::STANDARD.encode(tag),
    }
}

/// A short public name for a signing key: 16 hex digits, the start of HMAC-SHA256 keyed with the
/// key over a fixed text. It tells keys apart in a log (which key verified a delivery, as
/// `hero webhooks listen --seen-log` records) without the key: it says no more about the key than
/// any signed delivery already does.
///
/// ```
/// use herohealth::webhooks::{SigningKey, key_tag};
/// let key: SigningKey = "whsec-example".parse().unwrap();
/// let tag = key_tag(&key);
/// assert_eq!(tag.len(), 16);
/// assert_ne!(tag, key_tag(&"whsec-other".parse().unwrap()));
/// assert!(!tag.contains("whsec"));
/// ```
pub fn key_tag(key: &SigningKey) -> String {
    let mut mac = mac(key);
    mac.update(b"herohealth webhook signing key tag v1");
    hex::encode(&mac.finalize().into_bytes()[..8])
}

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
fn counted<T>(result: Result<T, WebhookError>) -> Result<T, WebhookError> {
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

/// One event Hero delivered: the envelope every documented channel uses,
/// `{object, id, practice_group_id, event}` (all required; other fields are ignored).
///
/// Unknown `object` and `event` values decode (as `Unknown`), so an event Hero adds later is read,
/// not refused. `Debug` shows `object` and `event` when the spec declares them and masks the rest:
///
/// ```
/// # use herohealth::webhooks::WebhookEvent;
/// let e = WebhookEvent::parse(br#"{"object":"Patient","id":"Zebedee_Quenby","practice_group_id":"p-1","event":"zebedee.quenby@example.org"}"#).unwrap();
/// assert_eq!(
///     format!("{e:?}"),
///     "WebhookEvent { object: Patient, id: …(14 chars), practice_group_id: <redacted>, event: Unknown(unknown(26 chars)) }"
/// );
/// ```
///
/// ```
/// use herohealth::webhooks::{WebhookEvent, WebhookEventType};
/// let e = WebhookEvent::parse(br#"{"object":"Appointment","id":"7","practice_group_id":"p-1","event":"appointment.confirmed","extra":1}"#).unwrap();
/// assert_eq!((e.event.clone(), e.id.as_str(), e.message_id()), (WebhookEventType::AppointmentConfirmed, "7", None));
/// let later = WebhookEvent::parse(br#"{"object":"Invoice","id":"8","practice_group_id":"p-1","event":"invoice.paid"}"#).unwrap();
/// assert!(!later.event.is_known() && !later.object.is_known());
/// let err = WebhookEvent::parse(br#"{"object":"Patient","id":"9"}"#).unwrap_err();
/// assert_eq!(err.to_string(), "webhook delivery refused: the body is not a Hero event: `practice_group_id` is missing");
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// What the event is about (`Appointment`, `Prescription`, ...).
    pub object: WebhookObject,
    /// The id of that object (for the write-to-record events, the message's id).
    pub id: String,
    /// The practice group the event belongs to (masked in `Debug`).
    pub practice_group_id: crate::Sensitive,
    /// What happened.
    pub event: WebhookEventType,
}

impl fmt::Debug for WebhookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookEvent")
            .field("object", &self.object)
            .field("id", &format_args!("{}", crate::shown::by_length(&self.id)))
            .field("practice_group_id", &self.practice_group_id)
            .field("event", &self.event)
            .finish()
    }
}

impl WebhookEvent {
    /// Reads an event from a delivery's body (already verified: see [`Verifier`]). A refusal
    /// names the field or the JSON category, never what the body holds.
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        let invalid = |why: String| WebhookError::InvalidEvent(why);
        let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
            invalid(format!(
                "not JSON ({})",
                crate::shown::body::decode_failure(None, &e, "WebhookEvent")
            ))
        })?;
        let Some(object) = value.as_object() else {
            return Err(invalid("not a JSON object".to_owned()));
        };
        // The envelope's four fields, named (they are not the API description's words, which
        // are all a masked serde message keeps).
        for field in ["object", "id", "practice_group_id", "event"] {
            match object.get(field) {
                None => return Err(invalid(format!("`{field}` is missing"))),
                Some(v) if !v.is_string() => {
                    return Err(invalid(format!("`{field}` is not a string")));
                }
                Some(_) => {}
            }
        }
        serde_json::from_value(value)
            .map_err(|e| invalid(crate::shown::body::decode_failure(None, &e, "WebhookEvent")))
    }

    /// `true` for `write-to-record.succeeded` and `write-to-record.failed`.
    pub fn is_write_to_record(&self) -> bool {
        matches!(
            self.event,
            WebhookEventType::WriteToRecordSucceeded | WebhookEventType::WriteToRecordFailed
        )
    }

    /// The message a write-to-record event is about (its `id`; Hero's payload for these events is
    /// unpublished, see the module docs), for `hero.get_message_status().id(..)`; `None` for other
    /// events.
    pub fn message_id(&self) -> Option<&str> {
        self.is_write_to_record().then_some(self.id.as_str())
    }
}

impl crate::types::WebhookListResponse {
    /// The webhooks, whichever shape Hero answered with (a `{data}` page or a bare array).
    ///
    /// ```
    /// let page: herohealth::types::WebhookListResponse = serde_json::from_str(
    ///     r#"{"data":[{"id":"1","event_type":"write-to-record.failed","url":"https://x.example/h","created_at":"t","updated_at":"t"}]}"#,
    /// ).unwrap();
    /// assert_eq!(page.into_webhooks()[0].id, "1");
    /// ```
    pub fn into_webhooks(self) -> Vec<crate::types::Webhook> {
        match self {
            Self::WebhookList(page) => page.data,
            Self::Array(items) => items,
        }
    }
}

#[cfg(feature = "axum")]
mod extract {
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
}

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use extract::{VerifiedEvent, WebhookRejection};
