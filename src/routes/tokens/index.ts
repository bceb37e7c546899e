import { createCiToken, listTokens, revokeToken } from "../../services/tokens";
import { createRouter, depsOf, scopeFor, tenantOf } from "../router";
import * as routes from "./tokens.routes";

export const tokensRouter = createRouter()
  .openapi(routes.createTokenRoute, async (c) =>
    c.json(await createCiToken(depsOf(c), tenantOf(c), scopeFor(c), c.req.valid("param").id, c.req.valid("json").name), 201),
  )
  .openapi(routes.listTokensRoute, async (c) =>
    c.json(await listTokens(depsOf(c), scopeFor(c), c.req.valid("param").id, c.req.valid("query")), 200),
  )
  .openapi(routes.revokeTokenRoute, async (c) => {
    await revokeToken(depsOf(c), scopeFor(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
