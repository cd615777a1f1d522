//! Deciding a row ([`Journal::decide`], the one decision path: the console adds none of its
//! own), and the record ([`Journal::decisions`]) as a page and as CSV.
//!
//! A decision's note is a person's free text: it is kept in the journal, and shown on no page
//! and in no export of the console (only its length).

use axum::{
    Form,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Authed, Shared, change_refused, journal_failed, pages, refused};
use crate::{Choice, Decision, DecisionRecord, Entry, Journal, JournalError, csv_safe};

/// The three decisions on one row, each confirmed (a box to tick); none in read-only mode.
pub(crate) fn forms(e: &Entry, candidates: &[String], authed: &Authed, read_only: bool) -> Markup {
    let csrf = &authed.csrf;
    let action = authed.base.to("decide");
    let Some(line) = e.row.line() else {
        return html! { p { "This row has no line in an input file: decide it with hero outbox decide." } };
    };
    if read_only {
        return html! { p.note { "Read-only console: no decision can be made here." } };
    }
    let common = |choice: &str| {
        html! {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="run" value=(e.run);
            input type="hidden" name="line" value=(line);
            input type="hidden" name="choice" value=(choice);
            label { "Note (what you checked; no patient data) " input type="text" name="note" required; }
            label { input type="checkbox" name="confirm" value="yes" required; " I confirm this decision for run " (e.run) ", line " (line) }
        }
    };
    html! {
        h2 { "Decide" }
        @if candidates.is_empty() {
            div.decision #decide-sent-elsewhere {
                h3 { "It was sent" }
                p { "No candidate to choose: a message you found elsewhere is recorded with " code { "hero outbox decide --sent" } ", which asks Hero whether it is this row's." }
            }
        } @else {
            form.decision #decide-sent method="post" action=(action) {
                h3 { "It was sent" }
                p { "Choose the message that is this row's." }
                @for (i, id) in candidates.iter().enumerate() {
                    label { input type="radio" name="candidate" value=(i) required; " " (pages::message_id(id)) }
                }
                (common("sent"))
                button type="submit" { "Record: sent" }
            }
        }
        form.decision #decide-send-again method="post" action=(action) {
            h3 { "Send it again" }
            p { "It did not reach the patient: the outbox sends it again (paced, journaled, once)." }
            (common("send_again"))
            button type="submit" { "Record: send again" }
        }
        form.decision #decide-abandon method="post" action=(action) {
            h3 { "Abandon it" }
            p { "The outbox will not send it (you have dealt with it another way)." }
            (common("abandon"))
            button type="submit" { "Record: abandon" }
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct DecideForm {
    #[serde(default)]
    csrf: String,
    run: u64,
    line: u64,
    choice: String,
    #[serde(default)]
    candidate: Option<usize>,
    #[serde(default)]
    note: String,
    #[serde(default)]
    confirm: Option<String>,
}

fn problem(status: StatusCode, authed: &Authed, title: &str, what: &str) -> Response {
    (
        status,
        pages::page(
            title,
            authed,
            html! { p.warn role="alert" { (what) } p { "Nothing was changed. " a href=(authed.base.to("decide")) { "Rows to decide" } } },
        ),
    )
        .into_response()
}

