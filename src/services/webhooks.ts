// Webhooks, after the Standard Webhooks specification: endpoints a project registers, one stored
// message per event and endpoint (its id is the `webhook-id` of every attempt), each attempt made
// by the NOTIFY consumer and recorded, retried on Svix's schedule, and an endpoint that keeps
// failing disabled. Signing secrets are sealed with CREDENTIAL_KEYS and shown once.
import { seal, unseal, type KeyRing } from "../auth/secrets";
import type { Scope } from "../auth/tenancy";
import { newWebhookSecret, webhookHeaders } from "../auth/webhook-signature";
import { judgeUrl } from "../browser/url-policy";
import { findProject } from "../db/projects";
import { visualDiffsOfRun } from "../db/visual";
import type { RunRow } from "../db/runs";
import {
  deleteWebhook,
  enabledWebhooksOf,
  findDelivery,
  findWebhook,
  findWebhookMessage,
  insertDelivery,
  insertWebhook,
  insertWebhookMessages,
  lastAttemptOf,
  resealWebhookSecret,
  unattemptedMessageIds,
  listDeliveries,
  listWebhooks,
  markWebhookFailing,
  updateWebhook,
  type WebhookMessageRow,
  type WebhookRow,
} from "../db/webhooks";
import { ApiError, notFound } from "../errors";
import { uuidv7 } from "../ids";
import type { PageQuery } from "../schemas/common";
import type { CreateWebhookBody, UpdateWebhookBody, WebhookEventType } from "../schemas/reporting";
import { crawlSummaryView } from "./crawls";
import type { ServiceDeps } from "./deps";
import { signerForRun } from "./links";
import { callOutbound } from "./outbound";
import { runDetailView } from "./runs";
import type { SettledListener } from "./settled";
import { visualDiffView } from "./visual";

/** What a receiver's answer is kept of. */
const MAX_RESPONSE_BYTES = 1024;

type WebhookDeps = Pick<ServiceDeps, "db" | "keys" | "now" | "policy">;
type QueueingDeps = Pick<ServiceDeps, "db" | "notify" | "now" | "webhookPolicy">;

const secretAad = (webhookId: string) => `webhook-secret:${webhookId}`;

function webhookView(row: WebhookRow) {
  const { id, projectId, url, description, events, enabled, disabledReason, createdAt, updatedAt } = row;
  return { id, projectId, url, description, events, enabled, disabledReason, createdAt, updatedAt };
}

function checkTarget(deps: Pick<ServiceDeps, "policy">, url: string) {
  const verdict = judgeUrl(deps.policy, url);
  if (!verdict.allowed) throw new ApiError("webhook.target_not_allowed", `Webhook url refused: ${verdict.reason}`, { url });
}

async function keysFor(deps: Pick<ServiceDeps, "keys">): Promise<KeyRing> {
  try {
    return await deps.keys();
  } catch {
    throw new ApiError("webhook.secrets_unavailable", "This deployment cannot store webhook secrets (CREDENTIAL_KEYS unset)");
  }
}

// Managing endpoints.

export async function createWebhook(deps: WebhookDeps, scope: Scope, projectId: string, body: CreateWebhookBody) {
  const project = await findProject(deps.db, scope, projectId);
  if (!project) throw notFound("Project");
  checkTarget(deps, body.url);
  const id = uuidv7();
  const secret = newWebhookSecret();
  const sealed = await seal(await keysFor(deps), secret, secretAad(id));
  const at = deps.now().toISOString();
  const row: WebhookRow = {
    id, orgId: project.orgId, projectId: project.id, url: body.url, description: body.description ?? null, events: body.events,
    secretKeyId: sealed.keyId, secretCiphertext: sealed.ciphertext, previousSecretKeyId: null, previousSecretCiphertext: null,
    previousSecretExpiresAt: null, enabled: true, disabledReason: null, failingSince: null, failedMessages: 0, createdAt: at, updatedAt: at,
  };
  await insertWebhook(deps.db, row);
  return { ...webhookView(row), secret };
}

export async function listWebhooksPage(deps: Pick<ServiceDeps, "db">, scope: Scope, projectId: string, query: PageQuery) {
  if (!(await findProject(deps.db, scope, projectId))) throw notFound("Project");
  const { items, totalCount } = await listWebhooks(deps.db, scope, projectId, query);
  return { items: items.map(webhookView), totalCount, page: query.page, pageSize: query.pageSize };
}

async function webhookInScope(deps: Pick<ServiceDeps, "db">, scope: Scope, id: string) {
  const row = await findWebhook(deps.db, scope, id);
  if (!row) throw notFound("Webhook");
  return row;
}

export const getWebhook = async (deps: Pick<ServiceDeps, "db">, scope: Scope, id: string) => webhookView(await webhookInScope(deps, scope, id));

