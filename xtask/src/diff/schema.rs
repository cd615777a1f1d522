//! One schema against another, judged by our type at that place ([`crate::rust`]): the recursion
//! (with its bound), then types, nullability, format and pattern; the other keywords are in the
//! sibling modules.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Differ, Dir, Fact, names};
use crate::{
    Class,
    normal::{Norm, norm},
    rust::{self, Field, Rust},
};

/// Whether the types `big` allow every value of the types `small` (a number includes every
/// integer). Empty means any type.
pub(super) fn covers(big: &BTreeSet<String>, small: &BTreeSet<String>) -> bool {
    big.is_empty()
        || (!small.is_empty()
            && small
                .iter()
                .all(|t| big.contains(t) || (t == "integer" && big.contains("number"))))
}

/// `an integer`, `a string`: a JSON type as a report names one value of it.
fn a_or_an(json_type: &str) -> String {
    match json_type {
        "integer" | "array" | "object" => format!("an {json_type}"),
        "it" => "it".to_owned(),
        t => format!("a {t}"),
    }
}

/// Formats that say how a value is shown or stored, not which values are allowed.
const ANNOTATION_FORMATS: [&str; 3] = ["password", "float", "double"];

impl Differ<'_> {
    /// Compares schema `a` (old) with `b` (new) at `loc`; `ours` is `openapi.yaml`'s schema at
    /// the same place, whose Rust type judges each change (Hero's old schema stands in where ours
    /// has none).
    pub(super) fn schema(
        &mut self,
        dir: Dir,
        loc: &str,
        a: &Value,
        b: &Value,
        ours: Option<&Value>,
    ) {
        let field = std::mem::take(&mut self.field);
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
        let no = self.ours.zip(ours).map(|(doc, s)| norm(doc, s));
        let rt = self.ours_type(a, ours, field);
        self.stack.push(key);
        self.compare(dir, loc, &na, &nb, no.as_ref(), &rt);
        self.stack.pop();
    }

    fn compare(&mut self, dir: Dir, loc: &str, a: &Norm, b: &Norm, ours: Option<&Norm>, rt: &Rust) {
        let text = std::mem::take(&mut self.text);
        if self.types(dir, loc, a, b, ours, rt, text) {
            return;
        }
        self.nullable(dir, loc, a, b, rt);
        self.format(dir, loc, a, b, ours, rt);
        self.pattern(dir, loc, a, b, ours, rt);
        self.limits(dir, loc, a, b, ours, rt);
        self.default(dir, loc, a, b, ours);
        self.values(dir, loc, a, b, ours, rt);
        self.extensible(dir, loc, a, b, ours);
        self.access(dir, loc, a, b);
        self.deprecated_schema(loc, a, b);
        self.assertions(dir, loc, a, b, ours);
        self.discriminator(loc, a, b);
        self.properties(dir, loc, a, b, ours, rt);
        self.additional(dir, loc, a, b, ours, rt);
        self.items(dir, loc, a, b, ours);
        self.variants(dir, loc, a, b, ours);
    }

    /// The JSON types. Returns true when nothing else of the two schemas compares (another type
    /// altogether, or no schema left).
    #[allow(clippy::too_many_arguments)]
    fn types(
        &mut self,
        dir: Dir,
        loc: &str,
        a: &Norm,
        b: &Norm,
        ours: Option<&Norm>,
        rt: &Rust,
        text: bool,
    ) -> bool {
        // Alternatives on one side only carry their own types: `variants` judges that.
        let alternatives = |n: &Norm| n.types.is_empty() && n.variants.is_some();
        if a.types == b.types || alternatives(a) || alternatives(b) {
            return false;
        }
        let shown = |n: &Norm| {
            if n.types.is_empty() {
                "any".to_owned()
            } else {
                names(&n.types)
            }
        };
        // What our client sends (a request): openapi.yaml's types, else Hero's old ones.
        let sends = ours.map_or(&a.types, |o| &o.types);
        let reads_note = format!(" (our `{}` reads it)", rt.name);
        let refused_note;
        let (class, note) = if ours.is_some_and(|o| o.types == b.types) {
            (Class::Info, " (openapi.yaml already has it so)")
        } else if a.types.is_empty() || b.types.is_empty() {
            (Class::Warning, "")
        } else if dir == Dir::Request && covers(&b.types, sends) {
            (Class::Info, " (what our client sends is still allowed)")
        } else if dir == Dir::Request && text && b.types.contains("string") {
            (Class::Info, " (sent as text, which is still allowed)")
        } else if dir == Dir::Response && text && rt.reads_types(&["string".to_owned()].into()) {
            (Class::Info, " (read as text, which still works)")
        } else if dir == Dir::Response && rt.reads_types(&b.types) {
            (Class::Info, reads_note.as_str())
        } else if dir == Dir::Response && !text {
            let refused = b
                .types
                .iter()
                .find(|t| !rt.reads_types(&[(*t).clone()].into()))
                .map_or("it", String::as_str);
            refused_note = format!(" (our `{}` refuses {})", rt.name, a_or_an(refused));
            (Class::Breaking, refused_note.as_str())
        } else {
            (Class::Breaking, "")
        };
        self.push(
            class,
            loc,
            Fact::Changed("the type".into(), shown(a), shown(b)),
            note,
        );
        // Another type, or no schema left: what was said of the old one no longer applies.
        let unconstrained = b.types.is_empty()
            && *b
                == Norm {
                    refs: b.refs.clone(),
                    ..Norm::default()
                };
        !a.types.is_empty() && (!b.types.is_empty() || unconstrained)
    }

    /// `null` allowed or not: breaking when a response may now be null and our type reads no
    /// null, or a request may no longer be null and our type may send it.
    fn nullable(&mut self, dir: Dir, loc: &str, a: &Norm, b: &Norm, rt: &Rust) {
        let fact = |x: &str, y: &str| Fact::Changed("it".into(), x.into(), y.into());
        let (class, note) = match (a.nullable, b.nullable, dir) {
            (false, true, Dir::Response) if rt.reads_null => {
                (Class::Info, " (our client already accepts null)")
            }
            (true, false, Dir::Request) if !rt.sends_null => {
                (Class::Info, " (our client never sends null)")
            }
            (false, true, Dir::Response) | (true, false, Dir::Request) => (Class::Breaking, ""),
            (x, y, _) if x != y => (Class::Info, ""),
            _ => return,
        };
        let (x, y) = if b.nullable {
            ("not nullable", "nullable")
        } else {
            ("nullable", "not nullable")
        };
        self.push(class, loc, fact(x, y), note);
    }

    /// `format`: a response's is judged by whether our type reads every text of the new format
    /// (`DateTime<Utc>` refuses a `date`; `String` reads any text); a request's by whether every
    /// text our type sends has it. An integer's format is its range ([`Self::limits`]).
    fn format(&mut self, dir: Dir, loc: &str, a: &Norm, b: &Norm, ours: Option<&Norm>, rt: &Rust) {
        if a.format == b.format {
            return;
        }
        let opt = |s: &Option<String>| s.as_deref().map_or("none".to_owned(), |x| format!("`{x}`"));
        let integer = rt.integers().is_some() && b.types.iter().all(|t| t == "integer");
        let new = b.format.as_deref();
        let (class, note) = match dir {
            _ if integer => self.integer_range(dir, a, b, ours, rt),
            Dir::Response => match rt.reads_format(new) {
                Ok(()) => (Class::Info, format!(" (our `{}` reads it)", rt.name)),
                Err(name) => (
                    Class::Breaking,
                    format!(
                        " (our `{name}` refuses {})",
                        new.map_or("text of other formats".to_owned(), |f| format!("a `{f}`"))
                    ),
                ),
            },
            Dir::Request => match new {
                None => (Class::Info, String::new()),
                Some(f) if ANNOTATION_FORMATS.contains(&f) => (Class::Info, String::new()),
                Some(f) if rt.sends_format() == Some(f) => (
                    Class::Info,
                    format!(" (our `{}` sends only `{f}`)", rt.name),
                ),
                _ if ours.is_some_and(|o| o.format == b.format) => (
                    Class::Warning,
                    format!(
                        " (openapi.yaml has it too, but our `{}` may send other text)",
                        rt.name
                    ),
                ),
                _ => (
                    Class::Breaking,
                    " (values our client sends may be refused)".to_owned(),
                ),
            },
        };
        self.push(
            class,
            loc,
            Fact::Changed("the format".into(), opt(&a.format), opt(&b.format)),
            &note,
        );
    }

    /// `pattern`. No generated type checks one (build.rs removes them); a handwritten checked
    /// value (`crate::validate`) checks the one `openapi.yaml` gives it.
    fn pattern(&mut self, dir: Dir, loc: &str, a: &Norm, b: &Norm, ours: Option<&Norm>, rt: &Rust) {
        if a.pattern == b.pattern {
            return;
        }
        let opt = |s: &Option<String>| s.as_deref().map_or("none".to_owned(), |x| format!("`{x}`"));
        let (class, note) = match (dir, rt.pattern()) {
            (Dir::Response, Some(p)) if b.pattern.as_deref() != Some(p) => (
                Class::Breaking,
                format!(" (our `{}` checks `{p}` on what it reads)", rt.name),
            ),
            (Dir::Response, _) => (
                Class::Info,
                " (our generated types check no pattern)".to_owned(),
            ),
            (Dir::Request, _) if b.pattern.is_none() => (Class::Info, String::new()),
            (Dir::Request, Some(p)) if b.pattern.as_deref() == Some(p) => {
                (Class::Info, format!(" (our `{}` checks it)", rt.name))
            }
            (Dir::Request, _) if ours.is_some_and(|o| o.pattern == b.pattern) => (
                Class::Warning,
                " (openapi.yaml has it too, but build.rs removes patterns: our generated type \
                 does not check it)"
                    .to_owned(),
            ),
            (Dir::Request, _) => (
                Class::Warning,
                " (values our client sends may be refused)".to_owned(),
            ),
        };
        self.push(
            class,
            loc,
            Fact::Changed("the pattern".into(), opt(&a.pattern), opt(&b.pattern)),
            &note,
        );
    }

    /// `items`: the items compared in turn; a side without says any item.
    fn items(&mut self, dir: Dir, loc: &str, a: &Norm, b: &Norm, ours: Option<&Norm>) {
        let any = Value::Object(serde_json::Map::new());
        if a.items.is_none() && b.items.is_none() {
            return;
        }
        let (x, y) = (
            a.items.as_ref().unwrap_or(&any),
            b.items.as_ref().unwrap_or(&any),
        );
        let ours_items = ours.and_then(|o| o.items.clone());
        self.schema(dir, &format!("{loc}[]"), x, y, ours_items.as_ref());
    }

    pub(super) fn deprecated_schema(&mut self, loc: &str, a: &Norm, b: &Norm) {
        let to_value = |d: bool| serde_json::json!({ "deprecated": d });
        self.deprecated(loc, &to_value(a.deprecated), &to_value(b.deprecated));
    }

    /// Our Rust type for `ours` (a schema of `openapi.yaml`), or for Hero's old `a` where ours
    /// has none.
    pub(super) fn ours_type(&self, a: &Value, ours: Option<&Value>, field: Field) -> Rust {
        match self.ours.zip(ours) {
            Some((doc, s)) => rust::of(doc, s, field),
            None => rust::of(self.old, a, field),
        }
    }
}
