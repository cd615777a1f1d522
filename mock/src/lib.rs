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
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

mod conn;
mod faults;
mod gate;
mod journal;
mod rate_limit;
mod reply;
mod routes;
mod state;
mod validation;

pub use faults::{Fault, FaultRule, When};
pub use journal::JournalEntry;
pub use state::Outcome;

use state::{Clock, Group};

/// The demo API key accepted when no key is configured.
pub const DEMO_API_KEY: &str = "hero_test_key";
/// The practice group of the demo key.
pub const DEMO_PRACTICE_GROUP_ID: &str = "demo-practice";
/// The SNOMED code the mock records when `write_to_record` is set without one.
pub const DEFAULT_SNOMED_CODE: &str = "1240751000000100";

/// What `count` in a list response means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CountMode {
    /// Items matching the filters, across all pages.
    #[default]
    Total,
    /// Items on this page.
    Page,
}

/// How the mock behaves. Start it with [`MockConfig::start`].
///
/// ```
/// use std::time::Duration;
/// use herohealth_mock::{CountMode, Fault, FaultRule, MockServer, Outcome};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let mock = MockServer::builder()
///     .api_key("my-key", "my-practice")
///     .seed_sent_messages(500)
///     .time_scale(60.0)
///     .count_mode(CountMode::Page)
///     .outcome("+447700900999", Outcome::Declined)
///     .fault(FaultRule::new("get_message_status", Fault::Latency(Duration::from_millis(50))))
///     .start()
///     .await?;
/// assert!(mock.base_url().starts_with("http://127.0.0.1:"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MockConfig {
    host: String,
    port: u16,
    keys: HashMap<String, String>,
    seed_sent_messages: u64,
    time_scale: f64,
    default_page_size: usize,
    max_page_size: usize,
    count_mode: CountMode,
    outcomes: HashMap<String, Outcome>,
    not_found_nhs: HashSet<String>,
    verify_identity_nhs: HashSet<String>,
    faults: Vec<FaultRule>,
    rate_limit: Option<u32>,
    pub(crate) list_delay: Duration,
}

impl Default for MockConfig {
    fn default() -> Self {
        let outcomes = [
            ("+447700900444", Outcome::Declined),
            ("07700900444", Outcome::Declined),
            ("declined@example.com", Outcome::Declined),
            ("+447700900666", Outcome::Fatal),
            ("07700900666", Outcome::Fatal),
            ("fatal@example.com", Outcome::Fatal),
        ];
        Self {
            host: "127.0.0.1".to_owned(),
            port: 0,
            keys: HashMap::new(),
            seed_sent_messages: 0,
            time_scale: 1.0,
            default_page_size: 20,
            max_page_size: 100,
            count_mode: CountMode::Total,
            outcomes: outcomes
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            not_found_nhs: HashSet::from(["9999999999".to_owned()]),
            verify_identity_nhs: HashSet::from(["9000000009".to_owned()]),
            faults: Vec::new(),
            rate_limit: None,
            list_delay: Duration::ZERO,
        }
    }
}

impl MockConfig {
    /// Listen on this host (default `127.0.0.1`).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// Listen on this port (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Accept `key` for `practice_group_id`. With no key configured, the demo key
    /// [`DEMO_API_KEY`] for [`DEMO_PRACTICE_GROUP_ID`] is accepted.
    pub fn api_key(mut self, key: impl Into<String>, practice_group_id: impl Into<String>) -> Self {
        self.keys.insert(key.into(), practice_group_id.into());
        self
    }

    /// Fill every configured practice group with `n` historical sent messages (the same each time).
    pub fn seed_sent_messages(mut self, n: u64) -> Self {
        self.seed_sent_messages = n;
        self
    }

    /// Run the mock clock this many times faster than real time (default 1).
    pub fn time_scale(mut self, scale: f64) -> Self {
        self.time_scale = scale.max(0.0);
        self
    }

    /// Page size when none is asked for (default 20).
    pub fn default_page_size(mut self, size: usize) -> Self {
        self.default_page_size = size.max(1);
        self
    }

    /// Largest page served (default 100); larger requests get this many.
    pub fn max_page_size(mut self, size: usize) -> Self {
        self.max_page_size = size.max(1);
        self
    }

    /// What `count` means (default [`CountMode::Total`]).
    pub fn count_mode(mut self, mode: CountMode) -> Self {
        self.count_mode = mode;
        self
    }

    /// Messages to `contact` (a phone number or email, as sent) end with `outcome`. By default
    /// `+447700900444`/`declined@example.com` are declined and `+447700900666`/`fatal@example.com`
    /// fail; everything else is delivered.
    pub fn outcome(mut self, contact: impl Into<String>, outcome: Outcome) -> Self {
        self.outcomes.insert(contact.into(), outcome);
        self
    }

    /// `registerPatientPds` answers 404 for this NHS number (default `9999999999`).
    pub fn not_found_nhs_number(mut self, nhs: impl Into<String>) -> Self {
        self.not_found_nhs.insert(nhs.into());
        self
    }

    /// `registerPatientPds` asks this patient to verify their identity (default `9000000009`).
    pub fn verify_identity_nhs_number(mut self, nhs: impl Into<String>) -> Self {
        self.verify_identity_nhs.insert(nhs.into());
        self
    }

