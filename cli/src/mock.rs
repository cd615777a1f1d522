//! `hero mock start|stop`: herohealth-mock in the background, so a flow of several commands (create
//! a batch, send it, wait, look at its failures) can be practised offline with state kept between
//! commands. `start` prints the variables to export: `eval "$(hero mock start)"`; then plain
//! `hero ...` (and `hero --mock ...`) commands use that mock until `hero mock stop`.

use std::{
    io::{BufRead, BufReader},
    process::Stdio,
};

use clap::{Args, Subcommand};
use herohealth::HeroClient;
use herohealth_mock::{DEMO_API_KEY, DEMO_PRACTICE_GROUP_ID, MockServer, RecipientOutcome};

use crate::{
    args::Refused,
    exit::{Exit, Failure, Outcome},
};

/// The variable naming a mock started by `hero mock start`: `hero --mock` uses it instead of a
/// fresh embedded mock.
pub(crate) const MOCK_URL_ENV: &str = "HERO_MOCK_URL";
/// The variable holding its process id, for `hero mock stop`.
pub(crate) const MOCK_PID_ENV: &str = "HERO_MOCK_PID";

#[derive(Subcommand)]
pub(crate) enum MockCmd {
    /// Start herohealth-mock in the background (demo key and data) and print the variables to
    /// export: `eval "$(hero mock start)"`. Commands then keep their state across runs.
    Start(MockArgs),
    /// Stop the mock `hero mock start` started (named by $HERO_MOCK_PID and $HERO_MOCK_URL).
    Stop,
    /// Run the mock in the foreground (what `start` runs in the background).
    #[command(hide = true)]
    Serve(MockArgs),
}

#[derive(Args)]
pub(crate) struct MockArgs {
    /// The port on 127.0.0.1 (0: any free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Historical sent messages to seed.
    #[arg(long, value_name = "N", default_value_t = 250)]
    seed_sent_messages: u64,
    /// How many times faster than real time the mock's clock runs.
    #[arg(long, value_name = "FACTOR", default_value_t = 30.0)]
    time_scale: f64,
    /// A batch recipient's outcome: SUCCESS, ERROR (their send fails) or ENRICHMENT_ERROR (not
    /// traced: no send). Repeatable. Otherwise a send fails for NHS numbers ending 444 or 666
    /// (SMS and NHS App batches).
    #[arg(long = "batch-outcome", value_name = "NHS=STATUS", value_parser = parse_batch_outcome)]
    batch_outcomes: Vec<(String, RecipientOutcome)>,
    /// Hold writes into the record until approved (a send answers a confirm_write_to_record_url).
    #[arg(long)]
    write_approval: bool,
}

fn parse_batch_outcome(s: &str) -> Result<(String, RecipientOutcome), Refused> {
    let (nhs, status) = s.split_once('=').ok_or(Refused("expected NHS=STATUS"))?;
    let nhs = herohealth::NhsNumber::parse(nhs)
        .map_err(|_| Refused("NHS: not an NHS number (ten digits, a valid check digit)"))?;
    let status = status
        .parse()
        .map_err(|_| Refused("STATUS: expected SUCCESS, ERROR or ENRICHMENT_ERROR"))?;
    Ok((nhs.as_str().to_owned(), status))
}

impl MockArgs {
    fn config(&self) -> herohealth_mock::MockConfig {
        let mut config = MockServer::builder()
            .port(self.port)
            .seed_sent_messages(self.seed_sent_messages)
            .time_scale(self.time_scale)
            .write_approval(self.write_approval);
        for (nhs, outcome) in &self.batch_outcomes {
            config = config.batch_outcome(nhs, *outcome);
        }
        config
    }

    /// The same options, as `serve` takes them.
    fn to_args(&self) -> Vec<String> {
        let mut args = vec![
            "--port".to_owned(),
            self.port.to_string(),
            "--seed-sent-messages".to_owned(),
            self.seed_sent_messages.to_string(),
            "--time-scale".to_owned(),
            self.time_scale.to_string(),
        ];
        for (nhs, outcome) in &self.batch_outcomes {
            let status = match outcome {
                RecipientOutcome::Success => "SUCCESS",
                RecipientOutcome::Error => "ERROR",
                _ => "ENRICHMENT_ERROR",
            };
            args.push("--batch-outcome".to_owned());
            args.push(format!("{nhs}={status}"));
        }
        if self.write_approval {
            args.push("--write-approval".to_owned());
        }
        args
    }
}

/// `--mock`: a client for the mock `hero mock start` runs (named by `$HERO_MOCK_URL`), whose state
/// is kept between commands; else an embedded mock with demo data, returned too: it serves as long
/// as the caller keeps it.
pub(crate) async fn client() -> Result<(HeroClient, Option<MockServer>), Failure> {
    if let Some(running) = running() {
        return running.map(|hero| (hero, None));
    }
    let mock = MockServer::builder()
        .seed_sent_messages(250)
        .time_scale(30.0)
        .start()
        .await
        .map_err(|e| Failure {
            code: Exit::Other,
            message: format!("cannot start the embedded mock: {e}"),
            hint: None,
        })?;
    Ok((mock.client(), Some(mock)))
}

