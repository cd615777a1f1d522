//! `HeroClient::find_send` on herohealth-mock. `Sent` means "this candidate can be nothing else":
//! the window is the attempt's own (start to deadline) on Hero's clock, read from its `Date`;
//! another message to the patient on the channel around it makes the answer ambiguous; the
//! client's own earlier sends are never candidates; contact details compare in one canonical form;
//! and "not sent" comes only after the attempt can no longer be inside Hero.

mod support;

use std::time::Duration;

use herohealth::{ErrorKind, FindOptions, FoundSend, HeroClient, MessageType};
use herohealth_mock::{Fault, FaultRule, MockServer};

/// The recipient every send here names (the mock lists it as `+447700900123`).
const TO: &str = "+447700900123";

/// The body every attempt here is: patient 7, an SMS to `TO`.
fn the_body() -> herohealth::types::SendMessageRequest {
    herohealth::types::SendMessageRequest::builder()
        .patient_id("7")
        .message_type(MessageType::Sms)
        .message_string("Your results are ready")
        .recipient_contact_detail(TO)
        .try_into()
        .unwrap()
}

/// A client for a server in front of Hero (a proxy): 1 s attempts, no retries.
fn through(url: &str) -> HeroClient {
    HeroClient::builder()
        .api_key("hero-k-test-key")
        .practice_group_id("practice-p")
        .base_url(url)
        .timeout(Duration::from_secs(1))
        .retry_policy(herohealth::RetryPolicy::disabled())
        .build()
        .unwrap()
}

/// A send whose connection breaks after Hero processed it: outcome unknown.
async fn lost_answer(mock: &MockServer, hero: &HeroClient) -> herohealth::Error {
    mock.inject(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(1));
    let err = support::send_to(hero, "7", TO, false).await.unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
    err
}

/// A send whose connection breaks before Hero processed it: outcome unknown, and it did not go.
async fn never_arrived(mock: &MockServer, hero: &HeroClient) -> herohealth::Error {
    mock.inject(FaultRule::new("send_message", Fault::ResetBeforeProcessing).nth(1));
    let err = support::send_to(hero, "7", TO, false).await.unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
    err
}

#[tokio::test]
async fn a_processed_send_is_found_and_one_that_never_arrived_is_not() {
    let mock = MockServer::start().await;
    let hero = support::mock_client(&mock, Duration::from_secs(2));
    let err = lost_answer(&mock, &hero).await;
    let found = hero.find_send(&err, support::quick_find()).await.unwrap();
    let FoundSend::Sent { message_id } = found else {
        panic!("{found:?}")
    };
    assert_eq!(mock.sent_messages().len(), 1);
    assert_eq!(mock.sent_messages()[0].id, message_id);

    mock.clear_faults();
    let err = never_arrived(&mock, &hero).await;
    assert_eq!(
        hero.find_send(&err, support::quick_find()).await.unwrap(),
        FoundSend::NotSent
    );

    // An error that carries no send attempt is refused, not guessed.
    let err = hero.get_message().id("404").send().await.unwrap_err();
    assert_eq!(
        hero.find_send(&err, support::quick_find())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidRequest
    );
}

/// Issue 22 §1: a send that never reached Hero is not answered `Sent` with the id of a message
/// someone else sent the patient a moment later (inside the old ±31 s window): a person decides
/// while it is in the guard band, and beyond it, it is "not sent".
#[tokio::test]
async fn another_message_after_the_attempt_is_never_taken_for_it() {
    let mock = MockServer::start().await;
    let hero = support::mock_client(&mock, Duration::from_secs(2));
    // The client has read Hero's clock (any answer does), so the attempt carries the reading.
    hero.list_templates().send().await.unwrap();
    let err = never_arrived(&mock, &hero).await;
    assert!(err.send_attempt().unwrap().clock().is_some());
    // The practice (another system on the same group) messages the same patient, same channel,
    // same number, 3 s after this attempt began: after its deadline (2 s). Real time passes
    // (Hero's clock does not jump against ours: that is another test's case).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let other = support::send_to(&mock.client(), "7", TO, false)
        .await
        .unwrap();
    let found = hero.find_send(&err, support::quick_find()).await.unwrap();
    // Not `Sent` with its id. Nor "not sent": a message like the attempt in the guard band is
    // where a send stamped by a clock a little off the one read (a proxy's `Date`) would be, so
    // a person decides.
    assert_eq!(
        found,
        FoundSend::Ambiguous {
            message_ids: vec![other]
        }
    );
    // Outside the guard band (60 s by default; 1 s here) it is not a candidate at all.
    let found = hero
        .find_send(
            &err,
            support::quick_find().guard_band(Duration::from_millis(500)),
        )
        .await
        .unwrap();
    assert_eq!(found, FoundSend::NotSent);
}

