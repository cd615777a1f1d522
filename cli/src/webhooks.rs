//! `hero webhooks`: subscribe to Hero's events (create, list, delete), and `listen`: a local
//! server that verifies each delivery, answers 401 to a bad or stale signature, prints each
//! verified event as NDJSON (its declared ids and event type only) and can forward it on.
//!
//! The signing key is never printed: not in the create or list output (whatever the format), not
//! in errors. `listen` prints no body text beyond the envelope's declared fields.

use std::{io::Write as _, net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    extract::{FromRef, State},
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
};
use clap::{Args, Subcommand};
use herohealth::{
    HeroClient, types,
    webhooks::{
        SIGNATURE_HEADER, SigningKey, TIMESTAMP_HEADER, VerifiedEvent, Verifier, WebhookEventType,
        WebhookRejection,
    },
};

use crate::{
    args::api_enum,
    exit::{Exit, Failure, Outcome},
    output::{Column, Format, Row, print_one, print_stream},
};

/// The environment variable `--signing-key` falls back to (kept out of `--help`'s output).
pub(crate) const SIGNING_KEY_ENV: &str = "HERO_WEBHOOK_SIGNING_KEY";

#[derive(Subcommand)]
pub(crate) enum WebhooksCmd {
    /// Subscribe a URL to one event; Hero POSTs each event there, signed with --signing-key.
    Create(CreateArgs),
    /// The practice group's webhooks.
    List {
        /// Only webhooks for this event.
        #[arg(long, value_parser = api_enum::<WebhookEventType>())]
        event_type: Option<WebhookEventType>,
    },
    /// Delete a webhook: Hero sends it nothing more.
    Delete {
        /// The webhook id.
        id: String,
    },
    /// Run a local server that verifies each delivery and prints each verified event as NDJSON.
    Listen(ListenArgs),
    /// Replace a webhook's signing key without a gap: create one with the new key, wait until a
    /// delivery signed with it is seen, delete the old (safe to run again if it stops).
    Rotate(rotate::RotateArgs),
}

mod rotate;

#[derive(Args)]
pub(crate) struct CreateArgs {
    /// The URL Hero POSTs each event to.
    #[arg(long)]
    url: String,
    /// The event (any case).
    #[arg(long, value_parser = api_enum::<WebhookEventType>())]
    event_type: WebhookEventType,
    /// The key Hero signs each delivery with (default: $HERO_WEBHOOK_SIGNING_KEY). Never printed.
    #[arg(long, env = SIGNING_KEY_ENV, hide_env_values = true)]
    signing_key: Option<String>,
    /// A description of the webhook.
    #[arg(long)]
    description: Option<String>,
    /// A header Hero adds to each delivery, NAME=VALUE (repeatable). Values are never printed.
    #[arg(long = "header", value_name = "NAME=VALUE", value_parser = parse_header)]
    headers: Vec<(String, String)>,
}

#[derive(Args)]
pub(crate) struct ListenArgs {
    /// The port to listen on, on 127.0.0.1 (0: any free one; the address is printed on stderr).
    #[arg(long, default_value_t = 4343)]
    port: u16,
    /// A signing key to accept (repeatable: during a key rotation, the old and the new). Keys
    /// are also read from $HERO_WEBHOOK_SIGNING_KEY and --signing-key-file, which other users of
    /// the machine cannot see as they can a command line. Never printed.
    #[arg(long = "signing-key", value_name = "KEY")]
    signing_keys: Vec<String>,
    /// A file holding a signing key to accept (repeatable; surrounding whitespace ignored).
    #[arg(long = "signing-key-file", value_name = "PATH")]
    signing_key_files: Vec<std::path::PathBuf>,
    /// Append a line to FILE for each verified delivery: when, and the tag of the key that
    /// verified it (`herohealth::webhooks::key_tag`, never the key nor the event). `hero webhooks
    /// rotate --seen-log FILE` waits on it.
    #[arg(long, value_name = "FILE")]
    seen_log: Option<std::path::PathBuf>,
    /// Forward each verified delivery, its body and signature headers as received, to this URL
    /// (e.g. your application's handler); Hero gets its answer.
    #[arg(long, value_name = "URL")]
    forward_to: Option<String>,
    /// How far from now a delivery's timestamp may be, either side, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    tolerance: u64,
}

fn parse_header(s: &str) -> Result<(String, String), crate::args::Refused> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        _ => Err(crate::args::Refused("expected NAME=VALUE")),
    }
}

pub(crate) const WEBHOOK: &[Column] = &[
    ("id", "/id"),
    ("event_type", "/event_type"),
    ("url", "/url"),
    ("description", "/description"),
    ("signed", "/signed"),
    ("headers", "/headers"),
    ("created_at", "/created_at"),
    ("updated_at", "/updated_at"),
];

/// What is printed of a webhook: its fields as their declared types let them be shown (the URL,
/// description, header names and texts masked), whether it is signed, and how many headers.
fn shown(w: &types::Webhook) -> Row {
    Row::of(w)
        .field("signed", &w.signing_key.is_some())
        .number("headers", w.headers.as_ref().map_or(0, |h| h.len()))
}

