// A crawl's tab: opened in the crawl's browser context with its device, and watched while it
// loads. The request guard applies the URL policy to every request (the decision shared with
// test runs, request-guard.ts) and the credentials to the scan's origin only; the byte budget
// stops a page load at maxBytesPerPage; console errors and failed requests are captured into
// the tab's current visit. What a visit does with the tab: loading and reading a page and
// robots.txt in crawl-page.ts, submitting a form in crawl-forms.ts, checking links in
// crawl-broken-links.ts, signing in in crawl-login.ts; the rules are in crawler.ts.
import type { BrowserContext, CDPSession, HTTPRequest, HTTPResponse, Page } from "@cloudflare/puppeteer";
import { carriesSecret, redactText, withCredentials, withoutCredentials, type Auth } from "./crawl-credentials";
import { emulateDevice, type Device } from "./devices";
import { isBrowserFavicon, judgeRequest } from "./request-guard";
import { isSameOrigin, normalizeUrl } from "./url-normalize";
import type { UrlPolicy } from "./url-policy";
import { withTimeout } from "../timeouts";
import { guardPage } from "./page-guard";

export const NAV_TIMEOUT_MS = 15_000;
export const STEP_TIMEOUT_MS = 10_000;
const MAX_LIST = 50;
const BLOCKED_RESOURCE_TYPES = new Set(["font", "media"]);

/** What a tab needs of the crawl. */
export type TabSettings = {
  origin: string;
  auth: Auth;
  policy: UrlPolicy;
  maxBytesPerPage: number;
  device: Device;
  /** The end of the crawl's time budget: navigations are bounded by it (see navTimeout). */
  deadline: number;
};

/** One page load in a tab: what its requests did. */
export type Visit = {
  kind: "page" | "form" | "robots" | "login" | "links";
  bytes: number;
  overBudget: boolean;
  blockedNavigation: string | null;
  offOriginRedirect: { url: string; status: number | null; chain: string[] } | null;
  mainResponse: HTTPResponse | null;
  /** Requests let through and not yet finished (puppeteer's own count misses some finishes). */
  inflight: Set<HTTPRequest>;
  consoleErrors: string[];
  failedRequests: { url: string; reason: string }[];
};

/** `ownWindow`: the tab is the only one of its window (see openWindow), so it is always in front. */
export type Tab = { page: Page; cdp: CDPSession; visit: Visit | null; ownWindow: boolean };

/** Opens a prepared tab; `opened` receives it before it is prepared, so that stopping the crawl meanwhile closes it too. */
export async function openTab(context: BrowserContext, settings: TabSettings, browserUserAgent: string, opened: (tab: Tab) => void): Promise<Tab> {
  const windowed = await bounded(openWindow(context), STEP_TIMEOUT_MS, "opening a window").catch(() => null);
  const page = windowed ?? (await bounded(context.newPage(), STEP_TIMEOUT_MS, "opening a tab"));
  try {
    const cdp = await bounded(page.createCDPSession(), STEP_TIMEOUT_MS, "opening a DevTools session");
    const tab: Tab = { page, cdp, visit: null, ownWindow: windowed !== null };
    opened(tab);
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.setDefaultNavigationTimeout(NAV_TIMEOUT_MS);
    await bounded(
      Promise.all([
        emulateDevice(page, settings.device, browserUserAgent),
        page.setBypassServiceWorker(true),
        page.setRequestInterception(true),
        cdp.send("Network.enable"),
        guardPage(page, cdp, { policy: settings.policy, ownHostOnly: true }),
      ]),
      STEP_TIMEOUT_MS,
      "preparing a tab",
    );
    watchTab(tab, settings);
    return tab;
  } catch (error) {
    await page.close().catch(() => {});
    throw error;
  }
}

/**
 * A page in a new window of the context. Headless Chromium paints only the front tab of a window,
 * so puppeteer's page.screenshot() brings a tab to the front and takes one screenshot at a time
 * per context; the only tab of its window is always in front, so its captures need neither and
 * run in parallel (bench/README.md "4."). openTab falls back to an ordinary tab when a browser
 * refuses to open windows.
 */
async function openWindow(context: BrowserContext): Promise<Page> {
  const browser = context.browser();
  const session = await browser.target().createCDPSession();
  try {
    const { targetId } = await session.send("Target.createTarget", { url: "about:blank", browserContextId: context.id, newWindow: true });
    // Puppeteer keeps a target's id internal; it is the CDP targetId.
    const target = await browser.waitForTarget((t) => (t as unknown as { _targetId?: string })._targetId === targetId, { timeout: STEP_TIMEOUT_MS });
    const page = await target.page();
    if (!page) throw new Error("the new window has no page");
    return page;
  } finally {
    await session.detach().catch(() => {});
  }
}

/** Starts a visit: the tab's requests count and are captured into it until `tab.visit` is cleared. */
export function beginVisit(tab: Tab, kind: Visit["kind"]): Visit {
  const visit: Visit = {
    kind,
    bytes: 0,
    overBudget: false,
    blockedNavigation: null,
    offOriginRedirect: null,
    mainResponse: null,
    inflight: new Set(),
    consoleErrors: [],
    failedRequests: [],
  };
  tab.visit = visit;
  return visit;
}

