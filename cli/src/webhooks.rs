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
    output::{Column, Format, print_one, print_stream},
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
}

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
    /// The webhook's signing key (default: $HERO_WEBHOOK_SIGNING_KEY). Never printed.
    #[arg(long, env = SIGNING_KEY_ENV, hide_env_values = true)]
    signing_key: String,
    /// Forward each verified delivery, its body and signature headers as received, to this URL
    /// (e.g. your application's handler); Hero gets its answer.
    #[arg(long, value_name = "URL")]
    forward_to: Option<String>,
    /// How far from now a delivery's timestamp may be, either side, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    tolerance: u64,
}

fn parse_header(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        _ => Err("expected NAME=VALUE".to_owned()),
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

/// What is printed of a webhook: never its signing key, nor its header values (only their names).
fn shown(w: &types::Webhook) -> serde_json::Value {
    let mut headers: Vec<&str> = w
        .headers
        .iter()
        .flat_map(|h| h.keys())
        .map(String::as_str)
        .collect();
    headers.sort_unstable();
    serde_json::json!({
        "id": w.id,
        "event_type": w.event_type,
        "url": w.url,
        "description": w.description,
        "signed": w.signing_key.is_some(),
        "headers": headers.join(","),
        "created_at": w.created_at,
        "updated_at": w.updated_at,
    })
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
                serde_json::json!({"id": id, "deleted": true}),
            )
        }
        // Handled in main: it needs no Hero credentials.
        WebhooksCmd::Listen(_) => Ok(()),
    }
}

/// What the listener's handler shares.
#[derive(Clone)]
struct Listener {
    verifier: Verifier,
    forward: Option<Arc<(String, herohealth::reqwest::Client)>>,
}

impl FromRef<Listener> for Verifier {
    fn from_ref(l: &Listener) -> Verifier {
        l.verifier.clone()
    }
}

/// `hero webhooks listen`: serves until Ctrl-C (or until its stdout is closed).
pub(crate) async fn listen(a: ListenArgs) -> Outcome {
    let usage = |message: String| Failure::new(Exit::Usage, message, None);
    let key =
        SigningKey::parse(&a.signing_key).map_err(|e| usage(format!("--signing-key: {e}")))?;
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
        verifier: Verifier::new(key).tolerance(Duration::from_secs(a.tolerance)),
        forward,
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

/// One delivery: verified (else 401/400, said on stderr without any of its values), printed as
/// one NDJSON line of its declared fields, and forwarded when asked.
async fn deliver(
    State(l): State<Listener>,
    headers: HeaderMap,
    delivery: Result<VerifiedEvent, WebhookRejection>,
) -> axum::response::Response {
    let delivery = match delivery {
        Ok(d) => d,
        Err(refused) => {
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
    let e = &delivery.event;
    let line = serde_json::json!({"event": e.event, "object": e.object, "id": e.id});
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}").and_then(|()| out.flush());
    }
    let Some(forward) = &l.forward else {
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
        Ok(resp) => StatusCode::from_u16(resp.status().as_u16())
            .unwrap_or(StatusCode::BAD_GATEWAY)
            .into_response(),
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
