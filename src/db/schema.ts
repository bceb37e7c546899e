// The one drizzle schema. migrations/ holds the SQL that creates it; keep the two in step.
import { sqliteTable, text, integer, real, index, uniqueIndex, primaryKey } from "drizzle-orm/sqlite-core";
import type { Step } from "../schemas/steps";
import type { PLANS } from "../schemas/plans";
import type { RUN_STATUSES, CASE_RESULT_STATUSES, RunOptions } from "../schemas/runs";
import type { DIFF_STATUSES, VisualOutcome } from "../schemas/visual";
import type { ProjectScanSettings } from "../schemas/projects";
import type { NotificationKind, NotificationTarget, WebhookEventType } from "../schemas/reporting";
import type { CrawlPageDetails, CrawlRole, CrawlSettings, CrawlStatus, ScanMode } from "../schemas/crawls";

const timestamps = {
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
};

export const orgs = sqliteTable("orgs", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  plan: text("plan").$type<(typeof PLANS)[number]>().notNull(),
  ...timestamps,
});

export const projects = sqliteTable(
  "projects",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    baseUrl: text("base_url"),
    scanSettings: text("scan_settings", { mode: "json" }).$type<ProjectScanSettings>().notNull(),
    /** The branch whose visual baselines a run compares with when its own branch has none. */
    defaultBranch: text("default_branch").notNull().default("main"),
    ...timestamps,
  },
  (t) => [index("projects_org_idx").on(t.orgId, t.id)],
);

/** Org keys (projectId null) and project CI tokens; only the SHA-256 of the secret is kept. */
export const tokens = sqliteTable(
  "tokens",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id, { onDelete: "cascade" }),
    projectId: text("project_id").references(() => projects.id, { onDelete: "cascade" }),
    kind: text("kind").$type<"org" | "ci">().notNull(),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    hash: text("hash").notNull(),
    createdAt: text("created_at").notNull(),
    lastUsedAt: text("last_used_at"),
    revokedAt: text("revoked_at"),
  },
  (t) => [uniqueIndex("tokens_hash_idx").on(t.hash), index("tokens_project_idx").on(t.projectId, t.id)],
);

export const suites = sqliteTable(
  "suites",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id, { onDelete: "cascade" }),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** "crawl" for the one suite a project's crawls generate (and regenerate in place). */
    source: text("source").$type<"manual" | "crawl">().notNull().default("manual"),
    ...timestamps,
  },
  (t) => [index("suites_project_idx").on(t.projectId, t.id)],
);

export const cases = sqliteTable(
  "cases",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id, { onDelete: "cascade" }),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    suiteId: text("suite_id").notNull().references(() => suites.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    steps: text("steps", { mode: "json" }).$type<Step[]>().notNull(),
    ...timestamps,
  },
  (t) => [index("cases_suite_idx").on(t.suiteId, t.id), index("cases_project_idx").on(t.projectId, t.id)],
);

export const runs = sqliteTable(
  "runs",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id, { onDelete: "cascade" }),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    runType: text("run_type").notNull(),
    status: text("status").$type<(typeof RUN_STATUSES)[number]>().notNull(),
    browserProfile: text("browser_profile").notNull(),
    baseUrl: text("base_url"),
    /** The trigger's other fields, recorded as sent (never the GitHub token). */
    options: text("options", { mode: "json" }).$type<RunOptions>().notNull(),
    /** The cases selected at trigger time, in run order. */
    caseIds: text("case_ids", { mode: "json" }).$type<string[]>().notNull(),
    passed: integer("passed").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    skipped: integer("skipped").notNull().default(0),
    errorMessage: text("error_message"),
    createdAt: text("created_at").notNull(),
    startedAt: text("started_at"),
    finishedAt: text("finished_at"),
    /** The origin the run was triggered on: its links in PR comments and webhooks when PUBLIC_BASE_URL is empty. */
    linkOrigin: text("link_origin"),
  },
  (t) => [index("runs_project_idx").on(t.projectId, t.status, t.id)],
);

