//! The rules of [`crate::HeroClient::find_attempt`] as one pure function over what a look read:
//! [`decide`]. No I/O and no clock of its own: the loop in `super` sleeps, lists, reads Hero's
//! copies of candidates when asked ([`Step::Compare`]) and passes in every clock reading.
//!
//! | rule | answer |
//! | --- | --- |
//! | a candidate (agrees with every listed field, created in the window spanning every clock reading) whose text Hero gives back as the attempt's, every other candidate around the window shown to be another's | `Sent` at the last look |
//! | with `sole_candidate_is_sent`: the only message to the patient on the channel around the window, a candidate certainly inside the window on a clock every reading agrees on, its text not shown to differ | `Sent` at the last look |
//! | nothing to the patient on the channel around the window, every clock reading agreeing within the guard band, the attempt not accepted by Hero | `NotSent` at the last look |
//! | two candidates with the attempt's text, or one whose text cannot be compared (without the opt-in), or a message without an id around the window | `Ambiguous` at once |
//! | anything else | `Ambiguous` at the last look, with what was weighed, and when the clocks disagree every message like the attempt since the earliest start any reading gives (every one, when a `Date` could not be read) |

use std::collections::HashMap;

use crate::{
    api::types,
    attempt::SendAttempt,
    find::{
        options::{Candidate, FindOptions, Finding, FoundSend, TextCheck},
        window::{Clocks, Disagreement, Place, Window},
    },
};

/// What one look read, and what it is weighed with.
pub(crate) struct Look<'a> {
    pub(crate) attempt: &'a SendAttempt,
    /// Every message Hero lists for the patient on the attempt's channel.
    pub(crate) listed: &'a [types::SentMessage],
    /// Whether an id is a known send of the caller's (never a candidate).
    pub(crate) known: &'a dyn Fn(&str) -> bool,
    /// Hero's copies of candidates read so far, checked against the attempt ([`check`]).
    pub(crate) compared: &'a HashMap<String, TextCheck>,
    pub(crate) clocks: Clocks,
    /// Whether this is the last look (after the latest moment Hero could create the message,
    /// plus the time it takes to list it).
    pub(crate) last: bool,
    pub(crate) options: &'a FindOptions,
}

/// What the loop does next.
#[derive(Debug, PartialEq)]
pub(crate) enum Step {
    /// Read Hero's copy of each of these candidates (`getMessage`), [`check`] it, and decide
    /// again on the same listing.
    Compare(Vec<String>),
    /// Look again at the next look's time (never at the last look).
    LookAgain,
    /// The answer.
    Found(Finding),
}

/// One listed message around the window, as weighed.
struct Weighed<'a> {
    id: &'a str,
    message: &'a types::SentMessage,
    place: Place,
    like: bool,
}

/// The next step for what one look read (the module's table).
pub(crate) fn decide(look: &Look<'_>) -> Step {
    let attempt = look.attempt;
    let guard = crate::clock::duration(look.options.guard_band);
    let window = Window::spanning(attempt, &look.clocks, guard);
    let agreed = look.clocks.agreement(look.listed, guard);

    let mut weighed = Vec::new();
    let mut unnamed = false;
    for m in look.listed {
        let place = window.place(m.created_at);
        if place == Place::Away {
            continue;
        }
        match m.id.as_deref() {
            Some(id) if (look.known)(id) => {}
            Some(id) => weighed.push(Weighed {
                id,
                message: m,
                place,
                like: same_fields(attempt, m),
            }),
            None => unnamed = true,
        }
    }
    if attempt.can_compare() {
        let unread: Vec<String> = weighed
            .iter()
            .filter(|w| w.like && !look.compared.contains_key(w.id))
            .map(|w| w.id.to_owned())
            .collect();
        if !unread.is_empty() {
            return Step::Compare(unread);
        }
    }
    let text = |id: &str| look.compared.get(id).copied().unwrap_or(TextCheck::Unknown);
    let candidates: Vec<&Weighed<'_>> = weighed.iter().filter(|w| w.like).collect();
    let same: Vec<&Weighed<'_>> = candidates
        .iter()
        .copied()
        .filter(|c| c.place.in_window() && text(c.id) == TextCheck::Same)
        .collect();
    let uncomparable = candidates.iter().any(|c| text(c.id) == TextCheck::Unknown);

    let identified = match same.as_slice() {
        [one]
            if !unnamed
                && candidates
                    .iter()
                    .all(|c| c.id == one.id || text(c.id) == TextCheck::Different) =>
        {
            Some(one.id)
        }
        _ => None,
    };
    let sole = match (candidates.as_slice(), &agreed) {
        ([one], Ok(reading))
            if look.options.sole_candidate
                && weighed.len() == 1
                && !unnamed
                && text(one.id) != TextCheck::Different =>
        {
            let exact = Window {
                offset: *reading,
                ..window
            };
            (exact.place(one.message.created_at) == Place::Inside).then_some(one.id)
        }
        _ => None,
    };

    if !look.last {
        // Settled: no later listing can make it `Sent` or `NotSent`.
        let settled = same.len() > 1 || unnamed || (uncomparable && !look.options.sole_candidate);
        return if settled {
            Step::Found(ambiguous(look, &weighed, &window, agreed.err(), &text))
        } else {
            Step::LookAgain
        };
    }
    if let Some(id) = identified.or(sole) {
        let mut shown: Vec<&Weighed<'_>> = weighed.iter().filter(|w| w.id == id).collect();
        shown.extend(weighed.iter().filter(|w| w.id != id));
        return Step::Found(Finding {
            answer: FoundSend::Sent {
                message_id: id.to_owned(),
            },
            candidates: shown
                .into_iter()
                .map(|w| candidate(attempt, w.message, w.id, w.like, w.place, text(w.id)))
                .collect(),
        });
    }
    if weighed.is_empty() && !unnamed && agreed.is_ok() && !attempt.accepted() {
        return Step::Found(Finding {
            answer: FoundSend::NotSent,
            candidates: Vec::new(),
        });
    }
    Step::Found(ambiguous(look, &weighed, &window, agreed.err(), &text))
}

