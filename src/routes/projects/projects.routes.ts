import { createRoute } from "@hono/zod-openapi";
import { IdParams, PageQuery, paginated } from "../../schemas/common";
import { CreateProjectBody, ProjectSchema, UpdateProjectBody } from "../../schemas/projects";
import { bearerSecurity, errorResponses, jsonBody, jsonContent } from "../router";

const tags = ["Projects"];
const security = bearerSecurity;

export const listProjectsRoute = createRoute({
  method: "get", path: "/projects", tags, security, summary: "List the projects in your scope",
  request: { query: PageQuery },
  responses: { 200: jsonContent(paginated(ProjectSchema), "A page of projects"), ...errorResponses(400, 401) },
});

export const createProjectRoute = createRoute({
  method: "post", path: "/projects", tags, security, summary: "Create a project (org key)",
  request: { body: jsonBody(CreateProjectBody) },
  responses: { 201: jsonContent(ProjectSchema, "The project"), ...errorResponses(400, 401, 403, 413, 415) },
});

export const getProjectRoute = createRoute({
  method: "get", path: "/projects/{id}", tags, security, summary: "Get a project",
  request: { params: IdParams },
  responses: { 200: jsonContent(ProjectSchema, "The project"), ...errorResponses(400, 401, 404) },
});

export const updateProjectRoute = createRoute({
  method: "patch", path: "/projects/{id}", tags, security, summary: "Change a project's name, base URL or scan defaults",
  request: { params: IdParams, body: jsonBody(UpdateProjectBody) },
  responses: { 200: jsonContent(ProjectSchema, "The project"), ...errorResponses(400, 401, 404, 413, 415) },
});

export const deleteProjectRoute = createRoute({
  method: "delete", path: "/projects/{id}", tags, security, summary: "Delete a project with its suites, runs and tokens (org key)",
  request: { params: IdParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses(400, 401, 403, 404) },
});

