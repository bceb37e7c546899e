#!/usr/bin/env node
// `npm run bench`: the measurements below on one local stack (wrangler dev, local D1/Queues/DOs/R2,
// Debian's Chromium). What each figure means and how to read it: bench/README.md.
//   1. latency of an authenticated run read (GET /api/v1/ci/runs/:id) against the bare GET /health,
//      interleaved, at concurrency 1 and 8;
//   2. trigger-to-settled of a one-case suite, split into queue wait, browser start and case time,
//      for a first run (fresh worker, browser launched) and for runs that reuse the idle session;
//   3. the edge layer, from the Worker's own Server-Timing: what the rate limiter's share of the
//      requests of 1. is, how many limiter calls and D1 round trips an authenticated GET makes, and
//      at what throughput one (unlimited, Enterprise) token's limiter starts to queue;
//   4. crawl throughput: a scan of a generated 300-page site against a plain puppeteer-core crawl
//      of it by the same Chromium (crawl-bench.mjs), pages per second, peak memory, CPU per page.
//   5. visual comparison: our strip-wise compare under workerd against pixelmatch + pngjs in Node,
//      on 1280 × 3000 and 1280 × 8000 captures (visual-bench.mjs): time and peak-memory growth.
//   6. webhooks: run settled → its run.completed at a local receiver, and D1 round trips per delivery
//      (webhook-bench.mjs), on the first worker after 2.
import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { api, bootstrapDemo, freePort, root, startFixtureSite, startWorker } from "../scripts/local-stack.mjs";
import { killChromium, killOwnWrangler, workerBrowsers, workerChromiumPids } from "./worker-processes.mjs";
import { measureCrawls, printCrawls } from "./crawl-bench.mjs";
import { measureVisual, printVisual } from "./visual-bench.mjs";
import { measureWebhooks, printWebhooks } from "./webhook-bench.mjs";
import { edgeCost } from "./server-timing.mjs";

const LATENCY = { warmup: 40, perKind: 400, concurrency: [1, 8] };
const FRESH_WORKERS = 3; // one first-run sample per fresh `wrangler dev`
const REUSE_RUNS = 10;
/**
 * 1. sends ~900 authenticated reads in seconds; one Business token admits a burst of 100 (then
 * 1000/min), so they are spread round-robin over a pool of the project's CI tokens, each sent at
 * most this many requests: nothing is refused and every limiter still runs its GCRA.
 */
const REQUESTS_PER_POOL_TOKEN = 75;
const COUNT_SAMPLES = 20; // per route, for the D1 / limiter call counts
/**
 * 3c: one Enterprise token (never refused), GET /projects/:id at each concurrency: perLevel timed
 * requests per level, sent in `rounds` passes over all levels so that a burst of other work on the
 * machine does not fall on one level only.
 */
const QUEUE = { warmup: 30, perLevel: 300, rounds: 3, concurrency: [1, 2, 4, 8, 16, 32] };
/** The limiter "queues" at the first level whose rl;dur median is ≥ both 2× and 2 ms above concurrency 1's. */
const kneeThreshold = (baseMs) => Math.max(2 * baseMs, baseMs + 2);

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

/** The client's time for one GET, and the Worker's Server-Timing account of it (edgeCost). */
async function timedGet(url, headers) {
  const started = performance.now();
  const res = await fetch(url, { headers });
  await res.arrayBuffer(); // the whole answer, as a client would read it
  const ms = performance.now() - started;
  if (res.status === 429) throw new Error(`GET ${url}: HTTP 429 (rate limited: lower REQUESTS_PER_POOL_TOKEN in bench/run.mjs)`);
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return { ms, ...edgeCost(res.headers.get("server-timing")) };
}

/** Round-robin over tokens; each call to headers() is one request's Authorization. */
function tokenPool(tokens) {
  let i = 0;
  return { size: tokens.length, headers: () => ({ authorization: `Bearer ${tokens[i++ % tokens.length]}` }) };
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
      const { url, headers } = kinds[kind];
      samples[kind].push(await timedGet(url, typeof headers === "function" ? headers() : headers));
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { samples, seconds: (performance.now() - started) / 1000 };
}

