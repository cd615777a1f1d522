//! Comparing two descriptions operation by operation, judged for our client: what our
//! `openapi.yaml` requires, sends and accepts decides how much a change matters.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::{
    Change, Class,
    meaning::show,
    normal::Norm,
    rust::Field,
    subset::{NOT_CARRIED, Operation, operations, pair, path_item, shape},
};

mod body;
mod limits;
mod media;
mod objects;
mod operation;
mod schema;
mod values;
mod variants;

/// Which two descriptions are compared, and so how messages are worded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wording {
    /// The last snapshot against Hero's description now (`diff`, `regen`): "Hero removed ...".
    Sync,
    /// Hero's description (the snapshot) against our `openapi.yaml` (`check`): "openapi.yaml lacks
    /// ...".
    Check,
}

/// Which way data flows through a schema.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Request,
    Response,
}

/// What happened, before wording.
enum Fact {
    Removed(String),
    Added(String),
    Changed(String, String, String),
    /// Said as it is.
    Said(String),
}

/// What `diff` says of an operation openapi.yaml carries that the snapshot lacked and Hero's
/// description has.
pub const BEHIND: &str = "spec/upstream.yaml lacked it though openapi.yaml carries it (the \
                          snapshot was behind); Hero's description has it, and regen records it";

/// How many schema pairs one comparison may visit: far above any real description, a bound for
/// pathological ones.
const BUDGET: usize = 200_000;

struct Differ<'a> {
    old: &'a Value,
    new: &'a Value,
    ours: Option<&'a Value>,
    wording: Wording,
    changes: Vec<Change>,
    /// The `$ref` pairs being compared, outermost first (recursion stops at a repeat).
    stack: Vec<(String, String)>,
    budget: usize,
    /// The schema compared next is a parameter's or a header's: text on the wire.
    text: bool,
    /// The schema compared next is a field of a struct (required or optional in ours).
    field: Field,
    /// Set under a part of a schema our client neither sends nor reads (a read-only property of
    /// a request, a write-only one of a response): every change there is info, with this note.
    cap: Option<&'static str>,
}

/// Every change from `old` to `new`, sorted by class then location. `ours` (our `openapi.yaml`)
/// judges each change: what our client requires, sends and accepts, and which response enums it
/// decodes forward-compatibly (`x-herohealth-rust-type: crate::enums::...`).
pub fn diff(old: &Value, new: &Value, ours: Option<&Value>, wording: Wording) -> Vec<Change> {
    let mut d = Differ {
        old,
        new,
        ours,
        wording,
        changes: Vec::new(),
        stack: Vec::new(),
        budget: BUDGET,
        text: false,
        field: Field::Not,
        cap: None,
    };
    d.servers();
    d.security_schemes();
    let ours_ops = ours.map(operations).unwrap_or_default();
    let carried = |n: &Operation| {
        pair(std::slice::from_ref(n), &ours_ops)
            .iter()
            .any(|(a, b)| a.is_some() && b.is_some())
    };
    for (o, n) in pair(&operations(old), &operations(new)) {
        match (o, n) {
            (Some(o), None) => d.push(
                Class::Breaking,
                &o.name(),
                Fact::Removed("the operation".into()),
                "",
            ),
            (None, Some(n)) if wording == Wording::Sync && carried(&n) => {
                d.push(Class::Info, &n.name(), Fact::Said(BEHIND.into()), "")
            }
            (None, Some(n)) => d.push(
                Class::Info,
                &n.name(),
                Fact::Added("the operation".into()),
                "",
            ),
            (Some(o), Some(n)) => {
                let ours_op = pair(std::slice::from_ref(&o), &ours_ops)
                    .into_iter()
                    .find_map(|(a, b)| a.and(b));
                d.operation(&o, &n, ours_op.as_ref());
            }
            (None, None) => {}
        }
    }
    if wording == Wording::Sync {
        d.not_carried();
    }
    if d.budget == 0 {
        d.push(
            Class::Warning,
            "(whole description)",
            Fact::Changed("the comparison".into(), "complete".into(), "stopped".into()),
            " (too many schemas to compare; the report is partial)",
        );
    }
    let mut changes = d.changes;
    changes.sort_by(|a, b| {
        (a.class, &a.location, &a.message).cmp(&(b.class, &b.location, &b.message))
    });
    changes.dedup();
    changes
}

