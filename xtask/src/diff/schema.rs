//! The schema comparisons: types, limits, allowed values, properties and alternatives, with the
//! recursion bound.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Differ, Dir, Fact, limit_value, names, tighter};
use crate::{
    Class,
    normal::{Norm, norm, show},
};

impl Differ<'_> {
    pub(super) fn open_enum(&self, ours: Option<&Value>) -> bool {
        let Some(doc) = self.ours else { return false };
        let mut s = ours.cloned();
        for _ in 0..8 {
            let Some(v) = s else { return false };
            if v["x-herohealth-rust-type"]
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
        if a.types != b.types {
            let (class, note) = if ours.is_some_and(|o| o.types == b.types) {
                (Class::Info, " (openapi.yaml already has it so)")
            } else if a.types.is_empty() || b.types.is_empty() {
                (Class::Warning, "")
            } else {
                (Class::Breaking, "")
            };
            self.push(
                class,
                loc,
                Fact::Changed("the type".into(), types(a), types(b)),
                note,
            );
            if !a.types.is_empty() && !b.types.is_empty() {
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
            self.push(
                Class::Warning,
                loc,
                Fact::Changed("the format".into(), opt(&a.format), opt(&b.format)),
                "",
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
        self.values(dir, loc, a, b, ours, open);
        self.deprecated_schema(loc, a, b);
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
                Dir::Response => (Class::Info, ""),
                Dir::Request if key == "default" => {
                    (Class::Warning, " (when our client leaves it out)")
                }
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
        match (&a.values, &b.values) {
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
                        Dir::Response if open => {
                            (Class::Warning, " (our client decodes it as Unknown)")
                        }
                        Dir::Response if ours.is_some() && ours_values.is_none() => {
                            (Class::Info, " (our client reads any text)")
                        }
                        Dir::Response if ours_values.as_ref().is_some_and(|o| o.contains(v)) => {
                            (Class::Info, " (openapi.yaml already has it)")
                        }
                        Dir::Response => (Class::Breaking, ""),
                    };
                    self.push(class, loc, Fact::Added(format!("enum value {v}")), note);
                }
            }
            (None, Some(eb)) => {
                let class = if dir == Dir::Request {
                    Class::Warning
                } else {
                    Class::Info
                };
                self.push(
                    class,
                    loc,
                    Fact::Changed("the enum".into(), "any".into(), names(eb)),
                    "",
                );
            }
            (Some(ea), None) => {
                let class = if dir == Dir::Response && !open && ours_values.is_some() {
                    Class::Breaking
                } else {
                    Class::Info
                };
                self.push(
                    class,
                    loc,
                    Fact::Changed("the enum".into(), names(ea), "any".into()),
                    "",
                );
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
            match (a.properties.get(k), b.properties.get(k)) {
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
        }
    }

    pub(super) fn variants(
        &mut self,
        dir: Dir,
        loc: &str,
        a: &Norm,
        b: &Norm,
        ours: Option<&Norm>,
    ) {
        match (&a.variants, &b.variants) {
            (Some((ka, x)), Some((kb, y))) => {
                if x.len() != y.len() || ka != kb {
                    self.push(
                        Class::Warning,
                        loc,
                        Fact::Changed(
                            "the schema composition".into(),
                            format!("{ka} of {}", x.len()),
                            format!("{kb} of {}", y.len()),
                        ),
                        "",
                    );
                }
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    let ours_v = ours
                        .and_then(|o| o.variants.as_ref())
                        .and_then(|(_, vs)| vs.get(i).cloned());
                    self.schema(dir, &format!("{loc} <{kb} {i}>"), p, q, ours_v.as_ref());
                }
            }
            (None, Some((k, y))) => self.push(
                Class::Warning,
                loc,
                Fact::Changed(
                    "the schema composition".into(),
                    "one".into(),
                    format!("{k} of {}", y.len()),
                ),
                "",
            ),
            (Some((k, x)), None) => self.push(
                Class::Warning,
                loc,
                Fact::Changed(
                    "the schema composition".into(),
                    format!("{k} of {}", x.len()),
                    "one".into(),
                ),
                "",
            ),
            (None, None) => {}
        }
    }
}
