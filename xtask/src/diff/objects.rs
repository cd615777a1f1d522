//! Objects: properties (added, removed, required), the fields a schema does not name
//! (`additionalProperties`), `readOnly`/`writeOnly` and the discriminator, judged by what our struct
//! or map does with them.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Differ, Dir, Fact, brief};
use crate::{
    Class,
    meaning::{mapping_ref, meaning, show},
    normal::{Norm, norm},
    rust::{Field, Rust, Shape, Unknown},
};

/// `additionalProperties` as reports show it: `any`, `false` or the schema.
fn shown_additional(v: Option<&Value>) -> String {
    match v {
        None => "any".to_owned(),
        Some(v) => brief(Some(v)),
    }
}

impl Differ<'_> {
    pub(super) fn properties(
        &mut self,
        dir: Dir,
        loc: &str,
        a: &Norm,
        b: &Norm,
        ours: Option<&Norm>,
        rt: &Rust,
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
                    let closed = b.additional == Some(Value::Bool(false));
                    let (class, note) = match dir {
                        Dir::Response if required => (Class::Breaking, " (our client requires it)"),
                        Dir::Response => (Class::Warning, ""),
                        Dir::Request if closed => (
                            Class::Breaking,
                            " (our client may still send it, and Hero refuses fields it does not name)",
                        ),
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
                        Dir::Response
                            if ours_prop.is_none() && rt.unknown() == Some(Unknown::Refused) =>
                        {
                            (
                                Class::Breaking,
                                "a property",
                                " (our type refuses a field it does not name: additionalProperties is false)",
                            )
                        }
                        _ => (Class::Info, "a property", ""),
                    };
                    self.push(class, &ploc, Fact::Added(what.into()), note);
                }
                (Some(x), Some(y)) => {
                    let (ra, rb) = (a.required.contains(k), b.required.contains(k));
                    self.required(&ploc, dir, ra, rb, ours_required);
                    self.field = if ours_required.unwrap_or(ra) {
                        Field::Required
                    } else {
                        Field::Optional
                    };
                    self.schema(dir, &ploc, x, y, ours_prop.as_ref());
                }
                (None, None) => {}
            }
            self.cap = saved;
        }
    }

    /// `additionalProperties`: the fields a schema does not name. In a response, whether our type
    /// reads every such field Hero may now send (a struct ignores them unless `openapi.yaml` closes
    /// it; a map reads them as its value type); in a request, whether Hero accepts every field our
    /// type sends (a struct sends only the fields it names; a map sends any).
    pub(super) fn additional(
        &mut self,
        dir: Dir,
        loc: &str,
        a: &Norm,
        b: &Norm,
        ours: Option<&Norm>,
        rt: &Rust,
    ) {
        let aloc = format!("{loc} <additionalProperties>");
        let ours_values = ours.and_then(|o| o.additional.clone());
        let schema = |v: &Option<Value>| v.as_ref().filter(|x| !x.is_boolean()).cloned();
        if let (Some(x), Some(y)) = (schema(&a.additional), schema(&b.additional)) {
            self.schema(dir, &aloc, &x, &y, ours_values.as_ref());
            return;
        }
        if a.additional == b.additional {
            return;
        }
        // What our type does with a field it does not name, and the type it reads one as.
        let map = matches!(rt.shape, Shape::Map) || rt.unknown() == Some(Unknown::Read);
        let old_values = schema(&a.additional).unwrap_or(Value::Object(serde_json::Map::new()));
        let values = self.ours_type(&old_values, ours_values.as_ref(), Field::Not);
        let sent = match self.ours.zip(ours_values.as_ref()) {
            Some((doc, v)) => norm(doc, v).types,
            None => norm(self.old, &old_values).types,
        };
        let new_types = schema(&b.additional).map(|y| norm(self.new, &y).types);
        let closed = b.additional == Some(Value::Bool(false));
        let (class, note) = match dir {
            Dir::Response if closed => (Class::Info, String::new()),
            Dir::Response if rt.unknown() == Some(Unknown::Refused) => (
                Class::Breaking,
                " (our type refuses a field it does not name: openapi.yaml closes it)".to_owned(),
            ),
            Dir::Response if map => match &new_types {
                _ if matches!(values.shape, Shape::Any) => (Class::Info, String::new()),
                Some(t) if values.reads_types(t) => (
                    Class::Info,
                    format!(" (our map's `{}` values read them)", values.name),
                ),
                _ => (
                    Class::Breaking,
                    format!(" (our map's values are `{}`)", values.name),
                ),
            },
            Dir::Response => (
                Class::Info,
                " (our type ignores a field it does not name)".to_owned(),
            ),
            Dir::Request if b.additional.is_none() => (Class::Info, String::new()),
            Dir::Request if map => match &new_types {
                Some(t) if super::schema::covers(t, &sent) => (
                    Class::Info,
                    " (what our client sends is still allowed)".to_owned(),
                ),
                _ => (
                    Class::Breaking,
                    " (our client sends a map of fields Hero does not name)".to_owned(),
                ),
            },
            Dir::Request => {
                // Our struct sends the fields openapi.yaml names: are they all Hero's?
                let named = ours.map_or(&a.properties, |o| &o.properties);
                let extra: Vec<&String> = named
                    .keys()
                    .filter(|k| !b.properties.contains_key(*k))
                    .collect();
                match (extra.first(), closed) {
                    (None, _) => (
                        Class::Info,
                        " (our client sends only the fields it names)".to_owned(),
                    ),
                    (Some(k), true) => (
                        Class::Breaking,
                        format!(" (our client may send `{k}`, which Hero does not name)"),
                    ),
                    (Some(k), false) => (
                        Class::Warning,
                        format!(" (our client may send `{k}`, which Hero does not name)"),
                    ),
                }
            }
        };
        self.push(
            class,
            loc,
            Fact::Changed(
                "`additionalProperties`".into(),
                shown_additional(a.additional.as_ref()),
                shown_additional(b.additional.as_ref()),
            ),
            &note,
        );
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
}
