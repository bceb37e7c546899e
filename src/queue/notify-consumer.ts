// The NOTIFY queue: every outbound call about our work (GitHub, webhooks), out of the request that
// caused it. A GitHub call GitHub asked us to repeat is retried by the queue after the delay it
// named, within the queue's budget; a webhook attempt that failed queues its next attempt on the
// webhook schedule (longer than a queue retry allows). A malformed message is logged and acked.
import { NotifyMessage } from "../schemas/messages";
import type { D1Usage } from "../db/client";
import type { ServiceDeps } from "../services/deps";
import { deliverGitHubReport } from "../services/reporting";
import { deliverWebhookMessage } from "../services/webhooks";

export async function consumeNotify(batch: MessageBatch<unknown>, deps: ServiceDeps, d1: D1Usage = { queries: 0, ms: 0 }): Promise<void> {
  for (const message of batch.messages) {
    const parsed = NotifyMessage.safeParse(message.body);
    if (!parsed.success) {
      console.error("notify: dropping malformed message", message.id, parsed.error.issues);
      message.ack();
      continue;
    }
    const notice = parsed.data;
    try {
      if (notice.kind === "github") {
        const again = await deliverGitHubReport(deps, notice, message.attempts);
        if (again) message.retry({ delaySeconds: again.retryAfterSeconds });
        else message.ack();
      } else {
        const queriesBefore = d1.queries;
        const next = await deliverWebhookMessage(deps, notice.messageId, notice.attempt);
        if (next) await deps.notify.send({ kind: "webhook", messageId: notice.messageId, attempt: next.attempt }, { delaySeconds: next.delaySeconds });
        message.ack();
        // One line per attempt, for `wrangler tail` and the benchmark: what it cost in D1.
        console.log(JSON.stringify({ event: "webhook.attempt", queueMessage: message.id, messageId: notice.messageId, attempt: notice.attempt, retry: Boolean(next), d1Queries: d1.queries - queriesBefore }));
      }
    } catch (error) {
      console.error(`notify: ${notice.kind} failed unexpectedly`, message.id, error);
      message.retry({ delaySeconds: Math.min(300, 5 * 2 ** message.attempts) });
    }
  }
}
