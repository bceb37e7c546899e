// A run's events in order; `seq` is the Server-Sent Event id.
import { and, asc, count, eq, gt, sql } from "drizzle-orm";
import type { Db } from "./client";
import { runEvents } from "./schema";

export type RunEventRow = typeof runEvents.$inferSelect;

export async function appendRunEvent(db: Db, runId: string, type: string, data: Record<string, unknown>, at: string) {
  const [row] = await db
    .insert(runEvents)
    .values({
      runId,
      seq: sql`(select coalesce(max(${runEvents.seq}), 0) + 1 from ${runEvents} where ${runEvents.runId} = ${runId})`,
      type,
      data,
      createdAt: at,
    })
    .returning();
  return row;
}

export async function listRunEvents(db: Db, runId: string, page: { limit: number; offset: number }) {
  const [items, [{ total }]] = await db.batch([
    db.select().from(runEvents).where(eq(runEvents.runId, runId)).orderBy(asc(runEvents.seq)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(runEvents).where(eq(runEvents.runId, runId)),
  ]);
  return { items, totalCount: total };
}

export async function runEventsAfter(db: Db, runId: string, seq: number, limit = 1000) {
  return db.select().from(runEvents).where(and(eq(runEvents.runId, runId), gt(runEvents.seq, seq))).orderBy(asc(runEvents.seq)).limit(limit);
}

/** Deletes up to `limit` events recorded before `before`; answers how many went. */
export async function deleteRunEventsBefore(db: Db, before: string, limit: number) {
  const result = await db.run(sql`delete from ${runEvents} where rowid in (select rowid from ${runEvents} where ${runEvents.createdAt} < ${before} limit ${limit})`);
  return result.meta.changes ?? 0;
}
