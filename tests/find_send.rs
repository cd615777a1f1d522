//! `HeroClient::find_send` / `find_attempt` on herohealth-mock and on fake Heros whose `Date`
//! misbehaves, every test on tokio's paused clock (the client's, the mock's and the looks' time
//! move together, only when the runtime is idle, and in no real time: no test here is timed).
//!
//! `Sent` is this attempt's own message, identified by Hero's copy of its text; `NotSent` comes
//! only after the latest moment Hero could still create the message and only when every clock
//! reading agrees; anything else is `Ambiguous`. The three scenarios, the clock cases and
//! the bounds that remain are each a test below.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

mod support;

use herohealth::{ErrorKind, FindOptions, FoundSend, HeroClient, MessageType, TextCheck};
use herohealth_mock::{DateHeader, Fault, FaultRule, MockServer};

/// The recipient every send here names (the mock lists it as `+447700900123`).
const TO: &str = "+447700900123";
/// The text of our sends (`support::send_to`'s); the other senders' differ, unless said.
const TEXT: &str = "Your results are ready";

/// Our send: `support::send_sms`'s text to `TO`.
async fn send(hero: &HeroClient) -> herohealth::Result<String> {
    support::send_to(hero, "7", TO, false).await
}

/// Another sender (the practice's appointment system, on the same practice group): the same
/// patient, channel and recipient, its own text.
async fn another_sender(mock: &MockServer) -> String {
    let sent = mock
        .client()
        .send_message()
        .body_map(|b| {
            b.patient_id("7")
                .message_type(MessageType::Sms)
                .message_string("Your appointment is confirmed")
                .recipient_contact_detail(TO)
        })
        .send()
        .await
        .unwrap();
    sent.into_inner().message_id
}

/// The body of every attempt here: patient 7, an SMS to `TO`.
fn the_body() -> herohealth::types::SendMessageRequest {
    herohealth::types::SendMessageRequest::builder()
        .patient_id("7")
        .message_type(MessageType::Sms)
        .message_string(TEXT)
        .recipient_contact_detail(TO)
        .try_into()
        .unwrap()
}

/// A client whose attempts may take 2 s, and Hero as long to create a message.
fn client(mock: &MockServer) -> HeroClient {
    support::mock_client(mock, Duration::from_secs(2))
}

/// A send whose connection breaks after Hero processed it: outcome unknown, and it went.
async fn lost_answer(mock: &MockServer, hero: &HeroClient) -> herohealth::Error {
    mock.inject(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(1));
    let err = send(hero).await.unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
    err
}

/// A send whose connection breaks before Hero processed it: outcome unknown, and it did not go.
async fn never_arrived(mock: &MockServer, hero: &HeroClient) -> herohealth::Error {
    mock.inject(FaultRule::new("send_message", Fault::ResetBeforeProcessing).nth(1));
    let err = send(hero).await.unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
    err
}

fn sent(id: &str) -> FoundSend {
    FoundSend::Sent {
        message_id: id.to_owned(),
    }
}

