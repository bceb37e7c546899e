// A suite as a Playwright Test file and its playwright.config.ts: one test.describe per suite, one
// test per case, one test.step per step (named as our runner names a failing step), locators by
// role, label, text, test id, then CSS, and web-first assertions. Where our runner's semantics
// differ from Playwright's, the spec adds what makes them equal: a goto fails on HTTP >= 400,
// expectNoConsoleErrors and expectNoBrokenLinks are helpers at the end of the file, and a target
// that matches several elements means the first, as it does in our runner.
// Every string from a user reaches the file as a JSON string literal, never inside a comment or a
// template, so a name cannot end the string it is in.
import { DEFAULT_SCREENSHOT_THRESHOLD, DEFAULT_STEP_TIMEOUT_MS, type Step, type Target } from "../schemas/steps";
import { describeTarget } from "../browser/targets";

export type ExportedCase = { name: string; steps: Step[] };
export type ExportedSuite = { name: string; cases: ExportedCase[] };

/** Our runner's viewport and its console-settle and link-check limits (browser/case-runner.ts, step-runner.ts). */
const VIEWPORT = { width: 1280, height: 800 };
const CONSOLE_SETTLE_MS = 300;
const MAX_LINKS_CHECKED = 50;

/** A TypeScript string literal: JSON's escaping, plus the two line separators JSON leaves raw. */
export const literal = (value: string) => JSON.stringify(value).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");

/** `Shop checkout!` → `shop-checkout`: the file name's stem. */
export function slugOf(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/, "");
  return slug || "suite";
}

function locatorOf(target: Target): string {
  if ("role" in target) {
    const name = target.name === undefined ? "" : `, { name: ${literal(target.name)}, exact: true }`;
    return `page.getByRole(${literal(target.role)}${name}).first()`;
  }
  if ("label" in target) return `page.getByLabel(${literal(target.label)}).first()`;
  if ("text" in target) return `page.getByText(${literal(target.text)}).first()`;
  if ("testId" in target) return `page.getByTestId(${literal(target.testId)}).first()`;
  return `page.locator(${literal(target.css)}).first()`;
}

/** `{ timeout: 10000 }` when the step sets its own; the config carries our default. */
const timeoutOption = (step: Step, more: string[] = []) => {
  const parts = [...more, ...(step.timeoutMs === undefined ? [] : [`timeout: ${step.timeoutMs}`])];
  return parts.length ? `{ ${parts.join(", ")} }` : "";
};
const withOptions = (args: string[], options: string) => [...args, ...(options ? [options] : [])].join(", ");

/** The statements of one step (inside its test.step). */
function stepBody(step: Step): string[] {
  const options = timeoutOption(step);
  const timeout = step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  switch (step.action) {
    case "goto":
      return [
        "consoleErrors.length = 0;",
        `const response = await page.goto(${withOptions([literal(step.url)], options)});`,
        `expect(response?.status(), ${literal(`HTTP status of ${step.url}`)}).toBeLessThan(400);`,
      ];
    case "click":
      return [`await ${locatorOf(step.target)}.click(${options});`];
    case "fill":
      return [`await ${locatorOf(step.target)}.fill(${withOptions([literal(step.value)], options)});`];
    case "press":
      return [`await ${locatorOf(step.target)}.press(${withOptions([literal(step.key)], options)});`];
    case "select":
      return [`await ${locatorOf(step.target)}.selectOption(${withOptions([literal(step.value)], options)});`];
    case "check":
      return [`await ${locatorOf(step.target)}.check(${options});`];
    case "waitFor":
      return [`await ${locatorOf(step.target)}.waitFor(${timeoutOption(step, ['state: "visible"'])});`];
    case "expectVisible":
      return [`await expect(${locatorOf(step.target)}).toBeVisible(${options});`];
    case "expectHidden":
      return [`await expect(${locatorOf(step.target)}).toBeHidden(${options});`];
    case "expectText": {
      const matcher = step.exact ? "toHaveText" : "toContainText";
      return [`await expect(${locatorOf(step.target)}).${matcher}(${withOptions([literal(step.text)], timeoutOption(step, ["useInnerText: true"]))});`];
    }
    case "expectUrl":
      return [`await expect(page).toHaveURL(${withOptions([literal(step.url)], options)});`];
    case "expectTitle":
      return [`await expect(page).toHaveTitle(${withOptions([literal(step.title)], options)});`];
    case "screenshot": {
      const extra = ["fullPage: true"];
      if (step.mask) extra.push(`mask: [${step.mask.map(locatorOf).join(", ")}]`);
      if (step.threshold !== undefined) extra.push(`maxDiffPixelRatio: ${step.threshold}`);
      return [`await expect(page).toHaveScreenshot(${withOptions([literal(`${step.name}.png`)], timeoutOption(step, extra))});`];
    }
    case "expectNoConsoleErrors":
      return [
        `await page.waitForTimeout(${Math.min(timeout, CONSOLE_SETTLE_MS)}); // errors thrown just after load count too`,
        'expect(consoleErrors, "console errors since the last goto").toEqual([]);',
      ];
    case "expectNoBrokenLinks":
      return [`await expectNoBrokenLinks(page, ${timeout});`];
  }
}

/** How a step is named in reports: as our runner names a failing one, `Step 2 (click) role=link name="About"`. */
export function stepTitle(step: Step, index: number): string {
  const head = `Step ${index + 1} (${step.action})`;
  switch (step.action) {
    case "goto":
    case "expectUrl":
      return `${head} ${step.url}`;
    case "expectTitle":
      return `${head} "${step.title}"`;
    case "screenshot":
      return `${head} ${step.name}`;
    case "expectNoConsoleErrors":
    case "expectNoBrokenLinks":
      return head;
    default:
      return `${head} ${describeTarget(step.target)}`;
  }
}

