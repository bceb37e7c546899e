// Shared pieces of every route module: the router factory (validation failures become the
// contract's 400), the request context as service dependencies, and OpenAPI helpers.
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import * as z from "zod";
import type { AppEnv } from "../env";
import { ApiError, ErrorBody, validationError } from "../errors";
import { ErrorSchema } from "../schemas/common";
import { scopeOf, type TenantCaller } from "../auth/tenancy";
import { rateLimiterClient } from "../durable/rate-limiter";
import { systemClock } from "../services/clock";
import { crawlTrackerClient, runTrackerClient } from "../durable/run-tracker";
import { keyRingFrom } from "../auth/secrets";
import { continueRunAfterScan } from "../services/runs";
import type { CrawlRow } from "../db/crawls";
import { urlPolicyFrom } from "../browser/url-policy";
import type { LinkSigner } from "../services/links";

export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const where = result.target === "json" ? "body" : result.target;
        throw validationError(`Invalid request ${where}`, {
          issues: result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message, code: i.code })),
        });
      }
    },
  });
}

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  content: { "application/json": { schema } },
  required: true,
});

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Validation error; `details.issues` lists what is wrong",
  401: "Missing or invalid token",
  402: "A plan limit was reached",
  403: "Authenticated, but this key may not do this",
  404: "Not found (also for another tenant's resources)",
  409: "Conflict",
  413: "Body too large",
  415: "Body is not JSON",
  422: "The request is valid but cannot be carried out",
  503: "Temporarily unavailable; retry",
};

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, jsonContent(ErrorSchema, ERROR_DESCRIPTIONS[s] ?? "Error")]));

export const bearerSecurity = [{ bearerAuth: [] }];

export function tenantOf(c: Context<AppEnv>): TenantCaller {
  const caller = c.get("caller");
  if (caller.kind === "admin") throw new ApiError(403, "auth.tenant_token_required", "Use an org key or a CI token");
  return caller;
}

export const scopeFor = (c: Context<AppEnv>) => scopeOf(tenantOf(c));

export const baseDeps = (c: Context<AppEnv>) => ({ db: c.get("db"), primaryDb: c.get("primaryDb"), now: systemClock });

/** Dependencies of services that revoke tokens: the limiters hold the live callers. */
export const tokenDeps = (c: Context<AppEnv>) => ({ ...baseDeps(c), limiter: rateLimiterClient(c.env.RATE_LIMITER) });

export function runDeps(c: Context<AppEnv>) {
  const tracker = runTrackerClient(c.env.RUN_TRACKER);
  return { ...baseDeps(c), jobs: c.env.JOBS, watch: tracker, signals: tracker, policy: urlPolicyFrom(c.env.PRIVATE_TARGET_ALLOWLIST), scans: crawlDeps(c) };
}

export function crawlDeps(c: Context<AppEnv>) {
  const tracker = crawlTrackerClient(c.env.RUN_TRACKER);
  const base = { ...baseDeps(c), jobs: c.env.JOBS };
  return {
    ...base,
    tracker,
    policy: urlPolicyFrom(c.env.PRIVATE_TARGET_ALLOWLIST),
    keys: () => keyRingFrom(c.env.CREDENTIAL_KEYS),
    afterScan: (crawl: CrawlRow) => continueRunAfterScan({ ...base, signals: runTrackerClient(c.env.RUN_TRACKER) }, crawl),
  };
}

export function linkSigner(c: Context<AppEnv>): LinkSigner {
  const configured = c.env.PUBLIC_BASE_URL as string;
  return { secret: c.env.LINK_SIGNING_SECRET, origin: configured ? configured.replace(/\/$/, "") : new URL(c.req.url).origin };
}

export type { ErrorBody };
