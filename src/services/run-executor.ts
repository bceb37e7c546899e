// Executes a queued run: the JOBS consumer calls this once per delivery. At-least-once
// delivery is safe: a settled run is left alone, a run found `running` (its consumer died)
// resumes with the cases that have no result yet, and every transition is conditional.
import { findCasesByIds, type CaseRow } from "../db/cases";
import { findRunById, listCaseResults, upsertCaseResult, type RunRow } from "../db/runs";
import { uuidv7 } from "../ids";
import { isSettled, type SettledRunStatus } from "../schemas/runs";
import { artifactKeys, putPng } from "../storage/artifacts";
import type { Browser } from "@cloudflare/puppeteer";
import { isBrowserFault, withBrowserSession, type SessionInfo } from "../browser/session";
import { runCaseInFreshContext } from "../browser/case-runner";
import { SiteUnreachable } from "../browser/step-runner";
import type { ServiceDeps } from "./deps";
import { announceRun, settleRunBy, startRunning } from "./run-lifecycle";
import { recordRunEvent } from "./run-events";
import { checkScreenshot } from "./visual";
import type { VisualOutcome } from "../schemas/visual";

export type ExecutorDeps = Pick<ServiceDeps, "db" | "artifacts" | "browser" | "tracker" | "policy" | "now" | "onSettled" | "onRunStarted" | "timing">;

/** Our runner's one browser profile, device and viewport (browser/case-runner.ts); baselines are kept per each. */
const RUN_LOOK = { browserProfile: "chromium", device: "desktop", viewport: "1280x800" } as const;
/** Runs made before branches were recorded compare on main. */
const DEFAULT_BRANCH = "main";

const screenshotSubject = (run: RunRow, testCase: CaseRow, chromiumVersion: string) => ({
  ...RUN_LOOK,
  orgId: run.orgId,
  projectId: run.projectId,
  runId: run.id,
  caseId: testCase.id,
  caseName: testCase.name,
  branch: run.options.branch ?? DEFAULT_BRANCH,
  baseBranch: run.options.baseBranch ?? run.options.branch ?? DEFAULT_BRANCH,
  chromiumVersion,
});

/** Silence longer than this settles a run as `error`: its consumer is presumed dead. */
export const CASE_WATCHDOG_MS = 5 * 60 * 1000;
/** A case may run long (200 steps of up to 30 s each): while it runs, the run says it is alive this often. */
export const HEARTBEAT_MS = 60 * 1000;

export type ExecutionReport = { outcome: "settled" | "skipped"; status?: SettledRunStatus; sessionReused?: boolean; browserStartMs?: number };

export async function executeRun(deps: ExecutorDeps, runId: string): Promise<ExecutionReport> {
  const { db } = deps;
  const iso = () => deps.now().toISOString();
  const found = await findRunById(db, runId);
  if (!found) return { outcome: "skipped" };
  if (isSettled(found.status)) {
    // The settle may have reached D1 but not its listeners before a crash: announce it again.
    await announceRun(deps, found);
    return { outcome: "skipped" };
  }
  const run = found.status === "queued" ? ((await startRunning(deps, runId)) ?? (await findRunById(db, runId))) : found;
  if (!run || run.status !== "running") return { outcome: "skipped" };
  await deps.tracker.arm("run", runId, watchdogMsOf(deps));

  const done = new Set((await listCaseResults(db, runId)).map((r) => r.caseId));
  const cases = new Map((await findCasesByIds(db, run.caseIds)).map((c) => [c.id, c]));
  const pending = run.caseIds.map((id, position) => ({ id, position })).filter(({ id }) => !done.has(id));

  // Cases deleted since the trigger are reported as skipped rather than silently dropped.
  for (const { id, position } of pending.filter(({ id }) => !cases.has(id))) {
    await upsertCaseResult(db, resultRow(run, id, "(deleted case)", position, { status: "skipped", reason: "The case was deleted before the run reached it." }, iso()));
  }
  const runnable = pending.filter(({ id }) => cases.has(id));

  let settledAs: { status: "passed" | "failed" | "error"; errorMessage?: string };
  const report: Pick<ExecutionReport, "sessionReused" | "browserStartMs"> = {};
  const runCases = (browser: Browser, session: SessionInfo) => {
    report.sessionReused ??= session.reused;
    report.browserStartMs ??= session.startMs;
    return runPendingCases(deps, run, runnable, cases, done, browser);
  };
  try {
    // A browser that dies mid-run costs a fresh session, not the run: cases already
    // recorded are not run again.
    for (let attempt = 1; runnable.some(({ id }) => !done.has(id)); attempt++) {
      try {
        await withBrowserSession(deps.browser, runCases);
        break;
      } catch (error) {
        if (!isBrowserFault(error) || attempt >= SESSION_ATTEMPTS) throw error;
      }
    }
    const results = await listCaseResults(db, runId);
    settledAs = { status: results.some((r) => r.status === "failed") ? "failed" : "passed" };
  } catch (error) {
    if (!(error instanceof SiteUnreachable)) throw error; // the consumer retries, then settles as error
    settledAs = { status: "error", errorMessage: `Site unreachable: ${error.message}` };
  }

  // Cancelled or ended by the watchdog meanwhile: the transition does not apply, and whoever
  // settled the run announced it.
  await settleRunBy(deps, runId, "finish", settledAs);
  return { outcome: "settled", status: settledAs.status, ...report };
}

