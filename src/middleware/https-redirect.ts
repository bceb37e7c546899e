// The contract: plain http is answered 308 to https, except on local hosts (wrangler dev, tests).
// The target is built from its parts as a string: assigning `url.protocol` on the request's URL
// object was seen to leave `http://` in the Location under `wrangler dev`.
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
