//! Bounded reading of response bodies: a success body is capped at [`MAX_RESPONSE_BYTES`], a send's
//! success body is read in full here (so that a broken answer is known to follow an accepted send).

use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use super::context::{AttemptFailure, classify_transport};
use crate::error::ErrorKind;

/// The most of a success body the client reads; a larger one fails with `ErrorKind::Decode`.
pub(crate) const MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;

/// The error a body stream ends with past [`MAX_RESPONSE_BYTES`].
#[derive(Debug, thiserror::Error)]
#[error("the response body is larger than {MAX_RESPONSE_BYTES} bytes")]
pub(crate) struct BodyTooLarge;

/// A response builder with `resp`'s status, version and headers.
pub(crate) fn same_head(resp: &reqwest::Response) -> http::response::Builder {
    let mut builder = http::Response::builder()
        .status(resp.status())
        .version(resp.version());
    if let Some(headers) = builder.headers_mut() {
        *headers = resp.headers().clone();
    }
    builder
}

/// Reads at most `limit` bytes of `resp`'s body; the flag says whether there was more.
pub(crate) async fn read_at_most(
    resp: &mut reqwest::Response,
    limit: usize,
) -> reqwest::Result<(Bytes, bool)> {
    let mut body = BytesMut::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = limit - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if chunk.len() > room {
            return Ok((body.freeze(), true));
        }
    }
    Ok((body.freeze(), false))
}

/// Bounds a success body: refused up front when its `Content-Length` is too large, cut off with
/// [`BodyTooLarge`] when a body without one grows too large.
pub(crate) fn limit_body(resp: reqwest::Response) -> Result<reqwest::Response, AttemptFailure> {
    match resp.content_length() {
        Some(len) if len > MAX_RESPONSE_BYTES => Err(AttemptFailure::new(
            ErrorKind::Decode,
            BodyTooLarge.to_string(),
            false,
        )),
        // hyper holds a body to its Content-Length.
        Some(_) => Ok(resp),
        None => {
            let builder = same_head(&resp);
            let mut seen = 0u64;
            let body = resp.bytes_stream().map(move |chunk| {
                let chunk = chunk?;
                seen += chunk.len() as u64;
                if seen > MAX_RESPONSE_BYTES {
                    return Err(Box::new(BodyTooLarge) as Box<dyn std::error::Error + Send + Sync>);
                }
                Ok(chunk)
            });
            let rebuilt = builder
                .body(reqwest::Body::wrap_stream(body))
                .expect("status, version and headers come from a valid response");
            Ok(reqwest::Response::from(rebuilt))
        }
    }
}

/// Reads a send's success body (at most [`MAX_RESPONSE_BYTES`]) and returns an equivalent
/// response; a body that cannot be read is a failure of a send Hero accepted.
pub(crate) async fn read_send_body(
    mut resp: reqwest::Response,
) -> Result<reqwest::Response, AttemptFailure> {
    let too_large = || AttemptFailure::accepted(ErrorKind::Decode, BodyTooLarge.to_string());
    if resp
        .content_length()
        .is_some_and(|len| len > MAX_RESPONSE_BYTES)
    {
        return Err(too_large());
    }
    match read_at_most(&mut resp, MAX_RESPONSE_BYTES as usize).await {
        Ok((_, true)) => Err(too_large()),
        Ok((body, false)) => {
            let rebuilt = same_head(&resp)
                .body(body)
                .expect("status, version and headers come from a valid response");
            Ok(reqwest::Response::from(rebuilt))
        }
        Err(e) => {
            let (kind, message) = classify_transport(&e.without_url());
            Err(AttemptFailure::accepted(kind, message))
        }
    }
}
