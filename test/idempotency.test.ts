import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { createDb } from "../src/db/client";
import { sha256Hex } from "../src/auth/tokens";
import {
  beginIdempotentRequest,
  finishIdempotentRequest,
  recordStartedRun,
  requestFingerprint,
} from "../src/services/idempotency";
import { ADMIN_TOKEN, bootTenant, call, createSuiteWithCase } from "./helpers/api";
import { eventually } from "./helpers/wait";

const PASSING = [
  { action: "goto", url: "/" },
  { action: "expectTitle", title: "Home" },
];
/** A case that takes about three seconds, then fails: time for a retry to arrive mid-run. */
const SLOW_FAILING = [
  { action: "goto", url: "/" },
  { action: "waitFor", target: { css: "#never" }, timeoutMs: 3000 },
];

const newKey = () => `ci-${crypto.randomUUID()}`;
const withKey = (key: string) => ({ "Idempotency-Key": key });
const db = () => createDb(env.DB);

async function tokenIdOf(token: string) {
  const id = await env.DB.prepare("SELECT id FROM tokens WHERE hash = ?").bind(await sha256Hex(token)).first<string>("id");
  if (!id) throw new Error("token not found");
  return id;
}

const recordOf = (scope: string, key: string) =>
  env.DB.prepare("SELECT * FROM idempotency_keys WHERE scope = ? AND key = ?").bind(scope, key).first<Record<string, unknown>>();

async function projectCount(orgKey: string) {
  return (await call("GET", "/projects", { token: orgKey })).json.totalCount as number;
}

async function runsOf(token: string, projectId: string) {
  return (await call("GET", `/projects/${projectId}/runs`, { token })).json.items as { runId: string }[];
}

/**
 * What a first request leaves behind after claiming its key, before it answers: the state a
 * retry meets while that request is still in flight (or after it died). `at` is when it claimed.
 */
async function claimAsFirstRequest(token: string, key: string, path: string, body: unknown, at = Date.now()) {
  const scope = await tokenIdOf(token);
  const fingerprint = await requestFingerprint("POST", `/api/v1${path}`, JSON.stringify(body));
  const begun = await beginIdempotentRequest({ db: db(), now: () => new Date(at) }, { scope, key, fingerprint, secret: token });
  if (begun.kind !== "claimed") throw new Error(`expected a claim, got ${begun.kind}`);
  return begun.claim;
}

