//! `Debug` of what may be shown: the generated types' (their [`Shown`](super::Shown) value), and
//! a base URL's (its scheme and host).

use std::fmt;

use serde_json::Value;

use super::REDACTED;

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

/// The `Debug` of a generated type (the impls `build.rs` writes): its [`Shown`](super::Shown)
/// value, as Rust prints a struct (`MessageStatus { id: "123", status: {response: "delivered"},
/// .. }`), so that `Debug` and `hero` show one policy, written once. `null` prints as `None`.
pub(crate) fn fmt_shown(f: &mut fmt::Formatter<'_>, name: &str, shown: &Value) -> fmt::Result {
    match shown {
        Value::Object(fields) => {
            let mut s = f.debug_struct(name);
            for (key, value) in fields {
                s.field(key, &AsDebug(value));
            }
            s.finish()
        }
        other => f.debug_tuple(name).field(&AsDebug(other)).finish(),
    }
}

/// A shown JSON value in `Debug`'s notation.
struct AsDebug<'a>(&'a Value);

impl fmt::Debug for AsDebug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Null => f.write_str("None"),
            Value::Bool(b) => fmt::Debug::fmt(b, f),
            Value::Number(n) => fmt::Display::fmt(n, f),
            Value::String(s) => fmt::Debug::fmt(s, f),
            Value::Array(items) => f.debug_list().entries(items.iter().map(AsDebug)).finish(),
            Value::Object(fields) => {
                let mut map = f.debug_map();
                for (key, value) in fields {
                    map.key(&format_args!("{key}")).value(&AsDebug(value));
                }
                map.finish()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_the_shown_value_as_rust_prints_a_struct() {
        struct T(Value);
        impl fmt::Debug for T {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt_shown(f, "T", &self.0)
            }
        }
        let shown = serde_json::json!({
            "id": "123", "n": 7, "name": REDACTED, "ok": true, "sent": null,
            "status": {"response": "delivered"}, "to": ["…"],
        });
        assert_eq!(
            format!("{:?}", T(shown.clone())),
            r#"T { id: "123", n: 7, name: "<redacted>", ok: true, sent: None, status: {response: "delivered"}, to: ["…"] }"#
        );
        assert!(
            format!("{:#?}", T(shown))
                .contains("\n    status: {\n        response: \"delivered\",\n")
        );
        assert_eq!(
            format!("{:?}", T(Value::from(REDACTED))),
            r#"T("<redacted>")"#
        );
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
