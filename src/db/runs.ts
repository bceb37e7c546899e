import { and, asc, count, desc, eq, inArray, sql } from "drizzle-orm";
import type { Scope } from "../auth/tenancy";
import type { PageQuery } from "../schemas/common";
import type { RunStatus, SettledRunStatus } from "../schemas/runs";
import type { Db } from "./client";
import { inScope, offsetOf } from "./scope";
import { caseResults, runs } from "./schema";

export type RunRow = typeof runs.$inferSelect;
export type CaseResultRow = typeof caseResults.$inferSelect;

export async function insertRun(db: Db, row: RunRow) {
  await db.insert(runs).values(row);
}

export async function findRun(db: Db, scope: Scope, id: string) {
  return db.query.runs.findFirst({ where: and(inScope(runs, scope), eq(runs.id, id)) });
}

/** Unscoped read for the queue consumer, the run page and the tracker, which hold a run id we issued. */
export async function findRunById(db: Db, id: string) {
  return db.query.runs.findFirst({ where: eq(runs.id, id) });
}

export async function listRuns(db: Db, scope: Scope, projectId: string, query: PageQuery & { status?: RunStatus }) {
  const conditions = [inScope(runs, scope), eq(runs.projectId, projectId)];
  if (query.status) conditions.push(eq(runs.status, query.status));
  const where = and(...conditions);
  const [items, [{ total }]] = await db.batch([
    db.select().from(runs).where(where).orderBy(desc(runs.id)).limit(query.pageSize).offset(offsetOf(query)),
    db.select({ total: count() }).from(runs).where(where),
  ]);
  return { items, totalCount: total };
}

// State machine: queued → running → passed | failed | cancelled | error. Each transition is a
// conditional update, so a redelivered queue message or a late watchdog cannot apply twice.

export async function markRunning(db: Db, id: string, at: string) {
  const rows = await db
    .update(runs)
    .set({ status: "running", startedAt: at })
    .where(and(eq(runs.id, id), eq(runs.status, "queued")))
    .returning();
  return rows[0];
}

/** Settles a running run with counts taken from its recorded case results. */
export async function settleRun(
  db: Db,
  id: string,
  outcome: { status: SettledRunStatus; errorMessage?: string | null },
  at: string,
  from: RunStatus[] = ["running"],
) {
  const tally = (status: string) =>
    sql<number>`(select count(*) from ${caseResults} where ${caseResults.runId} = ${id} and ${caseResults.status} = ${status})`;
  const rows = await db
    .update(runs)
    .set({
      status: outcome.status,
      errorMessage: outcome.errorMessage ?? null,
      finishedAt: at,
      passed: tally("passed"),
      failed: tally("failed"),
      skipped: tally("skipped"),
    })
    .where(and(eq(runs.id, id), inArray(runs.status, from)))
    .returning();
  return rows[0];
}

export async function updateQueuedRunCases(db: Db, id: string, caseIds: string[]) {
  await db.update(runs).set({ caseIds }).where(and(eq(runs.id, id), eq(runs.status, "queued")));
}

export async function upsertCaseResult(db: Db, row: CaseResultRow) {
  await db
    .insert(caseResults)
    .values(row)
    .onConflictDoUpdate({
      target: [caseResults.runId, caseResults.caseId],
      set: {
        status: row.status,
        attempts: row.attempts,
        durationMs: row.durationMs,
        failedStep: row.failedStep,
        failedAction: row.failedAction,
        reason: row.reason,
        screenshotKey: row.screenshotKey,
      },
    });
}

/** A run in scope and its case results in one round trip (the hot path of a CI poll). */
export async function findRunWithResults(db: Db, scope: Scope, id: string) {
  const [found, results] = await db.batch([
    db.select().from(runs).where(and(inScope(runs, scope), eq(runs.id, id))).limit(1),
    db.select().from(caseResults).where(eq(caseResults.runId, id)).orderBy(asc(caseResults.position)),
  ]);
  return found[0] ? { run: found[0], results } : undefined;
}

export async function listCaseResults(db: Db, runId: string) {
  return db.select().from(caseResults).where(eq(caseResults.runId, runId)).orderBy(asc(caseResults.position));
}
