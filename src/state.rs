//! What every call of one client reads: [`ClientState`] (credentials, retry policy, the time an
//! attempt may take, Hero's clock as last read).

use chrono::{DateTime, Utc};

use std::{
    collections::{HashMap, HashSet, VecDeque},
    fmt,
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::{RetryPolicy, auth::Credentials, clock::HeroClock, error::Error};

// (`Pace` is `crate::Pace`, in `pace.rs`.)

/// The per-client state behind [`crate::HeroClient`] (progenitor's inner type). Its `Debug`
/// shows no secret.
#[derive(Clone, Debug)]
pub(crate) struct ClientState {
    pub(crate) credentials: Credentials,
    /// The retry policy the transport applies: [`Self::limits`]' policy, its total deadline cut
    /// by a whole-call deadline.
    pub(crate) retry: RetryPolicy,
    /// The most one attempt may take, as the transport applies it: [`Self::limits`]' timeout,
    /// cut by a whole-call deadline.
    pub(crate) timeout: Duration,
    /// What was asked for: the builder's or the `with_*` overrides'.
    pub(crate) limits: Limits,
    /// The environment the client was built for.
    pub(crate) environment: Environment,
    /// Hero's clock, read from the `Date` of its answers; shared by the client's clones.
    pub(crate) clock: HeroClock,
    /// The message ids of this client's own sends; shared by its clones.
    pub(crate) own_sends: OwnSends,
    /// The pace every attempt waits for (`HeroClientBuilder::rate_limit`); shared by its clones.
    pub(crate) pace: Option<crate::Pace>,
    /// The longest Hero may take to create a message once a send reached it
    /// (`HeroClientBuilder::hero_processing_time`; the builder's timeout by default).
    pub(crate) processing: Duration,
}

/// The time limits a client was given, before [`ClientState::settle`] makes them the transport's.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    /// The most one attempt may take (the builder's timeout, or `with_timeout`).
    pub(crate) timeout: Duration,
    /// The retry policy (the builder's, or `with_retry_policy`).
    pub(crate) retry: RetryPolicy,
    /// The most a whole call may take, every attempt and wait included (`with_deadline`).
    pub(crate) deadline: Option<Duration>,
}

impl ClientState {
    /// Sets the transport's timeout and retry policy from [`Self::limits`]. Without a deadline,
    /// they are the ones asked for. With one, each attempt gets at most the deadline, and a retry
    /// may start only while a whole attempt still fits before it: the transport starts no retry
    /// later than the policy's total deadline after the first attempt, and bounds each attempt
    /// (body included) by the timeout, so a call ends within `timeout + total deadline`, which
    /// this makes at most the deadline. An attempt cut off is the transport's timeout, whose
    /// error says whether a send may have arrived.
    pub(crate) fn settle(&mut self) {
        let Limits {
            timeout,
            retry,
            deadline,
        } = self.limits.clone();
        match deadline {
            None => {
                self.timeout = timeout;
                self.retry = retry;
            }
            Some(deadline) => {
                let attempt = timeout.min(deadline);
                let room = deadline.saturating_sub(attempt);
                self.timeout = attempt;
                self.retry = retry
                    .clone()
                    .total_deadline(retry.get_total_deadline().min(room));
            }
        }
    }
}

/// The message ids of this client's sends (from Hero's answers, and from `find_send`'s `Sent`):
/// `find_send` never takes one of them for another send. An id `find_send` found stays a candidate
/// for the attempt it was found for (asked again, it answers the same). The latest
/// [`OwnSends::KEEP`] are kept.
#[derive(Clone, Default)]
pub(crate) struct OwnSends(Arc<Mutex<Ids>>);

#[derive(Default)]
struct Ids {
    order: VecDeque<String>,
    /// Each id, with the start of the attempt `find_send` found it for (`None`: Hero's answer to
    /// a send of this client's).
    found_for: HashMap<String, Option<DateTime<Utc>>>,
}

impl OwnSends {
    /// How many ids are kept (the oldest go first).
    pub(crate) const KEEP: usize = 10_000;

    /// An id Hero answered a send of this client's with.
    pub(crate) fn remember(&self, id: &str) {
        self.insert(id, None);
    }

    /// An id `find_send` found for the attempt that started at `started`.
    pub(crate) fn remember_found(&self, id: &str, started: DateTime<Utc>) {
        self.insert(id, Some(started));
    }