export async function changeWebhook(deps: WebhookDeps, scope: Scope, id: string, body: UpdateWebhookBody) {
  await webhookInScope(deps, scope, id);
  if (body.url) checkTarget(deps, body.url);
  const reEnabled = body.enabled === true ? { disabledReason: null, failingSince: null, failedMessages: 0 } : {};
  const disabled = body.enabled === false ? { disabledReason: "Disabled by a person" } : {};
  const row = await updateWebhook(deps.db, id, {
    ...(body.url !== undefined ? { url: body.url } : {}),
    ...(body.events !== undefined ? { events: body.events } : {}),
    ...(body.description !== undefined ? { description: body.description } : {}),
    ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
    ...reEnabled,
    ...disabled,
    updatedAt: deps.now().toISOString(),
  });
  return webhookView(row!);
}

export async function removeWebhook(deps: Pick<ServiceDeps, "db">, scope: Scope, id: string) {
  if (!(await deleteWebhook(deps.db, scope, id))) throw notFound("Webhook");
}

/** A new secret; the old one keeps signing next to it for `secretOverlapMs`, so receivers switch without downtime. */
export async function rotateWebhookSecret(deps: WebhookDeps & Pick<ServiceDeps, "webhookPolicy">, scope: Scope, id: string) {
  const current = await webhookInScope(deps, scope, id);
  const secret = newWebhookSecret();
  const sealed = await seal(await keysFor(deps), secret, secretAad(id));
  const now = deps.now();
  const row = await updateWebhook(deps.db, id, {
    secretKeyId: sealed.keyId,
    secretCiphertext: sealed.ciphertext,
    previousSecretKeyId: current.secretKeyId,
    previousSecretCiphertext: current.secretCiphertext,
    previousSecretExpiresAt: new Date(now.getTime() + deps.webhookPolicy.secretOverlapMs).toISOString(),
    updatedAt: now.toISOString(),
  });
  return { ...webhookView(row!), secret };
}

export async function listDeliveriesPage(deps: Pick<ServiceDeps, "db" | "now" | "webhookPolicy">, scope: Scope, id: string, query: PageQuery) {
  await webhookInScope(deps, scope, id);
  const { items, totalCount } = await listDeliveries(deps.db, id, query);
  // Bodies are dropped by the daily sweep (services/retention.ts); until then, hidden once past retention.
  const keptSince = deps.now().getTime() - deps.webhookPolicy.bodyRetentionMs;
  return {
    items: items.map(({ delivery: d, event, body, sentAt }) => ({
      id: d.id, messageId: d.messageId, event, attempt: d.attempt, statusCode: d.statusCode, error: d.error,
      durationMs: d.durationMs, createdAt: d.createdAt, requestBody: Date.parse(sentAt) >= keptSince ? body : null, responseBody: d.responseBody,
    })),
    totalCount,
    page: query.page,
    pageSize: query.pageSize,
  };
}

/** Sends a delivered message again: the same webhook-id, a new timestamp and signature. */
/** Refuses to queue for an endpoint that would drop the message unsent. */
function mustBeEnabled(webhook: WebhookRow) {
  if (!webhook.enabled) throw new ApiError("webhook.disabled", `The endpoint is disabled (${webhook.disabledReason ?? "by a person"}): PATCH {"enabled": true} first`);
}

/** A message is sent at most this many times in all (its schedule, then redeliveries). */
const MAX_ATTEMPTS_PER_MESSAGE = 50;

export async function redeliver(deps: Pick<ServiceDeps, "db" | "notify" | "now" | "webhookPolicy">, scope: Scope, webhookId: string, deliveryId: string) {
  mustBeEnabled(await webhookInScope(deps, scope, webhookId));
  const delivery = await findDelivery(deps.db, webhookId, deliveryId);
  if (!delivery) throw notFound("Delivery");
  const found = await findWebhookMessage(deps.db, delivery.messageId);
  const expired = !found?.message.body || Date.parse(found.message.createdAt) < deps.now().getTime() - deps.webhookPolicy.bodyRetentionMs;
  if (expired) throw new ApiError("webhook.message_expired", "This message's body is no longer kept (7 days), so it cannot be sent again", { messageId: delivery.messageId });
  const attempt = (await lastAttemptOf(deps.db, delivery.messageId)) + 1;
  if (attempt > MAX_ATTEMPTS_PER_MESSAGE) throw new ApiError("webhook.attempts_exhausted", `This message was sent ${attempt - 1} times already`, { messageId: delivery.messageId });
  await deps.notify.send({ kind: "webhook", messageId: delivery.messageId, attempt });
  return { messageId: delivery.messageId, event: found!.message.eventType, status: "queued" as const };
}

