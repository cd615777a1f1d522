//! `hero`: send a test message, check why a message failed, export what was sent, or send a batch
//! from a spreadsheet, on the Hero Health messaging API. A thin shell over the `herohealth` crate.
//!
//! Configuration is the library's: `HERO_API_KEY`, `HERO_PRACTICE_GROUP_ID` and `HERO_BASE_URL` or
//! `HERO_ENVIRONMENT=production|staging`; or `--mock` for an embedded herohealth-mock with demo data.
#![forbid(unsafe_code)]

mod output;
mod recipients;
mod send_many;
mod values;

use std::{io::IsTerminal, process::ExitCode, str::FromStr, time::Duration};

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand};
use futures::{Stream, StreamExt, TryStreamExt};
use herohealth::{
    BatchChannel, BatchSendStatus, DeliveryStatus, EnrichmentStatus, Error, ErrorKind, HeroClient,
    MessageType, PageOptions, Paginate, SnomedCode, WaitOptions, WriteToRecordStatus, types,
};
use output::{Column, Format, Printer};
use serde::Serialize;
use values::api_enum;

#[derive(Parser)]
#[command(
    name = "hero",
    version,
    about = "The Hero Health messaging API from the command line"
)]
#[command(after_help = Exit::help())]
struct Cli {
    /// Use an embedded herohealth-mock with demo data instead of Hero (nothing leaves this machine).
    #[arg(long, global = true)]
    mock: bool,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "table")]
    format: Format,
    /// Log the client's requests (operation, attempt, status; never patient data) to stderr.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Single messages: send, get, status.
    #[command(subcommand)]
    Messages(MessagesCmd),
    /// Sent messages (v2 list).
    #[command(subcommand)]
    Sent(SentCmd),
    /// Batch messages.
    #[command(subcommand)]
    Batch(BatchCmd),
    /// Message templates.
    #[command(subcommand)]
    Templates(ListOnly<TemplatesList>),
    /// Admins and admin teams a message can be assigned to.
    #[command(subcommand)]
    Assignees(ListOnly<NoArgs>),
    /// SNOMED codes.
    #[command(subcommand)]
    Snomed(SnomedCmd),
    /// Patients.
    #[command(subcommand)]
    Patients(PatientsCmd),
    /// Print a shell completion script: `hero completions bash > ~/.local/share/bash-completion/completions/hero`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand)]
enum ListOnly<A: Args> {
    /// List them.
    List(A),
}

#[derive(Args)]
struct NoArgs {}

#[derive(Args)]
struct TemplatesList {
    /// Only templates with (true) or without (false) follow-ups.
    #[arg(long)]
    has_follow_up: Option<bool>,
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .map_err(|_| format!("`{s}` is not a date (YYYY-MM-DD) or an RFC 3339 date-time"))
}

