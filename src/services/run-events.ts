// A run's events: recorded in D1 (the record, paged or replayed) and pushed to live watchers by the
// run's tracker (Server-Sent Events, WebSockets). A gap in the push is filled from D1 by readers.
import type { Db } from "../db/client";
import { findRun, findRunById } from "../db/runs";
import { appendRunEvent, listRunEvents, runEventsAfter } from "../db/run-events";
import type { Scope } from "../auth/tenancy";
import { notFound } from "../errors";
import type { ServiceDeps } from "./deps";
import { eventView, serverSentEvents } from "./event-stream";

export type RunEventType = "status_changed" | "case_started" | "case_finished" | "step_failed" | "log";

/** Never throws: a run's progress and its settling must not hang on its event log. */
export async function recordRunEvent(deps: Pick<ServiceDeps, "db" | "now" | "tracker">, runId: string, type: RunEventType, data: Record<string, unknown>) {
  try {
    const row = await appendRunEvent(deps.db, runId, type, data, deps.now().toISOString());
    if (row) await deps.tracker.publish(runId, { seq: row.seq, type: row.type, data: row.data, createdAt: row.createdAt }).catch(() => {});
  } catch (error) {
    console.error("run event not recorded", runId, type, error);
  }
}

export async function runEventsPage(deps: { db: Db }, scope: Scope, runId: string, query: { limit: number; offset: number }) {
  if (!(await findRun(deps.db, scope, runId))) throw notFound("Run");
  const { items, totalCount } = await listRunEvents(deps.db, runId, query);
  return { items: items.map(eventView), totalCount, limit: query.limit, offset: query.offset };
}

/** For a run page's signed link (the caller checked the signature): the stream, or null for no such run. */
export async function signedRunEventStream(deps: Pick<ServiceDeps, "db" | "tracker">, runId: string, lastEventId: number) {
  return (await findRunById(deps.db, runId)) ? openStream(deps, runId, lastEventId) : null;
}

export async function runEventStream(deps: Pick<ServiceDeps, "db" | "tracker">, scope: Scope, runId: string, lastEventId: number) {
  if (!(await findRun(deps.db, scope, runId))) throw notFound("Run");
  return openStream(deps, runId, lastEventId);
}

/** Subscribes before D1 is read (services/event-stream.ts says why). */
async function openStream(deps: Pick<ServiceDeps, "db" | "tracker">, runId: string, lastEventId: number) {
  const live = await deps.tracker.subscribe(runId);
  return serverSentEvents({ label: "run events", live, after: (seq) => runEventsAfter(deps.db, runId, seq) }, lastEventId);
}

/** The run's events on a WebSocket served by its tracker (hibernatable): the 101 answer to hand back. */
export async function runEventSocket(deps: Pick<ServiceDeps, "db" | "tracker">, scope: Scope, runId: string, lastEventId: number) {
  if (!(await findRun(deps.db, scope, runId))) throw notFound("Run");
  return deps.tracker.openSocket(runId, lastEventId);
}