    /// Inject a fault from the start.
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    /// At most `per_second` requests in any one second for each practice group (a sliding
    /// window on the mock clock); beyond it Hero's 429 (`{"error": true, "statusCode": 429,
    /// "message": "Too Many Requests"}`) with `Retry-After`, the seconds until the window has
    /// room (at least 1), and the request is not processed. Refused requests are journaled with
    /// `fault: "RateLimit"` and do not count toward fault rules.
    ///
    /// At the default time scale the window is real time. [`MockServer::advance`] moves it on,
    /// so a test can freeze the clock (`time_scale(0.0)`) and step it instead of sleeping; with
    /// `time_scale(s)` the mock admits `per_second × s` requests a real second.
    ///
    /// ```
    /// use std::time::Duration;
    /// use herohealth::{ErrorKind, RetryPolicy};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> herohealth::Result<()> {
    /// let mock = herohealth_mock::MockServer::builder()
    ///     .rate_limit(2)
    ///     .time_scale(0.0) // the clock moves only with advance()
    ///     .start()
    ///     .await
    ///     .expect("a loopback port");
    /// let hero = mock.client().with_retry_policy(RetryPolicy::disabled());
    /// hero.list_templates().send().await?;
    /// hero.list_templates().send().await?;
    /// let refused = hero.list_templates().send().await.unwrap_err();
    /// assert_eq!(refused.kind(), ErrorKind::RateLimited);
    /// assert_eq!(refused.retry_after(), Some(Duration::from_secs(1)));
    /// mock.advance(Duration::from_secs(1));
    /// hero.list_templates().send().await?; // a new second
    /// # Ok(()) }
    /// ```
    pub fn rate_limit(mut self, per_second: u32) -> Self {
        self.rate_limit = Some(per_second.max(1));
        self
    }

    /// What was created shows in the lists only this long (on the mock clock) after it was
    /// created, as Hero may list a new message late: a sent message in `GET /v2/sent_messages`,
    /// a batch in `GET /v1/batch_message`, a batch's sends in `GET /v1/batch_message/{id}/messages`
    /// (from when the batch was sent). `GET /v1/messages/{id}` and `GET /v1/batch_message/{id}`
    /// find it at once. Default: no delay.
    ///
    /// ```
    /// use std::time::Duration;
    /// use herohealth::MessageType;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> herohealth::Result<()> {
    /// let mock = herohealth_mock::MockServer::builder()
    ///     .list_delay(Duration::from_secs(30))
    ///     .start()
    ///     .await
    ///     .expect("a loopback port");
    /// let hero = mock.client();
    /// hero.send_message()
    ///     .body_map(|b| b.patient_id("42").message_type(MessageType::Sms).message_string("Hi"))
    ///     .send()
    ///     .await?;
    /// assert_eq!(hero.list_sent_messages().send().await?.count, 0); // not listed yet
    /// mock.advance(Duration::from_secs(30));
    /// assert_eq!(hero.list_sent_messages().send().await?.count, 1);
    /// # Ok(()) }
    /// ```
    pub fn list_delay(mut self, delay: Duration) -> Self {
        self.list_delay = delay;
        self
    }

    pub(crate) fn outcome_for(&self, contact: &str) -> Outcome {
        self.outcomes
            .get(contact)
            .copied()
            .unwrap_or(Outcome::Delivered)
    }

    /// Bind and serve on the current tokio runtime.
    pub async fn start(mut self) -> std::io::Result<MockServer> {
        if self.keys.is_empty() {
            self.keys
                .insert(DEMO_API_KEY.to_owned(), DEMO_PRACTICE_GROUP_ID.to_owned());
        }
        let listener = tokio::net::TcpListener::bind((self.host.as_str(), self.port)).await?;
        let addr = listener.local_addr()?;
        let mut groups = HashMap::new();
        for group in self.keys.values() {
            let mut g = Group::default();
            g.seed_sent_messages(self.seed_sent_messages);
            groups.insert(group.clone(), g);
        }
        let app = Arc::new(App {
            clock: Clock::new(self.time_scale),
            groups: Mutex::new(groups),
            faults: faults::Faults::default(),
            journal: journal::Journal::default(),
            rate_limit: rate_limit::RateLimit::new(self.rate_limit),
            ids: AtomicU64::new(0),
            config: self,
        });
        for rule in &app.config.faults {
            app.faults.add(rule.clone());
        }
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
}

/// Shared state of a running mock.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) config: MockConfig,
    pub(crate) clock: Clock,
    pub(crate) groups: Mutex<HashMap<String, Group>>,
    pub(crate) faults: faults::Faults,
    pub(crate) journal: journal::Journal,
    pub(crate) rate_limit: rate_limit::RateLimit,
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

/// A running mock Hero server. It stops when dropped.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    app: Arc<App>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl MockServer {
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
        let (k, g) = keys[0];
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

    /// Every request received so far (also at `GET /__mock/journal`).
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

    /// How many requests of `operation` were processed (could change state).
    pub fn processed(&self, operation: &str) -> usize {
        self.journal()
            .iter()
            .filter(|e| e.operation == operation && e.processed)
            .count()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
