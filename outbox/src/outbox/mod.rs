//! The sender: [`Outbox::run`].

use std::{
    collections::{BTreeMap, HashSet, VecDeque},
    num::NonZeroU32,
    sync::Mutex,
    time::Duration,
};

use futures::{StreamExt, stream::FuturesUnordered};
use herohealth::{ErrorKind, FindOptions, FoundSend, HeroClient, Pace, RetryPolicy, SendAttempt};
use tracing::Instrument;

use crate::{
    journal::{Entry, Journal, JournalError, RowState, Status},
    row::Input,
};

mod resolve;
mod send;

/// How an [`Outbox`] sends.
///
/// ```
/// use std::{num::NonZeroU32, time::Duration};
/// use herohealth_outbox::Options;
/// let options = Options::default()
///     .concurrency(8)
///     .rate(NonZeroU32::new(50))
///     .find(herohealth::FindOptions::default().list_delay(Duration::from_secs(5)));
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    concurrency: usize,
    rate: Option<NonZeroU32>,
    find: FindOptions,
    max_sends: u32,
    max_retries: u32,
    max_wait: Duration,
}

impl Default for Options {
    /// 4 at a time, 10 requests per second, `FindOptions::default()`, a row written at most 3
    /// times (each after Hero was shown not to have it), and 8 retryable failures in a row end
    /// the run; a 429 asking for more than 60 s stops it.
    fn default() -> Self {
        Self {
            concurrency: 4,
            rate: NonZeroU32::new(10),
            find: FindOptions::default(),
            max_sends: 3,
            max_retries: 8,
            max_wait: Pace::DEFAULT_MAX_PAUSE,
        }
    }
}

impl Options {
    /// Sends in flight at once (at least 1). Rows to one patient are always sent one at a time.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Requests per second at most (sends and the lookups that resolve them): the partner's rate
    /// limit, kept by a [`herohealth::Pace`] (evenly, at [`Pace::HEADROOM`] of it, so arrival
    /// jitter stays under the limit in any sliding second). `None`: the client's own pace
    /// ([`herohealth::HeroClientBuilder::rate_limit`]) if it has one, else no limit until Hero
    /// answers 429. A journal that shares a pace between processes ([`Journal::shared_pace`])
    /// keeps this rate (or the client's) for all of them together; when it cannot, the run stops
    /// ([`OutboxError::Journal`]) rather than pace alone.
    pub fn rate(mut self, per_second: Option<NonZeroU32>) -> Self {
        self.rate = per_second;
        self
    }

    /// How a send whose outcome is unknown is looked for (see `herohealth::find`).
    pub fn find(mut self, find: FindOptions) -> Self {
        self.find = find;
        self
    }

    /// How many times a row's request may be written in all; more are needed only when Hero was
    /// shown not to have an earlier one. Past it the row fails (at least 1).
    pub fn max_sends(mut self, n: u32) -> Self {
        self.max_sends = n.max(1);
        self
    }

    /// Retryable failures in a row (connection refused, 429, ...) before the run stops, leaving
    /// the rest pending for a re-run.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The longest wait Hero may ask for with a 429's `Retry-After` (default 60 s, the client's
    /// default retry deadline): a longer one stops the run ([`OutboxError::WaitTooLong`]), with
    /// every row kept for a re-run, instead of waiting (a hostile or broken `Retry-After` of
    /// years must neither hang the run nor overflow a clock).
    ///
    /// ```
    /// let options = herohealth_outbox::Options::default().max_wait(std::time::Duration::from_secs(300));
    /// # let _ = options;
    /// ```
    pub fn max_wait(mut self, max: Duration) -> Self {
        self.max_wait = max;
        self
    }
}

