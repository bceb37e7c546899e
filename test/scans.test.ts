import { describe, expect, it } from "vitest";
import { env, exports } from "cloudflare:workers";
import { bootTenant, call } from "./helpers/api";
import { LOGIN } from "./fixtures/crawl-site.mjs";

const PNG = [0x89, 0x50, 0x4e, 0x47];

async function settledScan(token: string, id: string) {
  for (let i = 0; i < 300; i++) {
    const res = await call("GET", `/crawls/${id}`, { token });
    if (!["queued", "running"].includes(res.json.status)) return res;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("scan did not settle");
}

describe("a scan through the API", () => {
  it("is queued with 202 and Location, crawls in the real browser, and stores pages, screenshots and events", async () => {
    const t = await bootTenant();
    const start = await call("POST", `/projects/${t.projectId}/crawls`, {
      token: t.ciToken,
      body: { baseUrl: env.CRAWL_ORIGIN, scan_mode: "quick", maxDepth: 1, maxPages: 8 },
    });
    expect(start.status, start.text).toBe(202);
    expect(start.headers.get("location")).toBe(`/api/v1/crawls/${start.json.id}`);
    expect(start.json).toMatchObject({ status: "queued", scanMode: "quick", settings: { maxDepth: 1, maxPages: 8, baseUrl: env.CRAWL_ORIGIN } });

    const scan = await settledScan(t.ciToken, start.json.id);
    expect(scan.json.status).toBe("completed");
    expect(scan.json.pagesVisited).toBeGreaterThan(1);
    const home = scan.json.pages.find((p: { depth: number }) => p.depth === 0);
    expect(home).toMatchObject({ url: `${env.CRAWL_ORIGIN}/`, status: 200, title: "Home", heading: "Home", role: "anonymous" });
    expect(scan.json.pages.every((p: { depth: number }) => p.depth <= 1)).toBe(true);
    // The home page is stored before the pages it links are visited; its broken links are completed
    // afterwards, the one beyond maxPages (/api-area/) by a check that does not visit it.
    const brokenOfHome = home.brokenLinks.map((l: { url: string; status: number }) => `${l.url.slice(env.CRAWL_ORIGIN.length)} ${l.status}`);
    expect(brokenOfHome.sort()).toEqual(["/api-area/ 401", "/broken 500", "/missing 404"]);
    expect(scan.json.brokenLinks).toBe(3);

    const key = new URL(home.screenshotUrl).pathname.slice("/artifacts/".length);
    const object = await env.ARTIFACTS.get(key);
    expect([...new Uint8Array(await object!.arrayBuffer()).slice(0, 4)]).toEqual(PNG);
    expect((await call("GET", home.screenshotUrl)).status).toBe(200);

    const events = await call("GET", `/crawls/${start.json.id}/events?limit=500`, { token: t.ciToken });
    const types = events.json.items.map((e: { type: string }) => e.type);
    expect(types[0]).toBe("status_changed");
    expect(types).toContain("page_visited");
    expect(events.json.items.at(-1)).toMatchObject({ type: "status_changed", data: { status: "completed" } });
    expect(events.json.items.map((e: { id: number }) => e.id)).toEqual(events.json.items.map((_: unknown, i: number) => i + 1));

    const list = await call("GET", `/projects/${t.projectId}/crawls?status=completed`, { token: t.ciToken });
    expect(list.json).toMatchObject({ totalCount: 1, items: [{ id: start.json.id, status: "completed" }] });
    // The project keeps the scan's settings as defaults for the next one.
    const project = await call("GET", `/projects/${t.projectId}`, { token: t.ciToken });
    expect(project.json.scanSettings).toMatchObject({ maxDepth: 1, maxPages: 8 });
  });

  it("reaches the login-protected area only as the role whose credentials log in, and forgets the credentials", async () => {
    const t = await bootTenant();
    const start = await call("POST", `/projects/${t.projectId}/crawls`, {
      token: t.ciToken,
      body: {
        baseUrl: env.CRAWL_ORIGIN,
        crawlPages: ["/", "/account/"],
        credentials: [{ credential_type: "username_password", label: "Member", username: LOGIN.username, password: LOGIN.password, login_url: "/login" }],
      },
    });
    expect(start.status, start.text).toBe(202);
    expect(start.text).not.toContain(LOGIN.password);
    const stored = await env.DB.prepare("SELECT * FROM crawl_credentials WHERE crawl_id = ?").bind(start.json.id).all();
    expect(JSON.stringify(stored.results)).not.toContain(LOGIN.password);

    const scan = await settledScan(t.ciToken, start.json.id);
    expect(scan.json.status).toBe("completed");
    expect(scan.json.roles).toEqual([{ label: "Member", type: "username_password", pagesReached: expect.arrayContaining([`${env.CRAWL_ORIGIN}/account/`]) }]);
    const left = await env.DB.prepare("SELECT count(*) AS n FROM crawl_credentials WHERE crawl_id = ?").bind(start.json.id).first<{ n: number }>();
    expect(left?.n).toBe(0);
    const events = await call("GET", `/crawls/${start.json.id}/events?limit=500`, { token: t.ciToken });
    expect(events.json.items.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(["login_attempted", "login_succeeded"]));
    expect(events.text + scan.text).not.toContain(LOGIN.password);
  });

  it("refuses bad settings with 400 and another tenant's scan with 404", async () => {
    const t = await bootTenant();
    const tooMany = Array.from({ length: 11 }, () => ({ credential_type: "bearer_token", token: "x" }));
    for (const body of [{ maxPages: 0 }, { maxDepth: 11 }, { baseUrl: "ftp://example.com" }, { credentials: tooMany }, { scan_mode: "turbo" }]) {
      const res = await call("POST", `/projects/${t.projectId}/crawls`, { token: t.ciToken, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const start = await call("POST", `/projects/${t.projectId}/crawls`, { token: t.ciToken, body: { baseUrl: env.CRAWL_ORIGIN, crawlPages: ["/"] } });
    const stranger = await bootTenant("pro", "Stranger");
    expect((await call("GET", `/crawls/${start.json.id}`, { token: stranger.ciToken })).status).toBe(404);
    expect((await call("POST", `/crawls/${start.json.id}/cancel`, { token: stranger.ciToken })).status).toBe(404);
    expect((await call("GET", `/crawls/${start.json.id}/events`, { token: stranger.ciToken })).status).toBe(404);
    await settledScan(t.ciToken, start.json.id);
  });
});

describe("a scan's live events and cancel", () => {
  it("streams events as Server-Sent Events until the scan ends, and resumes after Last-Event-ID", async () => {
    const t = await bootTenant();
    const start = await call("POST", `/projects/${t.projectId}/crawls`, {
      token: t.ciToken,
      body: { baseUrl: env.CRAWL_ORIGIN, maxDepth: 1, maxPages: 6, respectRobots: false, concurrency: 2 },
    });
    const response = await exports.default.fetch(
      new Request(`http://localhost/api/v1/crawls/${start.json.id}/events`, { headers: { authorization: `Bearer ${t.ciToken}`, accept: "text/event-stream" } }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    // Read as it arrives: a page event reaches us while the scan is still running (pushed, not replayed).
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    let statusAtFirstPage: string | undefined;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (statusAtFirstPage === undefined && text.includes("event: page_visited")) {
        statusAtFirstPage = (await call("GET", `/crawls/${start.json.id}`, { token: t.ciToken })).json.status;
      }
    }
    expect(statusAtFirstPage).toBe("running");
    const frames = text.split("\n\n").filter((f) => f.startsWith("id: "));
    const ids = frames.map((f) => Number(f.match(/^id: (\d+)/)![1]));
    expect(ids).toEqual(ids.map((_, i) => i + 1)); // every event once, in order
    expect(frames.at(-1)).toContain("event: status_changed");
    expect(frames.at(-1)).toContain('"status":"completed"');
    expect(frames.some((f) => f.includes("event: page_visited"))).toBe(true);

    const resumed = await call("GET", `/crawls/${start.json.id}/events`, {
      token: t.ciToken,
      headers: { accept: "text/event-stream", "last-event-id": String(ids.length - 2) },
    });
    const resumedIds = resumed.text.split("\n\n").filter((f) => f.startsWith("id: ")).map((f) => Number(f.match(/^id: (\d+)/)![1]));
    expect(resumedIds).toEqual([ids.length - 1, ids.length]);
  });

  it("cancels a running scan within seconds and deletes its credentials", async () => {
    const t = await bootTenant();
    const start = await call("POST", `/projects/${t.projectId}/crawls`, {
      token: t.ciToken,
      body: { baseUrl: env.CRAWL_ORIGIN, scan_mode: "deep", respectRobots: false, credentials: [{ credential_type: "bearer_token", token: "tok-secret-xyz" }] },
    });
    for (let i = 0; i < 100; i++) {
      if ((await call("GET", `/crawls/${start.json.id}`, { token: t.ciToken })).json.status === "running") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const cancelled = await call("POST", `/crawls/${start.json.id}/cancel`, { token: t.ciToken });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.status).toBe("cancelled");
    const left = await env.DB.prepare("SELECT count(*) AS n FROM crawl_credentials WHERE crawl_id = ?").bind(start.json.id).first<{ n: number }>();
    expect(left?.n).toBe(0);
    // The browser work stops: no page is recorded a few seconds after the cancel.
    await new Promise((r) => setTimeout(r, 3000));
    const before = (await call("GET", `/crawls/${start.json.id}`, { token: t.ciToken })).json.pages.length;
    await new Promise((r) => setTimeout(r, 2000));
    expect((await call("GET", `/crawls/${start.json.id}`, { token: t.ciToken })).json.pages.length).toBe(before);
    expect((await call("POST", `/crawls/${start.json.id}/cancel`, { token: t.ciToken })).status).toBe(409);
  });
});

describe("a CI trigger with crawl: true", () => {
  it("scans first, generates tests on a project without cases, and runs them", async () => {
    const t = await bootTenant();
    const res = await call("POST", "/ci/trigger", { token: t.ciToken, body: { crawl: true, wait: true, maxDepth: 1 } });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ status: "passed", failed: 0, options: { crawl: true, maxDepth: 1 } });
    const names = res.json.results.map((r: { caseName: string }) => r.caseName).sort();
    expect(names).toEqual(["Form 1 on /", "Page /", "Page /about"]);

    const suites = await call("GET", `/projects/${t.projectId}/suites`, { token: t.ciToken });
    expect(suites.json).toMatchObject({ totalCount: 1, items: [{ name: "Generated from scans", caseCount: 3 }] });
    const suite = await call("GET", `/suites/${suites.json.items[0].id}`, { token: t.ciToken });
    const home = suite.json.cases.find((c: { name: string }) => c.name === "Page /");
    expect(home.steps).toEqual([
      { action: "goto", url: "/" },
      { action: "expectTitle", title: "Home" },
      { action: "expectText", target: { css: "h1" }, text: "Welcome" },
      { action: "expectNoConsoleErrors" },
      { action: "expectNoBrokenLinks" },
    ]);
    const form = suite.json.cases.find((c: { name: string }) => c.name === "Form 1 on /");
    expect(form.steps).toContainEqual({ action: "fill", target: { label: "Email" }, value: "aegis.test@example.com" });
    expect(form.steps.at(-1)).toEqual({ action: "expectVisible", target: { role: "button", name: "Submit" } });

    const scans = await call("GET", `/projects/${t.projectId}/crawls`, { token: t.ciToken });
    expect(scans.json.items[0]).toMatchObject({ runId: res.json.runId, status: "completed" });

    // Regenerating updates the generated suite instead of adding another.
    const again = await call("POST", `/projects/${t.projectId}/crawls`, { token: t.ciToken, body: { generateTests: true, maxDepth: 0 } });
    await settledScan(t.ciToken, again.json.id);
    const after = await call("GET", `/projects/${t.projectId}/suites`, { token: t.ciToken });
    expect(after.json).toMatchObject({ totalCount: 1, items: [{ id: suites.json.items[0].id, caseCount: 2 }] });
  });

  it("fails the run when the scan's generated checks find a broken page", async () => {
    const t = await bootTenant();
    const res = await call("POST", "/ci/trigger", {
      token: t.ciToken,
      body: { crawl: true, wait: true, baseUrl: env.CRAWL_ORIGIN, crawlPages: ["/", "/about"], respectRobots: false },
    });
    expect(res.status, res.text).toBe(422);
    const home = res.json.results.find((r: { caseName: string }) => r.caseName === "Page /");
    expect(home).toMatchObject({ status: "failed", failedStep: { action: "expectNoBrokenLinks" } });
    expect(home.reason).toContain(`${env.CRAWL_ORIGIN}/missing (404)`);
    expect(res.json.results.find((r: { caseName: string }) => r.caseName === "Page /about").status).toBe("passed");
  });

  it("ends the run as error, never failed, when the scan cannot reach the site", async () => {
    const t = await bootTenant();
    const res = await call("POST", "/ci/trigger", { token: t.ciToken, body: { crawl: true, wait: true, baseUrl: "http://127.0.0.1:65531/" } });
    expect(res.status, res.text).toBe(502);
    expect(res.json).toMatchObject({ status: "error", code: "run.error" });
    expect(res.json.errorMessage).toMatch(/^The crawl before the run failed: /);
  });
});

describe("a scanned page's WebSockets", () => {
  it("may not reach another host: the page's attempt fails and the other origin sees no handshake", async () => {
    const t = await bootTenant();
    await fetch(`${env.CRAWL_OTHER_ORIGIN}/__reset`);
    const start = await call("POST", `/projects/${t.projectId}/crawls`, { token: t.ciToken, body: { baseUrl: env.CRAWL_ORIGIN, crawlPages: ["/ws"], respectRobots: false } });
    const scan = await settledScan(t.ciToken, start.json.id);
    expect(scan.json.pages[0]).toMatchObject({ url: `${env.CRAWL_ORIGIN}/ws`, title: "ws-blocked" });
    const log = (await (await fetch(`${env.CRAWL_OTHER_ORIGIN}/__log`)).json()) as { method: string }[];
    expect(log.filter((entry) => entry.method === "UPGRADE")).toEqual([]);
  });
});
