// Idempotency-Key on POST, scoped to the caller's token (services/idempotency.ts decides).
// Runs after authentication, so every key belongs to a known credential; POST /orgs, which its
// router authenticates with the operator's secret, is authenticated here first.
import type { Context, Next } from "hono";
import { createMiddleware } from "hono/factory";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../env";
import type { Caller } from "../auth/tenancy";
import { bearerOf, canonicalToken } from "../auth/tokens";
import { requireAdmin } from "./auth";
import { systemClock } from "../services/clock";
import {
  beginIdempotentRequest,
  finishIdempotentRequest,
  MAX_KEY_LENGTH,
  parseIdempotencyKey,
  recordStartedRun,
  requestFingerprint,
  REPLAYED_HEADERS,
  type StoredResponse,
} from "../services/idempotency";

export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";
export const REPLAYED_HEADER = "Idempotent-Replayed";

type OpenApiDocument = { paths?: Record<string, { post?: { parameters?: unknown[]; responses?: Record<string, unknown> } }>; components?: { parameters?: Record<string, unknown> } };

/** Adds the header this middleware reads to every POST of the OpenAPI document: no route schema declares it. */
export function documentIdempotencyKey<D extends OpenApiDocument>(doc: D): D {
  doc.components = { ...doc.components, parameters: { ...doc.components?.parameters, IdempotencyKey: IDEMPOTENCY_KEY_PARAMETER } };
  for (const item of Object.values(doc.paths ?? {})) {
    if (item.post) item.post.parameters = [...(item.post.parameters ?? []), { $ref: "#/components/parameters/IdempotencyKey" }];
  }
  return doc;
}

const IDEMPOTENCY_KEY_PARAMETER = {
  name: IDEMPOTENCY_KEY_HEADER,
  in: "header",
  required: false,
  schema: { type: "string", minLength: 1, maxLength: MAX_KEY_LENGTH, pattern: "^[\\x20-\\x7e]+$" },
  description:
    `Makes the POST safe to retry: for 24 hours the same key with the same request (method, path, body) answers the first response again, ` +
    `with ${REPLAYED_HEADER}: true; with another request, 422; while the first is still in flight, 409. Scoped to the caller's token.`,
};
/** The one route whose caller is not known yet when this runs (see app.ts). */
const ADMIN_PATH = "/api/v1/orgs";

export const idempotency = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.method !== "POST" || c.req.header(IDEMPOTENCY_KEY_HEADER) === undefined) return next();
    const caller: Caller | undefined = c.get("caller");
    if (caller) return idempotent(c, next, caller);
    // Without this, a request lacking the operator's secret could claim the operator's keys.
    if (c.req.path === ADMIN_PATH) return requireAdmin()(c, () => idempotent(c, next, c.get("caller")));
    return next();
  });

async function idempotent(c: Context<AppEnv>, next: Next, caller: Caller): Promise<void> {
  const key = parseIdempotencyKey(c.req.header(IDEMPOTENCY_KEY_HEADER));
  if (key === null) return next();
  const bearer = bearerOf(c.req.header("authorization")) ?? "";
  // The credential seals the stored answer; a tenant token in its canonical spelling (both
  // `aegis_…` spellings are the same token).
  const secret = caller.kind === "admin" ? bearer : (canonicalToken(bearer) ?? bearer);
  const scope = caller.kind === "admin" ? "admin" : caller.tokenId;
  const deps = { db: c.get("db"), now: systemClock };
  const fingerprint = await requestFingerprint(c.req.method, c.req.path, await c.req.text());

  const begun = await beginIdempotentRequest(deps, { scope, key, fingerprint, secret }, (work) => c.executionCtx.waitUntil(work));
  if (begun.kind === "replay") {
    c.res = replay(c, begun.response);
    return;
  }

  const { claim } = begun;
  c.set("idempotency", {
    startedRunId: begun.kind === "attach" ? begun.runId : null,
    runStarted: (runId) =>
      // Not worth failing the run for: without it a retry answers 409 instead of waiting with us.
      recordStartedRun(deps, claim, runId).catch((error) => console.error("idempotency: run not recorded", c.get("requestId"), error)),
  });
  try {
    await next();
  } catch (error) {
    // onError answers inner errors before we get here; one that escapes is answered further out, as a 500.
    await finishIdempotentRequest(deps, claim, { status: 500, headers: {}, body: "" }).catch(() => {});
    throw error;
  }
  const response = c.res;
  const stored: StoredResponse = { status: response.status, headers: {}, body: response.status < 500 ? await response.clone().text() : "" };
  for (const name of REPLAYED_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) stored.headers[name] = value;
  }
  await finishIdempotentRequest(deps, claim, stored).catch((error) => console.error("idempotency: answer not stored", c.get("requestId"), error));
  if (begun.kind === "attach") c.header(REPLAYED_HEADER, "true");
}

function replay(c: Context<AppEnv>, response: StoredResponse) {
  return c.body(response.body, response.status as ContentfulStatusCode, { ...response.headers, [REPLAYED_HEADER]: "true" });
}
