import * as z from "zod";
import { StepsSchema } from "./steps";

const name = z.string().trim().min(1).max(200);

export const CreateSuiteBody = z.strictObject({ name });
export const UpdateSuiteBody = z.strictObject({ name });

export const CreateCaseBody = z.strictObject({ name, steps: StepsSchema });
export const UpdateCaseBody = z
  .strictObject({ name: name.optional(), steps: StepsSchema.optional() })
  .refine((body) => Object.keys(body).length > 0, "send at least one field to change");

export const CaseSchema = z
  .object({
    id: z.string(),
    suiteId: z.string(),
    name: z.string(),
    steps: StepsSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "Case" });

export const SuiteSchema = z
  .object({ id: z.string(), projectId: z.string(), name: z.string(), caseCount: z.number().int(), createdAt: z.string(), updatedAt: z.string() })
  .meta({ id: "Suite" });

export const SuiteWithCasesSchema = SuiteSchema.extend({ cases: z.array(CaseSchema) }).meta({ id: "SuiteWithCases" });
