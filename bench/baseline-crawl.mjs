// The baseline of the crawl bench ("4." in bench/README.md): a plain breadth-first crawl in Node
// with puppeteer-core, driving the same Chromium with the flags the local wrapper gives it
// (scripts/setup-local-browser.mjs), headless. One browser context, `concurrency` tabs pulling
// from one FIFO queue (no barrier between levels), same-origin links only, fragments dropped,
// `waitUntil: "load"` per page, then the links (`a[href]`) and, with `screenshots`, a full-page
// PNG (zlib's default effort, or its fastest with `fastScreenshots`, as our scan takes them). Nothing else: no request interception, no settle wait, no per-page bookkeeping.
// Screenshots: the tab is brought to the front first, under one lock per context, as
// @cloudflare/puppeteer's page.screenshot() does for our crawler. puppeteer-core 25 no longer does
// it, and without it a capture in a background tab of headless Chromium can wait for a frame that
// is never painted (seen here: one Page.captureScreenshot hung until the 180 s protocol time-out).
import puppeteer from "puppeteer-core";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
/** What scripts/setup-local-browser.mjs's wrapper adds to every launch. */
export const WRAPPER_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
/** The crawler's desktop viewport (src/browser/devices.ts). */
const VIEWPORT = { width: 1280, height: 800, deviceScaleFactor: 1 };
const NAV_TIMEOUT_MS = 15_000;

/** http(s) only, fragment dropped; null for anything else. */
function normalize(href) {
  try {
    const url = new URL(href);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    url.hash = "";
    return url.href;
  } catch {
    return null;
  }
}

export async function launchBaselineBrowser() {
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: WRAPPER_FLAGS, defaultViewport: VIEWPORT });
}

/**
 * Crawls from startUrl with an open browser. Timed from the new browser context to the last page
 * done (the browser's launch is not in it: see bench/README.md "4."). Returns the pages visited,
 * the seconds, and the per-page phases (median ms) it spent in.
 */
export async function baselineCrawl(browser, { startUrl, maxPages, maxDepth, concurrency, screenshots, fastScreenshots = false }) {
  const start = normalize(startUrl);
  const origin = new URL(start).origin;
  const started = performance.now();
  const context = await browser.createBrowserContext();
  const queue = [{ url: start, depth: 0 }];
  const seen = new Set([start]);
  let taken = 0;
  let inFlight = 0;
  let wake = () => {};
  let changed = new Promise((r) => (wake = r));
  const signal = () => {
    wake();
    changed = new Promise((r) => (wake = r));
  };
  let screenshotLock = Promise.resolve();
  const screenshot = (page) => {
    const taken = screenshotLock.then(async () => {
      const held = performance.now();
      await page.bringToFront();
      phases.bringMs.push(performance.now() - held);
      const png = await page.screenshot({ type: "png", fullPage: true, optimizeForSpeed: fastScreenshots });
      phases.captureMs.push(performance.now() - held);
      return png;
    });
    screenshotLock = taken.catch(() => {});
    return taken;
  };
  const pages = [];
  const phases = { gotoMs: [], linksMs: [], screenshotMs: [], bringMs: [], captureMs: [], screenshotBytes: [] };

  const worker = async () => {
    const page = await context.newPage();
    for (;;) {
      if (taken >= maxPages) break;
      if (queue.length === 0) {
        if (inFlight === 0) break;
        await changed;
        continue;
      }
      const item = queue.shift();
      taken++;
      inFlight++;
      try {
        let t = performance.now();
        let status = null;
        let links = [];
        try {
          const response = await page.goto(item.url, { waitUntil: "load", timeout: NAV_TIMEOUT_MS });
          status = response?.status() ?? null;
          phases.gotoMs.push(performance.now() - t);
          t = performance.now();
          links = await page.$$eval("a[href]", (as) => as.map((a) => a.href));
          phases.linksMs.push(performance.now() - t);
          if (screenshots) {
            t = performance.now();
            const png = await screenshot(page);
            phases.screenshotMs.push(performance.now() - t);
            phases.screenshotBytes.push(png.length);
          }
        } catch (error) {
          pages.push({ url: item.url, depth: item.depth, status, error: String(error?.message ?? error).split("\n")[0] });
          continue;
        }
        pages.push({ url: item.url, depth: item.depth, status, error: null });
        if (status !== null && status < 400 && item.depth < maxDepth) {
          for (const href of links) {
            const url = normalize(href);
            if (!url || new URL(url).origin !== origin || seen.has(url)) continue;
            seen.add(url);
            queue.push({ url, depth: item.depth + 1 });
          }
        }
      } finally {
        inFlight--;
        signal();
      }
    }
    await page.close().catch(() => {});
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  await context.close().catch(() => {});
  const median = (xs) => {
    if (xs.length === 0) return null;
    const s = [...xs].sort((a, b) => a - b);
    const mid = s.length >> 1;
    return Math.round(s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2);
  };
  return {
    pagesVisited: pages.length,
    pagesFailed: pages.filter((p) => p.error !== null || (p.status ?? 0) >= 400).length,
    seconds,
    deepest: Math.max(...pages.map((p) => p.depth)),
    medianMs: { goto: median(phases.gotoMs), links: median(phases.linksMs), screenshot: median(phases.screenshotMs), bringToFront: median(phases.bringMs), capture: median(phases.captureMs) },
    /** Σ of the captures themselves (the lock held): the part of the crawl that cannot overlap. */
    captureSeconds: phases.captureMs.reduce((s, ms) => s + ms, 0) / 1000,
    screenshotBytesMedian: median(phases.screenshotBytes),
    errors: pages.filter((p) => p.error).slice(0, 3).map((p) => `${p.url}: ${p.error}`),
  };
}
