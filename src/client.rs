//! [`HeroClient`]'s configuration: how a client is made ([`HeroClient::builder`], `from_env`; the
//! builder is in `client/builder.rs`), what it was made with, and clients derived from it for one
//! call (`with_timeout`, `with_retry_policy`, `with_deadline`, `with_pace`).

use std::{fmt, time::Duration};

use crate::{Environment, HeroClient, Pace, RetryPolicy, error::Error, state::Limits};

mod builder;

pub use builder::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, ENV_API_KEY, ENV_BASE_URL, ENV_PRACTICE_GROUP_ID,
    ENV_TIMEOUT, HeroClientBuilder,
};

/// The handwritten half of [`HeroClient`] (the generated client, see its docs): configuration.
impl HeroClient {
    /// A builder; set the API key, the practice group id and the environment.
    pub fn builder() -> HeroClientBuilder {
        HeroClientBuilder::default()
    }

    /// A client configured from `HERO_API_KEY`, `HERO_PRACTICE_GROUP_ID` and `HERO_BASE_URL` (or
    /// `HERO_ENVIRONMENT=production|staging`), and `HERO_TIMEOUT` if set. The error names
    /// whatever is missing or not valid.
    pub fn from_env() -> Result<Self, Error> {
        Self::builder()
            .from_lookup(|name| std::env::var(name).ok())?
            .build()
    }

    /// The base URL requests go to (no trailing `/`).
    pub fn base_url(&self) -> &str {
        &self.baseurl
    }

    /// The environment the client was built for.
    pub fn environment(&self) -> &Environment {
        &self.inner.environment
    }

    /// A client that shares this one's connections and credentials but retries with `policy`:
    /// a cheap per-call override (`hero.with_retry_policy(RetryPolicy::disabled()).send_message()...`).
    /// Sends keep every outcome-unknown guarantee: the policy decides only how often a request
    /// that provably did not arrive is tried again.
    ///
    /// ```
    /// # let hero = herohealth::HeroClient::builder().api_key("hero-k-test-key").practice_group_id("practice-p").base_url("http://127.0.0.1:1").build()?;
    /// let once = hero.with_retry_policy(herohealth::RetryPolicy::disabled());
    /// # let _ = once; Ok::<(), herohealth::Error>(())
    /// ```
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> HeroClient {
        self.derive(|limits| limits.retry = policy)
    }

    /// A client that shares this one's connections and credentials but gives **each attempt** at
    /// most `timeout` (instead of the builder's). It is per attempt: a request Hero refuses with
    /// 429 (or a read that fails) is tried again by the retry policy, each attempt with this
    /// timeout, so a whole call can take longer; for a bound on the whole call use
    /// [`with_deadline`](Self::with_deadline). Prefer both to wrapping a call in
    /// `tokio::time::timeout`, which drops a send without telling whether it went: a timeout here
    /// is an error with [`Error::outcome_unknown`] set when a send was written.
    ///
    /// ```
    /// # let hero = herohealth::HeroClient::builder().api_key("hero-k-test-key").practice_group_id("practice-p").base_url("http://127.0.0.1:1").build()?;
    /// let quick = hero.with_timeout(std::time::Duration::from_secs(5));
    /// assert_eq!(quick.timeout(), std::time::Duration::from_secs(5));
    /// # Ok::<(), herohealth::Error>(())
    /// ```
    pub fn with_timeout(&self, timeout: Duration) -> HeroClient {
        self.derive(|limits| limits.timeout = timeout)
    }

