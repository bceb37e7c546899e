// What became of a run's reports to GitHub: one row per target and kind, the latest attempt.

import type { Db } from "./client";
import { runNotifications } from "./schema";

export type RunNotificationRow = typeof runNotifications.$inferSelect;

export async function recordNotification(db: Db, row: RunNotificationRow) {
  await db
    .insert(runNotifications)
    .values(row)
    .onConflictDoUpdate({
      target: [runNotifications.runId, runNotifications.target, runNotifications.kind],
      set: { ok: row.ok, status: row.status, message: row.message, attempts: row.attempts, updatedAt: row.updatedAt },
    });
}
