import { createRoute } from "@hono/zod-openapi";
import { IdParams, PageQuery, paginated } from "../../schemas/common";
import { CreateTokenBody, CreatedTokenSchema, TokenSchema } from "../../schemas/tokens";
import { access, errorResponses, jsonBody, jsonContent } from "../router";

const tags = ["CI tokens"];

export const createTokenRoute = createRoute({
  method: "post", path: "/projects/{id}/tokens", tags, ...access(["org"]), summary: "Create a project CI token (shown once)",
  request: { params: IdParams, body: jsonBody(CreateTokenBody) },
  responses: { 201: jsonContent(CreatedTokenSchema, "The token, shown this once"), ...errorResponses(400, 401, 402, 404, 413, 415) },
});

export const listTokensRoute = createRoute({
  method: "get", path: "/projects/{id}/tokens", tags, ...access(["org"]), summary: "List a project's live CI tokens (never the secret)",
  request: { params: IdParams, query: PageQuery },
  responses: { 200: jsonContent(paginated(TokenSchema), "A page of tokens"), ...errorResponses(400, 401, 404) },
});

export const revokeTokenRoute = createRoute({
  method: "delete", path: "/tokens/{id}", tags, ...access(["org"]), summary: "Revoke a CI token at once",
  request: { params: IdParams },
  responses: { 204: { description: "Revoked" }, ...errorResponses(400, 401, 404) },
});