/// Issue 22 §1: two messages to the patient on the channel around the window: a person decides.
#[tokio::test]
async fn another_message_around_the_window_makes_the_answer_ambiguous() {
    let mock = MockServer::start().await;
    let hero = support::mock_client(&mock, Duration::from_secs(2));
    // Someone else's message 5 s before the attempt, then ours, which went.
    let other = support::send_to(&mock.client(), "7", TO, false)
        .await
        .unwrap();
    mock.advance(Duration::from_secs(5));
    let err = lost_answer(&mock, &hero).await;
    let found = hero.find_send(&err, support::quick_find()).await.unwrap();
    let FoundSend::Ambiguous { message_ids } = &found else {
        panic!("{found:?}")
    };
    assert_eq!(message_ids.len(), 2, "{message_ids:?}");
    assert!(message_ids.contains(&other));
    // Told that the other one is known (a journal's), the answer is the one that is left.
    let found = hero
        .find_send(&err, support::quick_find().exclude([other.clone()]))
        .await
        .unwrap();
    assert!(
        matches!(&found, FoundSend::Sent { message_id } if *message_id != other),
        "{found:?}"
    );
}

/// Issue 22 §1: a message created before the attempt (on Hero's clock) is never it.
#[tokio::test]
async fn a_message_from_before_the_attempt_is_not_a_candidate() {
    let mock = MockServer::start().await;
    let hero = support::mock_client(&mock, Duration::from_secs(2));
    let other = support::send_to(&mock.client(), "7", TO, false)
        .await
        .unwrap();
    // 70 s on: outside the window and its guard band.
    mock.advance(Duration::from_secs(70));
    let err = never_arrived(&mock, &hero).await;
    assert_eq!(
        hero.find_send(&err, support::quick_find()).await.unwrap(),
        FoundSend::NotSent,
        "never {other}"
    );
}

/// Issue 22 §1: the client's own earlier sends are excluded without being passed.
#[tokio::test]
async fn the_clients_own_sends_are_never_candidates() {
    let mock = MockServer::start().await;
    let hero = support::mock_client(&mock, Duration::from_secs(2));
    let mine = support::send_to(&hero, "7", TO, false).await.unwrap();
    let err = lost_answer(&mock, &hero).await;
    let found = hero.find_send(&err, support::quick_find()).await.unwrap();
    assert!(
        matches!(&found, FoundSend::Sent { message_id } if *message_id != mine),
        "{found:?}"
    );
    // A client that does not know the first send sees two candidates.
    let stranger = mock.client();
    let found = stranger
        .find_send(&err, support::quick_find())
        .await
        .unwrap();
    assert!(
        matches!(&found, FoundSend::Ambiguous { message_ids } if message_ids.len() == 2),
        "{found:?}"
    );
}

/// Issue 22 §1: the window is on Hero's clock, read from its `Date`. Hero 5 minutes ahead: the
/// old assumed 30 s of skew missed the send ("not sent": a duplicate); the measured offset finds it.
#[tokio::test]
async fn the_window_is_measured_on_heros_clock() {
    let mock = MockServer::start().await;
    mock.advance(Duration::from_secs(300));
    let hero = support::mock_client(&mock, Duration::from_secs(2));
    let err = lost_answer(&mock, &hero).await;
    let found = hero.find_send(&err, support::quick_find()).await.unwrap();
    assert!(matches!(found, FoundSend::Sent { .. }), "{found:?}");
    let offset = hero
        .hero_clock()
        .expect("read from the Date of Hero's answers");
    assert!(
        offset.lo() > chrono::Duration::seconds(299)
            && offset.hi() < chrono::Duration::seconds(302),
        "{offset:?}"
    );
}

