// The Worker: HTTP, the queue consumers, and the Durable Object classes.
import { createApp } from "./app";
import type { Env } from "./env";
import { consumeJobs } from "./queue/jobs-consumer";

export { RunTracker } from "./durable/run-tracker";
export { RateLimiter } from "./durable/rate-limiter";

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    if (batch.queue.startsWith("aegis-jobs")) return consumeJobs(batch, env);
    // NOTIFY (GitHub, webhooks) is consumed by later capabilities; until then nothing is sent to it.
    for (const message of batch.messages) message.ack();
  },
} satisfies ExportedHandler<Env>;
