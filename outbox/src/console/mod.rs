//! The outbox console (feature `console`): a web page where a person watches the sends of any
//! [`Journal`] and decides the rows the machine cannot.
//!
//! [`router`] is an axum [`Router`] over a journal; `hero outbox serve` serves it, and a partner
//! can mount it in their own axum app. Every page is server-rendered HTML with no script at all
//! (it refreshes by itself while a run goes on), and shows no patient data: rows are named by
//! their run and their line in the input file, which the operator has.
//!
//! Safe by default:
//! - every page needs a login ([`Users`]: names and Argon2id hashes; the name is recorded with
//!   each decision); logins are limited (5 failures per client and 30 overall in 15 minutes);
//!   sessions end after 30 minutes unused and 8 hours in all ([`Config`]);
//! - every change is a `POST` that carries the session's CSRF token, refused without it or from
//!   another site;
//! - every response carries [`SECURITY_HEADERS`]: a Content-Security-Policy that allows no script,
//!   frame denial, no referrer, `no-store`;
//! - [`Config::read_only`] shows everything and changes nothing;
//! - [`check_bind`]: `hero outbox serve` listens on loopback unless given TLS or the risk named.
//!
//! ```
//! use herohealth_outbox::{SqliteJournal, console::{self, Config, Users}};
//!
//! let users = Users::new().with_password("Ada", "correct horse battery")?;
//! let journal = SqliteJournal::in_memory()?;
//! let app: axum::Router = console::router(journal, Config::new(users).read_only(true))?;
//! // axum::serve(tokio::net::TcpListener::bind("127.0.0.1:8080").await?,
//! //     app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await?;
//! # let _ = app;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Mounted in another app, its pages, links and redirects stay under the mount: with
//! `Router::nest_service("/console", console)` its runs page is both `/console` and `/console/`;
//! with `Router::nest("/console", console)` it is `/console` (axum leaves `/console/` to the
//! outer app). Serve it with
//! `into_make_service_with_connect_info::<SocketAddr>()` so that logins are limited per client
//! (without it, all clients share one limit).

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    Form, Router,
    extract::{ConnectInfo, FromRequestParts, NestedPath, Query, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use crate::{DecisionRecord, Entry, Journal, JournalError, RunStatus};

mod auth;
mod decisions;
mod headers;
mod pages;

pub use auth::{MIN_PASSWORD_CHARS, Users, hash_password};
pub use headers::{CONTENT_SECURITY_POLICY, SECURITY_HEADERS};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "hh_console";
/// The login form's own CSRF cookie (before there is a session).
pub const LOGIN_COOKIE: &str = "hh_console_login";

/// What went wrong setting the console up. Its texts hold no password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsoleError {
    /// The users (a name, a password, a hash, the users file).
    #[error("console users: {0}")]
    Users(String),
    /// An address the console may not listen on as configured.
    #[error("--bind {addr}: {why}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why not, and what to do.
        why: &'static str,
    },
}

/// Whether the console may listen on `addr`: a loopback address always; any other (a LAN
/// address, `0.0.0.0`) only with TLS (`tls`), or when the operator named the risk of plain HTTP
/// on a network (`accept_plain_http`: passwords and session cookies readable by anyone on the
/// path).
///
/// ```
/// use herohealth_outbox::console::check_bind;
/// assert!(check_bind("127.0.0.1:8080".parse()?, false, false).is_ok());
/// assert!(check_bind("[::1]:8080".parse()?, false, false).is_ok());
/// assert!(check_bind("0.0.0.0:8080".parse()?, false, false).is_err());
/// assert!(check_bind("0.0.0.0:8443".parse()?, true, false).is_ok());
/// assert!(check_bind("192.168.1.5:8080".parse()?, false, true).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_bind(
    addr: SocketAddr,
    tls: bool,
    accept_plain_http: bool,
) -> Result<(), ConsoleError> {
    if addr.ip().is_loopback() || tls || accept_plain_http {
        Ok(())
    } else {
        Err(ConsoleError::Bind {
            addr,
            why: "not a loopback address: give a TLS certificate and key (--tls-cert, --tls-key), or accept plain HTTP on the network with --insecure-plain-http (passwords and sessions readable on the way)",
        })
    }
}

