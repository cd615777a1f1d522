//! `hero batch`: create from a CSV (checked first), send, get, and list batches, recipients and sends.

use super::*;

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

pub(crate) async fn run(hero: &HeroClient, f: Format, cmd: BatchCmd) -> Outcome {
    match cmd {
        BatchCmd::Create {
            name,
            channel,
            subject,
            content,
            recipients: file,
            dry_run,
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
            hero.send_batch_message()
                .id(id.as_str())
                .send()
                .await
                .map_err(|e| {
                    let failure = Failure::from(e);
                    match failure.code {
                        // The command that finds this batch, with its id.
                        Exit::OutcomeUnknown | Exit::Accepted => Failure {
                            hint: Some(exit::look_first(
                                failure.code == Exit::Accepted,
                                &format!(
                                    "hero batch get {id} (its status shows whether it was sent)"
                                ),
                            )),
                            ..failure
                        },
                        _ => failure,
                    }
                })?;
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
                let b = update.map_err(|e| {
                    let never_sent = e.kind() == ErrorKind::WaitDeadline
                        && last.as_ref().is_some_and(|b: &types::BatchMessage| {
                            b.status == herohealth::BatchMessageStatus::Created
                        });
                    let failure = Failure::from(e);
                    if never_sent {
                        // Waiting longer will not help a batch nobody has sent.
                        let hint = format!("send it first: hero batch send {id}");
                        return Failure {
                            hint: Some(hint),
                            ..failure
                        };
                    }
                    failure
                })?;
                if let Some(bar) = &bar {
                    bar.set_message(format!("batch {id}: {}", b.status));
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
