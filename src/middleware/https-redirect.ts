// The contract: plain http is answered 308 to https, except on local hosts (wrangler dev, tests).
import { createMiddleware } from "hono/factory";

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

export const httpsRedirect = () =>
  createMiddleware(async (c, next) => {
    const url = new URL(c.req.url);
    const forwardedProto = c.req.header("x-forwarded-proto");
    const isHttp = (forwardedProto ?? url.protocol.replace(":", "")) === "http";
    if (isHttp && !LOCAL_HOSTS.has(url.hostname)) {
      url.protocol = "https:";
      return c.redirect(url.href, 308);
    }
    return next();
  });
