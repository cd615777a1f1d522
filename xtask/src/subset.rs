//! Which operations we carry, how an operation on one side is found on the other (by path shape,
//! then by operationId), and the subset of Hero's description that `regen` saves: our operations
//! and the components they use, in Hero's own key order.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use serde_yaml::{Mapping, Value as Yaml};

/// The HTTP methods a path item may hold.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The snapshot's record of the operations under our tags that we do not carry, so that only new
/// ones are reported.
pub const NOT_CARRIED: &str = crate::dialect::NOT_CARRIED;

/// One operation of a description.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Operation {
    /// Upper-case method.
    pub method: String,
    /// The path as written (`/v1/batch_message/{id}`).
    pub path: String,
    /// Its operationId, if any.
    pub id: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
}

impl Operation {
    /// `GET /v1/batch_message/{id}`: how reports name it.
    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// `GET /v1/batch_message/{}`: the path with its parameter names left out.
    pub fn shape(&self) -> String {
        format!("{} {}", self.method, shape(&self.path))
    }
}

/// A path with its parameter names left out: `/v1/batch_message/{id}` -> `/v1/batch_message/{}`.
pub fn shape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    for ch in path.chars() {
        match ch {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(ch),
        }
    }
    out
}

/// The names of a path's parameters, in order.
pub fn path_params(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(n, _)| n.to_owned()))
        .collect()
}

/// Follows a local `$ref` (`#/...`). The fragment is a URI fragment, so `%7B` and `{` name the
/// same key; `~1` and `~0` are JSON Pointer's `/` and `~`.
pub fn pointer<'a>(doc: &'a Value, r: &str) -> Option<&'a Value> {
    doc.pointer(&percent_decode(r.strip_prefix('#')?))
}

/// `text` with its `%XX` escapes decoded (an escape that is not one is kept as written): a `$ref`
/// as the place it names, however it is spelled.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// A path item, its `$ref` followed.
pub fn path_item<'a>(doc: &'a Value, item: &'a Value) -> &'a Value {
    item["$ref"]
        .as_str()
        .and_then(|r| pointer(doc, r))
        .unwrap_or(item)
}

/// Every operation in `doc`, in path order.
pub fn operations(doc: &Value) -> Vec<Operation> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let item = path_item(doc, item);
        for m in METHODS {
            if let Some(op) = item.get(m) {
                ops.push(Operation {
                    method: m.to_uppercase(),
                    path: path.clone(),
                    id: op["operationId"].as_str().map(str::to_owned),
                    tags: op["tags"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|t| t.as_str().map(str::to_owned))
                        .collect(),
                });
            }
        }
    }
    ops
}

/// Pairs the operations of two descriptions: first by method and path shape (so a renamed path
/// parameter is the same operation), then the rest by operationId (so a moved operation is a move).
/// Unpaired operations come with `None` on the other side.
pub fn pair(a: &[Operation], b: &[Operation]) -> Vec<(Option<Operation>, Option<Operation>)> {
    let mut out = Vec::new();
    let mut b_left: Vec<Option<&Operation>> = b.iter().map(Some).collect();
    let mut a_left = Vec::new();
    for x in a {
        let found = b_left
            .iter_mut()
            .find(|y| y.is_some_and(|y| y.shape() == x.shape()));
        match found.and_then(Option::take) {
            Some(y) => out.push((Some(x.clone()), Some(y.clone()))),
            None => a_left.push(x),
        }
    }
    for x in a_left {
        let found = b_left
            .iter_mut()
            .find(|y| y.is_some_and(|y| y.method == x.method && y.id.is_some() && y.id == x.id));
        match found.and_then(Option::take) {
            Some(y) => out.push((Some(x.clone()), Some(y.clone()))),
            None => out.push((Some(x.clone()), None)),
        }
    }
    out.extend(
        b_left
            .into_iter()
            .flatten()
            .map(|y| (None, Some(y.clone()))),
    );
    out
}

/// The upstream operations that pair with one of `ours`.
pub fn carried(upstream: &Value, ours: &Value) -> Vec<Operation> {
    pair(&operations(ours), &operations(upstream))
        .into_iter()
        .filter_map(|(o, u)| o.and(u))
        .collect()
}

