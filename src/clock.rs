//! Clocks: this machine's as the client reads it ([`now`]), and Hero's, as read from the `Date`
//! header of its answers ([`ClockOffset`]).
//!
//! Hero stamps a message's `created_at` by its own clock, in whole seconds. To tell whether a
//! listed message was created during an attempt (timed by this machine's clock), the client needs
//! the difference between the two clocks. Each answer's `Date` header was written by Hero at some
//! moment between the request being sent and the answer being read, within its whole second; so one
//! answer bounds the offset to an interval about one second plus one round trip wide. The client
//! keeps the latest such interval, tightened by the one before while the two agree, and counts the
//! answers whose `Date` could not be read (missing, malformed, a day off) and the readings that
//! disagreed with the one before (a clock that jumped or went backwards).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// This machine's clock as the client reads it: [`Utc::now`], moved by however far tokio's clock
/// has been moved ahead of the real one. In a program that is `Utc::now()` (tokio's clock is the
/// real one); under tokio's paused test clock (`tokio::time::pause`, `start_paused`) it stands
/// still and moves only as the runtime's clock is advanced, so an attempt, its deadline and the
/// looks of [`crate::HeroClient::find_attempt`] that follow it run in no real time, and
/// herohealth-mock, whose clock is this one, agrees with it.
///
/// ```
/// let before = chrono::Utc::now();
/// let now = herohealth::now();
/// assert!((now - before).num_seconds().abs() < 5);
/// ```
pub fn now() -> DateTime<Utc> {
    let real = std::time::Instant::now();
    let runtime = tokio::time::Instant::now().into_std();
    let utc = Utc::now();
    let moved = if runtime >= real {
        Duration::from_std(runtime - real).unwrap_or(Duration::zero())
    } else {
        -Duration::from_std(real - runtime).unwrap_or(Duration::zero())
    };
    utc + moved
}

