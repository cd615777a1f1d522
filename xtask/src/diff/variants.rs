//! `oneOf`/`anyOf` alternatives, matched by meaning: an untagged enum of ours decodes a value when
//! one of its alternatives does.

use serde_json::Value;

use super::{Differ, Dir, Fact};
use crate::{
    Class,
    meaning::{meaning, meaning_of_norm},
    normal::Norm,
};

impl Differ<'_> {
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
