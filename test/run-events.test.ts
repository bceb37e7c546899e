// A run's events: paged as JSON, live as Server-Sent Events while the run executes (pushed by its
// tracker), resumable with Last-Event-ID, and scoped like the run.
import { describe, expect, it } from "vitest";
import { env, exports } from "cloudflare:workers";
import { bootTenant, call, createSuiteWithCase } from "./helpers/api";

type Frame = { id: number; event: string; data: { id: number; type: string; data: Record<string, any> } };

function parseFrames(text: string): Frame[] {
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("id: "))
    .map((block) => {
      const fields = Object.fromEntries(block.split("\n").map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]));
      return { id: Number(fields.id), event: fields.event, data: JSON.parse(fields.data) };
    });
}

/** Opens the stream and reads it frame by frame, noting the run's status as each frame arrives. */
async function watch(runId: string, token: string, headers: Record<string, string> = {}) {
  const response = await exports.default.fetch(
    new Request(`http://localhost/api/v1/runs/${runId}/events`, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream", ...headers } }),
  );
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const seen: { frame: Frame; runStatus: string }[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    for (const frame of parseFrames(text).slice(seen.length)) {
      const run = await call("GET", `/ci/runs/${runId}`, { token });
      seen.push({ frame, runStatus: run.json.status });
    }
  }
  return seen;
}

describe("run events", () => {
  it("arrive live while the run executes, in order, and the stream ends when it settles; Last-Event-ID resumes", async () => {
    const t = await bootTenant();
    const { suiteId } = await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/slow?ms=1500" }, { action: "expectTitle", title: "Slow" }], "slow page");
    await call("POST", `/suites/${suiteId}/cases`, {
      token: t.ciToken,
      body: { name: "broken heading", steps: [{ action: "goto", url: "/" }, { action: "expectText", target: { css: "h1" }, text: "Goodbye", timeoutMs: 300 }] },
    });
    const started = await call("POST", "/ci/trigger", { token: t.ciToken, body: {} });
    expect(started.status).toBe(202);
    const runId = started.json.runId;

    const seen = await watch(runId, t.ciToken);
    const types = seen.map(({ frame }) => frame.event);
    expect(types).toEqual(["status_changed", "case_started", "case_finished", "case_started", "step_failed", "case_finished", "status_changed"]);
    expect(seen.map(({ frame }) => frame.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Pushed while it ran: the first case's result arrived before the run settled.
    expect(seen[2].runStatus).toBe("running");
    expect(seen.map(({ frame }) => frame.data.data)).toEqual([
      { status: "running" },
      { caseId: expect.any(String), caseName: "slow page", position: 0 },
      { caseId: expect.any(String), caseName: "slow page", status: "passed", durationMs: expect.any(Number), reason: null },
      { caseId: expect.any(String), caseName: "broken heading", position: 1 },
      { caseId: expect.any(String), step: 1, action: "expectText", reason: expect.stringContaining("Goodbye") },
      { caseId: expect.any(String), caseName: "broken heading", status: "failed", durationMs: expect.any(Number), reason: expect.stringContaining("Goodbye") },
      { status: "failed" },
    ]);
    expect(seen[2].frame.data.data.durationMs).toBeGreaterThanOrEqual(1500);

    // Resuming after event 4 replays 5–7 and ends at once: the run has settled.
    const resumed = await watch(runId, t.ciToken, { "last-event-id": "4" });
    expect(resumed.map(({ frame }) => [frame.id, frame.event])).toEqual([[5, "step_failed"], [6, "case_finished"], [7, "status_changed"]]);

    const paged = await call("GET", `/api/v1/runs/${runId}/events?limit=2&offset=5`, { token: t.orgKey });
    expect(paged.json).toMatchObject({ totalCount: 7, limit: 2, offset: 5, items: [{ id: 6, type: "case_finished" }, { id: 7, type: "status_changed", data: { status: "failed" } }] });

    const bad = await call("GET", `/api/v1/runs/${runId}/events`, { token: t.ciToken, headers: { accept: "text/event-stream", "last-event-id": "soon" } });
    expect(bad.status).toBe(400);
    const other = await bootTenant("pro", "Globex");
    expect((await call("GET", `/api/v1/runs/${runId}/events`, { token: other.ciToken })).status).toBe(404);
    expect((await call("GET", `/api/v1/runs/${runId}/events`, { token: other.ciToken, headers: { accept: "text/event-stream" } })).status).toBe(404);
  });

  it("carry a failing case's console lines in a bounded log event", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: `${env.CRAWL_ORIGIN}/console-error` }, { action: "expectNoConsoleErrors" }], "noisy page");
    const run = await call("POST", "/ci/trigger", { token: t.ciToken, body: { wait: true } });
    expect(run.json.status).toBe("failed");
    const events = await call("GET", `/api/v1/runs/${run.json.runId}/events`, { token: t.ciToken });
    const log = events.json.items.find((e: any) => e.type === "log");
    expect(log.data.lines.length).toBeGreaterThan(0);
    expect(log.data.lines.length).toBeLessThanOrEqual(50);
    expect(log.data.lines.some((line: string) => line.startsWith("error: "))).toBe(true);
  });
});

