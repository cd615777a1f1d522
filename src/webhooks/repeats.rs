//! [`Repeats`]: which verified events were acted on lately, for a receiver that acts once per
//! event.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    fmt,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use sha2::{Digest, Sha256};

/// How long [`Repeats`] remembers an event by default: one hour from when it was acted on.
pub const DEFAULT_REPEAT_WINDOW: Duration = Duration::from_secs(60 * 60);
/// How many events [`Repeats`] remembers at most by default (about 6 MB at the most).
pub const DEFAULT_REPEAT_CAPACITY: usize = 100_000;

/// Whether an event was acted on before, within the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Occurrence {
    /// Not acted on within the window, nor being handled now: act on it, then say so
    /// ([`Claim::done`]).
    First,
    /// Acted on within the window: a retry, or the same event from the other webhook during a
    /// key rotation. Answer 2xx, act on it no further.
    Repeat,
    /// The same event is being handled now (its other copy arrived a moment before and its
    /// handler has not finished): answer 503, so that it is delivered again; by then it is a
    /// repeat (the handler succeeded) or a first again (it failed).
    InFlight,
}

impl Occurrence {
    /// `true` for [`Occurrence::Repeat`].
    pub fn is_repeat(self) -> bool {
        self == Self::Repeat
    }
}

/// The events acted on lately, to report one delivered again as a repeat.
///
/// **An event is remembered only once its handler says it was acted on** ([`Claim::done`];
/// through the axum extractor, `VerifiedEvent::done`): a handler that
/// fails (answers 5xx, returns early with `?`, panics) leaves it unremembered, so Hero's retry is
/// a [`Occurrence::First`] again and acted on. While a first copy is being handled, another copy
/// of the same event is [`Occurrence::InFlight`] (the extractor answers it 503: delivered again
/// later, it is then a repeat or, the handler having failed, a first).
///
/// **What makes two deliveries the same event.** Hero's envelope carries no event id and no time
/// (only `{object, id, practice_group_id, event}`, and for the unpublished write-to-record
/// payload perhaps more), so an event is known by its whole body: the same JSON (the same
/// fields with the same values, whatever their order or spacing) delivered again is a repeat,
/// whichever key signed it and whatever its signature's timestamp (a retry is signed anew, and
/// each webhook of a rotation signs its own copy). Two deliveries whose bodies differ in any
/// value are two events, even about the same object with the same event name. Two real events
/// whose bodies are identical cannot be told from a re-delivery: within the window the second is
/// a repeat. Choose the window for your events (Hero does not publish its retry policy).
///
/// Memory is bounded: at most `capacity` events are remembered (each as a 32-byte hash, never
/// its values), the oldest forgotten first, so past that many events in one window a repeat of
/// the oldest reads as `First`.
///
/// Clones share what they remember. Only claim verified deliveries (as
/// [`Verifier::receive`](super::Verifier::receive) and the axum extractor do): a forged one
/// must not make the real one look like a repeat.
///
/// ```
/// use std::time::{Duration, Instant};
/// use herohealth::webhooks::{Occurrence, Repeats};
///
/// let repeats = Repeats::new(Duration::from_secs(600), 1_000);
/// let body = br#"{"object":"Message","id":"42","practice_group_id":"p-1","event":"write-to-record.succeeded"}"#;
/// let t0 = Instant::now();
///
/// // The handler fails: nothing is remembered, Hero's retry is acted on.
/// let first = repeats.claim_at(body, t0);
/// assert_eq!(first.occurrence(), Occurrence::First);
/// drop(first);
/// let retry = repeats.claim_at(body, t0 + Duration::from_secs(5));
/// assert_eq!(retry.occurrence(), Occurrence::First);
/// // Meanwhile another copy is in flight.
/// assert_eq!(repeats.claim_at(body, t0 + Duration::from_secs(5)).occurrence(), Occurrence::InFlight);
/// retry.done_at(t0 + Duration::from_secs(6)); // acted on
///
/// assert_eq!(repeats.claim_at(body, t0 + Duration::from_secs(7)).occurrence(), Occurrence::Repeat);
/// assert_eq!(repeats.claim_at(body, t0 + Duration::from_secs(607)).occurrence(), Occurrence::First);
/// ```
#[derive(Clone)]
pub struct Repeats {
    window: Duration,
    capacity: usize,
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    /// Each event remembered, with when it was acted on.
    done: HashMap<[u8; 32], Instant>,
    /// The same, oldest first (an entry whose time differs from `done`'s is stale).
    order: VecDeque<([u8; 32], Instant)>,
    /// The events whose first copy is being handled now.
    in_flight: HashSet<[u8; 32]>,
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

/// The hash an event is remembered by: its body's JSON written canonically (object keys sorted,
/// no spacing), so the same event is the same hash however it was spaced or ordered; a body that
/// is not JSON, by its bytes.
fn fingerprint(body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => {
            h.update(b"json\0");
            canonical(&value, &mut h);
        }
        Err(_) => {
            h.update(b"bytes\0");
            h.update(body);
        }
    }
    h.finalize().into()
}

