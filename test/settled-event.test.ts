// "A run or a crawl settled" reaches every listener, whichever path settled it: a route (cancel),
// the queue consumer (a redelivery announces again), or the tracker's watchdog alarm. The
// crawl: true run waiting for its crawl is the listener these tests watch.
import { describe, expect, it } from "vitest";
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createDb } from "../src/db/client";
import { insertRun, type RunRow } from "../src/db/runs";
import { insertCrawl, type CrawlRow } from "../src/db/crawls";
import { uuidv7 } from "../src/ids";
import { fanOut, type SettledWork } from "../src/services/settled";
import { bootTenant, call, fixtureOrigin } from "./helpers/api";
import { deliver } from "./helpers/queue";
import { eventually } from "./helpers/wait";

const db = () => createDb(env.DB);
const trackerOf = (id: string) => env.RUN_TRACKER.get(env.RUN_TRACKER.idFromName(id));

/** A crawl: true run still queued behind its crawl, the crawl in the given status. */
async function runWaitingForCrawl(t: { orgId: string; projectId: string }, crawlStatus: CrawlRow["status"]) {
  const at = new Date().toISOString();
  const run: RunRow = {
    id: uuidv7(), orgId: t.orgId, projectId: t.projectId, runType: "manual", status: "queued", browserProfile: "chromium",
    baseUrl: fixtureOrigin(), options: { crawl: true }, caseIds: [], passed: 0, failed: 0, skipped: 0, errorMessage: null,
    createdAt: at, startedAt: null, finishedAt: null, linkOrigin: null,
  };
  await insertRun(db(), run);
  const crawl: CrawlRow = {
    id: uuidv7(), orgId: t.orgId, projectId: t.projectId, runId: run.id, name: "Crawl before the run", status: crawlStatus, scanMode: "quick",
    settings: { baseUrl: fixtureOrigin(), maxPages: 1, maxDepth: 0, timeBudgetMs: 10_000, concurrency: 1, device: "desktop", fillForms: false, respectRobots: true, generateTests: false },
    roles: [{ label: "anonymous", type: "anonymous" }], pagesVisited: 0, pagesFailed: 0, brokenLinks: 0, errorMessage: null,
    createdAt: at, startedAt: crawlStatus === "queued" ? null : at, finishedAt: crawlStatus === "completed" ? at : null,
  };
  await insertCrawl(db(), crawl, []);
  await trackerOf(run.id).arm(run.id, 60_000, "run");
  return { runId: run.id, crawlId: crawl.id };
}

describe("the settled event", () => {
  it("reaches the waiting run when the watchdog alarm ends a crawl whose worker died", async () => {
    const t = await bootTenant();
    const { runId, crawlId } = await runWaitingForCrawl(t, "running");
    await trackerOf(crawlId).arm(crawlId, 60_000, "crawl");
    const waiter = trackerOf(runId).waitForSettle(30_000);

    expect(await runDurableObjectAlarm(trackerOf(crawlId))).toBe(true);

    const crawl = await call("GET", `/crawls/${crawlId}`, { token: t.ciToken });
    expect(crawl.json).toMatchObject({ status: "failed", errorMessage: expect.stringMatching(/watchdog/) });
    expect(await waiter).toBe("error");
    const run = await call("GET", `/ci/runs/${runId}`, { token: t.ciToken });
    expect(run.json).toMatchObject({ status: "error", errorMessage: expect.stringMatching(/^The crawl before the run failed: The crawl stopped making progress/) });
  });

  it("reaches the waiting run when a person cancels its crawl", async () => {
    const t = await bootTenant();
    const { runId, crawlId } = await runWaitingForCrawl(t, "running");
    const waiter = trackerOf(runId).waitForSettle(30_000);

    const cancelled = await call("POST", `/crawls/${crawlId}/cancel`, { token: t.orgKey });
    expect(cancelled.json.status).toBe("cancelled");
    expect(await waiter).toBe("cancelled");
    expect((await call("GET", `/ci/runs/${runId}`, { token: t.ciToken })).json).toMatchObject({ status: "cancelled", errorMessage: null });
  });

  it("is announced again when a redelivered message finds the crawl settled, so a lost announcement does not strand the run", async () => {
    const t = await bootTenant();
    // The crawl completed, but its announcement was lost: the run is still queued behind it.
    const { runId, crawlId } = await runWaitingForCrawl(t, "completed");
    const result = await deliver({ id: "redelivered", body: { kind: "crawl", id: crawlId }, attempts: 2 });
    expect(result).toMatchObject({ explicitAcks: ["redelivered"], retryMessages: [] });

    // The listener queued the run, which runs (the project has no cases: it passes empty).
    const run = await eventually(
      async () => {
        const res = await call("GET", `/ci/runs/${runId}`, { token: t.ciToken });
        return !["queued", "running"].includes(res.json.status) && res;
      },
      { what: `run ${runId} to settle`, timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(run.json).toMatchObject({ status: "passed", total: 0 });
  });

  it("runs every listener even when one fails, then fails naming it", async () => {
    const heard: string[] = [];
    const announce = fanOut([
      { name: "first", handle: async () => void heard.push("first") },
      { name: "broken", handle: async () => { throw new Error("receiver down"); } },
      { name: "last", handle: async () => void heard.push("last") },
    ]);
    const work = { kind: "run", run: { id: "r1", status: "passed" } } as unknown as SettledWork;
    await expect(announce(work)).rejects.toThrow(/settled run r1: broken failed/);
    expect(heard).toEqual(["first", "last"]);
  });
});
