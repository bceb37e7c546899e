// Runs one test case's steps on a page. Every wait is bounded by the step's timeout; a failure
// becomes one readable line naming the step, never a stack trace.
import type { ElementHandle, HTTPResponse, Page } from "@cloudflare/puppeteer";
import { DEFAULT_SCREENSHOT_THRESHOLD, DEFAULT_STEP_TIMEOUT_MS, type Step } from "../schemas/steps";
import { stableCapture } from "./stable-capture";
import { describeTarget, selectorFor } from "./targets";
import { isBrowserFault } from "./session";
import { fetchStatuses } from "./link-status";

export type StepContext = {
  baseUrl: string | null;
  /** Console errors and uncaught exceptions of the current page, since its last goto. */
  consoleErrors: string[];
  /** Judges a screenshot step's capture against its baseline; a failure is the step's reason. */
  checkScreenshot: (step: { name: string; threshold: number }, png: Uint8Array) => Promise<{ failure: string | null }>;
};

/** The step could not do what it says: the test failed. */
export class StepFailure extends Error {}

/** The site could not be reached at all: the run errs, it did not fail. */
export class SiteUnreachable extends Error {}

export type CaseOutcome =
  | { status: "passed" }
  | { status: "failed"; failedStep: number; action: string; reason: string };

export async function runSteps(page: Page, steps: Step[], context: StepContext): Promise<CaseOutcome> {
  for (const [index, step] of steps.entries()) {
    try {
      await runStep(page, step, context);
    } catch (error) {
      if (error instanceof SiteUnreachable || isBrowserFault(error)) throw error;
      const detail = error instanceof StepFailure ? error.message : unexpected(error);
      return { status: "failed", failedStep: index, action: step.action, reason: `Step ${index + 1} (${step.action}): ${detail}` };
    }
  }
  return { status: "passed" };
}

