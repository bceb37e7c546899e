// The contract: plain http is answered 308 to https, except on local hosts (wrangler dev, tests).
// The target keeps the host name and drops an http port. Under `wrangler dev` the Location comes
// back as http:// all the same: wrangler's dev proxy rewrites every URL on the request's host in
// response headers to its own origin, scheme included (production has no such proxy).
import { createMiddleware } from "hono/factory";

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

export const httpsRedirect = () =>
  createMiddleware(async (c, next) => {
    const url = new URL(c.req.url);
    const forwardedProto = c.req.header("x-forwarded-proto");
    const isHttp = (forwardedProto ?? url.protocol.replace(":", "")) === "http";
    if (isHttp && !LOCAL_HOSTS.has(url.hostname)) {
      return c.redirect(`https://${url.hostname}${url.pathname}${url.search}`, 308);
    }
    return next();
  });
