//! [`WaitOptions`]: how a waiter polls (intervals, backoff, deadline).

use std::time::Duration;

/// How a waiter polls.
///
/// **Defaults** ([`WaitOptions::default`]): the first poll at once, the second after 1 s
/// (`initial_interval`), each wait then 1.5 times longer (`multiplier`) up to 30 s
/// (`max_interval`), and a 10-minute `deadline`, after which the waiter fails with
/// [`ErrorKind::WaitDeadline`](crate::ErrorKind::WaitDeadline). No wait is ever shorter than
/// [`WaitOptions::MIN_INTERVAL`].
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

    /// Give up (with [`ErrorKind::WaitDeadline`](crate::ErrorKind::WaitDeadline)) when no terminal
    /// state was seen by then.
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

    /// How long the waiter polls before failing with
    /// [`ErrorKind::WaitDeadline`](crate::ErrorKind::WaitDeadline) (default 10 minutes).
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
