// The NOTIFY queue: every outbound call about our work (GitHub, webhooks), out of the request that
// caused it, a batch's messages side by side. A GitHub call GitHub asked us to repeat is retried by
// the queue after the delay it named, within the queue's budget; a webhook attempt that failed
// queues its next attempt on the webhook schedule (longer than a queue retry allows). A malformed
// message is logged and acked.
import { NotifyMessage } from "../schemas/messages";
import type { D1Usage } from "../db/client";
import type { ServiceDeps } from "../services/deps";
import { deliverGitHubReport } from "../services/reporting";
import { deliverWebhookMessage } from "../services/webhooks";

/**
 * Handles the batch's messages side by side (a slow receiver does not hold up the others), each
 * on a wiring of its own whose D1 round trips it logs.
 */
export async function consumeNotify(batch: MessageBatch<unknown>, depsFor: (d1?: D1Usage) => ServiceDeps): Promise<void> {
  await Promise.all(batch.messages.map((message) => handle(message, depsFor)));
}

async function handle(message: Message<unknown>, depsFor: (d1?: D1Usage) => ServiceDeps) {
  const parsed = NotifyMessage.safeParse(message.body);
  if (!parsed.success) {
    console.error("notify: dropping malformed message", message.id, parsed.error.issues);
    message.ack();
    return;
  }
  const notice = parsed.data;
  const d1: D1Usage = { queries: 0, ms: 0 };
  const deps = depsFor(d1);
  try {
    if (notice.kind === "github") {
      const again = await deliverGitHubReport(deps, notice, message.attempts);
      if (again) message.retry({ delaySeconds: again.retryAfterSeconds });
      else message.ack();
    } else {
      const next = await deliverWebhookMessage(deps, notice.messageId, notice.attempt);
      if (next) await deps.notify.send({ kind: "webhook", messageId: notice.messageId, attempt: next.attempt }, { delaySeconds: next.delaySeconds });
      message.ack();
      // One line per attempt, for `wrangler tail` and the benchmark: what it cost in D1.
      console.log(JSON.stringify({ event: "webhook.attempt", queueMessage: message.id, messageId: notice.messageId, attempt: notice.attempt, retry: Boolean(next), d1Queries: d1.queries }));
    }
  } catch (error) {
    console.error(`notify: ${notice.kind} failed unexpectedly`, message.id, error);
    message.retry({ delaySeconds: Math.min(300, 5 * 2 ** message.attempts) });
  }
}