    /// A client that shares this one's connections and credentials, each of whose calls ends
    /// within `deadline`: every attempt and every wait between attempts included. Each attempt
    /// gets at most the timeout or the deadline, whichever is shorter, and a retry starts only
    /// while a whole attempt still fits before the deadline; so a deadline no longer than the
    /// timeout allows one attempt (`hero.with_timeout(5 s).with_deadline(20 s)` allows retries
    /// within 20 s). It bounds one call: a stream pages with one call per page, and a waiter
    /// has its own [`WaitOptions::deadline`](crate::WaitOptions::deadline).
    ///
    /// The outcome-unknown guarantee holds, unlike with `tokio::time::timeout` around the call: a
    /// send cut off by the deadline after it was written comes back as an [`Error`] of kind
    /// `Timeout` with [`was_sent`](Error::was_sent) `== MayHaveArrived`; never dropped silently.
    ///
    /// ```
    /// use std::time::Duration;
    /// # let hero = herohealth::HeroClient::builder().api_key("hero-k-test-key").practice_group_id("practice-p").base_url("http://127.0.0.1:1").build()?;
    /// let bounded = hero.with_timeout(Duration::from_secs(5)).with_deadline(Duration::from_secs(20));
    /// assert_eq!(bounded.timeout(), Duration::from_secs(5));
    /// // No retry starts later than 15 s in, so the last attempt ends by 20 s.
    /// assert_eq!(bounded.retry_policy().get_total_deadline(), Duration::from_secs(15));
    /// assert_eq!(bounded.deadline(), Some(Duration::from_secs(20)));
    /// # Ok::<(), herohealth::Error>(())
    /// ```
    pub fn with_deadline(&self, deadline: Duration) -> HeroClient {
        self.derive(|limits| limits.deadline = Some(deadline))
    }

    /// The most one attempt of a request may take: the builder's [`timeout`] (default
    /// [`DEFAULT_TIMEOUT`], 30 s), or [`with_timeout`](Self::with_timeout)'s, cut to the
    /// [`with_deadline`](Self::with_deadline) if that is shorter. Also how long after a send
    /// started Hero may still be carrying it out, as far as the client can tell.
    ///
    /// [`timeout`]: HeroClientBuilder::timeout
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The whole-call deadline of [`with_deadline`](Self::with_deadline), if one was set
    /// (default: none; a call takes its attempts and the retry policy's waits).
    pub fn deadline(&self) -> Option<Duration> {
        self.inner.limits.deadline
    }

    /// A client that shares this one's connections, credentials and clock but waits for `pace`
    /// before each attempt (`None`: for no pace; for a caller that took its slot itself with
    /// [`Pace::acquire`], as a durable sender does before it records a send in flight).
    ///
    /// ```
    /// # let hero = herohealth::HeroClient::builder().api_key("hero-k-test-key").practice_group_id("practice-p").base_url("http://127.0.0.1:1").build()?;
    /// let paced = hero.with_pace(Some(herohealth::Pace::new(5)));
    /// assert_eq!(paced.pace().and_then(|p| p.limit()), Some(5.0));
    /// assert!(paced.with_pace(None).pace().is_none());
    /// # Ok::<(), herohealth::Error>(())
    /// ```
    pub fn with_pace(&self, pace: Option<Pace>) -> HeroClient {
        let mut state = self.inner.clone();
        state.pace = pace;
        HeroClient::new_with_client(&self.baseurl, self.client.clone(), state)
    }

    /// The pace this client keeps, if any ([`HeroClientBuilder::rate_limit`]).
    pub fn pace(&self) -> Option<&Pace> {
        self.inner.pace.as_ref()
    }

    /// A key for state kept per practice group (a shared pace, a journal's runs) that does not
    /// hold the practice group id: the SHA-256 (hex) of it. Equal for clients of one practice
    /// group, whatever their API key.
    ///
    /// ```
    /// # let hero = herohealth::HeroClient::builder().api_key("hero-k-test-key").practice_group_id("practice-p").base_url("http://127.0.0.1:1").build()?;
    /// let key = hero.practice_group_key();
    /// assert_eq!(key.len(), 64);
    /// assert!(!key.contains("practice-p"));
    /// # Ok::<(), herohealth::Error>(())
    /// ```
    pub fn practice_group_key(&self) -> String {
        self.inner.credentials.practice_group_key()
    }

