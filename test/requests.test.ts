import { describe, expect, it } from "vitest";
import readme from "../README.md?raw";
import { ERROR_CODES } from "../src/errors";
import { bootTenant, call } from "./helpers/api";

describe("request bodies", () => {
  it("accept JSON sent with curl's default form content type, as the contract's own trigger does", async () => {
    const t = await bootTenant();
    const res = await call("POST", "/projects", {
      token: t.orgKey,
      rawBody: '{"name":"from curl -d"}',
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(201);
    expect(res.json.name).toBe("from curl -d");
  });

  it("answer 415 for other content types, text/plain included", async () => {
    const t = await bootTenant();
    for (const type of ["application/xml", "text/plain", "text/plain; charset=utf-8", "multipart/form-data; boundary=x"]) {
      const res = await call("POST", "/projects", { token: t.orgKey, rawBody: '{"name":"typed"}', headers: { "content-type": type } });
      expect(res.status, type).toBe(415);
      expect(res.json.code).toBe("request.unsupported_media_type");
    }
    const listed = await call("GET", "/projects", { token: t.orgKey });
    expect(listed.json.items.map((p: { name: string }) => p.name)).not.toContain("typed");
  });

  it("answer 400 for malformed JSON, never 500", async () => {
    const t = await bootTenant();
    const res = await call("POST", "/projects", { token: t.orgKey, rawBody: '{"name": ', headers: { "content-type": "application/json" } });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: "request.malformed", details: {} });
  });

  it("answer 413 over 256 KiB", async () => {
    const t = await bootTenant();
    const res = await call("POST", "/projects", { token: t.orgKey, body: { name: "x".repeat(300 * 1024) } });
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ code: "request.too_large", details: { maxBytes: 262144 } });
  });

  it("reject unknown fields, naming them", async () => {
    const t = await bootTenant();
    const res = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: false, colour: "blue" } });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe("request.invalid");
    expect(JSON.stringify(res.json.details)).toContain("colour");
  });
});

describe("the trigger's payload", () => {
  const invalid: [string, Record<string, unknown>, string][] = [
    ["a non-boolean wait", { wait: "yes" }, "wait"],
    ["a non-UUID suite id", { suiteIds: ["abc"] }, "suiteIds.0"],
    ["an empty caseIds list", { caseIds: [] }, "caseIds"],
    ["a non-http baseUrl", { baseUrl: "javascript:alert(1)" }, "baseUrl"],
    ["maxPages out of range", { maxPages: 0 }, "maxPages"],
    ["maxDepth out of range", { maxDepth: 11 }, "maxDepth"],
    ["an unknown device", { device: "tablet" }, "device"],
    ["an unknown selection strategy", { selectionStrategy: "random" }, "selectionStrategy"],
    ["a PR number that is not an integer", { githubPrNumber: 1.5 }, "githubPrNumber"],
    ["a repo that is not owner/name", { githubRepo: "just-a-name" }, "githubRepo"],
    ["an unknown browser", { browserProfile: "opera" }, "browserProfile"],
  ];
  for (const [what, body, path] of invalid) {
    it(`refuses ${what} with 400 naming ${path}`, async () => {
      const t = await bootTenant();
      const res = await call("POST", "/ci/trigger", { token: t.ciToken, body });
      expect(res.status).toBe(400);
      expect(res.json.details.issues.map((i: { path: string }) => i.path)).toContain(path);
    });
  }

  it("says plainly that Firefox and WebKit are not available", async () => {
    const t = await bootTenant();
    for (const browserProfile of ["firefox", "webkit"]) {
      const res = await call("POST", "/ci/trigger", { token: t.ciToken, body: { browserProfile } });
      expect(res.status).toBe(400);
      expect(res.json.code).toBe("run.browser_unsupported");
      expect(res.json.error).toContain("Chromium only");
    }
    const list = await call("GET", `/projects/${t.projectId}/runs`, { token: t.ciToken });
    expect(list.json.totalCount).toBe(0);
  });

  it("refuses a project without test cases with 400 run.no_cases", async () => {
    const t = await bootTenant();
    const res = await call("POST", "/ci/trigger", { token: t.ciToken, body: {} });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe("run.no_cases");
  });

  it("answers 404 naming suites that are not in the project", async () => {
    const t = await bootTenant();
    const missing = "01a00000-0000-7000-8000-000000000000";
    const res = await call("POST", "/ci/trigger", { token: t.ciToken, body: { suiteIds: [missing] } });
    expect(res.status).toBe(404);
    expect(res.json.details).toEqual({ suiteIds: [missing] });
  });

  it("refuses a private base URL that the deployment does not allow", async () => {
    const t = await bootTenant();
    const res = await call("POST", "/ci/trigger", { token: t.ciToken, body: { baseUrl: "http://169.254.169.254/latest/meta-data" } });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe("run.target_not_allowed");
  });

  it("needs a CI token: the org key answers 403", async () => {
    const t = await bootTenant();
    const res = await call("POST", "/ci/trigger", { token: t.orgKey, body: {} });
    expect(res.status).toBe(403);
    expect(res.json.code).toBe("auth.ci_token_required");
  });
});