pub(crate) async fn run(hero: &HeroClient, f: Format, cmd: WebhooksCmd) -> Outcome {
    match cmd {
        WebhooksCmd::Create(a) => {
            let key = a
                .signing_key
                .as_deref()
                .map(|k| {
                    SigningKey::parse(k).map_err(|e| {
                        Failure::new(
                            Exit::Usage,
                            format!("--signing-key: {e}"),
                            Some("give a signing key, or leave the option out".to_owned()),
                        )
                    })
                })
                .transpose()?;
            let headers: std::collections::HashMap<String, herohealth::Sensitive> =
                a.headers.into_iter().map(|(k, v)| (k, v.into())).collect();
            let created = hero
                .create_webhook()
                .body_map(|b| {
                    let b = b
                        .url(a.url.as_str())
                        .event_type(a.event_type.clone())
                        .signing_key(key)
                        .description(a.description.clone());
                    if headers.is_empty() {
                        b
                    } else {
                        b.headers(Some(types::WebhookHeaders(headers)))
                    }
                })
                .send()
                .await?
                .into_inner();
            print_one(f, WEBHOOK, shown(&created))
        }
        WebhooksCmd::List { event_type } => {
            let mut q = hero.list_webhooks();
            if let Some(e) = event_type {
                q = q.event_type(e);
            }
            let hooks = q.send().await?.into_inner().into_webhooks();
            print_stream(
                f,
                WEBHOOK,
                futures::stream::iter(hooks.iter().map(|w| Ok(shown(w)))),
                false,
            )
            .await
        }
        WebhooksCmd::Delete { id } => {
            hero.delete_webhook().id(id.as_str()).send().await?;
            print_one(
                f,
                &[("id", "/id"), ("deleted", "/deleted")],
                Row::new()
                    .id("id", &herohealth::ids::WEBHOOK_ID, &id)
                    .field("deleted", &true),
            )
        }
        WebhooksCmd::Rotate(a) => rotate::rotate(hero, f, a).await,
        // Handled in main: it needs no Hero credentials.
        WebhooksCmd::Listen(_) => Ok(()),
    }
}

/// What the listener's handler shares.
#[derive(Clone)]
struct Listener {
    verifier: Verifier,
    forward: Option<Arc<(String, herohealth::reqwest::Client)>>,
    /// Each key's tag, in the verifier's order.
    tags: Arc<Vec<String>>,
    seen_log: Option<Arc<std::sync::Mutex<std::fs::File>>>,
}

/// The keys of `$HERO_WEBHOOK_SIGNING_KEY`, `--signing-key` and `--signing-key-file`, in that
/// order, each once; a usage error naming the option (never the key) for an empty or unreadable
/// one.
pub(crate) fn signing_keys(
    literals: &[String],
    files: &[std::path::PathBuf],
) -> Result<Vec<SigningKey>, Failure> {
    let usage = |message: String| Failure::new(Exit::Usage, message, None);
    let mut keys: Vec<SigningKey> = Vec::new();
    let mut add = |key: SigningKey| {
        if !keys.contains(&key) {
            keys.push(key);
        }
    };
    if let Some(text) = std::env::var_os(SIGNING_KEY_ENV) {
        let text = text
            .into_string()
            .map_err(|_| usage(format!("${SIGNING_KEY_ENV}: not UTF-8 text")))?;
        add(SigningKey::parse(text.trim())
            .map_err(|e| usage(format!("${SIGNING_KEY_ENV}: {e}")))?);
    }
    for text in literals {
        add(SigningKey::parse(text).map_err(|e| usage(format!("--signing-key: {e}")))?);
    }
    for path in files {
        add(read_key_file(path, "--signing-key-file")?);
    }
    Ok(keys)
}

/// The key a file holds (surrounding whitespace ignored); a usage error naming `option`, never
/// the file's path or contents.
pub(crate) fn read_key_file(path: &std::path::Path, option: &str) -> Result<SigningKey, Failure> {
    let text = crate::exit::read_file(option, path)?;
    SigningKey::parse(text.trim()).map_err(|e| {
        Failure::file(
            Exit::Usage,
            option,
            format!("does not hold a signing key: {e}"),
        )
    })
}

impl FromRef<Listener> for Verifier {
    fn from_ref(l: &Listener) -> Verifier {
        l.verifier.clone()
    }
}

