//! HTTP/2 for [`RawServer::h2`](super::RawServer::h2): the frames a client sends, read one by one,
//! and the frames a test answers with.

use std::sync::Arc;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// One HTTP/2 frame a client sent (RFC 9113 §4.1), as [`RawServer::h2`](super::RawServer::h2) hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct H2Frame {
    /// The frame type: 0 DATA, 1 HEADERS, 3 RST_STREAM, 4 SETTINGS, 7 GOAWAY, ...
    pub kind: u8,
    /// The flags: 0x1 END_STREAM (or ACK), 0x4 END_HEADERS, 0x8 PADDED, 0x20 PRIORITY.
    pub flags: u8,
    /// The stream identifier (the reserved bit cleared).
    pub stream: u32,
    /// The payload as sent.
    pub payload: Vec<u8>,
}

impl H2Frame {
    /// For a HEADERS frame, its header block fragment: the payload without padding and priority.
    /// `None` for another kind of frame or a payload too short for its flags.
    ///
    /// ```
    /// use herohealth_mock::raw::H2Frame;
    ///
    /// // PADDED (1 octet of padding) and PRIORITY (5 octets) around a 1-octet block.
    /// let frame = H2Frame {
    ///     kind: 1,
    ///     flags: 0x4 | 0x8 | 0x20,
    ///     stream: 1,
    ///     payload: vec![1, 0, 0, 0, 0, 16, 0x82, 0],
    /// };
    /// assert_eq!(frame.header_block(), Some(&[0x82u8][..]));
    /// ```
    pub fn header_block(&self) -> Option<&[u8]> {
        if self.kind != 1 {
            return None;
        }
        let mut block = &self.payload[..];
        if self.flags & 0x8 != 0 {
            let pad = *block.first()? as usize;
            block = block.get(1..block.len().checked_sub(pad)?)?;
        }
        if self.flags & 0x20 != 0 {
            block = block.get(5..)?;
        }
        Some(block)
    }
}

/// A whole HTTP/2 frame: the 9-octet header (length, `kind`, `flags`, `stream`) and `payload`.
///
/// # Panics
///
/// When `payload` is 16 MiB or more: a frame's length has 24 bits.
///
/// ```
/// // A HEADERS frame on stream 1, END_STREAM | END_HEADERS, answering `:status: 404` (HPACK
/// // static entry 13).
/// let frame = herohealth_mock::raw::h2_frame(1, 0x5, 1, &[0x8d]);
/// assert_eq!(frame, [0, 0, 1, 1, 5, 0, 0, 0, 1, 0x8d]);
/// ```
pub fn h2_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    assert!(
        payload.len() < 1 << 24,
        "an HTTP/2 frame's payload is less than 16 MiB"
    );
    let len = payload.len() as u32;
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

pub(super) async fn serve_h2<F>(mut stream: TcpStream, answer: Arc<F>)
where
    F: Fn(H2Frame) -> Vec<u8>,
{
    const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    if stream.write_all(&h2_frame(4, 0, 0, &[])).await.is_err() {
        return;
    }
    let mut preface = [0u8; 24];
    if stream.read_exact(&mut preface).await.is_err() || &preface != PREFACE {
        return;
    }
    loop {
        let mut head = [0u8; 9];
        if stream.read_exact(&mut head).await.is_err() {
            return;
        }
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let mut frame = H2Frame {
            kind: head[3],
            flags: head[4],
            stream: u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff,
            payload: vec![0u8; len],
        };
        if stream.read_exact(&mut frame.payload).await.is_err() {
            return;
        }
        let reply = match frame.kind {
            4 if frame.flags & 1 == 0 => h2_frame(4, 1, 0, &[]),
            4 => continue,
            7 => return,
            _ => answer(frame),
        };
        if !reply.is_empty() && stream.write_all(&reply).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::H2Frame;

    #[test]
    fn a_header_block_is_only_read_from_a_headers_frame_that_holds_its_flags() {
        let frame = |kind, flags, payload: &[u8]| H2Frame {
            kind,
            flags,
            stream: 1,
            payload: payload.to_vec(),
        };
        assert_eq!(frame(1, 0x4, &[0x82]).header_block(), Some(&[0x82u8][..]));
        assert_eq!(frame(0, 0x4, &[0x82]).header_block(), None, "DATA");
        // Padding longer than the payload, a PADDED frame with no pad length, a PRIORITY frame
        // shorter than its 5 octets: no block, no panic.
        assert_eq!(frame(1, 0x8, &[9, 0x82]).header_block(), None);
        assert_eq!(frame(1, 0x8, &[]).header_block(), None);
        assert_eq!(frame(1, 0x20, &[0, 0, 0]).header_block(), None);
        assert_eq!(
            frame(1, 0x8, &[1, 0x82, 0]).header_block(),
            Some(&[0x82u8][..])
        );
    }
}
