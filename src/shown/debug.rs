//! `Debug` by declared type for the generated types (the impls `build.rs` writes): text is
//! masked unless the spec declares the field an id, and an id is shown only in its kind's
//! declared form; a base URL by its scheme and host.

use super::{REDACTED, ids::IdForm};

/// A base URL as `Debug` may show it: an `http(s)` URL with a host, by its scheme, host and port,
/// every part that may hold a secret (user info, a path other than `/`, a query, a fragment)
/// masked; `None` for anything else (not a URL, another scheme, no host).
pub(crate) fn shown_url(text: &str) -> Option<String> {
    let url = url::Url::parse(text.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str().filter(|h| !h.is_empty())?;
    let mut shown = format!("{}://", url.scheme());
    if !url.username().is_empty() || url.password().is_some() {
        shown.push_str(REDACTED);
        shown.push('@');
    }
    shown.push_str(host);
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push('/');
    if !matches!(url.path(), "" | "/") {
        shown.push_str(REDACTED);
    }
    if url.query().is_some() {
        shown.push('?');
        shown.push_str(REDACTED);
    }
    if url.fragment().is_some() {
        shown.push('#');
        shown.push_str(REDACTED);
    }
    Some(shown)
}

/// How a value of a generated type prints in a masked `Debug` (the impls `build.rs` writes):
/// its shape only (`None`, `Some(<redacted>)`, a list of masked items), or, for an id, the id
/// when it has its kind's declared form.
pub(crate) trait MaskedDebug {
    /// Prints the value masked; `as_id`: the declared form of the id it holds.
    fn fmt_masked(&self, f: &mut std::fmt::Formatter<'_>, as_id: AsId) -> std::fmt::Result;
}

/// The declared form of the id a field holds, or `None` for a field that holds no id.
pub(crate) type AsId = Option<&'static IdForm>;

impl MaskedDebug for String {
    fn fmt_masked(&self, f: &mut std::fmt::Formatter<'_>, as_id: AsId) -> std::fmt::Result {
        match as_id {
            Some(form) => write!(f, "{:?}", form.shown(self)),
            None => f.write_str(REDACTED),
        }
    }
}

impl<T: MaskedDebug> MaskedDebug for Option<T> {
    fn fmt_masked(&self, f: &mut std::fmt::Formatter<'_>, as_id: AsId) -> std::fmt::Result {
        match self {
            None => f.write_str("None"),
            Some(v) => f.debug_tuple("Some").field(&Shape(v, as_id)).finish(),
        }
    }
}

impl<T: MaskedDebug> MaskedDebug for Vec<T> {
    fn fmt_masked(&self, f: &mut std::fmt::Formatter<'_>, as_id: AsId) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|v| Shape(v, as_id)))
            .finish()
    }
}

impl<T: MaskedDebug> MaskedDebug for Box<T> {
    fn fmt_masked(&self, f: &mut std::fmt::Formatter<'_>, as_id: AsId) -> std::fmt::Result {
        (**self).fmt_masked(f, as_id)
    }
}

/// Values that are masked whole, whatever `as_id` says.
macro_rules! masked_whole {
    ($($t:ty),+) => {$(
        impl MaskedDebug for $t {
            fn fmt_masked(&self, f: &mut std::fmt::Formatter<'_>, _: AsId) -> std::fmt::Result {
                f.write_str(REDACTED)
            }
        }
    )+};
}
masked_whole!(
    chrono::DateTime<chrono::Utc>,
    chrono::NaiveDate,
    serde_json::Value,
    serde_json::Map<String, serde_json::Value>
);

impl<K, V> MaskedDebug for std::collections::HashMap<K, V> {
    fn fmt_masked(&self, f: &mut std::fmt::Formatter<'_>, _: AsId) -> std::fmt::Result {
        write!(f, "{{{} entries: {}}}", self.len(), REDACTED)
    }
}

impl<K, V> MaskedDebug for std::collections::BTreeMap<K, V> {
    fn fmt_masked(&self, f: &mut std::fmt::Formatter<'_>, _: AsId) -> std::fmt::Result {
        write!(f, "{{{} entries: {}}}", self.len(), REDACTED)
    }
}

struct Shape<'a, T: ?Sized>(&'a T, AsId);

impl<T: MaskedDebug + ?Sized> std::fmt::Debug for Shape<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt_masked(f, self.1)
    }
}

/// A field of a generated type printed masked (see [`MaskedDebug`]).
pub(crate) struct Masked<'a, T: ?Sized>(pub(crate) &'a T);

impl<T: MaskedDebug + ?Sized> std::fmt::Debug for Masked<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt_masked(f, None)
    }
}

/// An id field of a generated type: the id when it has its kind's declared form, else `…`.
pub(crate) struct Id<'a, T: ?Sized>(pub(crate) &'a T, pub(crate) &'static IdForm);

impl<T: MaskedDebug + ?Sized> std::fmt::Debug for Id<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt_masked(f, Some(self.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::MESSAGE_ID;

    #[test]
    fn fields_print_by_their_declared_type() {
        let id = String::from("123");
        let odd = String::from("Zebedee_Quenby_19550602");
        assert_eq!(format!("{:?}", Id(&id, &MESSAGE_ID)), "\"123\"");
        assert_eq!(format!("{:?}", Id(&odd, &MESSAGE_ID)), "…");
        assert_eq!(format!("{:?}", Masked(&id)), REDACTED);
        assert_eq!(
            format!("{:?}", Id(&Some(id.clone()), &MESSAGE_ID)),
            "Some(\"123\")"
        );
        assert_eq!(format!("{:?}", Id(&vec![odd.clone()], &MESSAGE_ID)), "[…]");
        assert_eq!(format!("{:?}", Masked(&Box::new(odd.clone()))), REDACTED);
        assert_eq!(format!("{:?}", Masked(&None::<String>)), "None");
        let map: std::collections::HashMap<String, String> = [(odd.clone(), odd)].into();
        assert_eq!(format!("{:?}", Masked(&map)), "{1 entries: <redacted>}");
    }

    #[test]
    fn a_url_shows_its_scheme_host_and_port_only() {
        assert_eq!(
            shown_url("https://u:p@api.example.org:8443/v1/x?name=Ada#f").as_deref(),
            Some("https://<redacted>@api.example.org:8443/<redacted>?<redacted>#<redacted>")
        );
        assert_eq!(
            shown_url(" http://127.0.0.1/ ").as_deref(),
            Some("http://127.0.0.1/")
        );
        assert_eq!(shown_url("ftp://example.org/"), None);
        assert_eq!(shown_url("Zebedee Quenby"), None);
    }
}
