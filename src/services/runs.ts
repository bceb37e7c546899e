// Starting runs (the CI trigger and "run this suite") and reading them back.
import type { Db } from "../db/client";
import { findProject } from "../db/projects";
import { existingSuiteIds, findSuite } from "../db/suites";
import { selectCaseIds } from "../db/cases";
import { findRun, findRunById, findRunWithResults, insertRun, updateQueuedRunCases, listCaseResults, listRuns, settleRun, type CaseResultRow, type RunRow } from "../db/runs";
import type { Scope } from "../auth/tenancy";
import { judgeUrl, type UrlPolicy } from "../browser/url-policy";
import { ApiError, notFound } from "../errors";
import { uuidv7 } from "../ids";
import type { PageQuery } from "../schemas/common";
import type { RunOptions, RunStatus, SettledRunStatus, TriggerBody } from "../schemas/runs";
import { artifactUrl, runPageUrl, type LinkSigner } from "./links";
import type { Clock } from "./clock";
import { resolveCrawlSettings, startCrawl, type CrawlDeps } from "./crawls";
import type { CreateCrawlBody } from "../schemas/crawls";
import type { CrawlRow } from "../db/crawls";
import type { RunSignals } from "./run-executor";
import type { IdempotentRequest } from "./idempotency";

/** What the run's Durable Object hears when a run is queued, and how a caller waits on it. */
export type RunWatch = {
  queued(runId: string, watchdogMs: number): Promise<void>;
  waitForSettle(runId: string, timeoutMs: number): Promise<SettledRunStatus | null>;
};

export type RunDeps = { db: Db; jobs: Queue; watch: RunWatch; policy: UrlPolicy; now: Clock; scans?: CrawlDeps };

/** A queued run that no consumer picks up within this time is settled as `error`. */
export const QUEUE_WATCHDOG_MS = 30 * 60 * 1000;
/** The longest a `wait: true` caller is held (the contract's "up to 10 minutes"). */
export const MAX_WAIT_MS = 10 * 60 * 1000;

export type StartRunInput = Omit<TriggerBody, "wait" | "browserProfile"> & { browserProfile: TriggerBody["browserProfile"] };

export async function startRun(
  deps: RunDeps,
  scope: Scope,
  target: { projectId: string; suiteId?: string },
  input: StartRunInput,
): Promise<RunRow> {
  if (input.browserProfile !== "chromium") {
    throw new ApiError(
      400,
      "run.browser_unsupported",
      `browserProfile "${input.browserProfile}" is not available: runs use Cloudflare Browser Rendering, which provides Chromium only`,
      { browserProfile: input.browserProfile, supported: ["chromium"] },
    );
  }
  const project = await findProject(deps.db, scope, target.projectId);
  if (!project) throw notFound("Project");

  const baseUrl = input.baseUrl ?? project.baseUrl;
  if (baseUrl) {
    const verdict = judgeUrl(deps.policy, baseUrl);
    if (!verdict.allowed) throw new ApiError(400, "run.target_not_allowed", `baseUrl refused: ${verdict.reason}`, { baseUrl });
  }

  const suiteIds = target.suiteId ? [target.suiteId] : input.suiteIds;
  if (input.suiteIds) {
    const known = new Set(await existingSuiteIds(deps.db, scope, project.id, input.suiteIds));
    const missing = input.suiteIds.filter((id) => !known.has(id));
    if (missing.length) throw new ApiError(404, "not_found", "Some suites were not found in this project", { suiteIds: missing });
  }
  const caseIds = await selectCaseIds(deps.db, scope, project.id, { suiteIds, caseIds: input.caseIds });
  if (input.caseIds) {
    const known = new Set(caseIds);
    const missing = input.caseIds.filter((id) => !known.has(id));
    if (missing.length) throw new ApiError(404, "not_found", "Some cases were not found in the selected suites of this project", { caseIds: missing });
  }
  // crawl: true scans first; on a project without cases the scan generates them.
  const scanBody = input.crawl ? scanFieldsOf(input) : null;
  if (scanBody) resolveCrawlSettings(scanBody, project);
  if (caseIds.length === 0 && !(scanBody && !input.suiteIds && !input.caseIds)) {
    throw new ApiError(400, "run.no_cases", "The selection holds no test cases: add cases to a suite first, or scan with crawl: true", {
      suiteIds: suiteIds ?? null,
    });
  }

  const { githubToken: _never, baseUrl: _b, browserProfile, suiteIds: _s, caseIds: _c, ...recorded } = input;
  const options: RunOptions = { ...recorded, ...(suiteIds ? { suiteIds } : {}), ...(input.caseIds ? { caseIds: input.caseIds } : {}) };
  const row: RunRow = {
    id: uuidv7(),
    orgId: project.orgId,
    projectId: project.id,
    runType: "manual",
    status: "queued",
    browserProfile,
    baseUrl: baseUrl ?? null,
    options,
    caseIds,
    passed: 0,
    failed: 0,
    skipped: 0,
    errorMessage: null,
    createdAt: deps.now().toISOString(),
    startedAt: null,
    finishedAt: null,
  };
  await insertRun(deps.db, row);
  if (scanBody) {
    if (!deps.scans) throw new Error("startRun with crawl: true needs the scan dependencies");
    await deps.watch.queued(row.id, QUEUE_WATCHDOG_MS);
    try {
      await startCrawl(deps.scans, scope, project.id, scanBody, row.id);
    } catch (error) {
      await settleRun(deps.db, row.id, { status: "error", errorMessage: "The scan before the run could not start" }, deps.now().toISOString(), ["queued"]);
      throw error;
    }
    return row;
  }
  try {
    await deps.watch.queued(row.id, QUEUE_WATCHDOG_MS);
    await deps.jobs.send({ kind: "run", id: row.id });
  } catch (error) {
    // The record stays, settled as error, so nothing is lost or left queued forever.
    await settleRun(deps.db, row.id, { status: "error", errorMessage: "The run could not be queued" }, deps.now().toISOString(), ["queued"]);
    throw new ApiError(503, "run.queue_unavailable", "The run could not be queued; try again", { runId: row.id }, { "Retry-After": "5" });
  }
  return row;
}

