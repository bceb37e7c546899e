// Builds the Hono app. The middleware order below is the order every request meets it.
import { HTTPException } from "hono/http-exception";
import type { Context } from "hono";
import type { AppEnv } from "./env";
import { ApiError, errorBody } from "./errors";
import { createRouter } from "./routes/router";
import { httpsRedirect } from "./middleware/https-redirect";
import { securityHeaders } from "./middleware/security-headers";
import { requestMetrics } from "./middleware/request-metrics";
import { cors } from "./middleware/cors";
import { configCheck } from "./middleware/config-check";
import { knownRoutesOnly } from "./middleware/known-routes";
import { opsRouter } from "./routes/ops";
import { jsonBody } from "./middleware/json-body";
import { d1Session } from "./middleware/d1-session";
import { requireToken } from "./middleware/auth";
import { documentIdempotencyKey, idempotency } from "./middleware/idempotency";
import { orgsRouter } from "./routes/orgs";
import { projectsRouter } from "./routes/projects";
import { tokensRouter } from "./routes/tokens";
import { suitesRouter } from "./routes/suites";
import { runsRouter } from "./routes/runs";
import { crawlsRouter } from "./routes/crawls";
import { diffsRouter } from "./routes/diffs";
import { baselinesRouter } from "./routes/baselines";
import { pagesRouter } from "./routes/pages";
import { webhooksRouter } from "./routes/webhooks";

export function createApp() {
  const app = createRouter();

  // 1. Request id, for logs and for the answer to a 500.
  app.use("*", async (c, next) => {
    c.set("requestId", c.req.header("cf-ray") ?? crypto.randomUUID());
    await next();
  });
  // 2. Security headers on every response, errors included.
  app.use("*", securityHeaders());
  // 3. Request metrics (route pattern, status).
  app.use("*", requestMetrics());
  // 3a. A deployed Worker (DEPLOY_ENV set) with a missing or weak secret answers 503
  //     service.misconfigured, naming the setting; /health still answers.
  app.use("*", configCheck());
  // 4. http → https (308), except on local hosts.
  app.use("*", httpsRedirect());
  // 5. CORS: off unless CORS_ALLOWED_ORIGINS lists origins.
  app.use("*", cors());
  // 6. Before any credential is read: an unknown path answers 404, a known one with a method it
  //    does not serve 405 with Allow.
  app.use("*", knownRoutesOnly(() => app.routes));
  // 7. Operations: no token, no rate limit, no tenant data.
  app.route("/", opsRouter);
  // 8. Bodies: JSON only (curl's default form type read as JSON), bounded.
  app.use("/api/*", jsonBody());
  // 9. D1 session: reads may come from a replica; the bookmark travels in X-D1-Bookmark.
  app.use("/api/*", d1Session());
  // 10. Authentication and rate limit, one call to the token's RateLimiter Durable Object
  //    (the admin secret for /orgs in its router; a client IP's budget for bad credentials).
  app.use("/api/v1/*", async (c, next) => {
    const path = c.req.path;
    if (path === "/api/v1/orgs" || path === "/api/v1/openapi.json") return next();
    return requireToken()(c, next);
  });
  // 11. Idempotency-Key on POST, scoped to the token.
  app.use("/api/v1/*", idempotency());

  app.route("/api/v1", orgsRouter);
  app.route("/api/v1", projectsRouter);
  app.route("/api/v1", tokensRouter);
  app.route("/api/v1", suitesRouter);
  app.route("/api/v1", runsRouter);
  app.route("/api/v1", crawlsRouter);
  app.route("/api/v1", diffsRouter);
  app.route("/api/v1", baselinesRouter);
  app.route("/api/v1", webhooksRouter);
  app.route("/", pagesRouter);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "An org key or a project CI token (aegis_…); POST /orgs takes the operator's ADMIN_TOKEN.",
  });
  app.get("/api/v1/openapi.json", (c) =>
    c.json(
      documentIdempotencyKey(
        app.getOpenAPI31Document({
          openapi: "3.1.0",
          info: { title: "Aegis edge test-automation API", version: "1.0.0" },
          servers: [{ url: new URL(c.req.url).origin }],
        }),
      ),
    ),
  );

  app.notFound((c) => c.json(errorBody(new ApiError("route.not_found", `No route for ${c.req.method} ${c.req.path}`)), 404));
  app.onError((error, c) => answerError(error, c));
  return app;
}

function answerError(error: Error, c: Context<AppEnv>) {
  if (error instanceof ApiError) {
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    return c.json(errorBody(error), error.status);
  }
  if (error instanceof HTTPException) {
    // Hono raises these for bodies it cannot parse; anything else it raises is a fault of ours.
    if (error.status === 400) return c.json(errorBody(new ApiError("request.malformed", error.message || "Malformed request")), 400);
    if (error.status === 413) return c.json(errorBody(new ApiError("request.too_large", error.message || "Body too large")), 413);
  }
  const requestId = c.get("requestId");
  console.error("unhandled error", requestId, error);
  return c.json(errorBody(new ApiError("server.internal", "Internal error", { requestId })), 500);
}
