//! `hero outbox serve` as an operator starts it: users from the environment or a file (never an
//! argument), loopback unless TLS or the risk is named, the console's pages on an SQLite journal.

mod support;

use std::{
    io::{BufRead, BufReader, Write},
    process::{Child, Command, Stdio},
};

use herohealth::reqwest::{self, StatusCode, redirect::Policy};
use herohealth_outbox::{Input, Journal, SqliteJournal};
use support::{code, stderr};

const USER: &str = "Ada Lovelace";
const PASSWORD: &str = "correct horse battery staple";

fn hero() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hero"));
    c.env_remove("HERO_CONSOLE_USER")
        .env_remove("HERO_CONSOLE_PASSWORD");
    c
}

async fn journal(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("journal.db");
    let journal = SqliteJournal::open(&path).unwrap();
    let csv = "patient_id,type,text\n77001001,sms,Zebedee Quenby your results\n";
    journal
        .open(&Input::from_csv(csv.as_bytes()).unwrap())
        .await
        .unwrap();
    path.to_string_lossy().into_owned()
}

/// A console that stops (killed, by its own id) when the test ends.
struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(mut cmd: Command) -> Served {
    let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    let url = line
        .split("listening on ")
        .nth(1)
        .unwrap_or_else(|| panic!("{line}"))
        .split(';')
        .next()
        .unwrap()
        .trim_end_matches(" (read only)")
        .to_owned();
    Served { child, url }
}

async fn login(url: &str) -> StatusCode {
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    login_with(&http, url).await.status()
}

/// Logs in: the session's cookie.
async fn session(http: &reqwest::Client, url: &str) -> String {
    let r = login_with(http, url).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("hh_console="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn login_with(http: &reqwest::Client, url: &str) -> reqwest::Response {
    let form = http.get(format!("{url}login")).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let csp = form.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    let cookie = form.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let body = form.text().await.unwrap();
    let at = body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = &body[at..at + 64];
    http.post(format!("{url}login"))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "name=Ada%20Lovelace&password=correct%20horse%20battery%20staple&csrf={csrf}"
        ))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_shows_the_console_on_loopback_to_the_user_of_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal(&dir).await;
    let mut cmd = hero();
    cmd.args([
        "outbox",
        "serve",
        "--journal",
        &journal,
        "--bind",
        "127.0.0.1:0",
    ])
    .env("HERO_CONSOLE_USER", USER)
    .env("HERO_CONSOLE_PASSWORD", PASSWORD);
    let served = serve(cmd);
    assert!(
        served.url.starts_with("http://127.0.0.1:"),
        "{}",
        served.url
    );
    assert_eq!(login(&served.url).await, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_users_file_may_hold_the_hash_hero_prints() {
    let mut child = hero()
        .args(["outbox", "hash-password"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    let hash = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));

    let dir = tempfile::tempdir().unwrap();
    let journal = journal(&dir).await;
    let users = dir.path().join("users");
    std::fs::write(&users, format!("# the IT lead\n{USER}:{hash}\n")).unwrap();
    let mut cmd = hero();
    cmd.args([
        "outbox",
        "serve",
        "--journal",
        &journal,
        "--bind",
        "127.0.0.1:0",
        "--read-only",
    ])
    .arg("--users")
    .arg(&users);
    let served = serve(cmd);
    assert_eq!(login(&served.url).await, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_refuses_what_is_not_safe_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal(&dir).await;
    let env = |c: &mut Command| {
        c.env("HERO_CONSOLE_USER", USER)
            .env("HERO_CONSOLE_PASSWORD", PASSWORD);
    };
    // A non-loopback address over plain HTTP.
    let mut c = hero();
    c.args([
        "outbox",
        "serve",
        "--journal",
        &journal,
        "--bind",
        "0.0.0.0:0",
    ]);
    env(&mut c);
    let out = c.output().unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("--tls-cert") && stderr(&out).contains("--insecure-plain-http"));
    // Nobody to log in.
    let out = hero()
        .args([
            "outbox",
            "serve",
            "--journal",
            &journal,
            "--bind",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("HERO_CONSOLE_PASSWORD"),
        "{}",
        stderr(&out)
    );
    // A password on the command line is not an option.
    let out = hero()
        .args([
            "outbox",
            "serve",
            "--journal",
            &journal,
            "--password",
            PASSWORD,
        ])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    // A short password, named without being shown.
    let mut c = hero();
    c.args([
        "outbox",
        "serve",
        "--journal",
        &journal,
        "--bind",
        "127.0.0.1:0",
    ])
    .env("HERO_CONSOLE_USER", USER)
    .env("HERO_CONSOLE_PASSWORD", "hunter2");
    let out = c.output().unwrap();
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("at least 12"));
    assert!(!stderr(&out).contains("hunter2"));
    // A users file's bad line is named by its number, its text never shown.
    let users = dir.path().join("users");
    std::fs::write(&users, "Ada:Zebedee-Quenby-secret\nno colon here at all\n").unwrap();
    let out = hero()
        .args([
            "outbox",
            "serve",
            "--journal",
            &journal,
            "--bind",
            "127.0.0.1:0",
            "--users",
        ])
        .arg(&users)
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("line 2"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("Zebedee") && !stderr(&out).contains("no colon"));
}

/// A shared journal holds every practice group's runs: the console shows the one of
/// HERO_PRACTICE_GROUP_ID, or every one when asked; given neither it does not start (before
/// connecting anywhere).
#[test]
fn serve_on_a_shared_journal_needs_its_practice_group() {
    let out = hero()
        .env_remove("HERO_PRACTICE_GROUP_ID")
        .env("HERO_CONSOLE_USER", USER)
        .env("HERO_CONSOLE_PASSWORD", PASSWORD)
        .args([
            "outbox",
            "serve",
            "--journal",
            "postgres://console@127.0.0.1:1/journal",
            "--bind",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("HERO_PRACTICE_GROUP_ID")
            && stderr(&out).contains("--all-practice-groups"),
        "{}",
        stderr(&out)
    );
}

/// Served on an SQLite file without --read-only, the console can decide (the file is taken for
/// the decision only): the evidence page offers the decisions.
#[tokio::test(flavor = "multi_thread")]
async fn serve_on_an_sqlite_file_offers_the_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    {
        let journal = SqliteJournal::open(&path).unwrap();
        let csv = "patient_id,type,text\n77001001,sms,Zebedee Quenby your results\n";
        journal
            .open(&Input::from_csv(csv.as_bytes()).unwrap())
            .await
            .unwrap();
        let ambiguous = herohealth_outbox::RowState::Ambiguous {
            message_ids: vec!["4821337".into()],
            reason: "two messages to the patient in the window".into(),
        };
        journal
            .transition(0, 0, herohealth_outbox::Status::Pending, &ambiguous)
            .await
            .unwrap();
    }
    let mut cmd = hero();
    cmd.args(["outbox", "serve", "--bind", "127.0.0.1:0", "--journal"])
        .arg(&path)
        .env("HERO_CONSOLE_USER", USER)
        .env("HERO_CONSOLE_PASSWORD", PASSWORD);
    let served = serve(cmd);
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let session = session(&http, &served.url).await;
    let page = http
        .get(format!("{}decide?run=0&line=2", served.url))
        .header("cookie", session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"decide-abandon\""), "{page}");
    // And a run may still take the file meanwhile.
    drop(SqliteJournal::open(&path).unwrap());
}
