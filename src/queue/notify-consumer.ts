// The NOTIFY queue: outbound calls about settled work (GitHub, webhooks). Reporting back brings
// its message kinds and their delivery; until then nothing is sent to this queue, and a message
// that arrives anyway is logged and acked rather than retried into the dead-letter queue.
import { NotifyMessage } from "../schemas/messages";
import type { ServiceDeps } from "../services/deps";

export async function consumeNotify(batch: MessageBatch<unknown>, _deps: ServiceDeps): Promise<void> {
  for (const message of batch.messages) {
    const parsed = NotifyMessage.safeParse(message.body);
    if (!parsed.success) console.error("notify: dropping malformed message", message.id, parsed.error.issues);
    else console.warn("notify: no delivery exists yet for", parsed.data.kind, message.id);
    message.ack();
  }
}
