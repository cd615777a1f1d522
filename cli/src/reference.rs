//! `hero templates`, `hero assignees`, `hero snomed`: what a message can refer to.

use clap::{Args, Subcommand};
use herohealth::{HeroClient, SnomedCode};

use crate::{
    args::{ListOnly, NoArgs},
    exit::Outcome,
    output::{Column, Format, Row, print_one, print_stream},
};

#[derive(Args)]
pub(crate) struct TemplatesList {
    /// Only templates with (true) or without (false) follow-ups.
    #[arg(long)]
    pub(crate) has_follow_up: Option<bool>,
}

#[derive(Subcommand)]
pub(crate) enum SnomedCmd {
    /// Check a SNOMED code offline (Verhoeff) and with Hero.
    Validate {
        /// The code.
        code: String,
    },
}

pub(crate) const TEMPLATE: &[Column] = &[
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

pub(crate) const ASSIGNEE: &[Column] = &[
    ("label", "/label"),
    ("value", "/value"),
    ("type", "/type"),
    ("key", "/key"),
];

pub(crate) const SNOMED: &[Column] = &[
    ("code", "/code"),
    ("offline_check", "/offline_check"),
    ("valid", "/valid"),
];

pub(crate) async fn templates(
    hero: &HeroClient,
    f: Format,
    cmd: ListOnly<TemplatesList>,
) -> Outcome {
    match cmd {
        ListOnly::List(a) => {
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
    }
}

pub(crate) async fn assignees(hero: &HeroClient, f: Format, cmd: ListOnly<NoArgs>) -> Outcome {
    match cmd {
        ListOnly::List(NoArgs {}) => {
            let list = hero.list_assignee_collection().send().await?.into_inner();
            print_stream(
                f,
                ASSIGNEE,
                futures::stream::iter(list.data.into_iter().map(Ok)),
                false,
            )
            .await
        }
    }
}

pub(crate) async fn snomed(hero: &HeroClient, f: Format, cmd: SnomedCmd) -> Outcome {
    match cmd {
        SnomedCmd::Validate { code } => {
            let offline =
                SnomedCode::parse(&code).map_or_else(|e| e.rule().to_owned(), |_| "ok".to_owned());
            let valid = hero
                .validate_snomed_code()
                .body_map(|b| b.code(code.as_str()))
                .send()
                .await?
                .into_inner()
                .valid;
            // The code typed, shown only as a SNOMED code (`…` when it is not one).
            let row = match SnomedCode::parse(&code) {
                Ok(c) => Row::new().field("code", &c),
                Err(_) => Row::new().words("code", "…"),
            };
            print_one(
                f,
                SNOMED,
                row.words("offline_check", &offline).field("valid", &valid),
            )
        }
    }
}
