// Operational endpoints: no token, no rate limit, no tenant data. Plain Hono routes, outside the
// /api/v1 OpenAPI document. The answers must never be cached: they describe this moment.
import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { createDb } from "../../db/client";
import { systemClock } from "../../services/clock";
import { checkHealth, checkReadiness } from "../../services/health";
import { METRICS_CONTENT_TYPE, scrapeMetrics } from "../../services/metrics";

const deps = (env: AppEnv["Bindings"]) => ({ db: createDb(env.DB), now: systemClock });
const NO_STORE = { "Cache-Control": "no-store" };

// (No .use() here: mounted at "/", a middleware of this router would run for every request.)
export const opsRouter = new Hono<AppEnv>()
  // Kept small: the benchmarks use it as their bare baseline; it costs one `select 1` on D1.
  .get("/health", async (c) => c.json(await checkHealth(deps(c.env)), 200, NO_STORE))
  .get("/ready", async (c) => c.json(await checkReadiness(deps(c.env)), 200, NO_STORE))
  .get("/metrics", async (c) =>
    c.body(await scrapeMetrics(deps(c.env)), 200, { ...NO_STORE, "Content-Type": METRICS_CONTENT_TYPE }),
  );
