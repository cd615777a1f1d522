//! Waiting for a message to be delivered or a batch to complete: poll with backoff until a terminal
//! state or a deadline. The `watch_*` methods give every change as a stream (for a progress bar);
//! the `wait_for_*` methods return the final state as a value the caller must look at
//! ([`Delivery`], [`Recording`], [`BatchOutcome`]): a declined message is not a success.
//! A wait that reaches its deadline fails with [`ErrorKind::WaitDeadline`], never with an HTTP
//! timeout: nothing failed, it is just not done yet.

use std::time::Duration;

use futures::{Stream, StreamExt, TryStreamExt, future::BoxFuture, stream};
use tokio::time::Instant;

use crate::{
    BatchMessageStatus, BatchSendStatus, DeliveryStatus, HeroClient, Paginate,
    api::types,
    error::{Error, ErrorKind},
};

/// How a waiter polls.
///
/// **Defaults** ([`WaitOptions::default`]): the first poll at once, the second after 1 s
/// (`initial_interval`), each wait then 1.5 times longer (`multiplier`) up to 30 s
/// (`max_interval`), and a 10-minute `deadline`, after which the waiter fails with
/// [`ErrorKind::WaitDeadline`]. No wait is ever shorter than [`WaitOptions::MIN_INTERVAL`].
///
/// ```
/// use std::time::Duration;
/// use herohealth::WaitOptions;
/// let defaults = WaitOptions::default();
/// assert_eq!(defaults.get_initial_interval(), Duration::from_secs(1));
/// assert_eq!(defaults.get_multiplier(), 1.5);
/// assert_eq!(defaults.get_max_interval(), Duration::from_secs(30));
/// assert_eq!(defaults.get_deadline(), Duration::from_secs(600));
///
/// let opts = WaitOptions::default().deadline(Duration::from_secs(60)).initial_interval(Duration::from_millis(500));
/// assert_eq!(opts.get_deadline(), Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitOptions {
    initial_interval: Duration,
    max_interval: Duration,
    multiplier: f64,
    deadline: Duration,
}

impl Default for WaitOptions {
    /// First poll after 1 s, then 1.5 times longer each time up to 30 s, for at most 10 minutes.
    fn default() -> Self {
        Self {
            initial_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(30),
            multiplier: 1.5,
            deadline: Duration::from_secs(600),
        }
    }
}

impl WaitOptions {
    /// The shortest wait between two polls, whatever the options say: a waiter never asks Hero
    /// more than ten times a second (an interval of zero would spend the rate limit in moments).
    pub const MIN_INTERVAL: Duration = Duration::from_millis(100);

    /// Time between the first two polls (at least [`Self::MIN_INTERVAL`]).
    pub fn initial_interval(mut self, interval: Duration) -> Self {
        self.initial_interval = interval;
        self
    }

    /// Longest time between two polls (at least [`Self::MIN_INTERVAL`]).
    pub fn max_interval(mut self, interval: Duration) -> Self {
        self.max_interval = interval;
        self
    }

