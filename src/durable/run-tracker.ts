// One RunTracker per run or crawl: holds `wait: true` callers until the work settles and streams
// a crawl's events to Server-Sent Event subscribers (both pushed by the executor, never by
// polling D1), and keeps a watchdog alarm so work whose consumer died is settled (a run as
// `error`, a crawl as `failed`) instead of staying queued or running forever. Services reach it
// through the Tracker port (services/tracker.ts), which trackerClient() implements.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import type { Sealed } from "../auth/secrets";
import type { SettledStatus as Settled, TrackedEvent, Tracker, WorkKind } from "../services/tracker";
import { failRun } from "../services/run-lifecycle";
import { failCrawl } from "../services/crawl-lifecycle";
import { wire } from "../wiring";
import { trackerClient } from "./tracker-client";
import { createDb } from "../db/client";
import { runEventsAfter } from "../db/run-events";
import { eventView } from "../services/event-stream";

type Waiter = (status: Settled | null) => void;
/** What a socket carries across hibernation: whose events, and the last one it was sent. */
type SocketState = { id: string; sent: number };

const encoder = new TextEncoder();

export class RunTracker extends DurableObject<Env> {
  private readonly waiters = new Set<Waiter>();
  private readonly subscribers = new Set<ReadableStreamDefaultController<Uint8Array>>();
  /** Sockets reading their backlog from D1: publish leaves them to it. */
  private readonly catchingUp = new Map<WebSocket, { missed: boolean }>();

  /** The work was queued, or is alive: (re)arm the watchdog. */
  async arm(id: string, watchdogMs: number, kind: WorkKind): Promise<void> {
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
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.close(1000, `settled: ${status}`);
      } catch {
        // already closed
      }
    }
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

  /**
   * A run's events on a WebSocket, accepted with the hibernation API so an idle watcher costs
   * nothing: the recorded events after `after` first, then each one published, until the run
   * settles. Each socket remembers the last event it was sent, so none is sent twice.
   */
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const id = url.searchParams.get("id");
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket" || !id) return new Response("Expected a WebSocket upgrade", { status: 426 });
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    await this.catchUp(server, { id, sent: Number(url.searchParams.get("after") ?? 0) });
    const status = await this.ctx.storage.get<Settled>("status");
    if (status) server.close(1000, `settled: ${status}`);
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Sends a socket what D1 holds after its last event, until nothing is left: events published
   * meanwhile are recorded before they are published, so they are read here rather than pushed
   * (a socket catching up is skipped by publish), and none arrives twice or out of order.
   */
  private async catchUp(socket: WebSocket, state: SocketState) {
    const progress = { missed: false };
    this.catchingUp.set(socket, progress);
    try {
      const db = createDb(this.env.DB);
      for (;;) {
        progress.missed = false;
        const rows = await runEventsAfter(db, state.id, state.sent);
        for (const event of rows) {
          socket.send(JSON.stringify(eventView(event)));
          state.sent = event.seq;
        }
        socket.serializeAttachment(state);
        if (rows.length === 0 && !progress.missed) return;
      }
    } catch {
      // the watcher went away, or D1 failed: the socket keeps what it was sent
    } finally {
      this.catchingUp.delete(socket);
    }
  }

  async webSocketMessage(): Promise<void> {
    // Watchers only listen; what they send is ignored.
  }

  async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    try {
      socket.close(code === 1005 ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }

  async publish(event: TrackedEvent): Promise<void> {
    for (const socket of this.ctx.getWebSockets()) {
      const catching = this.catchingUp.get(socket);
      if (catching) {
        catching.missed = true;
        continue;
      }
      const state = socket.deserializeAttachment() as SocketState | null;
      if (!state || event.seq <= state.sent) continue;
      // A gap (a publish that never arrived): read it from D1, this event included.
      if (event.seq > state.sent + 1) {
        await this.catchUp(socket, state);
        continue;
      }
      try {
        socket.send(JSON.stringify(eventView(event)));
        socket.serializeAttachment({ ...state, sent: event.seq } satisfies SocketState);
      } catch {
        // the watcher went away
      }
    }
    const line = encoder.encode(`${JSON.stringify(event)}\n`);
    for (const subscriber of this.subscribers) {
      try {
        subscriber.enqueue(line);
      } catch {
        this.subscribers.delete(subscriber);
      }
    }
  }

  async holdSecret(sealed: Sealed): Promise<void> {
    await this.ctx.storage.put("heldSecret", sealed);
  }

  async heldSecret(): Promise<Sealed | null> {
    return (await this.ctx.storage.get<Sealed>("heldSecret")) ?? null;
  }

  async dropSecret(): Promise<void> {
    await this.ctx.storage.delete("heldSecret");
  }

  /** The watchdog: nothing was heard from the work in time, so it is ended through the same lifecycle as any other settle. */
  async alarm(): Promise<void> {
    const id = await this.ctx.storage.get<string>("id");
    const kind = (await this.ctx.storage.get<WorkKind>("kind")) ?? "run";
    if (!id || (await this.ctx.storage.get("status"))) return;
    // This object's own settle is applied in place rather than through its stub.
    const remote = trackerClient(this.env.RUN_TRACKER);
    const tracker: Tracker = { ...remote, settled: (settledId, status) => (settledId === id ? this.settled(status) : remote.settled(settledId, status)) };
    const deps = wire(this.env, { tracker });
    if (kind === "crawl") await failCrawl(deps, id, "The crawl stopped making progress (its worker stopped responding) and was ended by the watchdog");
    else await failRun(deps, id, "The run stopped making progress (its worker stopped responding) and was ended by the watchdog");
  }
}
