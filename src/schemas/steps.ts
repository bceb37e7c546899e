// The step language of a test case. Each step maps to one Playwright call (services/playwright-spec.ts)
// and to one puppeteer action in browser/step-runner.ts.
import * as z from "zod";

const text = (max = 500) => z.string().min(1).max(max);

/** Exactly one way to find an element, mirroring Playwright's getBy* locators. */
export const TargetSchema = z
  .union([
    z.strictObject({ role: z.string().regex(/^[a-z]+$/, "an ARIA role such as button or link").max(40), name: text().optional() }),
    z.strictObject({ label: text() }),
    z.strictObject({ text: text() }),
    z.strictObject({ testId: text(200) }),
    z.strictObject({ css: text(1000) }),
  ])
  .meta({ id: "Target", description: "Exactly one of {role, name?}, {label}, {text}, {testId}, {css}." });
export type Target = z.infer<typeof TargetSchema>;

export const DEFAULT_STEP_TIMEOUT_MS = 5000;
/** A screenshot step's default threshold: the share of pixels that may differ from the baseline. */
export const DEFAULT_SCREENSHOT_THRESHOLD = 0.001;
export const MAX_STEP_TIMEOUT_MS = 30000;

const timeoutMs = z.number().int().min(1).max(MAX_STEP_TIMEOUT_MS).optional()
  .describe(`Per-step wait limit in ms (default ${DEFAULT_STEP_TIMEOUT_MS}, max ${MAX_STEP_TIMEOUT_MS}).`);
/** Absolute http(s) URL or a path resolved against the run's base URL. */
const pageUrl = z.string().min(1).max(2048).refine(
  (value) => value.startsWith("/") || /^https?:\/\//i.test(value),
  "must be a path starting with / or an http(s) URL",
);
const step = <A extends string, S extends z.ZodRawShape>(action: A, shape: S) =>
  z.strictObject({ action: z.literal(action), timeoutMs, ...shape });

export const StepSchema = z
  .discriminatedUnion("action", [
    step("goto", { url: pageUrl }),
    step("click", { target: TargetSchema }),
    step("fill", { target: TargetSchema, value: z.string().max(10000) }),
    step("press", { target: TargetSchema, key: z.string().min(1).max(50) }),
    step("select", { target: TargetSchema, value: z.string().max(1000) }),
    step("check", { target: TargetSchema }),
    step("waitFor", { target: TargetSchema }),
    step("expectVisible", { target: TargetSchema }),
    step("expectHidden", { target: TargetSchema }),
    step("expectText", { target: TargetSchema, text: z.string().max(10000), exact: z.boolean().optional() }),
    step("expectUrl", { url: pageUrl }),
    step("expectTitle", { title: z.string().max(1000) }),
    step("screenshot", {
      name: z.string().regex(/^[A-Za-z0-9._-]{1,80}$/, "letters, digits, . _ - (1-80)"),
      threshold: z.number().min(0).max(1).optional()
        .describe(`Share of pixels that may differ from the baseline (default ${DEFAULT_SCREENSHOT_THRESHOLD}); anti-aliased pixels never count.`),
      mask: z.array(TargetSchema).min(1).max(20).optional().describe("Elements hidden from the comparison (painted over in every stored image): clocks, ads, random content."),
    }),
    step("expectNoConsoleErrors", {}),
    step("expectNoBrokenLinks", {}),
  ])
  .meta({ id: "Step" });
export type Step = z.infer<typeof StepSchema>;
export type StepAction = Step["action"];

export const StepsSchema = z.array(StepSchema).min(1).max(200);
