// "4." of `npm run bench` (bench/README.md): the Worker's scan (POST /api/v1/projects/:id/crawls,
// run by src/browser/crawler.ts through the local Browser Rendering binding) against a plain
// puppeteer-core crawl of the same generated site (crawl-site.mjs) by the same Chromium, with the
// same limits and the same number of tabs, in the same run: pages per second, the peak memory of
// each one's browser processes, and the CPU time each side spent per page.
//
// `node bench/crawl-bench.mjs` runs this part alone on a worker of its own (after `npm run prebench`;
// Node 22: `PATH=node_modules/.bin:$PATH node bench/crawl-bench.mjs`).
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { join } from "node:path";
import { api, bootstrapDemo, freePort, root, startWorker } from "../scripts/local-stack.mjs";
import { baselineCrawl, CHROMIUM, launchBaselineBrowser, WRAPPER_FLAGS } from "./baseline-crawl.mjs";
import { startCrawlSite } from "./crawl-site.mjs";
import { killChromium, killOwnWrangler, processTreePids, sampleProcesses, workerBrowsers, workerChromiumPids, workerOwnPids } from "./worker-processes.mjs";

/**
 * deep = 6 tabs, 600 s budget (src/schemas/crawls.ts SCAN_MODE_DEFAULTS); the limits are the request's.
 * One round (ours and the three baselines) takes ~3.5 min on this two-core
 * machine, so one round by default; BENCH_CRAWL_REPEATS=3 gives medians of 3, in rotating order.
 */
