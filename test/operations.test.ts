import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { createApp } from "../src/app";
import { createDb } from "../src/db/client";
import { insertRun } from "../src/db/runs";
import { checkHealth } from "../src/services/health";
import { CRAWL_STATUSES } from "../src/schemas/crawls";
import { RUN_STATUSES } from "../src/schemas/runs";
import { version } from "../package.json";
import { bootTenant, call, createSuiteWithCase } from "./helpers/api";
import { eventually } from "./helpers/wait";

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
    // Not answered as a preflight: the request goes on, to the token check.
    const preflight = await call("OPTIONS", "/ci/trigger", {
      headers: { origin: "https://evil.example.com", "access-control-request-method": "POST" },
    });
    expect([preflight.status, preflight.json.code]).toEqual([401, "auth.invalid_token"]);
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
    expect(res.status).toBe(401);
    expect(corsHeaders(res.headers)).toEqual([]);
  });
});

describe("operational endpoints", () => {
  it("/health reports the version, the isolate's uptime and D1's latency, without a token", async () => {
    const asked = Date.now();
    const res = await call("GET", "http://localhost/health");
    const tookMs = Date.now() - asked;
    expect(res.status).toBe(200);
    expect(Object.keys(res.json).sort()).toEqual(["d1", "status", "uptime", "version"]);
    expect(res.json).toMatchObject({ status: "ok", version, d1: { reachable: true } });
    expect(res.headers.get("cache-control")).toBe("no-store");
    // D1's latency: whole milliseconds, within the time the whole request took (locally often 0 or 1).
    expect(Number.isInteger(res.json.d1.latencyMs)).toBe(true);
    expect(res.json.d1.latencyMs).toBeGreaterThanOrEqual(0);
    expect(res.json.d1.latencyMs).toBeLessThanOrEqual(tookMs);
    // The uptime: whole seconds, counting on as the isolate lives.
    expect(Number.isInteger(res.json.uptime)).toBe(true);
    expect(res.json.uptime).toBeGreaterThanOrEqual(0);
    const later = await eventually(
      async () => {
        const next = await call("GET", "http://localhost/health");
        return next.json.uptime > res.json.uptime && next;
      },
      { what: "/health's uptime to count on", timeoutMs: 3_000, intervalMs: 100 },
    );
    expect(later.json.uptime - res.json.uptime).toBeLessThanOrEqual(Math.ceil((Date.now() - asked) / 1000));
  });

  it("/health's D1 latency is the time by the clock across its round trip to D1", async () => {
    // The clock reads 10:00:00.000 when first asked and 42 ms later from then on.
    const first = Date.parse("2026-01-01T10:00:00.000Z");
    let readings = 0;
    const health = await checkHealth({ db: createDb(env.DB), now: () => new Date(readings++ === 0 ? first : first + 42) });
    expect(health).toMatchObject({ status: "ok", d1: { reachable: true, latencyMs: 42 } });
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
    // Thirteen guessed tokens from one address at once: its budget of 10 answers 401, the rest are refused (429).
    const guesses = await Promise.all(
      Array.from({ length: 13 }, () => call("GET", "/projects", { token: "aegis_guess", headers: { "cf-connecting-ip": "198.51.100.23" } })),
    );
    const refused = guesses.filter((g) => g.status === 429).length;
    expect(refused).toBeGreaterThan(0);
    expect(guesses.filter((g) => g.status === 401)).toHaveLength(guesses.length - refused);
    const res = await call("GET", "http://localhost/metrics");

    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const after = res.text;
    const counted = (series: string) => (sample(after, series) ?? 0) - (sample(before, series) ?? 0);
    expect(counted(runSeries)).toBe(2);
    expect(counted(unmatchedSeries)).toBe(1);
    expect(counted('aegis_http_requests_total{route="/api/v1/projects/:id",status="200"}')).toBe(1);
    expect(counted('aegis_http_requests_total{route="/api/v1/projects",status="401"}')).toBe(guesses.length - refused);
    expect(counted('aegis_http_requests_total{route="/api/v1/projects",status="429"}')).toBe(refused);
    // The scrape that took `before` is counted once it has answered; this one is not in its own answer.
    expect(counted('aegis_http_requests_total{route="/metrics",status="200"}')).toBe(1);
    expect(counted("aegis_rate_limit_refusals_total")).toBe(refused);
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
    const queuedBefore = sample(await scrape(), 'aegis_runs{status="queued"}');
    const createdAt = Date.now() - 90_000;
    await insertRun(db, {
      id, orgId: t.orgId, projectId: t.projectId, runType: "manual", status: "queued", browserProfile: "chromium", baseUrl: null,
      options: {}, caseIds: [], passed: 0, failed: 0, skipped: 0, errorMessage: null,
      createdAt: new Date(createdAt).toISOString(), startedAt: null, finishedAt: null,
    });
    try {
      const text = await scrape();
      const scrapedBy = Date.now();
      expect(sample(text, "aegis_queue_lag_seconds")).toBeGreaterThanOrEqual(90);
      expect(sample(text, "aegis_queue_lag_seconds")).toBeLessThanOrEqual((scrapedBy - createdAt) / 1000);
      expect(sample(text, 'aegis_runs{status="queued"}')).toBe((queuedBefore ?? NaN) + 1);
    } finally {
      await env.DB.prepare("delete from runs where id = ?").bind(id).run();
    }
    expect(sample(await scrape(), "aegis_queue_lag_seconds")).toBe(0);
  });
});
