//! # herohealth
//!
//! Rust client for the [Hero Health](https://developer.herohealth.net) Public API's messaging
//! endpoints: send a patient an SMS, email or NHS App message, send one message to many patients
//! as a batch, poll delivery status, and write the message into the patient's record.
//!
//! The operations are generated at build time from `openapi.yaml` by progenitor; this crate adds
//! auth ([`HeroClient`]), retries ([`RetryPolicy`]), one [`Error`] type, validation of what is sent
//! ([`NhsNumber`], [`MessageText`], ...), forward-compatible enums and redaction of patient data.
//!
//! Every operation's `send()` returns [`Result`]`<`[`Response`]`<T>>`: the decoded body (with status
//! and headers) or one redacted [`Error`], which says whether a send went ([`WasSent`]). A send
//! whose outcome is unknown is resolved with [`HeroClient::find_send`]. `use herohealth::prelude::*`
//! brings in what most programs use. The [`guide`] has one page per topic (errors and outcomes,
//! finding a send, batches, bulk sending, webhooks, attachments, the mock, the CLI, privacy, ...).
//!
//! ```no_run
//! use herohealth::{HeroClient, MessageType};
//!
//! # async fn run() -> herohealth::Result<()> {
//! let hero = HeroClient::builder()
//!     .api_key(std::env::var("HERO_API_KEY").unwrap_or_default())
//!     .practice_group_id("demo-practice")
//!     .environment(herohealth::Environment::Staging)
//!     .build()?;
//! let sent = hero
//!     .send_message()
//!     .body_map(|b| {
//!         b.patient_id("98765")
//!             .message_type(MessageType::Sms)
//!             .message_string("Your test results are ready.")
//!     })
//!     .send()
//!     .await?;
//! println!("sent {}", sent.message_id);
//! # Ok(()) }
//! ```
//!
//! # Feature flags
//!
//! One TLS feature is meant to be on (the client refuses plain `http` off loopback). When several
//! are (`--all-features`, or two crates of one program asking for different ones), the client uses
//! `native-tls`, as reqwest does; a failed handshake is named as such with every backend.
//!
//! | feature | TLS |
//! | --- | --- |
//! | `rustls` (default) | rustls with the aws-lc-rs crypto provider (reqwest's default); the operating system's trust store |
//! | `rustls-ring` | rustls with the ring provider: the same TLS, a shorter clean build (no aws-lc-sys); use with `default-features = false` |
//! | `native-tls` | the platform's TLS library (OpenSSL, SChannel, Security framework); use with `default-features = false` |
//!
//! And `axum`: [`webhooks`]' `VerifiedEvent`, an axum 0.8 extractor that verifies a webhook
//! delivery before the handler runs.
//!
//! # Layout
//!
//! - Generated at build time from `openapi.yaml`: [`HeroClient`]'s operations, their request
//!   builders ([`builder`]) and the data types ([`types`]).
//! - Handwritten: configuration ([`HeroClientBuilder`]), [`Error`], [`RetryPolicy`], pagination
//!   ([`Paginate`]), waiters ([`WaitOptions`]), checked values ([`NhsNumber`], [`ContactDetail`],
//!   ...) and the rules across fields ([`check_send_message`]), forward-compatible enums
//!   ([`DeliveryStatus`], ...), redaction ([`Sensitive`]) and the resolution of a send whose
//!   outcome is unknown ([`HeroClient::find_send`], [`SendAttempt`]). Every item has one path, at
//!   the crate's root (or in [`types`] and [`builder`]); two subsystems have modules of their own:
//!   webhook deliveries verified and read ([`webhooks`]) and attachments ([`attachments`]).
//!
//! # Stability
//!
//! A field or enum value Hero adds later is not a breaking change for your code. The types
//! you receive are `#[non_exhaustive]` (build them in tests with `serde_json` or their
//! builders), the enums decode values they do not know as `Unknown`, and request types are built
//! through builders (`body_map`, `types::X::builder()`, [`types::BatchRecipient::new`]). CI
//! compiles `tests/semver_user_code.rs` unchanged against a spec with new fields to keep it so.
//!
//! ```compile_fail,E0639
//! // A response type cannot be built field by field outside the crate:
//! let page = herohealth::types::SentMessageList { data: vec![], count: 0 };
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The client generated from `openapi.yaml` (progenitor, builder style), reshaped by `build.rs`:
/// [`HeroClient`] with one method per operation, the request builders ([`builder`]), the data
/// types ([`types`]) and `spec`, facts of the spec for code that must not copy them.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
mod api {
    include!(concat!(env!("OUT_DIR"), "/codegen.rs"));
}

