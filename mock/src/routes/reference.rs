//! Reference data: the assignees, SNOMED code validation and the templates.

use axum::{
    body::Bytes,
    extract::RawQuery,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use crate::{
    reply::ApiFailure,
    validation::{Issues, Query, json_object},
};

pub(super) async fn list_assignee_collection() -> Response {
    axum::Json(json!({"data": [
        {"label": "Dr Ada Lovelace", "value": 12, "type": "Admin", "key": "admin-12"},
        {"label": "Grace Hopper", "value": 14, "type": "Admin", "key": "admin-14"},
        {"label": "Reception team", "value": 3, "type": "AdminTeam", "key": "team-3"},
    ]}))
    .into_response()
}

pub(super) async fn validate_snomed_code(body: Bytes) -> Result<Response, ApiFailure> {
    let obj = json_object(&body)?;
    let mut issues = Issues::default();
    let code = issues.string(&obj, "code", true, false);
    issues.finish()?;
    let valid = herohealth::SnomedCode::parse(&code.unwrap_or_default()).is_ok();
    Ok(axum::Json(json!({"valid": valid})).into_response())
}

pub(super) async fn list_templates(RawQuery(raw): RawQuery) -> Result<Response, ApiFailure> {
    let q = Query::parse(raw);
    let mut issues = Issues::default();
    let follow_up = q.boolean("has_follow_up", &mut issues);
    issues.finish()?;
    let all = [
        json!({"id": "1", "name": "Test results ready", "content": "Your test results are ready. Please call the surgery.",
               "link": "no_link", "type": "hero", "sms_snomed_code": "1240751000000100", "send_follow_up_one": false,
               "send_follow_up_two": false, "reminder_time": null}),
        json!({"id": "2", "name": "Flu clinic", "content": "Your flu vaccination is due. Book here:", "link": "booking",
               "type": "user", "sms_snomed_code": null, "sms_follow_up_1_snomed_code": null, "send_follow_up_one": true,
               "send_follow_up_two": false, "reminder_time": 72}),
        json!({"id": "3", "name": "Asthma review", "content": "Please complete your asthma review form:", "link": "form",
               "type": "external", "send_follow_up_one": true, "send_follow_up_two": true, "reminder_time": 48}),
    ];
    let data: Vec<Value> = all
        .into_iter()
        .filter(|t| {
            follow_up.is_none_or(|f| {
                f == (t["send_follow_up_one"] == json!(true)
                    || t["send_follow_up_two"] == json!(true))
            })
        })
        .collect();
    let count = data.len();
    Ok(axum::Json(json!({"data": data, "count": count})).into_response())
}
