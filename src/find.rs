//! Finding a send whose outcome is unknown: [`HeroClient::find_send`] and
//! [`HeroClient::find_attempt`], which answer [`FoundSend::Sent`], [`FoundSend::NotSent`] or
//! [`FoundSend::Ambiguous`].
//!
//! Hero has no idempotency key and its list of sent messages carries no content, so the only way
//! to know whether a send went is to look for a message that can be nothing else. The rules:
//!
//! - **The window is on Hero's clock.** Hero stamps `created_at` by its clock, in whole seconds.
//!   The attempt ran from [`SendAttempt::started`] to [`SendAttempt::deadline`] by ours (the
//!   deadline is the attempt's start plus its timeout, or the moment Hero answered); the offset
//!   between the clocks is read from the `Date` of Hero's answers ([`crate::ClockOffset`]: the one
//!   recorded with the attempt, or else the one the first look reads), and only when no answer
//!   carried a `Date` is it assumed to be within [`FindOptions::clock_skew`]. A `Date` more than a
//!   day from ours is not a reading: read while looking, it makes the answer `Ambiguous` (below).
//! - **`Sent` means "this candidate can be nothing else".** Exactly one listed message agrees with
//!   every field Hero returns (patient, message type, recipient in its canonical form, scheduled
//!   time, SNOMED code when given), was created certainly inside the window (not in the uncertain
//!   second or clock margin at either end, where it could predate the attempt), and is the only
//!   message to that patient on that channel in the [`FindOptions::guard_band`] around the window.
//!   Anything less is [`FoundSend::Ambiguous`]: a person decides. A message like the attempt
//!   in the guard band, even with none inside, is such a case: a `Date` read from a clock a
//!   little ahead of the one Hero stamps by (a proxy's) puts the send there.
//! - **Known sends are not candidates.** The ids this client received from its own successful
//!   sends (and found with `find_send`) are excluded without being passed; a program that keeps
//!   its sends elsewhere (a journal) passes them with [`FindOptions::exclude`], as
//!   herohealth-outbox does with every id its journal holds.
//! - **A clock read wrong is never trusted.** When the reading recorded with the attempt and the
//!   reading now disagree (Hero's clock moved against ours), the window spans both; a listed
//!   message stamped after Hero's own now (a proxy's `Date`, a clock that runs fast), or any
//!   reading taken while looking that disagrees with the one before (a clock that runs fast or
//!   slow, or stands still, as a test mock's may), makes the answer `Ambiguous` with the messages
//!   like the attempt listed since the earliest start any reading gives it.
//! - **"Not sent" only once the attempt cannot still be inside Hero.** Looks happen
//!   [`FindOptions::list_delay`] apart, the first one `list_delay` after the attempt's deadline,
//!   `looks` in all; `NotSent` is answered only after the last, that is no earlier than the
//!   deadline plus `looks × list_delay`. That is the bound: Hero carrying a send out after the
//!   attempt's deadline, or listing it later than `looks × list_delay` after that, can turn "sent"
//!   into "not sent".

use std::{collections::BTreeSet, time::Duration};

use chrono::{DateTime, Utc};
use futures::TryStreamExt;

use crate::{
    HeroClient, PageOptions, Paginate,
    api::types,
    attempt::SendAttempt,
    clock::ClockOffset,
    error::{Error, ErrorKind},
};

/// How [`HeroClient::find_send`] looks.
///
/// **Defaults** ([`FindOptions::default`]): 3 looks 10 s apart (so "not sent" comes no earlier
/// than 30 s after the attempt's deadline), a guard band of 60 s, 30 s of clock skew assumed only
/// when no answer of Hero's carried a `Date`, no ids excluded beyond the client's own sends.
///
/// ```
/// use std::time::Duration;
/// let defaults = herohealth::FindOptions::default();
/// assert_eq!(defaults.get_looks(), 3);
/// assert_eq!(defaults.get_list_delay(), Duration::from_secs(10));
/// assert_eq!(defaults.get_guard_band(), Duration::from_secs(60));
/// assert_eq!(defaults.get_clock_skew(), Duration::from_secs(30));
/// assert_eq!(defaults.get_exclude().count(), 0);
///
/// let opts = herohealth::FindOptions::default()
///     .list_delay(Duration::from_secs(5))
///     .looks(3)
///     .guard_band(Duration::from_secs(120));
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindOptions {
    clock_skew: Duration,
    list_delay: Duration,
    looks: u32,
    guard_band: Duration,
    exclude: BTreeSet<String>,
}

