import * as z from "zod";
import { BranchSchema, HttpUrlSchema, IdSchema, PageQuery } from "./common";
import { VisualOutcomeSchema } from "./visual";
import { NotificationSchema } from "./reporting";

export const RUN_STATUSES = ["queued", "running", "passed", "failed", "cancelled", "error"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const SETTLED_RUN_STATUSES = ["passed", "failed", "cancelled", "error"] as const satisfies readonly RunStatus[];
export type SettledRunStatus = (typeof SETTLED_RUN_STATUSES)[number];
export const isSettled = (status: RunStatus): status is SettledRunStatus =>
  (SETTLED_RUN_STATUSES as readonly string[]).includes(status);

/**
 * A run's lifecycle, one row per transition: which statuses it may leave from and which it may
 * end in. db/runs.ts applies each as one conditional update, so a replayed queue message or a
 * late watchdog cannot apply a transition twice or move a settled run.
 */
export const RUN_TRANSITIONS = {
  start: { from: ["queued"], to: ["running"] },
  /** The executor's verdict once every case has a result (or the site was unreachable). */
  finish: { from: ["running"], to: ["passed", "failed", "error"] },
  cancel: { from: ["queued", "running"], to: ["cancelled"] },
  /** The watchdog or the consumer's last retry: whatever it was doing, it ends as error. */
  fail: { from: ["queued", "running"], to: ["error"] },
  /** A run that never left the queue: it could not be queued, or the crawl before it ended badly. */
  abandon: { from: ["queued"], to: ["cancelled", "error"] },
} as const satisfies Record<string, { from: readonly RunStatus[]; to: readonly RunStatus[] }>;
export type RunTransition = keyof typeof RUN_TRANSITIONS;
export type SettleRunTransition = Exclude<RunTransition, "start">;
export type RunOutcome<T extends SettleRunTransition> = { status: (typeof RUN_TRANSITIONS)[T]["to"][number]; errorMessage?: string | null };

export const CASE_RESULT_STATUSES = ["passed", "failed", "skipped"] as const;
export type CaseResultStatus = (typeof CASE_RESULT_STATUSES)[number];

export const BROWSER_PROFILES = ["chromium", "firefox", "webkit"] as const;

const shortId = z.string().min(1).max(100);

/** POST /api/v1/ci/trigger (seed 001). Fields later capabilities implement are validated and recorded now. */
export const TriggerBody = z.strictObject({
  suiteIds: z.array(IdSchema).min(1).max(80).optional(),
  caseIds: z.array(IdSchema).min(1).max(80).optional(),
  browserProfile: z.enum(BROWSER_PROFILES).default("chromium"),
  environmentId: shortId.optional(),
  testDataSetId: shortId.optional(),
  wait: z.boolean().default(false),
  crawl: z.boolean().optional(),
  crawlPages: z.array(z.string().min(1).max(2048)).min(1).max(100).optional(),
  baseUrl: HttpUrlSchema.optional(),
  generateTests: z.boolean().optional(),
  selectionStrategy: z.enum(["changed", "flaky", "recent"]).optional(),
  maxPages: z.number().int().min(1).max(1000).optional(),
  maxDepth: z.number().int().min(0).max(10).optional(),
  device: z.enum(["desktop", "mobile"]).optional(),
  fillForms: z.boolean().optional(),
  respectRobots: z.boolean().optional(),
  githubRepo: z.string().regex(/^(?!\.\.?\/)[A-Za-z0-9_.-]{1,100}\/(?!\.\.?$)[A-Za-z0-9_.-]{1,100}$/, "owner/name").optional(),
  githubPrNumber: z.number().int().min(1).max(10_000_000).optional(),
  githubCommitSha: z.string().regex(/^[0-9a-f]{7,64}$/i, "a commit SHA").optional(),
  githubToken: z.string().min(1).max(1000).optional().describe("Request-scoped; never stored."),
  branch: BranchSchema.optional().describe("The branch under test: screenshots compare with its approved baselines, else the base branch's."),
  baseBranch: BranchSchema.optional().describe("Where a branch without its own baseline looks (default: the project's defaultBranch)."),
});
export type TriggerBody = z.infer<typeof TriggerBody>;

/** POST /api/v1/suites/:id/run: the suite's cases, with the trigger's run settings. */
export const SuiteRunBody = TriggerBody.pick({
  branch: true,
  baseBranch: true,
  browserProfile: true,
  environmentId: true,
  testDataSetId: true,
  baseUrl: true,
  wait: true,
});

/** What a run records of its trigger besides the columns it has (the GitHub token never). */
export type RunOptions = Omit<TriggerBody, "githubToken" | "wait" | "browserProfile" | "baseUrl" | "suiteIds" | "caseIds"> & {
  suiteIds?: string[];
  caseIds?: string[];
};

export const TriggerResponse = z
  .object({
    runId: z.string(),
    status: z.enum(RUN_STATUSES),
    runType: z.string(),
    url: z.string().describe("Signed link to the run's read-only page."),
  })
  .meta({ id: "TriggerResponse", example: { runId: "019e4c1a-…", status: "queued", runType: "manual", url: "https://…/runs/019e4c1a-…?sig=…" } });

export const CaseResultSchema = z
  .object({
    caseId: z.string(),
    caseName: z.string(),
    status: z.enum(CASE_RESULT_STATUSES),
    attempts: z.number().int(),
    durationMs: z.number().int(),
    failedStep: z.object({ index: z.number().int().describe("0-based"), action: z.string() }).nullable(),
    reason: z.string().nullable().describe("One line: why the case failed or was skipped."),
    screenshotUrl: z.string().nullable().describe("Signed, expiring link to the failure screenshot."),
    visual: z.array(VisualOutcomeSchema).nullable().describe("Each screenshot step against its baseline: new_baseline, matched or changed (with its diff)."),
  })
  .meta({ id: "CaseResult" });

export const RunSchema = TriggerResponse.extend({
  projectId: z.string(),
  browserProfile: z.string(),
  baseUrl: z.string().nullable(),
  passed: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  total: z.number().int(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  queuedMs: z.number().int().nullable().describe("Time from trigger to the start of execution."),
  runningMs: z.number().int().nullable().describe("Time from start to settling."),
  durationMs: z.number().int().nullable().describe("queuedMs + runningMs."),
  errorMessage: z.string().nullable().describe("Why a run ended in `error` (our side or the site unreachable)."),
  options: z.record(z.string(), z.unknown()).describe("The trigger's recorded settings."),
}).meta({ id: "RunSummary" });

export const RunDetailSchema = RunSchema.extend({
  results: z.array(CaseResultSchema),
  notifications: z.array(NotificationSchema).describe("What became of the run's reports to GitHub (comment, commit status): the latest attempt of each."),
}).meta({ id: "Run" });

export const RunListQuery = PageQuery.extend({ status: z.enum(RUN_STATUSES).optional() });

export const RunEventSchema = z
  .object({ id: z.number().int().describe("The Server-Sent Event id (Last-Event-ID)"), type: z.string(), data: z.record(z.string(), z.unknown()), createdAt: z.string() })
  .meta({ id: "RunEvent" });

export const RunEventsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  lastEventId: z.string().regex(/^\d{1,12}$/, "an event id").optional().describe("For a WebSocket (browsers cannot send Last-Event-ID): resume after this event."),
});
