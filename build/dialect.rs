//! The `x-herohealth-*` extensions `openapi.yaml` uses: the one list of their names and meanings.
//! `build.rs` reads them; `xtask` includes this same file (`#[path]`) so both read one dialect.
//!
//! | key | where | meaning |
//! | --- | --- | --- |
//! | `x-herohealth-rust-type` | a component schema | replaced by this handwritten type (`crate::enums::X`: a forward-compatible enum generated from the schema's `enum:`; `crate::validate::X`: a checked request value; `crate::redact::Sensitive`: patient data) |
//! | `x-herohealth-paged` | an operation | a paged list: `{items, count}` name the page's array and total, or `{item, into_page: handwritten}` |
//! | `x-herohealth-words` | anywhere | extra words of the API (parameter spellings Hero's messages use) a masked text may keep |
//! | `x-herohealth-not-carried` | `spec/upstream.yaml`'s root | operations under our tags that the client does not carry (read by `xtask`) |

#![allow(dead_code)]

/// `x-herohealth-rust-type`: the handwritten type that replaces a component schema.
pub const RUST_TYPE: &str = "x-herohealth-rust-type";
/// `x-herohealth-paged`: how a paged list's answer becomes a page.
pub const PAGED: &str = "x-herohealth-paged";
/// `x-herohealth-words`: words of the API a masked text may keep.
pub const WORDS: &str = "x-herohealth-words";
/// `x-herohealth-not-carried`: operations under our tags the client does not carry.
pub const NOT_CARRIED: &str = "x-herohealth-not-carried";
