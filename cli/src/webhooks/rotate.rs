//! `hero webhooks rotate ID --signing-key-file NEW`: replace a webhook's signing key without a
//! gap. Hero has no operation to update a webhook, so it is three steps, each said on stderr as
//! it is done:
//!
//! 1. create a webhook like ID (URL, event, description, headers) signed with the new key: from
//!    now on each event is delivered twice, once signed with each key;
//! 2. wait until a delivery verified with the new key is seen (`--seen-log`, written by
//!    `hero webhooks listen --seen-log`), or go on at once (`--confirmed`). Only a delivery seen
//!    after this rotation began counts: before it creates the new webhook, rotate appends a line
//!    `{"at": ..., "rotation_began": TAG}` to the log (TAG: the new key's [`key_tag`]), and
//!    waits for a line `{"key": TAG}` after the last such line; a line of the new key from
//!    before (listen tried with the key beforehand, an earlier rotation to it) is stale. A run
//!    that finds the new webhook made already goes on from the last such line, or appends one
//!    when there is none (then it waits for a delivery from now on);
//! 3. delete ID: only the new key signs.
//!
//! Safe to run again at any point: it reads the practice group's webhooks first, finds the new
//! webhook by its key (Hero's answer carries it) and goes on from the step it stopped at; it never
//! makes a second one. A run that stops (an error, the wait's timeout, Ctrl-C) says which step it
//! stopped at, what exists now and what to do.

use std::{
    path::{Path, PathBuf},
    sync::atomic::{AtomicU8, Ordering},
    time::Duration,
};

use clap::Args;
use herohealth::{
    ErrorKind, HeroClient, types,
    webhooks::{SigningKey, key_tag},
};

use super::read_key_file;
use crate::{
    exit::{Exit, Failure, Outcome},
    output::{Format, Row, print_one},
};
use herohealth::ids::{ShownId, WEBHOOK_ID};

#[derive(Args)]
pub(crate) struct RotateArgs {
    /// The webhook whose signing key is replaced.
    id: String,
    /// A file holding the new signing key (surrounding whitespace ignored). Never printed.
    #[arg(long, value_name = "PATH")]
    signing_key_file: PathBuf,
    /// The log `hero webhooks listen --seen-log FILE` writes: step 2 waits there for a delivery
    /// verified with the new key after this rotation began (rotate appends a line marking
    /// that; an earlier line of the new key does not count).
    #[arg(long, value_name = "FILE", required_unless_present = "confirmed")]
    seen_log: Option<PathBuf>,
    /// Your receiver has verified a delivery signed with the new key already: step 2 does not
    /// wait.
    #[arg(long)]
    confirmed: bool,
    /// How long step 2 waits, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    wait: u64,
}

const STEPS: [&str; 3] = [
    "create the new webhook",
    "wait for a delivery signed with the new key",
    "delete the old webhook",
];

/// Where a rotation is: 0 reading the webhooks, then 1, 2, 3.
struct Progress(AtomicU8);

impl Progress {
    fn at(&self, step: u8) {
        self.0.store(step, Ordering::SeqCst);
    }

    /// `step N of 3 (what)`, or the reading before step 1.
    fn said(&self) -> String {
        match self.0.load(Ordering::SeqCst) {
            0 => "before step 1 (reading the practice group's webhooks)".to_owned(),
            n => format!("at step {n} of 3 ({})", STEPS[usize::from(n - 1)]),
        }
    }
}

