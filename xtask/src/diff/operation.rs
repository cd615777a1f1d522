//! The operation-level comparisons: parameters, bodies, responses, security, deprecation.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{Differ, Dir, Fact, names};
use crate::{
    Class,
    normal::{deref, norm},
    subset::{Operation, path_item, path_params},
};

impl Differ<'_> {
    pub(super) fn deprecated(&mut self, loc: &str, a: &Value, b: &Value) {
        let fact = |x: &str, y: &str| Fact::Changed("it".into(), x.into(), y.into());
        match (a["deprecated"] == true, b["deprecated"] == true) {
            (false, true) => {
                let sunset = b["x-sunset"]
                    .as_str()
                    .map(|d| format!(" (sunset {d})"))
                    .unwrap_or_default();
                self.push(
                    Class::Warning,
                    loc,
                    fact("not deprecated", "deprecated"),
                    &sunset,
                );
            }
            (true, false) => self.push(Class::Info, loc, fact("deprecated", "not deprecated"), ""),
            _ => {}
        }
    }

    /// An operation's parameters with the path item's, resolved, keyed by `(in, name)`; path
    /// parameters by their position in the path, so that a renamed one is the same parameter;
    /// headers by their name in lower case (HTTP header names are case-insensitive). `Accept`,
    /// `Content-Type` and `Authorization` headers are left out, as OpenAPI says they are ignored.
    pub(super) fn params(
        doc: &Value,
        op: &Operation,
        value: &Value,
    ) -> BTreeMap<(String, String), (String, Value)> {
        let item = path_item(doc, &doc["paths"][&op.path]);
        let order = path_params(&op.path);
        let mut out = BTreeMap::new();
        for p in item["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(value["parameters"].as_array().into_iter().flatten())
        {
            let (p, _) = deref(doc, p);
            let (Some(place), Some(name)) = (p["in"].as_str(), p["name"].as_str()) else {
                continue;
            };
            let key = match order.iter().position(|x| x == name) {
                Some(i) if place == "path" => format!("#{i}"),
                _ if place == "header" => {
                    let lower = name.to_lowercase();
                    if ["accept", "content-type", "authorization"].contains(&lower.as_str()) {
                        continue;
                    }
                    lower
                }
                _ => name.to_owned(),
            };
            out.insert((place.to_owned(), key), (name.to_owned(), p));
        }
        out
    }

    pub(super) fn parameters(
        &mut self,
        loc: &str,
        (o_op, o): (&Operation, &Value),
        (n_op, n): (&Operation, &Value),
        ours: Option<(&Operation, &Value)>,
    ) {
        let (po, pn) = (
            Self::params(self.old, o_op, o),
            Self::params(self.new, n_op, n),
        );
        let pours = self
            .ours
            .zip(ours)
            .map(|(doc, (op, v))| Self::params(doc, op, v))
            .unwrap_or_default();
        let keys: BTreeSet<_> = po.keys().chain(pn.keys()).cloned().collect();
        for key in keys {
            let name = po.get(&key).or(pn.get(&key)).map(|p| p.0.clone());
            let ploc = format!("{loc} parameter {} {}", key.0, name.unwrap_or_default());
            let ours_p = pours.get(&key).map(|p| &p.1);
            let ours_required = ours_p.map(|p| p["required"] == true);
            match (po.get(&key), pn.get(&key)) {
                (Some(_), None) => self.push(
                    Class::Warning,
                    &ploc,
                    Fact::Removed("the parameter".into()),
                    " (the client may still send it)",
                ),
                (None, Some((_, p))) if p["required"] == true => {
                    let (class, note) = if ours_required == Some(true) {
                        (Class::Info, " (our client already sends it)")
                    } else {
                        (Class::Breaking, "")
                    };
                    self.push(
                        class,
                        &ploc,
                        Fact::Added("a required parameter".into()),
                        note,
                    );
                }
                (None, Some(_)) => self.push(
                    Class::Info,
                    &ploc,
                    Fact::Added("an optional parameter".into()),
                    "",
                ),
                (Some((_, a)), Some((_, b))) => {
                    self.required(
                        &ploc,
                        Dir::Request,
                        a["required"] == true,
                        b["required"] == true,
                        ours_required,
                    );
                    self.deprecated(&ploc, a, b);
                    self.style(&ploc, key.0.as_str(), a, b, ours_p);
                    let ours_schema = ours_p.map(|p| &p["schema"]);
                    self.text = true;
                    self.schema(Dir::Request, &ploc, &a["schema"], &b["schema"], ours_schema);
                    self.text = false;
                }
                (None, None) => {}
            }
        }
    }

    /// A flag `required` going from `a` to `b`, judged by ours (`ours_required`) when known.
    pub(super) fn required(
        &mut self,
        loc: &str,
        dir: Dir,
        a: bool,
        b: bool,
        ours_required: Option<bool>,
    ) {
        let fact = |x: &str, y: &str| Fact::Changed("it".into(), x.into(), y.into());
        match (a, b, dir) {
            (false, true, Dir::Request) => {
                let (class, note) = if ours_required == Some(true) {
                    (Class::Info, " (our client already always sends it)")
                } else {
                    (Class::Breaking, "")
                };
                self.push(class, loc, fact("optional", "required"), note);
            }
            (true, false, Dir::Response) => {
                let (class, note) = match ours_required {
                    Some(false) => (Class::Info, " (our client does not require it)"),
                    _ => (Class::Breaking, " (our client requires it)"),
                };
                self.push(class, loc, fact("required", "optional"), note);
            }
            (false, true, Dir::Response) => {
                self.push(Class::Info, loc, fact("optional", "required"), "")
            }
            (true, false, Dir::Request) => {
                self.push(Class::Info, loc, fact("required", "optional"), "")
            }
            _ => {}
        }
    }

    /// How an array or object parameter is serialised.
    pub(super) fn style(
        &mut self,
        loc: &str,
        place: &str,
        a: &Value,
        b: &Value,
        ours: Option<&Value>,
    ) {
        let effective = |p: &Value| {
            let style = p["style"].as_str().map_or_else(
                || match place {
                    "query" | "cookie" => "form".to_owned(),
                    _ => "simple".to_owned(),
                },
                str::to_owned,
            );
            let explode = p["explode"].as_bool().unwrap_or(style == "form");
            let explode = if explode { "explode" } else { "no explode" };
            format!("style {style}, {explode}")
        };
        let (x, y) = (effective(a), effective(b));
        if x == y {
            return;
        }
        let compound = |p: &Value, doc: &Value| {
            let n = norm(doc, &p["schema"]);
            n.types.contains("array") || n.types.contains("object")
        };
        if !compound(a, self.old) && !compound(b, self.new) {
            return;
        }
        let (class, note) = if ours.is_some_and(|p| effective(p) == y) {
            (Class::Info, " (our client already sends it so)")
        } else {
            (Class::Breaking, " (our client sends the old form)")
        };
        self.push(
            class,
            loc,
            Fact::Changed("its serialisation".into(), x, y),
            note,
        );
    }

    /// The media type whose schema is compared, as written: the one whose essence is `prefer`,
    /// else JSON, else the first.
    pub(super) fn media(content: &Value, prefer: Option<&str>) -> Option<String> {
        let m = content.as_object()?;
        prefer
            .and_then(|p| m.keys().find(|k| essence(k) == p).cloned())
            .or_else(|| m.keys().find(|k| essence(k) == "application/json").cloned())
            .or_else(|| m.keys().find(|k| is_json(&essence(k))).cloned())
            .or_else(|| m.keys().next().cloned())
    }

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
                    let ours_reads = self.ours.zip(ours).map(|(doc, op)| {
                        resp(doc, op)["content"]
                            .as_object()
                            .is_some_and(|m| !m.is_empty())
                    });
                    self.media_types(&rloc, success(code), &a, &b, ours_reads);
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

    /// A response's media types by essence. Our decoder reads JSON (`application/json` and its
    /// other names, `+json` types) whatever the media type's parameters: a success response
    /// with no JSON type left breaks it.
    fn media_types(
        &mut self,
        loc: &str,
        success: bool,
        a: &Value,
        b: &Value,
        ours_reads: Option<bool>,
    ) {
        let (ka, kb) = (essences(&a["content"]), essences(&b["content"]));
        let json_left: Vec<&String> = kb.iter().filter(|m| is_json(m)).collect();
        let wildcard = kb.iter().any(|m| m == "*/*" || m == "application/*");
        self.media_changes(loc, &ka, &kb, |m| match () {
            _ if !success => (Class::Info, String::new()),
            _ if ours_reads == Some(false) => {
                (Class::Info, " (our client reads no body)".to_owned())
            }
            _ if !is_json(m) => (Class::Info, String::new()),
            _ if !json_left.is_empty() => (
                Class::Info,
                format!(
                    " (our client reads {} as JSON)",
                    json_left
                        .iter()
                        .map(|x| format!("`{x}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            _ if wildcard => (
                Class::Warning,
                " (the body may no longer be JSON)".to_owned(),
            ),
            _ => (Class::Breaking, " (our client reads JSON only)".to_owned()),
        });
    }

    /// Media types removed and added (by essence), judged by `judge`; one change when one
    /// replaces another.
    fn media_changes(
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

/// A media type by meaning: in lower case, its parameters (`; charset=utf-8`) left out, and the
/// other names of JSON (`text/json`, `application/x-json`) as `application/json`.
pub(super) fn essence(media: &str) -> String {
    let e = media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    match e.as_str() {
        "text/json" | "text/x-json" | "application/x-json" => "application/json".to_owned(),
        _ => e,
    }
}

/// Whether our decoder reads a media type (an essence): JSON, under any `+json` name.
pub(super) fn is_json(essence: &str) -> bool {
    essence == "application/json" || essence.ends_with("+json")
}

/// The only item of `items`, if there is exactly one.
fn one<'a>(mut items: impl Iterator<Item = &'a String>) -> Option<String> {
    match (items.next(), items.next()) {
        (Some(x), None) => Some(x.clone()),
        _ => None,
    }
}

/// The essences of a `content` map's media types.
fn essences(content: &Value) -> BTreeSet<String> {
    content
        .as_object()
        .into_iter()
        .flat_map(|m| m.keys().map(|k| essence(k)))
        .collect()
}
