//! Keywords written out at their default values change nothing, so they are never reported. Each
//! keyword of `xtask::keywords` at each of its default values is written into every place of its
//! kind (every schema, parameter, response header, request body, operation) of three
//! descriptions: the small base, the real snapshot (judged by the real `openapi.yaml`) and the
//! 3.1 bundle; then all of them at once; then seeded random mixes. Every diff must be empty, both
//! ways.

use serde_json::{Map, Value, json};
use xtask::{
    Format,
    dialect::OURS_ALONE,
    keywords::{ALSO, DEFAULTS, Place, parameter_style},
    load, report, sync,
};

mod common;

use common::{fixture, workspace};

const NOTHING: &str = "0 breaking, 0 warning, 0 info; 0 touch our corrections\n";

/// A description to write defaults into, and the `openapi.yaml` that judges it.
struct Case {
    name: &'static str,
    doc: Value,
    ours: Value,
}

fn cases() -> Vec<Case> {
    let json = |path: &str| load(path).unwrap().json;
    vec![
        Case {
            name: "base.yaml",
            doc: with_a_header(json(&fixture("base.yaml"))),
            ours: json(&fixture("ours.yaml")),
        },
        Case {
            name: "spec/upstream.yaml",
            doc: json(&workspace("spec/upstream.yaml")),
            ours: json(&workspace("openapi.yaml")),
        },
        Case {
            name: "hero_bundle_3_1.yaml",
            // With the snapshot's marks of the operations of ours alone, as a synced snapshot has.
            doc: {
                let mut doc = json(&fixture("hero_bundle_3_1.yaml"));
                let marks = json(&workspace("spec/upstream.yaml"))[OURS_ALONE].clone();
                doc[OURS_ALONE] = marks;
                doc
            },
            ours: json(&workspace("openapi.yaml")),
        },
    ]
}

/// `doc` with a response header on sendMessage's answer (so that a header's defaults have a place).
fn with_a_header(mut doc: Value) -> Value {
    doc["paths"]["/v1/messages/send"]["post"]["responses"]["200"]["headers"] =
        json!({"X-Rate-Limit": {"schema": {"type": "integer"}}});
    doc
}

/// The report from `old` to `new`, both JSON, judged by `ours`.
fn diff(old: &Value, new: &Value, ours: &Value) -> String {
    let yaml = |v: &Value| serde_yaml::to_value(v).unwrap();
    report(
        &sync(&yaml(old), &yaml(new), ours, &[]).changes,
        Format::Text,
    )
}

/// A place a keyword may be written, with what it needs to know there.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Spot<'a> {
    Schema,
    Parameter { place: &'a str },
    Header,
    RequestBody,
    Operation,
}

/// Calls `f` on every object of `doc` that is a schema, a parameter, a response header, a request
/// body or an operation.
fn visit(doc: &mut Value, f: &mut dyn FnMut(Spot, &mut Map<String, Value>)) {
    let methods = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (key, v) in item.iter_mut() {
                if key == "parameters" {
                    parameters(v, f);
                }
                if !methods.contains(&key.as_str()) {
                    continue;
                }
                let Some(op) = v.as_object_mut() else {
                    continue;
                };
                f(Spot::Operation, op);
                if let Some(p) = op.get_mut("parameters") {
                    parameters(p, f);
                }
                if let Some(body) = op.get_mut("requestBody").and_then(Value::as_object_mut) {
                    if body.get("$ref").is_none() {
                        f(Spot::RequestBody, body);
                    }
                    content(body, f);
                }
                for r in op
                    .get_mut("responses")
                    .and_then(Value::as_object_mut)
                    .into_iter()
                    .flat_map(|m| m.values_mut())
                {
                    response(r, f);
                }
            }
        }
    }
    if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
        for (kind, items) in components.iter_mut() {
            for v in items
                .as_object_mut()
                .into_iter()
                .flat_map(|m| m.values_mut())
            {
                match kind.as_str() {
                    "schemas" => schema(v, f),
                    "parameters" => parameter(v, f),
                    "responses" => response(v, f),
                    "requestBodies" => content(v.as_object_mut().unwrap(), f),
                    _ => {}
                }
            }
        }
    }
}