fn ambiguous(ids: &[&str]) -> FoundSend {
    FoundSend::Ambiguous {
        message_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// The id of the only message the mock stored for this test's own text.
fn ours(mock: &MockServer) -> String {
    let mine: Vec<_> = mock
        .sent_messages()
        .into_iter()
        .filter(|m| m.text == TEXT)
        .collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    mine[0].id.clone()
}

#[tokio::test(start_paused = true)]
async fn a_send_that_went_is_sent_by_its_text_and_one_that_never_arrived_is_not_sent() {
    let mock = MockServer::start().await;
    let hero = client(&mock);
    let err = lost_answer(&mock, &hero).await;
    let found = hero.find_send(&err, FindOptions::default()).await.unwrap();
    assert_eq!(found, sent(&ours(&mock)));
    // Asked again, the same answer: an id found for an attempt stays its own.
    let again = hero.find_send(&err, FindOptions::default()).await.unwrap();
    assert_eq!(again, found);

    mock.clear_faults();
    let err = never_arrived(&mock, &hero).await;
    assert_eq!(
        hero.find_send(&err, FindOptions::default()).await.unwrap(),
        FoundSend::NotSent
    );

    // An error that carries no send attempt is refused, not guessed.
    let err = hero.get_message().id("404").send().await.unwrap_err();
    assert_eq!(
        hero.find_send(&err, FindOptions::default())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidRequest
    );
}

/// Without Hero's copy of the text, a sole candidate cannot be told from another sender's: a
/// person decides, unless the caller opts in to the old rule (and its bound).
#[tokio::test(start_paused = true)]
async fn a_sole_candidate_whose_text_hero_does_not_give_is_ambiguous_unless_opted_in() {
    let mock = MockServer::builder()
        .no_message_content(true)
        .start()
        .await
        .unwrap();
    let hero = client(&mock);
    let err = lost_answer(&mock, &hero).await;
    let id = ours(&mock);
    let finding = hero
        .find_attempt_with_evidence(err.send_attempt().unwrap(), FindOptions::default())
        .await
        .unwrap();
    assert_eq!(finding.answer, ambiguous(&[&id]));
    assert_eq!(finding.candidates[0].text, TextCheck::Unknown);
    assert!(finding.candidates[0].in_window && finding.candidates[0].like_attempt);
    let opted_in = FindOptions::default().sole_candidate_is_sent(true);
    assert_eq!(hero.find_send(&err, opted_in).await.unwrap(), sent(&id));
}

/// Issue 35, scenario 1: the send never reached Hero, and another sender messaged the patient
/// (same channel and recipient) inside the attempt's window. Never `Sent` with that message's id,
/// whether or not Hero gives its text.
#[tokio::test(start_paused = true)]
async fn scenario_1_another_sender_s_message_is_never_taken_for_a_lost_one() {
    for give_text in [true, false] {
        let mock = MockServer::builder()
            .no_message_content(!give_text)
            .start()
            .await
            .unwrap();
        let hero = client(&mock);
        hero.list_templates().send().await.unwrap();
        let err = never_arrived(&mock, &hero).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let other = another_sender(&mock).await;
        let finding = hero
            .find_attempt_with_evidence(err.send_attempt().unwrap(), FindOptions::default())
            .await
            .unwrap();
        assert_eq!(
            finding.answer,
            ambiguous(&[&other]),
            "text given: {give_text}"
        );
        let expected = if give_text {
            TextCheck::Different
        } else {
            TextCheck::Unknown
        };
        assert_eq!(finding.candidates[0].text, expected);
        // Hero's whole second, a second after the start.
        assert!(
            matches!(finding.candidates[0].after_start_s, Some(0..=1)),
            "{finding:?}"
        );
    }
}

/// Two messages like the attempt around its window: Hero's copies tell ours; two with the same
/// text (another sender's identical one) go to a person, unless the other is known.
#[tokio::test(start_paused = true)]
async fn ours_is_told_from_another_sender_s_by_its_text() {
    let mock = MockServer::start().await;
    let hero = client(&mock);
    let other = another_sender(&mock).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let err = lost_answer(&mock, &hero).await;
    let found = hero.find_send(&err, FindOptions::default()).await.unwrap();
    assert_eq!(found, sent(&ours(&mock)));
    assert_ne!(found, sent(&other));

    // The same text, 5 s before: either could be this send.
    let mock = MockServer::start().await;
    let hero = client(&mock);
    let same = send(&mock.client()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let err = lost_answer(&mock, &hero).await;
    let found = hero.find_send(&err, FindOptions::default()).await.unwrap();
    let FoundSend::Ambiguous { message_ids } = &found else {
        panic!("{found:?}")
    };
    assert_eq!(message_ids.len(), 2, "{message_ids:?}");
    assert!(message_ids.contains(&same));
    // Told that the other one is known (a journal's), the answer is the one that is left.
    let found = hero
        .find_send(&err, FindOptions::default().exclude([same.clone()]))
        .await
        .unwrap();
    assert!(
        matches!(&found, FoundSend::Sent { message_id } if *message_id != same),
        "{found:?}"
    );
}

/// A message created well before the attempt, beyond the guard band, is never it: "not sent".
#[tokio::test(start_paused = true)]
async fn a_message_from_before_the_attempt_and_its_guard_band_is_not_a_candidate() {
    let mock = MockServer::start().await;
    let hero = client(&mock);
    let other = another_sender(&mock).await;
    tokio::time::sleep(Duration::from_secs(70)).await;
    let err = never_arrived(&mock, &hero).await;
    assert_eq!(
        hero.find_send(&err, FindOptions::default()).await.unwrap(),
        FoundSend::NotSent,
        "never {other}"
    );
}

/// The client's own earlier sends are excluded without being passed.
#[tokio::test(start_paused = true)]
async fn the_clients_own_sends_are_never_candidates() {
    let mock = MockServer::start().await;
    let hero = client(&mock);
    let mine = send(&hero).await.unwrap();
    let err = lost_answer(&mock, &hero).await;
    let found = hero.find_send(&err, FindOptions::default()).await.unwrap();
    assert!(
        matches!(&found, FoundSend::Sent { message_id } if *message_id != mine),
        "{found:?}"
    );
    // A client that does not know the first send sees two with the same text.
    let stranger = mock.client();
    let found = stranger
        .find_send(&err, FindOptions::default())
        .await
        .unwrap();
    assert!(
        matches!(&found, FoundSend::Ambiguous { message_ids } if message_ids.len() == 2),
        "{found:?}"
    );
}

/// Every spelling `ContactDetail` accepts compares in one canonical form.
#[tokio::test(start_paused = true)]
async fn recipients_compare_in_one_canonical_form() {
    for spelling in [
        "+44 (0)7700 900123",
        "0044 7700 900123",
        "447700900123",
        "07700 900123",
        "+44-7700-900-123",
    ] {
        let mock = MockServer::start().await;
        let hero = client(&mock);
        mock.inject(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(1));
        let err = support::send_to(&hero, "7", spelling, false)
            .await
            .unwrap_err();
        let found = hero.find_send(&err, FindOptions::default()).await.unwrap();
        assert_eq!(found, sent(&ours(&mock)), "{spelling}");
    }
}

/// Issue 35, scenario 2 (client side): Hero finishes a request whose caller gave up. The client's
/// timeout is 4 s, Hero takes 3.8 s; the caller gave the request only 1 s (the time left to a
/// journal's deadline) or dropped it after 1 s. "Not sent" waits for the write plus Hero's 4 s,
/// whatever time the request was given, and the send that went is found.
#[tokio::test(start_paused = true)]
async fn scenario_2_a_send_hero_finishes_after_its_caller_gave_up_is_found() {
    let mock = MockServer::builder()
        .finish_abandoned(true)
        .start()
        .await
        .unwrap();
    let hero = mock
        .client_builder()
        .timeout(Duration::from_secs(4))
        .retry_policy(herohealth::RetryPolicy::disabled())
        .build()
        .unwrap();
    assert_eq!(hero.hero_processing_time(), Duration::from_secs(4));
    let slow = || FaultRule::new("send_message", Fault::Latency(Duration::from_millis(3_800)));

    // Given 1 s by with_timeout: the error's attempt still gives Hero 4 s from the write.
    mock.inject(slow().nth(1));
    let err = hero
        .with_timeout(Duration::from_secs(1))
        .send_message()
        .body(the_body())
        .send()
        .await
        .unwrap_err();
    let attempt = err.send_attempt().unwrap();
    assert_eq!(
        attempt.deadline() - attempt.latest_write(),
        chrono::Duration::seconds(4)
    );
    assert!(mock.sent_messages().is_empty(), "not yet");
    let found = hero.find_send(&err, FindOptions::default()).await.unwrap();
    assert_eq!(found, sent(&ours(&mock)));

    // Dropped by the caller after 1 s (as a killed process): the attempt recorded before it.
    let mock = MockServer::builder()
        .finish_abandoned(true)
        .start()
        .await
        .unwrap();
    let hero = mock
        .client_builder()
        .timeout(Duration::from_secs(4))
        .retry_policy(herohealth::RetryPolicy::disabled())
        .build()
        .unwrap();
    mock.inject(slow().nth(1));
    let attempt = hero.start_attempt(&the_body());
    assert_eq!(
        attempt.deadline() - attempt.started(),
        chrono::Duration::seconds(4)
    );
    let gave_up = tokio::time::timeout(
        Duration::from_secs(1),
        hero.send_message().body(the_body()).send(),
    )
    .await;
    assert!(gave_up.is_err(), "the caller gave up first");
    let found = hero
        .find_attempt(&attempt, FindOptions::default())
        .await
        .unwrap();
    assert_eq!(found, sent(&ours(&mock)));
}

/// A retry policy widens the latest write: Hero's time runs from the last retry it allows.
#[tokio::test(start_paused = true)]
async fn an_attempt_started_ahead_of_its_write_gives_hero_its_time_after_the_last_retry() {
    let mock = MockServer::start().await;
    let hero = mock
        .client_builder()
        .timeout(Duration::from_secs(4))
        .build()
        .unwrap();
    let attempt = hero.start_attempt(&the_body());
    assert_eq!(
        attempt.latest_write() - attempt.started(),
        chrono::Duration::seconds(60),
        "the default policy retries within 60 s"
    );
    assert_eq!(
        attempt.deadline() - attempt.latest_write(),
        chrono::Duration::seconds(4)
    );
    let longer = mock
        .client_builder()
        .timeout(Duration::from_secs(4))
        .hero_processing_time(Duration::from_secs(45))
        .retry_policy(herohealth::RetryPolicy::disabled())
        .build()
        .unwrap();
    let attempt = longer.start_attempt(&the_body());
    assert_eq!(
        attempt.deadline() - attempt.started(),
        chrono::Duration::seconds(45)
    );
}

/// A processing time of "forever" (a setting from outside) saturates: the attempt's deadline is
/// the end of time, and nothing panics.
#[tokio::test(start_paused = true)]
async fn a_processing_time_of_forever_saturates() {
    let mock = MockServer::start().await;
    let hero = mock
        .client_builder()
        .hero_processing_time(Duration::MAX)
        .build()
        .unwrap();
    let err = lost_answer(&mock, &hero).await;
    assert_eq!(
        err.send_attempt().unwrap().deadline(),
        chrono::DateTime::<chrono::Utc>::MAX_UTC
    );
    assert_eq!(
        hero.start_attempt(&the_body()).deadline(),
        chrono::DateTime::<chrono::Utc>::MAX_UTC
    );
}

#[tokio::test(start_paused = true)]
async fn a_message_hero_lists_late_is_found_by_looking_again() {
    // Hero lists a new message 3.5 s after it is created; looks 0.5 s apart from the deadline
    // (2 s): the first ones miss it, the last finds it.
    let mock = MockServer::builder()
        .list_delay(Duration::from_millis(3_500))
        .start()
        .await
        .unwrap();
    let hero = client(&mock);
    let err = lost_answer(&mock, &hero).await;
    let options = FindOptions::default()
        .list_delay(Duration::from_millis(500))
        .looks(5);
    let found = hero.find_send(&err, options).await.unwrap();
    assert_eq!(found, sent(&ours(&mock)));
    assert!(mock.calls("list_sent_messages") >= 5, "it looked again");
}

/// A bound that remains (the guide's table): Hero listing a message later than the looks.
#[tokio::test(start_paused = true)]
async fn a_listing_later_than_the_looks_is_the_documented_failure_mode() {
    let mock = MockServer::builder()
        .list_delay(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let hero = client(&mock);
    let err = lost_answer(&mock, &hero).await;
    let found = hero
        .find_send(&err, FindOptions::default().looks(1))
        .await
        .unwrap();
    assert_eq!(found, FoundSend::NotSent);
    assert_eq!(mock.processed("send_message"), 1, "yet it was processed");
}

/// Hero's clock moved against ours between the attempt and the look: the send that went is
/// found by its text in a window spanning both readings; one that did not go is never "not sent".
#[tokio::test(start_paused = true)]
async fn a_clock_that_moved_since_the_attempt_never_gives_not_sent() {
    let mock = MockServer::start().await;
    let hero = client(&mock);
    hero.list_templates().send().await.unwrap();
    let err = never_arrived(&mock, &hero).await;
    mock.clear_faults();
    mock.advance(Duration::from_secs(600));
    assert_eq!(
        hero.find_send(&err, FindOptions::default()).await.unwrap(),
        ambiguous(&[])
    );
    let err = lost_answer(&mock, &hero).await;
    mock.advance(Duration::from_secs(600));
    let found = hero.find_send(&err, FindOptions::default()).await.unwrap();
    assert_eq!(found, sent(&ours(&mock)));
}

/// Issue 35, scenario 3: a proxy's `Date` steadily 90 s ahead of the clock Hero stamps by (beyond
/// the 60 s guard band), a fresh client, a send Hero processed before the connection broke. The
/// send is found by its text (or left to a person without it); one that did not go is never
/// "not sent". A proxy 30 s ahead (within the band) still allows "not sent".
#[tokio::test(start_paused = true)]
async fn scenario_3_a_proxy_date_90_s_ahead_never_gives_not_sent() {
    for give_text in [true, false] {
        let mock = MockServer::builder()
            .date_header(DateHeader::Skewed(90))
            .no_message_content(!give_text)
            .start()
            .await
            .unwrap();
        let hero = client(&mock);
        let err = lost_answer(&mock, &hero).await;
        let id = ours(&mock);
        let found = hero.find_send(&err, FindOptions::default()).await.unwrap();
        let expected = if give_text {
            sent(&id)
        } else {
            ambiguous(&[&id])
        };
        assert_eq!(found, expected, "text given: {give_text}");
        assert_eq!(
            hero.find_send(&err, FindOptions::default().sole_candidate_is_sent(true))
                .await
                .unwrap(),
            expected,
            "the opt-in needs clocks that agree"
        );
        let fresh = client(&mock);
        mock.clear_faults();
        let err = never_arrived(&mock, &fresh).await;
        assert_eq!(
            fresh.find_send(&err, FindOptions::default()).await.unwrap(),
            ambiguous(&[&id]),
            "never 'not sent' on a clock 90 s off"
        );
    }
    let mock = MockServer::builder()
        .date_header(DateHeader::Skewed(30))
        .start()
        .await
        .unwrap();
    let hero = client(&mock);
    let err = never_arrived(&mock, &hero).await;
    assert_eq!(
        hero.find_send(&err, FindOptions::default()).await.unwrap(),
        FoundSend::NotSent
    );
}

/// A fresh client against a mock whose clock runs 60 times faster than ours, or stands still:
/// every reading is off, and the send that went is found by its text, never "not sent".
#[tokio::test(start_paused = true)]
async fn a_fresh_client_on_a_clock_that_runs_fast_or_stands_still_never_gives_not_sent() {
    for scale in [60.0, 0.0] {
        let mock = MockServer::builder()
            .time_scale(scale)
            .start()
            .await
            .unwrap();
        let hero = client(&mock);
        let err = lost_answer(&mock, &hero).await;
        let found = hero.find_send(&err, FindOptions::default()).await.unwrap();
        let id = ours(&mock);
        assert!(
            found == sent(&id)
                || matches!(&found, FoundSend::Ambiguous { message_ids } if message_ids.contains(&id)),
            "time_scale({scale}): the send that went is {id}, found {found:?}"
        );
    }
}

// ---------------------------------------------------------------- a fake Hero's clock

/// What a fake Hero lists for patient 7: a real row from herohealth-mock, moved to `created`
/// (seconds from the attempt's start, on the clock Hero stamps by: ours) and renamed `id`.
async fn a_row(id: &str, created: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
    let mock = MockServer::start().await;
    send(&mock.client()).await.unwrap();
    let (key, group) = mock.credentials();
    let page: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v2/sent_messages?patient_id=7", mock.base_url()))
        .header("x-api-key", key)
        .header("x-practice-group-id", group)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut row = page["data"][0].clone();
    row["id"] = serde_json::json!(id);
    row["created_at"] =
        serde_json::json!(created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    row
}

/// A fake Hero whose every answer's `Date` is `date(n, now)` (the n-th request from 0, this
/// machine's clock as the client reads it; `None` for no `Date`), listing `rows` for patient 7 and
/// giving back `text` as every message's content.
async fn fake_hero(
    date: fn(usize, chrono::DateTime<chrono::Utc>) -> Option<String>,
    rows: Vec<serde_json::Value>,
    text: Option<&'static str>,
) -> support::RawServer {
    let page = serde_json::json!({"data": rows, "count": rows.len()}).to_string();
    let empty = serde_json::json!({"data": [], "count": rows.len()}).to_string();
    let count = Arc::new(AtomicUsize::new(0));
    support::RawServer::answering(move |head| {
        let n = count.fetch_add(1, Ordering::SeqCst);
        let date = date(n, herohealth::now()).map_or(String::new(), |d| format!("date: {d}\r\n"));
        let target = head.split_whitespace().nth(1).unwrap_or("").to_owned();
        let answer = if let Some(id) = target.strip_prefix("/v1/messages/") {
            let copy = serde_json::json!({"id": id, "content": text});
            support::response("200 OK", &date, &copy.to_string())
        } else if support::page_index(&head) > 0 {
            support::response("200 OK", &date, &empty)
        } else {
            support::response("200 OK", &date, &page)
        };
        async move { answer }
    })
    .await
}

fn http(t: chrono::DateTime<chrono::Utc>) -> String {
    httpdate::fmt_http_date(t.into())
}

fn by(secs: i64) -> chrono::Duration {
    chrono::Duration::seconds(secs)
}

/// A client for a fake Hero: 2 s attempts, no retries.
fn through(url: &str) -> HeroClient {
    support::builder_for(
        url,
        "hero-k-find-key",
        "practice-find",
        herohealth::RetryPolicy::disabled(),
    )
    .timeout(Duration::from_secs(2))
    .build()
    .unwrap()
}

/// The clock cases. For each `Date`, a send that went (listed 1 s after the attempt's
/// start by the clock Hero stamps by, its text given back) and one that did not (nothing
/// listed): `Sent` only with its own message, `NotSent` only when every reading agrees.
#[tokio::test(start_paused = true)]
async fn clock_cases_sent_only_with_evidence_not_sent_only_with_agreement() {
    type DateOf = fn(usize, chrono::DateTime<chrono::Utc>) -> Option<String>;
    let cases: [(&str, DateOf, bool); 11] = [
        ("Hero's own", |_, t| Some(http(t)), true),
        ("steadily 30 s ahead", |_, t| Some(http(t + by(30))), true),
        ("steadily 30 s behind", |_, t| Some(http(t - by(30))), true),
        ("steadily 90 s ahead", |_, t| Some(http(t + by(90))), false),
        ("steadily 90 s behind", |_, t| Some(http(t - by(90))), false),
        (
            "jumping 20 s ahead",
            |n, t| Some(http(t + by(if n < 2 { 0 } else { 20 }))),
            false,
        ),
        (
            "going 20 s backwards",
            |n, t| Some(http(t - by(if n < 2 { 0 } else { 20 }))),
            false,
        ),
        ("missing", |_, _| None, false),
        (
            "malformed",
            |_, _| Some("yesterday, around teatime".to_owned()),
            false,
        ),
        (
            "a day off",
            |_, t| Some(http(t + by(86_400 + 3_600))),
            false,
        ),
        (
            "a day behind",
            |_, t| Some(http(t - by(86_400 + 3_600))),
            false,
        ),
    ];
    for (name, date, agrees) in cases {
        // A send that did not go: nothing listed.
        let hero_url = fake_hero(date, vec![], Some(TEXT)).await;
        let hero = through(hero_url.url());
        let attempt = hero.start_attempt(&the_body());
        let found = hero
            .find_attempt(&attempt, FindOptions::default())
            .await
            .unwrap();
        let expected = if agrees {
            FoundSend::NotSent
        } else {
            ambiguous(&[])
        };
        assert_eq!(found, expected, "{name}: a send that did not go");

        // A send that went, its text given back: this attempt's own, `Sent`.
        let hero = through("http://127.0.0.1:1");
        let attempt = hero.start_attempt(&the_body());
        let row = a_row("501", attempt.started() + by(1)).await;
        let server = fake_hero(date, vec![row.clone()], Some(TEXT)).await;
        let hero = through(server.url());
        let found = hero
            .find_attempt(&attempt, FindOptions::default())
            .await
            .unwrap();
        assert_eq!(found, sent("501"), "{name}: a send that went");

        // Its text not given back: never `Sent` by default, never "not sent".
        let server = fake_hero(date, vec![row], None).await;
        let hero = through(server.url());
        let found = hero
            .find_attempt(&attempt, FindOptions::default())
            .await
            .unwrap();
        assert_eq!(found, ambiguous(&["501"]), "{name}: no text");
    }
}

/// A message listed as created after Hero's own now as read shows the `Date` is another clock
/// (here Hero's stamps run 10 minutes ahead of it): the message is shown, never "not sent".
#[tokio::test(start_paused = true)]
async fn a_message_stamped_in_heros_future_makes_the_answer_ambiguous() {
    let hero = through("http://127.0.0.1:1");
    let attempt = hero.start_attempt(&the_body());
    let row = a_row("502", attempt.started() + by(600)).await;
    let server = fake_hero(|_, t| Some(http(t)), vec![row], Some(TEXT)).await;
    let hero = through(server.url());
    let found = hero
        .find_attempt(&attempt, FindOptions::default())
        .await
        .unwrap();
    assert_eq!(found, ambiguous(&["502"]));
}

/// A `Date` two days off, and Hero's stamps with it: no reading, so every message like the
/// attempt goes to a person, never "not sent".
#[tokio::test(start_paused = true)]
async fn a_date_more_than_a_day_off_is_never_read_as_not_sent() {
    let hero = through("http://127.0.0.1:1");
    let attempt = hero.start_attempt(&the_body());
    let row = a_row("503", attempt.started() - by(2 * 86_400)).await;
    let server = fake_hero(|_, t| Some(http(t - by(2 * 86_400))), vec![row], None).await;
    let hero = through(server.url());
    hero.list_sent_messages().send().await.unwrap();
    assert_eq!(
        hero.hero_clock(),
        None,
        "a Date two days off is not a reading"
    );
    let found = hero
        .find_attempt(&attempt, FindOptions::default())
        .await
        .unwrap();
    assert_eq!(found, ambiguous(&["503"]));
}