describe("a retried POST with the same Idempotency-Key", () => {
  it("answers the first response again, marked Idempotent-Replayed, and creates nothing new", async () => {
    const t = await bootTenant();
    const key = newKey();
    const body = { name: "Checkout", baseUrl: "https://shop.example.com" };
    const first = await call("POST", "/projects", { token: t.orgKey, body, headers: withKey(key) });
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();

    const again = await call("POST", "/projects", { token: t.orgKey, body, headers: withKey(key) });
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(again.headers.get("content-type")).toBe(first.headers.get("content-type"));
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    // The draft's structured-field spelling ("…") names the same key.
    const quoted = await call("POST", "/projects", { token: t.orgKey, body, headers: withKey(`"${key}"`) });
    expect(quoted.text).toBe(first.text);
    expect(quoted.headers.get("idempotent-replayed")).toBe("true");

    const names = (await call("GET", "/projects", { token: t.orgKey })).json.items.map((p: { name: string }) => p.name);
    expect(names.filter((n: string) => n === "Checkout")).toHaveLength(1);
  });

  it("with another body answers 422 idempotency.key_reused and creates nothing", async () => {
    const t = await bootTenant();
    const key = newKey();
    await call("POST", "/projects", { token: t.orgKey, body: { name: "One" }, headers: withKey(key) });
    const before = await projectCount(t.orgKey);
    const other = await call("POST", "/projects", { token: t.orgKey, body: { name: "Two" }, headers: withKey(key) });
    expect(other.status).toBe(422);
    expect(other.json).toMatchObject({ code: "idempotency.key_reused", details: { key } });
    expect(other.json.error).toEqual(expect.any(String));
    // Another path with the same key and body is another request too.
    const elsewhere = await call("POST", `/projects/${t.projectId}/suites`, { token: t.orgKey, body: { name: "One" }, headers: withKey(key) });
    expect(elsewhere.status).toBe(422);
    expect(await projectCount(t.orgKey)).toBe(before);
  });

  it("is refused with 400 idempotency.invalid_key when the key is longer than 255 characters or empty", async () => {
    const t = await bootTenant();
    const before = await projectCount(t.orgKey);
    const long = await call("POST", "/projects", { token: t.orgKey, body: { name: "Long" }, headers: withKey("k".repeat(256)) });
    expect(long.status).toBe(400);
    expect(long.json).toMatchObject({ code: "idempotency.invalid_key", details: { maxLength: 255 } });
    const empty = await call("POST", "/projects", { token: t.orgKey, body: { name: "Empty" }, headers: withKey("") });
    expect(empty.status).toBe(400);
    expect(empty.json.code).toBe("idempotency.invalid_key");
    expect(await projectCount(t.orgKey)).toBe(before);
    const longest = await call("POST", "/projects", { token: t.orgKey, body: { name: "Longest" }, headers: withKey("k".repeat(255)) });
    expect(longest.status).toBe(201);
  });

  it("is scoped to the token: the same key and body from two tokens are two requests", async () => {
    const a = await bootTenant("pro", "Alpha");
    const b = await bootTenant("pro", "Beta");
    const key = "deploy-42";
    const body = { name: "Same" };
    const fromA = await call("POST", "/projects", { token: a.orgKey, body, headers: withKey(key) });
    const fromB = await call("POST", "/projects", { token: b.orgKey, body, headers: withKey(key) });
    expect([fromA.status, fromB.status]).toEqual([201, 201]);
    expect(fromB.json.id).not.toBe(fromA.json.id);
    expect(fromB.headers.get("idempotent-replayed")).toBeNull();
    const fromAAgain = await call("POST", "/projects", { token: a.orgKey, body, headers: withKey(key) });
    expect([fromAAgain.json.id, fromAAgain.headers.get("idempotent-replayed")]).toEqual([fromA.json.id, "true"]);
    // Two tokens of one organization, one project.
    const suiteBody = { name: "Smoke" };
    const byOrgKey = await call("POST", `/projects/${a.projectId}/suites`, { token: a.orgKey, body: suiteBody, headers: withKey("suite-1") });
    const byCiToken = await call("POST", `/projects/${a.projectId}/suites`, { token: a.ciToken, body: suiteBody, headers: withKey("suite-1") });
    expect([byOrgKey.status, byCiToken.status]).toEqual([201, 201]);
    expect(byCiToken.json.id).not.toBe(byOrgKey.json.id);
  });

  it("on POST /orgs replays the organization with its usable key, which is stored only sealed", async () => {
    const key = newKey();
    const body = { name: "Replayed Org", plan: "starter" };
    const first = await call("POST", "/orgs", { token: ADMIN_TOKEN, body, headers: withKey(key) });
    expect(first.status).toBe(201);
    const again = await call("POST", "/orgs", { token: ADMIN_TOKEN, body, headers: withKey(key) });
    expect(again.text).toBe(first.text);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await call("GET", "/projects", { token: again.json.apiKey })).status).toBe(200);

    const record = await recordOf("admin", key);
    expect(record?.response_status).toBe(201);
    expect(String(record?.response_body)).not.toContain(first.json.apiKey);
    expect(String(record?.response_body)).not.toContain("Replayed Org");
    // Without the operator's secret there is no replay to read.
    const stranger = await call("POST", "/orgs", { token: "not-the-admin-token", body, headers: withKey(key) });
    expect(stranger.status).toBe(401);
    expect(stranger.text).not.toContain(first.json.apiKey);
  });

  it("treats a record older than 24 hours as absent, and purges expired records", async () => {
    const t = await bootTenant();
    const key = newKey();
    const dayAgo = Date.now() - 24 * 3600 * 1000 - 60_000;
    const old = await claimAsFirstRequest(t.orgKey, key, "/projects", { name: "Yesterday" }, dayAgo);
    await finishIdempotentRequest({ db: db() }, old, { status: 201, headers: {}, body: "{}" });
    const forgotten = await claimAsFirstRequest(t.orgKey, newKey(), "/projects", { name: "Forgotten" }, dayAgo);
    const today = await call("POST", "/projects", { token: t.orgKey, body: { name: "Today" }, headers: withKey(key) });
    expect(today.status).toBe(201);
    expect(today.json.name).toBe("Today");
    expect(today.headers.get("idempotent-replayed")).toBeNull();
    // The key now belongs to today's request.
    const yesterdayAgain = await call("POST", "/projects", { token: t.orgKey, body: { name: "Yesterday" }, headers: withKey(key) });
    expect(yesterdayAgain.json.code).toBe("idempotency.key_reused");
    // A fresh claim purges expired records after answering (waitUntil).
    await eventually(async () => (await recordOf(forgotten.scope, forgotten.key)) === null, {
      what: "the expired record to be purged",
      timeoutMs: 5_000,
      intervalMs: 20,
    });
  });
});

