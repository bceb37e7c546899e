// The crawler of scans: breadth-first over one origin, in one fresh browser context, with
// `concurrency` tabs. It reports through hooks (each page, each event) and polls shouldStop, so
// a caller can store, stream and cancel without this module knowing about D1 or queues.
// The traversal is here; a tab, its request guard and byte budget are in crawl-tab.ts, loading
// and reading a page in crawl-page.ts, signing in in crawl-login.ts, the credentials and their
// redaction in crawl-credentials.ts.
//
// Rules (the README of scans should repeat them):
// - Only same-origin links are visited; links to other origins are recorded, never requested.
//   A page that redirects to another origin is recorded with that finalUrl and not followed.
// - Breadth first, level by level, links in page order: the set of pages a crawl visits is the
//   same on every run for the same site and limits. maxDepth counts the start page as 0;
//   maxPages counts page records. Links are followed from pages that answered < 400 only.
// - A link is broken when visiting it answers 4xx/5xx or does not answer. Same-origin links the
//   crawl does not visit (beyond maxDepth or maxPages, or not among crawlPages) are checked once
//   the pages are done, within the time budget, up to MAX_LINK_CHECKS: HEAD (GET where HEAD is
//   refused), a redirect counting as an answer. Links disallowed by robots.txt and sign-out
//   links are never requested. Every (page, broken link) pair is reported once as a
//   `link_broken` event; a page's record lists the broken links known when it is recorded, and
//   `onBrokenLinks` brings it up to date when more are found later (a page is recorded before
//   the pages it links); the result lists them all with the pages they were found on.
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
import type { Browser, BrowserContext } from "@cloudflare/puppeteer";
import * as z from "zod";
import { authFrom, redact, redactText, type Auth } from "./crawl-credentials";
import { login, type LoginContext } from "./crawl-login";
import { checkLinks, emptyRecord, fetchRobots, fillAndSubmit, loadPage } from "./crawl-page";
import { bounded, firstLine, openTab, STEP_TIMEOUT_MS, unique, type Tab, type TabSettings } from "./crawl-tab";
import { CRAWLER_TOKEN } from "./devices";
import { formSignature, refusal, type FormRecord, type RawForm } from "./forms";
import { robotsAllow, robotsRefusal, type Robots } from "./robots";
import { BrowserFault, isBrowserFault } from "./session";
import type { LinkStatus } from "./link-status";
import { isSameOrigin, normalizeUrl, pathAndQuery } from "./url-normalize";
import { judgeUrl, type UrlPolicy } from "./url-policy";

export type { FormRecord } from "./forms";

const STOP_POLL_MS = 1000;
/** After the time budget, pages still loading get this long before their tabs are closed. */
const BUDGET_GRACE_MS = 3000;
const MAX_FORMS_SUBMITTED_PER_PAGE = 3;
const MAX_REFERRERS = 20;
const MAX_LINK_CHECKS = 500;
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
  /** The text of the page's first <h1> (whitespace collapsed, at most 200 characters), or null. */
  heading: string | null;
  loadMs: number;
  links: { url: string; sameOrigin: boolean }[];
  /** Broken links of this page known when it was recorded; CrawlHooks.onBrokenLinks gives the complete list later. */
  brokenLinks: BrokenLinkOfPage[];
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
  /**
   * The complete broken links of a page recorded earlier, called once per page whose list grew
   * after its record (its URL as in the record). Called after the page's onPage, never concurrently with another hook.
   */
  onBrokenLinks(pageUrl: string, brokenLinks: BrokenLinkOfPage[]): Promise<void>;
  /** Polled at most once a second, between pages and while pages load. */
  shouldStop(): Promise<boolean>;
};