#[derive(Args)]
struct WaitArgs {
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

#[derive(Subcommand)]
enum MessagesCmd {
    /// Send a message to a patient.
    Send(Box<SendArgs>),
    /// Send one message per row of a CSV file, journaled: a re-run resumes, no row goes twice.
    SendMany(send_many::SendManyArgs),
    /// One message, with its patient and write-to-record state.
    Get {
        /// The message id.
        id: String,
    },
    /// A message's delivery and write-to-record status.
    Status {
        /// The message id.
        id: String,
        /// Wait until it is delivered, declined or fatal.
        #[arg(long)]
        wait: bool,
        #[command(flatten)]
        wait_for: WaitArgs,
    },
}

#[derive(Args)]
struct SendArgs {
    /// The Hero patient id (see `hero patients register-pds`).
    #[arg(long)]
    patient_id: String,
    /// How to send it (any case).
    #[arg(long = "type", value_parser = api_enum::<MessageType>())]
    message_type: MessageType,
    /// The message text.
    #[arg(long)]
    text: String,
    /// Phone number or email to send to (default: the patient's record).
    #[arg(long)]
    to: Option<String>,
    /// Fallback channel: sms or email.
    #[arg(long, value_parser = api_enum::<types::FallbackMessageType>())]
    fallback_type: Option<types::FallbackMessageType>,
    /// Fallback phone number or email.
    #[arg(long)]
    fallback_to: Option<String>,
    /// Write the message to the patient's record.
    #[arg(long)]
    write_to_record: bool,
    /// SNOMED code of the record entry.
    #[arg(long)]
    snomed_code: Option<String>,
    /// SNOMED term of the record entry.
    #[arg(long)]
    snomed_term: Option<String>,
    /// Send later (RFC 3339 date-time).
    #[arg(long, value_parser = parse_time)]
    send_at: Option<DateTime<Utc>>,
    /// Then wait until it is delivered, declined or fatal.
    #[arg(long)]
    wait: bool,
    #[command(flatten)]
    wait_for: WaitArgs,
}

#[derive(Args)]
struct ListOpts {
    /// Every item, page after page.
    #[arg(long, conflicts_with = "limit")]
    all: bool,
    /// At most N items (default: one page).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Items per page asked of Hero.
    #[arg(long, default_value_t = 100, value_name = "N")]
    page_size: u64,
}

impl ListOpts {
    fn options(&self) -> PageOptions {
        let o = PageOptions::default()
            .page_size(self.page_size)
            .concurrency(4);
        if self.all {
            o
        } else {
            o.limit(self.limit.unwrap_or(self.page_size as usize))
        }
    }
}

#[derive(Subcommand)]
enum SentCmd {
    /// Sent messages, with every filter of the v2 endpoint.
    List(Box<SentList>),
}

#[derive(Args)]
struct SentList {
    #[command(flatten)]
    list: ListOpts,
    /// Delivery status (repeatable, any case).
    #[arg(long, value_parser = api_enum::<DeliveryStatus>())]
    status: Vec<DeliveryStatus>,
    /// Message type (repeatable, any case).
    #[arg(long = "type", value_parser = api_enum::<MessageType>())]
    message_type: Vec<MessageType>,
    /// Patient id.
    #[arg(long)]
    patient_id: Option<String>,
    /// Patient first name.
    #[arg(long)]
    first_name: Option<String>,
    /// Patient last name.
    #[arg(long)]
    last_name: Option<String>,
    /// Patient full name.
    #[arg(long)]
    full_name: Option<String>,
    /// Recipient phone number or email.
    #[arg(long)]
    to: Option<String>,
    /// Write-to-record status (any case).
    #[arg(long, value_parser = api_enum::<WriteToRecordStatus>())]
    write_to_record: Option<WriteToRecordStatus>,
    /// Short link id.
    #[arg(long)]
    short_link_id: Option<String>,
    /// Short link type.
    #[arg(long)]
    short_link_type: Option<String>,
    /// Campaign id.
    #[arg(long)]
    campaign_id: Option<String>,
    /// Only scheduled (true) or unscheduled (false) messages.
    #[arg(long)]
    scheduled: Option<bool>,
    /// Sent by.
    #[arg(long)]
    sent_by: Option<String>,
    /// Sent at or after (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_parser = parse_time)]
    sent_from: Option<DateTime<Utc>>,
    /// Sent at or before.
    #[arg(long, value_parser = parse_time, requires = "sent_from")]
    sent_to: Option<DateTime<Utc>>,
    /// Scheduled at or after.
    #[arg(long, value_parser = parse_time)]
    scheduled_from: Option<DateTime<Utc>>,
    /// Scheduled at or before.
    #[arg(long, value_parser = parse_time, requires = "scheduled_from")]
    scheduled_to: Option<DateTime<Utc>>,
    /// Order by: patient_first_name, patient_last_name, patient_full_name, created_at, sent_at.
    #[arg(long, value_parser = api_enum::<types::SentMessagesOrderBy>())]
    order_by: Option<types::SentMessagesOrderBy>,
    /// Newest (or last) first.
    #[arg(long)]
    descending: bool,
}

#[derive(Subcommand)]
enum BatchCmd {
    /// Create a batch message from a CSV of recipients (columns nhs_number, dob).
    Create {
        /// The batch's name.
        #[arg(long)]
        name: String,
        /// The channel (any case).
        #[arg(long, value_parser = api_enum::<BatchChannel>())]
        channel: BatchChannel,
        /// Subject (required for EMAIL).
        #[arg(long)]
        subject: Option<String>,
        /// The message text.
        #[arg(long)]
        content: String,
        /// CSV file with a header naming nhs_number and dob (YYYY-MM-DD).
        #[arg(long, value_name = "FILE.csv")]
        recipients: String,
        /// Check the file and show what would be sent; send nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Send a created batch.
    Send {
        /// The batch id.
        id: String,
    },
    /// One batch.
    Get {
        /// The batch id.
        id: String,
    },
    /// Batches.
    List {
        #[command(flatten)]
        list: ListOpts,
        /// Status filter.
        #[arg(long, value_parser = api_enum::<types::BatchMessageStatusFilter>())]
        status: Option<types::BatchMessageStatusFilter>,
    },
    /// A batch's recipients and whether Hero found them.
    Recipients {
        /// The batch id.
        id: String,
        #[command(flatten)]
        list: ListOpts,
        /// Enrichment status filter.
        #[arg(long, value_parser = api_enum::<EnrichmentStatus>())]
        status: Option<EnrichmentStatus>,
    },
    /// A batch's sends.
    Sends {
        /// The batch id.
        id: String,
        #[command(flatten)]
        list: ListOpts,
        /// Send status filter.
        #[arg(long, value_parser = api_enum::<BatchSendStatus>())]
        status: Option<BatchSendStatus>,
    },
    /// Wait until a sent batch is completed.
    Wait {
        /// The batch id.
        id: String,
        #[command(flatten)]
        wait_for: WaitArgs,
    },
}

#[derive(Subcommand)]
enum SnomedCmd {
    /// Check a SNOMED code offline (Verhoeff) and with Hero.
    Validate {
        /// The code.
        code: String,
    },
}

#[derive(Subcommand)]
enum PatientsCmd {
    /// Find a patient on the Spine (PDS) and get their Hero patient id.
    RegisterPds {
        /// NHS number (or give --forename, --surname and --postcode).
        #[arg(long, required_unless_present_all = ["forename", "surname", "postcode"])]
        nhs_number: Option<String>,
        /// Date of birth (YYYY-MM-DD).
        #[arg(long)]
        dob: NaiveDate,
        /// Forename (tracing without an NHS number).
        #[arg(long, conflicts_with = "nhs_number")]
        forename: Option<String>,
        /// Surname.
        #[arg(long, conflicts_with = "nhs_number")]
        surname: Option<String>,
        /// Postcode.
        #[arg(long, conflicts_with = "nhs_number")]
        postcode: Option<String>,
    },
}

const SENT: &[Column] = &[
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
const MESSAGE: &[Column] = &[
    ("id", "/id"),
    ("patient_id", "/patient/id"),
    ("first_name", "/patient/first_name"),
    ("last_name", "/patient/last_name"),
    ("status", "/status"),
    ("created_at", "/created_at"),
    ("sent_at", "/sent_at"),
    ("scheduled_at", "/scheduled_at"),
    ("record", "/write_to_record/status"),
    ("written_at", "/write_to_record/write_to_record_at"),
    ("record_failure", "/write_to_record/failure_reason"),
    ("snomed_code", "/write_to_record/snomed_code"),
];
const STATUS: &[Column] = &[
    ("id", "/id"),
    ("status", "/status/response"),
    ("sent_at", "/status/sent_at"),
    ("failure_reason", "/status/failure_reason"),
    ("scheduled_send_at", "/scheduled_send_at"),
    ("write_to_record", "/write_to_record"),
    ("written_at", "/status/write_to_record_at"),
    ("send_error", "/errors/send"),
    ("record_error", "/errors/write_to_record"),
];
const SENT_RESPONSE: &[Column] = &[
    ("message_id", "/message_id"),
    ("created_at", "/created_at"),
    ("send_at", "/send_at"),
    ("write_to_record", "/write_to_record"),
    ("snomed_code", "/snomed_code"),
    (
        "confirm_write_to_record_url",
        "/confirm_write_to_record_url",
    ),
];
const BATCH: &[Column] = &[
    ("id", "/id"),
    ("name", "/name"),
    ("status", "/status"),
    ("channel", "/channel"),
    ("subject", "/subject"),
    ("content", "/content"),
];
const RECIPIENT: &[Column] = &[
    ("enrichment_status", "/enrichment_status"),
    ("nhs_number", "/nhs_number"),
    ("first_name", "/first_name"),
    ("last_name", "/last_name"),
    ("mobile", "/mobile"),
    ("email", "/email"),
];
const DRY_RUN: &[Column] = &[("nhs_number", "/nhs_number"), ("dob", "/dob")];
const SEND: &[Column] = &[
    ("id", "/id"),
    ("status", "/status"),
    ("channel", "/channel"),
    ("recipient", "/recipient"),
    ("sent_at", "/sent_at"),
    ("created_at", "/created_at"),
];
const TEMPLATE: &[Column] = &[
    ("id", "/id"),
    ("name", "/name"),
    ("type", "/type"),
    ("link", "/link"),
    ("follow_up_1", "/send_follow_up_one"),
    ("follow_up_2", "/send_follow_up_two"),
    ("reminder_time", "/reminder_time"),
    ("sms_snomed_code", "/sms_snomed_code"),
    ("content", "/content"),
];
const ASSIGNEE: &[Column] = &[
    ("label", "/label"),
    ("value", "/value"),
    ("type", "/type"),
    ("key", "/key"),
];
const SNOMED: &[Column] = &[
    ("code", "/code"),
    ("offline_check", "/offline_check"),
    ("valid", "/valid"),
];
const PATIENT: &[Column] = &[
    ("patient_id", "/patient_id"),
    ("message", "/message"),
    ("login_url", "/login_url"),
];

/// The exit codes, one place: `hero --help` lists them from here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exit {
    Ok = 0,
    Other = 1,
    Usage = 2,
    Auth = 3,
    Invalid = 4,
    NotFound = 5,
    RateLimited = 6,
    Server = 7,
    Network = 8,
    OutcomeUnknown = 9,
    Conflict = 10,
    Accepted = 11,
    WaitDeadline = 12,
    NotDelivered = 13,
    SentWaitFailed = 14,
}

impl Exit {
    const ALL: [Exit; 15] = [
        Exit::Ok,
        Exit::Other,
        Exit::Usage,
        Exit::Auth,
        Exit::Invalid,
        Exit::NotFound,
        Exit::RateLimited,
        Exit::Server,
        Exit::Network,
        Exit::OutcomeUnknown,
        Exit::Conflict,
        Exit::Accepted,
        Exit::WaitDeadline,
        Exit::NotDelivered,
        Exit::SentWaitFailed,
    ];

