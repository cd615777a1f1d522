//! The client-side rate limit: a `governor` limiter whose rate halves on a 429 (after the
//! `Retry-After` pause) and grows back by a tenth of the configured limit per second of
//! successes without one.

use std::{
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::Duration,
};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

/// The slowest the outbox goes after 429s, in requests per second.
const FLOOR: f64 = 1.0;
/// Without a configured limit, the rate a first 429 starts from.
const UNLIMITED_START: f64 = 10.0;
/// The share of a rate actually paced: arrival jitter (a request delayed, the next one not) must
/// not put more than the limit inside any one second of a sliding window.
const HEADROOM: f64 = 0.97;
/// The burst allowed, as a share of the rate.
const BURST: f64 = 0.02;

pub(crate) struct Pace {
    inner: Mutex<State>,
}

struct State {
    /// The configured limit (`None`: none).
    max: Option<f64>,
    /// The current rate (`None`: unlimited).
    rate: Option<f64>,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    successes: u32,
    paused_until: Option<Instant>,
}

fn limiter(rate: f64) -> Arc<DefaultDirectRateLimiter> {
    let rate = rate.max(FLOOR);
    let period = Duration::from_secs_f64(1.0 / (rate * HEADROOM));
    // A small burst (2% of the rate) so a permit taken a timer tick late is not lost; with the
    // headroom, no second holds more than 99% of the rate.
    let burst = NonZeroU32::new((rate * BURST) as u32).unwrap_or(NonZeroU32::MIN);
    let quota = Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst);
    Arc::new(RateLimiter::direct(quota))
}

impl Pace {
    pub(crate) fn new(max: Option<NonZeroU32>) -> Self {
        let max = max.map(|m| f64::from(m.get()));
        Self {
            inner: Mutex::new(State {
                max,
                rate: max,
                limiter: max.map(limiter),
                successes: 0,
                paused_until: None,
            }),
        }
    }

    /// Waits for a pause to end and for the limiter's next permit.
    pub(crate) async fn acquire(&self) {
        loop {
            let (pause, limiter) = {
                let s = self.inner.lock().expect("pace lock");
                (s.paused_until, s.limiter.clone())
            };
            if let Some(until) = pause.filter(|u| *u > Instant::now()) {
                tokio::time::sleep_until(until).await;
                continue;
            }
            if let Some(l) = limiter {
                l.until_ready().await;
            }
            // A 429 may have paused everyone while this waited for its permit.
            let paused = self
                .inner
                .lock()
                .expect("pace lock")
                .paused_until
                .is_some_and(|u| u > Instant::now());
            if !paused {
                return;
            }
        }
    }

    /// A request went through: after about a second's worth, speed up by a tenth of the limit.
    /// Returns the new rate when it changed.
    pub(crate) fn success(&self) -> Option<Option<f64>> {
        let mut s = self.inner.lock().expect("pace lock");
        let rate = s.rate?;
        if s.max.is_some_and(|m| rate >= m) {
            return None;
        }
        s.successes += 1;
        if f64::from(s.successes) < rate {
            return None;
        }
        s.successes = 0;
        let step = (s.max.unwrap_or(UNLIMITED_START) / 10.0).max(1.0);
        let next = rate + step;
        match s.max {
            Some(m) => {
                s.rate = Some(next.min(m));
                s.limiter = Some(limiter(next.min(m)));
            }
            // Back to no limit once well past where the 429s started.
            None if next >= UNLIMITED_START * 10.0 => {
                s.rate = None;
                s.limiter = None;
            }
            None => {
                s.rate = Some(next);
                s.limiter = Some(limiter(next));
            }
        }
        Some(s.rate)
    }

    /// Hero answered 429: pause everyone for `retry_after` (1 s when absent) and halve the rate.
    /// Returns the new rate.
    pub(crate) fn rate_limited(&self, retry_after: Option<Duration>) -> f64 {
        let mut s = self.inner.lock().expect("pace lock");
        let until = Instant::now() + retry_after.unwrap_or(Duration::from_secs(1));
        s.paused_until = Some(s.paused_until.map_or(until, |u| u.max(until)));
        let next = s.rate.map_or(UNLIMITED_START, |r| (r / 2.0).max(FLOOR));
        s.rate = Some(next);
        s.limiter = Some(limiter(next));
        s.successes = 0;
        next
    }

    /// Something else retryable (the connection could not be made): pause everyone briefly.
    pub(crate) fn back_off(&self, wait: Duration) {
        let mut s = self.inner.lock().expect("pace lock");
        let until = Instant::now() + wait;
        s.paused_until = Some(s.paused_until.map_or(until, |u| u.max(until)));
    }

    #[cfg(test)]
    fn rate(&self) -> Option<f64> {
        self.inner.lock().expect("pace lock").rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_halves_the_rate_and_successes_bring_it_back_in_steps() {
        let pace = Pace::new(NonZeroU32::new(100));
        assert_eq!(pace.rate(), Some(100.0));
        assert_eq!(pace.rate_limited(None), 50.0);
        assert_eq!(pace.rate_limited(None), 25.0);
        // 24 successes: not yet a second's worth at 25/s.
        for _ in 0..24 {
            assert_eq!(pace.success(), None);
        }
        assert_eq!(pace.success(), Some(Some(35.0)));
        for _ in 0..1000 {
            pace.success();
        }
        assert_eq!(pace.rate(), Some(100.0), "never above the configured limit");
    }

    #[test]
    fn without_a_limit_a_429_starts_one_and_it_goes_again_later() {
        let pace = Pace::new(None);
        assert_eq!(pace.rate(), None);
        assert_eq!(pace.rate_limited(Some(Duration::from_millis(1))), 10.0);
        for _ in 0..10_000 {
            pace.success();
        }
        assert_eq!(pace.rate(), None);
    }
}
