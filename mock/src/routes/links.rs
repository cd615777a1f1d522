//! Attachment links: `POST /v1/attachment_links`, a file (inline, base64) or a record file for one
//! patient, answered with the `attachment_uuid` a message carries.

use axum::{
    body::Bytes,
    extract::State,
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use serde_json::{Value, json};

use super::{Shared, with_group};
use crate::{
    gate::PracticeGroup,
    reply::ApiFailure,
    state::Attachment,
    validation::{Issues, json_object},
};

pub(super) async fn create_attachment_link(
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
    let expiry_date = issues
        .string(&obj, "expiry_date", false, false)
        .and_then(|s| issues.datetime(&s, &[json!("expiry_date")]));
    let maximum_use_count = match obj.get("maximum_use_count") {
        None => None,
        // int64 in the spec: a number past i64::MAX is out of range, not a large count.
        Some(v) => match v.as_i64() {
            Some(n) if n >= 1 => Some(n.unsigned_abs()),
            None if v.is_u64() => {
                issues.add(
                    "too_big",
                    "integer <= 9223372036854775807",
                    &[json!("maximum_use_count")],
                );
                None
            }
            _ => {
                issues.add("too_small", "integer >= 1", &[json!("maximum_use_count")]);
                None
            }
        },
    };
    let ehr_file_id = issues.string(&obj, "ehr_file_id", false, true);
    let file_name = issues.string(&obj, "file_name", false, true);
    let contents = issues
        .string(&obj, "file_data", false, false)
        .and_then(
            |data| match base64::engine::general_purpose::STANDARD.decode(data.as_bytes()) {
                Ok(bytes) => Some(bytes),
                Err(_) => {
                    issues.add("invalid_string", "base64", &[json!("file_data")]);
                    None
                }
            },
        );
    let inline = obj.contains_key("file_data") || obj.contains_key("file_name");
    if obj.contains_key("ehr_file_id") == inline {
        // Neither or both: one file, from the record or uploaded.
        issues.add("custom", "ehr_file_id | file_data", &[json!("file_data")]);
    } else if inline && !(obj.contains_key("file_data") && obj.contains_key("file_name")) {
        let missing = if obj.contains_key("file_data") {
            "file_name"
        } else {
            "file_data"
        };
        issues.add("invalid_type", "string", &[json!(missing)]);
    }
    issues.finish()?;
    let n = app.next_id();
    let uuid = format!("00000000-0000-4000-8000-{n:012x}");
    let link = format!("https://attachments.herohealth-mock.invalid/a/{uuid}");
    let attachment = Attachment {
        uuid: uuid.clone(),
        link: link.clone(),
        patient_id: patient_id.unwrap_or_default(),
        file_name,
        contents,
        ehr_file_id,
        expiry_date,
        maximum_use_count,
        created_at: app.clock.now(),
    };
    with_group(&app, &group, |g| g.attachments.push(attachment));
    Ok(
        axum::Json(json!({"attachment_link": Value::String(link), "attachment_uuid": uuid}))
            .into_response(),
    )
}
