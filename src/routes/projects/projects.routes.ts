import { createRoute } from "@hono/zod-openapi";
import { IdParams, PageQuery, paginated } from "../../schemas/common";
import { CreateProjectBody, ProjectSchema, UpdateProjectBody } from "../../schemas/projects";
import { access, errorResponses, jsonBody, jsonContent } from "../router";

const tags = ["Projects"];

export const listProjectsRoute = createRoute({
  method: "get", path: "/projects", tags, ...access(["org", "ci"]), summary: "List the projects in your scope",
  request: { query: PageQuery },
  responses: { 200: jsonContent(paginated(ProjectSchema), "A page of projects"), ...errorResponses(400, 401) },
});

export const createProjectRoute = createRoute({
  method: "post", path: "/projects", tags, ...access(["org"]), summary: "Create a project (org key)",
  request: { body: jsonBody(CreateProjectBody) },
  responses: { 201: jsonContent(ProjectSchema, "The project"), ...errorResponses(400, 401, 403, 413, 415) },
});

export const getProjectRoute = createRoute({
  method: "get", path: "/projects/{id}", tags, ...access(["org", "ci"]), summary: "Get a project",
  request: { params: IdParams },
  responses: { 200: jsonContent(ProjectSchema, "The project"), ...errorResponses(400, 401, 404) },
});

export const updateProjectRoute = createRoute({
  method: "patch", path: "/projects/{id}", tags, ...access(["org"]), summary: "Change a project's name, base URL or scan defaults",
  request: { params: IdParams, body: jsonBody(UpdateProjectBody) },
  responses: { 200: jsonContent(ProjectSchema, "The project"), ...errorResponses(400, 401, 404, 413, 415) },
});

export const deleteProjectRoute = createRoute({
  method: "delete", path: "/projects/{id}", tags, ...access(["org"]), summary: "Delete a project with its suites, runs and tokens (org key)",
  request: { params: IdParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses(400, 401, 403, 404) },
});

