import * as z from "zod";
import { IdSchema } from "./common";

export const PlaywrightExportSchema = z
  .object({
    suiteId: IdSchema,
    fileName: z.string().describe("`<suite-slug>.spec.ts`"),
    spec: z.string().describe("The Playwright Test file (TypeScript)."),
    config: z.string().describe("A matching playwright.config.ts."),
    generatedAt: z.string().describe("When this export was made; the same until the suite or a case changes."),
    sha256: z.string().describe("Hex SHA-256 of `spec`, to check a downloaded file."),
  })
  .meta({ id: "PlaywrightExport" });
export type PlaywrightExport = z.infer<typeof PlaywrightExportSchema>;

export const ExportQuery = z.strictObject({
  download: z.enum(["true", "false"]).optional().describe("true: answer the spec itself as a file download."),
});
