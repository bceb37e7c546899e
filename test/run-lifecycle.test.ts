import { describe, expect, it } from "vitest";
import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { wire } from "../src/wiring";
import { executeRun } from "../src/services/run-executor";
import { artifactUrl, SCREENSHOT_LINK_TTL_SECONDS } from "../src/services/links";
import { bootTenant, call, createSuiteWithCase } from "./helpers/api";
import { deliver } from "./helpers/queue";
import { isPng } from "./helpers/png";
import { eventually } from "./helpers/wait";

const PASSING = [
  { action: "goto", url: "/" },
  { action: "expectTitle", title: "Home" },
];

/** The JOBS message of a run delivered again, as after a consumer crashed or an ack was lost. */
const redeliver = (runId: string) => deliver({ id: `redelivery-${runId}`, body: { kind: "run", id: runId }, attempts: 2 });

describe("the seed's trigger-then-poll loop", () => {
  it("works as printed: curl -d without a content type, then GET until passed", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, PASSING);
    const trigger = await call("POST", "/ci/trigger", {
      token: `aegis_${t.ciToken}`,
      rawBody: '{"crawl": true}',
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(trigger.status).toBe(202);
    expect(Object.keys(trigger.json).sort()).toEqual(["runId", "runType", "status", "url"]);
    expect(trigger.json).toMatchObject({ status: "queued", runType: "manual" });
    expect(trigger.headers.get("location")).toBe(`/api/v1/ci/runs/${trigger.json.runId}`);
    expect(trigger.json.url).toMatch(new RegExp(`^http://localhost/runs/${trigger.json.runId}\\?sig=`));

    const run = await eventually(
      async () => {
        const poll = await call("GET", `/ci/runs/${trigger.json.runId}`, { token: `aegis_${t.ciToken}` });
        expect(poll.status).toBe(200);
        return !["queued", "running"].includes(poll.json.status) && poll;
      },
      { what: `run ${trigger.json.runId} to settle`, timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(run.json).toMatchObject({ status: "passed", passed: 1, failed: 0, total: 1, options: { crawl: true } });
    expect(run.json.durationMs).toBe(run.json.queuedMs + run.json.runningMs);
  });
});

describe("wait: true", () => {
  it("answers 502 run.error when the site cannot be reached, so a script knows to retry", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, PASSING);
    const res = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true, baseUrl: "http://127.0.0.1:65531/" } });
    expect(res.status).toBe(502);
    expect(res.json).toMatchObject({ status: "error", code: "run.error" });
    expect(res.json.errorMessage).toMatch(/^Site unreachable: http:\/\/127\.0\.0\.1:65531\/ could not be reached \(ERR_CONNECTION_REFUSED\)/);
  });

  it("answers 409 run.cancelled when the run is cancelled while the caller waits", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/" }, { action: "waitFor", target: { css: "#never" }, timeoutMs: 30000 }]);
    const waiting = call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true } });
    const runId: string = await eventually(
      async () => (await call("GET", `/projects/${t.projectId}/runs?status=running`, { token: t.ciToken })).json.items[0]?.runId,
      { what: "the run to be running", timeoutMs: 20_000, intervalMs: 100 },
    );
    const cancel = await call("POST", `/ci/runs/${runId}/cancel`, { token: t.ciToken });
    expect(cancel.status).toBe(200);
    expect(cancel.json.status).toBe("cancelled");
    const res = await waiting;
    expect(res.status).toBe(409);
    expect(res.json).toMatchObject({ runId, status: "cancelled", code: "run.cancelled" });
    const again = await call("POST", `/ci/runs/${runId}/cancel`, { token: t.ciToken });
    expect(again.status).toBe(409);
    expect(again.json.code).toBe("run.already_settled");
  });
});

