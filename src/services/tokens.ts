import type { Db } from "../db/client";
import { findProject } from "../db/projects";
import { countLiveCiTokens, findLiveTokenByHash, findRevokedCiTokenHash, insertToken, listCiTokens, revokeCiToken, touchToken, type TokenRow } from "../db/tokens";
import { canonicalToken, generateToken, sha256Hex, tokenPrefix } from "../auth/tokens";
import type { Caller, Scope, TenantCaller } from "../auth/tenancy";
import { ApiError, notFound } from "../errors";
import { uuidv7 } from "../ids";
import type { PageQuery } from "../schemas/common";
import { PLAN_LIMITS, type Plan } from "../schemas/plans";
import type { Clock } from "./clock";

type Deps = { db: Db; now: Clock };

/** last_used_at is a convenience for people; writing it at most once a minute keeps it off the hot path. */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Resolves a bearer token to its caller, or null. A token that fails its checksum is refused
 * without a D1 read. `touch` receives the write that records the use, for the caller to defer.
 */
export async function authenticateToken(
  deps: Deps,
  bearer: string,
  touch: (work: Promise<unknown>) => void,
): Promise<TenantCaller | null> {
  const token = canonicalToken(bearer);
  if (!token) return null;
  const found = await findLiveTokenByHash(deps.db, await sha256Hex(token));
  if (!found) return null;
  const { token: row, plan } = found;
  const now = deps.now();
  if (!row.lastUsedAt || now.getTime() - Date.parse(row.lastUsedAt) > TOUCH_INTERVAL_MS) {
    touch(touchToken(deps.db, row.id, now.toISOString()));
  }
  return row.kind === "ci" && row.projectId
    ? { kind: "ci", orgId: row.orgId, projectId: row.projectId, tokenId: row.id, plan }
    : { kind: "org", orgId: row.orgId, tokenId: row.id, plan };
}

export async function createCiToken(deps: Deps, caller: TenantCaller & { plan: Plan }, scope: Scope, projectId: string, name: string) {
  const project = await findProject(deps.db, scope, projectId);
  if (!project) throw notFound("Project");
  const limit = PLAN_LIMITS[caller.plan].ciTokensPerProject;
  if (limit !== null && (await countLiveCiTokens(deps.db, projectId)) >= limit) {
    throw new ApiError("plan.ci_token_limit", `The ${caller.plan} plan allows ${limit} CI token(s) per project`, {
      plan: caller.plan,
      limit,
    });
  }
  const token = generateToken();
  const row: TokenRow = {
    id: uuidv7(),
    orgId: project.orgId,
    projectId,
    kind: "ci",
    name,
    prefix: tokenPrefix(token),
    hash: await sha256Hex(token),
    createdAt: deps.now().toISOString(),
    lastUsedAt: null,
    revokedAt: null,
  };
  await insertToken(deps.db, row);
  return { id: row.id, name: row.name, token };
}

export async function listTokens(deps: Deps, scope: Scope, projectId: string, page: PageQuery) {
  if (!(await findProject(deps.db, scope, projectId))) throw notFound("Project");
  const { items, totalCount } = await listCiTokens(deps.db, projectId, page);
  return {
    items: items.map((t) => ({ id: t.id, name: t.name, prefix: t.prefix, createdAt: t.createdAt, lastUsedAt: t.lastUsedAt })),
    totalCount,
    ...page,
  };
}

/** What holds a token's live caller besides D1 (the token's RateLimiter): told of every revocation. */
export type TokenRevoker = { revoke(tokenHash: string): Promise<void> };

/**
 * Revokes in D1 first (the record), then in the token's limiter (which answers the hot path).
 * If the second step fails the caller gets a 503 and a retry completes it: the token never
 * stays usable behind a "revoked" answer.
 */
export async function revokeToken(deps: Deps & { limiter: TokenRevoker }, scope: Scope, id: string) {
  const revoked = await revokeCiToken(deps.db, scope, id, deps.now().toISOString());
  const hash = revoked?.hash ?? (await findRevokedCiTokenHash(deps.db, scope, id));
  if (!hash) throw notFound("Token");
  await propagateRevocations(deps.limiter, [hash]);
}

export async function propagateRevocations(limiter: TokenRevoker, hashes: string[]) {
  try {
    await Promise.all(hashes.map((hash) => limiter.revoke(hash)));
  } catch (error) {
    console.error("revocation not propagated", error);
    throw new ApiError("auth.revocation_pending", "The revocation is recorded but not yet effective everywhere; retry the request", {}, { "Retry-After": "2" });
  }
}

export const isTenant = (caller: Caller): caller is TenantCaller => caller.kind !== "admin";