describe("a retry while the first request is in flight", () => {
  // A non-run POST finishes in milliseconds, so no real request stays in flight long enough to be
  // met deterministically: the first request's claim is made with the service the middleware uses.
  it("answers 409 idempotency.in_flight with Retry-After, and does not run the request", async () => {
    const t = await bootTenant();
    const key = newKey();
    const body = { name: "Racing" };
    await claimAsFirstRequest(t.orgKey, key, "/projects", body);
    const before = await projectCount(t.orgKey);
    const retry = await call("POST", "/projects", { token: t.orgKey, body, headers: withKey(key) });
    expect(retry.status).toBe(409);
    expect(retry.json).toMatchObject({ code: "idempotency.in_flight", details: { key } });
    expect(retry.headers.get("retry-after")).toBe("1");
    expect(await projectCount(t.orgKey)).toBe(before);
  });

  it("answers 409 for a trigger whose first request has not started its run yet, rather than starting one", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, PASSING);
    const key = newKey();
    await claimAsFirstRequest(t.ciToken, key, "/ci/trigger", { wait: true });
    const retry = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true }, headers: withKey(key) });
    expect(retry.status).toBe(409);
    expect(retry.json.code).toBe("idempotency.in_flight");
    expect(await runsOf(t.ciToken, t.projectId)).toHaveLength(0);
  });

  it("takes over a claim abandoned for over a minute by a request that died", async () => {
    const t = await bootTenant();
    const key = newKey();
    const body = { name: "Orphan" };
    await claimAsFirstRequest(t.orgKey, key, "/projects", body, Date.now() - 61_000);
    const retry = await call("POST", "/projects", { token: t.orgKey, body, headers: withKey(key) });
    expect(retry.status).toBe(201);
    expect(retry.json.name).toBe("Orphan");
    const again = await call("POST", "/projects", { token: t.orgKey, body, headers: withKey(key) });
    expect([again.text, again.headers.get("idempotent-replayed")]).toEqual([retry.text, "true"]);
  });

  it("lets exactly one of five identical concurrent requests run; the others answer 409 or its replay", async () => {
    const t = await bootTenant();
    const key = newKey();
    const body = { name: "Burst" };
    const before = await projectCount(t.orgKey);
    const answers = await Promise.all(Array.from({ length: 5 }, () => call("POST", "/projects", { token: t.orgKey, body, headers: withKey(key) })));
    const ran = answers.filter((a) => a.status === 201 && a.headers.get("idempotent-replayed") === null);
    expect(ran).toHaveLength(1);
    for (const other of answers.filter((a) => a !== ran[0])) {
      if (other.status === 409) expect(other.json.code).toBe("idempotency.in_flight");
      else expect([other.status, other.text, other.headers.get("idempotent-replayed")]).toEqual([201, ran[0].text, "true"]);
    }
    expect(await projectCount(t.orgKey)).toBe(before + 1);
  });
});