const indent = (lines: string[], depth: number) => lines.map((line) => `${"  ".repeat(depth)}${line}`);

function caseBlock(testCase: ExportedCase): string[] {
  const body: string[] = [];
  const needsErrors = testCase.steps.some((s) => s.action === "goto" || s.action === "expectNoConsoleErrors");
  if (needsErrors) body.push("const consoleErrors = collectConsoleErrors(page);");
  for (const [index, step] of testCase.steps.entries()) {
    const statements = stepBody(step).filter((line) => needsErrors || line !== "consoleErrors.length = 0;");
    body.push(`await test.step(${literal(stepTitle(step, index))}, async () => {`, ...indent(statements, 1), "});");
  }
  return [`test(${literal(testCase.name)}, async ({ page }) => {`, ...indent(body, 1), "});"];
}

const CONSOLE_HELPER = [
  "/** Console errors and uncaught page errors, as our runner counts them (the browser's own favicon request aside). */",
  "function collectConsoleErrors(page: Page): string[] {",
  "  const errors: string[] = [];",
  '  page.on("console", (message) => {',
  '    if (message.type() === "error" && !/^https?:\\/\\/[^/]+\\/favicon\\.ico$/.test(message.location().url)) errors.push(message.text());',
  "  });",
  '  page.on("pageerror", (error) => errors.push(error.message));',
  "  return errors;",
  "}",
];

const LINKS_HELPER = [
  `/** The page's same-origin links (at most ${MAX_LINKS_CHECKED}), each asked with HEAD (GET where HEAD is refused), redirects not followed: broken is 4xx/5xx other than 401/403, or no answer. */`,
  "async function expectNoBrokenLinks(page: Page, timeout: number) {",
  `  const links = await page.locator("a[href]").evaluateAll((anchors, max) => {`,
  "    const urls = new Set<string>();",
  "    for (const a of anchors as HTMLAnchorElement[]) {",
  '      const href = a.href.split("#")[0];',
  '      if (href === location.origin || href.startsWith(location.origin + "/")) urls.add(href);',
  "      if (urls.size >= max) break;",
  "    }",
  "    return [...urls];",
  `  }, ${MAX_LINKS_CHECKED});`,
  "  const broken: string[] = [];",
  "  for (const url of links) {",
  "    const ask = (method: string) => page.request.fetch(url, { method, maxRedirects: 0, timeout, failOnStatusCode: false });",
  "    try {",
  '      let response = await ask("HEAD");',
  '      if (response.status() === 405 || response.status() === 501) response = await ask("GET");',
  "      const status = response.status();",
  "      if (status >= 400 && status !== 401 && status !== 403) broken.push(`${url} (${status})`);",
  "    } catch (error) {",
  "      broken.push(`${url} (${error instanceof Error ? error.message.split(\"\\n\")[0] : error})`);",
  "    }",
  "  }",
  '  expect(broken, "broken same-origin links").toEqual([]);',
  "}",
];

export function renderPlaywrightSpec(suite: ExportedSuite, meta: { suiteId: string; generatedAt: string }): string {
  const steps = suite.cases.flatMap((c) => c.steps);
  const usesErrors = steps.some((s) => s.action === "goto" || s.action === "expectNoConsoleErrors");
  const usesLinks = steps.some((s) => s.action === "expectNoBrokenLinks");
  const lines = [
    `// Exported by Aegis from suite ${meta.suiteId} at ${meta.generatedAt}.`,
    "// Relative URLs resolve against baseURL (playwright.config.ts, or the BASE_URL variable).",
    "// The first run writes the screenshot baselines: npx playwright test --update-snapshots",
    `import { test, expect${usesErrors || usesLinks ? ", type Page" : ""} } from "@playwright/test";`,
    "",
    `test.describe(${literal(suite.name)}, () => {`,
    ...suite.cases.flatMap((c, i) => [...(i > 0 ? [""] : []), ...indent(caseBlock(c), 1)]),
    "});",
    ...(usesErrors ? ["", ...CONSOLE_HELPER] : []),
    ...(usesLinks ? ["", ...LINKS_HELPER] : []),
  ];
  return `${lines.join("\n")}\n`;
}

export function renderPlaywrightConfig(fileName: string, baseUrl: string | null): string {
  const baseURL = baseUrl ? `process.env.BASE_URL ?? ${literal(baseUrl)}` : "process.env.BASE_URL";
  const viewport = `{ width: ${VIEWPORT.width}, height: ${VIEWPORT.height} }`;
  return `${[
    `// The settings our runner uses for ${fileName.replace(/[^\w.-]/g, "")}: viewport, wait limits, screenshot threshold.`,
    'import { defineConfig, devices } from "@playwright/test";',
    "",
    "export default defineConfig({",
    '  testDir: ".",',
    `  testMatch: ${literal(fileName)},`,
    "  forbidOnly: !!process.env.CI,",
    "  use: {",
    `    baseURL: ${baseURL},`,
    `    actionTimeout: ${DEFAULT_STEP_TIMEOUT_MS},`,
    `    navigationTimeout: ${DEFAULT_STEP_TIMEOUT_MS},`,
    "  },",
    `  expect: { timeout: ${DEFAULT_STEP_TIMEOUT_MS}, toHaveScreenshot: { maxDiffPixelRatio: ${DEFAULT_SCREENSHOT_THRESHOLD} } },`,
    `  projects: [{ name: "chromium", use: { ...devices["Desktop Chrome"], viewport: ${viewport} } }],`,
    "});",
  ].join("\n")}\n`;
}