    fn meaning(self) -> &'static str {
        match self {
            Exit::Ok => "ok",
            Exit::Other => "other",
            Exit::Usage => "usage or configuration",
            Exit::Auth => "auth",
            Exit::Invalid => "invalid request (nothing was sent)",
            Exit::NotFound => "not found",
            Exit::RateLimited => "rate limited",
            Exit::Server => "Hero server error",
            Exit::Network => "network (nothing was sent by this command)",
            Exit::OutcomeUnknown => "outcome unknown (check before sending again)",
            Exit::Conflict => "conflict (already done)",
            Exit::Accepted => "sent, but Hero's answer could not be read (do not send again)",
            Exit::WaitDeadline => "still not final at --timeout (nothing failed)",
            Exit::NotDelivered => "not delivered (declined or fatal), or a batch with failed sends",
            Exit::SentWaitFailed => "sent, but waiting for its status failed (do not send again)",
        }
    }

    fn help() -> String {
        let codes: Vec<String> = Self::ALL
            .iter()
            .map(|e| format!("{} {}", *e as u8, e.meaning()))
            .collect();
        format!(
            "Configuration: HERO_API_KEY, HERO_PRACTICE_GROUP_ID and HERO_BASE_URL or \
HERO_ENVIRONMENT=production|staging; or --mock.\n\nExit codes: {}.",
            codes.join(", ")
        )
    }
}

/// What went wrong, with the exit code a script can test and a hint for a person.
struct Failure {
    code: Exit,
    message: String,
    hint: Option<String>,
}

impl Failure {
    fn new(code: Exit, message: impl Into<String>, hint: Option<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            hint,
        }
    }