fn op_value<'v>(doc: &'v Value, op: &Operation) -> &'v Value {
    let item = path_item(doc, &doc["paths"][&op.path]);
    &item[op.method.to_lowercase()]
}

/// An operation's security (its own, else the document's): each alternative the schemes it asks
/// for, by meaning (what goes on the wire) or, with `by_meaning` false, by name (for reports).
fn effective(doc: &Value, op: &Value, by_meaning: bool) -> BTreeSet<BTreeSet<String>> {
    let sec = op.get("security").unwrap_or(&doc["security"]);
    sec.as_array()
        .into_iter()
        .flatten()
        .map(|alt| {
            alt.as_object()
                .into_iter()
                .flat_map(|m| m.keys())
                .map(|name| {
                    let scheme = &doc["components"]["securitySchemes"][name];
                    if !by_meaning || scheme.is_null() {
                        return name.clone();
                    }
                    scheme_meaning(doc, scheme).to_string()
                })
                .collect()
        })
        .collect()
}

/// A server's URL by meaning: its variables at their defaults, scheme and host in lower case, the
/// scheme's default port and a trailing `/` left out.
fn server_url(server: &Value) -> Option<String> {
    let mut url = server["url"].as_str()?.to_owned();
    for (name, var) in server["variables"].as_object().into_iter().flatten() {
        if let Some(default) = var["default"].as_str() {
            url = url.replace(&format!("{{{name}}}"), default);
        }
    }
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s.to_lowercase(), r.to_owned()),
        None => (String::new(), url),
    };
    let (host, path) = match rest.find('/') {
        Some(i) => (rest[..i].to_lowercase(), rest[i..].to_owned()),
        None => (rest.to_lowercase(), String::new()),
    };
    let host = match scheme.as_str() {
        "https" => host.strip_suffix(":443").unwrap_or(&host).to_owned(),
        "http" => host.strip_suffix(":80").unwrap_or(&host).to_owned(),
        _ => host,
    };
    let path = path.trim_end_matches('/');
    Some(if scheme.is_empty() {
        format!("{host}{path}")
    } else {
        format!("{scheme}://{host}{path}")
    })
}

/// A security scheme by meaning: its `$ref` followed, a header's name in lower case (HTTP header
/// names are case-insensitive), an HTTP scheme's name in lower case (RFC 9110), descriptions left
/// out.
fn scheme_meaning(doc: &Value, scheme: &Value) -> Value {
    let (s, _) = crate::normal::deref(doc, scheme);
    let lower = |v: &Value| v.as_str().map_or(Value::Null, |x| x.to_lowercase().into());
    let name = if s["in"] == "header" {
        lower(&s["name"])
    } else {
        s["name"].clone()
    };
    serde_json::json!({
        "type": s["type"],
        "in": s["in"],
        "name": name,
        "scheme": lower(&s["scheme"]),
        "bearerFormat": s["bearerFormat"],
        "flows": s["flows"],
        "openIdConnectUrl": s["openIdConnectUrl"],
    })
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

fn names(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        return "none".to_owned();
    }
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

fn limit_value(n: &Norm, key: &str) -> Option<Value> {
    n.limits
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.clone())
}

/// Whether a change of limit `key` from `a` to `b` lets fewer values through.
fn tighter(key: &str, a: Option<&Value>, b: Option<&Value>) -> bool {
    let num = |v: Option<&Value>| v.and_then(Value::as_f64);
    match (num(a), num(b)) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(x), Some(y)) => match key {
            "maxLength" | "maxItems" | "maxContains" | "maxProperties" | "maximum"
            | "exclusiveMaximum" => y < x,
            "minLength" | "minItems" | "minContains" | "minProperties" | "minimum"
            | "exclusiveMinimum" => y > x,
            _ => false,
        },
    }
}

