import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { bootTenant, call, createSuiteWithCase } from "./helpers/api";

describe("the page-check steps", () => {
  it("pass on a clean page and fail, naming what is wrong, on console errors and broken links", async () => {
    const t = await bootTenant();
    const suite = await call("POST", `/projects/${t.projectId}/suites`, { token: t.ciToken, body: { name: "Page checks" } });
    const cases = {
      clean: [{ action: "goto", url: "/" }, { action: "expectNoConsoleErrors" }, { action: "expectNoBrokenLinks" }],
      "console errors": [{ action: "goto", url: `${env.CRAWL_ORIGIN}/console-error` }, { action: "expectNoConsoleErrors" }],
      "broken links": [{ action: "goto", url: `${env.CRAWL_ORIGIN}/` }, { action: "expectNoBrokenLinks" }],
    };
    for (const [name, steps] of Object.entries(cases)) {
      expect((await call("POST", `/suites/${suite.json.id}/cases`, { token: t.ciToken, body: { name, steps } })).status).toBe(201);
    }
    const run = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true } });
    expect(run.status).toBe(422);
    const byName = Object.fromEntries(run.json.results.map((r: { caseName: string }) => [r.caseName, r]));
    expect(byName.clean.status).toBe("passed");
    expect(byName["console errors"].reason).toBe('Step 2 (expectNoConsoleErrors): the page logged 2 console error(s), first: "Widget failed to initialise"');
    expect(byName["broken links"].reason).toMatch(/^Step 2 \(expectNoBrokenLinks\): 2 broken same-origin link\(s\): /);
    expect(byName["broken links"].reason).toContain(`${env.CRAWL_ORIGIN}/missing (404)`);
    expect(byName["broken links"].reason).toContain(`${env.CRAWL_ORIGIN}/broken (500)`);
  });
});

describe("a test run's browser", () => {
  it("applies the URL policy to WebSockets of the page and its workers, and runs no service or shared worker", async () => {
    const t = await bootTenant();
    await fetch(`${env.CRAWL_OTHER_ORIGIN}/__reset`);
    await createSuiteWithCase(t.ciToken, t.projectId, [
      { action: "goto", url: `${env.CRAWL_ORIGIN}/workers` },
      // An app may need a third party's WebSocket (127.0.0.1 is allowed here), never one to a refused address ("localhost").
      {
        action: "expectTitle",
        title: "worker: socket attempted, private socket blocked, fetch failed; page private socket blocked; service worker refused; shared worker refused",
      },
    ]);
    const run = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true } });
    expect(run.json.results, run.text).toMatchObject([{ status: "passed" }]);
    const reached = ((await (await fetch(`${env.CRAWL_OTHER_ORIGIN}/__log`)).json()) as { path: string }[]).map((r) => r.path);
    expect(reached).toContain("/worker-socket");
    expect(reached.filter((path) => /private-socket|-fetch$/.test(path))).toEqual([]);
    expect(reached).not.toContain("/shared-socket");
  });
});
