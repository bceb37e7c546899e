// Executes a queued scan: the JOBS consumer calls this once per delivery. Pages, screenshots and
// events are recorded as the crawler reports them; events are also pushed to the scan's tracker
// for live subscribers. Credentials are opened only here, sent to the scan's origin only (the
// crawler's rule), and deleted when the scan settles, however it settles.
import type { Db } from "../db/client";
import {
  appendCrawlEvent,
  deleteCrawlCredentials,
  findCrawlById,
  listCrawlCredentials,
  listCrawlPages,
  markCrawlRunning,
  setBrokenLinkCount,
  setCrawlPageBrokenLinks,
  settleCrawl,
  upsertCrawlPage,
  type CrawlRow,
} from "../db/crawls";
import { updateProject } from "../db/projects";
import { countCasesOfProject } from "../db/cases";
import { generateSuiteFromScan } from "./test-generation";
import { uuidv7 } from "../ids";
import { isCrawlSettled, type Credential, type SettledCrawlStatus } from "../schemas/crawls";
import { CredentialSchema } from "../schemas/crawls";
import { artifactKeys, putPng } from "../storage/artifacts";
import { unseal, type KeyRing } from "../auth/secrets";
import { withBrowserSession, type BrowserBinding } from "../browser/session";
import { crawlSite, CrawlOptionsError, type CrawlCredential, type CrawlEvent, type PageRecord } from "../browser/crawler";
import type { UrlPolicy } from "../browser/url-policy";
import type { TrackedEvent } from "../durable/run-tracker";

/** What a scan's tracker hears from the executor. */
export type CrawlSignals = {
  alive(crawlId: string, watchdogMs: number): Promise<void>;
  settled(crawlId: string, status: SettledCrawlStatus): Promise<void>;
  publish(crawlId: string, event: TrackedEvent): Promise<void>;
};

export type CrawlExecutorDeps = {
  db: Db;
  artifacts: R2Bucket;
  browser: BrowserBinding;
  signals: CrawlSignals;
  policy: UrlPolicy;
  keys: () => Promise<KeyRing>;
  now: () => Date;
  /** Called after a scan that a run waits for has settled (the trigger's crawl: true). */
  afterScan?: (crawl: CrawlRow) => Promise<void>;
};

/** A scan shows progress at least this often (every page, or the crawler's stop polls). */
export const CRAWL_WATCHDOG_MS = 3 * 60 * 1000;
export const CRAWL_QUEUE_WATCHDOG_MS = 30 * 60 * 1000;
const MAX_BYTES_PER_PAGE = 10 * 1024 * 1024;
const ALIVE_EVERY_MS = 30_000;

export async function executeCrawl(deps: CrawlExecutorDeps, crawlId: string): Promise<void> {
  const { db } = deps;
  const found = await findCrawlById(db, crawlId);
  if (!found) return;
  if (isCrawlSettled(found.status)) {
    // A redelivery after the settle: make sure nothing of it outlives the scan.
    await deleteCrawlCredentials(db, crawlId);
    await deps.signals.settled(crawlId, found.status);
    return;
  }
  const crawl = found.status === "queued" ? ((await markCrawlRunning(db, crawlId, iso(deps))) ?? (await findCrawlById(db, crawlId))) : found;
  if (!crawl || crawl.status !== "running") return;
  await deps.signals.alive(crawlId, CRAWL_WATCHDOG_MS);
  await recordEvent(deps, crawlId, "status_changed", { status: "running" });

  const roles = await openRoles(deps, crawl);
  let outcome: { status: SettledCrawlStatus; errorMessage?: string };
  try {
    let broken = 0;
    let anyPage = false;
    let lastAlive = Date.now();
    await withBrowserSession(deps.browser, async (browser) => {
      for (const role of roles) {
        const result = await crawlSite(
          browser,
          {
            startUrl: crawl.settings.baseUrl,
            maxPages: crawl.settings.maxPages,
            maxDepth: crawl.settings.maxDepth,
            timeBudgetMs: crawl.settings.timeBudgetMs,
            concurrency: crawl.settings.concurrency,
            respectRobots: crawl.settings.respectRobots,
            device: crawl.settings.device,
            fillForms: crawl.settings.fillForms,
            crawlPages: crawl.settings.crawlPages,
            policy: deps.policy,
            maxBytesPerPage: MAX_BYTES_PER_PAGE,
            credentials: role.credentials,
          },
          {
            onPage: async (page) => {
              anyPage ||= page.error === null;
              await recordPage(deps, crawlId, role.label, page);
            },
            onEvent: (event) => recordEvent(deps, crawlId, event.type, eventData(role.label, event)),
            onBrokenLinks: (url, links) => setCrawlPageBrokenLinks(db, { crawlId, role: role.label, url }, links),
            shouldStop: async () => {
              if (Date.now() - lastAlive > ALIVE_EVERY_MS) {
                lastAlive = Date.now();
                await deps.signals.alive(crawlId, CRAWL_WATCHDOG_MS);
              }
              return (await findCrawlById(db, crawlId))?.status !== "running";
            },
          },
        );
        broken += result.brokenLinks.length;
      }
    });
    await setBrokenLinkCount(db, crawlId, broken);
    outcome = anyPage ? { status: "completed" } : { status: "failed", errorMessage: "No page of the site could be loaded" };
    if (anyPage && (crawl.settings.generateTests || (await countCasesOfProject(db, crawl.projectId)) === 0)) {
      const generated = await generateSuiteFromScan(db, crawl, await listCrawlPages(db, crawlId), iso(deps));
      await recordEvent(deps, crawlId, "tests_generated", { suiteId: generated.suiteId, cases: generated.caseIds.length });
    }
  } catch (error) {
    if (!(error instanceof CrawlOptionsError)) throw error; // the consumer retries, then fails the scan
    outcome = { status: "failed", errorMessage: error.message };
  }
  const settled = await settleScan(deps, crawlId, outcome);
  if (settled) {
    await updateProject(db, { orgId: settled.orgId }, settled.projectId, {
      scanSettings: {
        maxPages: settled.settings.maxPages,
        maxDepth: settled.settings.maxDepth,
        device: settled.settings.device,
        fillForms: settled.settings.fillForms,
        respectRobots: settled.settings.respectRobots,
      },
    });
    await deps.afterScan?.(settled);
  }
}

