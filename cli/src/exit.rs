//! Exit statuses (one enum, which also writes the help text) and a command's failure.

use std::process::ExitCode;

use herohealth::{Error, ErrorKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
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
    JournalUnreachable = 15,
}

impl Exit {
    pub(crate) const ALL: [Exit; 16] = [
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
        Exit::JournalUnreachable,
    ];

    pub(crate) fn meaning(self) -> &'static str {
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
            Exit::JournalUnreachable => {
                "the journal's database could not be reached (nothing is lost: start again once it is back)"
            }
        }
    }

    pub(crate) fn help() -> String {
        let codes: Vec<String> = Self::ALL
            .iter()
            .map(|e| format!("{} {}", *e as u8, e.meaning()))
            .collect();
        format!(
            "Configuration: HERO_API_KEY, HERO_PRACTICE_GROUP_ID and HERO_BASE_URL or \
HERO_ENVIRONMENT=production|staging (HERO_TIMEOUT: seconds per attempt, default 30); or --mock.\n\nExit codes: {}.",
            codes.join(", ")
        )
    }
}

/// What went wrong, with the exit code a script can test and a hint for a person.
pub(crate) struct Failure {
    pub(crate) code: Exit,
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

impl Failure {
    pub(crate) fn new(code: Exit, message: impl Into<String>, hint: Option<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            hint,
        }
    }

    /// A file the user gave could not be used: named by its option (`the file given to
    /// --attach`), never by its path, which is what the user typed and may name a patient
    /// (`Zebedee_Quenby_9434765919_smear_result.pdf`). `what` says what is wrong with it in the
    /// CLI's own words (`cannot be read (not found)`), never with the file's contents.
    pub(crate) fn file(code: Exit, option: &str, what: impl std::fmt::Display) -> Self {
        Failure::new(code, format!("the file given to {option} {what}"), None)
    }

    /// A failure while waiting on a message this command has just sent: never "try again". A
    /// message that ended declined or fatal keeps its hint (it is final: contact the patient
    /// another way).
    pub(crate) fn after_send(self, message_id: &str) -> Self {
        // Hero's id, shown only in a message id's declared form.
        let message_id = herohealth::ids::MESSAGE_ID.shown(message_id);
        let hint = Some(format!(
            "message {message_id} WAS sent: do not send it again; check it later with `hero messages status {message_id}`"
        ));
        match self.code {
            Exit::NotDelivered => self,
            Exit::WaitDeadline => Failure { hint, ..self },
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

/// The hint for a send that went (`accepted`) or may have gone: never send it again before
/// looking, and the command that looks (`hero sent list --patient-id ...`, or the patient's own).
pub(crate) fn look_first(accepted: bool, command: &str) -> String {
    let lead = if accepted {
        "Hero accepted it, so it was sent: do not send it again"
    } else {
        "it may have been sent: do not send it again before looking"
    };
    format!("{lead}; look for it with: {command}")
}

/// The command that finds what a send of `operation` may have made: a message by its patient,
/// a batch by the list of batches not sent yet, or the batch itself.
fn finder(operation: Option<&str>) -> &'static str {
    match operation {
        Some("create_batch_message") => {
            "hero batch list --status CREATED (a new batch with your name, not sent yet)"
        }
        Some("send_batch_message") => "hero batch get ID (its status shows whether it was sent)",
        _ => "hero sent list --patient-id ...",
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let (code, hint) = if e.accepted() {
            (
                Exit::Accepted,
                Some(look_first(true, finder(e.operation()))),
            )
        } else if e.outcome_unknown() {
            (
                Exit::OutcomeUnknown,
                Some(look_first(false, finder(e.operation()))),
            )
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

/// The text of the file given to `option`; a usage error that names the option, never the path.
pub(crate) fn read_file(option: &str, path: &std::path::Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| {
        Failure::file(
            Exit::Usage,
            option,
            format!("cannot be read ({})", e.kind()),
        )
    })
}

pub(crate) type Outcome = Result<(), Failure>;

/// The exit status of a command's outcome, its error and hint on stderr.
pub(crate) fn finish(result: Outcome) -> ExitCode {
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