/// Issue 22 §1: every spelling `ContactDetail` accepts compares in one canonical form.
#[tokio::test]
async fn recipients_compare_in_one_canonical_form() {
    for spelling in [
        "+44 (0)7700 900123",
        "0044 7700 900123",
        "447700900123",
        "07700 900123",
        "+44-7700-900-123",
    ] {
        let mock = MockServer::start().await;
        let hero = support::mock_client(&mock, Duration::from_secs(2));
        mock.inject(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(1));
        let err = support::send_to(&hero, "7", spelling, false)
            .await
            .unwrap_err();
        let found = hero.find_send(&err, support::quick_find()).await.unwrap();
        assert!(
            matches!(found, FoundSend::Sent { .. }),
            "{spelling}: {found:?}"
        );
    }
}

/// Issue 22 §2: "not sent" only once the attempt can no longer be inside Hero. A Hero that is
/// slow (3 s) and finishes a request whose client gave up (at 2 s): looking before the attempt's
/// deadline would say "not sent" and the patient would get it twice.
#[tokio::test]
async fn not_sent_waits_until_the_attempt_cannot_be_inside_hero() {
    let mock = MockServer::builder()
        .finish_abandoned(true)
        .start()
        .await
        .unwrap();
    // The client gives each attempt 4 s; the caller itself gives up on the call after 1 s (as a
    // process that is killed would), while Hero takes 3 s and then sends it.
    let hero = mock
        .client_builder()
        .timeout(Duration::from_secs(4))
        .build()
        .unwrap();
    let body = the_body();
    let attempt = hero.start_attempt(&body);
    assert_eq!(
        attempt.deadline() - attempt.started(),
        chrono::Duration::seconds(4) + chrono::Duration::seconds(60),
        "the client's default policy retries within 60 s"
    );
    let once = hero.with_retry_policy(herohealth::RetryPolicy::disabled());
    let attempt = once.start_attempt(&body);
    assert_eq!(
        attempt.deadline() - attempt.started(),
        chrono::Duration::seconds(4)
    );
    mock.inject(FaultRule::new("send_message", Fault::Latency(Duration::from_secs(3))).nth(1));
    let gave_up = tokio::time::timeout(
        Duration::from_secs(1),
        once.send_message().body(body).send(),
    )
    .await;
    assert!(gave_up.is_err(), "the caller gave up first");
    assert_eq!(mock.sent_messages().len(), 0, "not yet");
    let found = once
        .find_attempt(&attempt, support::quick_find())
        .await
        .unwrap();
    assert!(matches!(found, FoundSend::Sent { .. }), "{found:?}");
    assert_eq!(mock.sent_messages().len(), 1);
}

#[tokio::test]
async fn a_message_hero_lists_late_is_found_by_looking_again() {
    // Hero lists a new message 3.5 s after it is created; the attempt's deadline is 2 s after it
    // began. Looks at its deadline + 0.5 s, + 1 s, ... miss it; the last ones find it.
    let mock = MockServer::builder()
        .list_delay(Duration::from_millis(3_500))
        .start()
        .await
        .unwrap();
    let hero = support::mock_client(&mock, Duration::from_secs(2));
    let err = lost_answer(&mock, &hero).await;
    let options = FindOptions::default()
        .list_delay(Duration::from_millis(500))
        .looks(5);
    let found = hero.find_send(&err, options).await.unwrap();
    assert!(matches!(found, FoundSend::Sent { .. }), "{found:?}");
    assert!(mock.calls("list_sent_messages") >= 5, "it looked again");
}