export const CRAWL = {
  maxPages: 300,
  maxDepth: 10,
  concurrency: 6,
  scanMode: "deep",
  repeats: Math.max(1, Number(process.env.BENCH_CRAWL_REPEATS ?? 1) || 1),
  pollMs: 1000,
  sampleMs: 200,
};
const SETTLED = new Set(["completed", "failed", "cancelled"]);
const WARMUP_PAGES = 10;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const round = (x, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const mb = (bytes) => Math.round(bytes / 2 ** 20);

/** The groups sampled during a crawl: each browser's process tree (`browser:<pid>`) and the driver's processes. */
const browserTrees = (mainPids) => Object.fromEntries([...mainPids].map((pid) => [`browser:${pid}`, processTreePids([pid])]));

/**
 * What the sampler saw: the crawl's browser is the one whose processes used the most CPU (a worker
 * can hold another, idle one: see "4." in bench/README.md); its peak memory and CPU, the driver's
 * CPU, and the other browsers that were open.
 */
function processFigures(sampled, pages, browsersBefore = new Set()) {
  const browsers = Object.entries(sampled.groups).filter(([name]) => name.startsWith("browser:"));
  browsers.sort((a, b) => b[1].cpuSeconds - a[1].cpuSeconds);
  const [name, browser] = browsers[0];
  const driver = sampled.groups.driver;
  return {
    browserLaunched: !browsersBefore.has(Number(name.slice("browser:".length))),
    otherBrowsers: browsers.length - 1,
    otherBrowsersPeakRssBytes: browsers.slice(1).reduce((sum, [, b]) => sum + b.peakRssBytes, 0),
    peakRssBytes: browser.peakRssBytes,
    peakAnonBytes: browser.peakAnonBytes,
    peakProcesses: browser.peakProcesses,
    browserCpuSeconds: browser.cpuSeconds,
    driverCpuSeconds: driver.cpuSeconds,
    cpuMsPerPage: { browser: Math.round((1000 * browser.cpuSeconds) / pages), driver: Math.round((1000 * driver.cpuSeconds) / pages) },
  };
}

const scanBody = (maxPages) => ({
  name: "bench crawl",
  scan_mode: CRAWL.scanMode,
  maxPages,
  maxDepth: CRAWL.maxDepth,
  respectRobots: false,
  // Stated so that the project's last scan cannot change them (settings fall back to it).
  fillForms: false,
  device: "desktop",
  generateTests: false,
});

/** One scan through the API, from POST to settled; pages/s from the scan's own startedAt/finishedAt. */
async function ourCrawl(ctx, maxPages = CRAWL.maxPages) {
  const { origin, token, projectId, port, site } = ctx;
  site.resetStats();
  const load1m = loadavg()[0];
  // browsers = the Chromium process trees under this wrangler dev; driver = the rest of it
  // (wrangler's Node process with miniflare, workerd running the Worker and the binding, esbuild).
  const browsersBefore = workerBrowsers(port);
  const sampler = sampleProcesses(() => ({ ...browserTrees(workerBrowsers(port)), driver: workerOwnPids(port) }), CRAWL.sampleMs);
  const posted = performance.now();
  let scan;
  let sampled;
  const pollMs = [];
  try {
    const created = await api(origin, "POST", `/projects/${projectId}/crawls`, { token, body: scanBody(maxPages) });
    if (created.status !== 202) throw new Error(`POST /projects/:id/crawls: HTTP ${created.status} ${created.text}`);
    for (;;) {
      await new Promise((r) => setTimeout(r, CRAWL.pollMs));
      const t = performance.now();
      const res = await api(origin, "GET", `/crawls/${created.json.id}`, { token });
      pollMs.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`GET /crawls/:id: HTTP ${res.status} ${res.text}`);
      scan = res.json;
      if (SETTLED.has(scan.status)) break;
      if (performance.now() - posted > 700_000) throw new Error(`scan ${scan.id} still ${scan.status} after 700 s`);
    }
  } finally {
    sampled = sampler.stop();
  }
  const wallSeconds = (performance.now() - posted) / 1000;
  if (scan.status !== "completed") throw new Error(`the bench scan ended ${scan.status}: ${scan.errorMessage ?? ""}`);
  const seconds = (Date.parse(scan.finishedAt) - Date.parse(scan.startedAt)) / 1000;
  const loads = scan.pages.map((p) => p.loadMs);
  // The stored PNGs' size, from 30 of the scan's signed screenshot links (served by the Worker from R2).
  const shotBytes = [];
  for (const page of scan.pages.filter((p) => p.screenshotUrl).slice(0, 30)) {
    const link = new URL(page.screenshotUrl);
    const res = await fetch(`${origin}${link.pathname}${link.search}`);
    if (res.ok) shotBytes.push((await res.arrayBuffer()).byteLength);
  }
  return {
    pagesVisited: scan.pagesVisited,
    pagesFailed: scan.pagesFailed,
    seconds,
    pagesPerSecond: scan.pagesVisited / seconds,
    wallSeconds,
    queuedSeconds: (Date.parse(scan.startedAt) - Date.parse(scan.createdAt)) / 1000,
    deepest: Math.max(...scan.pages.map((p) => p.depth)),
    screenshots: scan.pages.filter((p) => p.screenshotUrl).length,
    loadMsMedian: loads.length ? Math.round(median(loads)) : null,
    screenshotBytesMedian: shotBytes.length ? median(shotBytes) : null,
    pollMsMedian: Math.round(median(pollMs)),
    served: site.stats(),
    load1m: { before: round(load1m), after: round(loadavg()[0]) },
    ...processFigures(sampled, scan.pagesVisited, browsersBefore),
  };
}

async function theirCrawl(ctx, screenshots, maxPages = CRAWL.maxPages, fastScreenshots = false) {
  const { site, browser } = ctx;
  site.resetStats();
  const load1m = loadavg()[0];
  // driver = this Node process: puppeteer-core, and also the site's server and the sampler (small).
  const sampler = sampleProcesses(() => ({ ...browserTrees([browser.process().pid]), driver: [process.pid] }), CRAWL.sampleMs);
  let result;
  let sampled;
  try {
    result = await baselineCrawl(browser, { startUrl: `${site.origin}/`, maxPages, maxDepth: CRAWL.maxDepth, concurrency: CRAWL.concurrency, screenshots, fastScreenshots });
  } finally {
    sampled = sampler.stop();
  }
  const figures = processFigures(sampled, result.pagesVisited, new Set([browser.process().pid]));
  return { ...result, pagesPerSecond: result.pagesVisited / result.seconds, served: site.stats(), load1m: { before: round(load1m), after: round(loadavg()[0]) }, ...figures };
}

const KINDS = [
  { key: "ours", label: "ours: POST /crawls (deep)", run: (ctx) => ourCrawl(ctx) },
  { key: "baselineScreenshots", label: "baseline + screenshot per page", run: (ctx) => theirCrawl(ctx, true) },
  { key: "baselinePlain", label: "baseline, no screenshot", run: (ctx) => theirCrawl(ctx, false) },
  // Like for like: the baseline given the screenshot option our scan uses (PNG, zlib's fastest level).
  { key: "baselineFast", label: "baseline + screenshot, optimizeForSpeed", run: (ctx) => theirCrawl(ctx, true, CRAWL.maxPages, true) },
];

