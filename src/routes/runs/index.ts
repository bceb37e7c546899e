import type { Context } from "hono";
import type { AppEnv } from "../../env";
import type { RunRow } from "../../db/runs";
import type { RunStatus } from "../../schemas/runs";
import { runPageUrl } from "../../services/links";
import { ApiError } from "../../errors";
import { lastEventIdOf, SSE_HEADERS } from "../../services/event-stream";
import { runEventSocket, runEventStream, runEventsPage } from "../../services/run-events";
import { cancelRun, getRunDetail, listRunsPage, runDetailView, runSummaryView, startRun, startRunOnce, startSuiteRun, waitForRun, type StartRunInput } from "../../services/runs";
import { createRouter, linkSigner, depsOf, scopeFor, tenantOf } from "../router";
import * as routes from "./runs.routes";

/** How `wait: true` reports each way a run can end, so `curl -f` fails and scripts can tell them apart. */
const WAIT_OUTCOMES: Record<RunStatus, { status: 200 | 409 | 422 | 502 | 504; code?: string; error?: string }> = {
  passed: { status: 200 },
  failed: { status: 422, code: "run.failed", error: "The run failed: some tests did not pass" },
  cancelled: { status: 409, code: "run.cancelled", error: "The run was cancelled" },
  error: { status: 502, code: "run.error", error: "The run could not be completed (our side or the site was unreachable); retry" },
  queued: { status: 504, code: "run.wait_timeout", error: "The run is still queued after the wait limit; poll its url" },
  running: { status: 504, code: "run.wait_timeout", error: "The run is still running after the wait limit; poll its url" },
};

async function answerStartedRun(c: Context<AppEnv>, run: RunRow, wait: boolean) {
  const signer = linkSigner(c);
  if (!wait) {
    c.header("Location", `/api/v1/ci/runs/${run.id}`);
    return c.json({ runId: run.id, status: run.status, runType: run.runType, url: await runPageUrl(signer, run.id) }, 202);
  }
  const deps = depsOf(c);
  const settled = await waitForRun(deps, run.id);
  const view = await runDetailView(deps, settled, signer, Date.now());
  const outcome = WAIT_OUTCOMES[settled.status];
  if (outcome.status === 200) return c.json(view, 200);
  return c.json({ ...view, error: outcome.error!, code: outcome.code!, details: { status: settled.status } }, outcome.status);
}

/** GET /ci/runs/:id and GET /runs/:id answer the same. */
const runOf = (c: Context<AppEnv>, runId: string) => getRunDetail(depsOf(c), scopeFor(c), runId, linkSigner(c), Date.now());

export const runsRouter = createRouter()
  .openapi(routes.triggerRoute, async (c) => {
    const caller = tenantOf(c);
    if (caller.kind !== "ci") throw new Error("the trigger's access() admits CI tokens only");
    const { wait, ...input } = c.req.valid("json");
    const deps = depsOf(c);
    const scope = scopeFor(c);
    const run = await startRunOnce(deps, scope, c.get("idempotency"), () => startRun(deps, scope, { projectId: caller.projectId, linkOrigin: linkSigner(c).origin }, input as StartRunInput));
    return answerStartedRun(c, run, wait) as never;
  })
  .openapi(routes.suiteRunRoute, async (c) => {
    const { wait, ...input } = c.req.valid("json");
    const deps = depsOf(c);
    const scope = scopeFor(c);
    const run = await startRunOnce(deps, scope, c.get("idempotency"), () => startSuiteRun(deps, scope, { suiteId: c.req.valid("param").id, linkOrigin: linkSigner(c).origin }, input));
    return answerStartedRun(c, run, wait) as never;
  })
  .openapi(routes.getRunRoute, async (c) => c.json(await runOf(c, c.req.valid("param").runId), 200))
  .openapi(routes.getRunAliasRoute, async (c) => c.json(await runOf(c, c.req.valid("param").runId), 200))
  .openapi(routes.runEventsRoute, async (c) => {
    const deps = depsOf(c);
    const { runId } = c.req.valid("param");
    const live = c.req.header("upgrade")?.toLowerCase() === "websocket" ? "socket" : (c.req.header("accept") ?? "").includes("text/event-stream") ? "sse" : null;
    if (live) {
      const lastEventId = lastEventIdOf(c.req.header("last-event-id") ?? c.req.valid("query").lastEventId);
      if (lastEventId === null) throw new ApiError("request.invalid", "Last-Event-ID must be an event id");
      if (live === "socket") return (await runEventSocket(deps, scopeFor(c), runId, lastEventId)) as never;
      return new Response(await runEventStream(deps, scopeFor(c), runId, lastEventId), { headers: SSE_HEADERS }) as never;
    }
    const { limit, offset } = c.req.valid("query");
    return c.json(await runEventsPage(deps, scopeFor(c), runId, { limit, offset }), 200);
  })
  .openapi(routes.cancelRunRoute, async (c) => {
    const deps = depsOf(c);
    const run = await cancelRun(deps, scopeFor(c), c.req.valid("param").runId);
    return c.json(await runDetailView(deps, run, linkSigner(c), Date.now()), 200);
  })
  .openapi(routes.listRunsRoute, async (c) => {
    const query = c.req.valid("query");
    const { items, totalCount } = await listRunsPage(depsOf(c), scopeFor(c), c.req.valid("param").id, query);
    const signer = linkSigner(c);
    const views = await Promise.all(items.map(async (run) => runSummaryView(run, await runPageUrl(signer, run.id))));
    return c.json({ items: views, totalCount, page: query.page, pageSize: query.pageSize }, 200);
  });