/// How the console runs: who may log in, whether it may change anything, how long a session
/// lasts.
///
/// ```
/// use std::time::Duration;
/// use herohealth_outbox::console::{Config, Users};
/// let users = Users::new().with_password("Ada", "correct horse battery")?;
/// let config = Config::new(users)
///     .read_only(true)
///     .session_idle(Duration::from_secs(600))
///     .secure_cookies(true);
/// # let _ = config;
/// # Ok::<(), herohealth_outbox::console::ConsoleError>(())
/// ```
#[derive(Clone)]
pub struct Config {
    users: Users,
    read_only: bool,
    session_idle: Duration,
    session_lifetime: Duration,
    secure_cookies: bool,
    refresh: u32,
    groups: Vec<(String, String)>,
}

/// Its practice groups by label only (a key is derived from a practice group id).
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("users", &self.users)
            .field("read_only", &self.read_only)
            .field("session_idle", &self.session_idle)
            .field("session_lifetime", &self.session_lifetime)
            .field("secure_cookies", &self.secure_cookies)
            .field("refresh", &self.refresh)
            .field(
                "practice_groups",
                &self.groups.iter().map(|(_, l)| l).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Config {
    /// `users` may log in; every change allowed; sessions end after 30 minutes unused or 8 hours.
    pub fn new(users: Users) -> Config {
        Config {
            users,
            read_only: false,
            session_idle: Duration::from_secs(30 * 60),
            session_lifetime: Duration::from_secs(8 * 3600),
            secure_cookies: false,
            refresh: 5,
            groups: Vec::new(),
        }
    }

    /// Shows everything and changes nothing: no decision can be made (refused, and no form shown).
    pub fn read_only(mut self, read_only: bool) -> Config {
        self.read_only = read_only;
        self
    }

    /// How long a session lasts unused (default 30 minutes).
    pub fn session_idle(mut self, idle: Duration) -> Config {
        self.session_idle = idle;
        self
    }

    /// How long a session lasts at most (default 8 hours).
    pub fn session_lifetime(mut self, lifetime: Duration) -> Config {
        self.session_lifetime = lifetime;
        self
    }

    /// Marks the cookies `Secure` (sent over HTTPS only): on when the console is served with TLS
    /// or behind an HTTPS proxy.
    pub fn secure_cookies(mut self, secure: bool) -> Config {
        self.secure_cookies = secure;
        self
    }

    /// How often a page refreshes itself while a run goes on, in seconds (default 5; at least 1).
    /// An automatic refresh is not a person's activity: a page left open still ends its session
    /// after [`session_idle`](Self::session_idle).
    pub fn refresh_every(mut self, seconds: u32) -> Config {
        self.refresh = seconds.max(1);
        self
    }

    /// Shows the runs of the practice group `key` (as the outbox keys it,
    /// [`HeroClient::practice_group_key`](herohealth::HeroClient::practice_group_key) or
    /// [`practice_group_key_of`](herohealth::HeroClient::practice_group_key_of)), named `label`
    /// on the pages (a name the operator chose: the key is never shown). Once one group is given,
    /// the console shows, and decides, the rows of the groups given only; call again for more.
    /// Without any, it shows every practice group of the journal, each named by its place in
    /// the journal (`group 1`, `group 2`, ...). A run the journal keeps no group for (an SQLite
    /// journal: one input of one group) is always shown.
    ///
    /// ```
    /// use herohealth::HeroClient;
    /// use herohealth_outbox::console::{Config, Users};
    /// let users = Users::new().with_password("Ada", "correct horse battery")?;
    /// let key = HeroClient::practice_group_key_of("the practice group id");
    /// let config = Config::new(users).practice_group(key, "Riverside Surgery");
    /// # let _ = config;
    /// # Ok::<(), herohealth_outbox::console::ConsoleError>(())
    /// ```
    pub fn practice_group(mut self, key: impl Into<String>, label: impl Into<String>) -> Config {
        self.groups.push((key.into(), label.into()));
        self
    }
}

/// The console's state, shared by its handlers.
pub(crate) struct Console<J> {
    pub(crate) journal: Arc<J>,
    pub(crate) config: Config,
    sessions: auth::Sessions,
    limit: auth::LoginLimit,
}

type Shared<J> = Arc<Console<J>>;

/// The runs this console shows (its practice groups'), each with the name of its group as the
/// pages show it.
pub(crate) struct View {
    pub(crate) runs: Vec<(RunStatus, String)>,
}

impl View {
    /// Whether run `run` is one this console shows.
    pub(crate) fn has(&self, run: u64) -> bool {
        self.runs.iter().any(|(r, _)| r.run == run)
    }
}

impl<J: Journal> Console<J> {
    /// The runs of this console's practice groups ([`Config::practice_group`]).
    pub(crate) async fn view(&self) -> Result<View, JournalError> {
        let mut all = self.journal.runs().await?;
        all.sort_by_key(|r| r.run);
        // A group's place in the journal: by its first run.
        let mut places: HashMap<String, usize> = HashMap::new();
        for key in all.iter().filter_map(|r| r.group_key.clone()) {
            let next = places.len() + 1;
            places.entry(key).or_insert(next);
        }
        let groups = &self.config.groups;
        let runs = all
            .into_iter()
            .filter_map(|r| {
                let name = match &r.group_key {
                    None => "—".to_owned(),
                    Some(key) => match groups.iter().find(|(k, _)| k == key) {
                        Some((_, label)) => label.clone(),
                        None if groups.is_empty() => format!("group {}", places[key]),
                        None => return None,
                    },
                };
                Some((r, name))
            })
            .collect();
        Ok(View { runs })
    }

    /// The rows to decide of this console's runs, and the runs.
    pub(crate) async fn to_decide(&self) -> Result<(View, Vec<Entry>), JournalError> {
        let (view, mut rows) = tokio::try_join!(self.view(), self.journal.to_decide())?;
        rows.retain(|e| view.has(e.run));
        Ok((view, rows))
    }

    /// The decisions on this console's runs.
    pub(crate) async fn decisions(&self) -> Result<Vec<DecisionRecord>, JournalError> {
        let (view, mut records) = tokio::try_join!(self.view(), self.journal.decisions())?;
        records.retain(|r| view.has(r.run));
        Ok(records)
    }
}

/// The time by the runtime's clock (a test's paused clock moves it; else the machine's).
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// The console over `journal` (owned, or an `Arc` shared with an outbox): an axum [`Router`] with
/// its pages at `/` (runs), `/workers`, `/decide` (rows to decide, one row's evidence and its
/// decisions), `/decisions` (the record, `/decisions.csv`), `/login`, `/logout` and `/console.css`. Fails
/// when `config` has no user.
///
/// See the [module](self) for how to serve it.
pub fn router<J: Journal>(
    journal: impl Into<Arc<J>>,
    config: Config,
) -> Result<Router, ConsoleError> {
    if config.users.is_empty() {
        return Err(ConsoleError::Users("no user may log in".into()));
    }
    let shared: Shared<J> = Arc::new(Console {
        journal: journal.into(),
        sessions: auth::Sessions::new(config.session_idle, config.session_lifetime),
        limit: auth::LoginLimit::new(),
        config,
    });
    Ok(Router::new()
        .route("/", get(pages::runs::<J>))
        .route("/workers", get(pages::workers::<J>))
        .route(
            "/decide",
            get(pages::decide::<J>).post(decisions::decide::<J>),
        )
        .route("/decisions", get(decisions::page::<J>))
        .route("/decisions.csv", get(decisions::csv::<J>))
        .route("/login", get(login_form::<J>).post(login::<J>))
        .route("/logout", post(logout::<J>))
        .route("/console.css", get(stylesheet))
        .fallback(not_found)
        .with_state(shared)
        .layer(axum::middleware::map_response(headers::secure)))
}

/// A logged-in request: its session's user and CSRF token, and where the console is mounted.
pub(crate) struct Authed {
    pub(crate) user: String,
    pub(crate) csrf: String,
    pub(crate) base: Base,
    token: String,
}

/// Where the console is mounted (`Router::nest`): every link and redirect is made from it.
#[derive(Clone, Default)]
pub(crate) struct Base(Option<String>);

impl Base {
    fn of(parts: &Parts) -> Base {
        Base(
            parts
                .extensions
                .get::<NestedPath>()
                .map(|n| n.as_str().to_owned()),
        )
    }

    /// The address of the console's page `page` (`""`: the runs page): relative when the
    /// console is not nested, under the mount when it is.
    pub(crate) fn to(&self, page: &str) -> String {
        match (&self.0, page) {
            (None, "") => "./".to_owned(),
            (None, _) => page.to_owned(),
            (Some(mount), "") => mount.clone(),
            (Some(mount), _) => format!("{}/{page}", mount.trim_end_matches('/')),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Base {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Base::of(parts))
    }
}

/// The query parameter of a page's automatic refresh (`?auto=1`): not a person's activity.
pub(crate) const AUTO_REFRESH: &str = "auto=1";

fn automatic(parts: &Parts) -> bool {
    parts
        .uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == AUTO_REFRESH))
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

fn is_read(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

impl<J: Journal> FromRequestParts<Shared<J>> for Authed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Shared<J>,
    ) -> Result<Self, Self::Rejection> {
        let used = !(is_read(&parts.method) && automatic(parts));
        let session = cookie(&parts.headers, SESSION_COOKIE)
            .and_then(|t| state.sessions.get(&t, now(), used).map(|s| (t, s)));
        let base = Base::of(parts);
        match session {
            Some((token, s)) => Ok(Authed {
                user: s.user,
                csrf: s.csrf,
                base,
                token,
            }),
            None if is_read(&parts.method) => Err(Redirect::to(&base.to("login")).into_response()),
            None => Err(refused(
                StatusCode::FORBIDDEN,
                "Refused: not logged in (or the session expired). Nothing was changed.",
            )),
        }
    }
}

