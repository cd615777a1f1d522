//! How the mock behaves: [`MockConfig`], the builder [`crate::MockServer::builder`] returns.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use herohealth::webhooks::{SignatureEncoding, TimestampFormat};

use crate::{DateHeader, FaultRule, MockServer, Outcome, RecipientOutcome};

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
#[derive(Clone)]
pub struct MockConfig {
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `(api key, practice group id)` pairs: one key may serve several practice groups (a
    /// partner's key does).
    pub(crate) keys: Vec<(String, String)>,
    pub(crate) seed_sent_messages: u64,
    pub(crate) time_scale: f64,
    pub(crate) default_page_size: usize,
    pub(crate) max_page_size: usize,
    pub(crate) count_mode: CountMode,
    pub(crate) outcomes: HashMap<String, Outcome>,
    pub(crate) batch_outcomes: HashMap<String, RecipientOutcome>,
    pub(crate) write_approval: bool,
    pub(crate) not_found_nhs: HashSet<String>,
    pub(crate) failing_snomed_codes: HashSet<String>,
    pub(crate) verify_identity_nhs: HashSet<String>,
    pub(crate) faults: Vec<FaultRule>,
    pub(crate) rate_limit: Option<u32>,
    pub(crate) list_delay: Duration,
    pub(crate) finish_abandoned: bool,
    pub(crate) no_message_content: bool,
    pub(crate) date_header: DateHeader,
    pub(crate) webhook_signature: SignatureEncoding,
    pub(crate) webhook_timestamp: TimestampFormat,
    pub(crate) webhook_attempts: u32,
    pub(crate) webhook_backoff: Duration,
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
            keys: Vec::new(),
            seed_sent_messages: 0,
            time_scale: 1.0,
            default_page_size: 20,
            max_page_size: 100,
            count_mode: CountMode::Total,
            outcomes: outcomes
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            batch_outcomes: HashMap::new(),
            write_approval: false,
            not_found_nhs: HashSet::from(["9999999999".to_owned()]),
            failing_snomed_codes: HashSet::from([crate::FAILING_SNOMED_CODE.to_owned()]),
            verify_identity_nhs: HashSet::from(["9000000009".to_owned()]),
            faults: Vec::new(),
            rate_limit: None,
            list_delay: Duration::ZERO,
            finish_abandoned: false,
            no_message_content: false,
            date_header: DateHeader::Hero,
            webhook_signature: SignatureEncoding::Hex,
            webhook_timestamp: TimestampFormat::UnixSeconds,
            webhook_attempts: 5,
            webhook_backoff: Duration::from_secs(1),
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

    /// Accept `key` for `practice_group_id` (call it again with the same key for another group:
    /// a partner's key may serve several practice groups). With no key configured, the demo key
    /// [`DEMO_API_KEY`](crate::DEMO_API_KEY) for [`DEMO_PRACTICE_GROUP_ID`](crate::DEMO_PRACTICE_GROUP_ID)
    /// is accepted.
    pub fn api_key(mut self, key: impl Into<String>, practice_group_id: impl Into<String>) -> Self {
        let pair = (key.into(), practice_group_id.into());
        if !self.keys.contains(&pair) {
            self.keys.push(pair);
        }
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
    /// `+447700900444`/`07700900444`/`declined@example.com` are declined and
    /// `+447700900666`/`07700900666`/`fatal@example.com` fail; everything else is delivered.
    ///
    /// A batch's sends go to the contact details the mock makes up for each recipient from their
    /// NHS number (see [`batch_outcome`](Self::batch_outcome)), so by default an SMS or NHS App
    /// batch fails for every NHS number ending in `666` (mobile `+447700900666`) and in `444`;
    /// an EMAIL batch fails for none.
    pub fn outcome(mut self, contact: impl Into<String>, outcome: Outcome) -> Self {
        self.outcomes.insert(contact.into(), outcome);
        self
    }

    /// A batch recipient with this NHS number (any spacing) ends with `outcome`: its send ends
    /// `SUCCESS` or `ERROR`, or (for [`RecipientOutcome::EnrichmentError`]) Hero cannot trace them
    /// and no send is made. It wins over the outcome of their contact detail.
    ///
    /// How the mock traces a batch recipient: a valid NHS number is `ENRICHED` with a made-up name
    /// and contact details derived from the number: the mobile is `+447700900` followed by the
    /// number's last three digits (so NHS numbers that end alike **share a mobile**, as a family
    /// may), the email `first.last` and the number `@example.org` (one each). An SMS or NHS App
    /// batch sends to the mobile, an EMAIL batch to the email; a send ends `ERROR` when that
    /// contact's [`outcome`](Self::outcome) is declined or fatal (by default: numbers ending in
    /// `444` or `666`). An invalid NHS number is `ENRICHMENT_ERROR`.
    ///
    /// ```
    /// use herohealth::{BatchChannel, types::BatchRecipient};
    /// use herohealth_mock::{MockServer, RecipientOutcome};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mock = MockServer::builder()
    ///     .batch_outcome("943 476 5919", RecipientOutcome::Error)
    ///     .time_scale(0.0)
    ///     .start()
    ///     .await?;
    /// let hero = mock.client();
    /// let recipients = ["9434765919", "9434765870"]
    ///     .map(|n| BatchRecipient::new(n.parse().unwrap(), chrono::NaiveDate::from_ymd_opt(1960, 1, 1).unwrap()));
    /// let batch = hero
    ///     .create_batch_message()
    ///     .body_map(|b| b.name("Flu").channel(BatchChannel::Sms).content("Book your flu jab").recipients(recipients.to_vec()))
    ///     .send()
    ///     .await?;
    /// hero.send_batch_message().id(&batch.id).send().await?;
    /// mock.advance(std::time::Duration::from_secs(5)); // COMPLETED
    /// let failures = hero.batch_failures(&batch.id).await?;
    /// assert_eq!(failures.failed.len(), 1);
    /// assert_eq!(failures.failed[0].traced.nhs_numbers()[0].expose(), "9434765919");
    /// # Ok(()) }
    /// ```
    pub fn batch_outcome(mut self, nhs_number: &str, outcome: RecipientOutcome) -> Self {
        self.batch_outcomes.insert(nhs_digits(nhs_number), outcome);
        self
    }

    /// Hold every write into the record until it is approved (default `false`: written 4 s after
    /// the message is due, as with Hero's `auto_write_to_record`). A send with `write_to_record`
    /// and without `auto_write_to_record` then answers a `confirm_write_to_record_url` (on the
    /// mock, with its `auth_token` in the path) and its write waits: `getMessageStatus` shows it
    /// neither written nor failed, and `wait_for_record` keeps polling, until the URL is POSTed
    /// (no API key needed: the token is the credential) or [`MockServer::approve_write`] is
    /// called. Then it is written 1 s later (mock time). A send with `auto_write_to_record`
    /// skips approval, as Hero's does for a key allowed to.
    pub fn write_approval(mut self, hold: bool) -> Self {
        self.write_approval = hold;
        self
    }

    /// A message written to the record with this SNOMED code has its write fail (as a code that
    /// fails the offline check does), so `write-to-record.failed` can be tested through a client
    /// that refuses bad codes. By default [`FAILING_SNOMED_CODE`](crate::FAILING_SNOMED_CODE).
    pub fn failing_snomed_code(mut self, code: impl Into<String>) -> Self {
        self.failing_snomed_codes.insert(code.into());
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

    /// Finish a request whose client has gone (it timed out, or its process was killed) instead
    /// of dropping it: as a Node or queue-backed service does, the message is sent although no
    /// one reads the answer. The default (`false`) drops a request whose client went before its
    /// handler ran, as a server that cancels on disconnect does. Test both: a client must never
    /// conclude "not sent" while a request of its may still be finished.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mock = herohealth_mock::MockServer::builder()
    ///     .finish_abandoned(true)
    ///     .start()
    ///     .await
    ///     .expect("a loopback port");
    /// # let _ = mock; }
    /// ```
    pub fn finish_abandoned(mut self, finish: bool) -> Self {
        self.finish_abandoned = finish;
        self
    }

    /// Leave the message's text (`content`) out of `GET /v1/messages/{id}`, as a Hero whose answer
    /// has no such field would (the published sample is cut off before it). By default the mock
    /// gives the text as stored, which is what `find_send` compares to tell a send's own message
    /// from another; without it every candidate is for a person to decide.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> herohealth::Result<()> {
    /// use herohealth::MessageType;
    /// let mock = herohealth_mock::MockServer::builder().no_message_content(true).start().await.unwrap();
    /// let hero = mock.client();
    /// let sent = hero.send_message()
    ///     .body_map(|b| b.patient_id("42").message_type(MessageType::Sms).message_string("Hi"))
    ///     .send()
    ///     .await?;
    /// let copy = hero.get_message().id(sent.message_id.clone()).send().await?;
    /// assert!(copy.content.is_none());
    /// # Ok(()) }
    /// ```
    pub fn no_message_content(mut self, hide: bool) -> Self {
        self.no_message_content = hide;
        self
    }

    /// The `Date` header of every answer (default [`DateHeader::Hero`], the clock `created_at` is
    /// stamped by): [`DateHeader::Skewed`] plays a proxy whose clock runs steadily ahead or
    /// behind, [`DateHeader::Malformed`] one that cannot be read.
    /// Change it while running with [`MockServer::set_date_header`].
    pub fn date_header(mut self, date: DateHeader) -> Self {
        self.date_header = date;
        self
    }

    /// How webhook deliveries are signed (default [`SignatureEncoding::Hex`]): Hero does not
    /// say, so a receiver should accept both (as `herohealth::webhooks::Verifier` does).
    pub fn webhook_signature(mut self, encoding: SignatureEncoding) -> Self {
        self.webhook_signature = encoding;
        self
    }

    /// How the timestamp of a signed delivery is written (default Unix seconds). It is always
    /// the wall clock's time, not the mock clock's.
    pub fn webhook_timestamp(mut self, format: TimestampFormat) -> Self {
        self.webhook_timestamp = format;
        self
    }

    /// Attempts per webhook delivery, the first included (default 5, at least 1): a receiver
    /// that does not answer 2xx (or within 5 s) gets the event again, after
    /// [`webhook_backoff`](Self::webhook_backoff), then twice that, and so on.
    ///
    /// ```
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let mock = herohealth_mock::MockServer::builder()
    ///     .webhook_attempts(3)
    ///     .webhook_backoff(Duration::from_secs(10)) // on the mock clock: advance() moves it
    ///     .start()
    ///     .await?;
    /// assert!(mock.deliveries().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn webhook_attempts(mut self, attempts: u32) -> Self {
        self.webhook_attempts = attempts.max(1);
        self
    }

    /// The wait (mock clock) before the first retry of a failed delivery (default 1 s); each
    /// further retry waits twice as long as the one before.
    pub fn webhook_backoff(mut self, backoff: Duration) -> Self {
        self.webhook_backoff = backoff;
        self
    }

    pub(crate) fn outcome_for(&self, contact: &str) -> Outcome {
        self.outcomes
            .get(contact)
            .copied()
            .unwrap_or(Outcome::Delivered)
    }

    /// Bind and serve on the current tokio runtime.
    pub async fn start(self) -> std::io::Result<MockServer> {
        MockServer::serve(self).await
    }
}

/// Shows the settings, not the API keys, practice groups, contact details or NHS numbers it
/// holds (only how many).
impl std::fmt::Debug for MockConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("api_keys", &self.keys.len())
            .field("seed_sent_messages", &self.seed_sent_messages)
            .field("time_scale", &self.time_scale)
            .field("default_page_size", &self.default_page_size)
            .field("max_page_size", &self.max_page_size)
            .field("count_mode", &self.count_mode)
            .field("outcomes", &self.outcomes.len())
            .field("batch_outcomes", &self.batch_outcomes.len())
            .field("write_approval", &self.write_approval)
            .field("not_found_nhs", &self.not_found_nhs.len())
            .field("failing_snomed_codes", &self.failing_snomed_codes)
            .field("verify_identity_nhs", &self.verify_identity_nhs.len())
            .field("faults", &self.faults)
            .field("rate_limit", &self.rate_limit)
            .field("list_delay", &self.list_delay)
            .field("finish_abandoned", &self.finish_abandoned)
            .field("no_message_content", &self.no_message_content)
            .field("date_header", &self.date_header)
            .field("webhook_signature", &self.webhook_signature)
            .field("webhook_timestamp", &self.webhook_timestamp)
            .field("webhook_attempts", &self.webhook_attempts)
            .field("webhook_backoff", &self.webhook_backoff)
            .finish()
    }
}

/// An NHS number's digits, the key of [`MockConfig::batch_outcome`] (`943 476 5919` is
/// `9434765919`).
pub(crate) fn nhs_digits(nhs: &str) -> String {
    nhs.chars().filter(char::is_ascii_digit).collect()
}
