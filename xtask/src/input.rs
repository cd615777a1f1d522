//! Reading a description: from a file or a URL, checked to be an OpenAPI 3.x document with paths
//! before anything looks at it, and fingerprinted (SHA-256) for the snapshot's provenance header.

use std::{
    path::Path,
    time::{SystemTime, UNIX_EPOCH},
};

/// A description as read: its source, the SHA-256 of its bytes, and its content twice: as YAML
/// (which keeps the author's key order, for writing) and as JSON (for comparing).
#[derive(Debug, Clone)]
pub struct Description {
    /// Where it was read from, as given.
    pub source: String,
    /// Lower-case hex SHA-256 of the bytes read.
    pub sha256: String,
    /// The document, in the source's key order.
    pub yaml: serde_yaml::Value,
    /// The same document as JSON.
    pub json: serde_json::Value,
}

/// Reads and validates a description from a URL (`http://`, `https://`) or a file (relative paths
/// are relative to the current directory).
pub fn load(source: &str) -> Result<Description, String> {
    let bytes = if source.starts_with("https://") || source.starts_with("http://") {
        fetch(source)?
    } else {
        std::fs::read(Path::new(source)).map_err(|e| format!("cannot read {source}: {e}"))?
    };
    let text = String::from_utf8(bytes).map_err(|_| format!("{source}: not UTF-8 text"))?;
    let (yaml, json) = parse(&text).map_err(|e| format!("{source}: {e}"))?;
    Ok(Description {
        source: source.to_owned(),
        sha256: sha256_hex(text.as_bytes()),
        yaml,
        json,
    })
}

fn fetch(url: &str) -> Result<Vec<u8>, String> {
    let response = reqwest::blocking::get(url)
        .and_then(reqwest::blocking::Response::error_for_status)
        .map_err(|e| format!("cannot fetch {url}: {}", causes(&e)))?;
    let bytes = response
        .bytes()
        .map_err(|e| format!("cannot read the body of {url}: {}", causes(&e)))?;
    Ok(bytes.to_vec())
}

/// An error and every cause under it, `a: b: c` (reqwest's own message hides the cause).
pub fn causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

/// Parses YAML or JSON text and checks that it is an OpenAPI 3.x description with paths. Errors say
/// what the text is instead (empty, HTML, Swagger 2.0, some other YAML).
pub fn parse(text: &str) -> Result<(serde_yaml::Value, serde_json::Value), String> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Err("empty document, not an OpenAPI description".to_owned());
    }
    let head = trimmed.chars().take(512).collect::<String>().to_lowercase();
    if head.starts_with('<') || head.contains("<!doctype html") || head.contains("<html") {
        return Err(
            "an HTML page, not an OpenAPI description (a login or error page, or the docs site?)"
                .to_owned(),
        );
    }
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|e| format!("not a YAML or JSON document: {e}"))?;
    let json: serde_json::Value = serde_json::to_value(&yaml)
        .map_err(|e| format!("not a document JSON can hold (keys must be text): {e}"))?;
    let Some(root) = json.as_object() else {
        return Err("not an OpenAPI description: the document is not a mapping".to_owned());
    };
    if let Some(v) = root.get("swagger") {
        return Err(format!(
            "a Swagger {} description; OpenAPI 3.0 or 3.1 is needed",
            scalar(v)
        ));
    }
    match root.get("openapi") {
        Some(v) if scalar(v).starts_with("3.") => {}
        Some(v) => {
            return Err(format!(
                "OpenAPI version {} is not supported; 3.0 or 3.1 is needed",
                scalar(v)
            ));
        }
        None => return Err("not an OpenAPI description: no `openapi: 3.x` field".to_owned()),
    }
    match root.get("paths").and_then(serde_json::Value::as_object) {
        Some(paths) if !paths.is_empty() => Ok((yaml, json)),
        _ => Err("an OpenAPI description without paths: there is nothing to compare".to_owned()),
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`.
pub fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or_default();
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Lower-case hex SHA-256 (FIPS 180-4) of `data`. Written out here rather than adding a crate to
/// the workspace lock for one provenance line.
pub fn sha256_hex(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_answers() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    #[test]
    fn today_is_a_date() {
        let d = today();
        assert_eq!(d.len(), 10, "{d}");
        assert!(d.starts_with("20"), "{d}");
    }
}