export type BrokenLinkOfPage = { url: string; status: number | null; reason: string };
export type BrokenLink = BrokenLinkOfPage & { foundOn: string[] };

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
  private readonly tabSettings: TabSettings;
  private context: BrowserContext | null = null;
  private readonly tabs = new Set<Tab>();
  private browserUserAgent = "";
  private robots: Robots | null = null;

  private readonly seen = new Set<string>();
  private readonly outcomes = new Map<string, Outcome>();
  /** Each same-origin link and every recorded page it was found on (a result's foundOn keeps the first MAX_REFERRERS). */
  private readonly referrers = new Map<string, Set<string>>();
  private readonly reportedPairs = new Set<string>();
  private readonly broken = new Map<string, BrokenLink>();
  /** Each recorded page's broken links (the record's own list), and the pages whose list grew after their record. */
  private readonly brokenOfPage = new Map<string, BrokenLinkOfPage[]>();
  private readonly grownAfterRecord = new Set<string>();
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
    this.tabSettings = {
      origin: this.origin,
      auth: this.auth,
      policy: options.policy,
      maxBytesPerPage: options.maxBytesPerPage,
      device: options.device,
      deadline: this.deadline,
    };
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
    for (const page of this.grownAfterRecord) {
      const links = (this.brokenOfPage.get(page) ?? []).map((l) => ({ ...l, url: this.redact(l.url), reason: this.redact(l.reason) }));
      void this.enqueueHook(() => this.hooks.onBrokenLinks(this.redact(page), links));
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

    if (this.options.respectRobots) this.robots = await fetchRobots(first, this.tabSettings);
    const signIn: LoginContext = { settings: this.tabSettings, startUrl: this.startUrl, emit: (event) => this.emit(event), aborted: () => this.aborted };
    for (const credential of this.options.credentials ?? []) {
      if (credential.type !== "username_password") continue;
      if (!(await login(first, credential, signIn))) {
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
    if (!this.aborted && (this.stopReason === null || this.stopReason === "maxPages")) await this.checkUnvisitedLinks();
  }

  /** Checks the same-origin links of recorded pages that were not visited, in the order found. */
  private async checkUnvisitedLinks() {
    const urls: string[] = [];
    for (const url of this.referrers.keys()) {
      if (urls.length >= MAX_LINK_CHECKS) break;
      if (this.outcomes.has(url) || this.refusalFor(url) || !judgeUrl(this.options.policy, url).allowed) continue;
      urls.push(url);
    }
    if (urls.length === 0 || Date.now() >= this.deadline) return;
    let checks: LinkStatus[];
    try {
      const tab = this.tabs.values().next().value ?? (await this.openTab());
      checks = await checkLinks(tab, urls, this.startUrl, this.tabSettings);
    } catch (error) {
      // The pages are recorded; a link check that cannot finish (stop, budget, a broken tab) leaves its links unjudged.
      if (!this.aborted && isBrowserFault(error) && !this.browser.connected) this.fail(new BrowserFault(`the browser went away while checking links: ${firstLine(error)}`));
      return;
    }
    for (const check of checks) {
      const broken = check.error !== null || (check.status ?? 0) >= 400;
      const reason = check.error !== null ? `unreachable (${check.error.replace(/^net::/, "")})` : broken ? `HTTP ${check.status}` : "";
      this.resolve(check.url, { broken, status: check.status, reason });
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
    this.brokenOfPage.set(record.url, record.brokenLinks);
    for (const link of record.links) {
      if (!link.sameOrigin) continue;
      const pages = this.referrers.get(link.url) ?? new Set<string>();
      pages.add(record.url);
      this.referrers.set(link.url, pages);
      const known = this.outcomes.get(link.url);
      if (known?.broken) this.reportPair(record.url, link.url, known);
    }
    this.recorded++;
    const safe = redact(record, this.auth.secrets);
    // A copy of the list as it is now: later finds reach the caller through onBrokenLinks.
    await this.emitPage({ ...safe, brokenLinks: [...safe.brokenLinks] });
    return { depth: item.depth, follow: visited.follow };
  }

  private resolve(url: string, outcome: Outcome) {
    this.outcomes.set(url, outcome);
    if (!outcome.broken) return;
    for (const referrer of this.referrers.get(url) ?? []) {
      // Referrers are recorded pages: their records have gone out without this link.
      if (this.reportPair(referrer, url, outcome)) this.grownAfterRecord.add(referrer);
    }
  }

  /** Reports a broken link of a page once; false when it was already reported. */
  private reportPair(page: string, link: string, outcome: Outcome): boolean {
    const key = `${page}\n${link}`;
    if (this.reportedPairs.has(key)) return false;
    this.reportedPairs.add(key);
    this.brokenOfPage.get(page)?.push({ url: link, status: outcome.status, reason: outcome.reason });
    const entry = this.broken.get(link) ?? { url: link, status: outcome.status, reason: outcome.reason, foundOn: [] };
    if (entry.foundOn.length < MAX_REFERRERS) entry.foundOn.push(page);
    this.broken.set(link, entry);
    void this.emit({ type: "link_broken", url: link, foundOn: page, status: outcome.status, detail: outcome.reason });
    return true;
  }

  private async recordWithoutVisit(item: Item, error: string) {
    this.recorded++;
    await this.emitPage(emptyRecord(item, error));
  }

  // -------------------------------------------------------------------------------------------
  // One page

  private async visitPage(tab: Tab, item: Item): Promise<{ record: PageRecord; follow: string[] }> {
    const { record, forms: rawForms, leftOrigin } = await loadPage(tab, item, this.tabSettings);
    if (leftOrigin) return { record, follow: [] };
    const { status, finalUrl, links } = record;
    const followable = status !== null && status < 400 && isSameOrigin(finalUrl, this.origin);
    const follow = followable ? links.filter((l) => l.sameOrigin).map((l) => l.url) : [];
    const forms = await this.handleForms(tab, rawForms, finalUrl, followable);
    record.forms = forms.records;
    follow.push(...forms.follow);
    return { record, follow };
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
      const result = await fillAndSubmit(tab, form, pageUrl, submittedHere > 1, this.tabSettings, this.options.testData).catch((e) => ({ error: firstLine(e) }));
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

  // -------------------------------------------------------------------------------------------
  // Tabs

  private async openTab(): Promise<Tab> {
    const context = this.context;
    if (!context) throw new Error("no browser context");
    return openTab(context, this.tabSettings, this.browserUserAgent, (tab) => this.tabs.add(tab));
  }

  /** Drops a broken tab; its worker opens a new one before its next page. */
  private async dropTab(tab: Tab) {
    this.tabs.delete(tab);
    await tab.page.close().catch(() => {});
  }

  // -------------------------------------------------------------------------------------------
  // Limits, stopping, hooks

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

  private redact(text: string): string {
    return redactText(text, this.auth.secrets);
  }

  private emit(event: CrawlEvent): Promise<void> {
    const r = (text: string) => this.redact(text);
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
