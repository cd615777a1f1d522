//! `hero patients register-pds`: find a patient on the Spine and get their Hero patient id.

use chrono::NaiveDate;
use clap::Subcommand;
use herohealth::{HeroClient, types};

use crate::{
    args::field,
    exit::{Exit, Failure, Outcome},
    output::{Column, Format, print_one},
};

#[derive(Subcommand)]
pub(crate) enum PatientsCmd {
    /// Find a patient on the Spine (PDS) and get their Hero patient id.
    RegisterPds {
        /// NHS number (or give --forename, --surname and --postcode).
        #[arg(long)]
        nhs_number: Option<String>,
        /// Date of birth (YYYY-MM-DD).
        #[arg(long, value_parser = parse_dob)]
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

/// A date of birth, `YYYY-MM-DD`; the refusal never quotes it.
fn parse_dob(s: &str) -> Result<NaiveDate, crate::args::Refused> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| crate::args::Refused("not a date (YYYY-MM-DD)"))
}

/// Without an NHS number, all three of forename, surname and postcode: the refusal names the
/// ones missing (never a value), or `--nhs-number` when none of them was given.
fn demographics(
    forename: Option<String>,
    surname: Option<String>,
    postcode: Option<String>,
) -> Result<(String, String, String), Failure> {
    match (forename, surname, postcode) {
        (Some(f), Some(s), Some(p)) => Ok((f, s, p)),
        (None, None, None) => Err(Failure::new(
            Exit::Usage,
            "--nhs-number is required (or --forename, --surname and --postcode)",
            None,
        )),
        (f, s, p) => {
            let missing: Vec<&str> = [
                ("--forename", f.is_none()),
                ("--surname", s.is_none()),
                ("--postcode", p.is_none()),
            ]
            .into_iter()
            .filter_map(|(name, missing)| missing.then_some(name))
            .collect();
            Err(Failure::new(
                Exit::Usage,
                format!(
                    "{} required: without --nhs-number, a patient is traced by --forename, --surname and --postcode together",
                    missing.join(" and ")
                ),
                None,
            ))
        }
    }
}

pub(crate) const PATIENT: &[Column] = &[
    ("patient_id", "/patient_id"),
    ("message", "/message"),
    ("login_url", "/login_url"),
];

pub(crate) async fn run(hero: &HeroClient, f: Format, cmd: PatientsCmd) -> Outcome {
    match cmd {
        PatientsCmd::RegisterPds {
            nhs_number,
            dob,
            forename,
            surname,
            postcode,
        } => {
            let body: types::RegisterPatientPdsRequest = match nhs_number {
                Some(nhs) => types::RegisterPatientPdsByNhsNumber {
                    nhs_number: field("nhs-number", &nhs)?,
                    dob,
                    ehr_partner: None,
                    ehr_partner_id: None,
                }
                .into(),
                None => {
                    let (forename, surname, postcode) = demographics(forename, surname, postcode)?;
                    types::RegisterPatientPdsByDemographics {
                        dob,
                        forename: forename.into(),
                        surname: surname.into(),
                        postcode: postcode.into(),
                        ehr_partner: None,
                        ehr_partner_id: None,
                    }
                    .into()
                }
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
    }
}
