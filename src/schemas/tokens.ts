import * as z from "zod";

export const CreateTokenBody = z.strictObject({ name: z.string().trim().min(1).max(200) });

export const CreatedTokenSchema = z
  .object({ id: z.string(), name: z.string(), token: z.string().describe("The CI token, shown this once.") })
  .meta({ id: "CreatedToken" });

export const TokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().describe("The first characters of the token, to recognise it."),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
  })
  .meta({ id: "Token" });
