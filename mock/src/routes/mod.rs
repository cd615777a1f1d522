//! The mock's routes: one handler per operation of the generated operation table
//! (`herohealth::spec::OPERATIONS`, from `openapi.yaml`), each behind the gate
//! (`crate::gate`), one module per resource; plus `GET /__mock/journal` (a group's own entries),
//! `GET /__mock/deliveries` and `POST /__mock/confirm_write_to_record/{token}`. Shared here: the
//! practice group's store and Hero's pagination.

mod batch;
mod links;
mod messages;
mod patients;
mod reference;
mod sent;
mod webhooks;

use std::sync::Arc;

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, Method, StatusCode},
    middleware,
    response::{IntoResponse, Response},
    routing::{MethodFilter, MethodRouter, get, on},
};
use herohealth::spec::{OPERATIONS, Operation};
use serde_json::json;

use crate::{
    App, CountMode,
    reply::{ApiFailure, ListPage, api_error},
    state::Group,
    validation::{Issues, Query},
};

/// The state every handler gets.
pub(crate) type Shared = Arc<App>;

/// The handler of `op`, on the method the spec gives it; `None` for an operation the mock does
/// not implement (its requests get the 404 of an unknown path, which the conformance test, going
/// through every operation of the table, reports).
fn route(op: &Operation) -> Option<MethodRouter<Shared>> {
    let method: Method = op.method.parse().ok()?;
    let m = MethodFilter::try_from(method).ok()?;
    Some(match op.id {
        "create_batch_message" => on(m, batch::create_batch_message),
        "list_batch_messages" => on(m, batch::list_batch_messages),
        "send_batch_message" => on(m, batch::send_batch_message),
        "get_batch_message" => on(m, batch::get_batch_message),
        "list_batch_message_recipients" => on(m, batch::list_batch_message_recipients),
        "list_batch_message_sends" => on(m, batch::list_batch_message_sends),
        "send_message" => on(m, messages::send_message),
        "get_message" => on(m, messages::get_message),
        "get_message_status" => on(m, messages::get_message_status),
        "list_sent_messages" => on(m, sent::list_sent_messages),
        "list_assignee_collection" => on(m, reference::list_assignee_collection),
        "validate_snomed_code" => on(m, reference::validate_snomed_code),
        "list_templates" => on(m, reference::list_templates),
        "register_patient_pds" => on(m, patients::register_patient_pds),
        "create_webhook" => on(m, webhooks::create_webhook),
        "list_webhooks" => on(m, webhooks::list_webhooks),
        "delete_webhook" => on(m, webhooks::delete_webhook),
        "create_attachment_link" => on(m, links::create_attachment_link),
        _ => return None,
    })
}

pub(crate) fn router(app: Shared) -> Router {
    let mut api = Router::new();
    for op in OPERATIONS {
        match route(op) {
            Some(handler) => api = api.route(op.path, handler),
            None => tracing::warn!(operation = op.id, "herohealth-mock does not serve it"),
        }
    }
    api.route_layer(middleware::from_fn_with_state(
        app.clone(),
        crate::gate::gate,
    ))
    // Bodies as large as the gate reads (an attachment's file, base64, is over axum's 2 MB default).
    .layer(axum::extract::DefaultBodyLimit::max(
        crate::gate::BODY_LIMIT,
    ))
    .route("/__mock/journal", get(journal))
    .route("/__mock/deliveries", get(deliveries))
    .route(
        "/__mock/confirm_write_to_record/{token}",
        axum::routing::post(messages::confirm_write_to_record),
    )
    .fallback(|| async { api_error(StatusCode::NOT_FOUND, json!("Not found")) })
    .with_state(app)
}

/// `GET /__mock/journal`: the journal entries of the caller's practice group, for a test outside
/// the process. It holds the test's patient data, so it needs the group's API key like the API.
async fn journal(State(app): State<Shared>, headers: HeaderMap) -> Result<Response, ApiFailure> {
    let group = crate::gate::authenticate(&app, &headers)?;
    let mine: Vec<_> = app
        .journal
        .entries()
        .into_iter()
        .filter(|e| e.practice_group_id.as_ref() == Some(&group))
        .collect();
    Ok(axum::Json(mine).into_response())
}

/// `GET /__mock/deliveries`: the webhook delivery attempts to the caller's practice group's
/// webhooks ([`crate::MockServer::deliveries`]), behind the group's API key like the journal.
async fn deliveries(State(app): State<Shared>, headers: HeaderMap) -> Result<Response, ApiFailure> {
    let group = crate::gate::authenticate(&app, &headers)?;
    let mine: Vec<_> = app
        .deliveries
        .entries()
        .into_iter()
        .filter(|e| e.practice_group_id == group)
        .collect();
    Ok(axum::Json(mine).into_response())
}

/// Runs `f` on the store of practice group `group`.
pub(crate) fn with_group<R>(app: &App, group: &str, f: impl FnOnce(&mut Group) -> R) -> R {
    let mut groups = app.groups.lock().expect("store lock");
    f(groups.entry(group.to_owned()).or_default())
}

/// One page of `items` per `page_index` (from 0) and `page_size`, and the `count` to report.
fn paginate<T>(app: &App, items: Vec<T>, q: &Query, issues: &mut Issues) -> (Vec<T>, usize) {
    let (skip, size) = page_window(app, q, issues);
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(skip).take(size).collect();
    let count = count_for(app, total, page.len());
    (page, count)
}

/// One page of `rows` as Hero's `{data, count}` body, or the 400 for a bad query.
fn page_response<T: serde::Serialize>(
    app: &App,
    rows: Vec<T>,
    q: &Query,
    mut issues: Issues,
) -> Result<Response, ApiFailure> {
    let (data, count) = paginate(app, rows, q, &mut issues);
    issues.finish()?;
    Ok(axum::Json(ListPage { data, count }).into_response())
}

/// `(items to skip, page size)` from `page_index` (from 0) and `page_size` (default and cap from
/// the configuration).
fn page_window(app: &App, q: &Query, issues: &mut Issues) -> (usize, usize) {
    let size = q
        .int("page_size", 1, issues)
        .map_or(app.config.default_page_size, |s| s as usize)
        .min(app.config.max_page_size);
    let index = q.int("page_index", 0, issues).unwrap_or(0) as usize;
    (index.saturating_mul(size), size)
}

/// The `count` a list reports, per [`CountMode`].
fn count_for(app: &App, total: usize, on_page: usize) -> usize {
    match app.config.count_mode {
        CountMode::Total => total,
        CountMode::Page => on_page,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_of_the_spec_has_a_handler() {
        let missing: Vec<_> = OPERATIONS
            .iter()
            .filter(|op| route(op).is_none())
            .map(|op| op.id)
            .collect();
        assert!(missing.is_empty(), "no handler for {missing:?}");
    }
}