pub(crate) async fn rotate(hero: &HeroClient, f: Format, a: RotateArgs) -> Outcome {
    let new_key = read_key_file(&a.signing_key_file, "--signing-key-file")?;
    let progress = Progress(AtomicU8::new(0));
    let again = format!(
        "run the same command again (hero webhooks rotate {} --signing-key-file ...): it goes on from where it stopped",
        shown(&a.id)
    );
    let result = tokio::select! {
        r = steps(hero, &a, &new_key, &progress) => r,
        _ = tokio::signal::ctrl_c() => Err(Failure::new(
            Exit::Other,
            format!("interrupted {}", progress.said()),
            Some(again.clone()),
        )),
    };
    let (old, new) = result.map_err(|e| {
        if e.message.starts_with("interrupted") || e.message.starts_with("step") {
            e
        } else {
            Failure::new(
                e.code,
                format!("stopped {}: {}", progress.said(), e.message),
                Some(
                    e.hint
                        .map_or(again.clone(), |h| format!("{h}; then {again}")),
                ),
            )
        }
    })?;
    print_one(
        f,
        &[
            ("old_id", "/old_id"),
            ("new_id", "/new_id"),
            ("rotated", "/rotated"),
        ],
        Row::new()
            .id("old_id", &WEBHOOK_ID, &old)
            .id("new_id", &WEBHOOK_ID, &new)
            .field("rotated", &true),
    )
}

