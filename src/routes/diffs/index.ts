import { approveDiff, getDiff, listRunDiffs, rejectDiff, visualDiffView } from "../../services/visual";
import { createRouter, depsOf, linkSigner, scopeFor } from "../router";
import * as routes from "./diffs.routes";

export const diffsRouter = createRouter()
  .openapi(routes.listRunDiffsRoute, async (c) => {
    const query = c.req.valid("query");
    const { items, totalCount } = await listRunDiffs(depsOf(c), scopeFor(c), c.req.valid("param").runId, query);
    const signer = linkSigner(c);
    const views = await Promise.all(items.map((diff) => visualDiffView(diff, signer, Date.now())));
    return c.json({ items: views, totalCount, page: query.page, pageSize: query.pageSize }, 200);
  })
  .openapi(routes.getDiffRoute, async (c) =>
    c.json(await visualDiffView(await getDiff(depsOf(c), scopeFor(c), c.req.valid("param").id), linkSigner(c), Date.now()), 200),
  )
  .openapi(routes.approveDiffRoute, async (c) =>
    c.json(await visualDiffView(await approveDiff(depsOf(c), scopeFor(c), c.req.valid("param").id), linkSigner(c), Date.now()), 200),
  )
  .openapi(routes.rejectDiffRoute, async (c) =>
    c.json(await visualDiffView(await rejectDiff(depsOf(c), scopeFor(c), c.req.valid("param").id), linkSigner(c), Date.now()), 200),
  );