describe("run events on a WebSocket", () => {
  it("carries the same events, live, and closes when the run settles; lastEventId resumes", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/slow?ms=1200" }, { action: "expectTitle", title: "Slow" }], "slow page");
    const started = await call("POST", "/ci/trigger", { token: t.ciToken, body: {} });
    const runId = started.json.runId;

    const open = async (query = "") => {
      const response = await exports.default.fetch(
        new Request(`http://localhost/api/v1/runs/${runId}/events${query}`, { headers: { authorization: `Bearer ${t.ciToken}`, upgrade: "websocket" } }),
      );
      expect(response.status).toBe(101);
      const socket = response.webSocket!;
      const messages: { id: number; type: string; data: any; runStatus?: string }[] = [];
      const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })));
      socket.addEventListener("message", (e) => messages.push(JSON.parse(e.data as string)));
      socket.accept();
      return { messages, closed };
    };

    const live = await open();
    // Opened while the run was still going: what follows arrives live, not as a backlog.
    expect(["queued", "running"]).toContain((await call("GET", `/ci/runs/${runId}`, { token: t.ciToken })).json.status);
    const end = await live.closed;
    expect(end).toEqual({ code: 1000, reason: "settled: passed" });
    expect(live.messages.map((m) => [m.id, m.type])).toEqual([[1, "status_changed"], [2, "case_started"], [3, "case_finished"], [4, "status_changed"]]);
    expect(live.messages[3].data).toEqual({ status: "passed" });

    const resumed = await open("?lastEventId=2");
    expect(await resumed.closed).toEqual({ code: 1000, reason: "settled: passed" });
    expect(resumed.messages.map((m) => m.id)).toEqual([3, 4]);

    const other = await bootTenant("pro", "Globex");
    const refused = await exports.default.fetch(new Request(`http://localhost/api/v1/runs/${runId}/events`, { headers: { authorization: `Bearer ${other.ciToken}`, upgrade: "websocket" } }));
    expect(refused.status).toBe(404);
  });
});

describe("the run page, live", () => {
  it("follows the run's events through its own signed link while the run goes, and stops once it settled", async () => {
    const t = await bootTenant();
    await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/slow?ms=1500" }], "slow page");
    const started = await call("POST", "/ci/trigger", { token: t.ciToken, body: {} });
    const pageUrl: string = started.json.url;

    const whileRunning = await call("GET", pageUrl);
    expect(whileRunning.status).toBe(200);
    expect(whileRunning.text).toContain("data-live");
    expect(whileRunning.text).toContain('new EventSource(location.pathname + "/events" + location.search)');

    // The page's signature opens its events, as Server-Sent Events, until the run settles.
    const url = new URL(pageUrl);
    const stream = await call("GET", `${url.origin}${url.pathname}/events${url.search}`, { headers: { accept: "text/event-stream" } });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(parseFrames(stream.text).map((f) => f.event)).toEqual(["status_changed", "case_started", "case_finished", "status_changed"]);

    const settled = await call("GET", pageUrl);
    expect(settled.text).toContain('data-status="passed"');
    expect(settled.text).not.toContain("EventSource");
    expect((await call("GET", `${url.origin}${url.pathname}/events?sig=${"A".repeat(43)}`)).status).toBe(404);
    expect((await call("GET", `${url.origin}${url.pathname}/events`)).status).toBe(404);
  });
});
