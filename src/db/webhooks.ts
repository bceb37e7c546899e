// Webhook endpoints, their messages (one per event and endpoint) and every delivery attempt.
import { and, count, desc, eq, inArray, isNotNull, lt, max, notExists, sql } from "drizzle-orm";
import type { Scope } from "../auth/tenancy";
import type { PageQuery } from "../schemas/common";
import type { Db } from "./client";
import { inScope, offsetOf } from "./scope";
import { webhookDeliveries, webhookMessages, webhooks } from "./schema";

export type WebhookRow = typeof webhooks.$inferSelect;
export type WebhookMessageRow = typeof webhookMessages.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;

export async function insertWebhook(db: Db, row: WebhookRow) {
  await db.insert(webhooks).values(row);
}

export async function findWebhook(db: Db, scope: Scope, id: string) {
  return db.query.webhooks.findFirst({ where: and(inScope(webhooks, scope), eq(webhooks.id, id)) });
}

export async function listWebhooks(db: Db, scope: Scope, projectId: string, query: PageQuery) {
  const where = and(inScope(webhooks, scope), eq(webhooks.projectId, projectId));
  const [items, [{ total }]] = await db.batch([
    db.select().from(webhooks).where(where).orderBy(desc(webhooks.id)).limit(query.pageSize).offset(offsetOf(query)),
    db.select({ total: count() }).from(webhooks).where(where),
  ]);
  return { items, totalCount: total };
}

/** The project's enabled endpoints (a project has few; the event filter is applied by the caller). */
export async function enabledWebhooksOf(db: Db, projectId: string) {
  return db.select().from(webhooks).where(and(eq(webhooks.projectId, projectId), eq(webhooks.enabled, true))).limit(100);
}

export async function updateWebhook(db: Db, id: string, changes: Partial<Omit<WebhookRow, "id" | "orgId" | "projectId" | "createdAt">>) {
  const [row] = await db.update(webhooks).set(changes).where(eq(webhooks.id, id)).returning();
  return row;
}

export async function deleteWebhook(db: Db, scope: Scope, id: string) {
  const rows = await db.delete(webhooks).where(and(inScope(webhooks, scope), eq(webhooks.id, id))).returning({ id: webhooks.id });
  return rows.length > 0;
}

/** Stores messages; those already stored (a repeated announcement) are kept as they are. */
export async function insertWebhookMessages(db: Db, rows: WebhookMessageRow[]) {
  if (rows.length === 0) return;
  await db.insert(webhookMessages).values(rows).onConflictDoNothing();
}

/** Of these messages, those no attempt was recorded for: new ones, or ones whose queueing was lost. */
export async function unattemptedMessageIds(db: Db, ids: string[]) {
  if (ids.length === 0) return [];
  const rows = await db
    .select({ id: webhookMessages.id })
    .from(webhookMessages)
    .where(and(inArray(webhookMessages.id, ids), notExists(db.select({ one: sql`1` }).from(webhookDeliveries).where(eq(webhookDeliveries.messageId, webhookMessages.id)))));
  return rows.map((r) => r.id);
}

export async function findWebhookMessage(db: Db, id: string) {
  const [row] = await db.select({ message: webhookMessages, webhook: webhooks }).from(webhookMessages).innerJoin(webhooks, eq(webhooks.id, webhookMessages.webhookId)).where(eq(webhookMessages.id, id)).limit(1);
  return row;
}

export async function insertDelivery(db: Db, row: WebhookDeliveryRow) {
  await db.insert(webhookDeliveries).values(row);
}

export async function findDelivery(db: Db, webhookId: string, id: string) {
  return db.query.webhookDeliveries.findFirst({ where: and(eq(webhookDeliveries.webhookId, webhookId), eq(webhookDeliveries.id, id)) });
}

export async function lastAttemptOf(db: Db, messageId: string) {
  const [{ last }] = await db.select({ last: max(webhookDeliveries.attempt) }).from(webhookDeliveries).where(eq(webhookDeliveries.messageId, messageId));
  return last ?? 0;
}

/** A page of an endpoint's delivery attempts, newest first, with their message's event and body. */
export async function listDeliveries(db: Db, webhookId: string, query: PageQuery) {
  const where = eq(webhookDeliveries.webhookId, webhookId);
  const [items, [{ total }]] = await db.batch([
    db
      .select({ delivery: webhookDeliveries, event: webhookMessages.eventType, body: webhookMessages.body, sentAt: sql<string>`${webhookMessages.createdAt}`.as("sent_at") })
      .from(webhookDeliveries)
      .innerJoin(webhookMessages, eq(webhookMessages.id, webhookDeliveries.messageId))
      .where(where)
      .orderBy(desc(webhookDeliveries.id))
      .limit(query.pageSize)
      .offset(offsetOf(query)),
    db.select({ total: count() }).from(webhookDeliveries).where(where),
  ]);
  return { items, totalCount: total };
}

/** After a failed attempt: starts (or keeps) the failing period; a message with no attempt left counts one more. */
export async function markWebhookFailing(db: Db, id: string, at: string, messageFailed: boolean) {
  const [row] = await db
    .update(webhooks)
    .set({
      failingSince: sql`coalesce(${webhooks.failingSince}, ${at})`,
      failedMessages: messageFailed ? sql`${webhooks.failedMessages} + 1` : webhooks.failedMessages,
    })
    .where(eq(webhooks.id, id))
    .returning();
  return row;
}

/** Writes re-sealed secrets, unless the secret changed since `readCiphertext` was read (a rotation won). */
export async function resealWebhookSecret(db: Db, id: string, readCiphertext: string, sealed: Pick<WebhookRow, "secretKeyId" | "secretCiphertext" | "previousSecretKeyId" | "previousSecretCiphertext" | "previousSecretExpiresAt">) {
  await db.update(webhooks).set(sealed).where(and(eq(webhooks.id, id), eq(webhooks.secretCiphertext, readCiphertext)));
}

/** Deletes up to `limit` messages stored before `before`, their attempts with them; answers how many messages went. */
export async function deleteWebhookMessagesBefore(db: Db, before: string, limit: number) {
  const result = await db.run(
    sql`delete from ${webhookMessages} where rowid in (select rowid from ${webhookMessages} where ${webhookMessages.createdAt} < ${before} limit ${limit})`,
  );
  return result.meta.changes ?? 0;
}

/** Drops the bodies of messages stored before `before`, across every endpoint; answers how many. */
export async function forgetAllWebhookBodiesBefore(db: Db, before: string) {
  const result = await db.update(webhookMessages).set({ body: null }).where(and(lt(webhookMessages.createdAt, before), isNotNull(webhookMessages.body)));
  return result.meta.changes ?? 0;
}
