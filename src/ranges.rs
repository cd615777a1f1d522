//! Typed time ranges for the list filters Hero takes as `[from]` or `[from, to]`
//! (`sent_at[]`, `scheduled_at[]` on `GET /v2/sent_messages`).

use chrono::{DateTime, Utc};

use crate::api::builder::ListSentMessages;

/// A time range for a list filter: from a time on, or between two times.
///
/// Hero reads the filter as one timestamp (`[from]`: at or after it) or two (`[from, to]`).
/// Passed to a setter such as `.sent_at(..)`, a range whose end is before its start fails the
/// request's `send()` with an error naming the parameter, before anything is sent.
///
/// ```
/// use chrono::{Duration, Utc};
/// use herohealth::TimeRange;
///
/// let now = Utc::now();
/// let last_week = TimeRange::between(now - Duration::days(7), now);
/// let since_yesterday = TimeRange::since(now - Duration::days(1));
/// # let _ = (last_week, since_yesterday);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
}

impl TimeRange {
    /// At or after `from`.
    pub fn since(from: DateTime<Utc>) -> Self {
        Self { from, to: None }
    }

    /// From `from` to `to`.
    pub fn between(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        Self { from, to: Some(to) }
    }
}

/// The end of a [`TimeRange`] is before its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the range ends before it starts")]
pub struct BackwardsRange;

impl crate::Rule for BackwardsRange {
    fn rule(&self) -> String {
        self.to_string()
    }
}

impl TryFrom<TimeRange> for Vec<DateTime<Utc>> {
    type Error = BackwardsRange;
    fn try_from(r: TimeRange) -> Result<Self, BackwardsRange> {
        match r.to {
            None => Ok(vec![r.from]),
            Some(to) if to >= r.from => Ok(vec![r.from, to]),
            Some(_) => Err(BackwardsRange),
        }
    }
}

/// The typed forms of the time filters of [`crate::HeroClient::list_sent_messages`].
///
/// ```no_run
/// use chrono::{Duration, Utc};
/// use futures::TryStreamExt;
/// use herohealth::{HeroClient, Paginate};
///
/// # async fn run(hero: HeroClient) -> herohealth::Result<()> {
/// let now = Utc::now();
/// let sent: Vec<_> = hero
///     .list_sent_messages()
///     .sent_between(now - Duration::days(7), now)
///     .stream()
///     .try_collect()
///     .await?;
/// # Ok(()) }
/// ```
impl ListSentMessages<'_> {
    /// Messages sent from `from` to `to` (`sent_at[]=from&sent_at[]=to`). A `to` before `from`
    /// fails `send()` with an error naming `sent_at`, before anything is sent.
    pub fn sent_between(self, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        self.sent_at(TimeRange::between(from, to))
    }

    /// Messages sent at or after `from` (`sent_at[]=from`).
    pub fn sent_since(self, from: DateTime<Utc>) -> Self {
        self.sent_at(TimeRange::since(from))
    }

    /// Messages scheduled from `from` to `to` (`scheduled_at[]=from&scheduled_at[]=to`).
    pub fn scheduled_between(self, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        self.scheduled_at(TimeRange::between(from, to))
    }

    /// Messages scheduled at or after `from` (`scheduled_at[]=from`).
    pub fn scheduled_since(self, from: DateTime<Utc>) -> Self {
        self.scheduled_at(TimeRange::since(from))
    }
}
