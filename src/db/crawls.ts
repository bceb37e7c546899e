import { and, asc, count, desc, eq, gt, inArray, sql } from "drizzle-orm";
import type { Scope } from "../auth/tenancy";
import type { PageQuery } from "../schemas/common";
import { CRAWL_TRANSITIONS, type CrawlOutcome, type CrawlPageDetails, type CrawlStatus, type SettleCrawlTransition } from "../schemas/crawls";
import type { Db } from "./client";
import { inScope, offsetOf } from "./scope";
import { crawlCredentials, crawlEvents, crawlPages, crawls } from "./schema";

export type CrawlRow = typeof crawls.$inferSelect;
export type CrawlPageRow = typeof crawlPages.$inferSelect;
export type CrawlCredentialRow = typeof crawlCredentials.$inferSelect;
export type CrawlEventRow = typeof crawlEvents.$inferSelect;

/** The scan and its sealed credentials, written together. */
export async function insertCrawl(db: Db, row: CrawlRow, credentials: CrawlCredentialRow[]) {
  await db.batch([db.insert(crawls).values(row), ...credentials.map((c) => db.insert(crawlCredentials).values(c))]);
}

export async function findCrawl(db: Db, scope: Scope, id: string) {
  return db.query.crawls.findFirst({ where: and(inScope(crawls, scope), eq(crawls.id, id)) });
}

export async function findCrawlById(db: Db, id: string) {
  return db.query.crawls.findFirst({ where: eq(crawls.id, id) });
}

export async function findCrawlWithPages(db: Db, scope: Scope, id: string) {
  const [found, pages] = await db.batch([
    db.select().from(crawls).where(and(inScope(crawls, scope), eq(crawls.id, id))).limit(1),
    db.select().from(crawlPages).where(eq(crawlPages.crawlId, id)).orderBy(asc(crawlPages.role), asc(crawlPages.depth), asc(crawlPages.id)),
  ]);
  return found[0] ? { crawl: found[0], pages } : undefined;
}

export async function listCrawls(db: Db, scope: Scope, projectId: string, query: PageQuery & { status?: CrawlStatus }) {
  const conditions = [inScope(crawls, scope), eq(crawls.projectId, projectId)];
  if (query.status) conditions.push(eq(crawls.status, query.status));
  const where = and(...conditions);
  const [items, [{ total }]] = await db.batch([
    db.select().from(crawls).where(where).orderBy(desc(crawls.id)).limit(query.pageSize).offset(offsetOf(query)),
    db.select({ total: count() }).from(crawls).where(where),
  ]);
  return { items, totalCount: total };
}

// State machine: queued → running → completed | failed | cancelled, by conditional updates.

// The lifecycle is CRAWL_TRANSITIONS (schemas/crawls.ts), each transition one conditional update.

export async function markCrawlRunning(db: Db, id: string, at: string) {
  const [row] = await db
    .update(crawls)
    .set({ status: "running", startedAt: at })
    .where(and(eq(crawls.id, id), inArray(crawls.status, [...CRAWL_TRANSITIONS.start.from])))
    .returning();
  return row;
}

/** Settles a crawl by one transition, counting its pages; undefined when the transition did not apply. */
export async function settleCrawl<T extends SettleCrawlTransition>(db: Db, id: string, transition: T, outcome: CrawlOutcome<T>, at: string) {
  const pageCount = (failed: boolean) =>
    sql<number>`(select count(*) from ${crawlPages} where ${crawlPages.crawlId} = ${id} and (${crawlPages.error} is not null) = ${failed ? 1 : 0})`;
  const [row] = await db
    .update(crawls)
    .set({ status: outcome.status, errorMessage: outcome.errorMessage ?? null, finishedAt: at, pagesVisited: pageCount(false), pagesFailed: pageCount(true) })
    .where(and(eq(crawls.id, id), inArray(crawls.status, [...CRAWL_TRANSITIONS[transition].from])))
    .returning();
  return row;
}

export async function setBrokenLinkCount(db: Db, id: string, brokenLinks: number) {
  await db.update(crawls).set({ brokenLinks }).where(eq(crawls.id, id));
}

export async function upsertCrawlPage(db: Db, row: CrawlPageRow) {
  await db
    .insert(crawlPages)
    .values(row)
    .onConflictDoUpdate({
      target: [crawlPages.crawlId, crawlPages.role, crawlPages.url],
      set: { finalUrl: row.finalUrl, status: row.status, title: row.title, loadMs: row.loadMs, details: row.details, screenshotKey: row.screenshotKey, error: row.error },
    });
}

/** Replaces a recorded page's broken links (found after the page was recorded), leaving the rest of its details. */
export async function setCrawlPageBrokenLinks(db: Db, key: { crawlId: string; role: string; url: string }, brokenLinks: CrawlPageDetails["brokenLinks"]) {
  await db
    .update(crawlPages)
    .set({ details: sql`json_set(${crawlPages.details}, '$.brokenLinks', json(${JSON.stringify(brokenLinks)}))` })
    .where(and(eq(crawlPages.crawlId, key.crawlId), eq(crawlPages.role, key.role), eq(crawlPages.url, key.url)));
}

export async function listCrawlPages(db: Db, crawlId: string) {
  return db.select().from(crawlPages).where(eq(crawlPages.crawlId, crawlId)).orderBy(asc(crawlPages.depth), asc(crawlPages.id));
}

export async function listCrawlCredentials(db: Db, crawlId: string) {
  return db.select().from(crawlCredentials).where(eq(crawlCredentials.crawlId, crawlId)).orderBy(asc(crawlCredentials.position));
}

export async function deleteCrawlCredentials(db: Db, crawlId: string) {
  await db.delete(crawlCredentials).where(eq(crawlCredentials.crawlId, crawlId));
}

/** Appends an event with the next sequence number of its scan (one writer per scan: its consumer). */
export async function appendCrawlEvent(db: Db, crawlId: string, type: string, data: Record<string, unknown>, at: string) {
  const [row] = await db
    .insert(crawlEvents)
    .values({
      crawlId,
      seq: sql`(select coalesce(max(${crawlEvents.seq}), 0) + 1 from ${crawlEvents} where ${crawlEvents.crawlId} = ${crawlId})`,
      type,
      data,
      createdAt: at,
    })
    .returning();
  return row;
}

export async function listCrawlEvents(db: Db, crawlId: string, page: { limit: number; offset: number }) {
  const [items, [{ total }]] = await db.batch([
    db.select().from(crawlEvents).where(eq(crawlEvents.crawlId, crawlId)).orderBy(asc(crawlEvents.seq)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(crawlEvents).where(eq(crawlEvents.crawlId, crawlId)),
  ]);
  return { items, totalCount: total };
}

export async function crawlEventsAfter(db: Db, crawlId: string, seq: number, limit = 1000) {
  return db.select().from(crawlEvents).where(and(eq(crawlEvents.crawlId, crawlId), gt(crawlEvents.seq, seq))).orderBy(asc(crawlEvents.seq)).limit(limit);
}
