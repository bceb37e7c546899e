// The crawler of scans: breadth-first over one origin, in one fresh browser context, with
// `concurrency` tabs. It reports through hooks (each page, each event) and polls shouldStop, so
// a caller can store, stream and cancel without this module knowing about D1 or queues.
//
// Rules (the README of scans should repeat them):
// - Only same-origin links are visited; links to other origins are recorded, never requested.
//   A page that redirects to another origin is recorded with that finalUrl and not followed.
// - Breadth first, level by level, links in page order: the set of pages a crawl visits is the
//   same on every run for the same site and limits. maxDepth counts the start page as 0;
//   maxPages counts page records. Links are followed from pages that answered < 400 only.
// - A link is broken when visiting it answers 4xx/5xx or does not answer. Links the crawl does
//   not visit (beyond maxDepth or maxPages, disallowed by robots.txt, sign-out links) are not
//   checked: the limits bound the load a scan puts on a site. Every (page, broken link) pair is
//   reported once as a `link_broken` event; a page's record lists the broken links already
//   known when it is recorded, and the result lists them all with the pages they were found on.
// - Credentials go to the scan's own origin only: headers and the cookie credential are added
//   by request interception to same-origin requests (redirect hops are intercepted one by one);
//   with credentials, requests to other origins carry no Cookie header at all (cookies are not
//   port-scoped, so a browser would send the login's cookie to another port of the same host),
//   none of the credential headers, and are refused when their URL or body holds a secret.
// - robots.txt is fetched once through the browser (RFC 9309 rules, see robots.ts) and applies
//   to every page, crawlPages included.
// - Fonts and media are never downloaded: they do not change links, forms or layout-relevant
//   results, and a video preload can weigh more than the page. Images are kept: screenshots
//   need them. (Measured on the fixture site: see the scans notes in the report.)
// - maxBytesPerPage counts the content bytes each page load receives (document and every
//   subresource, as Chromium reports them); a declared Content-Length that would cross it, or
//   the running count crossing it, stops the page's loading and refuses its further requests.
//   The page is recorded with what had loaded and an error naming the limit.
import type { Browser, BrowserContext, CDPSession, HTTPRequest, HTTPResponse, Page } from "@cloudflare/puppeteer";
import * as z from "zod";
import { CRAWLER_TOKEN, DEVICE_VIEWPORTS, emulateDevice } from "./devices";
import { fillForm, formSignature, readForms, refusal, submitForm, testValues, type FormRecord, type RawForm } from "./forms";
import { robotsAllow, robotsFromFetch, robotsRefusal, type Robots } from "./robots";
import { BrowserFault, isBrowserFault } from "./session";
import { isSameOrigin, normalizeUrl, pathAndQuery } from "./url-normalize";
import { judgeUrl, type UrlPolicy } from "./url-policy";
import { withTimeout } from "../timeouts";

export type { FormRecord } from "./forms";

const NAV_TIMEOUT_MS = 15_000;
const MIN_NAV_TIMEOUT_MS = 2_000;
const SETTLE_MS = 1_500;
const SETTLE_QUIET_MS = 100;
const STEP_TIMEOUT_MS = 10_000;
const FORM_NAV_TIMEOUT_MS = 8_000;
const SCREENSHOT_MAX_HEIGHT = 8000;
const STOP_POLL_MS = 1000;
/** After the time budget, pages still loading get this long before their tabs are closed. */
const BUDGET_GRACE_MS = 3000;
const MAX_FORMS_SUBMITTED_PER_PAGE = 3;
const MAX_LINKS = 1000;
const MAX_LIST = 50;
const MAX_REFERRERS = 20;
const BLOCKED_RESOURCE_TYPES = new Set(["font", "media"]);
const FAVICON = /^https?:\/\/[^/]+\/favicon\.ico$/;
const PASSIVE_SCHEMES = /^(data|blob|about):/;
const SIGN_OUT = /(^|[/_.-])(log|sign)[-_]?(out|off)([/_.?-]|$)/i;

// ---------------------------------------------------------------------------------------------
// Options, records, events

const sameOriginOrPath = z.string().min(1).max(2048);
/** A header a credential may set: a token, and none that frames the request. A Cookie header is read as cookie credentials. */
const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/, "must be a header name")
  .refine((n) => !/^(host|content-length|transfer-encoding|connection|upgrade|te|trailer|keep-alive|proxy-.*)$/i.test(n), "cannot be set");

export const CrawlCredentialSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("username_password"),
    login_url: sameOriginOrPath,
    username: z.string().min(1).max(512),
    password: z.string().min(1).max(512),
    username_field: z.string().min(1).max(256).optional(),
    password_field: z.string().min(1).max(256).optional(),
  }),
  z.object({ type: z.literal("bearer_token"), token: z.string().min(1).max(8192), header_name: headerName.optional() }),
  z.object({ type: z.literal("cookie"), name: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/), value: z.string().regex(/^[^;\s,]*$/).max(4096) }),
  z.object({ type: z.literal("custom_headers"), headers: z.record(headerName, z.string().max(8192)) }),
]);
export type CrawlCredential = z.infer<typeof CrawlCredentialSchema>;

const httpUrl = z.string().refine((s) => normalizeUrl(s) !== null, "must be an absolute http(s) URL");

