//! Waiting for a message to be delivered or a batch to complete: poll with backoff until a terminal
//! state or a deadline. The `watch_*` methods give every change as a stream (for a progress bar);
//! the `wait_for_*` methods return the final state.

use std::time::Duration;

use futures::{Stream, StreamExt, future::BoxFuture, stream};
use tokio::time::Instant;

use crate::{
    BatchMessageStatus, HeroClient,
    api::types,
    error::{Error, ErrorKind},
};

/// How a waiter polls.
///
/// ```
/// use std::time::Duration;
/// use herohealth::WaitOptions;
/// let opts = WaitOptions::default().deadline(Duration::from_secs(60)).initial_interval(Duration::from_millis(500));
/// # let _ = opts;
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
    /// Time between the first two polls.
    pub fn initial_interval(mut self, interval: Duration) -> Self {
        self.initial_interval = interval;
        self
    }

    /// Longest time between two polls.
    pub fn max_interval(mut self, interval: Duration) -> Self {
        self.max_interval = interval;
        self
    }

    /// How much longer each wait is than the one before (at least 1).
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier.max(1.0);
        self
    }

    /// Give up (with [`ErrorKind::Timeout`]) when no terminal state was seen by then.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }
}

struct Watch<'a, T> {
    fetch: Box<dyn Fn() -> BoxFuture<'a, Result<T, Error>> + Send + Sync + 'a>,
    is_terminal: fn(&T) -> bool,
    describe: fn(&T) -> String,
    what: String,
    options: WaitOptions,
    started: Option<Instant>,
    interval: Duration,
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
) -> impl Stream<Item = Result<T, Error>> + Send + 'a {
    let state = Watch {
        fetch,
        is_terminal,
        describe,
        what,
        options,
        started: None,
        interval: options.initial_interval,
        last: None,
        polled: false,
        done: false,
    };
    stream::unfold(state, |mut w| async move {
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
                        ErrorKind::Timeout,
                        format!(
                            "{} did not finish within {:?}{last}",
                            w.what, w.options.deadline
                        ),
                    );
                    return Some((Err(err), w));
                }
                tokio::time::sleep(w.interval.min(remaining)).await;
                w.interval = w
                    .interval
                    .mul_f64(w.options.multiplier)
                    .min(w.options.max_interval);
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
    })
}

async fn last<T>(s: impl Stream<Item = Result<T, Error>>) -> Result<T, Error> {
    let mut s = std::pin::pin!(s);
    let mut last = None;
    while let Some(item) = s.next().await {
        last = Some(item?);
    }
    last.ok_or_else(|| Error::new(ErrorKind::Timeout, "no state was read"))
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
    ) -> impl Stream<Item = Result<types::MessageStatus, Error>> + Send + 'a {
        let id: String = message_id.into();
        watch(
            format!("message {id}"),
            options,
            Box::new(move || {
                let request = self.get_message_status().id(id.clone());
                Box::pin(async move { Ok(request.send().await?.into_inner()) })
            }),
            |s| s.status.response.is_terminal(),
            |s| s.status.response.to_string(),
        )
    }

    /// Polls until the message is delivered, declined or fatal, and returns that status.
    /// Past the deadline it fails with [`ErrorKind::Timeout`].
    pub async fn wait_for_delivery(
        &self,
        message_id: impl Into<String>,
        options: WaitOptions,
    ) -> Result<types::MessageStatus, Error> {
        last(self.watch_delivery(message_id, options)).await
    }

    /// Every change of a batch until it is `COMPLETED`.
    pub fn watch_batch<'a>(
        &'a self,
        batch_id: impl Into<String>,
        options: WaitOptions,
    ) -> impl Stream<Item = Result<types::BatchMessage, Error>> + Send + 'a {
        let id: String = batch_id.into();
        watch(
            format!("batch {id}"),
            options,
            Box::new(move || {
                let request = self.get_batch_message().id(id.clone());
                Box::pin(async move { Ok(request.send().await?.into_inner()) })
            }),
            |b| b.status == BatchMessageStatus::Completed,
            |b| b.status.to_string(),
        )
    }

    /// Polls until the batch is `COMPLETED`, and returns it. Past the deadline it fails with
    /// [`ErrorKind::Timeout`].
    pub async fn wait_for_batch(
        &self,
        batch_id: impl Into<String>,
        options: WaitOptions,
    ) -> Result<types::BatchMessage, Error> {
        last(self.watch_batch(batch_id, options)).await
    }
}