/// The client's address, when the server gave it (`into_make_service_with_connect_info`).
pub(crate) struct Client(Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// A plain refusal.
pub(crate) fn refused(status: StatusCode, why: &'static str) -> Response {
    (status, why).into_response()
}

/// A change from another site (the browser says so) is refused whatever it carries.
fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !matches!(v, "same-origin" | "none"))
}

/// Checks a change's CSRF token against the session's: `Some` is the refusal.
pub(crate) fn change_refused(headers: &HeaderMap, authed: &Authed, csrf: &str) -> Option<Response> {
    (cross_site(headers) || !auth::same_token(csrf, &authed.csrf)).then(|| {
        refused(
            StatusCode::FORBIDDEN,
            "Refused: this change did not carry the page's CSRF token (reload the page and try again). Nothing was changed.",
        )
    })
}

fn set_cookie(config: &Config, name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(secs) = max_age {
        c.push_str(&format!("; Max-Age={secs}"));
    }
    if config.secure_cookies {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("tokens are hex")
}

async fn login_form<J: Journal>(
    State(state): State<Shared<J>>,
    base: Base,
    headers: HeaderMap,
) -> Response {
    if let Some(t) = cookie(&headers, SESSION_COOKIE)
        && state.sessions.get(&t, now(), true).is_some()
    {
        return Redirect::to(&base.to("")).into_response();
    }
    let token = auth::token();
    (
        [(
            header::SET_COOKIE,
            set_cookie(&state.config, LOGIN_COOKIE, &token, Some(3600)),
        )],
        pages::login(&base, &token, None),
    )
        .into_response()
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    name: String,
    password: String,
    csrf: String,
}

async fn login<J: Journal>(
    State(state): State<Shared<J>>,
    Client(client): Client,
    base: Base,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if cross_site(&headers) || !auth::same_token(&form.csrf, &expected) {
        return refused(
            StatusCode::FORBIDDEN,
            "Refused: the login form's CSRF token is missing or wrong (open the login page again).",
        );
    }
    // Counted before the password is checked: attempts in parallel cannot pass the limit.
    let at = now();
    if let Err(wait) = state.limit.reserve(client, at) {
        let secs = wait.as_secs().max(1);
        let mut r = (
            StatusCode::TOO_MANY_REQUESTS,
            pages::login(
                &base,
                &form.csrf,
                Some(&format!("Too many failed logins: try again in {secs} s.")),
            ),
        )
            .into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return r;
    }
    let users = state.config.users.clone();
    let (name, password) = (form.name, form.password);
    let who = tokio::task::spawn_blocking(move || users.verify(&name, &password))
        .await
        .ok()
        .flatten();
    let Some(user) = who else {
        return (
            StatusCode::UNAUTHORIZED,
            pages::login(&base, &form.csrf, Some("Wrong name or password.")),
        )
            .into_response();
    };
    state.limit.succeeded(client, at);
    let token = state.sessions.start(user, now());
    let mut r = Redirect::to(&base.to("")).into_response();
    let h = r.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(&state.config, SESSION_COOKIE, &token, None),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(&state.config, LOGIN_COOKIE, "", Some(0)),
    );
    r
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout<J: Journal>(
    State(state): State<Shared<J>>,
    authed: Authed,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(r) = change_refused(&headers, &authed, &form.csrf) {
        return r;
    }
    state.sessions.end(&authed.token);
    let mut r = Redirect::to(&authed.base.to("login")).into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&state.config, SESSION_COOKIE, "", Some(0)),
    );
    r
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        pages::STYLESHEET,
    )
        .into_response()
}

async fn not_found() -> Response {
    refused(StatusCode::NOT_FOUND, "Not found.")
}

/// A journal that could not be read: its error (no patient data by its contract).
pub(crate) fn journal_failed(e: JournalError) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::failure(&e.to_string()),
    )
        .into_response()
}

/// A row named in a query: its run and its line in the input file.
#[derive(Deserialize)]
pub(crate) struct RowQuery {
    pub(crate) run: Option<u64>,
    pub(crate) line: Option<u64>,
}

pub(crate) type RowQueryOf = Query<RowQuery>;