/// What the outbox tells its caller as it goes (to draw a progress bar or log). No patient data.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The run started: `total` rows, `done` of them already final from an earlier run,
    /// `to_resolve` left in flight or unknown.
    Started {
        /// Rows in the input.
        total: usize,
        /// Rows already sent, failed or ambiguous.
        done: usize,
        /// Rows whose last send's outcome is unknown.
        to_resolve: usize,
    },
    /// A row changed state.
    Row {
        /// Its index (from 0).
        index: u64,
        /// Its line in the file, when it came from one.
        line: Option<u64>,
        /// The new state.
        status: Status,
    },
    /// Rows final so far, of `total`.
    Progress {
        /// Rows sent, failed or ambiguous.
        done: usize,
        /// Rows in the input.
        total: usize,
    },
    /// The client-side rate changed (a 429 slowed it, successes sped it up). `None`: no limit.
    Rate {
        /// Requests per second.
        per_second: Option<f64>,
    },
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Rows in the input.
    pub total: usize,
    /// Rows Hero accepted (with their message id in the journal).
    pub sent: usize,
    /// Rows Hero refused (not retryable).
    pub failed: usize,
    /// Rows that may have gone but cannot be told apart: a person decides.
    pub ambiguous: usize,
    /// Rows not final (pending, in flight or unknown): a re-run resumes them.
    pub unfinished: usize,
}

impl Summary {
    /// Whether every row ended sent.
    pub fn all_sent(&self) -> bool {
        self.sent == self.total
    }

    fn of(entries: &[Entry]) -> Summary {
        let mut s = Summary {
            total: entries.len(),
            ..Summary::default()
        };
        for e in entries {
            match e.state.status() {
                Status::Sent => s.sent += 1,
                Status::Failed => s.failed += 1,
                Status::Ambiguous => s.ambiguous += 1,
                _ => s.unfinished += 1,
            }
        }
        s
    }
}

/// Why a run stopped before every row was final. What was done is in the journal; a re-run with
/// the same input resumes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// The journal failed or belongs to another input.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Hero could not be reached or looked up (the `herohealth` error's safe text).
    #[error("stopped, re-run to resume: {0}")]
    Hero(#[from] herohealth::Error),
    /// The pace shared by the journal's workers failed (its database could not be reached):
    /// sending stopped, never to go on at a pace of this process alone (N workers would send at
    /// N times the limit). Nothing was sent without its slot; every row is kept.
    #[error(
        "stopped sending: the pace the workers share failed, and a worker never paces alone: {0}"
    )]
    Pace(herohealth::Error),
    /// Hero answered 429 with a `Retry-After` longer than [`Options::max_wait`]: the run stopped
    /// rather than wait (nothing was sent by that request; every row is kept for a re-run).
    #[error(
        "stopped, re-run later to resume: Hero asked to wait {} s before the next request (Retry-After), longer than the {} s allowed",
        .asked.as_secs(), .allowed.as_secs()
    )]
    WaitTooLong {
        /// What Hero asked for.
        asked: Duration,
        /// [`Options::max_wait`].
        allowed: Duration,
    },
}

/// A durable bulk sender: one message per row, each row's state in a [`Journal`].
///
/// A row is `InFlight` on disk before its request is written. On start (and after each round of
/// sends) every row left in flight or unknown is resolved with `HeroClient::find_attempt` before
/// anything new is sent: found → sent; not found after the lookups' delays → sent again (at most
/// [`Options::max_sends`] writes); more than one candidate → ambiguous, for a person. So the
/// outbox never writes a row's request while an earlier one may have gone, and no row is dropped:
/// each ends sent, failed (with Hero's reason) or ambiguous, or stays for a re-run.
///
/// Rows to one patient are sent one at a time, and not while one of them is unresolved, so the
/// lookup windows of one patient's rows do not overlap; where they still do (a crash), a found
/// message is never attributed to one of several rows: they all end ambiguous.
///
/// ```no_run
/// use herohealth::MessageType;
/// use herohealth_outbox::{Input, Options, Outbox, Row, SqliteJournal};
///
/// # async fn run(hero: herohealth::HeroClient) -> Result<(), Box<dyn std::error::Error>> {
/// let input = Input::from_rows(vec![
///     Row::new("98765", MessageType::Sms, "Your results are ready")?,
///     Row::new("98766", MessageType::Email, "Time for your annual review")?,
/// ]);
/// let outbox = Outbox::new(hero, SqliteJournal::open("reminders.db")?, Options::default());
/// let summary = outbox.run(&input, |event| eprintln!("{event:?}")).await?;
/// for entry in outbox.entries().await? {
///     println!("row {}: {} {:?}", entry.index, entry.state.status(), entry.state.message_id());
/// }
/// assert!(summary.all_sent());
/// # Ok(()) }
/// ```
pub struct Outbox<J: Journal> {
    /// The client, as given.
    hero: HeroClient,
    journal: J,
    options: Options,
    /// The pace and the client paced by it, set up on the first run (a shared pace is the
    /// journal's: it may need a connection).
    paced: tokio::sync::OnceCell<Paced>,
    /// The rate last reported in an [`Event::Rate`].
    rate_shown: Mutex<Option<f64>>,
    /// The client's practice group, as a key ([`HeroClient::practice_group_key`]).
    group: String,
    /// Rows by status as this process sees them (the `herohealth.outbox.rows` gauge).
    tally: crate::telemetry::Tally,
    /// The oldest row waiting for a person (the `herohealth.outbox.waiting.age` gauge).
    waiting: crate::telemetry::Waiting,
}

