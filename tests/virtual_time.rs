//! Promises about waiting, held on tokio's paused clock: the client, its timers and a loopback
//! server share one current-thread runtime whose clock moves only when every task is waiting, and
//! then straight to the next timer. What is measured is the client's own timers (how long it
//! waits, and for which reason), exactly and in no wall-clock time; no test here sleeps or is
//! timed. The numbers are the rows of `docs/promises.md`.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

mod support;

use herohealth::{ErrorKind, HeroClient, RetryPolicy};
use tokio::time::Instant;

/// A loopback server on the test's own runtime ([`support::RawServer::answering`]) that records the paused
/// clock's instant of every request and answers it with `answer`, or never when it is `None`.
async fn serve(answer: Option<&'static str>) -> (String, Arc<Mutex<Vec<Instant>>>) {
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let seen = arrivals.clone();
    let server = support::RawServer::answering(move |_head| {
        seen.lock().unwrap().push(Instant::now());
        async move {
            match answer {
                Some(answer) => answer.to_owned(),
                None => std::future::pending().await,
            }
        }
    })
    .await;
    (server.url().to_owned(), arrivals)
}

/// `attempts` attempts, backoff from `initial` to `max` seconds, an hour in all.
fn retries(attempts: u32, initial: u64, max: u64) -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(attempts)
        .initial_backoff(Duration::from_secs(initial))
        .max_backoff(Duration::from_secs(max))
        .total_deadline(Duration::from_secs(3600))
}

fn builder(url: &str, retry: RetryPolicy) -> herohealth::HeroClientBuilder {
    support::builder_for(url, "hero-virtual-test-key", "practice-virtual", retry)
}

fn client(url: &str, retry: RetryPolicy) -> HeroClient {
    builder(url, retry).build().unwrap()
}

/// How long (on the paused clock) a call to a server that never answers took to fail, having
/// failed with `Timeout`.
async fn timed_out_after(hero: &HeroClient) -> Duration {
    let start = Instant::now();
    let err = hero.get_message().id("1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    start.elapsed()
}

/// Promise 9, first half: an attempt is given 30 s by default. A server that accepts the request
/// and never answers ends the attempt with `Timeout` exactly 30 s after it began: not before (a
/// shorter default fails the lower bound) and not later (a longer one, or none, fails the upper).
#[tokio::test(start_paused = true)]
async fn p9_an_attempt_times_out_after_30_s_by_default() {
    let (url, arrivals) = serve(None).await;
    let hero = client(&url, RetryPolicy::disabled());
    let waited = timed_out_after(&hero).await;
    assert_eq!(
        arrivals.lock().unwrap().len(),
        1,
        "the request reached the server"
    );
    assert!(
        waited >= Duration::from_secs(30) && waited < Duration::from_millis(30_100),
        "timed out after {waited:?}"
    );

    // The setting is the client's, per attempt: `.timeout()` replaces it.
    let hero = builder(&url, RetryPolicy::disabled())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let waited = timed_out_after(&hero).await;
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_millis(5_100),
        "timed out after {waited:?}"
    );
}

/// `HERO_TIMEOUT` (seconds) replaces the default attempt timeout for a client configured from the
/// environment, as the `hero` CLI is; a value that is not a positive number of seconds is refused,
/// naming the variable, and nothing is sent.
#[tokio::test(start_paused = true)]
async fn hero_timeout_sets_the_attempt_timeout_from_the_environment() {
    let (url, arrivals) = serve(None).await;
    let env = |timeout: &'static str| {
        let url = url.clone();
        move |name: &str| match name {
            "HERO_API_KEY" => Some("hero-virtual-test-key".to_owned()),
            "HERO_PRACTICE_GROUP_ID" => Some("practice-virtual".to_owned()),
            "HERO_BASE_URL" => Some(url.clone()),
            "HERO_TIMEOUT" => Some(timeout.to_owned()),
            _ => None,
        }
    };
    let hero = HeroClient::builder()
        .retry_policy(RetryPolicy::disabled())
        .from_lookup(env("2.5"))
        .unwrap()
        .build()
        .unwrap();
    let waited = timed_out_after(&hero).await;
    assert!(
        waited >= Duration::from_millis(2_500) && waited < Duration::from_millis(2_600),
        "timed out after {waited:?}"
    );
    for bad in ["0", "-1", "soon", "NaN", "inf", "1e9"] {
        let err = HeroClient::builder().from_lookup(env(bad)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert!(err.to_string().contains("HERO_TIMEOUT"), "{bad}: {err}");
    }
    assert_eq!(
        arrivals.lock().unwrap().len(),
        1,
        "only the first client sent"
    );
}

/// Promise 9, second half: connecting is given 10 s by default. Against a listener that never
/// completes the connection, the attempt fails as a network error exactly 10 s after it began
/// (not the 30 s attempt timeout: the connect timeout is its own), and the request never reached
/// a server.
#[test]
fn p9_a_connection_that_never_completes_fails_after_10_s_by_default() {
    // Filling the queue waits for real (200 ms for the connection that cannot complete), so the
    // runtime starts with its clock running and is paused once the stage is set.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let never = herohealth_mock::raw::Unaccepting::start();
        tokio::time::pause();
        let hero = client(&never.url(), RetryPolicy::disabled());
        let start = Instant::now();
        let err = hero.get_message().id("1").send().await.unwrap_err();
        let waited = start.elapsed();
        assert!(
            matches!(err.kind(), ErrorKind::Timeout | ErrorKind::Connection),
            "{err}"
        );
        assert!(
            waited >= Duration::from_secs(10) && waited < Duration::from_millis(10_100),
            "gave up connecting after {waited:?}"
        );
    });
}

