//! `herohealth-mock`: run the mock Hero server from the command line.
#![forbid(unsafe_code)]

use clap::Parser;
use herohealth::webhooks::{SignatureEncoding, TimestampFormat};
use herohealth_mock::{
    CountMode, DEMO_API_KEY, DEMO_PRACTICE_GROUP_ID, FaultRule, MockConfig, RecipientOutcome,
};

/// A stateful local Hero Health API server for offline tests.
///
/// Serves every operation of herohealth's openapi.yaml on loopback. The journal of requests is at
/// GET /__mock/journal (with an API key: that practice group's requests), webhook delivery
/// attempts at GET /__mock/deliveries. Webhooks get write-to-record.succeeded/.failed, signed,
/// at loopback URLs only. Stop it with Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "herohealth-mock", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,

    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 4010)]
    port: u16,

    /// Accept KEY for practice group PRACTICE_GROUP_ID (KEY=PRACTICE_GROUP_ID). Repeatable. With none,
    /// the demo key `hero_test_key` is accepted for practice group `demo-practice`.
    #[arg(long = "api-key", value_name = "KEY=PRACTICE_GROUP_ID", value_parser = parse_key)]
    api_keys: Vec<(String, String)>,

    /// Fill each practice group with N historical sent messages (deterministic).
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed_sent_messages: u64,

    /// Run the mock clock this many times faster than real time (message and batch lifecycles).
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0)]
    time_scale: f64,

    /// Page size when a request gives none.
    #[arg(long, value_name = "N", default_value_t = 20)]
    default_page_size: usize,

    /// Largest page served.
    #[arg(long, value_name = "N", default_value_t = 100)]
    max_page_size: usize,

    /// What `count` in list responses means: `total` (matching items on all pages) or `page`.
    #[arg(long, value_name = "MODE", default_value = "total", value_parser = ["total", "page"])]
    count: String,

    /// Inject a fault: OPERATION=FAULT[@N|@first-N], OPERATION a snake_case operationId or `*`.
    /// FAULT: latency:MS, 429[:SECS], status:CODE, reset-before, reset-after, truncated, malformed,
    /// html[:CODE], unknown-enum, empty, wrong-content-type, validation:FIELD[,FIELD...].
    /// N counts the calls of OPERATION from the mock's start. Repeatable.
    #[arg(long = "fault", value_name = "RULE", value_parser = FaultRule::parse)]
    faults: Vec<FaultRule>,

    /// At most N requests in any one second (mock clock) per practice group; beyond it Hero's 429
    /// with Retry-After, and the request is not processed.
    #[arg(long, value_name = "N")]
    rate_limit: Option<u32>,

    /// A sent message shows in GET /v2/sent_messages (a batch in GET /v1/batch_message, its
    /// sends in GET /v1/batch_message/{id}/messages) only MS milliseconds (mock time) after it
    /// was created (sent); by id at once.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    list_delay: u64,

    /// Finish a request whose client has gone (timed out or killed) instead of dropping it, as a
    /// Node or queue-backed service does: the message is sent although no one reads the answer.
    #[arg(long)]
    finish_abandoned: bool,

    /// Leave the message's text out of GET /v1/messages/{id}, as a Hero whose answer has no
    /// `content` would: find_send then cannot tell a send's own message by its text.
    #[arg(long)]
    no_message_content: bool,

    /// The Date header of every answer: `hero` (the clock created_at is stamped by), `+N` or `-N`
    /// seconds from it (a proxy's clock, steady), or `malformed`.
    #[arg(
        long,
        value_name = "CLOCK",
        default_value = "hero",
        allow_hyphen_values = true
    )]
    date_header: herohealth_mock::DateHeader,

    /// How webhook deliveries are signed: `hex` or `base64` (HMAC-SHA256 over "{timestamp}.{body}").
    #[arg(long, value_name = "ENCODING", default_value = "hex", value_parser = ["hex", "base64"])]
    webhook_signature: String,

    /// How the X-Herohealth-Timestamp of a delivery is written: `unix` (seconds), `unix-ms` or
    /// `rfc3339` (wall-clock time).
    #[arg(long, value_name = "FORMAT", default_value = "unix", value_parser = ["unix", "unix-ms", "rfc3339"])]
    webhook_timestamp: String,

    /// Attempts per webhook delivery, the first included (loopback URLs only).
    #[arg(long, value_name = "N", default_value_t = 5)]
    webhook_attempts: u32,

    /// Wait before the first retry of a failed delivery, in milliseconds of mock time; doubled for
    /// each further retry.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    webhook_backoff: u64,

    /// A batch recipient's outcome by NHS number: STATUS is SUCCESS, ERROR (its send fails) or
    /// ENRICHMENT_ERROR (not traced on the Spine: no send). Repeatable. Without it, a recipient's
    /// send fails when their made-up mobile (+447700900 and the NHS number's last three digits)
    /// is a failing test number: NHS numbers ending in 444 or 666, for SMS and NHS App batches.
    #[arg(long = "batch-outcome", value_name = "NHS=STATUS", value_parser = parse_batch_outcome)]
    batch_outcomes: Vec<(String, RecipientOutcome)>,

    /// Hold each write into the record until it is approved: a send with write_to_record (and
    /// without auto_write_to_record) answers a confirm_write_to_record_url, which approves the
    /// write when POSTed.
    #[arg(long)]
    write_approval: bool,
}

