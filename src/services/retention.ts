// What is kept, and for how long, of the records that grow with use: run events, the webhook
// delivery log and the bodies it sent. The daily cron (index.ts `scheduled`) sweeps what is older.
// R2 artifacts expire by the bucket's lifecycle rules instead (README, "Deploy").
import { deleteRunEventsBefore } from "../db/run-events";
import { deleteWebhookMessagesBefore, forgetAllWebhookBodiesBefore } from "../db/webhooks";
import type { ServiceDeps } from "./deps";
import { DEFAULT_WEBHOOK_POLICY } from "./webhook-policy";

const DAY_MS = 24 * 3600 * 1000;

export const RETENTION_DAYS = {
  /** As long as the run's screenshots (the bucket's 90 days). */
  runEvents: 90,
  /** Webhook messages and every attempt of each. */
  webhookLog: 30,
  /** What a message sent, for the log and for redelivery: as long as delivery shows and resends it. */
  webhookBodies: DEFAULT_WEBHOOK_POLICY.bodyRetentionMs / DAY_MS,
} as const;

/** Rows deleted per statement: a sweep stays well inside one invocation's limits, and goes on the next day. */
const BATCH = 5000;
const MAX_BATCHES = 20;

export type SweepReport = { runEvents: number; webhookMessages: number; webhookBodies: number };

export async function sweepExpired(deps: Pick<ServiceDeps, "db" | "now">): Promise<SweepReport> {
  const now = deps.now().getTime();
  const before = (days: number) => new Date(now - days * DAY_MS).toISOString();
  const drain = async (deleteSome: () => Promise<number>) => {
    let total = 0;
    for (let i = 0; i < MAX_BATCHES; i++) {
      const deleted = await deleteSome();
      total += deleted;
      if (deleted < BATCH) break;
    }
    return total;
  };
  return {
    runEvents: await drain(() => deleteRunEventsBefore(deps.db, before(RETENTION_DAYS.runEvents), BATCH)),
    webhookMessages: await drain(() => deleteWebhookMessagesBefore(deps.db, before(RETENTION_DAYS.webhookLog), BATCH)),
    webhookBodies: await forgetAllWebhookBodiesBefore(deps.db, before(RETENTION_DAYS.webhookBodies)),
  };
}
