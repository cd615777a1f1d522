//! Maintainer tasks for the herohealth API description: read Hero's published description
//! (OpenAPI 3.0 or 3.1, checked before use), keep the messaging subset we carry, and classify what
//! changed between two descriptions the way oasdiff does (breaking, warning, info), judged for
//! *our* client: what our `openapi.yaml` requires, sends and accepts.
//!
//! - [`input`]: reading and validating a description, its SHA-256.
//! - [`mod@subset`]: operations, how they pair across descriptions, the subset `regen` saves.
//! - [`normal`], [`meaning`], [`keywords`]: a schema's meaning, whichever way 3.0 or 3.1 spells
//!   it, keywords at their defaults left out.
//! - [`rust`]: our generated types, and what they decode and send.
//! - [`mod@diff`]: the comparison, judged by them.
//! - [`docs`]: every response type and field of ours has a description (`check`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod alone;
/// The `x-herohealth-*` extensions: the same file `build.rs` reads (one dialect).
#[path = "../../build/dialect.rs"]
pub mod dialect;
pub mod diff;
pub mod docs;
pub mod input;
pub mod keywords;
pub mod meaning;
pub mod normal;
pub mod rust;
pub mod subset;

use serde::{Deserialize, Serialize};

pub use diff::{Wording, diff};
pub use input::{Description, load, parse};
pub use subset::{operations, subset};

/// Hero's published description of its whole public API.
pub const UPSTREAM_URL: &str =
    "https://developer.herohealth.net/_bundle/apis/public-api/openapi.yaml";

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

/// A recorded difference between our `openapi.yaml` and Hero's description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// A location, as [`Change::location`] prints it. It covers that location and the locations
    /// under it (`GET /v2/sent_messages` covers `GET /v2/sent_messages parameter query status`, not
    /// `GET /v2/sent_messages_v3`). `*` matches any text (`* response 4*`).
    pub location: String,
    /// Why our description differs.
    pub reason: String,
}

impl Correction {
    /// Whether this correction covers a change at `location`: the pattern matches all of it, or a
    /// part of it that ends where a location part ends (before a space or a `[`).
    pub fn covers(&self, location: &str) -> bool {
        let text = location.as_bytes();
        glob_ends(self.location.as_bytes(), text)
            .into_iter()
            .any(|end| end == text.len() || matches!(text[end], b' ' | b'['))
    }
}

/// Every length of a prefix of `text` that `pattern` (`*` for any text) matches in full.
fn glob_ends(pattern: &[u8], text: &[u8]) -> Vec<usize> {
    // ends[i]: the pattern so far matches the first i bytes of `text`.
    let mut ends = vec![false; text.len() + 1];
    ends[0] = true;
    for &p in pattern {
        let mut next = vec![false; text.len() + 1];
        if p == b'*' {
            let mut reached = false;
            for (n, e) in next.iter_mut().zip(&ends) {
                reached |= *e;
                *n = reached;
            }
        } else {
            for (i, &t) in text.iter().enumerate() {
                next[i + 1] = ends[i] && t == p;
            }
        }
        ends = next;
    }
    ends.iter()
        .enumerate()
        .filter_map(|(i, &e)| e.then_some(i))
        .collect()
}

/// Marks the changes whose location one of `corrections` covers.
pub fn mark_corrections(changes: &mut [Change], corrections: &[Correction]) {
    for c in changes {
        c.touches_correction = corrections.iter().any(|k| k.covers(&c.location));
    }
}

/// What a sync found: the changes since the snapshot, the new snapshot's content, and the carried
/// operations it would lose.
#[derive(Debug, Clone)]
pub struct Sync {
    /// Every change from the snapshot to Hero's description, corrections marked.
    pub changes: Vec<Change>,
    /// The subset of Hero's description to save, in Hero's key order, with the snapshot's marks
    /// of the operations of ours alone that still hold ([`alone`]).
    pub subset: serde_yaml::Value,
    /// `METHOD path` of each operation of the snapshot that the new subset lacks.
    pub lost: Vec<String>,
}

/// Compares the snapshot (`old`; a whole upstream file is subset first) with Hero's description
/// (`upstream`), both subset to the operations `ours` carries. The snapshot's marks of operations
/// of ours alone are carried over, but for those Hero's description now has; an operation of
/// ours that neither description has and no mark names is a warning.
pub fn sync(
    old: &serde_yaml::Value,
    upstream: &serde_yaml::Value,
    ours: &serde_json::Value,
    corrections: &[Correction],
) -> Sync {
    let whole = to_json(old);
    let mut new = subset(upstream, ours);
    let old = subset(old, ours);
    let (old_json, new_json) = (to_json(&old), to_json(&new));
    let mut changes = diff(&old_json, &new_json, Some(ours), Wording::Sync);
    let (kept, dropped) = alone::carried(&whole, &new_json);
    // An operation marked ours alone that Hero now has: said once, as that.
    changes.retain(|c| !(c.message == diff::BEHIND && dropped.contains(&c.location)));
    for operation in dropped {
        changes.push(Change {
            class: Class::Info,
            location: operation,
            message: "Hero's description has it now: spec/upstream.yaml no longer marks it ours \
                      alone"
                .to_owned(),
            touches_correction: false,
        });
    }
    let hero: Vec<_> = [operations(&old_json), operations(&new_json)].concat();
    for (o, h) in subset::pair(&operations(ours), &hero) {
        let Some(o) = o else { continue };
        if h.is_none() && !kept.iter().any(|m| alone::names(m, &o)) {
            changes.push(Change {
                class: Class::Warning,
                location: o.name(),
                message: format!(
                    "openapi.yaml carries it ({}) and Hero's description lacks it; mark it in \
                     spec/upstream.yaml under {}, with why",
                    o.id.as_deref().unwrap_or("no operationId"),
                    dialect::OURS_ALONE
                ),
                touches_correction: false,
            });
        }
    }
    changes.sort_by(|a, b| {
        (a.class, &a.location, &a.message).cmp(&(b.class, &b.location, &b.message))
    });
    mark_corrections(&mut changes, corrections);
    if !kept.is_empty()
        && let (Some(map), Ok(marks)) = (new.as_mapping_mut(), serde_yaml::to_value(&kept))
    {
        map.insert(dialect::OURS_ALONE.into(), marks);
    }
    Sync {
        changes,
        lost: subset::lost(&old_json, &new_json).into_keys().collect(),
        subset: new,
    }
}