/**
 * Runs the comparison on a started worker (its idle browser session, if any, is what the scan
 * reuses). `log` gets progress lines. Returns every figure; printCrawls(result) renders them.
 */
export async function measureCrawls({ origin, port, log = () => {} }) {
  const site = await startCrawlSite();
  let browser;
  try {
    // An Enterprise org: its token is never rate-limited while the bench polls. The project has
    // cases (bootstrapDemo's suite), so the scan generates no tests.
    const { ciToken, project } = await bootstrapDemo(origin, site.origin, { plan: "enterprise" });
    browser = await launchBaselineBrowser();
    const ctx = { origin, port, token: ciToken, projectId: project.id, site, browser };

    // Untimed warm-up: the Worker's crawl code and the binding's session, the baseline's first tabs.
    log(`crawl site ${site.origin}: ${site.pages} pages; warm-up crawls of ${WARMUP_PAGES} pages …`);
    await ourCrawl(ctx, WARMUP_PAGES);
    await theirCrawl(ctx, true, WARMUP_PAGES);

    const runs = Object.fromEntries(KINDS.map((k) => [k.key, []]));
    for (let r = 0; r < CRAWL.repeats; r++) {
      // Rotate the order each round so that no kind always runs first or last (machine drift).
      const order = KINDS.map((_, i) => KINDS[(i + r) % KINDS.length]);
      for (const kind of order) {
        const result = await kind.run(ctx);
        runs[kind.key].push(result);
        if (result.pagesVisited !== site.pages) throw new Error(`${kind.label}: visited ${result.pagesVisited} pages, expected ${site.pages}`);
        log(
          `crawl ${r + 1}/${CRAWL.repeats} ${kind.key}: ${result.pagesVisited} pages in ${result.seconds.toFixed(1)} s = ${result.pagesPerSecond.toFixed(2)} pages/s,` +
            ` peak Σ RSS ${mb(result.peakRssBytes)} MB (RssAnon ${mb(result.peakAnonBytes)} MB), CPU ${result.cpuMsPerPage.browser} + ${result.cpuMsPerPage.driver} ms/page,` +
            ` load ${result.load1m.before} → ${result.load1m.after}${result.browserLaunched ? ", launched its browser" : ""}${result.otherBrowsers ? `, ${result.otherBrowsers} other browser(s) open` : ""}`,
        );
      }
    }

    const summary = {};
    for (const kind of KINDS) {
      const rs = runs[kind.key];
      const med = (f) => median(rs.map(f));
      summary[kind.key] = {
        label: kind.label,
        n: rs.length,
        pages: med((x) => x.pagesVisited),
        seconds: round(med((x) => x.seconds)),
        pagesPerSecond: round(med((x) => x.pagesPerSecond)),
        peakRssMB: mb(med((x) => x.peakRssBytes)),
        peakAnonMB: mb(med((x) => x.peakAnonBytes)),
        peakProcesses: med((x) => x.peakProcesses),
        cpuMsPerPage: { browser: Math.round(med((x) => x.cpuMsPerPage.browser)), driver: Math.round(med((x) => x.cpuMsPerPage.driver)) },
        ...(kind.key === "ours" ? { wallSeconds: round(med((x) => x.wallSeconds)) } : {}),
      };
    }
    const paired = (key) => runs.ours.map((o, i) => round(o.pagesPerSecond / runs[key][i].pagesPerSecond));
    const warnings = [];
    for (const k of KINDS) {
      const failed = runs[k.key].reduce((s, x) => s + x.pagesFailed, 0);
      if (failed) warnings.push(`crawl: ${failed} failed page(s) in the ${k.key} runs`);
    }
    for (const x of runs.ours) if (x.screenshots !== x.pagesVisited) warnings.push(`crawl: our scan stored ${x.screenshots} screenshots for ${x.pagesVisited} pages`);
    for (const x of runs.ours) {
      if (x.browserLaunched) warnings.push("crawl: a scan launched a browser instead of reusing the idle session (its launch is in its time; see bench/README.md \"4.\")");
    }
    return {
      site: { pages: site.pages, maxDepth: site.maxDepth, weight: site.weight },
      settings: { ...CRAWL, warmupPages: WARMUP_PAGES, chromium: CHROMIUM, baselineFlags: WRAPPER_FLAGS },
      derivation: {
        oursPagesPerSecond: "pagesVisited / (finishedAt - startedAt) of the scan",
        baselinePagesPerSecond: "pages / (createBrowserContext -> last page done); browser launched before, once",
        memory: "peak of the summed VmRSS and of the summed RssAnon of the crawl's browser's processes (the browser whose processes used the most CPU), sampled every 200 ms",
        cpu: "user+system CPU seconds during the crawl / pages; browser = Chromium processes; driver = wrangler dev's other processes (ours) or the bench's Node process (baseline)",
      },
      summary,
      ratio: {
        headline: "median over rounds of ours / baseline with a screenshot per page (ours stores one per page)",
        vsScreenshots: round(median(paired("baselineScreenshots"))),
        vsPlain: round(median(paired("baselinePlain"))),
        vsFast: round(median(paired("baselineFast"))),
        pairedVsFast: paired("baselineFast"),
        pairedVsScreenshots: paired("baselineScreenshots"),
        pairedVsPlain: paired("baselinePlain"),
      },
      runs,
      warnings,
    };
  } finally {
    await browser?.close().catch(() => {});
    await site.close();
  }
}

