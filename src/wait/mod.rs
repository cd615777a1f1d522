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
    BatchMessageStatus, BatchSendStatus, HeroClient, Paginate,
    api::types,
    error::{Error, ErrorKind},
};

mod options;
mod outcome;

pub use options::WaitOptions;
pub use outcome::{BatchOutcome, Delivery, Recording};

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
                let remaining = w.options.get_deadline().saturating_sub(started.elapsed());
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
                            w.what,
                            w.options.get_deadline()
                        ),
                    );
                    return Some((Err(err), w));
                }
                let interval = w.intervals.next().unwrap_or(w.options.get_max_interval());
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