pub mod attachments;
mod attempt;
mod auth;
mod client;
mod clock;
mod enums;
mod error;
mod failures;
mod find;
#[doc(hidden)]
pub mod fuzzing;
pub mod guide;
mod pace;
mod paginate;
mod ranges;
mod recipient;
mod register;
mod response;
mod retry;
mod rules;
mod shapes;
mod shown;
mod state;
mod telemetry;
mod transport;
mod validate;
mod wait;
pub mod webhooks;

/// Facts of `openapi.yaml` (the operation table, the enum-valued fields) for the crates of this
/// workspace; not a stable API.
#[doc(hidden)]
pub use api::spec;
pub use api::{HeroClient, builder, types};
pub use attempt::SendAttempt;
pub use auth::{API_KEY_HEADER, PRACTICE_GROUP_ID_HEADER};
/// The date and time types the API's dates are (`NaiveDate` for a date of birth, `DateTime<Utc>`
/// for a moment), so a program needs no `chrono` dependency of its own to make them, and never a
/// second version.
///
/// ```
/// use herohealth::chrono::{NaiveDate, Utc};
/// let dob = NaiveDate::from_ymd_opt(1955, 6, 2).unwrap();
/// let recipient = herohealth::types::BatchRecipient::new("943 476 5919".parse().unwrap(), dob);
/// let since = Utc::now() - herohealth::chrono::Duration::days(7);
/// # let _ = (recipient, since);
/// ```
pub use chrono;
pub use client::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, ENV_API_KEY, ENV_BASE_URL, ENV_PRACTICE_GROUP_ID,
    ENV_TIMEOUT, HeroClientBuilder,
};
pub use clock::{ClockOffset, now};
pub use enums::{
    BatchChannel, BatchMessageStatus, BatchSendStatus, DeliveryStatus, EnrichmentStatus,
    MessageType, NullablePatientTitle, NullableWriteToRecordStatus, OPEN_ENUMS, OpenEnum,
    PatientTitle, TemplateLink, TemplateType, UnknownValue, UnknownVariant, WebhookEventType,
    WebhookObject, WriteToRecordStatus,
};
pub use error::{Error, ErrorKind, Result, WasSent};
pub use failures::{BatchFailures, FailedSend, Traced};
pub use find::{Candidate, FindOptions, Finding, FoundSend, Identified, TextCheck};
pub use pace::{LocalPaceStore, Pace, PaceFuture, PaceStore, PaceStoreError};
pub use paginate::{PageOptions, Paginate};
pub use ranges::{BackwardsRange, TimeRange};
pub use register::Registration;
/// The HTTP client this crate is built on (0.13), for [`HeroClientBuilder::configure_http`].
pub use reqwest;
pub use response::Response;
pub use retry::RetryPolicy;
pub use rules::{check_batch_message, check_send_message};
pub use shown::{CAPPED_LOG_TARGETS, REDACTED, Sensitive, Shown, ids, log_directives};
pub use state::{ENV_ENVIRONMENT, Environment};
pub use validate::{
    ContactDetail, IntoOptional, InvalidValue, MessageText, NhsNumber, PatientId, Refusal, Rule,
    SnomedCode,
};
pub use wait::{BatchOutcome, Delivery, Recording, WaitOptions};

/// What most programs use, in one import: `use herohealth::prelude::*;`.
///
/// ```
/// use herohealth::prelude::*;
/// # fn run(hero: HeroClient) {
/// let _stream = hero.list_sent_messages().stream(); // `Paginate` is in scope
/// # }
/// ```
pub mod prelude {
    pub use crate::{
        Error, ErrorKind, FindOptions, FoundSend, HeroClient, MessageType, PageOptions, Paginate,
        Result, WaitOptions, WasSent,
    };
}

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
