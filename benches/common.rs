//! Shared set-up for the benchmarks.

/// The first `n` valid NHS numbers from 100 000 000 upwards (a check digit of 10 is skipped), with
/// their raw text as a user would have it.
pub fn nhs_numbers(n: usize) -> Vec<String> {
    (100_000_000u64..)
        .filter_map(|base| {
            let digits: Vec<u64> = base
                .to_string()
                .bytes()
                .map(|b| u64::from(b - b'0'))
                .collect();
            let sum: u64 = digits
                .iter()
                .enumerate()
                .map(|(i, d)| d * (10 - i as u64))
                .sum();
            let check = (11 - sum % 11) % 11;
            (check < 10).then(|| {
                format!(
                    "{} {} {}{check}",
                    &base.to_string()[..3],
                    &base.to_string()[3..6],
                    &base.to_string()[6..]
                )
            })
        })
        .take(n)
        .collect()
}
