//! Who may use the console and how a request proves it: [`Users`] (names and Argon2id hashes,
//! never a password kept), sessions that expire, CSRF tokens, and the login limit.

use std::{
    collections::{HashMap, VecDeque},
    fmt,
    net::IpAddr,
    path::Path,
    sync::Mutex,
    time::{Duration, Instant},
};

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::ConsoleError;

/// The shortest password the console takes.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// The people who may log in to the console: each a name (recorded with every decision they
/// make) and an Argon2id hash of their password. A password given in clear (from the
/// environment or a file) is hashed at once and not kept.
///
/// A users file has one `name:password` or `name:$argon2id$...` line per person (`#` starts a
/// comment); `hero outbox serve --hash-password` prints the second form.
///
/// ```
/// use herohealth_outbox::console::Users;
///
/// let users = Users::new().with_password("Dr Ada Lovelace", "correct horse battery")?;
/// assert_eq!(users.names(), ["Dr Ada Lovelace"]);
/// // Too short, or a name the record cannot hold:
/// assert!(Users::new().with_password("ada", "short").is_err());
/// assert!(Users::new().with_password("ada:admin", "correct horse battery").is_err());
/// # Ok::<(), herohealth_outbox::console::ConsoleError>(())
/// ```
#[derive(Clone, Default)]
pub struct Users {
    users: Vec<(String, String)>,
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Users")
            .field("names", &self.names())
            .finish_non_exhaustive()
    }
}

/// The Argon2id hash (a PHC string, `$argon2id$v=19$...`) of `password`, with a fresh salt: what
/// a users file may hold instead of the password.
///
/// ```
/// let hash = herohealth_outbox::console::hash_password("correct horse battery")?;
/// assert!(hash.starts_with("$argon2id$"));
/// # Ok::<(), herohealth_outbox::console::ConsoleError>(())
/// ```
pub fn hash_password(password: &str) -> Result<String, ConsoleError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ConsoleError::Users(format!(
            "a password must have at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| ConsoleError::Users("the password could not be hashed".into()))
}

fn check_name(name: &str) -> Result<(), ConsoleError> {
    let ok = !name.trim().is_empty()
        && name.trim() == name
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-' | '@' | '\''));
    if ok {
        Ok(())
    } else {
        Err(ConsoleError::Users(
            "a user's name has 1 to 64 letters, digits, spaces and . _ - @ ' (no colon), without leading or trailing spaces".into(),
        ))
    }
}

impl Users {
    /// No users (a console with none refuses to start: [`super::router`] needs one).
    pub fn new() -> Users {
        Users::default()
    }

    /// Adds `name` with `password` (at least [`MIN_PASSWORD_CHARS`] characters), hashed now.
    pub fn with_password(self, name: &str, password: &str) -> Result<Users, ConsoleError> {
        let hash = hash_password(password)?;
        self.with_hash(name, &hash)
    }

    /// Adds `name` with an Argon2id hash ([`hash_password`]).
    ///
    /// ```
    /// use herohealth_outbox::console::{Users, hash_password};
    /// let hash = hash_password("correct horse battery")?;
    /// let users = Users::new().with_hash("ada", &hash)?;
    /// assert!(Users::new().with_hash("ada", "not a hash").is_err());
    /// # Ok::<(), herohealth_outbox::console::ConsoleError>(())
    /// ```
    pub fn with_hash(mut self, name: &str, hash: &str) -> Result<Users, ConsoleError> {
        check_name(name)?;
        let parsed = PasswordHash::new(hash)
            .map_err(|_| ConsoleError::Users(format!("user {name}: not an Argon2 hash")))?;
        if !parsed.algorithm.as_str().starts_with("argon2") {
            return Err(ConsoleError::Users(format!(
                "user {name}: not an Argon2 hash"
            )));
        }
        if self.users.iter().any(|(n, _)| n == name) {
            return Err(ConsoleError::Users(format!("user {name} is listed twice")));
        }
        self.users.push((name.to_owned(), hash.to_owned()));
        Ok(self)
    }

