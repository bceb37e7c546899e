// The Worker: HTTP, the queue consumers, and the Durable Object classes.
import { createApp } from "./app";
import type { Env } from "./env";
import { wire } from "./wiring";
import { countD1, createDb, type D1Usage } from "./db/client";
import type { ServiceDeps } from "./services/deps";
import { consumeJobs } from "./queue/jobs-consumer";
import { consumeNotify } from "./queue/notify-consumer";
import { sweepExpired } from "./services/retention";

export { RunTracker } from "./durable/run-tracker";
export { RateLimiter } from "./durable/rate-limiter";

/** The wiring for queue work; given a usage record, its D1 round trips are counted there. */
type DepsFor = (d1?: D1Usage) => ServiceDeps;

/** Each queue's consumer, by the queue's name in wrangler.toml (an environment may add a `-<env>` suffix). */
const CONSUMERS: Record<string, (batch: MessageBatch<unknown>, depsFor: DepsFor) => Promise<void>> = {
  "aegis-jobs": consumeJobs,
  "aegis-notify": consumeNotify,
};

function consumerOf(queueName: string) {
  const name = Object.keys(CONSUMERS).find((known) => queueName === known || queueName.startsWith(`${known}-`));
  return name ? CONSUMERS[name] : undefined;
}

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    const consume = consumerOf(batch.queue);
    // A queue bound without a consumer here is a deployment mistake: retrying keeps its messages.
    if (!consume) throw new Error(`no consumer for queue ${batch.queue}`);
    await consume(batch, (d1) => wire(env, d1 ? { db: createDb(countD1(env.DB, d1)) } : {}));
  },
  /** The daily cron (wrangler.toml `[triggers]`): what outlived its retention is swept. */
  async scheduled(_controller, env, _ctx) {
    const swept = await sweepExpired(wire(env));
    console.log(JSON.stringify({ event: "retention.sweep", ...swept }));
  },
} satisfies ExportedHandler<Env>;
