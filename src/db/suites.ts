import { and, asc, count, desc, eq, inArray } from "drizzle-orm";
import type { Scope } from "../auth/tenancy";
import type { PageQuery } from "../schemas/common";
import type { Db } from "./client";
import { inScope, offsetOf } from "./scope";
import { cases, suites } from "./schema";

export type SuiteRow = typeof suites.$inferSelect;

const caseCount = (db: Db) => db.$count(cases, eq(cases.suiteId, suites.id));

export async function insertSuite(db: Db, row: SuiteRow) {
  await db.insert(suites).values(row);
}

export async function findSuite(db: Db, scope: Scope, id: string) {
  const [row] = await db
    .select({ suite: suites, caseCount: caseCount(db) })
    .from(suites)
    .where(and(inScope(suites, scope), eq(suites.id, id)));
  return row;
}

export async function listSuites(db: Db, scope: Scope, projectId: string, page: PageQuery) {
  const where = and(inScope(suites, scope), eq(suites.projectId, projectId));
  const [items, [{ total }]] = await db.batch([
    db.select({ suite: suites, caseCount: caseCount(db) }).from(suites).where(where).orderBy(desc(suites.id)).limit(page.pageSize).offset(offsetOf(page)),
    db.select({ total: count() }).from(suites).where(where),
  ]);
  return { items, totalCount: total };
}

export async function updateSuite(db: Db, scope: Scope, id: string, changes: Partial<SuiteRow>) {
  const [row] = await db.update(suites).set(changes).where(and(inScope(suites, scope), eq(suites.id, id))).returning();
  return row;
}

export async function deleteSuite(db: Db, scope: Scope, id: string) {
  const deleted = await db.delete(suites).where(and(inScope(suites, scope), eq(suites.id, id))).returning({ id: suites.id });
  return deleted.length > 0;
}

/** Ids of the given suites that exist in scope and project. */
export async function existingSuiteIds(db: Db, scope: Scope, projectId: string, ids: string[]) {
  const rows = await db
    .select({ id: suites.id })
    .from(suites)
    .where(and(inScope(suites, scope), eq(suites.projectId, projectId), inArray(suites.id, ids)))
    .orderBy(asc(suites.id));
  return rows.map((r) => r.id);
}

export async function suiteIdsOfProject(db: Db, projectId: string) {
  return (await db.select({ id: suites.id }).from(suites).where(eq(suites.projectId, projectId))).map((r) => r.id);
}

/** The suite a project's crawls generate, if any. */
export async function findGeneratedSuite(db: Db, projectId: string) {
  return db.query.suites.findFirst({ where: and(eq(suites.projectId, projectId), eq(suites.source, "crawl")) });
}
