//! Attachments: a file a message carries, by the `attachment_uuid` of an attachment link.
//!
//! Two calls, both JSON (Hero takes no multipart): `create_attachment_link` with the patient and
//! the file (its bytes inline, or one of the record's files by `ehr_file_id`) answers
//! `{attachment_link, attachment_uuid}`; `send_message` then carries `attachment_uuid`.
//!
//! ```no_run
//! use herohealth::{HeroClient, MessageType};
//!
//! # async fn run(hero: HeroClient) -> herohealth::Result<()> {
//! let pdf = std::fs::read("results.pdf").expect("the letter");
//! let link = hero
//!     .create_attachment_link()
//!     .body_map(|b| {
//!         b.patient_id("98765")
//!             .file("results.pdf", &pdf)
//!             .maximum_use_count(std::num::NonZeroU64::new(3))
//!     })
//!     .send()
//!     .await?;
//! hero.send_message()
//!     .body_map(|b| {
//!         b.patient_id("98765")
//!             .message_type(MessageType::Email)
//!             .message_string("Your results letter is attached.")
//!             .attachment_uuid(&*link) // the link's attachment_uuid
//!     })
//!     .send()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! A file of the patient's record is given by its id as text: `.ehr_file_id("f-1")` (a `String`
//! too; an empty one is refused, naming the field, before anything is sent).
//!
//! The file's bytes, its name and the link (`attachment_link`, which opens the document) are
//! patient data: they are held in [`Sensitive`], which never prints them, and
//! the client sends nothing unless the body has either `ehr_file_id` or both `file_data` and
//! `file_name`. Hero does not publish how `file_data` is encoded; the client sends standard,
//! padded base64 ([`encode_file_data`]).

use base64::Engine as _;

use crate::{Sensitive, types};

/// `bytes` as `file_data` is sent: standard, padded base64.
///
/// ```
/// assert_eq!(herohealth::attachments::encode_file_data(b"%PDF-1.4\n").expose(), "JVBERi0xLjQK");
/// ```
pub fn encode_file_data(bytes: &[u8]) -> Sensitive {
    Sensitive::from(base64::engine::general_purpose::STANDARD.encode(bytes))
}

impl types::builder::CreateAttachmentLinkRequest {
    /// Upload a file inline: sets `file_name` and `file_data` (the bytes, base64 encoded).
    ///
    /// ```
    /// let body: herohealth::types::CreateAttachmentLinkRequest =
    ///     herohealth::types::CreateAttachmentLinkRequest::builder()
    ///         .patient_id("98765")
    ///         .file("letter.pdf", b"%PDF-1.4\n")
    ///         .try_into()
    ///         .unwrap();
    /// assert_eq!(body.file_data.unwrap().expose(), "JVBERi0xLjQK");
    /// assert_eq!(body.file_name.unwrap().expose(), "letter.pdf");
    /// ```
    pub fn file(self, name: impl Into<String>, bytes: &[u8]) -> Self {
        self.file_name(Sensitive::from(name.into()))
            .file_data(encode_file_data(bytes))
    }
}

/// `.attachment_uuid(&link)`: a send carries the attachment link's `attachment_uuid`. An empty
/// one (Hero answering oddly) fails the send, naming the field, rather than sending the message
/// without its attachment.
///
/// ```
/// use herohealth::types::{AttachmentLink, SendMessageRequestAttachmentUuid};
/// let link: AttachmentLink = serde_json::from_str(
///     r#"{"attachment_link":"https://files.example/a/1","attachment_uuid":"0b8e7c52"}"#,
/// ).unwrap();
/// let uuid: Option<SendMessageRequestAttachmentUuid> = (&link).try_into().unwrap();
/// assert_eq!(uuid.unwrap().as_str(), "0b8e7c52");
/// assert!(format!("{link:?}").contains("<redacted>") && !format!("{link:?}").contains("files.example"));
/// ```
impl TryFrom<&types::AttachmentLink> for Option<types::SendMessageRequestAttachmentUuid> {
    type Error = &'static str;
    fn try_from(link: &types::AttachmentLink) -> Result<Self, Self::Error> {
        link.attachment_uuid
            .parse()
            .map(Some)
            .map_err(|_| "the attachment link's attachment_uuid is empty")
    }
}

/// `.attachment_uuid(&link)` on a send's body builder (see the `TryFrom` above).
impl crate::validate::IntoOptional<types::SendMessageRequestAttachmentUuid>
    for &types::AttachmentLink
{
    type Error = &'static str;
    fn into_optional(self) -> Result<Option<types::SendMessageRequestAttachmentUuid>, Self::Error> {
        self.try_into()
    }
}
