// The crawler of scans: breadth-first over one origin, in one fresh browser context, with
// `concurrency` tabs. It reports through hooks (each page, each event) and polls shouldStop, so
// a caller can store, stream and cancel without this module knowing about D1 or queues.
// The traversal is here; the options, records and events are in crawl-types.ts, calling the
// hooks in crawl-hooks.ts, the broken-link ledger and the check of unvisited links in
// crawl-broken-links.ts, which forms are submitted in crawl-forms.ts, a tab, its request guard
// and byte budget in crawl-tab.ts, loading and reading a page in crawl-page.ts, signing in in
// crawl-login.ts, the credentials and their redaction in crawl-credentials.ts.
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
import { BrokenLinkLedger, checkLinks } from "./crawl-broken-links";
import { authFrom, redact, type Auth } from "./crawl-credentials";
import { FormVisits } from "./crawl-forms";
import { CrawlReporter } from "./crawl-hooks";
import { login, type LoginContext } from "./crawl-login";
import { emptyRecord, fetchRobots, loadPage } from "./crawl-page";
import { bounded, firstLine, openTab, STEP_TIMEOUT_MS, unique, type Tab, type TabSettings } from "./crawl-tab";
import {
  CrawlOptionsError,
  CrawlOptionsSchema,
  type CrawlHooks,
  type CrawlOptions,
  type CrawlResult,
  type PageRecord,
  type ValidCrawlOptions,
} from "./crawl-types";
import { CRAWLER_TOKEN } from "./devices";
import type { LinkStatus } from "./link-status";
import { robotsAllow, robotsRefusal, type Robots } from "./robots";
import { BrowserFault, isBrowserFault } from "./session";
import { isSameOrigin, normalizeUrl, pathAndQuery } from "./url-normalize";
import { judgeUrl } from "./url-policy";

// What other code imports from the crawler: its options, records and events live in crawl-types.ts.
export {
  CrawlCredentialSchema,
  CrawlOptionsError,
  CrawlOptionsSchema,
  type BrokenLink,
  type BrokenLinkOfPage,
  type CrawlCredential,
  type CrawlEvent,
  type CrawlHooks,
  type CrawlOptions,
  type CrawlResult,
  type PageRecord,
} from "./crawl-types";
export type { FormRecord } from "./forms";

const STOP_POLL_MS = 1000;
/** After the time budget, pages still loading get this long before their tabs are closed. */
const BUDGET_GRACE_MS = 3000;
const SIGN_OUT = /(^|[/_.-])(log|sign)[-_]?(out|off)([/_.?-]|$)/i;

type Item = { url: string; depth: number };

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
  private readonly ledger: BrokenLinkLedger;
  private readonly forms: FormVisits;
  private recorded = 0;
  private startedPages = 0;

  private stopReason: CrawlResult["stoppedBy"] | null = null;
  /** Set when in-flight work must be dropped (stop, budget overrun, hook or browser failure). */
  private aborted = false;
  private fatal: unknown = null;
  private lastStopPoll = 0;
  private readonly report: CrawlReporter;

  constructor(
    private readonly browser: Browser,
    private readonly options: ValidCrawlOptions,
    private readonly hooks: CrawlHooks,
  ) {
    this.deadline = this.started + options.timeBudgetMs;
    this.startUrl = normalizeUrl(options.startUrl) ?? options.startUrl;
    this.origin = new URL(this.startUrl).origin;
    this.auth = authFrom(options.credentials ?? []);
    this.report = new CrawlReporter(hooks, this.auth.secrets, { failed: () => Boolean(this.fatal), fail: (error) => this.fail(error) });
    this.tabSettings = {
      origin: this.origin,
      auth: this.auth,
      policy: options.policy,
      maxBytesPerPage: options.maxBytesPerPage,
      device: options.device,
      deadline: this.deadline,
    };
    this.ledger = new BrokenLinkLedger((page, link, outcome) => {
      void this.report.event({ type: "link_broken", url: link, foundOn: page, status: outcome.status, detail: outcome.reason });
    });
    this.forms = new FormVisits(this.tabSettings, options, () => this.aborted);
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
    for (const { page, brokenLinks } of this.ledger.grownPages()) void this.report.brokenLinks(page, brokenLinks);
    await this.report.settled();
    if (this.fatal) throw this.fatal;
    return {
      pagesVisited: this.recorded,
      stoppedBy: this.stopReason ?? "done",
      brokenLinks: this.ledger.all(),
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
    const signIn: LoginContext = { settings: this.tabSettings, startUrl: this.startUrl, emit: (event) => this.report.event(event), aborted: () => this.aborted };
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
              await this.report.event({ type: "page_skipped", url, detail: refused });
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
    const urls = this.ledger.unjudgedLinks((url) => this.refusalFor(url) !== null || !judgeUrl(this.options.policy, url).allowed);
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
    this.ledger.addChecks(checks);
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
    // Where a redirect ended on the origin counts as visited: its links are this page's.
    if (isSameOrigin(record.finalUrl, this.origin)) this.seen.add(record.finalUrl);
    this.ledger.addPage(record, this.origin);
    this.recorded++;
    const safe = redact(record, this.auth.secrets);
    // A copy of the list as it is now: later finds reach the caller through onBrokenLinks.
    await this.report.page({ ...safe, brokenLinks: [...safe.brokenLinks] });
    return { depth: item.depth, follow: visited.follow };
  }

  private async recordWithoutVisit(item: Item, error: string) {
    this.recorded++;
    await this.report.page(emptyRecord(item, error));
  }

  // -------------------------------------------------------------------------------------------
  // One page

  private async visitPage(tab: Tab, item: Item): Promise<{ record: PageRecord; follow: string[] }> {
    const { record, forms: rawForms, leftOrigin } = await loadPage(tab, item, this.tabSettings);
    if (leftOrigin) return { record, follow: [] };
    const { status, finalUrl, links } = record;
    const followable = status !== null && status < 400 && isSameOrigin(finalUrl, this.origin);
    const follow = followable ? links.filter((l) => l.sameOrigin).map((l) => l.url) : [];
    const forms = await this.forms.visit(tab, rawForms, finalUrl, followable);
    record.forms = forms.records;
    follow.push(...forms.follow);
    return { record, follow };
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
  // Limits, stopping

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
}