/// `t + d`, saturating at the ends of chrono's range: a duration from outside (a setting, a stored
/// attempt) never overflows a moment into a panic.
pub(crate) fn add(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(if d < Duration::zero() {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// A duration of the standard library's as chrono's, saturating (past 292 million years).
pub(crate) fn duration(d: std::time::Duration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::MAX)
}

/// A `Date` header further than this from this machine's clock is not believed: a proxy's broken
/// clock or a hostile value would otherwise move every window by years.
const PLAUSIBLE: Duration = Duration::hours(24);

/// How far Hero's clock is ahead of this machine's (negative: behind), as an interval
/// `[lo, hi]` that holds the true offset, read from the `Date` header of one or more of Hero's
/// answers.
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use herohealth::ClockOffset;
///
/// // Sent at 10:00:00.200 by our clock, answered at 10:00:00.400; Hero's Date said 10:00:05.
/// let sent = Utc.with_ymd_and_hms(2026, 1, 5, 10, 0, 0).unwrap() + Duration::milliseconds(200);
/// let read = sent + Duration::milliseconds(200);
/// let date = Utc.with_ymd_and_hms(2026, 1, 5, 10, 0, 5).unwrap();
/// let offset = ClockOffset::from_date(date, sent, read).unwrap();
/// // Hero is between 4.6 s and 5.8 s ahead.
/// assert_eq!((offset.lo(), offset.hi()), (Duration::milliseconds(4_600), Duration::milliseconds(5_800)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockOffset {
    lo_ms: i64,
    hi_ms: i64,
}

impl ClockOffset {
    /// The offset one answer shows: its `Date` header `date` (whole seconds, written by Hero
    /// between `sent` and `read` by this machine's clock). `None` when the interval is empty (a
    /// clock went backwards) or the date is more than a day from this machine's clock.
    pub fn from_date(
        date: DateTime<Utc>,
        sent: DateTime<Utc>,
        read: DateTime<Utc>,
    ) -> Option<ClockOffset> {
        let lo = date.signed_duration_since(read);
        let hi = (date + Duration::seconds(1)).signed_duration_since(sent);
        let offset = ClockOffset {
            lo_ms: lo.num_milliseconds(),
            hi_ms: hi.num_milliseconds(),
        };
        (offset.lo_ms <= offset.hi_ms && offset.lo() > -PLAUSIBLE && offset.hi() < PLAUSIBLE)
            .then_some(offset)
    }

    /// An offset known only to lie within `skew` either side of zero (no answer read yet).
    pub fn assumed(skew: std::time::Duration) -> ClockOffset {
        let ms = i64::try_from(skew.as_millis()).unwrap_or(i64::MAX / 4);
        ClockOffset {
            lo_ms: -ms,
            hi_ms: ms,
        }
    }

    /// The least Hero's clock may be ahead of ours.
    pub fn lo(&self) -> Duration {
        Duration::milliseconds(self.lo_ms)
    }

    /// The most Hero's clock may be ahead of ours.
    pub fn hi(&self) -> Duration {
        Duration::milliseconds(self.hi_ms)
    }

    /// What both readings allow, or `None` when they disagree (a clock was set between them).
    pub fn intersect(self, other: ClockOffset) -> Option<ClockOffset> {
        let lo_ms = self.lo_ms.max(other.lo_ms);
        let hi_ms = self.hi_ms.min(other.hi_ms);
        (lo_ms <= hi_ms).then_some(ClockOffset { lo_ms, hi_ms })
    }

    /// Everything either reading allows: for two readings that disagree when it is not known
    /// which was right (Hero's clock moved between them, or a proxy's `Date` stood in for it).
    pub(crate) fn union(self, other: ClockOffset) -> ClockOffset {
        ClockOffset {
            lo_ms: self.lo_ms.min(other.lo_ms),
            hi_ms: self.hi_ms.max(other.hi_ms),
        }
    }

    /// The tighter of two readings: their intersection while they agree; the newer one when they
    /// do not (a clock was set since).
    pub fn refine(self, newer: ClockOffset) -> ClockOffset {
        self.intersect(newer).unwrap_or(newer)
    }
}

/// The client's reading of Hero's clock, shared by its clones.
#[derive(Clone, Debug, Default)]
pub(crate) struct HeroClock(Arc<Mutex<Reading>>);

/// What a clock has read of Hero's: what `find_send` weighs (`crate::find`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Reading {
    /// The latest interval, tightened by the ones before while they agree.
    pub(crate) offset: Option<ClockOffset>,
    /// Every interval read, as one span (what Hero's clock has said, whether or not it moved).
    pub(crate) span: Option<ClockOffset>,
    /// How many readings disagreed with the one before: Hero's clock moved against ours (a step
    /// forwards or backwards, a clock that runs fast or slow, another clock answering on the path).
    pub(crate) moves: u64,
    /// How many answers had a `Date` that could not be read: none, one that does not parse, or
    /// one more than a day from ours.
    pub(crate) unreadable: u64,
}

