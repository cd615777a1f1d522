//! Batch messages: `POST /v1/batch_message` (recipients enriched from their NHS numbers),
//! the batch list, one batch, `PATCH …/send` (once), its recipients and its sends.

use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Shared, page_response, with_group};
use crate::{
    App, RecipientOutcome,
    gate::PracticeGroup,
    reply::{ApiFailure, api_error, opt_ts},
    state::{Batch, Outcome, Recipient},
    validation::{Issues, Query, json_object, wire},
};

fn batch_json(b: &Batch, now: DateTime<Utc>) -> Value {
    let mut v = json!({"id": b.id, "name": b.name, "status": b.status(now), "channel": b.channel, "content": b.content});
    if let Some(s) = &b.subject {
        v["subject"] = json!(s);
    }
    v
}

pub(super) async fn create_batch_message(
    State(app): State<Shared>,
    PracticeGroup(group): PracticeGroup,
    body: Bytes,
) -> Result<Response, ApiFailure> {
    let obj = json_object(&body)?;
    let mut issues = Issues::default();
    let name = issues.string(&obj, "name", true, false);
    let channel = issues.one_of(&obj, "channel", wire::<herohealth::BatchChannel>(), true);
    let subject = issues.string(&obj, "subject", false, false);
    if channel.as_deref() == Some("EMAIL") && subject.as_deref().is_none_or(|s| s.trim().is_empty())
    {
        issues.add(
            "custom",
            "subject is required when channel = EMAIL",
            &[json!("subject")],
        );
    }
    let content = issues.string(&obj, "content", true, true);
    let mut recipients = Vec::new();
    let list: Vec<(Option<usize>, &Value)> = match obj.get("recipients") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (Some(i), v))
            .collect(),
        Some(v @ Value::Object(_)) => vec![(None, v)],
        _ => {
            issues.add("invalid_type", "array", &[json!("recipients")]);
            Vec::new()
        }
    };
    for (i, r) in list {
        let path = |field: &str| -> Vec<Value> {
            let mut p = vec![json!("recipients")];
            p.extend(i.map(|i| json!(i)));
            p.push(json!(field));
            p
        };
        let Value::Object(r) = r else {
            issues.add("invalid_type", "object", &path("")[..path("").len() - 1]);
            continue;
        };
        let nhs = match r.get("nhs_number") {
            Some(Value::String(s)) => Some(s.clone()),
            _ => {
                issues.add("invalid_type", "string", &path("nhs_number"));
                None
            }
        };
        match r.get("dob") {
            Some(Value::Null) => {}
            Some(Value::String(s)) => {
                issues.datetime(s, &path("dob"));
            }
            _ => issues.add("invalid_type", "string", &path("dob")),
        }
        if let Some(nhs) = nhs {
            recipients.push(nhs);
        }
    }
    issues.finish()?;
    let now = app.clock.now();
    // A batch id of the form openapi.yaml declares (`BatchId`: digits).
    let id = app.next_id().to_string();
    let set = app.batch_outcomes.lock().expect("outcomes lock").clone();
    let batch = with_group(&app, &group, |g| {
        let recipients = recipients
            .into_iter()
            .map(|raw| match herohealth::NhsNumber::parse(&raw) {
                // Set by NHS number: it wins over the contact's outcome.
                Ok(nhs) if set.get(nhs.as_str()) == Some(&RecipientOutcome::EnrichmentError) => {
                    Recipient {
                        nhs_number: nhs.as_str().to_owned(),
                        enriched: None,
                        outcome: Outcome::Fatal,
                    }
                }
                Ok(nhs) => {
                    let p = g.register_nhs(nhs.as_str());
                    let outcome = match set.get(nhs.as_str()) {
                        Some(RecipientOutcome::Success) => Outcome::Delivered,
                        Some(_) => Outcome::Fatal,
                        None => app
                            .config
                            .outcome_for(if channel.as_deref() == Some("EMAIL") {
                                &p.email
                            } else {
                                &p.mobile
                            }),
                    };
                    Recipient {
                        nhs_number: nhs.as_str().to_owned(),
                        enriched: Some(p),
                        outcome,
                    }
                }
                Err(_) => Recipient {
                    nhs_number: raw,
                    enriched: None,
                    outcome: Outcome::Fatal,
                },
            })
            .collect();
        let batch = Batch {
            id,
            name: name.unwrap_or_default(),
            channel: channel.unwrap_or_default(),
            subject,
            content: content.unwrap_or_default(),
            created_at: now,
            sent_at: None,
            recipients,
        };
        g.batches.push(batch.clone());
        batch
    });
    Ok(axum::Json(batch_json(&batch, now)).into_response())
}

