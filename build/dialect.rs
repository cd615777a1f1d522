//! The `x-herohealth-*` extensions `openapi.yaml` uses: the one list of their names and meanings.
//! `build.rs` reads them; `xtask` includes this same file (`#[path]`) so both read one dialect.
//!
//! | key | where | meaning |
//! | --- | --- | --- |
//! | `x-herohealth-rust-type` | a component schema | replaced by this handwritten type (`crate::enums::X`: a forward-compatible enum generated from the schema's `enum:`; `crate::validate::X`: a checked request value; `crate::Sensitive`: patient data) |
//! | `x-herohealth-paged` | an operation | a paged list: `{items, count}` name the page's array and total, or `{item, into_page: handwritten}` |
//! | `x-herohealth-words` | anywhere | extra words of the API (parameter spellings Hero's messages use) a masked text may keep |
//! | `x-herohealth-messages` | a response | the messages Hero's error body carries: the only texts of Hero's an error shows (`{}` a masked slot) |
//! | `x-herohealth-patient-data` | a property | holds patient data its type does not say (a date of birth): masked in `Debug` |
//! | `x-herohealth-id` | a component schema of an id (`MessageId`) | the id's declared form, an anchored pattern: an id is shown (`Debug`, errors, logs, `hero`) only when its whole text matches it, else masked; a property that refers to the schema holds such an id |
//! | `x-herohealth-not-carried` | `spec/upstream.yaml`'s root | operations under our tags that the client does not carry (read by `xtask`) |
//! | `x-herohealth-ours-alone` | `spec/upstream.yaml`'s root | operations `openapi.yaml` carries that Hero's description lacks, each with why (read by `xtask`) |
//!
//! `FAMILIES` says what each family of `x-herohealth-rust-type` types does with JSON: build.rs
//! replaces schemas with them, and `cargo xtask diff` judges a change to Hero's description by it.

#![allow(dead_code)]

/// `x-herohealth-rust-type`: the handwritten type that replaces a component schema.
pub const RUST_TYPE: &str = "x-herohealth-rust-type";
/// `x-herohealth-paged`: how a paged list's answer becomes a page.
pub const PAGED: &str = "x-herohealth-paged";
/// `x-herohealth-words`: words of the API a masked text may keep.
pub const WORDS: &str = "x-herohealth-words";
/// `x-herohealth-messages`: the messages a response's body carries, `{}` for a slot.
pub const MESSAGES: &str = "x-herohealth-messages";
/// `x-herohealth-patient-data`: a property whose value is patient data its type does not say.
pub const PATIENT_DATA: &str = "x-herohealth-patient-data";
/// `x-herohealth-id`: the declared form (an anchored pattern) in which an id of a kind is shown.
pub const ID: &str = "x-herohealth-id";
/// `x-herohealth-not-carried`: operations under our tags the client does not carry.
pub const NOT_CARRIED: &str = "x-herohealth-not-carried";
/// `x-herohealth-ours-alone`: operations of `openapi.yaml` that Hero's description lacks, with why.
pub const OURS_ALONE: &str = "x-herohealth-ours-alone";

/// The path prefix of the forward-compatible enums (`crate::enums::X`, generated from the schema's
/// `enum:` list).
pub const OPEN_ENUMS: &str = "crate::enums::";

/// What a family of handwritten types (`x-herohealth-rust-type`) does with a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// A forward-compatible enum: reads any string (one it does not know as `Unknown`), sends only
    /// the schema's values.
    OpenEnum,
    /// A checked value: reads and sends only text that passes its check, which the schema
    /// describes (`pattern`, lengths, `format`).
    Checked,
    /// Text of any content (patient data kept out of logs, an id kept as text).
    Text,
}

/// Every family of `x-herohealth-rust-type` types, by its path's prefix.
pub const FAMILIES: [(&str, Family); 4] = [
    (OPEN_ENUMS, Family::OpenEnum),
    ("crate::validate::", Family::Checked),
    ("crate::shown::Sensitive", Family::Text),
    ("::std::string::String", Family::Text),
];

/// The family of a type `x-herohealth-rust-type` names; `None` for a path of no known family.
pub fn family(rust_type: &str) -> Option<Family> {
    FAMILIES
        .iter()
        .find(|(prefix, _)| rust_type.starts_with(prefix))
        .map(|(_, family)| *family)
}
