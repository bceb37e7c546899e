// Crawls through the API (the contract's seed calls them scans; its fields scan_mode and
// scanSettings keep that name): started, read, streamed, cancelled, and run before a CI run.
import { describe, expect, it } from "vitest";
import { env, exports } from "cloudflare:workers";
import { GENERATED_SUITE_NAME } from "../src/services/test-generation";
import { bootTenant, call } from "./helpers/api";
import { pngSize } from "./helpers/png";
import { eventually } from "./helpers/wait";
import { LOGIN } from "./fixtures/crawl-site.mjs";

/** The crawl once it has settled (completed, failed or cancelled). */
function settledCrawl(token: string, id: string) {
  return eventually(
    async () => {
      const res = await call("GET", `/crawls/${id}`, { token });
      return !["queued", "running"].includes(res.json.status) && res;
    },
    { what: `crawl ${id} to settle`, timeoutMs: 60_000, intervalMs: 200 },
  );
}

const credentialsLeft = async (crawlId: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM crawl_credentials WHERE crawl_id = ?").bind(crawlId).first<{ n: number }>("n")) ?? NaN;

describe("a crawl through the API", () => {
  it("is queued with 202 and Location, crawls in the real browser, and stores pages, screenshots and events", async () => {
    const t = await bootTenant();
    const start = await call("POST", `/projects/${t.projectId}/crawls`, {
      token: t.ciToken,
      body: { baseUrl: env.CRAWL_ORIGIN, scan_mode: "quick", maxDepth: 1, maxPages: 8 },
    });
    expect(start.status, start.text).toBe(202);
    expect(start.headers.get("location")).toBe(`/api/v1/crawls/${start.json.id}`);
    expect(start.json).toMatchObject({ status: "queued", scanMode: "quick", settings: { maxDepth: 1, maxPages: 8, baseUrl: env.CRAWL_ORIGIN } });

    const crawl = await settledCrawl(t.ciToken, start.json.id);
    expect(crawl.json.status).toBe("completed");
    // maxPages 8: the start page and its first seven links, in the page's order.
    const visited = crawl.json.pages.map((p: { url: string; depth: number }) => `${p.url.slice(env.CRAWL_ORIGIN.length)} ${p.depth}`);
    expect(visited.sort()).toEqual(["/ 0", "/about 1", "/broken 1", "/console-error 1", "/contact 1", "/docs/ 1", "/missing 1", "/old-page 1"]);
    expect(crawl.json.pagesVisited).toBe(8);
    const home = crawl.json.pages.find((p: { depth: number }) => p.depth === 0);
    expect(home).toMatchObject({ url: `${env.CRAWL_ORIGIN}/`, status: 200, title: "Home", heading: "Home", role: "anonymous" });
    // The home page is stored before the pages it links are visited; its broken links are completed
    // afterwards, the one beyond maxPages (/api-area/) by a check that does not visit it.
    const brokenOfHome = home.brokenLinks.map((l: { url: string; status: number }) => `${l.url.slice(env.CRAWL_ORIGIN.length)} ${l.status}`);
    expect(brokenOfHome.sort()).toEqual(["/api-area/ 401", "/broken 500", "/missing 404"]);
    expect(crawl.json.brokenLinks).toBe(3);

    // The page's screenshot: a desktop-wide PNG in R2, served through its signed link.
    const key = new URL(home.screenshotUrl).pathname.slice("/artifacts/".length);
    const object = await env.ARTIFACTS.get(key);
    expect(object, `no screenshot at ${key}`).not.toBeNull();
    expect(pngSize(await object!.arrayBuffer()).width).toBe(1280);
    const served = await call("GET", home.screenshotUrl);
    expect([served.status, served.headers.get("content-type")]).toEqual([200, "image/png"]);

    const events = await call("GET", `/crawls/${start.json.id}/events?limit=500`, { token: t.ciToken });
    const types = events.json.items.map((e: { type: string }) => e.type);
    expect(types[0]).toBe("status_changed");
    expect(types).toContain("page_visited");
    expect(events.json.items.at(-1)).toMatchObject({ type: "status_changed", data: { status: "completed" } });
    expect(events.json.items.map((e: { id: number }) => e.id)).toEqual(events.json.items.map((_: unknown, i: number) => i + 1));

    const list = await call("GET", `/projects/${t.projectId}/crawls?status=completed`, { token: t.ciToken });
    expect(list.json).toMatchObject({ totalCount: 1, items: [{ id: start.json.id, status: "completed" }] });
    // The project keeps the crawl's settings as defaults for the next one.
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

    const crawl = await settledCrawl(t.ciToken, start.json.id);
    expect(crawl.json.status).toBe("completed");
    expect(crawl.json.roles).toEqual([{ label: "Member", type: "username_password", pagesReached: expect.arrayContaining([`${env.CRAWL_ORIGIN}/account/`]) }]);
    expect(await credentialsLeft(start.json.id)).toBe(0);
    const events = await call("GET", `/crawls/${start.json.id}/events?limit=500`, { token: t.ciToken });
    expect(events.json.items.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(["login_attempted", "login_succeeded"]));
    expect(events.text + crawl.text).not.toContain(LOGIN.password);
  });

  it("refuses bad settings with 400 and another tenant's crawl with 404", async () => {
    const t = await bootTenant();
    const tooMany = Array.from({ length: 11 }, () => ({ credential_type: "bearer_token", token: "x" }));
    for (const body of [{ maxPages: 0 }, { maxDepth: 11 }, { baseUrl: "ftp://example.com" }, { credentials: tooMany }, { scan_mode: "turbo" }]) {
      const res = await call("POST", `/projects/${t.projectId}/crawls`, { token: t.ciToken, body });
      expect([res.status, res.json.code], JSON.stringify(body)).toEqual([400, "request.invalid"]);
    }
    expect((await call("GET", `/projects/${t.projectId}/crawls`, { token: t.ciToken })).json.totalCount).toBe(0);
    const start = await call("POST", `/projects/${t.projectId}/crawls`, { token: t.ciToken, body: { baseUrl: env.CRAWL_ORIGIN, crawlPages: ["/"] } });
    const stranger = await bootTenant("pro", "Stranger");
    expect((await call("GET", `/crawls/${start.json.id}`, { token: stranger.ciToken })).status).toBe(404);
    expect((await call("POST", `/crawls/${start.json.id}/cancel`, { token: stranger.ciToken })).status).toBe(404);
    expect((await call("GET", `/crawls/${start.json.id}/events`, { token: stranger.ciToken })).status).toBe(404);
    await settledCrawl(t.ciToken, start.json.id);
  });
});

describe("a crawl's live events and cancel", () => {
  it("streams events as Server-Sent Events until the crawl ends, and resumes after Last-Event-ID", async () => {
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
    // Read as it arrives: a page event reaches us while the crawl is still running (pushed, not replayed).
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

  it("cancels a running crawl: it settles cancelled at once, its credentials are deleted, and the site stops being crawled within seconds", async () => {
    const t = await bootTenant();
    // Forty slow pages (half a second each) crawled one at a time: at least 20 s of work, cancelled after the first.
    const tag = `cancel-${crypto.randomUUID()}`;
    const slowPages = Array.from({ length: 40 }, (_, i) => `/slow/${tag}/${i + 1}?ms=500`);
    const start = await call("POST", `/projects/${t.projectId}/crawls`, {
      token: t.ciToken,
      body: { baseUrl: env.CRAWL_ORIGIN, crawlPages: slowPages, concurrency: 1, respectRobots: false, credentials: [{ credential_type: "bearer_token", token: "tok-secret-xyz" }] },
    });
    expect(start.status, start.text).toBe(202);
    const id = start.json.id as string;
    const pagesRequested = async () => ((await (await fetch(`${env.CRAWL_ORIGIN}/__hits?tag=${tag}`)).json()) as { hits: number }).hits;

    const running = await eventually(
      async () => {
        const res = await call("GET", `/crawls/${id}`, { token: t.ciToken });
        if (!["queued", "running"].includes(res.json.status)) throw new Error(`the crawl settled as ${res.json.status} before it could be cancelled`);
        return res.json.status === "running" && res.json.pages.length > 0 && res;
      },
      { what: "the crawl to be running with a page recorded", timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(running.json.pages.length).toBeLessThan(slowPages.length);
    expect(await credentialsLeft(id)).toBe(1);

    const asked = Date.now();
    const cancelled = await call("POST", `/crawls/${id}/cancel`, { token: t.ciToken });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ id, status: "cancelled" });
    expect(Date.parse(cancelled.json.finishedAt)).toBeGreaterThanOrEqual(asked);
    expect(Date.parse(cancelled.json.finishedAt)).toBeLessThanOrEqual(Date.now());
    expect(await credentialsLeft(id)).toBe(0);

    // The crawler sees the cancel at its next poll and closes its tabs: the site hears no more
    // requests for the crawl's pages, which it would every half second while the crawl went on.
    let last = { count: -1, since: Date.now() };
    await eventually(
      async () => {
        const count = await pagesRequested();
        if (count !== last.count) last = { count, since: Date.now() };
        return Date.now() - last.since >= 3000;
      },
      { what: "the site to go 3 s without a request for the cancelled crawl's pages", timeoutMs: 12_000, intervalMs: 250 },
    );
    expect(last.count).toBeLessThan(slowPages.length);

    const after = await call("GET", `/crawls/${id}`, { token: t.ciToken });
    expect(after.json).toMatchObject({ status: "cancelled", finishedAt: cancelled.json.finishedAt });
    expect(after.json.pages.length).toBeLessThan(slowPages.length);
    const events = await call("GET", `/crawls/${id}/events?limit=500`, { token: t.ciToken });
    const statuses = events.json.items.filter((e: { type: string }) => e.type === "status_changed").map((e: { data: { status: string } }) => e.data.status);
    expect(statuses).toEqual(["running", "cancelled"]);
    // Nothing of the crawl is recorded after its cancel, and no tests come of it (the project has no cases).
    expect(events.json.items.at(-1)).toMatchObject({ type: "status_changed", data: { status: "cancelled" } });
    const suites = await call("GET", `/projects/${t.projectId}/suites`, { token: t.ciToken });
    expect(suites.json.totalCount).toBe(0);
    expect(await credentialsLeft(id)).toBe(0);
    const again = await call("POST", `/crawls/${id}/cancel`, { token: t.ciToken });
    expect([again.status, again.json.code]).toEqual([409, "crawl.already_settled"]);
  });
});

describe("a CI trigger with crawl: true", () => {
  it("crawls first, generates tests on a project without cases, and runs them", async () => {
    const t = await bootTenant();
    const res = await call("POST", "/ci/trigger", { token: t.ciToken, body: { crawl: true, wait: true, maxDepth: 1 } });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ status: "passed", failed: 0, options: { crawl: true, maxDepth: 1 } });
    const names = res.json.results.map((r: { caseName: string }) => r.caseName).sort();
    expect(names).toEqual(["Form 1 on /", "Page /", "Page /about"]);

    const suites = await call("GET", `/projects/${t.projectId}/suites`, { token: t.ciToken });
    expect(suites.json).toMatchObject({ totalCount: 1, items: [{ name: GENERATED_SUITE_NAME, caseCount: 3 }] });
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

    const crawls = await call("GET", `/projects/${t.projectId}/crawls`, { token: t.ciToken });
    expect(crawls.json).toMatchObject({ totalCount: 1, items: [{ runId: res.json.runId, status: "completed" }] });

    // Regenerating updates the generated suite instead of adding another.
    const again = await call("POST", `/projects/${t.projectId}/crawls`, { token: t.ciToken, body: { generateTests: true, maxDepth: 0 } });
    expect((await settledCrawl(t.ciToken, again.json.id)).json.status).toBe("completed");
    const after = await call("GET", `/projects/${t.projectId}/suites`, { token: t.ciToken });
    expect(after.json).toMatchObject({ totalCount: 1, items: [{ id: suites.json.items[0].id, caseCount: 2 }] });
  });

  it("fails the run when the crawl's generated checks find a broken page", async () => {
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

  it("ends the run as error, never failed, when the crawl cannot reach the site", async () => {
    const t = await bootTenant();
    const res = await call("POST", "/ci/trigger", { token: t.ciToken, body: { crawl: true, wait: true, baseUrl: "http://127.0.0.1:65531/" } });
    expect(res.status, res.text).toBe(502);
    expect(res.json).toMatchObject({ status: "error", code: "run.error" });
    expect(res.json.errorMessage).toMatch(/^The crawl before the run failed: /);
  });
});

describe("a crawled page's WebSockets", () => {
  it("may not reach another host: the page's attempt fails and the other origin sees no handshake", async () => {
    const t = await bootTenant();
    await fetch(`${env.CRAWL_OTHER_ORIGIN}/__reset`);
    const start = await call("POST", `/projects/${t.projectId}/crawls`, { token: t.ciToken, body: { baseUrl: env.CRAWL_ORIGIN, crawlPages: ["/ws"], respectRobots: false } });
    const crawl = await settledCrawl(t.ciToken, start.json.id);
    expect(crawl.json.pages[0]).toMatchObject({ url: `${env.CRAWL_ORIGIN}/ws`, title: "ws-blocked" });
    const log = (await (await fetch(`${env.CRAWL_OTHER_ORIGIN}/__log`)).json()) as { method: string }[];
    expect(log.filter((entry) => entry.method === "UPGRADE")).toEqual([]);
  });
});
