//! Single messages: `POST /v1/messages/send`, `GET /v1/messages/{id}` and its status.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{Shared, sent::sent_row, with_group};
use crate::{
    App,
    gate::PracticeGroup,
    reply::{ApiFailure, api_error, opt_ts, ts},
    state::{Approval, Group, Message},
    validation::{Issues, json_object, wire},
};

pub(super) async fn send_message(
    State(app): State<Shared>,
    PracticeGroup(group): PracticeGroup,
    body: Bytes,
) -> Result<Response, ApiFailure> {
    let obj = json_object(&body)?;
    let mut issues = Issues::default();
    let patient_id = issues.string(&obj, "patient_id", true, false);
    if patient_id
        .as_deref()
        .is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        issues.add("invalid_string", "^\\d+$", &[json!("patient_id")]);
    }
    let message_type = issues.one_of(
        &obj,
        "message_type",
        wire::<herohealth::MessageType>(),
        true,
    );
    let content = issues.string(&obj, "message_string", true, true);
    let contact = issues.string(&obj, "recipient_contact_detail", false, false);
    issues.string(&obj, "fallback_contact_detail", false, false);
    issues.one_of(&obj, "fallback_message_type", &["sms", "email"], false);
    let write_to_record = issues.boolean(&obj, "write_to_record");
    let auto_write_to_record = issues.boolean(&obj, "auto_write_to_record");
    if !matches!(
        obj.get("encrypted"),
        None | Some(Value::Bool(_) | Value::String(_))
    ) {
        issues.add("invalid_type", "boolean | string", &[json!("encrypted")]);
    }
    let snomed_code = issues.string(&obj, "snomed_code", false, false);
    issues.one_of(&obj, "assignee_type", &["Admin", "AdminTeam"], false);
    for field in ["snomed_term", "task_id"] {
        issues.string(&obj, field, false, false);
    }
    let attachment_uuid = issues.string(&obj, "attachment_uuid", false, true);
    issues.string(&obj, "short_link_id", false, true);
    if obj.get("assignee_id").is_some_and(|v| v.as_i64().is_none()) {
        issues.add("invalid_type", "integer", &[json!("assignee_id")]);
    }
    let send_at = issues
        .string(&obj, "send_at", false, false)
        .and_then(|s| issues.datetime(&s, &[json!("send_at")]));
    issues.finish()?;
    let (patient_id, message_type, content) = (
        patient_id.unwrap_or_default(),
        message_type.unwrap_or_default(),
        content.unwrap_or_default(),
    );

    let now = app.clock.now();
    let needs_approval = write_to_record && !auto_write_to_record && app.config.write_approval;
    let m = with_group(&app, &group, |g| {
        let id = g.messages.len() as u64 + 1;
        let patient = g.patient(&patient_id);
        let contact = contact.unwrap_or_else(|| {
            if message_type == "email" {
                patient.email.clone()
            } else {
                patient.mobile.clone()
            }
        });
        let snomed_valid = snomed_code.as_deref().is_none_or(|c| {
            herohealth::SnomedCode::parse(c).is_ok() && !app.config.failing_snomed_codes.contains(c)
        });
        let m = Message {
            id,
            patient_id,
            outcome: app.config.outcome_for(&contact),
            message_type,
            content,
            contact,
            write_to_record,
            snomed_code: snomed_code
                .or_else(|| write_to_record.then(|| crate::DEFAULT_SNOMED_CODE.to_owned())),
            snomed_valid,
            send_at,
            created_at: now,
            sent_by: "API".to_owned(),
            campaign: None,
            short_link: None,
            attachment_uuid,
            approval: if needs_approval {
                Approval::Pending {
                    token: format!("wtr-{id}-{:016x}", random_bits(id)),
                }
            } else {
                Approval::NotNeeded
            },
        };
        g.messages.push(m.clone());
        m
    });
    if m.write_to_record {
        // Its write to the record is announced to the group's webhooks when it happens.
        app.deliveries.watch_record(&group, m.id);
    }
    Ok(axum::Json(json!({
        "message_id": m.id.to_string(),
        "content": m.content,
        "created_at": ts(m.created_at),
        "snomed_code": m.snomed_code,
        "write_to_record": m.write_to_record,
        "auth_token": m.approval.token(),
        "confirm_write_to_record_url": m.approval.token().map(|t| confirm_url(&app, t)),
        "submitted_by": "API",
        "send_at": opt_ts(m.send_at),
    }))
    .into_response())
}

