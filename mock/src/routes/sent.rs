//! `GET /v2/sent_messages`: every message sent, filtered, sorted and paged. A message shows only
//! [`crate::MockConfig::list_delay`] (mock time) after it was created.

use std::collections::BTreeMap;

use axum::{
    extract::{RawQuery, State},
    response::Response,
};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Shared, count_for, page_window, paginate, with_group};
use crate::{
    gate::PracticeGroup,
    reply::{ApiFailure, ListPage, json_body, time_text},
    state::{Message, MessageState, Patient},
    validation::{Issues, Query, wire},
};

/// The `order_by` values.
const ORDER_BY: [&str; 5] = [
    "patient_first_name",
    "patient_last_name",
    "patient_full_name",
    "created_at",
    "sent_at",
];

/// Query parameters compared with a message as given.
const EXACT: [&str; 6] = [
    "patient_id",
    "recipient_contact_detail",
    "sent_by",
    "campaign_id",
    "short_link_id",
    "short_link_type",
];

/// The filters and order of one request.
struct SentFilter {
    q: Query,
    order_by: Option<String>,
    descending: bool,
    scheduled: Option<bool>,
    types: Vec<String>,
    statuses: Vec<String>,
    wtr: Vec<String>,
    sent_range: Vec<DateTime<Utc>>,
    scheduled_range: Vec<DateTime<Utc>>,
    first: Option<String>,
    last: Option<String>,
    full: Option<String>,
    /// Messages created after this are not listed yet.
    listed_by: DateTime<Utc>,
}

impl SentFilter {
    fn parse(q: Query, listed_by: DateTime<Utc>, issues: &mut Issues) -> Self {
        let range = |name: &str, issues: &mut Issues| -> Vec<DateTime<Utc>> {
            let values = q.all(name);
            if values.len() > 2 {
                issues.add("too_big", "at most 2 items", &[json!(name)]);
            }
            values
                .iter()
                .filter_map(|v| issues.datetime(v, &[json!(name)]))
                .collect()
        };
        let sent_range = range("sent_at[]", issues);
        let scheduled_range = range("scheduled_at[]", issues);
        if q.get("patient_id")
            .is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            issues.add("invalid_string", "^\\d+$", &[json!("patient_id")]);
        }
        let text = |name: &str| q.get(name).map(str::to_lowercase);
        Self {
            order_by: q.enums("order_by", &ORDER_BY, issues).into_iter().next(),
            descending: q.boolean("order_descending", issues).unwrap_or(false),
            scheduled: q.boolean("scheduled", issues),
            types: q.enums("message_type", wire::<herohealth::MessageType>(), issues),
            statuses: q.enums("status", wire::<herohealth::DeliveryStatus>(), issues),
            wtr: q.enums(
                "write_to_record_status",
                wire::<herohealth::WriteToRecordStatus>(),
                issues,
            ),
            sent_range,
            scheduled_range,
            first: text("patient_first_name"),
            last: text("patient_last_name"),
            full: text("patient_full_name"),
            listed_by,
            q,
        }
    }

    /// Whether a message's state at `now` is needed to filter.
    fn needs_state(&self) -> bool {
        !self.wtr.is_empty() || !self.statuses.is_empty() || !self.sent_range.is_empty()
    }

    /// Whether every message is listed in its stored order (so a page can be sliced).
    fn lists_everything(&self, delayed: bool) -> bool {
        !(self.needs_state()
            || delayed
            || self.first.is_some()
            || self.last.is_some()
            || self.full.is_some()
            || !self.types.is_empty()
            || self.order_by.is_some()
            || !self.scheduled_range.is_empty()
            || self.scheduled.is_some()
            || EXACT.iter().any(|k| self.q.get(k).is_some()))
    }

    fn keeps(&self, m: &Message, p: &Patient, s: Option<&MessageState>) -> bool {
        let q = &self.q;
        let contains = |have: &str, want: &Option<String>| {
            want.as_ref()
                .is_none_or(|w| have.to_lowercase().contains(w))
        };
        let in_range = |d: Option<DateTime<Utc>>, r: &[DateTime<Utc>]| match (r, d) {
            ([], _) => true,
            (_, None) => false,
            ([from], Some(d)) => d >= *from,
            ([from, to, ..], Some(d)) => d >= *from && d <= *to,
        };
        m.created_at <= self.listed_by
            && contains(&p.first_name, &self.first)
            && contains(&p.last_name, &self.last)
            && contains(&format!("{} {}", p.first_name, p.last_name), &self.full)
            && q.get("patient_id").is_none_or(|id| id == m.patient_id)
            && q.get("recipient_contact_detail")
                .is_none_or(|c| c == m.contact)
            && (self.wtr.is_empty()
                || s.and_then(|s| s.wtr_status)
                    .is_some_and(|w| self.wtr.iter().any(|x| x == w)))
            && (self.types.is_empty() || self.types.contains(&m.message_type))
            && (self.statuses.is_empty()
                || s.is_some_and(|s| self.statuses.iter().any(|x| x == s.status)))
            && self.scheduled.is_none_or(|b| b == m.send_at.is_some())
            && q.get("sent_by").is_none_or(|b| b == m.sent_by)
            && q.get("campaign_id")
                .is_none_or(|c| m.campaign.as_ref().is_some_and(|(id, _)| id == c))
            && q.get("short_link_id")
                .is_none_or(|c| m.short_link.as_ref().is_some_and(|(id, _)| id == c))
            && q.get("short_link_type")
                .is_none_or(|c| m.short_link.as_ref().is_some_and(|(_, t)| t == c))
            && in_range(s.and_then(|s| s.sent_at), &self.sent_range)
            && in_range(m.send_at, &self.scheduled_range)
    }

    /// Sorts `rows` (message, patient, sent at) as `order_by` and `order_descending` say.
    fn sort(&self, rows: &mut [(&Message, &Patient, Option<DateTime<Utc>>)]) {
        match self.order_by.as_deref() {
            Some("patient_first_name") => rows.sort_by(|a, b| a.1.first_name.cmp(&b.1.first_name)),
            Some("patient_last_name") => rows.sort_by(|a, b| a.1.last_name.cmp(&b.1.last_name)),
            Some("patient_full_name") => rows.sort_by(|a, b| {
                (&a.1.first_name, &a.1.last_name).cmp(&(&b.1.first_name, &b.1.last_name))
            }),
            Some("sent_at") => rows.sort_by_key(|r| r.2),
            _ => {}
        }
        if self.descending {
            rows.reverse();
        }
    }
}

