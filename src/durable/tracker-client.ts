// The Tracker port (services/tracker.ts) on the RunTracker namespace: one object per run or crawl
// id. Typed by the binding rather than by importing the class, so the class may use the wiring
// that uses this client without an import cycle.
import type { Env } from "../env";
import type { Tracker } from "../services/tracker";

export function trackerClient(namespace: Env["RUN_TRACKER"]): Tracker {
  const trackerOf = (id: string) => namespace.get(namespace.idFromName(id));
  return {
    arm: (kind, id, watchdogMs) => trackerOf(id).arm(id, watchdogMs, kind),
    settled: (id, status) => trackerOf(id).settled(status),
    waitForSettle: (id, timeoutMs) => trackerOf(id).waitForSettle(timeoutMs),
    publish: (id, event) => trackerOf(id).publish(event),
    subscribe: (id) => trackerOf(id).subscribe(),
    openSocket: (id, lastEventId) =>
      trackerOf(id).fetch(new Request(`https://tracker/socket?id=${id}&after=${lastEventId}`, { headers: { upgrade: "websocket" } })),
    holdSecret: (id, sealed) => trackerOf(id).holdSecret(sealed),
    heldSecret: (id) => trackerOf(id).heldSecret(),
    dropSecret: (id) => trackerOf(id).dropSecret(),
  };
}