/// The one pace of the outbox's requests (the journal's shared one, the options', or the
/// client's), and the client for lookups, paced by it.
struct Paced {
    pace: Pace,
    hero: HeroClient,
}

impl<J: Journal> std::fmt::Debug for Outbox<J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// How often a worker whose rows are all held by others looks again.
const POLL: Duration = Duration::from_millis(200);

/// Rows final so far, of all.
struct Progress {
    done: usize,
    total: usize,
}

/// What one send came to.
enum Sent {
    Final(Status),
    Unknown,
    Retry(Box<Entry>, herohealth::Error),
    /// Hero asked to wait longer than allowed, or the shared pace failed: the run stops (the
    /// row is pending again).
    Stop(OutboxError),
    /// Not written (its deadline passed before it could be): it goes round again.
    Again(Box<Entry>),
}

impl<J: Journal> Outbox<J> {
    /// An outbox sending with `hero` (its own retries are turned off for sends: the outbox
    /// retries what is safe to retry). Its pace, set up when it first runs: the journal's shared
    /// one when it has one ([`Journal::shared_pace`]), else [`Options::rate`]'s, else the
    /// client's.
    pub fn new(hero: HeroClient, journal: J, options: Options) -> Self {
        Self {
            group: hero.practice_group_key(),
            rate_shown: Mutex::new(None),
            hero,
            journal,
            options,
            paced: tokio::sync::OnceCell::new(),
            tally: crate::telemetry::Tally::default(),
            waiting: crate::telemetry::Waiting::default(),
        }
    }

    /// The journal.
    pub fn journal(&self) -> &J {
        &self.journal
    }

    /// The pace (set up once): a journal that shares one and fails to stops the run.
    async fn paced(&self) -> Result<&Paced, OutboxError> {
        self.paced
            .get_or_try_init(|| async {
                let rate = self.options.rate.or_else(|| {
                    self.hero
                        .pace()
                        .and_then(|p| p.limit())
                        .and_then(|l| NonZeroU32::new(l as u32))
                });
                let shared = match rate {
                    Some(rate) => self.journal.shared_pace(&self.group, rate).await?,
                    None => None,
                };
                let pace = match (shared, self.options.rate) {
                    (Some(shared), _) => shared,
                    (None, Some(rate)) => Pace::new(rate.get()),
                    (None, None) => self.hero.pace().cloned().unwrap_or_else(Pace::unlimited),
                };
                let pace = if pace.get_max_pause() > self.options.max_wait {
                    pace.max_pause(self.options.max_wait)
                } else {
                    pace
                };
                *self.rate_shown.lock().expect("rate lock") = pace.per_second();
                Ok(Paced {
                    hero: self.hero.with_pace(Some(pace.clone())),
                    pace,
                })
            })
            .await
    }

    /// The rate, when it changed since it was last reported.
    fn rate_change(&self, pace: &Pace) -> Option<Option<f64>> {
        let now = pace.per_second();
        let mut shown = self.rate_shown.lock().expect("rate lock");
        (*shown != now).then(|| {
            *shown = now;
            now
        })
    }

    async fn transition(
        &self,
        run: u64,
        index: u64,
        from: Status,
        to: RowState,
    ) -> Result<(), JournalError> {
        self.journal.transition(run, index, from, &to).await?;
        self.tally.moved(from, to.status());
        Ok(())
    }

    /// Reads the oldest row waiting for a person, for its gauge (feature `metrics`; without
    /// it, nothing is read): `now`, or when the last reading is [stale](crate::telemetry::Waiting::stale).
    async fn read_waiting(&self, now: bool) -> Result<(), JournalError> {
        if crate::telemetry::Waiting::MEASURED && (now || self.waiting.stale()) {
            self.waiting.register();
            self.waiting.read(&self.journal.runs().await?, &self.group);
        }
        Ok(())
    }

