import { createCiToken, listTokens, revokeToken } from "../../services/tokens";
import { baseDeps, createRouter, scopeFor, tenantOf, tokenDeps } from "../router";
import * as routes from "./tokens.routes";

export const tokensRouter = createRouter()
  .openapi(routes.createTokenRoute, async (c) =>
    c.json(await createCiToken(baseDeps(c), tenantOf(c), scopeFor(c), c.req.valid("param").id, c.req.valid("json").name), 201),
  )
  .openapi(routes.listTokensRoute, async (c) =>
    c.json(await listTokens(baseDeps(c), scopeFor(c), c.req.valid("param").id, c.req.valid("query")), 200),
  )
  .openapi(routes.revokeTokenRoute, async (c) => {
    await revokeToken(tokenDeps(c), scopeFor(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
