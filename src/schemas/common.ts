import * as z from "zod";
import { UUID_PATTERN } from "../ids";

export const IdSchema = z.string().regex(UUID_PATTERN, "must be a lowercase UUID");
export const IdParams = z.strictObject({ id: IdSchema });

export const ErrorSchema = z
  .object({ error: z.string(), code: z.string(), details: z.record(z.string(), z.unknown()) })
  .meta({ id: "Error", example: { error: "Invalid token", code: "auth.invalid_token", details: {} } });

export const PageQuery = z.strictObject({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(20),
});
export type PageQuery = z.infer<typeof PageQuery>;

export const paginated = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), totalCount: z.number().int(), page: z.number().int(), pageSize: z.number().int() });

export type Paginated<T> = { items: T[]; totalCount: number; page: number; pageSize: number };

/** An absolute http(s) URL; whether the browser may reach its host is decided at run time. */
export const HttpUrlSchema = z.url({ protocol: /^https?$/, error: "must be an absolute http(s) URL" }).max(2048);

/** A git branch name as CI passes it (GITHUB_HEAD_REF, GITHUB_REF_NAME): no spaces, no "..", no leading "-". */
export const BranchSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^(?!-)(?!.*\.\.)[A-Za-z0-9._\/-]+$/, "a branch name (letters, digits, . _ / -)");
