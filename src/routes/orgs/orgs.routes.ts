import { createRoute } from "@hono/zod-openapi";
import { CreateOrgBody, CreatedOrgSchema } from "../../schemas/orgs";
import { bearerSecurity, errorResponses, jsonBody, jsonContent } from "../router";

export const createOrgRoute = createRoute({
  method: "post",
  path: "/orgs",
  tags: ["Organizations"],
  summary: "Create an organization (operator only, with ADMIN_TOKEN)",
  security: bearerSecurity,
  request: { body: jsonBody(CreateOrgBody) },
  responses: { 201: jsonContent(CreatedOrgSchema, "The organization and its key, shown this once"), ...errorResponses(400, 401, 413, 415) },
});
