import { and, eq, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Scope } from "../auth/tenancy";

/** The tenancy filter every query module applies: same organization, and same project for CI tokens. */
export function inScope(columns: { orgId: SQLiteColumn; projectId: SQLiteColumn }, scope: Scope): SQL {
  const conditions = [eq(columns.orgId, scope.orgId)];
  if (scope.projectId) conditions.push(eq(columns.projectId, scope.projectId));
  return and(...conditions) as SQL;
}

export const offsetOf = (page: { page: number; pageSize: number }) => (page.page - 1) * page.pageSize;
