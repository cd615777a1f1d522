//! [`Repeats`]: which verified events were received before, for a receiver that acts once per
//! event.

use std::{
    collections::{HashMap, VecDeque},
    fmt,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sha2::{Digest, Sha256};

use super::WebhookEvent;

/// How long [`Repeats`] remembers an event by default: one hour from the first time it was received.
pub const DEFAULT_REPEAT_WINDOW: Duration = Duration::from_secs(60 * 60);
/// How many events [`Repeats`] remembers at most by default (about 6 MB at the most).
pub const DEFAULT_REPEAT_CAPACITY: usize = 100_000;

/// Whether an event was received before, within the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Occurrence {
    /// Not received within the window: act on it.
    First,
    /// Received before within the window: a retry, or the same event from the other webhook
    /// during a key rotation. Answer 2xx, act on it no further.
    Repeat,
}

impl Occurrence {
    /// `true` for [`Occurrence::Repeat`].
    pub fn is_repeat(self) -> bool {
        self == Self::Repeat
    }
}

/// The events received lately, to report one received again as a repeat.
///
/// Hero's envelope carries no event id: an event is known by its `event`, `object`, `id` and
/// practice group. The same four received again within the window (counted from the first time)
/// is a [`Occurrence::Repeat`]: Hero retrying, or both webhooks of a key rotation delivering
/// it. Memory is bounded: at most `capacity` events are remembered (each as a 32-byte hash, never
/// its values), the oldest forgotten first, so past that many events in one window a repeat of
/// the oldest reads as `First`. Outside the window, the same four are `First` again: an
/// appointment confirmed, cancelled and confirmed again an hour later is two events, and a retry
/// later than the window is acted on twice; choose the window for your events (Hero does not
/// publish its retry policy).
///
/// Clones share what they remember. Only remember verified events (as
/// [`Verifier::receive`](super::Verifier::receive) and the axum extractor do): a forged one
/// must not make the real one look like a repeat.
///
/// ```
/// use std::time::{Duration, Instant};
/// use herohealth::webhooks::{Occurrence, Repeats, WebhookEvent};
///
/// let repeats = Repeats::new(Duration::from_secs(600), 1_000);
/// let event = WebhookEvent::parse(br#"{"object":"Message","id":"42","practice_group_id":"p-1","event":"write-to-record.succeeded"}"#).unwrap();
/// let t0 = Instant::now();
/// assert_eq!(repeats.seen_at(&event, t0), Occurrence::First);
/// assert_eq!(repeats.seen_at(&event, t0 + Duration::from_secs(5)), Occurrence::Repeat);
/// assert_eq!(repeats.seen_at(&event, t0 + Duration::from_secs(601)), Occurrence::First);
/// ```
#[derive(Clone)]
pub struct Repeats {
    window: Duration,
    capacity: usize,
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    /// Each event remembered, with when it was first received.
    first: HashMap<[u8; 32], Instant>,
    /// The same, oldest first (an entry whose time differs from `first`'s is stale).
    order: VecDeque<([u8; 32], Instant)>,
}

impl Default for Repeats {
    fn default() -> Self {
        Self::new(DEFAULT_REPEAT_WINDOW, DEFAULT_REPEAT_CAPACITY)
    }
}

impl fmt::Debug for Repeats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Repeats")
            .field("window", &self.window)
            .field("capacity", &self.capacity)
            .field("remembered", &self.len())
            .finish()
    }
}

/// The hash an event is remembered by: its four fields, each length-prefixed.
fn fingerprint(e: &WebhookEvent) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [
        e.event.as_str(),
        e.object.as_str(),
        e.id.as_str(),
        e.practice_group_id.expose(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

impl Repeats {
    /// Remembers each event for `window` from its first receipt, at most `capacity` events (at
    /// least 1).
    pub fn new(window: Duration, capacity: usize) -> Self {
        Self {
            window,
            capacity: capacity.max(1),
            inner: Arc::default(),
        }
    }

    /// The window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// How many events are remembered now.
    pub fn len(&self) -> usize {
        self.inner.lock().map_or(0, |i| i.first.len())
    }

    /// `true` when none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `event` (received now) was received before within the window; remembers it.
    pub fn seen(&self, event: &WebhookEvent) -> Occurrence {
        self.seen_at(event, Instant::now())
    }

    /// As [`seen`](Self::seen), received at `now` (for tests: times given must not go back).
    pub fn seen_at(&self, event: &WebhookEvent, now: Instant) -> Occurrence {
        let key = fingerprint(event);
        // A poisoned lock only means another handler panicked mid-update: the maps stay sound.
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let Inner { first, order } = &mut *inner;
        // Forget what the window has passed (oldest first).
        while let Some(&(old, at)) = order.front() {
            if now.saturating_duration_since(at) <= self.window {
                break;
            }
            order.pop_front();
            if first.get(&old) == Some(&at) {
                first.remove(&old);
            }
        }
        if first.contains_key(&key) {
            return Occurrence::Repeat;
        }
        first.insert(key, now);
        order.push_back((key, now));
        // Past the capacity, forget the oldest.
        while first.len() > self.capacity {
            let Some((old, at)) = order.pop_front() else {
                break;
            };
            if first.get(&old) == Some(&at) {
                first.remove(&old);
            }
        }
        Occurrence::First
    }
}
