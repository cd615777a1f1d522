//! [`Response`]: what every operation's `send()` gives back.

use std::{fmt, ops::Deref};

use reqwest::{StatusCode, header::HeaderMap};

/// A decoded answer from Hero, with its status and headers.
///
/// It dereferences to the decoded body, so `sent.message_id` reads a field; take the body with
/// [`into_inner`](Self::into_inner).
///
/// ```no_run
/// # async fn run(hero: herohealth::HeroClient) -> herohealth::Result<()> {
/// let templates = hero.list_templates().send().await?;
/// println!("HTTP {} with {} templates", templates.status(), templates.data.len());
/// let templates: herohealth::types::TemplateList = templates.into_inner();
/// # let _ = templates; Ok(()) }
/// ```
pub struct Response<T> {
    value: T,
    status: StatusCode,
    headers: HeaderMap,
}

impl<T> Response<T> {
    pub(crate) fn new(value: T, status: StatusCode, headers: HeaderMap) -> Self {
        Self {
            value,
            status,
            headers,
        }
    }

    /// The decoded body.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The HTTP status Hero answered with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Hero's request id (the first of the headers `openapi.yaml` declares as one), for a
    /// support ticket: the id itself when it has the form the spec declares for a request id
    /// ([`crate::ids::REQUEST_ID`]), else `…` (as [`crate::Error::request_id`]).
    pub fn request_id(&self) -> Option<&str> {
        request_id_of(&self.headers).map(|id| crate::ids::REQUEST_ID.shown(id).as_str())
    }
}

impl<T> Deref for Response<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: IntoIterator> IntoIterator for Response<T> {
    type Item = T::Item;
    type IntoIter = T::IntoIter;
    fn into_iter(self) -> T::IntoIter {
        self.value.into_iter()
    }
}

/// Shows the status and the body's own `Debug` (the crate's types redact patient data); headers
/// are left out.
impl<T: fmt::Debug> fmt::Debug for Response<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status.as_u16())
            .field("value", &self.value)
            .finish()
    }
}

/// The request id header of an answer, as sent (mask it before showing it).
pub(crate) fn request_id_of(headers: &HeaderMap) -> Option<&str> {
    crate::ids::REQUEST_ID_HEADERS
        .iter()
        .find_map(|h| headers.get(*h))
        .and_then(|v| v.to_str().ok())
}
