// The processes of one `wrangler dev`, found through /proc (Linux): the browsers it has open, so
// the bench sees whether a run launched one or reused one from the processes themselves, and what
// is left of a worker that failed to start; and the resident memory and CPU time of groups of
// processes (the crawl bench samples the Chromium and the rest of the worker, and the baseline's).
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
export const workerChromiumPids = (port) => workerDescendants(port).filter((p) => /chrom(e|ium)/.test(p.argv[0] ?? "")).map((p) => p.pid);

/** The given processes and every process below them (a browser and its zygotes, renderers, GPU and utility processes). */
export function processTreePids(rootPids) {
  const children = new Map();
  for (const p of processTable()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const found = new Set();
  const stack = [...rootPids];
  while (stack.length) {
    const pid = stack.pop();
    if (found.has(pid)) continue;
    found.add(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return [...found];
}

/** Processes of this `wrangler dev` that are not Chromium: wrangler's Node process (miniflare), workerd, esbuild. */
export function workerOwnPids(port) {
  const roots = processTable().filter((p) => isWranglerDev(p.argv, port));
  const below = workerDescendants(port).filter((p) => !/chrom(e|ium)/.test(p.argv[0] ?? ""));
  return [...roots, ...below].map((p) => p.pid);
}

const CLOCK_TICKS = 100; // USER_HZ: what /proc/<pid>/stat counts CPU time in on Linux

/**
 * One reading of a process from /proc: resident memory from /proc/<pid>/status (cheap enough to
 * read every 200 ms; /proc/<pid>/smaps_rollup for PSS took ~4.5 ms per Chromium process here, too
 * much) and CPU time (user + system) from /proc/<pid>/stat. `rss` is VmRSS, which counts a page
 * shared by several processes (the Chromium binary's code, fork-shared and IPC memory) once in
 * each, so a sum over processes overstates what they hold; `anon` is RssAnon, the anonymous part
 * (heaps, V8, decoded images, tiles), a closer measure of what the processes allocated.
 */
function readProcess(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const kb = (field) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"))?.[1] ?? 0) * 1024;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { rss: kb("VmRSS"), anon: kb("RssAnon"), cpu: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS };
  } catch {
    return null; // exited while we looked
  }
}

/**
 * Samples groups of processes every `everyMs` until stop(). `listGroups()` returns the groups now,
 * as { name: [pid, …] } (processes come and go: renderers, a browser launched meanwhile); it is
 * called again every `listEvery` samples and at stop(), and a name seen for the first time starts
 * a group. stop() gives, per group: the peak of the summed RSS and of the summed RssAnon (each its
 * own peak), the most processes seen at once, and the CPU seconds the group used meanwhile (for a
 * process first seen after the start, all of its CPU time; the last ≤ everyMs of a process that
 * exits between two samples is missed).
 */
export function sampleProcesses(listGroups, everyMs = 200, listEvery = 5) {
  const state = new Map();
  let samples = 0;
  const sample = (initial, relist = samples % listEvery === 0) => {
    // Listing walks all of /proc (~6 ms here per walk): every `listEvery` samples, reading the known PIDs in between.
    samples++;
    if (relist) {
      for (const [name, pids] of Object.entries(listGroups())) {
        if (!state.has(name)) state.set(name, { rss: 0, anon: 0, processes: 0, first: new Map(), last: new Map(), pids: [] });
        state.get(name).pids = pids;
      }
    }
    for (const g of state.values()) {
      let rss = 0;
      let anon = 0;
      let processes = 0;
      for (const pid of g.pids) {
        const r = readProcess(pid);
        if (!r) continue;
        rss += r.rss;
        anon += r.anon;
        processes++;
        if (!g.first.has(pid)) g.first.set(pid, initial ? r.cpu : 0);
        g.last.set(pid, r.cpu);
      }
      g.rss = Math.max(g.rss, rss);
      g.anon = Math.max(g.anon, anon);
      g.processes = Math.max(g.processes, processes);
    }
  };
  sample(true, true);
  const timer = setInterval(() => sample(false), everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample(false, true);
      const groups = {};
      for (const [name, g] of state) {
        let cpu = 0;
        for (const [pid, last] of g.last) cpu += last - g.first.get(pid);
        groups[name] = { peakRssBytes: g.rss, peakAnonBytes: g.anon, peakProcesses: g.processes, cpuSeconds: cpu };
      }
      return { samples, groups };
    },
  };
}

/** Kills the given PIDs that still run Chromium (a PID reused by something else is left alone). */
export function killChromium(pids) {
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
