import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { createApp } from "../src/app";
import { createDb } from "../src/db/client";
import { insertRun } from "../src/db/runs";
import { CRAWL_STATUSES } from "../src/schemas/crawls";
import { RUN_STATUSES } from "../src/schemas/runs";
import { version } from "../package.json";
import { bootTenant, call, createSuiteWithCase } from "./helpers/api";

const DASHBOARD = "https://dashboard.example.com"; // CORS_ALLOWED_ORIGINS in vitest.config.ts
const PASSING = [
  { action: "goto", url: "/" },
  { action: "expectTitle", title: "Home" },
];

function expectSecurityHeaders(headers: Headers, https = false) {
  expect(headers.get("x-content-type-options")).toBe("nosniff");
  expect(headers.get("x-frame-options")).toBe("DENY");
  expect(headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
  expect(headers.get("strict-transport-security")).toBe(https ? "max-age=31536000; includeSubDomains" : null);
}

const corsHeaders = (headers: Headers) => [...headers.keys()].filter((name) => name.startsWith("access-control-"));

async function scrape() {
  const res = await call("GET", "http://localhost/metrics");
  expect(res.status).toBe(200);
  return res.text;
}

/** The value of one sample, e.g. sample(text, 'aegis_runs{status="queued"}'); undefined when absent. */
function sample(exposition: string, series: string) {
  const line = exposition.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("security headers", () => {
  it("are on a 200, a 401, a 404 for an unknown route and a 308 redirect", async () => {
    expectSecurityHeaders((await call("GET", "http://localhost/health")).headers);

    const unauthorized = await call("GET", "/projects");
    expect(unauthorized.status).toBe(401);
    expectSecurityHeaders(unauthorized.headers);

    const unknown = await call("GET", "http://localhost/no-such-page");
    expect(unknown.status).toBe(404);
    expect(unknown.json.code).toBe("route.not_found");
    expectSecurityHeaders(unknown.headers);

    const redirect = await call("GET", "http://aegis.example.com/api/v1/projects");
    expect(redirect.status).toBe(308);
    expectSecurityHeaders(redirect.headers);
  });

  it("are on a 500 answered by onError, which leaks nothing", async () => {
    const app = createApp();
    app.get("/boom", () => {
      throw new Error("secret internals");
    });
    const res = await app.request("https://aegis.example.com/boom", {}, env);
    expect(res.status).toBe(500);
    const body = await res.json<{ code: string; error: string }>();
    expect(body).toMatchObject({ code: "server.internal", error: "Internal error" });
    expect(JSON.stringify(body)).not.toContain("secret internals");
    expectSecurityHeaders(res.headers, true);
  });

  it("include HSTS over https only", async () => {
    expectSecurityHeaders((await call("GET", "https://localhost/health")).headers, true);
    expectSecurityHeaders((await call("GET", "https://aegis.example.com/no-such-page")).headers, true);
    expect((await call("GET", "http://localhost/health")).headers.has("strict-transport-security")).toBe(false);
  });
});

describe("CORS", () => {
  it("sends no Access-Control-* header to a request without Origin", async () => {
    const res = await call("GET", "http://localhost/health");
    expect(corsHeaders(res.headers)).toEqual([]);
  });

  it("answers a preflight from an allowed origin with 204 and the API's headers", async () => {
    const res = await call("OPTIONS", "/ci/trigger", {
      headers: { origin: DASHBOARD, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type,idempotency-key" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(DASHBOARD);
    expect(res.headers.get("access-control-allow-headers")).toBe("Authorization,Content-Type,Idempotency-Key");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-expose-headers")).toBe(
      "X-RateLimit-Limit,X-RateLimit-Remaining,X-RateLimit-Reset,Retry-After,Idempotent-Replayed,Location",
    );
    expect(res.headers.get("vary")).toContain("Origin");
    expectSecurityHeaders(res.headers);
  });

  it("lets an allowed origin read an answer, errors included", async () => {
    const res = await call("GET", "/projects", { headers: { origin: DASHBOARD } });
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBe(DASHBOARD);
    expect(res.headers.get("access-control-expose-headers")).toContain("Retry-After");
  });

  it("gives a disallowed origin no CORS header, preflight or not", async () => {
    const preflight = await call("OPTIONS", "/ci/trigger", {
      headers: { origin: "https://evil.example.com", "access-control-request-method": "POST" },
    });
    expect(preflight.status).not.toBe(204);
    expect(corsHeaders(preflight.headers)).toEqual([]);
    const get = await call("GET", "http://localhost/health", { headers: { origin: "https://dashboard.example.com.evil.example" } });
    expect(corsHeaders(get.headers)).toEqual([]);
    expect(get.headers.get("vary")).toContain("Origin");
  });

  it("is off when CORS_ALLOWED_ORIGINS is empty, as deployed by default", async () => {
    const app = createApp();
    const res = await app.request(
      "http://localhost/api/v1/ci/trigger",
      { method: "OPTIONS", headers: { origin: DASHBOARD, "access-control-request-method": "POST" } },
      { ...env, CORS_ALLOWED_ORIGINS: "" },
    );
    expect(res.status).not.toBe(204);
    expect(corsHeaders(res.headers)).toEqual([]);
  });
});

describe("operational endpoints", () => {
  it("/health reports the version, the isolate's uptime and D1's latency, without a token", async () => {
    const res = await call("GET", "http://localhost/health");
    expect(res.status).toBe(200);
    expect(Object.keys(res.json).sort()).toEqual(["d1", "status", "uptime", "version"]);
    expect(res.json).toMatchObject({ status: "ok", version, d1: { reachable: true } });
    expect(Number.isInteger(res.json.uptime) && res.json.uptime >= 0).toBe(true);
    expect(res.json.d1.latencyMs).toBeGreaterThanOrEqual(0);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("/ready answers 200 when D1 answers and the schema is migrated", async () => {
    const res = await call("GET", "http://localhost/ready");
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ ready: true });
  });

  it("/ready answers 503 in the error shape while a table is missing", async () => {
    await env.DB.exec("ALTER TABLE case_results RENAME TO case_results_away");
    try {
      const res = await call("GET", "http://localhost/ready");
      expect(res.status).toBe(503);
      expect(res.json).toEqual({ error: expect.any(String), code: "service.not_ready", details: {} });
      expect(res.text).not.toContain("case_results");
    } finally {
      await env.DB.exec("ALTER TABLE case_results_away RENAME TO case_results");
    }
    expect((await call("GET", "http://localhost/ready")).status).toBe(200);
  });
});

describe("/metrics", () => {
  it("counts requests by route pattern and status, never by raw path, id, token or org name", async () => {
    const t = await bootTenant("pro", "Zanzibar Widgets");
    const unknownRun = "01a00000-0000-7000-8000-00000000beef";
    const runSeries = 'aegis_http_requests_total{route="/api/v1/ci/runs/:runId",status="404"}';
    const unmatchedSeries = 'aegis_http_requests_total{route="unmatched",status="404"}';
    const before = await scrape();

    for (let i = 0; i < 2; i++) expect((await call("GET", `/ci/runs/${unknownRun}`, { token: t.ciToken })).status).toBe(404);
    expect((await call("GET", "http://localhost/wp-admin/secret-path")).status).toBe(404);
    expect((await call("GET", `/projects/${t.projectId}`, { token: t.ciToken })).status).toBe(200);
    const res = await call("GET", "http://localhost/metrics");

    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const after = res.text;
    expect(sample(after, runSeries)).toBe((sample(before, runSeries) ?? 0) + 2);
    expect(sample(after, unmatchedSeries)).toBe((sample(before, unmatchedSeries) ?? 0) + 1);
    expect(sample(after, 'aegis_http_requests_total{route="/api/v1/projects/:id",status="200"}')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'aegis_http_requests_total{route="/metrics",status="200"}')).toBeGreaterThanOrEqual(1);
    expect(sample(after, "aegis_rate_limit_refusals_total")).toBeGreaterThanOrEqual(0);
    for (const leak of [unknownRun, t.projectId, t.orgId, t.ciToken, t.orgKey, "Zanzibar", "wp-admin", "secret-path"]) {
      expect(after).not.toContain(leak);
    }
    for (const [name, type] of [
      ["aegis_http_requests_total", "counter"],
      ["aegis_rate_limit_refusals_total", "counter"],
      ["aegis_runs", "gauge"],
      ["aegis_crawls", "gauge"],
      ["aegis_queue_lag_seconds", "gauge"],
    ]) {
      expect(after).toContain(`# HELP ${name} `);
      expect(after).toContain(`# TYPE ${name} ${type}\n`);
    }
  });

  it("reports every run status from D1, at 0 too, and no queue lag when nothing is queued", async () => {
    const text = await scrape();
    for (const status of RUN_STATUSES) expect(sample(text, `aegis_runs{status="${status}"}`)).toBe(0);
    for (const status of CRAWL_STATUSES) expect(sample(text, `aegis_crawls{status="${status}"}`)).toBe(0);
    expect(sample(text, "aegis_queue_lag_seconds")).toBe(0);
  });

  it("counts runs by status once they have run", async () => {
    const before = await scrape();
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, PASSING);
    const [passed, unreachable] = await Promise.all([
      call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true } }),
      call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true, baseUrl: "http://127.0.0.1:65531/" } }),
    ]);
    expect(passed.status).toBe(200);
    expect(unreachable.status).toBe(502);

    // The signed run page, too, carries the security headers.
    const page = await call("GET", passed.json.url);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expectSecurityHeaders(page.headers);

    const after = await scrape();
    const delta = (status: string) => (sample(after, `aegis_runs{status="${status}"}`) ?? NaN) - (sample(before, `aegis_runs{status="${status}"}`) ?? NaN);
    expect(Object.fromEntries(RUN_STATUSES.map((s) => [s, delta(s)]))).toEqual({ queued: 0, running: 0, passed: 1, failed: 0, cancelled: 0, error: 1 });
    expect(after).not.toContain(passed.json.runId);
  });

  it("reports the age of the oldest queued run as the queue lag", async () => {
    const t = await bootTenant();
    const db = createDb(env.DB);
    const id = "01a00000-0000-7000-8000-0000000001a9";
    await insertRun(db, {
      id, orgId: t.orgId, projectId: t.projectId, runType: "manual", status: "queued", browserProfile: "chromium", baseUrl: null,
      options: {}, caseIds: [], passed: 0, failed: 0, skipped: 0, errorMessage: null,
      createdAt: new Date(Date.now() - 90_000).toISOString(), startedAt: null, finishedAt: null,
    });
    try {
      const text = await scrape();
      expect(sample(text, "aegis_queue_lag_seconds")).toBeGreaterThanOrEqual(90);
      expect(sample(text, "aegis_queue_lag_seconds")).toBeLessThan(120);
      expect(sample(text, 'aegis_runs{status="queued"}')).toBeGreaterThanOrEqual(1);
    } finally {
      await env.DB.prepare("delete from runs where id = ?").bind(id).run();
    }
    expect(sample(await scrape(), "aegis_queue_lag_seconds")).toBe(0);
  });
});
