// Security headers on every response, errors included: set after next(), so the answers of
// onError, notFound, the https redirect and handlers that build their own Response all get them.
// (hono/secure-headers adds a dozen more headers by default and sends HSTS on plain http too.)
import { createMiddleware } from "hono/factory";

const ALWAYS = {
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "strict-origin-when-cross-origin",
} as const;

/** Only over https: browsers ignore HSTS on plain http, and localhost must stay reachable over http. */
const HSTS = "max-age=31536000; includeSubDomains";

export const securityHeaders = () =>
  createMiddleware(async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(ALWAYS)) c.header(name, value);
    if (new URL(c.req.url).protocol === "https:") c.header("Strict-Transport-Security", HSTS);
  });
