//! Arbitrary bytes as a response body: decoding into every response type, and turning a failure into
//! `herohealth::Error` (JSON path, redacted excerpt), must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    herohealth::fuzzing::decode_every_response(data);
});
