//! Every keyword the comparison reads at its default: the values that mean the same as leaving the
//! keyword out. A keyword written at its default is dropped before anything is compared, so that
//! `uniqueItems: false` or `minItems: 0` is never reported. `xtask/README.md`'s keyword table lists
//! every keyword compared, with these defaults (the test `the_readme_keyword_table_is_the_code_s`
//! holds the two in step).

use serde_json::Value;

/// Where a keyword is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A schema (or a schema inside one).
    Schema,
    /// A parameter (its own fields, not its schema's).
    Parameter,
    /// A response header.
    Header,
    /// A request body.
    RequestBody,
    /// An operation.
    Operation,
}

/// A keyword and the values (JSON, as text) that mean the same as its absence.
#[derive(Debug, Clone, Copy)]
pub struct KeywordDefault {
    /// Where it is written.
    pub place: Place,
    /// The keyword.
    pub keyword: &'static str,
    /// Its values that constrain nothing, as JSON.
    pub values: &'static [&'static str],
}

const fn d(place: Place, keyword: &'static str, values: &'static [&'static str]) -> KeywordDefault {
    KeywordDefault {
        place,
        keyword,
        values,
    }
}

/// Every keyword with a default, where it is written. `style` and `explode` of a parameter have a
/// default that depends on where it goes (`in`): see [`parameter_style`].
pub const DEFAULTS: [KeywordDefault; 30] = [
    d(Place::Schema, "nullable", &["false"]),
    d(Place::Schema, "readOnly", &["false"]),
    d(Place::Schema, "writeOnly", &["false"]),
    d(Place::Schema, "deprecated", &["false"]),
    d(Place::Schema, "uniqueItems", &["false"]),
    d(Place::Schema, "minLength", &["0"]),
    d(Place::Schema, "minItems", &["0"]),
    d(Place::Schema, "minProperties", &["0"]),
    d(Place::Schema, "minContains", &["1"]),
    d(Place::Schema, "exclusiveMinimum", &["false"]),
    d(Place::Schema, "exclusiveMaximum", &["false"]),
    d(Place::Schema, "required", &["[]"]),
    d(Place::Schema, "properties", &["{}"]),
    d(Place::Schema, "additionalProperties", &["true", "{}"]),
    d(Place::Schema, "items", &["true", "{}"]),
    d(Place::Schema, "prefixItems", &["[]"]),
    d(Place::Schema, "patternProperties", &["{}"]),
    d(Place::Schema, "propertyNames", &["true", "{}"]),
    d(Place::Schema, "dependentRequired", &["{}"]),
    d(Place::Schema, "dependentSchemas", &["{}"]),
    d(Place::Schema, "unevaluatedItems", &["true", "{}"]),
    d(Place::Schema, "unevaluatedProperties", &["true", "{}"]),
    d(Place::Schema, "then", &["true", "{}"]),
    d(Place::Schema, "else", &["true", "{}"]),
    d(Place::Parameter, "required", &["false"]),
    d(Place::Parameter, "deprecated", &["false"]),
    d(Place::Parameter, "allowEmptyValue", &["false"]),
    d(Place::Parameter, "allowReserved", &["false"]),
    d(Place::Header, "required", &["false"]),
    d(Place::RequestBody, "required", &["false"]),
];

/// The defaults of the places other than schemas that are written the same way as these
/// (`deprecated` of a header and of an operation).
pub const ALSO: [KeywordDefault; 2] = [
    d(Place::Header, "deprecated", &["false"]),
    d(Place::Operation, "deprecated", &["false"]),
];

/// A parameter's `style` and `explode` when not written, by where it goes (`in`): `form` and
/// exploded for `query` and `cookie`, `simple` and not exploded for `path` and `header`.
pub fn parameter_style(place: &str) -> (&'static str, bool) {
    match place {
        "query" | "cookie" => ("form", true),
        _ => ("simple", false),
    }
}

/// The keywords that only annotate a schema (they allow and refuse nothing).
pub const ANNOTATIONS: [&str; 7] = [
    "description",
    "title",
    "example",
    "examples",
    "$comment",
    "externalDocs",
    "xml",
];

/// Whether `value` of `keyword` (written at `place`) means the same as leaving it out. A schema
/// that says nothing (`{}`, or only annotations and keywords at their defaults) is `{}`.
pub fn is_default(place: Place, keyword: &str, value: &Value) -> bool {
    DEFAULTS.iter().chain(&ALSO).any(|x| {
        x.place == place
            && x.keyword == keyword
            && x.values.iter().any(|text| match *text {
                "{}" => says_nothing(value),
                _ => serde_json::from_str::<Value>(text)
                    .is_ok_and(|v| crate::meaning::canon(&v) == crate::meaning::canon(value)),
            })
    })
}

/// A schema object with no keyword but annotations and keywords at their defaults.
fn says_nothing(value: &Value) -> bool {
    value.as_object().is_some_and(|m| {
        m.iter()
            .all(|(k, x)| ANNOTATIONS.contains(&k.as_str()) || is_default(Place::Schema, k, x))
    })
}

/// Schema `v` without the keywords written at their defaults (its own keywords only: a schema
/// inside it is cleaned when it is read in turn).
pub fn without_defaults(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, x)| !is_default(Place::Schema, k, x))
                .map(|(k, x)| (k.clone(), x.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_dropped_by_value_and_nothing_else_is() {
        let cleaned = without_defaults(&json!({
            "type": "array", "minItems": 0.0, "uniqueItems": false, "items": {},
            "maxItems": 0, "required": ["a"], "additionalProperties": false,
        }));
        assert_eq!(
            cleaned,
            json!({"type": "array", "maxItems": 0, "required": ["a"], "additionalProperties": false})
        );
        assert!(is_default(Place::Parameter, "required", &json!(false)));
        assert!(!is_default(Place::Parameter, "required", &json!(true)));
        assert!(!is_default(Place::Schema, "minContains", &json!(0)));
        assert!(is_default(
            Place::Schema,
            "additionalProperties",
            &json!({"description": "any", "items": true, "then": {"else": {}}})
        ));
        assert!(!is_default(
            Place::Schema,
            "additionalProperties",
            &json!({"type": "string"})
        ));
        assert_eq!(parameter_style("query"), ("form", true));
        assert_eq!(parameter_style("header"), ("simple", false));
    }
}
