// Crawls (the contract's seed 003 calls them scans; its field names scan_mode and scanSettings stay): request bodies, modes, shapes.
import * as z from "zod";
import { HttpUrlSchema, PageQuery } from "./common";

export const CRAWL_STATUSES = ["queued", "running", "completed", "failed", "cancelled"] as const;
export type CrawlStatus = (typeof CRAWL_STATUSES)[number];
export const SETTLED_CRAWL_STATUSES = ["completed", "failed", "cancelled"] as const satisfies readonly CrawlStatus[];
export type SettledCrawlStatus = (typeof SETTLED_CRAWL_STATUSES)[number];
export const isCrawlSettled = (status: CrawlStatus): status is SettledCrawlStatus =>
  (SETTLED_CRAWL_STATUSES as readonly string[]).includes(status);

/** A crawl's lifecycle, one row per transition (see RUN_TRANSITIONS): each a conditional update in db/crawls.ts. */
export const CRAWL_TRANSITIONS = {
  start: { from: ["queued"], to: ["running"] },
  finish: { from: ["running"], to: ["completed", "failed"] },
  cancel: { from: ["queued", "running"], to: ["cancelled"] },
  /** The watchdog, the consumer's last retry, or a crawl that could not be queued. */
  fail: { from: ["queued", "running"], to: ["failed"] },
} as const satisfies Record<string, { from: readonly CrawlStatus[]; to: readonly CrawlStatus[] }>;
export type CrawlTransition = keyof typeof CRAWL_TRANSITIONS;
export type SettleCrawlTransition = Exclude<CrawlTransition, "start">;
export type CrawlOutcome<T extends SettleCrawlTransition> = { status: (typeof CRAWL_TRANSITIONS)[T]["to"][number]; errorMessage?: string | null };

export const SCAN_MODES = ["quick", "normal", "deep"] as const;
export type ScanMode = (typeof SCAN_MODES)[number];

/** What each mode means when the request and the project's last crawl leave a setting open. */
export const SCAN_MODE_DEFAULTS: Record<ScanMode, { maxPages: number; maxDepth: number; timeBudgetMs: number; concurrency: number }> = {
  quick: { maxPages: 10, maxDepth: 1, timeBudgetMs: 60_000, concurrency: 2 },
  normal: { maxPages: 50, maxDepth: 3, timeBudgetMs: 180_000, concurrency: 4 },
  deep: { maxPages: 200, maxDepth: 6, timeBudgetMs: 600_000, concurrency: 6 },
};

const label = z.string().trim().min(1).max(100).optional();
const secret = z.string().min(1).max(4096);
/** A header a credential may set: a token name, and none that would change how the request is framed. */
const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/, "a header name")
  .refine((name) => !/^(host|content-length|transfer-encoding|connection|upgrade|te|trailer|keep-alive|proxy-.*)$/i.test(name), "this header cannot be set");

/** Seed 003's credential sets, snake_case as there. */
export const CredentialSchema = z.discriminatedUnion("credential_type", [
  z.strictObject({
    credential_type: z.literal("username_password"),
    label,
    username: secret,
    password: secret,
    login_url: z.string().min(1).max(2048).refine((u) => u.startsWith("/") || /^https?:\/\//i.test(u), "a path or an http(s) URL").optional(),
  }),
  z.strictObject({ credential_type: z.literal("bearer_token"), label, token: secret, header_name: headerName.optional() }),
  z.strictObject({ credential_type: z.literal("cookie"), label, cookie_string: secret }),
  z.strictObject({
    credential_type: z.literal("custom_headers"),
    label,
    headers: z.array(z.strictObject({ name: headerName, value: z.string().max(4096) })).min(1).max(20),
  }),
]);
export type Credential = z.infer<typeof CredentialSchema>;

/** The crawl fields the CI trigger shares with POST /projects/:id/crawls. */
export const CrawlFields = {
  baseUrl: HttpUrlSchema.optional(),
  maxPages: z.number().int().min(1).max(1000).optional(),
  maxDepth: z.number().int().min(0).max(10).optional().describe("The start page is depth 0."),
  crawlPages: z.array(z.string().min(1).max(2048)).min(1).max(100).optional(),
  device: z.enum(["desktop", "mobile"]).optional(),
  fillForms: z.boolean().optional(),
  respectRobots: z.boolean().optional(),
  generateTests: z.boolean().optional(),
};

export const CreateCrawlBody = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  scan_mode: z.enum(SCAN_MODES).optional(),
  concurrency: z.number().int().min(1).max(8).optional().describe("Tabs in parallel within the crawl's one browser (default by scan_mode)."),
  ...CrawlFields,
  credentials: z.array(CredentialSchema).max(10, "at most 10 credential sets").optional(),
});
export type CreateCrawlBody = z.infer<typeof CreateCrawlBody>;