/** Ends a scan that is queued or running (cancel, watchdog, last retry): settled, credentials gone, subscribers told. */
export async function settleScan(
  deps: Pick<CrawlExecutorDeps, "db" | "signals" | "now">,
  crawlId: string,
  outcome: { status: SettledCrawlStatus; errorMessage?: string | null },
  from: ("queued" | "running")[] = ["running"],
) {
  const settled = await settleCrawl(deps.db, crawlId, outcome, iso(deps), from);
  await deleteCrawlCredentials(deps.db, crawlId);
  if (settled) {
    await recordEvent(deps, crawlId, "status_changed", { status: settled.status, ...(settled.errorMessage ? { error: settled.errorMessage } : {}) });
    await deps.signals.settled(crawlId, settled.status as SettledCrawlStatus);
  }
  return settled;
}

export async function failCrawl(deps: Pick<CrawlExecutorDeps, "db" | "now"> & { signals: Pick<CrawlSignals, "settled"> & Partial<CrawlSignals> }, crawlId: string, message: string) {
  const signals: CrawlSignals = { alive: async () => {}, publish: async () => {}, ...deps.signals };
  return settleScan({ ...deps, signals }, crawlId, { status: "failed", errorMessage: message }, ["queued", "running"]);
}

type Role = { label: string; credentials: CrawlCredential[] };

/** One role per credential set (its label, or its type and number); one anonymous role without. */
async function openRoles(deps: CrawlExecutorDeps, crawl: CrawlRow): Promise<Role[]> {
  const sealed = await listCrawlCredentials(deps.db, crawl.id);
  if (sealed.length === 0) return [{ label: crawl.roles[0]?.label ?? "anonymous", credentials: [] }];
  const ring = await deps.keys();
  const roles: Role[] = [];
  for (const row of sealed) {
    const parsed = CredentialSchema.parse(JSON.parse(await unseal(ring, row, credentialAad(crawl.id, row.position))));
    roles.push({ label: crawl.roles[row.position]?.label ?? `${parsed.credential_type} ${row.position + 1}`, credentials: toCrawlerCredentials(parsed, crawl.settings.baseUrl) });
  }
  return roles;
}

export const credentialAad = (crawlId: string, position: number) => `crawl-credential:${crawlId}:${position}`;

/** Seed 003's credential shapes, as the crawler takes them. */
export function toCrawlerCredentials(credential: Credential, baseUrl: string): CrawlCredential[] {
  switch (credential.credential_type) {
    case "username_password":
      return [{ type: "username_password", login_url: credential.login_url ?? baseUrl, username: credential.username, password: credential.password }];
    case "bearer_token":
      return [{ type: "bearer_token", token: credential.token, header_name: credential.header_name }];
    case "cookie":
      return parseCookieString(credential.cookie_string).map(({ name, value }) => ({ type: "cookie" as const, name, value }));
    case "custom_headers":
      return [{ type: "custom_headers", headers: Object.fromEntries(credential.headers.map((h) => [h.name, h.value])) }];
  }
}

/** "a=1; b=2" → pairs; null when any part is not a plain cookie pair. */
export function parseCookieString(text: string): { name: string; value: string }[] {
  return text
    .split(";")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const at = part.indexOf("=");
      return { name: part.slice(0, at).trim(), value: part.slice(at + 1).trim() };
    });
}

async function recordPage(deps: CrawlExecutorDeps, crawlId: string, role: string, page: PageRecord) {
  const id = uuidv7();
  let screenshotKey: string | null = null;
  if (page.screenshot) {
    screenshotKey = artifactKeys.crawlPageScreenshot(crawlId, id);
    await putPng(deps.artifacts, screenshotKey, page.screenshot);
  }
  await upsertCrawlPage(deps.db, {
    id,
    crawlId,
    role,
    url: page.url,
    finalUrl: page.finalUrl,
    depth: page.depth,
    status: page.status,
    title: page.title,
    loadMs: page.loadMs,
    details: {
      heading: page.heading,
      redirectChain: page.redirectChain,
      links: page.links,
      brokenLinks: page.brokenLinks,
      consoleErrors: page.consoleErrors,
      failedRequests: page.failedRequests,
      forms: page.forms,
    },
    screenshotKey,
    error: page.error,
    createdAt: iso(deps),
  });
}

function eventData(role: string, event: CrawlEvent): Record<string, unknown> {
  const { type: _type, ...rest } = event;
  return { role, ...rest };
}

async function recordEvent(deps: Pick<CrawlExecutorDeps, "db" | "signals" | "now">, crawlId: string, type: string, data: Record<string, unknown>) {
  const row = await appendCrawlEvent(deps.db, crawlId, type, data, iso(deps));
  if (row) await deps.signals.publish(crawlId, { seq: row.seq, type: row.type, data: row.data, createdAt: row.createdAt }).catch(() => {});
}

const iso = (deps: { now: () => Date }) => deps.now().toISOString();