/// `POST /decide`: one decision, through [`Journal::decide`].
pub(crate) async fn decide<J: Journal>(
    State(state): State<Shared<J>>,
    authed: Authed,
    headers: HeaderMap,
    Form(form): Form<DecideForm>,
) -> Response {
    if let Some(r) = change_refused(&headers, &authed, &form.csrf) {
        return r;
    }
    if state.config.read_only {
        return refused(
            StatusCode::FORBIDDEN,
            "Refused: this console is read-only. Nothing was changed.",
        );
    }
    if form.confirm.as_deref() != Some("yes") {
        return problem(
            StatusCode::BAD_REQUEST,
            &authed,
            "Not confirmed",
            "Tick the box to confirm the decision.",
        );
    }
    // Only a row of this console's practice groups.
    let rows = match state.to_decide().await {
        Ok((_, r)) => r,
        Err(e) => return journal_failed(e),
    };
    let Some(entry) = rows
        .iter()
        .find(|e| e.run == form.run && e.row.line() == Some(form.line))
    else {
        return problem(
            StatusCode::CONFLICT,
            &authed,
            "Not a row to decide",
            &format!(
                "Run {} has no row at line {} to decide: decided already, or never ambiguous.",
                form.run, form.line
            ),
        );
    };
    let candidates = pages::candidates(entry);
    let choice = match form.choice.as_str() {
        "sent" => {
            // One of the row's candidates: a message found elsewhere needs Hero's evidence
            // (`hero outbox decide --sent`), which the console does not ask for.
            let chosen = form
                .candidate
                .and_then(|i| candidates.get(i))
                .map(String::as_str);
            match chosen {
                Some(id) => Choice::Sent {
                    message_id: id.to_owned(),
                },
                None => {
                    return problem(
                        StatusCode::BAD_REQUEST,
                        &authed,
                        "No message chosen",
                        "Choose one of the row's candidates.",
                    );
                }
            }
        }
        "send_again" => Choice::SendAgain,
        "abandon" => Choice::Abandon,
        _ => return refused(StatusCode::BAD_REQUEST, "Not a decision."),
    };
    let decision = match Decision::new(choice, &authed.user, &form.note) {
        Ok(d) => d,
        Err(e) => {
            return problem(
                StatusCode::BAD_REQUEST,
                &authed,
                "Not a decision",
                &e.to_string(),
            );
        }
    };
    match state
        .journal
        .decide(entry.run, entry.index, &decision)
        .await
    {
        Ok(record) => Redirect::to(&format!(
            "{}?recorded={}",
            authed.base.to("decisions"),
            record.id
        ))
        .into_response(),
        Err(e @ JournalError::InUse) => problem(
            StatusCode::CONFLICT,
            &authed,
            "Refused",
            &format!("{e}. A run holds the journal while it sends: decide once it has stopped."),
        ),
        Err(e @ JournalError::NotDecidable { .. }) => {
            problem(StatusCode::CONFLICT, &authed, "Refused", &e.to_string())
        }
        Err(e @ JournalError::Refused { .. }) => {
            problem(StatusCode::BAD_REQUEST, &authed, "Refused", &e.to_string())
        }
        Err(e) => journal_failed(e),
    }
}

/// The record's filters (`?run=&by=&choice=`).
#[derive(Deserialize, Default)]
pub(crate) struct Filter {
    #[serde(default)]
    run: Option<String>,
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    choice: Option<String>,
    #[serde(default)]
    recorded: Option<u64>,
}

impl Filter {
    fn keeps(&self, r: &DecisionRecord) -> bool {
        let set = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        set(&self.run).is_none_or(|run| run == r.run.to_string())
            && set(&self.by)
                .is_none_or(|by| r.decision.by().to_lowercase().contains(&by.to_lowercase()))
            && set(&self.choice).is_none_or(|c| c == r.decision.choice().as_str())
    }

    fn query(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("run", &self.run),
            ("by", &self.by),
            ("choice", &self.choice),
        ] {
            if let Some(v) = v.as_deref().filter(|s| !s.is_empty()) {
                query.append_pair(k, v);
            }
        }
        query.finish()
    }
}

async fn records<J: Journal>(
    state: &Shared<J>,
    filter: &Filter,
) -> Result<Vec<DecisionRecord>, JournalError> {
    Ok(state
        .decisions()
        .await?
        .into_iter()
        .filter(|r| filter.keeps(r))
        .collect())
}

fn shown_message(r: &DecisionRecord) -> &str {
    r.decision
        .choice()
        .message_id()
        .map(pages::message_id)
        .unwrap_or("")
}

