//! `hero batch`: create from a CSV (checked first) and, in the same command, send and wait; send,
//! get, and list batches, recipients and sends; trace the failed sends to patients (`failures`).

use clap::Subcommand;
use futures::StreamExt as _;
use herohealth::{
    BatchChannel, BatchSendStatus, EnrichmentStatus, Error, ErrorKind, HeroClient, Paginate as _,
    types,
};

use crate::{
    args::{ListOpts, WaitArgs, api_enum, closed_enum, wait_options},
    exit::{Exit, Failure, Outcome, look_first},
    output::{Column, Format, Row, print_one, print_stream, progress},
    recipients,
};

#[derive(Subcommand)]
pub(crate) enum BatchCmd {
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
        #[arg(long, conflicts_with = "send")]
        dry_run: bool,
        /// Send the batch once it is created (as `hero batch send ID`).
        #[arg(long)]
        send: bool,
        /// Then wait until it is completed (as `hero batch wait ID`): exit 13 when sends failed.
        #[arg(long, requires = "send")]
        wait: bool,
        #[command(flatten)]
        wait_for: WaitArgs,
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
        #[arg(long, value_parser = closed_enum::<types::BatchMessageStatusFilter>())]
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
    /// The patients a batch did not reach: each failed send with the recipient (NHS number) it
    /// was for, `ambiguous` when recipients share the contact detail, and the recipients Hero
    /// could not trace (no send was made). Run it once the batch is completed.
    Failures {
        /// The batch id.
        id: String,
    },
}

pub(crate) const BATCH: &[Column] = &[
    ("id", "/id"),
    ("name", "/name"),
    ("status", "/status"),
    ("channel", "/channel"),
    ("subject", "/subject"),
    ("content", "/content"),
];

pub(crate) const RECIPIENT: &[Column] = &[
    ("enrichment_status", "/enrichment_status"),
    ("nhs_number", "/nhs_number"),
    ("first_name", "/first_name"),
    ("last_name", "/last_name"),
    ("mobile", "/mobile"),
    ("email", "/email"),
];

pub(crate) const DRY_RUN: &[Column] = &[("nhs_number", "/nhs_number"), ("dob", "/dob")];

pub(crate) const SEND: &[Column] = &[
    ("id", "/id"),
    ("status", "/status"),
    ("channel", "/channel"),
    ("recipient", "/recipient"),
    ("sent_at", "/sent_at"),
    ("created_at", "/created_at"),
];

pub(crate) const FAILURE: &[Column] = &[
    ("nhs_number", "/nhs_number"),
    ("first_name", "/first_name"),
    ("last_name", "/last_name"),
    ("problem", "/problem"),
    ("match", "/match"),
    ("send_id", "/send_id"),
    ("to", "/to"),
];

/// Sends batch `id` (once): a failure that may have sent it names the command that shows it.
async fn send_batch(hero: &HeroClient, id: &str) -> Outcome {
    let sid = herohealth::ids::BATCH_ID.shown(id);
    hero.send_batch_message().id(id).send().await.map_err(|e| {
        let failure = Failure::from(e);
        match failure.code {
            // The command that finds this batch, with its id.
            Exit::OutcomeUnknown | Exit::Accepted => Failure {
                hint: Some(look_first(
                    failure.code == Exit::Accepted,
                    &format!("hero batch get {sid} (its status shows whether it was sent)"),
                )),
                ..failure
            },
            _ => failure,
        }
    })?;
    Ok(())
}

