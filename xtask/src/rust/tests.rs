//! Our generated types, query by query.

use super::*;
use serde_json::json;

fn ty(v: Value) -> Rust {
    of(&json!({}), &v, Field::Not)
}

#[test]
fn strings_nulls_and_maps() {
    let t = ty(json!({"type": "string", "format": "date-time", "nullable": true}));
    assert_eq!(t.name, "DateTime<Utc>");
    assert!(t.reads_null && t.sends_null);
    assert_eq!(
        t.reads_format(Some("date")),
        Err("DateTime<Utc>".to_owned())
    );
    assert_eq!(t.reads_format(Some("date-time")), Ok(()));
    assert_eq!(
        ty(json!({"type": "string"})).reads_format(Some("date")),
        Ok(())
    );
    let optional = of(&json!({}), &json!({"type": "string"}), Field::Optional);
    assert!(optional.reads_null && !optional.sends_null);
    let list = of(
        &json!({}),
        &json!({"type": "array", "items": {}}),
        Field::Optional,
    );
    assert!(
        !list.reads_null,
        "an optional Vec is `#[serde(default)]`, not an Option"
    );
    assert_eq!(
        ty(json!({"type": "object", "additionalProperties": {"type": "string"}})).shape,
        Shape::Map
    );
    assert_eq!(
        ty(json!({"type": "object", "properties": {"a": {}}, "additionalProperties": false}))
            .unknown(),
        Some(Unknown::Refused)
    );
    let doc = json!({"components": {"schemas": {"S": {
        "x-herohealth-rust-type": "crate::enums::S", "type": "string", "enum": ["a"]
    }}}});
    let open = of(
        &doc,
        &json!({"allOf": [{"$ref": "#/components/schemas/S"}]}),
        Field::Not,
    );
    assert!(open.open());
    assert_eq!(open.name, "crate::enums::S");
}

fn types(ts: &[&str]) -> BTreeSet<String> {
    ts.iter().map(|t| (*t).to_owned()).collect()
}

#[test]
fn the_shape_of_each_json_type() {
    assert_eq!(ty(json!({})).shape, Shape::Any);
    // `null` alone is no type: `openapi.yaml` is 3.0, where it is `nullable: true` without a type,
    // which typify reads as an `Option` of any JSON.
    let null = ty(json!({"type": "null"}));
    assert_eq!((&null.shape, null.reads_null), (&Shape::Any, true));
    assert_eq!(ty(json!({"type": "boolean"})).shape, Shape::Bool);
    assert_eq!(ty(json!({"type": "number"})).name, "f64");
    assert_eq!(ty(json!({"type": "number", "format": "float"})).name, "f32");
    assert_eq!(
        ty(json!({"type": "number", "format": "double"})).name,
        "f64"
    );
    let array = |extra: Value| {
        let mut v = json!({"type": "array", "items": {"type": "string"}});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        ty(v)
    };
    assert_eq!(
        array(json!({"minItems": 2, "maxItems": 2})).fixed_len(),
        Some(2)
    );
    assert_eq!(array(json!({"minItems": 2, "maxItems": 2})).name, "[_; 2]");
    assert_eq!(
        array(json!({"minItems": 1, "maxItems": 1})).fixed_len(),
        Some(1)
    );
    assert_eq!(
        array(json!({"minItems": 2, "maxItems": 3})).fixed_len(),
        None
    );
    assert_eq!(array(json!({"maxItems": 0})).fixed_len(), None);
    assert_eq!(
        array(json!({"minItems": 2, "maxItems": 2, "uniqueItems": true})).fixed_len(),
        None
    );
    assert_eq!(array(json!({})).name, "Vec<_>");
    let object = |v: Value| ty(v).unknown();
    assert_eq!(
        object(json!({"type": "object", "required": ["a"]})),
        Some(Unknown::Ignored)
    );
    assert_eq!(
        object(json!({"type": "object", "additionalProperties": false})),
        Some(Unknown::Refused)
    );
    assert_eq!(
        object(json!({"properties": {"a": {}}, "additionalProperties": {"type": "string"}})),
        Some(Unknown::Read)
    );
    assert_eq!(
        object(json!({"type": "object", "properties": {"a": {}}})),
        Some(Unknown::Ignored)
    );
    assert_eq!(ty(json!({"type": "object"})).shape, Shape::Map);
    let either = ty(json!({"type": ["string", "integer"]}));
    let Shape::Either(alts) = &either.shape else {
        panic!("{either:?}")
    };
    assert_eq!(
        alts.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["i64", "String"]
    );
    let closed = ty(json!({"type": "string", "enum": ["a", "b"]}));
    assert_eq!(closed.values().map(BTreeSet::len), Some(2));
    assert!(!closed.open());
    assert_eq!(ty(json!({"type": "string"})).values(), None);
}

