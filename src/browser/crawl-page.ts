// What one visit does in a crawl's tab (crawl-tab.ts): load a page and read it (status,
// redirects, title, links, forms, a screenshot), fetch robots.txt; and what the other visits
// share (navTimeout, settle, readLinks): submitting a form is in crawl-forms.ts, checking links
// in crawl-broken-links.ts, signing in in crawl-login.ts. Every wait is bounded. Which pages
// are visited is the crawl's choice (crawler.ts).
// The functions passed to page.evaluate run inside the page: they use only what they declare and
// declare no named function (see targets.ts).
import { Buffer } from "node:buffer";
import type { HTTPResponse, Page } from "@cloudflare/puppeteer";
import type { PageRecord } from "./crawl-types";
import { beginVisit, bounded, firstLine, NAV_TIMEOUT_MS, STEP_TIMEOUT_MS, unique, type Tab, type TabSettings, type Visit } from "./crawl-tab";
import { DEVICE_VIEWPORTS } from "./devices";
import { readForms, type RawForm } from "./forms";
import { robotsFromFetch, type Robots } from "./robots";
import { isSameOrigin, normalizeUrl } from "./url-normalize";

const MIN_NAV_TIMEOUT_MS = 2_000;
const SETTLE_MS = 1_500;
const SETTLE_QUIET_MS = 100;
const SCREENSHOT_MAX_HEIGHT = 8000;
const MAX_LINKS = 1000;

/** A navigation's timeout: NAV_TIMEOUT_MS, shortened by the time budget's end but never below MIN_NAV_TIMEOUT_MS. */
export function navTimeout(deadline: number): number {
  return Math.max(MIN_NAV_TIMEOUT_MS, Math.min(NAV_TIMEOUT_MS, deadline - Date.now()));
}

/**
 * Loads a page and reads it. A redirect to another origin is recorded where it leads and not
 * loaded (`leftOrigin`); its record has no links and its forms are not read.
 */
export async function loadPage(
  tab: Tab,
  item: { url: string; depth: number },
  settings: TabSettings,
): Promise<{ record: PageRecord; forms: RawForm[]; leftOrigin: boolean }> {
  const visit = beginVisit(tab, "page");
  const started = Date.now();
  const timeout = navTimeout(settings.deadline);
  let response: HTTPResponse | null = null;
  let error: string | null = null;
  try {
    response = await tab.page.goto(item.url, { waitUntil: "load", timeout });
  } catch (e) {
    response = visit.mainResponse;
    error = navigationError(e, visit, timeout);
  }
  const loadMs = Date.now() - started;
  if (visit.offOriginRedirect) {
    // Recorded where it leads, not followed: a scan stays on its origin. Only a start page
    // that leaves is an error: nothing of the site can be crawled from it.
    tab.visit = null;
    const { url, status, chain } = visit.offOriginRedirect;
    const why = item.depth === 0 ? `the page redirects to another origin (${url}); a scan stays on its origin: start it there` : null;
    return { record: { ...emptyRecord(item, why), finalUrl: url, status, redirectChain: chain, loadMs }, forms: [], leftOrigin: true };
  }
  if (visit.overBudget) error = `the page exceeded maxBytesPerPage (${settings.maxBytesPerPage} bytes); loading was stopped`;

  const status = response?.status() ?? null;
  const finalUrl = normalizeUrl(response?.url() ?? item.url) ?? item.url;
  const redirectChain = response ? response.request().redirectChain().map((r) => r.url()) : [];
  const html = response !== null && /html|xml/i.test(response.headers()["content-type"] ?? "html");
  const loaded = response !== null && !visit.blockedNavigation;

  let title = "";
  let heading: string | null = null;
  let links: PageRecord["links"] = [];
  let rawForms: RawForm[] = [];
  let screenshot: Uint8Array | null = null;
  if (loaded) {
    if (!error) await settle(visit);
    title = await bounded(tab.page.title(), STEP_TIMEOUT_MS, "reading the title").catch(() => "");
    if (html) {
      heading = await bounded(
        tab.page.evaluate(() => {
          const h1 = document.querySelector("h1");
          const text = h1 ? ((h1 as HTMLElement).innerText ?? h1.textContent ?? "").replace(/\s+/g, " ").trim() : "";
          return text ? text.slice(0, 200) : null;
        }),
        STEP_TIMEOUT_MS,
        "reading the main heading",
      ).catch(() => null);
      links = await readLinks(tab.page, settings.origin).catch(() => []);
      rawForms = await bounded(readForms(tab.page), STEP_TIMEOUT_MS, "reading forms").catch(() => []);
    }
    screenshot = await takeScreenshot(tab, settings).catch(() => null);
  }
  const record: PageRecord = {
    url: item.url,
    finalUrl,
    depth: item.depth,
    status,
    redirectChain,
    title,
    heading,
    loadMs,
    links,
    brokenLinks: [],
    consoleErrors: visit.consoleErrors,
    failedRequests: visit.failedRequests,
    forms: [],
    screenshot,
    error,
  };
  tab.visit = null;
  return { record, forms: rawForms, leftOrigin: false };
}

