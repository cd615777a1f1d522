//! Webhook deliveries: when a message's write to the record succeeds or fails (on the mock
//! clock), each webhook of its practice group subscribed to that event, and created before it
//! happened, gets a signed POST of Hero's envelope `{object, id, practice_group_id, event}`.
//!
//! - Only to loopback URLs (`127.0.0.0/8`, `::1`, `localhost`): a test's mock never calls out.
//!   Another URL is journaled as not delivered, once.
//! - Signed when the webhook has a signing key: [`herohealth::webhooks::sign`] over
//!   `"{timestamp}.{body}"`, in the encoding and timestamp format of the configuration
//!   ([`crate::MockConfig::webhook_signature`], [`crate::MockConfig::webhook_timestamp`]). The
//!   timestamp is the wall clock's, not the mock clock's: a receiver checks it against its own.
//! - A failed attempt (no 2xx, no answer within 5 s) is tried again after the backoff (mock
//!   clock), doubling, up to [`crate::MockConfig::webhook_attempts`] attempts in all; a webhook
//!   deleted meanwhile gets no more.
//! - Every attempt is journaled ([`crate::MockServer::deliveries`]); nothing is logged.

use std::{
    sync::{Arc, Mutex, Weak, atomic::Ordering},
    time::Duration,
};

use chrono::{DateTime, Utc};
use herohealth::{
    WebhookEventType, WebhookObject,
    webhooks::{SIGNATURE_HEADER, SigningKey, TIMESTAMP_HEADER, sign},
};

use crate::{App, journal::DeliveryEntry, routes::with_group, state::Webhook};

/// Every event the mock delivers, with the `object` of its envelope: each a value the client
/// declares (`WebhookEventType`, `WebhookObject`), so the two agree by construction.
pub static WEBHOOK_EVENTS: [(WebhookEventType, WebhookObject); 2] = [
    (
        WebhookEventType::WriteToRecordSucceeded,
        WebhookObject::Message,
    ),
    (
        WebhookEventType::WriteToRecordFailed,
        WebhookObject::Message,
    ),
];

/// How often the dispatcher looks for writes that happened and attempts that are due (real time).
const TICK: Duration = Duration::from_millis(20);
/// How long a receiver has to answer one attempt.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// One attempt waiting to be made.
struct Attempt {
    group: String,
    webhook_id: String,
    event: &'static str,
    id: String,
    body: String,
    attempt: u32,
    due: DateTime<Utc>,
}

/// The dispatcher's state: messages whose write to the record is awaited, attempts due, and the
/// journal of attempts made.
#[derive(Default)]
pub(crate) struct Deliveries {
    awaited: Mutex<Vec<(String, u64)>>,
    queue: Mutex<Vec<Attempt>>,
    journal: Mutex<Vec<DeliveryEntry>>,
}

impl Deliveries {
    /// Announce message `id` of `group` to the group's webhooks once its record entry is written
    /// (or fails).
    pub(crate) fn watch_record(&self, group: &str, id: u64) {
        self.awaited
            .lock()
            .expect("awaited lock")
            .push((group.to_owned(), id));
    }

    pub(crate) fn entries(&self) -> Vec<DeliveryEntry> {
        self.journal.lock().expect("deliveries lock").clone()
    }

    fn record(&self, entry: DeliveryEntry) {
        self.journal.lock().expect("deliveries lock").push(entry);
    }
}

/// Runs the dispatcher on the current runtime until the mock stops.
pub(crate) fn spawn(app: Weak<App>) {
    tokio::spawn(async move {
        let http = match herohealth::reqwest::Client::builder()
            .no_proxy()
            .redirect(herohealth::reqwest::redirect::Policy::none())
            .timeout(ATTEMPT_TIMEOUT)
            .build()
        {
            Ok(http) => http,
            Err(e) => {
                tracing::error!("herohealth-mock cannot deliver webhooks: {e}");
                return;
            }
        };
        loop {
            tokio::time::sleep(TICK).await;
            let Some(app) = app.upgrade() else { return };
            if app.stopped.load(Ordering::SeqCst) {
                return;
            }
            tick(&app, &http);
        }
    });
}

