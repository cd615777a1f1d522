//! [`HeroClientBuilder`]: credentials, environment, timeouts, the HTTP client's settings (none of
//! which a hook can weaken), and the environment variables `from_env` reads.

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
    processing: Option<Duration>,
}

impl fmt::Debug for HeroClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |o: &Option<String>| o.as_ref().map(|_| crate::REDACTED);
        f.debug_struct("HeroClientBuilder")
            .field("api_key", &redact(&self.api_key))
            .field("practice_group_id", &redact(&self.practice_group_id))
            .field("environment", &self.environment)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .field("configure_http", &self.http.is_some())
            .field("pace", &self.pace)
            .field("hero_processing_time", &self.processing)
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

    /// The longest Hero may take to create a message once a send's request reached it, whatever
    /// timeout the client gave the request (default: this builder's [`timeout`](Self::timeout),
    /// itself 30 s by default). A request cut short by [`HeroClient::with_timeout`], a whole-call
    /// deadline or a caller that gave up may still be carried out by Hero up to this long after
    /// it was written: [`HeroClient::find_send`] answers "not sent" only after that (a send's
    /// [`SendAttempt::deadline`](crate::SendAttempt::deadline)). Set it to Hero's worst case where
    /// you know it; a shorter one than Hero really takes is the bound under which "not sent" can
    /// be wrong.
    ///
    /// ```
    /// use std::time::Duration;
    /// let hero = herohealth::HeroClient::builder()
    ///     .api_key("hero_test_key")
    ///     .practice_group_id("demo-practice")
    ///     .base_url("http://127.0.0.1:4010")
    ///     .timeout(Duration::from_secs(4))
    ///     .build()?;
    /// assert_eq!(hero.hero_processing_time(), Duration::from_secs(4));
    /// // A shorter timeout for one call does not shorten Hero's time.
    /// assert_eq!(hero.with_timeout(Duration::from_secs(1)).hero_processing_time(), Duration::from_secs(4));
    /// # Ok::<(), herohealth::Error>(())
    /// ```
    pub fn hero_processing_time(mut self, longest: Duration) -> Self {
        self.processing = Some(longest);
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
        // reqwest's own words are not shown (the crate shows no lower layer's text).
        let http = http.build().map_err(|_| {
            Error::config(
                "cannot build the HTTP client (its TLS backend, or a setting made with configure_http, was refused)",
            )
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
            processing: self
                .processing
                .unwrap_or(self.timeout.unwrap_or(DEFAULT_TIMEOUT)),
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

#[cfg(test)]
mod tests {
    use super::check_base_url;

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
}
