// D1 reads behind the operational endpoints (/health, /ready, /metrics): no tenant scope, because
// they return only aggregates and never a row.
import { count, eq, is, min, sql } from "drizzle-orm";
import { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { RunStatus } from "../schemas/runs";
import type { Db } from "./client";
import * as schema from "./schema";
import { crawls, runs } from "./schema";
import type { CrawlStatus } from "../schemas/crawls";

/** One `select 1`: the cheapest round trip that proves D1 answers. */
export async function pingDb(db: Db) {
  await db.run(sql`select 1`);
}

/**
 * Selects every column of every table in schema.ts with `limit 0`, in one batch: it reads no
 * row, yet fails while a migration the code relies on (a table or a column) is not applied.
 */
export async function checkSchema(db: Db) {
  const exported: unknown[] = Object.values(schema);
  const tables = exported.filter((value): value is SQLiteTable => is(value, SQLiteTable));
  const [first, ...rest] = tables.map((table) => db.select().from(table).limit(0));
  if (!first) return;
  await db.batch([first, ...rest]);
}

/**
 * Run and scan counts by status and the creation time of the oldest queued run, in one round
 * trip. They scan their tables (no index leads with status); fine at scrape intervals.
 */
export async function runGauges(db: Db) {
  const [byStatus, [oldest], crawlsByStatusRows] = await db.batch([
    db.select({ status: runs.status, total: count() }).from(runs).groupBy(runs.status),
    db.select({ createdAt: min(runs.createdAt) }).from(runs).where(eq(runs.status, "queued")),
    db.select({ status: crawls.status, total: count() }).from(crawls).groupBy(crawls.status),
  ]);
  const runsByStatus: Partial<Record<RunStatus, number>> = {};
  for (const row of byStatus) runsByStatus[row.status] = row.total;
  const crawlsByStatus: Partial<Record<CrawlStatus, number>> = {};
  for (const row of crawlsByStatusRows) crawlsByStatus[row.status] = row.total;
  return { runsByStatus, crawlsByStatus, oldestQueuedAt: oldest?.createdAt ?? null };
}
