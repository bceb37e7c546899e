import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { IdParams, IdSchema, paginated } from "../../schemas/common";
import { DiffListQuery, VisualDiffSchema } from "../../schemas/visual";
import { access, errorResponses, jsonContent } from "../router";

const tags = ["Visual diffs"];
const anyTenant = access(["org", "ci"]);

export const listRunDiffsRoute = createRoute({
  method: "get", path: "/runs/{runId}/diffs", tags, ...anyTenant, summary: "A run's visual diffs, newest first (status filter: pending, approved, rejected)",
  request: { params: z.strictObject({ runId: IdSchema }), query: DiffListQuery },
  responses: { 200: jsonContent(paginated(VisualDiffSchema), "A page of diffs"), ...errorResponses(400, 401, 404) },
});

export const getDiffRoute = createRoute({
  method: "get", path: "/diffs/{id}", tags, ...anyTenant, summary: "A visual diff: changed share, the baseline used and why, signed links to baseline, capture and diff",
  request: { params: IdParams },
  responses: { 200: jsonContent(VisualDiffSchema, "The diff"), ...errorResponses(400, 401, 404) },
});

export const approveDiffRoute = createRoute({
  method: "post", path: "/diffs/{id}/approve", tags, ...anyTenant, summary: "Approve: the capture becomes the baseline for later runs",
  request: { params: IdParams },
  responses: { 200: jsonContent(VisualDiffSchema, "The approved diff"), ...errorResponses(400, 401, 404, 409, 410) },
});

export const rejectDiffRoute = createRoute({
  method: "post", path: "/diffs/{id}/reject", tags, ...anyTenant, summary: "Reject: the baseline stays, and the same capture keeps failing",
  request: { params: IdParams },
  responses: { 200: jsonContent(VisualDiffSchema, "The rejected diff"), ...errorResponses(400, 401, 404, 409) },
});
