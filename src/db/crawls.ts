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

/**
 * Records a page only while its crawl is running, in one statement: a page that finishes after a
 * cancel is refused by the write itself, with no read before it. Answers whether it was recorded.
 */
export async function upsertCrawlPageWhileRunning(db: Db, row: CrawlPageRow): Promise<boolean> {
  const result = await db.run(sql`
    insert into ${crawlPages} (id, crawl_id, role, url, final_url, depth, status, title, load_ms, details, screenshot_key, error, created_at)
    select ${row.id}, ${row.crawlId}, ${row.role}, ${row.url}, ${row.finalUrl}, ${row.depth}, ${row.status}, ${row.title}, ${row.loadMs},
           ${JSON.stringify(row.details)}, ${row.screenshotKey}, ${row.error}, ${row.createdAt}
    where exists (select 1 from ${crawls} where ${crawls.id} = ${row.crawlId} and ${crawls.status} = 'running')
    on conflict (crawl_id, role, url) do update set
      final_url = excluded.final_url, status = excluded.status, title = excluded.title, load_ms = excluded.load_ms,
      details = excluded.details, screenshot_key = excluded.screenshot_key, error = excluded.error`);
  return (result.meta.changes ?? 0) > 0;
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

/** Appends an event only while its crawl is running (the executor's events; the lifecycle's own are unconditional). */
export async function appendCrawlEventWhileRunning(db: Db, crawlId: string, type: string, data: Record<string, unknown>, at: string) {
  const { results } = await db.run(sql`
    insert into ${crawlEvents} (crawl_id, seq, type, data, created_at)
    select ${crawlId}, (select coalesce(max(seq), 0) + 1 from ${crawlEvents} where crawl_id = ${crawlId}), ${type}, ${JSON.stringify(data)}, ${at}
    where exists (select 1 from ${crawls} where ${crawls.id} = ${crawlId} and ${crawls.status} = 'running')
    returning seq, type, data, created_at`);
  const row = (results as { seq: number; type: string; data: string; created_at: string }[])[0];
  return row ? { seq: row.seq, type: row.type, data: JSON.parse(row.data) as Record<string, unknown>, createdAt: row.created_at } : undefined;
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
