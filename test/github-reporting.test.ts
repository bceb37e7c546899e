// Reporting to GitHub, against a local stand-in of its REST API (test/fixtures/github-stand-in.mjs)
// reached through GITHUB_API_URL: every request it received is asserted, method, path, headers
// and body, across runs of one pull request.
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { keyRingFrom, seal } from "../src/auth/secrets";
import { createDb } from "../src/db/client";
import { insertRun } from "../src/db/runs";
import { uuidv7 } from "../src/ids";
import { bootTenant, call, createSuiteWithCase, fixtureOrigin } from "./helpers/api";
import { deliver } from "./helpers/queue";
import { eventually } from "./helpers/wait";

type Recorded = { repo: string; method: string; path: string; headers: Record<string, string | null>; body: any; createdId?: number };

const GITHUB_HEADERS = (token: string) => ({
  authorization: `Bearer ${token}`,
  accept: "application/vnd.github+json",
  "x-github-api-version": "2022-11-28",
  "user-agent": "aegisrunner",
});

async function received(repo: string): Promise<Recorded[]> {
  const res = await fetch(`${env.GITHUB_API_URL}/__requests?repo=${encodeURIComponent(repo)}`);
  return res.json();
}

const uniqueRepo = (owner = "acme") => `${owner}/web-${crypto.randomUUID().slice(0, 8)}`;
const sha = () => [...crypto.getRandomValues(new Uint8Array(20))].map((b) => b.toString(16).padStart(2, "0")).join("");

const PASSING = [{ action: "goto", url: "/" }, { action: "expectTitle", title: "Home" }];
const FAILING = [{ action: "goto", url: "/" }, { action: "expectText", target: { css: "h1" }, text: "Goodbye", timeoutMs: 300 }];

async function triggerForPr(ciToken: string, fields: Record<string, unknown>) {
  const res = await call("POST", "/ci/trigger", { token: ciToken, body: { wait: true, ...fields } });
  expect([200, 422], res.text).toContain(res.status);
  return res.json;
}

/** Waits until the repository received the run's final status and (when asked) its comment. */
async function reportsOf(repo: string, commitSha: string, expectComment: boolean) {
  return eventually(
    async () => {
      const requests = await received(repo);
      const statuses = requests.filter((r) => r.path === `/repos/${repo}/statuses/${commitSha}`);
      const final = statuses.some((r) => r.body.state !== "pending");
      const commented = requests.some((r) => r.method !== "GET" && r.path.includes("/comments"));
      return final && (!expectComment || commented) && requests;
    },
    { what: `GitHub reports for ${repo}@${commitSha.slice(0, 7)}`, timeoutMs: 20_000, intervalMs: 200 },
  );
}

