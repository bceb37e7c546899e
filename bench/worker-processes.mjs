// The processes of one `wrangler dev`, found through /proc (Linux): the browsers it has open, so
// the bench sees whether a run launched one or reused one from the processes themselves, and what
// is left of a worker that failed to start.
import { readdirSync, readFileSync } from "node:fs";

function processTable() {
  const table = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
      table.push({ pid: Number(entry), ppid, argv });
    } catch {
      // exited while we looked
    }
  }
  return table;
}

const isWranglerDev = (argv, port) =>
  argv.some((a) => a.includes("wrangler")) && argv.includes("dev") && argv[argv.indexOf("--port") + 1] === String(port);

/** The main process of a Chromium browser (its helpers carry --type=…). */
const isBrowserMain = (argv) => /chrom(e|ium)$/.test(argv[0] ?? "") && !argv.some((a) => a.startsWith("--type="));

/** Every process below the `wrangler dev --port <port>` processes, with what they run. */
export function workerDescendants(port) {
  const table = processTable();
  const children = new Map();
  for (const p of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const found = new Map();
  const stack = table.filter((p) => isWranglerDev(p.argv, port));
  while (stack.length) {
    const p = stack.pop();
    for (const child of children.get(p.pid) ?? []) {
      if (!found.has(child.pid)) {
        found.set(child.pid, child);
        stack.push(child);
      }
    }
  }
  return [...found.values()];
}

/** PIDs of the browsers this worker has open now. */
export const workerBrowsers = (port) => new Set(workerDescendants(port).filter((p) => isBrowserMain(p.argv)).map((p) => p.pid));

/** Chromium (browser and helper) processes under this worker: they outlive it when it is killed. */
const workerChromiumPids = (port) => workerDescendants(port).filter((p) => /chrom(e|ium)/.test(p.argv[0] ?? "")).map((p) => p.pid);

/** Kills the given PIDs that still run Chromium (a PID reused by something else is left alone). */
function killChromium(pids) {
  let killed = 0;
  for (const pid of pids) {
    try {
      const argv0 = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0];
      if (!/chrom(e|ium)/.test(argv0)) continue;
      process.kill(pid, "SIGKILL");
      killed++;
    } catch {
      // already gone
    }
  }
  return killed;
}

/**
 * Kills what remains of a `wrangler dev --port <port>` that this process spawned (its process
 * group, and the Chromium below it): the safety net for a worker that failed to start, which
 * leaves no handle to stop it with.
 */
export function killOwnWrangler(port) {
  const own = processTable().filter((p) => p.ppid === process.pid && isWranglerDev(p.argv, port));
  if (own.length === 0) return 0;
  const browsers = workerChromiumPids(port);
  for (const p of own) {
    try {
      process.kill(-p.pid, "SIGKILL"); // spawned detached: it leads its own process group
    } catch {
      // already gone
    }
  }
  return own.length + killChromium(browsers);
}
