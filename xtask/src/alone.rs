//! Operations of ours alone: every operation `openapi.yaml` carries is in the snapshot
//! (`spec/upstream.yaml`), or is marked there under `x-herohealth-ours-alone` with why Hero's
//! description lacks it. `check` holds the two in step; `regen` carries the marks over to the new
//! snapshot, and drops a mark once Hero's description has the operation.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    dialect::OURS_ALONE,
    subset::{Operation, operations, pair},
};

/// A mark: an operation of `openapi.yaml` that Hero's description lacks, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// `METHOD path`, as reports name operations (`DELETE /v1/webhooks/{id}`); path parameter
    /// names do not matter.
    pub operation: String,
    /// Why Hero's description lacks it.
    #[serde(default)]
    pub why: String,
}

/// The marks of a snapshot (as JSON); an entry that is not a mark is read as one with neither.
pub fn marks(snapshot: &Value) -> Vec<Mark> {
    snapshot[OURS_ALONE]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            serde_json::from_value(m.clone()).unwrap_or(Mark {
                operation: m["operation"].as_str().unwrap_or_default().to_owned(),
                why: String::new(),
            })
        })
        .collect()
}

/// `METHOD /path/{}`: an operation's name with its path parameters' names left out.
fn shape(name: &str) -> String {
    let (method, path) = name.split_once(' ').unwrap_or((name, ""));
    format!(
        "{} {}",
        method.to_uppercase(),
        crate::subset::shape(path.trim())
    )
}

/// Whether `mark` names operation `op`.
pub fn names(mark: &Mark, op: &Operation) -> bool {
    shape(&mark.operation) == op.shape()
}

/// What the marks and the snapshot say of `ours`' operations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Operations of ours neither in the snapshot nor marked (`METHOD path (operationId)`).
    pub missing: Vec<String>,
    /// Marks that do not hold, each with what is wrong.
    pub wrong: Vec<String>,
}

/// Checks every operation of `ours` against the snapshot (`snapshot`, as JSON, whole or subset)
/// and its marks.
pub fn coverage(snapshot: &Value, ours: &Value) -> Coverage {
    let ours_ops = operations(ours);
    let hero = operations(snapshot);
    let marks = marks(snapshot);
    let mut out = Coverage::default();
    for (o, h) in pair(&ours_ops, &hero) {
        let Some(o) = o else { continue };
        if h.is_none() && !marks.iter().any(|m| names(m, &o)) {
            out.missing.push(crate::subset::not_carried_name(&o));
        }
    }
    for m in &marks {
        let ours_op = ours_ops.iter().find(|o| names(m, o));
        let why = m.why.trim();
        if why.is_empty() {
            out.wrong
                .push(format!("{}: marked ours alone without a why", m.operation));
        }
        match ours_op {
            None => out.wrong.push(format!(
                "{}: marked ours alone, but openapi.yaml does not carry it",
                m.operation
            )),
            Some(o) if pair(std::slice::from_ref(o), &hero)[0].1.is_some() => {
                out.wrong.push(format!(
                    "{}: marked ours alone, but the snapshot has it",
                    m.operation
                ));
            }
            Some(_) => {}
        }
    }
    out
}

/// `ours` without the operations the marks name: what `check` compares with the snapshot.
pub fn without_marked(ours: &Value, marks: &[Mark]) -> Value {
    let mut out = ours.clone();
    for op in operations(ours) {
        if !marks.iter().any(|m| names(m, &op)) {
            continue;
        }
        if let Some(item) = out["paths"][&op.path].as_object_mut() {
            item.remove(&op.method.to_lowercase());
            let left = item
                .keys()
                .any(|k| crate::subset::METHODS.contains(&k.as_str()));
            if !left && let Some(paths) = out["paths"].as_object_mut() {
                paths.remove(&op.path);
            }
        }
    }
    out
}

/// The marks of `old` (the last snapshot) that still hold against `new` (the snapshot to save):
/// a mark whose operation `new` has is dropped (returned second: the operation's name in `new`).
pub fn carried(old: &Value, new: &Value) -> (Vec<Mark>, Vec<String>) {
    let hero = operations(new);
    let (mut kept, mut dropped) = (Vec::new(), Vec::new());
    for m in marks(old) {
        match hero.iter().find(|h| names(&m, h)) {
            Some(h) => dropped.push(h.name()),
            None => kept.push(m),
        }
    }
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(paths: Value, marks: Value) -> Value {
        json!({"openapi": "3.0.3", "paths": paths, OURS_ALONE: marks})
    }

    #[test]
    fn every_operation_is_in_the_snapshot_or_marked_with_why() {
        let ours = doc(
            json!({"/a": {"get": {"operationId": "a"}}, "/b/{id}": {"delete": {"operationId": "b"}}}),
            json!(null),
        );
        let bare = doc(json!({"/a": {"get": {}}}), json!(null));
        assert_eq!(coverage(&bare, &ours).missing, ["DELETE /b/{id} (b)"]);
        let marked = doc(
            json!({"/a": {"get": {}}}),
            json!([{"operation": "delete /b/{x}", "why": "unpublished"}]),
        );
        assert_eq!(coverage(&marked, &ours), Coverage::default());
        let no_why = doc(
            json!({"/a": {"get": {}}}),
            json!([{"operation": "DELETE /b/{id}"}]),
        );
        assert_eq!(
            coverage(&no_why, &ours).wrong,
            ["DELETE /b/{id}: marked ours alone without a why"]
        );
        let stale = doc(
            json!({"/a": {"get": {}}, "/b/{id}": {"delete": {}}}),
            json!([{"operation": "DELETE /b/{id}", "why": "x"}, {"operation": "GET /c", "why": "y"}]),
        );
        assert_eq!(
            coverage(&stale, &ours).wrong,
            [
                "DELETE /b/{id}: marked ours alone, but the snapshot has it",
                "GET /c: marked ours alone, but openapi.yaml does not carry it"
            ]
        );
        let checked = without_marked(&ours, &marks(&marked));
        assert_eq!(
            checked["paths"],
            json!({"/a": {"get": {"operationId": "a"}}})
        );
        let (kept, dropped) = carried(&marked, &stale);
        assert!(kept.is_empty());
        assert_eq!(dropped, ["DELETE /b/{id}"]);
    }
}