/// `Ambiguous` with what was weighed (Hero's text matches first, then the candidates in the window,
/// in the guard band, then the other messages), and, when the clocks disagree, every message like
/// the attempt listed since the earliest start any reading gives it (every one, when a `Date`
/// could not be read).
fn ambiguous(
    look: &Look<'_>,
    weighed: &[Weighed<'_>],
    window: &Window,
    disagreement: Option<Disagreement>,
    text: &dyn Fn(&str) -> TextCheck,
) -> Finding {
    let rank = |w: &Weighed<'_>| match (w.like, w.place.in_window(), text(w.id)) {
        (true, true, TextCheck::Same) => 0,
        (true, true, _) => 1,
        (true, false, _) => 2,
        (false, _, _) => 3,
    };
    let mut order: Vec<&Weighed<'_>> = weighed.iter().collect();
    order.sort_by_key(|w| rank(w));
    let mut candidates: Vec<Candidate> = order
        .into_iter()
        .map(|w| candidate(look.attempt, w.message, w.id, w.like, w.place, text(w.id)))
        .collect();
    if let Some(why) = disagreement {
        let since = (why != Disagreement::Unreadable).then(|| window.earliest());
        for m in look.listed {
            let Some(id) = m.id.as_deref() else { continue };
            let later = m
                .created_at
                .is_none_or(|c| since.is_none_or(|since| c >= since));
            if later
                && !(look.known)(id)
                && same_fields(look.attempt, m)
                && !candidates.iter().any(|c| c.message_id == id)
            {
                candidates.push(candidate(look.attempt, m, id, true, Place::Away, text(id)));
            }
        }
    }
    Finding {
        answer: FoundSend::Ambiguous {
            message_ids: candidates.iter().map(|c| c.message_id.clone()).collect(),
        },
        candidates,
    }
}

/// What a person is shown of a listed message.
fn candidate(
    attempt: &SendAttempt,
    m: &types::SentMessage,
    id: &str,
    like: bool,
    place: Place,
    text: TextCheck,
) -> Candidate {
    Candidate {
        message_id: id.to_owned(),
        created_at: m.created_at,
        after_start_s: m
            .created_at
            .map(|c| (c - attempt.started()).num_milliseconds().div_euclid(1000)),
        message_type: m.message_type.clone(),
        status: m.status.clone(),
        write_to_record: m.write_to_record.status.clone(),
        like_attempt: like,
        in_window: place.in_window(),
        text,
    }
}

/// Hero's copy of a candidate (`getMessage`) against the attempt: `Different` when its SNOMED
/// code is another than the attempt's, or its text is; `Same` when its text is the attempt's,
/// byte for byte; `Unknown` when Hero gave no text or the attempt kept no digest of its own.
pub(crate) fn check(attempt: &SendAttempt, message: &types::Message) -> TextCheck {
    let code = message
        .write_to_record
        .as_ref()
        .and_then(|w| w.snomed_code.as_deref());
    if let (Some(want), Some(have)) = (attempt.snomed_code(), code)
        && want != have
    {
        return TextCheck::Different;
    }
    match message
        .content
        .as_ref()
        .and_then(|c| attempt.same_text(c.expose()))
    {
        Some(true) => TextCheck::Same,
        Some(false) => TextCheck::Different,
        None => TextCheck::Unknown,
    }
}

/// Whether a listed message agrees with every field of the attempt Hero lists.
pub(crate) fn same_fields(attempt: &SendAttempt, m: &types::SentMessage) -> bool {
    differing_field(attempt, m).is_none()
}

/// The first field Hero lists in which a message differs from the attempt (`patient_id`,
/// `message_type`, `recipient_contact_detail`, `send_at`), if any.
pub(crate) fn differing_field(
    attempt: &SendAttempt,
    m: &types::SentMessage,
) -> Option<&'static str> {
    let same_schedule = match (attempt.send_at(), m.scheduled_at) {
        (Some(a), Some(b)) => (a - b).num_seconds().abs() <= 1,
        (Some(_), None) => false,
        (None, _) => true,
    };
    if attempt.patient_id() != Some(m.patient.id.as_str()) {
        Some("patient_id")
    } else if attempt.message_type().is_some_and(|t| *t != m.message_type) {
        Some("message_type")
    } else if !attempt.same_recipient(m.recipient_contact_detail.expose()) {
        Some("recipient_contact_detail")
    } else if !same_schedule {
        Some("send_at")
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
