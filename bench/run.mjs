#!/usr/bin/env node
// `npm run bench`: two measurements on one local stack (wrangler dev, local D1/Queues/DOs/R2,
// Debian's Chromium). What each figure means and how to read it: bench/README.md.
//   1. latency of an authenticated run read (GET /api/v1/ci/runs/:id) against the bare GET /health,
//      interleaved, at concurrency 1 and 8;
//   2. trigger-to-settled of a one-case suite, split into queue wait, browser start and case time,
//      for a first run (fresh worker, browser launched) and for runs that reuse the idle session.
import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { api, bootstrapDemo, freePort, root, startFixtureSite, startWorker } from "../scripts/local-stack.mjs";
import { killOwnWrangler, workerBrowsers } from "./worker-processes.mjs";

const LATENCY = { warmup: 40, perKind: 400, concurrency: [1, 8] };
const FRESH_WORKERS = 3; // one first-run sample per fresh `wrangler dev`
const REUSE_RUNS = 10;

const ONE_CASE = { name: "home page title", steps: [{ action: "goto", url: "/" }, { action: "expectTitle", title: "Home" }] };

// ---------- statistics ----------

const sorted = (xs) => [...xs].sort((a, b) => a - b);
/** Nearest-rank percentile (p in 0..100) of a non-empty sample. */
function percentile(xs, p) {
  const s = sorted(xs);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)];
}
const median = (xs) => {
  const s = sorted(xs);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const round = (x, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

// ---------- 1. request latency ----------

async function timedGet(url, headers) {
  const started = performance.now();
  const res = await fetch(url, { headers });
  await res.arrayBuffer(); // the whole answer, as a client would read it
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return ms;
}

/**
 * Alternates the two kinds (A B A B …) in one shared sequence that `concurrency` loops pull from,
 * so at any moment about half the requests in flight are of each kind and machine noise hits both.
 */
async function interleaved(kinds, perKind, concurrency) {
  const order = [];
  for (let i = 0; i < perKind; i++) for (let k = 0; k < kinds.length; k++) order.push((i + k) % kinds.length);
  const samples = kinds.map(() => []);
  let next = 0;
  const loop = async () => {
    while (next < order.length) {
      const kind = order[next++];
      samples[kind].push(await timedGet(kinds[kind].url, kinds[kind].headers));
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { samples, seconds: (performance.now() - started) / 1000 };
}

async function measureLatency(origin, ciToken, runId) {
  const authed = { url: `${origin}/api/v1/ci/runs/${runId}`, headers: { authorization: `Bearer ${ciToken}` } };
  const bare = { url: `${origin}/health`, headers: {} };
  const health = await fetch(bare.url);
  const body = await health.json().catch(() => null);
  if (health.status !== 200 || body?.status !== "ok") throw new Error(`GET /health answered ${health.status}: add the route (see bench/README.md)`);

  const rows = [];
  for (const concurrency of LATENCY.concurrency) {
    await interleaved([authed, bare], LATENCY.warmup, concurrency);
    const { samples: [a, b], seconds } = await interleaved([authed, bare], LATENCY.perKind, concurrency);
    rows.push({
      concurrency,
      n: a.length,
      authedMedianMs: round(median(a)),
      authedP99Ms: round(percentile(a, 99)),
      bareMedianMs: round(median(b)),
      bareP99Ms: round(percentile(b, 99)),
      medianRatio: round(median(a) / median(b)),
      p99Ratio: round(percentile(a, 99) / percentile(b, 99)),
      requestsPerSecond: round((a.length + b.length) / seconds, 0),
    });
  }
  return rows;
}

// ---------- 2. trigger to settled ----------

async function timedRun(origin, port, ciToken, suiteId) {
  const browsersBefore = workerBrowsers(port);
  const started = performance.now();
  const res = await api(origin, "POST", "/ci/trigger", { token: ciToken, body: { wait: true, suiteIds: [suiteId] } });
  const wallMs = performance.now() - started;
  const run = res.json;
  if (res.status !== 200 || run?.status !== "passed") throw new Error(`one-case run did not pass: HTTP ${res.status} ${res.text}`);
  if (run.results.length !== 1) throw new Error(`expected 1 case result, got ${run.results.length}`);
  const caseMs = run.results.reduce((sum, r) => sum + r.durationMs, 0);
  return {
    runId: run.runId,
    wallMs: Math.round(wallMs),
    settledMs: run.durationMs, // queuedMs + runningMs, from the run's own timestamps
    queuedMs: run.queuedMs,
    runningMs: run.runningMs,
    // Not in the API: everything in `running` that is not a case. See bench/README.md.
    browserStartMs: run.runningMs - caseMs,
    caseMs,
    launches: [...workerBrowsers(port)].filter((pid) => !browsersBefore.has(pid)).length,
  };
}

const PHASES = ["wallMs", "settledMs", "queuedMs", "browserStartMs", "caseMs", "runningMs"];
const medians = (runs) => Object.fromEntries(PHASES.map((k) => [k, median(runs.map((r) => r[k]))]));

// ---------- the stack ----------

function applyMigrations() {
  const result = spawnSync(join(root, "node_modules", ".bin", "wrangler"), ["d1", "migrations", "apply", "DB", "--local"], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1", PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH}` },
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`wrangler d1 migrations apply failed:\n${result.stdout}${result.stderr}`);
}

let worker;
let workerPort;
let site;
let interrupted = false;

/** worker.stop() ends wrangler's process group and the browsers this worker recorded, no one else's. */
let stopInFlight = Promise.resolve();
function stopWorker() {
  if (worker) {
    const running = worker;
    worker = undefined;
    stopInFlight = running.stop();
  }
  return stopInFlight;
}

// Called from the finally block and from a signal handler: both wait for the same clean-up.
let cleaning;
const cleanUp = () =>
  (cleaning ??= (async () => {
    await stopWorker();
    if (workerPort) killOwnWrangler(workerPort); // a worker that failed to start left no handle to stop
    await site?.close();
  })());

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping the worker and its browsers`);
    cleanUp().finally(() => process.exit(130));
  });
}

function table(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map(String));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

const benchStarted = performance.now();
let exitCode = 0;
try {
  const loadBefore = loadavg()[0];
  applyMigrations();
  site = await startFixtureSite(0);
  const port = await freePort();
  workerPort = port;

  let ctx;
  let latency;
  const firstRuns = [];
  const reuseRuns = [];
  for (let i = 0; i < FRESH_WORKERS; i++) {
    const bootStarted = performance.now();
    worker = await startWorker(port);
    const bootSeconds = ((performance.now() - bootStarted) / 1000).toFixed(1);
    if (!ctx) {
      const { ciToken, project } = await bootstrapDemo(worker.origin, site.origin);
      const suite = await api(worker.origin, "POST", `/projects/${project.id}/suites`, { token: ciToken, body: { name: "Bench: one case" } });
      if (suite.status !== 201) throw new Error(`create suite: HTTP ${suite.status} ${suite.text}`);
      const created = await api(worker.origin, "POST", `/suites/${suite.json.id}/cases`, { token: ciToken, body: ONE_CASE });
      if (created.status !== 201) throw new Error(`create case: HTTP ${created.status} ${created.text}`);
      ctx = { ciToken, suiteId: suite.json.id };
    }
    const first = await timedRun(worker.origin, port, ctx.ciToken, ctx.suiteId);
    firstRuns.push(first);
    console.error(`worker ${i + 1}/${FRESH_WORKERS} up in ${bootSeconds} s; first run ${first.wallMs} ms (browser launches: ${first.launches})`);

    if (i === 0) {
      for (let r = 0; r < REUSE_RUNS; r++) reuseRuns.push(await timedRun(worker.origin, port, ctx.ciToken, ctx.suiteId));
      console.error(`${REUSE_RUNS} reuse runs done; measuring request latency …`);
      latency = await measureLatency(worker.origin, ctx.ciToken, first.runId);
    }
    const stopStarted = performance.now();
    await stopWorker();
    console.error(`worker ${i + 1}/${FRESH_WORKERS} stopped in ${((performance.now() - stopStarted) / 1000).toFixed(1)} s`);
  }

  // A "first" run must have launched a browser and a "reuse" run must not have. A run that did the
  // other thing is left out of its row's medians (a concurrent `npm test` clean-up can kill an idle
  // browser); if most did, reuse or launch is broken and the bench fails.
  const warnings = [];
  const launched = firstRuns.filter((r) => r.launches >= 1);
  const reused = reuseRuns.filter((r) => r.launches === 0);
  if (launched.length < firstRuns.length) warnings.push(`${firstRuns.length - launched.length} of ${firstRuns.length} first runs launched no browser: left out`);
  if (reused.length < reuseRuns.length) warnings.push(`${reuseRuns.length - reused.length} of ${reuseRuns.length} reuse runs launched a browser instead of reusing one: left out`);
  if (launched.length * 2 < firstRuns.length || reused.length * 2 < reuseRuns.length) {
    throw new Error(`browser sessions did not behave as measured: ${warnings.join("; ")}`);
  }
  const loadAfter = loadavg()[0];
  const cores = cpus().length;
  // The bench loads the machine itself, so only the load found before it started tells of other work.
  if (loadBefore > cores / 2) {
    warnings.push(`the machine was already busy (1-min load ${round(loadBefore, 1)} on ${cores} cores before the bench): other work shares the CPU; expect noisy tails, rerun when idle`);
  }

  const first = medians(launched);
  const reuse = medians(reused);

  console.log("\n1. Authenticated run read vs bare route (same worker, interleaved A/B, after warm-up)");
  console.log("   A = GET /api/v1/ci/runs/:id with a CI token (settled one-case run); B = GET /health\n");
  console.log(
    table(
      ["concurrency", "n each", "A median ms", "A p99 ms", "B median ms", "B p99 ms", "A/B median", "A/B p99", "req/s"],
      latency.map((r) => [r.concurrency, r.n, r.authedMedianMs, r.authedP99Ms, r.bareMedianMs, r.bareP99Ms, r.medianRatio, r.p99Ratio, r.requestsPerSecond]),
    ),
  );

  console.log("\n2. Trigger → settled, one-case suite (goto / + expectTitle), POST /ci/trigger {wait: true}");
  console.log("   queue wait = run.queuedMs; case = results[0].durationMs;");
  console.log("   browser start = run.runningMs − Σ case durationMs (derived: also holds the run's D1/DO bookkeeping and the disconnect)\n");
  const row = (label, m, n) => [label, n, m.queuedMs, m.browserStartMs, m.caseMs, m.runningMs, m.settledMs, m.wallMs];
  console.log(
    table(
      ["median ms", "n", "queue wait", "browser start", "case", "running", "settled", "client wall"],
      [row("first run (fresh worker, launch)", first, launched.length), row("next runs (reuse idle session)", reuse, reused.length)],
    ),
  );
  const sample = (r, expected) => `${r.queuedMs}/${r.browserStartMs}/${r.caseMs}${expected(r) ? "" : ` (${r.launches} launches: left out)`}`;
  console.log("\n   first-run samples (queue / browser / case ms):", firstRuns.map((r) => sample(r, (x) => x.launches >= 1)).join("  "));
  console.log("   reuse samples     (queue / browser / case ms):", reuseRuns.map((r) => sample(r, (x) => x.launches === 0)).join("  "));
  for (const w of warnings) console.log(`   WARNING: ${w}`);

  const totalSeconds = round((performance.now() - benchStarted) / 1000, 1);
  console.log(`\nbench took ${totalSeconds} s`);
  console.log(
    JSON.stringify({
      bench: "aegis-edge local",
      at: new Date().toISOString(),
      node: process.version,
      cores: cpus().length,
      load1m: { before: round(loadBefore, 2), after: round(loadAfter, 2) },
      latency,
      triggerToSettled: {
        derivation: "browserStartMs = runningMs - sum(results[].durationMs)",
        first: { samples: launched.length, medianMs: first, runs: firstRuns },
        reuse: { samples: reused.length, medianMs: reuse, runs: reuseRuns },
      },
      warnings,
      totalSeconds,
    }),
  );
} catch (error) {
  if (!interrupted) console.error("bench failed:", error instanceof Error ? error.message : error);
  exitCode = interrupted ? 130 : 1;
} finally {
  await cleanUp();
}
process.exit(exitCode);
