#!/usr/bin/env bash
# Runs the end-to-end tests of the web page in headless Chromium against the real `coda` binary.
# Installs what is missing first: Debian's chromium (never a downloaded browser), the npm packages
# pinned in package-lock.json, and the debug build of `coda`. Exits non-zero when a test fails.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  echo "installing chromium from Debian…"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends chromium
fi

if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi

if [ -z "${CODA_BIN:-}" ]; then
  (cd .. && cargo build -p coda)
fi

rm -rf artifacts
exec node --test --test-concurrency=1 tests/
