//! The console on the wire (loopback): every page behind a login, the login's CSRF token, its
//! limit, sessions, CSRF on every change, the headers of every response, and no patient data on
//! any page. The browser's view: tests/console_browser.rs.

mod console_support;

use std::collections::BTreeMap;

use console_support::{PASSWORD, USER, patient_data, serve, sqlite_in_every_state, users};
use herohealth::reqwest::{self, StatusCode, header::HeaderMap, redirect::Policy};
use herohealth_outbox::{
    SqliteJournal,
    console::{self, CONTENT_SECURITY_POLICY, Config, LOGIN_COOKIE, SESSION_COOKIE, Users},
};

/// A client that keeps cookies by hand and never follows a redirect.
struct Client {
    http: reqwest::Client,
    base: String,
    cookies: BTreeMap<String, String>,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get("location")
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// The first form's CSRF token on the page.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a CSRF field")
            + 19;
        self.body[at..at + 64].to_owned()
    }
}

fn encode(form: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    form.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Client {
    fn new(base: &str) -> Client {
        Client {
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Answer {
        let req = if self.cookies.is_empty() {
            req
        } else {
            req.header("cookie", self.cookie_header())
        };
        let r = req.send().await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        for v in headers.get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = r.text().await.unwrap();
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Answer {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(form));
        self.send(req).await
    }

    async fn try_login(&mut self, name: &str, password: &str) -> Answer {
        let form = self.get("login").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.csrf();
        self.post(
            "login",
            &[("name", name), ("password", password), ("csrf", &csrf)],
        )
        .await
    }

    async fn login(&mut self) {
        let r = self.try_login(USER, PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "./");
        assert!(self.cookies.contains_key(SESSION_COOKIE));
        assert!(
            !self.cookies.contains_key(LOGIN_COOKIE),
            "the login token is used up"
        );
    }
}

async fn console(config: impl FnOnce(Config) -> Config) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let journal = sqlite_in_every_state(dir.path()).await;
    let base = serve::<SqliteJournal>(journal, config(Config::new(users()))).await;
    (dir, base)
}

const PAGES: &[&str] = &[
    "",
    "workers",
    "decide",
    "decide?run=0&line=4",
    "decide?run=0&line=5",
];

#[tokio::test(flavor = "multi_thread")]
async fn every_page_needs_a_login() {
    let (_dir, base) = console(|c| c).await;
    let mut c = Client::new(&base);
    for page in PAGES {
        let r = c.get(page).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{page}");
        assert_eq!(r.location(), "login", "{page}");
        assert!(!r.body.contains("Run"), "{page}: {}", r.body);
    }
    // A made-up session is no session.
    c.cookies.insert(SESSION_COOKIE.into(), "0".repeat(64));
    assert_eq!(c.get("").await.status, StatusCode::SEE_OTHER);
    let r = c.post("logout", &[("csrf", &"0".repeat(64))]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_login_needs_its_form_token_and_the_password() {
    let (_dir, base) = console(|c| c).await;
    let mut c = Client::new(&base);
    // The form's token without its cookie (another site's form): refused before any check.
    let form = c.get("login").await;
    let csrf = form.csrf();
    let mut other = Client::new(&base);
    let r = other
        .post(
            "login",
            &[("name", USER), ("password", PASSWORD), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!other.cookies.contains_key(SESSION_COOKIE));
    // A cross-site form post, even with the right token.
    let r = c
        .send(
            c.http
                .post(format!("{base}login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "cross-site")
                .body(encode(&[
                    ("name", USER),
                    ("password", PASSWORD),
                    ("csrf", &csrf),
                ])),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = c.try_login(USER, "correct horse battery stapler").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("Wrong name or password"));
    assert!(!c.cookies.contains_key(SESSION_COOKIE));
    let r = c.try_login("Grace Hopper", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    c.login().await;
    let r = c.get("").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains(USER), "the page names who is logged in");
    assert!(r.body.contains("id=\"runs\""));
    // Logged in, the login page sends you on.
    assert_eq!(c.get("login").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread")]
async fn logins_are_limited_and_the_limit_checks_no_password() {
    let (_dir, base) = console(|c| c).await;
    let mut c = Client::new(&base);
    for _ in 0..5 {
        let r = c.try_login(USER, "not the password at all").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // The sixth, even with the right password, is refused for the rest of the window.
    let r = c.try_login(USER, PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    assert!(!c.cookies.contains_key(SESSION_COOKIE));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_without_the_sessions_csrf_token_is_refused() {
    let (_dir, base) = console(|c| c).await;
    let mut c = Client::new(&base);
    c.login().await;
    let page = c.get("").await;
    let csrf = page.csrf();
    for form in [
        vec![],
        vec![("csrf", "")],
        vec![("csrf", &"f".repeat(64)[..])],
    ] {
        let r = c.post("logout", &form).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{form:?}");
        assert!(r.body.contains("CSRF"));
        assert_eq!(c.get("").await.status, StatusCode::OK, "still logged in");
    }
    // Another session's token is not this one's.
    let mut other = Client::new(&base);
    other.login().await;
    let theirs = other.get("").await.csrf();
    assert_ne!(theirs, csrf);
    assert_eq!(
        c.post("logout", &[("csrf", &theirs)]).await.status,
        StatusCode::FORBIDDEN
    );

    let r = c.post("logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!c.cookies.contains_key(SESSION_COOKIE));
    // The old cookie, sent again, is no session.
    c.cookies.insert(SESSION_COOKIE.into(), "x".into());
    assert_eq!(c.get("").await.location(), "login");
    assert_eq!(
        other.get("").await.status,
        StatusCode::OK,
        "the other session lives on"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ended_session_cookie_does_not_come_back() {
    let (_dir, base) = console(|c| c).await;
    let mut c = Client::new(&base);
    c.login().await;
    let token = c.cookies[SESSION_COOKIE].clone();
    let csrf = c.get("").await.csrf();
    assert_eq!(
        c.post("logout", &[("csrf", &csrf)]).await.status,
        StatusCode::SEE_OTHER
    );
    c.cookies.insert(SESSION_COOKIE.into(), token);
    assert_eq!(c.get("").await.location(), "login");
    assert_eq!(
        c.post("logout", &[("csrf", &csrf)]).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_response_carries_the_strict_headers() {
    let (_dir, base) = console(|c| c).await;
    let mut c = Client::new(&base);
    let mut answers = vec![
        c.get("").await,
        c.get("login").await,
        c.get("nowhere").await,
    ];
    answers.push(c.post("logout", &[]).await);
    c.login().await;
    for page in PAGES.iter().chain(&["console.css", "nowhere"]) {
        answers.push(c.get(page).await);
    }
    assert!(!CONTENT_SECURITY_POLICY.contains("unsafe"));
    assert!(
        !CONTENT_SECURITY_POLICY.contains("script-src"),
        "default-src 'none' covers scripts"
    );
    for a in &answers {
        let h = |n: &str| a.headers.get(n).map(|v| v.to_str().unwrap()).unwrap_or("");
        assert_eq!(h("content-security-policy"), CONTENT_SECURITY_POLICY);
        assert!(h("content-security-policy").starts_with("default-src 'none'"));
        assert!(h("content-security-policy").contains("frame-ancestors 'none'"));
        assert_eq!(h("x-frame-options"), "DENY");
        assert_eq!(h("referrer-policy"), "no-referrer");
        assert_eq!(h("cache-control"), "no-store");
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert!(!a.body.contains("<script"), "no script on any page");
        assert!(!a.body.contains("style=\""), "no inline style");
    }
    // Cookies: HttpOnly, SameSite=Strict.
    let mut c = Client::new(&base);
    let r = c.try_login(USER, PASSWORD).await;
    for v in r.headers.get_all("set-cookie") {
        let v = v.to_str().unwrap();
        assert!(
            v.contains("HttpOnly") && v.contains("SameSite=Strict"),
            "{v}"
        );
        assert!(!v.contains("Secure"), "plain HTTP on loopback: {v}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cookies_are_secure_when_served_over_tls() {
    let (_dir, base) = console(|c| c.secure_cookies(true)).await;
    let mut c = Client::new(&base);
    let r = c.get("login").await;
    let v = r.headers["set-cookie"].to_str().unwrap();
    assert!(v.contains("; Secure"), "{v}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_page_shows_patient_data() {
    let (_dir, base) = console(|c| c).await;
    let mut c = Client::new(&base);
    c.login().await;
    let mut bodies = String::new();
    for page in PAGES {
        let r = c.get(page).await;
        assert_eq!(r.status, StatusCode::OK, "{page}");
        bodies.push_str(&r.body);
    }
    for data in patient_data() {
        assert!(!bodies.contains(&data), "{data} on a page");
    }
    // The candidates: one in a message id's declared form, one not (shown masked).
    assert!(bodies.contains(console_support::CANDIDATE));
    assert!(!bodies.contains(console_support::ODD_CANDIDATE));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pages_show_each_run_and_the_rows_to_decide() {
    let (_dir, base) = console(|c| c).await;
    let mut c = Client::new(&base);
    c.login().await;
    let runs = c.get("").await.body;
    // One run: 7 rows, 1 sent, 1 failed, 3 ambiguous, 3 to decide, 2 unfinished; live.
    for cell in [
        "<td class=\"n sent\">1</td>",
        "<td class=\"n failed\">1</td>",
        "<td class=\"n ambiguous\">3</td>",
        "<td class=\"n unfinished\">2</td>",
    ] {
        assert!(runs.contains(cell), "{cell} in {runs}");
    }
    assert!(runs.contains("<meta http-equiv=\"refresh\" content=\"5\">"));
    let decide = c.get("decide").await.body;
    assert!(
        decide.contains("href=\"decide?run=0&amp;line=4\""),
        "{decide}"
    );
    assert!(decide.contains("href=\"decide?run=0&amp;line=5\""));
    assert!(!decide.contains("line=2"), "a sent row is not to decide");
    let evidence = c.get("decide?run=0&line=4").await.body;
    assert!(evidence.contains("4821337") && evidence.contains("4821338"));
    assert!(evidence.contains("two messages to the patient in the window"));
    let r = c.get("decide?run=0&line=2").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let workers = c.get("workers").await.body;
    assert!(workers.contains("No worker"));
}

#[test]
fn a_console_needs_a_user() {
    let journal = SqliteJournal::in_memory().unwrap();
    let err = console::router::<SqliteJournal>(journal, Config::new(Users::new())).unwrap_err();
    assert!(err.to_string().contains("no user"));
}

/// The form of a decision on `line` (`choice`), with `extra` fields.
fn decision<'a>(
    csrf: &'a str,
    line: &'a str,
    choice: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("csrf", csrf),
        ("run", "0"),
        ("line", line),
        ("choice", choice),
        ("note", "rang the patient"),
        ("confirm", "yes"),
    ];
    form.extend_from_slice(extra);
    form
}

#[tokio::test(flavor = "multi_thread")]
async fn a_decision_is_recorded_once_with_who_made_it() {
    let (_dir, base) = console(|c| c).await;
    let mut c = Client::new(&base);
    c.login().await;
    let page = c.get("decide?run=0&line=4").await;
    assert!(
        page.body.contains("id=\"decide-sent\"") && page.body.contains("id=\"decide-abandon\"")
    );
    let csrf = page.csrf();
    // Without the CSRF token, unconfirmed, or without a message: refused, nothing recorded.
    let mut no_csrf = decision("", "4", "abandon", &[]);
    no_csrf.remove(0);
    assert_eq!(
        c.post("decide", &no_csrf).await.status,
        StatusCode::FORBIDDEN
    );
    let mut unconfirmed = decision(&csrf, "4", "abandon", &[]);
    unconfirmed.pop();
    assert_eq!(
        c.post("decide", &unconfirmed).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        c.post("decide", &decision(&csrf, "4", "sent", &[]))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let mut no_note = decision(&csrf, "4", "abandon", &[]);
    no_note.retain(|(k, _)| *k != "note");
    assert_eq!(
        c.post("decide", &no_note).await.status,
        StatusCode::BAD_REQUEST
    );
    // Another session's request, without a session at all.
    let mut stranger = Client::new(&base);
    assert_eq!(
        stranger
            .post("decide", &decision(&csrf, "4", "abandon", &[]))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert!(
        c.get("decisions")
            .await
            .body
            .contains("No decision recorded")
    );

    // Each way.
    let r = c
        .post(
            "decide",
            &decision(&csrf, "4", "sent", &[("candidate", "1")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "decisions?recorded=1");
    let r = c
        .post("decide", &decision(&csrf, "5", "send_again", &[]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = c
        .post("decide", &decision(&csrf, "8", "abandon", &[]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Once: the row is decided.
    let r = c
        .post("decide", &decision(&csrf, "4", "abandon", &[]))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    let record = c.get("decisions").await.body;
    for choice in ["sent", "send_again", "abandon"] {
        assert!(
            record.contains(&format!("<td class=\"choice\">{choice}</td>")),
            "{record}"
        );
    }
    assert_eq!(
        record
            .matches(&format!("<td class=\"by\">{USER}</td>"))
            .count(),
        3
    );
    assert!(record.contains("4821338"), "the chosen candidate");
    assert!(
        !record.contains("rang the patient"),
        "a note is kept, not shown"
    );
    let only = c.get("decisions?choice=abandon").await.body;
    assert_eq!(only.matches("<td class=\"choice\">").count(), 1);
    let csv = c.get("decisions.csv?choice=sent").await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        lines[0],
        "id,run,row,line,decided_at,choice,message_id,by,candidates,reason"
    );
    assert_eq!(lines.len(), 2, "{}", csv.body);
    assert!(
        lines[1].contains(",sent,4821338,Ada Lovelace,4821337 4821338,"),
        "{}",
        lines[1]
    );
    assert!(c.get("decide").await.body.contains("No row to decide"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_console_decides_nothing() {
    let (_dir, base) = console(|c| c.read_only(true)).await;
    let mut c = Client::new(&base);
    c.login().await;
    let page = c.get("decide?run=0&line=4").await;
    assert!(!page.body.contains("id=\"decide-sent\""));
    assert!(page.body.contains("Read-only"));
    let csrf = c.get("").await.csrf();
    let r = c
        .post("decide", &decision(&csrf, "4", "abandon", &[]))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        c.get("decisions")
            .await
            .body
            .contains("No decision recorded")
    );
}
