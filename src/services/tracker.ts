// The port to the Durable Object that tracks one run or crawl while it lasts (durable/run-tracker.ts
// implements it). Services see only this: they never import durable/.
import type { SettledRunStatus } from "../schemas/runs";
import type { SettledCrawlStatus } from "../schemas/crawls";
import type { Sealed } from "../auth/secrets";

export type WorkKind = "run" | "crawl";
export type SettledStatus = SettledRunStatus | SettledCrawlStatus;

/** A crawl event as the tracker streams it to live subscribers: one JSON line per event. */
export type TrackedEvent = { seq: number; type: string; data: Record<string, unknown>; createdAt: string };

export type Tracker = {
  /** The work was queued or is alive: the watchdog settles it if nothing is heard within `watchdogMs`. */
  arm(kind: WorkKind, id: string, watchdogMs: number): Promise<void>;
  /** The work settled: wake its waiters, end its live streams, disarm the watchdog. Idempotent. */
  settled(id: string, status: SettledStatus): Promise<void>;
  /** Resolves with the settled status, or null when `timeoutMs` passes first. */
  waitForSettle(id: string, timeoutMs: number): Promise<SettledStatus | null>;
  publish(id: string, event: TrackedEvent): Promise<void>;
  /** A WebSocket (hibernatable) carrying the run's events after `lastEventId`, then live ones until it settles: the 101 answer. */
  openSocket(id: string, lastEventId: number): Promise<Response>;
  /** Keeps a sealed request-scoped secret (a GitHub token) for the work's settled reports, nowhere else. */
  holdSecret(id: string, sealed: Sealed): Promise<void>;
  heldSecret(id: string): Promise<Sealed | null>;
  /** Forgets the held secret once the reports that needed it are queued. */
  dropSecret(id: string): Promise<void>;
  /** The events published from now on, one JSON line each, until the work settles. */
  subscribe(id: string): Promise<ReadableStream<Uint8Array>>;
};
