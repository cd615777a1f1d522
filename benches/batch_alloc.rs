//! Bytes allocated building and serialising a 100 000-recipient batch (dhat's heap statistics),
//! through the crate's types vs plain structs. The same code as `batch_payload`.

#[path = "batch_payload.rs"]
#[allow(dead_code)]
mod payload;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn measure(label: &str, f: impl FnOnce() -> Vec<u8>) {
    let before = dhat::HeapStats::get();
    let out = f();
    let after = dhat::HeapStats::get();
    println!(
        "  {label:<18} {:>12} bytes in {:>8} allocations ({} bytes of JSON)",
        after.total_bytes - before.total_bytes,
        after.total_blocks - before.total_blocks,
        out.len()
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let _profiler = dhat::Profiler::builder().testing().build();
    let raw = payload::common::nhs_numbers(100_000);
    let digits: Vec<String> = raw.iter().map(|n| n.replace(' ', "")).collect();
    println!("batch_alloc: 100 000 recipients");
    measure("herohealth_types", || payload::with_herohealth(&raw));
    measure("plain_structs", || payload::plain(&digits));
}
