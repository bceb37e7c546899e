import { createRoute } from "@hono/zod-openapi";
import { IdParams, paginated } from "../../schemas/common";
import { BaselineListQuery, BaselineSchema, PromoteBody, PromoteResponse } from "../../schemas/visual";
import { access, errorResponses, jsonBody, jsonContent } from "../router";

const tags = ["Visual baselines"];
const anyTenant = access(["org", "ci"]);

export const listBaselinesRoute = createRoute({
  method: "get", path: "/projects/{id}/baselines", tags, ...anyTenant, summary: "A project's approved screenshot baselines (filter: branch)",
  request: { params: IdParams, query: BaselineListQuery },
  responses: { 200: jsonContent(paginated(BaselineSchema), "A page of baselines"), ...errorResponses(400, 401, 404) },
});

export const promoteBaselinesRoute = createRoute({
  method: "post", path: "/projects/{id}/baselines/promote", tags, ...anyTenant,
  summary: "After a merge: the from branch's approved baselines become the to branch's",
  request: { params: IdParams, body: jsonBody(PromoteBody) },
  responses: { 200: jsonContent(PromoteResponse, "How many baselines moved"), ...errorResponses(400, 401, 404, 413, 415) },
});
