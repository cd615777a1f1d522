//! The console in a real browser (Debian's chromium and chromium-driver, driven through
//! WebDriver by fantoccini) on loopback: log in, watch a run progress by itself while the mock
//! answers, decide an ambiguous row each way and see each in the record, log out and be refused.
//! A screenshot of each page is saved under target/console-screenshots/.
//!
//! Without the browser it prints a loud line, and fails when HEROHEALTH_REQUIRE_BROWSER is set
//! (as `.ci/run` sets it), so a skip never reads as a pass.

mod console_support;

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use console_support::{PASSWORD, USER, every_state, serve, users};
use fantoccini::{Client, ClientBuilder, Locator};
use herohealth::FindOptions;
use herohealth_mock::MockServer;
use herohealth_outbox::{Input, Options, Outbox, SqliteJournal, console::Config};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver, killed (by its own id) when the test ends.
struct Driver(Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The browser, or `None` (with the loud line) when it is not installed.
async fn browser(profile: &std::path::Path) -> Option<(Driver, Client)> {
    let driver = std::env::var("HEROHEALTH_CHROMEDRIVER").unwrap_or(CHROMEDRIVER.into());
    let chromium = std::env::var("HEROHEALTH_CHROMIUM").unwrap_or(CHROMIUM.into());
    if !std::path::Path::new(&driver).exists() || !std::path::Path::new(&chromium).exists() {
        let line = format!(
            "!!!!! SKIPPED: outbox/tests/console_browser.rs: {driver} or {chromium} is not installed (Debian: apt-get install chromium chromium-driver), so the console was NOT tested in a browser !!!!!"
        );
        if std::env::var_os("HEROHEALTH_REQUIRE_BROWSER").is_some_and(|v| v != "0" && !v.is_empty())
        {
            panic!("{line}");
        }
        eprintln!("{line}");
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Driver(child, port);
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    // chromedriver takes a moment to listen: try until it answers (bounded).
    let mut last = None;
    for _ in 0..300 {
        // With several rustls providers in one build (the workspace's tests: ring and aws-lc-rs),
        // rustls picks none by itself: the process names one (an error: one is there already).
        let _ = rustls::crypto::ring::default_provider().install_default();
        match ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{}", driver.1))
            .await
        {
            Ok(c) => return Some((driver, c)),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("chromedriver did not start: {last:?}");
}

fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

/// Waits (bounded, not timed: it only polls) until the page, as the browser has it now, holds
/// `text`.
async fn until_page_has(c: &Client, text: &str) -> String {
    for _ in 0..600 {
        let source = c.source().await.unwrap();
        if source.contains(text) {
            return source;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!(
        "the page never showed {text}: {}",
        c.source().await.unwrap()
    );
}

async fn log_in(c: &Client, base: &str) {
    c.goto(base).await.unwrap();
    assert!(
        c.current_url().await.unwrap().as_str().ends_with("/login"),
        "sent to log in"
    );
    shot(c, "login").await;
    c.find(Locator::Css("input[name=name]"))
        .await
        .unwrap()
        .send_keys(USER)
        .await
        .unwrap();
    c.find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until_page_has(c, "id=\"runs\"").await;
    assert!(c.source().await.unwrap().contains(USER));
}

async fn cell(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn log_in_watch_a_run_then_decide_each_way() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_driver, c)) = browser(&dir.path().join("profile")).await else {
        return;
    };
    let path = dir.path().join("journal.db");
    {
        let journal = SqliteJournal::open(&path).unwrap();
        every_state(&journal).await;
    }

    // Watching: the console reads the file while the run holds it (read-only).
    let watching = SqliteJournal::open_read_only(&path).unwrap();
    let base = serve::<SqliteJournal>(
        watching,
        Config::new(users()).read_only(true).refresh_every(1),
    )
    .await;
    log_in(&c, &base).await;
    assert_eq!(cell(&c, "#run-0 td.unfinished").await, "2");
    assert!(
        c.source().await.unwrap().contains("http-equiv=\"refresh\""),
        "live while a run goes on"
    );
    shot(&c, "runs-before").await;

    let mock = MockServer::start().await;
    let run = {
        let path = path.clone();
        let client = mock.client();
        tokio::spawn(async move {
            let journal = SqliteJournal::open(&path).unwrap();
            let input = Input::from_csv(console_support::CSV.as_bytes()).unwrap();
            let options = Options::default()
                .concurrency(1)
                .rate(std::num::NonZeroU32::new(2))
                .find(
                    FindOptions::default()
                        .list_delay(Duration::from_millis(20))
                        .looks(2),
                );
            Outbox::new(client, journal, options)
                .run(&input, |_| {})
                .await
                .unwrap()
        })
    };
    // The page refreshes by itself (no navigation here) until the run is done.
    until_page_has(&c, "<td class=\"n unfinished\">0</td>").await;
    shot(&c, "runs-after").await;
    let summary = run.await.unwrap();
    assert_eq!(summary.ambiguous, console_support::AMBIGUOUS);
    assert!(
        !c.source().await.unwrap().contains("http-equiv=\"refresh\""),
        "still once done"
    );
    assert!(c.find(Locator::Css("#decide-sent")).await.is_err());

    // Deciding: a console that may change the journal (it holds the file: no run meanwhile).
    let deciding = SqliteJournal::open(&path).unwrap();
    let base = serve::<SqliteJournal>(deciding, Config::new(users())).await;
    log_in(&c, &base).await;
    c.goto(&format!("{base}decide")).await.unwrap();
    shot(&c, "to-decide").await;

    for (line, form, name) in [
        (4, "#decide-sent", "sent"),
        (5, "#decide-send-again", "send_again"),
        (8, "#decide-abandon", "abandon"),
    ] {
        c.goto(&format!("{base}decide?run=0&line={line}"))
            .await
            .unwrap();
        shot(&c, &format!("evidence-line-{line}")).await;
        if name == "sent" {
            c.find(Locator::Css(
                "#decide-sent input[name=candidate][value=\"0\"]",
            ))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        }
        c.find(Locator::Css(&format!("{form} input[name=note]")))
            .await
            .unwrap()
            .send_keys("checked the practice system")
            .await
            .unwrap();
        c.find(Locator::Css(&format!("{form} input[name=confirm]")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        c.find(Locator::Css(&format!("{form} button")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let record = until_page_has(&c, "recorded.").await;
        assert!(
            record.contains(&format!("<td class=\"choice\">{name}</td>")),
            "{record}"
        );
        shot(&c, &format!("decisions-after-{name}")).await;
    }
    let record = c.source().await.unwrap();
    assert_eq!(
        record
            .matches(&format!("<td class=\"by\">{USER}</td>"))
            .count(),
        3
    );
    assert!(
        record.contains(console_support::CANDIDATE),
        "the chosen candidate"
    );
    for data in console_support::patient_data() {
        assert!(!record.contains(&data), "{data}");
    }
    // Decided: nothing is left to decide.
    c.goto(&format!("{base}decide")).await.unwrap();
    until_page_has(&c, "No row to decide.").await;

    // Logged out, every page sends you to log in again.
    c.find(Locator::Css("header form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until_page_has(&c, "name=\"password\"").await;
    c.goto(&format!("{base}decisions")).await.unwrap();
    assert!(c.current_url().await.unwrap().as_str().ends_with("/login"));
    shot(&c, "logged-out").await;
    c.close().await.unwrap();
}
