// Counts every answer by route pattern and status, after the response (errors included).
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import type { Context } from "hono";
import { METHOD_NAME_ALL } from "hono/router";
import { recordRequest, UNMATCHED_ROUTE } from "../services/metrics";

export const requestMetrics = () =>
  createMiddleware(async (c, next) => {
    await next();
    recordRequest(routePattern(c), c.res.status);
  });

/**
 * The pattern of the handler the request was routed to, e.g. /api/v1/ci/runs/:runId, also when a
 * middleware answered before it ran (401, 308). Middleware (app.use) is registered for every
 * method; handlers for one. c.req.routePath names only the route running now, and after next()
 * that is whichever ran last, possibly a middleware.
 */
function routePattern(c: Context) {
  const handler = matchedRoutes(c).findLast((route) => route.method !== METHOD_NAME_ALL);
  return handler?.path ?? UNMATCHED_ROUTE;
}
