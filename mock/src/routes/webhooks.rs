//! Webhooks: `POST /v1/webhooks`, `GET /v1/webhooks`, `DELETE /v1/webhooks/{id}`, stored per
//! practice group; their deliveries are `crate::deliver`'s.

use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};

use super::{Shared, with_group};
use crate::{
    gate::PracticeGroup,
    reply::{ApiFailure, api_error, time_text},
    state::Webhook,
    validation::{Issues, Query, json_object, wire},
};

/// A webhook as Hero answers it, in the create and the list answers alike: the `Webhook` schema,
/// its `signing_key` when it has one (Hero's create answer echoes it; its list answer is
/// unpublished and is taken to be the same schema), so `signed` reads the same in both.
fn webhook_json(w: &Webhook) -> Value {
    let mut v = json!({
        "id": w.id,
        "event_type": w.event_type,
        "url": w.url,
        "created_at": time_text(w.created_at),
        "updated_at": time_text(w.created_at),
    });
    let obj = v.as_object_mut().expect("object");
    if let Some(d) = &w.description {
        obj.insert("description".into(), json!(d));
    }
    if !w.headers.is_empty() {
        obj.insert("headers".into(), json!(w.headers));
    }
    if let Some(k) = &w.signing_key {
        obj.insert("signing_key".into(), json!(k));
    }
    v
}

pub(super) async fn create_webhook(
    State(app): State<Shared>,
    PracticeGroup(group): PracticeGroup,
    body: Bytes,
) -> Result<Response, ApiFailure> {
    let obj = json_object(&body)?;
    let mut issues = Issues::default();
    let event_type = issues.one_of(
        &obj,
        "event_type",
        wire::<herohealth::WebhookEventType>(),
        true,
    );
    let url = issues.string(&obj, "url", true, true);
    if let Some(u) = &url
        && !url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
    {
        issues.add("invalid_string", "url", &[json!("url")]);
    }
    let description = issues.string(&obj, "description", false, false);
    let signing_key = issues.string(&obj, "signing_key", false, true);
    let headers = match obj.get("headers") {
        None => Map::new(),
        Some(Value::Object(h)) => {
            for (name, value) in h {
                if !value.is_string() {
                    issues.add("invalid_type", "string", &[json!("headers"), json!(name)]);
                }
            }
            h.clone()
        }
        Some(_) => {
            issues.add("invalid_type", "object", &[json!("headers")]);
            Map::new()
        }
    };
    issues.finish()?;
    let hook = Webhook {
        id: app.next_id().to_string(),
        event_type: event_type.unwrap_or_default(),
        url: url.unwrap_or_default(),
        description,
        signing_key,
        headers: headers
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.as_str()?.to_owned())))
            .collect(),
        created_at: app.clock.now(),
    };
    let answer = webhook_json(&hook);
    with_group(&app, &group, |g| g.webhooks.push(hook));
    Ok(axum::Json(answer).into_response())
}

pub(super) async fn list_webhooks(
    State(app): State<Shared>,
    PracticeGroup(group): PracticeGroup,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiFailure> {
    let q = Query::parse(raw);
    let mut issues = Issues::default();
    let only = q.enums(
        "event_type",
        wire::<herohealth::WebhookEventType>(),
        &mut issues,
    );
    issues.finish()?;
    let data: Vec<Value> = with_group(&app, &group, |g| {
        g.webhooks
            .iter()
            .filter(|w| only.is_empty() || only.contains(&w.event_type))
            .map(webhook_json)
            .collect()
    });
    let count = data.len();
    Ok(axum::Json(json!({"data": data, "count": count})).into_response())
}

pub(super) async fn delete_webhook(
    State(app): State<Shared>,
    PracticeGroup(group): PracticeGroup,
    Path(id): Path<String>,
) -> Result<Response, ApiFailure> {
    let removed = with_group(&app, &group, |g| {
        let before = g.webhooks.len();
        g.webhooks.retain(|w| w.id != id);
        g.webhooks.len() < before
    });
    if removed {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(api_error(StatusCode::NOT_FOUND, json!("Webhook not found")))
    }
}