/** The settings a crawl runs with, every one resolved (request → project's last crawl → mode). */
export type CrawlSettings = {
  baseUrl: string;
  maxPages: number;
  maxDepth: number;
  timeBudgetMs: number;
  concurrency: number;
  device: "desktop" | "mobile";
  fillForms: boolean;
  respectRobots: boolean;
  crawlPages?: string[];
  generateTests: boolean;
};

export const CrawlListQuery = PageQuery.extend({ status: z.enum(CRAWL_STATUSES).optional() });
export const CrawlEventsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export type CrawlRole = { label: string; type: Credential["credential_type"] | "anonymous" };

/** What a scanned page records besides its columns. */
export type CrawlPageDetails = {
  /** The first <h1>'s text (absent on pages scanned before it was recorded). */
  heading?: string | null;
  redirectChain: string[];
  links: { url: string; sameOrigin: boolean }[];
  brokenLinks: { url: string; status: number | null; reason: string }[];
  consoleErrors: string[];
  failedRequests: { url: string; reason: string }[];
  forms: unknown[];
};

const settingsSchema = z.object({
  baseUrl: z.string(), maxPages: z.number().int(), maxDepth: z.number().int(), timeBudgetMs: z.number().int(), concurrency: z.number().int(),
  device: z.enum(["desktop", "mobile"]), fillForms: z.boolean(), respectRobots: z.boolean(), crawlPages: z.array(z.string()).optional(), generateTests: z.boolean(),
});

export const CrawlSummarySchema = z
  .object({
    id: z.string(), projectId: z.string(), runId: z.string().nullable(), name: z.string(), status: z.enum(CRAWL_STATUSES),
    scanMode: z.enum(SCAN_MODES), settings: settingsSchema,
    roles: z.array(z.object({ label: z.string(), type: z.string() })),
    pagesVisited: z.number().int(), pagesFailed: z.number().int(), brokenLinks: z.number().int(), errorMessage: z.string().nullable(),
    createdAt: z.string(), startedAt: z.string().nullable(), finishedAt: z.string().nullable(),
  })
  .meta({ id: "CrawlSummary" });

export const CrawlPageSchema = z
  .object({
    url: z.string(), finalUrl: z.string(), role: z.string(), depth: z.number().int(), status: z.number().int().nullable(), title: z.string(),
    loadMs: z.number().int(), error: z.string().nullable(), heading: z.string().nullable().optional(), redirectChain: z.array(z.string()),
    links: z.array(z.object({ url: z.string(), sameOrigin: z.boolean() })),
    brokenLinks: z.array(z.object({ url: z.string(), status: z.number().int().nullable(), reason: z.string() })),
    consoleErrors: z.array(z.string()), failedRequests: z.array(z.object({ url: z.string(), reason: z.string() })),
    forms: z.array(z.unknown()), screenshotUrl: z.string().nullable().describe("Signed, expiring link to the page's screenshot."),
  })
  .meta({ id: "CrawlPage" });

export const CrawlDetailSchema = CrawlSummarySchema.extend({
  roles: z.array(z.object({ label: z.string(), type: z.string(), pagesReached: z.array(z.string()) })),
  pages: z.array(CrawlPageSchema),
}).meta({ id: "Scan" });

export const CrawlEventSchema = z
  .object({ id: z.number().int(), type: z.string(), data: z.record(z.string(), z.unknown()), createdAt: z.string() })
  .meta({ id: "CrawlEvent" });