#[test]
fn the_json_types_each_type_reads() {
    let string = ty(json!({"type": "string"}));
    assert!(string.reads_types(&types(&["string"])));
    assert!(!string.reads_types(&types(&["integer"])));
    assert!(
        !string.reads_types(&types(&[])),
        "any type is more than text"
    );
    assert!(!string.reads_types(&types(&["null"])));
    assert!(
        ty(json!({"type": "string", "nullable": true})).reads_types(&types(&["null", "string"]))
    );
    let float = ty(json!({"type": "number"}));
    assert!(float.reads_types(&types(&["integer", "number"])));
    let int = ty(json!({"type": "integer"}));
    assert!(int.reads_types(&types(&["integer"])));
    assert!(!int.reads_types(&types(&["number"])));
    assert!(ty(json!({"type": "boolean"})).reads_types(&types(&["boolean"])));
    assert!(ty(json!({"type": "array"})).reads_types(&types(&["array"])));
    assert!(ty(json!({"type": "object"})).reads_types(&types(&["object"])));
    let any = ty(json!({}));
    assert!(any.reads_types(&types(&[])) && any.reads_types(&types(&["integer", "string"])));
    let either = ty(json!({"oneOf": [{"type": "string"}, {"type": "integer"}]}));
    assert!(either.reads_types(&types(&["integer", "string"])));
    assert!(!either.reads_types(&types(&["boolean"])));
    let with_any = ty(json!({"oneOf": [{"type": "string"}, {}]}));
    assert!(with_any.reads_types(&types(&["boolean"])));
}

#[test]
fn formats_lengths_and_patterns() {
    let ip = ty(json!({"type": "string", "format": "ip"}));
    assert_eq!(ip.name, "IpAddr");
    assert!(ip.reads_format(Some("ipv4")).is_ok() && ip.reads_format(Some("ipv6")).is_ok());
    assert!(ip.reads_format(Some("uuid")).is_err());
    let v4 = ty(json!({"type": "string", "format": "ipv4"}));
    assert!(v4.reads_format(Some("ipv6")).is_err());
    assert_eq!(v4.sends_format(), Some("ipv4"));
    let date = ty(json!({"type": "string", "format": "date"}));
    assert_eq!(
        (date.name.as_str(), date.sends_format()),
        ("NaiveDate", Some("date"))
    );
    assert!(
        date.reads_format(None).is_err(),
        "any text is more than a date"
    );
    let uri = ty(json!({"type": "string", "format": "uri", "minLength": 1, "maxLength": 9}));
    assert_eq!(uri.name, "String");
    assert_eq!(uri.sends_format(), None);
    assert_eq!(uri.lengths(), Some((Some(1), Some(9))));
    assert!(uri.reads_format(Some("date")).is_ok());
    assert_eq!(date.lengths(), Some((None, None)));
    assert_eq!(ty(json!({"type": "integer"})).lengths(), None);
    assert_eq!(
        ty(json!({"type": "string", "pattern": "^a$"})).pattern(),
        None,
        "build.rs removes patterns"
    );
    let either =
        ty(json!({"oneOf": [{"type": "string", "format": "date-time"}, {"type": "integer"}]}));
    assert_eq!(
        either.reads_format(Some("date")),
        Err("DateTime<Utc>".to_owned())
    );
    assert_eq!(either.reads_format(Some("date-time")), Ok(()));
    let no_text = ty(json!({"oneOf": [{"type": "integer"}, {"type": "boolean"}]}));
    assert_eq!(no_text.reads_format(Some("date")), Ok(()));
}

