//! Maintainer tasks for the herohealth API description: load Hero's published description, keep the
//! messaging subset we carry, and classify what changed between two descriptions the way oasdiff
//! does (breaking, warning, info), judged for *our* client's types.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Hero's published description of its whole public API.
pub const UPSTREAM_URL: &str =
    "https://developer.herohealth.net/_bundle/apis/public-api/openapi.yaml";

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Reads a description from a URL or a file, YAML or JSON.
pub fn load(source: &str) -> Result<Value, String> {
    let text = if source.starts_with("https://") || source.starts_with("http://") {
        reqwest::blocking::get(source)
            .and_then(reqwest::blocking::Response::error_for_status)
            .and_then(reqwest::blocking::Response::text)
            .map_err(|e| format!("cannot fetch {source}: {e}"))?
    } else {
        std::fs::read_to_string(source).map_err(|e| format!("cannot read {source}: {e}"))?
    };
    parse(&text).map_err(|e| format!("{source}: {e}"))
}

/// Parses YAML or JSON text.
pub fn parse(text: &str) -> Result<Value, String> {
    serde_yaml::from_str::<Value>(text).map_err(|e| format!("not a YAML or JSON document: {e}"))
}

/// `(METHOD, path)` of every operation in `doc`.
pub fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for m in METHODS {
                if item.get(m).is_some() {
                    ops.insert((m.to_uppercase(), path.clone()));
                }
            }
        }
    }
    ops
}

/// The part of `upstream` we carry: the operations `ours` has, and the components they use.
pub fn subset(upstream: &Value, ours: &Value) -> Value {
    let keep = operations(ours);
    let mut paths = Map::new();
    if let Some(all) = upstream["paths"].as_object() {
        for (path, item) in all {
            let Some(item) = item.as_object() else {
                continue;
            };
            let mut kept = Map::new();
            for (k, v) in item {
                let is_op = METHODS.contains(&k.as_str());
                if !is_op || keep.contains(&(k.to_uppercase(), path.clone())) {
                    kept.insert(k.clone(), v.clone());
                }
            }
            if kept.keys().any(|k| METHODS.contains(&k.as_str())) {
                paths.insert(path.clone(), Value::Object(kept));
            }
        }
    }
    // Components reachable from the kept paths, transitively.
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut todo: Vec<Value> = vec![Value::Object(paths.clone())];
    while let Some(v) = todo.pop() {
        let mut refs = Vec::new();
        collect_refs(&v, &mut refs);
        for r in refs {
            if used.insert(r.clone())
                && let Some(target) = pointer(upstream, &r)
            {
                todo.push(target.clone());
            }
        }
    }
    let mut components = Map::new();
    if let Some(all) = upstream["components"].as_object() {
        for (kind, items) in all {
            let Some(items) = items.as_object() else {
                continue;
            };
            let kept: Map<String, Value> = items
                .iter()
                .filter(|(name, _)| {
                    kind == "securitySchemes"
                        || used.contains(&format!("#/components/{kind}/{name}"))
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !kept.is_empty() {
                components.insert(kind.clone(), Value::Object(kept));
            }
        }
    }
    let mut out = Map::new();
    for key in ["openapi", "info", "servers", "security"] {
        if let Some(v) = upstream.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    out.insert("paths".to_owned(), Value::Object(paths));
    out.insert("components".to_owned(), Value::Object(components));
    Value::Object(out)
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

fn pointer<'a>(doc: &'a Value, r: &str) -> Option<&'a Value> {
    doc.pointer(r.strip_prefix('#')?)
}

/// How much a change matters to our users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// Code that works today may fail: an operation or field removed, a type changed, something
    /// made required, an enum value removed from a request or added to a response we decode closed.
    Breaking,
    /// Worth a look: behaviour may change but our types still work.
    Warning,
    /// Additions.
    Info,
}

/// One change between two descriptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Breaking, warning or info.
    pub class: Class,
    /// Where: `GET /v2/sent_messages response 200 data[].status`.
    pub location: String,
    /// What.
    pub message: String,
    /// The location is one our `openapi.yaml` corrects: a person must decide.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub touches_correction: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Request,
    Response,
}