describe("queue delivery", () => {
  it("does nothing for a redelivered message of a settled run", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, PASSING);
    const first = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true } });
    expect(first.status).toBe(200);
    const result = await redeliver(first.json.runId);
    expect(result.explicitAcks).toEqual([`redelivery-${first.json.runId}`]);
    const after = await call("GET", `/ci/runs/${first.json.runId}`, { token: t.ciToken });
    expect(after.json).toMatchObject({ status: "passed", passed: 1, finishedAt: first.json.finishedAt });
    expect(after.json.results).toHaveLength(1);
  });

  it("resumes a run left running by a dead consumer, without counting any case twice", async () => {
    const t = await bootTenant();
    const { suiteId } = await createSuiteWithCase(t.ciToken, t.projectId, PASSING, "first");
    await call("POST", `/suites/${suiteId}/cases`, { token: t.ciToken, body: { name: "second", steps: PASSING } });
    const done = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true } });
    expect(done.json.passed).toBe(2);
    const runId = done.json.runId;
    // The state a crash after the first case leaves behind: running, one result recorded.
    await env.DB.batch([
      env.DB.prepare("UPDATE runs SET status = 'running', finished_at = NULL, passed = 0 WHERE id = ?").bind(runId),
      env.DB.prepare("DELETE FROM case_results WHERE run_id = ? AND case_name = 'second'").bind(runId),
    ]);
    const result = await redeliver(runId);
    expect(result.explicitAcks).toEqual([`redelivery-${runId}`]);
    const after = await call("GET", `/ci/runs/${runId}`, { token: t.ciToken });
    expect(after.json).toMatchObject({ status: "passed", passed: 2, failed: 0, total: 2 });
    expect(after.json.results.map((r: { caseName: string }) => r.caseName)).toEqual(["first", "second"]);
  });

  it("acks and drops a malformed message instead of retrying it forever", async () => {
    const result = await deliver({ id: "bad", body: { kind: "run", id: "nope" } });
    expect(result).toMatchObject({ explicitAcks: ["bad"], retryMessages: [] });
  });
});

describe("the run's watchdog", () => {
  it("settles a run whose consumer died as error and wakes its waiters", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, PASSING);
    const done = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true } });
    // A second run, recorded as running with no consumer behind it.
    const runId = "01a00000-0000-7000-8000-00000000beef";
    await env.DB.prepare(
      `INSERT INTO runs (id, org_id, project_id, run_type, status, browser_profile, base_url, options, case_ids, created_at, started_at)
       SELECT ?, org_id, project_id, run_type, 'running', browser_profile, base_url, options, case_ids, created_at, created_at FROM runs WHERE id = ?`,
    ).bind(runId, done.json.runId).run();
    const tracker = env.RUN_TRACKER.get(env.RUN_TRACKER.idFromName(runId));
    await tracker.arm(runId, 60_000, "run");
    const waiter = tracker.waitForSettle(60_000);
    expect(await runDurableObjectAlarm(tracker)).toBe(true);
    expect(await waiter).toBe("error");
    const run = await call("GET", `/ci/runs/${runId}`, { token: t.ciToken });
    expect(run.json.status).toBe("error");
    expect(run.json.errorMessage).toMatch(/watchdog/);
    expect(await tracker.waitForSettle(10)).toBe("error");
  });

  it("is held off by heartbeats while a long case runs, and settles the run when they stop", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/slow?ms=2500" }, { action: "expectTitle", title: "Slow" }]);
    const done = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true } });
    expect(done.json.status).toBe("passed");
    // Two copies of that run, queued, executed here with a 1 s watchdog: its case takes ~2.5 s.
    const copy = async (runId: string) => {
      await env.DB.prepare(
        `INSERT INTO runs (id, org_id, project_id, run_type, status, browser_profile, base_url, options, case_ids, created_at)
         SELECT ?, org_id, project_id, run_type, 'queued', browser_profile, base_url, options, case_ids, created_at FROM runs WHERE id = ?`,
      ).bind(runId, done.json.runId).run();
      return runId;
    };
    const execute = (runId: string, heartbeatMs: number) => executeRun({ ...wire(env), timing: { watchdogMs: 1000, heartbeatMs } }, runId);

    const kept = await copy("01a00000-0000-7000-8000-0000000000a1");
    await execute(kept, 200);
    expect((await call("GET", `/ci/runs/${kept}`, { token: t.ciToken })).json).toMatchObject({ status: "passed", passed: 1 });

    const silent = await copy("01a00000-0000-7000-8000-0000000000a2");
    await execute(silent, 60_000);
    const lost = await call("GET", `/ci/runs/${silent}`, { token: t.ciToken });
    expect(lost.json).toMatchObject({ status: "error", errorMessage: expect.stringMatching(/watchdog/) });
  });

  it("lets a waiter go with null when the wait limit passes first", async () => {
    const tracker = env.RUN_TRACKER.get(env.RUN_TRACKER.idFromName("no-such-run"));
    expect(await tracker.waitForSettle(30)).toBeNull();
  });
});

