//! Limits (`maxLength`, `minimum`, `maxItems`, ...) and the assertion keywords compared whole,
//! judged by what our type checks: a generated string type checks its lengths, an integer type
//! holds the range of its Rust type, nothing else checks a limit.

use serde_json::Value;

use super::{Differ, Dir, Fact, brief, limit_value, tighter};
use crate::{
    Class,
    meaning::{meaning_of, show},
    normal::{ASSERTIONS, Norm},
    rust::{Rust, integer_format},
};

/// The limits on an integer's value.
const RANGE: [&str; 4] = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];

/// The integers schema `n` allows: its format's range and its bounds.
fn allowed_integers(n: &Norm) -> (f64, f64) {
    let (mut low, mut high) = integer_format(n.format.as_deref()).unwrap_or((f64::MIN, f64::MAX));
    let num = |key: &str| limit_value(n, key).and_then(|v| v.as_f64());
    if let Some(m) = num("minimum") {
        low = low.max(m);
    }
    if let Some(m) = num("exclusiveMinimum") {
        low = low.max(m.floor() + 1.0);
    }
    if let Some(m) = num("maximum") {
        high = high.min(m);
    }
    if let Some(m) = num("exclusiveMaximum") {
        high = high.min(m.ceil() - 1.0);
    }
    (low, high)
}

fn shown_range((low, high): (f64, f64)) -> String {
    let end = |x: f64| {
        if x.abs() >= 1e15 {
            format!("{x:e}")
        } else {
            format!("{x}")
        }
    };
    format!("{} to {}", end(low), end(high))
}

