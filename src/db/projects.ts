import { and, count, desc, eq } from "drizzle-orm";
import type { Scope } from "../auth/tenancy";
import type { PageQuery } from "../schemas/common";
import type { Db } from "./client";
import { offsetOf } from "./scope";
import { projects } from "./schema";

export type ProjectRow = typeof projects.$inferSelect;

const projectScope = (scope: Scope) =>
  scope.projectId
    ? and(eq(projects.orgId, scope.orgId), eq(projects.id, scope.projectId))
    : eq(projects.orgId, scope.orgId);

export async function insertProject(db: Db, row: ProjectRow) {
  await db.insert(projects).values(row);
}

export async function findProject(db: Db, scope: Scope, id: string) {
  return db.query.projects.findFirst({ where: and(projectScope(scope), eq(projects.id, id)) });
}

export async function listProjects(db: Db, scope: Scope, page: PageQuery) {
  const where = projectScope(scope);
  const [items, [{ total }]] = await db.batch([
    db.select().from(projects).where(where).orderBy(desc(projects.id)).limit(page.pageSize).offset(offsetOf(page)),
    db.select({ total: count() }).from(projects).where(where),
  ]);
  return { items, totalCount: total };
}

export async function updateProject(db: Db, scope: Scope, id: string, changes: Partial<ProjectRow>) {
  const [row] = await db.update(projects).set(changes).where(and(projectScope(scope), eq(projects.id, id))).returning();
  return row;
}

export async function deleteProject(db: Db, scope: Scope, id: string) {
  const deleted = await db.delete(projects).where(and(projectScope(scope), eq(projects.id, id))).returning({ id: projects.id });
  return deleted.length > 0;
}
