//! `decide`, rule by rule (the table in `rules`' docs), on a clock the tests own.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::{
    MessageType,
    clock::{ClockOffset, Reading},
};

const TO: &str = "+447700900123";

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-05T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn s(n: i64) -> Duration {
    Duration::seconds(n)
}

fn offset(lo_ms: i64, hi_ms: i64) -> ClockOffset {
    serde_json::from_value(serde_json::json!({"lo_ms": lo_ms, "hi_ms": hi_ms})).unwrap()
}

fn the_body() -> types::SendMessageRequest {
    types::SendMessageRequest::builder()
        .patient_id("7")
        .message_type(MessageType::Sms)
        .message_string("Your results are ready")
        .recipient_contact_detail(TO)
        .try_into()
        .unwrap()
}

/// Patient 7, an SMS to `TO`, written at t0, Hero able to create it until t0 + 4 s, Hero's clock
/// read around it within a second of ours.
fn attempt() -> SendAttempt {
    SendAttempt::new(&the_body(), t0(), t0() + s(4)).with_clock(Some(offset(-400, 600)))
}

/// A message Hero lists for patient 7, by SMS, created at t0 + `at` seconds (Hero's clock).
fn msg(id: Option<&str>, at: i64, to: &str) -> types::SentMessage {
    serde_json::from_value(serde_json::json!({
        "id": id, "patient": {"id": "7", "title": null, "first_name": "A", "last_name": "B"},
        "write_to_record": {"write_to_record_at": null, "status": null, "failure_reason": null},
        "short_link": null, "campaign": null,
        "created_at": (t0() + s(at)).to_rfc3339(), "sent_at": null, "scheduled_at": null,
        "status": "delivered", "sent_by": "API", "recipient_contact_detail": to,
        "message_type": "sms"
    }))
    .unwrap()
}

fn like(id: &str, at: i64) -> types::SentMessage {
    msg(Some(id), at, TO)
}

/// Clocks that agree: the looks read Hero within a second of ours, 40 s after the start.
fn agreeing() -> Clocks {
    looking(offset(-300, 700))
}

fn looking(span: ClockOffset) -> Clocks {
    Clocks {
        attempt: Some(offset(-400, 600)),
        looking: Reading {
            offset: Some(span),
            span: Some(span),
            moves: 0,
            unreadable: 0,
        },
        now: t0() + s(40),
    }
}

/// One case of the table.
struct Case {
    attempt: SendAttempt,
    listed: Vec<types::SentMessage>,
    known: Vec<&'static str>,
    compared: Vec<(&'static str, TextCheck)>,
    clocks: Clocks,
    last: bool,
    options: FindOptions,
}

impl Case {
    fn new(listed: Vec<types::SentMessage>) -> Case {
        Case {
            attempt: attempt(),
            listed,
            known: Vec::new(),
            compared: Vec::new(),
            clocks: agreeing(),
            last: true,
            options: FindOptions::default(),
        }
    }

