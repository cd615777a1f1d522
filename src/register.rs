//! [`HeroClient::register_patient`]: the first call of every integration, as one method with an
//! answer that cannot be mistaken: registered (with the patient id) or "the patient must verify
//! their identity first".

use chrono::NaiveDate;

use crate::{
    HeroClient, NhsNumber,
    api::types,
    error::{Error, ErrorKind},
};

/// How a registration ended: [`HeroClient::register_patient`]'s answer.
///
/// Its `Debug` shows the patient id and the `MustVerify` fields masked: `login_url` is a link
/// made for one patient, and Hero's message is Hero's own text.
///
/// ```
/// let r = herohealth::Registration::MustVerify {
///     login_url: Some("https://login.example/zebedee.quenby".into()),
///     message: Some("Zebedee Quenby must verify".into()),
/// };
/// assert_eq!(format!("{r:?}"), "MustVerify { login_url: Some(<redacted>), message: Some(<redacted>) }");
/// ```
#[derive(Clone, PartialEq)]
#[must_use = "a patient may have to verify their identity before they can be messaged"]
#[non_exhaustive]
pub enum Registration {
    /// The patient is registered: message them with this id.
    Registered {
        /// The Hero patient id (`patient_id` of every send).
        patient_id: crate::PatientId,
    },
    /// Hero found the patient but they must verify their identity first (at `login_url`); no
    /// patient id yet. Register again after they have.
    MustVerify {
        /// Where the patient verifies, when Hero gave it.
        login_url: Option<String>,
        /// Hero's message, when it gave one.
        message: Option<String>,
    },
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Present or not (`Some(<redacted>)`), never the text.
        let masked = |v: &Option<String>| v.as_ref().map(|_| crate::Sensitive::default());
        match self {
            Registration::Registered { patient_id } => f
                .debug_struct("Registered")
                .field("patient_id", patient_id)
                .finish(),
            Registration::MustVerify { login_url, message } => f
                .debug_struct("MustVerify")
                .field("login_url", &masked(login_url))
                .field("message", &masked(message))
                .finish(),
        }
    }
}

impl Registration {
    /// The patient id, when registered.
    pub fn patient_id(&self) -> Option<&crate::PatientId> {
        match self {
            Registration::Registered { patient_id } => Some(patient_id),
            Registration::MustVerify { .. } => None,
        }
    }
}

impl HeroClient {
    /// Registers a patient by NHS number and date of birth (`POST /v1/patients/register_pds`) and
    /// says whether they can be messaged now. A patient Hero cannot find is an error of kind
    /// [`ErrorKind::NotFound`].
    ///
    /// ```no_run
    /// use chrono::NaiveDate;
    /// use herohealth::{NhsNumber, Registration};
    /// # async fn run(hero: herohealth::HeroClient) -> herohealth::Result<()> {
    /// let nhs: NhsNumber = "943 476 5919".parse()?;
    /// let dob = NaiveDate::from_ymd_opt(1992, 1, 1).expect("a date");
    /// match hero.register_patient(nhs, dob).await? {
    ///     Registration::Registered { patient_id } => println!("message patient {patient_id}"),
    ///     Registration::MustVerify { login_url, .. } => println!("ask them to verify: {login_url:?}"),
    ///     _ => {}
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn register_patient(
        &self,
        nhs_number: NhsNumber,
        date_of_birth: NaiveDate,
    ) -> crate::Result<Registration> {
        let answer = self
            .register_patient_pds()
            .body(types::RegisterPatientPdsByNhsNumber {
                nhs_number,
                dob: date_of_birth,
                ehr_partner: None,
                ehr_partner_id: None,
            })
            .send()
            .await?
            .into_inner();
        match answer.patient_id {
            Some(id) => {
                let patient_id = id.parse().map_err(|e: crate::InvalidValue| {
                    Error::new(
                        ErrorKind::Decode,
                        format!(
                            "register_patient_pds answered a patient_id that {}",
                            e.rule()
                        ),
                    )
                    .with_operation("register_patient_pds")
                })?;
                Ok(Registration::Registered { patient_id })
            }
            None => Ok(Registration::MustVerify {
                login_url: answer.login_url,
                message: answer.message,
            }),
        }
    }
}
