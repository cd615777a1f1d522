//! The request pipeline: every generated operation goes through here, one way, from the builder
//! to a decoded value or an [`Error`](crate::Error).
//!
//! # The life of one request
//!
//! `hero.send_message().body_map(|b| ...).send().await`:
//!
//! 1. **Builder.** The generated builder (`api::builder::SendMessage`) collects the parameters and
//!    the body; each setter converts its value with `TryInto` into a checked type
//!    ([`crate::validate`]), keeping the first failure.
//! 2. **`send()`** is ours, added to every builder by `build.rs`: it runs the generated request
//!    (`send_raw()`) inside `context::call`, which keeps a per-call record (attempts, the
//!    request's method and body, the time window) in a task-local.
//! 3. **Generated `send_raw()`** turns a failed setter into `InvalidRequest`, builds the URL, the
//!    JSON body and the `reqwest::Request`, then calls the hooks below.
//! 4. **`pre`**: cross-field rules (`crate::validate::rules`); a refusal sends nothing. Removes
//!    progenitor's `api-version` header and sets the two auth headers (`crate::auth`).
//! 5. **`exec`**: sends under the retry policy (`crate::retry`), logging each attempt without URL,
//!    headers or body. A success body is bounded (`body`); a send's success body is read here,
//!    where a broken answer means "Hero accepted it". An error response's body is read (bounded)
//!    and kept in the response's extensions as a `context::ResponseContext`; a transport failure
//!    becomes a `context::AttemptFailure` on a placeholder response (a `reqwest::Error` cannot carry it).
//! 6. **Generated status match**: 200 is decoded by progenitor; anything else is handed back raw.
//! 7. **`context::call`** turns what came back into the crate's result: a decoded value becomes a
//!    [`Response`](crate::Response); everything else becomes one [`Error`](crate::Error), with the
//!    JSON path of a decode failure (serde_path_to_error over the call's own type), a masked
//!    excerpt ([`crate::redact`]), the attempts, and whether a send was accepted or its outcome is
//!    unknown. This is the only place an outcome becomes an `Error`.
//!
//! The writer and the reader of the side channel (steps 5 and 7) live together in `context`.
//! The one import cycle left runs through the generated module: progenitor's `with_inner_type` makes
//! the generated client name `ClientState`, and the handwritten layer names the generated types.

pub(crate) mod body;
pub(crate) mod context;

use std::time::Instant;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};

use crate::{
    api::HeroClient,
    client::ClientState,
    retry::{self, Verdict},
};
use body::{limit_body, read_send_body};
use context::{
    AttemptFailure, classify_transport, failure_response, record, retry_after, with_context,
};

impl ClientHooks<ClientState> for HeroClient {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        if let Some(body) = request.body().and_then(reqwest::Body::as_bytes) {
            crate::validate::rules::check_body(info.operation_id, body, chrono::Utc::now())
                .map_err(progenitor_client::Error::InvalidRequest)?;
        }
        let headers = request.headers_mut();
        headers.remove("api-version");
        self.inner().credentials.apply(headers);
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let policy = &self.inner().retry;
        let operation = info.operation_id;
        let method = request.method().clone();
        let idempotent = method == reqwest::Method::GET || method == reqwest::Method::HEAD;
        let started = Instant::now();
        record(|r| r.start(&request));
        let mut pending = Some(request);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let Some(current) = pending.take() else {
                unreachable!("a request is kept for every attempt that is started")
            };
            let mut current = current;
            if let Some(timeout) = self.inner().attempt_timeout {
                *current.timeout_mut() = Some(timeout);
            }
            // Keep a copy for the next attempt (bodies here are always buffered JSON).
            let spare = if attempt < policy.get_max_attempts() {
                current.try_clone()
            } else {
                None
            };
            let result = self.client().execute(current).await;
            record(|r| r.attempted(attempt));
            let (verdict, retry_after, status) = match &result {
                Ok(resp) if resp.status().is_success() => {
                    (Verdict::Return, None, Some(resp.status()))
                }
                Ok(resp) => (
                    retry::after_status(idempotent, resp.status().as_u16()),
                    retry_after(resp.headers()),
                    Some(resp.status()),
                ),
                Err(e) => (retry::after_error(idempotent, e), None, None),
            };
            let status_code = status.map(|s| s.as_u16());
            tracing::debug!(operation, %method, attempt, status = status_code, "hero request attempt");

            if verdict == Verdict::Retry
                && let Some(spare) = spare
            {
                let delay = policy.delay(attempt, retry_after);
                if started.elapsed() + delay < policy.get_total_deadline() {
                    tracing::info!(
                        operation,
                        attempt,
                        status = status_code,
                        delay_ms = delay.as_millis() as u64,
                        "retrying hero request"
                    );
                    tokio::time::sleep(delay).await;
                    pending = Some(spare);
                    continue;
                }
            }
            let outcome_unknown = verdict == Verdict::OutcomeUnknown;
            return match result {
                // A send's success body is read here, where the method is known: if the
                // connection breaks now, Hero has accepted the send and the caller must not resend.
                Ok(resp) if resp.status().is_success() && !idempotent => {
                    let resp_status = resp.status();
                    Ok(match read_send_body(resp).await {
                        Ok(resp) => resp,
                        Err(failure) => failure_response(AttemptFailure {
                            operation,
                            attempts: attempt,
                            status: Some(resp_status),
                            ..failure
                        }),
                    })
                }
                Ok(resp) if resp.status().is_success() => match limit_body(resp) {
                    Ok(resp) => Ok(resp),
                    Err(failure) => Ok(failure_response(AttemptFailure {
                        operation,
                        attempts: attempt,
                        ..failure
                    })),
                },
                Ok(resp) => Ok(with_context(resp, operation, attempt, outcome_unknown).await),
                Err(e) => {
                    let (kind, message) = classify_transport(&e.without_url());
                    tracing::debug!(
                        operation,
                        attempt,
                        ?kind,
                        outcome_unknown,
                        "hero request failed"
                    );
                    Ok(failure_response(AttemptFailure {
                        kind,
                        message,
                        operation,
                        attempts: attempt,
                        outcome_unknown,
                        accepted: false,
                        status: None,
                    }))
                }
            };
        }
    }
}
