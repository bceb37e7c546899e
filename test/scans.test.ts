import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
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
    expect(home).toMatchObject({ url: `${env.CRAWL_ORIGIN}/`, status: 200, title: "Home", role: "anonymous" });
    expect(scan.json.pages.every((p: { depth: number }) => p.depth <= 1)).toBe(true);

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