/// A client for the mock `hero mock start` started, when `$HERO_MOCK_URL` names one.
fn running() -> Option<Result<HeroClient, Failure>> {
    let url = std::env::var(MOCK_URL_ENV)
        .ok()
        .filter(|u| !u.trim().is_empty())?;
    Some(
        HeroClient::builder()
            .api_key(DEMO_API_KEY)
            .practice_group_id(DEMO_PRACTICE_GROUP_ID)
            .base_url(url)
            .build()
            .map_err(|e| {
                Failure::new(
                    Exit::Usage,
                    format!("{MOCK_URL_ENV}: {e}"),
                    Some("unset it, or start a mock with `hero mock start`".to_owned()),
                )
            }),
    )
}

pub(crate) async fn run(cmd: MockCmd) -> Outcome {
    match cmd {
        MockCmd::Serve(args) => serve(args).await,
        MockCmd::Start(args) => start(&args),
        MockCmd::Stop => stop().await,
    }
}

/// Runs the mock until the process is stopped; its address goes to stdout, on one line.
async fn serve(args: MockArgs) -> Outcome {
    use std::io::Write as _;
    let mock = args
        .config()
        .start()
        .await
        .map_err(|e| Failure::new(Exit::Other, format!("cannot start the mock: {e}"), None))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", mock.base_url())?;
        out.flush()?;
    }
    // `start` reads the line and goes: nothing more is written to stdout.
    let _ = tokio::signal::ctrl_c().await;
    drop(mock);
    Ok(())
}

/// Starts `hero mock serve` detached, waits for its address, and prints the exports.
fn start(args: &MockArgs) -> Outcome {
    let exe = std::env::current_exe().map_err(|e| {
        Failure::new(
            Exit::Other,
            format!("cannot find the hero binary: {e}"),
            None,
        )
    })?;
    let mut command = std::process::Command::new(exe);
    command
        .args(["mock", "serve"])
        .args(args.to_args())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // Nothing of the mock's reaches the terminal or the caller's pipes.
        .stderr(Stdio::null());
    #[cfg(unix)]
    {
        // Its own process group: a Ctrl-C in this terminal does not stop it.
        use std::os::unix::process::CommandExt as _;
        command.process_group(0);
    }
    let mut child = command
        .spawn()
        .map_err(|e| Failure::new(Exit::Other, format!("cannot start the mock: {e}"), None))?;
    let pid = child.id();
    let line = child
        .stdout
        .take()
        .and_then(|out| BufReader::new(out).lines().next().and_then(Result::ok));
    let Some(url) = line
        .as_deref()
        .and_then(|l| l.strip_prefix("listening on "))
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(Failure::new(
            Exit::Other,
            "the mock did not start (is the port free?)",
            None,
        ));
    };
    println!("export HERO_BASE_URL={url}");
    println!("export HERO_API_KEY={DEMO_API_KEY}");
    println!("export HERO_PRACTICE_GROUP_ID={DEMO_PRACTICE_GROUP_ID}");
    println!("export {MOCK_URL_ENV}={url}");
    println!("export {MOCK_PID_ENV}={pid}");
    eprintln!(
        "herohealth-mock runs in the background at {url} (process {pid}); after \
         `eval \"$(hero mock start)\"` every hero command uses it, its state kept between \
         commands; `hero mock stop` stops it"
    );
    Ok(())
}

/// Stops the mock `$HERO_MOCK_PID` names, after checking that `$HERO_MOCK_URL` answers as a mock
/// (a process id alone could by now be another program's).
async fn stop() -> Outcome {
    let usage = |message: String| {
        Failure::new(
            Exit::Usage,
            message,
            Some(format!(
                "run it in the shell where `eval \"$(hero mock start)\"` set {MOCK_PID_ENV} and {MOCK_URL_ENV}"
            )),
        )
    };
    let pid: u32 = std::env::var(MOCK_PID_ENV)
        .ok()
        .and_then(|p| p.trim().parse().ok())
        .ok_or_else(|| usage(format!("{MOCK_PID_ENV} is not set to a process id")))?;
    let hero = running().ok_or_else(|| usage(format!("{MOCK_URL_ENV} is not set")))??;
    // Only a mock serves its journal to the demo key.
    let journal = herohealth::reqwest::Client::new()
        .get(format!("{}/__mock/journal", hero.base_url()))
        .header(herohealth::API_KEY_HEADER, DEMO_API_KEY)
        .header(herohealth::PRACTICE_GROUP_ID_HEADER, DEMO_PRACTICE_GROUP_ID)
        .send()
        .await
        .ok()
        .filter(|r| r.status().is_success());
    if journal.is_none() {
        return Err(Failure::new(
            Exit::Other,
            format!("no mock answers at {MOCK_URL_ENV}: nothing was stopped"),
            None,
        ));
    }
    kill(pid)
        .map_err(|e| Failure::new(Exit::Other, format!("cannot stop process {pid}: {e}"), None))?;
    eprintln!("stopped herohealth-mock (process {pid}); unset the HERO_* variables start exported");
    Ok(())
}

#[cfg(unix)]
fn kill(pid: u32) -> std::io::Result<()> {
    let status = std::process::Command::new("kill")
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other("`kill` failed"))
    }
}

#[cfg(not(unix))]
fn kill(pid: u32) -> std::io::Result<()> {
    let status = std::process::Command::new("taskkill")
        .args(["/PID", &pid.to_string(), "/F"])
        .stdout(Stdio::null())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other("`taskkill` failed"))
    }
}
