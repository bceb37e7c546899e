// Idempotency-Key records. Every write after the claim is conditional on the claim id, so a request
// whose claim was taken over (it was abandoned, or expired) can no longer change the record.
import { and, eq, exists, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { SETTLED_RUN_STATUSES } from "../schemas/runs";
import type { Db } from "./client";
import { idempotencyKeys, runs } from "./schema";

export type IdempotencyRow = typeof idempotencyKeys.$inferSelect;

const byKey = (scope: string, key: string) => and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key));
const byClaim = (scope: string, key: string, claimId: string) => and(byKey(scope, key), eq(idempotencyKeys.claimId, claimId));

/**
 * Claims a key in one statement: inserted if absent, or taken over if the record there expired or
 * is an abandoned claim of the same request (no answer, no run, older than `abandonedBefore`).
 * Returns false when another record holds the key: two concurrent requests cannot both win.
 */
export async function claimIdempotencyKey(
  db: Db,
  claim: Pick<IdempotencyRow, "scope" | "key" | "fingerprint" | "claimId" | "createdAt">,
  cutoffs: { expiredBefore: string; abandonedBefore: string },
) {
  // What a fresh claim holds: a taken-over record starts again from nothing.
  const held = {
    fingerprint: claim.fingerprint,
    claimId: claim.claimId,
    createdAt: claim.createdAt,
    runId: null,
    responseStatus: null,
    responseHeaders: null,
    responseBody: null,
  };
  const claimed = await db
    .insert(idempotencyKeys)
    .values({ scope: claim.scope, key: claim.key, ...held })
    .onConflictDoUpdate({
      target: [idempotencyKeys.scope, idempotencyKeys.key],
      set: held,
      setWhere: or(
        lt(idempotencyKeys.createdAt, cutoffs.expiredBefore),
        and(
          isNull(idempotencyKeys.responseStatus),
          isNull(idempotencyKeys.runId),
          eq(idempotencyKeys.fingerprint, claim.fingerprint),
          lt(idempotencyKeys.createdAt, cutoffs.abandonedBefore),
        ),
      ),
    })
    .returning({ claimId: idempotencyKeys.claimId });
  return claimed.length > 0;
}

export async function findIdempotencyRecord(db: Db, scope: string, key: string) {
  const [row] = await db.select().from(idempotencyKeys).where(byKey(scope, key)).limit(1);
  return row;
}

/** Notes the run the claiming request started, before it waits on it. */
export async function setIdempotencyRun(db: Db, scope: string, key: string, claimId: string, runId: string) {
  await db.update(idempotencyKeys).set({ runId }).where(byClaim(scope, key, claimId));
}

/** Stores the answer once: the first of the claiming request and the retries waiting with it wins. */
export async function storeIdempotencyResponse(
  db: Db,
  scope: string,
  key: string,
  claimId: string,
  response: { status: number; headers: Record<string, string>; sealedBody: string },
) {
  await db
    .update(idempotencyKeys)
    .set({ responseStatus: response.status, responseHeaders: response.headers, responseBody: response.sealedBody })
    .where(and(byClaim(scope, key, claimId), isNull(idempotencyKeys.responseStatus)));
}

/**
 * Drops an unanswered claim so a retry runs again, unless it started a run that has not settled:
 * that run must stay the key's run, or a retry would start a second one beside it.
 */
export async function releaseIdempotencyKey(db: Db, scope: string, key: string, claimId: string) {
  const settledRun = db
    .select({ id: runs.id })
    .from(runs)
    .where(and(eq(runs.id, idempotencyKeys.runId), inArray(runs.status, [...SETTLED_RUN_STATUSES])));
  await db
    .delete(idempotencyKeys)
    .where(
      and(
        byClaim(scope, key, claimId),
        isNull(idempotencyKeys.responseStatus),
        or(isNull(idempotencyKeys.runId), exists(settledRun)),
      ),
    );
}

/** Removes up to `limit` expired records (they are already treated as absent). */
export async function deleteExpiredIdempotencyKeys(db: Db, expiredBefore: string, limit = 100) {
  const expired = db.select({ rowid: sql`rowid` }).from(idempotencyKeys).where(lt(idempotencyKeys.createdAt, expiredBefore)).limit(limit);
  await db.delete(idempotencyKeys).where(inArray(sql`rowid`, expired));
}
