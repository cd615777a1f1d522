//! A cell of a CSV file a person may open in a spreadsheet ([`csv_safe`]): one rule for every CSV
//! the project writes (`hero`'s `--output csv`, the console's export of the decisions).

/// A cell as CSV may hold it for a spreadsheet: text a spreadsheet would run as a formula (it
/// starts with `=`, `@`, a tab or a carriage return, or with `+` or `-` and is not a number, as
/// OWASP's "CSV injection" lists) gets a leading `'`, so a value a server sent or a person typed
/// cannot become a formula on the practice's computer. Numbers and phone numbers
/// (`+447700900123`) stay as they are.
///
/// ```
/// use herohealth_outbox::csv_safe;
/// assert_eq!(csv_safe("=HYPERLINK(\"http://x\")".into()), "'=HYPERLINK(\"http://x\")");
/// assert_eq!(csv_safe("+447700900123".into()), "+447700900123");
/// assert_eq!(csv_safe("delivered".into()), "delivered");
/// ```
pub fn csv_safe(cell: String) -> String {
    let number = |rest: &str| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == ' ')
    };
    let risky = match cell.chars().next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some(c @ ('+' | '-')) => !number(&cell[c.len_utf8()..]),
        _ => false,
    };
    if risky { format!("'{cell}") } else { cell }
}

#[cfg(test)]
mod tests {
    use super::csv_safe;

    #[test]
    fn a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted_and_numbers_are_not() {
        for (given, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("+", "'+"),
            ("-", "'-"),
            ("+447700900123", "+447700900123"),
            ("-12.5", "-12.5"),
            ("07700 900123", "07700 900123"),
            ("delivered", "delivered"),
            ("é=1", "é=1"),
            ("", ""),
        ] {
            assert_eq!(csv_safe(given.to_owned()), written, "{given:?}");
        }
    }
}