fn parse_batch_outcome(s: &str) -> Result<(String, RecipientOutcome), String> {
    let (nhs, status) = s
        .split_once('=')
        .ok_or_else(|| "expected NHS=STATUS".to_owned())?;
    // Checked as the client checks it; the refusal names the rule, not the number.
    let nhs = herohealth::NhsNumber::parse(nhs).map_err(|e| e.to_string())?;
    Ok((nhs.as_str().to_owned(), status.parse()?))
}

fn parse_key(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, g)) if !k.is_empty() && !g.is_empty() => Ok((k.to_owned(), g.to_owned())),
        _ => Err("expected KEY=PRACTICE_GROUP_ID".to_owned()),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut config = MockConfig::default()
        .host(&args.host)
        .port(args.port)
        .seed_sent_messages(args.seed_sent_messages)
        .time_scale(args.time_scale)
        .default_page_size(args.default_page_size)
        .max_page_size(args.max_page_size)
        .list_delay(std::time::Duration::from_millis(args.list_delay))
        .finish_abandoned(args.finish_abandoned)
        .no_message_content(args.no_message_content)
        .date_header(args.date_header)
        .webhook_signature(if args.webhook_signature == "base64" {
            SignatureEncoding::Base64
        } else {
            SignatureEncoding::Hex
        })
        .webhook_timestamp(match args.webhook_timestamp.as_str() {
            "unix-ms" => TimestampFormat::UnixMillis,
            "rfc3339" => TimestampFormat::Rfc3339,
            _ => TimestampFormat::UnixSeconds,
        })
        .webhook_attempts(args.webhook_attempts)
        .webhook_backoff(std::time::Duration::from_millis(args.webhook_backoff))
        .write_approval(args.write_approval)
        .count_mode(if args.count == "page" {
            CountMode::Page
        } else {
            CountMode::Total
        });
    if args.api_keys.is_empty() {
        eprintln!(
            "no --api-key given: accepting the demo key `{DEMO_API_KEY}` for practice group `{DEMO_PRACTICE_GROUP_ID}`"
        );
    }
    for (key, group) in args.api_keys {
        config = config.api_key(key, group);
    }
    for rule in args.faults {
        config = config.fault(rule);
    }
    for (nhs, outcome) in &args.batch_outcomes {
        config = config.batch_outcome(nhs, *outcome);
    }
    if let Some(n) = args.rate_limit {
        config = config.rate_limit(n);
    }
    let server = config.start().await?;
    eprintln!("herohealth-mock listening on {}", server.base_url());
    tokio::signal::ctrl_c().await?;
    eprintln!("stopping");
    Ok(())
}
