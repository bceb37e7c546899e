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

/**
 * NOTIFY: one outbound call to make about settled work (GitHub, webhooks). Reporting back fills
 * this union; until then nothing is sent to the queue and its consumer refuses what it gets.
 */
export const NotifyMessage = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("settled"), work: z.enum(["run", "crawl"]), id: IdSchema }),
]);
export type NotifyMessage = z.infer<typeof NotifyMessage>;
