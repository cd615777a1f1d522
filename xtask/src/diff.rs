//! Comparing two descriptions operation by operation, judged for our client: what our
//! `openapi.yaml` requires, sends and accepts decides how much a change matters.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::{
    Change, Class,
    normal::{Norm, deref, norm, show},
    subset::{NOT_CARRIED, Operation, operations, pair, path_item, path_params, shape},
};

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
}

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
    };
    d.servers();
    d.security_schemes();
    let ours_ops = ours.map(operations).unwrap_or_default();
    for (o, n) in pair(&operations(old), &operations(new)) {
        match (o, n) {
            (Some(o), None) => d.push(
                Class::Breaking,
                &o.name(),
                Fact::Removed("the operation".into()),
                "",
            ),
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
        (None, Some(_)) => key != "default",
        (Some(x), Some(y)) => match key {
            "maxLength" | "maxItems" | "maximum" | "exclusiveMaximum" => y < x,
            "minLength" | "minItems" | "minimum" | "exclusiveMinimum" => y > x,
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
            (Wording::Check, Fact::Changed(w, a, b)) => {
                format!("{w} is {b} in openapi.yaml, {a} in Hero's description")
            }
        }
    }

    /// Records a change; `note` (our client's view) is dropped in [`Wording::Check`], where ours is
    /// one of the two sides.
    fn push(&mut self, class: Class, location: &str, fact: Fact, note: &str) {
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
                .filter_map(|s| s["url"].as_str())
                .map(|u| u.trim_end_matches('/').to_owned())
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
        for k in keys {
            let loc = format!("security scheme {k}");
            let get = |m: Option<&'a serde_json::Map<String, Value>>| m.and_then(|m| m.get(k));
            match (get(a), get(b)) {
                (Some(_), None) => self.push(Class::Breaking, &loc, Fact::Removed("it".into()), ""),
                (None, Some(_)) => self.push(Class::Info, &loc, Fact::Added("it".into()), ""),
                (Some(x), Some(y)) => {
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
                (None, None) => {}
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
        let effective = |doc: &Value, op: &Value| -> BTreeSet<BTreeSet<String>> {
            let sec = op.get("security").unwrap_or(&doc["security"]);
            sec.as_array()
                .into_iter()
                .flatten()
                .map(|alt| {
                    alt.as_object()
                        .into_iter()
                        .flat_map(|m| m.keys().cloned())
                        .collect()
                })
                .collect()
        };
        let (a, b) = (effective(self.old, o), effective(self.new, n));
        if a == b {
            return;
        }
        let show_sec = |s: &BTreeSet<BTreeSet<String>>| {
            if s.is_empty() || s.iter().all(BTreeSet::is_empty) {
                return "none".to_owned();
            }
            s.iter()
                .map(|alt| format!("[{}]", names(alt)))
                .collect::<Vec<_>>()
                .join(" or ")
        };
        let sends: BTreeSet<String> = match (self.ours, ours) {
            (Some(doc), Some(op)) => effective(doc, op).into_iter().flatten().collect(),
            _ => a.iter().flatten().cloned().collect(),
        };
        let satisfied = b.is_empty() || b.iter().any(|alt| alt.is_subset(&sends));
        let (class, note) = if satisfied {
            (Class::Info, " (our client sends what it asks for)")
        } else {
            (Class::Breaking, " (our client does not send it)")
        };
        let fact = Fact::Changed("security".into(), show_sec(&a), show_sec(&b));
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
        } else if o_op.path != n_op.path {
            self.push(
                Class::Info,
                &loc,
                Fact::Changed(
                    "the path parameter names".into(),
                    o_op.path.clone(),
                    n_op.path.clone(),
                ),
                " (the URL is the same)",
            );
        }
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

    fn deprecated(&mut self, loc: &str, a: &Value, b: &Value) {
        let fact = |x: &str, y: &str| Fact::Changed("it".into(), x.into(), y.into());
        match (a["deprecated"] == true, b["deprecated"] == true) {
            (false, true) => self.push(
                Class::Warning,
                loc,
                fact("not deprecated", "deprecated"),
                "",
            ),
            (true, false) => self.push(Class::Info, loc, fact("deprecated", "not deprecated"), ""),
            _ => {}
        }
    }

    /// An operation's parameters with the path item's, resolved, keyed by `(in, name)`; path
    /// parameters by their position in the path, so that a renamed one is the same parameter.
    fn params(
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
                _ => name.to_owned(),
            };
            out.insert((place.to_owned(), key), (name.to_owned(), p));
        }
        out
    }

    fn parameters(
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
                    self.schema(Dir::Request, &ploc, &a["schema"], &b["schema"], ours_schema);
                }
                (None, None) => {}
            }
        }
    }

    /// A flag `required` going from `a` to `b`, judged by ours (`ours_required`) when known.
    fn required(&mut self, loc: &str, dir: Dir, a: bool, b: bool, ours_required: Option<bool>) {
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
    fn style(&mut self, loc: &str, place: &str, a: &Value, b: &Value, ours: Option<&Value>) {
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

    /// The media type whose schema is compared: ours, else JSON, else the first.
    fn media(content: &Value, prefer: Option<&str>) -> Option<String> {
        let m = content.as_object()?;
        prefer
            .filter(|p| m.contains_key(*p))
            .map(str::to_owned)
            .or_else(|| m.keys().find(|k| *k == "application/json").cloned())
            .or_else(|| m.keys().find(|k| k.contains("json")).cloned())
            .or_else(|| m.keys().next().cloned())
    }

    fn request_body(&mut self, loc: &str, o: &Value, n: &Value, ours: Option<&Value>) {
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
                let keys = |x: &Value| -> BTreeSet<String> {
                    x["content"]
                        .as_object()
                        .into_iter()
                        .flat_map(|m| m.keys().cloned())
                        .collect()
                };
                let (ka, kb) = (keys(&a), keys(&b));
                let sent = ours_body
                    .as_ref()
                    .and_then(|x| Self::media(&x["content"], None));
                for m in ka.difference(&kb) {
                    let (class, note) = match &sent {
                        Some(s) if s != m => (Class::Info, " (our client does not send it)"),
                        Some(_) => (Class::Breaking, " (our client sends it)"),
                        None => (Class::Breaking, ""),
                    };
                    self.push(
                        class,
                        &bloc,
                        Fact::Removed(format!("media type `{m}`")),
                        note,
                    );
                }
                for m in kb.difference(&ka) {
                    self.push(
                        Class::Info,
                        &bloc,
                        Fact::Added(format!("media type `{m}`")),
                        "",
                    );
                }
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

    fn responses(&mut self, loc: &str, o: &Value, n: &Value, ours: Option<&Value>) {
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

    fn open_enum(&self, ours: Option<&Value>) -> bool {
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

    fn schema(&mut self, dir: Dir, loc: &str, a: &Value, b: &Value, ours: Option<&Value>) {
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

    fn compare(
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

    fn deprecated_schema(&mut self, loc: &str, a: &Norm, b: &Norm) {
        let to_value = |d: bool| serde_json::json!({ "deprecated": d });
        self.deprecated(loc, &to_value(a.deprecated), &to_value(b.deprecated));
    }

    fn limits(&mut self, dir: Dir, loc: &str, a: &Norm, b: &Norm, ours: Option<&Norm>) {
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

    fn values(&mut self, dir: Dir, loc: &str, a: &Norm, b: &Norm, ours: Option<&Norm>, open: bool) {
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

    fn properties(&mut self, dir: Dir, loc: &str, a: &Norm, b: &Norm, ours: Option<&Norm>) {
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

    fn variants(&mut self, dir: Dir, loc: &str, a: &Norm, b: &Norm, ours: Option<&Norm>) {
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
