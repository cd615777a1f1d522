//! The pace's schedule, its 429 pauses and its recovery (on tokio's paused clock where time counts).

use super::*;

#[tokio::test(start_paused = true)]
async fn slots_are_spaced_at_the_limit_with_headroom() {
    let pace = Pace::new(100);
    let start = tokio::time::Instant::now();
    // 95 intervals of 1/95 s (the headroom, 0.95): one second on tokio's paused clock, and
    // fewer requests in it than the limit.
    let intervals = (100.0 * Pace::HEADROOM).round() as usize;
    assert_eq!(intervals, 95);
    for _ in 0..=intervals {
        pace.acquire().await.unwrap();
    }
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(999), "{elapsed:?}");
    assert!(elapsed <= Duration::from_millis(1001), "{elapsed:?}");
}

#[tokio::test(start_paused = true)]
async fn a_429_halves_the_rate_and_successes_bring_it_back_in_steps() {
    let pace = Pace::new(100);
    assert_eq!(pace.rate_limited(None).await, 50.0);
    assert_eq!(pace.rate_limited(None).await, 25.0);
    for _ in 0..24 {
        assert_eq!(pace.succeeded(), None);
    }
    assert_eq!(pace.succeeded(), Some(Some(35.0)));
    for _ in 0..1000 {
        pace.succeeded();
    }
    assert_eq!(pace.per_second(), Some(100.0), "never above the limit");
}

#[tokio::test(start_paused = true)]
async fn without_a_limit_a_429_starts_one_and_it_goes_again_later() {
    let pace = Pace::unlimited();
    assert_eq!(pace.per_second(), None);
    assert_eq!(
        pace.rate_limited(Some(Duration::from_millis(1))).await,
        10.0
    );
    for _ in 0..10_000 {
        pace.succeeded();
    }
    assert_eq!(pace.per_second(), None);
}

#[tokio::test(start_paused = true)]
async fn a_hostile_retry_after_pauses_at_most_the_maximum_and_never_overflows() {
    let pace = Pace::new(10).max_pause(Duration::from_secs(5));
    let start = tokio::time::Instant::now();
    pace.rate_limited(Some(Duration::from_secs(u64::MAX))).await;
    pace.rate_limited(Some(Duration::MAX)).await;
    pace.acquire().await.unwrap();
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(5), "{waited:?}");
    assert!(waited < Duration::from_secs(6), "{waited:?}");
    // The store itself never overflows either.
    let store = LocalPaceStore::default();
    store.pause(Duration::MAX).await.unwrap();
    let wait = store.reserve(Duration::MAX).await.unwrap();
    assert!(wait > Duration::from_secs(3600));
}

/// A store that answers "now" after `delay` (a round trip), counting its calls.
#[derive(Default)]
struct Slow {
    inner: LocalPaceStore,
    delay: Duration,
    calls: std::sync::atomic::AtomicU32,
}

impl PaceStore for Slow {
    fn reserve(&self, interval: Duration) -> PaceFuture<'_, Duration> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _ = interval;
        // Always "now" as the store sees it, answered a round trip later.
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            Ok(Duration::ZERO)
        })
    }
    fn pause(&self, pause: Duration) -> PaceFuture<'_, ()> {
        self.inner.pause(pause)
    }
}

/// A slot is placed at the middle of the store's round trip; one that is late by more than
/// `LATE` when its wait ends is taken again, at most three times in all.
#[tokio::test(start_paused = true)]
async fn a_slot_is_the_middle_of_the_round_trip_and_a_late_one_is_taken_again() {
    let store = std::sync::Arc::new(Slow {
        delay: Duration::from_millis(40),
        ..Slow::default()
    });
    struct Shared(std::sync::Arc<Slow>);
    impl PaceStore for Shared {
        fn reserve(&self, interval: Duration) -> PaceFuture<'_, Duration> {
            self.0.reserve(interval)
        }
        fn pause(&self, pause: Duration) -> PaceFuture<'_, ()> {
            self.0.pause(pause)
        }
    }
    let pace = Pace::with_store(1, Shared(store.clone()));
    let before = tokio::time::Instant::now();
    // The store took the slot "now" 20 ms into a 40 ms round trip.
    assert_eq!(
        pace.reserve().await.unwrap(),
        before + Duration::from_millis(20)
    );
    let calls = || store.calls.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(calls(), 1);
    // Every answer comes 40 ms after it was asked: each slot found 20 ms late (> LATE), so
    // it is asked again, three times in all, then taken.
    let unlimited_calls = calls();
    pace.acquire().await.unwrap();
    assert_eq!(calls() - unlimited_calls, 3);
    // A slot just taken is not late; one 20 ms ago is.
    let now = tokio::time::Instant::now();
    assert_eq!(pace.acquire_again_if_late(now).await.unwrap(), now);
    let n = calls();
    tokio::time::advance(Duration::from_millis(20)).await;
    pace.acquire_again_if_late(now).await.unwrap();
    assert!(calls() > n, "a late slot is taken again");
    // Without a rate, nothing is late.
    let unlimited = Pace::unlimited();
    let old = tokio::time::Instant::now() - Duration::from_secs(1);
    assert_eq!(unlimited.acquire_again_if_late(old).await.unwrap(), old);
}

#[tokio::test(start_paused = true)]
async fn a_pause_delays_the_next_slot_without_changing_the_rate() {
    let pace = Pace::new(10).max_pause(Duration::from_secs(3));
    pace.pause(Duration::from_secs(2)).await;
    let start = tokio::time::Instant::now();
    pace.acquire().await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(pace.per_second(), Some(10.0));
    pace.pause(Duration::from_secs(3600)).await;
    let start = tokio::time::Instant::now();
    pace.acquire().await.unwrap();
    assert!(
        start.elapsed() <= Duration::from_secs(3),
        "capped at max_pause"
    );
}

#[test]
fn the_settings_read_back_and_debug_shows_them() {
    let pace = Pace::new(25).max_pause(Duration::from_secs(7));
    assert_eq!(pace.limit(), Some(25.0));
    assert_eq!(pace.get_max_pause(), Duration::from_secs(7));
    assert_eq!(Pace::unlimited().limit(), None);
    assert_eq!(Pace::new(0).limit(), Some(1.0), "at least 1");
    let shown = format!("{pace:?}");
    assert!(
        shown.contains("limit: Some(25.0)") && shown.contains("7s"),
        "{shown}"
    );
    // A sum past tokio's clock is a year on, not a panic.
    let t = tokio::time::Instant::now();
    assert_eq!(
        add(t, Duration::MAX),
        t + Duration::from_secs(365 * 24 * 3600)
    );
}

#[tokio::test(start_paused = true)]
async fn without_a_limit_a_429s_rate_grows_back_a_step_a_second_until_well_past_it() {
    let pace = Pace::unlimited();
    assert_eq!(pace.rate_limited(None).await, 10.0);
    for _ in 0..9 {
        assert_eq!(pace.succeeded(), None);
    }
    assert_eq!(pace.succeeded(), Some(Some(11.0)));
    // Still limited at 50 a second; unlimited again only from 100.
    while pace.per_second().is_some_and(|r| r < 50.0) {
        pace.succeeded();
    }
    assert_eq!(pace.per_second(), Some(50.0));
    for _ in 0..10_000 {
        pace.succeeded();
    }
    assert_eq!(pace.per_second(), None);
}
