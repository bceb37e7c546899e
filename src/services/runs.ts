// Starting runs (the CI trigger and "run this suite") and reading them back.
import type { Db } from "../db/client";
import { findProject } from "../db/projects";
import { existingSuiteIds, findSuite } from "../db/suites";
import { selectCaseIds } from "../db/cases";
import { findRun, findRunById, findRunWithResults, insertRun, updateQueuedRunCases, loadRunOutcome, listRuns, type CaseResultRow, type RunOutcomeRows, type RunRow } from "../db/runs";
import type { Scope } from "../auth/tenancy";
import { judgeUrl } from "../browser/url-policy";
import { ApiError, notFound } from "../errors";
import { uuidv7 } from "../ids";
import type { PageQuery } from "../schemas/common";
import type { RunOptions, RunStatus, TriggerBody } from "../schemas/runs";
import { artifactUrl, runPageUrl, type LinkSigner } from "./links";
import { resolveCrawlSettings, startCrawl } from "./crawls";
import type { CreateCrawlBody } from "../schemas/crawls";
import type { IdempotentRequest } from "./idempotency";
import type { ServiceDeps } from "./deps";
import type { SettledListener } from "./settled";
import { settleRunBy } from "./run-lifecycle";
import { checkGitHubFields, prepareGitHubReports, sealGitHubToken } from "./reporting";

/** Starting a run may start the crawl before it, so it takes what a crawl needs too. */
export type RunDeps = Pick<ServiceDeps, "db" | "jobs" | "notify" | "tracker" | "policy" | "keys" | "now" | "onSettled">;

/** A queued run that no consumer picks up within this time is settled as `error`. */
export const QUEUE_WATCHDOG_MS = 30 * 60 * 1000;
/** The longest a `wait: true` caller is held (the contract's "up to 10 minutes"). */
export const MAX_WAIT_MS = 10 * 60 * 1000;

export type StartRunInput = Omit<TriggerBody, "wait" | "browserProfile"> & { browserProfile: TriggerBody["browserProfile"] };

export async function startRun(
  deps: RunDeps,
  scope: Scope,
  target: { projectId: string; suiteId?: string; linkOrigin: string },
  input: StartRunInput,
): Promise<RunRow> {
  checkGitHubFields(input);
  if (input.browserProfile !== "chromium") {
    throw new ApiError("run.browser_unsupported",
      `browserProfile "${input.browserProfile}" is not available: runs use Cloudflare Browser Rendering, which provides Chromium only`,
      { browserProfile: input.browserProfile, supported: ["chromium"] },
    );
  }
  const project = await findProject(deps.db, scope, target.projectId);
  if (!project) throw notFound("Project");

  const baseUrl = input.baseUrl ?? project.baseUrl;
  if (baseUrl) {
    const verdict = judgeUrl(deps.policy, baseUrl);
    if (!verdict.allowed) throw new ApiError("run.target_not_allowed", `baseUrl refused: ${verdict.reason}`, { baseUrl });
  }

  const suiteIds = target.suiteId ? [target.suiteId] : input.suiteIds;
  if (input.suiteIds) {
    const known = new Set(await existingSuiteIds(deps.db, scope, project.id, input.suiteIds));
    const missing = input.suiteIds.filter((id) => !known.has(id));
    if (missing.length) throw new ApiError("resource.not_found", "Some suites were not found in this project", { suiteIds: missing });
  }
  const caseIds = await selectCaseIds(deps.db, scope, project.id, { suiteIds, caseIds: input.caseIds });
  if (input.caseIds) {
    const known = new Set(caseIds);
    const missing = input.caseIds.filter((id) => !known.has(id));
    if (missing.length) throw new ApiError("resource.not_found", "Some cases were not found in the selected suites of this project", { caseIds: missing });
  }
  // crawl: true crawls first; on a project without cases the crawl generates them.
  const crawlBody = input.crawl ? crawlFieldsOf(input) : null;
  if (crawlBody) resolveCrawlSettings(crawlBody, project);
  if (caseIds.length === 0 && !(crawlBody && !input.suiteIds && !input.caseIds)) {
    throw new ApiError("run.no_cases", "The selection holds no test cases: add cases to a suite first, or crawl with crawl: true", {
      suiteIds: suiteIds ?? null,
    });
  }

  const { githubToken: _never, baseUrl: _b, browserProfile, suiteIds: _s, caseIds: _c, ...recorded } = input;
  // The branches screenshots are judged on, settled now so a later change of the project's default does not move a run.
  const branches = { branch: input.branch ?? project.defaultBranch, baseBranch: input.baseBranch ?? project.defaultBranch };
  const options: RunOptions = { ...recorded, ...branches, ...(suiteIds ? { suiteIds } : {}), ...(input.caseIds ? { caseIds: input.caseIds } : {}) };
  const id = uuidv7();
  const githubToken = input.githubToken ? await sealGitHubToken(deps, id, input.githubToken) : null;
  const row: RunRow = {
    id,
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
    linkOrigin: target.linkOrigin,
  };
  await insertRun(deps.db, row);
  if (crawlBody) {
    // The run goes to the queue when its crawl settles (continueRunAfterCrawl, a settled listener).
    try {
      await deps.tracker.arm("run", row.id, QUEUE_WATCHDOG_MS);
      await prepareGitHubReports(deps, row, githubToken);
      await startCrawl(deps, scope, project.id, crawlBody, row.id);
    } catch (error) {
      await settleRunBy(deps, row.id, "abandon", { status: "error", errorMessage: "The crawl before the run could not start" });
      throw error;
    }
    return row;
  }
  try {
    await deps.tracker.arm("run", row.id, QUEUE_WATCHDOG_MS);
    await prepareGitHubReports(deps, row, githubToken);
    await deps.jobs.send({ kind: "run", id: row.id });
  } catch (error) {
    // The record stays, settled as error, so nothing is lost or left queued forever.
    await settleRunBy(deps, row.id, "abandon", { status: "error", errorMessage: "The run could not be queued" });
    throw new ApiError("run.queue_unavailable", "The run could not be queued; try again", { runId: row.id }, { "Retry-After": "5" });
  }
  return row;
}

