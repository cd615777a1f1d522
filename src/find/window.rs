//! Where a listed message falls against an attempt ([`Window`], [`Place`]), and whether every
//! clock reading agrees ([`Clocks::agreement`]): the two facts of time [`super::rules`] decides
//! on. Pure: no I/O, no clock of their own.

use chrono::{DateTime, Duration, DurationRound, Timelike, Utc};

use crate::{
    api::types,
    attempt::SendAttempt,
    clock::{ClockOffset, Reading, add},
};

/// Where a listed message's `created_at` falls, against an attempt's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Certainly between the attempt's start and its deadline.
    Inside,
    /// Possibly inside: the second of precision or the clock margin at an end.
    Edge,
    /// Not inside, but within the guard band around the window.
    Near,
    /// Further away.
    Away,
}

impl Place {
    /// Inside or at the edge: the message may have been created during the attempt.
    pub(crate) fn in_window(self) -> bool {
        matches!(self, Place::Inside | Place::Edge)
    }
}

/// An attempt's window on Hero's clock: from its start to its deadline (by this machine's clock),
/// moved by an offset of Hero's clock, with a guard band around it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) started: DateTime<Utc>,
    pub(crate) deadline: DateTime<Utc>,
    pub(crate) offset: ClockOffset,
    pub(crate) guard: Duration,
}

/// How well Hero's clock must be read for a message in the second the attempt started in to
/// count as inside it (see [`Window::place`]).
pub(crate) const CALIBRATED: Duration = Duration::milliseconds(100);

impl Window {
    /// The window `attempt` spans on every reading of Hero's clock at once: this machine's own
    /// (offset zero: Hero may stamp by a clock that agrees with ours), the attempt's, and the
    /// looks'. A send the attempt made is inside it whichever reading was right.
    pub(crate) fn spanning(attempt: &SendAttempt, clocks: &Clocks, guard: Duration) -> Window {
        let zero = ClockOffset::assumed(std::time::Duration::ZERO);
        let offset = [attempt.clock(), clocks.looking.span]
            .into_iter()
            .flatten()
            .fold(zero, ClockOffset::union);
        Window {
            started: attempt.started(),
            deadline: attempt.deadline(),
            offset,
            guard,
        }
    }

    /// Where a message created at `created` (Hero's clock) falls. Hero writes whole seconds,
    /// cut down (the moment was in the second the timestamp names); a timestamp with a fraction
    /// is taken as exact. At whole-second precision a message is inside when its second is not
    /// before the second the attempt started in, nor after the one its deadline fell in, both as
    /// read on Hero's clock; when the clock's reading leaves the start's (or deadline's) second
    /// open, a message in either possible second is at the edge. A message with no `created_at`
    /// cannot be placed, so it is at the edge.
    pub(crate) fn place(&self, created: Option<DateTime<Utc>>) -> Place {
        let Some(c) = created else {
            return Place::Edge;
        };
        let whole = c.nanosecond() == 0;
        let precision = if whole {
            Duration::seconds(1)
        } else {
            Duration::zero()
        };
        let floor = |t: DateTime<Utc>| {
            if whole {
                t.duration_trunc(Duration::seconds(1)).unwrap_or(t)
            } else {
                t
            }
        };
        let start_lo = add(self.started, self.offset.lo());
        let start_hi = add(self.started, self.offset.hi());
        let end_lo = add(self.deadline, self.offset.lo());
        let end_hi = add(self.deadline, self.offset.hi());
        // Read to within CALIBRATED, the start's second is taken as the earliest it can be (a
        // message in it is inside); read more loosely, only a second after every possible start
        // is.
        let (first, last) = if self.offset.hi() - self.offset.lo() <= CALIBRATED {
            (start_lo, end_hi)
        } else {
            (start_hi, end_lo)
        };
        // [c, c + precision) against [from, to].
        let overlaps = |from: DateTime<Utc>, to: DateTime<Utc>| {
            (add(c, precision) > from || c >= from) && c <= to
        };
        if c >= floor(first) && c <= floor(last) {
            Place::Inside
        } else if overlaps(start_lo, end_hi) {
            Place::Edge
        } else if overlaps(add(start_lo, -self.guard), add(end_hi, self.guard)) {
            Place::Near
        } else {
            Place::Away
        }
    }