    /// Reads a users file: `name:password` or `name:$argon2id$...` per line, `#` comments and
    /// blank lines skipped. A password is hashed as it is read; errors name the line, never
    /// its text.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Users, ConsoleError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            // Not by its path: what the user typed may name a person.
            ConsoleError::Users(format!("the users file could not be read ({})", e.kind()))
        })?;
        Users::parse(&text)
    }

    /// [`from_file`](Self::from_file)'s reading of a users file's text.
    ///
    /// ```
    /// let users = herohealth_outbox::console::Users::parse(
    ///     "# the practice's IT lead\nAda:correct horse battery\n",
    /// )?;
    /// assert_eq!(users.names(), ["Ada"]);
    /// # Ok::<(), herohealth_outbox::console::ConsoleError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Users, ConsoleError> {
        let mut users = Users::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let at =
                |e: ConsoleError| ConsoleError::Users(format!("users file, line {}: {e}", i + 1));
            let Some((name, secret)) = line.split_once(':') else {
                return Err(at(ConsoleError::Users(
                    "expected name:password or name:$argon2id$...".into(),
                )));
            };
            users = if secret.starts_with("$argon2") {
                users.with_hash(name, secret)
            } else {
                users.with_password(name, secret)
            }
            .map_err(at)?;
        }
        if users.users.is_empty() {
            return Err(ConsoleError::Users("the users file names no user".into()));
        }
        Ok(users)
    }

    /// The users named by the environment: `HERO_CONSOLE_USER` (a name) and
    /// `HERO_CONSOLE_PASSWORD` (its password, or its Argon2id hash); `Ok(None)` when neither is
    /// set. `lookup` reads a variable (`|n| std::env::var(n).ok()`).
    ///
    /// ```
    /// use herohealth_outbox::console::Users;
    /// let env = |n: &str| match n {
    ///     "HERO_CONSOLE_USER" => Some("Ada".to_owned()),
    ///     "HERO_CONSOLE_PASSWORD" => Some("correct horse battery".to_owned()),
    ///     _ => None,
    /// };
    /// assert_eq!(Users::from_env(env)?.unwrap().names(), ["Ada"]);
    /// assert!(Users::from_env(|_| None)?.is_none());
    /// # Ok::<(), herohealth_outbox::console::ConsoleError>(())
    /// ```
    pub fn from_env(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Users>, ConsoleError> {
        match (lookup("HERO_CONSOLE_USER"), lookup("HERO_CONSOLE_PASSWORD")) {
            (None, None) => Ok(None),
            (Some(name), Some(secret)) if secret.starts_with("$argon2") => {
                Users::new().with_hash(&name, &secret).map(Some)
            }
            (Some(name), Some(secret)) => Users::new().with_password(&name, &secret).map(Some),
            _ => Err(ConsoleError::Users(
                "set both HERO_CONSOLE_USER and HERO_CONSOLE_PASSWORD, or neither".into(),
            )),
        }
    }

    /// The users' names.
    pub fn names(&self) -> Vec<&str> {
        self.users.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Whether no user is set.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The user `name` when `password` is theirs. Blocks (Argon2 takes its time on purpose): an
    /// unknown name costs the same as a wrong password.
    pub(crate) fn verify(&self, name: &str, password: &str) -> Option<String> {
        let argon = Argon2::default();
        let found = self.users.iter().find(|(n, _)| n == name);
        let hash = found.map(|(_, h)| h.as_str()).unwrap_or(&DUMMY.0);
        let parsed = PasswordHash::new(hash).ok()?;
        let ok = argon.verify_password(password.as_bytes(), &parsed).is_ok();
        (ok && found.is_some()).then(|| name.to_owned())
    }
}

/// A hash to check an unknown name's password against, so that it takes as long as a known one.
static DUMMY: std::sync::LazyLock<(String,)> = std::sync::LazyLock::new(|| {
    (Argon2::default()
        .hash_password(b"an unknown user's password")
        .map(|h| h.to_string())
        .unwrap_or_default(),)
});

/// A fresh token: 32 bytes from the operating system's random source, as hex.
pub(crate) fn token() -> String {
    let mut bytes = [0u8; 32];
    // The OS's random source failing is not recoverable (and getrandom does not fail on Linux).
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether two tokens are equal, in time that does not depend on where they differ.
pub(crate) fn same_token(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A logged-in person's session.
#[derive(Clone)]
pub(crate) struct Session {
    /// Their name (recorded with their decisions).
    pub(crate) user: String,
    /// The CSRF token every change they make carries.
    pub(crate) csrf: String,
    created: Instant,
    last: Instant,
}

/// The sessions, by the SHA-256 of their cookie's token (the token itself is not kept).
pub(crate) struct Sessions {
    map: Mutex<HashMap<[u8; 32], Session>>,
    idle: Duration,
    lifetime: Duration,
}

fn key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Sessions {
    pub(crate) fn new(idle: Duration, lifetime: Duration) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            idle,
            lifetime,
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a session for `user`: its cookie's token.
    pub(crate) fn start(&self, user: String, now: Instant) -> String {
        let token = token();
        let mut map = self.map();
        map.retain(|_, s| self.alive(s, now));
        map.insert(
            key(&token),
            Session {
                user,
                csrf: self::token(),
                created: now,
                last: now,
            },
        );
        token
    }

    fn alive(&self, s: &Session, now: Instant) -> bool {
        now.saturating_duration_since(s.last) < self.idle
            && now.saturating_duration_since(s.created) < self.lifetime
    }

    /// The session of `token` at `now`, if it has not expired (idle for longer than `idle`, or
    /// older than `lifetime`). A person's request (`used`) starts its idle time again; a page's
    /// automatic refresh does not, so a page left open still ends its session.
    pub(crate) fn get(&self, token: &str, now: Instant, used: bool) -> Option<Session> {
        let mut map = self.map();
        let k = key(token);
        let alive = map.get(&k).map(|s| self.alive(s, now))?;
        if !alive {
            map.remove(&k);
            return None;
        }
        let s = map.get_mut(&k)?;
        if used {
            s.last = now;
        }
        Some(s.clone())
    }

    /// Ends the session of `token`.
    pub(crate) fn end(&self, token: &str) {
        self.map().remove(&key(token));
    }
}

/// Login attempts: each client may fail [`PER_CLIENT`] times in [`WINDOW`], and all clients
/// together [`OVERALL`] times; past either, logins are refused (before any password is checked)
/// until the oldest failure leaves the window.
///
/// An attempt counts as a failure from the moment it is let through ([`reserve`](Self::reserve)),
/// before its password is checked (which takes a while on purpose), and is forgotten only when
/// the password was right ([`succeeded`](Self::succeeded)): attempts made in parallel cannot all
/// pass the check before any is counted.
pub(crate) struct LoginLimit {
    failures: Mutex<Failures>,
}

#[derive(Default)]
struct Failures {
    per_client: HashMap<Option<IpAddr>, VecDeque<Instant>>,
    overall: VecDeque<Instant>,
}

/// Failed logins one client may make in [`WINDOW`].
pub(crate) const PER_CLIENT: usize = 5;
/// Failed logins all clients together may make in [`WINDOW`].
pub(crate) const OVERALL: usize = 30;
/// The window failures are counted in.
pub(crate) const WINDOW: Duration = Duration::from_secs(15 * 60);

impl LoginLimit {
    pub(crate) fn new() -> LoginLimit {
        LoginLimit {
            failures: Mutex::new(Failures::default()),
        }
    }

    fn trim(q: &mut VecDeque<Instant>, now: Instant) {
        while q
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW)
        {
            q.pop_front();
        }
    }

    /// Lets one attempt of `client` through at `now`, counted as a failure until it
    /// [`succeeded`](Self::succeeded); `Err(wait)`: `client` may not try now, for `wait`.
    pub(crate) fn reserve(&self, client: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        let wait = |q: &VecDeque<Instant>| {
            q.front()
                .map(|t| WINDOW.saturating_sub(now.saturating_duration_since(*t)))
                .unwrap_or_default()
        };
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Failures {
            per_client,
            overall,
        } = &mut *f;
        Self::trim(overall, now);
        if overall.len() >= OVERALL {
            return Err(wait(overall));
        }
        per_client.retain(|_, q| {
            Self::trim(q, now);
            !q.is_empty()
        });
        let mine = per_client.entry(client).or_default();
        if mine.len() >= PER_CLIENT {
            return Err(wait(mine));
        }
        mine.push_back(now);
        overall.push_back(now);
        Ok(())
    }

    /// The attempt `client` made at `at` was right: its failures are forgotten, and that
    /// attempt no longer counts overall.
    pub(crate) fn succeeded(&self, client: Option<IpAddr>, at: Instant) {
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        f.per_client.remove(&client);
        if let Some(i) = f.overall.iter().rposition(|t| *t == at) {
            f.overall.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_expires_when_idle_and_when_old() {
        let sessions = Sessions::new(Duration::from_secs(60), Duration::from_secs(300));
        let t0 = Instant::now();
        let token = sessions.start("ada".into(), t0);
        assert_eq!(
            sessions
                .get(&token, t0 + Duration::from_secs(59), true)
                .unwrap()
                .user,
            "ada"
        );
        // Used at 59 s: idle again from there.
        assert!(
            sessions
                .get(&token, t0 + Duration::from_secs(118), true)
                .is_some()
        );
        assert!(
            sessions
                .get(&token, t0 + Duration::from_secs(178), true)
                .is_none(),
            "idle 60 s"
        );
        assert!(
            sessions
                .get(&token, t0 + Duration::from_secs(1), true)
                .is_none(),
            "removed"
        );

        let token = sessions.start("ada".into(), t0);
        for s in (50..300).step_by(50) {
            assert!(
                sessions
                    .get(&token, t0 + Duration::from_secs(s), true)
                    .is_some()
            );
        }
        assert!(
            sessions
                .get(&token, t0 + Duration::from_secs(300), true)
                .is_none(),
            "5 min old"
        );
        assert!(sessions.get("not a session", t0, true).is_none());
    }

    #[test]
    fn an_ended_session_is_gone() {
        let sessions = Sessions::new(Duration::from_secs(60), Duration::from_secs(300));
        let t0 = Instant::now();
        let token = sessions.start("ada".into(), t0);
        let other = sessions.start("bob".into(), t0);
        sessions.end(&token);
        assert!(sessions.get(&token, t0, true).is_none());
        assert_eq!(sessions.get(&other, t0, true).unwrap().user, "bob");
        assert_ne!(
            sessions.get(&other, t0, true).unwrap().csrf,
            other,
            "its own CSRF token"
        );
    }

    #[test]
    fn logins_are_limited_per_client_and_overall() {
        let limit = LoginLimit::new();
        let t0 = Instant::now();
        let a = Some(IpAddr::from([127, 0, 0, 1]));
        let b = Some(IpAddr::from([127, 0, 0, 2]));
        for i in 0..PER_CLIENT {
            let at = t0 + Duration::from_secs(i as u64);
            assert!(limit.reserve(a, at).is_ok(), "attempt {i}");
        }
        // Five attempts let through and not yet known right: the sixth waits for the first.
        let wait = limit.reserve(a, t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, WINDOW - Duration::from_secs(10));
        assert!(limit.reserve(b, t0).is_ok(), "another client");
        // The first failure leaves the window: one more try.
        assert!(limit.reserve(a, t0 + WINDOW).is_ok());
        assert!(limit.reserve(a, t0 + WINDOW).is_err());
        limit.succeeded(a, t0 + WINDOW);
        assert!(
            limit.reserve(a, t0 + Duration::from_secs(10)).is_ok(),
            "forgotten"
        );

        let limit = LoginLimit::new();
        for i in 0..OVERALL - 1 {
            let client = Some(IpAddr::from([10, 0, (i / 200) as u8, (i % 200) as u8]));
            assert!(limit.reserve(client, t0).is_ok());
        }
        let last = Some(IpAddr::from([10, 9, 9, 8]));
        assert!(limit.reserve(last, t0 + Duration::from_secs(1)).is_ok());
        let other = Some(IpAddr::from([10, 9, 9, 9]));
        assert_eq!(
            limit.reserve(other, t0 + Duration::from_secs(60)),
            Err(WINDOW - Duration::from_secs(60))
        );
        // A right password gives back its own attempt (that one only) to the overall count.
        limit.succeeded(last, t0 + Duration::from_secs(1));
        assert!(limit.reserve(other, t0 + Duration::from_secs(60)).is_ok());
        assert!(limit.reserve(other, t0 + Duration::from_secs(60)).is_err());
        assert!(limit.reserve(other, t0 + WINDOW).is_ok());
    }

    #[test]
    fn a_right_password_gives_back_its_own_attempt_only() {
        let limit = LoginLimit::new();
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        let (a, b) = (
            Some(IpAddr::from([10, 0, 0, 1])),
            Some(IpAddr::from([10, 0, 0, 2])),
        );
        limit.reserve(a, at(0)).unwrap();
        limit.reserve(b, at(1)).unwrap();
        limit.succeeded(a, at(0));
        for i in 0..OVERALL - 1 {
            limit
                .reserve(Some(IpAddr::from([10, 1, 0, i as u8])), at(2))
                .unwrap();
        }
        // The oldest failure left is b's, at 1 s.
        assert_eq!(
            limit.reserve(Some(IpAddr::from([10, 2, 0, 0])), at(3)),
            Err(WINDOW - Duration::from_secs(2))
        );
    }

    #[test]
    fn attempts_in_parallel_cannot_pass_the_limit() {
        let limit = std::sync::Arc::new(LoginLimit::new());
        let t0 = Instant::now();
        let through: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4 * PER_CLIENT)
                .map(|_| {
                    let limit = limit.clone();
                    s.spawn(move || usize::from(limit.reserve(None, t0).is_ok()))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(through, PER_CLIENT);
    }

    #[test]
    fn an_automatic_refresh_does_not_keep_a_session_alive() {
        let sessions = Sessions::new(Duration::from_secs(60), Duration::from_secs(300));
        let t0 = Instant::now();
        let token = sessions.start("ada".into(), t0);
        let at = |s| t0 + Duration::from_secs(s);
        assert!(sessions.get(&token, at(40), false).is_some());
        assert!(sessions.get(&token, at(59), false).is_some());
        assert!(
            sessions.get(&token, at(60), false).is_none(),
            "refreshed only: idle since 0 s"
        );
        let token = sessions.start("ada".into(), t0);
        assert!(sessions.get(&token, at(40), true).is_some());
        assert!(
            sessions.get(&token, at(99), false).is_some(),
            "used at 40 s"
        );
        assert!(sessions.get(&token, at(100), false).is_none());
    }

    #[test]
    fn tokens_are_fresh_and_compared_whole() {
        let (a, b) = (token(), token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(same_token(&a, &a.clone()));
        assert!(!same_token(&a, &b));
        assert!(!same_token(&a, &a[..63]));
        assert!(!same_token("", ""));
    }

    #[test]
    fn a_password_is_checked_against_its_hash_only() {
        let users = Users::new()
            .with_password("ada", "correct horse battery")
            .unwrap();
        assert_eq!(
            users.verify("ada", "correct horse battery").as_deref(),
            Some("ada")
        );
        assert_eq!(users.verify("ada", "correct horse batterY"), None);
        assert_eq!(users.verify("bob", "correct horse battery"), None);
        assert!(!format!("{users:?}").contains("argon2"));
        let users = Users::parse("a b:correct horse battery\n\n# c\nc:$x\n");
        assert!(users.unwrap_err().to_string().contains("line 4"));
    }
}
