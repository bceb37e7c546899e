import { describe, expect, it } from "vitest";
import { createExecutionContext, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createApp } from "../src/app";
import { sha256Hex } from "../src/auth/tokens";
import { IP_LIMIT, type RateLimiter } from "../src/durable/rate-limiter";
import { bootTenant, call, createSuiteWithCase } from "./helpers/api";

// Ahead of the real clock, so budget spent while setting up (at real time) is already refilled.
const T0 = Date.now() + 3_600_000;

/** Stops the token's limiter clock at `at` (ms): admissions then depend only on what the test sends. */
async function setLimiterClock(token: string, at: number) {
  const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`token:${await sha256Hex(token)}`));
  await runInDurableObject(stub, (instance: RateLimiter) => {
    instance.now = () => at;
  });
}

async function burstOf(token: string, path: string, count: number) {
  const answers = await Promise.all(Array.from({ length: count }, () => call("GET", path, { token })));
  return { ok: answers.filter((a) => a.status === 200).length, refused: answers.filter((a) => a.status === 429), answers };
}

describe("per-token rate limits", () => {
  for (const [plan, burst] of [["free", 10], ["starter", 20]] as const) {
    it(`admit exactly the ${plan} plan's burst of ${burst} out of 60 concurrent requests`, async () => {
      const t = await bootTenant(plan);
      await setLimiterClock(t.ciToken, T0);
      const { ok, refused } = await burstOf(t.ciToken, `/projects/${t.projectId}`, 60);
      expect(ok).toBe(burst);
      expect(refused).toHaveLength(60 - burst);
    });
  }

  it("do not share a budget between two tokens", async () => {
    const t = await bootTenant("free");
    await setLimiterClock(t.ciToken, T0);
    await setLimiterClock(t.orgKey, T0);
    expect((await burstOf(t.ciToken, `/projects/${t.projectId}`, 15)).ok).toBe(10);
    expect((await burstOf(t.orgKey, `/projects/${t.projectId}`, 15)).ok).toBe(10);
  });

  it("answer 429 with Retry-After and the error shape, and admit again once that time has passed", async () => {
    const t = await bootTenant("free");
    await setLimiterClock(t.ciToken, T0);
    await burstOf(t.ciToken, "/projects", 10);
    const refused = await call("GET", "/projects", { token: t.ciToken });
    expect(refused.status).toBe(429);
    expect(refused.json).toEqual({
      error: "Rate limit of 100 requests per minute exceeded",
      code: "rate_limit.exceeded",
      details: { limit: 100, retryAfterSeconds: 1 },
    });
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.headers.get("x-ratelimit-limit")).toBe("100");
    expect(refused.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(Number(refused.headers.get("x-ratelimit-reset"))).toBe(6); // the full burst of 10 back after 6 s

    await setLimiterClock(t.ciToken, T0 + 1000);
    expect((await call("GET", "/projects", { token: t.ciToken })).status).toBe(200);
    expect((await call("GET", "/projects", { token: t.ciToken })).status).toBe(429);
  });

  it("refill at the plan's rate: 100 a minute is one every 600 ms, up to the burst", async () => {
    const t = await bootTenant("free");
    await setLimiterClock(t.ciToken, T0);
    expect((await burstOf(t.ciToken, "/projects", 12)).ok).toBe(10);
    await setLimiterClock(t.ciToken, T0 + 3000);
    expect((await burstOf(t.ciToken, "/projects", 12)).ok).toBe(5);
    await setLimiterClock(t.ciToken, T0 + 3000 + 60_000);
    expect((await burstOf(t.ciToken, "/projects", 12)).ok).toBe(10);
  });

  it("let the contract's backoff client (1, 2, 4, 8 s, honouring Retry-After) through once it waited what it was told", async () => {
    const t = await bootTenant("free");
    let clock = T0;
    await setLimiterClock(t.ciToken, clock);
    await burstOf(t.ciToken, "/projects", 10);
    for (let round = 0; round < 5; round++) {
      let attempt = 0;
      for (;;) {
        const res = await call("GET", "/projects", { token: t.ciToken });
        if (res.status === 200) break;
        expect(res.status).toBe(429);
        expect(attempt).toBe(0); // never refused after waiting what it was told
        clock += Math.max(Number(res.headers.get("retry-after")), 2 ** attempt) * 1000;
        attempt++;
        await setLimiterClock(t.ciToken, clock);
      }
    }
  });

  it("report the budget on every admitted answer", async () => {
    const t = await bootTenant("starter");
    await setLimiterClock(t.ciToken, T0);
    const first = await call("GET", "/projects", { token: t.ciToken });
    expect(first.headers.get("x-ratelimit-limit")).toBe("200");
    expect(first.headers.get("x-ratelimit-remaining")).toBe("19");
    expect(first.headers.get("x-ratelimit-reset")).toBe("1");
    const second = await call("GET", "/projects", { token: t.ciToken });
    expect(second.headers.get("x-ratelimit-remaining")).toBe("18");
    const missing = await call("GET", "/ci/runs/01a00000-0000-7000-8000-000000000000", { token: t.ciToken });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("x-ratelimit-remaining")).toBe("17");
  });

  it("never limit Enterprise, and send no limit headers for it", async () => {
    const t = await bootTenant("enterprise");
    await setLimiterClock(t.ciToken, T0);
    const { ok, answers } = await burstOf(t.ciToken, "/projects", 150);
    expect(ok).toBe(150);
    expect(answers[0].headers.get("x-ratelimit-limit")).toBeNull();
  });
});