export const CrawlOptionsSchema = z
  .object({
    startUrl: httpUrl,
    maxPages: z.number().int().min(1).max(10_000),
    maxDepth: z.number().int().min(0).max(100),
    timeBudgetMs: z.number().int().min(1),
    concurrency: z.number().int().min(1).max(16),
    respectRobots: z.boolean(),
    device: z.enum(["desktop", "mobile"]),
    fillForms: z.boolean(),
    testData: z.record(z.string(), z.string()).optional(),
    crawlPages: z.array(sameOriginOrPath).max(10_000).optional(),
    policy: z.custom<UrlPolicy>((v) => typeof v === "object" && v !== null && "allowedPrivateHosts" in v, "must be a UrlPolicy"),
    maxBytesPerPage: z.number().int().min(1),
    credentials: z.array(CrawlCredentialSchema).max(10).optional(),
  })
  .superRefine((o, ctx) => {
    const start = normalizeUrl(o.startUrl);
    if (!start) return;
    const origin = new URL(start).origin;
    const offOrigin = (raw: string) => !isSameOrigin(normalizeUrl(raw, origin) ?? "", origin);
    o.crawlPages?.forEach((p, i) => {
      if (offOrigin(p)) ctx.addIssue({ code: "custom", path: ["crawlPages", i], message: `must be a path or a URL on ${origin}` });
    });
    o.credentials?.forEach((c, i) => {
      if (c.type === "username_password" && offOrigin(c.login_url)) {
        ctx.addIssue({ code: "custom", path: ["credentials", i, "login_url"], message: `must be on ${origin}: credentials go to the scan's origin only` });
      }
    });
  });
export type CrawlOptions = z.input<typeof CrawlOptionsSchema>;

/** The options were not valid: a caller's mistake, never the site's. */
export class CrawlOptionsError extends Error {}

export type PageRecord = {
  url: string;
  finalUrl: string;
  depth: number;
  status: number | null;
  /** The URLs that answered with a redirect, in order (empty when the page answered directly). */
  redirectChain: string[];
  title: string;
  loadMs: number;
  links: { url: string; sameOrigin: boolean }[];
  /** Broken links of this page already known when it was recorded (every pair also comes as a link_broken event). */
  brokenLinks: { url: string; status: number | null; reason: string }[];
  consoleErrors: string[];
  failedRequests: { url: string; reason: string }[];
  forms: FormRecord[];
  /** PNG, the page's full height up to 8000 CSS pixels, at one device pixel per CSS pixel. */
  screenshot: Uint8Array | null;
  error: string | null;
};

export type CrawlEvent =
  | { type: "page_visited" | "page_failed" | "page_skipped"; url: string; detail: string }
  | { type: "link_broken"; url: string; foundOn: string; status: number | null; detail: string }
  | { type: "login_attempted" | "login_succeeded" | "login_failed"; url: string; detail?: string };

export type CrawlHooks = {
  /** Called once per page, never concurrently with another hook. */
  onPage(record: PageRecord): Promise<void>;
  onEvent(event: CrawlEvent): Promise<void>;
  /** Polled at most once a second, between pages and while pages load. */
  shouldStop(): Promise<boolean>;
};

export type BrokenLink = { url: string; status: number | null; reason: string; foundOn: string[] };

export type CrawlResult = {
  pagesVisited: number;
  stoppedBy: "done" | "maxPages" | "timeBudget" | "stopped" | "loginFailed";
  brokenLinks: BrokenLink[];
  durationMs: number;
};

// ---------------------------------------------------------------------------------------------
// The crawl

type Options = z.output<typeof CrawlOptionsSchema>;
type Item = { url: string; depth: number };
type Outcome = { broken: boolean; status: number | null; reason: string };

/** What the interceptor adds to and strips from requests. */
type Auth = {
  /** Lowercase header name → value, for same-origin requests. */
  headers: Record<string, string>;
  cookies: { name: string; value: string }[];
  secrets: string[];
  any: boolean;
};

