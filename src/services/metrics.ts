// Prometheus metrics. Counters live in memory, per isolate: each Worker isolate counts what it
// served since it started, and a scrape sees only the isolate that answered it (Prometheus sums
// the series it scrapes; a restarted isolate starts again at 0, which rate() treats as a reset).
// Gauges are read from D1 at scrape time, so every isolate reports the same values.
import { RUN_STATUSES, type RunStatus } from "../schemas/runs";
import { CRAWL_STATUSES, type CrawlStatus } from "../schemas/crawls";
import type { Db } from "../db/client";
import { runGauges } from "../db/operations";
import type { Clock } from "./clock";

/** The route label of requests that matched no route, so raw paths never become labels. */
export const UNMATCHED_ROUTE = "unmatched";

const requests = new Map<string, { route: string; status: number; count: number }>();
let rateLimitRefusals = 0;

// On Workers the clock may read 0 while the module is evaluated at start-up (time only moves
// inside requests); then the isolate's first request stamps its start instead.
let isolateStartedAt = Date.now();
const stampStart = (nowMs: number) => {
  if (isolateStartedAt === 0) isolateStartedAt = nowMs;
};

/** Whole seconds since this isolate started. */
export function uptimeSeconds(nowMs: number) {
  stampStart(nowMs);
  return Math.max(0, Math.floor((nowMs - isolateStartedAt) / 1000));
}

export function recordRequest(route: string, status: number) {
  stampStart(Date.now());
  const key = `${status} ${route}`;
  const entry = requests.get(key);
  if (entry) entry.count++;
  else requests.set(key, { route, status, count: 1 });
}

export function recordRateLimitRefusal() {
  rateLimitRefusals++;
}

/** What D1 says at scrape time. */
export type Gauges = {
  runsByStatus: Partial<Record<RunStatus, number>>;
  crawlsByStatus: Partial<Record<CrawlStatus, number>>;
  /** Age of the oldest queued run, 0 when none is queued. */
  queueLagSeconds: number;
};

/** Reads the gauges from D1 (one round trip) and renders every metric. */
export async function scrapeMetrics(deps: { db: Db; now: Clock }) {
  const { runsByStatus, crawlsByStatus, oldestQueuedAt } = await runGauges(deps.db);
  const oldest = oldestQueuedAt ? Date.parse(oldestQueuedAt) : NaN;
  const queueLagSeconds = Number.isNaN(oldest) ? 0 : Math.max(0, (deps.now().getTime() - oldest) / 1000);
  return renderMetrics({ runsByStatus, crawlsByStatus, queueLagSeconds });
}

/** The Prometheus text exposition format, version 0.0.4. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export function renderMetrics(gauges: Gauges): string {
  const lines: string[] = [];
  const metric = (name: string, type: "counter" | "gauge", help: string, samples: [Record<string, string | number>, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${formatLabels(labels)} ${value}`);
  };
  const sorted = [...requests.values()].sort((a, b) => a.route.localeCompare(b.route) || a.status - b.status);
  metric(
    "aegis_http_requests_total",
    "counter",
    "HTTP requests answered by this isolate, by route pattern and status.",
    sorted.map((r) => [{ route: r.route, status: r.status }, r.count]),
  );
  metric("aegis_rate_limit_refusals_total", "counter", "Requests refused by the rate limiter (429) in this isolate.", [[{}, rateLimitRefusals]]);
  metric(
    "aegis_runs",
    "gauge",
    "Runs by status.",
    RUN_STATUSES.map((status) => [{ status }, gauges.runsByStatus[status] ?? 0]),
  );
  metric(
    "aegis_crawls",
    "gauge",
    "Crawls by status.",
    CRAWL_STATUSES.map((status) => [{ status }, gauges.crawlsByStatus[status] ?? 0]),
  );
  metric("aegis_queue_lag_seconds", "gauge", "Age in seconds of the oldest queued run; 0 when none is queued.", [[{}, gauges.queueLagSeconds]]);
  return lines.join("\n") + "\n";
}

function formatLabels(labels: Record<string, string | number>) {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${String(v).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  return pairs.length ? `{${pairs.join(",")}}` : "";
}
