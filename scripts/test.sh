#!/usr/bin/env bash
# The test command: installs what is missing, then runs the suite in the workers pool
# (real local D1/R2/Queues/Durable Objects and a real headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
WRANGLER_SEND_METRICS=false npm test
