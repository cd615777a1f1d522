//! # herohealth-mock
//!
//! A stateful local Hero Health API server for offline tests: every operation of the crate's
//! `openapi.yaml`, with auth, Hero's validation errors, message and batch lifecycles on a clock you
//! can speed up, pagination, seeded data, fault injection and a request journal.
//!
//! ```
//! use herohealth::MessageType;
//! use herohealth_mock::MockServer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> herohealth::Result<()> {
//! let mock = MockServer::start().await;
//! let hero = mock.client(); // a HeroClient for the demo key
//! let sent = hero
//!     .send_message()
//!     .body_map(|b| b.patient_id("98765").message_type(MessageType::Sms).message_string("Hello"))
//!     .send()
//!     .await?;
//! assert_eq!(mock.calls("send_message"), 1);
//! # let _ = sent;
//! # Ok(()) }
//! ```
//!
//! Pagination (Hero does not document it, so these are the mock's choices, configurable where they
//! matter): `page_index` counts from 0; `page_size` defaults to 20 and is capped at 100; `count` is
//! the number of items matching the filters across all pages ([`CountMode::Total`]), or the number
//! on this page ([`CountMode::Page`]). A page past the end is empty.
//!
//! In your own tests: [`MockServer::inject`] a [`FaultRule`] (its call count starts when it is
//! added), [`Fault::Validation`] for Hero's 400 naming fields, [`MockServer::journal`] and
//! [`JournalEntry::body_as`] for every request's body, [`MockServer::sent_messages`] for what it
//! stored, [`MockServer::now`] and [`MockServer::advance`] for the clock,
//! [`MockConfig::rate_limit`] and [`MockConfig::list_delay`] for a busy Hero,
//! [`MockConfig::batch_outcome`] (and [`MockServer::set_batch_outcome`]) for which batch
//! recipients are not reached (how a recipient's contact details are derived from their NHS number
//! is documented there), [`MockConfig::write_approval`] and [`MockServer::approve_write`] for a
//! write into the record that waits for approval. For what a well-behaved Hero never does (an
//! answer held back, a connection reset or cut mid-body, bytes that are not HTTP, HTTP/2 frames of
//! your choosing, a port that never accepts), [`raw`] has loopback servers that misbehave on cue.
//!
//! Layout: `routes/` has one module per resource behind one gate (`gate.rs`: auth, rate limit,
//! faults, journal); the operation table and enum values come from the client, generated from
//! `openapi.yaml`.
//!
//! Features: `cli` builds the `herohealth-mock` binary (`cargo install herohealth-mock --features
//! cli`) and its dependencies (clap, tracing-subscriber); the library needs neither.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

mod config;
mod conn;
mod deliver;
mod faults;
mod gate;
mod journal;
mod rate_limit;
pub mod raw;
mod reply;
mod routes;
mod state;
mod stored;
mod validation;

pub use config::{CountMode, MockConfig};
pub use deliver::WEBHOOK_EVENTS;
pub use faults::{DateHeader, Fault, FaultRule, When};
pub use journal::{DeliveryEntry, JournalEntry};
pub use state::{Outcome, RecipientOutcome};
pub use stored::{AttachmentLink, SentMessage};

use state::{Clock, Group};

/// The demo API key accepted when no key is configured.
pub const DEMO_API_KEY: &str = "hero_test_key";
/// The practice group of the demo key.
pub const DEMO_PRACTICE_GROUP_ID: &str = "demo-practice";
/// A valid SNOMED code whose write to the record the mock fails (by default; see
/// [`MockConfig::failing_snomed_code`]): a message sent with it ends `write_to_record: failed`
/// and its webhooks get `write-to-record.failed`.
pub const FAILING_SNOMED_CODE: &str = "404000008";
/// The SNOMED code the mock records when `write_to_record` is set without one.
pub const DEFAULT_SNOMED_CODE: &str = "1240751000000100";

/// Shared state of a running mock (no `Debug`: it holds the test's patient data and keys).
pub(crate) struct App {
    pub(crate) config: MockConfig,
    pub(crate) clock: Clock,
    pub(crate) groups: Mutex<HashMap<String, Group>>,
    pub(crate) faults: faults::Faults,
    pub(crate) journal: journal::Journal,
    pub(crate) rate_limit: rate_limit::RateLimit,
    pub(crate) deliveries: deliver::Deliveries,
    /// Set when the server stops: the webhook dispatcher ends.
    pub(crate) stopped: AtomicBool,
    /// Batch recipients' outcomes by NHS number (ten digits): the configuration's, and those set
    /// since ([`MockServer::set_batch_outcome`]).
    pub(crate) batch_outcomes: Mutex<HashMap<String, RecipientOutcome>>,
    /// The mock's own base URL (for the `confirm_write_to_record_url` it hands out).
    pub(crate) base_url: String,
    /// The `Date` every answer carries ([`MockServer::set_date_header`]).
    pub(crate) date_header: Mutex<DateHeader>,
    ids: AtomicU64,
}