impl Default for FindOptions {
    /// 3 looks 10 s apart (the last 30 s after the attempt's deadline), a 60 s guard band, 30 s of
    /// clock skew assumed only when Hero's `Date` was never read, nothing excluded.
    fn default() -> Self {
        Self {
            clock_skew: Duration::from_secs(30),
            list_delay: Duration::from_secs(10),
            looks: 3,
            guard_band: Duration::from_secs(60),
            exclude: BTreeSet::new(),
        }
    }
}

impl FindOptions {
    /// How far Hero's clock may be from this machine's when no answer of Hero's carried a `Date`
    /// to measure it by (default 30 s).
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// How long Hero may take to list a new message: the wait before the first look (after the
    /// attempt's deadline) and between looks (default 10 s).
    pub fn list_delay(mut self, delay: Duration) -> Self {
        self.list_delay = delay;
        self
    }

    /// Looks in all before "not sent" (at least 1; default 3).
    pub fn looks(mut self, looks: u32) -> Self {
        self.looks = looks.max(1);
        self
    }

    /// How far around the attempt's window another message to the same patient on the same
    /// channel makes the answer ambiguous (default 60 s).
    pub fn guard_band(mut self, band: Duration) -> Self {
        self.guard_band = band;
        self
    }

    /// Message ids the caller already knows to be its own earlier sends (a journal's): never a
    /// candidate, and not counted in the guard band. Ids this client received itself are excluded
    /// without being passed.
    pub fn exclude(mut self, ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.exclude.extend(ids.into_iter().map(Into::into));
        self
    }

    /// The clock skew assumed without a `Date` (default 30 s).
    pub fn get_clock_skew(&self) -> Duration {
        self.clock_skew
    }

    /// The wait before the first look and between looks (default 10 s).
    pub fn get_list_delay(&self) -> Duration {
        self.list_delay
    }

    /// The looks in all (default 3).
    pub fn get_looks(&self) -> u32 {
        self.looks
    }

    /// The guard band around the attempt's window (default 60 s).
    pub fn get_guard_band(&self) -> Duration {
        self.guard_band
    }

    /// The ids passed to [`exclude`](Self::exclude), in order (default: none).
    pub fn get_exclude(&self) -> impl Iterator<Item = &str> {
        self.exclude.iter().map(String::as_str)
    }
}

/// The answer of [`HeroClient::find_send`].
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a send whose outcome was unknown must be resolved, not dropped"]
#[non_exhaustive]
pub enum FoundSend {
    /// Exactly one listed message can be this send and nothing else: it went, with this id. Do
    /// not send again.
    Sent {
        /// The message id.
        message_id: String,
    },
    /// No message that could be this send was listed by the last look, which came after the
    /// attempt could still be inside Hero: it did not reach Hero. Sending again is safe within the
    /// bound the module docs state.
    NotSent,
    /// It may have gone but no message can be told to be it: a candidate near the edge of the
    /// window, more than one candidate, or other messages to the patient on that channel around
    /// it. Never guessed: a person decides; do not send again.
    Ambiguous {
        /// The messages to look at: the candidates, then the others around the window.
        message_ids: Vec<String>,
    },
}

/// Where a listed message's `created_at` falls, against the attempt's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Certainly between the attempt's start and its deadline.
    Inside,
    /// Possibly inside: the second of precision or the clock margin at an end.
    Edge,
    /// Not inside, but within the guard band around the window.
    Near,
    /// Further away.
    Away,
}

