//! Request bodies and responses: which statuses, their headers and their bodies' schemas.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{
    Differ, Dir, Fact,
    media::{essence, essences},
    names,
};
use crate::{Class, normal::deref};

impl Differ<'_> {
    pub(super) fn request_body(&mut self, loc: &str, o: &Value, n: &Value, ours: Option<&Value>) {
        let bloc = format!("{loc} request body");
        let body = |doc: &Value, op: &Value| op.get("requestBody").map(|b| deref(doc, b).0);
        let ours_body = self.ours.zip(ours).and_then(|(doc, op)| body(doc, op));
        let ours_required = ours_body.as_ref().map(|b| b["required"] == true);
        match (body(self.old, o), body(self.new, n)) {
            (Some(_), None) => self.push(
                Class::Warning,
                &bloc,
                Fact::Removed("the request body".into()),
                "",
            ),
            (None, Some(b)) => {
                let required = b["required"] == true;
                let class = if required && ours_required != Some(true) {
                    Class::Breaking
                } else {
                    Class::Info
                };
                let what = if required {
                    "a required request body"
                } else {
                    "an optional request body"
                };
                self.push(class, &bloc, Fact::Added(what.into()), "");
            }
            (Some(a), Some(b)) => {
                self.required(
                    &bloc,
                    Dir::Request,
                    a["required"] == true,
                    b["required"] == true,
                    ours_required,
                );
                let (ka, kb) = (essences(&a["content"]), essences(&b["content"]));
                let sent = ours_body
                    .as_ref()
                    .and_then(|x| Self::media(&x["content"], None))
                    .map(|m| essence(&m));
                self.media_changes(&bloc, &ka, &kb, |m| {
                    let (class, note) = match &sent {
                        Some(s) if s != m => (Class::Info, " (our client does not send it)"),
                        Some(_) => (Class::Breaking, " (our client sends it)"),
                        None => (Class::Breaking, ""),
                    };
                    (class, note.to_owned())
                });
                let (ma, mb) = (
                    Self::media(&a["content"], sent.as_deref()),
                    Self::media(&b["content"], sent.as_deref()),
                );
                if let (Some(ma), Some(mb)) = (ma, mb) {
                    let ours_schema = ours_body.as_ref().and_then(|x| {
                        Self::media(&x["content"], None).map(|m| x["content"][m]["schema"].clone())
                    });
                    self.schema(
                        Dir::Request,
                        &bloc,
                        &a["content"][ma]["schema"],
                        &b["content"][mb]["schema"],
                        ours_schema.as_ref(),
                    );
                }
            }
            (None, None) => {}
        }
    }

    pub(super) fn responses(&mut self, loc: &str, o: &Value, n: &Value, ours: Option<&Value>) {
        let codes = |op: &Value| -> BTreeSet<String> {
            op["responses"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.keys().cloned())
                .collect()
        };
        let success = |c: &String| c.starts_with('2');
        let (ca, cb) = (codes(o), codes(n));
        let ours_codes = ours.map(codes);
        let accept = self.accept(o, ours);
        let accepts = |code: &str| -> Option<bool> {
            ours_codes.as_ref().map(|set| {
                set.contains(code) || set.contains(&format!("{}XX", &code[..1.min(code.len())]))
            })
        };
        for code in ca.union(&cb) {
            let rloc = format!("{loc} response {code}");
            let what = |s: &str| format!("{s} response");
            match (ca.contains(code), cb.contains(code)) {
                (true, false) if success(code) => {
                    let others: BTreeSet<String> = cb
                        .iter()
                        .filter(|c| success(c) && accepts(c) == Some(true))
                        .cloned()
                        .collect();
                    let (class, note) = if others.is_empty() {
                        (Class::Breaking, String::new())
                    } else {
                        (
                            Class::Info,
                            format!(" (our client accepts {})", names(&others)),
                        )
                    };
                    self.push(class, &rloc, Fact::Removed(what("the success")), &note);
                }
                (true, false) => {
                    self.push(Class::Info, &rloc, Fact::Removed(what("the error")), "")
                }
                (false, true) if success(code) => {
                    let (class, note) = match accepts(code) {
                        Some(true) => (Class::Info, " (our client accepts it)"),
                        Some(false) => (Class::Breaking, " (our client does not accept it)"),
                        None => (Class::Warning, ""),
                    };
                    self.push(class, &rloc, Fact::Added(what("a success")), note);
                }
                (false, true) => self.push(Class::Info, &rloc, Fact::Added(what("an error")), ""),
                _ => {
                    let resp = |doc: &Value, op: &Value| deref(doc, &op["responses"][code]).0;
                    let (a, b) = (resp(self.old, o), resp(self.new, n));
                    let ours_schema = self.ours.zip(ours).and_then(|(doc, op)| {
                        let r = resp(doc, op);
                        Self::media(&r["content"], None).map(|m| r["content"][m]["schema"].clone())
                    });
                    self.media_types(&rloc, success(code), &a, &b, accept);
                    self.headers(&rloc, &a, &b, ours.map(|op| &op["responses"][code]));
                    let (ma, mb) = (
                        Self::media(&a["content"], None),
                        Self::media(&b["content"], None),
                    );
                    match (ma, mb) {
                        (Some(ma), Some(mb)) => self.schema(
                            Dir::Response,
                            &rloc,
                            &a["content"][ma]["schema"],
                            &b["content"][mb]["schema"],
                            ours_schema.as_ref(),
                        ),
                        (None, Some(_)) => self.push(
                            Class::Warning,
                            &rloc,
                            Fact::Added("a response body".into()),
                            "",
                        ),
                        (Some(_), None) if success(code) => self.push(
                            Class::Breaking,
                            &rloc,
                            Fact::Removed("the response body".into()),
                            "",
                        ),
                        _ => {}
                    }
                }
            }
        }
    }

    /// A response's headers, by name in lower case (`Content-Type` is left out, as OpenAPI says).
    fn headers(&mut self, loc: &str, a: &Value, b: &Value, ours: Option<&Value>) {
        let headers = |doc: &Value, r: &Value| -> BTreeMap<String, (String, Value)> {
            r["headers"]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("content-type"))
                .map(|(k, h)| (k.to_lowercase(), (k.clone(), deref(doc, h).0)))
                .collect()
        };
        let (ha, hb) = (headers(self.old, a), headers(self.new, b));
        let hours = self
            .ours
            .zip(ours)
            .map(|(doc, r)| headers(doc, &deref(doc, r).0));
        let keys: BTreeSet<&String> = ha.keys().chain(hb.keys()).collect();
        for key in keys {
            let name = ha
                .get(key)
                .or(hb.get(key))
                .map(|h| h.0.clone())
                .unwrap_or_default();
            let hloc = format!("{loc} header {name}");
            let ours_h = hours.as_ref().and_then(|h| h.get(key)).map(|h| &h.1);
            let ours_required = hours
                .as_ref()
                .map(|_| ours_h.is_some_and(|h| h["required"] == true));
            match (ha.get(key), hb.get(key)) {
                (Some(_), None) => {
                    let (class, note) = match (ours_required, ours_h) {
                        (Some(true), _) => (Class::Breaking, " (our client requires it)"),
                        (_, Some(_)) => (Class::Warning, " (our client reads it)"),
                        _ => (Class::Info, ""),
                    };
                    self.push(class, &hloc, Fact::Removed("the header".into()), note);
                }
                (None, Some(_)) => {
                    self.push(Class::Info, &hloc, Fact::Added("a header".into()), "")
                }
                (Some((_, x)), Some((_, y))) => {
                    self.required(
                        &hloc,
                        Dir::Response,
                        x["required"] == true,
                        y["required"] == true,
                        ours_required,
                    );
                    self.deprecated(&hloc, x, y);
                    self.text = true;
                    self.schema(
                        Dir::Response,
                        &hloc,
                        &x["schema"],
                        &y["schema"],
                        ours_h.map(|h| &h["schema"]),
                    );
                    self.text = false;
                }
                (None, None) => {}
            }
        }
    }
}
