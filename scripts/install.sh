#!/usr/bin/env bash
# Installs what a fresh machine lacks: Debian's Chromium (for the local Browser Rendering
# binding) and the npm packages. Idempotent; safe to run before every demo or test run.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "install: Debian's chromium is missing; installing it with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "install: Chromium is missing. As root: apt-get update && apt-get install -y chromium" >&2
    exit 1
  fi
fi

# Reinstall when node_modules is missing or older than the lock file. Plain `npm ci`, as a
# newcomer runs it: if the lock file does not install, that is a bug to fix, not to work around
# (docs/toolchain.md says why the lock holds one workerd).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install: npm $(npm --version) ci, on Node $(node --version)"
  # @playwright/test is here to run exported specs in tests: it must not fetch browsers (offline;
  # Debian's Chromium is used).
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi

[ -f .dev.vars ] || cp .dev.vars.example .dev.vars
export WRANGLER_SEND_METRICS=false