/** A `webhook.test` event to this endpoint alone, now. */
export async function sendTestEvent(deps: QueueingDeps, scope: Scope, id: string) {
  const webhook = await webhookInScope(deps, scope, id);
  mustBeEnabled(webhook);
  const [message] = await queueMessages(deps, [webhook], "webhook.test", { webhookId: id, message: "A test event sent on request" }, null);
  return { messageId: message.id, event: message.eventType, status: "queued" as const };
}

// Events.

const subscribed = (webhook: WebhookRow, type: WebhookEventType) => webhook.events.includes("*") || webhook.events.includes(type);

/**
 * Stores one message per endpoint and queues its first attempt. With a `subject` (the run, crawl or
 * diff the event is about) the message id is derived from it, so announcing the same event again
 * stores and sends nothing new.
 */
async function queueMessages(deps: QueueingDeps, endpoints: WebhookRow[], type: WebhookEventType, data: unknown, subject: string | null) {
  if (endpoints.length === 0) return [];
  const at = deps.now();
  const body = JSON.stringify({ type, timestamp: at.toISOString(), data });
  const rows: WebhookMessageRow[] = await Promise.all(
    endpoints.map(async (webhook) => ({
      id: subject ? await derivedMessageId(type, subject, webhook.id) : `msg_${uuidv7().replaceAll("-", "")}`,
      webhookId: webhook.id,
      eventType: type,
      body,
      createdAt: at.toISOString(),
    })),
  );
  await insertWebhookMessages(deps.db, rows);
  // A repeated announcement stores nothing new, but queues again what was never attempted: its
  // first queueing may be what failed. A message queued twice is one webhook-id, twice at most.
  const toSend = await unattemptedMessageIds(deps.db, rows.map((r) => r.id));
  if (toSend.length) await deps.notify.sendBatch(toSend.map((id) => ({ body: { kind: "webhook" as const, messageId: id, attempt: 1 } })));
  return rows.filter((r) => toSend.includes(r.id));
}