    /// A failure while waiting on a message this command has just sent: never "try again".
    fn after_send(self, message_id: &str) -> Self {
        let hint = Some(format!(
            "message {message_id} WAS sent: do not send it again; check it later with `hero messages status {message_id}`"
        ));
        match self.code {
            Exit::NotDelivered | Exit::WaitDeadline => Failure { hint, ..self },
            _ => Failure::new(
                Exit::SentWaitFailed,
                format!(
                    "message {message_id} was sent; waiting for its status failed: {}",
                    self.message
                ),
                hint,
            ),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let (code, hint) = if e.accepted() {
            (Exit::Accepted, Some("Hero accepted it, so it was sent: do not send it again; `hero sent list --patient-id ...` shows it".to_owned()))
        } else if e.outcome_unknown() {
            (Exit::OutcomeUnknown, Some("the message may have been sent: check `hero sent list --patient-id ...` before sending again".to_owned()))
        } else {
            match e.kind() {
                ErrorKind::InvalidConfig => {
                    (Exit::Usage, Some("set HERO_API_KEY, HERO_PRACTICE_GROUP_ID and HERO_ENVIRONMENT (or HERO_BASE_URL), or use --mock".to_owned()))
                }
                ErrorKind::Auth => (Exit::Auth, Some("check HERO_API_KEY and HERO_PRACTICE_GROUP_ID (and that the key has the messaging scope)".to_owned())),
                ErrorKind::InvalidRequest | ErrorKind::Validation => (Exit::Invalid, Some("fix the value named above and run the command again".to_owned())),
                ErrorKind::NotFound => (Exit::NotFound, Some("check the id (ids belong to one practice group)".to_owned())),
                ErrorKind::RateLimited => {
                    let wait = e.retry_after().map_or("a while".to_owned(), |d| format!("{} s", d.as_secs()));
                    (Exit::RateLimited, Some(format!("over the rate limit: wait {wait} and try again")))
                }
                ErrorKind::Server => (Exit::Server, Some("Hero had a problem: try again later".to_owned())),
                ErrorKind::Timeout | ErrorKind::Connection => (Exit::Network, Some("check the network and HERO_BASE_URL, then try again".to_owned())),
                ErrorKind::Conflict => (Exit::Conflict, Some("it was already done (a batch is sent once)".to_owned())),
                ErrorKind::WaitDeadline => (Exit::WaitDeadline, Some("it is not final yet: wait longer (--timeout) or look again later".to_owned())),
                ErrorKind::DeliveryFailed => (Exit::NotDelivered, None),
                _ => (Exit::Other, None),
            }
        };
        Failure::new(code, e.to_string(), hint)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            // The reader went away (`hero ... | head`): stop quietly.
            return Failure::new(Exit::Ok, "", None);
        }
        Failure::new(Exit::Other, e.to_string(), None)
    }
}