/** One page load in a tab: what its requests did. */
type Visit = {
  kind: "page" | "form" | "robots" | "login";
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

type Tab = { page: Page; cdp: CDPSession; visit: Visit | null };

export async function crawlSite(browser: Browser, rawOptions: CrawlOptions, hooks: CrawlHooks): Promise<CrawlResult> {
  const parsed = CrawlOptionsSchema.safeParse(rawOptions);
  if (!parsed.success) {
    throw new CrawlOptionsError(parsed.error.issues.map((i) => `${i.path.join(".") || "options"}: ${i.message}`).join("; "));
  }
  return new Crawl(browser, parsed.data, hooks).run();
}

class Crawl {
  private readonly started = Date.now();
  private readonly deadline: number;
  private readonly origin: string;
  private readonly startUrl: string;
  private readonly auth: Auth;
  private context: BrowserContext | null = null;
  private readonly tabs = new Set<Tab>();
  private browserUserAgent = "";
  private robots: Robots | null = null;

  private readonly seen = new Set<string>();
  private readonly outcomes = new Map<string, Outcome>();
  private readonly referrers = new Map<string, string[]>();
  private readonly reportedPairs = new Set<string>();
  private readonly broken = new Map<string, BrokenLink>();
  private readonly submittedForms = new Set<string>();
  private recorded = 0;
  private startedPages = 0;

  private stopReason: CrawlResult["stoppedBy"] | null = null;
  /** Set when in-flight work must be dropped (stop, budget overrun, hook or browser failure). */
  private aborted = false;
  private fatal: unknown = null;
  private lastStopPoll = 0;
  private hookChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly browser: Browser,
    private readonly options: Options,
    private readonly hooks: CrawlHooks,
  ) {
    this.deadline = this.started + options.timeBudgetMs;
    this.startUrl = normalizeUrl(options.startUrl) ?? options.startUrl;
    this.origin = new URL(this.startUrl).origin;
    this.auth = authFrom(options.credentials ?? []);
  }

  async run(): Promise<CrawlResult> {
    const watchdog = setInterval(() => void this.watch(), STOP_POLL_MS);
    try {
      await this.crawl();
    } catch (error) {
      if (!this.fatal && !this.aborted) this.fatal = error;
    } finally {
      clearInterval(watchdog);
      await Promise.all([...this.tabs].map((tab) => tab.page.close().catch(() => {})));
      await this.context?.close().catch(() => {});
    }
    await this.hookChain;
    if (this.fatal) throw this.fatal;
    return {
      pagesVisited: this.recorded,
      stoppedBy: this.stopReason ?? "done",
      brokenLinks: [...this.broken.values()],
      durationMs: Date.now() - this.started,
    };
  }

  private async crawl(): Promise<void> {
    const startItems = this.options.crawlPages
      ? unique(this.options.crawlPages.map((p) => normalizeUrl(p, this.origin)).filter((u): u is string => u !== null))
      : [this.startUrl];

    const verdict = judgeUrl(this.options.policy, this.startUrl);
    if (!verdict.allowed) {
      for (const url of startItems) await this.recordWithoutVisit({ url, depth: 0 }, `blocked: ${verdict.reason}`);
      return;
    }

    this.context = await bounded(this.browser.createBrowserContext(), STEP_TIMEOUT_MS, "creating a browser context");
    this.browserUserAgent = await bounded(this.browser.userAgent(), STEP_TIMEOUT_MS, "reading the user agent");
    const first = await this.openTab();

    if (this.options.respectRobots) this.robots = await this.fetchRobots(first);
    for (const credential of this.options.credentials ?? []) {
      if (credential.type !== "username_password") continue;
      if (!(await this.login(first, credential))) {
        this.stopReason ??= "loginFailed";
        return;
      }
    }

    let level: Item[] = [];
    for (const url of startItems) {
      this.seen.add(url);
      const refused = this.refusalFor(url);
      if (refused) await this.recordWithoutVisit({ url, depth: 0 }, refused);
      else level.push({ url, depth: 0 });
    }

    while (level.length > 0 && !this.stopReason && !this.aborted) {
      const results = await this.visitLevel(level);
      if (this.aborted) return;
      const next: Item[] = [];
      if (!this.options.crawlPages) {
        for (const result of results) {
          if (!result) continue;
          for (const url of result.follow) {
            if (this.seen.has(url)) continue;
            this.seen.add(url);
            if (result.depth + 1 > this.options.maxDepth) continue;
            const refused = this.refusalFor(url);
            if (refused) {
              await this.emit({ type: "page_skipped", url, detail: refused });
              continue;
            }
            next.push({ url, depth: result.depth + 1 });
          }
        }
      }
      if (next.length > 0 && this.startedPages >= this.options.maxPages) this.stopReason ??= "maxPages";
      level = next;
    }
  }

  /** Why a same-origin URL is not visited, or null. */
  private refusalFor(url: string): string | null {
    if (this.robots && !robotsAllow(this.robots, CRAWLER_TOKEN, pathAndQuery(url))) return robotsRefusal(this.robots);
    if (this.auth.any && SIGN_OUT.test(new URL(url).pathname)) return "a sign-out link: visiting it would end the crawl's session";
    return null;
  }

  /** Visits one level with `concurrency` tabs; results keep the level's order. */
  private async visitLevel(level: Item[]): Promise<Array<{ depth: number; follow: string[] } | null>> {
    const results: Array<{ depth: number; follow: string[] } | null> = level.map(() => null);
    let nextIndex = 0;
    const worker = async (first: Tab) => {
      let tab = first;
      while (nextIndex < level.length && !this.stopReason && !this.aborted) {
        if (await this.pollStop()) break;
        // No await between these checks and taking the item: workers share the counters.
        if (this.startedPages >= this.options.maxPages) {
          this.stopReason ??= "maxPages";
          break;
        }
        if (Date.now() >= this.deadline) {
          this.stopReason ??= "timeBudget";
          break;
        }
        if (nextIndex >= level.length) break;
        const index = nextIndex++;
        this.startedPages++;
        if (!this.tabs.has(tab)) tab = await this.openTab(); // the last page broke it
        results[index] = await this.visitAndRecord(tab, level[index]);
      }
    };
    const workers = Math.min(this.options.concurrency, level.length);
    const tabs = [...this.tabs];
    while (tabs.length < workers && !this.aborted) tabs.push(await this.openTab());
    await Promise.all(tabs.slice(0, workers).map(worker));
    return results;
  }

  private async visitAndRecord(tab: Tab, item: Item): Promise<{ depth: number; follow: string[] } | null> {
    let visited: { record: PageRecord; follow: string[] };
    try {
      visited = await this.visitPage(tab, item);
    } catch (error) {
      if (this.aborted) return null;
      if (isBrowserFault(error) && !this.browser.connected) {
        this.fail(new BrowserFault(`the browser went away during the crawl: ${firstLine(error)}`));
        return null;
      }
      // The tab broke (crashed renderer, detached frame): record the page and replace the tab.
      await this.dropTab(tab);
      visited = { record: emptyRecord(item, `the page could not be crawled: ${firstLine(error)}`), follow: [] };
    }
    if (this.aborted) return null;
    const { record } = visited;
    // Broken: the site answered an error or did not answer. Our refusals (policy, budget) and our own failures are not the link's fault.
    const unanswered = record.status === null && record.error !== null && /^(unreachable|did not finish loading)/.test(record.error);
    const outcome: Outcome = {
      broken: (record.status ?? 0) >= 400 || unanswered,
      status: record.status,
      reason: record.status !== null && record.status >= 400 ? `HTTP ${record.status}` : (record.error ?? ""),
    };
    this.resolve(item.url, outcome);
    if (isSameOrigin(record.finalUrl, this.origin)) {
      this.seen.add(record.finalUrl);
      if (!this.outcomes.has(record.finalUrl)) this.resolve(record.finalUrl, outcome);
    }
    for (const link of record.links) {
      if (!link.sameOrigin) continue;
      const list = this.referrers.get(link.url) ?? [];
      if (list.length < MAX_REFERRERS && !list.includes(record.url)) list.push(record.url);
      this.referrers.set(link.url, list);
      const known = this.outcomes.get(link.url);
      if (known?.broken) {
        record.brokenLinks.push({ url: link.url, status: known.status, reason: known.reason });
        this.reportPair(record.url, link.url, known);
      }
    }
    this.recorded++;
    const safe = redact(record, this.auth.secrets);
    await this.emitPage(safe);
    return { depth: item.depth, follow: visited.follow };
  }

  private resolve(url: string, outcome: Outcome) {
    this.outcomes.set(url, outcome);
    if (!outcome.broken) return;
    for (const referrer of this.referrers.get(url) ?? []) this.reportPair(referrer, url, outcome);
  }

  private reportPair(page: string, link: string, outcome: Outcome) {
    const key = `${page}\n${link}`;
    if (this.reportedPairs.has(key)) return;
    this.reportedPairs.add(key);
    const entry = this.broken.get(link) ?? { url: link, status: outcome.status, reason: outcome.reason, foundOn: [] };
    if (entry.foundOn.length < MAX_REFERRERS) entry.foundOn.push(page);
    this.broken.set(link, entry);
    void this.emit({ type: "link_broken", url: link, foundOn: page, status: outcome.status, detail: outcome.reason });
  }

  private async recordWithoutVisit(item: Item, error: string) {
    this.recorded++;
    await this.emitPage(emptyRecord(item, error));
  }

  // -------------------------------------------------------------------------------------------
  // One page

  private async visitPage(tab: Tab, item: Item): Promise<{ record: PageRecord; follow: string[] }> {
    const visit = this.begin(tab, "page");
    const started = Date.now();
    const timeout = this.navTimeout();
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
      return { record: { ...emptyRecord(item, why), finalUrl: url, status, redirectChain: chain, loadMs }, follow: [] };
    }
    if (visit.overBudget) error = `the page exceeded maxBytesPerPage (${this.options.maxBytesPerPage} bytes); loading was stopped`;

    const status = response?.status() ?? null;
    const finalUrl = normalizeUrl(response?.url() ?? item.url) ?? item.url;
    const redirectChain = response ? response.request().redirectChain().map((r) => r.url()) : [];
    const html = response !== null && /html|xml/i.test(response.headers()["content-type"] ?? "html");
    const loaded = response !== null && !visit.blockedNavigation;

    let title = "";
    let links: PageRecord["links"] = [];
    let rawForms: RawForm[] = [];
    let screenshot: Uint8Array | null = null;
    if (loaded) {
      if (!error) await settle(visit);
      title = await bounded(tab.page.title(), STEP_TIMEOUT_MS, "reading the title").catch(() => "");
      if (html) {
        links = await this.readLinks(tab.page).catch(() => []);
        rawForms = await bounded(readForms(tab.page), STEP_TIMEOUT_MS, "reading forms").catch(() => []);
      }
      screenshot = await this.screenshot(tab).catch(() => null);
    }
    const record: PageRecord = {
      url: item.url,
      finalUrl,
      depth: item.depth,
      status,
      redirectChain,
      title,
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

    const followable = status !== null && status < 400 && isSameOrigin(finalUrl, this.origin);
    const follow = followable ? links.filter((l) => l.sameOrigin).map((l) => l.url) : [];
    const forms = await this.handleForms(tab, rawForms, finalUrl, followable);
    record.forms = forms.records;
    follow.push(...forms.follow);
    return { record, follow };
  }

  private async readLinks(page: Page): Promise<PageRecord["links"]> {
    const hrefs = await bounded(
      page.evaluate((max) => Array.from(document.querySelectorAll("a[href], area[href]")).slice(0, max).map((a) => (a as HTMLAnchorElement).href), MAX_LINKS * 2),
      STEP_TIMEOUT_MS,
      "reading links",
    );
    const links = unique(hrefs.map((h) => normalizeUrl(h)).filter((u): u is string => u !== null)).slice(0, MAX_LINKS);
    return links.map((url) => ({ url, sameOrigin: isSameOrigin(url, this.origin) }));
  }

  /**
   * The page's full height, clipped, at one device pixel per CSS pixel (a phone's 2.6× would
   * make it 7× heavier). Puppeteer brings the tab to the front and takes one screenshot at a
   * time per context: a background tab in headless Chromium may never paint the frame a capture
   * waits for.
   */
  private async screenshot(tab: Tab): Promise<Uint8Array | null> {
    const viewport = DEVICE_VIEWPORTS[this.options.device];
    const height = await bounded(
      tab.page.evaluate(() => Math.max(document.documentElement?.scrollHeight ?? 0, document.body?.scrollHeight ?? 0)),
      STEP_TIMEOUT_MS,
      "measuring the page",
    );
    const clip = { x: 0, y: 0, width: viewport.width, height: Math.max(1, Math.min(height, SCREENSHOT_MAX_HEIGHT)), scale: 1 / viewport.deviceScaleFactor };
    const png = await bounded(tab.page.screenshot({ type: "png", clip, captureBeyondViewport: true }), STEP_TIMEOUT_MS, "taking a screenshot");
    return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
  }

  // -------------------------------------------------------------------------------------------
  // Forms

  private async handleForms(tab: Tab, raw: RawForm[], pageUrl: string, followable: boolean): Promise<{ records: FormRecord[]; follow: string[] }> {
    const follow: string[] = [];
    const records: FormRecord[] = [];
    let submittedHere = 0;
    for (const form of raw) {
      const refused = refusal(form, this.origin);
      const record: FormRecord = {
        action: form.action,
        method: form.methodOverride || form.method,
        fields: form.fields.map(({ name, type, label, required }) => ({ name, type, label, required })),
        submitText: form.submitters[0] ?? "",
        destructive: refused?.destructive ?? false,
        submitted: false,
        skipReason: refused?.reason ?? null,
        resultUrl: null,
      };
      records.push(record);
      if (refused || !this.options.fillForms) {
        record.skipReason ??= "fillForms is off";
        continue;
      }
      if (!followable) {
        record.skipReason = "the page did not load";
        continue;
      }
      const signature = formSignature(form);
      if (this.submittedForms.has(signature)) {
        record.skipReason = "the same form was submitted on another page";
        continue;
      }
      if (submittedHere >= MAX_FORMS_SUBMITTED_PER_PAGE || Date.now() >= this.deadline || this.aborted) {
        record.skipReason = "not submitted: limit of forms per page or time budget reached";
        continue;
      }
      this.submittedForms.add(signature);
      submittedHere++;
      const result = await this.submit(tab, form, pageUrl, submittedHere > 1).catch((e) => ({ error: firstLine(e) }));
      if ("error" in result) {
        record.skipReason = result.error;
        continue;
      }
      record.submitted = true;
      record.skipReason = null;
      if (result.url && isSameOrigin(result.url, this.origin)) {
        record.resultUrl = result.url;
        // A GET result is a page of its own; a POST result cannot be revisited, so its links count as this page's.
        if (result.method === "GET" && result.status !== null && result.status < 400) follow.push(result.url);
        else follow.push(...result.links);
      }
    }
    return { records, follow };
  }

  private async submit(
    tab: Tab,
    form: RawForm,
    pageUrl: string,
    reload: boolean,
  ): Promise<{ url: string | null; method: string; status: number | null; links: string[] } | { error: string }> {
    const visit = this.begin(tab, "form");
    try {
      if (reload) await tab.page.goto(pageUrl, { waitUntil: "load", timeout: this.navTimeout() });
      const valid = await bounded(fillForm(tab.page, form.index, testValues(form, this.options.testData)), STEP_TIMEOUT_MS, "filling a form");
      if (!valid) return { error: "not submitted: still invalid after filling with test data" };
      const navigation = tab.page.waitForNavigation({ waitUntil: "load", timeout: FORM_NAV_TIMEOUT_MS }).catch(() => null);
      await bounded(submitForm(tab.page, form.index), STEP_TIMEOUT_MS, "submitting a form");
      const response = (await navigation) ?? visit.mainResponse;
      if (visit.blockedNavigation) return { error: `submitted, but ${visit.blockedNavigation}` };
      if (!response) return { url: null, method: "GET", status: null, links: [] };
      const url = normalizeUrl(response.url());
      const links = (await this.readLinks(tab.page).catch(() => [])).filter((l) => l.sameOrigin).map((l) => l.url);
      return { url, method: response.request().method(), status: response.status(), links };
    } finally {
      tab.visit = null;
    }
  }

  // -------------------------------------------------------------------------------------------
  // robots.txt and login

  private async fetchRobots(tab: Tab): Promise<Robots> {
    this.begin(tab, "robots");
    try {
      const response = await tab.page.goto(`${this.origin}/robots.txt`, { waitUntil: "load", timeout: this.navTimeout() });
      if (!response) return robotsFromFetch({ error: "no response" });
      const text = response.status() < 300 ? await bounded(response.text(), STEP_TIMEOUT_MS, "reading robots.txt") : "";
      return robotsFromFetch({ status: response.status(), text });
    } catch (error) {
      return robotsFromFetch({ error: firstLine(error).match(/net::(ERR_[A-Z_]+)/)?.[1] ?? firstLine(error) });
    } finally {
      tab.visit = null;
    }
  }

  /**
   * Logs in with a username_password credential. Success means: after submitting, the page
   * answered below 400 and shows no visible password field, and either the URL left the login
   * page's path or the origin gained or changed a cookie. The password never appears in an event.
   */
  private async login(tab: Tab, credential: Extract<CrawlCredential, { type: "username_password" }>): Promise<boolean> {
    const loginUrl = normalizeUrl(credential.login_url, this.origin) ?? this.startUrl;
    await this.emit({ type: "login_attempted", url: loginUrl });
    const failed = async (detail: string) => {
      await this.emit({ type: "login_failed", url: loginUrl, detail: redactText(detail, this.auth.secrets) });
      return false;
    };
    const visit = this.begin(tab, "login");
    try {
      const page = tab.page;
      const response = await page.goto(loginUrl, { waitUntil: "load", timeout: this.navTimeout() }).catch((e) => {
        throw new Error(`the login page could not be loaded: ${navigationError(e, visit, NAV_TIMEOUT_MS)}`);
      });
      if (response && response.status() >= 400) return await failed(`the login page answered HTTP ${response.status()}`);
      const found = await bounded(
        page.evaluate(
          (userField, passField) => {
            const inputs = Array.from(document.querySelectorAll("input"));
            const shown = inputs.filter((i) => i.type !== "hidden" && i.getClientRects().length > 0);
            const pass = passField
              ? inputs.find((i) => i.name === passField || i.id === passField)
              : shown.find((i) => i.type === "password");
            if (!pass) return { user: false, pass: false, submit: false };
            const candidates = shown.filter(
              (i) => /^(text|email|tel)$/.test(i.type) && (pass.form === null || i.form === pass.form),
            );
            const before = candidates.filter((i) => (i.compareDocumentPosition(pass) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0);
            const user = userField
              ? inputs.find((i) => i.name === userField || i.id === userField)
              : (before[before.length - 1] ?? candidates[0]);
            pass.setAttribute("data-aegis-login", "password");
            user?.setAttribute("data-aegis-login", "username");
            const submit = (pass.form ?? document).querySelector("button[type=submit], button:not([type]), input[type=submit]");
            submit?.setAttribute("data-aegis-login", "submit");
            return { user: user !== undefined, pass: true, submit: submit !== null };
          },
          credential.username_field ?? "",
          credential.password_field ?? "",
        ),
        STEP_TIMEOUT_MS,
        "finding the login fields",
      );
      if (!found.pass) return await failed("no password field on the login page");
      if (!found.user) return await failed("no username or email field next to the password field");
      const cookiesBefore = cookieSnapshot(await bounded(page.cookies(this.origin), STEP_TIMEOUT_MS, "reading cookies"));
      await bounded(
        page.evaluate(
          (username, password) => {
            for (const [role, value] of [["username", username], ["password", password]]) {
              const el = document.querySelector(`[data-aegis-login="${role}"]`);
              if (!(el instanceof HTMLInputElement)) continue;
              el.focus();
              const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")?.set;
              if (setter) setter.call(el, value);
              else el.value = value;
              el.dispatchEvent(new Event("input", { bubbles: true }));
              el.dispatchEvent(new Event("change", { bubbles: true }));
            }
          },
          credential.username,
          credential.password,
        ),
        STEP_TIMEOUT_MS,
        "filling the login form",
      );
      visit.mainResponse = null;
      const navigation = page.waitForNavigation({ waitUntil: "load", timeout: this.navTimeout() }).catch(() => null);
      if (found.submit) await bounded(page.click('[data-aegis-login="submit"]'), STEP_TIMEOUT_MS, "clicking sign in");
      else await bounded(page.focus('[data-aegis-login="password"]').then(() => page.keyboard.press("Enter")), STEP_TIMEOUT_MS, "pressing Enter");
      const after = (await navigation) ?? visit.mainResponse;
      await settle(visit);
      if (visit.blockedNavigation) return await failed(`signing in was refused: ${visit.blockedNavigation}`);
      if (after && after.status() >= 400) return await failed(`signing in answered HTTP ${after.status()}`);
      const passwordShown = await bounded(
        page.evaluate(() => Array.from(document.querySelectorAll("input[type=password]")).some((i) => i.getClientRects().length > 0)),
        STEP_TIMEOUT_MS,
        "checking the result of signing in",
      );
      const here = normalizeUrl(page.url());
      const leftLoginPage = here !== null && new URL(here).pathname !== new URL(loginUrl).pathname;
      const cookieChanged = cookieSnapshot(await bounded(page.cookies(this.origin), STEP_TIMEOUT_MS, "reading cookies")) !== cookiesBefore;
      if (passwordShown) return await failed("the page after signing in still asks for a password");
      if (!leftLoginPage && !cookieChanged) return await failed("signing in neither left the login page nor set a cookie");
      await this.emit({ type: "login_succeeded", url: here ?? loginUrl, detail: leftLoginPage ? "left the login page" : "a session cookie was set" });
      return true;
    } catch (error) {
      if (this.aborted) return false;
      return await failed(firstLine(error));
    } finally {
      tab.visit = null;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Tabs and the request interceptor

  private async openTab(): Promise<Tab> {
    const context = this.context;
    if (!context) throw new Error("no browser context");
    const page = await bounded(context.newPage(), STEP_TIMEOUT_MS, "opening a tab");
    try {
      const cdp = await bounded(page.createCDPSession(), STEP_TIMEOUT_MS, "opening a DevTools session");
      const tab: Tab = { page, cdp, visit: null };
      this.tabs.add(tab);
      page.setDefaultTimeout(STEP_TIMEOUT_MS);
      page.setDefaultNavigationTimeout(NAV_TIMEOUT_MS);
      await bounded(
        Promise.all([
          emulateDevice(page, this.options.device, this.browserUserAgent),
          page.setBypassServiceWorker(true),
          page.setRequestInterception(true),
          cdp.send("Network.enable"),
        ]),
        STEP_TIMEOUT_MS,
        "preparing a tab",
      );
      this.watchTab(tab);
      return tab;
    } catch (error) {
      await page.close().catch(() => {});
      throw error;
    }
  }

  /** Drops a broken tab; its worker opens a new one before its next page. */
  private async dropTab(tab: Tab) {
    this.tabs.delete(tab);
    await tab.page.close().catch(() => {});
  }

  private begin(tab: Tab, kind: Visit["kind"]): Visit {
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

  private watchTab(tab: Tab) {
    const { page, cdp } = tab;
    page.on("request", (request) => this.intercept(tab, request));
    page.on("response", (response) => {
      const visit = tab.visit;
      if (visit && response.request().isNavigationRequest() && response.frame() === page.mainFrame()) visit.mainResponse = response;
    });
    page.on("requestfinished", (request) => {
      const visit = tab.visit;
      visit?.inflight.delete(request);
      const status = request.response()?.status() ?? 0;
      // The browser asks for /favicon.ico on its own; a site without one is not broken.
      if (visit && status >= 400 && !(request.isNavigationRequest() && request.frame() === page.mainFrame()) && !FAVICON.test(request.url())) {
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
      if (declared > 0) this.countBytes(tab, declared, true);
    });
    cdp.on("Network.dataReceived", (event) => this.countBytes(tab, Math.max(event.dataLength, event.encodedDataLength), false));
  }

  /** Counts a page's bytes; `declared` checks a Content-Length before the body arrives without counting it twice. */
  private countBytes(tab: Tab, bytes: number, declared: boolean) {
    const visit = tab.visit;
    // Signing in must finish whatever the login page weighs; it is not a page of the scan.
    if (!visit || visit.overBudget || visit.kind === "login") return;
    if (!declared) visit.bytes += bytes;
    if ((declared ? visit.bytes + bytes : visit.bytes) <= this.options.maxBytesPerPage) return;
    visit.overBudget = true;
    void tab.cdp.send("Page.stopLoading").catch(() => {});
  }

  private intercept(tab: Tab, request: HTTPRequest) {
    if (request.isInterceptResolutionHandled()) return;
    const url = request.url();
    const visit = tab.visit;
    const mainNavigation = request.isNavigationRequest() && request.frame() === tab.page.mainFrame();
    const abort = (why: string | null) => {
      if (why && visit) {
        if (mainNavigation) visit.blockedNavigation = why;
        else pushCapped(visit.failedRequests, { url: redactText(url, this.auth.secrets), reason: why });
      }
      request.abort("blockedbyclient").catch(() => {});
    };
    if (PASSIVE_SCHEMES.test(url)) return void request.continue().catch(() => {});
    const verdict = judgeUrl(this.options.policy, url);
    if (!verdict.allowed) return abort(`blocked: ${verdict.reason}`);
    if (visit?.overBudget) return abort(null);
    if (BLOCKED_RESOURCE_TYPES.has(request.resourceType())) return abort(null);
    const sameOrigin = isSameOrigin(url, this.origin);
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
      return abort(`blocked: navigating to another origin (${redactText(url, this.auth.secrets)})`);
    }
    visit?.inflight.add(request);
    if (sameOrigin) {
      if (!this.auth.any) return void request.continue().catch(() => {});
      return void request.continue({ headers: withCredentials(request.headers(), this.auth) }).catch(() => {});
    }
    if (!this.auth.any) return void request.continue().catch(() => {});
    if (carriesSecret(url, request.postData(), this.auth.secrets)) return abort("blocked: it would send a credential to another origin");
    request.continue({ headers: withoutCredentials(request.headers(), this.auth) }).catch(() => {});
  }

  // -------------------------------------------------------------------------------------------
  // Limits, stopping, hooks

  private navTimeout(): number {
    return Math.max(MIN_NAV_TIMEOUT_MS, Math.min(NAV_TIMEOUT_MS, this.deadline - Date.now()));
  }

  private async pollStop(): Promise<boolean> {
    if (this.stopReason === "stopped") return true;
    if (Date.now() - this.lastStopPoll < STOP_POLL_MS) return false;
    this.lastStopPoll = Date.now();
    const stop = await this.hooks.shouldStop().catch(() => false);
    if (stop) this.stopReason = "stopped";
    return stop;
  }

  /** Runs every second: a stop request or a long overrun of the budget closes the tabs, ending in-flight loads at once. */
  private async watch() {
    if (this.aborted) return;
    const overrun = Date.now() > this.deadline + BUDGET_GRACE_MS;
    if ((await this.pollStop()) || overrun) {
      if (overrun) this.stopReason ??= "timeBudget";
      this.abort();
    }
  }

  private abort() {
    if (this.aborted) return;
    this.aborted = true;
    for (const tab of this.tabs) void tab.page.close().catch(() => {});
  }

  private fail(error: unknown) {
    this.fatal ??= error;
    this.abort();
  }

  private emit(event: CrawlEvent): Promise<void> {
    const r = (text: string) => redactText(text, this.auth.secrets);
    const safe: CrawlEvent = { ...event, url: r(event.url), ...(event.detail === undefined ? {} : { detail: r(event.detail) }) };
    if (safe.type === "link_broken") safe.foundOn = r(safe.foundOn);
    return this.enqueueHook(() => this.hooks.onEvent(safe));
  }

  private emitPage(record: PageRecord): Promise<void> {
    const ok = record.error === null && (record.status === null || record.status < 400);
    const detail = record.error ?? (record.status === null ? "" : `HTTP ${record.status} in ${record.loadMs} ms`);
    return this.enqueueHook(async () => {
      await this.hooks.onPage(record);
      await this.hooks.onEvent({ type: ok ? "page_visited" : "page_failed", url: record.url, detail });
    });
  }

  private enqueueHook(call: () => Promise<void>): Promise<void> {
    this.hookChain = this.hookChain.then(async () => {
      if (this.fatal) return;
      try {
        await call();
      } catch (error) {
        this.fail(error);
      }
    });
    return this.hookChain;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function authFrom(credentials: CrawlCredential[]): Auth {
  const headers: Record<string, string> = {};
  const cookies: Auth["cookies"] = [];
  const secrets: string[] = [];
  for (const c of credentials) {
    if (c.type === "bearer_token") {
      const name = (c.header_name ?? "authorization").toLowerCase();
      headers[name] = name === "authorization" ? `Bearer ${c.token}` : c.token;
      secrets.push(c.token);
    } else if (c.type === "custom_headers") {
      for (const [name, value] of Object.entries(c.headers)) {
        if (name.toLowerCase() === "cookie") {
          for (const pair of value.split(";").map((p) => p.trim()).filter((p) => p.includes("="))) {
            const at = pair.indexOf("=");
            cookies.push({ name: pair.slice(0, at).trim(), value: pair.slice(at + 1).trim() });
            secrets.push(pair.slice(at + 1).trim());
          }
          continue;
        }
        headers[name.toLowerCase()] = value;
        secrets.push(value);
      }
    } else if (c.type === "cookie") {
      cookies.push({ name: c.name, value: c.value });
      secrets.push(c.value);
    } else {
      secrets.push(c.password);
    }
  }
  // Short values would match innocent text; they are still never sent elsewhere by us.
  return { headers, cookies, secrets: unique(secrets.filter((s) => s.length >= 4)), any: credentials.length > 0 };
}

function withCredentials(original: Record<string, string>, auth: Auth): Record<string, string> {
  const headers = { ...original, ...auth.headers };
  if (auth.cookies.length > 0) {
    // The page's own cookies stay, except those the credential replaces.
    const ours = new Set(auth.cookies.map((c) => c.name));
    const theirs = (original.cookie ?? "").split(/;\s*/).filter((c) => c && !ours.has(c.split("=")[0]));
    headers.cookie = [...theirs, ...auth.cookies.map((c) => `${c.name}=${c.value}`)].join("; ");
  }
  return headers;
}

function withoutCredentials(original: Record<string, string>, auth: Auth): Record<string, string> {
  const headers: Record<string, string> = {};
  // A header of ours never reaches another origin; the page's own (its SPA's API token) may.
  for (const [name, value] of Object.entries(original)) {
    if (auth.headers[name.toLowerCase()] !== value) headers[name] = value;
  }
  // An empty Cookie header replaces what the cookie jar would add (the jar is not port-scoped).
  headers.cookie = "";
  return headers;
}

function carriesSecret(url: string, body: string | undefined, secrets: string[]): boolean {
  const haystacks = [url, body ?? ""];
  return secrets.some((s) => haystacks.some((h) => h.includes(s) || h.includes(encodeURIComponent(s))));
}

function redactText(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join("[redacted]").split(encodeURIComponent(s)).join("[redacted]");
  return out;
}

/** Every string of a record with the crawl's secrets replaced: pages may echo a token. */
function redact(record: PageRecord, secrets: string[]): PageRecord {
  if (secrets.length === 0) return record;
  const r = (s: string) => redactText(s, secrets);
  return {
    ...record,
    url: r(record.url),
    finalUrl: r(record.finalUrl),
    redirectChain: record.redirectChain.map(r),
    title: r(record.title),
    links: record.links.map((l) => ({ ...l, url: r(l.url) })),
    brokenLinks: record.brokenLinks.map((l) => ({ ...l, url: r(l.url), reason: r(l.reason) })),
    consoleErrors: record.consoleErrors.map(r),
    failedRequests: record.failedRequests.map((f) => ({ url: r(f.url), reason: r(f.reason) })),
    forms: record.forms.map((f) => ({ ...f, action: r(f.action), resultUrl: f.resultUrl && r(f.resultUrl), skipReason: f.skipReason && r(f.skipReason) })),
    error: record.error && r(record.error),
  };
}

/** Waits until the page's requests have been quiet for a moment (scripts that add links after load), at most SETTLE_MS. */
async function settle(visit: Visit): Promise<void> {
  const until = Date.now() + SETTLE_MS;
  let quietSince = Date.now();
  while (Date.now() < until) {
    if (visit.inflight.size > 0) quietSince = Date.now();
    else if (Date.now() - quietSince >= SETTLE_QUIET_MS) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

function navigationError(error: unknown, visit: Visit, timeout: number): string {
  if (visit.blockedNavigation) return visit.blockedNavigation;
  if (visit.overBudget) return "over budget";
  const message = firstLine(error);
  const net = message.match(/net::(ERR_[A-Z_]+)/)?.[1];
  if (net) return `unreachable (${net})`;
  if (/timeout|exceeded/i.test(message)) return `did not finish loading within ${timeout} ms`;
  return `failed to load: ${message}`;
}

function emptyRecord(item: Item, error: string | null): PageRecord {
  return {
    url: item.url,
    finalUrl: item.url,
    depth: item.depth,
    status: null,
    redirectChain: [],
    title: "",
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

function cookieSnapshot(cookies: Array<{ name: string; value: string }>): string {
  return cookies
    .map((c) => `${c.name}=${c.value}`)
    .sort()
    .join("; ");
}

const bounded = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  withTimeout(promise, ms, () => new Error(`${what} took longer than ${ms} ms`));

function pushCapped<T>(list: T[], item: T) {
  if (list.length < MAX_LIST) list.push(item);
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return clip(message.split("\n")[0] ?? "unknown error", 300);
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);
