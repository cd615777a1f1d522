#!/usr/bin/env bash
# Build cost for a consumer (issue 16): a clean debug build of a small program that uses herohealth
# (with the `rustls-ring` TLS feature), against the same program written on the same HTTP stack
# without herohealth (reqwest 0.13 + rustls/ring, tokio, serde, chrono, ...). Each in a fresh
# target directory, one after the other, crates already downloaded (--offline). Prints the times and
# their ratio. Run from the workspace root: `bash benches/build_cost.sh`.
set -euo pipefail
ROOT=$PWD
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

mkdir -p "$WORK/with/src" "$WORK/without/src"
cat > "$WORK/with/Cargo.toml" <<TOML
[package]
name = "with-herohealth"
version = "0.0.0"
edition = "2024"
[dependencies]
herohealth = { path = "$ROOT", default-features = false, features = ["rustls-ring"] }
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
[workspace]
TOML
cat > "$WORK/with/src/main.rs" <<'RS'
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let hero = herohealth::HeroClient::from_env()?;
    let page = hero.list_sent_messages().page_size(10).send().await?;
    println!("{} messages", page.count);
    Ok(())
}
RS
cat > "$WORK/without/Cargo.toml" <<'TOML'
[package]
name = "without-herohealth"
version = "0.0.0"
edition = "2024"
[dependencies]
reqwest = { version = "0.13", default-features = false, features = ["json", "query", "stream", "http2", "rustls-no-provider"] }
rustls = { version = "0.23", default-features = false, features = ["ring", "std", "tls12"] }
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
chrono = { version = "0.4", default-features = false, features = ["serde", "clock", "std"] }
futures = "0.3"
thiserror = "2"
tracing = "0.1"
url = "2"
[workspace]
TOML
cat > "$WORK/without/src/main.rs" <<'RS'
#[derive(serde::Deserialize)]
struct Page {
    count: i64,
    data: Vec<serde_json::Value>,
}
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let key = std::env::var("HERO_API_KEY")?;
    let client = reqwest::Client::builder().build()?;
    let page: Page = client
        .get("https://api.herohealth.net/v2/sent_messages")
        .query(&[("page_size", 10)])
        .header("x-api-key", key)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    println!("{} messages ({} on this page)", page.count, page.data.len());
    Ok(())
}
RS
# The same lock file versions for both: resolve from the workspace's lock where they overlap.
cp "$ROOT/Cargo.lock" "$WORK/with/Cargo.lock"
cp "$ROOT/Cargo.lock" "$WORK/without/Cargo.lock"

build() {
  local start end
  start=$(date +%s.%N)
  (cd "$WORK/$1" && CARGO_TARGET_DIR="$WORK/$1/target" cargo build --offline --quiet ${TIMINGS:+--timings})
  [ -z "${TIMINGS:-}" ] || cp "$WORK/$1"/target/cargo-timings/cargo-timing.html "/tmp/timing-$1.html"
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
without=$(build without)
with=$(build with)
echo "clean debug build, same HTTP stack without herohealth: ${without} s"
echo "clean debug build, with herohealth (rustls-ring):      ${with} s"
echo "ratio: $(echo "scale=3; $with / $without" | bc)"