export const caseResults = sqliteTable(
  "case_results",
  {
    id: text("id").primaryKey(),
    runId: text("run_id").notNull().references(() => runs.id, { onDelete: "cascade" }),
    caseId: text("case_id").notNull(),
    caseName: text("case_name").notNull(),
    position: integer("position").notNull(),
    status: text("status").$type<(typeof CASE_RESULT_STATUSES)[number]>().notNull(),
    attempts: integer("attempts").notNull(),
    durationMs: integer("duration_ms").notNull(),
    failedStep: integer("failed_step"),
    failedAction: text("failed_action"),
    reason: text("reason"),
    screenshotKey: text("screenshot_key"),
    /** What each screenshot step found against its baseline (null for cases without one). */
    visual: text("visual", { mode: "json" }).$type<VisualOutcome[]>(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [uniqueIndex("case_results_run_case_idx").on(t.runId, t.caseId)],
);

/**
 * The approved look of one screenshot step, per branch, browser, device and viewport: a pointer to
 * an immutable R2 object (`image_key`, versioned). Approving writes a new object and moves the
 * pointer, so a run reading the old version never meets a half-written one.
 */
export const baselines = sqliteTable(
  "baselines",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    caseId: text("case_id").notNull(),
    stepName: text("step_name").notNull(),
    branch: text("branch").notNull(),
    browserProfile: text("browser_profile").notNull(),
    device: text("device").notNull(),
    viewport: text("viewport").notNull(),
    version: integer("version").notNull(),
    imageKey: text("image_key").notNull(),
    width: integer("width").notNull(),
    height: integer("height").notNull(),
    chromiumVersion: text("chromium_version").notNull(),
    /** How this version came to be: the step's first capture, or an approved diff. */
    source: text("source").$type<"first_capture" | "approved">().notNull(),
    diffId: text("diff_id"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("baselines_identity_idx").on(t.projectId, t.caseId, t.stepName, t.branch, t.browserProfile, t.device, t.viewport)],
);

/** A capture that differed from its baseline by more than the step's threshold, waiting for a person. */
export const visualDiffs = sqliteTable(
  "visual_diffs",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    runId: text("run_id").notNull().references(() => runs.id, { onDelete: "cascade" }),
    caseId: text("case_id").notNull(),
    caseName: text("case_name").notNull(),
    stepName: text("step_name").notNull(),
    /** The run's branch: approving writes this branch's baseline, never another's. */
    branch: text("branch").notNull(),
    status: text("status").$type<(typeof DIFF_STATUSES)[number]>().notNull(),
    changedPixels: integer("changed_pixels").notNull(),
    totalPixels: integer("total_pixels").notNull(),
    threshold: real("threshold").notNull(),
    baselineId: text("baseline_id").notNull(),
    baselineVersion: integer("baseline_version").notNull(),
    baselineBranch: text("baseline_branch").notNull(),
    baselineKey: text("baseline_key").notNull(),
    baselineChromium: text("baseline_chromium").notNull(),
    captureKey: text("capture_key").notNull(),
    captureChromium: text("capture_chromium").notNull(),
    diffKey: text("diff_key").notNull(),
    width: integer("width").notNull(),
    height: integer("height").notNull(),
    createdAt: text("created_at").notNull(),
    decidedAt: text("decided_at"),
  },
  (t) => [index("visual_diffs_run_idx").on(t.runId, t.id)],
);

/**
 * Idempotency-Key records: one per credential and key, answered again for 24 hours. A record with
 * no response is in flight (or was abandoned by a request that died); run_id is the run such a
 * request started, which a retry waits on instead of starting another.
 */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    /** The token id of the caller, or "admin" for the operator's secret. */
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    /** SHA-256 of the method, path and body: the same key with another request is refused. */
    fingerprint: text("fingerprint").notNull(),
    /** The request holding the key; writes of a request whose claim was taken over do nothing. */
    claimId: text("claim_id").notNull(),
    runId: text("run_id"),
    responseStatus: integer("response_status"),
    /** The headers that matter to a replay (Location, Content-Type). */
    responseHeaders: text("response_headers", { mode: "json" }).$type<Record<string, string>>(),
    /** The body, sealed under a key derived from the caller's credential (it may hold a new token). */
    responseBody: text("response_body"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] }), index("idempotency_keys_created_idx").on(t.createdAt)],
);

/** Scans. A scan started by a CI trigger (crawl: true) names the run that waits for it. */
export const crawls = sqliteTable(
  "crawls",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id, { onDelete: "cascade" }),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    runId: text("run_id"),
    name: text("name").notNull(),
    status: text("status").$type<CrawlStatus>().notNull(),
    scanMode: text("scan_mode").$type<ScanMode>().notNull(),
    settings: text("settings", { mode: "json" }).$type<CrawlSettings>().notNull(),
    /** Each credential set's label and type (never a secret): the roles the scan crawls as. */
    roles: text("roles", { mode: "json" }).$type<CrawlRole[]>().notNull(),
    pagesVisited: integer("pages_visited").notNull().default(0),
    pagesFailed: integer("pages_failed").notNull().default(0),
    brokenLinks: integer("broken_links").notNull().default(0),
    errorMessage: text("error_message"),
    createdAt: text("created_at").notNull(),
    startedAt: text("started_at"),
    finishedAt: text("finished_at"),
  },
  (t) => [index("crawls_project_idx").on(t.projectId, t.status, t.id)],
);

