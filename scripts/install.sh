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

# Reinstall when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install: npm packages"
  # npm 11 can reject its own lock file in `npm ci` (two workerd versions in the tree);
  # npm 10 installs the same lock file exactly (see docs/toolchain.md).
  if ! npm ci --no-audit --no-fund --loglevel=error 2>/tmp/aegis-npm-ci.log; then
    echo "install: npm $(npm --version) refused the lock file (see /tmp/aegis-npm-ci.log); installing it with npm 10"
    npx -y npm@10 ci --no-audit --no-fund
  fi
fi

[ -f .dev.vars ] || cp .dev.vars.example .dev.vars
export WRANGLER_SEND_METRICS=false
