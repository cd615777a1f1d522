//! The checked values' rules, value by value.

use proptest::prelude::*;

use super::{ContactDetail, NhsNumber, SnomedCode, canonical_contact};

#[test]
fn nhs_number_forms_and_check_digit() {
    for ok in [
        "9434765919",
        "943 476 5919",
        "943-476-5919",
        " 943 476 5919 ",
        // White space at one end only (a spreadsheet's trailing non-breaking space).
        "9434765919\u{a0}",
        " 9434765919",
    ] {
        assert_eq!(NhsNumber::parse(ok).unwrap().as_str(), "9434765919", "{ok}");
    }
    // Check digit 0 (11 - 0 = 11 -> 0).
    assert!(NhsNumber::parse("1000000060").is_ok());
    for (bad, rule) in [
        ("943 476 5918", "has a wrong check digit"),
        (
            "943 476-5919",
            "must be 10 digits, optionally grouped 3-3-4 by spaces or hyphens",
        ),
        (
            "94347659",
            "must be 10 digits, optionally grouped 3-3-4 by spaces or hyphens",
        ),
        ("94347659AB", "must contain only digits"),
        ("1000000010", "is not a valid number (check digit 10)"),
    ] {
        assert_eq!(NhsNumber::parse(bad).unwrap_err().rule(), rule, "{bad}");
    }
}

/// The rule as the NHS writes it, one byte at a time (ten digits, or 3-3-4 with one kind of
/// separator): what the eight-at-once check in `NhsNumber::parse` must agree with.
fn reference(s: &str) -> Result<String, &'static str> {
    let b = s.trim().as_bytes();
    let digits: Vec<u8> = match b.len() {
        10 => b.to_vec(),
        12 if b[3] == b[7] && (b[3] == b' ' || b[3] == b'-') => (0..12)
            .filter(|i| *i != 3 && *i != 7)
            .map(|i| b[i])
            .collect(),
        _ => return Err("form"),
    };
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err("digits");
    }
    let d: Vec<u32> = digits.iter().map(|c| u32::from(c - b'0')).collect();
    let sum: u32 = (0..9).map(|i| d[i] * (10 - i as u32)).sum();
    match 11 - sum % 11 {
        10 => Err("check digit 10"),
        c if c % 11 != d[9] => Err("wrong check digit"),
        _ => Ok(String::from_utf8(digits).unwrap()),
    }
}

fn kind(rule: &str) -> &'static str {
    match rule {
        "has a wrong check digit" => "wrong check digit",
        "is not a valid number (check digit 10)" => "check digit 10",
        "must contain only digits" => "digits",
        _ => "form",
    }
}

/// 300,000 numbers (a third of them valid) in the three forms, and every byte at every place
/// of a valid number replaced by each of the 256 byte values (as a char where it is one):
/// the parser and the reference agree on every one, and on which rule refuses it.
#[test]
fn nhs_number_parse_agrees_with_the_rule_written_plainly() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let agree = |s: &str| {
        let ours = NhsNumber::parse(s).map(|n| n.as_str().to_owned());
        let theirs = reference(s);
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{s:?}"),
            (Err(e), Err(r)) => assert_eq!(kind(e.rule()), *r, "{s:?}"),
            _ => panic!("{s:?}: parse {ours:?}, the rule {theirs:?}"),
        }
        ours.is_ok()
    };
    let mut valid = 0;
    for _ in 0..100_000 {
        let n = format!("{:010}", next() % 10_000_000_000);
        let grouped = |sep: char| format!("{}{sep}{}{sep}{}", &n[..3], &n[3..6], &n[6..]);
        for form in [n.clone(), grouped(' '), grouped('-')] {
            valid += usize::from(agree(&form));
        }
    }
    assert!(valid > 20_000, "valid numbers were tried: {valid}");
    for good in ["9434765919", "943 476 5919", "943-476-5919", "1000000060"] {
        for at in 0..good.len() {
            for byte in 0..=255u8 {
                let mut s = good.as_bytes().to_vec();
                s[at] = byte;
                if let Ok(s) = String::from_utf8(s) {
                    agree(&s);
                }
                let c = char::from(byte).to_string();
                agree(&format!("{}{c}{}", &good[..at], &good[at + 1..]));
            }
        }
    }
}

