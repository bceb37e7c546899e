// The daily sweep (the Worker's cron): run events after 90 days, webhook messages and their
// attempts after 30, what a message sent after 7; what is younger stays.
import { describe, expect, it } from "vitest";
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../src/index";
import { bootTenant, call, createSuiteWithCase } from "./helpers/api";

const daysAgo = (days: number) => new Date(Date.now() - days * 24 * 3600 * 1000).toISOString();

describe("the retention sweep", () => {
  it("deletes what outlived its retention and keeps the rest", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/" }]);
    const run = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true } });
    const runId = run.json.runId as string;
    const hook = await call("POST", `/projects/${t.projectId}/webhooks`, { token: t.orgKey, body: { url: "https://hooks.example.com/x", events: ["*"] } });

    // An old run's events, beside the fresh run's own.
    const fresh = (await call("GET", `/api/v1/runs/${runId}/events`, { token: t.ciToken })).json.totalCount as number;
    expect(fresh).toBeGreaterThan(0);
    await env.DB.prepare("update run_events set created_at = ? where run_id = ? and seq = 1").bind(daysAgo(91), runId).run();

    const message = (id: string, days: number) =>
      env.DB.prepare("insert into webhook_messages (id, webhook_id, event_type, body, created_at) values (?, ?, 'webhook.test', '{\"x\":1}', ?)").bind(id, hook.json.id, daysAgo(days)).run();
    const attempt = (id: string, messageId: string, days: number) =>
      env.DB.prepare("insert into webhook_deliveries (id, webhook_id, message_id, attempt, status_code, error, duration_ms, response_body, created_at) values (?, ?, ?, 1, 204, null, 5, '', ?)")
        .bind(id, hook.json.id, messageId, daysAgo(days)).run();
    await message("msg_old", 31);
    await attempt(crypto.randomUUID(), "msg_old", 31);
    await message("msg_week", 8);
    await attempt(crypto.randomUUID(), "msg_week", 8);
    await message("msg_new", 1);
    await attempt(crypto.randomUUID(), "msg_new", 1);

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "17 3 * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);

    const events = await call("GET", `/api/v1/runs/${runId}/events`, { token: t.ciToken });
    expect(events.json.totalCount).toBe(fresh - 1);
    expect(events.json.items[0].id).toBe(2);
    const messages = await env.DB.prepare("select id, body is null as dropped from webhook_messages where webhook_id = ? order by id").bind(hook.json.id).all();
    expect(messages.results).toEqual([{ id: "msg_new", dropped: 0 }, { id: "msg_week", dropped: 1 }]);
    const log = await call("GET", `/webhooks/${hook.json.id}/deliveries`, { token: t.orgKey });
    expect(log.json.totalCount).toBe(2);
  });
});
