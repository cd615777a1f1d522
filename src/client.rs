//! Configuration and [`HeroClient`]: credentials, environment, timeouts, user agent.

use std::{fmt, net::IpAddr, sync::Arc, time::Duration};

use reqwest::Url;

use crate::{
    ENV_ENVIRONMENT, Environment, HeroClient, Pace, RetryPolicy,
    auth::Credentials,
    clock::HeroClock,
    error::Error,
    state::{ClientState, Limits},
};

/// Environment variable holding the API key.
pub const ENV_API_KEY: &str = "HERO_API_KEY";
/// Environment variable holding the practice group id.
pub const ENV_PRACTICE_GROUP_ID: &str = "HERO_PRACTICE_GROUP_ID";
/// Environment variable holding a base URL (wins over [`ENV_ENVIRONMENT`]).
pub const ENV_BASE_URL: &str = "HERO_BASE_URL";
/// Optional environment variable: the time for one attempt of a request, in seconds (`5`, `2.5`),
/// instead of [`DEFAULT_TIMEOUT`]. Read by [`HeroClient::from_env`] and
/// [`HeroClientBuilder::from_lookup`].
///
/// ```
/// use herohealth::HeroClient;
/// let env = |name: &str| match name {
///     "HERO_API_KEY" => Some("hero_test_key".to_owned()),
///     "HERO_PRACTICE_GROUP_ID" => Some("demo-practice".to_owned()),
///     "HERO_ENVIRONMENT" => Some("staging".to_owned()),
///     "HERO_TIMEOUT" => Some("soon".to_owned()),
///     _ => None,
/// };
/// let err = HeroClient::builder().from_lookup(env).unwrap_err();
/// assert!(err.to_string().contains("HERO_TIMEOUT"));
/// ```
pub const ENV_TIMEOUT: &str = "HERO_TIMEOUT";

/// Default total time for one attempt of a request: 30 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time to establish a connection: 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A hook that configures the underlying `reqwest::ClientBuilder` (see
/// [`HeroClientBuilder::configure_http`]).
type HttpHook = Arc<dyn Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync>;

/// Builds a [`HeroClient`].
///
/// **Defaults**: each attempt of a request may take [`DEFAULT_TIMEOUT`] (30 s, `timeout`), a
/// connection [`DEFAULT_CONNECT_TIMEOUT`] (10 s, `connect_timeout`); retries follow
/// [`RetryPolicy::default`] (3 attempts, none starting later than 60 s after the first); no
/// whole-call deadline ([`HeroClient::with_deadline`]). The API key, practice group id and
/// environment have no default: [`build`](Self::build) refuses without them.
///
/// ```
/// use std::time::Duration;
/// use herohealth::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, HeroClient, RetryPolicy};
/// let hero = HeroClient::builder()
///     .api_key("hero_test_key")
///     .practice_group_id("demo-practice")
///     .base_url("http://127.0.0.1:4010")
///     .build()?;
/// assert_eq!((DEFAULT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT), (Duration::from_secs(30), Duration::from_secs(10)));
/// assert_eq!(hero.timeout(), DEFAULT_TIMEOUT);
/// assert_eq!(hero.retry_policy(), &RetryPolicy::default());
/// assert_eq!(hero.deadline(), None);
/// # Ok::<(), herohealth::Error>(())
/// ```
///
/// ```
/// use std::time::Duration;
/// use herohealth::{Environment, HeroClient};
///
/// let client = HeroClient::builder()
///     .api_key("hero_test_key")
///     .practice_group_id("demo-practice")
///     .environment(Environment::Staging)
///     .timeout(Duration::from_secs(20))
///     .build()?;
/// assert_eq!(client.base_url(), "https://api.staging.htech.app");
/// # Ok::<(), herohealth::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct HeroClientBuilder {
    api_key: Option<String>,
    practice_group_id: Option<String>,
    environment: Option<Environment>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
    http: Option<HttpHook>,
    pace: Option<Pace>,
}

impl fmt::Debug for HeroClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |o: &Option<String>| o.as_ref().map(|_| crate::redact::REDACTED);
        f.debug_struct("HeroClientBuilder")
            .field("api_key", &redact(&self.api_key))
            .field("practice_group_id", &redact(&self.practice_group_id))
            .field("environment", &self.environment)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .field("configure_http", &self.http.is_some())
            .field("pace", &self.pace)
            .finish()
    }
}

