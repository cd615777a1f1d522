//! The guide: one page per topic, beyond the README's first send.
//!
//! Each page is a markdown file beside this one (`src/guide/NAME.md`), included here as the docs of
//! an empty module, so it is read on docs.rs (or `cargo doc --open`) and every Rust example in it
//! is compiled and run by `cargo test` as a doctest. To change a topic, edit its file.
//!
//! | page | what it explains |
//! | --- | --- |
//! | [`sending`] | a send, what it returns, values checked before sending, forward-compatible enums, writing to the record, one method per question |
//! | [`batches`] | one message to many patients by NHS number, and the patients a batch did not reach |
//! | [`configuration`] | the settings and their defaults, per-call limits, proxies, TLS and the features |
//! | [`errors`] | errors and outcomes: what an error carries, "was it sent?", retries and "outcome unknown" |
//! | [`finding_a_send`] | `find_send`: resolving a send whose outcome is unknown, and its bounds |
//! | [`streams_and_waiting`] | paged lists as streams, waiting for delivery, the record or a batch |
//! | [`privacy`] | what is never printed or logged, and how to keep the HTTP stack's logs out of yours |
//! | [`telemetry`] | OpenTelemetry traces and metrics: wiring them to a collector, every span and metric, what is never recorded |
//! | [`webhooks`] | Hero's events verified and read; what is Hero's and what is inferred |
//! | [`attachments`] | a file sent with a message |
//! | [`bulk_sending`] | `herohealth-outbox` and `hero messages send-many`: one message per row, never twice |
//! | [`workers`] | several workers on one PostgreSQL journal |
//! | [`console`] | `hero outbox serve`: watch the sends and decide the rows a person must, in a browser |
//! | [`mock`] | herohealth-mock, a local Hero for your tests |
//! | [`cli`] | `hero`, the command line |
//! | [`maintainers`] | re-syncing with Hero's API, the commands, what CI checks, the pinned generator |
//! | [`architecture`] | how it is built: the one codegen step, the seam, one call's path, the layers |

#[doc = include_str!("sending.md")]
pub mod sending {}

#[doc = include_str!("batches.md")]
pub mod batches {}

#[doc = include_str!("configuration.md")]
pub mod configuration {}

#[doc = include_str!("errors.md")]
pub mod errors {}

#[doc = include_str!("finding_a_send.md")]
pub mod finding_a_send {}

#[doc = include_str!("streams_and_waiting.md")]
pub mod streams_and_waiting {}

#[doc = include_str!("privacy.md")]
pub mod privacy {}

#[doc = include_str!("telemetry.md")]
pub mod telemetry {}

#[doc = include_str!("webhooks.md")]
pub mod webhooks {}

#[doc = include_str!("attachments.md")]
pub mod attachments {}

#[doc = include_str!("bulk_sending.md")]
pub mod bulk_sending {}

#[doc = include_str!("workers.md")]
pub mod workers {}

#[doc = include_str!("console.md")]
pub mod console {}

#[doc = include_str!("mock.md")]
pub mod mock {}

#[doc = include_str!("cli.md")]
pub mod cli {}

#[doc = include_str!("maintainers.md")]
pub mod maintainers {}

#[doc = include_str!("architecture.md")]
pub mod architecture {}