/// `GET /decisions`: the record, filterable.
pub(crate) async fn page<J: Journal>(
    State(state): State<Shared<J>>,
    authed: Authed,
    Query(filter): Query<Filter>,
) -> Response {
    let rows = match records(&state, &filter).await {
        Ok(r) => r,
        Err(e) => return journal_failed(e),
    };
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let query = filter.query();
    let base = &authed.base;
    let body = html! {
        @if let Some(id) = filter.recorded {
            p.note role="status" { "Decision " (id) " recorded." }
        }
        form method="get" action=(base.to("decisions")) {
            label { "Run " input type="text" name="run" value=(value(&filter.run)); }
            label { "Decided by " input type="text" name="by" value=(value(&filter.by)); }
            label { "Choice "
                select name="choice" {
                    option value="" { "any" }
                    @for c in ["sent", "send_again", "abandon"] {
                        option value=(c) selected[filter.choice.as_deref() == Some(c)] { (c) }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
        p { a href={ (base.to("decisions.csv")) @if !query.is_empty() { "?" (query) } } { "Export as CSV" } }
        @if rows.is_empty() {
            p { "No decision recorded." }
        } @else {
            table #decisions {
                thead { tr {
                    th { "#" } th { "Run" } th { "Row" } th { "Line" } th { "Decided" } th { "Choice" }
                    th { "Message id" } th { "By" } th { "Candidates shown" } th { "Why it needed a person" } th { "Note" }
                } }
                tbody {
                    @for r in &rows {
                        tr {
                            td.n { (r.id) } td.n { (r.run) } td.n { (r.index + 1) }
                            td.n { (r.line.map(|l| l.to_string()).unwrap_or_default()) }
                            td { (pages::when(Some(r.decided_at))) }
                            td.choice { (r.decision.choice().as_str()) }
                            td { (shown_message(r)) }
                            td.by { (r.decision.by()) }
                            td { @for id in &r.candidates { (pages::message_id(id)) " " } }
                            td { (r.reason) }
                            td { "kept (" (r.decision.note().chars().count()) " chars)" }
                        }
                    }
                }
            }
            p.note { "Notes are kept in the journal, not shown here (a person's free text may name a patient)." }
        }
    };
    pages::page("Decisions", &authed, body).into_response()
}

/// `GET /decisions.csv`: the record (as filtered) as CSV, a row per decision, each cell safe to
/// open in a spreadsheet ([`csv_safe`]: a name or a reason cannot become a formula).
pub(crate) async fn csv<J: Journal>(
    State(state): State<Shared<J>>,
    _authed: Authed,
    Query(filter): Query<Filter>,
) -> Response {
    let rows = match records(&state, &filter).await {
        Ok(r) => r,
        Err(e) => return journal_failed(e),
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "id",
        "run",
        "row",
        "line",
        "decided_at",
        "choice",
        "message_id",
        "by",
        "candidates",
        "reason",
    ];
    let mut ok = out.write_record(header).is_ok();
    for r in &rows {
        let candidates: Vec<&str> = r.candidates.iter().map(|c| pages::message_id(c)).collect();
        let record = [
            r.id.to_string(),
            r.run.to_string(),
            (r.index + 1).to_string(),
            r.line.map(|l| l.to_string()).unwrap_or_default(),
            r.decided_at.to_rfc3339(),
            r.decision.choice().as_str().to_owned(),
            shown_message(r).to_owned(),
            r.decision.by().to_owned(),
            candidates.join(" "),
            r.reason.clone(),
        ]
        .map(csv_safe);
        ok &= out.write_record(record).is_ok();
    }
    let bytes = out.into_inner().unwrap_or_default();
    if !ok {
        return refused(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The record could not be written as CSV.",
        );
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"decisions.csv\"",
            ),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::Filter;

    #[test]
    fn the_export_link_carries_the_filter_back_whole() {
        let filter = Filter {
            run: Some("3".into()),
            by: Some("Dr A&B #1 ü=x".into()),
            choice: Some(String::new()),
            recorded: Some(7),
        };
        let query = filter.query();
        let back: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(
            back,
            [
                ("run".to_owned(), "3".to_owned()),
                ("by".to_owned(), "Dr A&B #1 ü=x".to_owned())
            ]
        );
        assert_eq!(Filter::default().query(), "");
    }
}
