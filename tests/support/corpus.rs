//! Issue 34's corpus: patient data in the shapes the issue names, and answers of every operation
//! built from `openapi.yaml` with it in every declared field. Shared by `tests/declared.rs` (the
//! library) and `cli/tests/declared.rs` (`hero`).
#![allow(dead_code)]

use serde_json::{Value, json};
use serde_yaml::Value as Yaml;

/// Patient data in the shapes: words joined by `_` with digits, dates as digits, a UUID
/// ending in a phone number, enum-shaped and event-shaped text, base64, percent-encoding, a path.
/// None is in the declared form of an id (a bare eight-digit date would be a message id's form,
/// and a UUID whose last group is twelve digits an attachment's: the privacy page says so).
pub const SEEDS: &[&str] = &[
    "Zebedee_Quenby_9434765919",
    "quenby_19550602",
    "ZebedeeQuenby19550602",
    "3f2b9c1e-8a4d-4f6b-9c2e-07700900123",
    "held_for_Zebedee_Quenby_9434765919",
    "zebedee.quenby@example.org +447700900123",
    "WmViZWRlZSBRdWVuYnkgOTQzNDc2NTkxOQ==",
    "Zebedee%20Quenby%209434765919",
    "Zebedee_Quenby_9434765919_smear_result.pdf",
];

/// What none of the output may hold (any case): a piece of every seed.
pub const NEEDLES: &[&str] = &[
    "zebedee",
    "quenby",
    "9434765919",
    "7700900123",
    "19550602",
    "1955-06-02",
    "wmvizwrlzsbrdwvuynk",
    "smear_result",
];

/// The first needle `text` holds, if any.
pub fn leak(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    NEEDLES.iter().copied().find(|n| lower.contains(n))
}

/// `openapi.yaml`, read.
pub fn spec() -> Yaml {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml"))
        .or_else(|_| std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")))
        .expect("openapi.yaml");
    serde_yaml::from_str(&text).unwrap()
}

/// Builds answers with a seed in every string field, by the spec's schemas.
pub struct Seeder<'a> {
    spec: &'a Yaml,
    next: usize,
}

impl<'a> Seeder<'a> {
    pub fn new(spec: &'a Yaml) -> Self {
        Self { spec, next: 0 }
    }

    fn seed(&mut self) -> Value {
        self.next += 1;
        json!(SEEDS[self.next % SEEDS.len()])
    }

    fn resolve(&self, s: &'a Yaml) -> &'a Yaml {
        match s.get("$ref").and_then(Yaml::as_str) {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap();
                &self.spec["components"]["schemas"][name]
            }
            None => s,
        }
    }

    /// An instance of `schema`, every string a seed (dates valid: a date of birth 1955-06-02).
    pub fn instance(&mut self, schema: &'a Yaml) -> Value {
        let s = self.resolve(schema);
        if let Some(all) = s.get("allOf").and_then(Yaml::as_sequence) {
            let mut merged = serde_json::Map::new();
            let mut scalar = None;
            for part in all {
                match self.instance(part) {
                    Value::Object(m) => merged.extend(m),
                    other => scalar = Some(other),
                }
            }
            if let Some(props) = s.get("properties")
                && let Value::Object(m) = self.object(props)
            {
                merged.extend(m);
            }
            return scalar.unwrap_or(Value::Object(merged));
        }
        if let Some(one) = s.get("oneOf").and_then(Yaml::as_sequence) {
            return self.instance(&one[0]);
        }
        if s.get("enum").is_some() {
            return json!("held_for_Zebedee_Quenby_9434765919");
        }
        match s.get("type").and_then(Yaml::as_str) {
            Some("object") | None if s.get("properties").is_some() => self.object(&s["properties"]),
            Some("object") => json!({"Zebedee_Quenby_9434765919": self.seed()}),
            Some("array") => json!([self.instance(&s["items"])]),
            Some("integer") => json!(1),
            Some("number") => json!(1.5),
            Some("boolean") => json!(true),
            Some("string") => match s.get("format").and_then(Yaml::as_str) {
                Some("date-time") if s.get("x-herohealth-patient-data").is_some() => {
                    json!("1955-06-02T00:00:00Z")
                }
                Some("date-time") => json!("2024-01-01T08:00:00Z"),
                Some("date") => json!("1955-06-02"),
                _ => self.seed(),
            },
            _ => self.seed(),
        }
    }

