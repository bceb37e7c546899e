import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { bootTenant, call } from "./helpers/api";

const GOTO = { action: "goto", url: "/" };

describe("suites and cases", () => {
  it("are created, read with their cases, changed and deleted", async () => {
    const t = await bootTenant();
    const suite = await call("POST", `/projects/${t.projectId}/suites`, { token: t.ciToken, body: { name: "Checkout" } });
    expect(suite.status).toBe(201);
    expect(suite.json).toMatchObject({ name: "Checkout", projectId: t.projectId, caseCount: 0 });
    const created = await call("POST", `/suites/${suite.json.id}/cases`, {
      token: t.ciToken,
      body: { name: "home", steps: [GOTO, { action: "expectTitle", title: "Home", timeoutMs: 30000 }] },
    });
    expect(created.status).toBe(201);
    const read = await call("GET", `/suites/${suite.json.id}`, { token: t.ciToken });
    expect(read.json).toMatchObject({ caseCount: 1, cases: [{ id: created.json.id, name: "home", steps: created.json.steps }] });

    const patched = await call("PATCH", `/cases/${created.json.id}`, { token: t.ciToken, body: { name: "home page" } });
    expect(patched.json).toMatchObject({ name: "home page", steps: created.json.steps });
    const renamed = await call("PATCH", `/suites/${suite.json.id}`, { token: t.ciToken, body: { name: "Shop" } });
    expect(renamed.json.name).toBe("Shop");

    expect((await call("DELETE", `/suites/${suite.json.id}`, { token: t.ciToken })).status).toBe(204);
    expect((await call("GET", `/cases/${created.json.id}`, { token: t.ciToken })).status).toBe(404);
  });

  it("are hidden from another project's CI token", async () => {
    const t = await bootTenant();
    const suite = await call("POST", `/projects/${t.projectId}/suites`, { token: t.ciToken, body: { name: "S" } });
    const testCase = await call("POST", `/suites/${suite.json.id}/cases`, { token: t.ciToken, body: { name: "c", steps: [GOTO] } });
    const other = await call("POST", "/projects", { token: t.orgKey, body: { name: "Other" } });
    const otherToken = (await call("POST", `/projects/${other.json.id}/tokens`, { token: t.orgKey, body: { name: "o" } })).json.token;
    expect((await call("GET", `/cases/${testCase.json.id}`, { token: otherToken })).status).toBe(404);
    expect((await call("PATCH", `/cases/${testCase.json.id}`, { token: otherToken, body: { name: "x" } })).status).toBe(404);
    expect((await call("POST", `/suites/${suite.json.id}/cases`, { token: otherToken, body: { name: "x", steps: [GOTO] } })).status).toBe(404);
    expect((await call("POST", `/suites/${suite.json.id}/run`, { token: otherToken, body: {} })).status).toBe(404);
  });
});

describe("the step language", () => {
  const invalid: [string, unknown, string][] = [
    ["an unknown action", { action: "hover", target: { css: "a" } }, "steps.0.action"],
    ["a target with two kinds", { action: "click", target: { css: "a", text: "About" } }, "steps.0.target"],
    ["a target with no kind", { action: "click", target: {} }, "steps.0.target"],
    ["a timeout over 30000 ms", { action: "click", target: { css: "a" }, timeoutMs: 30001 }, "steps.0.timeoutMs"],
    ["a fractional timeout", { action: "click", target: { css: "a" }, timeoutMs: 1.5 }, "steps.0.timeoutMs"],
    ["a goto to a non-http URL", { action: "goto", url: "file:///etc/passwd" }, "steps.0.url"],
    ["a fill without value", { action: "fill", target: { label: "Email" } }, "steps.0.value"],
    ["an unknown field on a step", { action: "goto", url: "/", wait: 3 }, "steps.0"],
    ["a screenshot name with a slash", { action: "screenshot", name: "../x" }, "steps.0.name"],
  ];
  for (const [what, step, path] of invalid) {
    it(`refuses ${what} with 400 naming ${path}`, async () => {
      const t = await bootTenant();
      const suite = await call("POST", `/projects/${t.projectId}/suites`, { token: t.ciToken, body: { name: "S" } });
      const res = await call("POST", `/suites/${suite.json.id}/cases`, { token: t.ciToken, body: { name: "c", steps: [step] } });
      expect(res.status).toBe(400);
      expect(res.json.details.issues.map((i: { path: string }) => i.path)).toContain(path);
    });
  }

  it("refuses a case without steps and one with more than 200", async () => {
    const t = await bootTenant();
    const suite = await call("POST", `/projects/${t.projectId}/suites`, { token: t.ciToken, body: { name: "S" } });
    expect((await call("POST", `/suites/${suite.json.id}/cases`, { token: t.ciToken, body: { name: "c", steps: [] } })).status).toBe(400);
    const many = Array.from({ length: 201 }, () => GOTO);
    expect((await call("POST", `/suites/${suite.json.id}/cases`, { token: t.ciToken, body: { name: "c", steps: many } })).status).toBe(400);
  });
});

describe("what a run keeps of its trigger", () => {
  it("records the payload's settings but never the GitHub token", async () => {
    const t = await bootTenant();
    const suite = await call("POST", `/projects/${t.projectId}/suites`, { token: t.ciToken, body: { name: "S" } });
    await call("POST", `/suites/${suite.json.id}/cases`, { token: t.ciToken, body: { name: "c", steps: [GOTO] } });
    const secret = "ghp_verysecretgithubtoken1234567890";
    const res = await call("POST", "/ci/trigger", {
      token: t.ciToken,
      body: { githubRepo: "acme/shop", githubPrNumber: 12, githubCommitSha: "a1b2c3d", githubToken: secret, device: "mobile", maxPages: 5 },
    });
    expect(res.status).toBe(202);
    const run = await call("GET", `/ci/runs/${res.json.runId}`, { token: t.ciToken });
    expect(run.json.options).toEqual({ branch: "main", baseBranch: "main", githubRepo: "acme/shop", githubPrNumber: 12, githubCommitSha: "a1b2c3d", device: "mobile", maxPages: 5 });
    expect(run.text).not.toContain(secret);
    const stored = await env.DB.prepare("SELECT * FROM runs WHERE id = ?").bind(res.json.runId).first();
    expect(stored?.id).toBe(res.json.runId);
    expect(JSON.stringify(stored)).not.toContain(secret);
  });
});
