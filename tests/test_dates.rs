//! No test may depend on today's date. A literal date that is still in the future is a test that
//! breaks the day that date passes (`outbox/src/row.rs` wrote `send_at` 2026-12-01 as "the future",
//! and the whole suite went red on 2 December 2026). Tests write dates relative to now, or use a
//! clock they own (the mock's `advance`, tokio's paused clock).
//!
//! This test reads every source and fixture of the workspace that tests read and fails on any
//! literal date from today on, in the forms tests write them: `YYYY-MM-DD` (RFC 3339, CSV,
//! JSON) and `with_ymd_and_hms(YYYY, M, D, ..)` / `from_ymd_opt(YYYY, M, D)` (chrono). Year 9999
//! is the one exception: it stands for "never" (a hostile `Retry-After` date, say) and cannot pass.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, Utc};
use regex::Regex;

const DIRS: &[&str] = &[
    "tests",
    "src",
    "examples",
    "benches",
    "fuzz/fuzz_targets",
    "mock/tests",
    "mock/src",
    "cli/tests",
    "cli/src",
    "outbox/tests",
    "outbox/src",
    "outbox/benches",
    "xtask/tests",
    "xtask/src",
];

/// The year that stands for "never".
const NEVER: i32 = 9999;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            // Generated code is not written by a test; its dates come from the spec's examples.
            if path.file_name().is_some_and(|n| n == "snapshots") {
                continue;
            }
            files(&path, out);
        } else if path.extension().is_some_and(|e| {
            ["rs", "json", "yaml", "yml", "csv", "txt"]
                .iter()
                .any(|x| e == *x)
        }) {
            out.push(path);
        }
    }
}

/// Every literal date in `text` on or after `today` (and before year 9999), as (line, date).
fn future_dates(text: &str, today: NaiveDate) -> Vec<(usize, NaiveDate)> {
    let iso = Regex::new(r"\b(\d{4})-(\d{2})-(\d{2})\b").unwrap();
    let chrono_call =
        Regex::new(r"(?:ymd_and_hms|from_ymd_opt|from_ymd)\(\s*(\d{4}),\s*(\d{1,2}),\s*(\d{1,2})")
            .unwrap();
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for re in [&iso, &chrono_call] {
            for c in re.captures_iter(line) {
                let (y, m, d) = (
                    c[1].parse::<i32>().unwrap(),
                    c[2].parse::<u32>().unwrap(),
                    c[3].parse::<u32>().unwrap(),
                );
                if let Some(date) = NaiveDate::from_ymd_opt(y, m, d)
                    && date >= today
                    && y < NEVER
                {
                    found.push((n + 1, date));
                }
            }
        }
    }
    found
}

#[test]
fn no_test_writes_a_date_that_has_not_passed_yet() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    for dir in DIRS {
        files(&root.join(dir), &mut all);
    }
    assert!(
        all.len() > 100,
        "the walk found only {} files: a directory moved?",
        all.len()
    );
    let today = Utc::now().date_naive();
    let mut bad = Vec::new();
    // This file holds the detector's own examples.
    for path in all.iter().filter(|p| !p.ends_with("tests/test_dates.rs")) {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for (line, date) in future_dates(&text, today) {
            bad.push(format!(
                "{}:{line}: {date}",
                path.strip_prefix(root).unwrap().display()
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "literal dates that have not passed yet (write them relative to now, or use a clock the \
         test owns; year {NEVER} stands for never):\n{}",
        bad.join("\n")
    );
}

/// The detector itself, on a day it owns: both spellings are found, the past and year 9999 are
/// not. Its examples are written from that day, so this file holds no literal future date.
#[test]
fn the_detector_finds_both_spellings_and_spares_the_past_and_never() {
    use chrono::Datelike;
    let today = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
    let past = today - chrono::Days::new(4);
    let later = today + chrono::Days::new(1_489);
    let next_year = today + chrono::Days::new(178);
    let text = format!(
        "a,{past}T09:00:00Z\n\
         b,{today}\n\
         let at = Utc.with_ymd_and_hms({}, {}, {}, 9, 30, 0);\n\
         NaiveDate::from_ymd_opt({}, {}, {})\n\
         Retry-After: Fri, 31 Dec 9999 23:59:59 GMT and 9999-12-31\n\
         not a date: 2026-13-40, 12026-01-01x\n",
        later.year(),
        later.month(),
        later.day(),
        next_year.year(),
        next_year.month(),
        next_year.day(),
    );
    assert_eq!(
        future_dates(&text, today),
        [(2, today), (3, later), (4, next_year)]
    );
}
