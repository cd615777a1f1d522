//! `hero sent list`: sent messages, with every filter of the v2 endpoint.

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use herohealth::{
    DeliveryStatus, HeroClient, MessageType, Paginate as _, TimeRange, WriteToRecordStatus, types,
};

use crate::{
    args::{ListOpts, api_enum, closed_enum, parse_time_or_ago},
    exit::Outcome,
    output::{Column, Format, Printer, print_rows},
};

#[derive(Subcommand)]
pub(crate) enum SentCmd {
    /// Sent messages, with every filter of the v2 endpoint.
    List(Box<SentList>),
}

#[derive(Args)]
pub(crate) struct SentList {
    #[command(flatten)]
    pub(crate) list: ListOpts,
    /// Delivery status (any case; repeatable, or a comma list: --status fatal,declined).
    #[arg(long, value_parser = api_enum::<DeliveryStatus>(), value_delimiter = ',')]
    pub(crate) status: Vec<DeliveryStatus>,
    /// Message type (any case; repeatable, or a comma list: --type sms,email).
    #[arg(long = "type", value_parser = api_enum::<MessageType>(), value_delimiter = ',')]
    pub(crate) message_type: Vec<MessageType>,
    /// Patient id.
    #[arg(long)]
    pub(crate) patient_id: Option<String>,
    /// Patient first name.
    #[arg(long)]
    pub(crate) first_name: Option<String>,
    /// Patient last name.
    #[arg(long)]
    pub(crate) last_name: Option<String>,
    /// Patient full name.
    #[arg(long)]
    pub(crate) full_name: Option<String>,
    /// Recipient phone number or email.
    #[arg(long)]
    pub(crate) to: Option<String>,
    /// Write-to-record status (any case).
    #[arg(long, value_parser = api_enum::<WriteToRecordStatus>())]
    pub(crate) write_to_record: Option<WriteToRecordStatus>,
    /// Short link id.
    #[arg(long)]
    pub(crate) short_link_id: Option<String>,
    /// Short link type.
    #[arg(long)]
    pub(crate) short_link_type: Option<String>,
    /// Campaign id.
    #[arg(long)]
    pub(crate) campaign_id: Option<String>,
    /// Only scheduled (true) or unscheduled (false) messages.
    #[arg(long)]
    pub(crate) scheduled: Option<bool>,
    /// Sent by.
    #[arg(long)]
    pub(crate) sent_by: Option<String>,
    /// Sent at or after: YYYY-MM-DD, RFC 3339, or a time ago (30m, 12h, 7d, 2w).
    #[arg(long, value_parser = parse_time_or_ago)]
    pub(crate) sent_from: Option<DateTime<Utc>>,
    /// Sent at or before (as --sent-from).
    #[arg(long, value_parser = parse_time_or_ago, requires = "sent_from")]
    pub(crate) sent_to: Option<DateTime<Utc>>,
    /// Scheduled at or after (as --sent-from).
    #[arg(long, value_parser = parse_time_or_ago)]
    pub(crate) scheduled_from: Option<DateTime<Utc>>,
    /// Scheduled at or before (as --sent-from).
    #[arg(long, value_parser = parse_time_or_ago, requires = "scheduled_from")]
    pub(crate) scheduled_to: Option<DateTime<Utc>>,
    /// Order by: patient_first_name, patient_last_name, patient_full_name, created_at, sent_at.
    #[arg(long, value_parser = closed_enum::<types::SentMessagesOrderBy>())]
    pub(crate) order_by: Option<types::SentMessagesOrderBy>,
    /// Newest (or last) first.
    #[arg(long)]
    pub(crate) descending: bool,
    /// Print only these columns, in this order, in every format (JSON and NDJSON rows become
    /// objects of these columns): a comma list of id, patient_id, first_name, last_name, type, to,
    /// status, created_at, sent_at, scheduled_at, record.
    #[arg(
        long,
        value_delimiter = ',',
        value_parser = clap::builder::PossibleValuesParser::new(SENT.iter().map(|c| c.0)),
        conflicts_with = "no_patient_data"
    )]
    pub(crate) columns: Vec<String>,
    /// Leave out patient data (first_name, last_name and `to`, the contact detail) in every
    /// format, for an export that must not hold it; patient_id stays (Hero's id, to follow up).
    #[arg(long)]
    pub(crate) no_patient_data: bool,
}