/** The page's links, normalized, without repeats, at most MAX_LINKS. */
export async function readLinks(page: Page, origin: string): Promise<PageRecord["links"]> {
  const hrefs = await bounded(
    page.evaluate((max) => Array.from(document.querySelectorAll("a[href], area[href]")).slice(0, max).map((a) => (a as HTMLAnchorElement).href), MAX_LINKS * 2),
    STEP_TIMEOUT_MS,
    "reading links",
  );
  const links = unique(hrefs.map((h) => normalizeUrl(h)).filter((u): u is string => u !== null)).slice(0, MAX_LINKS);
  return links.map((url) => ({ url, sameOrigin: isSameOrigin(url, origin) }));
}

/**
 * The page's full height, clipped, at one device pixel per CSS pixel (a phone's 2.6× would
 * make it 7× heavier), as PNG at zlib's fastest level (the same pixels in a ~16 % larger file,
 * in ~60 % of the time). A tab in its own window is captured directly, in parallel with the
 * others; an ordinary tab through puppeteer, which brings it to the front under a lock per
 * context: a background tab may never paint the frame a capture waits for.
 */
async function takeScreenshot(tab: Tab, settings: TabSettings): Promise<Uint8Array | null> {
  const viewport = DEVICE_VIEWPORTS[settings.device];
  const height = await bounded(
    tab.page.evaluate(() => Math.max(document.documentElement?.scrollHeight ?? 0, document.body?.scrollHeight ?? 0)),
    STEP_TIMEOUT_MS,
    "measuring the page",
  );
  // A clip is in CSS pixels, its scale the image's pixels per CSS pixel, whatever the device's ratio.
  const clip = { x: 0, y: 0, width: viewport.width, height: Math.max(1, Math.min(height, SCREENSHOT_MAX_HEIGHT)), scale: 1 };
  if (tab.ownWindow) {
    try {
      const { data } = await bounded(
        tab.cdp.send("Page.captureScreenshot", { format: "png", clip, captureBeyondViewport: true, optimizeForSpeed: true }),
        STEP_TIMEOUT_MS,
        "taking a screenshot",
      );
      return new Uint8Array(Buffer.from(data, "base64"));
    } catch (error) {
      // A browser that paints its windows otherwise than measured here: this tab captures as an ordinary one from now on.
      if (!/took longer than/.test(firstLine(error))) throw error;
      tab.ownWindow = false;
    }
  }
  const png = await bounded(
    tab.page.screenshot({ type: "png", clip, captureBeyondViewport: true, optimizeForSpeed: true }),
    STEP_TIMEOUT_MS,
    "taking a screenshot",
  );
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

export async function fetchRobots(tab: Tab, settings: TabSettings): Promise<Robots> {
  beginVisit(tab, "robots");
  try {
    const response = await tab.page.goto(`${settings.origin}/robots.txt`, { waitUntil: "load", timeout: navTimeout(settings.deadline) });
    if (!response) return robotsFromFetch({ error: "no response" });
    const text = response.status() < 300 ? await bounded(response.text(), STEP_TIMEOUT_MS, "reading robots.txt") : "";
    return robotsFromFetch({ status: response.status(), text });
  } catch (error) {
    return robotsFromFetch({ error: firstLine(error).match(/net::(ERR_[A-Z_]+)/)?.[1] ?? firstLine(error) });
  } finally {
    tab.visit = null;
  }
}

/** Waits until the page's requests have been quiet for a moment (scripts that add links after load), at most SETTLE_MS. */
export async function settle(visit: Visit): Promise<void> {
  const until = Date.now() + SETTLE_MS;
  let quietSince = Date.now();
  while (Date.now() < until) {
    if (visit.inflight.size > 0) quietSince = Date.now();
    else if (Date.now() - quietSince >= SETTLE_QUIET_MS) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function navigationError(error: unknown, visit: Visit, timeout: number): string {
  if (visit.blockedNavigation) return visit.blockedNavigation;
  if (visit.overBudget) return "over budget";
  const message = firstLine(error);
  const net = message.match(/net::(ERR_[A-Z_]+)/)?.[1];
  if (net) return `unreachable (${net})`;
  if (/timeout|exceeded/i.test(message)) return `did not finish loading within ${timeout} ms`;
  return `failed to load: ${message}`;
}

/** The record of a page that was not loaded (refused, broken tab, redirected away). */
export function emptyRecord(item: { url: string; depth: number }, error: string | null): PageRecord {
  return {
    url: item.url,
    finalUrl: item.url,
    depth: item.depth,
    status: null,
    redirectChain: [],
    title: "",
    heading: null,
    loadMs: 0,
    links: [],
    brokenLinks: [],
    consoleErrors: [],
    failedRequests: [],
    forms: [],
    screenshot: null,
    error,
  };
}
