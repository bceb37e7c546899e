import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, bootTenant, call } from "./helpers/api";
import { eventually } from "./helpers/wait";

const TOKEN_SHAPE = /^aegis_[0-9A-Za-z]{38}$/;

describe("organizations", () => {
  it("are created with the admin secret and answer their key once", async () => {
    const res = await call("POST", "/orgs", { token: ADMIN_TOKEN, body: { name: "Initech", plan: "starter" } });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ name: "Initech", plan: "starter" });
    expect(res.json.apiKey).toMatch(TOKEN_SHAPE);
  });

  it("refuse a wrong admin secret with 401 and WWW-Authenticate", async () => {
    const res = await call("POST", "/orgs", { token: "not-the-admin-token", body: { name: "X", plan: "free" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(res.json).toEqual({ error: "Invalid admin token", code: "auth.invalid_token", details: {} });
  });

  it("refuse an org key in place of the admin secret", async () => {
    const t = await bootTenant();
    const res = await call("POST", "/orgs", { token: t.orgKey, body: { name: "X", plan: "free" } });
    expect(res.status).toBe(401);
  });

  it("reject an unknown plan with the validation details", async () => {
    const res = await call("POST", "/orgs", { token: ADMIN_TOKEN, body: { name: "X", plan: "platinum" } });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe("request.invalid");
    expect(res.json.details.issues[0].path).toBe("plan");
  });
});

describe("tokens", () => {
  it("are refused with 401 when missing, malformed or failing their checksum", async () => {
    const t = await bootTenant();
    const missing = await call("GET", "/projects");
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(missing.json.code).toBe("auth.invalid_token");
    expect((await call("GET", "/projects", { token: "aegis_nope" })).status).toBe(401);
    const last = t.ciToken.at(-1) === "A" ? "B" : "A";
    expect((await call("GET", "/projects", { token: t.ciToken.slice(0, -1) + last })).status).toBe(401);
  });

  it("are accepted with the prefix written twice, as the contract's aegis_$TOKEN examples produce", async () => {
    const t = await bootTenant();
    const res = await call("GET", `/projects/${t.projectId}`, { token: `aegis_${t.ciToken}` });
    expect(res.status).toBe(200);
    const bare = await call("GET", `/projects/${t.projectId}`, { token: t.ciToken.slice("aegis_".length) });
    expect(bare.status).toBe(200);
  });

  it("are listed by name and prefix, never with the secret", async () => {
    const t = await bootTenant();
    const res = await call("GET", `/projects/${t.projectId}/tokens`, { token: t.orgKey });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ totalCount: 1, page: 1, pageSize: 20 });
    expect(res.json.items[0]).toMatchObject({ name: "CI", prefix: t.ciToken.slice(0, 12) });
    expect(res.text).not.toContain(t.ciToken.slice(12));
  });

  it("stop working the moment they are revoked", async () => {
    const t = await bootTenant();
    const list = await call("GET", `/projects/${t.projectId}/tokens`, { token: t.orgKey });
    expect((await call("GET", "/projects", { token: t.ciToken })).status).toBe(200);
    const revoked = await call("DELETE", `/tokens/${list.json.items[0].id}`, { token: t.orgKey });
    expect(revoked.status).toBe(204);
    expect((await call("GET", "/projects", { token: t.ciToken })).status).toBe(401);
    // Repeating a revocation is harmless (and completes one whose propagation failed).
    expect((await call("DELETE", `/tokens/${list.json.items[0].id}`, { token: t.orgKey })).status).toBe(204);
    expect((await call("DELETE", "/tokens/01a00000-0000-7000-8000-000000000000", { token: t.orgKey })).status).toBe(404);
  });

  it("are limited per project by plan with 402 (Free: 1)", async () => {
    const t = await bootTenant("free");
    const second = await call("POST", `/projects/${t.projectId}/tokens`, { token: t.orgKey, body: { name: "second" } });
    expect(second.status).toBe(402);
    expect(second.json).toMatchObject({ code: "plan.ci_token_limit", details: { plan: "free", limit: 1 } });
  });

  it("allow three on Starter and then answer 402", async () => {
    const t = await bootTenant("starter");
    for (const name of ["two", "three"]) {
      expect((await call("POST", `/projects/${t.projectId}/tokens`, { token: t.orgKey, body: { name } })).status).toBe(201);
    }
    expect((await call("POST", `/projects/${t.projectId}/tokens`, { token: t.orgKey, body: { name: "four" } })).status).toBe(402);
  });
});