struct Differ<'a> {
    old: &'a Value,
    new: &'a Value,
    ours: Option<&'a Value>,
    changes: Vec<Change>,
}

/// Every change from `old` to `new`. `ours` (our `openapi.yaml`) decides whether a response enum
/// is forward-compatible in our client (a schema with `x-herohealth-rust-type` in `crate::enums`).
pub fn diff(old: &Value, new: &Value, ours: Option<&Value>) -> Vec<Change> {
    let mut d = Differ {
        old,
        new,
        ours,
        changes: Vec::new(),
    };
    let all: BTreeSet<(String, String)> =
        operations(old).union(&operations(new)).cloned().collect();
    for (method, path) in all {
        let loc = format!("{method} {path}");
        let m = method.to_lowercase();
        let (o, n) = (old["paths"][&path].get(&m), new["paths"][&path].get(&m));
        match (o, n) {
            (Some(_), None) => d.push(Class::Breaking, &loc, "operation removed"),
            (None, Some(_)) => d.push(Class::Info, &loc, "operation added"),
            (Some(o), Some(n)) => {
                let ours_op = ours.and_then(|x| x["paths"][&path].get(&m));
                d.operation(&loc, o, n, ours_op);
            }
            (None, None) => {}
        }
    }
    d.changes.sort_by(|a, b| {
        (a.class, &a.location, &a.message).cmp(&(b.class, &b.location, &b.message))
    });
    d.changes
}

impl<'a> Differ<'a> {
    fn push(&mut self, class: Class, location: &str, message: impl Into<String>) {
        self.changes.push(Change {
            class,
            location: location.to_owned(),
            message: message.into(),
            touches_correction: false,
        });
    }

