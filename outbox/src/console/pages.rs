//! The console's pages, rendered on the server (maud escapes every value). Nothing here prints a
//! row's fields: a row is named by its run, its number and its line in the input file; message
//! ids only in their declared form; counts, times, statuses and the journal's reasons (texts
//! without patient data by their contract).

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

use super::{AUTO_REFRESH, Authed, Base, RowQueryOf, Shared, journal_failed};
use crate::{Entry, Journal, RowState, RunStatus, WorkerStatus};

/// The console's stylesheet (served as `/console.css`: the policy allows no inline style).
pub(crate) const STYLESHEET: &str = "\
body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#005eb8;color:#fff;padding:.6em 1em;display:flex;gap:1.2em;align-items:center;flex-wrap:wrap}
header a{color:#fff}header .who{margin-left:auto}
header form{display:inline}
main{padding:1em;max-width:72em}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}
th{background:#eef}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#555}.warn{color:#a00;font-weight:bold}
.decision{border:1px solid #ccc;padding:.6em 1em;margin:.6em 0;background:#fff}
label{display:block;margin:.3em 0}
input[type=text],input[type=password]{width:22em}
button{padding:.3em 1em}
";

/// A message id as the crate may show it: in its declared form, else masked.
pub(crate) fn message_id(id: &str) -> &str {
    herohealth::ids::MESSAGE_ID.shown(id).as_str()
}

/// A moment, to the second, in UTC.
pub(crate) fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "—".to_owned())
}

/// The line of an entry's row in its input file.
pub(crate) fn line(e: &Entry) -> String {
    e.row
        .line()
        .map(|l| l.to_string())
        .unwrap_or_else(|| "—".to_owned())
}

