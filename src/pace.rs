//! Pacing: a client that keeps under Hero's rate limit by itself ([`Pace`]), so it never needs a
//! 429 to find the limit.
//!
//! Hero limits requests per practice group. A [`Pace`] spaces requests evenly (GCRA, the
//! "generic cell rate algorithm": each request takes the next slot of a schedule whose
//! *theoretical arrival time* moves on by one interval per request) at a share
//! ([`Pace::HEADROOM`]) of the limit, so that arrival jitter does not put more than the limit in
//! any sliding second. [`HeroClientBuilder::rate_limit`](crate::HeroClientBuilder::rate_limit)
//! gives a client one, and every call of the client and its clones waits for its slot before
//! each attempt: sends, lists, pages fetched ahead, waiters' polls, `find_send`'s looks.
//!
//! The schedule is a [`PaceStore`]: in this process ([`LocalPaceStore`], the default) or shared
//! by several processes (herohealth-outbox keeps one per practice group in PostgreSQL, advanced
//! in one atomic statement), so that N workers together stay under one limit.
//!
//! A 429 (a limit lower than configured, or another program on the same practice group) pauses
//! the schedule for its `Retry-After` (at most [`Pace::max_pause`]) and halves the rate; a second's
//! worth of successes brings a tenth of the limit back, up to the limit. Every duration that comes
//! from outside is capped and added with saturating arithmetic.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::error::{Error, ErrorKind};

/// A boxed future, as [`PaceStore`]'s methods return.
pub type PaceFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, PaceStoreError>> + Send + 'a>>;

/// A [`PaceStore`] that failed (a shared database could not be reached): nothing was sent.
/// Its text must hold no secret or patient data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the shared pace failed: {0}")]
pub struct PaceStoreError(pub String);

/// Where a [`Pace`]'s schedule lives: the GCRA's theoretical arrival time (TAT).
///
/// Both methods must be atomic with respect to every other user of the same schedule (one
/// process's tasks, or several processes'): that is what keeps them, together, under one limit.
///
/// ```
/// use std::{sync::Mutex, time::{Duration, Instant}};
/// use herohealth::{PaceFuture, PaceStore};
///
/// /// A schedule in this process (what `LocalPaceStore` does).
/// struct Mine(Mutex<Option<Instant>>);
///
/// impl PaceStore for Mine {
///     fn reserve(&self, interval: Duration) -> PaceFuture<'_, Duration> {
///         let mut tat = self.0.lock().unwrap();
///         let now = Instant::now();
///         let slot = tat.map_or(now, |t| t.max(now));
///         *tat = Some(slot + interval);
///         Box::pin(std::future::ready(Ok(slot - now)))
///     }
///     fn pause(&self, pause: Duration) -> PaceFuture<'_, ()> {
///         let mut tat = self.0.lock().unwrap();
///         let until = Instant::now() + pause;
///         *tat = Some(tat.map_or(until, |t| t.max(until)));
///         Box::pin(std::future::ready(Ok(())))
///     }
/// }
/// let pace = herohealth::Pace::with_store(10, Mine(Mutex::new(None)));
/// # let _ = pace;
/// ```
pub trait PaceStore: Send + Sync + 'static {
    /// Takes the next slot, atomically: `slot = max(tat, now)`, then `tat = slot + interval`.
    /// Returns how long from now until `slot` (zero when it is now).
    fn reserve(&self, interval: Duration) -> PaceFuture<'_, Duration>;

    /// Moves the schedule on to at least `pause` from now, atomically: `tat = max(tat, now +
    /// pause)` (a 429's `Retry-After`, already capped by the [`Pace`]).
    fn pause(&self, pause: Duration) -> PaceFuture<'_, ()>;
}

/// The schedule of one process: a theoretical arrival time on tokio's clock.
///
/// ```
/// let pace = herohealth::Pace::with_store(10, herohealth::LocalPaceStore::default());
/// # let _ = pace;
/// ```
#[derive(Debug, Default)]
pub struct LocalPaceStore {
    tat: Mutex<Option<tokio::time::Instant>>,
}

