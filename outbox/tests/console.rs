//! The console on the wire (loopback): every page behind a login, the login's CSRF token, its
//! limit, sessions, CSRF on every change, the headers of every response, and no patient data on
//! any page. The browser's view: tests/console_browser.rs.

mod console_support;

use console_support::{
    Client, PASSWORD, USER, encode, patient_data, serve, sqlite_in_every_state, users,
};
use herohealth::reqwest::StatusCode;
use herohealth_outbox::{
    Journal, SqliteJournal,
    console::{self, CONTENT_SECURITY_POLICY, Config, SESSION_COOKIE, Users},
};

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
    assert!(runs.contains("<meta http-equiv=\"refresh\" content=\"5; url=?auto=1\">"));
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
    // A row without candidates offers no "sent" form (the CLI asks Hero for a found message).
    let none = c.get("decide?run=0&line=8").await.body;
    assert!(
        none.contains("decide-sent-elsewhere") && !none.contains("id=\"decide-sent\""),
        "{none}"
    );
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

/// Guesses made at once (each password check takes a while) cannot pass the limit: each is
/// counted before its password is checked.
#[tokio::test(flavor = "multi_thread")]
async fn logins_made_at_once_cannot_pass_the_limit() {
    let (_dir, base) = console(|c| c).await;
    let mut clients = Vec::new();
    let mut forms = Vec::new();
    for _ in 0..12 {
        let mut c = Client::new(&base);
        let csrf = c.get("login").await.csrf();
        forms.push(csrf);
        clients.push(c);
    }
    let forms: Vec<Vec<(&str, &str)>> = forms
        .iter()
        .map(|csrf| {
            vec![
                ("name", USER),
                ("password", "a guess made at once"),
                ("csrf", csrf.as_str()),
            ]
        })
        .collect();
    let tries = clients
        .iter_mut()
        .zip(&forms)
        .map(|(c, form)| c.post("login", form));
    let answers = futures::future::join_all(tries).await;
    let count = |s: StatusCode| answers.iter().filter(|a| a.status == s).count();
    assert_eq!(count(StatusCode::UNAUTHORIZED), 5, "checked");
    assert_eq!(count(StatusCode::TOO_MANY_REQUESTS), 7, "refused unchecked");
    // The right password too, now.
    let mut c = Client::new(&base);
    assert_eq!(
        c.try_login(USER, PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// The console as a partner mounts it at `/console` (`Router::nest`, else
/// `Router::nest_service`), served on loopback.
async fn nested(as_service: bool) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let journal = sqlite_in_every_state(dir.path()).await;
    let console = console::router::<SqliteJournal>(journal, Config::new(users())).unwrap();
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|| async { "the partner's own app" }),
    );
    let app = if as_service {
        app.nest_service("/console", console)
    } else {
        app.nest("/console", console)
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (dir, format!("http://{addr}/"))
}

/// Every `href` and `action` of a page.
fn targets(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "action=\""] {
        for (at, _) in body.match_indices(attr) {
            let rest = &body[at + attr.len()..];
            out.push(rest[..rest.find('"').unwrap()].to_owned());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn nested_under_a_path_every_link_and_redirect_stays_under_it() {
    mounted(false).await;
    mounted(true).await;
}

async fn mounted(as_service: bool) {
    let (_dir, base) = nested(as_service).await;
    let mut c = Client::new(&base);
    c.home = "/console".to_owned();
    for page in ["console", "console/decide", "console/decisions"] {
        let r = c.get(page).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{page}");
        assert_eq!(r.location(), "/console/login", "{page}");
    }
    let form = c.get("console/login").await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(
        targets(&form.body),
        ["/console/console.css", "/console/login"]
    );
    let csrf = form.csrf();
    let r = c
        .post(
            "console/login",
            &[("name", USER), ("password", PASSWORD), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/console");
    let runs = c.get("console").await;
    assert_eq!(runs.status, StatusCode::OK);
    assert!(runs.body.contains("id=\"runs\""));
    assert!(
        runs.body.contains("url=?auto=1"),
        "refreshes itself where it is"
    );
    // As a service, with its slash too (`Router::nest` leaves `/console/` to the outer app).
    let slash = c.get("console/").await;
    if as_service {
        assert_eq!(slash.status, StatusCode::OK);
        assert!(slash.body.contains("id=\"runs\""));
    } else {
        assert_eq!(slash.status, StatusCode::NOT_FOUND);
    }
    let mut seen = Vec::new();
    for page in [
        "console",
        "console/decide",
        "console/decide?run=0&line=4",
        "console/workers",
        "console/decisions",
    ] {
        let r = c.get(page).await;
        assert_eq!(r.status, StatusCode::OK, "{page}");
        for t in targets(&r.body) {
            assert!(t.starts_with("/console"), "{page}: {t}");
            seen.push(t);
        }
    }
    for t in ["/console/decide", "/console/console.css", "/console/logout"] {
        assert!(seen.iter().any(|s| s == t), "{t}: {seen:?}");
    }
    assert_eq!(c.get("console/console.css").await.status, StatusCode::OK);
    assert_eq!(c.get("").await.body, "the partner's own app");

    // A decision leads to the record, under the mount.
    let csrf = c.get("console/decide?run=0&line=4").await.csrf();
    let r = c
        .post("console/decide", &decision(&csrf, "4", "abandon", &[]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/console/decisions?recorded=1");
    let r = c.post("console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.location(), "/console/login");
}

/// A cell of the export that a spreadsheet would run as a formula (a reason, a name) is written
/// as text.
#[tokio::test(flavor = "multi_thread")]
async fn the_csv_export_holds_no_formula() {
    let journal = SqliteJournal::in_memory().unwrap();
    let input = herohealth_outbox::Input::from_csv(console_support::CSV.as_bytes()).unwrap();
    journal.open(&input).await.unwrap();
    journal
        .transition(
            0,
            0,
            herohealth_outbox::Status::Pending,
            &herohealth_outbox::RowState::Ambiguous {
                message_ids: vec!["4821337".into()],
                reason: "=HYPERLINK(\"http://evil.example/\",\"click\")".into(),
            },
        )
        .await
        .unwrap();
    let users = Users::new()
        .with_password("@Ada", "correct horse battery")
        .unwrap();
    let base = serve::<SqliteJournal>(journal, Config::new(users)).await;
    let mut c = Client::new(&base);
    let r = c.try_login("@Ada", "correct horse battery").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let csrf = c.get("decide?run=0&line=2").await.csrf();
    let r = c
        .post("decide", &decision(&csrf, "2", "abandon", &[]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let csv = c.get("decisions.csv").await.body;
    let row = csv.lines().nth(1).unwrap();
    assert!(row.contains(",'@Ada,"), "{row}");
    assert!(
        row.ends_with(",\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"click\"\")\""),
        "{row}"
    );
}

/// Served on an SQLite file (as `hero outbox serve` serves it), the console decides while no
/// run holds the file, and is refused, with nothing changed, while one does.
#[tokio::test(flavor = "multi_thread")]
async fn an_sqlite_journal_is_decided_only_while_no_run_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    drop(sqlite_in_every_state(dir.path()).await);
    let path = dir.path().join("journal.db");
    let journal = SqliteJournal::open_watching(&path).unwrap();
    let base = serve::<SqliteJournal>(journal, Config::new(users())).await;
    let mut c = Client::new(&base);
    c.login().await;
    let csrf = c.get("decide?run=0&line=4").await.csrf();
    let r = c
        .post("decide", &decision(&csrf, "4", "abandon", &[]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // A run takes the file.
    let run = SqliteJournal::open(&path).unwrap();
    let r = c
        .post("decide", &decision(&csrf, "5", "abandon", &[]))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("decide once it has stopped"), "{}", r.body);
    let page = c.get("decide").await.body;
    assert!(page.contains("decide?run=0&amp;line=5"), "still to decide");
    assert_eq!(run.decisions().await.unwrap().len(), 1);
    drop(run);
    let r = c
        .post("decide", &decision(&csrf, "5", "abandon", &[]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let kept = SqliteJournal::open_read_only(&path)
        .unwrap()
        .decisions()
        .await
        .unwrap();
    assert_eq!(kept.len(), 2);
}

/// A page's automatic refresh is not a person's activity: a page left open on a run that goes
/// on ends its session when it has been idle for `session_idle` (the test's own clock: tokio's,
/// paused and moved by hand).
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_automatic_refresh_does_not_keep_a_session_alive() {
    use axum::body::Body;
    use tower::ServiceExt;

    let journal = SqliteJournal::in_memory().unwrap();
    console_support::every_state(&journal).await;
    let app = console::router::<SqliteJournal>(
        journal,
        Config::new(users()).session_idle(std::time::Duration::from_secs(30 * 60)),
    )
    .unwrap();
    let call = |req: axum::http::Request<Body>| {
        let app = app.clone();
        async move {
            let r = app.oneshot(req).await.unwrap();
            let status = r.status();
            let headers = r.headers().clone();
            let body = axum::body::to_bytes(r.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, headers, String::from_utf8(body.to_vec()).unwrap())
        }
    };
    let get = |path: &str, cookie: &str| {
        axum::http::Request::get(path)
            .header("cookie", cookie)
            .body(Body::empty())
            .unwrap()
    };
    let login = || async {
        let (_, headers, body) = call(get("/login", "")).await;
        let cookie = headers["set-cookie"].to_str().unwrap();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let at = body.find("name=\"csrf\" value=\"").unwrap() + 19;
        let form = encode(&[
            ("name", USER),
            ("password", PASSWORD),
            ("csrf", &body[at..at + 64]),
        ]);
        let req = axum::http::Request::post("/login")
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap();
        let (status, headers, _) = call(req).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let session = headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .find(|v| v.starts_with(SESSION_COOKIE))
            .unwrap();
        session.split(';').next().unwrap().to_owned()
    };
    let minutes = |m: u64| tokio::time::advance(std::time::Duration::from_secs(m * 60));

    let session = login().await;
    let (status, _, page) = call(get("/", &session)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("content=\"5; url=?auto=1\""), "{page}");
    // Left open: it refreshes itself every few seconds, for 29 minutes, then for 2 more.
    minutes(29).await;
    assert_eq!(call(get("/?auto=1", &session)).await.0, StatusCode::OK);
    minutes(2).await;
    let (status, headers, _) = call(get("/?auto=1", &session)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "idle for 31 minutes");
    assert_eq!(headers["location"], "login");
    assert_eq!(
        call(get("/", &session)).await.0,
        StatusCode::SEE_OTHER,
        "ended"
    );

    // A person's click starts the idle time again.
    let session = login().await;
    minutes(29).await;
    assert_eq!(call(get("/workers", &session)).await.0, StatusCode::OK);
    minutes(29).await;
    assert_eq!(call(get("/?auto=1", &session)).await.0, StatusCode::OK);
    minutes(2).await;
    assert_eq!(
        call(get("/?auto=1", &session)).await.0,
        StatusCode::SEE_OTHER
    );
}

/// A candidate that is another row's sent message is refused by the journal's one rule
/// (`JournalError::Refused`, naming the field): a 400 that changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn another_rows_message_is_refused_as_this_ones() {
    use herohealth_outbox::{RowState, Status};
    let journal = SqliteJournal::in_memory().unwrap();
    let input = herohealth_outbox::Input::from_csv(console_support::CSV.as_bytes()).unwrap();
    journal.open(&input).await.unwrap();
    let sent = RowState::Sent {
        message_id: "4821001".into(),
    };
    journal
        .transition(0, 0, Status::Pending, &sent)
        .await
        .unwrap();
    let ambiguous = RowState::Ambiguous {
        message_ids: vec!["4821001".into()],
        reason: "two messages to the patient in the window".into(),
    };
    journal
        .transition(0, 1, Status::Pending, &ambiguous)
        .await
        .unwrap();
    let journal = std::sync::Arc::new(journal);
    let base = serve::<SqliteJournal>(journal.clone(), Config::new(users())).await;
    let mut c = Client::new(&base);
    c.login().await;
    let page = c.get("decide?run=0&line=3").await;
    let csrf = page.csrf();
    let r = c
        .post(
            "decide",
            &decision(&csrf, "3", "sent", &[("candidate", "0")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("message_id"), "{}", r.body);
    assert!(journal.decisions().await.unwrap().is_empty());
}
