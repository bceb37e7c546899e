import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { IdParams, IdSchema } from "../../schemas/common";
import { RunDetailSchema, RunEventSchema, RunEventsQuery, RunListQuery, RunSchema, SuiteRunBody, TriggerBody, TriggerResponse } from "../../schemas/runs";
import { paginated } from "../../schemas/common";
import { access, errorResponses, jsonBody, jsonContent } from "../router";

const tags = ["Runs"];

/** What `wait: true` answers when the run did not pass: the run itself plus the error shape. */
const SettledRunError = RunDetailSchema.extend({ error: z.string(), code: z.string(), details: z.record(z.string(), z.unknown()) })
  .meta({ id: "RunNotPassed" });

const triggerResponses = {
  200: jsonContent(RunDetailSchema, "wait: true and the run passed"),
  202: jsonContent(TriggerResponse, "Queued (without wait); Location names the run"),
  422: jsonContent(SettledRunError, "wait: true and the run failed: your tests failed (code run.failed); do not retry"),
  409: jsonContent(SettledRunError, "wait: true and the run was cancelled (code run.cancelled)"),
  502: jsonContent(SettledRunError, "wait: true and the run errored: our side or the site unreachable (code run.error); retry"),
  504: jsonContent(SettledRunError, "wait: true and the run was still going after 10 minutes (code run.wait_timeout); poll `url`"),
  ...errorResponses(400, 401, 403, 404, 413, 415, 503),
};

export const triggerRoute = createRoute({
  method: "post", path: "/ci/trigger", tags, ...access(["ci"], { startsBrowserWork: true }), summary: "Trigger a run of the CI token's project",
  request: { body: jsonBody(TriggerBody) },
  responses: triggerResponses,
});

export const suiteRunRoute = createRoute({
  method: "post", path: "/suites/{id}/run", tags, ...access(["org", "ci"], { startsBrowserWork: true }), summary: "Run one suite",
  request: { params: IdParams, body: jsonBody(SuiteRunBody) },
  responses: triggerResponses,
});

export const getRunRoute = createRoute({
  method: "get", path: "/ci/runs/{runId}", tags, ...access(["org", "ci"]), summary: "A run's status, counts, timings and per-case results",
  request: { params: z.strictObject({ runId: IdSchema }) },
  responses: { 200: jsonContent(RunDetailSchema, "The run"), ...errorResponses(400, 401, 404) },
});

export const getRunAliasRoute = createRoute({
  method: "get", path: "/runs/{runId}", tags, ...access(["org", "ci"]), summary: "The same as GET /ci/runs/{runId}: A run's status, counts, timings and per-case results",
  request: { params: z.strictObject({ runId: IdSchema }) },
  responses: { 200: jsonContent(RunDetailSchema, "The run"), ...errorResponses(400, 401, 404) },
});

export const runEventsRoute = createRoute({
  method: "get", path: "/runs/{runId}/events", tags, ...access(["org", "ci"]),
  summary: "A run's events in order (status_changed, case_started, case_finished, step_failed, log); with Accept: text/event-stream they arrive live as Server-Sent Events until the run settles (resumable with Last-Event-ID); with Upgrade: websocket, the same events on a WebSocket",
  request: { params: z.strictObject({ runId: IdSchema }), query: RunEventsQuery },
  responses: {
    200: {
      content: {
        "application/json": { schema: z.object({ items: z.array(RunEventSchema), totalCount: z.number().int(), limit: z.number().int(), offset: z.number().int() }) },
        "text/event-stream": { schema: z.string() },
      },
      description: "The events",
    },
    101: { description: "Switching to a WebSocket carrying the same events, one JSON text message each" },
    ...errorResponses(400, 401, 404),
  },
});

export const listRunsRoute = createRoute({
  method: "get", path: "/projects/{id}/runs", tags, ...access(["org", "ci"]), summary: "A project's runs, newest first",
  request: { params: IdParams, query: RunListQuery },
  responses: { 200: jsonContent(paginated(RunSchema), "A page of runs"), ...errorResponses(400, 401, 404) },
});

export const cancelRunRoute = createRoute({
  method: "post", path: "/ci/runs/{runId}/cancel", tags, ...access(["org", "ci"]), summary: "Cancel a queued or running run",
  request: { params: z.strictObject({ runId: IdSchema }) },
  responses: { 200: jsonContent(RunDetailSchema, "The cancelled run"), ...errorResponses(400, 401, 404, 409) },
});