/// The attempt's window on Hero's clock.
struct Window {
    started: DateTime<Utc>,
    deadline: DateTime<Utc>,
    offset: ClockOffset,
    guard: chrono::Duration,
}

impl Window {
    /// Where a message created at `created` (Hero's clock) falls. Hero writes whole seconds,
    /// cut down (the moment was in the second the timestamp names); a timestamp with a fraction
    /// is taken as exact. At whole-second precision a message is inside when its second is not
    /// before the second the attempt started in, nor after the one its deadline fell in, both as
    /// read on Hero's clock; when the clock's reading leaves the start's (or deadline's) second
    /// open, a message in either possible second is at the edge. A message with no `created_at`
    /// cannot be placed, so it is at the edge.
    fn place(&self, created: Option<DateTime<Utc>>) -> Place {
        use chrono::{DurationRound, Timelike};
        let Some(c) = created else {
            return Place::Edge;
        };
        let whole = c.nanosecond() == 0;
        let precision = if whole {
            chrono::Duration::seconds(1)
        } else {
            chrono::Duration::zero()
        };
        let floor = |t: DateTime<Utc>| {
            if whole {
                t.duration_trunc(chrono::Duration::seconds(1)).unwrap_or(t)
            } else {
                t
            }
        };
        let start_lo = self.started + self.offset.lo();
        let start_hi = self.started + self.offset.hi();
        let end_lo = self.deadline + self.offset.lo();
        let end_hi = self.deadline + self.offset.hi();
        // Read to within CALIBRATED, the start's second is taken as the earliest it can be (a
        // message in it is inside: see the module docs for what that accepts); read more loosely,
        // only a second after every possible start is.
        let (first, last) = if self.offset.hi() - self.offset.lo() <= CALIBRATED {
            (start_lo, end_hi)
        } else {
            (start_hi, end_lo)
        };
        // [c, c + precision) against [from, to].
        let overlaps =
            |from: DateTime<Utc>, to: DateTime<Utc>| (c + precision > from || c >= from) && c <= to;
        if c >= floor(first) && c <= floor(last) {
            Place::Inside
        } else if overlaps(start_lo, end_hi) {
            Place::Edge
        } else if overlaps(start_lo - self.guard, end_hi + self.guard) {
            Place::Near
        } else {
            Place::Away
        }
    }
}

