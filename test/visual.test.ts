// Visual regression through the API, in the real browser on the fixture site: the first capture
// is the baseline, a changed page fails with a diff to review, approve and reject do what they say,
// and a mask hides what changes at every load.
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { bootTenant, call, createSuiteWithCase } from "./helpers/api";
import { pngSize } from "./helpers/png";

const HOME_SHOT = [
  { action: "goto", url: "/" },
  { action: "waitFor", target: { css: "#later" } },
  { action: "screenshot", name: "home" },
];

const runSuite = (token: string, suiteId: string, baseUrl?: string, branch?: string) =>
  call("POST", `/suites/${suiteId}/run`, { token, body: { wait: true, ...(baseUrl ? { baseUrl } : {}), ...(branch ? { branch } : {}) } });

describe("a screenshot step", () => {
  it("makes the first capture the baseline, and matches it on ten more runs of the unchanged page", async () => {
    const t = await bootTenant();
    const { suiteId } = await createSuiteWithCase(t.ciToken, t.projectId, HOME_SHOT, "home looks right");
    const first = await runSuite(t.ciToken, suiteId);
    expect(first.status, first.text).toBe(200);
    expect(first.json.results[0].visual).toEqual([{ step: "home", outcome: "new_baseline", changedShare: 0, diffId: null }]);
    for (let i = 0; i < 10; i++) {
      const again = await runSuite(t.ciToken, suiteId);
      expect(again.status, `run ${i + 2}: ${again.text}`).toBe(200);
      expect(again.json.results[0].visual).toEqual([{ step: "home", outcome: "matched", changedShare: 0, diffId: null }]);
    }
    const diffs = await call("GET", `/api/v1/runs/${first.json.runId}/diffs`, { token: t.ciToken });
    expect(diffs.json).toMatchObject({ items: [], totalCount: 0 });
  });

  it("fails on a changed page with a diff to review; reject keeps it failing, approve makes the change the baseline", async () => {
    const t = await bootTenant();
    const { suiteId } = await createSuiteWithCase(t.ciToken, t.projectId, HOME_SHOT, "home looks right");
    expect((await runSuite(t.ciToken, suiteId)).status).toBe(200);

    // The release that dropped the About link.
    const changed = await runSuite(t.ciToken, suiteId, env.CHANGED_FIXTURE_ORIGIN);
    expect(changed.status, changed.text).toBe(422);
    const [result] = changed.json.results;
    expect(result).toMatchObject({ status: "failed", failedStep: { index: 2, action: "screenshot" } });
    expect(result.reason).toMatch(/^Step 3 \(screenshot\): \d+\.\d+% of pixels changed \(threshold 0\.100%\) against baseline v1; review diff [0-9a-f-]{36}$/);
    const diffId = result.visual[0].diffId as string;
    expect(result.visual[0]).toMatchObject({ step: "home", outcome: "changed", diffId });
    expect(result.visual[0].changedShare).toBeGreaterThan(0.001);

    const listed = await call("GET", `/api/v1/runs/${changed.json.runId}/diffs`, { token: t.ciToken });
    expect(listed.json).toMatchObject({ totalCount: 1, items: [{ id: diffId, status: "pending", step: "home", caseName: "home looks right", rendererChanged: false, baseline: { version: 1 } }] });
    const diff = await call("GET", `/diffs/${diffId}`, { token: t.orgKey });
    expect(diff.json).toEqual(listed.json.items[0]);
    // The run page shows baseline, capture and diff side by side, and counts what is pending.
    const runPage = await call("GET", changed.json.url);
    expect(runPage.text).toContain(`data-diff="${diffId}" data-diff-status="pending"`);
    expect(runPage.text).toContain('<span data-count="pending-diffs">1</span>');
    for (const alt of ["Baseline", "Capture", "Diff"]) expect(runPage.text).toContain(`alt="${alt}"`);
    // Baseline, capture and diff: PNGs of the page's size behind signed links.
    const sizes = [];
    for (const link of [diff.json.baselineUrl, diff.json.captureUrl, diff.json.diffUrl]) {
      const res = await fetchArtifact(link);
      expect(res.headers.get("content-type")).toBe("image/png");
      sizes.push(pngSize(new Uint8Array(await res.arrayBuffer())));
    }
    expect(diff.json.width).toBe(1280);
    expect(sizes[1]).toEqual({ width: 1280, height: diff.json.height });
    expect(sizes[2]).toEqual(sizes[1]); // the diff is drawn over the capture
    expect(sizes[0].width).toBe(1280);

    // Reject: the baseline stays, the same page keeps failing.
    expect((await call("POST", `/diffs/${diffId}/reject`, { token: t.ciToken })).json).toMatchObject({ id: diffId, status: "rejected" });
    const stillChanged = await runSuite(t.ciToken, suiteId, env.CHANGED_FIXTURE_ORIGIN);
    expect(stillChanged.status).toBe(422);
    const second = stillChanged.json.results[0].visual[0].diffId;

    // Approve: the capture becomes baseline v2; the changed page passes, the old look now fails.
    const approved = await call("POST", `/diffs/${second}/approve`, { token: t.ciToken });
    expect(approved.json).toMatchObject({ status: "approved", decidedAt: expect.any(String) });
    expect((await call("POST", `/diffs/${second}/approve`, { token: t.ciToken })).json.code).toBe("visual.already_decided");
    const passes = await runSuite(t.ciToken, suiteId, env.CHANGED_FIXTURE_ORIGIN);
    expect(passes.status, passes.text).toBe(200);
    expect(passes.json.results[0].visual[0].outcome).toBe("matched");
    const old = await runSuite(t.ciToken, suiteId);
    expect(old.status).toBe(422);
    expect(old.json.results[0].reason).toContain("against baseline v2");
    // The first diff was made against v1: approving it now would go back in time.
    expect((await call("POST", `/diffs/${diffId}/approve`, { token: t.ciToken })).json.code).toBe("visual.baseline_moved");
  });

  it("hides masked elements: a clock that changes at every load passes masked and fails unmasked", async () => {
    const t = await bootTenant();
    const masked = await createSuiteWithCase(t.ciToken, t.projectId, [
      { action: "goto", url: "/clock" },
      { action: "screenshot", name: "clock", mask: [{ css: "#clock" }] },
    ], "masked clock");
    const unmasked = await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/clock" }, { action: "screenshot", name: "clock" }], "bare clock");
    for (const { suiteId } of [masked, unmasked]) expect((await runSuite(t.ciToken, suiteId)).status).toBe(200);
    expect((await runSuite(t.ciToken, masked.suiteId)).status).toBe(200);
    const bare = await runSuite(t.ciToken, unmasked.suiteId);
    expect(bare.status).toBe(422);
    expect(bare.json.results[0].visual[0].outcome).toBe("changed");
  });

  it("keeps a branch's look apart: a branch compares with main's baseline until it approves its own, and promote hands it to main", async () => {
    const t = await bootTenant();
    const { suiteId } = await createSuiteWithCase(t.ciToken, t.projectId, HOME_SHOT, "home looks right");
    expect((await runSuite(t.ciToken, suiteId)).status).toBe(200); // main's baseline

    // The PR changes the page: compared with main's baseline, it fails and says whose baseline it used.
    const pr = await runSuite(t.ciToken, suiteId, env.CHANGED_FIXTURE_ORIGIN, "feature-x");
    expect(pr.status, pr.text).toBe(422);
    expect(pr.json.results[0].reason).toContain("against baseline v1 (main's: feature-x has none yet)");
    const diffId = pr.json.results[0].visual[0].diffId;
    const diff = await call("GET", `/diffs/${diffId}`, { token: t.ciToken });
    expect(diff.json).toMatchObject({ branch: "feature-x", baseline: { branch: "main", version: 1, why: expect.stringContaining("feature-x has no approved baseline") } });

    // Approving on the branch writes the branch's baseline only: main still has the old look.
    expect((await call("POST", `/diffs/${diffId}/approve`, { token: t.ciToken })).status).toBe(200);
    expect((await runSuite(t.ciToken, suiteId, env.CHANGED_FIXTURE_ORIGIN, "feature-x")).status).toBe(200);
    expect((await runSuite(t.ciToken, suiteId)).status).toBe(200);
    expect((await runSuite(t.ciToken, suiteId, env.CHANGED_FIXTURE_ORIGIN)).status).toBe(422);
    const listed = await call("GET", `/projects/${t.projectId}/baselines`, { token: t.ciToken });
    expect(listed.json.items.map((b: { branch: string; version: number; source: string }) => [b.branch, b.version, b.source])).toEqual([
      ["feature-x", 1, "approved"],
      ["main", 1, "first_capture"],
    ]);

    // Merged: CI promotes the branch's baselines, and main now has the new look.
    const promoted = await call("POST", `/projects/${t.projectId}/baselines/promote`, { token: t.ciToken, body: { from: "feature-x", to: "main" } });
    expect(promoted.json).toEqual({ from: "feature-x", to: "main", promoted: 1 });
    expect((await runSuite(t.ciToken, suiteId, env.CHANGED_FIXTURE_ORIGIN)).status).toBe(200);
    expect((await runSuite(t.ciToken, suiteId)).status).toBe(422);
    const main = await call("GET", `/projects/${t.projectId}/baselines?branch=main`, { token: t.ciToken });
    expect(main.json.items).toMatchObject([{ branch: "main", version: 2, source: "approved" }]);
    const bad = await call("POST", `/projects/${t.projectId}/baselines/promote`, { token: t.ciToken, body: { from: "main", to: "main" } });
    expect([bad.status, bad.json.code]).toEqual([400, "request.invalid"]);
  });

  it("says so when the capture came from another Chromium than its baseline", async () => {
    const t = await bootTenant();
    const { suiteId } = await createSuiteWithCase(t.ciToken, t.projectId, HOME_SHOT);
    await runSuite(t.ciToken, suiteId);
    await env.DB.prepare("UPDATE baselines SET chromium_version = 'HeadlessChrome/120.0.0.0' WHERE project_id = ?").bind(t.projectId).run();
    const changed = await runSuite(t.ciToken, suiteId, env.CHANGED_FIXTURE_ORIGIN);
    expect(changed.json.results[0].reason).toMatch(/the baseline was captured by HeadlessChrome\/120\.0\.0\.0, this by \S+\/\d+/);
    const diff = await call("GET", `/diffs/${changed.json.results[0].visual[0].diffId}`, { token: t.ciToken });
    expect(diff.json).toMatchObject({ rendererChanged: true, baseline: { chromiumVersion: "HeadlessChrome/120.0.0.0" } });
  });

  it("answers another tenant's diffs with 404", async () => {
    const a = await bootTenant("pro", "A");
    const b = await bootTenant("pro", "B");
    const { suiteId } = await createSuiteWithCase(a.ciToken, a.projectId, HOME_SHOT);
    await runSuite(a.ciToken, suiteId);
    const changed = await runSuite(a.ciToken, suiteId, env.CHANGED_FIXTURE_ORIGIN);
    const diffId = changed.json.results[0].visual[0].diffId;
    const others: [string, string, unknown?][] = [
      ["GET", `/diffs/${diffId}`],
      ["POST", `/diffs/${diffId}/approve`],
      ["POST", `/diffs/${diffId}/reject`],
      ["GET", `/api/v1/runs/${changed.json.runId}/diffs`],
      ["GET", `/api/v1/runs/${changed.json.runId}`],
      ["GET", `/projects/${a.projectId}/baselines`],
      ["POST", `/projects/${a.projectId}/baselines/promote`, { from: "main", to: "release" }],
    ];
    for (const [method, path, body] of others) {
      for (const token of [b.orgKey, b.ciToken]) {
        const res = await call(method, path, { token, body });
        expect([res.status, res.json.code], `${method} ${path}`).toEqual([404, "resource.not_found"]);
      }
    }
    // Nothing of theirs moved: the diff is still pending, and a's main baseline is still v1.
    expect((await call("GET", `/diffs/${diffId}`, { token: a.ciToken })).json.status).toBe("pending");
    expect((await call("GET", `/projects/${a.projectId}/baselines`, { token: a.ciToken })).json.items).toMatchObject([{ branch: "main", version: 1 }]);
    expect((await call("GET", `/api/v1/runs/${changed.json.runId}`, { token: a.ciToken })).json).toMatchObject({ runId: changed.json.runId, status: "failed" });
  });
  it("answers 410 for a diff whose capture has expired, and the baseline stays", async () => {
    const t = await bootTenant();
    const { suiteId } = await createSuiteWithCase(t.ciToken, t.projectId, HOME_SHOT, "home looks right");
    await runSuite(t.ciToken, suiteId);
    const changed = await runSuite(t.ciToken, suiteId, env.CHANGED_FIXTURE_ORIGIN);
    const diffId = changed.json.results[0].visual[0].diffId as string;
    // The bucket's lifecycle rule removed the run's artifacts, as it does after 90 days.
    const objects = await env.ARTIFACTS.list({ prefix: `runs/${changed.json.runId}/` });
    await env.ARTIFACTS.delete(objects.objects.map((o) => o.key));
    const approved = await call("POST", `/diffs/${diffId}/approve`, { token: t.ciToken });
    expect(approved.status, approved.text).toBe(410);
    expect(approved.json.code).toBe("visual.capture_expired");
    expect((await call("GET", `/diffs/${diffId}`, { token: t.ciToken })).json.status).toBe("pending");
    const baselines = await call("GET", `/projects/${t.projectId}/baselines`, { token: t.ciToken });
    expect(baselines.json.items.map((b: any) => b.version)).toEqual([1]);
  });
  it("deletes a project's baseline images with the project", async () => {
    const t = await bootTenant();
    const { suiteId } = await createSuiteWithCase(t.ciToken, t.projectId, HOME_SHOT, "home looks right");
    await runSuite(t.ciToken, suiteId);
    const prefix = `baselines/${t.projectId}/`;
    expect((await env.ARTIFACTS.list({ prefix })).objects).toHaveLength(1);
    expect((await call("DELETE", `/projects/${t.projectId}`, { token: t.orgKey })).status).toBe(204);
    expect((await env.ARTIFACTS.list({ prefix })).objects).toHaveLength(0);
  });
});

/** Fetches a signed artifact link through the Worker. */
async function fetchArtifact(link: string) {
  const { exports } = await import("cloudflare:workers");
  return exports.default.fetch(new Request(link));
}
