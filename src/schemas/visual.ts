// Visual regression: what a screenshot step found, the diffs people review, and their statuses.
import * as z from "zod";
import { BranchSchema, IdSchema, PageQuery } from "./common";

export const DIFF_STATUSES = ["pending", "approved", "rejected"] as const;
export type DiffStatus = (typeof DIFF_STATUSES)[number];

/** A diff's review, one row per transition (each a conditional update in db/visual.ts). */
export const DIFF_TRANSITIONS = {
  /** The capture becomes the baseline; a rejected diff may still be approved. */
  approve: { from: ["pending", "rejected"], to: "approved" },
  /** The baseline stays: the same capture keeps failing. */
  reject: { from: ["pending"], to: "rejected" },
} as const satisfies Record<string, { from: readonly DiffStatus[]; to: DiffStatus }>;
export type DiffTransition = keyof typeof DIFF_TRANSITIONS;

/** A screenshot step's verdict, recorded on its case result. */
export const VisualOutcomeSchema = z
  .object({
    step: z.string(),
    outcome: z.enum(["new_baseline", "matched", "changed"]),
    changedShare: z.number(),
    diffId: z.string().nullable(),
  })
  .meta({ id: "VisualOutcome" });
export type VisualOutcome = z.infer<typeof VisualOutcomeSchema>;

const imageLinks = {
  baselineUrl: z.string().describe("Signed link to the baseline image used."),
  captureUrl: z.string().describe("Signed link to this run's capture."),
  diffUrl: z.string().describe("Signed link to the diff image: changed pixels in red over the faded capture."),
};

export const VisualDiffSchema = z
  .object({
    id: IdSchema,
    runId: IdSchema,
    caseId: IdSchema,
    caseName: z.string(),
    step: z.string(),
    status: z.enum(DIFF_STATUSES),
    changedShare: z.number().describe("Share of the larger image's pixels that changed (anti-aliased pixels ignored)."),
    changedPixels: z.number().int(),
    threshold: z.number(),
    width: z.number().int(),
    height: z.number().int(),
    branch: z.string().describe("The run's branch; approving writes its baseline."),
    baseline: z.object({
      id: IdSchema,
      branch: z.string(),
      version: z.number().int(),
      chromiumVersion: z.string(),
      why: z.string().describe("Which baseline was compared, and why that one."),
    }),
    captureChromiumVersion: z.string(),
    rendererChanged: z.boolean().describe("The capture came from another Chromium version than its baseline: part of the change may be the renderer's."),
    ...imageLinks,
    createdAt: z.string(),
    decidedAt: z.string().nullable(),
  })
  .meta({ id: "VisualDiff" });

export const DiffListQuery = PageQuery.extend({ status: z.enum(DIFF_STATUSES).optional() });

export const BaselineSchema = z
  .object({
    id: IdSchema,
    caseId: IdSchema,
    step: z.string(),
    branch: z.string(),
    browserProfile: z.string(),
    device: z.string(),
    viewport: z.string(),
    version: z.number().int(),
    source: z.enum(["first_capture", "approved"]),
    diffId: z.string().nullable().describe("The approved diff this version came from."),
    chromiumVersion: z.string(),
    width: z.number().int(),
    height: z.number().int(),
    imageUrl: z.string().describe("Signed link to the image."),
    updatedAt: z.string(),
  })
  .meta({ id: "Baseline" });

export const BaselineListQuery = PageQuery.extend({ branch: BranchSchema.optional() });

export const PromoteBody = z.strictObject({ from: BranchSchema, to: BranchSchema });
export const PromoteResponse = z.object({ from: z.string(), to: z.string(), promoted: z.number().int().describe("Baselines that moved on the target branch.") });