    /// The [`practice_group_key`](Self::practice_group_key) of the practice group
    /// `practice_group_id`, without a client (for a tool that reads a journal and sends
    /// nothing, such as the outbox console).
    ///
    /// ```
    /// # let hero = herohealth::HeroClient::builder().api_key("hero-k-test-key").practice_group_id("practice-p").base_url("http://127.0.0.1:1").build()?;
    /// use herohealth::HeroClient;
    /// assert_eq!(HeroClient::practice_group_key_of("practice-p"), hero.practice_group_key());
    /// # Ok::<(), herohealth::Error>(())
    /// ```
    pub fn practice_group_key_of(practice_group_id: &str) -> String {
        crate::auth::practice_group_key(practice_group_id.as_bytes())
    }

    /// The retry policy this client applies (default [`RetryPolicy::default`]), its total
    /// deadline cut to fit a [`with_deadline`](Self::with_deadline).
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// Hero's clock offset as read from the `Date` of its answers so far (shared by this client's
    /// clones), if one was.
    pub fn hero_clock(&self) -> Option<crate::ClockOffset> {
        self.inner.clock.offset()
    }

    /// The longest Hero may take to create a message once a send reached it
    /// ([`HeroClientBuilder::hero_processing_time`]; default the builder's timeout). Not changed by
    /// [`with_timeout`](Self::with_timeout) or [`with_deadline`](Self::with_deadline).
    pub fn hero_processing_time(&self) -> Duration {
        self.inner.processing
    }

    fn derive(&self, change: impl FnOnce(&mut Limits)) -> HeroClient {
        let mut state = self.inner.clone();
        change(&mut state.limits);
        state.settle();
        HeroClient::new_with_client(&self.baseurl, self.client.clone(), state)
    }
}

impl fmt::Debug for HeroClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeroClient")
            .field(
                "base_url",
                &crate::shown::debug::shown_url(self.base_url()).unwrap_or_default(),
            )
            .field("environment", &self.inner.environment)
            .field("credentials", &self.inner.credentials)
            .field("retry", &self.inner.retry)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{ENV_API_KEY, ENV_BASE_URL, ENV_PRACTICE_GROUP_ID};
    use crate::{ENV_ENVIRONMENT, HeroClient};

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn from_env_names_every_missing_variable() {
        let err = HeroClient::builder().from_lookup(lookup(&[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid client configuration: missing environment variable(s): HERO_API_KEY, HERO_PRACTICE_GROUP_ID, HERO_BASE_URL or HERO_ENVIRONMENT"
        );
        let err = HeroClient::builder()
            .from_lookup(lookup(&[
                (ENV_API_KEY, "hero-k-test-key"),
                (ENV_ENVIRONMENT, "staging"),
            ]))
            .unwrap_err();
        assert!(err.to_string().ends_with("HERO_PRACTICE_GROUP_ID"), "{err}");
        let err = HeroClient::builder()
            .from_lookup(lookup(&[
                (ENV_API_KEY, "hero-k-test-key"),
                (ENV_PRACTICE_GROUP_ID, "practice-p"),
                (ENV_ENVIRONMENT, "prod2"),
            ]))
            .unwrap_err();
        assert!(
            err.to_string().contains("HERO_ENVIRONMENT must be"),
            "{err}"
        );
    }

    #[test]
    fn from_env_prefers_base_url() {
        let c = HeroClient::builder()
            .from_lookup(lookup(&[
                (ENV_API_KEY, "hero-k-test-key"),
                (ENV_PRACTICE_GROUP_ID, "practice-p"),
                (ENV_BASE_URL, "http://127.0.0.1:4010/"),
                (ENV_ENVIRONMENT, "production"),
            ]))
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:4010");
    }

    #[test]
    fn debug_shows_no_secret() {
        let b = HeroClient::builder()
            .api_key("hero-secret-test-key")
            .practice_group_id("practice-secret")
            .base_url("http://127.0.0.1:1");
        let c = b.clone().build().unwrap();
        let text = format!("{b:?} {c:?}");
        assert!(
            !text.contains("hero-secret-test-key") && !text.contains("practice-secret"),
            "{text}"
        );
    }
}