describe("unauthenticated requests", () => {
  it("are limited per client IP, so guessing tokens is slow", async () => {
    const guesses = await Promise.all(
      Array.from({ length: 14 }, () => call("GET", "/projects", { token: "aegis_guess", headers: { "cf-connecting-ip": "203.0.113.7" } })),
    );
    expect(guesses.filter((g) => g.status === 401)).toHaveLength(10);
    const refused = guesses.filter((g) => g.status === 429);
    expect(refused).toHaveLength(4);
    expect(refused[0].json.code).toBe("rate_limit.exceeded");
    // The burst spent, one more guess is admitted every 60 / perMinute seconds (2 s).
    const retryAfter = Number(refused[0].headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60 / IP_LIMIT.perMinute);
    const otherIp = await call("GET", "/projects", { token: "aegis_guess", headers: { "cf-connecting-ip": "203.0.113.8" } });
    expect(otherIp.status).toBe(401);
  });

  it("include wrong admin secrets", async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        call("POST", "/orgs", { token: "wrong", body: { name: "x", plan: "free" }, headers: { "cf-connecting-ip": "203.0.113.9" } }),
      ),
    );
    expect(answers.filter((a) => a.status === 401)).toHaveLength(10);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(2);
  });
});

describe("when the rate limiter cannot be reached", () => {
  // A namespace of another class: every call to the limiter fails, as an unreachable object would.
  const brokenEnv = () => ({ ...env, RATE_LIMITER: env.RUN_TRACKER as unknown as typeof env.RATE_LIMITER });

  it("reads go on, authenticated from D1", async () => {
    const t = await bootTenant();
    const res = await createApp().request(`http://localhost/api/v1/projects/${t.projectId}`, { headers: { authorization: `Bearer ${t.ciToken}` } }, brokenEnv(), createExecutionContext());
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ratelimit-limit")).toBeNull();
    const bad = await createApp().request("http://localhost/api/v1/projects", { headers: { authorization: "Bearer aegis_guess" } }, brokenEnv(), createExecutionContext());
    expect(bad.status).toBe(401);
  });

  it("requests that would start a run answer 503 with Retry-After, and start nothing", async () => {
    const t = await bootTenant();
    const { suiteId } = await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/" }]);
    for (const path of ["/api/v1/ci/trigger", `/api/v1/suites/${suiteId}/run`]) {
      const res = await createApp().request(
        `http://localhost${path}`,
        { method: "POST", headers: { authorization: `Bearer ${t.ciToken}`, "content-type": "application/json" }, body: "{}" },
        brokenEnv(),
        createExecutionContext(),
      );
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      expect(((await res.json()) as { code: string }).code).toBe("rate_limit.unavailable");
    }
    expect((await call("GET", `/projects/${t.projectId}/runs`, { token: t.orgKey })).json.totalCount).toBe(0);
  });
});

describe("the hot path", () => {
  it("reads a run in one D1 round trip after the limiter call", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/" }]);
    const run = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true } });
    const poll = await call("GET", `/ci/runs/${run.json.runId}`, { token: t.ciToken });
    expect(poll.status).toBe(200);
    expect(poll.headers.get("server-timing")).toMatch(/d1;dur=\d+;desc="1 queries"/);
    expect(poll.headers.get("x-d1-bookmark")).toBeTruthy();
  });

  it("revoking a token stops it at once, although its limiter had it cached", async () => {
    const t = await bootTenant();
    expect((await call("GET", "/projects", { token: t.ciToken })).status).toBe(200);
    const list = await call("GET", `/projects/${t.projectId}/tokens`, { token: t.orgKey });
    expect((await call("DELETE", `/tokens/${list.json.items[0].id}`, { token: t.orgKey })).status).toBe(204);
    expect((await call("GET", "/projects", { token: t.ciToken })).status).toBe(401);
  });
});