/// Waits for batch `id` to complete, prints it, and fails with exit 13 when sends failed.
async fn wait_batch(hero: &HeroClient, f: Format, id: &str, wait_for: &WaitArgs) -> Outcome {
    let sid = herohealth::ids::BATCH_ID.shown(id);
    let bar = progress("waiting for the batch");
    let mut updates = std::pin::pin!(hero.watch_batch(id, wait_options(wait_for)));
    let mut last = None;
    while let Some(update) = updates.next().await {
        let b = update.map_err(|e| {
            let never_sent = e.kind() == ErrorKind::WaitDeadline
                && last.as_ref().is_some_and(|b: &types::BatchMessage| {
                    b.status == herohealth::BatchMessageStatus::Created
                });
            let failure = Failure::from(e);
            if never_sent {
                // Waiting longer will not help a batch nobody has sent.
                let hint = format!("send it first: hero batch send {sid}");
                return Failure {
                    hint: Some(hint),
                    ..failure
                };
            }
            failure
        })?;
        if let Some(bar) = &bar {
            bar.set_message(format!("batch {sid}: {}", b.status));
        }
        last = Some(b);
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    print_one(f, BATCH, &last)?;
    let Some(batch) = last else {
        return Ok(());
    };
    let outcome = hero.batch_outcome(batch).await?;
    let (sends, failed) = (outcome.sends, outcome.failed_sends);
    if failed > 0 {
        return Err(Failure::new(
            Exit::NotDelivered,
            format!("batch {sid} completed, but {failed} of {sends} sends failed"),
            Some(format!(
                "`hero batch failures {sid}` lists the patients they were for: contact them another way"
            )),
        ));
    }
    Ok(())
}

/// One row per patient not reached (see [`FAILURE`]): the send and the recipient as their
/// declared types let them be shown (the NHS number, names and contact detail are patient data:
/// `<redacted>`; a program that must contact them reads `HeroClient::batch_failures`).
fn failure_rows(failures: &herohealth::BatchFailures) -> Vec<Row> {
    use herohealth::Traced;
    let person = |row: Row, r: &types::BatchRecipientRow| {
        row.field("nhs_number", &r.nhs_number)
            .field("first_name", &r.first_name)
            .field("last_name", &r.last_name)
    };
    let mut rows = Vec::new();
    for failed in &failures.failed {
        let send = || {
            Row::new()
                .id("send_id", &herohealth::ids::NUMERIC_ID, &failed.send.id)
                .field("to", &failed.send.recipient)
                .words("problem", "send failed")
        };
        match &failed.traced {
            Traced::Recipient(r) => rows.push(person(send(), r).words("match", "exact")),
            Traced::Ambiguous(rs) => {
                let matched = format!(
                    "ambiguous: {} recipients share this contact detail",
                    rs.len()
                );
                for r in rs {
                    rows.push(person(send(), r).words("match", &matched));
                }
            }
            _ => rows.push(send().words("match", "none: no recipient has this contact detail")),
        }
    }
    for r in &failures.not_enriched {
        let problem = format!(
            "not traced on the Spine ({}): nothing was sent",
            r.enrichment_status
        );
        rows.push(
            person(Row::new(), r)
                .words("problem", &problem)
                .words("match", "exact"),
        );
    }
    rows
}

pub(crate) async fn run(hero: &HeroClient, f: Format, cmd: BatchCmd) -> Outcome {
    match cmd {
        BatchCmd::Create {
            name,
            channel,
            subject,
            content,
            recipients: file,
            dry_run,
            send,
            wait,
            wait_for,
        } => {
            let input = std::fs::File::open(&file).map_err(|e| {
                Failure::new(
                    Exit::Usage,
                    format!("--recipients {file}: cannot be read ({e}); nothing was sent"),
                    Some("check the file's path and that it can be read".to_owned()),
                )
            })?;
            let recipients = recipients::parse(input).map_err(|problems| Failure {
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
                    Ok::<_, Error>(
                        Row::new()
                            .field("nhs_number", &r.nhs_number)
                            .words("dob", herohealth::REDACTED),
                    )
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
            if !send {
                return print_one(f, BATCH, batch);
            }
            let id = batch.id;
            let sid = herohealth::ids::BATCH_ID.shown(&id);
            eprintln!("created batch {sid}");
            send_batch(hero, &id).await.map_err(|failure| {
                if failure.code == Exit::OutcomeUnknown || failure.code == Exit::Accepted {
                    return failure;
                }
                // Created, and provably not sent: sending it is the next step, not creating it
                // again.
                Failure {
                    message: format!("batch {sid} was created but not sent: {}", failure.message),
                    hint: Some(format!(
                        "send it with `hero batch send {sid}` (do not create it again)"
                    )),
                    ..failure
                }
            })?;
            eprintln!("sent batch {sid}");
            if wait {
                return wait_batch(hero, f, &id, &wait_for)
                    .await
                    .map_err(|failure| after_batch_send(failure, &id));
            }
            print_one(
                f,
                BATCH,
                hero.get_batch_message().id(&id).send().await?.into_inner(),
            )
        }
        BatchCmd::Send { id } => {
            send_batch(hero, &id).await?;
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
        BatchCmd::Wait { id, wait_for } => wait_batch(hero, f, &id, &wait_for).await,
        BatchCmd::Failures { id } => {
            let sid = herohealth::ids::BATCH_ID.shown(&id);
            let bar = progress("reading the batch's recipients and sends");
            let failures = hero.batch_failures(id.as_str()).await?;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            if failures.batch.status != herohealth::BatchMessageStatus::Completed {
                eprintln!(
                    "batch {sid} is {}, not COMPLETED: sends still under way are not failures yet; \
                     run this again after `hero batch wait {sid}`",
                    failures.batch.status
                );
            }
            let ambiguous = failures
                .failed
                .iter()
                .filter(|f| f.traced.is_ambiguous())
                .count();
            eprintln!(
                "{} of {} sends failed ({} traced to one patient, {ambiguous} ambiguous, {} to no \
                 recipient); {} recipient(s) not traced on the Spine",
                failures.failed.len(),
                failures.sends,
                failures.failed.len() - failures.untraced(),
                failures.untraced() - ambiguous,
                failures.not_enriched.len()
            );
            let rows = failure_rows(&failures).into_iter().map(Ok::<_, Error>);
            print_stream(f, FAILURE, futures::stream::iter(rows), false).await
        }
    }
}

/// A failure after this command sent the batch: never "try again" (which would be "send again").
fn after_batch_send(failure: Failure, id: &str) -> Failure {
    let sid = herohealth::ids::BATCH_ID.shown(id);
    match failure.code {
        Exit::NotDelivered | Exit::WaitDeadline => failure,
        _ => Failure::new(
            Exit::SentWaitFailed,
            format!(
                "batch {sid} was sent; waiting for it failed: {}",
                failure.message
            ),
            Some(format!(
                "batch {sid} WAS sent: do not send it again; follow it with `hero batch wait {sid}`"
            )),
        ),
    }
}