describe("pagination", () => {
  it("defaults to page 1 of 20 and reports the total", async () => {
    const t = await bootTenant();
    for (let i = 0; i < 3; i++) await call("POST", `/projects/${t.projectId}/suites`, { token: t.ciToken, body: { name: `S${i}` } });
    const res = await call("GET", `/projects/${t.projectId}/suites?pageSize=2&page=2`, { token: t.ciToken });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ totalCount: 3, page: 2, pageSize: 2 });
    expect(res.json.items).toHaveLength(1);
    const first = await call("GET", `/projects/${t.projectId}/suites`, { token: t.ciToken });
    expect(first.json).toMatchObject({ totalCount: 3, page: 1, pageSize: 20 });
    expect(first.json.items.map((s: { name: string }) => s.name)).toEqual(["S2", "S1", "S0"]);
  });

  for (const query of ["page=0", "pageSize=0", "pageSize=201", "page=abc", "pageSize=2.5", "status=done", "sort=name"]) {
    it(`answers 400 for ${query}`, async () => {
      const t = await bootTenant();
      const res = await call("GET", `/projects/${t.projectId}/runs?${query}`, { token: t.ciToken });
      expect(res.status).toBe(400);
      expect(res.json.code).toBe("request.invalid");
    });
  }

  it("accepts pageSize=200", async () => {
    const t = await bootTenant();
    expect((await call("GET", `/projects/${t.projectId}/runs?pageSize=200`, { token: t.ciToken })).status).toBe(200);
  });
});