describe("a CI job retrying a trigger", () => {
  it("attaches a retried wait: true trigger to the run the first request started, and both answer how it ended", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, SLOW_FAILING);
    const key = newKey();
    const scope = await tokenIdOf(t.ciToken);
    const firstAnswer = call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true }, headers: withKey(key) });
    // The retry comes once the first request has started its run (a network error after that point).
    const runId = await eventually(async () => (await recordOf(scope, key))?.run_id, {
      what: "the first request's key to name the run it started",
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    expect(runId).toEqual(expect.any(String));
    const retried = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true }, headers: withKey(key) });
    const first = await firstAnswer;

    expect(first.status).toBe(422);
    expect(first.json).toMatchObject({ runId, status: "failed", code: "run.failed" });
    expect(retried.status).toBe(422);
    expect(retried.json).toMatchObject({ runId, status: "failed", code: "run.failed", failed: 1 });
    expect(retried.headers.get("idempotent-replayed")).toBe("true");
    expect((await runsOf(t.ciToken, t.projectId)).map((r) => r.runId)).toEqual([runId]);

    const later = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true }, headers: withKey(key) });
    expect([later.status, later.json.runId, later.headers.get("idempotent-replayed")]).toEqual([422, runId, "true"]);
    expect(await runsOf(t.ciToken, t.projectId)).toHaveLength(1);
  });

  it("replays a settled trigger (Location included) and a settled suite run without starting a run", async () => {
    const t = await bootTenant();
    const { suiteId } = await createSuiteWithCase(t.ciToken, t.projectId, PASSING);
    const key = newKey();
    const queued = await call("POST", "/ci/trigger", { token: t.ciToken, body: {}, headers: withKey(key) });
    expect(queued.status).toBe(202);
    const queuedAgain = await call("POST", "/ci/trigger", { token: t.ciToken, body: {}, headers: withKey(key) });
    expect([queuedAgain.status, queuedAgain.text]).toEqual([202, queued.text]);
    expect(queuedAgain.headers.get("location")).toBe(`/api/v1/ci/runs/${queued.json.runId}`);
    expect(queuedAgain.headers.get("idempotent-replayed")).toBe("true");

    const suiteKey = newKey();
    const passed = await call("POST", `/suites/${suiteId}/run`, { token: t.ciToken, body: { wait: true }, headers: withKey(suiteKey) });
    expect(passed.status).toBe(200);
    const passedAgain = await call("POST", `/suites/${suiteId}/run`, { token: t.ciToken, body: { wait: true }, headers: withKey(suiteKey) });
    expect([passedAgain.status, passedAgain.text, passedAgain.headers.get("idempotent-replayed")]).toEqual([200, passed.text, "true"]);
    expect(await runsOf(t.ciToken, t.projectId)).toHaveLength(2);
  });

  it("does not store a 5xx: after 502 run.error a retry with the same key runs again", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, PASSING);
    const key = newKey();
    const body = { wait: true, baseUrl: "http://127.0.0.1:65531/" };
    const scope = await tokenIdOf(t.ciToken);
    const firstAnswer = call("POST", "/ci/trigger", { token: t.ciToken, body, headers: withKey(key) });
    // While it runs, the key is held and names its run…
    const held = await eventually(async () => (await recordOf(scope, key))?.run_id, {
      what: "the first request's key to name the run it started",
      timeoutMs: 5_000,
      intervalMs: 10,
    });
    const first = await firstAnswer;
    expect(held).toBe(first.json.runId);
    expect(first.status).toBe(502);
    expect(first.json.code).toBe("run.error");
    // …and once the run has settled as error the 502 releases it.
    expect(await recordOf(scope, key)).toBeNull();
    const retry = await call("POST", "/ci/trigger", { token: t.ciToken, body, headers: withKey(key) });
    expect(retry.status).toBe(502);
    expect(retry.json.runId).not.toBe(first.json.runId);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    expect(await runsOf(t.ciToken, t.projectId)).toHaveLength(2);
  });

  it("keeps the key on a run that is still going when the first answer was a 5xx (a wait timeout), so a retry waits on it", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, SLOW_FAILING);
    const started = await call("POST", "/ci/trigger", { token: t.ciToken, body: {} });
    const runId = started.json.runId as string;
    // The first request started that run and answered 504 run.wait_timeout: we cannot wait ten
    // minutes in a test, so its claim, its run and its 5xx answer go through the service.
    const key = newKey();
    const claim = await claimAsFirstRequest(t.ciToken, key, "/ci/trigger", { wait: true });
    await recordStartedRun({ db: db() }, claim, runId);
    await finishIdempotentRequest({ db: db() }, claim, { status: 504, headers: {}, body: "" });
    expect((await recordOf(claim.scope, key))?.run_id).toBe(runId);

    const retry = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true }, headers: withKey(key) });
    expect(retry.status).toBe(422);
    expect(retry.json).toMatchObject({ runId, status: "failed" });
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(await runsOf(t.ciToken, t.projectId)).toHaveLength(1);
  });
});