/** The trigger's crawl fields, as a crawl request. */
function crawlFieldsOf(input: StartRunInput): CreateCrawlBody {
  const { baseUrl, maxPages, maxDepth, crawlPages, device, fillForms, respectRobots, generateTests } = input;
  return Object.fromEntries(
    Object.entries({ baseUrl, maxPages, maxDepth, crawlPages, device, fillForms, respectRobots, generateTests }).filter(([, v]) => v !== undefined),
  ) as CreateCrawlBody;
}

/**
 * The settled listener that goes on with a crawl: true run once its crawl settles: a crawl that
 * did not complete ends the run (cancelled with it, or as error); otherwise a run that selected
 * "all cases" takes the project's cases as they now are (generated ones included) and is queued.
 * Idempotent: only a run still queued is touched (a redelivered send is absorbed by the executor).
 */
export function continueRunAfterCrawl(deps: Pick<ServiceDeps, "db" | "jobs" | "now" | "tracker" | "onSettled">): SettledListener {
  return {
    name: "continue the run after its crawl",
    async handle(work) {
      if (work.kind !== "crawl" || !work.crawl.runId) return;
      const { crawl } = work;
      const run = await findRunById(deps.db, crawl.runId!);
      if (!run || run.status !== "queued") return;
      if (crawl.status !== "completed") {
        const status = crawl.status === "cancelled" ? "cancelled" : "error";
        const errorMessage = status === "error" ? `The crawl before the run failed: ${crawl.errorMessage ?? crawl.status}` : null;
        await settleRunBy(deps, run.id, "abandon", { status, errorMessage });
        return;
      }
      if (!run.options.suiteIds && !run.options.caseIds) {
        const caseIds = await selectCaseIds(deps.db, { orgId: run.orgId, projectId: run.projectId }, run.projectId, {});
        await updateQueuedRunCases(deps.db, run.id, caseIds);
      }
      await deps.jobs.send({ kind: "run", id: run.id });
    },
  };
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

export async function startSuiteRun(deps: RunDeps, scope: Scope, target: { suiteId: string; linkOrigin: string }, input: StartRunInput) {
  const found = await findSuite(deps.db, scope, target.suiteId);
  if (!found) throw notFound("Suite");
  return startRun(deps, scope, { projectId: found.suite.projectId, ...target }, input);
}

/** Holds until the run settles or `timeoutMs` passes, woken by the run's Durable Object. */
export async function waitForRun(deps: Pick<ServiceDeps, "db" | "tracker">, runId: string, timeoutMs = MAX_WAIT_MS) {
  // If the tracker goes away mid-wait (a deploy restarts it), answer with what D1 holds:
  // a run still going is then reported as "still running", never as failed.
  await deps.tracker.waitForSettle(runId, timeoutMs).catch((error) => console.error("wait interrupted", runId, error));
  const run = await findRunById(deps.db, runId);
  if (!run) throw notFound("Run");
  return run;
}

/** Cancels a queued or running run; the executor stops before its next case. */
export async function cancelRun(deps: Pick<ServiceDeps, "db" | "now" | "tracker" | "onSettled">, scope: Scope, id: string) {
  const run = await findRun(deps.db, scope, id);
  if (!run) throw notFound("Run");
  const cancelled = await settleRunBy(deps, id, "cancel", { status: "cancelled", errorMessage: null });
  if (!cancelled) throw new ApiError("run.already_settled", `The run already ended as ${run.status}`, { status: run.status });
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
      visual: r.visual,
    })),
  );
}

export async function runDetailView(deps: { db: Db }, run: RunRow, signer: LinkSigner, nowMs: number, loaded?: RunOutcomeRows) {
  const { results, notifications } = loaded ?? (await loadRunOutcome(deps.db, run.id));
  return {
    ...runSummaryView(run, await runPageUrl(signer, run.id)),
    results: await caseResultViews(results, signer, nowMs),
    notifications: notifications.map(({ target, kind, ok, status, message, attempts }) => ({ target, kind, ok, status, message, attempts })),
  };
}

/** GET of a run with its results: one D1 round trip, and the primary only if a replica has not seen it yet. */
export async function getRunDetail(deps: { db: Db; primaryDb?: () => Db }, scope: Scope, id: string, signer: LinkSigner, nowMs: number) {
  const found = (await findRunWithResults(deps.db, scope, id)) ?? (deps.primaryDb ? await findRunWithResults(deps.primaryDb(), scope, id) : undefined);
  if (!found) throw notFound("Run");
  return runDetailView(deps, found.run, signer, nowMs, found);
}

export type RunDetailView = Awaited<ReturnType<typeof runDetailView>>;
