//! The one retry policy, applied to every operation by the transport hook (`src/transport.rs`).
//!
//! - A `GET` is retried on connect errors, timeouts, broken connections, 429, 502, 503 and 504.
//! - A `POST` or `PATCH` (a send) is retried only when the request provably never reached Hero (the
//!   connection could not be made) or Hero refused it with 429. Any other failure after the request
//!   was written is returned with [`crate::Error::outcome_unknown`] set: it is never sent twice.
//! - Waits are exponential with full jitter, never shorter than `Retry-After`, and all attempts fit
//!   in the total deadline.

use std::time::Duration;

/// How the client retries.
///
/// **Defaults** ([`RetryPolicy::default`], what a client has unless told otherwise): up to 3
/// attempts (`max_attempts`), the first wait drawn below 250 ms (`initial_backoff`), each cap
/// doubling up to 10 s (`max_backoff`), never shorter than Hero's `Retry-After`, and no retry
/// starting later than 60 s after the first attempt (`total_deadline`). Each attempt itself may
/// take the client's timeout ([`crate::DEFAULT_TIMEOUT`], 30 s, unless set). Which failures are
/// retried is not a setting: see the rules in the guide ([errors and outcomes](crate::guide::errors)).
///
/// ```
/// use std::time::Duration;
/// use herohealth::RetryPolicy;
///
/// let defaults = RetryPolicy::default();
/// assert_eq!(defaults.get_max_attempts(), 3);
/// assert_eq!(defaults.get_initial_backoff(), Duration::from_millis(250));
/// assert_eq!(defaults.get_max_backoff(), Duration::from_secs(10));
/// assert_eq!(defaults.get_total_deadline(), Duration::from_secs(60));
///
/// let patient = RetryPolicy::default()
///     .max_attempts(5)
///     .initial_backoff(Duration::from_millis(500))
///     .total_deadline(Duration::from_secs(120));
/// let never = RetryPolicy::disabled();
/// assert_eq!(never.get_max_attempts(), 1);
/// # let _ = patient;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    total_deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
            total_deadline: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The cap of the first wait; each later cap doubles, up to [`max_backoff`](Self::max_backoff).
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The largest wait between two attempts (apart from a longer `Retry-After`).
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// No retry starts, and no wait ends, later than this after the first attempt started.
    pub fn total_deadline(mut self, deadline: Duration) -> Self {
        self.total_deadline = deadline;
        self
    }

    /// Attempts in all (default 3).
    pub fn get_max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The total deadline (default 60 s).
    pub fn get_total_deadline(&self) -> Duration {
        self.total_deadline
    }

    /// The cap of the first wait (default 250 ms).
    pub fn get_initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// The largest wait between two attempts, apart from a longer `Retry-After` (default 10 s).
    pub fn get_max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// The wait before attempt `attempt + 1` (`attempt` counts from 1): full jitter over the
    /// exponential cap, and at least `retry_after`.
    pub(crate) fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let jittered = self.backoff_cap(attempt).mul_f64(fastrand::f64());
        jittered.max(retry_after.unwrap_or_default())
    }

    /// The longest wait before attempt `attempt + 1`: the initial backoff, doubled for each
    /// attempt after the first, at most the maximum backoff. The wait itself is drawn uniformly
    /// below it (full jitter), and is never shorter than a `Retry-After`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use herohealth::RetryPolicy;
    /// let p = RetryPolicy::default()
    ///     .initial_backoff(Duration::from_millis(100))
    ///     .max_backoff(Duration::from_millis(300));
    /// assert_eq!(p.backoff_cap(1), Duration::from_millis(100));
    /// assert_eq!(p.backoff_cap(2), Duration::from_millis(200));
    /// assert_eq!(p.backoff_cap(3), Duration::from_millis(300));
    /// ```
    pub fn backoff_cap(&self, attempt: u32) -> Duration {
        self.initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
            .min(self.max_backoff)
    }
}

/// What the transport does after one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Done: hand the response or error to the caller.
    Return,
    /// The attempt failed in a way that may pass next time.
    Retry,
    /// Done, and the request may have reached Hero although no success came back.
    OutcomeUnknown,
}

/// The attempt came back with `status`.
pub(crate) fn after_status(idempotent: bool, status: u16) -> Verdict {
    match status {
        429 => Verdict::Retry,
        502..=504 if idempotent => Verdict::Retry,
        500..=599 if !idempotent => Verdict::OutcomeUnknown,
        _ => Verdict::Return,
    }
}

/// The attempt failed without a response.
pub(crate) fn after_error(idempotent: bool, e: &reqwest::Error) -> Verdict {
    if e.is_connect() || idempotent {
        // A connect error means nothing was written: safe to send again, whatever the method.
        Verdict::Retry
    } else if e.is_builder() {
        Verdict::Return
    } else {
        Verdict::OutcomeUnknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_are_never_retried_after_a_server_answer_other_than_429() {
        assert_eq!(after_status(false, 429), Verdict::Retry);
        assert_eq!(after_status(false, 503), Verdict::OutcomeUnknown);
        assert_eq!(after_status(false, 500), Verdict::OutcomeUnknown);
        assert_eq!(after_status(false, 400), Verdict::Return);
        assert_eq!(after_status(true, 503), Verdict::Retry);
        assert_eq!(after_status(true, 500), Verdict::Return);
        assert_eq!(after_status(true, 404), Verdict::Return);
    }

    #[test]
    fn the_cap_doubles_per_attempt_up_to_the_maximum() {
        let p = RetryPolicy::default()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(700));
        let caps: Vec<_> = (1..=5).map(|a| p.backoff_cap(a).as_millis()).collect();
        assert_eq!(caps, [100, 200, 400, 700, 700]);
        assert_eq!(p.backoff_cap(40), Duration::from_millis(700));
        assert_eq!(p.backoff_cap(0), Duration::from_millis(100));
    }

    /// The waits are spread over the whole range below the cap (full jitter): never above it, and
    /// not stuck at zero or at the cap. 2,000 draws: the chance that a correct uniform draw fails
    /// these bounds is below 1e-100.
    #[test]
    fn waits_are_drawn_below_the_cap_and_grow_with_it() {
        let p = RetryPolicy::default()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(300));
        let mean = |attempt: u32| {
            let draws: Vec<f64> = (0..2_000)
                .map(|_| p.delay(attempt, None).as_secs_f64() * 1_000.0)
                .collect();
            let cap = p.backoff_cap(attempt).as_secs_f64() * 1_000.0;
            assert!(draws.iter().all(|d| *d <= cap), "a wait above the cap");
            assert!(draws.iter().any(|d| *d < cap * 0.1), "never a short wait");
            assert!(draws.iter().any(|d| *d > cap * 0.9), "never a long wait");
            draws.iter().sum::<f64>() / draws.len() as f64
        };
        let (first, second, third) = (mean(1), mean(2), mean(3));
        assert!((35.0..65.0).contains(&first), "{first}");
        assert!((70.0..130.0).contains(&second), "{second}");
        assert!((105.0..195.0).contains(&third), "{third}");
    }

    #[test]
    fn a_retry_after_is_the_shortest_wait() {
        let p = RetryPolicy::default()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(300));
        for attempt in 1..5 {
            assert_eq!(
                p.delay(attempt, Some(Duration::from_secs(2))),
                Duration::from_secs(2)
            );
            assert!(p.delay(attempt, Some(Duration::from_millis(1))) >= Duration::from_millis(1));
        }
    }
}