impl PaceStore for LocalPaceStore {
    fn reserve(&self, interval: Duration) -> PaceFuture<'_, Duration> {
        let now = tokio::time::Instant::now();
        let mut tat = self.tat.lock().unwrap_or_else(|e| e.into_inner());
        let slot = tat.map_or(now, |t| t.max(now));
        *tat = Some(add(slot, interval));
        Box::pin(std::future::ready(Ok(slot.saturating_duration_since(now))))
    }

    fn pause(&self, pause: Duration) -> PaceFuture<'_, ()> {
        let until = add(tokio::time::Instant::now(), pause);
        let mut tat = self.tat.lock().unwrap_or_else(|e| e.into_inner());
        *tat = Some(tat.map_or(until, |t| t.max(until)));
        Box::pin(std::future::ready(Ok(())))
    }
}

/// `t + d`, or a far future (a year on) when that overflows.
fn add(t: tokio::time::Instant, d: Duration) -> tokio::time::Instant {
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(t)
}

/// Requests per second at most, kept by spacing them evenly (GCRA: each request takes the next
/// slot of a schedule whose theoretical arrival time moves on by one interval per request) at
/// [`HEADROOM`](Self::HEADROOM) of the limit, so that arrival jitter does not put more than the
/// limit in any sliding second. The schedule is a [`PaceStore`]: in this process
/// ([`LocalPaceStore`]) or shared by several (herohealth-outbox keeps one per practice group in
/// PostgreSQL). A 429 pauses the schedule for its `Retry-After` (at most
/// [`max_pause`](Self::max_pause)) and halves the rate; a second's worth of successes brings a
/// tenth of the limit back. Durations from outside are capped and added with saturating
/// arithmetic. Clones share one schedule and one rate.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> herohealth::Result<()> {
/// let pace = herohealth::Pace::new(50);
/// assert_eq!(pace.limit(), Some(50.0));
/// pace.acquire().await?; // the first slot is now
/// // A 429 with `Retry-After: 2`: everyone waits 2 s, then goes on at half the rate.
/// assert_eq!(pace.rate_limited(Some(std::time::Duration::from_secs(2))).await, 25.0);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Pace {
    inner: Arc<Inner>,
}

struct Inner {
    store: Box<dyn PaceStore>,
    rate: Mutex<Rate>,
}

struct Rate {
    /// The configured limit (`None`: none, until a 429 starts one).
    limit: Option<f64>,
    /// The rate kept now (`None`: unlimited).
    now: Option<f64>,
    successes: u32,
    max_pause: Duration,
}

impl fmt::Debug for Pace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = self.inner.rate.lock().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("Pace")
            .field("limit", &rate.limit)
            .field("per_second", &rate.now)
            .field("max_pause", &rate.max_pause)
            .finish_non_exhaustive()
    }
}

/// The slowest a 429 makes a pace, in requests per second.
const FLOOR: f64 = 1.0;
/// Without a configured limit, the rate a first 429 starts from.
const UNLIMITED_START: f64 = 10.0;

impl Pace {
    /// The share of the limit actually kept: arrival jitter (one request sent a little late, the
    /// next on time) must not put more than the limit inside any sliding second. At 0.95 a
    /// second's worth of slots spans 1/0.95 s, so a request must arrive more than 52 ms late
    /// against the one a limit's worth of slots after it to put one request too many in a
    /// sliding second; the worst measured (BENCHMARKS.md §7, workers as tasks of one process on
    /// a saturated machine) was 32.8 ms, more than 0.97's 31 ms.
    pub const HEADROOM: f64 = 0.95;

    /// The longest a 429's `Retry-After` pauses the schedule by default (60 s, the default
    /// retry policy's total deadline); see [`max_pause`](Self::max_pause).
    pub const DEFAULT_MAX_PAUSE: Duration = Duration::from_secs(60);

    /// At most `per_second` requests a second (at least 1), on a schedule in this process.
    pub fn new(per_second: u32) -> Pace {
        Self::with_store(per_second, LocalPaceStore::default())
    }

    /// At most `per_second` requests a second (at least 1), on `store`'s schedule (shared by
    /// every process using the same store).
    pub fn with_store(per_second: u32, store: impl PaceStore) -> Pace {
        Self::build(Some(f64::from(per_second.max(1))), Box::new(store))
    }

    /// No limit until Hero answers 429; then 10 a second, and back to none
    /// once well past it.
    pub fn unlimited() -> Pace {
        Self::build(None, Box::new(LocalPaceStore::default()))
    }

    fn build(limit: Option<f64>, store: Box<dyn PaceStore>) -> Pace {
        Pace {
            inner: Arc::new(Inner {
                store,
                rate: Mutex::new(Rate {
                    limit,
                    now: limit,
                    successes: 0,
                    max_pause: Self::DEFAULT_MAX_PAUSE,
                }),
            }),
        }
    }

