//! [`Shown`]: a value as JSON of what its declared type lets be shown, the one rendering path of
//! `hero`'s output and of the generated types' `Debug`. Every generated type implements it
//! (`build.rs`, by each field's declared type): patient data is `"<redacted>"`, an id is itself
//! only in its kind's declared form (`"…"` otherwise), an enum value as the spec declares it
//! (`"unknown(N chars)"` otherwise); numbers, booleans and times as they are.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::{REDACTED, ids::IdForm};

/// A value as it may be shown, as JSON (see the module docs). `hero` prints only what implements
/// it, so a command cannot print a value of Hero's its declared type does not let through.
///
/// ```
/// use herohealth::Shown;
/// let sent: herohealth::types::SendMessageResponse = serde_json::from_str(
///     r#"{"message_id":"Zebedee_Quenby_9434765919","content":"Your smear result","created_at":"t","write_to_record":false}"#,
/// ).unwrap();
/// let shown = sent.shown();
/// assert_eq!(shown["message_id"], "…");
/// assert_eq!(shown["content"], "<redacted>");
/// assert_eq!(shown["write_to_record"], false);
/// ```
pub trait Shown {
    /// The value as it may be shown.
    fn shown(&self) -> Value;
}

impl<T: Shown> Shown for Option<T> {
    fn shown(&self) -> Value {
        self.as_ref().map_or(Value::Null, Shown::shown)
    }
}

impl<T: Shown> Shown for Vec<T> {
    fn shown(&self) -> Value {
        Value::Array(self.iter().map(Shown::shown).collect())
    }
}

impl<T: Shown + ?Sized> Shown for Box<T> {
    fn shown(&self) -> Value {
        (**self).shown()
    }
}

impl<T: Shown + ?Sized> Shown for &T {
    fn shown(&self) -> Value {
        (**self).shown()
    }
}

/// Numbers, booleans and times: their declared types carry no text.
macro_rules! as_they_are {
    ($($t:ty),+) => {$(
        impl Shown for $t {
            fn shown(&self) -> Value {
                serde_json::to_value(self).unwrap_or(Value::Null)
            }
        }
    )+};
}
as_they_are!(
    bool,
    i64,
    u64,
    i32,
    u32,
    f64,
    std::num::NonZeroU64,
    chrono::DateTime<chrono::Utc>
);

impl Shown for super::Sensitive {
    fn shown(&self) -> Value {
        Value::from(REDACTED)
    }
}

/// The declared form of the id a field holds, or `None` for a field that holds no id.
pub(crate) type AsId = Option<&'static IdForm>;

/// A value of a generated type's field that is masked, as JSON: `None` as `null`, a list item by
/// item, text as [`REDACTED`] unless the field holds an id (shown in its declared form).
pub(crate) trait MaskedJson {
    /// The value masked; `as_id`: the declared form of the id it holds.
    fn masked_json(&self, as_id: AsId) -> Value;
}

impl MaskedJson for String {
    fn masked_json(&self, as_id: AsId) -> Value {
        match as_id {
            Some(form) => Value::from(form.shown(self).as_str()),
            None => Value::from(REDACTED),
        }
    }
}

impl<T: MaskedJson> MaskedJson for Option<T> {
    fn masked_json(&self, as_id: AsId) -> Value {
        self.as_ref().map_or(Value::Null, |v| v.masked_json(as_id))
    }
}

impl<T: MaskedJson> MaskedJson for Vec<T> {
    fn masked_json(&self, as_id: AsId) -> Value {
        Value::Array(self.iter().map(|v| v.masked_json(as_id)).collect())
    }
}

impl<T: MaskedJson> MaskedJson for Box<T> {
    fn masked_json(&self, as_id: AsId) -> Value {
        (**self).masked_json(as_id)
    }
}

/// Values that are masked whole.
macro_rules! masked_whole {
    ($($t:ty),+) => {$(
        impl MaskedJson for $t {
            fn masked_json(&self, _: AsId) -> Value {
                Value::from(REDACTED)
            }
        }
    )+};
}
masked_whole!(
    chrono::DateTime<chrono::Utc>,
    chrono::NaiveDate,
    Value,
    serde_json::Map<String, Value>
);

impl<K, V> MaskedJson for HashMap<K, V> {
    fn masked_json(&self, _: AsId) -> Value {
        Value::from(REDACTED)
    }
}

impl<K, V> MaskedJson for BTreeMap<K, V> {
    fn masked_json(&self, _: AsId) -> Value {
        Value::from(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::MESSAGE_ID;

    #[test]
    fn fields_render_by_their_declared_type() {
        let odd = String::from("Zebedee_Quenby_19550602");
        assert_eq!(odd.masked_json(None), REDACTED);
        assert_eq!(odd.masked_json(Some(&MESSAGE_ID)), "…");
        assert_eq!(String::from("42").masked_json(Some(&MESSAGE_ID)), "42");
        assert_eq!(Some(odd.clone()).masked_json(None), REDACTED);
        assert_eq!(None::<String>.masked_json(None), Value::Null);
        assert_eq!(
            vec![odd.clone()].masked_json(None),
            serde_json::json!([REDACTED])
        );
        assert_eq!(Box::new(odd).masked_json(None), REDACTED);
        assert_eq!(Some(7_i64).shown(), 7);
        assert_eq!(vec![true].shown(), serde_json::json!([true]));
        assert_eq!(super::super::Sensitive::from("Ada").shown(), REDACTED);
        let dob = chrono::NaiveDate::from_ymd_opt(1955, 6, 2).unwrap();
        assert_eq!(dob.masked_json(None), REDACTED);
    }
}