/** The trigger's scan fields, as a scan request. */
function scanFieldsOf(input: StartRunInput): CreateCrawlBody {
  const { baseUrl, maxPages, maxDepth, crawlPages, device, fillForms, respectRobots, generateTests } = input;
  return Object.fromEntries(
    Object.entries({ baseUrl, maxPages, maxDepth, crawlPages, device, fillForms, respectRobots, generateTests }).filter(([, v]) => v !== undefined),
  ) as CreateCrawlBody;
}

/**
 * After the scan of a crawl: true trigger: a scan that did not complete ends the run (cancelled
 * with it, or as error); otherwise a run that selected "all cases" takes the project's cases as
 * they now are (generated ones included), and goes to the queue.
 */
export async function continueRunAfterScan(deps: Pick<RunDeps, "db" | "jobs" | "now"> & { signals: Pick<RunSignals, "settled"> }, crawl: CrawlRow) {
  if (!crawl.runId) return;
  const run = await findRunById(deps.db, crawl.runId);
  if (!run || run.status !== "queued") return;
  const at = deps.now().toISOString();
  if (crawl.status !== "completed") {
    const status = crawl.status === "cancelled" ? "cancelled" : "error";
    const settled = await settleRun(deps.db, run.id, { status, errorMessage: status === "error" ? `The scan before the run failed: ${crawl.errorMessage ?? crawl.status}` : null }, at, ["queued"]);
    if (settled) await deps.signals.settled(run.id, status);
    return;
  }
  if (!run.options.suiteIds && !run.options.caseIds) {
    const caseIds = await selectCaseIds(deps.db, { orgId: run.orgId, projectId: run.projectId }, run.projectId, {});
    await updateQueuedRunCases(deps.db, run.id, caseIds);
  }
  await deps.jobs.send({ kind: "run", id: run.id });
}

/**
 * Starts a run once per Idempotency-Key: a retry of a request that already started one gets that
 * run back (to wait on it); otherwise the run is started and recorded on the key before anyone waits.
 */
export async function startRunOnce(deps: { db: Db }, scope: Scope, once: IdempotentRequest | undefined, start: () => Promise<RunRow>) {
  if (once?.startedRunId) {
    const run = await findRun(deps.db, scope, once.startedRunId);
    if (!run) throw notFound("Run");
    return run;
  }
  const run = await start();
  await once?.runStarted(run.id);
  return run;
}