    /// The longest pause a 429's `Retry-After` imposes (default [`DEFAULT_MAX_PAUSE`]): a longer
    /// one pauses this long; a caller that must not wait less than Hero asked stops instead
    /// (the client's retries do, and herohealth-outbox does).
    ///
    /// [`DEFAULT_MAX_PAUSE`]: Self::DEFAULT_MAX_PAUSE
    ///
    /// ```
    /// let pace = herohealth::Pace::new(10).max_pause(std::time::Duration::from_secs(5));
    /// assert_eq!(pace.get_max_pause(), std::time::Duration::from_secs(5));
    /// ```
    pub fn max_pause(self, max: Duration) -> Pace {
        self.lock().max_pause = max;
        self
    }

    /// The longest pause a 429 imposes.
    pub fn get_max_pause(&self) -> Duration {
        self.lock().max_pause
    }

    /// The configured limit, requests per second (`None`: none).
    pub fn limit(&self) -> Option<f64> {
        self.lock().limit
    }

    /// The rate kept now (below the limit after 429s; `None`: unlimited).
    pub fn per_second(&self) -> Option<f64> {
        self.lock().now
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Rate> {
        self.inner.rate.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How late after its slot a request may still go: one that would go later (its task woke
    /// late, or a durable sender's commit took long) takes a fresh slot instead, so that a late
    /// request never bunches up with the next ones inside one second.
    pub const LATE: Duration = Duration::from_millis(15);

    /// Waits for the next slot and returns when it was (tokio's clock): a caller that does more
    /// work before it writes its request takes a fresh slot when that work made it later than
    /// [`LATE`](Self::LATE) ([`acquire_again_if_late`](Self::acquire_again_if_late)). Fails only
    /// when a shared schedule cannot be read ([`ErrorKind::Pace`]): then nothing may be sent.
    pub async fn acquire(&self) -> crate::Result<tokio::time::Instant> {
        let mut tries = 0;
        loop {
            let interval = self
                .per_second()
                .map_or(Duration::ZERO, |r| interval_of(r.max(FLOOR)));
            let slot = self.reserve_slot(interval).await?;
            tokio::time::sleep_until(slot).await;
            tries += 1;
            if interval.is_zero() || slot.elapsed() <= Self::LATE || tries >= 3 {
                return Ok(slot);
            }
        }
    }

    /// Takes the next slot without waiting for it: returns when it is (tokio's clock), for a
    /// caller with work to do meanwhile (a durable sender's commit) that then waits until it
    /// (`tokio::time::sleep_until`) and takes a fresh one if it is late
    /// ([`acquire_again_if_late`](Self::acquire_again_if_late)).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> herohealth::Result<()> {
    /// let pace = herohealth::Pace::new(50);
    /// let slot = pace.reserve().await?;
    /// // ... record the request durably meanwhile ...
    /// tokio::time::sleep_until(slot).await;
    /// pace.acquire_again_if_late(slot).await?;
    /// # Ok(()) }
    /// ```
    pub async fn reserve(&self) -> crate::Result<tokio::time::Instant> {
        let interval = self
            .per_second()
            .map_or(Duration::ZERO, |r| interval_of(r.max(FLOOR)));
        self.reserve_slot(interval).await
    }

    /// The next slot, on tokio's clock. A shared store answers "in `wait` from when I took it",
    /// and it took it somewhere inside the round trip: the middle of the round trip is the best
    /// guess (off by at most half the round trip's asymmetry, where taking its end would make
    /// every request late by the way back).
    async fn reserve_slot(&self, interval: Duration) -> crate::Result<tokio::time::Instant> {
        let before = tokio::time::Instant::now();
        let wait = self
            .inner
            .store
            .reserve(interval)
            .await
            .map_err(|e| Error::new(ErrorKind::Pace, e.0).with_sent(crate::WasSent::NotSent))?;
        let round_trip = before.elapsed();
        Ok(add(add(before, round_trip / 2), wait))
    }

    /// Takes a fresh slot when `slot` (from [`acquire`](Self::acquire)) is more than
    /// [`LATE`](Self::LATE) ago.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> herohealth::Result<()> {
    /// let pace = herohealth::Pace::new(50);
    /// let slot = pace.acquire().await?;
    /// // ... record the request durably ...
    /// pace.acquire_again_if_late(slot).await?;
    /// // ... write it ...
    /// # Ok(()) }
    /// ```
    pub async fn acquire_again_if_late(
        &self,
        slot: tokio::time::Instant,
    ) -> crate::Result<tokio::time::Instant> {
        if slot.elapsed() <= Self::LATE || self.per_second().is_none() {
            return Ok(slot);
        }
        self.acquire().await
    }

    /// Waits until `slot` (from [`reserve`](Self::reserve), asked for at `asked`), takes a fresh
    /// slot when that one is late ([`acquire_again_if_late`](Self::acquire_again_if_late)), and
    /// returns the slot the request goes at: for a caller that paces its own requests (a
    /// durable sender that records each request between taking its slot and writing it). With
    /// the feature `metrics` the wait (from `asked` to that slot) is measured as the client
    /// measures its own, in `herohealth.client.pace.wait.duration` for an attempt of
    /// `operation` (an operation id of the spec, `send_message`; another name is not measured:
    /// a metric's attributes are the spec's operation ids only).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> herohealth::Result<()> {
    /// let pace = herohealth::Pace::new(50);
    /// let asked = tokio::time::Instant::now();
    /// let slot = pace.reserve().await?;
    /// // ... record the request durably meanwhile ...
    /// let going = pace.wait_for(slot, asked, "send_message").await?;
    /// assert!(going >= slot);
    /// // ... write it ...
    /// # Ok(()) }
    /// ```
    pub async fn wait_for(
        &self,
        slot: tokio::time::Instant,
        asked: tokio::time::Instant,
        operation: &str,
    ) -> crate::Result<tokio::time::Instant> {
        tokio::time::sleep_until(slot).await;
        let going = self.acquire_again_if_late(slot).await;
        if let Some(op) = crate::spec::OPERATIONS.iter().find(|o| o.id == operation) {
            let until = going
                .as_ref()
                .map_or_else(|_| tokio::time::Instant::now(), |s| *s);
            crate::telemetry::paced(op, until.saturating_duration_since(asked));
        }
        going
    }

    /// Pauses the schedule for `pause` (at most [`max_pause`](Self::max_pause)) without
    /// changing the rate: for a failure that calls for a short wait (a connection refused).
    pub async fn pause(&self, pause: Duration) {
        let pause = pause.min(self.get_max_pause());
        if let Err(e) = self.inner.store.pause(pause).await {
            tracing::warn!(error = %e, "hero pace: the pause could not be shared");
        }
    }

    /// A request went through: after about a second's worth, speed up by a tenth of the limit.
    /// Returns the new rate when it changed.
    pub fn succeeded(&self) -> Option<Option<f64>> {
        let mut s = self.lock();
        let rate = s.now?;
        if s.limit.is_some_and(|m| rate >= m) {
            return None;
        }
        s.successes = s.successes.saturating_add(1);
        if f64::from(s.successes) < rate {
            return None;
        }
        s.successes = 0;
        let step = (s.limit.unwrap_or(UNLIMITED_START) / 10.0).max(1.0);
        let next = rate + step;
        s.now = match s.limit {
            Some(m) => Some(next.min(m)),
            // Back to no limit once well past where the 429s started.
            None if next >= UNLIMITED_START * 10.0 => None,
            None => Some(next),
        };
        Some(s.now)
    }

    /// Hero answered 429: pauses the schedule for `retry_after` (1 s when absent; at most
    /// [`max_pause`](Self::max_pause)) and halves the rate. Returns the new rate. A failure of a
    /// shared schedule is logged: the rate is halved all the same.
    pub async fn rate_limited(&self, retry_after: Option<Duration>) -> f64 {
        let (next, max_pause) = {
            let mut s = self.lock();
            let next = s.now.map_or(UNLIMITED_START, |r| (r / 2.0).max(FLOOR));
            s.now = Some(next);
            s.successes = 0;
            (next, s.max_pause)
        };
        let pause = retry_after.unwrap_or(Duration::from_secs(1)).min(max_pause);
        if let Err(e) = self.inner.store.pause(pause).await {
            tracing::warn!(error = %e, "hero pace: the pause could not be shared");
        }
        next
    }
}

/// The interval between slots at `per_second`, with the headroom.
fn interval_of(per_second: f64) -> Duration {
    Duration::try_from_secs_f64(1.0 / (per_second * Pace::HEADROOM)).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests;
