import { and, asc, count, desc, eq, inArray, sql } from "drizzle-orm";
import type { Scope } from "../auth/tenancy";
import type { PageQuery } from "../schemas/common";
import { RUN_TRANSITIONS, type RunOutcome, type RunStatus, type SettleRunTransition } from "../schemas/runs";
import type { Db } from "./client";
import { inScope, offsetOf } from "./scope";
import { caseResults, runNotifications, runs } from "./schema";

export type RunRow = typeof runs.$inferSelect;
export type CaseResultRow = typeof caseResults.$inferSelect;

export async function insertRun(db: Db, row: typeof runs.$inferInsert) {
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

// The lifecycle is RUN_TRANSITIONS (schemas/runs.ts): each transition below is one conditional
// update from the statuses its row allows, so a redelivered message or a late watchdog is a no-op.

export async function markRunning(db: Db, id: string, at: string) {
  const rows = await db
    .update(runs)
    .set({ status: "running", startedAt: at })
    .where(and(eq(runs.id, id), inArray(runs.status, [...RUN_TRANSITIONS.start.from])))
    .returning();
  return rows[0];
}

/** Settles a run by one transition, with counts taken from its recorded case results; undefined when it did not apply. */
export async function settleRun<T extends SettleRunTransition>(db: Db, id: string, transition: T, outcome: RunOutcome<T>, at: string) {
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
    .where(and(eq(runs.id, id), inArray(runs.status, [...RUN_TRANSITIONS[transition].from])))
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

/** A run in scope with its case results and reports, in one round trip (the hot path of a CI poll). */
export async function findRunWithResults(db: Db, scope: Scope, id: string) {
  const [found, results, notifications] = await db.batch([
    db.select().from(runs).where(and(inScope(runs, scope), eq(runs.id, id))).limit(1),
    caseResultsQuery(db, id),
    notificationsQuery(db, id),
  ]);
  return found[0] ? { run: found[0], results, notifications } : undefined;
}

/** A run's case results and reports, for a run already read. */
export async function loadRunOutcome(db: Db, runId: string) {
  const [results, notifications] = await db.batch([caseResultsQuery(db, runId), notificationsQuery(db, runId)]);
  return { results, notifications };
}
export type RunOutcomeRows = Awaited<ReturnType<typeof loadRunOutcome>>;

export async function listCaseResults(db: Db, runId: string) {
  return caseResultsQuery(db, runId);
}

const caseResultsQuery = (db: Db, runId: string) => db.select().from(caseResults).where(eq(caseResults.runId, runId)).orderBy(asc(caseResults.position));
const notificationsQuery = (db: Db, runId: string) =>
  db.select().from(runNotifications).where(eq(runNotifications.runId, runId)).orderBy(asc(runNotifications.target), asc(runNotifications.kind));