async function derivedMessageId(type: string, subject: string, webhookId: string) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${type}:${subject}:${webhookId}`)));
  return `msg_${[...digest.slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Queues an event to every enabled endpoint of the project subscribed to it. */
async function queueWebhookEvent(deps: QueueingDeps, projectId: string, type: WebhookEventType, subject: string, data: () => Promise<unknown>) {
  const endpoints = (await enabledWebhooksOf(deps.db, projectId)).filter((w) => subscribed(w, type));
  if (endpoints.length === 0) return;
  await queueMessages(deps, endpoints, type, await data(), subject);
}

/** run.started, when a queued run starts: the run as it is then. */
export async function sendRunStarted(deps: QueueingDeps & Pick<ServiceDeps, "links">, run: RunRow) {
  await queueWebhookEvent(deps, run.projectId, "run.started", run.id, () => runDetailView(deps, run, signerForRun(deps.links, run), deps.now().getTime()));
}

/** The settled listener: run.completed (and run.failed), visual.diff_created per diff, crawl.completed. */
export function sendWebhookEvents(deps: QueueingDeps & Pick<ServiceDeps, "links">): SettledListener {
  return {
    name: "send webhook events",
    async handle(work) {
      if (work.kind === "crawl") {
        const { crawl } = work;
        await queueWebhookEvent(deps, crawl.projectId, "crawl.completed", crawl.id, async () => crawlSummaryView(crawl));
        return;
      }
      const { run } = work;
      const signer = signerForRun(deps.links, run);
      const view = () => runDetailView(deps, run, signer, deps.now().getTime());
      await queueWebhookEvent(deps, run.projectId, "run.completed", run.id, view);
      if (run.status === "failed" || run.status === "error") await queueWebhookEvent(deps, run.projectId, "run.failed", run.id, view);
      for (const diff of await visualDiffsOfRun(deps.db, run.id)) {
        await queueWebhookEvent(deps, run.projectId, "visual.diff_created", diff.id, () => visualDiffView(diff, signer, deps.now().getTime()));
      }
    },
  };
}

// Delivery.

/**
 * Makes one attempt of a stored message and records it. Answers when and with which attempt
 * number to try again, or null when the message is done (delivered, out of attempts, or the
 * endpoint is gone or disabled).
 */
export async function deliverWebhookMessage(
  deps: Pick<ServiceDeps, "db" | "keys" | "now" | "policy" | "outbound" | "webhookPolicy">,
  messageId: string,
  attempt: number,
): Promise<{ delaySeconds: number; attempt: number } | null> {
  const found = await findWebhookMessage(deps.db, messageId);
  if (!found || !found.message.body || !found.webhook.enabled) return null;
  const { message, webhook } = found;
  const policy = deps.webhookPolicy;
  const now = deps.now();

  const verdict = judgeUrl(deps.policy, webhook.url);
  // A secret that no key of CREDENTIAL_KEYS opens (a key retired too early) fails the attempt, on the record.
  const secrets = verdict.allowed ? await secretsOf(deps, webhook, now).catch(() => null) : null;
  const answer = verdict.allowed && secrets
    ? await callOutbound(
        deps.outbound,
        {
          url: webhook.url,
          method: "POST",
          headers: {
            "content-type": "application/json",
            "user-agent": "aegisrunner-webhooks",
            ...(await webhookHeaders(secrets, message.id, Math.floor(now.getTime() / 1000), message.body!)),
          },
          body: message.body!,
        },
        { timeoutMs: policy.timeoutMs, maxResponseBytes: MAX_RESPONSE_BYTES },
      )
    : ({
        reached: false,
        error: verdict.allowed ? "the signing secret could not be unsealed: its CREDENTIAL_KEYS entry is gone" : `refused: ${verdict.reason}`,
        durationMs: 0,
      } as const);
  const ok = answer.reached && answer.status >= 200 && answer.status < 300;
  await insertDelivery(deps.db, {
    id: uuidv7(),
    webhookId: webhook.id,
    messageId: message.id,
    attempt,
    statusCode: answer.reached ? answer.status : null,
    error: answer.reached ? (ok ? null : `answered ${answer.status}`) : answer.error,
    durationMs: answer.durationMs,
    responseBody: answer.reached ? answer.body : null,
    createdAt: now.toISOString(),
  });

  if (ok) {
    if (webhook.failingSince || webhook.failedMessages) await updateWebhook(deps.db, webhook.id, { failingSince: null, failedMessages: 0 });
    return null;
  }
  const scheduled = policy.retryDelaysSeconds.length + 1;
  const hopeless = !verdict.allowed || !secrets; // trying again changes nothing
  const lastAttempt = attempt >= scheduled || hopeless;
  const health = await markWebhookFailing(deps.db, webhook.id, now.toISOString(), attempt === scheduled || (hopeless && attempt <= scheduled));
  const failingMs = health?.failingSince ? now.getTime() - Date.parse(health.failingSince) : 0;
  const reason =
    failingMs >= policy.disableAfterMs
      ? `Every delivery failed for ${Math.round(failingMs / 3_600_000)} hours`
      : (health?.failedMessages ?? 0) >= policy.disableAfterFailedMessages
        ? `${health!.failedMessages} messages in a row failed every attempt`
        : null;
  if (reason) {
    await updateWebhook(deps.db, webhook.id, { enabled: false, disabledReason: `${reason}; PATCH {"enabled": true} re-enables it`, updatedAt: now.toISOString() });
    return null;
  }
  return lastAttempt ? null : { delaySeconds: policy.retryDelaysSeconds[attempt - 1], attempt: attempt + 1 };
}

/**
 * The secrets that sign a delivery: the current one, and the previous one during a rotation's
 * overlap. A secret sealed under an older CREDENTIAL_KEYS entry is sealed again under the first
 * one on the way (an expired previous secret is dropped), so retiring a key needs only deliveries.
 */
async function secretsOf(deps: Pick<ServiceDeps, "db" | "keys">, webhook: WebhookRow, now: Date) {
  const ring = await deps.keys();
  const aad = secretAad(webhook.id);
  const current = await unseal(ring, { keyId: webhook.secretKeyId, ciphertext: webhook.secretCiphertext }, aad);
  const previousLive = Boolean(
    webhook.previousSecretKeyId && webhook.previousSecretCiphertext && webhook.previousSecretExpiresAt && Date.parse(webhook.previousSecretExpiresAt) > now.getTime(),
  );
  const previous = previousLive ? await unseal(ring, { keyId: webhook.previousSecretKeyId!, ciphertext: webhook.previousSecretCiphertext! }, aad) : null;
  const stale = webhook.secretKeyId !== ring.current || (previousLive ? webhook.previousSecretKeyId !== ring.current : webhook.previousSecretKeyId !== null);
  if (stale) {
    const resealed = await seal(ring, current, aad);
    const resealedPrevious = previous ? await seal(ring, previous, aad) : null;
    // Only if no rotation wrote a new secret since this row was read.
    await resealWebhookSecret(deps.db, webhook.id, webhook.secretCiphertext, {
      secretKeyId: resealed.keyId,
      secretCiphertext: resealed.ciphertext,
      previousSecretKeyId: resealedPrevious?.keyId ?? null,
      previousSecretCiphertext: resealedPrevious?.ciphertext ?? null,
      previousSecretExpiresAt: previous ? webhook.previousSecretExpiresAt : null,
    });
  }
  return previous ? [current, previous] : [current];
}
