// Starting crawls, reading them back, cancelling them, and their events (paged or live).
import type { Db } from "../db/client";
import { findProject } from "../db/projects";
import { crawlEventsAfter, findCrawl, findCrawlWithPages, insertCrawl, listCrawlEvents, listCrawls, type CrawlPageRow, type CrawlRow } from "../db/crawls";
import type { Scope } from "../auth/tenancy";
import { seal } from "../auth/secrets";
import { judgeUrl } from "../browser/url-policy";
import { ApiError, notFound } from "../errors";
import { uuidv7 } from "../ids";
import type { PageQuery } from "../schemas/common";
import {
  SCAN_MODE_DEFAULTS,
  type CrawlRole,
  type CrawlSettings,
  type CrawlStatus,
  type CreateCrawlBody,
} from "../schemas/crawls";
import type { ProjectRow } from "../db/projects";
import { artifactUrl, type LinkSigner } from "./links";
import { credentialAad, parseCookieString } from "./crawl-credentials";
import { settleCrawlBy } from "./crawl-lifecycle";
import type { ServiceDeps } from "./deps";
import { eventView, serverSentEvents } from "./event-stream";

export type CrawlDeps = Pick<ServiceDeps, "db" | "jobs" | "tracker" | "policy" | "keys" | "now" | "onSettled">;

/** A queued crawl that no consumer picks up within this time is settled as failed. */
export const CRAWL_QUEUE_WATCHDOG_MS = 30 * 60 * 1000;

/** Settles a crawl's settings: the request, then the project's last crawl, then the scan mode. */
export function resolveCrawlSettings(body: CreateCrawlBody, project: ProjectRow): CrawlSettings {
  const baseUrl = body.baseUrl ?? project.baseUrl;
  if (!baseUrl) throw new ApiError("crawl.base_url_required", "The project has no baseUrl: send one with the crawl");
  const mode = SCAN_MODE_DEFAULTS[body.scan_mode ?? "normal"];
  const last = project.scanSettings;
  return {
    baseUrl,
    maxPages: body.maxPages ?? last.maxPages ?? mode.maxPages,
    maxDepth: body.maxDepth ?? last.maxDepth ?? mode.maxDepth,
    timeBudgetMs: mode.timeBudgetMs,
    concurrency: body.concurrency ?? mode.concurrency,
    device: body.device ?? last.device ?? "desktop",
    fillForms: body.fillForms ?? last.fillForms ?? false,
    respectRobots: body.respectRobots ?? last.respectRobots ?? true,
    ...(body.crawlPages ? { crawlPages: body.crawlPages } : {}),
    generateTests: body.generateTests ?? false,
  };
}

export async function startCrawl(deps: CrawlDeps, scope: Scope, projectId: string, body: CreateCrawlBody, runId: string | null = null) {
  const project = await findProject(deps.db, scope, projectId);
  if (!project) throw notFound("Project");
  const settings = resolveCrawlSettings(body, project);
  const verdict = judgeUrl(deps.policy, settings.baseUrl);
  if (!verdict.allowed) throw new ApiError("crawl.target_not_allowed", `baseUrl refused: ${verdict.reason}`, { baseUrl: settings.baseUrl });
  const origin = new URL(settings.baseUrl).origin;
  for (const [i, page] of (settings.crawlPages ?? []).entries()) {
    if (!page.startsWith("/") && new URL(page, origin).origin !== origin) {
      throw new ApiError("request.invalid", "crawlPages must be paths or URLs on the crawl's origin", { issues: [{ path: `crawlPages.${i}`, message: `not on ${origin}` }] });
    }
  }
  const credentials = body.credentials ?? [];
  for (const [i, credential] of credentials.entries()) {
    if (credential.credential_type === "cookie" && !parseCookieString(credential.cookie_string).every((c) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(c.name) && /^[^;\s,]*$/.test(c.value))) {
      throw new ApiError("request.invalid", "cookie_string must be name=value pairs separated by ';'", { issues: [{ path: `credentials.${i}.cookie_string`, message: "not a cookie string" }] });
    }
    if (credential.credential_type === "username_password" && credential.login_url && !credential.login_url.startsWith("/") && new URL(credential.login_url).origin !== origin) {
      throw new ApiError("request.invalid", "login_url must be on the crawl's origin: credentials go to that origin only", { issues: [{ path: `credentials.${i}.login_url`, message: `not on ${origin}` }] });
    }
  }
  const id = uuidv7();
  const roles: CrawlRole[] = credentials.length
    ? uniqueLabels(credentials.map((c, i) => ({ label: c.label ?? `${c.credential_type} ${i + 1}`, type: c.credential_type })))
    : [{ label: "anonymous", type: "anonymous" }];
  const sealed = [];
  if (credentials.length) {
    const ring = await deps.keys().catch(() => {
      throw new ApiError("crawl.credentials_unavailable", "This deployment cannot store crawl credentials (CREDENTIAL_KEYS is not set)");
    });
    for (const [position, credential] of credentials.entries()) {
      sealed.push({ crawlId: id, position, ...(await seal(ring, JSON.stringify(credential), credentialAad(id, position))) });
    }
  }
  const row: CrawlRow = {
    id,
    orgId: project.orgId,
    projectId: project.id,
    runId,
    name: body.name ?? `Crawl of ${new URL(settings.baseUrl).host}`,
    status: "queued",
    scanMode: body.scan_mode ?? "normal",
    settings,
    roles,
    pagesVisited: 0,
    pagesFailed: 0,
    brokenLinks: 0,
    errorMessage: null,
    createdAt: deps.now().toISOString(),
    startedAt: null,
    finishedAt: null,
  };
  await insertCrawl(deps.db, row, sealed);
  try {
    await deps.tracker.arm("crawl", id, CRAWL_QUEUE_WATCHDOG_MS);
    await deps.jobs.send({ kind: "crawl", id });
  } catch {
    await settleCrawlBy(deps, id, "fail", { status: "failed", errorMessage: "The crawl could not be queued" });
    throw new ApiError("crawl.queue_unavailable", "The crawl could not be queued; try again", { crawlId: id }, { "Retry-After": "5" });
  }
  return row;
}

