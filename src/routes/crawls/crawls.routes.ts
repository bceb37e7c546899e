import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { IdParams, paginated } from "../../schemas/common";
import { CrawlDetailSchema, CrawlEventSchema, CrawlEventsQuery, CrawlListQuery, CrawlSummarySchema, CreateCrawlBody } from "../../schemas/crawls";
import { access, errorResponses, jsonBody, jsonContent } from "../router";

const tags = ["Crawls"];

export const createCrawlRoute = createRoute({
  method: "post", path: "/projects/{id}/crawls", tags, ...access(["org", "ci"], { startsBrowserWork: true }), summary: "Start a crawl of the project's site (202; Location names the crawl)",
  request: { params: IdParams, body: jsonBody(CreateCrawlBody) },
  responses: { 202: jsonContent(CrawlSummarySchema, "The queued crawl"), ...errorResponses(400, 401, 404, 413, 415, 503) },
});

export const listCrawlsRoute = createRoute({
  method: "get", path: "/projects/{id}/crawls", tags, ...access(["org", "ci"]), summary: "A project's crawls, newest first",
  request: { params: IdParams, query: CrawlListQuery },
  responses: { 200: jsonContent(paginated(CrawlSummarySchema), "A page of crawls"), ...errorResponses(400, 401, 404) },
});

export const getCrawlRoute = createRoute({
  method: "get", path: "/crawls/{id}", tags, ...access(["org", "ci"]), summary: "A crawl: settings, counts, roles and per-page results",
  request: { params: IdParams },
  responses: { 200: jsonContent(CrawlDetailSchema, "The crawl"), ...errorResponses(400, 401, 404) },
});

export const cancelCrawlRoute = createRoute({
  method: "post", path: "/crawls/{id}/cancel", tags, ...access(["org", "ci"]), summary: "Cancel a queued or running crawl",
  request: { params: IdParams },
  responses: { 200: jsonContent(CrawlSummarySchema, "The cancelled crawl"), ...errorResponses(400, 401, 404, 409) },
});

export const crawlEventsRoute = createRoute({
  method: "get", path: "/crawls/{id}/events", tags, ...access(["org", "ci"]),
  summary: "A crawl's events in order; with Accept: text/event-stream, the same events live as Server-Sent Events (resumable with Last-Event-ID)",
  request: { params: IdParams, query: CrawlEventsQuery },
  responses: {
    200: {
      content: {
        "application/json": { schema: z.object({ items: z.array(CrawlEventSchema), totalCount: z.number().int(), limit: z.number().int(), offset: z.number().int() }) },
        "text/event-stream": { schema: z.string() },
      },
      description: "The events",
    },
    ...errorResponses(400, 401, 404),
  },
});
