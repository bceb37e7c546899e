import { and, asc, eq, inArray } from "drizzle-orm";
import type { Scope } from "../auth/tenancy";
import type { Db } from "./client";
import { inScope } from "./scope";
import { cases } from "./schema";

export type CaseRow = typeof cases.$inferSelect;

export async function insertCase(db: Db, row: CaseRow) {
  await db.insert(cases).values(row);
}

export async function findCase(db: Db, scope: Scope, id: string) {
  return db.query.cases.findFirst({ where: and(inScope(cases, scope), eq(cases.id, id)) });
}

export async function listCasesOfSuite(db: Db, suiteId: string) {
  return db.select().from(cases).where(eq(cases.suiteId, suiteId)).orderBy(asc(cases.id));
}

export async function updateCase(db: Db, scope: Scope, id: string, changes: Partial<CaseRow>) {
  const [row] = await db.update(cases).set(changes).where(and(inScope(cases, scope), eq(cases.id, id))).returning();
  return row;
}

export async function deleteCase(db: Db, scope: Scope, id: string) {
  const deleted = await db.delete(cases).where(and(inScope(cases, scope), eq(cases.id, id))).returning({ id: cases.id });
  return deleted.length > 0;
}

/** The ids of a run's selection, in a stable order (suite, then creation). */
export async function selectCaseIds(
  db: Db,
  scope: Scope,
  projectId: string,
  filter: { suiteIds?: string[]; caseIds?: string[] },
) {
  const conditions = [inScope(cases, scope), eq(cases.projectId, projectId)];
  if (filter.suiteIds) conditions.push(inArray(cases.suiteId, filter.suiteIds));
  if (filter.caseIds) conditions.push(inArray(cases.id, filter.caseIds));
  const rows = await db
    .select({ id: cases.id })
    .from(cases)
    .where(and(...conditions))
    .orderBy(asc(cases.suiteId), asc(cases.id));
  return rows.map((r) => r.id);
}

// D1 binds at most 100 parameters per statement.
const ID_CHUNK = 90;

/** Cases by id for the executor (no tenant scope: the run that names them already carries it). */
export async function findCasesByIds(db: Db, ids: string[]) {
  const found: CaseRow[] = [];
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    found.push(...(await db.select().from(cases).where(inArray(cases.id, ids.slice(i, i + ID_CHUNK)))));
  }
  return found;
}

/** Replaces a suite's cases at once (a regenerated suite). */
export async function replaceCasesOfSuite(db: Db, suiteId: string, rows: CaseRow[]) {
  await db.batch([db.delete(cases).where(eq(cases.suiteId, suiteId)), ...rows.map((row) => db.insert(cases).values(row))]);
}

export async function countCasesOfProject(db: Db, projectId: string) {
  return db.$count(cases, eq(cases.projectId, projectId));
}