describe("tenant isolation", () => {
  it("answers 404 for another organization's project, suite and tokens", async () => {
    const a = await bootTenant("pro", "A");
    const b = await bootTenant("pro", "B");
    const suite = await call("POST", `/projects/${b.projectId}/suites`, { token: b.orgKey, body: { name: "B suite" } });
    for (const token of [a.orgKey, a.ciToken]) {
      expect((await call("GET", `/projects/${b.projectId}`, { token })).status).toBe(404);
      expect((await call("GET", `/projects/${b.projectId}/suites`, { token })).status).toBe(404);
      expect((await call("GET", `/suites/${suite.json.id}`, { token })).status).toBe(404);
      expect((await call("DELETE", `/suites/${suite.json.id}`, { token })).status).toBe(404);
    }
    // Tokens are the org key's to manage (a CI token is refused before any lookup: test/access.test.ts).
    expect((await call("GET", `/projects/${b.projectId}/tokens`, { token: a.orgKey })).status).toBe(404);
    const bTokens = await call("GET", `/projects/${b.projectId}/tokens`, { token: b.orgKey });
    expect((await call("DELETE", `/tokens/${bTokens.json.items[0].id}`, { token: a.orgKey })).status).toBe(404);
    expect((await call("GET", `/suites/${suite.json.id}`, { token: b.ciToken })).status).toBe(200);
  });

  it("keeps a CI token inside its own project of the same organization", async () => {
    const t = await bootTenant();
    const other = await call("POST", "/projects", { token: t.orgKey, body: { name: "Other" } });
    expect((await call("GET", `/projects/${other.json.id}`, { token: t.ciToken })).status).toBe(404);
    expect((await call("GET", `/projects/${other.json.id}`, { token: t.orgKey })).status).toBe(200);
    const listed = await call("GET", "/projects", { token: t.ciToken });
    expect(listed.json.items.map((p: { id: string }) => p.id)).toEqual([t.projectId]);
    const orgListed = await call("GET", "/projects", { token: t.orgKey });
    expect(orgListed.json.totalCount).toBe(2);
  });

  it("lets only the org key create or delete projects", async () => {
    const t = await bootTenant();
    expect((await call("POST", "/projects", { token: t.ciToken, body: { name: "Nope" } })).status).toBe(403);
    expect((await call("DELETE", `/projects/${t.projectId}`, { token: t.ciToken })).status).toBe(403);
    expect((await call("DELETE", `/projects/${t.projectId}`, { token: t.orgKey })).status).toBe(204);
    expect((await call("GET", `/projects/${t.projectId}`, { token: t.orgKey })).status).toBe(404);
    // Deleting the project took its CI token with it.
    expect((await call("GET", "/projects", { token: t.ciToken })).status).toBe(401);
  });
});

describe("projects", () => {
  it("are created, changed and read back with their crawl defaults (scanSettings)", async () => {
    const t = await bootTenant();
    const changed = await call("PATCH", `/projects/${t.projectId}`, {
      token: t.orgKey,
      body: { name: "Renamed", scanSettings: { maxPages: 50, device: "mobile" } },
    });
    expect(changed.status).toBe(200);
    expect(changed.json).toMatchObject({ name: "Renamed", scanSettings: { maxPages: 50, device: "mobile" } });
    const read = await call("GET", `/projects/${t.projectId}`, { token: t.ciToken });
    expect(read.json).toMatchObject({ name: "Renamed", baseUrl: changed.json.baseUrl });
  });

  it("refuse a base URL that is not http(s), and an empty change", async () => {
    const t = await bootTenant();
    const ftp = await call("PATCH", `/projects/${t.projectId}`, { token: t.orgKey, body: { baseUrl: "ftp://example.com" } });
    expect(ftp.status).toBe(400);
    expect(ftp.json.details.issues[0].path).toBe("baseUrl");
    expect((await call("PATCH", `/projects/${t.projectId}`, { token: t.orgKey, body: {} })).status).toBe(400);
  });
});

describe("token use", () => {
  it("is recorded as lastUsedAt in the listing", async () => {
    const t = await bootTenant();
    const before = await call("GET", `/projects/${t.projectId}/tokens`, { token: t.orgKey });
    expect(before.json.items[0].lastUsedAt).toBeNull();
    const used = Date.now();
    expect((await call("GET", `/projects/${t.projectId}`, { token: t.ciToken })).status).toBe(200);
    const answered = Date.now();
    const lastUsedAt: string = await eventually(
      async () => (await call("GET", `/projects/${t.projectId}/tokens`, { token: t.orgKey })).json.items[0].lastUsedAt,
      { what: "the token's lastUsedAt to be recorded", timeoutMs: 5_000, intervalMs: 50 },
    );
    expect(Date.parse(lastUsedAt)).toBeGreaterThanOrEqual(used);
    expect(Date.parse(lastUsedAt)).toBeLessThanOrEqual(answered);
  });
});
