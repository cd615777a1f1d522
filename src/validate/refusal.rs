//! [`Refusal`]: a value refused before anything was sent, by field and rule; [`Rule`]: the errors
//! a refusal's rule may come from.

use std::fmt;

/// A value the client refused before sending anything: the field and the rule it broke, never the
/// value ([`Error::refusal`](crate::Error::refusal)).
///
/// ```
/// use herohealth::{HeroClient, MessageType};
/// # async fn run(hero: HeroClient) {
/// let err = hero
///     .send_message()
///     .body_map(|b| b.patient_id("98a").message_type(MessageType::Sms).message_string("Hi"))
///     .send()
///     .await
///     .unwrap_err();
/// let refusal = err.refusal().expect("refused before sending");
/// assert_eq!(refusal.field(), "patient_id");
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    field: String,
    rule: String,
}

impl Refusal {
    /// A refusal of `field` for breaking `rule`.
    pub(crate) fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
        }
    }

    /// A request `reqwest` could not build (a value that does not fit in a URL or header).
    pub(crate) fn unbuildable() -> Self {
        Self::new(
            "request",
            "could not be built (a value does not fit in a URL or header)",
        )
    }

    /// `field` was never set (the generated builders start every required field with this).
    #[doc(hidden)]
    pub fn missing(field: &'static str) -> Self {
        Self::new(field, "is required")
    }

    /// `field` was refused by its conversion: the rule `error` names (the generated setters map
    /// every conversion's error with this).
    #[doc(hidden)]
    pub fn of(field: &'static str, error: &impl Rule) -> Self {
        Self::new(field, error.rule())
    }

    /// The refused field, as the API names it (`patient_id`, `sent_at`, `recipients`).
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The rule it broke (`a patient id must be digits only`), never the value.
    pub fn rule(&self) -> &str {
        &self.rule
    }
}

/// An error that names the rule a value broke, never the value: what a generated setter accepts
/// from a value's conversion (`.patient_id("98a")`'s [`InvalidValue`](crate::InvalidValue)). A
/// conversion whose error is not one of these does not compile as a setter's argument, so no
/// other error's text (which may quote the value) reaches a [`Refusal`].
///
/// ```
/// use herohealth::{Rule, PatientId};
/// let err = "98a".parse::<PatientId>().unwrap_err();
/// assert_eq!(err.rule(), "must be digits only");
/// ```
pub trait Rule {
    /// The rule, in words that hold no value.
    fn rule(&self) -> String;
}

impl Rule for std::convert::Infallible {
    fn rule(&self) -> String {
        match *self {}
    }
}

/// A rule written in the code (a `&'static str` cannot hold a value read at run time).
impl Rule for &'static str {
    fn rule(&self) -> String {
        (*self).to_owned()
    }
}

impl Rule for std::num::TryFromIntError {
    fn rule(&self) -> String {
        "is out of the range of its integer type".to_owned()
    }
}

impl Rule for crate::enums::UnknownVariant {
    fn rule(&self) -> String {
        self.to_string()
    }
}

impl Rule for super::InvalidValue {
    fn rule(&self) -> String {
        super::InvalidValue::rule(self).to_owned()
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}