impl HeroClient {
    /// Resolves a send whose outcome is unknown (or that Hero accepted without a readable
    /// answer): looks for it in the sent-messages list. See [`crate::FoundSend`] and the rules
    /// in the guide ([finding a send](crate::guide::finding_a_send)): the answer comes no
    /// earlier than the attempt's deadline plus `looks × list_delay`.
    ///
    /// Fails with [`ErrorKind::InvalidRequest`] when `err` has no [`SendAttempt`] (it is not a
    /// `send_message` that may have gone), and with the list's error when looking fails.
    ///
    /// ```no_run
    /// use herohealth::{FindOptions, FoundSend, MessageType};
    /// # async fn run(hero: herohealth::HeroClient) -> herohealth::Result<()> {
    /// let sent = hero
    ///     .send_message()
    ///     .body_map(|b| b.patient_id("98765").message_type(MessageType::Sms).message_string("Hello"))
    ///     .send()
    ///     .await;
    /// match sent {
    ///     Ok(sent) => println!("sent {}", sent.message_id),
    ///     Err(e) if e.may_have_been_sent() => match hero.find_send(&e, FindOptions::default()).await? {
    ///         FoundSend::Sent { message_id } => println!("it went: {message_id}"),
    ///         FoundSend::NotSent => println!("it did not go: safe to send again"),
    ///         FoundSend::Ambiguous { message_ids } => println!("a person decides: {message_ids:?}"),
    ///         _ => unreachable!(),
    ///     },
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn find_send(&self, err: &Error, options: FindOptions) -> crate::Result<FoundSend> {
        let attempt = err.send_attempt().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidRequest,
                "find_send: the error is not a send_message that may have gone",
            )
        })?;
        self.find_attempt(attempt, options).await
    }

    /// [`find_send`](Self::find_send) for a [`SendAttempt`] kept apart from its error (e.g. in a
    /// journal, after a crash).
    pub async fn find_attempt(
        &self,
        attempt: &SendAttempt,
        options: FindOptions,
    ) -> crate::Result<FoundSend> {
        let patient_id = attempt.patient_id().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidRequest,
                "find_send: the attempt has no patient_id",
            )
        })?;
        // Read Hero's clock well enough while the attempt's deadline is still ahead (the probes
        // are reads; nothing is decided before the looks).
        // Any reading from here on that disagrees with the one before shows Hero's clock moving
        // against ours: then no window on it proves "not sent".
        let moves = self.inner.clock.reading().moves;
        if self
            .best_offset(attempt)
            .is_none_or(|o| o.hi() - o.lo() > CALIBRATED)
        {
            self.calibrate(patient_id).await?;
        }
        let mut window: Option<Window> = None;
        let last = options.looks.max(1);
        for look in 1..=last {
            // Look k comes k × list_delay after the deadline; a look whose time has passed is
            // skipped, but the last one is always made.
            let due = attempt.deadline() + scaled(options.list_delay, look);
            let wait = (due - Utc::now()).to_std().unwrap_or_default();
            if wait.is_zero() && look < last {
                let last_due = attempt.deadline() + scaled(options.list_delay, last);
                if last_due <= Utc::now() {
                    continue;
                }
            }
            tokio::time::sleep(wait).await;
            let listed = self.listed(patient_id, attempt).await?;
            let window = window.get_or_insert_with(|| Window {
                started: attempt.started(),
                deadline: attempt.deadline(),
                offset: self
                    .best_offset(attempt)
                    .unwrap_or_else(|| ClockOffset::assumed(options.clock_skew)),
                guard: chrono::Duration::from_std(options.guard_band)
                    .unwrap_or(chrono::Duration::MAX / 4),
            });
            let own = self.inner.own_sends.ids();
            let known = |id: &str| options.exclude.contains(id) || own.contains(id);
            let mut candidates: Vec<(String, Place)> = Vec::new();
            let mut around: Vec<String> = Vec::new();
            let mut unnamed = 0usize;
            // Hero cannot have stamped a message later than its own now: one that says so shows
            // the clock was read wrong (a proxy's `Date`, a clock that runs fast), and then the
            // window proves nothing. Nor does it when the clock moved while this looked. A person
            // decides between the messages like this one listed since the attempt began, by the
            // earliest any reading of Hero's clock puts that.
            let hero_now = Utc::now() + window.offset.hi() + chrono::Duration::seconds(2);
            let reading = self.inner.clock.reading();
            let lowest = reading
                .span
                .map_or(window.offset.lo(), |span| span.lo().min(window.offset.lo()));
            // A clock that could not be read at all bounds nothing: every message like it.
            let since = if reading.unreadable {
                DateTime::<Utc>::MIN_UTC
            } else {
                window.started + lowest - window.guard
            };
            let moved = reading.moves != moves;
            let mut misread: Vec<String> = Vec::new();
            let mut like_it_since: Vec<String> = Vec::new();
            for m in &listed {
                let Some(id) = m.id.as_deref() else { continue };
                if known(id) {
                    continue;
                }
                if m.created_at.is_some_and(|c| c > hero_now) {
                    misread.push(id.to_owned());
                } else if same_fields(attempt, m) && m.created_at.is_none_or(|c| c >= since) {
                    like_it_since.push(id.to_owned());
                }
            }
            if !misread.is_empty() || (moved && !like_it_since.is_empty()) {
                misread.extend(like_it_since);
                return Ok(FoundSend::Ambiguous {
                    message_ids: misread,
                });
            }
            if moved {
                // Nothing like it listed since the earliest start any reading gives: look again,
                // as for any window with nothing in it.
                continue;
            }
            for m in &listed {
                if m.id.as_deref().is_some_and(known) {
                    continue;
                }
                let place = window.place(m.created_at);
                if place == Place::Away {
                    continue;
                }
                let Some(id) = m.id.clone() else {
                    unnamed += 1;
                    continue;
                };
                // A message like it just outside the window (in the guard band) is a candidate
                // too, though never a clean one: a `Date` read from another clock than the one
                // Hero stamps by (a proxy's a second or two ahead) puts the send there.
                if same_fields(attempt, m) {
                    candidates.push((id, place));
                } else {
                    around.push(id);
                }
            }
            if attempt.snomed_code().is_some() && candidates.len() > 1 {
                candidates = self.same_snomed(attempt, candidates).await?;
            }
            let ambiguous = |mut ids: Vec<String>, around: Vec<String>| {
                ids.extend(around);
                FoundSend::Ambiguous { message_ids: ids }
            };
            match (candidates.as_slice(), around.len(), unnamed) {
                ([], _, 0) => continue,
                ([(id, Place::Inside)], 0, 0) if look == last => {
                    let id = id.clone();
                    self.inner.own_sends.remember(&id);
                    return Ok(FoundSend::Sent { message_id: id });
                }
                // One clean candidate before the last look: look again (another message may yet
                // be listed around it).
                ([(_, Place::Inside)], 0, 0) => continue,
                _ => {
                    let ids = candidates.into_iter().map(|(id, _)| id).collect();
                    return Ok(ambiguous(ids, around));
                }
            }
        }
        Ok(FoundSend::NotSent)
    }

    /// A [`SendAttempt`] for `body` starting now, as this client would make it: its deadline is
    /// now plus the most the request may take with this client's timeout and retry policy, with
    /// Hero's clock as last read. For a durable sender that records an attempt before it writes
    /// the request (so a crash leaves something to look for).
    ///
    /// ```
    /// # fn run(hero: herohealth::HeroClient, body: herohealth::types::SendMessageRequest) {
    /// let attempt = hero.start_attempt(&body);
    /// // store `attempt` durably, then send `body` ...
    /// # let _ = attempt; }
    /// ```
    pub fn start_attempt(&self, body: &types::SendMessageRequest) -> SendAttempt {
        let started = Utc::now();
        let policy = self.retry_policy();
        let span = if policy.get_max_attempts() > 1 {
            policy.get_total_deadline().saturating_add(self.timeout())
        } else {
            self.timeout()
        };
        let deadline =
            started + chrono::Duration::from_std(span).unwrap_or(chrono::Duration::MAX / 4);
        SendAttempt::new(body, started, deadline).with_clock(self.hero_clock())
    }

    /// The offset of Hero's clock for `attempt`: the one read around it, narrowed by this
    /// client's reading while the two agree; this client's when the attempt has none.
    fn best_offset(&self, attempt: &SendAttempt) -> Option<ClockOffset> {
        match (attempt.clock(), self.hero_clock()) {
            // Readings that disagree (Hero's clock moved against ours between the attempt and
            // now): either could be the one the send was stamped by, so the window spans both,
            // and a message in it is at best at its edge (ambiguous), never away (not sent).
            (Some(a), Some(c)) => Some(a.intersect(c).unwrap_or_else(|| a.union(c))),
            (a, c) => a.or(c),
        }
    }

    /// Narrows this client's reading of Hero's clock to [`CALIBRATED`] with a few one-item reads
    /// of the patient's list, each timed to reach Hero just as its `Date` changes second (as
    /// `htpdate` does): each answer halves what is not known. At most [`PROBES`] reads; a Hero
    /// that sends no `Date` leaves the reading open.
    async fn calibrate(&self, patient_id: &str) -> crate::Result<()> {
        for probe in 0..PROBES {
            if let Some(offset) = self.hero_clock() {
                if offset.hi() - offset.lo() <= CALIBRATED {
                    break;
                }
                // Send so that, by the middle of what is known of the offset, the request reaches
                // Hero at a second's boundary: the `Date` it gets tells which side it was on.
                let mid = offset.lo() + (offset.hi() - offset.lo()) / 2;
                let hero_now = Utc::now() + mid;
                let boundary = DateTime::<Utc>::from_timestamp(hero_now.timestamp() + 1, 0)
                    .unwrap_or(hero_now);
                let wait = (boundary - mid - Utc::now()).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
            } else if probe > 0 {
                break;
            }
            self.list_sent_messages()
                .patient_id(patient_id)
                .page_index(0)
                .page_size(1)
                .send()
                .await?;
        }
        Ok(())
    }

    /// Every message Hero lists for the patient on the attempt's channel.
    async fn listed(
        &self,
        patient_id: &str,
        attempt: &SendAttempt,
    ) -> crate::Result<Vec<types::SentMessage>> {
        let mut request = self.list_sent_messages().patient_id(patient_id);
        if let Some(t) = attempt.message_type() {
            request = request.message_type(t.clone());
        }
        request
            .stream_with(PageOptions::default().page_size(100))
            .try_collect()
            .await
    }

    /// The candidates whose write-to-record SNOMED code is the attempt's (or unknown).
    async fn same_snomed(
        &self,
        attempt: &SendAttempt,
        candidates: Vec<(String, Place)>,
    ) -> crate::Result<Vec<(String, Place)>> {
        let mut kept = Vec::new();
        for (id, place) in candidates {
            let message = self.get_message().id(id.clone()).send().await?;
            let code = message
                .write_to_record
                .as_ref()
                .and_then(|w| w.snomed_code.as_deref());
            if code.is_none() || code == attempt.snomed_code() {
                kept.push((id, place));
            }
        }
        Ok(kept)
    }
}

