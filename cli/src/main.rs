//! `hero`: send a test message, check why a message failed, export what was sent, or send a batch
//! from a spreadsheet, on the Hero Health messaging API. A thin shell over the `herohealth` crate.
//!
//! Configuration is the library's: `HERO_API_KEY`, `HERO_PRACTICE_GROUP_ID` and `HERO_BASE_URL` or
//! `HERO_ENVIRONMENT=production|staging` (and `HERO_TIMEOUT`, seconds per attempt); or `--mock` for an embedded herohealth-mock with demo data
//! (or the one `hero mock start` runs in the background, named by `HERO_MOCK_URL`).
//!
//! A command line clap refuses is reported by `usage.rs`, which names the option and never the
//! value typed.
#![forbid(unsafe_code)]

mod batch;
mod common;
mod exit;
mod messages;
mod mock;
mod outbox;
mod output;
mod patients;
mod recipients;
mod reference;
mod send_many;
mod sent;
mod usage;
mod values;
mod webhooks;

use std::{io::IsTerminal, process::ExitCode, str::FromStr, time::Duration};

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand};
use futures::{Stream, StreamExt};
use herohealth::{
    BatchChannel, BatchSendStatus, DeliveryStatus, EnrichmentStatus, Error, ErrorKind, HeroClient,
    MessageType, PageOptions, Paginate, SnomedCode, WaitOptions, WriteToRecordStatus, types,
};
use output::{Column, Format, Printer};
use serde::Serialize;
use values::{api_enum, closed_enum};

use batch::*;
use common::*;
use exit::*;
use messages::*;
use patients::*;
use reference::*;
use sent::*;
use webhooks::WebhooksCmd;

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

async fn run(cli: Cli, hero: &HeroClient) -> Outcome {
    let f = cli.format;
    match cli.command {
        Command::Messages(cmd) => messages::run(hero, f, cmd).await,
        Command::Sent(cmd) => sent::run(hero, f, cmd).await,
        Command::Batch(cmd) => batch::run(hero, f, cmd).await,
        Command::Templates(cmd) => reference::templates(hero, f, cmd).await,
        Command::Assignees(cmd) => reference::assignees(hero, f, cmd).await,
        Command::Snomed(cmd) => reference::snomed(hero, f, cmd).await,
        Command::Patients(cmd) => patients::run(hero, f, cmd).await,
        Command::Webhooks(cmd) => webhooks::run(hero, f, cmd).await,
        // Handled in main, before any client is built.
        Command::Completions { .. } | Command::Mock(_) | Command::Outbox(_) => Ok(()),
    }
}

/// The log filter of `-v` (1) and `-vv` (2): the crate's own targets only, with the HTTP stack's
/// capped off, so that no frame, header or URL it would log reaches stderr whatever else is on.
pub(crate) fn log_filter(verbosity: u8) -> tracing_subscriber::EnvFilter {
    let ours = match verbosity {
        0 | 1 => "herohealth=debug,herohealth_outbox=info",
        _ => "herohealth=trace,herohealth_outbox=debug,herohealth_mock=info",
    };
    tracing_subscriber::EnvFilter::new(format!(
        "{ours},h2=off,hyper=off,hyper_util=off,reqwest=off,rustls=off,tower=off"
    ))
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
    if let Command::Completions { shell } = cli.command {
        use clap::CommandFactory;
        use std::io::Write;
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "hero", &mut script);
        // A closed pipe (`| head`) is not an error worth a panic.
        let _ = std::io::stdout().write_all(&script);
        return ExitCode::SUCCESS;
    }
    if let Command::Webhooks(WebhooksCmd::Listen(args)) = cli.command {
        // A local server: it needs no Hero credentials.
        return finish(webhooks::listen(args).await);
    }
    if let Command::Mock(cmd) = cli.command {
        // The mock itself: no client.
        return finish(mock::run(cmd).await);
    }
    if cli.verbose > 0 {
        tracing_subscriber::fmt()
            .with_env_filter(log_filter(cli.verbose))
            .with_writer(std::io::stderr)
            // Colour only on a terminal: not into a log file or a pipe.
            .with_ansi(std::io::stderr().is_terminal())
            .init();
    }
    if let Command::Outbox(cmd) = cli.command {
        // Its workers build their own clients (one per practice group); status needs none.
        return finish(outbox::run(cli.format, cmd).await);
    }
    // The embedded mock lives as long as the command.
    let mut _mock = None;
    let running = if cli.mock { mock::running() } else { None };
    let hero = if let Some(running) = running {
        // The mock `hero mock start` runs: its state is kept between commands.
        running
    } else if cli.mock {
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
    finish(result)
}

/// The exit status of a command's outcome, its error and hint on stderr.
fn finish(result: Outcome) -> ExitCode {
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
