#!/usr/bin/env node
// Stops Chromium processes that the local browser wrapper started and that outlived their owner.
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
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

// From the command line: every recorded browser of this checkout (after a killed `wrangler dev`).
if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = dirname(defaultPidFile());
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith("browser-pids")) : [];
  const stopped = files.reduce((sum, f) => sum + stopLocalBrowsers(join(dir, f)), 0);
  console.log(`stopped ${stopped} leftover browser process(es)`);
}
