// Delivers messages to the Worker's queue handler as the Queues runtime would, and answers what
// the consumer did with each (acked, retried).
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";

type Delivery = {
  /** The message body, as sent; not validated here, so a test can deliver a malformed one. */
  body: unknown;
  /** The message id; by default message-1, message-2 … in the batch's order. */
  id?: string;
  /** Which delivery this is: 2 and more are redeliveries. */
  attempts?: number;
};

/** One batch of messages to a queue (the JOBS queue unless named), through `worker.queue`. */
export async function deliver(messages: Delivery | Delivery[], queue = "aegis-jobs") {
  const batch = createMessageBatch(
    queue,
    [messages].flat().map(({ body, id, attempts = 1 }, i) => ({ id: id ?? `message-${i + 1}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}
