//! `POST /v1/patients/register_pds`: register a patient from the Spine by NHS number or by
//! demographics; the configured NHS numbers are not found or must verify their identity.

use axum::{
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{Shared, with_group};
use crate::{
    gate::PracticeGroup,
    reply::{ApiFailure, api_error},
    state::person,
    validation::{Issues, json_object},
};

pub(super) async fn register_patient_pds(
    State(app): State<Shared>,
    PracticeGroup(group): PracticeGroup,
    body: Bytes,
) -> Result<Response, ApiFailure> {
    let obj = json_object(&body)?;
    let mut issues = Issues::default();
    match obj.get("dob").and_then(Value::as_str) {
        Some(d) => {
            issues.datetime(d, &[json!("dob")]);
        }
        None => issues.add("invalid_type", "string", &[json!("dob")]),
    }
    for field in ["ehr_partner", "ehr_partner_id"] {
        issues.string(&obj, field, false, true);
    }
    let nhs = if obj.contains_key("nhs_number") {
        let raw = issues.string(&obj, "nhs_number", true, false);
        let nhs = raw
            .as_deref()
            .and_then(|r| herohealth::NhsNumber::parse(r).ok());
        if raw.is_some() && nhs.is_none() {
            issues.add("custom", "a valid NHS number", &[json!("nhs_number")]);
        }
        nhs
    } else {
        for field in ["postcode", "forename", "surname"] {
            issues.string(&obj, field, true, false);
        }
        None
    };
    issues.finish()?;
    if let Some(nhs) = &nhs {
        if app.config.not_found_nhs.contains(nhs.as_str()) {
            return Err(api_error(StatusCode::NOT_FOUND, json!("No patient found")));
        }
        if app.config.verify_identity_nhs.contains(nhs.as_str()) {
            return Ok(axum::Json(json!({
                "message": "Patient must verify their identity before proceeding",
                "login_url": format!("https://patient.herohealth.net/verify/{}", &nhs.as_str()[6..]),
            }))
            .into_response());
        }
    }
    let key = match &nhs {
        Some(n) => n.as_str().to_owned(),
        None => {
            let s = |k: &str| {
                obj.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_lowercase()
            };
            format!(
                "demo:{}:{}:{}:{}",
                s("forename"),
                s("surname"),
                s("postcode"),
                s("dob")
            )
        }
    };
    let patient = with_group(&app, &group, |g| {
        if nhs.is_some() {
            g.register_nhs(&key)
        } else if let Some(id) = g.by_nhs.get(&key) {
            g.patients[id].clone()
        } else {
            g.next_patient += 1;
            let id = (100_000 + g.next_patient).to_string();
            let mut p = person(g.next_patient, id.clone());
            p.first_name = obj
                .get("forename")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            p.last_name = obj
                .get("surname")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            g.by_nhs.insert(key.clone(), id.clone());
            g.patients.insert(id, p.clone());
            p
        }
    });
    Ok(axum::Json(json!({"patient_id": patient.id})).into_response())
}