#[test]
fn errors_never_contain_the_value() {
    let err = NhsNumber::parse("943 476 5918").unwrap_err();
    assert!(!err.to_string().contains("5918"));
    let err = ContactDetail::parse("07788 12").unwrap_err();
    assert!(!err.to_string().contains("07788"));
}

#[test]
fn snomed_codes() {
    assert!(SnomedCode::parse("1240751000000100").is_ok());
    assert!(SnomedCode::parse("22298006").is_ok()); // myocardial infarction
    assert!(SnomedCode::parse("22298007").is_err());
    assert!(SnomedCode::parse("0229800").is_err());
    assert!(SnomedCode::parse("12345").is_err());
    // The rule named is the one broken.
    for (bad, rule) in [
        ("", "must contain only digits"),
        ("1240751a00000100", "must contain only digits"),
        ("12345", "must be 6 to 18 digits long"),
    ] {
        assert_eq!(SnomedCode::parse(bad).unwrap_err().rule(), rule, "{bad:?}");
    }
}

#[test]
fn contact_details() {
    assert!(ContactDetail::parse("a@b").is_err());
    assert!(ContactDetail::parse("a@@b.com").is_err());
    assert!(ContactDetail::parse("0778+8123456").is_err());
    assert!(ContactDetail::parse("+44 (0)7700 900123").is_ok());
}

/// The canonical form as it was first written (three allocations, `replace` then `filter` then
/// `format!`): the one-buffer `canonical_contact` must agree with it on every text.
fn canonical_written_plainly(text: &str) -> String {
    let text = text.trim();
    if text.contains('@') {
        return text.to_lowercase();
    }
    let plus = text.starts_with('+');
    let text = text.replace("(0)", "");
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let international = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else if let Some(rest) = digits.strip_prefix('0') {
        format!("44{rest}")
    } else if digits.starts_with("44") && digits.len() == 12 {
        digits
    } else {
        return digits;
    };
    let international = match international.strip_prefix("440") {
        Some(rest) => format!("44{rest}"),
        None => international,
    };
    format!("+{international}")
}

#[test]
fn canonical_contact_forms() {
    for (text, canonical) in [
        ("07700 900123", "+447700900123"),
        ("+44 (0)7700 900123", "+447700900123"),
        ("0044 7700 900123", "+447700900123"),
        ("447700900123", "+447700900123"),
        ("+44-7700-900-123", "+447700900123"),
        ("+44 07700 900123", "+447700900123"),
        ("00 440 7700 900123", "+447700900123"),
        (" +1 (555) 010-0199 ", "+15550100199"),
        ("4477009001234", "4477009001234"),
        ("7700900123", "7700900123"),
        ("((0)0))", "+44"),
        ("+", "+"),
        ("", ""),
        ("Ada@Example.ORG ", "ada@example.org"),
    ] {
        assert_eq!(canonical_contact(text), canonical, "{text:?}");
        assert_eq!(canonical_written_plainly(text), canonical, "{text:?}");
    }
}

proptest! {
    #[test]
    fn canonical_contact_agrees_with_the_form_written_plainly(
        text in "[ +()0-9@a-zA-Z\\-\u{a0}é]{0,24}",
    ) {
        prop_assert_eq!(canonical_contact(&text), canonical_written_plainly(&text));
    }

    #[test]
    fn canonical_contact_agrees_on_phone_shapes(
        text in "[ ]?[+]?(00|0|44|440|\\(0\\))?[ (0)4-]{0,6}[0-9 ]{0,14}",
    ) {
        prop_assert_eq!(canonical_contact(&text), canonical_written_plainly(&text));
    }
}
