//! Promise 12 of `docs/promises.md`: over HTTP/2 the credential headers are never indexed, so
//! HPACK's tables (the client's, the server's and any proxy's) never hold the API key or the
//! practice group id. Held on the wire: a loopback HTTP/2 server (cleartext, prior knowledge)
//! that reads the client's HEADERS frames byte by byte and names the HPACK representation of
//! each header, with a header the client does index as the control.

mod support;

use herohealth::{ErrorKind, RetryPolicy, reqwest};
use herohealth_mock::raw::{RawServer, h2_frame};
use tokio::sync::mpsc;

// The values follow the names .ci/run's secret grep looks for, in the characters of `HUFFMAN`.
const KEY: &str = "hero-h2-test-key-7f3a9c";
const GROUP: &str = "practice-h2-41b8";
const CONTROL: &str = "control-5e2d";

/// HPACK's Huffman codes (RFC 7541 Appendix B) for `-`, digits and lower-case letters, as h2
/// 0.4's `hpack/huffman/table.rs` has them: (octet, code, bits). h2 sends every string
/// Huffman-coded, so the test finds a value by its code.
const HUFFMAN: [(u8, u32, u8); 37] = [
    (b'-', 0x16, 6),
    (b'0', 0x0, 5),
    (b'1', 0x1, 5),
    (b'2', 0x2, 5),
    (b'3', 0x19, 6),
    (b'4', 0x1a, 6),
    (b'5', 0x1b, 6),
    (b'6', 0x1c, 6),
    (b'7', 0x1d, 6),
    (b'8', 0x1e, 6),
    (b'9', 0x1f, 6),
    (b'a', 0x3, 5),
    (b'b', 0x23, 6),
    (b'c', 0x4, 5),
    (b'd', 0x24, 6),
    (b'e', 0x5, 5),
    (b'f', 0x25, 6),
    (b'g', 0x26, 6),
    (b'h', 0x27, 6),
    (b'i', 0x6, 5),
    (b'j', 0x74, 7),
    (b'k', 0x75, 7),
    (b'l', 0x28, 6),
    (b'm', 0x29, 6),
    (b'n', 0x2a, 6),
    (b'o', 0x7, 5),
    (b'p', 0x2b, 6),
    (b'q', 0x76, 7),
    (b'r', 0x2c, 6),
    (b's', 0x8, 5),
    (b't', 0x9, 5),
    (b'u', 0x2d, 6),
    (b'v', 0x77, 7),
    (b'w', 0x78, 7),
    (b'x', 0x79, 7),
    (b'y', 0x7a, 7),
    (b'z', 0x7b, 7),
];