    fn compared(mut self, c: &[(&'static str, TextCheck)]) -> Case {
        self.compared = c.to_vec();
        self
    }

    fn step(&self) -> Step {
        let compared: HashMap<String, TextCheck> = self
            .compared
            .iter()
            .map(|(id, t)| ((*id).to_owned(), *t))
            .collect();
        let known = |id: &str| self.known.contains(&id);
        decide(&Look {
            attempt: &self.attempt,
            listed: &self.listed,
            known: &known,
            compared: &compared,
            clocks: self.clocks,
            last: self.last,
            options: &self.options,
        })
    }

    fn answer(&self) -> FoundSend {
        match self.step() {
            Step::Found(f) => f.answer,
            other => panic!("no answer: {other:?}"),
        }
    }
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

use TextCheck::{Different, Same, Unknown};

#[test]
fn a_candidate_not_yet_read_is_compared_first() {
    let case = Case::new(vec![like("1", 1), msg(Some("2"), 2, "+447700900999")]);
    // Only candidates (like the attempt) are read; another recipient's message is not.
    assert_eq!(case.step(), Step::Compare(vec!["1".to_owned()]));
    let case = Case::new(vec![like("1", 1), like("2", 30)]).compared(&[("1", Same)]);
    assert_eq!(case.step(), Step::Compare(vec!["2".to_owned()]));
}

#[test]
fn hero_s_copy_with_the_attempt_s_text_is_sent_at_the_last_look() {
    let mut case = Case::new(vec![like("1", 1)]).compared(&[("1", Same)]);
    assert_eq!(case.answer(), sent("1"));
    case.last = false;
    assert_eq!(case.step(), Step::LookAgain, "another may yet be listed");
    // The others around it shown to be another's: still this one.
    let case = Case::new(vec![
        like("0", -30),
        like("1", 1),
        like("2", 3),
        msg(Some("3"), 2, "+447700900999"),
    ])
    .compared(&[("0", Different), ("1", Same), ("2", Different)]);
    assert_eq!(case.answer(), sent("1"));
    let Step::Found(f) = case.step() else {
        panic!()
    };
    let shown: Vec<_> = f.candidates.iter().map(|c| c.message_id.as_str()).collect();
    assert_eq!(shown[0], "1", "the one identified first");
    assert_eq!(shown.len(), 4);
}

#[test]
fn an_identified_candidate_needs_every_other_shown_to_be_another_s() {
    // Another candidate whose text cannot be compared could be this send: a person decides,
    // at once (no later listing changes it).
    let mut case =
        Case::new(vec![like("1", 1), like("2", 2)]).compared(&[("1", Same), ("2", Unknown)]);
    case.last = false;
    assert_eq!(case.answer(), ambiguous(&["1", "2"]));
    case.last = true;
    assert_eq!(
        case.answer(),
        ambiguous(&["1", "2"]),
        "nor at the last look"
    );
    // A message without an id around the window could be it too.
    let case = Case::new(vec![like("1", 1), msg(None, 2, TO)]).compared(&[("1", Same)]);
    assert_eq!(case.answer(), ambiguous(&["1"]));
    // Two with the attempt's text: at once.
    let mut case =
        Case::new(vec![like("1", 1), like("2", 2)]).compared(&[("1", Same), ("2", Same)]);
    case.last = false;
    assert_eq!(case.answer(), ambiguous(&["1", "2"]));
    // The same text only in the guard band (before the start): not identified.
    let case = Case::new(vec![like("1", -20)]).compared(&[("1", Same)]);
    assert_eq!(case.answer(), ambiguous(&["1"]));
}

#[test]
fn a_sole_candidate_that_cannot_be_compared_is_ambiguous_by_default() {
    let mut case = Case::new(vec![like("1", 1)]).compared(&[("1", Unknown)]);
    assert_eq!(case.answer(), ambiguous(&["1"]));
    case.last = false;
    assert_eq!(case.answer(), ambiguous(&["1"]), "settled at once");
    // Another's text: never it, never "not sent" either.
    let case = Case::new(vec![like("1", 1)]).compared(&[("1", Different)]);
    assert_eq!(case.answer(), ambiguous(&["1"]));
}

#[test]
fn the_opt_in_takes_a_sole_candidate_certainly_inside_on_agreeing_clocks() {
    let opt_in = FindOptions::default().sole_candidate_is_sent(true);
    let with = |listed, clocks, text| {
        let mut c = Case::new(listed).compared(&[("1", text)]);
        c.clocks = clocks;
        c.options = opt_in.clone();
        c
    };
    assert_eq!(
        with(vec![like("1", 2)], agreeing(), Unknown).answer(),
        sent("1")
    );
    // "Certainly inside" is on the reading every clock agrees on, not on the window spanning
    // ours too: Hero steadily 30 s ahead, the message 32 s after our start on its clock.
    let mut ahead = looking(offset(30_000, 31_000));
    ahead.attempt = Some(offset(29_800, 31_200));
    assert_eq!(
        with(vec![like("1", 32)], ahead, Unknown).answer(),
        sent("1")
    );
    let mut early = with(vec![like("1", 2)], agreeing(), Unknown);
    early.last = false;
    assert_eq!(early.step(), Step::LookAgain);
    // At the edge of the window (a second the start may fall in, the clock read loosely): a
    // person decides.
    assert_eq!(
        with(vec![like("1", -1)], agreeing(), Unknown).answer(),
        ambiguous(&["1"])
    );
    // Another message around it, or clocks that disagree, or another's text: not alone.
    assert_eq!(
        with(
            vec![like("1", 2), msg(Some("3"), 3, "+447700900999")],
            agreeing(),
            Unknown
        )
        .answer(),
        ambiguous(&["1", "3"])
    );
    assert_eq!(
        with(vec![like("1", 2)], looking(offset(89_000, 90_000)), Unknown).answer(),
        ambiguous(&["1"])
    );
    assert_eq!(
        with(vec![like("1", 2)], agreeing(), Different).answer(),
        ambiguous(&["1"])
    );
}

#[test]
fn nothing_around_the_window_on_agreeing_clocks_is_not_sent_at_the_last_look() {
    let mut case = Case::new(vec![]);
    assert_eq!(case.answer(), FoundSend::NotSent);
    case.last = false;
    assert_eq!(case.step(), Step::LookAgain);
    // Messages well away from the window (beyond the guard band) do not count, nor known ones.
    let mut case = Case::new(vec![like("1", -200), like("2", 300), like("3", 2)]);
    case.known = vec!["3"];
    case.clocks.now = t0() + s(400);
    assert_eq!(case.answer(), FoundSend::NotSent);
}

#[test]
fn any_message_around_the_window_prevents_not_sent() {
    // Another recipient's message to the patient on the channel, in the window or its band.
    for at in [2, 30, -30] {
        let case = Case::new(vec![msg(Some("9"), at, "+447700900999")]);
        assert_eq!(case.answer(), ambiguous(&["9"]), "at {at}");
    }
    // One without an id: nothing to show, and settled at once.
    let mut case = Case::new(vec![msg(None, 2, TO)]);
    case.last = false;
    assert_eq!(case.answer(), ambiguous(&[]));
}

#[test]
fn an_attempt_hero_accepted_is_never_not_sent() {
    let mut case = Case::new(vec![]);
    case.attempt = attempt().accepted_at(t0() + s(1));
    assert_eq!(case.answer(), ambiguous(&[]));
}

#[test]
fn clocks_that_disagree_never_give_not_sent() {
    let unreadable = Clocks {
        looking: Reading {
            unreadable: 1,
            ..agreeing().looking
        },
        ..agreeing()
    };
    let moved = Clocks {
        looking: Reading {
            moves: 1,
            ..agreeing().looking
        },
        ..agreeing()
    };
    let none = Clocks {
        attempt: None,
        looking: Reading::default(),
        now: t0() + s(40),
    };
    let since = Clocks {
        attempt: Some(offset(5_000, 6_000)),
        ..agreeing()
    };
    for (name, clocks) in [
        (
            "ahead by more than the band",
            looking(offset(90_000, 91_000)),
        ),
        (
            "behind by more than the band",
            looking(offset(-91_000, -90_000)),
        ),
        ("unreadable", unreadable),
        ("moved while looking", moved),
        ("no Date at all", none),
        ("moved since the attempt", since),
    ] {
        let mut case = Case::new(vec![]);
        case.clocks = clocks;
        assert_eq!(case.answer(), ambiguous(&[]), "{name}");
    }
    // Within the band, ahead or behind, steady: they agree.
    for (lo, hi) in [(30_000, 31_000), (-31_000, -30_000)] {
        let mut case = Case::new(vec![]);
        case.clocks = looking(offset(lo, hi));
        case.clocks.attempt = Some(offset(lo - 200, hi + 200));
        assert_eq!(case.answer(), FoundSend::NotSent, "{lo}..{hi}");
    }
}

#[test]
fn clocks_that_disagree_show_every_message_like_the_attempt_since_its_earliest_start() {
    // The looks read Hero 90 s ahead; a message like the attempt 10 minutes later (on a clock
    // nobody read right) is shown too, one long before is not...
    let mut case = Case::new(vec![like("late", 600), like("old", -3_600)]);
    case.clocks = looking(offset(89_000, 90_000));
    case = case.compared(&[]);
    case.attempt = attempt();
    let Step::Found(f) = case.step() else {
        panic!("{:?}", case.step())
    };
    assert_eq!(f.answer, ambiguous(&["late"]));
    assert!(!f.candidates[0].in_window);
    // ... unless a `Date` could not be read: then every one.
    case.clocks.looking.unreadable = 1;
    assert_eq!(case.answer(), ambiguous(&["late", "old"]));
}

#[test]
fn a_message_stamped_after_hero_s_now_shows_the_clock_misread() {
    // Listed as created 2 minutes after Hero's now as read: "not sent" is out of the question,
    // and the message is shown.
    let case = Case::new(vec![like("ahead", 80)]).compared(&[("ahead", Unknown)]);
    assert_eq!(case.answer(), ambiguous(&["ahead"]));
}

/// The three scenarios, as the rules see them.
#[test]
fn scenario_1_another_sender_s_message_is_never_taken_for_a_lost_one() {
    // The attempt never reached Hero; the practice's appointment system messaged the patient
    // (same channel, recipient) inside the window. Hero's copy has its own text: never `Sent`.
    for text in [Different, Unknown] {
        let case = Case::new(vec![like("other", 2)]).compared(&[("other", text)]);
        assert_eq!(case.answer(), ambiguous(&["other"]), "{text:?}");
    }
    // Both: ours went too and is identified by its text.
    let case = Case::new(vec![like("other", 1), like("ours", 2)])
        .compared(&[("other", Different), ("ours", Same)]);
    assert_eq!(case.answer(), sent("ours"));
}

#[test]
fn scenario_2_the_deadline_runs_from_the_latest_write() {
    // A journal's commit answered late: the request was written 3 s after the attempt was
    // recorded; Hero may take 4 s. A message 6.8 s after the record is inside the window.
    let late = attempt().written_by(t0() + s(3));
    assert_eq!(late.deadline(), t0() + s(7));
    let mut case = Case::new(vec![like("ours", 6)]).compared(&[("ours", Same)]);
    case.attempt = late.clone();
    assert_eq!(case.answer(), sent("ours"));
    case.compared = vec![("ours", Unknown)];
    assert_eq!(case.answer(), ambiguous(&["ours"]));
}

#[test]
fn scenario_3_a_proxy_date_90_s_ahead_never_gives_not_sent() {
    // A fresh client: every reading is the proxy's, steadily 90 s ahead of the clock Hero stamps
    // by (ours). The send went, stamped at 1 s on our clock.
    let proxy = Clocks {
        attempt: None,
        ..looking(offset(89_600, 90_600))
    };
    let mut case = Case::new(vec![like("ours", 1)]).compared(&[("ours", Same)]);
    case.clocks = proxy;
    case.attempt = attempt().with_clock(None);
    assert_eq!(case.answer(), sent("ours"), "identified by its text");
    case.compared = vec![("ours", Unknown)];
    assert_eq!(case.answer(), ambiguous(&["ours"]));
    case.options = FindOptions::default().sole_candidate_is_sent(true);
    assert_eq!(
        case.answer(),
        ambiguous(&["ours"]),
        "not even with the opt-in"
    );
    // Not listed (yet): not "not sent".
    case.listed.clear();
    assert_eq!(case.answer(), ambiguous(&[]));
}

#[test]
fn the_evidence_shown_has_times_statuses_and_no_patient_data() {
    let case =
        Case::new(vec![like("1", 2), like("2", -30)]).compared(&[("1", Unknown), ("2", Different)]);
    let Step::Found(f) = case.step() else {
        panic!()
    };
    assert_eq!(f.answer, ambiguous(&["1", "2"]));
    let c = &f.candidates[0];
    assert_eq!(
        (c.after_start_s, c.in_window, c.like_attempt, c.text),
        (Some(2), true, true, Unknown)
    );
    assert_eq!(f.candidates[1].after_start_s, Some(-30));
    assert!(!f.candidates[1].in_window);
    let shown = format!("{f:?} {}", serde_json::to_string(&f.candidates).unwrap());
    for secret in ["7700", "Your results", "\"A\""] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

fn copy(content: Option<&str>, snomed: Option<&str>) -> types::Message {
    serde_json::from_value(serde_json::json!({
        "id": "1",
        "content": content,
        "write_to_record": {"snomed_code": snomed},
    }))
    .unwrap()
}

#[test]
fn hero_s_copy_is_checked_by_text_and_snomed_code() {
    let a = attempt();
    assert_eq!(check(&a, &copy(Some("Your results are ready"), None)), Same);
    assert_eq!(
        check(&a, &copy(Some("Your results are ready "), None)),
        Different
    );
    assert_eq!(check(&a, &copy(None, None)), Unknown);
    let body = types::SendMessageRequest::builder()
        .patient_id("7")
        .message_type(MessageType::Sms)
        .message_string("Hi")
        .snomed_code("1240751000000100")
        .try_into()
        .unwrap();
    let coded = SendAttempt::new(&body, t0(), t0());
    assert_eq!(
        check(&coded, &copy(Some("Hi"), Some("1240751000000100"))),
        Same
    );
    assert_eq!(
        check(&coded, &copy(Some("Hi"), Some("404000008"))),
        Different
    );
    assert_eq!(check(&coded, &copy(None, Some("404000008"))), Different);
    assert_eq!(
        check(&coded, &copy(None, Some("1240751000000100"))),
        Unknown
    );
}

#[test]
fn same_fields_compares_every_listed_field() {
    let a = attempt();
    assert!(same_fields(&a, &like("1", 0)));
    assert!(same_fields(&a, &msg(Some("1"), 0, "07700 900123")));
    assert!(!same_fields(&a, &msg(Some("1"), 0, "+447700900999")));
    let mut other_patient = like("1", 0);
    other_patient.patient.id = "8".to_owned();
    assert!(!same_fields(&a, &other_patient));
    let mut email = like("1", 0);
    email.message_type = MessageType::Email;
    assert!(!same_fields(&a, &email));
    let mut scheduled = like("1", 0);
    scheduled.scheduled_at = Some(t0());
    assert!(same_fields(&a, &scheduled), "the attempt had no schedule");
}

#[test]
fn durations_and_moments_from_outside_never_overflow() {
    // A guard band of "forever": everything listed is around the window, nothing panics.
    let mut case = Case::new(vec![like("1", -86_400 * 365)]).compared(&[("1", Different)]);
    case.options = FindOptions::default().guard_band(std::time::Duration::MAX);
    assert_eq!(case.answer(), ambiguous(&["1"]));
    case.listed.clear();
    assert_eq!(case.answer(), FoundSend::NotSent);
    // An attempt whose deadline is the end of time (Hero's processing time of "forever").
    let mut case = Case::new(vec![like("1", 2)]).compared(&[("1", Same)]);
    case.attempt = SendAttempt::new(&the_body(), t0(), DateTime::<Utc>::MAX_UTC);
    assert_eq!(case.answer(), sent("1"));
}