    fn params(doc: &'a Value, op: &'a Value) -> BTreeMap<(String, String), &'a Value> {
        let mut out = BTreeMap::new();
        for p in op["parameters"].as_array().into_iter().flatten() {
            let p = resolve(doc, p);
            if let (Some(i), Some(n)) = (p["in"].as_str(), p["name"].as_str()) {
                out.insert((i.to_owned(), n.to_owned()), p);
            }
        }
        out
    }

    fn operation(&mut self, loc: &str, o: &'a Value, n: &'a Value, ours: Option<&'a Value>) {
        let (po, pn) = (Self::params(self.old, o), Self::params(self.new, n));
        let pours = ours
            .zip(self.ours)
            .map(|(op, doc)| Self::params(doc, op))
            .unwrap_or_default();
        let keys: BTreeSet<_> = po.keys().chain(pn.keys()).cloned().collect();
        for key in keys {
            let ploc = format!("{loc} parameter {} {}", key.0, key.1);
            match (po.get(&key), pn.get(&key)) {
                (Some(_), None) => self.push(
                    Class::Warning,
                    &ploc,
                    "parameter removed (the client may still send it)",
                ),
                (None, Some(p)) if p["required"] == true => {
                    self.push(Class::Breaking, &ploc, "required parameter added")
                }
                (None, Some(_)) => self.push(Class::Info, &ploc, "optional parameter added"),
                (Some(a), Some(b)) => {
                    match (a["required"] == true, b["required"] == true) {
                        (false, true) => {
                            self.push(Class::Breaking, &ploc, "parameter made required")
                        }
                        (true, false) => self.push(Class::Info, &ploc, "parameter made optional"),
                        _ => {}
                    }
                    let ours_schema = pours.get(&key).map(|p| &p["schema"]);
                    self.schema(
                        Dir::Request,
                        &ploc,
                        &a["schema"],
                        &b["schema"],
                        ours_schema,
                        0,
                    );
                }
                (None, None) => {}
            }
        }
        let json = |body: &'a Value| body["content"]["application/json"].get("schema");
        let body = |doc: &'a Value, op: &'a Value| op.get("requestBody").map(|b| resolve(doc, b));
        let bloc = format!("{loc} request body");
        match (body(self.old, o), body(self.new, n)) {
            (Some(_), None) => self.push(Class::Warning, &bloc, "request body removed"),
            (None, Some(b)) if b["required"] == true => {
                self.push(Class::Breaking, &bloc, "required request body added")
            }
            (None, Some(_)) => self.push(Class::Info, &bloc, "optional request body added"),
            (Some(a), Some(b)) => {
                if let (Some(sa), Some(sb)) = (json(a), json(b)) {
                    let ours_schema = ours
                        .and_then(|op| self.ours.map(|doc| resolve(doc, &op["requestBody"])))
                        .and_then(json);
                    self.schema(Dir::Request, &bloc, sa, sb, ours_schema, 0);
                }
            }
            (None, None) => {}
        }
        let codes: BTreeSet<String> = [o, n]
            .iter()
            .flat_map(|op| {
                op["responses"]
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.keys().cloned())
            })
            .collect();
        for code in codes {
            let rloc = format!("{loc} response {code}");
            let success = code.starts_with('2');
            let resp =
                |doc: &'a Value, op: &'a Value| op["responses"].get(&code).map(|r| resolve(doc, r));
            match (resp(self.old, o), resp(self.new, n)) {
                (Some(_), None) if success => {
                    self.push(Class::Breaking, &rloc, "success response removed")
                }
                (Some(_), None) => self.push(Class::Info, &rloc, "error response removed"),
                (None, Some(_)) if success => {
                    self.push(Class::Warning, &rloc, "success response added")
                }
                (None, Some(_)) => self.push(Class::Info, &rloc, "error response added"),
                (Some(a), Some(b)) => {
                    let s = |r: &'a Value| r["content"]["application/json"].get("schema");
                    match (s(a), s(b)) {
                        (Some(sa), Some(sb)) => {
                            let ours_schema = ours
                                .and_then(|op| {
                                    self.ours.and_then(|doc| {
                                        op["responses"].get(&code).map(|r| resolve(doc, r))
                                    })
                                })
                                .and_then(s);
                            self.schema(Dir::Response, &rloc, sa, sb, ours_schema, 0);
                        }
                        (None, Some(_)) => self.push(Class::Warning, &rloc, "response body added"),
                        (Some(_), None) if success => {
                            self.push(Class::Breaking, &rloc, "response body removed")
                        }
                        _ => {}
                    }
                }
                (None, None) => {}
            }
        }
    }

    fn open_enum(&self, ours: Option<&Value>) -> bool {
        let Some(doc) = self.ours else { return false };
        let mut s = ours;
        for _ in 0..8 {
            let Some(v) = s else { return false };
            if v["x-herohealth-rust-type"]
                .as_str()
                .is_some_and(|t| t.starts_with("crate::enums::"))
            {
                return true;
            }
            s = if let Some(r) = v["$ref"].as_str() {
                pointer(doc, r)
            } else if let Some([one]) = v["allOf"].as_array().map(Vec::as_slice) {
                Some(one)
            } else {
                None
            };
        }
        false
    }

    fn schema(
        &mut self,
        dir: Dir,
        loc: &str,
        a: &'a Value,
        b: &'a Value,
        ours: Option<&'a Value>,
        depth: usize,
    ) {
        if depth > 24 {
            return;
        }
        let open = self.open_enum(ours);
        let (a, b) = (resolve(self.old, a), resolve(self.new, b));
        let ours = ours.zip(self.ours).map(|(s, doc)| resolve(doc, s));
        let (ta, tb) = (a["type"].as_str(), b["type"].as_str());
        if let (Some(x), Some(y)) = (ta, tb)
            && x != y
        {
            self.push(
                Class::Breaking,
                loc,
                format!("type changed from {x} to {y}"),
            );
            return;
        }
        match (a["nullable"] == true, b["nullable"] == true) {
            (false, true) if dir == Dir::Response => {
                self.push(Class::Breaking, loc, "may now be null")
            }
            (false, true) => self.push(Class::Info, loc, "may now be null"),
            (true, false) if dir == Dir::Request => {
                self.push(Class::Breaking, loc, "may no longer be null")
            }
            (true, false) => self.push(Class::Info, loc, "is no longer null"),
            _ => {}
        }
        if a["format"] != b["format"] {
            self.push(
                Class::Warning,
                loc,
                format!(
                    "format changed from {} to {}",
                    show(&a["format"]),
                    show(&b["format"])
                ),
            );
        }
        if a["pattern"] != b["pattern"] {
            self.push(
                Class::Warning,
                loc,
                format!(
                    "pattern changed from {} to {}",
                    show(&a["pattern"]),
                    show(&b["pattern"])
                ),
            );
        }
        let values = |s: &Value| -> BTreeSet<String> {
            s["enum"]
                .as_array()
                .into_iter()
                .flatten()
                .map(show)
                .collect()
        };
        let (ea, eb) = (values(a), values(b));
        if !ea.is_empty() || !eb.is_empty() {
            for v in ea.difference(&eb) {
                let class = if dir == Dir::Request {
                    Class::Breaking
                } else {
                    Class::Info
                };
                self.push(class, loc, format!("enum value {v} removed"));
            }
            for v in eb.difference(&ea) {
                let class = match dir {
                    Dir::Request => Class::Info,
                    Dir::Response if open => Class::Warning,
                    Dir::Response => Class::Breaking,
                };
                let note = if dir == Dir::Response && open {
                    " (our client decodes it as Unknown)"
                } else {
                    ""
                };
                self.push(class, loc, format!("enum value {v} added{note}"));
            }
        }
        let req = |s: &Value| -> BTreeSet<String> {
            s["required"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect()
        };
        let (ra, rb) = (req(a), req(b));
        let props = |s: &'a Value| s["properties"].as_object();
        let keys: BTreeSet<String> = props(a)
            .into_iter()
            .chain(props(b))
            .flat_map(|m| m.keys().cloned())
            .collect();
        for k in keys {
            let ploc = format!("{loc} {k}");
            let ours_prop = ours.and_then(|o| o["properties"].get(&k));
            match (a["properties"].get(&k), b["properties"].get(&k)) {
                (Some(_), None) => match dir {
                    Dir::Response if ra.contains(&k) => {
                        self.push(Class::Breaking, &ploc, "required property removed")
                    }
                    Dir::Response => self.push(Class::Warning, &ploc, "optional property removed"),
                    Dir::Request => self.push(
                        Class::Warning,
                        &ploc,
                        "property removed (the client may still send it)",
                    ),
                },
                (None, Some(_)) => match dir {
                    Dir::Request if rb.contains(&k) => {
                        self.push(Class::Breaking, &ploc, "required property added")
                    }
                    _ => self.push(Class::Info, &ploc, "property added"),
                },
                (Some(x), Some(y)) => {
                    match (ra.contains(&k), rb.contains(&k), dir) {
                        (false, true, Dir::Request) => {
                            self.push(Class::Breaking, &ploc, "property made required")
                        }
                        (true, false, Dir::Response) => {
                            self.push(Class::Breaking, &ploc, "property no longer required")
                        }
                        (false, true, Dir::Response) => {
                            self.push(Class::Info, &ploc, "property made required")
                        }
                        (true, false, Dir::Request) => {
                            self.push(Class::Info, &ploc, "property made optional")
                        }
                        _ => {}
                    }
                    self.schema(dir, &ploc, x, y, ours_prop, depth + 1);
                }
                (None, None) => {}
            }
        }
        if let (Some(x), Some(y)) = (a.get("items"), b.get("items")) {
            self.schema(
                dir,
                &format!("{loc}[]"),
                x,
                y,
                ours.and_then(|o| o.get("items")),
                depth + 1,
            );
        }
        for combinator in ["oneOf", "anyOf", "allOf"] {
            let (xa, xb) = (a[combinator].as_array(), b[combinator].as_array());
            match (xa, xb) {
                (Some(x), Some(y)) => {
                    if x.len() != y.len() {
                        self.push(
                            Class::Warning,
                            loc,
                            format!("{combinator} has {} variants, had {}", y.len(), x.len()),
                        );
                    }
                    for (i, (p, q)) in x.iter().zip(y).enumerate() {
                        let ours_v = ours.and_then(|o| o[combinator].get(i));
                        self.schema(
                            dir,
                            &format!("{loc} <{combinator} {i}>"),
                            p,
                            q,
                            ours_v,
                            depth + 1,
                        );
                    }
                }
                (None, Some(_)) => self.push(Class::Warning, loc, format!("now a {combinator}")),
                (Some(_), None) => {
                    self.push(Class::Warning, loc, format!("no longer a {combinator}"))
                }
                (None, None) => {}
            }
        }
    }
}

