import { and, count, desc, eq, isNotNull, isNull } from "drizzle-orm";
import type { Scope } from "../auth/tenancy";
import type { PageQuery } from "../schemas/common";
import type { Db } from "./client";
import { offsetOf } from "./scope";
import { orgs, tokens } from "./schema";

export type TokenRow = typeof tokens.$inferSelect;

export async function insertToken(db: Db, row: TokenRow) {
  await db.insert(tokens).values(row);
}

/** The one D1 read of authentication: a live token by hash, with its organization's plan. */
export async function findLiveTokenByHash(db: Db, hash: string) {
  const [row] = await db
    .select({ token: tokens, plan: orgs.plan })
    .from(tokens)
    .innerJoin(orgs, eq(orgs.id, tokens.orgId))
    .where(and(eq(tokens.hash, hash), isNull(tokens.revokedAt)))
    .limit(1);
  return row;
}

export async function touchToken(db: Db, id: string, at: string) {
  await db.update(tokens).set({ lastUsedAt: at }).where(eq(tokens.id, id));
}

export async function countLiveCiTokens(db: Db, projectId: string) {
  const [{ total }] = await db
    .select({ total: count() })
    .from(tokens)
    .where(and(eq(tokens.projectId, projectId), eq(tokens.kind, "ci"), isNull(tokens.revokedAt)));
  return total;
}

export async function listCiTokens(db: Db, projectId: string, page: PageQuery) {
  const where = and(eq(tokens.projectId, projectId), eq(tokens.kind, "ci"), isNull(tokens.revokedAt));
  const [items, [{ total }]] = await db.batch([
    db.select().from(tokens).where(where).orderBy(desc(tokens.id)).limit(page.pageSize).offset(offsetOf(page)),
    db.select({ total: count() }).from(tokens).where(where),
  ]);
  return { items, totalCount: total };
}

/** A token of the scope revoked earlier: a repeated revocation still reaches the limiter. */
export async function findRevokedCiTokenHash(db: Db, scope: Scope, id: string) {
  const conditions = [eq(tokens.id, id), eq(tokens.orgId, scope.orgId), eq(tokens.kind, "ci"), isNotNull(tokens.revokedAt)];
  if (scope.projectId) conditions.push(eq(tokens.projectId, scope.projectId));
  const [row] = await db.select({ hash: tokens.hash }).from(tokens).where(and(...conditions)).limit(1);
  return row?.hash;
}

export async function tokenHashesOfProject(db: Db, projectId: string) {
  const rows = await db.select({ hash: tokens.hash }).from(tokens).where(eq(tokens.projectId, projectId));
  return rows.map((r) => r.hash);
}

/** Revokes a CI token inside the scope; a CI token may revoke only tokens of its own project. */
export async function revokeCiToken(db: Db, scope: Scope, id: string, at: string) {
  const conditions = [eq(tokens.id, id), eq(tokens.orgId, scope.orgId), eq(tokens.kind, "ci"), isNull(tokens.revokedAt)];
  if (scope.projectId) conditions.push(eq(tokens.projectId, scope.projectId));
  const revoked = await db.update(tokens).set({ revokedAt: at }).where(and(...conditions)).returning({ id: tokens.id, hash: tokens.hash });
  return revoked[0];
}