/// The part of `upstream` we carry, in upstream's key order: the operations that pair with one of
/// `ours`, their path items' other fields (path-level parameters), the components they use
/// (transitively) and the security schemes they use, `$ref`s into other paths inlined, and the tags used. The
/// operations under those tags that we do not carry are recorded under [`NOT_CARRIED`].
pub fn subset(upstream: &Yaml, ours: &Value) -> Yaml {
    let json = serde_json::to_value(upstream).unwrap_or_default();
    let keep = carried(&json, ours);
    let kept: BTreeSet<(String, String)> = keep
        .iter()
        .map(|o| (o.method.to_lowercase(), o.path.clone()))
        .collect();
    let tags: BTreeSet<&String> = keep.iter().flat_map(|o| &o.tags).collect();
    let not_carried: Vec<Yaml> = operations(&json)
        .into_iter()
        .filter(|o| !kept.contains(&(o.method.to_lowercase(), o.path.clone())))
        .filter(|o| o.tags.iter().any(|t| tags.contains(t)))
        .map(|o| Yaml::String(not_carried_name(&o)))
        .collect();
    // A snapshot subset again keeps its record.
    let mut not_carried = not_carried;
    for known in upstream
        .get(NOT_CARRIED)
        .and_then(Yaml::as_sequence)
        .into_iter()
        .flatten()
    {
        if !not_carried.contains(known) {
            not_carried.push(known.clone());
        }
    }

    let mut paths = Mapping::new();
    for (path, item) in upstream
        .get("paths")
        .and_then(Yaml::as_mapping)
        .into_iter()
        .flatten()
    {
        let Some(path_str) = path.as_str() else {
            continue;
        };
        let item = inline_path_refs(upstream, item, 0);
        let Some(item) = item.as_mapping() else {
            continue;
        };
        let mut out = Mapping::new();
        for (k, v) in item {
            let key = k.as_str().unwrap_or_default();
            if !METHODS.contains(&key) || kept.contains(&(key.to_owned(), path_str.to_owned())) {
                out.insert(k.clone(), v.clone());
            }
        }
        if out
            .keys()
            .any(|k| METHODS.contains(&k.as_str().unwrap_or_default()))
        {
            paths.insert(path.clone(), Yaml::Mapping(out));
        }
    }
    let paths = Yaml::Mapping(paths);

    // Components reachable from the kept paths, transitively.
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut todo: Vec<Value> = vec![serde_json::to_value(&paths).unwrap_or_default()];
    while let Some(v) = todo.pop() {
        let mut refs = Vec::new();
        collect_refs(&v, &mut refs);
        for r in refs {
            let r = percent_decode(&r);
            if used.insert(r.clone())
                && let Some(target) = pointer(&json, &r)
            {
                todo.push(target.clone());
            }
        }
    }
    // The security schemes the kept operations use.
    let schemes: BTreeSet<String> = keep
        .iter()
        .flat_map(|o| {
            let op = &path_item(&json, &json["paths"][&o.path])[o.method.to_lowercase()];
            let sec = op.get("security").unwrap_or(&json["security"]);
            sec.as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_object)
                .flat_map(|alt| alt.keys().cloned())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut components = Mapping::new();
    for (kind, items) in upstream
        .get("components")
        .and_then(Yaml::as_mapping)
        .into_iter()
        .flatten()
    {
        let (Some(kind_str), Some(items)) = (kind.as_str(), items.as_mapping()) else {
            continue;
        };
        let kept: Mapping = items
            .iter()
            .filter(|(name, _)| {
                (kind_str == "securitySchemes"
                    && schemes.contains(name.as_str().unwrap_or_default()))
                    || used.contains(&format!(
                        "#/components/{kind_str}/{}",
                        escape(name.as_str().unwrap_or_default())
                    ))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !kept.is_empty() {
            components.insert(kind.clone(), Yaml::Mapping(kept));
        }
    }

    let mut out = Mapping::new();
    for (k, v) in upstream.as_mapping().into_iter().flatten() {
        match k.as_str().unwrap_or_default() {
            "openapi" | "info" | "jsonSchemaDialect" | "servers" | "security" => {
                out.insert(k.clone(), v.clone());
            }
            "tags" => {
                let used_tags: Vec<Yaml> = v
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .filter(|t| {
                        t.get("name")
                            .and_then(Yaml::as_str)
                            .is_some_and(|n| tags.iter().any(|x| x.as_str() == n))
                    })
                    .cloned()
                    .collect();
                out.insert(k.clone(), Yaml::Sequence(used_tags));
            }
            "paths" => {
                out.insert(k.clone(), paths.clone());
            }
            "components" => {
                out.insert(k.clone(), Yaml::Mapping(components.clone()));
            }
            _ => {}
        }
    }
    // Recorded once there are tags to go by (the hand-written first snapshot has none).
    if !tags.is_empty() || upstream.get(NOT_CARRIED).is_some() {
        out.insert(NOT_CARRIED.into(), Yaml::Sequence(not_carried));
    }
    Yaml::Mapping(out)
}

/// How [`NOT_CARRIED`] names an operation: `GET /v1/patients (listPatients)`.
pub fn not_carried_name(o: &Operation) -> String {
    match &o.id {
        Some(id) => format!("{} ({id})", o.name()),
        None => o.name(),
    }
}

fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// Replaces `$ref`s into `#/paths/...` (and a path item's own `$ref`) by their targets, so that the
/// subset holds no reference to a path it does not carry.
fn inline_path_refs(doc: &Yaml, v: &Yaml, depth: usize) -> Yaml {
    if depth > 32 {
        return v.clone();
    }
    match v {
        Yaml::Mapping(map) => {
            if let Some(r) = map.get("$ref").and_then(Yaml::as_str)
                && (r.starts_with("#/paths/") || (depth == 0 && r.starts_with("#/")))
                && let Some(target) = yaml_pointer(doc, r)
            {
                return inline_path_refs(doc, target, depth + 1);
            }
            Yaml::Mapping(
                map.iter()
                    .map(|(k, v)| (k.clone(), inline_path_refs(doc, v, depth + 1)))
                    .collect(),
            )
        }
        Yaml::Sequence(items) => Yaml::Sequence(
            items
                .iter()
                .map(|v| inline_path_refs(doc, v, depth + 1))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn yaml_pointer<'a>(doc: &'a Yaml, r: &str) -> Option<&'a Yaml> {
    let mut v = doc;
    for seg in percent_decode(r.strip_prefix("#/")?).split('/') {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        v = match v {
            Yaml::Mapping(m) => m.get(seg.as_str()).or_else(|| {
                seg.parse::<u64>()
                    .ok()
                    .and_then(|n| m.get(Yaml::Number(n.into())))
            })?,
            Yaml::Sequence(s) => s.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

/// Every `$ref` in `v`.
pub fn collect_refs(v: &Value, out: &mut Vec<String>) {
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

/// The operations of `new` paired with none of `old`'s: what a snapshot written from `new` would
/// lose. Keyed by name.
pub fn lost(old: &Value, new: &Value) -> BTreeMap<String, Operation> {
    pair(&operations(old), &operations(new))
        .into_iter()
        .filter_map(|(o, n)| match (o, n) {
            (Some(o), None) => Some((o.name(), o)),
            _ => None,
        })
        .collect()
}