pub(super) async fn list_batch_messages(
    State(app): State<Shared>,
    PracticeGroup(group): PracticeGroup,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiFailure> {
    let q = Query::parse(raw);
    let mut issues = Issues::default();
    let batch_statuses = wire::<herohealth::BatchMessageStatus>();
    let mut allowed = batch_statuses.to_vec();
    allowed.extend(
        wire::<herohealth::EnrichmentStatus>()
            .iter()
            .filter(|s| **s != "CREATED")
            .copied(),
    );
    let status = q.enums("status", &allowed, &mut issues);
    let now = app.clock.now();
    let listed_by = app.listed_by(now);
    let rows: Vec<Value> = with_group(&app, &group, |g| {
        g.batches
            .iter()
            .filter(|b| {
                b.created_at <= listed_by
                    && status.iter().all(|s| {
                        if batch_statuses.contains(&s.as_str()) {
                            b.status(now) == s
                        } else {
                            b.recipients.iter().any(|r| enrichment(r) == s)
                        }
                    })
            })
            .map(|b| batch_json(b, now))
            .collect()
    });
    page_response(&app, rows, &q, issues)
}

fn find_batch<R>(
    app: &App,
    group: &str,
    id: &str,
    f: impl FnOnce(&mut Batch) -> R,
) -> Result<R, ApiFailure> {
    with_group(app, group, |g| {
        g.batches.iter_mut().find(|b| b.id == id).map(f)
    })
    .ok_or_else(|| api_error(StatusCode::NOT_FOUND, json!("Batch message not found")))
}

pub(super) async fn send_batch_message(
    State(app): State<Shared>,
    PracticeGroup(group): PracticeGroup,
    Path(id): Path<String>,
) -> Result<Response, ApiFailure> {
    let now = app.clock.now();
    let already = find_batch(&app, &group, &id, |b| {
        let already = b.sent_at.is_some();
        b.sent_at.get_or_insert(now);
        already
    })?;
    if already {
        return Err(api_error(
            StatusCode::CONFLICT,
            json!("Batch message already sent"),
        ));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn get_batch_message(
    State(app): State<Shared>,
    PracticeGroup(group): PracticeGroup,
    Path(id): Path<String>,
) -> Result<Response, ApiFailure> {
    let now = app.clock.now();
    let v = find_batch(&app, &group, &id, |b| batch_json(b, now))?;
    Ok(axum::Json(v).into_response())
}

fn enrichment(r: &Recipient) -> &'static str {
    if r.enriched.is_some() {
        "ENRICHED"
    } else {
        "ENRICHMENT_ERROR"
    }
}

pub(super) async fn list_batch_message_recipients(
    State(app): State<Shared>,
    PracticeGroup(group): PracticeGroup,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiFailure> {
    let q = Query::parse(raw);
    let mut issues = Issues::default();
    let status = q.enums(
        "status",
        wire::<herohealth::EnrichmentStatus>(),
        &mut issues,
    );
    let rows = find_batch(&app, &group, &id, |b| {
        b.recipients
            .iter()
            .filter(|r| status.iter().all(|s| enrichment(r) == s))
            .map(|r| match &r.enriched {
                Some(p) => json!({"enrichment_status": "ENRICHED", "first_name": p.first_name, "last_name": p.last_name,
                    "nhs_number": r.nhs_number, "mobile": p.mobile, "email": p.email}),
                None => json!({"enrichment_status": "ENRICHMENT_ERROR", "nhs_number": r.nhs_number}),
            })
            .collect::<Vec<_>>()
    })?;
    page_response(&app, rows, &q, issues)
}

pub(super) async fn list_batch_message_sends(
    State(app): State<Shared>,
    PracticeGroup(group): PracticeGroup,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiFailure> {
    let q = Query::parse(raw);
    let mut issues = Issues::default();
    let status = q.enums("status", wire::<herohealth::BatchSendStatus>(), &mut issues);
    let now = app.clock.now();
    let listed_by = app.listed_by(now);
    let rows = find_batch(&app, &group, &id, |b| {
        if b.sent_at.is_none_or(|t| t > listed_by) {
            return Vec::new();
        }
        b.recipients
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let (st, sent_at) = b.send_state(r, now)?;
                let p = r.enriched.as_ref()?;
                status.iter().all(|s| s == st).then(|| {
                    // Digits, as `NumericId` declares: the batch id, then the recipient's place in six.
                    let mut v = json!({"id": format!("{}{:06}", b.id, i + 1), "status": st, "recipient": b.contact_of(p),
                        "channel": b.channel, "content": b.content, "sent_at": opt_ts(sent_at), "created_at": opt_ts(b.sent_at)});
                    if let Some(s) = &b.subject {
                        v["subject"] = json!(s);
                    }
                    v
                })
            })
            .collect::<Vec<_>>()
    })?;
    page_response(&app, rows, &q, issues)
}
