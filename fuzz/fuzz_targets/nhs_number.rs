//! Arbitrary text as an NHS number: parsing never panics, and what it accepts is ten digits with a
//! valid check digit.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        herohealth::fuzzing::parse_nhs_number(text);
    }
});
