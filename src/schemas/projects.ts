import * as z from "zod";
import { BranchSchema, HttpUrlSchema } from "./common";

/** Scan defaults a project keeps for later crawls; every field optional. */
export const ProjectScanSettingsSchema = z
  .strictObject({
    maxPages: z.number().int().min(1).max(1000).optional(),
    maxDepth: z.number().int().min(0).max(10).optional(),
    device: z.enum(["desktop", "mobile"]).optional(),
    fillForms: z.boolean().optional(),
    respectRobots: z.boolean().optional(),
  })
  .meta({ id: "ScanSettings" });
export type ProjectScanSettings = z.infer<typeof ProjectScanSettingsSchema>;

export const CreateProjectBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  baseUrl: HttpUrlSchema.optional(),
  scanSettings: ProjectScanSettingsSchema.optional(),
  defaultBranch: BranchSchema.optional().describe("The branch whose visual baselines runs of other branches fall back to (default main)."),
});

export const UpdateProjectBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    baseUrl: HttpUrlSchema.nullable().optional(),
    scanSettings: ProjectScanSettingsSchema.optional(),
    defaultBranch: BranchSchema.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, "send at least one field to change");

export const ProjectSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    baseUrl: z.string().nullable(),
    scanSettings: ProjectScanSettingsSchema,
    defaultBranch: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "Project" });