describe("routing", () => {
  it("answers a malformed id with 400 and an unknown one with 404", async () => {
    const t = await bootTenant();
    expect((await call("GET", "/ci/runs/not-a-uuid", { token: t.ciToken })).status).toBe(400);
    const unknown = await call("GET", "/ci/runs/01a00000-0000-7000-8000-000000000000", { token: t.ciToken });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: "Run not found", code: "resource.not_found", details: {} });
  });

  it("answers an unknown path with 404 and a wrong method with 405 naming the allowed ones", async () => {
    const t = await bootTenant();
    const path = await call("GET", "/nothing-here", { token: t.ciToken });
    expect(path.status).toBe(404);
    expect(path.json.code).toBe("route.not_found");
    const method = await call("PUT", `/projects/${t.projectId}`, { token: t.ciToken, body: { name: "x" } });
    expect(method.status).toBe(405);
    expect(method.headers.get("allow")).toBe("DELETE, GET, HEAD, PATCH");
    expect(method.json).toMatchObject({ code: "route.method_not_allowed", details: { allow: ["DELETE", "GET", "HEAD", "PATCH"] } });
  });

  it("redirects plain http on a public host to https with 308", async () => {
    const res = await call("GET", "http://aegis.example.com/api/v1/projects?page=2");
    expect(res.status).toBe(308);
    expect(res.headers.get("location")).toBe("https://aegis.example.com/api/v1/projects?page=2");
  });

  it("answers /health without a token", async () => {
    const res = await call("GET", "http://localhost/health");
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: "ok", version: expect.any(String), uptime: expect.any(Number), d1: { reachable: true, latencyMs: expect.any(Number) } });
  });

  it("publishes an OpenAPI 3.1 document generated from the route schemas", async () => {
    const res = await call("GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.json.openapi).toBe("3.1.0");
    expect(Object.keys(res.json.paths)).toEqual(
      expect.arrayContaining(["/api/v1/ci/trigger", "/api/v1/ci/runs/{runId}", "/api/v1/projects/{id}/runs", "/api/v1/suites/{id}/cases", "/api/v1/projects/{id}/tokens"]),
    );
    const trigger = res.json.paths["/api/v1/ci/trigger"].post;
    expect(Object.keys(trigger.responses)).toEqual(expect.arrayContaining(["200", "202", "422", "502", "504"]));
    expect(JSON.stringify(trigger.requestBody)).toContain("githubPrNumber");
    // Every POST says it takes an Idempotency-Key, as the middleware honours it on every POST.
    const posts = Object.entries(res.json.paths as Record<string, { post?: { parameters?: { $ref?: string }[] } }>).filter(([, item]) => item.post);
    expect(posts.length).toBeGreaterThan(5);
    for (const [path, item] of posts) expect(item.post!.parameters, path).toContainEqual({ $ref: "#/components/parameters/IdempotencyKey" });
    expect(res.json.components.parameters.IdempotencyKey).toMatchObject({ name: "Idempotency-Key", in: "header", required: false, schema: { maxLength: 255 } });
    expect(res.json.paths["/api/v1/ci/runs/{runId}"].get.parameters ?? []).not.toContainEqual({ $ref: "#/components/parameters/IdempotencyKey" });
  });
});

describe("a known path with the wrong method", () => {
  const cases: [method: string, path: string, allow: string][] = [
    ["PATCH", "/api/v1/orgs", "POST"],
    ["PUT", "/api/v1/ci/runs/01a00000-0000-7000-8000-000000000001", "GET, HEAD"],
    ["DELETE", "/api/v1/ci/trigger", "POST"],
    ["POST", "/health", "GET, HEAD"],
  ];
  for (const [method, path, allow] of cases) {
    it(`answers ${method} ${path} with 405 and Allow: ${allow}, before asking for a token`, async () => {
      const res = await call(method, `http://localhost${path}`);
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe(allow);
      expect(res.json).toMatchObject({ code: "route.method_not_allowed", error: expect.stringContaining(method), details: { allow: allow.split(", ") } });
    });
  }

  it("answers unknown paths 404 before asking for a token, and leaves right methods to authentication", async () => {
    const unknown = await call("PATCH", "/api/v1/no-such-thing");
    expect([unknown.status, unknown.json.code, unknown.headers.get("allow")]).toEqual([404, "route.not_found", null]);
    const unauthenticated = await call("POST", "/api/v1/ci/trigger");
    expect([unauthenticated.status, unauthenticated.json.code]).toEqual([401, "auth.invalid_token"]);
  });
});

describe("error codes", () => {
  const tableOf = (text: string) => {
    const start = text.indexOf("| code | status | meaning |");
    const rows = text.slice(start).split("\n").slice(2);
    return rows.slice(0, rows.findIndex((line) => !line.startsWith("|"))).map((line) => line.split("|").map((cell) => cell.trim()));
  };

  it("are dotted, and the README's table lists every one with its status", () => {
    const documented = tableOf(readme).map(([, code, status]) => [code.replace(/`/g, ""), Number(status)]);
    expect(documented.length).toBeGreaterThan(0);
    expect(documented).toEqual(Object.entries(ERROR_CODES).map(([code, { status }]) => [code, status]));
    for (const code of Object.keys(ERROR_CODES)) expect(code).toMatch(/^[a-z_]+\.[a-z_]+$/);
  });
});