/// `value` into `h`, each object's keys in order, each string length-prefixed.
fn canonical(value: &serde_json::Value, h: &mut Sha256) {
    use serde_json::Value;
    let text = |h: &mut Sha256, s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    match value {
        Value::Null => h.update(b"n"),
        Value::Bool(b) => h.update(if *b { b"t" } else { b"f" }),
        Value::Number(n) => {
            h.update(b"#");
            text(h, &n.to_string());
        }
        Value::String(s) => {
            h.update(b"s");
            text(h, s);
        }
        Value::Array(items) => {
            h.update(b"[");
            h.update((items.len() as u64).to_be_bytes());
            for item in items {
                canonical(item, h);
            }
        }
        Value::Object(map) => {
            h.update(b"{");
            h.update((map.len() as u64).to_be_bytes());
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for key in keys {
                text(h, key);
                canonical(&map[key], h);
            }
        }
    }
}

impl Repeats {
    /// Remembers each event for `window` from when it was acted on, at most `capacity` events
    /// (at least 1).
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

    /// How many events are remembered now (acted on, within the window as of the last claim).
    pub fn len(&self) -> usize {
        self.lock().done.len()
    }

    /// `true` when none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the delivery with this (verified) `body`, received now, is an event acted on
    /// before within the window, being handled now, or a first; a first is claimed: another
    /// copy is [`Occurrence::InFlight`] until the returned [`Claim`] is done (then remembered)
    /// or dropped (then forgotten).
    pub fn claim(&self, body: &[u8]) -> Claim {
        self.claim_at(body, Instant::now())
    }

    /// As [`claim`](Self::claim), received at `now` (for tests: times given must not go back).
    pub fn claim_at(&self, body: &[u8], now: Instant) -> Claim {
        let key = fingerprint(body);
        let mut inner = self.lock();
        self.forget_before(&mut inner, now);
        let occurrence = if inner.done.contains_key(&key) {
            Occurrence::Repeat
        } else if !inner.in_flight.insert(key) {
            Occurrence::InFlight
        } else {
            Occurrence::First
        };
        drop(inner);
        Claim {
            repeats: self.clone(),
            key,
            occurrence,
            settled: AtomicBool::new(false),
        }
    }

    /// The maps (a poisoned lock only means another handler panicked mid-update: they stay
    /// sound).
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets, oldest first, what the window has passed at `now`.
    fn forget_before(&self, inner: &mut Inner, now: Instant) {
        let Inner { done, order, .. } = inner;
        while let Some(&(old, at)) = order.front() {
            if now.saturating_duration_since(at) <= self.window {
                break;
            }
            order.pop_front();
            if done.get(&old) == Some(&at) {
                done.remove(&old);
            }
        }
    }

    /// Remembers `key` as acted on at `now` (unless it is already, within the window).
    fn remember(&self, key: [u8; 32], now: Instant) {
        let mut inner = self.lock();
        self.forget_before(&mut inner, now);
        let Inner { done, order, .. } = &mut *inner;
        if done.contains_key(&key) {
            return;
        }
        done.insert(key, now);
        order.push_back((key, now));
        // Past the capacity, forget the oldest.
        while done.len() > self.capacity {
            let Some((old, at)) = order.pop_front() else {
                break;
            };
            if done.get(&old) == Some(&at) {
                done.remove(&old);
            }
        }
    }
}

/// One delivery's place in [`Repeats`]: its [`Occurrence`], and for a first, the claim on the
/// event until it is [`done`](Self::done) (remembered: a later copy is a repeat) or dropped
/// (forgotten: a later copy is a first, to act on). Drop it without `done` when the handler
/// fails, and Hero's retry is acted on.
pub struct Claim {
    repeats: Repeats,
    key: [u8; 32],
    occurrence: Occurrence,
    settled: AtomicBool,
}

impl fmt::Debug for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claim")
            .field("occurrence", &self.occurrence)
            .field("done", &self.settled.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

impl Claim {
    /// First, repeat or in flight.
    pub fn occurrence(&self) -> Occurrence {
        self.occurrence
    }

    /// `true` for a repeat: acted on before, within the window.
    pub fn is_repeat(&self) -> bool {
        self.occurrence.is_repeat()
    }

    /// The event was acted on: remembered from now for the window, so a later copy is a repeat.
    /// Call it once the handler has succeeded (more than once does nothing more).
    pub fn done(&self) {
        self.done_at(Instant::now());
    }

    /// As [`done`](Self::done), acted on at `now` (for tests).
    pub fn done_at(&self, now: Instant) {
        if !self.settled.swap(true, Ordering::SeqCst) {
            self.repeats.remember(self.key, now);
            self.release();
        }
    }

    /// A first's claim ends: another copy is no longer in flight.
    fn release(&self) {
        if self.occurrence == Occurrence::First {
            self.repeats.lock().in_flight.remove(&self.key);
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if !self.settled.swap(true, Ordering::SeqCst) {
            self.release();
        }
    }
}