    /// The earliest moment on Hero's clock a send of the attempt could be stamped, less the guard
    /// band: what a person is shown from when the clocks disagree.
    pub(crate) fn earliest(&self) -> DateTime<Utc> {
        add(add(self.started, self.offset.lo()), -self.guard)
    }
}

/// Every reading of the clocks a look has: the one recorded with the attempt, the looks' own
/// (the `Date` of every answer while looking), and this machine's clock when the listing was
/// read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clocks {
    /// Hero's clock as read around the attempt (its `Date`s), if it was.
    pub(crate) attempt: Option<ClockOffset>,
    /// What the looks have read of Hero's clock.
    pub(crate) looking: Reading,
    /// This machine's clock as the listing was read.
    pub(crate) now: DateTime<Utc>,
}

/// Why the clocks do not agree: each is a reason no window on them proves "not sent".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disagreement {
    /// An answer while looking had no `Date`, or one that does not parse, or one more than a day
    /// from ours.
    Unreadable,
    /// No `Date` was read at all.
    NoReading,
    /// Two readings while looking disagree: Hero's clock jumped or went backwards against ours.
    Moved,
    /// The attempt's reading and the looks' disagree: it moved between them.
    MovedSinceAttempt,
    /// Hero's `Date` is further from this machine's clock than the guard band.
    FarFromOurs,
    /// A listed message was stamped after Hero's own now: the `Date` is not the clock Hero stamps
    /// by.
    StampedAhead,
}

/// How far a listed `created_at` may be after Hero's now as read (its second, and one more for a
/// clock that rounds) before it shows the clock was read wrong.
const STAMP_SLACK: Duration = Duration::seconds(2);