/// How well Hero's clock is read before a look decides: a message created this close to the
/// attempt's start could predate it.
const CALIBRATED: chrono::Duration = chrono::Duration::milliseconds(100);

/// The most reads [`HeroClient::calibrate`] makes.
const PROBES: usize = 6;

/// `d × n`, saturating.
fn scaled(d: Duration, n: u32) -> chrono::Duration {
    chrono::Duration::from_std(d.saturating_mul(n)).unwrap_or(chrono::Duration::MAX / 4)
}

/// Whether a listed message agrees with every field of the attempt Hero returns.
fn same_fields(attempt: &SendAttempt, m: &types::SentMessage) -> bool {
    let same_patient = attempt.patient_id() == Some(m.patient.id.as_str());
    let same_type = attempt.message_type().is_none_or(|t| *t == m.message_type);
    let same_recipient = attempt.same_recipient(m.recipient_contact_detail.expose());
    let same_schedule = match (attempt.send_at(), m.scheduled_at) {
        (Some(a), Some(b)) => (a - b).num_seconds().abs() <= 1,
        (Some(_), None) => false,
        (None, _) => true,
    };
    same_patient && same_type && same_recipient && same_schedule
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(lo_ms: i64, hi_ms: i64) -> (Window, DateTime<Utc>) {
        let t = DateTime::parse_from_rfc3339("2026-01-05T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let offset =
            serde_json::from_value(serde_json::json!({"lo_ms": lo_ms, "hi_ms": hi_ms})).unwrap();
        (
            Window {
                started: t,
                deadline: t + chrono::Duration::seconds(10),
                offset,
                guard: chrono::Duration::seconds(60),
            },
            t,
        )
    }

    #[test]
    fn a_message_is_placed_on_heros_clock_with_its_second_of_precision() {
        let s = chrono::Duration::seconds;
        let ms = chrono::Duration::milliseconds;
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
    }

    #[test]
    fn a_reading_that_leaves_the_starts_second_open_puts_both_seconds_at_the_edge() {
        let s = chrono::Duration::seconds;
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
        let s = chrono::Duration::seconds;
        // ±30 s assumed, a 10 s attempt: nothing is certainly inside.
        let (w, t) = window(-30_000, 30_000);
        for at in [0, 5, 10] {
            assert_eq!(w.place(Some(t + s(at))), Place::Edge, "{at}");
        }
    }
}
