// One test case in a fresh browser context (no cookies or storage leak between cases), with
// every request the page makes checked against the URL policy, its WebSockets too, and no
// service or shared worker (they run beyond that check). The page and context are closed in
// finally on every path.
import type { Browser, Page } from "@cloudflare/puppeteer";
import type { Step } from "../schemas/steps";
import { runSteps, type CaseOutcome, type StepContext } from "./step-runner";
import { guardPage } from "./page-guard";
import { isBrowserFavicon, judgeRequest } from "./request-guard";
import type { UrlPolicy } from "./url-policy";

const VIEWPORT = { width: 1280, height: 800 };

/** What a case's page logged, kept for a failing case's `log` event: the last lines, each clipped. */
const MAX_CONSOLE_LINES = 50;
const MAX_CONSOLE_LINE_CHARS = 500;

export type CaseRun = CaseOutcome & { failureScreenshot: Uint8Array | null; durationMs: number; consoleLines: string[] };

export async function runCaseInFreshContext(
  browser: Browser,
  steps: Step[],
  options: Omit<StepContext, "consoleErrors"> & { policy: UrlPolicy },
): Promise<CaseRun> {
  const started = Date.now();
  const context = await browser.createBrowserContext();
  let page: Page | null = null;
  try {
    page = await context.newPage();
    await page.setViewport(VIEWPORT);
    await guardRequests(page, options.policy);
    // What guardRequests cannot see: WebSockets, service and shared workers (page-guard.ts).
    await guardPage(page, await page.createCDPSession(), { policy: options.policy, ownHostOnly: false });
    const consoleErrors: string[] = [];
    const consoleLines: string[] = [];
    const log = (line: string) => {
      consoleLines.push(line.slice(0, MAX_CONSOLE_LINE_CHARS));
      if (consoleLines.length > MAX_CONSOLE_LINES) consoleLines.shift();
    };
    page.on("console", (message) => {
      // The browser's own favicon request is not the page's doing.
      if (isBrowserFavicon(message.location()?.url ?? "")) return;
      if (message.type() === "error") consoleErrors.push(message.text());
      log(`${message.type()}: ${message.text()}`);
    });
    page.on("pageerror", (error) => {
      const text = error instanceof Error ? error.message : String(error);
      consoleErrors.push(text);
      log(`pageerror: ${text}`);
    });
    const outcome = await runSteps(page, steps, { ...options, consoleErrors });
    const failureScreenshot = outcome.status === "failed" ? await screenshotOrNull(page) : null;
    return { ...outcome, failureScreenshot, durationMs: Date.now() - started, consoleLines };
  } finally {
    await page?.close().catch(() => {});
    await context.close().catch(() => {});
  }
}

/** The URL policy's decision alone (request-guard.ts); a crawl's tab adds its own rules to it. */
async function guardRequests(page: Page, policy: UrlPolicy) {
  await page.setRequestInterception(true);
  page.on("request", (request) => {
    if (request.isInterceptResolutionHandled()) return;
    (judgeRequest(policy, request.url()).allowed ? request.continue() : request.abort("blockedbyclient")).catch(() => {});
  });
}

async function screenshotOrNull(page: Page): Promise<Uint8Array | null> {
  try {
    return await page.screenshot({ type: "png" });
  } catch {
    return null;
  }
}
