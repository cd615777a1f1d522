//! `hero messages`: send one message (and wait for it), send many, get one, follow its status.

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use futures::StreamExt as _;
use herohealth::{DeliveryStatus, Error, HeroClient, MessageType, SnomedCode, types};

use crate::{
    args::{WaitArgs, api_enum, closed_enum, field, parse_time, wait_options},
    exit::{Exit, Failure, Outcome, look_first},
    output::{Column, Format, print_one, progress},
    send_many,
};

#[derive(Subcommand)]
pub(crate) enum MessagesCmd {
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
pub(crate) struct SendArgs {
    /// The Hero patient id (see `hero patients register-pds`).
    #[arg(long)]
    pub(crate) patient_id: String,
    /// How to send it (any case).
    #[arg(long = "type", value_parser = api_enum::<MessageType>())]
    pub(crate) message_type: MessageType,
    /// The message text.
    #[arg(long)]
    pub(crate) text: String,
    /// Phone number or email to send to (default: the patient's record).
    #[arg(long)]
    pub(crate) to: Option<String>,
    /// Fallback channel: sms or email.
    #[arg(long, value_parser = closed_enum::<types::FallbackMessageType>())]
    pub(crate) fallback_type: Option<types::FallbackMessageType>,
    /// Fallback phone number or email.
    #[arg(long)]
    pub(crate) fallback_to: Option<String>,
    /// Write the message to the patient's record.
    #[arg(long)]
    pub(crate) write_to_record: bool,
    /// SNOMED code of the record entry.
    #[arg(long)]
    pub(crate) snomed_code: Option<String>,
    /// SNOMED term of the record entry.
    #[arg(long)]
    pub(crate) snomed_term: Option<String>,
    /// Send later (RFC 3339 date-time).
    #[arg(long, value_parser = parse_time)]
    pub(crate) send_at: Option<DateTime<Utc>>,
    /// Attach this file (at most 10 MiB): an attachment link is created for the patient first,
    /// then the message is sent carrying its uuid. A missing, unreadable or larger file is a usage
    /// error (exit 2) and nothing is sent.
    #[arg(long, value_name = "FILE")]
    pub(crate) attach: Option<std::path::PathBuf>,
    /// When the attachment link stops working (RFC 3339 date-time; with --attach).
    #[arg(long, value_parser = parse_time, requires = "attach")]
    pub(crate) attach_expires: Option<DateTime<Utc>>,
    /// How many times the patient may open the attachment (with --attach).
    #[arg(long, value_name = "N", requires = "attach")]
    pub(crate) attach_max_uses: Option<std::num::NonZeroU64>,
    /// Then wait until it is delivered, declined or fatal.
    #[arg(long)]
    pub(crate) wait: bool,
    #[command(flatten)]
    pub(crate) wait_for: WaitArgs,
}

pub(crate) const MESSAGE: &[Column] = &[
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

pub(crate) const STATUS: &[Column] = &[
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

pub(crate) const SENT_RESPONSE: &[Column] = &[
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

/// The largest file `--attach` takes: 10 MiB (Hero publishes no limit; a bigger file is refused
/// before anything is sent).
pub(crate) const ATTACH_MAX_BYTES: u64 = 10 * 1024 * 1024;

/// The file of `--attach`, read whole (at most [`ATTACH_MAX_BYTES`]), and its name; a usage error
/// (exit 2) naming the option, never the contents nor the path (patient names live in file
/// names), when it is missing, not a regular file (a directory, a FIFO, a device: refused before
/// it is opened, as a FIFO with no writer would wait forever), unreadable or too large.
pub(crate) fn read_attachment(path: &std::path::Path) -> Result<(String, Vec<u8>), Failure> {
    use std::io::Read as _;
    let usage = |why: String| Failure {
        hint: Some(format!(
            "attach a readable regular file of at most {} MiB",
            ATTACH_MAX_BYTES >> 20
        )),
        ..Failure::file(Exit::Usage, "--attach", format!("{why}; nothing was sent"))
    };
    let not_regular = |t: std::fs::FileType| usage(format!("is not a regular file ({})", kind(t)));
    let meta =
        std::fs::metadata(path).map_err(|e| usage(format!("cannot be opened ({})", e.kind())))?;
    if !meta.is_file() {
        return Err(not_regular(meta.file_type()));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // Never blocks: a file swapped for a FIFO since the check opens at once, and is refused below.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options
        .open(path)
        .map_err(|e| usage(format!("cannot be opened ({})", e.kind())))?;
    let opened = file
        .metadata()
        .map_err(|e| usage(format!("cannot be read ({})", e.kind())))?;
    if !opened.is_file() {
        return Err(not_regular(opened.file_type()));
    }
    let mut bytes = Vec::new();
    file.take(ATTACH_MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| usage(format!("cannot be read ({})", e.kind())))?;
    if bytes.len() as u64 > ATTACH_MAX_BYTES {
        return Err(usage(format!(
            "is larger than {} MiB",
            ATTACH_MAX_BYTES >> 20
        )));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| usage("has no file name".to_owned()))?;
    Ok((name, bytes))
}

/// What a file that is not a regular file is, in words.
fn kind(t: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

pub(crate) async fn watch_status(
    hero: &HeroClient,
    format: Format,
    id: &str,
    wait: &WaitArgs,
) -> Outcome {
    let bar = progress("waiting for delivery");
    let mut updates = std::pin::pin!(hero.watch_delivery(id, wait_options(wait)));
    let sid = herohealth::ids::MESSAGE_ID.shown(id);
    let mut last = None;
    while let Some(update) = updates.next().await {
        let s = update?;
        if let Some(bar) = &bar {
            bar.set_message(format!("message {sid}: {}", s.status.response));
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
            format!("message {sid} was not delivered: it ended `{s}`"),
            Some(not_delivered_hint(&s)),
        )),
        _ => Ok(()),
    }
}

/// What to do about a message that ended `declined` or `fatal`: a final state, so nothing will
/// come of waiting or of the same send again.
pub(crate) fn not_delivered_hint(state: &DeliveryStatus) -> String {
    format!(
        "`{state}` is final: this message will not be delivered. Contact the patient another way \
         (by phone, by letter, or on another contact detail from their record); sending it again \
         to the same contact detail would end the same way"
    )
}

pub(crate) async fn run(hero: &HeroClient, f: Format, cmd: MessagesCmd) -> Outcome {
    match cmd {
        MessagesCmd::Send(a) => {
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
            let fill = |b: types::builder::SendMessageRequest| {
                b.patient_id(a.patient_id.as_str())
                    .message_type(a.message_type.clone())
                    .message_string(a.text.as_str())
                    .write_to_record(a.write_to_record)
                    .snomed_term(a.snomed_term.clone())
                    .send_at(a.send_at)
                    .fallback_message_type(a.fallback_type)
                    .recipient_contact_detail(to.clone())
                    .fallback_contact_detail(fallback_to.clone())
                    .snomed_code(snomed_code.clone())
            };
            let request = match &a.attach {
                None => hero.send_message().body_map(fill),
                Some(path) => {
                    // Everything is checked before the link is made: a message that would be
                    // refused leaves no link behind.
                    let (name, bytes) = read_attachment(path)?;
                    let mut body: types::SendMessageRequest =
                        fill(types::SendMessageRequest::builder())
                            .try_into()
                            .map_err(|e| Failure::from(Error::from(e)))?;
                    herohealth::check_send_message(&body)?;
                    let link = hero
                        .create_attachment_link()
                        .body_map(|b| {
                            b.patient_id(a.patient_id.as_str())
                                .file(name, &bytes)
                                .expiry_date(a.attach_expires)
                                .maximum_use_count(a.attach_max_uses)
                        })
                        .send()
                        .await
                        .map_err(|e| {
                            let mut f = Failure::from(e);
                            f.message = format!(
                                "creating the attachment link: {}; the message was not sent",
                                f.message
                            );
                            // No message went, whatever became of the link: not exit 9 or 11.
                            if matches!(f.code, Exit::OutcomeUnknown | Exit::Accepted) {
                                f.code = Exit::Other;
                                f.hint = Some(
                                    "no message was sent; running the command again is safe (it makes a new link)"
                                        .to_owned(),
                                );
                            }
                            f
                        })?;
                    body.attachment_uuid = (&*link).try_into().map_err(|e: &str| {
                        Failure::new(Exit::Other, format!("{e}; the message was not sent"), None)
                    })?;
                    eprintln!(
                        "attachment link created (attachment_uuid {})",
                        herohealth::ids::ATTACHMENT_UUID.shown(&link.attachment_uuid)
                    );
                    hero.send_message().body(body)
                }
            };
            let sent = request
                .send()
                .await
                .map_err(|e| {
                    let (may_have_gone, accepted) = (e.may_have_been_sent(), e.accepted());
                    let failure = Failure::from(e);
                    if !may_have_gone {
                        return failure;
                    }
                    // The command that finds it, ready to run (the patient id in its declared form).
                    let command = format!(
                        "hero sent list --patient-id {} --order-by created_at --descending",
                        herohealth::ids::PATIENT_ID.shown(&a.patient_id)
                    );
                    Failure {
                        hint: Some(look_first(accepted, &command)),
                        ..failure
                    }
                })?
                .into_inner();
            if a.wait {
                eprintln!(
                    "sent message {}",
                    herohealth::ids::MESSAGE_ID.shown(&sent.message_id)
                );
                return watch_status(hero, f, &sent.message_id, &a.wait_for)
                    .await
                    .map_err(|e| e.after_send(&sent.message_id));
            }
            print_one(f, SENT_RESPONSE, sent)
        }
        MessagesCmd::SendMany(a) => send_many::run(hero, f, &a).await,
        MessagesCmd::Get { id } => print_one(
            f,
            MESSAGE,
            hero.get_message().id(id).send().await?.into_inner(),
        ),
        MessagesCmd::Status { id, wait, wait_for } => {
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
    }
}