#[test]
fn replacements_by_their_family() {
    let doc = json!({"components": {"schemas": {
        "Code": {
            "x-herohealth-rust-type": "crate::validate::Code",
            "type": "string", "pattern": "^\\d+$", "format": "uuid", "minLength": 6, "maxLength": 18
        },
        "Secret": {"x-herohealth-rust-type": "crate::shown::Sensitive", "type": "string", "maxLength": 3},
        "Id": {"x-herohealth-rust-type": "::std::string::String", "type": "string", "format": "date"},
        "Other": {"x-herohealth-rust-type": "crate::other::Thing", "type": "string", "minLength": 2},
        "NullableStatus": {
            "x-herohealth-rust-type": "crate::enums::NullableStatus",
            "type": "string", "nullable": true, "enum": ["a", null]
        }
    }}});
    let at = |name: &str| {
        of(
            &doc,
            &json!({"$ref": format!("#/components/schemas/{name}")}),
            Field::Not,
        )
    };
    let code = at("Code");
    assert_eq!(code.name, "crate::validate::Code");
    assert_eq!(code.pattern(), Some("^\\d+$"));
    assert_eq!(code.sends_format(), Some("uuid"));
    assert_eq!(code.lengths(), Some((Some(6), Some(18))));
    assert!(code.reads_format(Some("uuid")).is_ok() && code.reads_format(Some("date")).is_err());
    let secret = at("Secret");
    assert_eq!(
        (secret.lengths(), secret.pattern()),
        (Some((None, None)), None)
    );
    let id = at("Id");
    assert_eq!(
        (id.sends_format(), id.reads_format(Some("uuid"))),
        (None, Ok(()))
    );
    assert_eq!(
        at("Other").lengths(),
        Some((Some(2), None)),
        "an unknown family is checked"
    );
    let status = at("NullableStatus");
    assert!(status.open() && status.reads_null);
    assert_eq!(status.values().map(BTreeSet::len), Some(1));
}

#[test]
fn null_by_where_a_field_is() {
    let doc = json!({"components": {"schemas": {
        "List": {"type": "array", "items": {"type": "string"}},
        "Map": {"type": "object", "additionalProperties": {"type": "string"}}
    }}});
    let at = |v: Value, field: Field| of(&doc, &v, field);
    assert!(!at(json!({"type": "array"}), Field::Optional).reads_null);
    assert!(!at(json!({"type": "object"}), Field::Optional).reads_null);
    assert!(
        at(
            json!({"$ref": "#/components/schemas/List"}),
            Field::Optional
        )
        .reads_null
    );
    assert!(at(json!({"$ref": "#/components/schemas/Map"}), Field::Optional).reads_null);
    assert!(
        !at(
            json!({"type": "boolean", "default": false}),
            Field::Optional
        )
        .reads_null
    );
    assert!(!at(json!({"type": "string"}), Field::Required).reads_null);
    let required = at(json!({"type": "string", "nullable": true}), Field::Required);
    assert!(required.reads_null && required.sends_null);
    let optional = at(json!({"type": "string", "nullable": true}), Field::Optional);
    assert!(optional.reads_null && !optional.sends_null);
    assert!(!at(json!({"type": "string"}), Field::Not).sends_null);
}

#[test]
fn an_alternative_that_is_the_schema_itself_ends() {
    let doc = json!({"components": {"schemas": {"Node": {
        "oneOf": [{"$ref": "#/components/schemas/Node"}, {"type": "string"}, {"type": "integer"}]
    }}}});
    let node = of(
        &doc,
        &json!({"$ref": "#/components/schemas/Node"}),
        Field::Not,
    );
    assert!(node.reads_types(&types(&["string", "integer"])));
    // Nine alternatives down, the type reads anything.
    let mut deepest = &node;
    let mut depth = 0;
    while let Shape::Either(alts) = &deepest.shape {
        deepest = &alts[0];
        depth += 1;
    }
    assert_eq!((depth, &deepest.shape), (9, &Shape::Any));
}
