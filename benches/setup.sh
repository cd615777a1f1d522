#!/usr/bin/env bash
# What `cargo bench` needs beyond Rust, for the instruction counts (benches/instructions.rs):
# Valgrind (Debian's package, installed when missing) and `gungraun-runner` at exactly the version
# of the `gungraun` dev-dependency in Cargo.lock (the harness refuses a runner of another version).
# Then `cargo bench` runs every bench, wall-clock and instruction counts. Run from anywhere:
#   bash benches/setup.sh && cargo bench
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "benches/setup.sh: valgrind is missing; install it with your system's package manager" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq valgrind >/dev/null
fi
valgrind --version

version=$(awk '/^name = "gungraun"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$version" ]; then
  echo "benches/setup.sh: no gungraun in Cargo.lock" >&2
  exit 1
fi
if [ "$(gungraun-runner --version 2>/dev/null)" != "gungraun-runner $version" ]; then
  cargo install --locked gungraun-runner --version "=$version"
fi
gungraun-runner --version