pub(super) async fn list_sent_messages(
    State(app): State<Shared>,
    PracticeGroup(group): PracticeGroup,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiFailure> {
    let mut issues = Issues::default();
    let now = app.clock.now();
    let listed_by = app.listed_by(now);
    let filter = SentFilter::parse(Query::parse(raw), listed_by, &mut issues);
    if filter.lists_everything(!app.config.list_delay.is_zero()) {
        // Nothing to filter or sort: slice the page (O(page), not O(messages)).
        let (skip, size) = page_window(&app, &filter.q, &mut issues);
        issues.finish()?;
        let body = with_group(&app, &group, |g| {
            let patients = &g.patients;
            let rows = if filter.descending {
                sent_rows(g.messages.iter().rev().skip(skip).take(size), patients, now)
            } else {
                sent_rows(g.messages.iter().skip(skip).take(size), patients, now)
            };
            let count = count_for(&app, g.messages.len(), rows.len());
            serde_json::to_vec(&ListPage { data: rows, count })
        });
        return Ok(json_body(body));
    }
    let needs_state = filter.needs_state();
    let body = with_group(&app, &group, |g| {
        let patients = &g.patients;
        let mut rows: Vec<(&Message, &Patient, Option<DateTime<Utc>>)> = g
            .messages
            .iter()
            .filter_map(|m| {
                let p = patients.get(&m.patient_id)?;
                let s = needs_state.then(|| m.state(now));
                filter
                    .keeps(m, p, s.as_ref())
                    .then(|| (m, p, m.state(now).sent_at))
            })
            .collect();
        filter.sort(&mut rows);
        let (page, count) = paginate(&app, rows, &filter.q, &mut issues);
        let data: Vec<SentRow<'_>> = page
            .into_iter()
            .map(|(m, p, _)| sent_row(m, p, now))
            .collect();
        serde_json::to_vec(&ListPage { data, count })
    });
    issues.finish()?;
    Ok(json_body(body))
}

/// A row of the sent-messages list (and the base of getMessage), serialised without building a
/// `serde_json::Value` tree: listing is the mock's hottest path.
#[derive(serde::Serialize)]
pub(super) struct SentRow<'a> {
    id: String,
    patient: PatientRow<'a>,
    write_to_record: WriteToRecordRow,
    short_link: Option<ShortLinkRow<'a>>,
    campaign: Option<CampaignRow<'a>>,
    created_at: String,
    sent_at: Option<String>,
    scheduled_at: Option<String>,
    status: &'static str,
    sent_by: &'a str,
    recipient_contact_detail: &'a str,
    message_type: &'a str,
}

#[derive(serde::Serialize)]
struct PatientRow<'a> {
    id: &'a str,
    title: Option<&'static str>,
    first_name: &'a str,
    last_name: &'a str,
}

#[derive(serde::Serialize)]
struct WriteToRecordRow {
    write_to_record_at: Option<String>,
    status: Option<&'static str>,
    failure_reason: Option<&'static str>,
}

#[derive(serde::Serialize)]
struct ShortLinkRow<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    name: &'static str,
    status: &'static str,
}

#[derive(serde::Serialize)]
struct CampaignRow<'a> {
    id: &'a str,
    name: &'a str,
}

/// The rows of `messages` whose patient is known.
fn sent_rows<'a>(
    messages: impl Iterator<Item = &'a Message>,
    patients: &'a BTreeMap<String, Patient>,
    now: DateTime<Utc>,
) -> Vec<SentRow<'a>> {
    messages
        .filter_map(|m| patients.get(&m.patient_id).map(|p| sent_row(m, p, now)))
        .collect()
}

pub(super) fn sent_row<'a>(m: &'a Message, p: &'a Patient, now: DateTime<Utc>) -> SentRow<'a> {
    let s = m.state(now);
    SentRow {
        id: m.id.to_string(),
        patient: PatientRow {
            id: &p.id,
            title: p.title,
            first_name: &p.first_name,
            last_name: &p.last_name,
        },
        write_to_record: WriteToRecordRow {
            write_to_record_at: s.wtr_at.map(time_text),
            status: s.wtr_status,
            failure_reason: s.wtr_failure,
        },
        short_link: m.short_link.as_ref().map(|(id, kind)| ShortLinkRow {
            id,
            kind,
            name: "Book an appointment",
            status: "active",
        }),
        campaign: m
            .campaign
            .as_ref()
            .map(|(id, name)| CampaignRow { id, name }),
        created_at: time_text(m.created_at),
        sent_at: s.sent_at.map(time_text),
        scheduled_at: m.send_at.map(time_text),
        status: s.status,
        sent_by: &m.sent_by,
        recipient_contact_detail: &m.contact,
        message_type: &m.message_type,
    }
}
