// Authentication and rate limiting, decided together by one call to the token's RateLimiter
// Durable Object (which holds the token's caller). Missing or bad credentials answer 401 with
// WWW-Authenticate, after the client IP's tighter budget is charged, so guessing is slow.
// If the limiter cannot be reached, reads go on (authenticated from D1) and routes declared with
// `startsBrowserWork` answer 503: nothing that costs a browser is admitted unmetered.
// What each credential may do is declared on each route with `allow(...)`.
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { bearerOf, canonicalToken, secretsEqual, sha256Hex } from "../auth/tokens";
import { authenticateToken } from "../services/tokens";
import { systemClock } from "../services/clock";
import { recordRateLimitRefusal } from "../services/metrics";
import { rateLimiterClient, type Admission } from "../durable/rate-limiter";
import { withTimeout } from "../timeouts";

/** The limiter answers in milliseconds; past this it counts as unreachable. */
const LIMITER_TIMEOUT_MS = 2000;

const unauthorized = (message: string) =>
  new ApiError("auth.invalid_token", message, {}, { "WWW-Authenticate": 'Bearer realm="aegis"' });

export function rateLimitHeaders(admission: Admission): Record<string, string> {
  if (admission.limit === null) return {};
  return {
    "X-RateLimit-Limit": String(admission.limit),
    "X-RateLimit-Remaining": String(admission.remaining),
    "X-RateLimit-Reset": String(admission.resetSeconds),
  };
}

function refused(admission: Admission, message: string) {
  recordRateLimitRefusal();
  return new ApiError("rate_limit.exceeded",
    message,
    { limit: admission.limit, retryAfterSeconds: admission.retryAfterSeconds },
    { ...rateLimitHeaders(admission), "Retry-After": String(admission.retryAfterSeconds) },
  );
}

const askLimiter = <T>(promise: Promise<T>): Promise<T> =>
  withTimeout(promise, LIMITER_TIMEOUT_MS, () => new Error(`rate limiter did not answer in ${LIMITER_TIMEOUT_MS} ms`));

/** Charges the client IP's budget for a request that brought no valid credentials. */
async function chargeClientIp(c: Context<AppEnv>) {
  const ip = c.req.header("cf-connecting-ip") ?? "unknown";
  const admission = await askLimiter(rateLimiterClient(c.env.RATE_LIMITER).admitIp(ip)).catch(() => null);
  if (admission && !admission.allowed) throw refused(admission, "Too many unauthenticated requests from this address");
}

export const requireAdmin = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const bearer = bearerOf(c.req.header("authorization"));
    const expected = c.env.ADMIN_TOKEN;
    if (!bearer || !expected || !(await secretsEqual(bearer, expected))) {
      await chargeClientIp(c);
      throw unauthorized(bearer ? "Invalid admin token" : "Missing bearer token");
    }
    c.set("caller", { kind: "admin" });
    return next();
  });

export const requireToken = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const bearer = bearerOf(c.req.header("authorization"));
    const token = bearer ? canonicalToken(bearer) : null;
    if (!token) {
      await chargeClientIp(c);
      throw unauthorized(bearer ? "Invalid token" : "Missing bearer token");
    }
    const hash = await sha256Hex(token);
    const asked = Date.now();
    const decision = await askLimiter(rateLimiterClient(c.env.RATE_LIMITER).authorize(hash)).catch((error) => {
      console.error("rate limiter unreachable", c.get("requestId"), error);
      return null;
    });

    if (decision === null) {
      c.set("unmetered", true);
      const caller = await authenticateToken({ db: c.get("db"), now: systemClock }, token, (work) => c.executionCtx.waitUntil(work));
      if (!caller) throw unauthorized("Invalid token");
      c.set("caller", caller);
      return next();
    }

    // The limiter's share of the request, for callers and `npm run bench`.
    const limiterMs = Date.now() - asked;
    if (decision.kind === "unknown") {
      await chargeClientIp(c);
      throw unauthorized("Invalid token");
    }
    if (!decision.admission.allowed) throw refused(decision.admission, `Rate limit of ${decision.admission.limit} requests per minute exceeded`);
    c.set("caller", decision.caller);
    await next();
    for (const [name, value] of Object.entries(rateLimitHeaders(decision.admission))) c.header(name, value);
    c.header("Server-Timing", `rl;dur=${limiterMs};desc="rate limiter"`, { append: true });
  });

export type Credential = "org" | "ci";

const CREDENTIAL_REFUSALS = {
  org: new ApiError("auth.org_key_required", "Only the organization key may do this (token management and project settings)"),
  ci: new ApiError("auth.ci_token_required", "The trigger runs the CI token's project: call it with a project CI token"),
} as const;

/** A route's own check of the credential kinds that may call it (after authentication). */
export const requireCredential = (allowed: readonly Credential[]) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const caller = c.get("caller");
    if (caller.kind === "admin") throw new ApiError("auth.tenant_token_required", "Use an org key or a CI token");
    if (!allowed.includes(caller.kind)) throw CREDENTIAL_REFUSALS[allowed.length === 1 ? allowed[0] : "org"];
    return next();
  });

/** Routes that start a run or a crawl: refused rather than admitted while the limiter cannot meter them. */
export const meteredOnly = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (c.get("unmetered")) {
      throw new ApiError("rate_limit.unavailable", "The rate limiter is unreachable; browser work cannot start unmetered. Retry shortly", {}, { "Retry-After": "5" });
    }
    return next();
  });
