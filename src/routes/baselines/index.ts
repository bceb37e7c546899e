import { baselineView, listBaselinesPage, promoteBaselines } from "../../services/visual";
import { createRouter, depsOf, linkSigner, scopeFor } from "../router";
import * as routes from "./baselines.routes";

export const baselinesRouter = createRouter()
  .openapi(routes.listBaselinesRoute, async (c) => {
    const query = c.req.valid("query");
    const { items, totalCount } = await listBaselinesPage(depsOf(c), scopeFor(c), c.req.valid("param").id, query);
    const signer = linkSigner(c);
    const views = await Promise.all(items.map((b) => baselineView(b, signer, Date.now())));
    return c.json({ items: views, totalCount, page: query.page, pageSize: query.pageSize }, 200);
  })
  .openapi(routes.promoteBaselinesRoute, async (c) => {
    const { from, to } = c.req.valid("json");
    return c.json(await promoteBaselines(depsOf(c), scopeFor(c), c.req.valid("param").id, from, to), 200);
  });