async function measureLatency(origin, pool, runId) {
  const authed = { url: `${origin}/api/v1/ci/runs/${runId}`, headers: pool.headers };
  const bare = { url: `${origin}/health`, headers: {} };
  const health = await fetch(bare.url);
  const body = await health.json().catch(() => null);
  if (health.status !== 200 || body?.status !== "ok") throw new Error(`GET /health answered ${health.status}: add the route (see bench/README.md)`);

  const rows = [];
  const authedSamples = [];
  for (const concurrency of LATENCY.concurrency) {
    await interleaved([authed, bare], LATENCY.warmup, concurrency);
    const { samples, seconds } = await interleaved([authed, bare], LATENCY.perKind, concurrency);
    authedSamples.push({ concurrency, samples: samples[0] });
    const [a, b] = samples.map((kind) => kind.map((s) => s.ms));
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
  return { rows, authedSamples };
}

// ---------- 3. the edge layer (Server-Timing) ----------

/**
 * 3a. The rate limiter's share of the authenticated reads of 1.: each request's client latency,
 * and the same latency minus its `rl;dur` (the limiter call as timed inside the Worker). The call
 * is also the authentication, so it cannot be switched off; this is "without it" as measured.
 */
function limiterCost(authedSamples) {
  return authedSamples.map(({ concurrency, samples }) => {
    const metered = samples.filter((s) => s.limiterCalls === 1);
    const total = metered.map((s) => s.ms);
    const without = metered.map((s) => s.ms - s.limiterMs);
    const rl = metered.map((s) => s.limiterMs);
    return {
      concurrency,
      n: metered.length,
      noLimiterEntry: samples.length - metered.length, // limiter unreachable (auth fell back to D1): left out
      totalMedianMs: round(median(total)),
      totalP99Ms: round(percentile(total, 99)),
      withoutLimiterMedianMs: round(median(without)),
      withoutLimiterP99Ms: round(percentile(without, 99)),
      limiterMedianCostMs: round(median(total) - median(without)),
      limiterP99CostMs: round(percentile(total, 99) - percentile(without, 99)),
      rlMedianMs: median(rl),
      rlP99Ms: percentile(rl, 99),
    };
  });
}

/** 3b. Limiter DO calls and D1 round trips per request, by route, from Server-Timing. */
function callCounts(route, samples) {
  const spread = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
  const missingD1 = samples.filter((s) => s.d1Queries === null).length;
  if (missingD1) throw new Error(`${route}: ${missingD1} answers without a d1 Server-Timing entry`);
  const limiterCalls = spread(samples.map((s) => s.limiterCalls));
  const d1RoundTrips = spread(samples.map((s) => s.d1Queries));
  // The Worker makes no fetch() on these routes: its subrequests are the DO calls and the D1 round trips.
  const subrequests = spread(samples.map((s) => s.limiterCalls + s.d1Queries));
  return { route, n: samples.length, limiterCalls, d1RoundTrips, subrequests, d1MedianMs: median(samples.map((s) => s.d1Ms)) };
}

async function measureCallCounts(origin, pool, runId, projectId, runSamples) {
  const routes = [`/api/v1/projects`, `/api/v1/projects/${projectId}`];
  const rows = [callCounts("GET /api/v1/ci/runs/:id", runSamples)];
  for (const path of routes) {
    const samples = [];
    for (let i = 0; i < COUNT_SAMPLES; i++) samples.push(await timedGet(`${origin}${path}`, pool.headers()));
    rows.push(callCounts(`GET ${path.replace(projectId, ":id")}`, samples));
  }
  return rows;
}

/**
 * 3c. One Enterprise token (unlimited: the limiter authenticates and admits without GCRA, so
 * nothing is refused) at rising concurrency: req/s and the limiter's rl;dur at each level.
 */
async function measureLimiterQueue(origin, token, projectId) {
  const url = `${origin}/api/v1/projects/${projectId}`;
  const headers = { authorization: `Bearer ${token}` };
  const drive = async (count, concurrency) => {
    const samples = [];
    let sent = 0;
    const loop = async () => {
      while (sent < count) {
        sent++;
        samples.push(await timedGet(url, headers));
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, loop));
    return { samples, seconds: (performance.now() - started) / 1000 };
  };
  await drive(QUEUE.warmup, 1); // the limiter's first call reads the token from D1
  const measured = QUEUE.concurrency.map(() => ({ samples: [], seconds: 0 }));
  for (let round = 0; round < QUEUE.rounds; round++) {
    for (const [i, concurrency] of QUEUE.concurrency.entries()) {
      await drive(concurrency * 2, concurrency); // untimed: reach the level's steady state
      const { samples, seconds } = await drive(Math.ceil(QUEUE.perLevel / QUEUE.rounds), concurrency);
      measured[i].samples.push(...samples);
      measured[i].seconds += seconds;
    }
  }
  const levels = [];
  for (const [i, concurrency] of QUEUE.concurrency.entries()) {
    const { samples, seconds } = measured[i];
    const unmetered = samples.filter((s) => s.limiterCalls !== 1).length;
    if (unmetered) throw new Error(`limiter queue: ${unmetered} answers at concurrency ${concurrency} carry no rl entry (limiter unreachable)`);
    const rl = samples.map((s) => s.limiterMs);
    const ms = samples.map((s) => s.ms);
    levels.push({
      concurrency,
      n: samples.length,
      requestsPerSecond: round(samples.length / seconds, 0),
      rlMedianMs: median(rl),
      rlP90Ms: percentile(rl, 90),
      latencyMedianMs: round(median(ms)),
      latencyP90Ms: round(percentile(ms, 90)),
    });
  }
  const base = levels[0].rlMedianMs;
  const threshold = kneeThreshold(base);
  const at = levels.findIndex((l) => l.rlMedianMs >= threshold);
  const knee =
    at === -1
      ? null
      : {
          concurrency: levels[at].concurrency,
          requestsPerSecond: levels[at].requestsPerSecond,
          rlMedianMs: levels[at].rlMedianMs,
          before: at > 0 ? { concurrency: levels[at - 1].concurrency, requestsPerSecond: levels[at - 1].requestsPerSecond, rlMedianMs: levels[at - 1].rlMedianMs } : null,
        };
  return { route: "GET /api/v1/projects/:id", plan: "enterprise", baseRlMedianMs: base, thresholdMs: threshold, levels, knee, peakRequestsPerSecond: Math.max(...levels.map((l) => l.requestsPerSecond)) };
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

/**
 * worker.stop() ends wrangler's process group and the browsers this worker recorded, no one else's.
 * The browsers are also looked up under the worker before, and those still running after are
 * killed: miniflare starts Chromium with an environment of its own that drops AEGIS_BROWSER_PIDS,
 * so the worker's PID file stays empty; once, after a 300-page scan, a stopped worker's browser
 * kept running, re-parented to init.
 */
let stopInFlight = Promise.resolve();
function stopWorker() {
  if (worker) {
    const running = worker;
    worker = undefined;
    const browsers = workerChromiumPids(workerPort);
    stopInFlight = running.stop().finally(() => killChromium(browsers));
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
  let edge;
  let crawl;
  let visual;
  let webhooks;
  const firstRuns = [];
  const reuseRuns = [];
  for (let i = 0; i < FRESH_WORKERS; i++) {
    const bootStarted = performance.now();
    worker = await startWorker(port);
    const bootSeconds = ((performance.now() - bootStarted) / 1000).toFixed(1);
    if (!ctx) {
      const { ciToken, project, org } = await bootstrapDemo(worker.origin, site.origin);
      const suite = await api(worker.origin, "POST", `/projects/${project.id}/suites`, { token: ciToken, body: { name: "Bench: one case" } });
      if (suite.status !== 201) throw new Error(`create suite: HTTP ${suite.status} ${suite.text}`);
      const created = await api(worker.origin, "POST", `/suites/${suite.json.id}/cases`, { token: ciToken, body: ONE_CASE });
      if (created.status !== 201) throw new Error(`create case: HTTP ${created.status} ${created.text}`);
      // The pool of CI tokens for 1. and 3b (see REQUESTS_PER_POOL_TOKEN); the trigger runs keep ciToken.
      const authedRequests = LATENCY.concurrency.length * (LATENCY.warmup + LATENCY.perKind) + 2 * COUNT_SAMPLES;
      const poolTokens = [];
      for (let t = 0; t < Math.ceil(authedRequests / REQUESTS_PER_POOL_TOKEN); t++) {
        const made = await api(worker.origin, "POST", `/projects/${project.id}/tokens`, { token: org.apiKey, body: { name: `bench pool ${t + 1}` } });
        if (made.status !== 201) throw new Error(`create pool token: HTTP ${made.status} ${made.text}`);
        poolTokens.push(made.json.token);
      }
      ctx = { ciToken, orgKey: org.apiKey, suiteId: suite.json.id, projectId: project.id, pool: tokenPool(poolTokens) };
    }
    const first = await timedRun(worker.origin, port, ctx.ciToken, ctx.suiteId);
    firstRuns.push(first);
    console.error(`worker ${i + 1}/${FRESH_WORKERS} up in ${bootSeconds} s; first run ${first.wallMs} ms (browser launches: ${first.launches})`);

    if (i === 0) {
      for (let r = 0; r < REUSE_RUNS; r++) reuseRuns.push(await timedRun(worker.origin, port, ctx.ciToken, ctx.suiteId));
      console.error(`${REUSE_RUNS} reuse runs done; measuring webhook delivery …`);
      webhooks = await measureWebhooks({ ...ctx, origin: worker.origin, workerLog: worker.log, log: (line) => console.error(line) });
      console.error("measuring request latency …");
      const measured = await measureLatency(worker.origin, ctx.pool, first.runId);
      latency = measured.rows;
      console.error(`latency done (${ctx.pool.size} Business CI tokens); counting limiter calls and D1 round trips …`);
      const calls = await measureCallCounts(worker.origin, ctx.pool, first.runId, ctx.projectId, measured.authedSamples[0].samples);
      // 3c on an Enterprise org of its own: its token is never refused, whatever the rate.
      const enterprise = await bootstrapDemo(worker.origin, site.origin, { plan: "enterprise" });
      console.error(`driving one Enterprise token at concurrency ${QUEUE.concurrency.join(", ")} …`);
      const queue = await measureLimiterQueue(worker.origin, enterprise.ciToken, enterprise.project.id);
      edge = { poolTokens: ctx.pool.size, limiterCost: limiterCost(measured.authedSamples), calls, queue };
    }
    if (i === FRESH_WORKERS - 1) {
      // 4. on the last worker, whose idle session (left by its first run) the scans reuse.
      crawl = await measureCrawls({ origin: worker.origin, port, log: (line) => console.error(line) });
    }
    const stopStarted = performance.now();
    await stopWorker();
    console.error(`worker ${i + 1}/${FRESH_WORKERS} stopped in ${((performance.now() - stopStarted) / 1000).toFixed(1)} s`);
  }
  // 5. runs alone, after the crawl's worker and browsers are gone: a workerd of its own.
  visual = await measureVisual({ log: (line) => console.error(line) });

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

  console.log("\n3. The edge layer, by the Worker's own Server-Timing: rl;dur = the RateLimiter DO call (auth + rate limit),");
  console.log('   d1;desc="<n> queries" = the request\'s D1 round trips. Whole ms of the Worker\'s clock, which advances only');
  console.log("   across I/O: the limiter call is I/O, so rl;dur is its wall time as the Worker saw it.");
  console.log("\n3a. What the rate limiter costs GET /api/v1/ci/runs/:id: the A requests of 1. (Business plan, GCRA runs)");
  console.log("   without = each request's client latency minus its own rl;dur. The limiter call is also the authentication,");
  console.log("   so it cannot be switched off: this is its share measured inside the Worker, not a run without it.");
  console.log(`   The reads are spread over ${edge.poolTokens} CI tokens of the project, ≤ ${REQUESTS_PER_POOL_TOKEN} each, so none is refused.\n`);
  console.log(
    table(
      ["concurrency", "n", "total median", "without median", "Δ median", "total p99", "without p99", "Δ p99", "rl median", "rl p99"],
      edge.limiterCost.map((r) => [r.concurrency, r.n, r.totalMedianMs, r.withoutLimiterMedianMs, r.limiterMedianCostMs, r.totalP99Ms, r.withoutLimiterP99Ms, r.limiterP99CostMs, r.rlMedianMs, r.rlP99Ms]),
    ),
  );
  console.log("   (ms; at concurrency 8 rl;dur also holds the wait behind the other requests on the one local thread)");
  for (const r of edge.limiterCost) if (r.noLimiterEntry) warnings.push(`${r.noLimiterEntry} reads at concurrency ${r.concurrency} had no rl entry (limiter unreachable): left out of 3a`);

  console.log("\n3b. Subrequests of an authenticated GET (warm limiter), counted from Server-Timing");
  console.log("   subrequests = limiter DO calls + D1 round trips: the Worker makes no fetch() on these routes.");
  console.log("   Not counted: the limiter DO's own D1 reads (the token, on its first call) and its last_used_at write (≤ 1/min).\n");
  const spread = (x) => (x.min === x.max ? String(x.median) : `${x.median} (${x.min}–${x.max})`);
  console.log(
    table(
      ["route", "n", "limiter DO calls", "D1 round trips", "subrequests", "d1 median ms"],
      edge.calls.map((r) => [r.route, r.n, spread(r.limiterCalls), spread(r.d1RoundTrips), spread(r.subrequests), r.d1MedianMs]),
    ),
  );

  const q = edge.queue;
  console.log(`\n3c. Where one token's limiter starts to queue: one Enterprise CI token (no GCRA, never refused),`);
  console.log(`   ${q.route}, ${QUEUE.perLevel} requests per concurrency level in ${QUEUE.rounds} passes over the levels; req/s = requests / time at that level\n`);
  console.log(
    table(
      ["concurrency", "n", "req/s", "rl median ms", "rl p90 ms", "latency median ms", "latency p90 ms"],
      q.levels.map((l) => [l.concurrency, l.n, l.requestsPerSecond, l.rlMedianMs, l.rlP90Ms, l.latencyMedianMs, l.latencyP90Ms]),
    ),
  );
  if (q.knee) {
    const before = q.knee.before ? ` (concurrency ${q.knee.before.concurrency}: ${q.knee.before.requestsPerSecond} req/s, rl median ${q.knee.before.rlMedianMs} ms)` : "";
    console.log(
      `\n   starts to queue at concurrency ${q.knee.concurrency}: ${q.knee.requestsPerSecond} req/s, rl;dur median ${q.knee.rlMedianMs} ms ≥ ${q.thresholdMs} ms` +
        ` (2× and +2 ms over concurrency 1's ${q.baseRlMedianMs} ms)${before}; peak ${q.peakRequestsPerSecond} req/s`,
    );
  } else {
    console.log(`\n   no knee up to concurrency ${QUEUE.concurrency.at(-1)}: rl;dur median stayed under ${q.thresholdMs} ms; peak ${q.peakRequestsPerSecond} req/s`);
  }
  console.log("   Local caveat: one workerd thread runs the Worker and the limiter DO, so this knee is where the whole local");
  console.log("   process saturates (requests wait behind each other's JavaScript), not one DO's throughput on Cloudflare.");
  console.log("   Cloudflare documents a soft limit of 1,000 requests per second per Durable Object (Durable Objects limits,");
  console.log("   \"How much work can a single Durable Object do?\"): a documented figure, not measured here.");
  const businessRl = edge.limiterCost[0].rlMedianMs;
  console.log(`   At concurrency 1 the Enterprise call (no GCRA) takes ${q.baseRlMedianMs} ms median; the Business one of 3a (GCRA, a storage write) ${businessRl} ms.`);

  printCrawls(crawl);
  warnings.push(...crawl.warnings);
  printVisual(visual);
  printWebhooks(webhooks);

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
      edge: {
        serverTiming: 'rl;dur = RateLimiter DO call (auth + rate limit), d1;desc="<n> queries" = D1 round trips; whole ms of the Worker clock',
        limiterCost: {
          derivation: "withoutLimiter = client latency - rl;dur of the same request (the limiter call is the authentication: measured, not switched off)",
          plan: "business",
          poolTokens: edge.poolTokens,
          rows: edge.limiterCost,
        },
        calls: { subrequests: "limiter DO calls + D1 round trips (no fetch() on these routes)", rows: edge.calls },
        limiterQueue: {
          ...edge.queue,
          kneeRule: "first level whose rl;dur median >= max(2 x, +2 ms) the concurrency-1 median",
          caveat: "one local workerd thread serves the Worker and the DO: the knee is the whole local process",
          documented: "Cloudflare: soft limit of 1,000 requests per second per Durable Object (not measured here)",
        },
      },
      crawl,
      visual,
      webhooks,
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
