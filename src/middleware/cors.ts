// CORS, off unless CORS_ALLOWED_ORIGINS (comma-separated exact origins) lists the caller's origin.
// Without an Origin header, or from any other origin, the request passes through untouched: no
// Access-Control-* header at all, and a preflight falls through to routing, where no route answers OPTIONS.
import { createMiddleware } from "hono/factory";
import { cors as honoCors } from "hono/cors";
import type { AppEnv } from "../env";

const ALLOW_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key"];
const EXPOSE_HEADERS = ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After", "Idempotent-Replayed", "Location"];
const ALLOW_METHODS = ["GET", "HEAD", "POST", "PATCH", "DELETE"];

const parseAllowedOrigins = (value: string | undefined) =>
  new Set((value ?? "").split(",").map((o) => o.trim().replace(/\/$/, "")).filter(Boolean));

// hono/cors answers every preflight and exposes headers whatever the origin, so it only ever
// sees requests from an origin we allow.
const allowed = honoCors({
  origin: (origin) => origin,
  allowHeaders: ALLOW_HEADERS,
  exposeHeaders: EXPOSE_HEADERS,
  allowMethods: ALLOW_METHODS,
  maxAge: 600,
});

export const cors = () => {
  let cached = { raw: "", origins: new Set<string>() };
  return createMiddleware<AppEnv>(async (c, next) => {
    const raw: string = c.env.CORS_ALLOWED_ORIGINS ?? "";
    if (cached.raw !== raw) cached = { raw, origins: parseAllowedOrigins(raw) };
    if (cached.origins.size === 0) return next();
    const origin = c.req.header("origin");
    if (origin && cached.origins.has(origin)) return allowed(c, next);
    await next();
    // The answer depends on Origin once an allow-list exists: caches must not share it across origins.
    c.header("Vary", "Origin", { append: true });
  });
};