/// `value` Huffman-coded (§5.2), padded with the EOS prefix (all ones) to a whole octet.
fn huffman(value: &str) -> Vec<u8> {
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u64, 0u32);
    for c in value.bytes() {
        let &(_, code, len) = HUFFMAN
            .iter()
            .find(|(octet, ..)| *octet == c)
            .expect("a character of the table");
        acc = (acc << len) | code as u64;
        bits += len as u32;
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits > 0 {
        out.push(((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) as u8);
    }
    out
}

/// How a header field was represented (RFC 7541 §6).
#[derive(Debug, PartialEq, Clone, Copy)]
enum Representation {
    /// §6.2.1: added to the dynamic table.
    IncrementalIndexing,
    /// §6.2.2: not added this time; an intermediary may still index it.
    WithoutIndexing,
    /// §6.2.3: never to be indexed, by anyone on the path.
    NeverIndexed,
}

/// An HPACK integer with an `n`-bit prefix (RFC 7541 §5.1) at `block[*at]`.
fn integer(block: &[u8], at: &mut usize, n: u32) -> usize {
    let max = (1usize << n) - 1;
    let mut value = (block[*at] as usize) & max;
    *at += 1;
    if value == max {
        let mut shift = 0;
        loop {
            let b = block[*at];
            *at += 1;
            value += ((b & 0x7f) as usize) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    value
}

/// An HPACK string (§5.2): whether it is Huffman-coded, and its octets as sent.
fn string<'a>(block: &'a [u8], at: &mut usize) -> (bool, &'a [u8]) {
    let huffman = block[*at] & 0x80 != 0;
    let len = integer(block, at, 7);
    let octets = &block[*at..*at + len];
    *at += len;
    (huffman, octets)
}

/// Every literal field of a header block, with its representation and its value as sent
/// (whether Huffman-coded, and the octets).
fn literals(block: &[u8]) -> Vec<(Representation, (bool, Vec<u8>))> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < block.len() {
        let b = block[at];
        let (kind, prefix) = if b & 0x80 != 0 {
            integer(block, &mut at, 7); // §6.1 an indexed field: no literal
            continue;
        } else if b & 0x40 != 0 {
            (Representation::IncrementalIndexing, 6)
        } else if b & 0x20 != 0 {
            integer(block, &mut at, 5); // §6.3 a table size update
            continue;
        } else if b & 0x10 != 0 {
            (Representation::NeverIndexed, 4)
        } else {
            (Representation::WithoutIndexing, 4)
        };
        if integer(block, &mut at, prefix) == 0 {
            string(block, &mut at); // a new name
        }
        let (coded, value) = string(block, &mut at);
        out.push((kind, (coded, value.to_vec())));
    }
    out
}

/// A cleartext HTTP/2 server on loopback (herohealth-mock's raw one): sends each request's header
/// block to the channel and answers it `404` (HPACK static entry 13), which the client does not
/// retry.
async fn serve() -> (RawServer, mpsc::UnboundedReceiver<Vec<u8>>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let server = RawServer::h2(move |frame| {
        let Some(block) = frame.header_block() else {
            return Vec::new();
        };
        assert!(frame.flags & 0x4 != 0, "one HEADERS frame per request here");
        tx.send(block.to_vec()).unwrap();
        h2_frame(1, 0x5, frame.stream, &[0x8d])
    })
    .await;
    (server, rx)
}

fn representation_of(block: &[u8], value: &str) -> Option<Representation> {
    let coded = huffman(value);
    literals(block)
        .into_iter()
        .find(|(_, (h, v))| {
            if *h {
                *v == coded
            } else {
                v == value.as_bytes()
            }
        })
        .map(|(kind, _)| kind)
}

/// Two requests on one HTTP/2 connection: in both header blocks the key and the practice group
/// are literals "never indexed" (§6.2.3). Without `set_sensitive` (or with the header built
/// anew, unmarked) the encoder indexes them like the control header: the first request shows
/// "incremental indexing" and the second refers to the table entry.
#[tokio::test]
async fn p12_http2_never_indexes_the_credential_headers() {
    let (server, mut blocks) = serve().await;
    let hero = support::builder_for(server.url(), KEY, GROUP, RetryPolicy::disabled())
        .configure_http(|http| {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert("x-control", CONTROL.parse().unwrap());
            http.http2_prior_knowledge().default_headers(headers)
        })
        .build()
        .unwrap();
    for request in 1..=2 {
        let err = hero.get_message().id("1").send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        let block = blocks.recv().await.unwrap();
        for (name, value) in [("x-api-key", KEY), ("x-practice-group-id", GROUP)] {
            assert_eq!(
                representation_of(&block, value),
                Some(Representation::NeverIndexed),
                "{name} on request {request}"
            );
        }
        if request == 1 {
            // The control: an ordinary header is indexed, so the reader tells the two apart.
            assert_eq!(
                representation_of(&block, CONTROL),
                Some(Representation::IncrementalIndexing)
            );
        } else {
            assert_eq!(
                representation_of(&block, CONTROL),
                None,
                "the second request refers to the control by its table index"
            );
        }
    }
}
