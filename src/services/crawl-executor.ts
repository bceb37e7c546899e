// Executes a queued crawl: the JOBS consumer calls this once per delivery. Pages, screenshots and
// events are recorded as the crawler reports them; events are also pushed to the crawl's tracker
// for live subscribers. Credentials are opened only here, sent to the crawl's origin only (the
// crawler's rule), and deleted when the crawl settles, however it settles (crawl-lifecycle.ts).
import { findCrawlById, listCrawlCredentials, listCrawlPages, setBrokenLinkCount, setCrawlPageBrokenLinks, upsertCrawlPageWhileRunning, type CrawlRow } from "../db/crawls";
import { updateProject } from "../db/projects";
import { countCasesOfProject } from "../db/cases";
import { generateSuiteFromCrawl } from "./test-generation";
import { uuidv7 } from "../ids";
import { CredentialSchema, isCrawlSettled } from "../schemas/crawls";
import { artifactKeys, putPng } from "../storage/artifacts";
import { unseal } from "../auth/secrets";
import { withBrowserSession } from "../browser/session";
import { crawlSite, CrawlOptionsError, type CrawlCredential, type CrawlEvent, type PageRecord } from "../browser/crawler";
import type { ServiceDeps } from "./deps";
import { announceCrawl, recordCrawlEvent, settleCrawlBy, startCrawling } from "./crawl-lifecycle";
import { credentialAad, toCrawlerCredentials } from "./crawl-credentials";

export type CrawlExecutorDeps = Pick<ServiceDeps, "db" | "artifacts" | "browser" | "tracker" | "policy" | "keys" | "now" | "onSettled">;

/** A crawl shows progress at least this often (every page, or the crawler's stop polls). */
export const CRAWL_WATCHDOG_MS = 3 * 60 * 1000;
const MAX_BYTES_PER_PAGE = 10 * 1024 * 1024;
const ALIVE_EVERY_MS = 30_000;

export async function executeCrawl(deps: CrawlExecutorDeps, crawlId: string): Promise<void> {
  const { db } = deps;
  const found = await findCrawlById(db, crawlId);
  if (!found) return;
  if (isCrawlSettled(found.status)) {
    // A redelivery after the settle: its credentials go and it is announced again.
    await announceCrawl(deps, found);
    return;
  }
  const crawl = found.status === "queued" ? ((await startCrawling(deps, crawlId)) ?? (await findCrawlById(db, crawlId))) : found;
  if (!crawl || crawl.status !== "running") return;
  await deps.tracker.arm("crawl", crawlId, CRAWL_WATCHDOG_MS);
  await recordCrawlEvent(deps, crawlId, "status_changed", { status: "running" });

  const roles = await openRoles(deps, crawl);
  let outcome: { status: "completed" | "failed"; errorMessage?: string };
  try {
    let broken = 0;
    let anyPage = false;
    let lastAlive = Date.now();
    // Set when the crawl is seen settled by someone else (cancel, watchdog): from then on
    // nothing more is recorded for it, and no tests are generated from it. Pages and events are
    // written only while D1 says it runs (a condition of the write itself, no read before it), so
    // a page that finishes just after a cancel is dropped; shouldStop reads the status to stop.
    let stopped = false;
    const stillRunning = async () => !(stopped ||= (await findCrawlById(db, crawlId))?.status !== "running");
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
              if (stopped) return;
              if (await recordPage(deps, crawlId, role.label, page)) anyPage ||= page.error === null;
              else stopped = true;
            },
            onEvent: async (event) => {
              if (!stopped) await recordCrawlEvent(deps, crawlId, event.type, eventData(role.label, event), { whileRunning: true });
            },
            onBrokenLinks: (url, links) => setCrawlPageBrokenLinks(db, { crawlId, role: role.label, url }, links),
            shouldStop: async () => {
              if (Date.now() - lastAlive > ALIVE_EVERY_MS) {
                lastAlive = Date.now();
                await deps.tracker.arm("crawl", crawlId, CRAWL_WATCHDOG_MS);
              }
              return !(await stillRunning());
            },
          },
        );
        broken += result.brokenLinks.length;
      }
    });
    await setBrokenLinkCount(db, crawlId, broken);
    outcome = anyPage ? { status: "completed" } : { status: "failed", errorMessage: "No page of the site could be loaded" };
    if (anyPage && (await stillRunning()) && (crawl.settings.generateTests || (await countCasesOfProject(db, crawl.projectId)) === 0)) {
      const generated = await generateSuiteFromCrawl(db, crawl, await listCrawlPages(db, crawlId), iso(deps));
      await recordCrawlEvent(deps, crawlId, "tests_generated", { suiteId: generated.suiteId, cases: generated.caseIds.length });
    }
  } catch (error) {
    if (!(error instanceof CrawlOptionsError)) throw error; // the consumer retries, then fails the crawl
    outcome = { status: "failed", errorMessage: error.message };
  }
  if (!(await settleCrawlBy(deps, crawlId, "finish", outcome))) return; // cancelled meanwhile
  // The project's next crawl starts from this one's settings (the contract's "last scan").
  await updateProject(db, { orgId: crawl.orgId }, crawl.projectId, {
    scanSettings: {
      maxPages: crawl.settings.maxPages,
      maxDepth: crawl.settings.maxDepth,
      device: crawl.settings.device,
      fillForms: crawl.settings.fillForms,
      respectRobots: crawl.settings.respectRobots,
    },
  });
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

/** Records a page (and its screenshot) unless the crawl stopped running meanwhile; answers whether it did. */
async function recordPage(deps: CrawlExecutorDeps, crawlId: string, role: string, page: PageRecord): Promise<boolean> {
  const id = uuidv7();
  let screenshotKey: string | null = null;
  if (page.screenshot) {
    screenshotKey = artifactKeys.crawlPageScreenshot(crawlId, id);
    await putPng(deps.artifacts, screenshotKey, page.screenshot);
  }
  const recorded = await upsertCrawlPageWhileRunning(deps.db, {
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
  if (!recorded && screenshotKey) await deps.artifacts.delete(screenshotKey);
  return recorded;
}

function eventData(role: string, event: CrawlEvent): Record<string, unknown> {
  const { type: _type, ...rest } = event;
  return { role, ...rest };
}

const iso = (deps: { now: () => Date }) => deps.now().toISOString();
