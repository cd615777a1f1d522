//! The API's enum values as command-line arguments: accepted in any case (`sms`, `SMS`), sent in
//! the spelling of the API, and listed in `--help` from the client's enums (generated from
//! `openapi.yaml`), so a value added to the spec is a value of the CLI with no other edit.

use std::{ffi::OsStr, marker::PhantomData, str::FromStr};

use clap::{
    Arg, Command,
    builder::{PossibleValue, TypedValueParser},
    error::{ContextKind, ContextValue, ErrorKind},
};

/// The value parser of an API enum argument: one of the client's open enums, whose values (as
/// the API spells them) come from the enum itself, so there is no list of them here to keep.
pub fn api_enum<T: herohealth::OpenEnum>() -> ApiEnum<T> {
    ApiEnum {
        values: T::KNOWN_WIRE.to_vec(),
        _type: PhantomData,
    }
}

/// The value parser of a closed enum progenitor generates (request-only filters): no list of
/// values to show, but still accepted in any case, and refused with the enum's own message.
pub fn closed_enum<T>() -> ApiEnum<T> {
    ApiEnum {
        values: Vec::new(),
        _type: PhantomData,
    }
}

/// See [`api_enum`].
#[derive(Clone)]
pub struct ApiEnum<T> {
    values: Vec<&'static str>,
    _type: PhantomData<fn() -> T>,
}

impl<T> TypedValueParser for ApiEnum<T>
where
    T: FromStr + Clone + Send + Sync + 'static,
    T::Err: std::fmt::Display,
{
    type Value = T;

    fn parse_ref(&self, cmd: &Command, arg: Option<&Arg>, value: &OsStr) -> Result<T, clap::Error> {
        let name = arg.map_or_else(|| "the value".to_owned(), |a| a.to_string());
        let refuse = |why: String| {
            // The refused text is not put in the error: it may be patient data typed in the wrong
            // place. The option and the values it takes are (the CLI's `usage` renders them).
            let mut err = clap::Error::new(ErrorKind::InvalidValue).with_cmd(cmd);
            err.insert(ContextKind::InvalidArg, ContextValue::String(name.clone()));
            let valid = why
                .split_once("expected one of")
                .map(|(_, list)| list.trim_start_matches(':').trim())
                .unwrap_or_default();
            if !valid.is_empty() {
                let valid = valid.split(", ").map(str::to_owned).collect();
                err.insert(ContextKind::ValidValue, ContextValue::Strings(valid));
            }
            err
        };
        let text = value
            .to_str()
            .ok_or_else(|| refuse("not UTF-8".to_owned()))?;
        let listed = self.values.iter().find(|v| v.eq_ignore_ascii_case(text));
        let candidates = match listed {
            Some(wire) => vec![(*wire).to_owned()],
            None => vec![
                text.to_owned(),
                text.to_ascii_lowercase(),
                text.to_ascii_uppercase(),
            ],
        };
        let mut last = None;
        for c in candidates {
            match c.parse::<T>() {
                Ok(v) => return Ok(v),
                Err(e) => last = Some(e.to_string()),
            }
        }
        Err(refuse(match self.values.is_empty() {
            true => last.unwrap_or_default(),
            false => format!("expected one of {}", self.values.join(", ")),
        }))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        if self.values.is_empty() {
            return None;
        }
        Some(Box::new(self.values.iter().map(|v| PossibleValue::new(*v))))
    }
}
