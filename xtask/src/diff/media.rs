//! Media types, by what goes on the wire: the `Content-Type` our client sends with a body, and the
//! `Accept` it sends for an answer. A server that negotiates answers 406 to an `Accept` it no
//! longer lists, and 415 to a `Content-Type`, whatever our decoder could have read.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Differ, Fact};
use crate::{Class, normal::deref};

/// What progenitor's generated call sends as `Accept` when the operation's success answer is typed.
pub(super) const JSON: &str = "application/json";

/// A media type as matched: lower case, its parameters (`; charset=utf-8`) left out.
pub(super) fn essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_lowercase()
}

/// Whether a media type (an essence) is JSON: `application/json`, or a `+json` type.
pub(super) fn is_json(essence: &str) -> bool {
    essence == JSON || essence.ends_with("+json")
}

/// Whether a media type an answer is listed under (an essence, maybe a range: `*/*`,
/// `application/*`) matches what `accept` asks for.
fn listed(accept: &str, essence: &str) -> bool {
    let (kind, _) = accept.split_once('/').unwrap_or((accept, ""));
    essence == accept || essence == "*/*" || essence == format!("{kind}/*")
}

/// The only item of `items`, if there is exactly one.
fn one<'a>(mut items: impl Iterator<Item = &'a String>) -> Option<String> {
    match (items.next(), items.next()) {
        (Some(x), None) => Some(x.clone()),
        _ => None,
    }
}

/// The essences of a `content` map's media types.
pub(super) fn essences(content: &Value) -> BTreeSet<String> {
    content
        .as_object()
        .into_iter()
        .flat_map(|m| m.keys().map(|k| essence(k)))
        .collect()
}

impl Differ<'_> {
    /// The media type whose schema is compared, as written: the one whose essence is `prefer`,
    /// else JSON, else the first.
    pub(super) fn media(content: &Value, prefer: Option<&str>) -> Option<String> {
        let m = content.as_object()?;
        prefer
            .and_then(|p| m.keys().find(|k| essence(k) == p).cloned())
            .or_else(|| m.keys().find(|k| essence(k) == JSON).cloned())
            .or_else(|| m.keys().find(|k| is_json(&essence(k))).cloned())
            .or_else(|| m.keys().next().cloned())
    }

    /// The `Accept` our client sends for an operation (`ours`, else Hero's old `old`): progenitor's
    /// call sends `application/json` when a success answer is typed, which it is when
    /// `openapi.yaml` gives one an `application/json` body; no `Accept` otherwise.
    pub(super) fn accept(&self, old: &Value, ours: Option<&Value>) -> Option<&'static str> {
        let (doc, op) = self.ours.zip(ours).unwrap_or((self.old, old));
        let typed = op["responses"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(code, _)| code.starts_with('2'))
            .any(|(_, r)| {
                deref(doc, r).0["content"].as_object().is_some_and(|c| {
                    c.keys()
                        .any(|k| k == JSON || k.starts_with("application/json;"))
                })
            });
        typed.then_some(JSON)
    }

    /// A response's media types by essence, judged by the `Accept` our client sends: a success
    /// answer whose media types no longer list it breaks every call.
    pub(super) fn media_types(
        &mut self,
        loc: &str,
        success: bool,
        a: &Value,
        b: &Value,
        accept: Option<&str>,
    ) {
        let (ka, kb) = (essences(&a["content"]), essences(&b["content"]));
        let exact = |set: &BTreeSet<String>, wanted: &str| set.iter().any(|m| m == wanted);
        let any = |set: &BTreeSet<String>, wanted: &str| set.iter().any(|m| listed(wanted, m));
        self.media_changes(loc, &ka, &kb, |_| match accept {
            _ if !success => (Class::Info, String::new()),
            None => (
                Class::Info,
                " (our client reads no body and sends no Accept)".to_owned(),
            ),
            Some(wanted) if exact(&kb, wanted) => (
                Class::Info,
                format!(" (our client sends `Accept: {wanted}`, which Hero still lists)"),
            ),
            Some(wanted) if any(&kb, wanted) => (
                Class::Warning,
                format!(
                    " (our client sends `Accept: {wanted}`, which only a range still lists: the \
                     body may no longer be JSON)"
                ),
            ),
            Some(wanted) if !any(&ka, wanted) => (
                Class::Info,
                format!(" (Hero listed no `{wanted}` before either)"),
            ),
            Some(wanted) => (
                Class::Breaking,
                format!(
                    " (our client sends `Accept: {wanted}`, which Hero no longer lists: a server \
                     that negotiates answers 406)"
                ),
            ),
        });
    }

    /// Media types removed and added (by essence), judged by `judge`; one change when one
    /// replaces another.
    pub(super) fn media_changes(
        &mut self,
        loc: &str,
        ka: &BTreeSet<String>,
        kb: &BTreeSet<String>,
        judge: impl Fn(&String) -> (Class, String),
    ) {
        if let (Some(from), Some(to)) = (one(ka.difference(kb)), one(kb.difference(ka))) {
            let (class, note) = judge(&from);
            let fact = Fact::Changed(
                "the media type".into(),
                format!("`{from}`"),
                format!("`{to}`"),
            );
            self.push(class, loc, fact, &note);
            return;
        }
        for m in ka.difference(kb) {
            let (class, note) = judge(m);
            self.push(
                class,
                loc,
                Fact::Removed(format!("media type `{m}`")),
                &note,
            );
        }
        for m in kb.difference(ka) {
            self.push(
                Class::Info,
                loc,
                Fact::Added(format!("media type `{m}`")),
                "",
            );
        }
    }
}
