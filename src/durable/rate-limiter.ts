// One RateLimiter per token (and one per client IP for unauthenticated requests). For a token it
// is also the hot path's authentication: it holds the token's caller (read from D1 once, kept
// exact on revocation), so an authenticated request costs one call here and no D1 read for auth.
// Admission is GCRA (the generic cell rate algorithm): a sustained rate of `perMinute`, of which
// up to `burst` may arrive back to back. Decisions run inside the object one at a time, so
// concurrent requests can never be admitted beyond the plan.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import type { TenantCaller } from "../auth/tenancy";
import { createDb } from "../db/client";
import { findLiveTokenByHash, touchToken } from "../db/tokens";
import { PLAN_LIMITS } from "../schemas/plans";

export type Admission = {
  allowed: boolean;
  /** Requests per minute; null when the plan is unlimited. */
  limit: number | null;
  /** Requests that may be sent right now, back to back. */
  remaining: number;
  /** Seconds until the full burst is available again. */
  resetSeconds: number;
  /** Whole seconds to wait before the next request is admitted (0 when admitted). */
  retryAfterSeconds: number;
};

export type TokenDecision = { kind: "unknown" } | { kind: "known"; caller: TenantCaller; admission: Admission };

/** Unauthenticated requests (no token, a bad token) share a tighter budget per client IP. */
export const IP_LIMIT = { perMinute: 30, burst: 10 };

const TOUCH_INTERVAL_MS = 60_000;
const UNLIMITED: Admission = { allowed: true, limit: null, remaining: 0, resetSeconds: 0, retryAfterSeconds: 0 };

export class RateLimiter extends DurableObject<Env> {
  /** undefined: not loaded; null: no such live token. */
  private caller: TenantCaller | null | undefined;
  /** GCRA's theoretical arrival time (ms): kept in memory, recorded in storage. */
  private tat: number | undefined;
  private lastTouch = 0;
  /** The clock of every decision; tests drive it through runInDurableObject. */
  now: () => number = () => Date.now();

  async authorize(tokenHash: string): Promise<TokenDecision> {
    if (this.caller === undefined) this.caller = await this.loadCaller(tokenHash);
    if (this.caller === null) return { kind: "unknown" };
    const limits = PLAN_LIMITS[this.caller.plan];
    const admission =
      limits.requestsPerMinute === null || limits.burst === null ? UNLIMITED : await this.admit(limits.requestsPerMinute, limits.burst);
    if (admission.allowed) this.touch(this.caller.tokenId);
    return { kind: "known", caller: this.caller, admission };
  }

  /** The token was revoked (or deleted with its project): refuse it from now on. */
  async revoke(): Promise<void> {
    this.caller = null;
    await this.ctx.storage.put("revoked", true);
  }

  async admit(perMinute: number, burst: number): Promise<Admission> {
    const now = this.now();
    this.tat ??= (await this.ctx.storage.get<number>("tat")) ?? 0;
    const interval = 60_000 / perMinute;
    const tolerance = interval * (burst - 1);
    const tat = Math.max(this.tat, now);
    const earliest = tat - tolerance;
    if (now < earliest) {
      return {
        allowed: false,
        limit: perMinute,
        remaining: 0,
        resetSeconds: Math.ceil((tat - now) / 1000),
        retryAfterSeconds: Math.max(1, Math.ceil((earliest - now) / 1000)),
      };
    }
    this.tat = tat + interval;
    // Not awaited: the output gate holds the answer until the write is durable.
    void this.ctx.storage.put("tat", this.tat);
    return {
      allowed: true,
      limit: perMinute,
      remaining: Math.floor((tolerance - (this.tat - now - interval)) / interval),
      resetSeconds: Math.ceil((this.tat - now) / 1000),
      retryAfterSeconds: 0,
    };
  }

  private async loadCaller(tokenHash: string): Promise<TenantCaller | null> {
    if (await this.ctx.storage.get<boolean>("revoked")) return null;
    const found = await findLiveTokenByHash(createDb(this.env.DB), tokenHash);
    if (!found) return null;
    const { token, plan } = found;
    this.lastTouch = token.lastUsedAt ? Date.parse(token.lastUsedAt) : 0;
    return token.kind === "ci" && token.projectId
      ? { kind: "ci", orgId: token.orgId, projectId: token.projectId, tokenId: token.id, plan }
      : { kind: "org", orgId: token.orgId, tokenId: token.id, plan };
  }

  /** last_used_at is for people: written at most once a minute, off the request's path. */
  private touch(tokenId: string) {
    const now = this.now();
    if (now - this.lastTouch < TOUCH_INTERVAL_MS) return;
    this.lastTouch = now;
    this.ctx.waitUntil(touchToken(createDb(this.env.DB), tokenId, new Date(now).toISOString()).catch(() => {}));
  }
}

/** How the Worker reaches the limiters. */
export function rateLimiterClient(namespace: DurableObjectNamespace<RateLimiter>) {
  const of = (name: string) => namespace.get(namespace.idFromName(name));
  return {
    // RPC stubs type a union result as a union of promises; this is the method's own type.
    authorize: (tokenHash: string) => of(`token:${tokenHash}`).authorize(tokenHash) as unknown as Promise<TokenDecision>,
    revoke: (tokenHash: string) => of(`token:${tokenHash}`).revoke(),
    admitIp: (ip: string) => of(`ip:${ip}`).admit(IP_LIMIT.perMinute, IP_LIMIT.burst),
  };
}
export type RateLimiterClient = ReturnType<typeof rateLimiterClient>;
