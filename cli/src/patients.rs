//! `hero patients register-pds`: find a patient on the Spine and get their Hero patient id.

use super::*;

#[derive(Subcommand)]
pub(crate) enum PatientsCmd {
    /// Find a patient on the Spine (PDS) and get their Hero patient id.
    RegisterPds {
        /// NHS number (or give --forename, --surname and --postcode).
        #[arg(long, required_unless_present_all = ["forename", "surname", "postcode"])]
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
fn parse_dob(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| "not a date (YYYY-MM-DD)".to_owned())
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
                None => types::RegisterPatientPdsByDemographics {
                    dob,
                    forename: forename.unwrap_or_default().into(),
                    surname: surname.unwrap_or_default().into(),
                    postcode: postcode.unwrap_or_default().into(),
                    ehr_partner: None,
                    ehr_partner_id: None,
                }
                .into(),
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
