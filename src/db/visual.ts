// Baselines (a versioned pointer per screenshot identity) and visual diffs.
import { and, asc, count, desc, eq, inArray } from "drizzle-orm";
import type { Scope } from "../auth/tenancy";
import type { PageQuery } from "../schemas/common";
import { DIFF_TRANSITIONS, type DiffStatus, type DiffTransition } from "../schemas/visual";
import type { Db } from "./client";
import { inScope, offsetOf } from "./scope";
import { baselines, visualDiffs } from "./schema";

export type BaselineRow = typeof baselines.$inferSelect;
export type VisualDiffRow = typeof visualDiffs.$inferSelect;
export type BaselineIdentity = Pick<BaselineRow, "projectId" | "caseId" | "stepName" | "branch" | "browserProfile" | "device" | "viewport">;

export async function findBaseline(db: Db, identity: BaselineIdentity) {
  return db.query.baselines.findFirst({
    where: and(
      eq(baselines.projectId, identity.projectId),
      eq(baselines.caseId, identity.caseId),
      eq(baselines.stepName, identity.stepName),
      eq(baselines.branch, identity.branch),
      eq(baselines.browserProfile, identity.browserProfile),
      eq(baselines.device, identity.device),
      eq(baselines.viewport, identity.viewport),
    ),
  });
}

/** Inserts version 1 unless another run made it first; answers whichever row now stands. */
export async function insertFirstBaseline(db: Db, row: BaselineRow) {
  await db.insert(baselines).values(row).onConflictDoNothing();
  return findBaseline(db, row);
}

/** Moves the pointer to a new version, only from the version the caller saw (two approvals cannot both win). */
export async function moveBaseline(db: Db, id: string, fromVersion: number, changes: Pick<BaselineRow, "version" | "imageKey" | "width" | "height" | "chromiumVersion" | "source" | "diffId" | "updatedAt">) {
  const [row] = await db.update(baselines).set(changes).where(and(eq(baselines.id, id), eq(baselines.version, fromVersion))).returning();
  return row;
}

export async function baselinesOfBranch(db: Db, projectId: string, branch: string) {
  return db.select().from(baselines).where(and(eq(baselines.projectId, projectId), eq(baselines.branch, branch)));
}

export async function listBaselines(db: Db, projectId: string, query: PageQuery & { branch?: string }) {
  const where = and(eq(baselines.projectId, projectId), query.branch ? eq(baselines.branch, query.branch) : undefined);
  const [items, [{ total }]] = await db.batch([
    db.select().from(baselines).where(where).orderBy(baselines.branch, baselines.caseId, baselines.stepName).limit(query.pageSize).offset(offsetOf(query)),
    db.select({ total: count() }).from(baselines).where(where),
  ]);
  return { items, totalCount: total };
}

export async function findBaselineById(db: Db, id: string) {
  return db.query.baselines.findFirst({ where: eq(baselines.id, id) });
}

export async function insertVisualDiff(db: Db, row: VisualDiffRow) {
  await db.insert(visualDiffs).values(row);
}

export async function findVisualDiff(db: Db, scope: Scope, id: string) {
  return db.query.visualDiffs.findFirst({ where: and(inScope(visualDiffs, scope), eq(visualDiffs.id, id)) });
}

export async function listVisualDiffs(db: Db, runId: string, query: PageQuery & { status?: DiffStatus }) {
  const where = and(eq(visualDiffs.runId, runId), query.status ? eq(visualDiffs.status, query.status) : undefined);
  const [items, [{ total }]] = await db.batch([
    db.select().from(visualDiffs).where(where).orderBy(desc(visualDiffs.id)).limit(query.pageSize).offset(offsetOf(query)),
    db.select({ total: count() }).from(visualDiffs).where(where),
  ]);
  return { items, totalCount: total };
}

/** Applies one review transition of DIFF_TRANSITIONS as a conditional update. */
export async function decideVisualDiff(db: Db, id: string, transition: DiffTransition, at: string) {
  const { from, to } = DIFF_TRANSITIONS[transition];
  const [row] = await db
    .update(visualDiffs)
    .set({ status: to, decidedAt: at })
    .where(and(eq(visualDiffs.id, id), inArray(visualDiffs.status, [...from])))
    .returning();
  return row;
}

/** Every diff of a run, oldest first (for reports). */
export async function visualDiffsOfRun(db: Db, runId: string) {
  return db.select().from(visualDiffs).where(eq(visualDiffs.runId, runId)).orderBy(asc(visualDiffs.id)).limit(200);
}