describe("runs of a suite and run lists", () => {
  it("runs one suite by id and lists runs newest first with a status filter", async () => {
    const t = await bootTenant();
    const passing = await createSuiteWithCase(t.ciToken, t.projectId, PASSING);
    const failing = await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/missing" }]);
    const a = await call("POST", `/suites/${passing.suiteId}/run`, { token: t.ciToken, body: { browserProfile: "chromium", wait: true } });
    expect(a.status).toBe(200);
    const b = await call("POST", `/suites/${failing.suiteId}/run`, { token: t.ciToken, body: { wait: true } });
    expect(b.status).toBe(422);
    expect(b.json.results[0].reason).toMatch(/^Step 1 \(goto\): http:\/\/127\.0\.0\.1:\d+\/missing answered HTTP 404$/);
    const all = await call("GET", `/projects/${t.projectId}/runs`, { token: t.ciToken });
    expect(all.json.items.map((r: { runId: string }) => r.runId)).toEqual([b.json.runId, a.json.runId]);
    const failed = await call("GET", `/projects/${t.projectId}/runs?status=failed`, { token: t.ciToken });
    expect(failed.json).toMatchObject({ totalCount: 1, items: [{ runId: b.json.runId, status: "failed" }] });
  });

  it("hides another project's run behind 404, even from a token of the same organization", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, PASSING);
    const run = await call("POST", "/ci/trigger", { token: t.ciToken, body: {} });
    const other = await call("POST", "/projects", { token: t.orgKey, body: { name: "Other" } });
    const otherToken = await call("POST", `/projects/${other.json.id}/tokens`, { token: t.orgKey, body: { name: "other CI" } });
    expect((await call("GET", `/ci/runs/${run.json.runId}`, { token: otherToken.json.token })).status).toBe(404);
    expect((await call("POST", `/ci/runs/${run.json.runId}/cancel`, { token: otherToken.json.token })).status).toBe(404);
    const stranger = await bootTenant("pro", "Stranger");
    expect((await call("GET", `/ci/runs/${run.json.runId}`, { token: stranger.orgKey })).status).toBe(404);
    expect((await call("GET", `/ci/runs/${run.json.runId}`, { token: t.orgKey })).status).toBe(200);
  });
});

describe("the run page", () => {
  it("shows the run to whoever holds the signed link, and 404 to anyone else", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/" }, { action: "expectTitle", title: "Nope", timeoutMs: 300 }], "title check");
    const run = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true } });
    expect(run.status).toBe(422);
    const page = await call("GET", run.json.url);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.text).toContain('data-status="failed"');
    expect(page.text).toContain("title check");
    expect(page.text).toContain("Step 2 (expectTitle): expected title &quot;Nope&quot;, found &quot;Home&quot;");
    expect(page.text).toContain('<img src="http://localhost/artifacts/runs/');

    const url = new URL(run.json.url);
    expect((await call("GET", `${url.origin}${url.pathname}`)).status).toBe(404);
    const sig = url.searchParams.get("sig")!;
    // Another last character: once a change of the signature's bytes, once of only the bits base64 leaves unused.
    const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = BASE64URL.indexOf(sig.at(-1)!);
    for (const other of [last ^ 0b100000, last ^ 0b1]) {
      const altered = sig.slice(0, -1) + BASE64URL[other];
      expect((await call("GET", `${url.origin}${url.pathname}?sig=${altered}`)).status, altered).toBe(404);
    }
    const otherRun = await call("POST", "/ci/trigger", { token: t.ciToken, body: {} });
    expect((await call("GET", `${url.origin}/runs/${otherRun.json.runId}?sig=${sig}`)).status).toBe(404);
  });

  it("serves failure screenshots only through signed, unexpired links", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/" }, { action: "expectVisible", target: { text: "Nowhere" }, timeoutMs: 300 }]);
    const triggered = Date.now();
    const run = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true } });
    const answered = Date.now();
    const link = new URL(run.json.results[0].screenshotUrl);
    const png = await exports.default.fetch(link.href);
    expect(png.status).toBe(200);
    expect(png.headers.get("content-type")).toBe("image/png");
    expect(isPng(await png.arrayBuffer())).toBe(true);
    // Valid for a week from when the run's answer made it.
    const exp = Number(link.searchParams.get("exp"));
    expect(exp).toBeGreaterThanOrEqual(Math.floor(triggered / 1000) + SCREENSHOT_LINK_TTL_SECONDS);
    expect(exp).toBeLessThanOrEqual(Math.floor(answered / 1000) + SCREENSHOT_LINK_TTL_SECONDS);
    link.searchParams.set("exp", String(exp + 60));
    expect((await call("GET", link.href)).status).toBe(404);
    expect((await call("GET", `${link.origin}${link.pathname}`)).status).toBe(404);
    const expired = await artifactUrl({ secret: "test-link-signing-secret", origin: "http://localhost" }, link.pathname.slice("/artifacts/".length), Date.now() - 8 * 24 * 3600 * 1000);
    expect((await call("GET", expired)).status).toBe(404);
  });
});