    /// Every row with its state, in input order (of the run [`run`](Self::run) opened, or of the
    /// journal's scope).
    pub async fn entries(&self) -> Result<Vec<Entry>, OutboxError> {
        Ok(self.journal.entries().await?)
    }

    /// Sends every row of `input` that is not final yet, resolving first whatever an earlier run
    /// left in flight or unknown. Calls `on_event` as it goes. Returns the summary of the whole
    /// journal when no row is left to send; stops early with an error (everything done so far
    /// kept) when the journal belongs to another input, the journal fails, or Hero cannot be
    /// reached [`Options::max_retries`] times in a row.
    ///
    /// With a journal several workers share (a `PgJournal`), `input` is queued once
    /// (by its fingerprint) and this worker works the queue of its practice group, together with
    /// the others, until every row of `input` is final.
    pub async fn run(
        &self,
        input: &Input,
        on_event: impl FnMut(Event),
    ) -> Result<Summary, OutboxError> {
        self.journal.bind(&self.group).await?;
        self.journal.open(input).await?;
        self.work(on_event).await
    }

    /// Works whatever the journal holds that is not final (for a shared journal: what its scope
    /// holds, see `PgJournal`), as [`run`](Self::run) does after opening its input.
    ///
    /// ```no_run
    /// # async fn run(outbox: herohealth_outbox::Outbox<herohealth_outbox::SqliteJournal>) -> Result<(), herohealth_outbox::OutboxError> {
    /// let summary = outbox.work(|_event| {}).await?; // what an earlier run left
    /// println!("{} sent", summary.sent);
    /// # Ok(()) }
    /// ```
    pub async fn work(&self, mut on_event: impl FnMut(Event)) -> Result<Summary, OutboxError> {
        self.journal.bind(&self.group).await?;
        let paced = self.paced().await?;
        let entries = self.entries().await?;
        let count = |entries: &[Entry], pick: fn(Status) -> bool| {
            entries.iter().filter(|e| pick(e.state.status())).count()
        };
        let mut progress = Progress {
            done: count(&entries, Status::is_final),
            total: entries.len(),
        };
        on_event(Event::Started {
            total: progress.total,
            done: progress.done,
            to_resolve: count(&entries, |s| {
                matches!(s, Status::InFlight | Status::Unknown)
            }),
        });
        self.tally.reset(&entries);
        self.read_waiting(true).await?;
        let span = crate::telemetry::run_span(progress.total, progress.done);
        let worked = self
            .work_loop(paced, &mut progress, &mut on_event)
            .instrument(span)
            .await;
        // Whatever happened, rows held and not started go back to the queue.
        let released = self.journal.release().await;
        let summary = worked?;
        released?;
        Ok(summary)
    }

    async fn work_loop(
        &self,
        paced: &Paced,
        progress: &mut Progress,
        on_event: &mut impl FnMut(Event),
    ) -> Result<Summary, OutboxError> {
        let mut retries = 0u32;
        let batch = self.options.concurrency.saturating_mul(4).max(8);
        loop {
            self.read_waiting(false).await?;
            let claimed = self.journal.claim(batch).await?;
            if claimed.is_empty() {
                if self.journal.unfinished().await? == 0 {
                    self.read_waiting(true).await?;
                    return Ok(Summary::of(&self.entries().await?));
                }
                // Rows other workers hold (or that wait for another row of their patient).
                tokio::time::sleep(POLL).await;
                continue;
            }
            let (unresolved, pending): (Vec<Entry>, Vec<Entry>) = claimed
                .into_iter()
                .filter(|e| !e.state.status().is_final())
                .partition(|e| matches!(e.state.status(), Status::InFlight | Status::Unknown));
            if !unresolved.is_empty() {
                self.resolve(&paced.hero, unresolved, progress, on_event)
                    .await?;
                // A row may have become ambiguous: it waits for a person from now.
                self.read_waiting(true).await?;
                on_event(Event::Progress {
                    done: progress.done,
                    total: progress.total,
                });
            }
            if !pending.is_empty() {
                self.send_round(&paced.pace, pending, &mut retries, progress, on_event)
                    .await?;
            }
        }
    }
}
