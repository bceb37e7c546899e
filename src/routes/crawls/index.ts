import { cancelCrawl, crawlEventStream, crawlEventsPage, crawlSummaryView, getCrawlDetail, listCrawlsPage, startCrawl } from "../../services/crawls";
import { ApiError } from "../../errors";
import { lastEventIdOf, SSE_HEADERS } from "../../services/event-stream";
import { createRouter, depsOf, linkSigner, scopeFor } from "../router";
import * as routes from "./crawls.routes";

export const crawlsRouter = createRouter()
  .openapi(routes.createCrawlRoute, async (c) => {
    const crawl = await startCrawl(depsOf(c), scopeFor(c), c.req.valid("param").id, c.req.valid("json"));
    c.header("Location", `/api/v1/crawls/${crawl.id}`);
    return c.json(crawlSummaryView(crawl), 202);
  })
  .openapi(routes.listCrawlsRoute, async (c) => {
    const query = c.req.valid("query");
    const { items, totalCount } = await listCrawlsPage(depsOf(c), scopeFor(c), c.req.valid("param").id, query);
    return c.json({ items: items.map(crawlSummaryView), totalCount, page: query.page, pageSize: query.pageSize }, 200);
  })
  .openapi(routes.getCrawlRoute, async (c) =>
    c.json(await getCrawlDetail(depsOf(c), scopeFor(c), c.req.valid("param").id, linkSigner(c), Date.now()), 200),
  )
  .openapi(routes.cancelCrawlRoute, async (c) => c.json(crawlSummaryView(await cancelCrawl(depsOf(c), scopeFor(c), c.req.valid("param").id)), 200))
  .openapi(routes.crawlEventsRoute, async (c) => {
    const deps = depsOf(c);
    if ((c.req.header("accept") ?? "").includes("text/event-stream")) {
      const lastEventId = lastEventIdOf(c.req.header("last-event-id"));
      if (lastEventId === null) throw new ApiError("request.invalid", "Last-Event-ID must be an event id");
      return new Response(await crawlEventStream(deps, scopeFor(c), c.req.valid("param").id, lastEventId), { headers: SSE_HEADERS }) as never;
    }
    return c.json(await crawlEventsPage(deps, scopeFor(c), c.req.valid("param").id, c.req.valid("query")), 200);
  });