impl Differ<'_> {
    /// An integer's range changed (by its format or its bounds): a response's must fit in our
    /// Rust integer type, a request's must hold every value our type can send.
    pub(super) fn integer_range(
        &self,
        dir: Dir,
        a: &Norm,
        b: &Norm,
        ours: Option<&Norm>,
        rt: &Rust,
    ) -> (Class, String) {
        let Some(held) = rt.integers() else {
            return (Class::Info, String::new());
        };
        let (new, old) = (allowed_integers(b), allowed_integers(a));
        match dir {
            Dir::Response if new.0 >= held.0 && new.1 <= held.1 => (
                Class::Info,
                format!(" (our `{}` holds every such value)", rt.name),
            ),
            // Narrowed: no value our type cannot hold comes that could not come before.
            Dir::Response if new.0 >= old.0 && new.1 <= old.1 => {
                (Class::Info, " (fewer values than before)".to_owned())
            }
            Dir::Response => (
                Class::Breaking,
                format!(" (our `{}` holds {} only)", rt.name, shown_range(held)),
            ),
            Dir::Request if new.0 <= old.0 && new.1 >= old.1 => (Class::Info, String::new()),
            Dir::Request if new.0 <= held.0 && new.1 >= held.1 => (
                Class::Info,
                format!(" (our `{}` sends only such values)", rt.name),
            ),
            Dir::Request
                if ours.is_some_and(|o| {
                    let declared = allowed_integers(o);
                    declared.0 >= new.0 && declared.1 <= new.1
                }) =>
            {
                (
                    Class::Warning,
                    format!(
                        " (openapi.yaml has it too, but our generated `{}` does not check it)",
                        rt.name
                    ),
                )
            }
            Dir::Request => (
                Class::Breaking,
                " (values our client sends may be refused)".to_owned(),
            ),
        }
    }

    pub(super) fn limits(
        &mut self,
        dir: Dir,
        loc: &str,
        a: &Norm,
        b: &Norm,
        ours: Option<&Norm>,
        rt: &Rust,
    ) {
        let keys: std::collections::BTreeSet<&str> =
            a.limits.iter().chain(&b.limits).map(|(k, _)| *k).collect();
        for key in keys {
            let (x, y) = (limit_value(a, key), limit_value(b, key));
            if x == y {
                continue;
            }
            let shown = |v: &Option<Value>| v.as_ref().map_or("none".to_owned(), show);
            let (class, note) = if RANGE.contains(&key) && rt.integers().is_some() {
                self.integer_range(dir, a, b, ours, rt)
            } else {
                self.limit(dir, key, a, b, ours, rt)
            };
            self.push(
                class,
                loc,
                Fact::Changed(format!("`{key}`"), shown(&x), shown(&y)),
                &note,
            );
        }
    }

    /// One limit other than an integer's range.
    fn limit(
        &self,
        dir: Dir,
        key: &str,
        a: &Norm,
        b: &Norm,
        ours: Option<&Norm>,
        rt: &Rust,
    ) -> (Class, String) {
        let num = |n: &Norm, k: &str| limit_value(n, k).and_then(|v| v.as_f64());
        let length = key == "minLength" || key == "maxLength";
        // The lengths our type checks, when it is text.
        let checked = rt.lengths().filter(|_| length);
        let items = key == "minItems" || key == "maxItems";
        let fixed = rt.fixed_len().filter(|_| items);
        // Whether values between `low` and `high` (in length or count) are all held by ours.
        let within = |(low, high): (f64, f64), n: &Norm| {
            let min = num(n, key.replace("max", "min").as_str()).unwrap_or(0.0);
            let max = num(n, key.replace("min", "max").as_str()).unwrap_or(f64::MAX);
            min >= low && max <= high
        };
        match dir {
            Dir::Response => {
                if let Some((min, max)) = checked {
                    let held = (min.unwrap_or(0) as f64, max.map_or(f64::MAX, |m| m as f64));
                    let before = (
                        num(a, key.replace("max", "min").as_str()).unwrap_or(0.0),
                        num(a, key.replace("min", "max").as_str()).unwrap_or(f64::MAX),
                    );
                    if within(held, b) {
                        (
                            Class::Info,
                            format!(" (our `{}` reads every such text)", rt.name),
                        )
                    } else if within(before, b) {
                        (Class::Info, " (fewer values than before)".to_owned())
                    } else {
                        let limits = [("at least", min), ("at most", max)]
                            .iter()
                            .filter_map(|(w, x)| x.map(|x| format!("{w} {x}")))
                            .collect::<Vec<_>>()
                            .join(" and ");
                        (
                            Class::Breaking,
                            format!(
                                " (our `{}` reads texts of {limits} characters only)",
                                rt.name
                            ),
                        )
                    }
                } else if let Some(len) = fixed {
                    if within((len as f64, len as f64), b) {
                        (Class::Info, String::new())
                    } else {
                        (
                            Class::Breaking,
                            format!(" (our `{}` reads exactly {len} items)", rt.name),
                        )
                    }
                } else {
                    (
                        Class::Info,
                        format!(" (our `{}` does not check it)", rt.name),
                    )
                }
            }
            Dir::Request
                if !tighter(
                    key,
                    limit_value(a, key).as_ref(),
                    limit_value(b, key).as_ref(),
                ) =>
            {
                (Class::Info, String::new())
            }
            Dir::Request => {
                let new = (
                    num(b, key.replace("max", "min").as_str()).unwrap_or(0.0),
                    num(b, key.replace("min", "max").as_str()).unwrap_or(f64::MAX),
                );
                let sent = checked
                    .map(|(min, max)| (min.unwrap_or(0) as f64, max.map_or(f64::MAX, |m| m as f64)))
                    .or(fixed.map(|n| (n as f64, n as f64)));
                let declared = ours
                    .and_then(|o| limit_value(o, key))
                    .is_some_and(|l| !tighter(key, Some(&l), limit_value(b, key).as_ref()));
                match sent {
                    Some((low, high)) if low >= new.0 && high <= new.1 => {
                        (Class::Info, format!(" (our `{}` checks it)", rt.name))
                    }
                    _ if declared => (
                        Class::Warning,
                        format!(
                            " (openapi.yaml has it too, but our generated `{}` does not check it)",
                            rt.name
                        ),
                    ),
                    _ => (
                        Class::Breaking,
                        " (values our client sends may be refused)".to_owned(),
                    ),
                }
            }
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
}