    /// How much longer each wait is than the one before (at least 1).
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier.max(1.0);
        self
    }

    /// Give up (with [`ErrorKind::WaitDeadline`]) when no terminal state was seen by then.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The time between the first two polls, as set (default 1 s).
    pub fn get_initial_interval(&self) -> Duration {
        self.initial_interval
    }

    /// The longest time between two polls, as set (default 30 s).
    pub fn get_max_interval(&self) -> Duration {
        self.max_interval
    }

    /// How much longer each wait is than the one before (default 1.5).
    pub fn get_multiplier(&self) -> f64 {
        self.multiplier
    }

    /// How long the waiter polls before failing with [`ErrorKind::WaitDeadline`] (default 10
    /// minutes).
    pub fn get_deadline(&self) -> Duration {
        self.deadline
    }

    /// The waits between polls, in order, as the waiters use them: the initial interval, then
    /// each `multiplier` times the one before, at most the maximum interval (the deadline cuts
    /// the last one short).
    ///
    /// ```
    /// use std::time::Duration;
    /// use herohealth::WaitOptions;
    /// let secs: Vec<f64> = WaitOptions::default().intervals().take(4).map(|d| d.as_secs_f64()).collect();
    /// assert_eq!(secs, [1.0, 1.5, 2.25, 3.375]);
    /// ```
    ///
    /// No wait is shorter than [`Self::MIN_INTERVAL`], and any multiplier (even an infinite one)
    /// stops at the maximum:
    ///
    /// ```
    /// use std::time::Duration;
    /// use herohealth::WaitOptions;
    /// let eager = WaitOptions::default()
    ///     .initial_interval(Duration::ZERO)
    ///     .max_interval(Duration::ZERO)
    ///     .multiplier(f64::INFINITY);
    /// assert!(eager.intervals().take(5).all(|d| d == WaitOptions::MIN_INTERVAL));
    /// ```
    pub fn intervals(&self) -> impl Iterator<Item = Duration> + use<> {
        let multiplier = self.multiplier;
        let max = self.max_interval.max(Self::MIN_INTERVAL);
        let first = self.initial_interval.clamp(Self::MIN_INTERVAL, max);
        std::iter::successors(Some(first), move |d| {
            let next = Duration::try_from_secs_f64(d.as_secs_f64() * multiplier).unwrap_or(max);
            Some(next.clamp(Self::MIN_INTERVAL, max))
        })
    }
}

struct Watch<'a, T> {
    fetch: Box<dyn Fn() -> BoxFuture<'a, Result<T, Error>> + Send + Sync + 'a>,
    is_terminal: fn(&T) -> bool,
    describe: fn(&T) -> String,
    what: String,
    options: WaitOptions,
    started: Option<Instant>,
    intervals: Box<dyn Iterator<Item = Duration> + Send + 'a>,
    last: Option<T>,
    polled: bool,
    done: bool,
}

/// The one polling engine: yields each state that differs from the one before, and ends after a
/// terminal state, an error, or the deadline (as an error).
fn watch<'a, T: PartialEq + Clone + Send + 'a>(
    what: String,
    options: WaitOptions,
    fetch: Box<dyn Fn() -> BoxFuture<'a, Result<T, Error>> + Send + Sync + 'a>,
    is_terminal: fn(&T) -> bool,
    describe: fn(&T) -> String,
) -> impl Stream<Item = Result<T, Error>> + Send + Unpin + 'a {
    let state = Watch {
        fetch,
        is_terminal,
        describe,
        what,
        options,
        started: None,
        intervals: Box::new(options.intervals()),
        last: None,
        polled: false,
        done: false,
    };
    // Boxed so that callers need not pin it.
    Box::pin(stream::unfold(state, |mut w| async move {
        if w.done {
            return None;
        }
        let started = *w.started.get_or_insert_with(Instant::now);
        loop {
            if w.polled {
                let remaining = w.options.deadline.saturating_sub(started.elapsed());
                if remaining.is_zero() {
                    w.done = true;
                    let last = w
                        .last
                        .as_ref()
                        .map_or_else(String::new, |s| format!(" (last: {})", (w.describe)(s)));
                    let err = Error::new(
                        ErrorKind::WaitDeadline,
                        format!(
                            "{} did not reach a final state within {:?}{last}",
                            w.what, w.options.deadline
                        ),
                    );
                    return Some((Err(err), w));
                }
                let interval = w.intervals.next().unwrap_or(w.options.max_interval);
                tokio::time::sleep(interval.min(remaining)).await;
            }
            w.polled = true;
            let state = match (w.fetch)().await {
                Ok(s) => s,
                Err(e) => {
                    w.done = true;
                    return Some((Err(e), w));
                }
            };
            if (w.is_terminal)(&state) {
                w.done = true;
                return Some((Ok(state), w));
            }
            if w.last.as_ref() != Some(&state) {
                w.last = Some(state.clone());
                return Some((Ok(state), w));
            }
        }
    }))
}