impl App {
    /// What was created up to this instant is listed at `now`: `now` less
    /// [`MockConfig::list_delay`].
    pub(crate) fn listed_by(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> chrono::DateTime<chrono::Utc> {
        chrono::Duration::from_std(self.config.list_delay)
            .ok()
            .and_then(|delay| now.checked_sub_signed(delay))
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::SeqCst) + 1
    }
}

/// A running mock Hero server. It stops when dropped. Its `Debug` shows the address only.
pub struct MockServer {
    addr: SocketAddr,
    app: Arc<App>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl MockServer {
    /// Binds and serves `config` on the current tokio runtime.
    async fn serve(mut config: MockConfig) -> std::io::Result<MockServer> {
        if config.keys.is_empty() {
            config
                .keys
                .push((DEMO_API_KEY.to_owned(), DEMO_PRACTICE_GROUP_ID.to_owned()));
        }
        let listener = tokio::net::TcpListener::bind((config.host.as_str(), config.port)).await?;
        let addr = listener.local_addr()?;
        let mut groups = HashMap::new();
        for (_, group) in &config.keys {
            let mut g = Group::default();
            g.seed_sent_messages(config.seed_sent_messages);
            groups.insert(group.clone(), g);
        }
        let app = Arc::new(App {
            clock: Clock::new(config.time_scale),
            groups: Mutex::new(groups),
            faults: faults::Faults::default(),
            journal: journal::Journal::default(),
            rate_limit: rate_limit::RateLimit::new(config.rate_limit),
            deliveries: deliver::Deliveries::default(),
            stopped: AtomicBool::new(false),
            batch_outcomes: Mutex::new(config.batch_outcomes.clone()),
            base_url: format!("http://{addr}"),
            date_header: Mutex::new(config.date_header),
            ids: AtomicU64::new(0),
            config,
        });
        for rule in &app.config.faults {
            app.faults.add(rule.clone());
        }
        deliver::spawn(Arc::downgrade(&app));
        let router = routes::router(app.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let make = router.into_make_service_with_connect_info::<conn::ConnHandle>();
        tokio::spawn(async move {
            let serve =
                axum::serve(conn::FaultListener(listener), make).with_graceful_shutdown(async {
                    let _ = rx.await;
                });
            if let Err(e) = serve.await {
                tracing::error!("mock server stopped: {e}");
            }
        });
        Ok(MockServer {
            addr,
            app,
            shutdown: Some(tx),
        })
    }

    /// The default configuration: demo key, loopback, any free port.
    pub fn builder() -> MockConfig {
        MockConfig::default()
    }

    /// A mock with the default configuration.
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub async fn start() -> MockServer {
        MockConfig::default()
            .start()
            .await
            .expect("bind a loopback port for herohealth-mock")
    }

    /// The base URL, e.g. `http://127.0.0.1:40123`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the mock listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// One configured `(api key, practice group id)` (the demo pair unless keys were configured).
    pub fn credentials(&self) -> (String, String) {
        let mut keys: Vec<_> = self.app.config.keys.iter().collect();
        keys.sort();
        let (k, g) = &keys[0];
        (k.clone(), g.clone())
    }

    /// A [`herohealth::HeroClient`] for this mock and [`credentials`](Self::credentials).
    ///
    /// # Panics
    /// Never for a running mock (its URL is loopback and its credentials are valid).
    pub fn client(&self) -> herohealth::HeroClient {
        self.client_builder()
            .build()
            .expect("a client for a loopback mock")
    }

    /// A client builder already pointed at this mock with [`credentials`](Self::credentials).
    pub fn client_builder(&self) -> herohealth::HeroClientBuilder {
        let (key, group) = self.credentials();
        herohealth::HeroClient::builder()
            .api_key(key)
            .practice_group_id(group)
            .base_url(self.base_url())
    }

    /// Move the mock clock forward.
    pub fn advance(&self, by: Duration) {
        self.app
            .clock
            .advance(chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX));
    }

    /// Now, on the mock clock. Every time the mock writes (`created_at`, `sent_at`, a batch's
    /// sends) and every time it compares (`send_at`, lifecycles, `sent_at[]` filters,
    /// [`MockConfig::list_delay`]) is on this clock, which with [`MockConfig::time_scale`] above 1
    /// or after [`advance`](Self::advance) runs ahead of `Utc::now()`. So in a test, build time
    /// filters from `mock.now()`, not `Utc::now()`: a `sent_at` range ending at `Utc::now()`
    /// silently misses what the mock sent "later".
    ///
    /// ```
    /// use std::time::Duration;
    /// use herohealth::MessageType;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> herohealth::Result<()> {
    /// // A clock that moves only with advance(), as a sped-up one would between two calls.
    /// let mock = herohealth_mock::MockServer::builder()
    ///     .time_scale(0.0)
    ///     .start()
    ///     .await
    ///     .expect("a loopback port");
    /// let hero = mock.client();
    /// let start = mock.now();
    /// mock.advance(Duration::from_secs(3600)); // an hour passes on the mock clock
    /// hero.send_message()
    ///     .body_map(|b| b.patient_id("42").message_type(MessageType::Sms).message_string("Hi"))
    ///     .send()
    ///     .await?;
    /// mock.advance(Duration::from_secs(5)); // sent and delivered
    ///
    /// let on_mock_time = hero.list_sent_messages().sent_between(start, mock.now()).send().await?;
    /// assert_eq!(on_mock_time.count, 1);
    /// let on_wall_time = hero.list_sent_messages().sent_between(start, chrono::Utc::now()).send().await?;
    /// assert_eq!(on_wall_time.count, 0); // the mock sent it an hour "from now"
    /// # Ok(()) }
    /// ```
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.app.clock.now()
    }

