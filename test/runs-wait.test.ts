import { describe, expect, it } from "vitest";
import { bootTenant, call, createSuiteWithCase } from "./helpers/api";

describe("a CI run with wait: true", () => {
  it("answers 200 with the passed run when every case passes in the real browser", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, [
      { action: "goto", url: "/" },
      { action: "expectTitle", title: "Home" },
      { action: "click", target: { role: "link", name: "About" } },
      { action: "expectUrl", url: "/about" },
      { action: "expectText", target: { css: "h1" }, text: "About us", exact: true },
    ]);
    const asked = Date.now();
    const res = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true } });
    const answered = Date.now();
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ status: "passed", runType: "manual", passed: 1, failed: 0, skipped: 0, total: 1 });
    expect(res.json.results[0]).toMatchObject({ status: "passed", attempts: 1, failedStep: null, reason: null, screenshotUrl: null });
    // Its times: queued, started and finished in that order, all while the caller waited; the
    // durations are the gaps between them.
    const [created, started, finished] = [res.json.createdAt, res.json.startedAt, res.json.finishedAt].map((iso: string) => Date.parse(iso));
    expect(asked).toBeLessThanOrEqual(created);
    expect(created).toBeLessThanOrEqual(started);
    expect(started).toBeLessThan(finished);
    expect(finished).toBeLessThanOrEqual(answered);
    expect(res.json).toMatchObject({ queuedMs: started - created, runningMs: finished - started, durationMs: finished - created });
    expect(res.json.results[0].durationMs).toBeGreaterThan(0);
    expect(res.json.results[0].durationMs).toBeLessThanOrEqual(finished - started);
  });

  it("answers 422 run.failed with the failing step, a one-line reason and a failure screenshot", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, [
      { action: "goto", url: "/" },
      { action: "expectText", target: { css: "h1" }, text: "Goodbye", timeoutMs: 500 },
    ]);
    const res = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true } });
    expect(res.status, res.text).toBe(422);
    expect(res.json).toMatchObject({ status: "failed", code: "run.failed", passed: 0, failed: 1 });
    const [result] = res.json.results;
    expect(result.failedStep).toEqual({ index: 1, action: "expectText" });
    expect(result.reason).toBe('Step 2 (expectText): expected css="h1" to contain "Goodbye", found "Welcome"');
    const shot = await call("GET", result.screenshotUrl);
    expect(shot.status).toBe(200);
    expect(shot.headers.get("content-type")).toBe("image/png");
  });
});