export async function startSuiteRun(deps: RunDeps, scope: Scope, suiteId: string, input: StartRunInput) {
  const found = await findSuite(deps.db, scope, suiteId);
  if (!found) throw notFound("Suite");
  return startRun(deps, scope, { projectId: found.suite.projectId, suiteId }, input);
}

/** Holds until the run settles or `timeoutMs` passes, woken by the run's Durable Object. */
export async function waitForRun(deps: Pick<RunDeps, "db" | "watch">, runId: string, timeoutMs = MAX_WAIT_MS) {
  // If the tracker goes away mid-wait (a deploy restarts it), answer with what D1 holds:
  // a run still going is then reported as "still running", never as failed.
  await deps.watch.waitForSettle(runId, timeoutMs).catch((error) => console.error("wait interrupted", runId, error));
  const run = await findRunById(deps.db, runId);
  if (!run) throw notFound("Run");
  return run;
}

/** Cancels a queued or running run; the executor stops before its next case. */
export async function cancelRun(deps: Pick<RunDeps, "db" | "now"> & { signals: Pick<RunSignals, "settled"> }, scope: Scope, id: string) {
  const run = await findRun(deps.db, scope, id);
  if (!run) throw notFound("Run");
  const cancelled = await settleRun(deps.db, id, { status: "cancelled", errorMessage: null }, deps.now().toISOString(), ["queued", "running"]);
  if (!cancelled) {
    throw new ApiError(409, "run.already_settled", `The run already ended as ${run.status}`, { status: run.status });
  }
  await deps.signals.settled(id, "cancelled");
  return cancelled;
}

export async function listRunsPage(deps: { db: Db }, scope: Scope, projectId: string, query: PageQuery & { status?: RunStatus }) {
  if (!(await findProject(deps.db, scope, projectId))) throw notFound("Project");
  return listRuns(deps.db, scope, projectId, query);
}

// Views: what callers see of a run.

export function runSummaryView(run: RunRow, url: string) {
  const created = Date.parse(run.createdAt);
  const started = run.startedAt ? Date.parse(run.startedAt) : null;
  const finished = run.finishedAt ? Date.parse(run.finishedAt) : null;
  const queuedMs = started !== null ? started - created : finished !== null ? finished - created : null;
  const runningMs = started !== null && finished !== null ? finished - started : null;
  return {
    runId: run.id,
    status: run.status,
    runType: run.runType,
    url,
    projectId: run.projectId,
    browserProfile: run.browserProfile,
    baseUrl: run.baseUrl,
    passed: run.passed,
    failed: run.failed,
    skipped: run.skipped,
    total: run.caseIds.length,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    queuedMs,
    runningMs,
    durationMs: finished !== null ? finished - created : null,
    errorMessage: run.errorMessage,
    options: run.options as Record<string, unknown>,
  };
}

export async function caseResultViews(results: CaseResultRow[], signer: LinkSigner, nowMs: number) {
  return Promise.all(
    results.map(async (r) => ({
      caseId: r.caseId,
      caseName: r.caseName,
      status: r.status,
      attempts: r.attempts,
      durationMs: r.durationMs,
      failedStep: r.failedStep !== null && r.failedAction ? { index: r.failedStep, action: r.failedAction } : null,
      reason: r.reason,
      screenshotUrl: r.screenshotKey ? await artifactUrl(signer, r.screenshotKey, nowMs) : null,
    })),
  );
}

export async function runDetailView(deps: { db: Db }, run: RunRow, signer: LinkSigner, nowMs: number, results?: CaseResultRow[]) {
  const rows = results ?? (await listCaseResults(deps.db, run.id));
  return { ...runSummaryView(run, await runPageUrl(signer, run.id)), results: await caseResultViews(rows, signer, nowMs) };
}

/** GET of a run with its results: one D1 round trip, and the primary only if a replica has not seen it yet. */
export async function getRunDetail(deps: { db: Db; primaryDb?: () => Db }, scope: Scope, id: string, signer: LinkSigner, nowMs: number) {
  const found = (await findRunWithResults(deps.db, scope, id)) ?? (deps.primaryDb ? await findRunWithResults(deps.primaryDb(), scope, id) : undefined);
  if (!found) throw notFound("Run");
  return runDetailView(deps, found.run, signer, nowMs, found.results);
}

export type RunDetailView = Awaited<ReturnType<typeof runDetailView>>;
