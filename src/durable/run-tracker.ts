// One RunTracker per run or scan: holds `wait: true` callers until the work settles and streams
// a scan's events to Server-Sent Event subscribers (both pushed by the executor, never by
// polling D1), and keeps a watchdog alarm so work whose consumer died is settled (a run as
// `error`, a scan as `failed`) instead of staying queued or running forever.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { createDb } from "../db/client";
import { isSettled, type SettledRunStatus } from "../schemas/runs";
import type { SettledCrawlStatus } from "../schemas/crawls";
import { findRunById } from "../db/runs";
import { failRun, type RunSignals } from "../services/run-executor";
import { failCrawl } from "../services/crawl-executor";
import { continueRunAfterScan, type RunWatch } from "../services/runs";

export type TrackedKind = "run" | "crawl";
type Settled = SettledRunStatus | SettledCrawlStatus;
type Waiter = (status: Settled | null) => void;

/** A scan event as the tracker streams it: one JSON line per event. */
export type TrackedEvent = { seq: number; type: string; data: Record<string, unknown>; createdAt: string };

const encoder = new TextEncoder();

export class RunTracker extends DurableObject<Env> {
  private readonly waiters = new Set<Waiter>();
  private readonly subscribers = new Set<ReadableStreamDefaultController<Uint8Array>>();

  /** The work was queued, or is alive: (re)arm the watchdog. */
  async arm(id: string, watchdogMs: number, kind: TrackedKind = "run"): Promise<void> {
    if (await this.ctx.storage.get<Settled>("status")) return;
    await this.ctx.storage.put({ id, kind });
    await this.ctx.storage.setAlarm(Date.now() + watchdogMs);
  }

  async settled(status: Settled): Promise<void> {
    await this.ctx.storage.put("status", status);
    await this.ctx.storage.deleteAlarm();
    for (const wake of this.waiters) wake(status);
    this.waiters.clear();
    for (const subscriber of this.subscribers) {
      try {
        subscriber.close();
      } catch {
        // the subscriber went away
      }
    }
    this.subscribers.clear();
  }

  /** Resolves with the settled status, or null when `timeoutMs` passes first. */
  async waitForSettle(timeoutMs: number): Promise<Settled | null> {
    const known = await this.ctx.storage.get<Settled>("status");
    if (known) return known;
    return new Promise<Settled | null>((resolve) => {
      const waiter: Waiter = (status) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(status);
      };
      const timer = setTimeout(() => waiter(null), timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** A live stream of the events published from now on, one JSON line each; it ends when the work settles. */
  async subscribe(): Promise<ReadableStream<Uint8Array>> {
    const settled = Boolean(await this.ctx.storage.get<Settled>("status"));
    let controller: ReadableStreamDefaultController<Uint8Array>;
    const stream = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
        if (settled) c.close();
        else this.subscribers.add(c);
      },
      cancel: () => {
        this.subscribers.delete(controller);
      },
    });
    return stream;
  }

  async publish(event: TrackedEvent): Promise<void> {
    const line = encoder.encode(`${JSON.stringify(event)}\n`);
    for (const subscriber of this.subscribers) {
      try {
        subscriber.enqueue(line);
      } catch {
        this.subscribers.delete(subscriber);
      }
    }
  }

  async alarm(): Promise<void> {
    const id = await this.ctx.storage.get<string>("id");
    const kind = (await this.ctx.storage.get<TrackedKind>("kind")) ?? "run";
    if (!id || (await this.ctx.storage.get("status"))) return;
    const db = createDb(this.env.DB);
    const signals = { alive: async () => {}, settled: async (_id: string, status: Settled) => this.settled(status) };
    if (kind === "crawl") {
      const failed = await failCrawl({ db, signals, now: () => new Date() }, id, "The scan stopped making progress (its worker stopped responding) and was ended by the watchdog");
      if (failed) {
        await continueRunAfterScan({ db, jobs: this.env.JOBS, signals: runTrackerClient(this.env.RUN_TRACKER), now: () => new Date() }, failed);
      }
      return;
    }
    const settled = await failRun(
      { db, signals: signals as RunSignals, now: () => new Date() },
      id,
      "The run stopped making progress (its worker stopped responding) and was ended by the watchdog",
    );
    if (!settled) {
      // Already settled in D1 by someone whose signal did not arrive: adopt that status.
      const run = await findRunById(db, id);
      if (run && isSettled(run.status)) await this.settled(run.status);
    }
  }
}

const trackerOf = (namespace: DurableObjectNamespace<RunTracker>, id: string) => namespace.get(namespace.idFromName(id));

/** The executors' and the API's view of the trackers, as plain interfaces services can take. */
export function runTrackerClient(namespace: DurableObjectNamespace<RunTracker>): RunSignals & RunWatch {
  return {
    queued: (runId, watchdogMs) => trackerOf(namespace, runId).arm(runId, watchdogMs, "run"),
    alive: (runId, watchdogMs) => trackerOf(namespace, runId).arm(runId, watchdogMs, "run"),
    settled: (runId, status) => trackerOf(namespace, runId).settled(status),
    waitForSettle: (runId, timeoutMs) => trackerOf(namespace, runId).waitForSettle(timeoutMs) as Promise<SettledRunStatus | null>,
  };
}

export function crawlTrackerClient(namespace: DurableObjectNamespace<RunTracker>) {
  return {
    queued: (crawlId: string, watchdogMs: number) => trackerOf(namespace, crawlId).arm(crawlId, watchdogMs, "crawl"),
    alive: (crawlId: string, watchdogMs: number) => trackerOf(namespace, crawlId).arm(crawlId, watchdogMs, "crawl"),
    settled: (crawlId: string, status: SettledCrawlStatus) => trackerOf(namespace, crawlId).settled(status),
    publish: (crawlId: string, event: TrackedEvent) => trackerOf(namespace, crawlId).publish(event),
    subscribe: (crawlId: string) => trackerOf(namespace, crawlId).subscribe(),
  };
}
export type CrawlTracker = ReturnType<typeof crawlTrackerClient>;