impl Clocks {
    /// The one reading of Hero's clock every clock agrees on, within `guard` of this machine's,
    /// or why there is none. `listed` is what the look read (any message's `created_at` is a
    /// reading too: Hero cannot have stamped one after its own now).
    pub(crate) fn agreement(
        &self,
        listed: &[types::SentMessage],
        guard: Duration,
    ) -> Result<ClockOffset, Disagreement> {
        if self.looking.unreadable > 0 {
            return Err(Disagreement::Unreadable);
        }
        if self.looking.moves > 0 {
            return Err(Disagreement::Moved);
        }
        // With no move, the looks' refined reading is what every one of them allows.
        let reading = match (self.attempt, self.looking.offset) {
            (None, None) => return Err(Disagreement::NoReading),
            (Some(a), Some(l)) => a.intersect(l).ok_or(Disagreement::MovedSinceAttempt)?,
            (a, l) => a.or(l).ok_or(Disagreement::NoReading)?,
        };
        if reading.lo() < -guard || reading.hi() > guard {
            return Err(Disagreement::FarFromOurs);
        }
        let hero_now = add(add(self.now, reading.hi()), STAMP_SLACK);
        if listed
            .iter()
            .any(|m| m.created_at.is_some_and(|c| c > hero_now))
        {
            return Err(Disagreement::StampedAhead);
        }
        Ok(reading)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offset(lo_ms: i64, hi_ms: i64) -> ClockOffset {
        serde_json::from_value(serde_json::json!({"lo_ms": lo_ms, "hi_ms": hi_ms})).unwrap()
    }

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-05T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn window(lo_ms: i64, hi_ms: i64) -> (Window, DateTime<Utc>) {
        let t = at();
        (
            Window {
                started: t,
                deadline: t + Duration::seconds(10),
                offset: offset(lo_ms, hi_ms),
                guard: Duration::seconds(60),
            },
            t,
        )
    }

    #[test]
    fn a_message_is_placed_on_heros_clock_with_its_second_of_precision() {
        let s = Duration::seconds;
        let ms = Duration::milliseconds;
        // Hero 5.2 s ahead, read to within 0.1 s: the attempt ran 10:00:05.2..10:00:15.3 there.
        let (w, t) = window(5_200, 5_300);
        // Its start's second (05), though the message may be a fraction before the start: at
        // Hero's precision it is inside.
        assert_eq!(w.place(Some(t + s(5))), Place::Inside);
        assert_eq!(w.place(Some(t + s(9))), Place::Inside);
        assert_eq!(w.place(Some(t + s(15))), Place::Inside);
        // A second before the start's, or after the deadline's: outside.
        assert_eq!(w.place(Some(t + s(4))), Place::Near);
        assert_eq!(w.place(Some(t + s(16))), Place::Near);
        // An exact timestamp is placed exactly.
        assert_eq!(w.place(Some(t + s(5) + ms(100))), Place::Near);
        assert_eq!(w.place(Some(t + s(5) + ms(250))), Place::Inside);
        assert_eq!(w.place(Some(t + s(5) + ms(400))), Place::Inside);
        assert_eq!(w.place(Some(t + s(15) + ms(250))), Place::Inside);
        assert_eq!(w.place(Some(t + s(15) + ms(350))), Place::Near);
        // Far away.
        assert_eq!(w.place(Some(t - s(70))), Place::Away);
        assert_eq!(w.place(Some(t + s(90))), Place::Away);
        // By our own clock 10:00:03 would be inside; on Hero's it is before the attempt began.
        assert_eq!(w.place(Some(t + s(3))), Place::Near);
        // No created_at: cannot be placed.
        assert_eq!(w.place(None), Place::Edge);
        assert!(Place::Inside.in_window() && Place::Edge.in_window());
        assert!(!Place::Near.in_window() && !Place::Away.in_window());
    }

    #[test]
    fn a_reading_that_leaves_the_starts_second_open_puts_both_seconds_at_the_edge() {
        let s = Duration::seconds;
        // Hero 4.6 to 5.6 s ahead (read loosely): the attempt started at 10:00:04.6..10:00:05.6
        // there, in second 04 or 05. A message in second 04 may predate it; one in 05 is in its
        // second.
        let (w, t) = window(4_600, 5_600);
        assert_eq!(w.place(Some(t + s(4))), Place::Edge);
        assert_eq!(w.place(Some(t + s(5))), Place::Inside);
        assert_eq!(w.place(Some(t + s(6))), Place::Inside);
        assert_eq!(w.place(Some(t + s(14))), Place::Inside);
        assert_eq!(w.place(Some(t + s(15))), Place::Edge);
    }

    #[test]
    fn an_unmeasured_clock_leaves_no_certain_middle_in_a_short_attempt() {
        let s = Duration::seconds;
        // ±30 s, a 10 s attempt: nothing is certainly inside.
        let (w, t) = window(-30_000, 30_000);
        for at in [0, 5, 10] {
            assert_eq!(w.place(Some(t + s(at))), Place::Edge, "{at}");
        }
        assert_eq!(w.earliest(), t - s(90));
    }

    fn attempt() -> SendAttempt {
        let body = types::SendMessageRequest::builder()
            .patient_id("7")
            .message_type(crate::MessageType::Sms)
            .message_string("Hi")
            .try_into()
            .unwrap();
        SendAttempt::new(&body, at(), at() + Duration::seconds(10))
    }

    fn reading(span: Option<ClockOffset>, moves: u64, unreadable: u64) -> Reading {
        Reading {
            offset: span,
            span,
            moves,
            unreadable,
        }
    }

    #[test]
    fn the_spanning_window_takes_in_every_reading_and_ours() {
        let a = attempt().with_clock(Some(offset(90_000, 91_000)));
        let clocks = Clocks {
            attempt: a.clock(),
            looking: reading(Some(offset(-2_000, -1_000)), 0, 0),
            now: at(),
        };
        let w = Window::spanning(&a, &clocks, Duration::seconds(60));
        assert_eq!(
            (w.offset.lo(), w.offset.hi()),
            (Duration::seconds(-2), Duration::seconds(91))
        );
        // No reading at all: ours alone.
        let bare = Clocks {
            attempt: None,
            looking: Reading::default(),
            now: at(),
        };
        let w = Window::spanning(&attempt(), &bare, Duration::seconds(60));
        assert_eq!(
            (w.offset.lo(), w.offset.hi()),
            (Duration::zero(), Duration::zero())
        );
    }

    fn listed(created: DateTime<Utc>) -> types::SentMessage {
        serde_json::from_value(serde_json::json!({
            "id": "1", "patient": {"id": "7", "title": null, "first_name": "A", "last_name": "B"},
            "write_to_record": {"write_to_record_at": null, "status": null, "failure_reason": null},
            "short_link": null, "campaign": null,
            "created_at": created.to_rfc3339(), "sent_at": null, "scheduled_at": null,
            "status": "pending", "sent_by": "API", "recipient_contact_detail": "+447700900123",
            "message_type": "sms"
        }))
        .unwrap()
    }

    #[test]
    fn the_clocks_agree_only_when_every_reading_does_and_is_near_ours() {
        let g = Duration::seconds(60);
        let now = at();
        let clocks = |attempt, looking| Clocks {
            attempt,
            looking,
            now,
        };
        let one = offset(400, 1_400);
        // Agreeing readings: their intersection.
        let c = clocks(Some(offset(0, 1_000)), reading(Some(one), 0, 0));
        assert_eq!(c.agreement(&[], g), Ok(offset(400, 1_000)));
        // Either alone is enough.
        assert_eq!(
            clocks(Some(one), Reading::default()).agreement(&[], g),
            Ok(one)
        );
        assert_eq!(
            clocks(None, reading(Some(one), 0, 0)).agreement(&[], g),
            Ok(one)
        );
        // None at all (Hero sent no Date).
        assert_eq!(
            clocks(None, Reading::default()).agreement(&[], g),
            Err(Disagreement::NoReading)
        );
        // A Date that could not be read, however good the others.
        assert_eq!(
            clocks(Some(one), reading(Some(one), 0, 1)).agreement(&[], g),
            Err(Disagreement::Unreadable)
        );
        // Readings while looking that disagree (a jump, a step back).
        assert_eq!(
            clocks(Some(one), reading(Some(one), 1, 0)).agreement(&[], g),
            Err(Disagreement::Moved)
        );
        // The attempt's and the looks' disagree.
        assert_eq!(
            clocks(Some(offset(5_000, 6_000)), reading(Some(one), 0, 0)).agreement(&[], g),
            Err(Disagreement::MovedSinceAttempt)
        );
        // Steady, but beyond the guard band from ours, ahead or behind; within it, agreed.
        for (lo, hi, ok) in [
            (90_000, 91_000, false),
            (-91_000, -90_000, false),
            (59_000, 60_000, true),
            (-60_000, -59_000, true),
            (60_000, 60_001, false),
            (-60_001, -60_000, false),
        ] {
            let c = clocks(None, reading(Some(offset(lo, hi)), 0, 0));
            assert_eq!(c.agreement(&[], g).is_ok(), ok, "{lo}..{hi}");
            if !ok {
                assert_eq!(c.agreement(&[], g), Err(Disagreement::FarFromOurs));
            }
        }
        // A message stamped after Hero's now as read.
        let c = clocks(None, reading(Some(one), 0, 0));
        let s = Duration::seconds;
        assert!(c.agreement(&[listed(now + s(3))], g).is_ok());
        assert_eq!(
            c.agreement(&[listed(now + s(4))], g),
            Err(Disagreement::StampedAhead)
        );
    }
}