type Outcome = Result<(), Failure>;

/// A command-line value checked by the library's type; the error names the option.
fn field<T: FromStr<Err = herohealth::InvalidValue>>(
    option: &str,
    value: &str,
) -> Result<T, Failure> {
    value.parse().map_err(|e| {
        Failure::new(
            Exit::Invalid,
            format!("--{option}: {e}"),
            Some("fix the value and run the command again; nothing was sent".to_owned()),
        )
    })
}

fn value(v: impl Serialize) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// A spinner on stderr, only when stderr is a terminal.
fn progress(what: &str) -> Option<indicatif::ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar.set_message(what.to_owned());
        bar
    })
}

async fn print_stream<T: Serialize>(
    format: Format,
    columns: &'static [Column],
    stream: impl Stream<Item = Result<T, Error>>,
    show_progress: bool,
) -> Outcome {
    let bar = if show_progress {
        progress("reading")
    } else {
        None
    };
    let mut printer = Printer::list(format, columns);
    let mut stream = std::pin::pin!(stream);
    let mut n = 0u64;
    while let Some(item) = stream.next().await {
        printer.push(value(item?))?;
        n += 1;
        if let Some(bar) = &bar {
            bar.set_message(format!("{n} item(s)"));
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    printer.finish()?;
    Ok(())
}

fn print_one(format: Format, columns: &'static [Column], item: impl Serialize) -> Outcome {
    let mut p = Printer::single(format, columns);
    p.push(value(item))?;
    p.finish()?;
    Ok(())
}

fn wait_options(wait: &WaitArgs) -> WaitOptions {
    WaitOptions::default()
        .deadline(Duration::from_secs(wait.timeout))
        .max_interval(Duration::from_secs(10))
}

async fn watch_status(hero: &HeroClient, format: Format, id: &str, wait: &WaitArgs) -> Outcome {
    let bar = progress("waiting for delivery");
    let mut updates = std::pin::pin!(hero.watch_delivery(id, wait_options(wait)));
    let mut last = None;
    while let Some(update) = updates.next().await {
        let s = update?;
        if let Some(bar) = &bar {
            bar.set_message(format!("message {id}: {}", s.status.response));
        }
        last = Some(s);
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let final_state = last.as_ref().map(|s| s.status.response.clone());
    print_one(format, STATUS, last)?;
    match final_state {
        Some(s @ (DeliveryStatus::Declined | DeliveryStatus::Fatal)) => Err(Failure::new(
            Exit::NotDelivered,
            format!("message {id} was not delivered: it ended `{s}`"),
            Some("follow the patient up another way".to_owned()),
        )),
        _ => Ok(()),
    }
}

async fn run(cli: Cli, hero: &HeroClient) -> Outcome {
    let f = cli.format;
    match cli.command {
        Command::Messages(MessagesCmd::Send(a)) => {
            let to =
                a.to.as_deref()
                    .map(|v| field::<herohealth::ContactDetail>("to", v))
                    .transpose()?;
            let fallback_to = a
                .fallback_to
                .as_deref()
                .map(|v| field::<herohealth::ContactDetail>("fallback-to", v))
                .transpose()?;
            let snomed_code = a
                .snomed_code
                .as_deref()
                .map(|v| field::<SnomedCode>("snomed-code", v))
                .transpose()?;
            let sent = hero
                .send_message()
                .body_map(|b| {
                    b.patient_id(a.patient_id.as_str())
                        .message_type(a.message_type.clone())
                        .message_string(a.text.as_str())
                        .write_to_record(a.write_to_record)
                        .snomed_term(a.snomed_term.clone())
                        .send_at(a.send_at)
                        .fallback_message_type(a.fallback_type)
                        .recipient_contact_detail(to)
                        .fallback_contact_detail(fallback_to)
                        .snomed_code(snomed_code)
                })
                .send()
                .await?
                .into_inner();
            if a.wait {
                eprintln!("sent message {}", sent.message_id);
                return watch_status(hero, f, &sent.message_id, &a.wait_for)
                    .await
                    .map_err(|e| e.after_send(&sent.message_id));
            }
            print_one(f, SENT_RESPONSE, sent)
        }
        Command::Messages(MessagesCmd::SendMany(a)) => send_many::run(hero, f, &a).await,
        Command::Messages(MessagesCmd::Get { id }) => print_one(
            f,
            MESSAGE,
            hero.get_message().id(id).send().await?.into_inner(),
        ),
        Command::Messages(MessagesCmd::Status { id, wait, wait_for }) => {
            if wait {
                watch_status(hero, f, &id, &wait_for).await
            } else {
                print_one(
                    f,
                    STATUS,
                    hero.get_message_status().id(id).send().await?.into_inner(),
                )
            }
        }
        Command::Sent(SentCmd::List(a)) => {
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
            if let Some(from) = a.sent_from {
                q = q.sent_at(a.sent_to.map_or(vec![from], |to| vec![from, to]));
            }
            if let Some(from) = a.scheduled_from {
                q = q.scheduled_at(a.scheduled_to.map_or(vec![from], |to| vec![from, to]));
            }
            if let Some(v) = a.order_by {
                q = q.order_by(v);
            }
            print_stream(f, SENT, q.stream_with(a.list.options()), a.list.all).await
        }
        Command::Batch(cmd) => batch(hero, f, cmd).await,
        Command::Templates(ListOnly::List(a)) => {
            let mut q = hero.list_templates();
            if let Some(v) = a.has_follow_up {
                q = q.has_follow_up(v);
            }
            let list = q.send().await?.into_inner();
            print_stream(
                f,
                TEMPLATE,
                futures::stream::iter(list.data.into_iter().map(Ok)),
                false,
            )
            .await
        }
        Command::Assignees(ListOnly::List(NoArgs {})) => {
            let list = hero.list_assignee_collection().send().await?.into_inner();
            print_stream(
                f,
                ASSIGNEE,
                futures::stream::iter(list.data.into_iter().map(Ok)),
                false,
            )
            .await
        }
        Command::Snomed(SnomedCmd::Validate { code }) => {
            let offline =
                SnomedCode::parse(&code).map_or_else(|e| e.rule().to_owned(), |_| "ok".to_owned());
            let valid = hero
                .validate_snomed_code()
                .body_map(|b| b.code(code.as_str()))
                .send()
                .await?
                .into_inner()
                .valid;
            print_one(
                f,
                SNOMED,
                serde_json::json!({"code": code, "offline_check": offline, "valid": valid}),
            )
        }
        Command::Patients(PatientsCmd::RegisterPds {
            nhs_number,
            dob,
            forename,
            surname,
            postcode,
        }) => {
            let body: types::RegisterPatientPdsRequest = match nhs_number {
                Some(nhs) => types::RegisterPatientPdsByNhsNumber {
                    nhs_number: field("nhs-number", &nhs)?,
                    dob,
                    ehr_partner: None,
                    ehr_partner_id: None,
                }
                .into(),
                None => types::RegisterPatientPdsByDemographics {
                    dob,
                    forename: forename.unwrap_or_default().into(),
                    surname: surname.unwrap_or_default().into(),
                    postcode: postcode.unwrap_or_default().into(),
                    ehr_partner: None,
                    ehr_partner_id: None,
                }
                .into(),
            };
            print_one(
                f,
                PATIENT,
                hero.register_patient_pds()
                    .body(body)
                    .send()
                    .await?
                    .into_inner(),
            )
        }
        // Handled in main, before any client is built.
        Command::Completions { .. } => Ok(()),
    }
}

async fn batch(hero: &HeroClient, f: Format, cmd: BatchCmd) -> Outcome {
    match cmd {
        BatchCmd::Create {
            name,
            channel,
            subject,
            content,
            recipients: file,
            dry_run,
        } => {
            let recipients = recipients::read(&file).map_err(|problems| Failure {
                code: Exit::Invalid,
                message: format!(
                    "{file}: {} problem(s), nothing was sent:\n  {}",
                    problems.len(),
                    problems.join("\n  ")
                ),
                hint: Some("fix the rows named above and run the command again".to_owned()),
            })?;
            if dry_run {
                eprintln!(
                    "dry run: {} recipient(s) are valid; nothing was sent",
                    recipients.len()
                );
                let rows = recipients.iter().map(|r| {
                    Ok(serde_json::json!({"nhs_number": r.nhs_number.as_str(), "dob": r.dob}))
                });
                return print_stream(
                    f,
                    DRY_RUN,
                    futures::stream::iter(rows.collect::<Vec<_>>()),
                    false,
                )
                .await;
            }
            let batch = hero
                .create_batch_message()
                .body_map(|b| {
                    b.name(name.as_str())
                        .channel(channel.clone())
                        .subject(subject.as_deref().map(herohealth::Sensitive::from))
                        .content(content.as_str())
                        .recipients(recipients)
                })
                .send()
                .await?
                .into_inner();
            print_one(f, BATCH, batch)
        }
        BatchCmd::Send { id } => {
            hero.send_batch_message().id(id.as_str()).send().await?;
            print_one(
                f,
                BATCH,
                hero.get_batch_message().id(id).send().await?.into_inner(),
            )
        }
        BatchCmd::Get { id } => print_one(
            f,
            BATCH,
            hero.get_batch_message().id(id).send().await?.into_inner(),
        ),
        BatchCmd::List { list, status } => {
            let mut q = hero.list_batch_messages();
            if let Some(s) = status {
                q = q.status(s);
            }
            print_stream(f, BATCH, q.stream_with(list.options()), list.all).await
        }
        BatchCmd::Recipients { id, list, status } => {
            let mut q = hero.list_batch_message_recipients().id(id);
            if let Some(s) = status {
                q = q.status(s);
            }
            print_stream(f, RECIPIENT, q.stream_with(list.options()), list.all).await
        }
        BatchCmd::Sends { id, list, status } => {
            let mut q = hero.list_batch_message_sends().id(id);
            if let Some(s) = status {
                q = q.status(s);
            }
            print_stream(f, SEND, q.stream_with(list.options()), list.all).await
        }
        BatchCmd::Wait { id, wait_for } => {
            let bar = progress("waiting for the batch");
            let mut updates =
                std::pin::pin!(hero.watch_batch(id.as_str(), wait_options(&wait_for)));
            let mut last = None;
            while let Some(update) = updates.next().await {
                let b = update?;
                if let Some(bar) = &bar {
                    bar.set_message(format!("batch {id}: {}", b.status));
                }
                last = Some(b);
            }
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            print_one(f, BATCH, last)?;
            let (sends, failed) = hero
                .list_batch_message_sends()
                .id(id.as_str())
                .stream()
                .try_fold((0u64, 0u64), |(all, failed), send| async move {
                    Ok((
                        all + 1,
                        failed + u64::from(send.status == BatchSendStatus::Error),
                    ))
                })
                .await?;
            if failed > 0 {
                return Err(Failure::new(
                    Exit::NotDelivered,
                    format!("batch {id} completed, but {failed} of {sends} sends failed"),
                    Some(format!(
                        "`hero batch sends {id} --status ERROR --all` lists them"
                    )),
                ));
            }
            Ok(())
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Completions { shell } = cli.command {
        use clap::CommandFactory;
        use std::io::Write;
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "hero", &mut script);
        // A closed pipe (`| head`) is not an error worth a panic.
        let _ = std::io::stdout().write_all(&script);
        return ExitCode::SUCCESS;
    }
    if cli.verbose {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("herohealth=debug"))
            .with_writer(std::io::stderr)
            .init();
    }
    // The embedded mock lives as long as the command.
    let mut _mock = None;
    let hero = if cli.mock {
        match herohealth_mock::MockServer::builder()
            .seed_sent_messages(250)
            .time_scale(30.0)
            .start()
            .await
        {
            Ok(mock) => {
                let hero = mock.client();
                _mock = Some(mock);
                Ok(hero)
            }
            Err(e) => Err(Failure {
                code: Exit::Other,
                message: format!("cannot start the embedded mock: {e}"),
                hint: None,
            }),
        }
    } else {
        HeroClient::from_env().map_err(Failure::from)
    };
    let result = match hero {
        Ok(hero) => run(cli, &hero).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) if f.code == Exit::Ok => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            if let Some(hint) = f.hint {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(f.code as u8)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