/// A page: `refresh` reloads it by itself every so many seconds, as an automatic refresh
/// ([`AUTO_REFRESH`]: it does not keep the session alive).
fn layout(
    title: &str,
    base: &Base,
    authed: Option<&Authed>,
    refresh: Option<u32>,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(secs) = refresh {
                    meta http-equiv="refresh" content={ (secs) "; url=?" (AUTO_REFRESH) };
                }
                title { (title) " · hero outbox console" }
                link rel="stylesheet" href=(base.to("console.css"));
            }
            body {
                header {
                    strong { "hero outbox console" }
                    @if let Some(a) = authed {
                        a href=(base.to("")) { "Runs" }
                        a href=(base.to("decide")) { "To decide" }
                        a href=(base.to("workers")) { "Workers" }
                        a href=(base.to("decisions")) { "Decisions" }
                        span.who {
                            "Logged in as " strong { (a.user) } " "
                            form method="post" action=(base.to("logout")) {
                                input type="hidden" name="csrf" value=(a.csrf);
                                button type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A page for a logged-in person.
pub(crate) fn page(title: &str, authed: &Authed, body: Markup) -> Markup {
    layout(title, &authed.base, Some(authed), None, body)
}

pub(crate) fn login(base: &Base, csrf: &str, problem: Option<&str>) -> Markup {
    layout(
        "Log in",
        base,
        None,
        None,
        html! {
            @if let Some(p) = problem { p.warn role="alert" { (p) } }
            form method="post" action=(base.to("login")) {
                input type="hidden" name="csrf" value=(csrf);
                label { "Name " input type="text" name="name" autocomplete="username" required; }
                label { "Password " input type="password" name="password" autocomplete="current-password" required; }
                button type="submit" { "Log in" }
            }
        },
    )
}

pub(crate) fn failure(what: &str) -> Markup {
    layout(
        "The journal could not be read",
        &Base::default(),
        None,
        None,
        html! { p.warn { (what) } p { "Nothing was changed. Reload the page to try again." } },
    )
}

/// Rows per minute between a run's start and its last activity, when both are known.
fn rate(r: &RunStatus) -> String {
    match (r.created_at, r.last_activity) {
        (Some(start), Some(last)) if last > start && r.sent + r.failed > 0 => {
            let secs = (last - start).num_milliseconds() as f64 / 1000.0;
            format!(
                "{:.1}/min",
                (r.sent + r.failed) as f64 * 60.0 / secs.max(1.0)
            )
        }
        _ => "—".to_owned(),
    }
}

/// The runs page: each run's counts, live while one goes on.
pub(crate) async fn runs<J: Journal>(State(state): State<Shared<J>>, authed: Authed) -> Response {
    let (view, decide) = match state.to_decide().await {
        Ok(v) => v,
        Err(e) => return journal_failed(e),
    };
    let runs = &view.runs;
    let going = runs.iter().any(|(r, _)| r.pending + r.in_flight > 0);
    let base = &authed.base;
    let to_decide = |run: u64| decide.iter().filter(|e| e.run == run).count();
    let body = html! {
        @if runs.is_empty() {
            p { "The journal holds no run yet." }
        } @else {
            @if going {
                p.note { "A run is going on: this page refreshes every " (state.config.refresh) " s." }
            }
            table #runs {
                thead { tr {
                    th { "Run" } th { "Practice group" } th { "Input" } th { "Rows" }
                    th { "Sent" } th { "Failed" } th { "Ambiguous" } th { "To decide" }
                    th { "Unfinished" } th { "Rate" } th { "Started" } th { "Last activity" }
                } }
                tbody {
                    @for (r, group) in runs {
                        tr id={ "run-" (r.run) } {
                            td.n { (r.run) }
                            td.group { (group) }
                            td { (short(&r.fingerprint)) }
                            td.n { (r.pending + r.in_flight + r.sent + r.failed + r.ambiguous) }
                            td.n.sent { (r.sent) }
                            td.n.failed { (r.failed) }
                            td.n.ambiguous { (r.ambiguous) }
                            td.n.to-decide {
                                @let n = to_decide(r.run);
                                @if n > 0 { a href=(base.to("decide")) { (n) } } @else { "0" }
                            }
                            td.n.unfinished { (r.pending + r.in_flight) }
                            td.n { (rate(r)) }
                            td { (when(r.created_at)) }
                            td { (when(r.last_activity)) }
                        }
                    }
                }
            }
            p.note { "Unfinished: pending, in flight or being looked for. The rate counts sent and failed rows from the run's start to its last activity. The journal records neither Hero's 429 answers nor the pace a run was given, so neither is shown here: the run's log and its telemetry have them. No patient data is shown: rows are named by run and line; the input file has the rest." }
        }
    };
    layout(
        "Runs",
        base,
        Some(&authed),
        going.then_some(state.config.refresh),
        body,
    )
    .into_response()
}

/// The first 12 characters of a fingerprint.
fn short(s: &str) -> &str {
    s.get(..12).unwrap_or(s)
}

/// The workers page (a shared journal's workers, their leases and heartbeats).
pub(crate) async fn workers<J: Journal>(
    State(state): State<Shared<J>>,
    authed: Authed,
) -> Response {
    let workers: Vec<WorkerStatus> = match state.journal.workers().await {
        Ok(w) => w,
        Err(e) => return journal_failed(e),
    };
    let now = herohealth::now();
    let body = html! {
        @if workers.is_empty() {
            p { "No worker: this journal is worked by one process (an SQLite journal), or no worker has claimed rows yet." }
        } @else {
            table #workers {
                thead { tr {
                    th { "Worker" } th { "Started" } th { "Last heartbeat" } th { "Rows held" }
                    th { "In flight" } th { "Leases until" }
                } }
                tbody {
                    @for w in &workers {
                        tr {
                            td { (w.id) }
                            td { (when(Some(w.started_at))) }
                            td { (when(Some(w.heartbeat_at))) " (" ((now - w.heartbeat_at).num_seconds().max(0)) " s ago)" }
                            td.n { (w.held) }
                            td.n { (w.in_flight) }
                            td { (when(w.lease_until)) }
                        }
                    }
                }
            }
        }
    };
    layout(
        "Workers",
        &authed.base,
        Some(&authed),
        Some(state.config.refresh),
        body,
    )
    .into_response()
}

/// The rows to decide, or one row's evidence (`?run=R&line=N`).
pub(crate) async fn decide<J: Journal>(
    State(state): State<Shared<J>>,
    authed: Authed,
    query: RowQueryOf,
) -> Response {
    let rows = match state.to_decide().await {
        Ok((_, r)) => r,
        Err(e) => return journal_failed(e),
    };
    let base = &authed.base;
    if let (Some(run), Some(l)) = (query.run, query.line) {
        let Some(entry) = rows
            .iter()
            .find(|e| e.run == run && e.row.line() == Some(l))
        else {
            return (
                StatusCode::NOT_FOUND,
                layout(
                    "Not a row to decide",
                    base,
                    Some(&authed),
                    None,
                    html! { p { "Run " (run) " has no row at line " (l) " to decide (decided already, or never ambiguous)." } a href=(base.to("decide")) { "Rows to decide" } },
                ),
            )
                .into_response();
        };
        return layout(
            &format!("Run {run}, line {l}"),
            base,
            Some(&authed),
            None,
            html! {
                (evidence(entry))
                (super::decisions::forms(entry, candidates(entry), &authed, state.config.read_only))
            },
        )
        .into_response();
    }
    let body = html! {
        @if rows.is_empty() {
            p { "No row to decide." }
        } @else {
            p { (rows.len()) " row(s) may have been sent but cannot be told apart from other messages: a person decides each. Never send them again from the input file." }
            table #to-decide {
                thead { tr { th { "Run" } th { "Row" } th { "Line" } th { "Candidates" } th { "Why" } th {} } }
                tbody {
                    @for e in &rows {
                        tr {
                            td.n { (e.run) }
                            td.n { (e.index + 1) }
                            td.n { (line(e)) }
                            td.n { (candidates(e).len()) }
                            td { (e.state.reason().unwrap_or("")) }
                            td { @if let Some(l) = e.row.line() { a href={ (base.to("decide")) "?run=" (e.run) "&line=" (l) } { "Evidence" } } }
                        }
                    }
                }
            }
        }
    };
    layout("Rows to decide", base, Some(&authed), None, body).into_response()
}

pub(crate) fn candidates(e: &Entry) -> &[String] {
    match &e.state {
        RowState::Ambiguous { message_ids, .. } => message_ids,
        _ => &[],
    }
}

/// One row's evidence: no patient data (its line, its reason, its candidates' ids).
fn evidence(e: &Entry) -> Markup {
    let ids = candidates(e);
    html! {
        dl {
            dt { "Run" } dd { (e.run) }
            dt { "Row" } dd { (e.index + 1) }
            dt { "Line in the input file" } dd { (line(e)) }
            dt { "Status" } dd { (e.state.status()) }
            dt { "Why a person decides" } dd { (e.state.reason().unwrap_or("")) }
            dt { "Requests that may have reached Hero" } dd { (e.sends) }
        }
        h2 { "Candidates" }
        @if ids.is_empty() {
            p { "No candidate: Hero accepted the send but never listed it, or listed nothing that could be compared." }
        } @else {
            table #candidates {
                thead { tr { th { "Message id" } } }
                tbody { @for id in ids { tr { td { (message_id(id)) } } } }
            }
        }
    }
}