function table(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map(String));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

export function printCrawls(c) {
  const w = c.site.weight;
  const kb = (bytes) => round(bytes / 1024, 1);
  console.log(`\n4. Crawl throughput: our scan vs a plain puppeteer-core crawl of the same site, same Chromium, same run`);
  console.log(
    `   site (crawl-site.mjs, 127.0.0.1): ${c.site.pages} pages, depth 0–${c.site.maxDepth}; per page ~${kb(w.htmlBytesAvg)} KB HTML and its own PNG of` +
      ` ${Math.round(w.imageBytesMin / 1024)}–${Math.round(w.imageBytesMax / 1024)} KB; shared CSS ${kb(w.cssBytes)} KB and JS ${kb(w.jsBytes)} KB (cached)`,
  );
  console.log(
    `   maxPages ${c.settings.maxPages}, maxDepth ${c.settings.maxDepth}, ${c.settings.concurrency} tabs; ${c.settings.repeats === 1 ? "one run of each" : `medians of ${c.settings.repeats} runs of each, in rotating order`}` +
      ` (after an untimed ${c.settings.warmupPages}-page warm-up of each)`,
  );
  console.log("   ours: pages/s = pagesVisited / (finishedAt − startedAt) of the scan; the baseline's: pages / (new context → last page done)");
  console.log("   ours ÷ this: median over rounds of the ratio within a round; memory: peak of Σ over the processes of the crawl's browser,");
  console.log("   sampled every 200 ms; CPU: user+system ms per page,");
  console.log("   browser = Chromium, driver = the rest of wrangler dev (miniflare, the binding, workerd) for ours, the bench's Node for the baseline\n");
  const s = c.summary;
  const ratioOf = (key) => ({ ours: "", baselineScreenshots: c.ratio.vsScreenshots, baselinePlain: c.ratio.vsPlain, baselineFast: c.ratio.vsFast })[key];
  console.log(
    table(
      ["crawler", "n", "pages", "seconds", "pages/s", "ours ÷ this", "peak Σ RSS MB", "peak Σ RssAnon MB", "processes", "CPU ms/page browser", "driver"],
      Object.entries(s).map(([key, r]) => [r.label, r.n, r.pages, r.seconds, r.pagesPerSecond, ratioOf(key), r.peakRssMB, r.peakAnonMB, r.peakProcesses, r.cpuMsPerPage.browser, r.cpuMsPerPage.driver]),
    ),
  );
  const paired = c.settings.repeats > 1 ? ` (per round: ${c.ratio.pairedVsScreenshots.join(", ")})` : "";
  const pairedPlain = c.settings.repeats > 1 ? ` (per round: ${c.ratio.pairedVsPlain.join(", ")})` : "";
  console.log(`\n   headline: ours ÷ baseline with a screenshot per page = ${c.ratio.vsScreenshots}${paired}; aim ≥ 1.0`);
  console.log(`   ours ÷ baseline without screenshots = ${c.ratio.vsPlain}${pairedPlain}: what screenshots cost, not a like-for-like comparison`);
  const pairedFast = c.settings.repeats > 1 ? ` (per round: ${c.ratio.pairedVsFast.join(", ")})` : "";
  console.log(`   ours ÷ baseline with our screenshot option (optimizeForSpeed) = ${c.ratio.vsFast}${pairedFast}: the drivers compared at equal capture cost`);
  const ours = c.runs.ours;
  const list = (xs, f) => xs.map(f).join(", ");
  console.log(
    `   ours per run: wall (POST → settled seen, polled every ${c.settings.pollMs / 1000} s) ${list(ours, (x) => `${round(x.wallSeconds, 1)} s`)};` +
      ` queued ${list(ours, (x) => `${round(x.queuedSeconds, 2)} s`)}; page loadMs median ${list(ours, (x) => x.loadMsMedian)}; GET /crawls/:id ${list(ours, (x) => `${x.pollMsMedian} ms`)};` +
      ` browser ${list(ours, (x) => (x.browserLaunched ? "launched" : "reused"))}; other browsers open ${list(ours, (x) => (x.otherBrowsers ? `${x.otherBrowsers} (Σ RSS ${mb(x.otherBrowsersPeakRssBytes)} MB)` : "0"))}`,
  );
  const rounds = c.runs.ours.map((_, i) => `${KINDS.map((k) => `${k.key} ${c.runs[k.key][i].load1m.before} → ${c.runs[k.key][i].load1m.after}`).join(", ")}`);
  console.log(`   1-min load average at the start → end of each crawl (2 cores; other work on the machine slows the captures): ${rounds.join("; ")}`);
  const shots = c.runs.baselineScreenshots;
  const fast = c.runs.baselineFast;
  const kbOf = (x) => `${Math.round(x.screenshotBytesMedian / 1024)} KB`;
  console.log(`   PNG median (same 1280 px pages): ours ${list(ours, kbOf)}; baseline ${list(shots, kbOf)}; baseline with optimizeForSpeed ${list(fast, kbOf)}`);
  console.log(
    `   baseline screenshots (puppeteer: one at a time per browser): bringToFront + capture median ${list(shots, (x) => `${x.medianMs.capture} ms`)}` +
      ` (bringToFront ${list(shots, (x) => `${x.medianMs.bringToFront} ms`)}), Σ ${list(shots, (x) => `${round(x.captureSeconds, 1)} s`)} of ${list(shots, (x) => `${round(x.seconds, 1)} s`)}; PNG median ${list(shots, (x) => `${Math.round(x.screenshotBytesMedian / 1024)} KB`)}`,
  );
  console.log("   Σ RSS counts a page shared by several processes once in each (the Chromium binary, fork-shared memory): it overstates; RssAnon is closer to what they allocated.");
}

