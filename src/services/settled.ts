// "A run or a crawl settled" is one event, announced once per settling transition (and again
// when a redelivered message finds the work already settled, in case the first announcement was
// lost). Everything that follows is a listener subscribed in wiring.ts: waking waiters, going on
// with the run a crawl was started for, and later GitHub, webhooks and the audit log. Listeners
// must therefore be idempotent.
import type { RunRow } from "../db/runs";
import type { CrawlRow } from "../db/crawls";
import type { SettledRunStatus } from "../schemas/runs";
import type { SettledCrawlStatus } from "../schemas/crawls";

export type SettledWork =
  | { kind: "run"; run: RunRow & { status: SettledRunStatus } }
  | { kind: "crawl"; crawl: CrawlRow & { status: SettledCrawlStatus } };

export type SettledListener = { name: string; handle(work: SettledWork): Promise<void> };

export type OnSettled = (work: SettledWork) => Promise<void>;

/**
 * Runs every listener, each whatever the others do; if any failed, throws once all have run, so
 * a queue consumer retries (and the redelivery announces again) rather than losing the event.
 */
export function fanOut(listeners: readonly SettledListener[]): OnSettled {
  return async (work) => {
    const results = await Promise.allSettled(listeners.map((listener) => listener.handle(work)));
    const failed = results.flatMap((result, i) => (result.status === "rejected" ? [{ name: listeners[i].name, error: result.reason }] : []));
    if (failed.length) {
      const id = work.kind === "run" ? work.run.id : work.crawl.id;
      throw new AggregateError(failed.map((f) => f.error), `settled ${work.kind} ${id}: ${failed.map((f) => f.name).join(", ")} failed`);
    }
  };
}

export const settledId = (work: SettledWork) => (work.kind === "run" ? work.run.id : work.crawl.id);
