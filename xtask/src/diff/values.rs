//! Allowed values (`enum`, `const`, `x-extensible-enum`) and defaults, judged by our type: a
//! forward-compatible enum reads a new value as `Unknown`, a generated enum refuses it, a `String`
//! reads any.

use std::collections::BTreeSet;

use super::{Differ, Dir, Fact, brief, names};
use crate::{Class, normal::Norm, rust::Rust};

impl Differ<'_> {
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

    /// `enum` and `const`.
    pub(super) fn values(
        &mut self,
        dir: Dir,
        loc: &str,
        a: &Norm,
        b: &Norm,
        ours: Option<&Norm>,
        rt: &Rust,
    ) {
        let ours_values = ours.and_then(|o| o.values.clone());
        let held = rt.values().cloned();
        // Whether our type reads value `v` in a response.
        let reads = |v: &String| -> (Class, &'static str) {
            if rt.open() {
                (Class::Warning, " (our client decodes it as Unknown)")
            } else if held.is_none() {
                (Class::Info, " (our client reads any text)")
            } else if held.as_ref().is_some_and(|o| o.contains(v)) {
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
                let (class, note) = match (dir, &held) {
                    (Dir::Response, Some(_)) if !rt.open() => (
                        Class::Breaking,
                        " (our generated enum reads its values only)",
                    ),
                    _ => (Class::Info, ""),
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
                    note,
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
}