/// Queues the events of writes that happened by now, and starts every attempt that is due.
fn tick(app: &Arc<App>, http: &herohealth::reqwest::Client) {
    let now = app.clock.now();
    let mut written = Vec::new();
    {
        let groups = app.groups.lock().expect("store lock");
        app.deliveries
            .awaited
            .lock()
            .expect("awaited lock")
            .retain(|(group, id)| {
                let message = usize::try_from(*id)
                    .ok()
                    .and_then(|i| groups.get(group)?.messages.get(i.checked_sub(1)?));
                let Some(m) = message else { return false };
                let state = m.state(now);
                let (event, object) = match state.wtr_status {
                    Some("success") => &WEBHOOK_EVENTS[0],
                    Some("failed") => &WEBHOOK_EVENTS[1],
                    _ => return true,
                };
                let (event, object) = (event.as_str(), object.as_str());
                written.push((
                    group.clone(),
                    *id,
                    event,
                    object,
                    state.wtr_at.unwrap_or(now),
                ));
                false
            });
    }
    for (group, id, event, object, at) in written {
        let hooks: Vec<Webhook> = with_group(app, &group, |g| {
            g.webhooks
                .iter()
                .filter(|w| w.event_type == event && w.created_at <= at)
                .cloned()
                .collect()
        });
        let body = serde_json::json!({
            "object": object,
            "id": id.to_string(),
            "practice_group_id": group,
            "event": event,
        })
        .to_string();
        let mut queue = app.deliveries.queue.lock().expect("queue lock");
        for hook in hooks {
            queue.push(Attempt {
                group: group.clone(),
                webhook_id: hook.id,
                event,
                id: id.to_string(),
                body: body.clone(),
                attempt: 1,
                due: now,
            });
        }
    }
    let due: Vec<Attempt> = {
        let mut queue = app.deliveries.queue.lock().expect("queue lock");
        let (due, later) = std::mem::take(&mut *queue)
            .into_iter()
            .partition(|a| a.due <= now);
        *queue = later;
        due
    };
    for attempt in due {
        tokio::spawn(deliver(app.clone(), http.clone(), attempt));
    }
}

/// `true` for a URL whose host is this machine.
fn loopback(url: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else {
        return false;
    };
    matches!(url.scheme(), "http" | "https")
        && match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        }
}

/// Makes one attempt, journals it, and queues the next when it failed.
async fn deliver(app: Arc<App>, http: herohealth::reqwest::Client, a: Attempt) {
    // Looked up now: a webhook deleted since gets nothing more.
    let hook = with_group(&app, &a.group, |g| {
        g.webhooks.iter().find(|w| w.id == a.webhook_id).cloned()
    });
    let Some(hook) = hook else { return };
    let mut entry = DeliveryEntry {
        webhook_id: hook.id.clone(),
        event: a.event.to_owned(),
        id: a.id.clone(),
        practice_group_id: a.group.clone(),
        url: hook.url.clone(),
        attempt: a.attempt,
        status: None,
        delivered: false,
        error: None,
        will_retry: false,
        signed: false,
        body: a.body.clone(),
    };
    if !loopback(&hook.url) {
        entry.error = Some("not a loopback URL".to_owned());
        app.deliveries.record(entry);
        return;
    }
    let mut request = http
        .post(&hook.url)
        .header("content-type", "application/json");
    for (name, value) in &hook.headers {
        let reserved = name.eq_ignore_ascii_case("content-type")
            || name.eq_ignore_ascii_case(TIMESTAMP_HEADER)
            || name.eq_ignore_ascii_case(SIGNATURE_HEADER);
        if !reserved {
            request = request.header(name.as_str(), value.as_str());
        }
    }
    if let Some(key) = hook
        .signing_key
        .as_deref()
        .and_then(|k| SigningKey::parse(k).ok())
    {
        let timestamp = app.config.webhook_timestamp.format(Utc::now());
        let signature = sign(
            &key,
            &timestamp,
            a.body.as_bytes(),
            app.config.webhook_signature,
        );
        request = request
            .header(TIMESTAMP_HEADER, timestamp)
            .header(SIGNATURE_HEADER, signature);
        entry.signed = true;
    }
    match request.body(a.body.clone()).send().await {
        Ok(resp) => {
            let status = resp.status();
            entry.status = Some(status.as_u16());
            entry.delivered = status.is_success();
            if !entry.delivered {
                entry.error = Some(format!("status {}", status.as_u16()));
            }
        }
        Err(e) if e.is_timeout() => entry.error = Some("timed out".to_owned()),
        Err(_) => entry.error = Some("connection failed".to_owned()),
    }
    entry.will_retry = !entry.delivered && a.attempt < app.config.webhook_attempts;
    let retry = entry.will_retry;
    app.deliveries.record(entry);
    if retry {
        let factor = 2u32.saturating_pow(a.attempt - 1);
        let backoff = app.config.webhook_backoff.saturating_mul(factor);
        let due = app.clock.now() + chrono::Duration::from_std(backoff).unwrap_or_default();
        app.deliveries
            .queue
            .lock()
            .expect("queue lock")
            .push(Attempt {
                attempt: a.attempt + 1,
                due,
                ..a
            });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_loopback_urls_are_delivered_to() {
        for url in [
            "http://127.0.0.1:9/h",
            "http://127.1.2.3/h",
            "http://[::1]:8080/",
            "http://localhost:1/x",
        ] {
            assert!(super::loopback(url), "{url}");
        }
        for url in [
            "https://partner.example/h",
            "http://10.0.0.1/h",
            "http://localhost.example/",
            "ftp://127.0.0.1/",
            "not a url",
        ] {
            assert!(!super::loopback(url), "{url}");
        }
    }
}