const SESSION_ATTEMPTS = 2;

const watchdogMsOf = (deps: Pick<ExecutorDeps, "timing">) => deps.timing?.watchdogMs ?? CASE_WATCHDOG_MS;

async function runPendingCases(
  deps: ExecutorDeps,
  run: RunRow,
  runnable: { id: string; position: number }[],
  cases: Map<string, CaseRow>,
  done: Set<string>,
  browser: Browser,
) {
  const { db } = deps;
  const chromiumVersion = await browser.version();
  for (const { id, position } of runnable) {
    if (done.has(id)) continue;
    // Cancelled (or settled by the watchdog) meanwhile: stop before the next case.
    if ((await findRunById(db, run.id))?.status !== "running") return;
    const testCase = cases.get(id)!;
    await recordRunEvent(deps, run.id, "case_started", { caseId: id, caseName: testCase.name, position });
    const heartbeat = setInterval(() => void deps.tracker.arm("run", run.id, watchdogMsOf(deps)).catch(() => {}), deps.timing?.heartbeatMs ?? HEARTBEAT_MS);
    const visual: VisualOutcome[] = [];
    const result = await runCaseInFreshContext(browser, testCase.steps, {
      baseUrl: run.baseUrl,
      policy: deps.policy,
      checkScreenshot: async (step, png) => {
        const subject = { ...screenshotSubject(run, testCase, chromiumVersion), stepName: step.name, threshold: step.threshold };
        const verdict = await checkScreenshot(deps, subject, png);
        visual.push(verdict.outcome);
        return verdict;
      },
    }).finally(() => clearInterval(heartbeat));
    let screenshotKey: string | null = null;
    if (result.failureScreenshot) {
      screenshotKey = artifactKeys.failureScreenshot(run.id, id);
      await putPng(deps.artifacts, screenshotKey, result.failureScreenshot);
    }
    const outcome = result.status === "passed" ? { status: "passed" as const } : { status: "failed" as const, reason: result.reason };
    await upsertCaseResult(db, {
      ...resultRow(run, id, testCase.name, position, outcome, deps.now().toISOString()),
      durationMs: result.durationMs,
      failedStep: result.status === "failed" ? result.failedStep : null,
      failedAction: result.status === "failed" ? result.action : null,
      screenshotKey,
      visual: visual.length ? visual : null,
    });
    done.add(id);
    if (result.status === "failed") {
      await recordRunEvent(deps, run.id, "step_failed", { caseId: id, step: result.failedStep, action: result.action, reason: result.reason });
      if (result.consoleLines.length) await recordRunEvent(deps, run.id, "log", { caseId: id, lines: result.consoleLines });
    }
    await recordRunEvent(deps, run.id, "case_finished", {
      caseId: id, caseName: testCase.name, status: outcome.status, durationMs: result.durationMs, reason: result.status === "failed" ? result.reason : null,
    });
    await deps.tracker.arm("run", run.id, watchdogMsOf(deps));
  }
}

function resultRow(
  run: RunRow,
  caseId: string,
  caseName: string,
  position: number,
  outcome: { status: "passed" | "failed" | "skipped"; reason?: string },
  at: string,
) {
  return {
    id: uuidv7(),
    runId: run.id,
    caseId,
    caseName,
    position,
    status: outcome.status,
    attempts: outcome.status === "skipped" ? 0 : 1,
    durationMs: 0,
    failedStep: null,
    failedAction: null,
    reason: outcome.reason ?? null,
    screenshotKey: null,
    visual: null,
    createdAt: at,
  };
}
