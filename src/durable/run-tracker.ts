// One RunTracker per run: holds `wait: true` callers until the run settles (pushed by the
// executor, never by polling D1), and keeps a watchdog alarm so a run whose consumer died is
// settled as `error` instead of staying queued or running forever.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { createDb } from "../db/client";
import { isSettled, type SettledRunStatus } from "../schemas/runs";
import { findRunById } from "../db/runs";
import { failRun, type RunSignals } from "../services/run-executor";
import type { RunWatch } from "../services/runs";

type Waiter = (status: SettledRunStatus | null) => void;

export class RunTracker extends DurableObject<Env> {
  private readonly waiters = new Set<Waiter>();

  /** The run was queued, or is alive: (re)arm the watchdog. */
  async arm(runId: string, watchdogMs: number): Promise<void> {
    if (await this.ctx.storage.get<SettledRunStatus>("status")) return;
    await this.ctx.storage.put("runId", runId);
    await this.ctx.storage.setAlarm(Date.now() + watchdogMs);
  }

  async settled(status: SettledRunStatus): Promise<void> {
    await this.ctx.storage.put("status", status);
    await this.ctx.storage.deleteAlarm();
    for (const wake of this.waiters) wake(status);
    this.waiters.clear();
  }

  /** Resolves with the settled status, or null when `timeoutMs` passes first. */
  async waitForSettle(timeoutMs: number): Promise<SettledRunStatus | null> {
    const known = await this.ctx.storage.get<SettledRunStatus>("status");
    if (known) return known;
    return new Promise<SettledRunStatus | null>((resolve) => {
      const waiter: Waiter = (status) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(status);
      };
      const timer = setTimeout(() => waiter(null), timeoutMs);
      this.waiters.add(waiter);
    });
  }

  async alarm(): Promise<void> {
    const runId = await this.ctx.storage.get<string>("runId");
    if (!runId || (await this.ctx.storage.get("status"))) return;
    const signals: RunSignals = { alive: async () => {}, settled: async (_id, status) => this.settled(status) };
    const settled = await failRun(
      { db: createDb(this.env.DB), signals, now: () => new Date() },
      runId,
      "The run stopped making progress (its worker stopped responding) and was ended by the watchdog",
    );
    if (!settled) {
      // Already settled in D1 by someone whose signal did not arrive: adopt that status.
      const run = await findRunById(createDb(this.env.DB), runId);
      if (run && isSettled(run.status)) await this.settled(run.status);
    }
  }
}

const trackerOf = (namespace: DurableObjectNamespace<RunTracker>, runId: string) => namespace.get(namespace.idFromName(runId));

/** The executor's and the API's view of the trackers, as plain interfaces services can take. */
export function runTrackerClient(namespace: DurableObjectNamespace<RunTracker>): RunSignals & RunWatch {
  return {
    queued: (runId, watchdogMs) => trackerOf(namespace, runId).arm(runId, watchdogMs),
    alive: (runId, watchdogMs) => trackerOf(namespace, runId).arm(runId, watchdogMs),
    settled: (runId, status) => trackerOf(namespace, runId).settled(status),
    waitForSettle: (runId, timeoutMs) => trackerOf(namespace, runId).waitForSettle(timeoutMs),
  };
}
