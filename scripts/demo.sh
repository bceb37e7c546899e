#!/usr/bin/env bash
# The main job on a fresh machine: install, apply local migrations, start the Worker with
# every local binding, serve a demo site on 127.0.0.1, create an organization, a project and
# a CI token, trigger a run with wait: true that scans the site first, print the run and the
# scan, clean up.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export WRANGLER_SEND_METRICS=false
npx wrangler d1 migrations apply DB --local
npm run --silent demo -- "$@"
