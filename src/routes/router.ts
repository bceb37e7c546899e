// Shared pieces of every route module: the router factory (validation failures become the
// contract's 400), who may call a route, the request's service dependencies, and OpenAPI helpers.
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import * as z from "zod";
import type { AppEnv } from "../env";
import { ApiError, ErrorBody, validationError } from "../errors";
import { ErrorSchema } from "../schemas/common";
import { scopeOf, type TenantCaller } from "../auth/tenancy";
import { meteredOnly, requireCredential, type Credential } from "../middleware/auth";
import type { ServiceDeps } from "../services/deps";
import { signingSecret, type LinkSigner } from "../services/links";
import { wire } from "../wiring";

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
  410: "Gone: what this needs has expired",
  413: "Body too large",
  415: "Body is not JSON",
  422: "The request is valid but cannot be carried out",
  503: "Temporarily unavailable; retry",
};

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, jsonContent(ErrorSchema, ERROR_DESCRIPTIONS[s] ?? "Error")]));

export const bearerSecurity = [{ bearerAuth: [] }];

const CREDENTIAL_NAMES: Record<Credential, string> = { org: "the organization key", ci: "a CI token of the project" };

/**
 * Who may call a route, declared with it: the route's own middleware checks the credential kind
 * (after authentication, before validation), and the OpenAPI document says the same. Routes that
 * start browser work say so here, and are refused while the rate limiter cannot meter them.
 */
export const access = (credentials: Credential[], options: { startsBrowserWork?: boolean } = {}) => ({
  security: bearerSecurity,
  middleware: [requireCredential(credentials), ...(options.startsBrowserWork ? [meteredOnly()] : [])],
  description: `Who may call it: ${credentials.map((c) => CREDENTIAL_NAMES[c]).join(" or ")}.${options.startsBrowserWork ? " Starts browser work." : ""}`,
  "x-credentials": credentials,
});

export function tenantOf(c: Context<AppEnv>): TenantCaller {
  const caller = c.get("caller");
  if (caller.kind === "admin") throw new ApiError("auth.tenant_token_required", "Use an org key or a CI token");
  return caller;
}

export const scopeFor = (c: Context<AppEnv>) => scopeOf(tenantOf(c));

/** The request's service dependencies: the one wiring, on this request's D1 session. */
export const depsOf = (c: Context<AppEnv>): ServiceDeps => wire(c.env, { db: c.get("db"), primaryDb: c.get("primaryDb") });

export function linkSigner(c: Context<AppEnv>): LinkSigner {
  const configured = c.env.PUBLIC_BASE_URL as string;
  return { secret: signingSecret(c.env.LINK_SIGNING_SECRET), origin: configured ? configured.replace(/\/$/, "") : new URL(c.req.url).origin };
}

export type { ErrorBody };