/** Credential sets of a scan, sealed (AES-GCM, key id kept); deleted when the scan ends. */
export const crawlCredentials = sqliteTable(
  "crawl_credentials",
  {
    crawlId: text("crawl_id").notNull().references(() => crawls.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    keyId: text("key_id").notNull(),
    ciphertext: text("ciphertext").notNull(),
  },
  (t) => [primaryKey({ columns: [t.crawlId, t.position] })],
);

export const crawlPages = sqliteTable(
  "crawl_pages",
  {
    id: text("id").primaryKey(),
    crawlId: text("crawl_id").notNull().references(() => crawls.id, { onDelete: "cascade" }),
    /** The role (credential label) the page was reached as; "anonymous" without credentials. */
    role: text("role").notNull(),
    url: text("url").notNull(),
    finalUrl: text("final_url").notNull(),
    depth: integer("depth").notNull(),
    status: integer("status"),
    title: text("title").notNull(),
    loadMs: integer("load_ms").notNull(),
    details: text("details", { mode: "json" }).$type<CrawlPageDetails>().notNull(),
    screenshotKey: text("screenshot_key"),
    error: text("error"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [uniqueIndex("crawl_pages_url_idx").on(t.crawlId, t.role, t.url)],
);

/** A scan's events in order; `seq` is the Server-Sent Event id. */
export const crawlEvents = sqliteTable(
  "crawl_events",
  {
    crawlId: text("crawl_id").notNull().references(() => crawls.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    type: text("type").notNull(),
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.crawlId, t.seq] })],
);

/** A run's events in order (`seq` is the Server-Sent Event id): status changes, cases, failed steps. */
export const runEvents = sqliteTable(
  "run_events",
  {
    runId: text("run_id").notNull().references(() => runs.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    type: text("type").notNull(),
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] })],
);

/** What became of each outbound report about a run (a GitHub comment, a commit status): the latest attempt. */
export const runNotifications = sqliteTable(
  "run_notifications",
  {
    runId: text("run_id").notNull().references(() => runs.id, { onDelete: "cascade" }),
    target: text("target").$type<NotificationTarget>().notNull(),
    kind: text("kind").$type<NotificationKind>().notNull(),
    ok: integer("ok", { mode: "boolean" }).notNull(),
    /** The HTTP status the target answered; null when it could not be reached. */
    status: integer("status"),
    message: text("message").notNull(),
    attempts: integer("attempts").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.target, t.kind] })],
);

/**
 * Webhook endpoints of a project. The signing secret is sealed (AES-GCM under CREDENTIAL_KEYS);
 * after a rotation the previous one signs too until `previous_secret_expires_at`.
 */
export const webhooks = sqliteTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id, { onDelete: "cascade" }),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    description: text("description"),
    events: text("events", { mode: "json" }).$type<(WebhookEventType | "*")[]>().notNull(),
    secretKeyId: text("secret_key_id").notNull(),
    secretCiphertext: text("secret_ciphertext").notNull(),
    previousSecretKeyId: text("previous_secret_key_id"),
    previousSecretCiphertext: text("previous_secret_ciphertext"),
    previousSecretExpiresAt: text("previous_secret_expires_at"),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    disabledReason: text("disabled_reason"),
    /** When the first of the current run of failed attempts happened; null after a success. */
    failingSince: text("failing_since"),
    /** Messages in a row whose every attempt failed. */
    failedMessages: integer("failed_messages").notNull().default(0),
    ...timestamps,
  },
  (t) => [index("webhooks_project_idx").on(t.projectId, t.id)],
);

/** One event for one endpoint: its id is the `webhook-id` of every attempt; the body is kept 7 days. */
export const webhookMessages = sqliteTable(
  "webhook_messages",
  {
    id: text("id").primaryKey(),
    webhookId: text("webhook_id").notNull().references(() => webhooks.id, { onDelete: "cascade" }),
    eventType: text("event_type").$type<WebhookEventType>().notNull(),
    body: text("body"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("webhook_messages_webhook_idx").on(t.webhookId, t.createdAt)],
);

/** Every attempt to deliver a message, newest last. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    webhookId: text("webhook_id").notNull().references(() => webhooks.id, { onDelete: "cascade" }),
    messageId: text("message_id").notNull().references(() => webhookMessages.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    statusCode: integer("status_code"),
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
    /** The receiver's answer, truncated to 1 KiB. */
    responseBody: text("response_body"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("webhook_deliveries_webhook_idx").on(t.webhookId, t.id)],
);

/**
 * The sticky PR comment of a project, once made: later runs edit it by id. The row is claimed
 * before the comment exists, so two runs of one PR settling together make one comment, not two.
 */
export const githubComments = sqliteTable(
  "github_comments",
  {
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    repo: text("repo").notNull(),
    prNumber: integer("pr_number").notNull(),
    commentId: integer("comment_id"),
    /** The run the comment shows (run ids sort by time): an older run's late report leaves it alone. */
    reportedRunId: text("reported_run_id"),
    /** The run making the comment while it does not exist yet, and since when. */
    claimedBy: text("claimed_by"),
    claimedAt: text("claimed_at"),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.repo, t.prNumber] })],
);
