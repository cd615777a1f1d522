//! Batch recipients from a CSV file: a header with `nhs_number` and `dob`, one patient per row.
//! Every row is checked before anything is sent; each bad row is reported with its line number.

use chrono::{DateTime, NaiveDate, Utc};
use herohealth::{NhsNumber, types::BatchRecipient};

/// Reads recipients, or every reason (one per problem, with the line number) why not.
pub fn parse(input: impl std::io::Read) -> Result<Vec<BatchRecipient>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| vec![format!("line 1: {e}")])?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(nhs_col), Some(dob_col)) = (column("nhs_number"), column("dob")) else {
        return Err(vec![
            "line 1: the header must name the columns nhs_number and dob".to_owned(),
        ]);
    };
    let mut recipients = Vec::new();
    let mut problems = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        let (Some(nhs), Some(dob)) = (record.get(nhs_col), record.get(dob_col)) else {
            let missing = if record.get(nhs_col).is_none() {
                "nhs_number"
            } else {
                "dob"
            };
            problems.push(format!("line {line}: missing column {missing}"));
            continue;
        };
        let nhs_number = NhsNumber::parse(nhs).map_err(|e| format!("line {line}: nhs_number: {e}"));
        let dob = parse_dob(dob).map_err(|e| format!("line {line}: dob: {e}"));
        match (nhs_number, dob) {
            (Ok(nhs_number), Ok(dob)) => recipients.push(BatchRecipient {
                nhs_number,
                dob: Some(dob),
            }),
            (a, b) => problems.extend(a.err().into_iter().chain(b.err())),
        }
    }
    if recipients.is_empty() && problems.is_empty() {
        problems.push("the file has no recipients".to_owned());
    }
    if problems.is_empty() {
        Ok(recipients)
    } else {
        Err(problems)
    }
}

/// A date of birth: `YYYY-MM-DD` (sent as midnight UTC) or an RFC 3339 date-time; not in the future.
fn parse_dob(text: &str) -> Result<DateTime<Utc>, String> {
    let dob = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .or_else(|| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|d| d.with_timezone(&Utc))
        })
        .ok_or("is not a date (YYYY-MM-DD)")?;
    if dob > Utc::now() {
        return Err("is in the future".to_owned());
    }
    Ok(dob)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn good_rows() {
        let csv = "nhs_number,dob\n943 476 5919,1955-06-02\n9434765870,1960-01-31T00:00:00Z\n\n";
        let r = parse(csv.as_bytes()).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].nhs_number.as_str(), "9434765919");
    }

    #[test]
    fn bad_rows_are_each_reported_with_their_line() {
        let csv = "dob,nhs_number\n1955-06-02,9434765919\n1955-06-02,9434765918\n02/06/1955,9434765870\n1955-06-02\n";
        assert_eq!(
            parse(csv.as_bytes()).unwrap_err(),
            vec![
                "line 3: nhs_number: an NHS number has a wrong check digit",
                "line 4: dob: is not a date (YYYY-MM-DD)",
                "line 5: missing column nhs_number",
            ]
        );
        assert_eq!(
            parse("name\nx\n".as_bytes()).unwrap_err(),
            vec!["line 1: the header must name the columns nhs_number and dob"]
        );
    }
}