impl HeroClientBuilder {
    /// Configures the underlying HTTP client: a proxy, an extra root certificate (an HSCN or NHS
    /// network's CA), a client certificate for mTLS, DNS overrides, HTTP/1 only, ... The hook gets
    /// a fresh `reqwest::ClientBuilder`; afterwards the crate re-applies its own settings, which the
    /// hook cannot weaken: redirects are never followed, `https` only unless the host is loopback,
    /// its user agent, and the timeouts set on this builder.
    ///
    /// Without a hook, the environment's proxies (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`) are
    /// used, and with the `rustls` features certificates are checked against the operating
    /// system's trust store (so a CA installed there, e.g. an NHS network's, is trusted).
    ///
    /// ```
    /// use herohealth::{HeroClient, reqwest};
    ///
    /// let hero = HeroClient::builder()
    ///     .api_key("hero_test_key")
    ///     .practice_group_id("demo-practice")
    ///     .environment(herohealth::Environment::Staging)
    ///     .configure_http(|http| {
    ///         http.proxy(reqwest::Proxy::https("http://proxy.practice.nhs.uk:3128").expect("a proxy URL"))
    ///             .http1_only()
    ///     })
    ///     .build()?;
    /// # let _ = hero; Ok::<(), herohealth::Error>(())
    /// ```
    pub fn configure_http(
        mut self,
        hook: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        self.http = Some(Arc::new(hook));
        self
    }

    /// The partner API key (`x-api-key`). Required.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The practice group the client acts for (`x-practice-group-id`). Required.
    pub fn practice_group_id(mut self, id: impl Into<String>) -> Self {
        self.practice_group_id = Some(id.into());
        self
    }

    /// Production, staging or a base URL. Required.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = Some(environment);
        self
    }

    /// Shorthand for `environment(Environment::Custom(url))`.
    pub fn base_url(self, url: impl Into<String>) -> Self {
        self.environment(Environment::Custom(url.into()))
    }

    /// Total time for one attempt of a request, its body included (default [`DEFAULT_TIMEOUT`],
    /// 30 s). Per attempt: a retried request takes up to this for each attempt (see
    /// [`HeroClient::with_deadline`] for a bound on the whole call).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Time to establish a connection (default [`DEFAULT_CONNECT_TIMEOUT`], 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]; [`RetryPolicy::disabled`] turns retries off).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// At most `per_second` requests a second (at least 1), kept by the client itself: every
    /// call of the client and of its clones (sends, lists, pages fetched ahead, waiters' polls,
    /// `find_send`'s looks) waits for its slot before each attempt, spaced evenly at
    /// [`Pace::HEADROOM`] of the limit, so the client never needs a 429 to find Hero's limit
    /// (Hero limits each practice group). A 429 all the same pauses every call for its
    /// `Retry-After` and halves the rate for a while (see [`Pace`]). Default: no limit.
    ///
    /// ```
    /// let hero = herohealth::HeroClient::builder()
    ///     .api_key("hero_test_key")
    ///     .practice_group_id("demo-practice")
    ///     .environment(herohealth::Environment::Staging)
    ///     .rate_limit(20)
    ///     .build()?;
    /// assert_eq!(hero.pace().and_then(|p| p.limit()), Some(20.0));
    /// # Ok::<(), herohealth::Error>(())
    /// ```
    pub fn rate_limit(mut self, per_second: u32) -> Self {
        self.pace = Some(Pace::new(per_second));
        self
    }

    /// The [`Pace`] every call waits for: [`rate_limit`](Self::rate_limit) with a schedule of
    /// your own, e.g. one shared by several processes ([`Pace::with_store`]).
    ///
    /// ```
    /// let pace = herohealth::Pace::new(20);
    /// let hero = herohealth::HeroClient::builder()
    ///     .api_key("hero_test_key")
    ///     .practice_group_id("demo-practice")
    ///     .environment(herohealth::Environment::Staging)
    ///     .pace(pace.clone())
    ///     .build()?;
    /// # let _ = hero; Ok::<(), herohealth::Error>(())
    /// ```
    pub fn pace(mut self, pace: Pace) -> Self {
        self.pace = Some(pace);
        self
    }

    /// Reads `HERO_API_KEY`, `HERO_PRACTICE_GROUP_ID` and `HERO_BASE_URL` (or
    /// `HERO_ENVIRONMENT=production|staging`) through `lookup`, on top of what is already set,
    /// and the optional `HERO_TIMEOUT` ([`ENV_TIMEOUT`], seconds per attempt). The error names
    /// every variable that is missing, or the one that is not valid.
    pub fn from_lookup(mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut missing = Vec::new();
        match get(ENV_API_KEY) {
            Some(v) => self.api_key = Some(v),
            None if self.api_key.is_none() => missing.push(ENV_API_KEY),
            None => {}
        }
        match get(ENV_PRACTICE_GROUP_ID) {
            Some(v) => self.practice_group_id = Some(v),
            None if self.practice_group_id.is_none() => missing.push(ENV_PRACTICE_GROUP_ID),
            None => {}
        }
        if let Some(url) = get(ENV_BASE_URL) {
            self.environment = Some(Environment::Custom(url));
        } else if let Some(env) = get(ENV_ENVIRONMENT) {
            self.environment = Some(env.parse()?);
        } else if self.environment.is_none() {
            missing.push("HERO_BASE_URL or HERO_ENVIRONMENT");
        }
        if let Some(seconds) = get(ENV_TIMEOUT) {
            let timeout = seconds
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
                .ok_or_else(|| {
                    Error::config(format!(
                        "{ENV_TIMEOUT} must be a number of seconds above 0 and at most 86400"
                    ))
                })?;
            self.timeout = Some(Duration::from_secs_f64(timeout));
        }
        if !missing.is_empty() {
            return Err(Error::config(format!(
                "missing environment variable(s): {}",
                missing.join(", ")
            )));
        }
        Ok(self)
    }

    /// Checks the configuration and builds the client. Nothing is sent.
    pub fn build(self) -> Result<HeroClient, Error> {
        let credentials = Credentials::new(
            self.api_key.as_deref().unwrap_or_default(),
            self.practice_group_id.as_deref().unwrap_or_default(),
        )?;
        let environment = self.environment.ok_or_else(|| {
            Error::config("environment (production, staging or a base URL) is not set")
        })?;
        let (base_url, loopback) = check_base_url(environment.base_url())?;
        // A zero timeout would fail every request before it started.
        if self.timeout == Some(Duration::ZERO) {
            return Err(Error::config("timeout must be above zero"));
        }
        if self.connect_timeout == Some(Duration::ZERO) {
            return Err(Error::config("connect_timeout must be above zero"));
        }

        #[cfg(all(feature = "rustls-ring", not(feature = "rustls")))]
        {
            // The ring provider, unless the program installed one (an error then is expected).
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let mut http = reqwest::Client::builder();
        if let Some(hook) = &self.http {
            http = hook(http);
        }
        // Our settings last, so that no hook can weaken them.
        let mut http = http
            .user_agent(concat!("herohealth-rust/", env!("CARGO_PKG_VERSION")))
            .timeout(self.timeout.unwrap_or(DEFAULT_TIMEOUT))
            .connect_timeout(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))
            // A redirect would carry the API key to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            // reqwest's own retries (of HTTP/2 refusals) would write a send again below the
            // crate's policy, unseen by `attempts()`: the crate's policy is the only one.
            .retry(reqwest::retry::never());
        if !loopback {
            http = http.https_only(true);
        }
        let http = http.build().map_err(|e| {
            Error::config(format!(
                "cannot build the HTTP client: {}",
                crate::error::error_chain(&e)
            ))
        })?;
        let limits = Limits {
            timeout: self.timeout.unwrap_or(DEFAULT_TIMEOUT),
            retry: self.retry.unwrap_or_default(),
            deadline: None,
        };
        let mut state = ClientState {
            credentials,
            retry: limits.retry.clone(),
            timeout: limits.timeout,
            limits,
            environment,
            clock: HeroClock::default(),
            own_sends: Default::default(),
            pace: self.pace,
        };
        state.settle();
        Ok(HeroClient::new_with_client(&base_url, http, state))
    }
}

