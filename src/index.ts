// The Worker: HTTP, the queue consumers, and the Durable Object classes.
import { createApp } from "./app";
import type { Env } from "./env";
import { wire } from "./wiring";
import type { ServiceDeps } from "./services/deps";
import { consumeJobs } from "./queue/jobs-consumer";
import { consumeNotify } from "./queue/notify-consumer";

export { RunTracker } from "./durable/run-tracker";
export { RateLimiter } from "./durable/rate-limiter";

/** Each queue's consumer, by the queue's name in wrangler.toml (an environment may add a `-<env>` suffix). */
const CONSUMERS: Record<string, (batch: MessageBatch<unknown>, deps: ServiceDeps) => Promise<void>> = {
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
    await consume(batch, wire(env));
  },
} satisfies ExportedHandler<Env>;
