import { createRoute } from "@hono/zod-openapi";
import { IdParams, PageQuery, paginated } from "../../schemas/common";
import { CaseSchema, CreateCaseBody, CreateSuiteBody, SuiteSchema, SuiteWithCasesSchema, UpdateCaseBody, UpdateSuiteBody } from "../../schemas/suites";
import { ExportQuery, PlaywrightExportSchema } from "../../schemas/exports";
import { access, errorResponses, jsonBody, jsonContent } from "../router";

const tags = ["Suites and cases"];
const security = access(["org", "ci"]);

export const listSuitesRoute = createRoute({
  method: "get", path: "/projects/{id}/suites", tags, ...security, summary: "List a project's suites",
  request: { params: IdParams, query: PageQuery },
  responses: { 200: jsonContent(paginated(SuiteSchema), "A page of suites"), ...errorResponses(400, 401, 404) },
});

export const createSuiteRoute = createRoute({
  method: "post", path: "/projects/{id}/suites", tags, ...security, summary: "Create a suite",
  request: { params: IdParams, body: jsonBody(CreateSuiteBody) },
  responses: { 201: jsonContent(SuiteSchema, "The suite"), ...errorResponses(400, 401, 404, 413, 415) },
});

export const getSuiteRoute = createRoute({
  method: "get", path: "/suites/{id}", tags, ...security, summary: "Get a suite with its cases",
  request: { params: IdParams },
  responses: { 200: jsonContent(SuiteWithCasesSchema, "The suite and its cases"), ...errorResponses(400, 401, 404) },
});

export const updateSuiteRoute = createRoute({
  method: "patch", path: "/suites/{id}", tags, ...security, summary: "Rename a suite",
  request: { params: IdParams, body: jsonBody(UpdateSuiteBody) },
  responses: { 200: jsonContent(SuiteWithCasesSchema, "The suite"), ...errorResponses(400, 401, 404, 413, 415) },
});

export const deleteSuiteRoute = createRoute({
  method: "delete", path: "/suites/{id}", tags, ...security, summary: "Delete a suite and its cases",
  request: { params: IdParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses(400, 401, 404) },
});

export const createCaseRoute = createRoute({
  method: "post", path: "/suites/{id}/cases", tags, ...security, summary: "Add a test case (steps in the step language)",
  request: { params: IdParams, body: jsonBody(CreateCaseBody) },
  responses: { 201: jsonContent(CaseSchema, "The case"), ...errorResponses(400, 401, 404, 413, 415) },
});

export const getCaseRoute = createRoute({
  method: "get", path: "/cases/{id}", tags, ...security, summary: "Get a test case",
  request: { params: IdParams },
  responses: { 200: jsonContent(CaseSchema, "The case"), ...errorResponses(400, 401, 404) },
});

export const updateCaseRoute = createRoute({
  method: "patch", path: "/cases/{id}", tags, ...security, summary: "Change a test case",
  request: { params: IdParams, body: jsonBody(UpdateCaseBody) },
  responses: { 200: jsonContent(CaseSchema, "The case"), ...errorResponses(400, 401, 404, 413, 415) },
});

export const deleteCaseRoute = createRoute({
  method: "delete", path: "/cases/{id}", tags, ...security, summary: "Delete a test case",
  request: { params: IdParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses(400, 401, 404) },
});

export const exportPlaywrightRoute = createRoute({
  method: "get", path: "/suites/{id}/export/playwright", tags, ...security,
  summary: "The suite as a Playwright Test file with its playwright.config.ts (?download=true: the spec file itself)",
  request: { params: IdParams, query: ExportQuery },
  responses: {
    200: {
      description: "The export; with download=true, the spec as an attachment named <suite-slug>.spec.ts",
      content: { "application/json": { schema: PlaywrightExportSchema }, "text/plain": { schema: { type: "string" } } },
    },
    ...errorResponses(400, 401, 404),
  },
});
