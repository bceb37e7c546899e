// Webhooks, delivered to a real local receiver (test/fixtures/webhook-receiver.mjs) and verified
// with the Standard Webhooks library itself, as a customer's receiver would.
import { describe, expect, it } from "vitest";
import { createMessageBatch, createExecutionContext, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { urlPolicyFrom } from "../src/browser/url-policy";
import { keyRingFrom } from "../src/auth/secrets";
import { consumeNotify } from "../src/queue/notify-consumer";
import type { ServiceDeps } from "../src/services/deps";
import { listDeliveriesPage, redeliver, sendWebhookEvents } from "../src/services/webhooks";
import { DEFAULT_WEBHOOK_POLICY } from "../src/services/webhook-policy";
import { createDb } from "../src/db/client";
import { findRunById } from "../src/db/runs";
import { wire } from "../src/wiring";
import { bootTenant, call, createSuiteWithCase } from "./helpers/api";
import { eventually, sleep } from "./helpers/wait";

type Received = { path: string; method: string; headers: Record<string, string>; body: string; receivedAt: number };

const hookPath = (kind: "ok" | "fail-once" | "fail" | "redirect" | "big" | "slow") => `/hooks/${kind}/${crypto.randomUUID().slice(0, 8)}`;
const hookUrl = (path: string) => `${env.WEBHOOK_RECEIVER_ORIGIN}${path}`;

async function receivedAt(path: string): Promise<Received[]> {
  return (await fetch(`${env.WEBHOOK_RECEIVER_ORIGIN}/__received?path=${encodeURIComponent(path)}`)).json();
}

const waitForDeliveries = (path: string, count: number, timeoutMs = 15_000) =>
  eventually(async () => {
    const got = await receivedAt(path);
    return got.length >= count && got;
  }, { what: `${count} deliveries at ${path}`, timeoutMs, intervalMs: 150 });

const verify = (secret: string, delivery: Received) => new Webhook(secret).verify(delivery.body, delivery.headers) as { type: string; timestamp: string; data: any };

async function createHook(orgKey: string, projectId: string, path: string, events: string[]) {
  const res = await call("POST", `/projects/${projectId}/webhooks`, { token: orgKey, body: { url: hookUrl(path), events, description: "CI dashboard" } });
  expect(res.status, res.text).toBe(201);
  return res.json as { id: string; secret: string };
}

/** Hands NOTIFY messages to the consumer with a changed wiring (a later clock, other thresholds). */
async function deliverWith(overrides: Partial<ServiceDeps>, body: unknown) {
  const batch = createMessageBatch("aegis-notify", [{ id: "manual", timestamp: new Date(), attempts: 1, body }]);
  const ctx = createExecutionContext();
  await consumeNotify(batch, () => ({ ...wire(env), ...overrides }));
  return getQueueResult(batch, ctx);
}

describe("webhook endpoints", () => {
  it("shows the signing secret once, never again, and keeps other tenants out", async () => {
    const t = await bootTenant();
    const created = await call("POST", `/projects/${t.projectId}/webhooks`, {
      token: t.orgKey,
      body: { url: hookUrl(hookPath("ok")), events: ["run.completed", "run.failed"], description: "CI dashboard" },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe(`/api/v1/webhooks/${created.json.id}`);
    expect(created.json).toMatchObject({ projectId: t.projectId, events: ["run.completed", "run.failed"], enabled: true, disabledReason: null, description: "CI dashboard" });
    expect(created.json.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(atob(created.json.secret.slice(6)).length).toBeGreaterThanOrEqual(24);

    const reads = [
      await call("GET", `/webhooks/${created.json.id}`, { token: t.ciToken }),
      await call("GET", `/projects/${t.projectId}/webhooks`, { token: t.ciToken }),
      await call("PATCH", `/webhooks/${created.json.id}`, { token: t.orgKey, body: { description: "renamed" } }),
    ];
    for (const read of reads) {
      expect(read.status).toBe(200);
      expect(read.text).not.toContain(created.json.secret.slice(6));
      expect(read.text).not.toContain('"secret"');
    }
    expect(reads[1].json).toMatchObject({ totalCount: 1, page: 1, pageSize: 20, items: [{ id: created.json.id }] });
    const stored = await env.DB.prepare("select * from webhooks where id = ?").bind(created.json.id).first();
    expect(JSON.stringify(stored)).not.toContain(created.json.secret.slice(6));

    const other = await bootTenant("pro", "Globex");
    for (const [method, path] of [["GET", `/webhooks/${created.json.id}`], ["PATCH", `/webhooks/${created.json.id}`], ["DELETE", `/webhooks/${created.json.id}`], ["POST", `/webhooks/${created.json.id}/rotate-secret`], ["GET", `/webhooks/${created.json.id}/deliveries`], ["GET", `/projects/${t.projectId}/webhooks`], ["POST", `/webhooks/${created.json.id}/test`], ["POST", `/webhooks/${created.json.id}/deliveries/${crypto.randomUUID()}/redeliver`], ["POST", `/projects/${t.projectId}/webhooks`]] as const) {
      const body = method === "PATCH" ? { enabled: false } : path.endsWith("/webhooks") && method === "POST" ? { url: "https://hooks.example.com/x", events: ["*"] } : undefined;
      const res = await call(method, path, { token: other.orgKey, body });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await call("GET", `/webhooks/${created.json.id}`, { token: t.orgKey })).json.description).toBe("renamed");

    expect((await call("DELETE", `/webhooks/${created.json.id}`, { token: t.orgKey })).status).toBe(204);
    expect((await call("GET", `/webhooks/${created.json.id}`, { token: t.orgKey })).status).toBe(404);
  });

  it("refuses unknown events and private or non-http targets when the endpoint is saved", async () => {
    const t = await bootTenant();
    const post = (body: unknown) => call("POST", `/projects/${t.projectId}/webhooks`, { token: t.orgKey, body });
    const unknownEvent = await post({ url: "https://hooks.example.com/a", events: ["run.exploded"] });
    expect(unknownEvent.status).toBe(400);
    expect(unknownEvent.json.details.issues[0].path).toBe("events.0");
    for (const url of ["http://10.0.0.5/hook", "http://169.254.169.254/latest/meta-data", "http://[::1]:8080/x", "http://metadata.google.internal/"]) {
      const res = await post({ url, events: ["*"] });
      expect(res.status, url).toBe(400);
      expect(res.json.code, url).toBe("webhook.target_not_allowed");
    }
    expect((await post({ url: "ftp://hooks.example.com/a", events: ["*"] })).json.code).toBe("request.invalid");
    const ok = await post({ url: "https://hooks.example.com/a", events: ["*"] });
    expect(ok.status).toBe(201);
    const toPrivate = await call("PATCH", `/webhooks/${ok.json.id}`, { token: t.orgKey, body: { url: "http://192.168.1.10/" } });
    expect(toPrivate.json.code).toBe("webhook.target_not_allowed");
  });
});

describe("webhook deliveries", () => {
  it("signs run.started, run.completed and run.failed so standardwebhooks verifies them, and logs each attempt", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/" }, { action: "expectTitle", title: "Not the title" , timeoutMs: 300 }]);
    const path = hookPath("ok");
    const hook = await createHook(t.orgKey, t.projectId, path, ["run.started", "run.completed", "run.failed"]);

    const run = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true } });
    expect(run.json.status).toBe("failed");
    const all = await waitForDeliveries(path, 3);
    const started = all.find((d) => JSON.parse(d.body).type === "run.started")!;
    expect(verify(hook.secret, started).data).toMatchObject({ runId: run.json.runId, status: "running", startedAt: expect.any(String), finishedAt: null });
    const deliveries = all.filter((d) => d !== started);
    const payloads = deliveries.map((d) => verify(hook.secret, d));
    expect(payloads.map((p) => p.type).sort()).toEqual(["run.completed", "run.failed"]);
    const shown = await call("GET", `/ci/runs/${run.json.runId}`, { token: t.ciToken });
    for (const [i, payload] of payloads.entries()) {
      // The run as GET /ci/runs/:id shows it; signed screenshot links differ only in when they expire.
      const unsigned = (view: any) => ({ ...view, results: view.results.map((r: any) => ({ ...r, screenshotUrl: r.screenshotUrl?.split("?")[0] })) });
      expect(unsigned(payload.data)).toEqual(unsigned(shown.json));
      expect(payload.data.results[0].screenshotUrl).toMatch(/\?exp=\d+&sig=/);
      expect(Date.parse(payload.timestamp)).toBeGreaterThan(0);
      expect(deliveries[i]).toMatchObject({ method: "POST", headers: { "content-type": "application/json", "user-agent": "aegisrunner-webhooks" } });
      expect(deliveries[i].headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    }
    expect(new Set(all.map((d) => d.headers["webhook-id"])).size).toBe(3);

    const log = await eventually(async () => {
      const res = await call("GET", `/webhooks/${hook.id}/deliveries`, { token: t.ciToken });
      return res.json.totalCount === 3 && res;
    }, { what: "three logged deliveries" });
    for (const item of log.json.items) {
      const sent = all.find((d) => d.headers["webhook-id"] === item.messageId)!;
      expect(item).toMatchObject({ attempt: 1, statusCode: 204, error: null, requestBody: sent.body, responseBody: "" });
      expect(item.event).toBe(JSON.parse(sent.body).type);
    }
    // Announcing the same settled run again sends nothing new (the message ids are derived from the run).
    const row = await findRunById(createDb(env.DB), run.json.runId);
    await sendWebhookEvents(wire(env)).handle({ kind: "run", run: row as never });
    await sleep(2_500);
    expect(await receivedAt(path)).toHaveLength(3);
  });

  it("sends crawl.completed for a crawl and visual.diff_created for each diff a run made", async () => {
    const t = await bootTenant();
    const path = hookPath("ok");
    const hook = await createHook(t.orgKey, t.projectId, path, ["crawl.completed", "visual.diff_created"]);

    const crawl = await call("POST", `/projects/${t.projectId}/crawls`, { token: t.ciToken, body: { maxPages: 1, maxDepth: 0 } });
    expect(crawl.status).toBe(202);
    const [crawled] = await waitForDeliveries(path, 1, 30_000);
    const crawlEvent = verify(hook.secret, crawled);
    expect(crawlEvent.type).toBe("crawl.completed");
    expect(crawlEvent.data).toMatchObject({ id: crawl.json.id, status: "completed", pagesVisited: 1 });

    const { suiteId } = await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/" }, { action: "screenshot", name: "home" }], "home look");
    const baseline = await call("POST", `/suites/${suiteId}/run`, { token: t.ciToken, body: { wait: true } });
    expect(baseline.json.status).toBe("passed");
    const changed = await call("POST", `/suites/${suiteId}/run`, { token: t.ciToken, body: { wait: true, baseUrl: env.CHANGED_FIXTURE_ORIGIN } });
    expect(changed.json.status).toBe("failed");
    const [, diffDelivery] = await waitForDeliveries(path, 2, 20_000);
    const diffEvent = verify(hook.secret, diffDelivery);
    const diffs = await call("GET", `/api/v1/runs/${changed.json.runId}/diffs`, { token: t.ciToken });
    expect(diffEvent.type).toBe("visual.diff_created");
    expect(diffEvent.data).toMatchObject({ id: diffs.json.items[0].id, runId: changed.json.runId, step: "home", status: "pending", changedShare: diffs.json.items[0].changedShare });
    expect(diffEvent.data.diffUrl).toMatch(/^http:\/\/localhost\/artifacts\/.+\?exp=\d+&sig=/);
    expect(await receivedAt(path)).toHaveLength(2);
  });

  it("retries a failed attempt on the schedule with the same webhook-id, and redelivers on request", async () => {
    const t = await bootTenant();
    const path = hookPath("fail-once");
    const hook = await createHook(t.orgKey, t.projectId, path, ["webhook.test"]);
    const queued = await call("POST", `/webhooks/${hook.id}/test`, { token: t.orgKey });
    expect(queued.status).toBe(202);
    expect(queued.json).toMatchObject({ event: "webhook.test", status: "queued", messageId: expect.stringMatching(/^msg_/) });

    // The first attempt answers 500; the second comes 5 s later (Svix's first retry) and succeeds.
    const [first, second] = await waitForDeliveries(path, 2, 20_000);
    expect(first.headers["webhook-id"]).toBe(queued.json.messageId);
    expect(second.headers["webhook-id"]).toBe(queued.json.messageId);
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(4_000);
    expect(verify(hook.secret, first).type).toBe("webhook.test");
    expect(verify(hook.secret, second).data).toEqual({ webhookId: hook.id, message: "A test event sent on request" });

    const log = await eventually(async () => {
      const res = await call("GET", `/webhooks/${hook.id}/deliveries`, { token: t.orgKey });
      return res.json.totalCount === 2 && res;
    }, { what: "both attempts logged" });
    expect(log.json.items.map((i: any) => [i.attempt, i.statusCode, i.error, i.responseBody])).toEqual([
      [2, 200, null, "thanks"],
      [1, 500, "answered 500", "boom"],
    ]);

    const again = await call("POST", `/webhooks/${hook.id}/deliveries/${log.json.items[1].id}/redeliver`, { token: t.orgKey });
    expect(again.status).toBe(202);
    const [, , third] = await waitForDeliveries(path, 3);
    expect(third.headers["webhook-id"]).toBe(queued.json.messageId);
    expect(third.body).toBe(first.body);
    expect(Number(third.headers["webhook-timestamp"])).toBeGreaterThanOrEqual(Number(second.headers["webhook-timestamp"]));
    verify(hook.secret, third);
    const after = await eventually(async () => {
      const res = await call("GET", `/webhooks/${hook.id}/deliveries`, { token: t.orgKey });
      return res.json.totalCount === 3 && res;
    }, { what: "the redelivery logged" });
    expect(after.json.items[0]).toMatchObject({ attempt: 3, statusCode: 200 });
    expect((await call("POST", `/webhooks/${hook.id}/deliveries/${crypto.randomUUID()}/redeliver`, { token: t.orgKey })).status).toBe(404);
  });

  it("keeps what was sent for 7 days: after that the log shows no body and redelivery answers 409", async () => {
    const t = await bootTenant();
    const path = hookPath("ok");
    const hook = await createHook(t.orgKey, t.projectId, path, ["webhook.test"]);
    await call("POST", `/webhooks/${hook.id}/test`, { token: t.orgKey });
    await waitForDeliveries(path, 1);
    const log = await eventually(async () => {
      const res = await call("GET", `/webhooks/${hook.id}/deliveries`, { token: t.orgKey });
      return res.json.totalCount === 1 && res;
    }, { what: "the delivery logged" });
    expect(log.json.items[0].requestBody).toContain('"type":"webhook.test"');

    const eightDaysLater = { ...wire(env), now: () => new Date(Date.now() + 8 * 24 * 3600 * 1000) };
    const scope = { orgId: t.orgId };
    const later = await listDeliveriesPage(eightDaysLater, scope, hook.id, { page: 1, pageSize: 20 });
    expect(later.items[0]).toMatchObject({ requestBody: null, statusCode: 204 });
    await expect(redeliver(eightDaysLater, scope, hook.id, log.json.items[0].id)).rejects.toMatchObject({ code: "webhook.message_expired", status: 409 });
  });

  it("signs with both secrets for a day after a rotation, then with the new one only", async () => {
    const t = await bootTenant();
    const path = hookPath("ok");
    const hook = await createHook(t.orgKey, t.projectId, path, ["*"]);
    const rotated = await call("POST", `/webhooks/${hook.id}/rotate-secret`, { token: t.orgKey });
    expect(rotated.status).toBe(200);
    expect(rotated.json.secret).toMatch(/^whsec_/);
    expect(rotated.json.secret).not.toBe(hook.secret);

    const queued = await call("POST", `/webhooks/${hook.id}/test`, { token: t.orgKey });
    const [during] = await waitForDeliveries(path, 1);
    expect(during.headers["webhook-signature"].split(" ")).toHaveLength(2);
    verify(hook.secret, during);
    verify(rotated.json.secret, during);

    // A day and a minute later the old secret no longer signs.
    const later = new Date(Date.now() + DEFAULT_WEBHOOK_POLICY.secretOverlapMs + 60_000);
    await deliverWith({ now: () => later }, { kind: "webhook", messageId: queued.json.messageId, attempt: 2 });
    const [, after] = await waitForDeliveries(path, 2);
    const signatures = after.headers["webhook-signature"].split(" ");
    expect(signatures).toEqual([new Webhook(rotated.json.secret).sign(queued.json.messageId, new Date(Number(after.headers["webhook-timestamp"]) * 1000), after.body)]);
  });

  it("moves a webhook secret to the first CREDENTIAL_KEYS entry at its next delivery, so the old key can be retired", async () => {
    const t = await bootTenant();
    const path = hookPath("ok");
    const hook = await createHook(t.orgKey, t.projectId, path, ["webhook.test"]);
    const queued = await call("POST", `/webhooks/${hook.id}/test`, { token: t.orgKey });
    await waitForDeliveries(path, 1);
    const oldKeyId = env.CREDENTIAL_KEYS.split(":")[0];
    const keyIdOf = async () => (await env.DB.prepare("select secret_key_id from webhooks where id = ?").bind(hook.id).first<{ secret_key_id: string }>())!.secret_key_id;
    expect(await keyIdOf()).toBe(oldKeyId);

    const newEntry = `rotated1:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
    // Step 2 of the rotation: the new key first, the old one kept.
    await deliverWith({ keys: () => keyRingFrom(`${newEntry},${env.CREDENTIAL_KEYS}`) }, { kind: "webhook", messageId: queued.json.messageId, attempt: 2 });
    expect(await keyIdOf()).toBe("rotated1");
    // Step 4: the old key gone; the secret still opens, and signs what the receiver verifies.
    await deliverWith({ keys: () => keyRingFrom(newEntry) }, { kind: "webhook", messageId: queued.json.messageId, attempt: 3 });
    const deliveries = await waitForDeliveries(path, 3);
    for (const delivery of deliveries) verify(hook.secret, delivery);
  });

  it("does not follow redirects, keeps 1 KiB of an answer, and gives up on a receiver that does not answer in time", async () => {
    const t = await bootTenant();
    const logOf = async (hookId: string, count = 1) =>
      eventually(async () => {
        const res = await call("GET", `/webhooks/${hookId}/deliveries`, { token: t.orgKey });
        return res.json.totalCount >= count && res.json.items;
      }, { what: `${count} logged deliveries` });

    const redirect = await createHook(t.orgKey, t.projectId, hookPath("redirect"), ["webhook.test"]);
    await call("POST", `/webhooks/${redirect.id}/test`, { token: t.orgKey });
    expect((await logOf(redirect.id))[0]).toMatchObject({ attempt: 1, statusCode: 302, error: "answered 302" });
    expect(await receivedAt("/hooks/ok/redirected")).toHaveLength(0);

    const big = await createHook(t.orgKey, t.projectId, hookPath("big"), ["webhook.test"]);
    await call("POST", `/webhooks/${big.id}/test`, { token: t.orgKey });
    const [bigDelivery] = await logOf(big.id);
    expect(bigDelivery).toMatchObject({ statusCode: 200, error: null });
    expect(bigDelivery.responseBody).toBe("x".repeat(1024));

    // The time-out is the policy's (15 s); a shorter one here, so the test need not wait it out.
    const slowPath = hookPath("slow");
    const slow = await createHook(t.orgKey, t.projectId, slowPath, ["webhook.test"]);
    const queued = await call("POST", `/webhooks/${slow.id}/test`, { token: t.orgKey });
    await logOf(slow.id);
    await deliverWith({ webhookPolicy: { ...DEFAULT_WEBHOOK_POLICY, timeoutMs: 300 } }, { kind: "webhook", messageId: queued.json.messageId, attempt: 2 });
    const items = await logOf(slow.id, 2);
    expect(items.find((i: any) => i.attempt === 2)).toMatchObject({ statusCode: null, error: "no answer within 300 ms", responseBody: null });
  });

  it("refuses a private target again at delivery time, without sending anything", async () => {
    const t = await bootTenant();
    const path = hookPath("ok");
    const hook = await createHook(t.orgKey, t.projectId, path, ["webhook.test"]);
    const queued = await call("POST", `/webhooks/${hook.id}/test`, { token: t.orgKey });
    await waitForDeliveries(path, 1);
    // A deployment whose allowlist no longer admits 127.0.0.1 refuses the same endpoint.
    await deliverWith({ policy: urlPolicyFrom("") }, { kind: "webhook", messageId: queued.json.messageId, attempt: 2 });
    expect(await receivedAt(path)).toHaveLength(1);
    const log = await call("GET", `/webhooks/${hook.id}/deliveries`, { token: t.orgKey });
    expect(log.json.items[0]).toMatchObject({ attempt: 2, statusCode: null, error: "refused: 127.0.0.1 is a private, loopback or metadata address" });
  });

  it("disables an endpoint after 5 days of failures or too many failed messages, and PATCH enabled re-enables it", async () => {
    const t = await bootTenant();
    const path = hookPath("fail");
    const hook = await createHook(t.orgKey, t.projectId, path, ["webhook.test"]);
    const queued = await call("POST", `/webhooks/${hook.id}/test`, { token: t.orgKey });
    await waitForDeliveries(path, 1);
    await eventually(async () => (await call("GET", `/webhooks/${hook.id}/deliveries`, { token: t.orgKey })).json.totalCount === 1, { what: "the failed attempt logged" });

    // Five days and a minute after that first failure, the next failed attempt disables it.
    const later = new Date(Date.now() + 5 * 24 * 3600 * 1000 + 60_000);
    await deliverWith({ now: () => later }, { kind: "webhook", messageId: queued.json.messageId, attempt: 2 });
    const disabled = await call("GET", `/webhooks/${hook.id}`, { token: t.orgKey });
    expect(disabled.json).toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/^Every delivery failed for 120 hours; PATCH \{"enabled": true\} re-enables it$/) });
    // The retry the first attempt scheduled (5 s later) finds it disabled and sends nothing.
    await sleep(6_000);
    expect(await receivedAt(path)).toHaveLength(2);

    // Nothing is queued for it meanwhile: it would be dropped unsent.
    const refused = await call("POST", `/webhooks/${hook.id}/test`, { token: t.orgKey });
    expect([refused.status, refused.json.code]).toEqual([409, "webhook.disabled"]);

    const enabled = await call("PATCH", `/webhooks/${hook.id}`, { token: t.orgKey, body: { enabled: true } });
    expect(enabled.json).toMatchObject({ enabled: true, disabledReason: null });

    // With the failed-message threshold at 1, a message whose last scheduled attempt fails disables it.
    const lastAttempt = DEFAULT_WEBHOOK_POLICY.retryDelaysSeconds.length + 1;
    await deliverWith({ webhookPolicy: { ...DEFAULT_WEBHOOK_POLICY, disableAfterFailedMessages: 1 } }, { kind: "webhook", messageId: queued.json.messageId, attempt: lastAttempt });
    expect((await call("GET", `/webhooks/${hook.id}`, { token: t.orgKey })).json).toMatchObject({
      enabled: false,
      disabledReason: '1 messages in a row failed every attempt; PATCH {"enabled": true} re-enables it',
    });
  });
});
