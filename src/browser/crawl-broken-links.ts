// The broken-link ledger of a crawl: what each link answered once judged (visited, or checked
// at the end), the recorded pages each same-origin link was found on, and each (page, broken
// link) pair, reported once whichever of the two is known first. A page is recorded before the
// pages it links, so its record's list grows afterwards; the ledger keeps which ones grew. Also
// the check, in a tab, of the links the crawl does not visit.
import type { BrokenLink, BrokenLinkOfPage, PageRecord } from "./crawl-types";
import { navTimeout } from "./crawl-page";
import { beginVisit, bounded, STEP_TIMEOUT_MS, type Tab, type TabSettings } from "./crawl-tab";
import { fetchStatuses, type LinkStatus } from "./link-status";
import { isSameOrigin, normalizeUrl } from "./url-normalize";

const MAX_REFERRERS = 20;
const MAX_LINK_CHECKS = 500;
const LINK_CHECK_TIMEOUT_MS = 10_000;
/** Chromium's own limit of connections per host over HTTP/1.1. */
const LINK_CHECKS_AT_ONCE = 6;

/** What visiting or checking a link found; `reason` is empty when it answered. */
export type LinkOutcome = { broken: boolean; status: number | null; reason: string };

export class BrokenLinkLedger {
  private readonly outcomes = new Map<string, LinkOutcome>();
  /** Each same-origin link and every recorded page it was found on (a result's foundOn keeps the first MAX_REFERRERS). */
  private readonly referrers = new Map<string, Set<string>>();
  private readonly reportedPairs = new Set<string>();
  private readonly broken = new Map<string, BrokenLink>();
  /** Each recorded page's broken links (the record's own list), and the pages whose list grew after their record. */
  private readonly brokenOfPage = new Map<string, BrokenLinkOfPage[]>();
  private readonly grownAfterRecord = new Set<string>();

  /** `report` hears each (page, broken link) pair once, as soon as it is known. */
  constructor(private readonly report: (page: string, link: string, outcome: LinkOutcome) => void) {}

  /** Whether what a link answers is known. */
  judged(url: string): boolean {
    return this.outcomes.has(url);
  }

  /**
   * Takes a visited page before its record goes out: what its URL answered (and where it ended,
   * when on `origin` and not judged yet), its record's list of broken links to keep up to date,
   * and its same-origin links, those known broken reported at once.
   */
  addPage(record: PageRecord, origin: string) {
    const outcome = outcomeOfPage(record);
    this.resolve(record.url, outcome);
    if (isSameOrigin(record.finalUrl, origin) && !this.outcomes.has(record.finalUrl)) this.resolve(record.finalUrl, outcome);
    this.brokenOfPage.set(record.url, record.brokenLinks);
    for (const link of record.links) {
      if (!link.sameOrigin) continue;
      const pages = this.referrers.get(link.url) ?? new Set<string>();
      pages.add(record.url);
      this.referrers.set(link.url, pages);
      const known = this.outcomes.get(link.url);
      if (known?.broken) this.reportPair(record.url, link.url, known);
    }
  }

  /** The same-origin links of recorded pages not judged yet and not skipped, in the order found, at most MAX_LINK_CHECKS. */
  unjudgedLinks(skip: (url: string) => boolean): string[] {
    const urls: string[] = [];
    for (const url of this.referrers.keys()) {
      if (urls.length >= MAX_LINK_CHECKS) break;
      if (this.outcomes.has(url) || skip(url)) continue;
      urls.push(url);
    }
    return urls;
  }

  addChecks(checks: LinkStatus[]) {
    for (const check of checks) {
      const broken = check.error !== null || (check.status ?? 0) >= 400;
      const reason = check.error !== null ? `unreachable (${check.error.replace(/^net::/, "")})` : broken ? `HTTP ${check.status}` : "";
      this.resolve(check.url, { broken, status: check.status, reason });
    }
  }

  /** The pages whose list of broken links grew after their record, each with its complete list. */
  grownPages(): Array<{ page: string; brokenLinks: BrokenLinkOfPage[] }> {
    return [...this.grownAfterRecord].map((page) => ({ page, brokenLinks: this.brokenOfPage.get(page) ?? [] }));
  }

  /** Every broken link with the pages it was found on. */
  all(): BrokenLink[] {
    return [...this.broken.values()];
  }

  private resolve(url: string, outcome: LinkOutcome) {
    this.outcomes.set(url, outcome);
    if (!outcome.broken) return;
    for (const referrer of this.referrers.get(url) ?? []) {
      // Referrers are recorded pages: their records have gone out without this link.
      if (this.reportPair(referrer, url, outcome)) this.grownAfterRecord.add(referrer);
    }
  }

  /** Reports a broken link of a page once; false when it was already reported. */
  private reportPair(page: string, link: string, outcome: LinkOutcome): boolean {
    const key = `${page}\n${link}`;
    if (this.reportedPairs.has(key)) return false;
    this.reportedPairs.add(key);
    this.brokenOfPage.get(page)?.push({ url: link, status: outcome.status, reason: outcome.reason });
    const entry = this.broken.get(link) ?? { url: link, status: outcome.status, reason: outcome.reason, foundOn: [] };
    if (entry.foundOn.length < MAX_REFERRERS) entry.foundOn.push(page);
    this.broken.set(link, entry);
    this.report(page, link, outcome);
    return true;
  }
}

/** A visited page as a link. Broken: the site answered an error or did not answer. Our refusals (policy, budget) and our own failures are not the link's fault. */
function outcomeOfPage(record: PageRecord): LinkOutcome {
  const unanswered = record.status === null && record.error !== null && /^(unreachable|did not finish loading)/.test(record.error);
  return {
    broken: (record.status ?? 0) >= 400 || unanswered,
    status: record.status,
    reason: record.status !== null && record.status >= 400 ? `HTTP ${record.status}` : (record.error ?? ""),
  };
}

/**
 * Checks links the crawl does not visit, from a page of the site (`fromUrl` when the tab is not
 * on one): HEAD each (GET where HEAD is refused, its body left unread), redirects not followed,
 * LINK_CHECKS_AT_ONCE at a time, each within LINK_CHECK_TIMEOUT_MS, all within the time budget.
 * The requests pass the tab's guard (URL policy, credentials to the origin only).
 */
export async function checkLinks(tab: Tab, urls: string[], fromUrl: string, settings: TabSettings): Promise<LinkStatus[]> {
  const visit = beginVisit(tab, "links");
  try {
    if (!isSameOrigin(tab.page.url(), settings.origin)) await tab.page.goto(fromUrl, { waitUntil: "domcontentloaded", timeout: navTimeout(settings.deadline) });
    const budget = Math.max(STEP_TIMEOUT_MS, settings.deadline - Date.now());
    const checks = await bounded(tab.page.evaluate(fetchStatuses, urls, LINK_CHECK_TIMEOUT_MS, LINK_CHECKS_AT_ONCE), budget, "checking links");
    // The browser's own reason (net::ERR_…) says more than fetch's "Failed to fetch".
    const netError = new Map(visit.failedRequests.map((f) => [normalizeUrl(f.url), f.reason]));
    return checks.map((c) => (c.error === null ? c : { ...c, error: netError.get(c.url) ?? c.error }));
  } finally {
    tab.visit = null;
  }
}