    fn insert(&self, id: &str, found_for: Option<DateTime<Utc>>) {
        let mut ids = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if ids.found_for.insert(id.to_owned(), found_for).is_none() {
            ids.order.push_back(id.to_owned());
            if ids.order.len() > Self::KEEP
                && let Some(old) = ids.order.pop_front()
            {
                ids.found_for.remove(&old);
            }
        }
    }

    /// The ids that are not the attempt's (started at `started`) own: every one but those
    /// `find_send` found for it.
    pub(crate) fn others_than(&self, started: DateTime<Utc>) -> HashSet<String> {
        let ids = self.0.lock().unwrap_or_else(|e| e.into_inner());
        ids.found_for
            .iter()
            .filter(|(_, found_for)| **found_for != Some(started))
            .map(|(id, _)| id.clone())
            .collect()
    }
}

impl fmt::Debug for OwnSends {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.lock().map(|ids| ids.order.len()).unwrap_or(0);
        write!(f, "OwnSends({n} ids)")
    }
}

/// Environment variable naming the environment: `production` or `staging`.
pub const ENV_ENVIRONMENT: &str = "HERO_ENVIRONMENT";
/// Which Hero server the client talks to.
///
/// ```
/// use herohealth::Environment;
/// assert_eq!(Environment::Staging.base_url(), "https://api.staging.htech.app");
/// assert_eq!("production".parse::<Environment>().unwrap(), Environment::Production);
/// assert_eq!(Environment::Custom("http://127.0.0.1:4010".into()).base_url(), "http://127.0.0.1:4010");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum Environment {
    /// `https://api.herohealth.net`: real patients.
    Production,
    /// `https://api.staging.htech.app`: test data only, with its own API keys.
    Staging,
    /// Any base URL, e.g. a local `herohealth-mock`. `http://` is allowed only for a loopback host.
    Custom(String),
}

/// `Debug` shows a custom URL by its structure only: an `http(s)` URL's scheme, host and port,
/// with every part that may hold a secret (user and password, a path other than `/`, a query, a
/// fragment) masked; anything else, not at all. A builder holds the URL before `build()` refuses
/// credentials in it, and a key pasted into a path would pass `build()`.
///
/// ```
/// use herohealth::Environment;
/// let env = Environment::Custom("https://user:sk_live_1@hero.example/v1?key=sk_live_2".into());
/// assert_eq!(
///     format!("{env:?}"),
///     r#"Custom("https://<redacted>@hero.example/<redacted>?<redacted>")"#
/// );
/// let local = Environment::Custom("http://127.0.0.1:4010".into());
/// assert_eq!(format!("{local:?}"), r#"Custom("http://127.0.0.1:4010/")"#);
/// // No scheme: `user:key@host` would parse as scheme `user`; it is not shown.
/// let pasted = Environment::Custom("user:sk_live_3@hero.example".into());
/// assert_eq!(format!("{pasted:?}"), "Custom(<not a URL>)");
/// ```
impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Environment::Production => f.write_str("Production"),
            Environment::Staging => f.write_str("Staging"),
            Environment::Custom(url) => match crate::shown::debug::shown_url(url) {
                Some(shown) => f.debug_tuple("Custom").field(&shown).finish(),
                None => f.write_str("Custom(<not a URL>)"),
            },
        }
    }
}

impl Environment {
    /// Production's base URL.
    pub const PRODUCTION_URL: &'static str = "https://api.herohealth.net";
    /// Staging's base URL.
    pub const STAGING_URL: &'static str = "https://api.staging.htech.app";

    /// The base URL as given (before checks).
    pub fn base_url(&self) -> &str {
        match self {
            Environment::Production => Self::PRODUCTION_URL,
            Environment::Staging => Self::STAGING_URL,
            Environment::Custom(url) => url,
        }
    }
}

impl std::str::FromStr for Environment {
    type Err = Error;
    /// `production` (or `prod`) or `staging`, in any case.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "production" | "prod" => Ok(Environment::Production),
            "staging" => Ok(Environment::Staging),
            _ => Err(Error::config(format!(
                "{ENV_ENVIRONMENT} must be `production` (or `prod`) or `staging`"
            ))),
        }
    }
}