fn parameters(list: &mut Value, f: &mut dyn FnMut(Spot, &mut Map<String, Value>)) {
    for p in list.as_array_mut().into_iter().flatten() {
        parameter(p, f);
    }
}

fn parameter(p: &mut Value, f: &mut dyn FnMut(Spot, &mut Map<String, Value>)) {
    let Some(p) = p.as_object_mut() else { return };
    if p.get("$ref").is_some() {
        return;
    }
    let place = p["in"].as_str().unwrap_or_default().to_owned();
    f(Spot::Parameter { place: &place }, p);
    if let Some(s) = p.get_mut("schema") {
        schema(s, f);
    }
}

fn response(r: &mut Value, f: &mut dyn FnMut(Spot, &mut Map<String, Value>)) {
    let Some(r) = r.as_object_mut() else { return };
    for h in r
        .get_mut("headers")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|m| m.values_mut())
    {
        if let Some(h) = h.as_object_mut() {
            f(Spot::Header, h);
            if let Some(s) = h.get_mut("schema") {
                schema(s, f);
            }
        }
    }
    content(r, f);
}

fn content(holder: &mut Map<String, Value>, f: &mut dyn FnMut(Spot, &mut Map<String, Value>)) {
    for media in holder
        .get_mut("content")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|m| m.values_mut())
    {
        if let Some(s) = media.get_mut("schema") {
            schema(s, f);
        }
    }
}

fn schema(s: &mut Value, f: &mut dyn FnMut(Spot, &mut Map<String, Value>)) {
    let Some(m) = s.as_object_mut() else { return };
    for key in [
        "items",
        "additionalProperties",
        "not",
        "contains",
        "if",
        "then",
        "else",
    ] {
        if let Some(child) = m.get_mut(key) {
            schema(child, f);
        }
    }
    for key in ["allOf", "oneOf", "anyOf", "prefixItems"] {
        for child in m
            .get_mut(key)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            schema(child, f);
        }
    }
    for child in m
        .get_mut("properties")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        schema(child, f);
    }
    f(Spot::Schema, m);
}

/// Whether keyword `default` of `place` may be written at `spot`.
fn fits(place: Place, spot: Spot) -> bool {
    matches!(
        (place, spot),
        (Place::Schema, Spot::Schema)
            | (Place::Parameter, Spot::Parameter { .. })
            | (Place::Header, Spot::Header)
            | (Place::RequestBody, Spot::RequestBody)
            | (Place::Operation, Spot::Operation)
    )
}

/// Writes `keyword: value` at every spot of kind `place` that does not have the keyword (a path
/// parameter keeps its required `true`); `pick` chooses among the spots.
fn write_everywhere(
    doc: &Value,
    place: Place,
    keyword: &str,
    value: &Value,
    pick: &mut dyn FnMut() -> bool,
) -> Value {
    let mut out = doc.clone();
    visit(&mut out, &mut |spot, m| {
        let path_param = matches!(spot, Spot::Parameter { place: "path" }) && keyword == "required";
        if fits(place, spot) && !m.contains_key(keyword) && !path_param && pick() {
            m.insert(keyword.to_owned(), value.clone());
        }
    });
    out
}

/// Every keyword at every default: `(place, keyword, value)`.
fn every_default() -> Vec<(Place, &'static str, Value)> {
    DEFAULTS
        .iter()
        .chain(&ALSO)
        .flat_map(|d| {
            d.values
                .iter()
                .map(move |v| (d.place, d.keyword, serde_json::from_str(v).unwrap()))
        })
        .collect()
}

/// Writes each parameter's `style` and `explode` out at their defaults for where it goes.
fn styles_written_out(doc: &Value) -> Value {
    let mut out = doc.clone();
    visit(&mut out, &mut |spot, m| {
        if let Spot::Parameter { place } = spot {
            let (style, explode) = parameter_style(place);
            m.entry("style").or_insert(json!(style));
            m.entry("explode").or_insert(json!(explode));
        }
    });
    out
}