impl<'a> Differ<'a> {
    fn say(&self, fact: Fact) -> String {
        match (self.wording, fact) {
            (Wording::Sync, Fact::Removed(w)) => format!("Hero removed {w}"),
            (Wording::Sync, Fact::Added(w)) => format!("Hero added {w}"),
            (Wording::Sync, Fact::Changed(w, a, b)) => format!("Hero changed {w} from {a} to {b}"),
            (Wording::Check, Fact::Removed(w)) => format!("openapi.yaml lacks {w} that Hero has"),
            (Wording::Check, Fact::Added(w)) => format!("openapi.yaml has {w} that Hero lacks"),
            (_, Fact::Said(text)) => text,
            (Wording::Check, Fact::Changed(w, a, b)) => {
                format!("{w} is {b} in openapi.yaml, {a} in Hero's description")
            }
        }
    }

    /// Records a change; `note` (our client's view) is dropped in [`Wording::Check`], where ours is
    /// one of the two sides.
    fn push(&mut self, class: Class, location: &str, fact: Fact, note: &str) {
        let (class, note) = match self.cap {
            Some(cap) => (Class::Info, cap),
            None => (class, note),
        };
        let mut message = self.say(fact);
        if self.wording == Wording::Sync {
            message.push_str(note);
        }
        self.changes.push(Change {
            class,
            location: location.to_owned(),
            message,
            touches_correction: false,
        });
    }

