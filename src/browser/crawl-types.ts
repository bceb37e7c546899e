// What the crawl files share: a scan's options and credentials (zod, validated once by crawlSite),
// the records and events a crawl reports, and its hooks. It imports no crawl-*.ts module, so
// every crawl file can import it without a cycle; crawler.ts re-exports it for other code.
import * as z from "zod";
import type { FormRecord } from "./forms";
import { isSameOrigin, normalizeUrl } from "./url-normalize";
import type { UrlPolicy } from "./url-policy";

const sameOriginOrPath = z.string().min(1).max(2048);
/** A header a credential may set: a token, and none that frames the request. A Cookie header is read as cookie credentials. */
const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/, "must be a header name")
  .refine((n) => !/^(host|content-length|transfer-encoding|connection|upgrade|te|trailer|keep-alive|proxy-.*)$/i.test(n), "cannot be set");

export const CrawlCredentialSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("username_password"),
    login_url: sameOriginOrPath,
    username: z.string().min(1).max(512),
    password: z.string().min(1).max(512),
    username_field: z.string().min(1).max(256).optional(),
    password_field: z.string().min(1).max(256).optional(),
  }),
  z.object({ type: z.literal("bearer_token"), token: z.string().min(1).max(8192), header_name: headerName.optional() }),
  z.object({ type: z.literal("cookie"), name: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/), value: z.string().regex(/^[^;\s,]*$/).max(4096) }),
  z.object({ type: z.literal("custom_headers"), headers: z.record(headerName, z.string().max(8192)) }),
]);
export type CrawlCredential = z.infer<typeof CrawlCredentialSchema>;

const httpUrl = z.string().refine((s) => normalizeUrl(s) !== null, "must be an absolute http(s) URL");

export const CrawlOptionsSchema = z
  .object({
    startUrl: httpUrl,
    maxPages: z.number().int().min(1).max(10_000),
    maxDepth: z.number().int().min(0).max(100),
    timeBudgetMs: z.number().int().min(1),
    concurrency: z.number().int().min(1).max(16),
    respectRobots: z.boolean(),
    device: z.enum(["desktop", "mobile"]),
    fillForms: z.boolean(),
    testData: z.record(z.string(), z.string()).optional(),
    crawlPages: z.array(sameOriginOrPath).max(10_000).optional(),
    policy: z.custom<UrlPolicy>((v) => typeof v === "object" && v !== null && "allowedPrivateHosts" in v, "must be a UrlPolicy"),
    maxBytesPerPage: z.number().int().min(1),
    credentials: z.array(CrawlCredentialSchema).max(10).optional(),
  })
  .superRefine((o, ctx) => {
    const start = normalizeUrl(o.startUrl);
    if (!start) return;
    const origin = new URL(start).origin;
    const offOrigin = (raw: string) => !isSameOrigin(normalizeUrl(raw, origin) ?? "", origin);
    o.crawlPages?.forEach((p, i) => {
      if (offOrigin(p)) ctx.addIssue({ code: "custom", path: ["crawlPages", i], message: `must be a path or a URL on ${origin}` });
    });
    o.credentials?.forEach((c, i) => {
      if (c.type === "username_password" && offOrigin(c.login_url)) {
        ctx.addIssue({ code: "custom", path: ["credentials", i, "login_url"], message: `must be on ${origin}: credentials go to the scan's origin only` });
      }
    });
  });
/** The options as a caller writes them. */
export type CrawlOptions = z.input<typeof CrawlOptionsSchema>;
/** The options as the crawl files read them, once crawlSite has validated them. */
export type ValidCrawlOptions = z.output<typeof CrawlOptionsSchema>;

/** The options were not valid: a caller's mistake, never the site's. */
export class CrawlOptionsError extends Error {}

export type PageRecord = {
  url: string;
  finalUrl: string;
  depth: number;
  status: number | null;
  /** The URLs that answered with a redirect, in order (empty when the page answered directly). */
  redirectChain: string[];
  title: string;
  /** The text of the page's first <h1> (whitespace collapsed, at most 200 characters), or null. */
  heading: string | null;
  loadMs: number;
  links: { url: string; sameOrigin: boolean }[];
  /** Broken links of this page known when it was recorded; CrawlHooks.onBrokenLinks gives the complete list later. */
  brokenLinks: BrokenLinkOfPage[];
  consoleErrors: string[];
  failedRequests: { url: string; reason: string }[];
  forms: FormRecord[];
  /** PNG, the page's full height up to 8000 CSS pixels, at one device pixel per CSS pixel. */
  screenshot: Uint8Array | null;
  error: string | null;
};

export type CrawlEvent =
  | { type: "page_visited" | "page_failed" | "page_skipped"; url: string; detail: string }
  | { type: "link_broken"; url: string; foundOn: string; status: number | null; detail: string }
  | { type: "login_attempted" | "login_succeeded" | "login_failed"; url: string; detail?: string };

export type CrawlHooks = {
  /** Called once per page, never concurrently with another hook. */
  onPage(record: PageRecord): Promise<void>;
  onEvent(event: CrawlEvent): Promise<void>;
  /**
   * The complete broken links of a page recorded earlier, called once per page whose list grew
   * after its record (its URL as in the record). Called after the page's onPage, never concurrently with another hook.
   */
  onBrokenLinks(pageUrl: string, brokenLinks: BrokenLinkOfPage[]): Promise<void>;
  /** Polled at most once a second, between pages and while pages load. */
  shouldStop(): Promise<boolean>;
};

export type BrokenLinkOfPage = { url: string; status: number | null; reason: string };
export type BrokenLink = BrokenLinkOfPage & { foundOn: string[] };

export type CrawlResult = {
  pagesVisited: number;
  stoppedBy: "done" | "maxPages" | "timeBudget" | "stopped" | "loginFailed";
  brokenLinks: BrokenLink[];
  durationMs: number;
};