function watchTab(tab: Tab, settings: TabSettings) {
  const { page, cdp } = tab;
  page.on("request", (request) => intercept(tab, request, settings));
  page.on("response", (response) => {
    const visit = tab.visit;
    if (visit && response.request().isNavigationRequest() && response.frame() === page.mainFrame()) visit.mainResponse = response;
  });
  page.on("requestfinished", (request) => {
    const visit = tab.visit;
    visit?.inflight.delete(request);
    const status = request.response()?.status() ?? 0;
    // The browser asks for /favicon.ico on its own; a site without one is not broken.
    if (visit && status >= 400 && !(request.isNavigationRequest() && request.frame() === page.mainFrame()) && !isBrowserFavicon(request.url())) {
      pushCapped(visit.failedRequests, { url: request.url(), reason: `HTTP ${status}` });
    }
  });
  page.on("requestfailed", (request) => {
    const visit = tab.visit;
    visit?.inflight.delete(request);
    const reason = request.failure()?.errorText ?? "failed";
    // Aborted by navigation or by us (fonts, media, over budget, policy: recorded where refused).
    if (!visit || /ERR_ABORTED|ERR_BLOCKED_BY_CLIENT/.test(reason)) return;
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) return;
    pushCapped(visit.failedRequests, { url: request.url(), reason });
  });
  page.on("console", (message) => {
    const visit = tab.visit;
    // Network failures also reach the console; failedRequests already has them.
    if (visit && message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      pushCapped(visit.consoleErrors, clip(message.text(), 500));
    }
  });
  page.on("pageerror", (error) => {
    const visit = tab.visit;
    if (visit) pushCapped(visit.consoleErrors, clip(`Uncaught ${error instanceof Error ? error.message : String(error)}`, 500));
  });
  cdp.on("Network.responseReceived", (event) => {
    const header = Object.entries(event.response.headers).find(([name]) => name.toLowerCase() === "content-length");
    const declared = Number(header?.[1] ?? 0);
    if (declared > 0) countBytes(tab, declared, true, settings.maxBytesPerPage);
  });
  cdp.on("Network.dataReceived", (event) => countBytes(tab, Math.max(event.dataLength, event.encodedDataLength), false, settings.maxBytesPerPage));
}

/** Counts a page's bytes; `declared` checks a Content-Length before the body arrives without counting it twice. */
function countBytes(tab: Tab, bytes: number, declared: boolean, maxBytesPerPage: number) {
  const visit = tab.visit;
  // Signing in must finish whatever the login page weighs; it is not a page of the scan. Link
  // checks read no body (HEAD, or a GET left unread).
  if (!visit || visit.overBudget || visit.kind === "login" || visit.kind === "links") return;
  if (!declared) visit.bytes += bytes;
  if ((declared ? visit.bytes + bytes : visit.bytes) <= maxBytesPerPage) return;
  visit.overBudget = true;
  void tab.cdp.send("Page.stopLoading").catch(() => {});
}

/** The request guard: the URL policy's decision (request-guard.ts), then the crawl's own rules. */
function intercept(tab: Tab, request: HTTPRequest, settings: TabSettings) {
  if (request.isInterceptResolutionHandled()) return;
  const { auth, origin } = settings;
  const url = request.url();
  const visit = tab.visit;
  const mainNavigation = request.isNavigationRequest() && request.frame() === tab.page.mainFrame();
  const abort = (why: string | null) => {
    if (why && visit) {
      if (mainNavigation) visit.blockedNavigation = why;
      else pushCapped(visit.failedRequests, { url: redactText(url, auth.secrets), reason: why });
    }
    request.abort("blockedbyclient").catch(() => {});
  };
  const verdict = judgeRequest(settings.policy, url);
  if (!verdict.allowed) return abort(`blocked: ${verdict.reason}`);
  if (verdict.passive) return void request.continue().catch(() => {});
  if (visit?.overBudget) return abort(null);
  if (BLOCKED_RESOURCE_TYPES.has(request.resourceType())) return abort(null);
  const sameOrigin = isSameOrigin(url, origin);
  if (mainNavigation && !sameOrigin && visit && visit.kind !== "robots") {
    const chain = request.redirectChain();
    if (chain.length > 0) {
      visit.offOriginRedirect = {
        url: normalizeUrl(url) ?? url,
        status: chain[chain.length - 1].response()?.status() ?? null,
        chain: chain.map((r) => r.url()),
      };
      return abort(null);
    }
    return abort(`blocked: navigating to another origin (${redactText(url, auth.secrets)})`);
  }
  visit?.inflight.add(request);
  if (sameOrigin) {
    if (!auth.any) return void request.continue().catch(() => {});
    return void request.continue({ headers: withCredentials(request.headers(), auth) }).catch(() => {});
  }
  if (!auth.any) return void request.continue().catch(() => {});
  if (carriesSecret(url, request.postData(), auth.secrets)) return abort("blocked: it would send a credential to another origin");
  request.continue({ headers: withoutCredentials(request.headers(), auth) }).catch(() => {});
}

export const bounded = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  withTimeout(promise, ms, () => new Error(`${what} took longer than ${ms} ms`));

function pushCapped<T>(list: T[], item: T) {
  if (list.length < MAX_LIST) list.push(item);
}

export function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return clip(message.split("\n")[0] ?? "unknown error", 300);
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);