/// Where a write waiting for approval is approved: `POST` it (no API key: the token is the
/// credential).
fn confirm_url(app: &App, token: &str) -> String {
    format!("{}/__mock/confirm_write_to_record/{token}", app.base_url)
}

/// Unpredictable bits for a token (the standard library's random hash keys; a test's mock is no
/// security boundary). The message id in the token makes it unique within a practice group.
fn random_bits(id: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(id);
    h.finish()
}

/// `POST /__mock/confirm_write_to_record/{token}` (the `confirm_write_to_record_url` of a send
/// under [`crate::MockConfig::write_approval`]): approves that message's write into the record,
/// as a Hero admin would. 204 when approved (again: still 204), 404 for a token it never gave.
pub(crate) async fn confirm_write_to_record(
    State(app): State<Shared>,
    Path(token): Path<String>,
) -> Response {
    let now = app.clock.now();
    let mut groups = app.groups.lock().expect("store lock");
    for g in groups.values_mut() {
        if let Some(m) = g
            .messages
            .iter_mut()
            .find(|m| m.approval.token() == Some(token.as_str()))
        {
            if let Approval::Pending { token } = &m.approval {
                m.approval = Approval::Approved {
                    token: token.clone(),
                    at: now,
                };
            }
            return StatusCode::NO_CONTENT.into_response();
        }
    }
    api_error(StatusCode::NOT_FOUND, json!("Not found")).into_response()
}

fn find_message<R>(
    app: &App,
    group: &str,
    id: &str,
    f: impl FnOnce(&Message, &mut Group) -> R,
) -> Result<R, ApiFailure> {
    with_group(app, group, |g| {
        let m = id
            .parse::<usize>()
            .ok()
            .and_then(|i| g.messages.get(i.checked_sub(1)?))
            .cloned()?;
        Some(f(&m, g))
    })
    .ok_or_else(|| api_error(StatusCode::NOT_FOUND, json!("Message not found")))
}

pub(super) async fn get_message(
    State(app): State<Shared>,
    PracticeGroup(group): PracticeGroup,
    Path(id): Path<String>,
) -> Result<Response, ApiFailure> {
    let now = app.clock.now();
    let v = find_message(&app, &group, &id, |m, g| {
        let p = g.patient(&m.patient_id);
        let mut v = serde_json::to_value(sent_row(m, &p, now)).unwrap_or_default();
        let obj = v.as_object_mut().expect("object");
        for k in ["sent_by", "recipient_contact_detail", "message_type"] {
            obj.remove(k);
        }
        obj["write_to_record"]["snomed_code"] = json!(m.snomed_code);
        // The text as stored (what `find_send` compares), unless this mock plays a Hero that
        // gives none back.
        if !app.config.no_message_content {
            obj.insert("content".to_owned(), json!(m.content));
        }
        // Optional and not nullable in this operation's description: absent rather than null.
        if let Some(wtr) = obj["write_to_record"].as_object_mut()
            && wtr.get("status") == Some(&Value::Null)
        {
            wtr.remove("status");
        }
        obj.insert("sent_by_admin".to_owned(), Value::Null);
        v
    })?;
    Ok(axum::Json(v).into_response())
}

pub(super) async fn get_message_status(
    State(app): State<Shared>,
    PracticeGroup(group): PracticeGroup,
    Path(id): Path<String>,
) -> Result<Response, ApiFailure> {
    let now = app.clock.now();
    let v = find_message(&app, &group, &id, |m, _| {
        let s = m.state(now);
        json!({
            "id": m.id.to_string(),
            "scheduled_send_at": opt_ts(m.send_at),
            "write_to_record": m.write_to_record,
            "status": {"write_to_record_at": opt_ts(s.wtr_at), "sent_at": opt_ts(s.sent_at), "response": s.status, "failure_reason": s.send_error},
            "errors": {"write_to_record": s.wtr_failure, "send": s.send_error},
        })
    })?;
    Ok(axum::Json(v).into_response())
}
