//! Peak memory of a streaming consumer: a child process streams N sent messages from a
//! herohealth-mock run by this process (so the mock's own memory is not counted) and reports its
//! peak resident set (VmHWM). It must not grow with N. Linux only (reads /proc/self/status).

use std::process::Command;

use futures::TryStreamExt;
use herohealth::{PageOptions, Paginate};
use herohealth_mock::MockServer;

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn consumer(url: &str, key: &str, group: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let hero = herohealth::HeroClient::builder()
        .api_key(key)
        .practice_group_id(group)
        .base_url(url)
        .build()
        .unwrap();
    let items = rt.block_on(async {
        hero.list_sent_messages()
            .stream_with(PageOptions::default().page_size(100).concurrency(8))
            .try_fold(0u64, |n, _| async move { Ok(n + 1) })
            .await
            .unwrap()
    });
    println!("{items} {}", peak_rss_kib());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--consumer") {
        return consumer(&args[i + 1], &args[i + 2], &args[i + 3]);
    }
    if args.iter().any(|a| a == "--list") {
        return; // `cargo bench -- --list`
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "stream_memory: peak RSS of a consumer streaming N sent messages (page 100, prefetch 8)"
    );
    for n in [10_000u64, 100_000] {
        let mock = rt.block_on(async {
            MockServer::builder()
                .seed_sent_messages(n)
                .start()
                .await
                .unwrap()
        });
        let (key, group) = mock.credentials();
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--consumer", &mock.base_url(), &key, &group])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let mut parts = text.split_whitespace();
        let (items, kib) = (parts.next().unwrap_or("?"), parts.next().unwrap_or("?"));
        println!("  N = {n:>7}: streamed {items:>7} items, peak RSS {kib} KiB");
        drop(mock);
    }
}