async fn last<T>(s: impl Stream<Item = Result<T, Error>>) -> Result<T, Error> {
    let mut s = std::pin::pin!(s);
    let mut last = None;
    while let Some(item) = s.next().await {
        last = Some(item?);
    }
    last.ok_or_else(|| Error::new(ErrorKind::WaitDeadline, "no state was read"))
}

/// How a message ended: [`HeroClient::wait_for_delivery`]'s answer. Look at it: only
/// [`Delivered`](Delivery::Delivered) reached the patient.
///
/// ```
/// use herohealth::{Delivery, ErrorKind};
/// # fn check(d: Delivery) -> herohealth::Result<()> {
/// match &d {
///     Delivery::Delivered(s) => println!("delivered at {:?}", s.status.sent_at),
///     Delivery::Declined(_) | Delivery::Fatal(_) => println!("not delivered: follow the patient up"),
///     _ => println!("a final state this version does not know"),
/// }
/// // Or: delivered, or an error of kind DeliveryFailed.
/// let status = d.delivered()?;
/// # let _ = status; Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a message may have been declined or failed: look at how it ended"]
#[non_exhaustive]
pub enum Delivery {
    /// `delivered`.
    Delivered(types::MessageStatus),
    /// `declined`: the recipient's network refused it.
    Declined(types::MessageStatus),
    /// `fatal`: it failed for good.
    Fatal(types::MessageStatus),
}

impl Delivery {
    /// The final status, whatever it is.
    pub fn status(&self) -> &types::MessageStatus {
        match self {
            Delivery::Delivered(s) | Delivery::Declined(s) | Delivery::Fatal(s) => s,
        }
    }

    /// `true` for [`Delivery::Delivered`].
    pub fn is_delivered(&self) -> bool {
        matches!(self, Delivery::Delivered(_))
    }

    /// The status when delivered; otherwise an error of kind [`ErrorKind::DeliveryFailed`]
    /// naming the final state.
    pub fn delivered(self) -> Result<types::MessageStatus, Error> {
        match self {
            Delivery::Delivered(s) => Ok(s),
            other => Err(Error::new(
                ErrorKind::DeliveryFailed,
                format!(
                    "message {} ended `{}`",
                    crate::ids::MESSAGE_ID.shown(&other.status().id),
                    other.status().status.response
                ),
            )),
        }
    }

    fn from_status(s: types::MessageStatus) -> Self {
        match s.status.response {
            DeliveryStatus::Declined => Delivery::Declined(s),
            DeliveryStatus::Fatal => Delivery::Fatal(s),
            _ => Delivery::Delivered(s),
        }
    }
}

/// How the write of a message into the patient's record ended:
/// [`HeroClient::wait_for_record`]'s answer. [`Recording::record_status`] gives it as the
/// [`WriteToRecordStatus`](crate::WriteToRecordStatus) the other message types use.
#[derive(Debug, Clone, PartialEq)]
#[must_use = "the write to the record may have failed: look at how it ended"]
#[non_exhaustive]
pub enum Recording {
    /// Written into the record.
    Written(types::MessageStatus),
    /// The write failed (`errors.write_to_record` says why).
    Failed(types::MessageStatus),
    /// The message was sent without `write_to_record`: nothing will be written.
    NotRequested(types::MessageStatus),
}

impl Recording {
    /// The final status.
    pub fn status(&self) -> &types::MessageStatus {
        match self {
            Recording::Written(s) | Recording::Failed(s) | Recording::NotRequested(s) => s,
        }
    }

    /// `true` for [`Recording::Written`].
    pub fn is_written(&self) -> bool {
        matches!(self, Recording::Written(_))
    }

    /// The same ending as a [`WriteToRecordStatus`](crate::WriteToRecordStatus): `success`,
    /// `failed` or `not_written`, as [`types::SentMessage::record_status`] reads it.
    pub fn record_status(&self) -> crate::WriteToRecordStatus {
        match self {
            Recording::Written(_) => crate::WriteToRecordStatus::Success,
            Recording::Failed(_) => crate::WriteToRecordStatus::Failed,
            Recording::NotRequested(_) => crate::WriteToRecordStatus::NotWritten,
        }
    }