impl HeroClock {
    /// Takes in one answer's `Date` header, read between `sent` and `read` by this machine's
    /// clock.
    pub(crate) fn observe(
        &self,
        headers: &reqwest::header::HeaderMap,
        sent: DateTime<Utc>,
        read: DateTime<Utc>,
    ) {
        let date = headers
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok());
        let newer = date.and_then(|d| ClockOffset::from_date(DateTime::<Utc>::from(d), sent, read));
        let mut reading = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match newer {
            Some(newer) => reading.record(newer),
            // Hero's clock (or the one answering for it) could not be read: a window on it proves
            // nothing.
            None => reading.unreadable += 1,
        }
    }

    /// The offset read so far, if any answer carried a usable `Date`.
    pub(crate) fn offset(&self) -> Option<ClockOffset> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).offset
    }

    /// What has been read so far, as one consistent copy.
    pub(crate) fn reading(&self) -> Reading {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Reading {
    pub(crate) fn record(&mut self, newer: ClockOffset) {
        if self
            .offset
            .is_some_and(|old| old.intersect(newer).is_none())
        {
            self.moves += 1;
        }
        self.offset = Some(self.offset.map_or(newer, |old| old.refine(newer)));
        self.span = Some(self.span.map_or(newer, |span| span.union(newer)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: u32, ms: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 5, 10, 0, s).unwrap() + Duration::milliseconds(ms)
    }

    #[test]
    fn moments_and_durations_from_outside_saturate() {
        let huge = duration(std::time::Duration::MAX);
        assert_eq!(huge, Duration::MAX);
        assert_eq!(
            duration(std::time::Duration::from_secs(3)),
            Duration::seconds(3)
        );
        assert_eq!(add(at(0, 0), huge), DateTime::<Utc>::MAX_UTC);
        assert_eq!(add(at(0, 0), -huge), DateTime::<Utc>::MIN_UTC);
        assert_eq!(add(at(0, 0), Duration::seconds(2)), at(2, 0));
        assert_eq!(add(at(2, 0), Duration::seconds(-2)), at(0, 0));
    }

    #[test]
    fn one_answer_bounds_the_offset_by_its_second_and_round_trip() {
        let o = ClockOffset::from_date(at(10, 0), at(0, 0), at(0, 500)).unwrap();
        assert_eq!((o.lo_ms, o.hi_ms), (9_500, 11_000));
        // Hero behind us.
        let o = ClockOffset::from_date(at(0, 0), at(3, 0), at(3, 100)).unwrap();
        assert_eq!((o.lo_ms, o.hi_ms), (-3_100, -2_000));
    }

    #[test]
    fn an_implausible_or_backwards_date_is_not_believed() {
        let far = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(ClockOffset::from_date(far, at(0, 0), at(0, 1)), None);
        let past = Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(ClockOffset::from_date(past, at(0, 0), at(0, 1)), None);
        // Read before it was sent: no interval.
        assert_eq!(ClockOffset::from_date(at(0, 0), at(5, 0), at(1, 0)), None);
    }

    #[test]
    fn readings_that_agree_intersect_and_a_jump_replaces() {
        let a = ClockOffset {
            lo_ms: 0,
            hi_ms: 1_000,
        };
        let b = ClockOffset {
            lo_ms: 400,
            hi_ms: 1_500,
        };
        assert_eq!(
            a.refine(b),
            ClockOffset {
                lo_ms: 400,
                hi_ms: 1_000
            }
        );
        let jump = ClockOffset {
            lo_ms: 60_000,
            hi_ms: 61_000,
        };
        assert_eq!(a.refine(jump), jump);
    }

    #[test]
    fn the_shared_clock_reads_the_date_header() {
        let clock = HeroClock::default();
        assert_eq!(clock.offset(), None);
        // No Date, a malformed one, one a day off: three answers whose clock could not be read.
        let mut h = reqwest::header::HeaderMap::new();
        clock.observe(&h, at(0, 0), at(0, 100));
        h.insert(reqwest::header::DATE, "garbage".parse().unwrap());
        clock.observe(&h, at(0, 0), at(0, 100));
        h.insert(
            reqwest::header::DATE,
            "Wed, 07 Jan 2026 10:00:00 GMT".parse().unwrap(),
        );
        clock.observe(&h, at(0, 0), at(0, 100));
        assert_eq!(clock.offset(), None);
        assert_eq!(clock.reading().unreadable, 3);
        assert_eq!(clock.reading().span, None);
        h.insert(
            reqwest::header::DATE,
            "Mon, 05 Jan 2026 10:00:02 GMT".parse().unwrap(),
        );
        clock.observe(&h, at(0, 0), at(0, 100));
        assert_eq!(
            clock.offset(),
            Some(ClockOffset {
                lo_ms: 1_900,
                hi_ms: 3_000
            })
        );
        assert_eq!(clock.clone().offset(), clock.offset());
    }

    #[test]
    fn a_reading_that_disagrees_is_counted_as_a_move_and_every_reading_spans() {
        let at = |lo_ms, hi_ms| ClockOffset { lo_ms, hi_ms };
        let mut r = Reading::default();
        r.record(at(0, 1_000));
        r.record(at(400, 1_500));
        assert_eq!(
            (r.offset, r.moves),
            (Some(at(400, 1_000)), 0),
            "agreeing readings"
        );
        r.record(at(1_000, 2_000));
        assert_eq!(r.moves, 0, "touching at an end still agrees");
        r.record(at(60_000, 61_000));
        assert_eq!((r.offset, r.moves), (Some(at(60_000, 61_000)), 1), "a jump");
        r.record(at(-5_000, -4_000));
        assert_eq!(r.moves, 2);
        assert_eq!(r.span, Some(at(-5_000, 61_000)));
    }
}
