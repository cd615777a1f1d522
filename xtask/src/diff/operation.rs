//! Parameters (their place, name, required-ness, serialisation and schema) and deprecation.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{Differ, Dir, Fact};
use crate::{
    Class,
    keywords::parameter_style,
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
                    self.flags(&ploc, a, b);
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
            let style = p["style"]
                .as_str()
                .unwrap_or(parameter_style(place).0)
                .to_owned();
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

    /// `allowEmptyValue` and `allowReserved`: whether Hero takes an empty value, and reserved
    /// characters unencoded. Our client percent-encodes every value it sends, so `allowReserved`
    /// changes nothing it sends; an empty value it may send can be refused once
    /// `allowEmptyValue` goes.
    fn flags(&mut self, loc: &str, a: &Value, b: &Value) {
        for key in ["allowEmptyValue", "allowReserved"] {
            let (x, y) = (a[key] == true, b[key] == true);
            if x == y {
                continue;
            }
            let (class, note) = match (key, y) {
                ("allowEmptyValue", false) => (
                    Class::Warning,
                    " (an empty value our client sends may be refused)",
                ),
                ("allowReserved", _) => (Class::Info, " (our client percent-encodes every value)"),
                _ => (Class::Info, ""),
            };
            let fact = Fact::Changed(format!("`{key}`"), x.to_string(), y.to_string());
            self.push(class, loc, fact, note);
        }
    }
}
