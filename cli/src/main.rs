//! `hero`: send a test message, check why a message failed, export what was sent, or send a batch
//! from a spreadsheet, on the Hero Health messaging API. A thin shell over the `herohealth` crate.
//!
//! Configuration is the library's: `HERO_API_KEY`, `HERO_PRACTICE_GROUP_ID` and `HERO_BASE_URL`
//! or `HERO_ENVIRONMENT=production|staging` (and `HERO_TIMEOUT`, seconds per attempt); or `--mock`
//! for an embedded herohealth-mock with demo data (or the one `hero mock start` runs in the
//! background, named by `HERO_MOCK_URL`).
//!
//! This file is the command line and its dispatch: each command family's code is in its own file
//! (`messages.rs`, `sent.rs`, `batch.rs`, ...). A command line clap refuses is reported by
//! `usage.rs`, which names the option and never the value typed.
#![forbid(unsafe_code)]

mod args;
mod batch;
mod completions;
mod console;
mod exit;
mod logging;
mod messages;
mod mock;
mod outbox;
mod output;
mod patients;
mod recipients;
mod reference;
mod send_many;
mod sent;
mod telemetry;
mod usage;
mod webhooks;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use herohealth::HeroClient;

use crate::{
    args::{ListOnly, NoArgs},
    batch::BatchCmd,
    exit::{Exit, Outcome, finish},
    messages::MessagesCmd,
    output::Format,
    patients::PatientsCmd,
    reference::{SnomedCmd, TemplatesList},
    sent::SentCmd,
    webhooks::WebhooksCmd,
};

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
    /// Log the client's requests (operation, attempt, status; never patient data) to stderr;
    /// `-vv` logs more of the client and the outbox. The HTTP stack's own logs (hyper, h2,
    /// reqwest), which would show frames and URLs, are never on.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
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
    /// Webhooks: Hero's events (write-to-record outcomes, ...) POSTed to your URL; `listen` verifies them locally.
    #[command(subcommand)]
    Webhooks(WebhooksCmd),
    /// herohealth-mock in the background: `eval "$(hero mock start)"`, then commands keep their state.
    #[command(subcommand)]
    Mock(mock::MockCmd),
    /// The durable sender's journals: workers on a PostgreSQL journal, and any journal's status.
    #[command(subcommand)]
    Outbox(outbox::OutboxCmd),
    /// Print a shell completion script: `hero completions bash > ~/.local/share/bash-completion/completions/hero`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// The commands that talk to Hero, each to its family's file.
async fn run(command: Command, hero: &HeroClient, f: Format) -> Outcome {
    match command {
        Command::Messages(cmd) => messages::run(hero, f, cmd).await,
        Command::Sent(cmd) => sent::run(hero, f, cmd).await,
        Command::Batch(cmd) => batch::run(hero, f, cmd).await,
        Command::Templates(cmd) => reference::templates(hero, f, cmd).await,
        Command::Assignees(cmd) => reference::assignees(hero, f, cmd).await,
        Command::Snomed(cmd) => reference::snomed(hero, f, cmd).await,
        Command::Patients(cmd) => patients::run(hero, f, cmd).await,
        Command::Webhooks(cmd) => webhooks::run(hero, f, cmd).await,
        // Dispatched in main, before any client is built.
        Command::Completions { .. } | Command::Mock(_) | Command::Outbox(_) => Ok(()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let typed: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&typed) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind as Kind;
            if matches!(
                e.kind(),
                Kind::DisplayHelp
                    | Kind::DisplayVersion
                    | Kind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                // Help and version hold no typed value.
                let _ = e.print();
                return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
            }
            eprint!("{}", usage::render(&e, &typed));
            return ExitCode::from(Exit::Usage as u8);
        }
    };
    match cli.command {
        Command::Completions { shell } => {
            use clap::CommandFactory;
            return finish(completions::print(shell, Cli::command()));
        }
        // A local server: it needs no Hero credentials.
        Command::Webhooks(WebhooksCmd::Listen(args)) => {
            return finish(webhooks::listen(args).await);
        }
        // The mock itself: no client.
        Command::Mock(cmd) => return finish(mock::run(cmd).await),
        _ => {}
    }
    // OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT (or a signal's own) is set; else none.
    let otel = telemetry::Otel::from_env();
    logging::init(cli.verbose, otel.as_ref());
    let code = run_with_client(cli).await;
    if let Some(otel) = otel {
        otel.shutdown();
    }
    code
}

/// The commands that build a client (or, for the outbox's, clients).
async fn run_with_client(cli: Cli) -> ExitCode {
    if let Command::Outbox(cmd) = cli.command {
        // Its workers build their own clients (one per practice group); status needs none.
        return finish(outbox::run(cli.format, cmd).await);
    }
    // The embedded mock (if any) lives as long as the command.
    let (hero, _mock) = if cli.mock {
        match mock::client().await {
            Ok((hero, mock)) => (Ok(hero), mock),
            Err(e) => (Err(e), None),
        }
    } else {
        (HeroClient::from_env().map_err(Into::into), None)
    };
    finish(match hero {
        Ok(hero) => run(cli.command, &hero, cli.format).await,
        Err(e) => Err(e),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
