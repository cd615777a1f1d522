//! Bounded reading of response bodies: a success body is read whole up to
//! [`MAX_RESPONSE_BYTES`], an error body up to [`ERROR_BODY_LIMIT`].

use bytes::{Bytes, BytesMut};
use reqwest::{StatusCode, header::HeaderMap};

use super::failure;
use crate::error::{Error, ErrorKind};

/// The most of a success body the client reads; a larger one fails with `ErrorKind::Decode`.
pub(crate) const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// The most of an error body the client reads.
pub(crate) const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Reads at most `limit` bytes of `resp`'s body; the flag says whether there was more. A body
/// that comes as one chunk (the usual JSON answer) is returned as that chunk, without a copy.
async fn read_at_most(
    resp: &mut reqwest::Response,
    limit: usize,
) -> reqwest::Result<(Bytes, bool)> {
    let hint = resp.content_length();
    let Some(first) = resp.chunk().await? else {
        return Ok((Bytes::new(), false));
    };
    if first.len() > limit {
        return Ok((first.slice(..limit), true));
    }
    let Some(second) = resp.chunk().await? else {
        return Ok((first, false));
    };
    let mut body = BytesMut::with_capacity(
        hint.map_or(0, |n| usize::try_from(n).unwrap_or(limit).min(limit))
            .max(first.len() + second.len()),
    );
    body.extend_from_slice(&first);
    let mut next = Some(second);
    while let Some(chunk) = next {
        let room = limit - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if chunk.len() > room {
            return Ok((body.freeze(), true));
        }
        next = resp.chunk().await?;
    }
    Ok((body.freeze(), false))
}

/// A success response's status, headers and whole body (at most [`MAX_RESPONSE_BYTES`]); a body
/// that is too large, or that breaks off, is an error (the caller says whether the send went).
pub(crate) async fn read_success(
    mut resp: reqwest::Response,
) -> (StatusCode, HeaderMap, crate::Result<Bytes>) {
    let status = resp.status();
    let headers = std::mem::take(resp.headers_mut());
    let too_large = || {
        Error::new(
            ErrorKind::Decode,
            format!("the response body is larger than {MAX_RESPONSE_BYTES} bytes"),
        )
    };
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return (status, headers, Err(too_large()));
    }
    let read = match read_at_most(&mut resp, MAX_RESPONSE_BYTES).await {
        Ok((_, true)) => Err(too_large()),
        Ok((body, false)) => Ok(body),
        Err(e) => {
            let (kind, message) = failure::classify(&e);
            Err(Error::new(kind, message))
        }
    };
    (status, headers, read)
}

/// An error response's headers and body (at most [`ERROR_BODY_LIMIT`]; a body cut at the limit
/// is kept for a masked excerpt); `None` when the body broke off.
pub(crate) async fn read_error(mut resp: reqwest::Response) -> (HeaderMap, Option<Bytes>) {
    let headers = std::mem::take(resp.headers_mut());
    let body = read_at_most(&mut resp, ERROR_BODY_LIMIT)
        .await
        .ok()
        .map(|(b, _)| b);
    (headers, body)
}