    fn of(s: &types::MessageStatus) -> Option<fn(types::MessageStatus) -> Recording> {
        if !s.write_to_record {
            Some(Recording::NotRequested)
        } else if s.errors.write_to_record.is_some() {
            Some(Recording::Failed)
        } else if s.status.write_to_record_at.is_some() {
            Some(Recording::Written)
        } else {
            None
        }
    }
}

/// How a batch ended: [`HeroClient::wait_for_batch`]'s answer. A `COMPLETED` batch can hold sends
/// that failed: look at [`failed_sends`](Self::failed_sends), and
/// [`HeroClient::batch_failures`] says which patients they were for.
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a completed batch can hold failed sends: look at them"]
pub struct BatchOutcome {
    /// The batch, `COMPLETED`.
    pub batch: types::BatchMessage,
    /// Sends in all.
    pub sends: u64,
    /// Sends that ended `ERROR`.
    pub failed_sends: u64,
}

impl BatchOutcome {
    /// `true` when no send failed.
    pub fn all_sent(&self) -> bool {
        self.failed_sends == 0
    }
}

impl HeroClient {
    /// Every change of a message's status until it is delivered, declined or fatal.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// # async fn run(hero: herohealth::HeroClient) {
    /// let mut updates = std::pin::pin!(hero.watch_delivery("1234", Default::default()));
    /// while let Some(update) = updates.next().await {
    ///     match update {
    ///         Ok(s) => println!("{}", s.status.response),
    ///         Err(e) => eprintln!("{e}"),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn watch_delivery<'a>(
        &'a self,
        message_id: impl Into<String>,
        options: WaitOptions,
    ) -> impl Stream<Item = Result<types::MessageStatus, Error>> + Send + Unpin + 'a {
        let id: String = message_id.into();
        watch(
            format!("message {}", crate::ids::MESSAGE_ID.shown(&id)),
            options,
            Box::new(move || {
                let request = self.get_message_status().id(id.clone());
                Box::pin(async move { Ok(request.send().await?.into_inner()) })
            }),
            |s| s.status.response.is_terminal(),
            |s| s.status.response.to_string(),
        )
    }

    /// Polls until the message is delivered, declined or fatal, and returns how it ended.
    /// Past the deadline it fails with [`ErrorKind::WaitDeadline`].
    ///
    /// ```no_run
    /// # async fn run(hero: herohealth::HeroClient) -> herohealth::Result<()> {
    /// let delivery = hero.wait_for_delivery("1234", Default::default()).await?;
    /// if !delivery.is_delivered() {
    ///     eprintln!("not delivered: {}", delivery.status().status.response);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_delivery(
        &self,
        message_id: impl Into<String>,
        options: WaitOptions,
    ) -> Result<Delivery, Error> {
        last(self.watch_delivery(message_id, options))
            .await
            .map(Delivery::from_status)
    }

    /// Polls until the write of the message into the patient's record has succeeded or failed
    /// (or at once, when none was asked for), and returns how it ended. Past the deadline it
    /// fails with [`ErrorKind::WaitDeadline`].
    ///
    /// **Approval.** Hero writes a message into the record "post-approval": unless the send set
    /// `auto_write_to_record(true)` (which only keys with that permission may), the write waits
    /// until a Hero admin approves it (the send's answer carries a
    /// `confirm_write_to_record_url`). While it waits, Hero's status shows the write neither
    /// written nor failed, exactly as a write in progress: this waiter keeps polling, and at its
    /// deadline fails with [`ErrorKind::WaitDeadline`], saying the write may be awaiting
    /// approval. Nothing failed; wait longer, or look again after approval. herohealth-mock's
    /// `write_approval(true)` holds writes this way, to test both paths.
    ///
    /// ```no_run
    /// # async fn run(hero: herohealth::HeroClient) -> herohealth::Result<()> {
    /// let recording = hero.wait_for_record("1234", Default::default()).await?;
    /// assert!(recording.is_written(), "write to record failed or was not asked for");
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_record(
        &self,
        message_id: impl Into<String>,
        options: WaitOptions,
    ) -> Result<Recording, Error> {
        let id: String = message_id.into();
        let updates = watch(
            format!(
                "the record write of message {}",
                crate::ids::MESSAGE_ID.shown(&id)
            ),
            options,
            Box::new(move || {
                let request = self.get_message_status().id(id.clone());
                Box::pin(async move { Ok(request.send().await?.into_inner()) })
            }),
            |s| Recording::of(s).is_some(),
            |s| {
                format!(
                    "{}, not written to the record yet (unless sent with auto_write_to_record, \
                     it may be awaiting approval)",
                    s.status.response
                )
            },
        );
        let status = last(updates).await?;
        match Recording::of(&status) {
            Some(make) => Ok(make(status)),
            None => Err(Error::new(
                ErrorKind::WaitDeadline,
                "the record write is not final",
            )),
        }
    }

    /// Every change of a batch until it is `COMPLETED`.
    pub fn watch_batch<'a>(
        &'a self,
        batch_id: impl Into<String>,
        options: WaitOptions,
    ) -> impl Stream<Item = Result<types::BatchMessage, Error>> + Send + Unpin + 'a {
        let id: String = batch_id.into();
        watch(
            format!("batch {}", crate::ids::BATCH_ID.shown(&id)),
            options,
            Box::new(move || {
                let request = self.get_batch_message().id(id.clone());
                Box::pin(async move { Ok(request.send().await?.into_inner()) })
            }),
            |b| b.status == BatchMessageStatus::Completed,
            |b| match b.status {
                // A batch stays CREATED until someone sends it: waiting longer will not help.
                BatchMessageStatus::Created => {
                    "CREATED: it has not been sent; send it (`send_batch_message`) or wait \
                     for whoever will"
                        .to_owned()
                }
                ref other => other.to_string(),
            },
        )
    }

    /// Polls until the batch is `COMPLETED`, then counts its sends and the failed ones. Past the
    /// deadline it fails with [`ErrorKind::WaitDeadline`].
    ///
    /// ```no_run
    /// # async fn run(hero: herohealth::HeroClient) -> herohealth::Result<()> {
    /// let outcome = hero.wait_for_batch("42", Default::default()).await?;
    /// if !outcome.all_sent() {
    ///     eprintln!("{} of {} sends failed", outcome.failed_sends, outcome.sends);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_batch(
        &self,
        batch_id: impl Into<String>,
        options: WaitOptions,
    ) -> Result<BatchOutcome, Error> {
        let id: String = batch_id.into();
        let batch = last(self.watch_batch(id, options)).await?;
        self.batch_outcome(batch).await
    }

    /// The outcome of a batch already seen `COMPLETED` (e.g. the last state of
    /// [`watch_batch`](Self::watch_batch)): counts its sends and the failed ones.
    ///
    /// ```no_run
    /// # async fn run(hero: herohealth::HeroClient) -> herohealth::Result<()> {
    /// let batch = hero.get_batch_message().id("42").send().await?.into_inner();
    /// let outcome = hero.batch_outcome(batch).await?;
    /// println!("{} of {} sends failed", outcome.failed_sends, outcome.sends);
    /// # Ok(()) }
    /// ```
    pub async fn batch_outcome(&self, batch: types::BatchMessage) -> Result<BatchOutcome, Error> {
        let (sends, failed_sends) = self
            .list_batch_message_sends()
            .id(batch.id.clone())
            .stream()
            .try_fold((0u64, 0u64), |(all, failed), send| async move {
                Ok((
                    all + 1,
                    failed + u64::from(send.status == BatchSendStatus::Error),
                ))
            })
            .await?;
        Ok(BatchOutcome {
            batch,
            sends,
            failed_sends,
        })
    }
}