/// The three steps, from wherever the last run stopped; the old and the new webhook's ids.
async fn steps(
    hero: &HeroClient,
    a: &RotateArgs,
    new_key: &SigningKey,
    progress: &Progress,
) -> Result<(String, String), Failure> {
    let hooks = hero
        .list_webhooks()
        .send()
        .await?
        .into_inner()
        .into_webhooks();
    let old = hooks.iter().find(|w| w.id == a.id);
    let signed_new = |w: &&types::Webhook| w.id != a.id && w.signing_key.as_ref() == Some(new_key);
    let Some(old) = old else {
        // Step 3 was done: the old one is gone, the new one is there.
        return match hooks.iter().find(signed_new) {
            Some(new) => {
                eprintln!(
                    "webhook {} is deleted and {} signs with the new key: the rotation is done",
                    shown(&a.id),
                    shown(&new.id)
                );
                Ok((a.id.clone(), new.id.clone()))
            }
            None => Err(Failure::new(
                Exit::NotFound,
                format!(
                    "no webhook {} in the practice group, and none signed with the new key",
                    shown(&a.id)
                ),
                Some("check the id with hero webhooks list".to_owned()),
            )),
        };
    };
    if old.signing_key.as_ref() == Some(new_key) {
        return Err(Failure::new(
            Exit::Usage,
            format!("webhook {} is signed with that key already", shown(&a.id)),
            Some("give the new key's file".to_owned()),
        ));
    }
    let twins: Vec<&types::Webhook> = hooks
        .iter()
        .filter(|w| w.id != a.id && w.url == old.url && w.event_type == old.event_type)
        .collect();
    let tag = key_tag(new_key);
    let new_id = match twins
        .iter()
        .find(|w| w.signing_key.as_ref() == Some(new_key))
    {
        Some(new) => {
            if let Some(log) = &a.seen_log
                && !began(log, &tag)
            {
                mark(log, &tag)?;
            }
            eprintln!(
                "step 1 of 3: done before: webhook {} (new key) delivers beside {}",
                shown(&new.id),
                shown(&a.id)
            );
            new.id.clone()
        }
        None => {
            // A webhook like it whose key Hero's answer does not show may be a new one made by an
            // interrupted run: never make a second.
            if let Some(unknown) = twins.iter().find(|w| w.signing_key.is_none()) {
                return Err(Failure::new(
                    Exit::Conflict,
                    format!(
                        "webhook {} has the same URL and event as {} and Hero's answer does not say its key: it may be the new webhook of an earlier run",
                        shown(&unknown.id),
                        shown(&a.id)
                    ),
                    Some(format!(
                        "if it is not yours to keep, delete it (hero webhooks delete {})",
                        shown(&unknown.id)
                    )),
                ));
            }
            progress.at(1);
            // Before the new webhook exists, so that no delivery signed with its key can come
            // before the mark.
            if let Some(log) = &a.seen_log {
                mark(log, &tag)?;
            }
            let headers = old.headers.clone();
            let created = hero
                .create_webhook()
                .body_map(|b| {
                    let b = b
                        .url(old.url.as_str())
                        .event_type(old.event_type.clone())
                        .signing_key(new_key.clone())
                        .description(old.description.clone());
                    match headers {
                        Some(h) if !h.0.is_empty() => b.headers(Some(h)),
                        _ => b,
                    }
                })
                .send()
                .await?
                .into_inner();
            eprintln!(
                "step 1 of 3: created webhook {} (new key) beside {} (old key): each event is delivered to both until step 3",
                shown(&created.id),
                shown(&a.id)
            );
            created.id
        }
    };
    progress.at(2);
    match &a.seen_log {
        None => eprintln!("step 2 of 3: skipped (--confirmed)"),
        Some(log) => wait_for(log, &tag, a, &new_id).await?,
    }
    progress.at(3);
    match hero.delete_webhook().id(a.id.as_str()).send().await {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    eprintln!(
        "step 3 of 3: deleted webhook {}: only the new key signs now (webhook {})",
        shown(&a.id),
        shown(&new_id)
    );
    Ok((a.id.clone(), new_id))
}

/// Waits until `log` has a line for the key tagged `tag`, up to `--wait`.
async fn wait_for(log: &Path, tag: &str, a: &RotateArgs, new_id: &str) -> Result<(), Failure> {
    eprintln!(
        "step 2 of 3: waiting up to {} s for a delivery verified with the new key (in the file given to --seen-log)",
        a.wait
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(a.wait);
    loop {
        if seen(log, tag) {
            eprintln!("step 2 of 3: a delivery signed with the new key was verified");
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Failure::new(
                Exit::WaitDeadline,
                format!(
                    "step 2 of 3 stopped: no delivery verified with the new key within {} s; webhooks {} (old key) and {} (new key) both deliver, so nothing is lost",
                    a.wait,
                    shown(&a.id),
                    shown(new_id)
                ),
                Some(
                    "check that your receiver accepts the new key (hero webhooks listen --signing-key-file NEW --seen-log FILE), wait for an event, then run the same command again: it goes on from step 2"
                        .to_owned(),
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The log's lines as JSON (a missing log is empty; a line that is not JSON is skipped).
fn lines(log: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// `true` when the log has a delivery verified with the key tagged `tag` after the last line
/// saying a rotation to that key began (none before such a line counts: it is stale).
fn seen(log: &Path, tag: &str) -> bool {
    let mut seen = None;
    for v in lines(log) {
        if v["rotation_began"].as_str() == Some(tag) {
            seen = Some(false);
        } else if v["key"].as_str() == Some(tag)
            && let Some(seen) = seen.as_mut()
        {
            *seen = true;
        }
    }
    seen == Some(true)
}

/// `true` when the log says a rotation to the key tagged `tag` began.
fn began(log: &Path, tag: &str) -> bool {
    lines(log)
        .iter()
        .any(|v| v["rotation_began"].as_str() == Some(tag))
}

/// Appends to the log that a rotation to the key tagged `tag` begins now (one write, so that it
/// never interleaves with a line `listen` writes).
fn mark(log: &Path, tag: &str) -> Result<(), Failure> {
    use std::io::Write as _;
    let line = format!(
        "{}\n",
        serde_json::json!({"at": chrono::Utc::now().to_rfc3339(), "rotation_began": tag})
    );
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .map_err(|e| {
            Failure::new(
                Exit::Usage,
                format!(
                    "--seen-log: cannot write to it ({}): rotate marks there where the rotation began",
                    e.kind()
                ),
                None,
            )
        })
}

/// A webhook id as it may be shown: in its declared form (`openapi.yaml`), else `…`.
fn shown(id: &str) -> ShownId<'_> {
    WEBHOOK_ID.shown(id)
}
