//! The schema comparisons: types, limits, allowed values, properties and alternatives, with the
//! recursion bound.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Differ, Dir, Fact, limit_value, names, tighter};
use crate::{
    Class,
    normal::{ASSERTIONS, Norm, mapping_ref, meaning, meaning_of, meaning_of_norm, norm, show},
};

/// Whether the types `big` allow every value of the types `small` (a number includes every
/// integer). Empty means any type.
fn covers(big: &BTreeSet<String>, small: &BTreeSet<String>) -> bool {
    big.is_empty()
        || (!small.is_empty()
            && small
                .iter()
                .all(|t| big.contains(t) || (t == "integer" && big.contains("number"))))
}

/// A value as a report shows it, cut short.
fn brief(v: Option<&Value>) -> String {
    let Some(v) = v else {
        return "none".to_owned();
    };
    let text = show(v);
    if text.chars().count() > 60 {
        format!("{}…`", text.chars().take(58).collect::<String>())
    } else {
        text
    }
}

impl Differ<'_> {
    pub(super) fn open_enum(&self, ours: Option<&Value>) -> bool {
        let Some(doc) = self.ours else { return false };
        let mut s = ours.cloned();
        for _ in 0..8 {
            let Some(v) = s else { return false };
            if v[crate::dialect::RUST_TYPE]
                .as_str()
                .is_some_and(|t| t.starts_with("crate::enums::"))
            {
                return true;
            }
            s = if let Some(r) = v["$ref"].as_str() {
                crate::subset::pointer(doc, r).cloned()
            } else if let Some([one]) = v["allOf"].as_array().map(Vec::as_slice) {
                Some(one.clone())
            } else {
                None
            };
        }
        false
    }

    pub(super) fn schema(
        &mut self,
        dir: Dir,
        loc: &str,
        a: &Value,
        b: &Value,
        ours: Option<&Value>,
    ) {
        if self.budget == 0 {
            return;
        }
        self.budget -= 1;
        let (na, nb) = (norm(self.old, a), norm(self.new, b));
        let key = (na.refs.join(" "), nb.refs.join(" "));
        let recursive = !(key.0.is_empty() && key.1.is_empty()) && self.stack.contains(&key);
        if recursive {
            return;
        }
        let open = self.open_enum(ours);
        let no = self.ours.zip(ours).map(|(doc, s)| norm(doc, s));
        self.stack.push(key);
        self.compare(dir, loc, &na, &nb, no.as_ref(), open);
        self.stack.pop();
    }

    pub(super) fn compare(
        &mut self,
        dir: Dir,
        loc: &str,
        a: &Norm,
        b: &Norm,
        ours: Option<&Norm>,
        open: bool,
    ) {
        let types = |n: &Norm| {
            if n.types.is_empty() {
                "any".to_owned()
            } else {
                names(&n.types)
            }
        };
        let text = std::mem::take(&mut self.text);
        // Alternatives on one side only carry their own types: `variants` judges that.
        let alternatives = |n: &Norm| n.types.is_empty() && n.variants.is_some();
        if a.types != b.types && !alternatives(a) && !alternatives(b) {
            // What our client sends (a request) or reads (a response): openapi.yaml's types, else
            // Hero's old ones.
            let ours_types = ours.map_or(&a.types, |o| &o.types);
            let (class, note) = if ours.is_some_and(|o| o.types == b.types) {
                (Class::Info, " (openapi.yaml already has it so)")
            } else if a.types.is_empty() || b.types.is_empty() {
                (Class::Warning, "")
            } else if dir == Dir::Request && covers(&b.types, ours_types) {
                (Class::Info, " (what our client sends is still allowed)")
            } else if dir == Dir::Request && text && b.types.contains("string") {
                (Class::Info, " (sent as text, which is still allowed)")
            } else if dir == Dir::Response && text && ours_types.contains("string") {
                (Class::Info, " (read as text, which still works)")
            } else if dir == Dir::Response && covers(ours_types, &b.types) {
                (Class::Info, " (our client reads it still)")
            } else {
                (Class::Breaking, "")
            };
            self.push(
                class,
                loc,
                Fact::Changed("the type".into(), types(a), types(b)),
                note,
            );
            // Another type, or no schema left: what was said of the old one no longer applies.
            let unconstrained = b.types.is_empty()
                && *b
                    == Norm {
                        refs: b.refs.clone(),
                        ..Norm::default()
                    };
            if !a.types.is_empty() && (!b.types.is_empty() || unconstrained) {
                return;
            }
        }
        let nullable = |x: &str, y: &str| Fact::Changed("it".into(), x.into(), y.into());
        match (a.nullable, b.nullable, dir) {
            (false, true, Dir::Response) => {
                let (class, note) = if ours.is_some_and(|o| o.nullable) {
                    (Class::Info, " (our client already accepts null)")
                } else {
                    (Class::Breaking, "")
                };
                self.push(class, loc, nullable("not nullable", "nullable"), note);
            }
            (true, false, Dir::Request) => {
                let (class, note) = if ours.is_some_and(|o| !o.nullable) {
                    (Class::Info, " (our client never sends null)")
                } else {
                    (Class::Breaking, "")
                };
                self.push(class, loc, nullable("nullable", "not nullable"), note);
            }
            (false, true, _) => {
                self.push(Class::Info, loc, nullable("not nullable", "nullable"), "")
            }
            (true, false, _) => {
                self.push(Class::Info, loc, nullable("nullable", "not nullable"), "")
            }
            _ => {}
        }
        let opt = |s: &Option<String>| s.as_deref().map_or("none".to_owned(), |x| format!("`{x}`"));
        if a.format != b.format {
            let (class, note) = if ours.is_some_and(|o| o.format == b.format) {
                (Class::Info, " (openapi.yaml already has it so)")
            } else {
                (Class::Warning, "")
            };
            self.push(
                class,
                loc,
                Fact::Changed("the format".into(), opt(&a.format), opt(&b.format)),
                note,
            );
        }
        if a.pattern != b.pattern {
            let (class, note) = match dir {
                Dir::Response => (Class::Info, ""),
                _ if b.pattern.is_none() => (Class::Info, ""),
                _ if ours.is_some_and(|o| o.pattern == b.pattern) => {
                    (Class::Info, " (openapi.yaml already checks it)")
                }
                _ => (Class::Warning, " (values our client sends may be refused)"),
            };
            self.push(
                class,
                loc,
                Fact::Changed("the pattern".into(), opt(&a.pattern), opt(&b.pattern)),
                note,
            );
        }
        self.limits(dir, loc, a, b, ours);
        self.default(dir, loc, a, b, ours);
        self.values(dir, loc, a, b, ours, open);
        self.extensible(dir, loc, a, b, ours);
        self.access(dir, loc, a, b);
        self.deprecated_schema(loc, a, b);
        self.assertions(dir, loc, a, b, ours);
        self.discriminator(loc, a, b);
        self.properties(dir, loc, a, b, ours);
        if let (Some(x), Some(y)) = (&a.items, &b.items) {
            let ours_items = ours.and_then(|o| o.items.clone());
            self.schema(dir, &format!("{loc}[]"), x, y, ours_items.as_ref());
        }
        self.variants(dir, loc, a, b, ours);
    }

    pub(super) fn deprecated_schema(&mut self, loc: &str, a: &Norm, b: &Norm) {
        let to_value = |d: bool| serde_json::json!({ "deprecated": d });
        self.deprecated(loc, &to_value(a.deprecated), &to_value(b.deprecated));
    }

    pub(super) fn limits(&mut self, dir: Dir, loc: &str, a: &Norm, b: &Norm, ours: Option<&Norm>) {
        let keys: BTreeSet<&str> = a.limits.iter().chain(&b.limits).map(|(k, _)| *k).collect();
        for key in keys {
            let (x, y) = (limit_value(a, key), limit_value(b, key));
            if x == y {
                continue;
            }
            let shown = |v: &Option<Value>| v.as_ref().map_or("none".to_owned(), show);
            let (class, note) = match dir {
                Dir::Response => (
                    Class::Info,
                    " (our client checks no limits on what it reads)",
                ),
                Dir::Request if tighter(key, x.as_ref(), y.as_ref()) => {
                    let ours_limit = ours.and_then(|o| limit_value(o, key));
                    if ours_limit.is_some() && !tighter(key, ours_limit.as_ref(), y.as_ref()) {
                        (Class::Info, " (openapi.yaml already checks it)")
                    } else {
                        (Class::Breaking, " (values our client sends may be refused)")
                    }
                }
                Dir::Request => (Class::Info, ""),
            };
            self.push(
                class,
                loc,
                Fact::Changed(format!("`{key}`"), shown(&x), shown(&y)),
                note,
            );
        }
    }

    /// `default`, of any type: what Hero assumes for a field left out.
    pub(super) fn default(&mut self, dir: Dir, loc: &str, a: &Norm, b: &Norm, ours: Option<&Norm>) {
        if a.default == b.default {
            return;
        }
        let ours_default = ours.and_then(|o| o.default.as_ref());
        let read_as = format!(
            " (our client reads a field left out as {})",
            brief(ours_default)
        );
        let (class, note) = match dir {
            Dir::Request if ours.is_some() && ours_default == b.default.as_ref() => {
                (Class::Info, " (openapi.yaml already has it)")
            }
            Dir::Request => (
                Class::Warning,
                " (what Hero assumes when our client leaves it out)",
            ),
            Dir::Response if ours_default.is_some() && ours_default != b.default.as_ref() => {
                (Class::Warning, read_as.as_str())
            }
            Dir::Response => (Class::Info, ""),
        };
        self.push(
            class,
            loc,
            Fact::Changed(
                "the default".into(),
                brief(a.default.as_ref()),
                brief(b.default.as_ref()),
            ),
            note,
        );
    }

    pub(super) fn values(
        &mut self,
        dir: Dir,
        loc: &str,
        a: &Norm,
        b: &Norm,
        ours: Option<&Norm>,
        open: bool,
    ) {
        let ours_values = ours.and_then(|o| o.values.clone());
        // Whether our client reads value `v` in a response.
        let reads = |v: &String| -> (Class, &'static str) {
            if open {
                (Class::Warning, " (our client decodes it as Unknown)")
            } else if ours.is_some() && ours_values.is_none() {
                (Class::Info, " (our client reads any text)")
            } else if ours_values.as_ref().is_some_and(|o| o.contains(v)) {
                (Class::Info, " (openapi.yaml already has it)")
            } else {
                (Class::Breaking, "")
            }
        };
        match (&a.values, &b.values) {
            (Some(ea), Some(eb)) if ea.len() == 1 && eb.len() == 1 && ea != eb => {
                // A constant (`const`, or an enum of one value) changed: one change, not two.
                let (x, y) = (names(ea), names(eb));
                let (class, note) = match dir {
                    Dir::Request if ours_values.as_ref().is_some_and(|o| o.is_subset(eb)) => {
                        (Class::Info, " (our client sends only it)")
                    }
                    Dir::Request => (Class::Breaking, ""),
                    Dir::Response => reads(&y),
                };
                self.push(class, loc, Fact::Changed("the value".into(), x, y), note);
            }
            (Some(ea), Some(eb)) => {
                for v in ea.difference(eb) {
                    let (class, note) = match dir {
                        Dir::Response => (Class::Info, ""),
                        _ if ours_values.as_ref().is_some_and(|o| !o.contains(v)) => {
                            (Class::Info, " (our client does not send it)")
                        }
                        _ => (Class::Breaking, ""),
                    };
                    self.push(class, loc, Fact::Removed(format!("enum value {v}")), note);
                }
                for v in eb.difference(ea) {
                    let (class, note) = match dir {
                        Dir::Request => (Class::Info, ""),
                        Dir::Response => reads(v),
                    };
                    self.push(class, loc, Fact::Added(format!("enum value {v}")), note);
                }
            }
            (None, Some(eb)) => {
                let (class, note) = match dir {
                    Dir::Request if ours_values.as_ref().is_some_and(|o| o.is_subset(eb)) => {
                        (Class::Info, " (openapi.yaml already allows no other)")
                    }
                    Dir::Request => (Class::Breaking, " (values our client sends may be refused)"),
                    Dir::Response => (Class::Info, ""),
                };
                let what = if eb.len() == 1 {
                    "the value"
                } else {
                    "the enum"
                };
                self.push(
                    class,
                    loc,
                    Fact::Changed(what.into(), "any".into(), names(eb)),
                    note,
                );
            }
            (Some(ea), None) => {
                let class = if dir == Dir::Response && !open && ours_values.is_some() {
                    Class::Breaking
                } else {
                    Class::Info
                };
                let what = if ea.len() == 1 {
                    "the value"
                } else {
                    "the enum"
                };
                self.push(
                    class,
                    loc,
                    Fact::Changed(what.into(), names(ea), "any".into()),
                    "",
                );
            }
            (None, None) => {}
        }
    }

    /// `x-extensible-enum`: the values Hero names, others allowed. A value our client sends that
    /// is no longer named may be refused; a new one is what the extension promises.
    pub(super) fn extensible(
        &mut self,
        dir: Dir,
        loc: &str,
        a: &Norm,
        b: &Norm,
        ours: Option<&Norm>,
    ) {
        let (ea, eb) = (
            a.extensible.clone().unwrap_or_default(),
            b.extensible.clone().unwrap_or_default(),
        );
        let sent = ours.map(|o| {
            o.values
                .iter()
                .chain(&o.extensible)
                .flatten()
                .cloned()
                .collect::<BTreeSet<_>>()
        });
        for v in ea.difference(&eb) {
            let (class, note) = match dir {
                Dir::Request if sent.as_ref().is_some_and(|s| !s.contains(v)) => {
                    (Class::Info, " (our client does not send it)")
                }
                Dir::Request => (Class::Breaking, ""),
                Dir::Response => (Class::Info, ""),
            };
            let fact = Fact::Removed(format!("x-extensible-enum value {v}"));
            self.push(class, loc, fact, note);
        }
        for v in eb.difference(&ea) {
            let fact = Fact::Added(format!("x-extensible-enum value {v}"));
            self.push(Class::Info, loc, fact, "");
        }
    }

    /// `readOnly` and `writeOnly`: Hero ignores a read-only field in a request, and never sends a
    /// write-only one in a response.
    pub(super) fn access(&mut self, dir: Dir, loc: &str, a: &Norm, b: &Norm) {
        let flag = |x: bool, word: &str| {
            if x {
                word.to_owned()
            } else {
                format!("not {word}")
            }
        };
        for (word, x, y, matters) in [
            ("read-only", a.read_only, b.read_only, Dir::Request),
            ("write-only", a.write_only, b.write_only, Dir::Response),
        ] {
            if x == y {
                continue;
            }
            let (class, note) = match (y, dir == matters, dir) {
                (true, true, Dir::Request) => (
                    Class::Warning,
                    " (Hero ignores it when our client sends it)",
                ),
                (true, true, Dir::Response) => (Class::Warning, " (Hero no longer sends it)"),
                _ => (Class::Info, ""),
            };
            let fact = Fact::Changed("it".into(), flag(x, word), flag(y, word));
            self.push(class, loc, fact, note);
        }
    }

    /// The assertion keywords compared whole ([`ASSERTIONS`]), by meaning. In a request a new or
    /// changed assertion may refuse what our client sends; in a response our types read none of
    /// them. `content*` say how Hero reads a string: a change matters both ways.
    pub(super) fn assertions(
        &mut self,
        dir: Dir,
        loc: &str,
        a: &Norm,
        b: &Norm,
        ours: Option<&Norm>,
    ) {
        for (key, kind) in ASSERTIONS {
            let m = |doc: &Value, n: &Norm| n.assertions.get(key).map(|v| meaning_of(doc, kind, v));
            let (x, y) = (m(self.old, a), m(self.new, b));
            if x == y {
                continue;
            }
            let ours_same =
                y.is_some() && self.ours.zip(ours).is_some_and(|(doc, o)| m(doc, o) == y);
            let annotation = key.starts_with("content");
            let (class, note) = match (dir, &x, &y) {
                _ if ours_same => (Class::Info, " (openapi.yaml already has it)"),
                (Dir::Request, _, _) if annotation => {
                    (Class::Warning, " (Hero reads the text another way)")
                }
                (Dir::Response, _, _) if annotation => {
                    (Class::Warning, " (Hero writes the text another way)")
                }
                (Dir::Response, _, _) => (Class::Info, " (our types do not read it)"),
                (Dir::Request, _, None) => (Class::Info, ""),
                (Dir::Request, None, Some(_)) => {
                    (Class::Breaking, " (values our client sends may be refused)")
                }
                (Dir::Request, Some(_), Some(_)) => {
                    (Class::Warning, " (values our client sends may be refused)")
                }
            };
            let fact = match (&x, &y) {
                (None, _) => Fact::Added(format!("`{key}` {}", brief(b.assertions.get(key)))),
                (_, None) => Fact::Removed(format!("`{key}`")),
                _ => Fact::Changed(
                    format!("`{key}`"),
                    brief(a.assertions.get(key)),
                    brief(b.assertions.get(key)),
                ),
            };
            self.push(class, loc, fact, note);
        }
    }

    /// `discriminator`: which property names the alternative, and which value names which
    /// schema (targets by meaning, whatever they are called).
    pub(super) fn discriminator(&mut self, loc: &str, a: &Norm, b: &Norm) {
        let parts = |doc: &Value, n: &Norm| {
            n.discriminator.as_ref().map(|d| {
                let mapping: std::collections::BTreeMap<String, Value> = d["mapping"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, t)| {
                        let target = mapping_ref(t.as_str().unwrap_or_default());
                        (
                            k.clone(),
                            meaning(doc, &serde_json::json!({ "$ref": target })),
                        )
                    })
                    .collect();
                (d["propertyName"].clone(), mapping)
            })
        };
        match (parts(self.old, a), parts(self.new, b)) {
            (None, Some(_)) => {
                self.push(Class::Info, loc, Fact::Added("a discriminator".into()), "")
            }
            (Some(_), None) => self.push(
                Class::Info,
                loc,
                Fact::Removed("the discriminator".into()),
                "",
            ),
            (Some((pa, ma)), Some((pb, mb))) => {
                if pa != pb {
                    self.push(
                        Class::Warning,
                        loc,
                        Fact::Changed("the discriminator's property".into(), show(&pa), show(&pb)),
                        " (another field now names the alternative)",
                    );
                }
                let keys: BTreeSet<&String> = ma.keys().chain(mb.keys()).collect();
                for k in keys {
                    let what = format!("the discriminator mapping `{k}`");
                    match (ma.get(k), mb.get(k)) {
                        (Some(_), None) => self.push(Class::Warning, loc, Fact::Removed(what), ""),
                        (None, Some(_)) => self.push(Class::Info, loc, Fact::Added(what), ""),
                        (Some(x), Some(y)) if x != y => self.push(
                            Class::Warning,
                            loc,
                            Fact::Changed(what, "one schema".into(), "another".into()),
                            "",
                        ),
                        _ => {}
                    }
                }
            }
            (None, None) => {}
        }
    }

    pub(super) fn properties(
        &mut self,
        dir: Dir,
        loc: &str,
        a: &Norm,
        b: &Norm,
        ours: Option<&Norm>,
    ) {
        let keys: BTreeSet<&String> = a.properties.keys().chain(b.properties.keys()).collect();
        for k in keys {
            let ploc = format!("{loc} {k}");
            let ours_prop = ours.and_then(|o| o.properties.get(k)).cloned();
            let ours_required = ours.map(|o| o.required.contains(k));
            // A property our client neither sends nor reads on both sides: info at most.
            let (pa, pb) = (a.properties.get(k), b.properties.get(k));
            let unused = |doc: &Value, p: Option<&Value>| {
                p.is_none_or(|p| {
                    let n = norm(doc, p);
                    match dir {
                        Dir::Request => n.read_only,
                        Dir::Response => n.write_only,
                    }
                })
            };
            let saved = self.cap;
            if unused(self.old, pa) && unused(self.new, pb) {
                self.cap = Some(match dir {
                    Dir::Request => " (read-only: our client does not send it)",
                    Dir::Response => " (write-only: Hero does not send it)",
                });
            }
            match (pa, pb) {
                (Some(_), None) => {
                    let required = ours_required.unwrap_or(a.required.contains(k));
                    let (class, note) = match dir {
                        Dir::Response if required => (Class::Breaking, " (our client requires it)"),
                        Dir::Response => (Class::Warning, ""),
                        Dir::Request => (Class::Warning, " (the client may still send it)"),
                    };
                    self.push(class, &ploc, Fact::Removed("the property".into()), note);
                }
                (None, Some(_)) => {
                    let (class, what, note) = match dir {
                        Dir::Request if b.required.contains(k) => {
                            if ours_required == Some(true) {
                                (
                                    Class::Info,
                                    "a required property",
                                    " (our client already sends it)",
                                )
                            } else {
                                (Class::Breaking, "a required property", "")
                            }
                        }
                        _ => (Class::Info, "a property", ""),
                    };
                    self.push(class, &ploc, Fact::Added(what.into()), note);
                }
                (Some(x), Some(y)) => {
                    let (ra, rb) = (a.required.contains(k), b.required.contains(k));
                    self.required(&ploc, dir, ra, rb, ours_required);
                    self.schema(dir, &ploc, x, y, ours_prop.as_ref());
                }
                (None, None) => {}
            }
            self.cap = saved;
        }
    }

    /// `oneOf`/`anyOf` alternatives, matched by meaning: the same alternatives in another order
    /// or under other names are no change. An alternative Hero drops from a request may be one our
    /// client sends; one Hero adds to a response is one our types may not decode.
    pub(super) fn variants(
        &mut self,
        dir: Dir,
        loc: &str,
        a: &Norm,
        b: &Norm,
        ours: Option<&Norm>,
    ) {
        let ours_meanings: Option<Vec<Value>> =
            self.ours.zip(ours).map(|(doc, o)| match &o.variants {
                Some((_, vs)) => vs.iter().map(|v| meaning(doc, v)).collect(),
                None => vec![meaning_of_norm(doc, o)],
            });
        let ours_has = |m: &Value| ours_meanings.as_ref().map(|o| o.contains(m));
        match (&a.variants, &b.variants) {
            (Some((ka, x)), Some((kb, y))) => {
                if ka != kb {
                    self.push(
                        Class::Warning,
                        loc,
                        Fact::Changed("the schema composition".into(), ka.clone(), kb.clone()),
                        "",
                    );
                }
                let mx: Vec<Value> = x.iter().map(|v| meaning(self.old, v)).collect();
                let my: Vec<Value> = y.iter().map(|v| meaning(self.new, v)).collect();
                let gone: Vec<usize> = (0..x.len()).filter(|&i| !my.contains(&mx[i])).collect();
                let came: Vec<usize> = (0..y.len()).filter(|&j| !mx.contains(&my[j])).collect();
                if gone.len() == came.len() {
                    // As many changed as before: compare them in order.
                    for (&i, &j) in gone.iter().zip(&came) {
                        let ours_v = ours
                            .and_then(|o| o.variants.as_ref())
                            .and_then(|(_, vs)| vs.get(j).cloned());
                        self.schema(
                            dir,
                            &format!("{loc} <{kb} {j}>"),
                            &x[i],
                            &y[j],
                            ours_v.as_ref(),
                        );
                    }
                    return;
                }
                for i in gone {
                    let (class, note) = match (dir, ours_has(&mx[i])) {
                        (Dir::Request, Some(false)) => {
                            (Class::Info, " (our client does not send it)")
                        }
                        (Dir::Request, _) => (Class::Breaking, " (our client may send it)"),
                        (Dir::Response, _) => (Class::Info, ""),
                    };
                    let fact = Fact::Removed(format!("alternative {i} of the {ka}"));
                    self.push(class, loc, fact, note);
                }
                for j in came {
                    let (class, note) = match (dir, ours_has(&my[j])) {
                        (Dir::Request, _) => (Class::Info, ""),
                        (Dir::Response, Some(true)) => {
                            (Class::Info, " (openapi.yaml already has it)")
                        }
                        (Dir::Response, _) => (Class::Breaking, " (our types may not decode it)"),
                    };
                    let fact = Fact::Added(format!("alternative {j} to the {kb}"));
                    self.push(class, loc, fact, note);
                }
            }
            (None, Some((k, y))) => {
                // Wrapped: the old schema may be one of the new alternatives.
                let old = meaning_of_norm(self.old, a);
                let wrapped = y.iter().any(|v| meaning(self.new, v) == old);
                let (class, note) = match (dir, wrapped) {
                    (Dir::Request, true) => {
                        (Class::Info, " (what our client sends is one of them)")
                    }
                    (Dir::Response, true)
                        if ours.is_some_and(|o| {
                            o.variants.as_ref().is_some_and(|(_, v)| v.len() >= y.len())
                        }) =>
                    {
                        (Class::Info, " (openapi.yaml already has them)")
                    }
                    (Dir::Response, true) => {
                        (Class::Breaking, " (our client decodes only the old one)")
                    }
                    _ => (Class::Warning, ""),
                };
                self.push(
                    class,
                    loc,
                    Fact::Changed(
                        "the schema composition".into(),
                        "one".into(),
                        format!("{k} of {}", y.len()),
                    ),
                    note,
                );
            }
            (Some((k, x)), None) => {
                let new = meaning_of_norm(self.new, b);
                let kept = x.iter().any(|v| meaning(self.old, v) == new);
                let (class, note) = match (dir, kept) {
                    (Dir::Response, true) => (Class::Info, " (our client decodes it)"),
                    (Dir::Request, true) if ours.is_some_and(|o| o.variants.is_none()) => {
                        (Class::Info, " (our client sends only it)")
                    }
                    (Dir::Request, true) => (Class::Breaking, " (our client may send the others)"),
                    _ => (Class::Warning, ""),
                };
                self.push(
                    class,
                    loc,
                    Fact::Changed(
                        "the schema composition".into(),
                        format!("{k} of {}", x.len()),
                        "one".into(),
                    ),
                    note,
                );
            }
            (None, None) => {}
        }
    }
}