    fn servers(&mut self) {
        let urls = |doc: &Value| -> BTreeSet<String> {
            doc["servers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(server_url)
                .collect()
        };
        let (a, b) = (urls(self.old), urls(self.new));
        let ours = self.ours.map(urls).unwrap_or_default();
        for u in a.difference(&b) {
            let (class, note) = if ours.contains(u) {
                (Class::Breaking, " (openapi.yaml still lists it)")
            } else {
                (Class::Info, "")
            };
            self.push(
                class,
                "servers",
                Fact::Removed(format!("server `{u}`")),
                note,
            );
        }
        for u in b.difference(&a) {
            self.push(
                Class::Info,
                "servers",
                Fact::Added(format!("server `{u}`")),
                "",
            );
        }
    }

    fn security_schemes(&mut self) {
        let schemes = |doc: &'a Value| doc["components"]["securitySchemes"].as_object();
        let (a, b) = (schemes(self.old), schemes(self.new));
        let keys: BTreeSet<&String> = a.iter().chain(b.iter()).flat_map(|m| m.keys()).collect();
        // What a scheme asks for, by meaning; a scheme renamed (the same meaning under another
        // name on the other side only) is no change.
        let only = |m: Option<&'a serde_json::Map<String, Value>>,
                    other: Option<&'a serde_json::Map<String, Value>>,
                    doc: &Value| {
            m.into_iter()
                .flatten()
                .filter(|(k, _)| other.is_none_or(|o| !o.contains_key(*k)))
                .map(|(_, v)| scheme_meaning(doc, v).to_string())
                .collect::<BTreeSet<_>>()
        };
        let (gone, came) = (only(a, b, self.old), only(b, a, self.new));
        for k in keys {
            let loc = format!("security scheme {k}");
            let get = |m: Option<&'a serde_json::Map<String, Value>>| m.and_then(|m| m.get(k));
            match (get(a), get(b)) {
                (Some(x), None) if !came.contains(&scheme_meaning(self.old, x).to_string()) => {
                    self.push(Class::Breaking, &loc, Fact::Removed("it".into()), "")
                }
                (None, Some(y)) if !gone.contains(&scheme_meaning(self.new, y).to_string()) => {
                    self.push(Class::Info, &loc, Fact::Added("it".into()), "")
                }
                (Some(x), Some(y)) => {
                    let (x, y) = (scheme_meaning(self.old, x), scheme_meaning(self.new, y));
                    for field in ["type", "in", "name", "scheme"] {
                        if x[field] != y[field] {
                            self.push(
                                Class::Breaking,
                                &loc,
                                Fact::Changed(
                                    format!("`{field}`"),
                                    show(&x[field]),
                                    show(&y[field]),
                                ),
                                "",
                            );
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn not_carried(&mut self) {
        let Some(known) = self.old[NOT_CARRIED].as_array() else {
            // A snapshot that never recorded them (the hand-written first one): this sync records
            // them, the next reports new ones.
            return;
        };
        let fresh: Vec<String> = self.new[NOT_CARRIED]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|n| !known.contains(n))
            .filter_map(|n| n.as_str().map(str::to_owned))
            .collect();
        for name in fresh {
            self.push(
                Class::Info,
                &name,
                Fact::Added("an operation under a tag we carry".into()),
                "; not carried: add it to openapi.yaml if the client should offer it",
            );
        }
    }

    fn security(&mut self, loc: &str, o: &Value, n: &Value, ours: Option<&Value>) {
        let (a, b) = (effective(self.old, o, true), effective(self.new, n, true));
        // The same schemes by meaning (some renamed), or by name (a scheme itself changed: that
        // is reported once, at the scheme).
        if a == b || effective(self.old, o, false) == effective(self.new, n, false) {
            return;
        }
        let show_sec = |doc: &Value, op: &Value| {
            let s = effective(doc, op, false);
            if s.is_empty() || s.iter().all(BTreeSet::is_empty) {
                return "none".to_owned();
            }
            s.iter()
                .map(|alt| format!("[{}]", names(alt)))
                .collect::<Vec<_>>()
                .join(" or ")
        };
        let sends: BTreeSet<String> = match (self.ours, ours) {
            (Some(doc), Some(op)) => effective(doc, op, true).into_iter().flatten().collect(),
            _ => a.iter().flatten().cloned().collect(),
        };
        let satisfied = b.is_empty() || b.iter().any(|alt| alt.is_subset(&sends));
        let (class, note) = if satisfied {
            (Class::Info, " (our client sends what it asks for)")
        } else {
            (Class::Breaking, " (our client does not send it)")
        };
        let fact = Fact::Changed(
            "security".into(),
            show_sec(self.old, o),
            show_sec(self.new, n),
        );
        self.push(class, &format!("{loc} security"), fact, note);
    }

    fn operation(&mut self, o_op: &Operation, n_op: &Operation, ours_op: Option<&Operation>) {
        let loc = o_op.name();
        let (o, n) = (op_value(self.old, o_op), op_value(self.new, n_op));
        let ours = self.ours.zip(ours_op).map(|(doc, op)| op_value(doc, op));
        if shape(&o_op.path) != shape(&n_op.path) {
            self.push(
                Class::Breaking,
                &loc,
                Fact::Changed("the path".into(), o_op.path.clone(), n_op.path.clone()),
                &format!(" (same operationId; our client calls {})", o_op.path),
            );
        }
        // Path parameters are positions in the URL: their names are not on the wire.
        if o_op.id != n_op.id {
            let id =
                |x: &Option<String>| x.as_deref().map_or("none".to_owned(), |s| format!("`{s}`"));
            self.push(
                Class::Warning,
                &loc,
                Fact::Changed("the operationId".into(), id(&o_op.id), id(&n_op.id)),
                " (the generated method keeps openapi.yaml's name)",
            );
        }
        self.deprecated(&loc, o, n);
        self.security(&loc, o, n, ours);
        self.parameters(&loc, (o_op, o), (n_op, n), ours_op.zip(ours));
        self.request_body(&loc, o, n, ours);
        self.responses(&loc, o, n, ours);
    }
}