#[test]
fn each_keyword_at_each_default_everywhere_is_no_change() {
    let mut written_somewhere = std::collections::BTreeSet::new();
    for case in cases() {
        for (place, keyword, value) in every_default() {
            let written = write_everywhere(&case.doc, place, keyword, &value, &mut || true);
            if written != case.doc {
                written_somewhere.insert(format!("{place:?} {keyword}"));
            }
            for (old, new) in [(&case.doc, &written), (&written, &case.doc)] {
                assert_eq!(
                    diff(old, new, &case.ours),
                    NOTHING,
                    "{}: {keyword}: {value}",
                    case.name
                );
            }
        }
        let styled = styles_written_out(&case.doc);
        assert_ne!(styled, case.doc, "{}: a parameter was styled", case.name);
        assert_eq!(
            diff(&case.doc, &styled, &case.ours),
            NOTHING,
            "{}: style",
            case.name
        );
    }
    let every: std::collections::BTreeSet<String> = every_default()
        .iter()
        .map(|(place, keyword, _)| format!("{place:?} {keyword}"))
        .collect();
    assert_eq!(
        written_somewhere, every,
        "every keyword was written somewhere"
    );
}

#[test]
fn every_default_at_once_and_random_mixes_are_no_change() {
    // A small deterministic generator (no dependency): the mixes are the same on every run.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for case in cases() {
        let mut all = styles_written_out(&case.doc);
        for (place, keyword, value) in every_default() {
            all = write_everywhere(&all, place, keyword, &value, &mut || true);
        }
        assert_eq!(
            diff(&case.doc, &all, &case.ours),
            NOTHING,
            "{}: all",
            case.name
        );
        assert_eq!(
            diff(&all, &case.doc, &case.ours),
            NOTHING,
            "{}: all",
            case.name
        );
        for round in 0..12 {
            let mut mix = case.doc.clone();
            for (place, keyword, value) in every_default() {
                if next() % 3 == 0 {
                    continue;
                }
                let mut pick = || next() % 2 == 0;
                mix = write_everywhere(&mix, place, keyword, &value, &mut pick);
            }
            assert_eq!(
                diff(&case.doc, &mix, &case.ours),
                NOTHING,
                "{}: round {round}",
                case.name
            );
        }
    }
}

#[test]
fn the_readme_keyword_table_is_the_code_s() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let table = readme
        .split("### Every keyword, and how it is compared")
        .nth(1)
        .expect("the keyword table's heading");
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip_while(|l| !l.starts_with("| keyword |"))
        .skip(2)
        .take_while(|l| l.starts_with("| "))
        .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
        .collect();
    assert!(rows.len() > 30, "{} rows", rows.len());
    let place_name = |p: Place| match p {
        Place::Schema => "schema",
        Place::Parameter => "parameter",
        Place::Header => "header",
        Place::RequestBody => "request body",
        Place::Operation => "operation",
    };
    let row_of = |keyword: &str, place: Place| {
        rows.iter().find(|r| {
            r[0].split(", ").any(|k| k == format!("`{keyword}`"))
                && r[1].split(", ").any(|w| w == place_name(place))
        })
    };
    // Every default of the code is in the table, in its row's default column.
    for d in DEFAULTS.iter().chain(&ALSO) {
        let row = row_of(d.keyword, d.place)
            .unwrap_or_else(|| panic!("no row for `{}` ({:?})", d.keyword, d.place));
        for v in d.values {
            assert!(
                row[2].contains(&format!("`{v}`")),
                "`{}`: default `{v}` not in {:?}",
                d.keyword,
                row[2]
            );
        }
    }
    // And a row with no default names no keyword the code drops.
    for row in rows.iter().filter(|r| r[2] == "none") {
        for keyword in row[0].split(", ") {
            let keyword = keyword.trim_matches('`');
            for d in DEFAULTS.iter().chain(&ALSO) {
                let here = row[1].split(", ").any(|w| w == place_name(d.place));
                assert!(
                    !(d.keyword == keyword && here),
                    "`{keyword}` has a default in the code but none in the README"
                );
            }
        }
    }
}