/// The columns of `sent list` that are patient data: `--no-patient-data` leaves them out.
pub(crate) const PATIENT_DATA: &[&str] = &["first_name", "last_name", "to"];

pub(crate) const SENT: &[Column] = &[
    ("id", "/id"),
    ("patient_id", "/patient/id"),
    ("first_name", "/patient/first_name"),
    ("last_name", "/patient/last_name"),
    ("type", "/message_type"),
    ("to", "/recipient_contact_detail"),
    ("status", "/status"),
    ("created_at", "/created_at"),
    ("sent_at", "/sent_at"),
    ("scheduled_at", "/scheduled_at"),
    ("record", "/write_to_record/status"),
];

pub(crate) async fn run(hero: &HeroClient, f: Format, cmd: SentCmd) -> Outcome {
    match cmd {
        SentCmd::List(a) => {
            let mut q = hero.list_sent_messages().order_descending(a.descending);
            match a.status.len() {
                0 => {}
                1 => q = q.status(a.status[0].clone()),
                _ => q = q.status(a.status.clone()),
            }
            match a.message_type.len() {
                0 => {}
                1 => q = q.message_type(a.message_type[0].clone()),
                _ => q = q.message_type(a.message_type.clone()),
            }
            if let Some(v) = &a.patient_id {
                q = q.patient_id(v.as_str());
            }
            if let Some(v) = &a.first_name {
                q = q.patient_first_name(v.as_str());
            }
            if let Some(v) = &a.last_name {
                q = q.patient_last_name(v.as_str());
            }
            if let Some(v) = &a.full_name {
                q = q.patient_full_name(v.as_str());
            }
            if let Some(v) = &a.to {
                q = q.recipient_contact_detail(v.as_str());
            }
            if let Some(v) = &a.write_to_record {
                q = q.write_to_record_status(v.clone());
            }
            if let Some(v) = &a.short_link_id {
                q = q.short_link_id(v.as_str());
            }
            if let Some(v) = &a.short_link_type {
                q = q.short_link_type(v.as_str());
            }
            if let Some(v) = &a.campaign_id {
                q = q.campaign_id(v.as_str());
            }
            if let Some(v) = a.scheduled {
                q = q.scheduled(v);
            }
            if let Some(v) = &a.sent_by {
                q = q.sent_by(v.as_str());
            }
            // The library's ranges: a `to` before its `from` is refused, naming the filter.
            if let Some(from) = a.sent_from {
                q = q.sent_at(
                    a.sent_to
                        .map_or(TimeRange::since(from), |to| TimeRange::between(from, to)),
                );
            }
            if let Some(from) = a.scheduled_from {
                q = q.scheduled_at(
                    a.scheduled_to
                        .map_or(TimeRange::since(from), |to| TimeRange::between(from, to)),
                );
            }
            if let Some(v) = a.order_by {
                q = q.order_by(v);
            }
            let printer = if a.no_patient_data {
                let kept = SENT
                    .iter()
                    .filter(|c| !PATIENT_DATA.contains(&c.0))
                    .copied();
                Printer::projected(f, kept.collect())
            } else if !a.columns.is_empty() {
                let chosen = a
                    .columns
                    .iter()
                    .filter_map(|name| SENT.iter().find(|c| c.0 == name.as_str()).copied());
                Printer::projected(f, chosen.collect())
            } else {
                Printer::list(f, SENT)
            };
            print_rows(printer, q.stream_with(a.list.options()), a.list.all).await
        }
    }
}
