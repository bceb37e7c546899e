import * as z from "zod";
import { PLANS } from "./plans";

export const CreateOrgBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  plan: z.enum(PLANS).default("free"),
});

export const CreatedOrgSchema = z
  .object({ id: z.string(), name: z.string(), plan: z.enum(PLANS), apiKey: z.string().describe("The organization key, shown this once.") })
  .meta({ id: "CreatedOrg" });
