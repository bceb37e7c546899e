// The queues' messages: small, no secrets (a consumer reads the rest from D1). Each consumer
// validates what it receives with these, and the producers are typed with them.
import * as z from "zod";
import { IdSchema } from "./common";

/** JOBS: one unit of browser work, by id. */
export const JobMessage = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("run"), id: IdSchema }),
  z.strictObject({ kind: z.literal("crawl"), id: IdSchema }),
]);
export type JobMessage = z.infer<typeof JobMessage>;

/** A secret sealed with CREDENTIAL_KEYS (auth/secrets.ts): unreadable to whoever reads the queue. */
const SealedSchema = z.strictObject({ keyId: z.string().min(1).max(100), ciphertext: z.string().min(1).max(4000) });

/**
 * NOTIFY: one outbound call. `github` reports the run as D1 holds it when the message is handled
 * (a commit status, or the PR comment), with the request-scoped token sealed inside; `webhook`
 * attempts one delivery of a stored webhook message.
 */
export const NotifyMessage = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("github"),
    report: z.enum(["status", "comment"]),
    /** Sent at the trigger (the pending status) or once the run settled. */
    stage: z.enum(["started", "settled"]),
    runId: IdSchema,
    token: SealedSchema,
  }),
  z.strictObject({ kind: z.literal("webhook"), messageId: z.string().min(1).max(100), attempt: z.number().int().min(1).max(100) }),
]);
export type NotifyMessage = z.infer<typeof NotifyMessage>;