    /// Inject a fault from now on: its [`FaultRule::nth`] and [`FaultRule::first`] count the
    /// calls made after this one.
    pub fn inject(&self, rule: FaultRule) {
        self.app.faults.add(rule);
    }

    /// Remove every fault rule.
    pub fn clear_faults(&self) {
        self.app.faults.clear();
    }

    /// The `Date` header of every answer from now on (see [`DateHeader`]): a clock that jumps or
    /// goes backwards is two calls of this.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use herohealth_mock::{DateHeader, MockServer};
    /// let mock = MockServer::start().await;
    /// mock.set_date_header(DateHeader::Skewed(90)); // a proxy's clock, 90 s ahead
    /// mock.client().list_templates().send().await.unwrap();
    /// let read = mock.client().hero_clock();
    /// # let _ = read; }
    /// ```
    pub fn set_date_header(&self, date: DateHeader) {
        *self.app.date_header.lock().expect("date lock") = date;
    }

    /// Every request received so far. Over HTTP, `GET /__mock/journal` with a configured API key
    /// and its practice group gives that group's entries (401/403 as the API otherwise).
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.app.journal.entries()
    }

    /// How many requests of `operation` (snake_case operationId) were received.
    pub fn calls(&self, operation: &str) -> usize {
        self.journal()
            .iter()
            .filter(|e| e.operation == operation)
            .count()
    }

    /// Every message the mock accepted from `POST /v1/messages/send` and stored (not the seeded
    /// ones), per practice group in the order sent: what Hero would now hold. A send the mock
    /// refused (validation, a fault answered instead) is not here; one it stored before a fault
    /// spoiled the answer ([`Fault::ResetAfterProcessing`], [`Fault::TruncatedJson`]) is.
    pub fn sent_messages(&self) -> Vec<SentMessage> {
        let groups = self.app.groups.lock().expect("store lock");
        let mut names: Vec<&String> = groups.keys().collect();
        names.sort();
        names
            .into_iter()
            .flat_map(|g| groups[g].messages.iter())
            .filter(|m| m.sent_by != state::SEEDED_BY)
            .map(SentMessage::from_stored)
            .collect()
    }

    /// Every attempt to deliver a webhook event so far, in the order made (see
    /// [`MockConfig::webhook_attempts`]): webhooks created with `POST /v1/webhooks` get
    /// `write-to-record.succeeded` / `.failed` when a message's write to the record ends, signed
    /// when they have a signing key, at loopback URLs only. Over HTTP, `GET /__mock/deliveries`
    /// with a configured API key gives that group's.
    ///
    /// ```
    /// use std::time::Duration;
    /// use herohealth::{MessageType, WebhookEventType};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> herohealth::Result<()> {
    /// let mock = herohealth_mock::MockServer::builder()
    ///     .time_scale(0.0) // the clock moves only with advance()
    ///     .webhook_attempts(1)
    ///     .start()
    ///     .await
    ///     .expect("a loopback port");
    /// let hero = mock.client();
    /// // Nothing listens on port 9 of this machine: the attempt fails and is journaled.
    /// hero.create_webhook()
    ///     .body_map(|b| b.event_type(WebhookEventType::WriteToRecordSucceeded).url("http://127.0.0.1:9/hook"))
    ///     .send()
    ///     .await?;
    /// let sent = hero
    ///     .send_message()
    ///     .body_map(|b| b.patient_id("42").message_type(MessageType::Sms).message_string("Hi").write_to_record(true))
    ///     .send()
    ///     .await?;
    /// mock.advance(Duration::from_secs(5)); // written to the record
    /// while mock.deliveries().is_empty() {
    ///     tokio::time::sleep(Duration::from_millis(20)).await;
    /// }
    /// let attempt = &mock.deliveries()[0];
    /// assert_eq!((attempt.event.as_str(), attempt.id.as_str()), ("write-to-record.succeeded", sent.message_id.as_str()));
    /// assert!(!attempt.delivered && !attempt.will_retry);
    /// # Ok(()) }
    /// ```
    pub fn deliveries(&self) -> Vec<DeliveryEntry> {
        self.app.deliveries.entries()
    }

    /// Every attachment link the mock created (`POST /v1/attachment_links`), per practice group
    /// in the order created, with the file as uploaded.
    pub fn attachment_links(&self) -> Vec<AttachmentLink> {
        let groups = self.app.groups.lock().expect("store lock");
        let mut names: Vec<&String> = groups.keys().collect();
        names.sort();
        names
            .into_iter()
            .flat_map(|g| groups[g].attachments.iter())
            .map(AttachmentLink::from_stored)
            .collect()
    }

    /// From now on, a batch created with the recipient `nhs_number` ends for them with `outcome`
    /// (as [`MockConfig::batch_outcome`] from the start). Batches created before keep theirs.
    pub fn set_batch_outcome(&self, nhs_number: &str, outcome: RecipientOutcome) {
        self.app
            .batch_outcomes
            .lock()
            .expect("outcomes lock")
            .insert(config::nhs_digits(nhs_number), outcome);
    }

    /// Approves the write into the record of message `message_id` (the send's `message_id`), which
    /// waits for approval under [`MockConfig::write_approval`], as a Hero admin would; the same as
    /// a `POST` to the send's `confirm_write_to_record_url`. It is written 1 s (mock time) later,
    /// or when due if that is later. Message ids count per practice group: with several groups
    /// configured, each group's message with that id that awaits approval is approved (the URL
    /// approves exactly one). `false` when none awaits approval.
    ///
    /// ```
    /// use std::time::Duration;
    /// use herohealth::{MessageType, WaitOptions};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> herohealth::Result<()> {
    /// let mock = herohealth_mock::MockServer::builder()
    ///     .write_approval(true)
    ///     .time_scale(0.0) // the clock moves only with advance()
    ///     .start()
    ///     .await
    ///     .expect("a loopback port");
    /// let hero = mock.client();
    /// let sent = hero
    ///     .send_message()
    ///     .body_map(|b| b.patient_id("42").message_type(MessageType::Sms).message_string("Hi").write_to_record(true))
    ///     .send()
    ///     .await?;
    /// assert!(sent.confirm_write_to_record_url.is_some());
    /// mock.advance(Duration::from_secs(60));
    /// let status = hero.get_message_status().id(&sent.message_id).send().await?;
    /// assert_eq!(status.record_status(), None); // delivered, but the write awaits approval
    /// assert!(mock.approve_write(&sent.message_id));
    /// mock.advance(Duration::from_secs(1));
    /// let status = hero.get_message_status().id(&sent.message_id).send().await?;
    /// assert!(status.status.write_to_record_at.is_some());
    /// # Ok(()) }
    /// ```
    pub fn approve_write(&self, message_id: &str) -> bool {
        let now = self.app.clock.now();
        let mut groups = self.app.groups.lock().expect("store lock");
        let mut approved = false;
        for group in groups.values_mut() {
            let found = message_id
                .parse::<usize>()
                .ok()
                .and_then(|i| group.messages.get_mut(i.checked_sub(1)?));
            if let Some(m) = found
                && let state::Approval::Pending { token } = &m.approval
            {
                m.approval = state::Approval::Approved {
                    token: token.clone(),
                    at: now,
                };
                approved = true;
            }
        }
        approved
    }

    /// How many requests of `operation` were processed (could change state).
    pub fn processed(&self, operation: &str) -> usize {
        self.journal()
            .iter()
            .filter(|e| e.operation == operation && e.processed)
            .count()
    }
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.app.stopped.store(true, Ordering::SeqCst);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
