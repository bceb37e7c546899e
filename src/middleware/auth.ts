// Authentication: the admin secret for bootstrapping organizations, org keys and CI tokens
// for everything else. Missing or bad credentials answer 401 with WWW-Authenticate.
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { secretsEqual } from "../auth/tokens";
import { authenticateToken } from "../services/tokens";
import { createDb } from "../db/client";
import { systemClock } from "../services/clock";

const unauthorized = (message: string) =>
  new ApiError(401, "auth.invalid_token", message, {}, { "WWW-Authenticate": 'Bearer realm="aegis"' });

function bearerOf(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match ? match[1] : null;
}

export const requireAdmin = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const bearer = bearerOf(c.req.header("authorization"));
    if (!bearer) throw unauthorized("Missing bearer token");
    const expected = c.env.ADMIN_TOKEN;
    if (!expected || !(await secretsEqual(bearer, expected))) throw unauthorized("Invalid admin token");
    c.set("caller", { kind: "admin" });
    return next();
  });

export const requireToken = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const bearer = bearerOf(c.req.header("authorization"));
    if (!bearer) throw unauthorized("Missing bearer token");
    const caller = await authenticateToken({ db: createDb(c.env.DB), now: systemClock }, bearer, (work) =>
      c.executionCtx.waitUntil(work),
    );
    if (!caller) throw unauthorized("Invalid token");
    c.set("caller", caller);
    return next();
  });