function uniqueLabels(roles: CrawlRole[]): CrawlRole[] {
  const seen = new Map<string, number>();
  return roles.map((role) => {
    const n = (seen.get(role.label) ?? 0) + 1;
    seen.set(role.label, n);
    return n === 1 ? role : { ...role, label: `${role.label} (${n})` };
  });
}

/** Cancels a queued or running crawl; the crawler stops at its next poll, and a run waiting for it ends cancelled too. */
export async function cancelCrawl(deps: Pick<CrawlDeps, "db" | "tracker" | "now" | "onSettled">, scope: Scope, id: string) {
  const crawl = await findCrawl(deps.db, scope, id);
  if (!crawl) throw notFound("Crawl");
  const settled = await settleCrawlBy(deps, id, "cancel", { status: "cancelled" });
  if (!settled) throw new ApiError("crawl.already_settled", `The crawl already ended as ${crawl.status}`, { status: crawl.status });
  return settled;
}

export async function listCrawlsPage(deps: { db: Db }, scope: Scope, projectId: string, query: PageQuery & { status?: CrawlStatus }) {
  if (!(await findProject(deps.db, scope, projectId))) throw notFound("Project");
  return listCrawls(deps.db, scope, projectId, query);
}

export function crawlSummaryView(crawl: CrawlRow) {
  return {
    id: crawl.id,
    projectId: crawl.projectId,
    runId: crawl.runId,
    name: crawl.name,
    status: crawl.status,
    scanMode: crawl.scanMode,
    settings: crawl.settings,
    roles: crawl.roles,
    pagesVisited: crawl.pagesVisited,
    pagesFailed: crawl.pagesFailed,
    brokenLinks: crawl.brokenLinks,
    errorMessage: crawl.errorMessage,
    createdAt: crawl.createdAt,
    startedAt: crawl.startedAt,
    finishedAt: crawl.finishedAt,
  };
}

async function pageView(page: CrawlPageRow, signer: LinkSigner, nowMs: number) {
  return {
    url: page.url,
    finalUrl: page.finalUrl,
    role: page.role,
    depth: page.depth,
    status: page.status,
    title: page.title,
    loadMs: page.loadMs,
    error: page.error,
    ...page.details,
    screenshotUrl: page.screenshotKey ? await artifactUrl(signer, page.screenshotKey, nowMs) : null,
  };
}

export async function getCrawlDetail(deps: { db: Db; primaryDb?: () => Db }, scope: Scope, id: string, signer: LinkSigner, nowMs: number) {
  const found = (await findCrawlWithPages(deps.db, scope, id)) ?? (deps.primaryDb ? await findCrawlWithPages(deps.primaryDb(), scope, id) : undefined);
  if (!found) throw notFound("Crawl");
  const pages = await Promise.all(found.pages.map((p) => pageView(p, signer, nowMs)));
  const reached: Record<string, string[]> = {};
  for (const p of found.pages) if (!p.error && p.status !== null && p.status < 400) (reached[p.role] ??= []).push(p.url);
  return {
    ...crawlSummaryView(found.crawl),
    roles: found.crawl.roles.map((r) => ({ ...r, pagesReached: reached[r.label] ?? [] })),
    pages,
  };
}

export async function crawlEventsPage(deps: { db: Db }, scope: Scope, id: string, query: { limit: number; offset: number }) {
  if (!(await findCrawl(deps.db, scope, id))) throw notFound("Crawl");
  const { items, totalCount } = await listCrawlEvents(deps.db, id, query);
  return { items: items.map(eventView), totalCount, limit: query.limit, offset: query.offset };
}

/** The crawl's events as Server-Sent Events (services/event-stream.ts). */
export async function crawlEventStream(deps: Pick<CrawlDeps, "db" | "tracker">, scope: Scope, id: string, lastEventId: number) {
  if (!(await findCrawl(deps.db, scope, id))) throw notFound("Crawl");
  const live = await deps.tracker.subscribe(id);
  const after = (seq: number) => crawlEventsAfter(deps.db, id, seq);
  return serverSentEvents({ label: "crawl events", live, after }, lastEventId);
}