/// `hero webhooks listen`: serves until Ctrl-C (or until its stdout is closed).
pub(crate) async fn listen(a: ListenArgs) -> Outcome {
    let usage = |message: String| Failure::new(Exit::Usage, message, None);
    let keys = signing_keys(&a.signing_keys, &a.signing_key_files)?;
    let tags = keys.iter().map(herohealth::webhooks::key_tag).collect();
    let verifier = Verifier::with_keys(keys).ok_or_else(|| {
        Failure::new(
            Exit::Usage,
            "no signing key given",
            Some(format!(
                "give the webhook's key in ${SIGNING_KEY_ENV} or --signing-key-file PATH (both, or the file twice, during a rotation)"
            )),
        )
    })?;
    let seen_log = match a.seen_log {
        None => None,
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| {
                    Failure::file(
                        Exit::Usage,
                        "--seen-log",
                        format!("cannot be opened ({})", e.kind()),
                    )
                })?;
            Some(Arc::new(std::sync::Mutex::new(file)))
        }
    };
    let forward = match a.forward_to {
        None => None,
        Some(url) => {
            let ok = herohealth::reqwest::Url::parse(&url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
            if !ok {
                return Err(usage(
                    "--forward-to: not an absolute http(s) URL".to_owned(),
                ));
            }
            let http = herohealth::reqwest::Client::builder()
                .redirect(herohealth::reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .map_err(|e| Failure::new(Exit::Other, e.to_string(), None))?;
            Some(Arc::new((url, http)))
        }
    };
    let state = Listener {
        verifier: verifier.tolerance(Duration::from_secs(a.tolerance)),
        forward,
        tags: Arc::new(tags),
        seen_log,
    };
    let app = Router::new().fallback(deliver).with_state(state);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], a.port)))
        .await
        .map_err(|e| usage(format!("--port {}: cannot listen there: {e}", a.port)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::new(Exit::Other, e.to_string(), None))?;
    eprintln!("listening on http://{addr}: each delivery is verified; Ctrl-C stops");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| Failure::new(Exit::Other, e.to_string(), None))
}

/// A line in `--seen-log` (when given): a delivery verified with the key at `index`, now.
fn seen(l: &Listener, index: usize) {
    if let Some(log) = &l.seen_log {
        let tag = l.tags.get(index).map_or("", String::as_str);
        let entry = serde_json::json!({"at": chrono::Utc::now().to_rfc3339(), "key": tag});
        // One write, so that it never interleaves with the line `rotate` appends.
        let line = format!("{entry}\n");
        let mut file = log.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = file.write_all(line.as_bytes()).and_then(|()| file.flush()) {
            eprintln!(
                "the file given to --seen-log cannot be written to ({})",
                e.kind()
            );
        }
    }
}

/// One delivery: verified (else 401/400, said on stderr without any of its values), printed as
/// one NDJSON line of its declared fields, and forwarded when asked. A copy of an event being
/// handled now is answered 503 (delivered again later), and still logged in `--seen-log`: its
/// key was verified.
async fn deliver(
    State(l): State<Listener>,
    headers: HeaderMap,
    delivery: Result<VerifiedEvent, WebhookRejection>,
) -> axum::response::Response {
    let delivery = match delivery {
        Ok(d) => d,
        Err(refused) => {
            if let Some(index) = refused.key_index() {
                seen(&l, index);
            }
            eprintln!(
                "refused a delivery ({}): {}",
                refused.status().as_u16(),
                refused.error().map_or_else(
                    || "the body could not be read".to_owned(),
                    ToString::to_string
                )
            );
            return refused.into_response();
        }
    };
    seen(&l, delivery.key_index());
    // The envelope's fields as declared: `event` and `object` when the spec lists them
    // (`unknown(N chars)` otherwise); `id` and the practice group have no declared form.
    let e = &delivery.event;
    let mut row = Row::new()
        .field("event", &e.event)
        .field("object", &e.object)
        .field("id", &herohealth::Sensitive::from(e.id.as_str()));
    // The same event verified again within the hour of its being printed (Hero retrying, or the
    // rotation's second webhook): said, so a reader acts on it once.
    if delivery.is_repeat() {
        row = row.field("repeat", &true);
    }
    let line = herohealth::Shown::shown(&row);
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}").and_then(|()| out.flush());
    }
    let Some(forward) = &l.forward else {
        // Printed: acted on.
        delivery.done();
        return StatusCode::NO_CONTENT.into_response();
    };
    let (url, http) = (&forward.0, &forward.1);
    let mut request = http
        .post(url)
        .header("content-type", "application/json")
        .body(delivery.raw_body().to_vec());
    for name in [TIMESTAMP_HEADER, SIGNATURE_HEADER] {
        if let Some(v) = headers.get(name) {
            request = request.header(name, v.as_bytes());
        }
    }
    match request.send().await {
        Ok(resp) => {
            // Acted on only when the receiver it was forwarded to says so: after its 5xx, Hero's
            // retry is forwarded again, not dropped as a repeat.
            if resp.status().is_success() {
                delivery.done();
            }
            StatusCode::from_u16(resp.status().as_u16())
                .unwrap_or(StatusCode::BAD_GATEWAY)
                .into_response()
        }
        Err(e) => {
            let why = if e.is_timeout() {
                "timed out"
            } else {
                "connection failed"
            };
            eprintln!("forwarding a delivery failed: {why}");
            StatusCode::BAD_GATEWAY.into_response()
        }
    }
}
