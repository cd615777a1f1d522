//! Building a batch recipient with the same date type as registering a patient.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{NhsNumber, api::types::BatchRecipient};

impl BatchRecipient {
    /// A recipient by NHS number and date of birth (a [`NaiveDate`], as
    /// [`crate::HeroClient::register_patient`] takes). Hero reads the date of birth as a timestamp;
    /// it is sent at midnight UTC of that day.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use herohealth::types::BatchRecipient;
    ///
    /// let dob = NaiveDate::from_ymd_opt(1984, 3, 1).unwrap();
    /// let r = BatchRecipient::new("943 476 5919".parse()?, dob);
    /// assert_eq!(r.date_of_birth(), Some(dob));
    /// # Ok::<(), herohealth::Error>(())
    /// ```
    pub fn new(nhs_number: NhsNumber, dob: NaiveDate) -> Self {
        Self {
            nhs_number,
            dob: Some(DateTime::<Utc>::from_naive_utc_and_offset(
                dob.and_time(chrono::NaiveTime::MIN),
                Utc,
            )),
        }
    }

    /// A recipient by NHS number alone (`dob: null`).
    pub fn without_date_of_birth(nhs_number: NhsNumber) -> Self {
        Self {
            nhs_number,
            dob: None,
        }
    }

    /// The date of birth as a date (the UTC day of the timestamp Hero holds).
    pub fn date_of_birth(&self) -> Option<NaiveDate> {
        self.dob.map(|d| d.date_naive())
    }
}