/// The same document as JSON (YAML keys that are numbers become text).
pub fn to_json(yaml: &serde_yaml::Value) -> serde_json::Value {
    serde_json::to_value(yaml).unwrap_or_default()
}

/// What `check` found: the differences between Hero's description and ours that no correction
/// covers, the corrections that cover no difference, and the operations of ours the snapshot
/// neither has nor marks as ours alone.
#[derive(Debug, Clone, Default)]
pub struct Check {
    /// Every difference, Hero's description (the snapshot) to ours.
    pub differences: Vec<Change>,
    /// The differences no correction covers.
    pub unrecorded: Vec<Change>,
    /// The corrections that cover no difference.
    pub stale: Vec<Correction>,
    /// The operations of ours the snapshot lacks, and the marks of ours alone that do not hold.
    pub coverage: alone::Coverage,
}

impl Check {
    /// Whether everything holds.
    pub fn passed(&self) -> bool {
        self.unrecorded.is_empty()
            && self.stale.is_empty()
            && self.coverage == alone::Coverage::default()
    }
}

/// Compares Hero's description (the snapshot, subset to our operations) with `ours` against the
/// recorded `corrections`, and checks that the snapshot has every operation of ours or marks it
/// as ours alone. The operations it marks are left out of the comparison: the mark is their
/// record.
pub fn check(
    upstream: &serde_yaml::Value,
    ours: &serde_json::Value,
    corrections: &[Correction],
) -> Check {
    let snapshot = to_json(upstream);
    let coverage = alone::coverage(&snapshot, ours);
    let ours = alone::without_marked(ours, &alone::marks(&snapshot));
    let hero = to_json(&subset(upstream, &ours));
    let differences = diff(&hero, &ours, None, Wording::Check);
    let unrecorded = differences
        .iter()
        .filter(|c| !corrections.iter().any(|k| k.covers(&c.location)))
        .cloned()
        .collect();
    let stale = corrections
        .iter()
        .filter(|k| !differences.iter().any(|c| k.covers(&c.location)))
        .cloned()
        .collect();
    Check {
        differences,
        unrecorded,
        stale,
        coverage,
    }
}

/// The provenance header `regen` writes above the snapshot.
pub fn provenance(source: &str, date: &str, sha256: &str) -> String {
    format!(
        "# Hero's messaging subset, as published: the operations openapi.yaml carries and the\n\
         # components they use, in Hero's key order. Written by `cargo xtask regen`; do not edit.\n\
         # source: {source}\n\
         # fetched: {date}\n\
         # sha256: {sha256}\n"
    )
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

    fn covers(pattern: &str, location: &str) -> bool {
        Correction {
            location: pattern.to_owned(),
            reason: String::new(),
        }
        .covers(location)
    }

    #[test]
    fn corrections_cover_exact_locations_and_what_is_under_them() {
        assert!(covers(
            "GET /v2/sent_messages parameter query page_index",
            "GET /v2/sent_messages parameter query page_index"
        ));
        assert!(covers(
            "GET /v2/sent_messages",
            "GET /v2/sent_messages parameter query page_index"
        ));
        assert!(covers(
            "GET /v2/sent_messages response 200 data",
            "GET /v2/sent_messages response 200 data[] status"
        ));
        assert!(!covers(
            "GET /v2/sent_messages",
            "GET /v2/sent_messages_v3 parameter query page_index"
        ));
        assert!(!covers(
            "GET /v2/sent_messages parameter query s",
            "GET /v2/sent_messages parameter query sent_at[]"
        ));
        assert!(!covers(
            "GET /v2/sent_messages parameter query page_",
            "GET /v2/sent_messages parameter query page_index"
        ));
        assert!(covers(
            "* response 4*",
            "POST /v1/messages/send response 401"
        ));
        assert!(covers(
            "* parameter query page_*",
            "GET /v2/sent_messages parameter query page_size"
        ));
        assert!(!covers(
            "* response 4*",
            "POST /v1/messages/send response 200"
        ));
        assert!(!covers(
            "* response 4",
            "POST /v1/messages/send response 401"
        ));
    }
}