export function resolveUrl(url: string, baseUrl: string | null): string {
  if (/^https?:\/\//i.test(url)) return url;
  if (!baseUrl) throw new StepFailure(`relative URL ${url} needs a baseUrl on the trigger or the project`);
  return new URL(url, baseUrl).href;
}

async function runStep(page: Page, step: Step, context: StepContext): Promise<void> {
  const timeout = step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  switch (step.action) {
    case "goto": {
      const url = resolveUrl(step.url, context.baseUrl);
      context.consoleErrors.length = 0;
      const response = await navigate(page, url, timeout);
      if (response && response.status() >= 400) throw new StepFailure(`${url} answered HTTP ${response.status()}`);
      return;
    }
    case "click":
      return withElement(page, step.target, timeout, "visible", (el) => el.click());
    case "fill":
      return withElement(page, step.target, timeout, "visible", (el) => fillElement(el, step.value));
    case "press":
      return withElement(page, step.target, timeout, "visible", (el) => el.press(step.key as never));
    case "select":
      return withElement(page, step.target, timeout, "visible", async (el) => {
        const value = await el.evaluate((node, wanted) => {
          if (!(node instanceof HTMLSelectElement)) return { error: "is not a <select>" };
          const option = Array.from(node.options).find((o) => o.value === wanted || o.label.trim() === wanted);
          return option ? { value: option.value } : { error: `has no option "${wanted}"` };
        }, step.value);
        if ("error" in value) throw new StepFailure(`${describeTarget(step.target)} ${value.error}`);
        await el.select(value.value);
      });
    case "check":
      return withElement(page, step.target, timeout, "visible", async (el) => {
        if (!(await el.evaluate((node) => (node as HTMLInputElement).checked))) await el.click();
        if (!(await el.evaluate((node) => (node as HTMLInputElement).checked))) {
          throw new StepFailure(`${describeTarget(step.target)} did not become checked`);
        }
      });
    case "waitFor":
    case "expectVisible":
      return withElement(page, step.target, timeout, "visible", async () => {});
    case "expectHidden": {
      const selector = selectorFor(step.target);
      await page.waitForSelector(selector, { hidden: true, timeout }).catch(() => {
        throw new StepFailure(`${describeTarget(step.target)} was still visible after ${timeout} ms`);
      });
      return;
    }
    case "expectText":
      return withElement(page, step.target, timeout, "attached", async (el) => {
        const matched = await page
          .waitForFunction(
            (node, wanted, exact) => {
              const text = ((node as HTMLElement).innerText ?? node.textContent ?? "").replace(/\s+/g, " ").trim();
              return exact ? text === wanted : text.includes(wanted);
            },
            { timeout, polling: 100 },
            el,
            step.text.replace(/\s+/g, " ").trim(),
            step.exact === true,
          )
          .then(() => true, () => false);
        if (!matched) {
          const actual = await el.evaluate((node) => ((node as HTMLElement).innerText ?? node.textContent ?? "").replace(/\s+/g, " ").trim());
          throw new StepFailure(
            `expected ${describeTarget(step.target)} ${step.exact ? "to be" : "to contain"} "${step.text}", found "${clip(actual)}"`,
          );
        }
      });
    case "expectUrl": {
      const expected = resolveUrl(step.url, context.baseUrl);
      const matched = await page
        .waitForFunction((want) => location.href.split("#")[0] === want.split("#")[0], { timeout, polling: 100 }, expected)
        .then(() => true, () => false);
      if (!matched) throw new StepFailure(`expected URL ${expected}, found ${page.url()}`);
      return;
    }
    case "expectTitle": {
      const matched = await page
        .waitForFunction((want) => document.title === want, { timeout, polling: 100 }, step.title)
        .then(() => true, () => false);
      if (!matched) throw new StepFailure(`expected title "${step.title}", found "${clip(await page.title())}"`);
      return;
    }
    case "expectNoConsoleErrors": {
      // Errors thrown just after load (timers, late scripts) count too.
      await new Promise((r) => setTimeout(r, Math.min(timeout, CONSOLE_SETTLE_MS)));
      const errors = context.consoleErrors;
      if (errors.length) throw new StepFailure(`the page logged ${errors.length} console error(s), first: "${clip(errors[0])}"`);
      return;
    }
    case "expectNoBrokenLinks": {
      const urls = await page.evaluate(sameOriginLinks, MAX_LINKS_CHECKED);
      const answers = await page.evaluate(fetchStatuses, urls, timeout, MAX_LINKS_CHECKED);
      // Broken: 4xx/5xx or no answer. A redirect answers; 401/403 guard a page, they do not break a link.
      const broken = answers.filter((a) => a.error !== null || ((a.status ?? 0) >= 400 && a.status !== 401 && a.status !== 403));
      if (broken.length) {
        const shown = broken.slice(0, 3).map((b) => `${b.url} (${b.status ?? clip(b.error ?? "", 80)})`).join(", ");
        throw new StepFailure(`${broken.length} broken same-origin link(s): ${shown}`);
      }
      return;
    }
    case "screenshot": {
      const shot = await stableCapture(page, { mask: step.mask, timeoutMs: timeout }).catch((error) => {
        if (isBrowserFault(error)) throw error;
        throw new StepFailure(error instanceof Error ? error.message : String(error));
      });
      const verdict = await context.checkScreenshot({ name: step.name, threshold: step.threshold ?? DEFAULT_SCREENSHOT_THRESHOLD }, shot.png);
      if (verdict.failure) throw new StepFailure(verdict.failure);
      return;
    }
  }
}

async function navigate(page: Page, url: string, timeout: number): Promise<HTTPResponse | null> {
  try {
    return await page.goto(url, { waitUntil: "load", timeout });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const netError = message.match(/net::(ERR_[A-Z_]+)/)?.[1];
    if (netError === "ERR_BLOCKED_BY_CLIENT") throw new StepFailure(`${url} is not an address the browser may load`);
    if (netError && UNREACHABLE.has(netError)) throw new SiteUnreachable(`${url} could not be reached (${netError})`);
    if (/timeout|exceeded/i.test(message)) throw new StepFailure(`${url} did not finish loading within ${timeout} ms`);
    throw new StepFailure(`${url} failed to load: ${clip(message)}`);
  }
}

const UNREACHABLE = new Set([
  "ERR_NAME_NOT_RESOLVED",
  "ERR_CONNECTION_REFUSED",
  "ERR_CONNECTION_RESET",
  "ERR_CONNECTION_CLOSED",
  "ERR_CONNECTION_TIMED_OUT",
  "ERR_ADDRESS_UNREACHABLE",
  "ERR_INTERNET_DISCONNECTED",
  "ERR_SSL_PROTOCOL_ERROR",
  "ERR_CERT_AUTHORITY_INVALID",
  "ERR_CERT_COMMON_NAME_INVALID",
  "ERR_CERT_DATE_INVALID",
]);

async function withElement(
  page: Page,
  target: Parameters<typeof selectorFor>[0],
  timeout: number,
  state: "visible" | "attached",
  act: (el: ElementHandle<Element>) => Promise<unknown>,
): Promise<void> {
  const selector = selectorFor(target);
  let element: ElementHandle<Element> | null = null;
  try {
    element = await page.waitForSelector(selector, { visible: state === "visible", timeout });
  } catch {
    const present = await page.$(selector).then((h) => (h ? (h.dispose(), true) : false), () => false);
    throw new StepFailure(
      present
        ? `${describeTarget(target)} was found but not visible within ${timeout} ms`
        : `no element matched ${describeTarget(target)} within ${timeout} ms`,
    );
  }
  if (!element) throw new StepFailure(`no element matched ${describeTarget(target)}`);
  try {
    await act(element);
  } finally {
    await element.dispose().catch(() => {});
  }
}

/** Like Playwright's fill: replace the value at once and fire input/change, through the native setter (so frameworks see it). */
async function fillElement(el: ElementHandle<Element>, value: string) {
  const error = await el.evaluate((node, text) => {
    const editable = node instanceof HTMLInputElement || node instanceof HTMLTextAreaElement;
    if (!editable && !(node as HTMLElement).isContentEditable) return "is not an input, textarea or contenteditable element";
    if (editable && (node.disabled || node.readOnly)) return "is disabled or read-only";
    (node as HTMLElement).focus();
    if (editable) {
      const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(node), "value")?.set;
      if (setter) setter.call(node, text);
      else node.value = text;
    } else {
      node.textContent = text;
    }
    node.dispatchEvent(new Event("input", { bubbles: true }));
    node.dispatchEvent(new Event("change", { bubbles: true }));
    return null;
  }, value);
  if (error) throw new StepFailure(`the target ${error}`);
}

const CONSOLE_SETTLE_MS = 300;
const MAX_LINKS_CHECKED = 50;

/** Runs in the page: its same-origin links, fragments dropped, at most `max`. No named inner functions (see targets.ts). */
function sameOriginLinks(max: number): string[] {
  const urls = new Set<string>();
  for (const a of Array.from(document.querySelectorAll("a[href]"))) {
    const href = (a as HTMLAnchorElement).href.split("#")[0];
    if (href.startsWith(location.origin + "/") || href === location.origin) urls.add(href);
    if (urls.size >= max) break;
  }
  return Array.from(urls);
}

const clip = (text: string, max = 120) => (text.length > max ? `${text.slice(0, max)}…` : text);

function unexpected(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return clip(message.split("\n")[0] ?? "unexpected browser error", 200);
}