// ---------- alone: `node bench/crawl-bench.mjs` ----------

if (import.meta.url === `file://${process.argv[1]}`) {
  const migrate = spawnSync(join(root, "node_modules", ".bin", "wrangler"), ["d1", "migrations", "apply", "DB", "--local"], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1", PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH}` },
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
  });
  if (migrate.status !== 0) throw new Error(`wrangler d1 migrations apply failed:\n${migrate.stdout}${migrate.stderr}`);
  const port = await freePort();
  let worker;
  let code = 0;
  const stop = async () => {
    const browsers = workerChromiumPids(port);
    await worker?.stop();
    killOwnWrangler(port);
    killChromium(browsers); // a browser the stop left behind (see run.mjs stopWorker)
  };
  process.once("SIGINT", () => stop().finally(() => process.exit(130)));
  try {
    worker = await startWorker(port);
    const result = await measureCrawls({ origin: worker.origin, port, log: (line) => console.error(line) });
    printCrawls(result);
    for (const w of result.warnings) console.log(`   WARNING: ${w}`);
    console.log(JSON.stringify({ crawl: result }));
  } catch (error) {
    console.error("crawl bench failed:", error instanceof Error ? error.message : error);
    if (process.env.BENCH_WORKER_LOG) console.error(worker?.log());
    code = 1;
  } finally {
    await stop();
  }
  process.exit(code);
}