/// Follows `$ref`s, and `allOf` of a single schema (a way of naming a type, not a change of shape).
fn resolve<'v>(doc: &'v Value, v: &'v Value) -> &'v Value {
    let mut v = v;
    for _ in 0..16 {
        if let Some(target) = v["$ref"].as_str().and_then(|r| pointer(doc, r)) {
            v = target;
        } else if let Some([one]) = v["allOf"].as_array().map(Vec::as_slice)
            && v.get("type").is_none()
            && v.get("properties").is_none()
        {
            v = one;
        } else {
            break;
        }
    }
    v
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        Value::Null => "none".to_owned(),
        other => format!("`{other}`"),
    }
}

/// A recorded difference between our `openapi.yaml` and Hero's description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// A location prefix (as in [`Change::location`]); `*` matches any text.
    pub location: String,
    /// Why our description differs.
    pub reason: String,
}

impl Correction {
    /// Whether this correction covers a change at `location`.
    pub fn covers(&self, location: &str) -> bool {
        glob_prefix(&self.location, location)
    }
}

/// `pattern` (with `*` for any text) matches the start of `text`.
fn glob_prefix(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for part in parts {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// Marks the changes whose location one of `corrections` covers.
pub fn mark_corrections(changes: &mut [Change], corrections: &[Correction]) {
    for c in changes {
        c.touches_correction = corrections.iter().any(|k| k.covers(&c.location));
    }
}

/// The report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain text.
    Text,
    /// JSON, one object with every change.
    Json,
    /// A Markdown table (for a pull request).
    Markdown,
}

/// The change report.
pub fn report(changes: &[Change], format: Format) -> String {
    let count = |c: Class| changes.iter().filter(|x| x.class == c).count();
    let summary = format!(
        "{} breaking, {} warning, {} info; {} touch our corrections",
        count(Class::Breaking),
        count(Class::Warning),
        count(Class::Info),
        changes.iter().filter(|c| c.touches_correction).count()
    );
    match format {
        Format::Json => serde_json::to_string_pretty(
            &serde_json::json!({"summary": summary, "changes": changes}),
        )
        .unwrap_or_default(),
        Format::Text => {
            let mut out = String::new();
            for c in changes {
                let mark = if c.touches_correction {
                    "  [touches a correction: review by hand]"
                } else {
                    ""
                };
                out.push_str(&format!(
                    "{:<8} {}: {}{mark}\n",
                    format!("{:?}", c.class).to_lowercase(),
                    c.location,
                    c.message
                ));
            }
            out.push_str(&summary);
            out.push('\n');
            out
        }
        Format::Markdown => {
            let mut out = String::from(
                "| class | location | change | correction |\n| --- | --- | --- | --- |\n",
            );
            for c in changes {
                let class = format!("{:?}", c.class).to_lowercase();
                let corr = if c.touches_correction {
                    "review by hand"
                } else {
                    ""
                };
                out.push_str(&format!(
                    "| {class} | `{}` | {} | {corr} |\n",
                    c.location,
                    c.message.replace('|', "\\|")
                ));
            }
            out.push_str(&format!("\n{summary}\n"));
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_prefixes() {
        assert!(glob_prefix(
            "GET /v2/sent_messages parameter query page_",
            "GET /v2/sent_messages parameter query page_index"
        ));
        assert!(glob_prefix(
            "* response 4*",
            "POST /v1/messages/send response 401"
        ));
        assert!(!glob_prefix(
            "* response 4*",
            "POST /v1/messages/send response 200"
        ));
    }
}