#[tokio::test]
async fn a_listing_later_than_the_looks_is_the_documented_failure_mode() {
    // Listed only an hour after: with one look, "not sent" although it went. This is why the
    // defaults look 3 times 10 s apart after the attempt's deadline, and why the guide (finding a
    // send) says to widen them where it matters.
    let mock = MockServer::builder()
        .list_delay(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let hero = support::mock_client(&mock, Duration::from_secs(2));
    let err = lost_answer(&mock, &hero).await;
    let found = hero
        .find_send(&err, support::quick_find().looks(1))
        .await
        .unwrap();
    assert_eq!(found, FoundSend::NotSent);
    assert_eq!(mock.processed("send_message"), 1, "yet it was processed");
}

/// The helper's trial (a mock whose clock runs ahead, a proxy's `Date`): Hero's clock moved
/// against ours between the attempt and the look. The attempt's reading and today's disagree,
/// so the send that went may have been stamped by either: never "not sent".
#[tokio::test]
async fn a_clock_that_moved_since_the_attempt_never_gives_not_sent() {
    let mock = MockServer::start().await;
    let hero = support::mock_client(&mock, Duration::from_secs(2));
    // The client reads Hero's clock, then Hero's clock jumps 10 minutes ahead of ours.
    hero.list_templates().send().await.unwrap();
    mock.advance(Duration::from_secs(600));
    let err = lost_answer(&mock, &hero).await;
    let found = hero.find_send(&err, support::quick_find()).await.unwrap();
    let sent = mock.sent_messages()[0].id.clone();
    assert!(
        matches!(&found, FoundSend::Ambiguous { message_ids } if message_ids.contains(&sent)),
        "the send that went must be a person's decision, not 'not sent': {found:?}"
    );
}

/// A message Hero lists as created after Hero's own now (its `Date`, as read) shows the clock
/// was read wrong (here a proxy answers with its own clock while Hero's runs 10 minutes ahead):
/// the answer is the messages like the attempt for a person to decide, never "not sent".
#[tokio::test]
async fn a_message_stamped_in_heros_future_makes_the_answer_ambiguous() {
    use wiremock::{
        Mock, MockServer as Wire, ResponseTemplate,
        matchers::{path, query_param},
    };
    // A real listing from herohealth-mock, with the send's `created_at` moved 10 minutes ahead.
    let mut page = a_real_listing().await;
    let ahead = (chrono::Utc::now() + chrono::Duration::minutes(10))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let rows = page["data"].as_array_mut().expect("a page of rows");
    assert_eq!(rows.len(), 1, "{page}");
    rows[0]["created_at"] = serde_json::json!(ahead);
    let id = rows[0]["id"].as_str().unwrap().to_owned();
    // The proxy: its own `Date` (this machine's clock), that listing for every read.
    let proxy = Wire::start().await;
    let mut empty = page.clone();
    empty["data"] = serde_json::json!([]);
    Mock::given(path("/v2/sent_messages"))
        .and(query_param("page_index", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(empty))
        .with_priority(1)
        .mount(&proxy)
        .await;
    Mock::given(path("/v2/sent_messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page))
        .mount(&proxy)
        .await;
    let hero = through(&proxy.uri());
    let body = the_body();
    let attempt = hero.start_attempt(&body);
    let found = hero
        .find_attempt(&attempt, support::quick_find())
        .await
        .unwrap();
    assert_eq!(
        found,
        FoundSend::Ambiguous {
            message_ids: vec![id]
        }
    );
}

/// The new user's trial: a fresh client (no reading of Hero's clock before the attempt) against a
/// mock whose clock runs 60 times faster than ours, or stands still, as the mock's own examples
/// run it. Read after the attempt, Hero's clock is minutes away from where it was when the send
/// was stamped: the send that went is found or left to a person, never "not sent".
#[tokio::test]
async fn a_fresh_client_on_a_clock_that_runs_fast_or_stands_still_never_gives_not_sent() {
    for scale in [60.0, 0.0] {
        let mock = MockServer::builder()
            .time_scale(scale)
            .start()
            .await
            .unwrap();
        let hero = support::mock_client(&mock, Duration::from_secs(2));
        let err = lost_answer(&mock, &hero).await;
        assert_eq!(hero.hero_clock(), None, "no reading before the attempt");
        let found = hero.find_send(&err, support::quick_find()).await.unwrap();
        let sent = mock.sent_messages()[0].id.clone();
        assert!(
            match &found {
                FoundSend::Ambiguous { message_ids } => message_ids.contains(&sent),
                FoundSend::Sent { message_id } => *message_id == sent,
                _ => false,
            },
            "time_scale({scale}): the send that went is {sent}, found {found:?}"
        );
    }
}

/// A real page of patient 7's sent messages from herohealth-mock: one message, sent to `TO`.
async fn a_real_listing() -> serde_json::Value {
    let mock = MockServer::start().await;
    support::send_to(&mock.client(), "7", TO, false)
        .await
        .unwrap();
    let (key, group) = mock.credentials();
    reqwest::Client::new()
        .get(format!("{}/v2/sent_messages?patient_id=7", mock.base_url()))
        .header("x-api-key", key)
        .header("x-practice-group-id", group)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A Hero behind a proxy whose `Date` runs `ahead` of the clock Hero stamps `created_at` by, for
/// every request (so the readings agree with each other): the listing of patient 7 holds one
/// message like the attempt, created (by Hero's own clock) `created` after this machine's now.
/// Returns the server's URL and the message's id.
async fn behind_a_proxy(ahead: i64, created: chrono::DateTime<chrono::Utc>) -> (String, String) {
    // A real row from herohealth-mock, moved to `created`.
    let mut page = a_real_listing().await;
    let row = &mut page["data"][0];
    row["created_at"] =
        serde_json::json!(created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let id = row["id"].as_str().unwrap().to_owned();
    let mut empty = page.clone();
    empty["data"] = serde_json::json!([]);
    let (page, empty) = (page.to_string(), empty.to_string());
    let server = herohealth_mock::raw::RawServer::answering(move |head| {
        let by = Duration::from_secs(ahead.unsigned_abs());
        let now = std::time::SystemTime::now();
        let date = httpdate::fmt_http_date(if ahead >= 0 { now + by } else { now - by });
        let body = if head.contains("page_index=1") {
            &empty
        } else {
            &page
        };
        let answer = herohealth_mock::raw::response("200 OK", &format!("date: {date}\r\n"), body);
        async move { answer }
    })
    .await;
    (server.url().to_owned(), id)
}

/// The adversary's trial: a proxy's `Date` a second or two ahead of Hero's `created_at` clock,
/// steady, so no reading disagrees. The send that went was stamped just before the window as read:
/// it is a message like the attempt in the guard band, and the answer is Ambiguous with it, never
/// "not sent" (which dropped it silently and sent the patient the message twice).
#[tokio::test]
async fn a_message_like_the_attempt_just_outside_the_window_is_never_not_sent() {
    for ahead in [2, 5] {
        let (url, id) = behind_a_proxy(ahead, chrono::Utc::now()).await;
        let hero = through(&url);
        // A reading before the attempt, as a client that has talked to Hero has.
        hero.list_sent_messages().send().await.unwrap();
        let body = the_body();
        let attempt = hero.start_attempt(&body);
        let found = hero
            .find_attempt(&attempt, support::quick_find())
            .await
            .unwrap();
        assert_eq!(
            found,
            FoundSend::Ambiguous {
                message_ids: vec![id]
            },
            "a Date {ahead} s ahead"
        );
    }
}

/// The adversary's reading of the code: a `Date` more than a day from ours was ignored, so the
/// window fell back to the assumed 30 s of skew around our clock, and a send Hero stamped by its
/// own clock two days behind was "not sent". Such a `Date` is now a clock that cannot be read:
/// every message like the attempt is for a person to decide.
#[tokio::test]
async fn a_date_more_than_a_day_off_is_never_read_as_not_sent() {
    let two_days = 2 * 24 * 3600;
    let (url, id) = behind_a_proxy(
        -two_days,
        chrono::Utc::now() - chrono::Duration::seconds(two_days),
    )
    .await;
    let hero = through(&url);
    let body = the_body();
    let attempt = hero.start_attempt(&body);
    let found = hero
        .find_attempt(&attempt, support::quick_find())
        .await
        .unwrap();
    assert_eq!(
        hero.hero_clock(),
        None,
        "a Date two days off is not a reading"
    );
    assert_eq!(
        found,
        FoundSend::Ambiguous {
            message_ids: vec![id]
        }
    );
}