    fn object(&mut self, props: &'a Yaml) -> Value {
        let mut m = serde_json::Map::new();
        for (k, v) in props.as_mapping().unwrap() {
            m.insert(k.as_str().unwrap().to_owned(), self.instance(v));
        }
        Value::Object(m)
    }

    /// The success answer of an operation (`snake_case` id), seeded; `None` when it has no body.
    pub fn answer(&mut self, operation: &str) -> Option<(u16, Value)> {
        for (_, item) in self.spec["paths"].as_mapping().unwrap() {
            for (_, op) in item.as_mapping().unwrap() {
                let Some(id) = op.get("operationId").and_then(Yaml::as_str) else {
                    continue;
                };
                if snake(id) != operation {
                    continue;
                }
                for (code, resp) in op["responses"].as_mapping().unwrap() {
                    let code: u16 = match code {
                        Yaml::String(c) => c.parse().unwrap_or(0),
                        Yaml::Number(n) => n.as_u64().unwrap_or(0) as u16,
                        _ => 0,
                    };
                    if !(200..300).contains(&code) {
                        continue;
                    }
                    let resp = match resp.get("$ref").and_then(Yaml::as_str) {
                        Some(r) => {
                            &self.spec["components"]["responses"][r.rsplit('/').next().unwrap()]
                        }
                        None => resp,
                    };
                    let schema = &resp["content"]["application/json"]["schema"];
                    return (!schema.is_null()).then(|| (code, self.instance(schema)));
                }
            }
        }
        None
    }
}

/// `sendMessage` -> `send_message`.
pub fn snake(id: &str) -> String {
    let mut out = String::new();
    for c in id.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Hero's error bodies, seeded: a message, validation issues, and a body that is not Hero's.
pub fn error_bodies() -> Vec<Value> {
    vec![
        json!({"error": true, "statusCode": 404, "message": "No patient found for Zebedee_Quenby_9434765919"}),
        json!({"error": true, "statusCode": 400, "message": [
            {"code": "held_for_Zebedee_Quenby_9434765919", "expected": "ZebedeeQuenby19550602",
             "path": ["Zebedee%20Quenby%209434765919", 3, "quenby_19550602"]}
        ]}),
        json!({"Zebedee_Quenby_9434765919": "WmViZWRlZSBRdWVuYnkgOTQzNDc2NTkxOQ==", "n": 9434765919u64}),
    ]
}

/// Headers the client reads (the request ids `openapi.yaml` declares, `Retry-After`), seeded.
pub const HEADERS: &[(&str, &str)] = &[
    ("x-request-id", "Zebedee_Quenby_9434765919"),
    ("x-amzn-requestid", "3f2b9c1e-8a4d-4f6b-9c2e-07700900123"),
    ("retry-after", "quenby_19550602"),
];

/// A webhook delivery's envelope with a seed in every field.
pub fn envelopes() -> Vec<Value> {
    let mut out = Vec::new();
    for seed in SEEDS {
        for field in ["object", "id", "practice_group_id", "event"] {
            let mut e = json!({"object": "Patient", "id": "7", "practice_group_id": "p-1", "event": "appointment.confirmed"});
            e[field] = json!(seed);
            out.push(e);
        }
    }
    // Not strings: the refusal names the field, never the value.
    out.push(
        json!({"object": "Patient", "id": 9434765919u64, "practice_group_id": "p", "event": "x"}),
    );
    out
}
