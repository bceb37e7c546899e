// A crawl's transitions as services apply them: each one the conditional update of its row in
// CRAWL_TRANSITIONS (schemas/crawls.ts). However a crawl settles, its credentials are deleted, a
// last event is recorded for its streams, and it is announced to the listeners.
import { appendCrawlEvent, appendCrawlEventWhileRunning, deleteCrawlCredentials, findCrawlById, markCrawlRunning, settleCrawl, type CrawlRow } from "../db/crawls";
import { isCrawlSettled, type CrawlOutcome, type SettledCrawlStatus, type SettleCrawlTransition } from "../schemas/crawls";
import type { ServiceDeps } from "./deps";

export type CrawlLifecycleDeps = Pick<ServiceDeps, "db" | "now" | "tracker" | "onSettled">;

export const startCrawling = (deps: Pick<ServiceDeps, "db" | "now">, crawlId: string) => markCrawlRunning(deps.db, crawlId, deps.now().toISOString());

/** Applies one settling transition; undefined when the crawl was not in a status it leaves from. */
export async function settleCrawlBy<T extends SettleCrawlTransition>(deps: CrawlLifecycleDeps, crawlId: string, transition: T, outcome: CrawlOutcome<T>) {
  const settled = await settleCrawl(deps.db, crawlId, transition, outcome, deps.now().toISOString());
  if (!settled) {
    // Settled by someone else already; its credentials go all the same.
    await deleteCrawlCredentials(deps.db, crawlId);
    return settled;
  }
  await recordCrawlEvent(deps, crawlId, "status_changed", { status: settled.status, ...(settled.errorMessage ? { error: settled.errorMessage } : {}) });
  await announceCrawl(deps, settled); // deletes the credentials
  return settled;
}

/** Announces a settled crawl (again, when a redelivery finds it settled). */
export async function announceCrawl(deps: Pick<ServiceDeps, "db" | "onSettled">, crawl: CrawlRow) {
  if (!isCrawlSettled(crawl.status)) return;
  await deleteCrawlCredentials(deps.db, crawl.id); // nothing of a crawl's secrets outlives it
  await deps.onSettled({ kind: "crawl", crawl: crawl as CrawlRow & { status: SettledCrawlStatus } });
}

/** Ends a crawl as `failed` whatever it was doing (the watchdog, the consumer's last retry); a settled one is announced again. */
export async function failCrawl(deps: CrawlLifecycleDeps, crawlId: string, message: string) {
  const settled = await settleCrawlBy(deps, crawlId, "fail", { status: "failed", errorMessage: message });
  if (!settled) {
    const crawl = await findCrawlById(deps.db, crawlId);
    if (crawl) await announceCrawl(deps, crawl);
  }
  return settled;
}

/**
 * Records a crawl event in D1 and pushes it to live subscribers (best effort: D1 is the record).
 * `whileRunning`: only if the crawl is still running (the executor's events after a cancel are dropped).
 */
export async function recordCrawlEvent(
  deps: Pick<ServiceDeps, "db" | "now" | "tracker">,
  crawlId: string,
  type: string,
  data: Record<string, unknown>,
  options: { whileRunning?: boolean } = {},
) {
  const append = options.whileRunning ? appendCrawlEventWhileRunning : appendCrawlEvent;
  const row = await append(deps.db, crawlId, type, data, deps.now().toISOString());
  if (row) await deps.tracker.publish(crawlId, { seq: row.seq, type: row.type, data: row.data, createdAt: row.createdAt }).catch(() => {});
}