describe("GitHub commit statuses and the sticky PR comment", () => {
  it("sets pending then success, comments once, and the next run of the PR updates that same comment", async () => {
    const t = await bootTenant();
    // A slow first page: the run is still going when its pending status is sent.
    await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/slow?ms=2500" }, ...PASSING], "home page");
    const repo = uniqueRepo();
    const token = `ghp_${crypto.randomUUID().replaceAll("-", "")}`;
    // Somebody else's comment on the PR is left alone.
    await fetch(`${env.GITHUB_API_URL}/__comments`, { method: "POST", body: JSON.stringify({ repo, pr: 7, body: "LGTM" }) });

    const first = sha();
    const run1 = await triggerForPr(t.ciToken, { githubRepo: repo, githubPrNumber: 7, githubCommitSha: first, githubToken: token });
    expect(run1.status).toBe("passed");
    const afterFirst = await reportsOf(repo, first, true);

    const statuses = afterFirst.filter((r) => r.path.includes("/statuses/"));
    expect(statuses.map((r) => r.body.state)).toEqual(["pending", "success"]);
    for (const status of statuses) {
      expect(status).toMatchObject({ method: "POST", path: `/repos/${repo}/statuses/${first}`, headers: { ...GITHUB_HEADERS(token), "content-type": "application/json" } });
      expect(status.body).toEqual({ state: status.body.state, target_url: run1.url, description: expect.any(String), context: "aegisrunner" });
    }
    expect(statuses[0].body.description).toMatch(/^Aegis: (Queued|Running)$/);
    expect(statuses[1].body.description).toBe("Aegis: 1 passed");

    const comments = afterFirst.filter((r) => r.path.includes("/comments"));
    expect(comments.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /repos/${repo}/issues/7/comments?per_page=30&page=1`,
      `POST /repos/${repo}/issues/7/comments`,
    ]);
    const body1: string = comments[1].body.body;
    expect(body1).toContain(`<!-- aegisrunner:project=${t.projectId} -->`);
    expect(body1).toContain("✅ **Aegis: all tests passed**");
    expect(body1).toContain(`[run ${run1.runId.slice(0, 8)}](${run1.url})`);
    expect(body1).toContain("| 1 | 0 | 0 | 0 | 1 |");

    // The run records what became of each report.
    const shown = await call("GET", `/ci/runs/${run1.runId}`, { token: t.ciToken });
    expect(shown.json.notifications).toEqual([
      { target: "github", kind: "comment", ok: true, status: 201, message: "Comment posted", attempts: 1 },
      { target: "github", kind: "status", ok: true, status: 201, message: "Commit status set (GitHub answered 201)", attempts: 1 },
    ]);

    // A second push to the same PR: new statuses on the new commit, the same comment edited.
    const second = sha();
    const run2 = await triggerForPr(t.ciToken, { githubRepo: repo, githubPrNumber: 7, githubCommitSha: second, githubToken: token });
    const afterSecond = (await reportsOf(repo, second, true)).slice(afterFirst.length);
    await eventually(async () => (await received(repo)).some((r) => r.method === "PATCH"), { what: "the comment to be updated" });
    const all = await received(repo);
    // The comment's id is known from the first run: edited straight away, no listing.
    const edits = all.slice(afterFirst.length).filter((r) => r.path.includes("/comments"));
    expect(edits.map((r) => `${r.method} ${r.path}`)).toEqual([`PATCH /repos/${repo}/issues/comments/${comments[1].createdId}`]);
    expect(edits[0].body.body).toContain(`[run ${run2.runId.slice(0, 8)}](${run2.url})`);
    expect(all.filter((r) => r.method === "POST" && r.path.endsWith("/issues/7/comments"))).toHaveLength(1);
    expect(afterSecond.filter((r) => r.path.includes("/statuses/")).map((r) => r.body.state)).toEqual(["pending", "success"]);

    // A late retry of the first run's comment leaves the second run's comment as it is.
    const ring = await keyRingFrom(env.CREDENTIAL_KEYS);
    const late = { kind: "github", report: "comment", stage: "settled", runId: run1.runId, token: await seal(ring, token, `github-token:${run1.runId}`) };
    expect(await deliver({ id: "late", body: late, attempts: 2 }, "aegis-notify")).toMatchObject({ explicitAcks: ["late"] });
    expect((await received(repo)).slice(all.length)).toEqual([]);
    const kept = await call("GET", `/ci/runs/${run1.runId}`, { token: t.ciToken });
    expect(kept.json.notifications.find((n: any) => n.kind === "comment")).toEqual({
      target: "github", kind: "comment", ok: true, status: 200, message: `Comment kept: it reports a later run (${run2.runId})`, attempts: 2,
    });
  });

  it("reports a failing run as failure, naming the failing test and its reason in the comment", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/slow?ms=1500" }, ...FAILING], "says goodbye to @octocat ![x](https://e.example/p.png)");
    const repo = uniqueRepo();
    const commit = sha();
    const run = await triggerForPr(t.ciToken, { githubRepo: repo, githubPrNumber: 12, githubCommitSha: commit, githubToken: "ghp_failing" });
    expect(run.status).toBe("failed");
    const requests = await reportsOf(repo, commit, true);
    expect(requests.filter((r) => r.path.includes("/statuses/")).map((r) => [r.body.state, r.body.description])).toEqual([
      ["pending", expect.stringMatching(/^Aegis: (Queued|Running)$/)],
      ["failure", "Aegis: 1 failed, 0 passed"],
    ]);
    const comment: string = requests.find((r) => r.method === "POST" && r.path.endsWith("/comments"))!.body.body;
    expect(comment).toContain("❌ **Aegis: tests failed**");
    expect(comment).toContain("**Failing tests** (1 of 1):");
    // What the page under test wrote stays inert: no mention, no image, no table break.
    expect(comment, comment).toMatch(/\| says goodbye to @\u200boctocat \\!\\\[x\\\]\(https:\/\/e\.example\/p\.png\) \| .*Goodbye.* \|/);
    expect(comment).not.toContain("@octocat");
  });

  it("records a refused token on the run without retrying it, and the run's own status stands", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, PASSING);
    const repo = uniqueRepo("badtoken");
    const commit = sha();
    const run = await triggerForPr(t.ciToken, { githubRepo: repo, githubPrNumber: 3, githubCommitSha: commit, githubToken: "ghp_revoked" });
    expect(run.status).toBe("passed");
    const shown = await eventually(
      async () => {
        const res = await call("GET", `/ci/runs/${run.runId}`, { token: t.ciToken });
        return res.json.notifications.length === 2 && res.json.notifications.every((n: any) => n.attempts === 1) && res;
      },
      { what: "both refusals to be recorded", timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(shown.json.status).toBe("passed");
    expect(shown.json.notifications).toEqual([
      { target: "github", kind: "comment", ok: false, status: 401, message: "GitHub answered 401: Bad credentials", attempts: 1 },
      { target: "github", kind: "status", ok: false, status: 401, message: "GitHub answered 401: Bad credentials", attempts: 1 },
    ]);
  });

  it("retries GitHub's 5xx with backoff, then succeeds; honours retry-after on a rate limit", async () => {
    const t = await bootTenant();
    const db = createDb(env.DB);
    const at = new Date().toISOString();
    const insertSettledRun = async (repo: string, commit: string) => {
      const id = uuidv7();
      await insertRun(db, {
        id, orgId: t.orgId, projectId: t.projectId, runType: "manual", status: "passed", browserProfile: "chromium", baseUrl: fixtureOrigin(),
        options: { githubRepo: repo, githubCommitSha: commit }, caseIds: [], createdAt: at, startedAt: at, finishedAt: at, linkOrigin: "https://ci.example.com",
      });
      return id;
    };
    const ring = await keyRingFrom(env.CREDENTIAL_KEYS);

    const flakyRepo = uniqueRepo("flaky");
    const commit = sha();
    const runId = await insertSettledRun(flakyRepo, commit);
    const token = await seal(ring, "ghp_flaky", `github-token:${runId}`);
    const body = { kind: "github", report: "status", stage: "settled", runId, token };
    const recorded = async (id: string) => (await call("GET", `/ci/runs/${id}`, { token: t.ciToken })).json.notifications;
    // The queue's result does not show a retry's delay: the run's record says it.
    expect(await deliver({ id: "n1", body, attempts: 1 }, "aegis-notify")).toMatchObject({ retryMessages: [{ msgId: "n1" }], explicitAcks: [] });
    expect(await recorded(runId)).toEqual([{ target: "github", kind: "status", ok: false, status: 502, message: "GitHub answered 502: Server Error; retrying in 10 s", attempts: 1 }]);
    expect(await deliver({ id: "n1", body, attempts: 2 }, "aegis-notify")).toMatchObject({ retryMessages: [{ msgId: "n1" }] });
    expect((await recorded(runId))[0].message).toBe("GitHub answered 502: Server Error; retrying in 20 s");
    expect(await deliver({ id: "n1", body, attempts: 3 }, "aegis-notify")).toMatchObject({ explicitAcks: ["n1"], retryMessages: [] });
    const posts = (await received(flakyRepo)).filter((r) => r.method === "POST");
    expect(posts).toHaveLength(3);
    expect(posts.every((r) => r.body.state === "success" && r.body.target_url.startsWith(`https://ci.example.com/runs/${runId}?sig=`))).toBe(true);
    const run = await call("GET", `/ci/runs/${runId}`, { token: t.ciToken });
    expect(run.json.notifications).toEqual([{ target: "github", kind: "status", ok: true, status: 201, message: "Commit status set (GitHub answered 201)", attempts: 3 }]);

    const limitedRepo = uniqueRepo("ratelimited");
    const limitedRun = await insertSettledRun(limitedRepo, commit);
    const limitedToken = await seal(ring, "ghp_limited", `github-token:${limitedRun}`);
    const limited = await deliver({ id: "n2", body: { ...body, runId: limitedRun, token: limitedToken } }, "aegis-notify");
    expect(limited).toMatchObject({ retryMessages: [{ msgId: "n2" }] });
    expect(await recorded(limitedRun)).toEqual([
      { target: "github", kind: "status", ok: false, status: 403, message: "GitHub answered 403: You have exceeded a secondary rate limit; retrying in 7 s", attempts: 1 },
    ]);
  });

  it("makes one comment when two runs of a pull request report at the same time", async () => {
    const t = await bootTenant();
    const db = createDb(env.DB);
    const ring = await keyRingFrom(env.CREDENTIAL_KEYS);
    const repo = uniqueRepo();
    const at = new Date().toISOString();
    const messages: { id: string; body: unknown }[] = [];
    for (const n of [1, 2]) {
      const id = uuidv7();
      await insertRun(db, {
        id, orgId: t.orgId, projectId: t.projectId, runType: "manual", status: "passed", browserProfile: "chromium", baseUrl: fixtureOrigin(),
        options: { githubRepo: repo, githubPrNumber: 21 }, caseIds: [], createdAt: at, startedAt: at, finishedAt: at, linkOrigin: null,
      });
      messages.push({ id: `c${n}`, body: { kind: "github", report: "comment", stage: "settled", runId: id, token: await seal(ring, "ghp_pair", `github-token:${id}`) } });
    }
    // Both handled at once: one makes the comment, the other waits for it.
    const results: { explicitAcks: string[]; retryMessages: unknown[] }[] = await Promise.all(messages.map((m) => deliver(m, "aegis-notify")));
    expect(results.flatMap((r) => r.explicitAcks)).toHaveLength(1);
    expect(results.flatMap((r) => r.retryMessages)).toHaveLength(1);
    const waiting = messages[results.findIndex((r) => r.retryMessages.length === 1)];
    expect(await deliver({ ...waiting, attempts: 2 }, "aegis-notify")).toMatchObject({ explicitAcks: [waiting.id] });

    const requests = await received(repo);
    const created = requests.filter((r) => r.method === "POST");
    expect(created).toHaveLength(1);
    expect(requests.filter((r) => r.method === "PATCH").map((r) => r.path)).toEqual([`/repos/${repo}/issues/comments/${created[0].createdId}`]);
  });

  it("keeps the token out of D1, R2 and every answer, and forgets it once the run's reports are queued", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, [...PASSING, { action: "screenshot", name: "home" }]);
    const repo = uniqueRepo();
    const commit = sha();
    const token = `ghp_${crypto.randomUUID().replaceAll("-", "")}`;
    const run = await triggerForPr(t.ciToken, { githubRepo: repo, githubPrNumber: 9, githubCommitSha: commit, githubToken: token });
    await reportsOf(repo, commit, true);

    const tables = await env.DB.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '_cf_%' and name != 'd1_migrations'").all<{ name: string }>();
    for (const { name } of tables.results) {
      const rows = await env.DB.prepare(`select * from "${name}"`).all();
      expect(JSON.stringify(rows.results), `table ${name}`).not.toContain(token);
    }
    const objects = await env.ARTIFACTS.list();
    expect(objects.objects.length).toBeGreaterThan(0);
    for (const object of objects.objects) {
      const text = new TextDecoder().decode(await (await env.ARTIFACTS.get(object.key))!.arrayBuffer());
      expect(text, object.key).not.toContain(token);
    }
    for (const path of [`/ci/runs/${run.runId}`, `/runs/${run.runId}`, `/projects/${t.projectId}/runs`]) {
      expect((await call("GET", path, { token: t.ciToken })).text).not.toContain(token);
    }
    expect(JSON.stringify(run)).not.toContain(token);
    const tracker = env.RUN_TRACKER.get(env.RUN_TRACKER.idFromName(run.runId));
    expect(await tracker.heldSecret()).toBeNull();
  });

  it("answers 400 naming what is missing when the GitHub fields do not go together", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, PASSING);
    const cases: [Record<string, unknown>, string][] = [
      [{ githubRepo: "acme/web", githubPrNumber: 4 }, "githubToken"],
      [{ githubPrNumber: 4, githubToken: "ghp_x" }, "githubRepo"],
      [{ githubRepo: "acme/web", githubToken: "ghp_x" }, "githubPrNumber"],
      [{ githubRepo: "not a repo", githubPrNumber: 4, githubToken: "ghp_x" }, "githubRepo"],
      [{ githubRepo: "acme/web", githubPrNumber: 0, githubToken: "ghp_x" }, "githubPrNumber"],
      [{ githubRepo: "../x", githubPrNumber: 4, githubToken: "ghp_x" }, "githubRepo"],
      [{ githubRepo: "acme/..", githubPrNumber: 4, githubToken: "ghp_x" }, "githubRepo"],
    ];
    for (const [fields, named] of cases) {
      const res = await call("POST", "/ci/trigger", { token: t.ciToken, body: fields });
      expect(res.status, JSON.stringify(fields)).toBe(400);
      expect(res.json.code).toBe("request.invalid");
      expect(res.json.details.issues.map((i: any) => i.path), JSON.stringify(fields)).toContain(named);
    }
  });
});
