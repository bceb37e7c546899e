#!/usr/bin/env node
// Points wrangler's local Browser Rendering binding at Debian's Chromium, offline.
// Miniflare downloads Chrome for Testing into <cache>/.wrangler/chrome/linux-<version>/
// unless chrome-linux64/chrome already exists there; we put a wrapper in that place.
// Idempotent. Why and how: docs/local-browser.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { homedir } from "node:os";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const chromium = process.env.CHROMIUM ?? "/usr/bin/chromium";
// Where the wrapper records the PIDs it starts: each owner (demo, bench, test run) may set
// AEGIS_BROWSER_PIDS to a file of its own, so it stops only its own browsers.
const defaultPidFile = join(root, ".wrangler", "browser-pids");

if (!existsSync(chromium)) {
  console.error(
    `Chromium not found at ${chromium}.\n` +
      "Install Debian's package (as root: apt-get update && apt-get install -y chromium)\n" +
      "or point CHROMIUM at another Chromium binary.",
  );
  process.exit(1);
}

// Every miniflare copy in the tree pins its own BROWSER_VERSION (the vitest pool brings its own).
function findMiniflareBundles(dir, depth = 0, found = []) {
  if (depth > 4 || !existsSync(dir)) return found;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name === "miniflare") {
      const bundle = join(path, "dist", "src", "index.js");
      if (existsSync(bundle)) found.push(bundle);
    } else if (entry.name === "node_modules" || entry.name.startsWith("@") || depth > 0) {
      findMiniflareBundles(path, depth + 1, found);
    }
  }
  return found;
}

const versions = new Set();
for (const bundle of findMiniflareBundles(join(root, "node_modules"))) {
  const match = readFileSync(bundle, "utf8").match(/var BROWSER_VERSION = "([^"]+)"/);
  if (match) versions.add(match[1]);
}
if (versions.size === 0) {
  console.error("No miniflare found under node_modules: run `npm ci` first.");
  process.exit(1);
}

const cacheHome = process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache");
mkdirSync(dirname(defaultPidFile), { recursive: true });
const wrapper = `#!/bin/sh
# Written by scripts/setup-local-browser.mjs: miniflare's local browser is Debian's Chromium.
echo $$ >> "\${AEGIS_BROWSER_PIDS:-${defaultPidFile}}"
exec "${chromium}" --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run "$@"
`;
for (const version of versions) {
  const installDir = join(cacheHome, ".wrangler", "chrome", `linux-${version}`);
  const executable = join(installDir, "chrome-linux64", "chrome");
  mkdirSync(dirname(executable), { recursive: true });
  const current = existsSync(executable) ? readFileSync(executable, "utf8") : "";
  if (current !== wrapper) {
    writeFileSync(executable, wrapper);
    chmodSync(executable, 0o755);
  }
  // Without the marker, a first failed launch makes miniflare delete the directory.
  writeFileSync(join(installDir, ".miniflare-install-complete"), "");
}
console.log(`local browser: ${chromium} for miniflare Chrome ${[...versions].join(", ")}`);
