// A run's transitions as services apply them: each one the conditional update of its row in
// RUN_TRANSITIONS (schemas/runs.ts), and every run that settles announced to the listeners.
import { findRunById, markRunning, settleRun, type RunRow } from "../db/runs";
import { isSettled, type RunOutcome, type SettledRunStatus, type SettleRunTransition } from "../schemas/runs";
import type { ServiceDeps } from "./deps";
import { recordRunEvent } from "./run-events";

export type RunLifecycleDeps = Pick<ServiceDeps, "db" | "now" | "tracker" | "onSettled">;

/** Starts a queued run: its first event, and the started announcement (webhooks' run.started). */
export async function startRunning(deps: Pick<ServiceDeps, "db" | "now" | "tracker" | "onRunStarted">, runId: string) {
  const run = await markRunning(deps.db, runId, deps.now().toISOString());
  if (run) {
    await recordRunEvent(deps, runId, "status_changed", { status: "running" });
    // run.started is news, not the run: a failure to announce it is logged, and the run goes on.
    await deps.onRunStarted(run).catch((error) => console.error("run.started not announced", runId, error));
  }
  return run;
}

/** Applies one settling transition; undefined when the run was not in a status it leaves from. */
export async function settleRunBy<T extends SettleRunTransition>(deps: RunLifecycleDeps, runId: string, transition: T, outcome: RunOutcome<T>) {
  const settled = await settleRun(deps.db, runId, transition, outcome, deps.now().toISOString());
  if (settled) {
    await recordRunEvent(deps, runId, "status_changed", { status: settled.status, ...(settled.errorMessage ? { error: settled.errorMessage } : {}) });
    await announceRun(deps, settled); // ends live streams: the event above is their last
  }
  return settled;
}

/** Announces a settled run (again, when a redelivery finds it settled: the first announcement may have been lost). */
export async function announceRun(deps: Pick<ServiceDeps, "onSettled">, run: RunRow) {
  if (isSettled(run.status)) await deps.onSettled({ kind: "run", run: run as RunRow & { status: SettledRunStatus } });
}

/** Ends a run as `error` whatever it was doing (the watchdog, the consumer's last retry); a run that already settled is announced again. */
export async function failRun(deps: RunLifecycleDeps, runId: string, message: string) {
  const settled = await settleRunBy(deps, runId, "fail", { status: "error", errorMessage: message });
  if (!settled) {
    const run = await findRunById(deps.db, runId);
    if (run) await announceRun(deps, run);
  }
  return settled;
}
