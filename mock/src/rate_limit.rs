//! The per-practice-group rate limit ([`crate::MockConfig::rate_limit`]): a sliding window of one
//! second on the mock clock, so a test can step it with [`crate::MockServer::advance`].

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::state::Clock;

/// The times (mock clock) of the requests admitted in the last second, per practice group (no
/// `Debug`: its keys are practice group ids).
pub(crate) struct RateLimit {
    per_second: Option<u32>,
    admitted: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

impl RateLimit {
    pub(crate) fn new(per_second: Option<u32>) -> Self {
        Self {
            per_second,
            admitted: Mutex::default(),
        }
    }

    /// `None` when a request of `group` is admitted now; otherwise the `Retry-After` seconds
    /// (real time, at least 1) until the window has room again.
    pub(crate) fn admit(&self, group: &str, now: DateTime<Utc>, clock: &Clock) -> Option<u64> {
        let limit = self.per_second? as usize;
        let second = chrono::Duration::seconds(1);
        let mut admitted = self.admitted.lock().expect("rate limit lock");
        let window = admitted.entry(group.to_owned()).or_default();
        while window.front().is_some_and(|t| now - *t >= second) {
            window.pop_front();
        }
        if window.len() < limit {
            window.push_back(now);
            return None;
        }
        let oldest = *window.front().expect("a full window");
        let wait = (oldest + second - now).to_std().unwrap_or_default();
        let real = if clock.scale() > 0.0 {
            wait.as_secs_f64() / clock.scale()
        } else {
            wait.as_secs_f64()
        };
        Some((real.ceil() as u64).max(1))
    }
}