/// Promise 53: waits between attempts are exponential with full jitter. Every 503 is retried
/// after a wait drawn from zero up to the attempt's cap (1 s, 2 s, 4 s here): each wait is within
/// its cap, and over 60 calls the first waits spread over the whole range (some under a quarter
/// of the cap, some over three quarters) and the later caps are used. No jitter (always the cap),
/// "equal jitter" (never under half), no growth, or a wait above the cap each fail it.
#[tokio::test(start_paused = true)]
async fn p53_waits_grow_exponentially_with_full_jitter() {
    let (url, arrivals) = serve(Some(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n",
    ))
    .await;
    let policy = retries(4, 1, 4);
    assert_eq!(
        (1..=4).map(|a| policy.backoff_cap(a)).collect::<Vec<_>>(),
        [1, 2, 4, 4].map(Duration::from_secs)
    );
    let hero = client(&url, policy.clone());
    let mut waits: Vec<Vec<Duration>> = vec![Vec::new(); 3];
    for _ in 0..60 {
        arrivals.lock().unwrap().clear();
        let err = hero.get_message().id("1").send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert_eq!(err.attempts(), 4);
        let at = arrivals.lock().unwrap().clone();
        assert_eq!(at.len(), 4, "four attempts reached the server");
        for (retry, pair) in at.windows(2).enumerate() {
            let wait = pair[1] - pair[0];
            let cap = policy.backoff_cap(retry as u32 + 1);
            assert!(
                wait <= cap,
                "wait {wait:?} before attempt {} is over its cap {cap:?}",
                retry + 2
            );
            waits[retry].push(wait);
        }
    }
    let first = &waits[0];
    let cap = Duration::from_secs(1);
    assert!(
        first.iter().any(|w| *w < cap / 4) && first.iter().any(|w| *w > cap * 3 / 4),
        "first waits do not spread over 0..{cap:?}: {first:?}"
    );
    assert!(
        waits[2].iter().any(|w| *w > Duration::from_secs(2)),
        "the third wait never used its 4 s cap: {:?}",
        waits[2]
    );
}

/// Promise 53's companion: a `Retry-After` is a floor under the drawn wait. A 503 that asks for
/// 7 s is retried no sooner than 7 s later, although the cap of the draw is 1 s.
#[tokio::test(start_paused = true)]
async fn a_retry_after_is_never_cut_short_by_the_draw() {
    let (url, arrivals) = serve(Some(
        "HTTP/1.1 503 Service Unavailable\r\nretry-after: 7\r\ncontent-length: 0\r\n\r\n",
    ))
    .await;
    let policy = retries(2, 1, 1);
    let hero = client(&url, policy);
    for _ in 0..5 {
        arrivals.lock().unwrap().clear();
        let err = hero.get_message().id("1").send().await.unwrap_err();
        assert_eq!(err.attempts(), 2);
        let at = arrivals.lock().unwrap().clone();
        let wait = at[1] - at[0];
        assert!(
            wait >= Duration::from_secs(7) && wait < Duration::from_millis(7_100),
            "waited {wait:?}"
        );
    }
}

/// A waiter never polls more often than `WaitOptions::MIN_INTERVAL` (100 ms), whatever it is
/// told: with intervals of zero and a 1 s deadline, a message that stays "sent" is asked for at
/// most 11 times (found by a new-user trial: 1,625 requests in 5 s), and the wait ends with
/// `WaitDeadline`.
#[tokio::test(start_paused = true)]
async fn a_waiter_never_polls_faster_than_its_floor() {
    let status = |response: &str| {
        let body = serde_json::json!({ "id": "m-1", "scheduled_send_at": null, "write_to_record": false,
            "status": { "write_to_record_at": null, "sent_at": null, "response": response, "failure_reason": null },
            "errors": { "write_to_record": null, "send": null } });
        support::response("200 OK", "", &body.to_string())
    };
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let seen = arrivals.clone();
    // Past 50 polls the message is delivered, so a waiter without its floor (whose clock would
    // never move) ends, and fails the count below, instead of hanging.
    let server = support::RawServer::answering(move |_| {
        let mut at = seen.lock().unwrap();
        at.push(Instant::now());
        let answer = status(if at.len() > 50 { "delivered" } else { "sent" });
        async move { answer }
    })
    .await;
    let hero = client(server.url(), RetryPolicy::disabled());
    let eager = herohealth::WaitOptions::default()
        .initial_interval(Duration::ZERO)
        .max_interval(Duration::ZERO)
        .multiplier(f64::NAN)
        .deadline(Duration::from_secs(1));
    let outcome = hero.wait_for_delivery("m-1", eager).await;
    let at = arrivals.lock().unwrap().clone();
    assert!((2..=11).contains(&at.len()), "{} polls in 1 s", at.len());
    assert_eq!(outcome.unwrap_err().kind(), ErrorKind::WaitDeadline);
    for pair in at.windows(2) {
        assert!(pair[1] - pair[0] >= herohealth::WaitOptions::MIN_INTERVAL);
    }
}
