#!/usr/bin/env bash
# Runs every test: the Rust workspace (unit, integration against the local Redis and both SQL
# backends, model parity) and then the browser end-to-end tests against `coda up`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -p coda
cargo test --workspace --locked
./e2e/run.sh
