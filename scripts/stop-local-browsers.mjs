#!/usr/bin/env node
// Stops Chromium processes that the local browser wrapper started and that outlived their owner.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export function stopLocalBrowsers(pidFile = defaultPidFile()) {
  if (!existsSync(pidFile)) return 0;
  let stopped = 0;
  for (const line of readFileSync(pidFile, "utf8").split("\n")) {
    const pid = Number(line.trim());
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      process.kill(pid, "SIGKILL");
      stopped++;
    } catch {
      // already gone
    }
  }
  rmSync(pidFile, { force: true });
  return stopped;
}

function defaultPidFile() {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  return process.env.AEGIS_BROWSER_PIDS ?? join(root, ".wrangler", "browser-pids");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`stopped ${stopLocalBrowsers()} leftover browser process(es)`);
}
