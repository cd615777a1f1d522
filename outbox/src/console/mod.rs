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
//! Mounted in another app (`Router::nest("/console", ...)`), its pages link to each other by
//! relative paths: link to it as `/console/`. Serve it with
//! `into_make_service_with_connect_info::<SocketAddr>()` so that logins are limited per client
//! (without it, all clients share one limit).

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    Form, Router,
    extract::{ConnectInfo, FromRequestParts, Query, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use crate::{Journal, JournalError};

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
#[derive(Debug, Clone)]
pub struct Config {
    users: Users,
    read_only: bool,
    session_idle: Duration,
    session_lifetime: Duration,
    secure_cookies: bool,
    refresh: u32,
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
    pub fn refresh_every(mut self, seconds: u32) -> Config {
        self.refresh = seconds.max(1);
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

/// A logged-in request: its session's user and CSRF token.
pub(crate) struct Authed {
    pub(crate) user: String,
    pub(crate) csrf: String,
    token: String,
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
        let session = cookie(&parts.headers, SESSION_COOKIE)
            .and_then(|t| state.sessions.get(&t, Instant::now()).map(|s| (t, s)));
        match session {
            Some((token, s)) => Ok(Authed {
                user: s.user,
                csrf: s.csrf,
                token,
            }),
            None if is_read(&parts.method) => Err(Redirect::to("login").into_response()),
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

async fn login_form<J: Journal>(State(state): State<Shared<J>>, headers: HeaderMap) -> Response {
    if let Some(t) = cookie(&headers, SESSION_COOKIE)
        && state.sessions.get(&t, Instant::now()).is_some()
    {
        return Redirect::to("./").into_response();
    }
    let token = auth::token();
    (
        [(
            header::SET_COOKIE,
            set_cookie(&state.config, LOGIN_COOKIE, &token, Some(3600)),
        )],
        pages::login(&token, None),
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
    if let Err(wait) = state.limit.check(client, Instant::now()) {
        let secs = wait.as_secs().max(1);
        let mut r = (
            StatusCode::TOO_MANY_REQUESTS,
            pages::login(
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
        state.limit.failed(client, Instant::now());
        return (
            StatusCode::UNAUTHORIZED,
            pages::login(&form.csrf, Some("Wrong name or password.")),
        )
            .into_response();
    };
    state.limit.succeeded(client);
    let token = state.sessions.start(user, Instant::now());
    let mut r = Redirect::to("./").into_response();
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
    let mut r = Redirect::to("login").into_response();
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