/// Checks a base URL: absolute, `https` (or `http` to a loopback host), no credentials, query or
/// fragment. Returns it without a trailing `/`, and whether its host is loopback.
fn check_base_url(raw: &str) -> Result<(String, bool), Error> {
    let url = Url::parse(raw.trim())
        .map_err(|e| Error::config(format!("base URL is not a valid absolute URL ({e})")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => return Err(Error::config("base URL has no host")),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::config(
                "base URL uses http:// to a host that is not loopback: an API key never crosses a network in clear; use https://",
            ));
        }
        other => {
            return Err(Error::config(format!(
                "base URL scheme `{other}` is not http(s)"
            )));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config("base URL must not contain credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config("base URL must not have a query or fragment"));
    }
    Ok((url.as_str().trim_end_matches('/').to_owned(), loopback))
}

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
                &crate::redact::shown_url(self.base_url()).unwrap_or_default(),
            )
            .field("environment", &self.inner.environment)
            .field("credentials", &self.inner.credentials)
            .field("retry", &self.inner.retry)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn base_urls() {
        for ok in [
            "https://api.herohealth.net",
            "http://localhost:4010",
            "http://[::1]:80/",
            "http://127.0.0.2/x/",
        ] {
            assert!(check_base_url(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            (
                "http://api.herohealth.net",
                "http:// to a host that is not loopback",
            ),
            (
                "http://10.0.0.1:4010",
                "http:// to a host that is not loopback",
            ),
            ("ftp://localhost", "scheme `ftp`"),
            ("api.herohealth.net", "not a valid absolute URL"),
            ("https://user:pw@api.herohealth.net", "credentials"),
            ("https://api.herohealth.net/?a=1", "query or fragment"),
        ] {
            let err = check_base_url(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
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
